/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-loyalty"

#include "config.h"

#include <check.h>
#include <json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ct-test-json.h"
#include "ct-test-ledger-fixture.h"

/* Points that pay part of a payment, and the member's consent by the
 * dynamic payment code, through a real cardtill-service. */

static char *
issue (char **out_member_url)
{
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards", "{\"member\":{\"name\":\"Loyal\",\"phone\":\"13600000000\"},"
                                                          "\"operator\":\"op\"," MGR "}");

  expect (r, 201, NULL);
  if (out_member_url != NULL)
    *out_member_url = json_str (r->body, "member_url");
  return json_str (r->body, "card_no");
}

/* `cardtill-service merchant set ARGS` on the test's database. */
#define merchant_set(...) \
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", __VA_ARGS__), 0)

START_TEST (test_loyalty_points_pay_part_of_a_payment_and_come_back_on_refund)
{
  g_autofree char *card = issue (NULL);
  g_autoptr(CtTestResponse) merchant = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  int64_t promo_before, promo_after;
  g_autofree char *tx_id = NULL;
  g_autofree char *refund_body = NULL;

  r = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (r->body, "\"points_redemption\"") && strstr (r->body, "\"member_code\""), "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  merchant_set ("--points-redeem-rate", "100", "--points-redeem-max-bp", "5000", NULL);
  merchant = req ("GET", "/v1/merchant", NULL);
  ck_assert_int_eq (json_int (merchant->body, "points_redeem_rate"), 100);
  ck_assert_int_eq (json_int (merchant->body, "points_redeem_max_bp"), 5000);

  /* 110.00 on the card; a 100.00 payment earns 100 points; 110.00 more. */
  r = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "payments", "{\"amount\":10000,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.points"), 100);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);

  /* Refusals: more points than the card has, not a whole unit, over the
   * allowed share. */
  r = card_post (card, "payments", "{\"amount\":10000,\"redeem_points\":300,\"operator\":\"op\"}");
  expect (r, 409, "insufficient_points");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "payments", "{\"amount\":1000,\"redeem_points\":150,\"operator\":\"op\"}");
  expect (r, 422, "invalid_amount");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "payments", "{\"amount\":150,\"redeem_points\":100,\"operator\":\"op\"}");
  expect (r, 422, "invalid_amount");
  g_clear_pointer (&r, ct_test_response_free);
  r = req ("GET", "/v1/ledger/check", NULL);
  promo_before = json_int (r->body, "promo");
  g_clear_pointer (&r, ct_test_response_free);

  /* 100 points pay 1.00 of a 10.00 payment: the balance pays 9.00 and
   * earns 9 points; promo pays 1.00 into the pool. */
  r = card_post (card, "payments", "{\"amount\":1000,\"redeem_points\":100,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), -900);
  ck_assert_int_eq (json_int (r->body, "transaction.points_delta"), 9 - 100);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 12000 - 900);
  ck_assert_int_eq (json_int (r->body, "card.points"), 9);
  ck_assert_int_eq (json_int (r->body, "amount"), 1000);
  ck_assert_int_eq (json_int (r->body, "redemption.points"), 100);
  ck_assert_int_eq (json_int (r->body, "redemption.value"), 100);
  tx_id = json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);
  r = req ("GET", "/v1/ledger/check", NULL);
  promo_after = json_int (r->body, "promo");
  ck_assert_int_eq (promo_after, promo_before - 100);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();

  /* The refund gives back both parts: 9.00 to the card, 1.00 to promo, and
   * the 100 points less the 9 earned. */
  refund_body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx_id);
  r = card_post (card, "refunds", refund_body);
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 12000);
  ck_assert_int_eq (json_int (r->body, "card.points"), 100);
  g_clear_pointer (&r, ct_test_response_free);
  r = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (json_int (r->body, "promo"), promo_before);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();

  /* Redemption off: points cannot pay. */
  merchant_set ("--points-redeem-rate", "0", NULL);
  r = card_post (card, "payments", "{\"amount\":1000,\"redeem_points\":100,\"operator\":\"op\"}");
  expect (r, 422, "invalid_amount");
}
END_TEST

static char *
current_code (const char *member_url)
{
  const char *path = strstr (member_url, "/m/");
  g_autofree char *code_path = g_strconcat (path, "/code", NULL);
  g_autoptr(CtTestResponse) r = ct_test_http (svc, "GET", code_path, NULL, NULL, NULL);
  g_autofree char *grouped = NULL;

  expect (r, 200, NULL);
  grouped = json_str (r->body, "code");
  ck_assert (grouped != NULL && strlen (grouped) == 9);
  return g_strdup_printf ("%.4s%s", grouped, grouped + 5);
}

START_TEST (test_loyalty_payment_over_the_threshold_needs_the_members_code)
{
  g_autofree char *member_url = NULL;
  g_autofree char *card = issue (&member_url);
  g_autofree char *code = NULL;
  g_autofree char *with_code = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  r = card_post (card, "topups", "{\"package_id\":\"p200\",\"operator\":\"op\"}");
  expect (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  merchant_set ("--consent-over", "50.00", NULL);

  /* Over 50.00 without the member's code: refused, nothing taken. */
  r = card_post (card, "payments", "{\"amount\":6000,\"operator\":\"op\"}");
  expect (r, 403, "member_consent_required");
  ck_assert (strstr (r->body, "50.00") != NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "payments", "{\"amount\":6000,\"member_code\":\"00000000\",\"operator\":\"op\"}");
  expect (r, 403, "member_consent_required");
  g_clear_pointer (&r, ct_test_response_free);

  /* With the code the member's page shows: taken, once. */
  code = current_code (member_url);
  with_code = g_strdup_printf ("{\"amount\":6000,\"member_code\":\"%s\",\"operator\":\"op\"}", code);
  r = card_post (card, "payments", with_code);
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 23000 - 6000);
  ck_assert (strstr (r->body, "\"consent\":\"member_code\"") != NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "payments", with_code);
  expect (r, 403, "member_consent_required");
  g_clear_pointer (&r, ct_test_response_free);

  /* At or under the threshold no code is needed. */
  r = card_post (card, "payments", "{\"amount\":5000,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert (strstr (r->body, "\"consent\":null") != NULL);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

/* A card issued with the member PIN @pin (NULL: none) and 200.00 + bonus
 * on it, with consent needed above 50.00. */
static char *
issue_with_pin (const char *pin)
{
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"Pin\",\"phone\":\"13600000001\"},%s%s%s"
                                           "\"operator\":\"op\"," MGR "}",
                                           pin ? "\"member_pin\":\"" : "", pin ? pin : "", pin ? "\"," : "");
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards", body);
  g_autoptr(CtTestResponse) topup = NULL;
  char *card;

  expect (r, 201, NULL);
  card = json_str (r->body, "card_no");
  topup = card_post (card, "topups", "{\"package_id\":\"p200\",\"operator\":\"op\"}");
  expect (topup, 201, NULL);
  merchant_set ("--consent-over", "50.00", NULL);
  return card;
}

static CtTestResponse *
pay_with_pin (const char *card,
              int64_t     amount,
              const char *pin)
{
  g_autofree char *body = g_strdup_printf ("{\"amount\":%" G_GINT64_FORMAT ",\"member_pin\":\"%s\",\"operator\":\"op\"}",
                                           amount, pin);

  return card_post (card, "payments", body);
}

static int64_t
card_balance (const char *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = req ("GET", path, NULL);

  expect (r, 200, NULL);
  return json_int (r->body, "balance");
}

START_TEST (test_loyalty_member_pin_gives_consent_and_a_wrong_one_takes_nothing)
{
  g_autofree char *card = issue_with_pin ("482916");
  g_autofree char *stored = NULL;
  g_autofree char *events = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  r = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (r->body, "\"member_pin\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* Over the threshold without consent: the sentence names the PIN. */
  r = card_post (card, "payments", "{\"amount\":6000,\"operator\":\"op\"}");
  expect (r, 403, "member_consent_required");
  ck_assert_msg (strstr (r->body, "PIN") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* A wrong PIN takes nothing and says how many tries are left. */
  r = pay_with_pin (card, 6000, "111111");
  expect (r, 403, "member_pin_wrong");
  ck_assert_msg (strstr (r->body, "1 of 5") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (card_balance (card), 23000);

  /* The right one pays, and says how the member consented. */
  r = pay_with_pin (card, 6000, "482916");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 23000 - 6000);
  ck_assert_msg (strstr (r->body, "\"consent\":\"member_pin\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* The right PIN forgot the wrong one: the next wrong one is 1 of 5. */
  r = pay_with_pin (card, 100, "222222");
  expect (r, 403, "member_pin_wrong");
  ck_assert_msg (strstr (r->body, "1 of 5") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* Not a PIN's shape, or a PIN and a code together: refused as bad. */
  r = pay_with_pin (card, 6000, "48291");
  expect (r, 400, "bad_request");
  ck_assert_msg (strstr (r->body, "6 digits") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (card, "payments", "{\"amount\":6000,\"member_pin\":\"482916\",\"member_code\":\"12345678\","
                                   "\"operator\":\"op\"}");
  expect (r, 400, "bad_request");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (card_balance (card), 23000 - 6000);

  /* Only a slow hash is kept; the PIN is in no table. */
  stored = db_text ("SELECT pin_hash FROM member_pins");
  ck_assert_msg (g_str_has_prefix (stored, "pbkdf2-sha256$") && strstr (stored, "482916") == NULL, "%s", stored);
  events = db_text ("SELECT detail FROM card_events UNION ALL SELECT coalesce (detail, '') FROM audit");
  ck_assert_msg (strstr (events, "482916") == NULL && strstr (events, "111111") == NULL, "%s", events);
  assert_balanced ();
}
END_TEST

START_TEST (test_loyalty_member_pin_locks_after_five_wrong_and_a_manager_sets_a_new_one)
{
  g_autofree char *card = issue_with_pin ("482916");
  g_autofree char *plain = issue_with_pin (NULL);
  g_autofree char *audit = NULL;
  g_autofree char *path = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  for (int i = 1; i <= 4; i++)
    {
      r = pay_with_pin (card, 6000, "975310");
      expect (r, 403, "member_pin_wrong");
      g_clear_pointer (&r, ct_test_response_free);
    }
  /* The fifth wrong PIN locks the card's PIN; then even the right one is
   * refused, with the time to wait. */
  r = pay_with_pin (card, 6000, "975310");
  expect (r, 403, "member_pin_wrong");
  ck_assert_msg (strstr (r->body, "locked for 5 minutes") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  r = pay_with_pin (card, 6000, "482916");
  expect (r, 429, "member_pin_locked");
  ck_assert_msg (strstr (r->body, "payment code") != NULL, "%s", r->body);
  ck_assert_int_gt (atoi (ct_test_response_header (r, "Retry-After")), 240);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (card_balance (card), 23000);

  /* Each refused PIN is in the audit log with the card, never the PIN. */
  ck_assert_int_eq (ct_test_service_admin (svc, &audit, "audit", NULL), 0);
  ck_assert_msg (strstr (audit, "member_pin_wrong") != NULL && strstr (audit, "member_pin_locked") != NULL
                 && strstr (audit, card) != NULL && strstr (audit, "975310") == NULL, "%s", audit);

  /* A manager sets the PIN the member chose: the lock is forgotten. */
  path = g_strdup_printf ("/v1/cards/%s/member-pin", card);
  r = req ("POST", path, "{\"member_pin\":\"739150\",\"operator\":\"op\"}");
  expect (r, 400, "bad_request");
  g_clear_pointer (&r, ct_test_response_free);
  r = req ("POST", path, "{\"member_pin\":\"73915a\",\"operator\":\"op\"," MGR "}");
  expect (r, 400, "bad_request");
  g_clear_pointer (&r, ct_test_response_free);
  r = req ("POST", path, "{\"member_pin\":\"739150\",\"operator\":\"op\"," MGR "}");
  expect (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = pay_with_pin (card, 6000, "482916");
  expect (r, 403, "member_pin_wrong");
  g_clear_pointer (&r, ct_test_response_free);
  r = pay_with_pin (card, 6000, "739150");
  expect (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);

  /* A card without a PIN says so. */
  r = pay_with_pin (plain, 6000, "482916");
  expect (r, 403, "member_pin_not_set");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (card_balance (plain), 23000);
  assert_balanced ();
}
END_TEST

/* `cardtill-service level ARGS`; the exit status, the output in @out. */
static int
level_cmd (char **out,
           ...)
{
  const char *args[18] = { "level" };
  va_list ap;
  guint n = 1;
  int status;

  va_start (ap, out);
  while (n < G_N_ELEMENTS (args) - 1 && (args[n] = va_arg (ap, const char *)) != NULL)
    n++;
  va_end (ap);
  g_assert (n < G_N_ELEMENTS (args) - 1);
  status = ct_test_service_admin (svc, out, args[0], args[1], args[2], args[3], args[4], args[5], args[6],
                                  args[7], args[8], args[9], args[10], args[11], args[12], args[13], args[14],
                                  args[15], args[16], NULL);
  return status;
}

static void
patch_level (const char *card,
             const char *level)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autofree char *body = g_strdup_printf ("{\"level\":\"%s\",\"operator\":\"op\"," MGR "}", level);
  g_autoptr(CtTestResponse) r = req ("PATCH", path, body);

  expect (r, 200, NULL);
}

START_TEST (test_loyalty_levels_are_added_listed_and_removed_and_bad_input_changes_nothing)
{
  g_autofree char *out = NULL;
  g_autoptr(CtTestResponse) merchant = NULL;

  ck_assert_int_eq (level_cmd (&out, "list", NULL), 0);
  ck_assert_msg (strstr (out, "no levels") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  ck_assert_int_eq (level_cmd (&out, "add", "--id", "gold", "--name", "Gold 金卡", "--min-spend", "1,000.00",
                               "--discount-bp", "500", "--points-multiplier-bp", "15000", NULL), 0);
  ck_assert_msg (strstr (out, "gold: Gold 金卡, from a spend of 1000.00; discount 500 bp, points 15000 bp") != NULL,
                 "%s", out);
  g_clear_pointer (&out, g_free);

  /* Bad input: a clear sentence, exit 1, nothing stored. */
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--min-spend", "1", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--name", "X", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--name", "X", "--min-spend", "1.234", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--name", "X", "--min-spend", "-1", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--name", "X", "--min-spend", "1", "--discount-bp",
                               "10001", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--name", "X", "--min-spend", "1",
                               "--points-multiplier-bp", "-1", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "x", "--name", "X", "--min-spend", "1", "--topup-bonus-bp",
                               "100001", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "add", "--name", "X", "--min-spend", "1", NULL), 1);
  ck_assert_int_eq (level_cmd (NULL, "remove", "--id", "nope", NULL), 2);
  ck_assert_int_eq (level_cmd (NULL, "frobnicate", NULL), 1);

  /* The same id again replaces the level; the merchant shows them all. */
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "gold", "--name", "Gold", "--min-spend", "800", NULL), 0);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "staff", "--name", "Staff", "--min-spend", "0",
                               "--discount-bp", "2000", NULL), 0);
  ck_assert_int_eq (level_cmd (&out, "list", NULL), 0);
  ck_assert_msg (strstr (out, "staff: Staff, given by a manager only; discount 2000 bp") != NULL
                 && strstr (out, "gold: Gold, from a spend of 800.00; discount 0 bp, points 10000 bp") != NULL
                 && strstr (out, " x:") == NULL, "%s", out);
  ck_assert (strstr (out, "staff:") < strstr (out, "gold:"));
  g_clear_pointer (&out, g_free);
  merchant = req ("GET", "/v1/merchant", NULL);
  ck_assert_msg (strstr (merchant->body, "\"levels\":[{\"id\":\"staff\",\"name\":\"Staff\",\"min_spend\":0,"
                                         "\"discount_bp\":2000,\"points_multiplier_bp\":10000,"
                                         "\"topup_bonus_bp\":0},{\"id\":\"gold\"") != NULL, "%s", merchant->body);
  g_clear_pointer (&merchant, ct_test_response_free);

  ck_assert_int_eq (level_cmd (&out, "remove", "--id", "staff", NULL), 0);
  ck_assert_int_eq (level_cmd (NULL, "remove", "--id", "staff", NULL), 2);
  merchant = req ("GET", "/v1/merchant", NULL);
  ck_assert_msg (strstr (merchant->body, "staff") == NULL && strstr (merchant->body, "\"gold\"") != NULL, "%s",
                 merchant->body);
}
END_TEST

START_TEST (test_loyalty_a_card_moves_up_with_the_payment_that_reaches_a_level_and_never_down)
{
  g_autofree char *card = issue (NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autofree char *tx_id = NULL;
  g_autofree char *refund = NULL;
  g_autofree char *level = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "silver", "--name", "Silver", "--min-spend", "100", NULL), 0);
  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "gold", "--name", "Gold", "--min-spend", "300", NULL), 0);
  r = card_post (card, "topups", "{\"package_id\":\"p200\",\"operator\":\"op\"}");
  expect (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);

  /* 99.00 spent: no level yet. */
  r = card_post (card, "payments", "{\"amount\":9900,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "spend"), 9900);
  ck_assert_msg (strstr (r->body, "\"level_up\":null") != NULL && strstr (r->body, "\"level\":null") != NULL,
                 "%s", r->body);
  level = json_str (r->body, "transaction.level_up");
  ck_assert_ptr_null (level);
  g_clear_pointer (&r, ct_test_response_free);

  /* The payment that reaches 100.00 moves the card up in its own answer. */
  r = card_post (card, "payments", "{\"amount\":100,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "spend"), 10000);
  level = json_str (r->body, "card.level");
  ck_assert_str_eq (level, "silver");
  g_clear_pointer (&level, g_free);
  level = json_str (r->body, "level_up.name");
  ck_assert_str_eq (level, "Silver");
  g_clear_pointer (&level, g_free);
  /* The transaction keeps the move up, in the answer and in the card's
   * history afterwards, for a receipt printed again. */
  level = json_str (r->body, "transaction.level_up");
  ck_assert_str_eq (level, "silver");
  g_clear_pointer (&level, g_free);
  tx_id = json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);
  {
    g_autofree char *history = g_strdup_printf ("/v1/cards/%s/transactions", card);
    g_autoptr(CtTestResponse) h = req ("GET", history, NULL);
    g_autofree char *newest_id = NULL;
    g_autofree char *newest = NULL;
    g_autofree char *older = NULL;

    expect (h, 200, NULL);
    newest_id = ct_test_json_str (h->body, "transactions.0.id");
    ck_assert_str_eq (newest_id, tx_id);
    newest = ct_test_json_str (h->body, "transactions.0.level_up");
    ck_assert_str_eq (newest, "silver");
    older = ct_test_json_str (h->body, "transactions.1.level_up");
    ck_assert_ptr_null (older);
  }

  /* Refunded, the spend goes back below 100.00 and the level stays. */
  refund = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx_id);
  r = card_post (card, "refunds", refund);
  expect (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = req ("GET", path, NULL);
  level = json_str (r->body, "level");
  ck_assert_str_eq (level, "silver");
  g_clear_pointer (&level, g_free);
  g_clear_pointer (&r, ct_test_response_free);

  /* A manager's level ranks by its min_spend: a card on gold is not taken
   * down to silver by spend, and moves from a manager's own level (0) up. */
  patch_level (card, "gold");
  r = card_post (card, "payments", "{\"amount\":200,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "spend"), 10100);
  level = json_str (r->body, "card.level");
  ck_assert_str_eq (level, "gold");
  g_clear_pointer (&level, g_free);
  g_clear_pointer (&r, ct_test_response_free);
  patch_level (card, "VIP from the old system");
  r = card_post (card, "payments", "{\"amount\":100,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  level = json_str (r->body, "card.level");
  ck_assert_str_eq (level, "silver");
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

START_TEST (test_loyalty_level_benefits_are_applied_by_the_service_and_given_back_on_refund)
{
  g_autofree char *card = issue (NULL);
  g_autofree char *tx_id = NULL;
  g_autofree char *refund = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  int64_t promo, pool;

  ck_assert_int_eq (level_cmd (NULL, "add", "--id", "gold", "--name", "Gold", "--min-spend", "0", "--discount-bp",
                               "1000", "--points-multiplier-bp", "20000", "--topup-bonus-bp", "500", NULL), 0);
  patch_level (card, "gold");

  /* The package's 10.00 bonus and 5 % of 100.00 more, from promo. */
  promo = ledger_figure ("promo");
  r = card_post (card, "topups", "{\"package_id\":\"p100\",\"expect\":{\"amount\":10000,\"bonus\":1000},"
                                 "\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "transaction.bonus"), 1500);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 11500);
  ck_assert_int_eq (json_int (r->body, "level_bonus"), 500);
  ck_assert_int_eq (json_int (r->body, "level.topup_bonus_bp"), 500);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("promo"), promo - 1500);

  /* A 60.00 order: 10 % off, the balance pays 54.00 and earns 54 × 2
   * points; the pool gets what the balance paid. */
  pool = ledger_figure ("pool");
  r = card_post (card, "payments", "{\"amount\":6000,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "amount"), 6000);
  ck_assert_int_eq (json_int (r->body, "discount"), 600);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), -5400);
  ck_assert_int_eq (json_int (r->body, "transaction.points_delta"), 108);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 6100);
  ck_assert_int_eq (json_int (r->body, "level.discount_bp"), 1000);
  ck_assert_int_eq (json_int (r->body, "level.points_multiplier_bp"), 20000);
  tx_id = json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("pool"), pool + 5400);
  {
    g_autofree char *history = g_strdup_printf ("/v1/cards/%s/transactions", card);
    g_autoptr(CtTestResponse) h = req ("GET", history, NULL);

    expect (h, 200, NULL);
    ck_assert_msg (strstr (h->body, "\"level\":\"gold\",\"discount\":600,\"level_bonus\":0,\"redeemed_points\":0") != NULL
                   && strstr (h->body, "\"level\":\"gold\",\"discount\":0,\"level_bonus\":500") != NULL,
                   "%s", h->body);
  }
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
    g_autofree char *sql = g_strdup_printf ("SELECT level, order_amount, discount FROM tx_benefits WHERE tx_id = %s",
                                            tx_id);
    g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

    ck_assert_uint_eq (rows->len, 1);
    ck_assert_str_eq (((char **) rows->pdata[0])[0], "gold");
    ck_assert_str_eq (((char **) rows->pdata[0])[1], "6000");
    ck_assert_str_eq (((char **) rows->pdata[0])[2], "600");
  }

  /* Points pay part of what is due after the discount: 20.00 less 2.00,
   * 100 points pay 1.00, the balance 17.00 (34 points). */
  merchant_set ("--points-redeem-rate", "100", "--points-redeem-max-bp", "5000", NULL);
  promo = ledger_figure ("promo");
  r = card_post (card, "payments", "{\"amount\":2000,\"redeem_points\":100,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "discount"), 200);
  ck_assert_int_eq (json_int (r->body, "redemption.value"), 100);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), -1700);
  ck_assert_int_eq (json_int (r->body, "card.points"), 108 + 34 - 100);
  ck_assert_int_eq (ledger_figure ("promo"), promo - 100);
  g_free (tx_id);
  tx_id = json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();

  /* The refund gives back what was taken: 17.00 and the points, the 1.00
   * to promo; the spend falls by 17.00. */
  refund = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx_id);
  r = card_post (card, "refunds", refund);
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 6100);
  ck_assert_int_eq (json_int (r->body, "card.points"), 108);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("promo"), promo);
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
    g_autofree char *sql = g_strdup_printf ("SELECT spend FROM card_spend WHERE card_no = '%s'", card);
    g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

    ck_assert_uint_eq (rows->len, 1);
    ck_assert_str_eq (((char **) rows->pdata[0])[0], "5400");
  }

  /* Without a level (a text that names none) no benefit applies. */
  patch_level (card, "bronze");
  r = card_post (card, "payments", "{\"amount\":1000,\"operator\":\"op\"}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "discount"), 0);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), -1000);
  ck_assert_msg (strstr (r->body, "\"level\":null") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

static Suite *
loyalty_suite (void)
{
  Suite *s = suite_create ("loyalty");
  TCase *tc = tcase_create ("service");

  tcase_add_unchecked_fixture (tc, ledger_setup, ledger_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_loyalty_points_pay_part_of_a_payment_and_come_back_on_refund);
  tcase_add_test (tc, test_loyalty_payment_over_the_threshold_needs_the_members_code);
  suite_add_tcase (s, tc);

  tc = tcase_create ("member_pin");
  tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_loyalty_member_pin_gives_consent_and_a_wrong_one_takes_nothing);
  tcase_add_test (tc, test_loyalty_member_pin_locks_after_five_wrong_and_a_manager_sets_a_new_one);
  suite_add_tcase (s, tc);

  tc = tcase_create ("levels");
  tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_loyalty_levels_are_added_listed_and_removed_and_bad_input_changes_nothing);
  tcase_add_test (tc, test_loyalty_a_card_moves_up_with_the_payment_that_reaches_a_level_and_never_down);
  tcase_add_test (tc, test_loyalty_level_benefits_are_applied_by_the_service_and_given_back_on_refund);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (loyalty_suite ());
  int failed;

  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
