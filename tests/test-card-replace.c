/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-card-replace"

#include "config.h"

#include <check.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "ct-test-ledger-fixture.h"

/* A lost card replaced by a new one (挂失补卡) through a real
 * cardtill-service: the money, points, level, spend, member PIN and member
 * page move in one transaction, and the lost card refuses everything but
 * being looked up. */

/* A card with 110.00 and a 10.00 payment on it: 100.00 and 10 points, a
 * spend of 10.00, level "gold", member PIN 482916 and a member page. */
static char *
issue_spent (const char *phone,
             char      **out_member_url)
{
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"Lost\",\"phone\":\"%s\"},\"level\":\"gold\","
                                           "\"member_pin\":\"482916\",\"operator\":\"op\"," MGR "}", phone);
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards", body);
  g_autoptr(CtTestResponse) topup = NULL;
  g_autoptr(CtTestResponse) pay = NULL;
  char *card;

  expect (r, 201, NULL);
  card = json_str (r->body, "card_no");
  if (out_member_url != NULL)
    *out_member_url = json_str (r->body, "member_url");
  topup = card_req ("POST", card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect (topup, 201, NULL);
  pay = card_req ("POST", card, "payments", "{\"amount\":1000,\"operator\":\"op\"}");
  expect (pay, 201, NULL);
  ck_assert_int_eq (json_int (pay->body, "card.balance"), 10000);
  ck_assert_int_eq (json_int (pay->body, "card.points"), 10);
  return card;
}

START_TEST (test_card_replace_moves_everything_to_the_new_card_and_closes_the_old)
{
  g_autofree char *member_url = NULL, *new_url = NULL;
  g_autofree char *old = issue_spent ("13600000011", &member_url);
  g_autofree char *new_no = NULL;
  g_autofree char *spend = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *audit = NULL;
  g_autofree char *page_path = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  r = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (r->body, "\"card_replace\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* The lost card is frozen first (挂失), then replaced (补卡). */
  r = card_req ("PATCH", old, NULL, "{\"status\":\"frozen\"," MGR "}");
  expect (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);

  r = card_req ("POST", old, "replace", "{\"operator\":\"op\"," MGR "}");
  expect (r, 201, NULL);
  new_no = json_str (r->body, "card.card_no");
  ck_assert (new_no != NULL && strlen (new_no) == 16 && strcmp (new_no, old) != 0);
  expect_str (r->body, "card.status", "active");
  expect_str (r->body, "card.level", "gold");
  expect_str (r->body, "card.member.name", "Lost");
  expect_str (r->body, "card.member.phone", "13600000011");
  expect_str (r->body, "card.replaced_by", NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 10000);
  ck_assert_int_eq (json_int (r->body, "card.points"), 10);
  expect_str (r->body, "transaction.kind", "replacement");
  expect_str (r->body, "transaction.card_no", new_no);
  expect_str (r->body, "transaction.manager", "m1");
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), 10000);
  ck_assert_int_eq (json_int (r->body, "transaction.points_delta"), 10);
  expect_str (r->body, "replaced.card_no", old);
  expect_str (r->body, "replaced.status", "closed");
  expect_str (r->body, "replaced.replaced_by", new_no);
  ck_assert_int_eq (json_int (r->body, "replaced.balance"), 0);
  ck_assert_int_eq (json_int (r->body, "replaced.points"), 0);
  new_url = json_str (r->body, "member_url");
  ck_assert_msg (new_url != NULL && strstr (new_url, "/m/") != NULL && g_strcmp0 (new_url, member_url) != 0,
                 "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();

  /* The lost card can be looked up, and says which card replaced it. */
  r = card_req ("GET", old, NULL, NULL);
  expect (r, 200, NULL);
  expect_str (r->body, "status", "closed");
  expect_str (r->body, "replaced_by", new_no);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("GET", old, "transactions", NULL);
  expect (r, 200, NULL);
  ck_assert_msg (strstr (r->body, "\"kind\":\"replacement\"") && strstr (r->body, "\"delta\":-10000"), "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* Everything else on the lost card: 409 card_closed naming the new card. */
  {
    static const struct { const char *method, *what, *body; } refused[] = {
      { "POST", "payments", "{\"amount\":100,\"operator\":\"op\"}" },
      { "POST", "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}" },
      { "POST", "adjustments", "{\"delta\":100,\"reason\":\"x\"," MGR "}" },
      { "PATCH", NULL, "{\"status\":\"active\"," MGR "}" },
      { "POST", "member-pin", "{\"member_pin\":\"739150\"," MGR "}" },
      { "POST", "member-link", "{" MGR "}" },
      { "POST", "replace", "{\"operator\":\"op\"," MGR "}" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
      {
        r = card_req (refused[i].method, old, refused[i].what, refused[i].body);
        expect (r, 409, "card_closed");
        expect_str (r->body, "error.replaced_by", new_no);
        ck_assert_msg (strstr (r->body, new_no) != NULL, "%s", r->body);
        g_clear_pointer (&r, ct_test_response_free);
      }
  }

  /* The member's PIN came along: it gives consent on the new card. */
  {
    g_autofree char *merchant_set = NULL;

    ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--consent-over", "20.00", NULL), 0);
    r = card_req ("POST", new_no, "payments", "{\"amount\":3000,\"member_pin\":\"482916\",\"operator\":\"op\"}");
    expect (r, 201, NULL);
    ck_assert_int_eq (json_int (r->body, "card.balance"), 7000);
    g_clear_pointer (&r, ct_test_response_free);
  }
  /* The lost card's page link stopped with it (it may be printed on the
   * card a finder holds); the new link shows the new card. */
  page_path = g_strdup (strstr (member_url, "/m/"));
  r = ct_test_http (svc, "GET", page_path, NULL, NULL, NULL);
  ck_assert_msg (r != NULL && r->status == 404, "%ld", r ? r->status : 0);
  g_clear_pointer (&r, ct_test_response_free);
  g_free (page_path);
  page_path = g_strdup (strstr (new_url, "/m/"));
  r = ct_test_http (svc, "GET", page_path, NULL, NULL, NULL);
  ck_assert_msg (r != NULL && r->status == 200, "%ld", r ? r->status : 0);
  ck_assert_msg (strstr (r->body, new_no + 12) != NULL, "the page does not show the new card %s", new_no);
  g_clear_pointer (&r, ct_test_response_free);

  /* The spend moved with the card (levels go by it); the old card has none. */
  sql = g_strdup_printf ("SELECT card_no, spend FROM card_spend WHERE card_no IN ('%s', '%s')", old, new_no);
  spend = db_text (sql);
  ck_assert_msg (strstr (spend, new_no) != NULL && strstr (spend, old) == NULL, "%s", spend);

  /* Audited with the manager and both cards. */
  ck_assert_int_eq (ct_test_service_admin (svc, &audit, "audit", NULL), 0);
  ck_assert_msg (strstr (audit, "card_replace") != NULL && strstr (audit, new_no) != NULL, "%s", audit);
  assert_balanced ();
}
END_TEST

START_TEST (test_card_replace_retry_with_the_same_key_replays_and_makes_one_card)
{
  g_autofree char *old = issue_spent ("13600000012", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/replace", old);
  g_autoptr(CtTestResponse) first = NULL;
  g_autoptr(CtTestResponse) again = NULL;
  g_autoptr(CtTestResponse) other = NULL;
  g_autoptr(CtTestResponse) found = NULL;
  const char *body = "{\"operator\":\"op\"," MGR "}";

  first = req_on (cl, "POST", path, "replace-once", body);
  expect (first, 201, NULL);
  again = req_on (cl, "POST", path, "replace-once", body);
  expect (again, 201, NULL);
  ck_assert_str_eq (again->body, first->body);
  ck_assert_str_eq (ct_test_response_header (again, "idempotent-replayed"), "true");

  /* The same key with other bytes is another intent. */
  other = req_on (cl, "POST", path, "replace-once", "{\"operator\":\"op2\"," MGR "}");
  expect (other, 422, "idempotency_key_reused");

  /* One new card: the member has the closed card and one more. */
  found = req ("GET", "/v1/cards?phone=13600000012", NULL);
  expect (found, 200, NULL);
  {
    json_object *root = json_tokener_parse (found->body);
    json_object *cards = ct_test_json_at (root, "cards");

    ck_assert_int_eq (json_object_array_length (cards), 2);
    json_object_put (root);
  }
  assert_balanced ();
}
END_TEST

START_TEST (test_card_replace_takes_the_new_number_given_and_refuses_bad_ones)
{
  g_autofree char *old = issue_spent ("13600000013", NULL);
  g_autofree char *other = issue_spent ("13600000014", NULL);
  g_autofree char *taken = g_strdup_printf ("{\"new_card_no\":\"%s\",\"operator\":\"op\"," MGR "}", other);
  g_autoptr(CtTestResponse) r = NULL;

  /* Refusals change nothing: a number in use, a bad number, a wrong PIN,
   * no manager, an unknown field, an unknown card. */
  r = card_req ("POST", old, "replace", taken);
  expect (r, 409, "card_exists");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", old, "replace", "{\"new_card_no\":\"8888000000000001\",\"operator\":\"op\"," MGR "}");
  expect (r, 422, "invalid_card_no");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", old, "replace",
                "{\"new_card_no\":\"new-7\",\"operator\":\"op\",\"manager\":{\"id\":\"m1\",\"pin\":\"000000\"}}");
  expect (r, 403, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", old, "replace", "{\"new_card_no\":\"new-7\",\"operator\":\"op\"}");
  expect (r, 400, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", old, "replace", "{\"new_card_no\":\"new-7\",\"balance\":1," MGR "}");
  expect (r, 400, "bad_request");
  ck_assert_msg (strstr (r->body, "balance") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", "NO-SUCH-CARD", "replace", "{" MGR "}");
  expect (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("GET", old, NULL, NULL);
  expect_str (r->body, "status", "active");
  ck_assert_int_eq (json_int (r->body, "balance"), 10000);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("GET", "NEW-7", NULL, NULL);
  expect (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);

  /* A number of the member's new card, upper-cased like every number. */
  r = card_req ("POST", old, "replace", "{\"new_card_no\":\"new-7\",\"operator\":\"op\"," MGR "}");
  expect (r, 201, NULL);
  expect_str (r->body, "card.card_no", "NEW-7");
  ck_assert_int_eq (json_int (r->body, "card.balance"), 10000);
  g_clear_pointer (&r, ct_test_response_free);

  /* A replacement card can itself be replaced; the chain stays balanced. */
  r = card_req ("POST", "NEW-7", "replace", "{\"operator\":\"op\"," MGR "}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.points"), 10);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", old, "replace", "{\"operator\":\"op\"," MGR "}");
  expect (r, 409, "card_closed");
  expect_str (r->body, "error.replaced_by", "NEW-7");
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

START_TEST (test_card_replace_of_an_empty_card_moves_nothing_and_balances)
{
  g_autoptr(CtTestResponse) issued = req ("POST", "/v1/cards", "{\"member\":{\"name\":\"Empty\"},\"operator\":\"op\","
                                                               MGR "}");
  g_autofree char *card = json_str (issued->body, "card_no");
  g_autoptr(CtTestResponse) r = NULL;

  expect (issued, 201, NULL);
  r = card_req ("POST", card, "replace", "{" MGR "}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 0);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), 0);
  expect_str (r->body, "replaced.status", "closed");
  assert_balanced ();
}
END_TEST

START_TEST (test_card_replace_upgrade_adds_replaced_by_to_an_older_ledger)
{
  g_autofree char *old = issue_spent ("13600000015", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  gboolean pg = ct_test_store_is_pg ();

  /* The ledger as the version before lost card replacement left it. */
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));

    ck_assert_int_ge (ct_test_db_exec (db, "ALTER TABLE cards DROP COLUMN replaced_by"), 0);
    /* and before payments kept the level they reached (the step after). */
    ck_assert_int_ge (ct_test_db_exec (db, "ALTER TABLE transactions DROP COLUMN level_up"), 0);
    ck_assert_int_eq (ct_test_db_exec (db, pg ? "UPDATE schema_version SET version = 10"
                                              : "UPDATE settings SET value = '9' WHERE key = 'schema_version'"), 1);
  }
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "ledger", "check", NULL), 2);
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "upgrade", NULL), 0);
  ck_assert_msg (strstr (out, pg ? "from version 10 to 13" : "from version 9 to 11") != NULL, "%s", out);
  ck_assert_msg (ct_test_service_restart (svc, &error), "%s", error ? error->message : "");
  ct_test_client_free (cl);
  cl = ct_test_client_new (svc);

  /* The card from before is there, not closed, and can be replaced. */
  r = card_req ("GET", old, NULL, NULL);
  expect (r, 200, NULL);
  expect_str (r->body, "status", "active");
  expect_str (r->body, "replaced_by", NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_req ("POST", old, "replace", "{" MGR "}");
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 10000);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

/* Replaces @card; returns the new card's number. */
static char *
replace (const char *card)
{
  g_autoptr(CtTestResponse) r = card_req ("POST", card, "replace", "{\"operator\":\"op\"," MGR "}");

  expect (r, 201, NULL);
  return json_str (r->body, "card.card_no");
}

/* In @card's history of today: how many refunds of @tx_id it shows, and,
 * when @tx_id itself is there, what refunds gave back of it (else -1). */
static guint
history_of (const char *card,
            const char *tx_id,
            int64_t    *out_refunded)
{
  g_autoptr(CtTestResponse) r = card_req ("GET", card, "transactions", NULL);
  json_object *root;
  json_object *list;
  guint refunds = 0;

  expect (r, 200, NULL);
  root = json_tokener_parse (r->body);
  list = ct_test_json_at (root, "transactions");
  *out_refunded = -1;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *tx = json_object_array_get_idx (list, i);
      json_object *v;
      const char *id = json_object_object_get_ex (tx, "id", &v) ? json_object_get_string (v) : NULL;
      const char *kind = json_object_object_get_ex (tx, "kind", &v) ? json_object_get_string (v) : NULL;
      const char *of = json_object_object_get_ex (tx, "refund_of", &v) ? json_object_get_string (v) : NULL;

      if (g_strcmp0 (id, tx_id) == 0)
        *out_refunded = json_object_object_get_ex (tx, "refunded", &v) ? json_object_get_int64 (v) : 0;
      if (g_strcmp0 (kind, "refund") == 0 && g_strcmp0 (of, tx_id) == 0)
        refunds++;
    }
  json_object_put (root);
  return refunds;
}

START_TEST (test_card_replace_a_payment_of_the_lost_card_is_refunded_onto_the_new_card)
{
  g_autofree char *old = issue_spent ("13600000016", NULL);
  g_autofree char *tx = NULL;
  g_autofree char *new_no = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  int64_t pool_before, refunded;

  r = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (r->body, "\"refund_replaced\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* 50.00 from the card (50 points) and 20.00 in cash; then the card is
   * lost and replaced: 50.00 and 60 points on the new card. */
  tx = pay (old, "{\"amount\":5000,\"rest\":{\"amount\":2000,\"tender\":\"cash\"},\"operator\":\"op\"}");
  new_no = replace (old);
  pool_before = ledger_figure ("pool");

  /* The lost card still refuses, and names the card to refund on. */
  r = refund (old, tx, 1000);
  expect (r, 409, "card_closed");
  expect_str (r->body, "error.replaced_by", new_no);
  g_clear_pointer (&r, ct_test_response_free);

  /* Half on the new card: half the balance part back onto it, half the
   * rest by cash, half the points taken back, as on the same card. */
  r = refund (new_no, tx, 2500);
  expect (r, 201, NULL);
  expect_str (r->body, "transaction.kind", "refund");
  expect_str (r->body, "transaction.card_no", new_no);
  expect_str (r->body, "transaction.refund_of", tx);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), 2500);
  ck_assert_int_eq (json_int (r->body, "transaction.rest.amount"), 1000);
  ck_assert_int_eq (json_int (r->body, "transaction.points_delta"), -25);
  expect_str (r->body, "card.card_no", new_no);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 7500);
  ck_assert_int_eq (json_int (r->body, "card.points"), 35);
  ck_assert_int_eq (json_int (r->body, "amount"), 2500);
  ck_assert_int_eq (json_int (r->body, "refunded"), 2500);
  ck_assert_int_eq (json_int (r->body, "total"), 5000);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("pool"), pool_before - 2500);

  /* The rest, then nothing is left. */
  r = refund (new_no, tx, 0);
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), 2500);
  ck_assert_int_eq (json_int (r->body, "transaction.rest.amount"), 1000);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 10000);
  ck_assert_int_eq (json_int (r->body, "card.points"), 10);
  ck_assert_int_eq (json_int (r->body, "refunded"), 5000);
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (new_no, tx, 0);
  expect (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (new_no, tx, 1);
  expect (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("pool"), pool_before - 5000);

  /* The new card's history shows both refunds; the lost card's shows the
   * payment refunded in full, and the lost card stays closed and empty. */
  ck_assert_uint_eq (history_of (new_no, tx, &refunded), 2);
  ck_assert_uint_eq (history_of (old, tx, &refunded), 0);
  ck_assert_int_eq (refunded, 5000);
  r = card_req ("GET", old, NULL, NULL);
  expect_str (r->body, "status", "closed");
  ck_assert_int_eq (json_int (r->body, "balance"), 0);
  ck_assert_int_eq (json_int (r->body, "points"), 0);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

START_TEST (test_card_replace_a_chain_of_replacements_refunds_onto_the_last_card)
{
  g_autoptr(CtTestResponse) issued = req ("POST", "/v1/cards", "{\"member\":{\"name\":\"Chain\"},\"operator\":\"op\","
                                                               MGR "}");
  g_autofree char *a = json_str (issued->body, "card_no");
  g_autofree char *b = NULL, *c = NULL;
  g_autofree char *topup_a = NULL, *pay_a = NULL, *pay_b = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  int64_t refunded;

  /* A: 110.00 topped up, 30.00 paid; replaced by B, which pays 10.00 and
   * is replaced by C, with 70.00. */
  expect (issued, 201, NULL);
  topup_a = topup (a, NULL);
  pay_a = pay (a, "{\"amount\":3000,\"operator\":\"op\"}");
  b = replace (a);
  pay_b = pay (b, "{\"amount\":1000,\"operator\":\"op\"}");
  c = replace (b);

  /* B is closed too, and names C. */
  r = refund (b, pay_a, 0);
  expect (r, 409, "card_closed");
  expect_str (r->body, "error.replaced_by", c);
  g_clear_pointer (&r, ct_test_response_free);

  /* A's payment in two parts and B's whole, all onto C. */
  r = refund (c, pay_a, 1000);
  expect (r, 201, NULL);
  expect_str (r->body, "transaction.card_no", c);
  expect_str (r->body, "transaction.refund_of", pay_a);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 8000);
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (c, pay_a, 0);
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "refunded"), 3000);
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (c, pay_a, 0);
  expect (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (c, pay_b, 0);
  expect (r, 201, NULL);
  expect_str (r->body, "transaction.card_no", c);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 11000);
  ck_assert_int_eq (json_int (r->body, "card.points"), 0);
  g_clear_pointer (&r, ct_test_response_free);

  /* A's top-up is voided from C, where its money now is. */
  r = refund (c, topup_a, 0);
  expect (r, 201, NULL);
  expect_str (r->body, "transaction.card_no", c);
  ck_assert_int_eq (json_int (r->body, "transaction.delta"), -11000);
  ck_assert_int_eq (json_int (r->body, "transaction.bonus"), 1000);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 0);
  g_clear_pointer (&r, ct_test_response_free);

  ck_assert_uint_eq (history_of (c, pay_a, &refunded), 2);
  ck_assert_uint_eq (history_of (c, topup_a, &refunded), 1);
  ck_assert_uint_eq (history_of (a, pay_a, &refunded), 0);
  ck_assert_int_eq (refunded, 3000);
  assert_balanced ();
}
END_TEST

START_TEST (test_card_replace_a_refund_names_no_other_members_or_merchants_transaction)
{
  g_autofree char *lost = issue_spent ("13600000017", NULL);
  g_autofree char *other = issue_spent ("13600000018", NULL);
  g_autofree char *lost_pay = pay (lost, "{\"amount\":500,\"operator\":\"op\"}");
  g_autofree char *other_pay = pay (other, "{\"amount\":500,\"operator\":\"op\"}");
  g_autofree char *new_no = replace (lost);
  g_autofree char *pins = g_build_filename (ct_test_service_get_data_dir (svc), "mb-pin", NULL);
  g_autofree char *out = NULL, *token = NULL, *b_card = NULL, *b_pay = NULL;
  g_autoptr(CtTestClient) cl_b = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  /* Another member's payment is not the new card's to refund, nor the new
   * card's payment the other member's. */
  r = refund (new_no, other_pay, 0);
  expect (r, 404, "not_found");
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (other, lost_pay, 0);
  expect (r, 404, "not_found");
  g_clear_pointer (&r, ct_test_response_free);

  /* Another merchant with a card of the lost card's very number, and a
   * payment on it: the new card is not its successor, and its merchant's
   * till does not see this merchant's payment. */
  ck_assert (g_file_set_contents (pins, "135792\n", -1, NULL));
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "add", "--id", "shopb", "--name", "Shop B",
                                           "--timezone", "UTC", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "add", "--merchant", "shopb", "--store", "bs",
                                           "--name", "bt", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "manager", "add", "--merchant", "shopb", "--id", "mb",
                                           "--pin-file", pins, NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "package", "add", "--merchant", "shopb", "--id", "pb50",
                                           "--amount", "50.00", "--bonus", "5.00", NULL), 0);
  token = ct_test_last_line (out);
  cl_b = ct_test_client_new_for_token (svc, token);
  {
    g_autofree char *body = g_strdup_printf ("{\"card_no\":\"%s\",\"member\":{\"name\":\"B\"},\"operator\":\"op\","
                                             "\"manager\":{\"id\":\"mb\",\"pin\":\"135792\"}}", lost);
    g_autofree char *topups = g_strdup_printf ("/v1/cards/%s/topups", lost);
    g_autofree char *payments = g_strdup_printf ("/v1/cards/%s/payments", lost);

    r = req_on (cl_b, "POST", "/v1/cards", NULL, body);
    expect (r, 201, NULL);
    g_clear_pointer (&r, ct_test_response_free);
    r = req_on (cl_b, "POST", topups, NULL, "{\"package_id\":\"pb50\",\"operator\":\"op\"}");
    expect (r, 201, NULL);
    g_clear_pointer (&r, ct_test_response_free);
    r = req_on (cl_b, "POST", payments, NULL, "{\"amount\":700,\"operator\":\"op\"}");
    expect (r, 201, NULL);
    b_pay = json_str (r->body, "transaction.id");
    g_clear_pointer (&r, ct_test_response_free);
  }
  r = refund (new_no, b_pay, 0);
  expect (r, 404, "not_found");
  g_clear_pointer (&r, ct_test_response_free);
  {
    g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\","
                                             "\"manager\":{\"id\":\"mb\",\"pin\":\"135792\"}}", lost_pay);
    g_autofree char *refunds = g_strdup_printf ("/v1/cards/%s/refunds", lost);

    r = req_on (cl_b, "POST", refunds, NULL, body);
    expect (r, 404, "not_found");
    g_clear_pointer (&r, ct_test_response_free);
  }

  /* Nothing moved; the lost card's own payment still comes back onto the
   * new card. */
  r = card_req ("GET", new_no, NULL, NULL);
  ck_assert_int_eq (json_int (r->body, "balance"), 9500);
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (new_no, lost_pay, 0);
  expect (r, 201, NULL);
  ck_assert_int_eq (json_int (r->body, "card.balance"), 10000);
  g_clear_pointer (&r, ct_test_response_free);
  assert_balanced ();
}
END_TEST

static Suite *
card_replace_suite (void)
{
  Suite *s = suite_create ("card-replace");
  TCase *tc = tcase_create ("service");

  tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_card_replace_moves_everything_to_the_new_card_and_closes_the_old);
  tcase_add_test (tc, test_card_replace_retry_with_the_same_key_replays_and_makes_one_card);
  tcase_add_test (tc, test_card_replace_takes_the_new_number_given_and_refuses_bad_ones);
  tcase_add_test (tc, test_card_replace_of_an_empty_card_moves_nothing_and_balances);
  tcase_add_test (tc, test_card_replace_upgrade_adds_replaced_by_to_an_older_ledger);
  tcase_add_test (tc, test_card_replace_a_payment_of_the_lost_card_is_refunded_onto_the_new_card);
  tcase_add_test (tc, test_card_replace_a_chain_of_replacements_refunds_onto_the_last_card);
  tcase_add_test (tc, test_card_replace_a_refund_names_no_other_members_or_merchants_transaction);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (card_replace_suite ());
  int failed;

  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
