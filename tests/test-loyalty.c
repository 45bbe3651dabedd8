/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-loyalty"

#include "config.h"

#include <check.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "ct-test-service.h"

/* Points that pay part of a payment, and the member's consent by the
 * dynamic payment code, through a real cardtill-service. */

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"

static CtTestService *svc;
static CtTestClient *client;

static void
setup (void)
{
  g_autoptr(GError) error = NULL;

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "%s", error ? error->message : "?");
  client = ct_test_client_new (svc);
}

static void
teardown (void)
{
  g_clear_pointer (&client, ct_test_client_free);
  g_clear_pointer (&svc, ct_test_service_free);
}

static CtTestResponse *
req (const char *method,
     const char *path,
     const char *body)
{
  static guint n;
  g_autofree char *key = g_str_equal (method, "GET") ? NULL
                         : g_strdup_printf ("loy-%u-%" G_GINT64_FORMAT, ++n, g_get_real_time ());
  g_autoptr(GError) error = NULL;
  CtTestResponse *r = ct_test_client_request (client, method, path, key, body, &error);

  ck_assert_msg (r != NULL, "%s %s: %s", method, path, error ? error->message : "?");
  return r;
}

static void
expect (CtTestResponse *r,
        long            status,
        const char     *code)
{
  g_autofree char *got = ct_test_response_error_code (r);

  ck_assert_msg (r->status == status, "status %ld, wanted %ld: %s", r->status, status, r->body);
  if (code != NULL)
    ck_assert_msg (g_strcmp0 (got, code) == 0, "code %s, wanted %s: %s", got, code, r->body);
}

/* The integer at a dotted @path ("card.points") of @body. */
static int64_t
json_int (const char *body,
          const char *path)
{
  json_object *root = json_tokener_parse (body);
  json_object *v = root;
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  int64_t out;

  for (guint i = 0; parts[i] != NULL; i++)
    ck_assert_msg (v != NULL && json_object_object_get_ex (v, parts[i], &v), "%s not in %s", path, body);
  ck_assert_msg (json_object_is_type (v, json_type_int), "%s in %s", path, body);
  out = json_object_get_int64 (v);
  json_object_put (root);
  return out;
}

static char *
json_str (const char *body,
          const char *path)
{
  json_object *root = json_tokener_parse (body);
  json_object *v = root;
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  char *out = NULL;

  for (guint i = 0; parts[i] != NULL && v != NULL; i++)
    if (!json_object_object_get_ex (v, parts[i], &v))
      v = NULL;
  if (v != NULL && json_object_is_type (v, json_type_string))
    out = g_strdup (json_object_get_string (v));
  json_object_put (root);
  return out;
}

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

static CtTestResponse *
card_post (const char *card,
           const char *what,
           const char *body)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/%s", card, what);

  return req ("POST", path, body);
}

/* `cardtill-service merchant set ARGS` on the test's database. */
#define merchant_set(...) \
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", __VA_ARGS__), 0)

static void
assert_balanced (void)
{
  g_autoptr(CtTestResponse) check = req ("GET", "/v1/ledger/check", NULL);

  expect (check, 200, NULL);
  ck_assert_int_eq (json_int (check->body, "sum"), 0);
}

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

static Suite *
loyalty_suite (void)
{
  Suite *s = suite_create ("loyalty");
  TCase *tc = tcase_create ("service");

  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_loyalty_points_pay_part_of_a_payment_and_come_back_on_refund);
  tcase_add_test (tc, test_loyalty_payment_over_the_threshold_needs_the_members_code);
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
