/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service"
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-card-number.h"
#include "ct-test-json.h"
#include "ct-test-service.h"

/* The card service's HTTP API (docs/api.md) over real HTTPS on 127.0.0.1:
 * every endpoint, every error code, the order of the checks and
 * idempotency. Each test gets a fresh service; the teardown checks that the
 * ledger still sums to zero. */

static CtTestService *svc;
static CtTestClient *cl;

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"

static void
setup (void)
{
  g_autoptr(GError) error = NULL;

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "service did not start: %s", error ? error->message : "");
  cl = ct_test_client_new (svc);
}

static json_object *
parse (const char *body)
{
  json_object *o = json_tokener_parse (body);

  ck_assert_msg (o != NULL, "not JSON: %s", body);
  return o;
}

static void
teardown (void)
{
  g_autoptr(CtTestResponse) r = ct_test_client_request (cl, "GET", "/v1/ledger/check", NULL, NULL, NULL);

  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  ck_assert_int_eq (ct_test_json_int (r->body, "sum"), 0);
  ck_assert_msg (strstr (r->body, "\"balanced\":true") != NULL, "ledger not balanced: %s", r->body);
  ct_test_client_free (cl);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
}

static guint key_counter;

static CtTestResponse *
req (const char *method,
     const char *path,
     const char *body)
{
  g_autofree char *key = g_strdup_printf ("k-%u-%u", (guint) getpid (), ++key_counter);
  g_autoptr(GError) error = NULL;
  CtTestResponse *r;

  r = ct_test_client_request (cl, method, path, g_str_equal (method, "POST") ? key : NULL, body, &error);
  ck_assert_msg (r != NULL, "%s %s: %s", method, path, error ? error->message : "");
  return r;
}

#define expect_status(r, st, code) expect_status_ (r, st, code, __LINE__)

static void
expect_status_ (CtTestResponse *r,
                long            status,
                const char     *code,
                int             line)
{
  g_autofree char *got = ct_test_response_error_code (r);

  ck_assert_msg (r->status == status, "line %d: status %ld, wanted %ld: %s", line, r->status, status, r->body);
  if (code != NULL)
    ck_assert_msg (g_strcmp0 (got, code) == 0, "line %d: code %s, wanted %s", line, got, code);
  if (status >= 400)
    ck_assert_msg (strstr (r->body, "\"message\":\"") != NULL, "line %d: no message: %s", line, r->body);
}

static char *
issue_card (const char *name,
            const char *phone)
{
  g_autofree char *body = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  body = g_strdup_printf ("{\"member\":{\"name\":\"%s\",\"phone\":%s%s%s},\"operator\":\"op\"," MGR "}",
                          name, phone ? "\"" : "", phone ? phone : "null", phone ? "\"" : "");
  r = req ("POST", "/v1/cards", body);
  expect_status (r, 201, NULL);
  return ct_test_json_str (r->body, "card_no");
}

static CtTestResponse *
card_post (const char *card,
           const char *what,
           const char *body)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/%s", card, what);

  return req ("POST", path, body);
}

static void
topup (const char *card,
       const char *package)
{
  g_autofree char *body = g_strdup_printf ("{\"package_id\":\"%s\",\"operator\":\"op\"}", package);
  g_autoptr(CtTestResponse) r = card_post (card, "topups", body);

  expect_status (r, 201, NULL);
}

static char *
pay (const char *card,
     int64_t     amount,
     long        want_status)
{
  g_autofree char *body = g_strdup_printf ("{\"amount\":%" G_GINT64_FORMAT ",\"operator\":\"op\"}", amount);
  g_autoptr(CtTestResponse) r = card_post (card, "payments", body);

  ck_assert_msg (r->status == want_status, "pay: %ld %s", r->status, r->body);
  return r->status == 201 ? ct_test_json_str (r->body, "transaction.id") : NULL;
}

static int64_t
balance_of (const char *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = req ("GET", path, NULL);

  expect_status (r, 200, NULL);
  return ct_test_json_int (r->body, "balance");
}

/* Health and auth */

START_TEST (test_service_health_needs_no_token)
{
  g_autoptr(CtTestClient) anon = ct_test_client_new_for_token (svc, NULL);
  g_autoptr(CtTestResponse) r = ct_test_client_request (anon, "GET", "/v1/health", NULL, NULL, NULL);

  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, "\"status\":\"ok\"") && strstr (r->body, "\"version\""), "%s", r->body);
}
END_TEST

START_TEST (test_service_requests_without_a_valid_token_are_401)
{
  g_autoptr(CtTestClient) anon = ct_test_client_new_for_token (svc, NULL);
  g_autoptr(CtTestClient) wrong = ct_test_client_new_for_token (svc, "not-a-token");
  g_autoptr(CtTestResponse) r1 = ct_test_client_request (anon, "GET", "/v1/merchant", NULL, NULL, NULL);
  g_autoptr(CtTestResponse) r2 = ct_test_client_request (wrong, "GET", "/v1/merchant", NULL, NULL, NULL);
  /* 401 comes before every other check, even a missing key and a bad body. */
  g_autoptr(CtTestResponse) r3 = ct_test_client_request (wrong, "POST", "/v1/cards/1234/payments", NULL, "{", NULL);

  expect_status (r1, 401, "unauthorized");
  expect_status (r2, 401, "unauthorized");
  expect_status (r3, 401, "unauthorized");
}
END_TEST

START_TEST (test_service_reissued_token_replaces_the_old_one_and_revoke_disables)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(CtTestClient) fresh = NULL;
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL, r3 = NULL;
  guint n;

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "token", "--store", "s1", "--name", "t1", NULL), 0);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  n = g_strv_length (lines);
  fresh = ct_test_client_new_for_token (svc, lines[n - 1]);
  r1 = req ("GET", "/v1/merchant", NULL);
  expect_status (r1, 401, "unauthorized");
  r2 = ct_test_client_request (fresh, "GET", "/v1/merchant", NULL, NULL, NULL);
  expect_status (r2, 200, NULL);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "till", "revoke", "--store", "s1", "--name", "t1", NULL), 0);
  r3 = ct_test_client_request (fresh, "GET", "/v1/merchant", NULL, NULL, NULL);
  expect_status (r3, 401, "unauthorized");
  /* The teardown's ledger check needs a working till again. */
  ct_test_client_free (cl);
  g_clear_pointer (&out, g_free);
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "enable", "--store", "s1", "--name", "t1", NULL), 0);
  g_strfreev (lines);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  cl = ct_test_client_new_for_token (svc, lines[g_strv_length (lines) - 1]);
}
END_TEST

START_TEST (test_service_unknown_path_is_404_not_found)
{
  g_autoptr(CtTestResponse) r = req ("GET", "/v1/nothing", NULL);

  expect_status (r, 404, "not_found");
}
END_TEST

/* Merchant */

START_TEST (test_service_merchant_shows_settings_packages_and_pool)
{
  g_autoptr(CtTestResponse) r = req ("GET", "/v1/merchant", NULL);
  g_autofree char *card = NULL;
  g_autoptr(CtTestResponse) r2 = NULL;

  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, "\"name\":\"Test Shop\"") != NULL, "%s", r->body);
  ck_assert_msg (strstr (r->body, "\"topup_packages\":[{\"id\":\"p100\",\"amount\":10000,\"bonus\":1000},"
                                  "{\"id\":\"p200\",\"amount\":20000,\"bonus\":3000}]") != NULL, "%s", r->body);
  ck_assert_int_eq (ct_test_json_int (r->body, "minor_units"), 2);
  ck_assert_int_eq (ct_test_json_int (r->body, "pool_balance"), 0);
  ck_assert_int_eq (ct_test_json_int (r->body, "offline_payment_cap"), 0);
  ck_assert_msg (strstr (r->body, "\"timezone\":\"Asia/Shanghai\"") != NULL, "%s", r->body);

  card = issue_card ("Pool", NULL);
  topup (card, "p100");
  g_free (pay (card, 1234, 201));
  r2 = req ("GET", "/v1/merchant", NULL);
  ck_assert_int_eq (ct_test_json_int (r2->body, "pool_balance"), 1234);
}
END_TEST

/* The merchant answer names the asking till as its transactions do, so
 * that a till tells its own transactions from another till's. */
START_TEST (test_service_merchant_names_the_asking_till)
{
  g_autofree char *out = NULL, *token = NULL, *card = NULL, *tx_path = NULL;
  g_autofree char *store = NULL, *till = NULL, *other_till = NULL, *tx_till = NULL;
  g_autoptr(CtTestClient) other = NULL;
  g_autoptr(CtTestResponse) mine = NULL, theirs = NULL, history = NULL;

  mine = req ("GET", "/v1/merchant", NULL);
  expect_status (mine, 200, NULL);
  store = ct_test_json_str (mine->body, "store");
  till = ct_test_json_str (mine->body, "till");
  ck_assert_str_eq (store, CT_TEST_SERVICE_STORE);
  ck_assert_str_eq (till, CT_TEST_SERVICE_TILL);
  card = issue_card ("Named", NULL);
  topup (card, "p100");
  tx_path = g_strdup_printf ("/v1/cards/%s/transactions", card);
  history = req ("GET", tx_path, NULL);
  tx_till = ct_test_json_str (history->body, "transactions.0.till");
  ck_assert_str_eq (tx_till, till);

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "add", "--store", CT_TEST_SERVICE_STORE,
                                           "--name", "t2", NULL), 0);
  token = ct_test_last_line (out);
  other = ct_test_client_new_for_token (svc, token);
  theirs = ct_test_client_request (other, "GET", "/v1/merchant", NULL, NULL, NULL);
  expect_status (theirs, 200, NULL);
  other_till = ct_test_json_str (theirs->body, "till");
  ck_assert_str_eq (other_till, "t2");
}
END_TEST

/* Cards */

START_TEST (test_service_issue_card_gets_a_luhn_number_under_the_prefix)
{
  g_autofree char *card = issue_card ("Ann", "13800000000");
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = req ("GET", path, NULL);

  ck_assert_int_eq (strlen (card), 16);
  ck_assert (g_str_has_prefix (card, "8888"));
  ck_assert (ct_luhn_valid (card));
  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, "\"status\":\"active\",\"level\":null,\"member\":{\"name\":\"Ann\","
                                  "\"phone\":\"13800000000\"},\"balance\":0,\"points\":0") != NULL, "%s", r->body);
  ck_assert_msg (strstr (r->body, "\"created_at\":\"20") != NULL && strstr (r->body, "Z\"") != NULL, "%s", r->body);
}
END_TEST

START_TEST (test_service_issue_card_with_a_given_number)
{
  g_autoptr(CtTestResponse) r1 = req ("POST", "/v1/cards",
                                      "{\"member\":{\"name\":\"Old\",\"phone\":\"139 0000 0007\"},\"card_no\":\"vip-007\","
                                      "\"level\":\"gold\",\"operator\":\"op\"," MGR "}");
  g_autoptr(CtTestResponse) r2 = req ("POST", "/v1/cards",
                                      "{\"member\":{\"name\":\"Dup\"},\"card_no\":\"VIP-007\",\"operator\":\"op\"," MGR "}");
  g_autoptr(CtTestResponse) r3 = req ("POST", "/v1/cards",
                                      "{\"member\":{\"name\":\"Bad\"},\"card_no\":\"8888000000000001\",\"operator\":\"op\"," MGR "}");

  expect_status (r1, 201, NULL);
  ck_assert_msg (strstr (r1->body, "\"card_no\":\"VIP-007\"") && strstr (r1->body, "\"level\":\"gold\""), "%s", r1->body);
  expect_status (r2, 409, "card_exists");
  expect_status (r3, 422, "invalid_card_no");
}
END_TEST

START_TEST (test_service_unknown_card_is_404_and_bad_check_digit_422)
{
  g_autoptr(CtTestResponse) r1 = req ("GET", "/v1/cards/ABCD-1234", NULL);
  g_autoptr(CtTestResponse) r2 = req ("GET", "/v1/cards/8888000000000001", NULL);
  g_autoptr(CtTestResponse) r3 = req ("POST", "/v1/cards/ABCD-1234/payments", "{\"amount\":100,\"operator\":\"op\"}");

  expect_status (r1, 404, "card_not_found");
  expect_status (r2, 422, "invalid_card_no");
  expect_status (r3, 404, "card_not_found");
}
END_TEST

START_TEST (test_service_card_numbers_are_upper_cased)
{
  g_autoptr(CtTestResponse) r1 = req ("POST", "/v1/cards",
                                      "{\"member\":{\"name\":\"Low\"},\"card_no\":\"abc-99\",\"operator\":\"op\"," MGR "}");
  g_autoptr(CtTestResponse) r2 = req ("GET", "/v1/cards/abc-99", NULL);

  expect_status (r1, 201, NULL);
  expect_status (r2, 200, NULL);
  ck_assert_msg (strstr (r2->body, "\"card_no\":\"ABC-99\"") != NULL, "%s", r2->body);
}
END_TEST

START_TEST (test_service_find_cards_by_phone_and_name)
{
  g_autofree char *a = issue_card ("Wang Fang", "13811112222");
  g_autofree char *b = issue_card ("wang li", "13833334444");
  g_autofree char *c = issue_card ("Zhao", "13811112222");
  g_autoptr(CtTestResponse) r1 = req ("GET", "/v1/cards?phone=13811112222", NULL);
  g_autoptr(CtTestResponse) r2 = req ("GET", "/v1/cards?name=WANG", NULL);
  g_autoptr(CtTestResponse) r3 = req ("GET", "/v1/cards?name=nobody", NULL);
  g_autoptr(CtTestResponse) r4 = req ("GET", "/v1/cards", NULL);

  expect_status (r1, 200, NULL);
  ck_assert (strstr (r1->body, a) && strstr (r1->body, c) && !strstr (r1->body, b));
  expect_status (r2, 200, NULL);
  ck_assert (strstr (r2->body, a) && strstr (r2->body, b) && !strstr (r2->body, c));
  ck_assert_str_eq (r3->body, "{\"cards\":[]}");
  expect_status (r4, 400, "bad_request");
}
END_TEST

START_TEST (test_service_phone_is_stored_as_digits_and_found_in_any_form)
{
  g_autofree char *a = issue_card ("Dash", "+86 139-7777-6543");
  g_autofree char *b = issue_card ("Other", "021 5555 6543");
  g_autoptr(CtTestResponse) bad = req ("POST", "/v1/cards",
                                       "{\"member\":{\"name\":\"X\",\"phone\":\"139\"},"
                                       "\"operator\":\"op\"," MGR "}");
  g_autoptr(CtTestResponse) r1 = req ("GET", "/v1/cards?phone=13977776543", NULL);
  g_autoptr(CtTestResponse) r2 = req ("GET", "/v1/cards?phone=0086%20139.7777.6543", NULL);
  g_autoptr(CtTestResponse) r3 = req ("GET", "/v1/cards?phone=6543", NULL);
  g_autoptr(CtTestResponse) r4 = req ("GET", "/v1/cards?phone=654", NULL);

  expect_status (bad, 400, "bad_request");
  ck_assert_msg (strstr (bad->body, "5 to 15 digits") != NULL, "%s", bad->body);
  expect_status (r1, 200, NULL);
  ck_assert_msg (strstr (r1->body, a) && !strstr (r1->body, b)
                 && strstr (r1->body, "\"phone\":\"13977776543\""), "%s", r1->body);
  expect_status (r2, 200, NULL);
  ck_assert_msg (strstr (r2->body, a) && !strstr (r2->body, b), "%s", r2->body);
  /* The last four digits find both, with the phones masked. */
  expect_status (r3, 200, NULL);
  ck_assert_msg (strstr (r3->body, a) && strstr (r3->body, b)
                 && strstr (r3->body, "\"phone\":\"139****6543\"")
                 && strstr (r3->body, "\"phone\":\"021****6543\"")
                 && !strstr (r3->body, "13977776543"), "%s", r3->body);
  expect_status (r4, 400, "bad_request");
}
END_TEST

START_TEST (test_service_patch_card_freezes_edits_and_needs_a_manager)
{
  g_autofree char *card = issue_card ("Edit", "13900000000");
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r1 = req ("PATCH", path, "{\"status\":\"frozen\",\"level\":\"silver\","
                                                     "\"member\":{\"phone\":\"13900000001\"}," MGR "}");
  g_autoptr(CtTestResponse) r2 = req ("PATCH", path, "{\"status\":\"melted\"," MGR "}");
  g_autoptr(CtTestResponse) r3 = req ("PATCH", path, "{\"status\":\"active\"}");
  g_autoptr(CtTestResponse) r4 = req ("PATCH", "/v1/cards/NOPE-1", "{\"status\":\"active\"," MGR "}");

  expect_status (r1, 200, NULL);
  ck_assert_msg (strstr (r1->body, "\"status\":\"frozen\",\"level\":\"silver\",\"member\":{\"name\":\"Edit\","
                                   "\"phone\":\"13900000001\"}") != NULL, "%s", r1->body);
  expect_status (r2, 400, "bad_request");
  expect_status (r3, 400, "bad_request");
  expect_status (r4, 404, "card_not_found");

  /* Who froze the card is on record, without the PIN. */
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
    g_autofree char *sql = g_strdup_printf ("SELECT kind, store, till, manager, detail FROM card_events "
                                            "WHERE card_no = '%s' ORDER BY id", card);
    g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);
    char **row;

    ck_assert_uint_eq (rows->len, 2);
    ck_assert_str_eq (((char **) rows->pdata[0])[0], "issue");
    row = rows->pdata[1];
    ck_assert_str_eq (row[0], "frozen");
    ck_assert_str_eq (row[1], "s1");
    ck_assert_str_eq (row[2], "t1");
    ck_assert_str_eq (row[3], "m1");
    ck_assert (strstr (row[4], "246813") == NULL);
  }
}
END_TEST

/* Managers */

START_TEST (test_service_wrong_pin_and_unknown_manager_get_one_403_message)
{
  g_autofree char *card = issue_card ("Mgr", NULL);
  g_autoptr(CtTestResponse) r1 = card_post (card, "adjustments",
                                            "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"0000\"}}");
  g_autoptr(CtTestResponse) r2 = card_post (card, "adjustments",
                                            "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"zz\",\"pin\":\"246813\"}}");
  g_autoptr(CtTestResponse) r3 = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\"}");
  g_autofree char *m1 = NULL, *m2 = NULL;

  expect_status (r1, 403, "forbidden");
  expect_status (r2, 403, "forbidden");
  m1 = ct_test_json_str (r1->body, "error.message");
  m2 = ct_test_json_str (r2->body, "error.message");
  ck_assert_str_eq (m1, m2);
  expect_status (r3, 400, "bad_request");
}
END_TEST

START_TEST (test_service_five_wrong_pins_lock_the_manager)
{
  g_autofree char *card = issue_card ("Lock", NULL);
  g_autoptr(CtTestResponse) locked = NULL, right = NULL;

  for (int i = 0; i < 5; i++)
    {
      g_autoptr(CtTestResponse) r = card_post (card, "adjustments",
                                               "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"1111\"}}");
      expect_status (r, 403, "forbidden");
    }
  locked = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"1111\"}}");
  expect_status (locked, 429, "pin_locked");
  ck_assert_ptr_nonnull (ct_test_response_header (locked, "Retry-After"));
  ck_assert_int_gt (atoi (ct_test_response_header (locked, "Retry-After")), 200);
  /* The right PIN does not open a locked manager either. */
  right = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\"," MGR "}");
  expect_status (right, 429, "pin_locked");

  /* Five minutes later (moved forward in the database) the right PIN works
   * again, and one more wrong PIN does not lock at once. */
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
    g_autoptr(CtTestResponse) after = NULL, wrong = NULL;

    ck_assert_int_eq (ct_test_db_exec (db, "UPDATE pin_guard SET locked_until = locked_until - 300000 WHERE manager_id = 'm1'"), 1);
    topup (card, "p100");
    after = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\"," MGR "}");
    expect_status (after, 201, NULL);
    wrong = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"1111\"}}");
    expect_status (wrong, 403, "forbidden");
  }
}
END_TEST

START_TEST (test_service_card_check_comes_before_the_manager_check)
{
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards/NOPE-2/adjustments",
                                     "{\"delta\":5,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"bad!\"}}");

  expect_status (r, 404, "card_not_found");
}
END_TEST

/* Cashiers */

static char *
cashier_pin_file (const char *pin)
{
  g_autofree char *text = g_strdup_printf ("%s\n", pin);
  char *path = g_build_filename (ct_test_service_get_data_dir (svc), "cashier.pin", NULL);

  ck_assert (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static CtTestResponse *
sign_in (const char *id,
         const char *pin)
{
  g_autofree char *body = g_strdup_printf ("{\"cashier\":\"%s\",\"pin\":\"%s\"}", id, pin);

  return req ("POST", "/v1/cashiers/sign-in", body);
}

START_TEST (test_service_cashier_add_list_sign_in_and_remove)
{
  g_autofree char *pin = cashier_pin_file ("135790");
  g_autofree char *card = issue_card ("Till", NULL);
  g_autofree char *list = NULL, *err = NULL, *empty = NULL, *name = NULL;
  g_autoptr(CtTestResponse) ok = NULL, removed = NULL, paid = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, &empty, "cashier", "list", NULL), 0);
  ck_assert_msg (strstr (empty, "no cashiers") != NULL, "%s", empty);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "add", "--id", "c7", "--name", "王芳 Wang",
                                           "--pin-file", pin, NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "add", "--id", "c7", "--name", "Again",
                                           "--pin-file", pin, NULL), 2);
  /* The rule of manager PINs: six digits at least. */
  g_free (pin);
  pin = cashier_pin_file ("1234");
  ck_assert_int_eq (ct_test_service_admin_full (svc, NULL, &err, "cashier", "add", "--id", "c8", "--name", "Short",
                                                "--pin-file", pin, NULL), 1);
  ck_assert_msg (strstr (err, "at least 6 digits") != NULL, "%s", err);
  ck_assert_int_eq (ct_test_service_admin (svc, &list, "cashier", "list", NULL), 0);
  ck_assert_msg (strstr (list, "c7  王芳 Wang") != NULL && strstr (list, "c8") == NULL, "%s", list);

  ok = sign_in ("c7", "135790");
  expect_status (ok, 200, NULL);
  name = ct_test_json_str (ok->body, "cashier.name");
  ck_assert_str_eq (name, "王芳 Wang");

  /* An entry taken by a cashier who is removed before it reaches the
   * service still settles: the operator is what the till recorded. */
  topup (card, "p100");
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "remove", "--id", "c7", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "remove", "--id", "c7", NULL), 2);
  removed = sign_in ("c7", "135790");
  expect_status (removed, 403, "forbidden");
  paid = card_post (card, "payments", "{\"amount\":100,\"operator\":\"c7\"}");
  expect_status (paid, 201, NULL);
  ck_assert_msg (strstr (paid->body, "\"operator\":\"c7\"") != NULL, "%s", paid->body);
}
END_TEST

START_TEST (test_service_cashier_wrong_pins_lock_the_cashier_not_the_manager)
{
  g_autofree char *pin = cashier_pin_file ("135790");
  g_autofree char *card = issue_card ("Guard", NULL);
  g_autofree char *list = NULL, *audit = NULL, *m1 = NULL, *m2 = NULL;
  g_autoptr(CtTestResponse) unknown = NULL, locked = NULL, right = NULL, manager = NULL, bad = NULL;

  /* A cashier with a manager's id: their wrong PINs are counted apart. */
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "add", "--id", "m1", "--name", "Amy",
                                           "--pin-file", pin, NULL), 0);
  bad = req ("POST", "/v1/cashiers/sign-in", "{\"cashier\":\"m1\"}");
  expect_status (bad, 400, "bad_request");
  unknown = sign_in ("nobody", "135790");
  expect_status (unknown, 403, "forbidden");
  for (int i = 0; i < 5; i++)
    {
      g_autoptr(CtTestResponse) r = sign_in ("m1", "999999");

      expect_status (r, 403, "forbidden");
      if (i == 0)
        {
          m1 = ct_test_json_str (r->body, "error.message");
          m2 = ct_test_json_str (unknown->body, "error.message");
          ck_assert_str_eq (m1, m2);
        }
    }
  locked = sign_in ("m1", "999999");
  expect_status (locked, 429, "pin_locked");
  ck_assert_int_gt (atoi (ct_test_response_header (locked, "Retry-After")), 200);
  right = sign_in ("m1", "135790");
  expect_status (right, 429, "pin_locked");
  topup (card, "p100");
  manager = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\"," MGR "}");
  expect_status (manager, 201, NULL);

  ck_assert_int_eq (ct_test_service_admin (svc, &list, "cashier", "list", NULL), 0);
  ck_assert_msg (strstr (list, "m1  Amy  locked until") != NULL, "%s", list);
  ck_assert_int_eq (ct_test_service_admin (svc, &audit, "audit", NULL), 0);
  ck_assert_msg (strstr (audit, "cashier m1: cashier_sign_in refused: wrong PIN 1 of 5") != NULL
                 && strstr (audit, "cashier m1: cashier_sign_in refused: the id is locked") != NULL
                 && strstr (audit, "135790") == NULL && strstr (audit, "999999") == NULL, "%s", audit);

  /* A new PIN unlocks the cashier, and a sign-in is in the audit log. */
  g_free (pin);
  pin = cashier_pin_file ("864200");
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "set", "--id", "m1", "--pin-file", pin, NULL), 0);
  {
    g_autoptr(CtTestResponse) again = sign_in ("m1", "864200");
    g_autofree char *audit2 = NULL;

    expect_status (again, 200, NULL);
    ck_assert_int_eq (ct_test_service_admin (svc, &audit2, "audit", NULL), 0);
    ck_assert_msg (strstr (audit2, "cashier_sign_in  -  {\"cashier\":\"m1\"}") != NULL, "%s", audit2);
  }
}
END_TEST

/* Top-ups */

START_TEST (test_service_topup_package_posts_amount_and_bonus)
{
  g_autofree char *card = issue_card ("Top", NULL);
  g_autoptr(CtTestResponse) r = card_post (card, "topups",
                                           "{\"package_id\":\"p200\",\"expect\":{\"amount\":20000,\"bonus\":3000},\"operator\":\"amy\"}");
  g_autoptr(CtTestResponse) chk = NULL;

  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 23000);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.bonus"), 3000);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.balance_after"), 23000);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 23000);
  ck_assert_msg (strstr (r->body, "\"kind\":\"topup\"") && strstr (r->body, "\"store\":\"s1\",\"till\":\"t1\","
                                                                    "\"operator\":\"amy\",\"manager\":null"), "%s", r->body);
  chk = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (chk->body, "cash"), -20000);
  ck_assert_int_eq (ct_test_json_int (chk->body, "promo"), -3000);
  ck_assert_int_eq (ct_test_json_int (chk->body, "cards"), 23000);
}
END_TEST

START_TEST (test_service_topup_refusals_in_fixed_mode)
{
  g_autofree char *card = issue_card ("Fix", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) changed = card_post (card, "topups",
                                                 "{\"package_id\":\"p100\",\"expect\":{\"amount\":10000,\"bonus\":2000},\"operator\":\"op\"}");
  g_autoptr(CtTestResponse) both = card_post (card, "topups", "{\"package_id\":\"p100\",\"amount\":10000,\"operator\":\"op\"}");
  g_autoptr(CtTestResponse) amount = card_post (card, "topups", "{\"amount\":10000,\"operator\":\"op\"}");
  g_autoptr(CtTestResponse) unknown = card_post (card, "topups", "{\"package_id\":\"p999\",\"operator\":\"op\"}");
  g_autoptr(CtTestResponse) freeze = req ("PATCH", path, "{\"status\":\"frozen\"," MGR "}");
  g_autoptr(CtTestResponse) frozen = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");

  expect_status (changed, 409, "package_changed");
  expect_status (both, 400, "bad_request");
  expect_status (amount, 422, "invalid_amount");
  expect_status (unknown, 404, "not_found");
  expect_status (freeze, 200, NULL);
  expect_status (frozen, 409, "card_frozen");
  ck_assert_int_eq (balance_of (card), 0);
}
END_TEST

START_TEST (test_service_topup_any_amount_mode)
{
  g_autofree char *card = issue_card ("Any", NULL);
  g_autoptr(CtTestResponse) ok = NULL, low = NULL, high = NULL, pkg = NULL, str = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--topup-mode", "any",
                                           "--topup-min", "10.00", "--topup-max", "500.00", NULL), 0);
  ok = card_post (card, "topups", "{\"amount\":1050,\"operator\":\"op\"}");
  low = card_post (card, "topups", "{\"amount\":999,\"operator\":\"op\"}");
  high = card_post (card, "topups", "{\"amount\":50001,\"operator\":\"op\"}");
  pkg = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  str = card_post (card, "topups", "{\"amount\":\"1050\",\"operator\":\"op\"}");
  expect_status (ok, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (ok->body, "transaction.bonus"), 0);
  ck_assert_int_eq (ct_test_json_int (ok->body, "card.balance"), 1050);
  expect_status (low, 422, "invalid_amount");
  expect_status (high, 422, "invalid_amount");
  expect_status (pkg, 422, "invalid_amount");
  expect_status (str, 400, "bad_request");
}
END_TEST

START_TEST (test_service_manager_set_pin_and_remove_take_effect)
{
  g_autofree char *card = issue_card ("Pins", NULL);
  g_autofree char *pin = g_build_filename (ct_test_service_get_data_dir (svc), "new.pin", NULL);
  g_autoptr(CtTestResponse) old_pin = NULL, new_pin = NULL, removed = NULL;

  topup (card, "p100");
  g_file_set_contents (pin, "975310\n", -1, NULL);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "manager", "set-pin", "--id", "m1", "--pin-file", pin, NULL), 0);
  old_pin = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\"," MGR "}");
  expect_status (old_pin, 403, "forbidden");
  new_pin = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"975310\"}}");
  expect_status (new_pin, 201, NULL);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "manager", "remove", "--id", "m1", NULL), 0);
  removed = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"975310\"}}");
  expect_status (removed, 403, "forbidden");
}
END_TEST

START_TEST (test_service_removed_package_is_not_found)
{
  g_autofree char *card = issue_card ("Gone", NULL);
  g_autoptr(CtTestResponse) r = NULL, m = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "package", "remove", "--id", "p100", NULL), 0);
  r = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect_status (r, 404, "not_found");
  m = req ("GET", "/v1/merchant", NULL);
  ck_assert_msg (strstr (m->body, "\"topup_packages\":[{\"id\":\"p200\"") != NULL, "%s", m->body);
}
END_TEST

/* Payments */

/* A till may send a card's number in another form than the stored one
 * (lower case, full-width digits, spaces around it): the payment finds
 * the card, and the card is the one that pays. */
START_TEST (test_service_payment_on_a_number_in_another_form)
{
  g_autoptr(CtTestResponse) legacy = req ("POST", "/v1/cards",
                                          "{\"member\":{\"name\":\"Form\"},\"card_no\":\"form-77\",\"operator\":\"op\"," MGR "}");
  g_autofree char *issued = issue_card ("Wide", NULL);
  g_autoptr(GString) wide = g_string_new (NULL);
  g_autofree char *spaced = g_strdup_printf ("%%20%s%%20", issued);
  g_autofree char *id = NULL;

  expect_status (legacy, 201, NULL);
  topup ("FORM-77", "p100");
  topup (issued, "p100");
  /* Full-width digits, percent-encoded UTF-8 in the path. */
  for (const char *p = issued; *p != '\0'; p++)
    g_string_append_printf (wide, "%%EF%%BC%%%02X", 0x90 + (*p - '0'));

  id = pay ("form-77", 250, 201);
  ck_assert_ptr_nonnull (id);
  g_clear_pointer (&id, g_free);
  id = pay (wide->str, 300, 201);
  ck_assert_ptr_nonnull (id);
  g_clear_pointer (&id, g_free);
  id = pay (spaced, 400, 201);
  ck_assert_ptr_nonnull (id);
  ck_assert_int_eq (balance_of ("FORM-77"), 11000 - 250);
  ck_assert_int_eq (balance_of (issued), 11000 - 700);
}
END_TEST

/* PostgreSQL: the card's new balance goes to the database with the
 * commit, where CHECK (balance >= 0) is the last word. A floor that fires
 * there answers 409 insufficient_balance, another rule 500; neither keeps
 * the answer with the key nor changes anything, and the retry runs anew. */
START_TEST (test_service_a_check_refused_at_commit_is_answered)
{
  g_autofree char *card = issue_card ("Floor", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *drain = g_strdup_printf ("CREATE TRIGGER ct_test_drain BEFORE UPDATE OF balance ON cards"
                                            " FOR EACH ROW WHEN (NEW.card_no = '%s')"
                                            " EXECUTE FUNCTION ct_test_drain ()", card);
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autoptr(CtTestResponse) floor = NULL, rule = NULL, retried = NULL;
  const char *body = "{\"amount\":100,\"operator\":\"op\"}";

  topup (card, "p100");
  /* The database, not the service, takes the balance below zero. */
  ck_assert_int_ge (ct_test_db_exec (db, "CREATE FUNCTION ct_test_drain () RETURNS trigger LANGUAGE plpgsql"
                                         " AS $$ BEGIN NEW.balance := -1; RETURN NEW; END $$"), 0);
  ck_assert_int_ge (ct_test_db_exec (db, drain), 0);
  floor = ct_test_client_request (cl, "POST", path, "floor-1", body, NULL);
  expect_status (floor, 409, "insufficient_balance");
  ck_assert_int_ge (ct_test_db_exec (db, "DROP TRIGGER ct_test_drain ON cards"), 0);
  ck_assert_int_eq (balance_of (card), 11000);

  /* A rule that is no balance floor: the card's spend may not reach 50. */
  ck_assert_int_ge (ct_test_db_exec (db, "ALTER TABLE card_spend ADD CONSTRAINT ct_test_cap CHECK (spend < 50)"), 0);
  rule = ct_test_client_request (cl, "POST", path, "rule-1", body, NULL);
  expect_status (rule, 500, "internal");
  ck_assert_int_ge (ct_test_db_exec (db, "ALTER TABLE card_spend DROP CONSTRAINT ct_test_cap"), 0);
  ck_assert_int_eq (balance_of (card), 11000);

  retried = ct_test_client_request (cl, "POST", path, "floor-1", body, NULL);
  expect_status (retried, 201, NULL);
  ck_assert_ptr_null (ct_test_response_header (retried, "Idempotent-Replayed"));
  ck_assert_int_eq (balance_of (card), 10900);
}
END_TEST

/* The merchant's pool is short: an adjustment's increase or a refund it
 * cannot fund is the pool's refusal, insufficient_pool, however the store
 * finds it: before the write (both stores), or on PostgreSQL by the
 * database's own floor on the pool, in the write itself or in one deferred
 * to the commit (a credit, turned below zero here by a trigger).
 * Nothing is changed by any of them. */
START_TEST (test_service_a_short_pool_is_the_pools_refusal)
{
  g_autofree char *card = issue_card ("Short", NULL);
  g_autoptr(CtTestDb) db = NULL;
  g_autoptr(CtTestResponse) up = NULL, paid = NULL, down = NULL, drawn = NULL, chk = NULL;
  const char *floor_fn = "CREATE FUNCTION ct_test_pool_floor () RETURNS trigger LANGUAGE plpgsql"
                         " AS $$ BEGIN NEW.balance := -1; RETURN NEW; END $$";

  topup (card, "p100");
  g_free (pay (card, 3000, 201));
  up = card_post (card, "adjustments", "{\"delta\":3001,\"reason\":\"gift\"," MGR "}");
  expect_status (up, 409, "insufficient_pool");
  ck_assert_int_eq (balance_of (card), 8000);
  if (!ct_test_store_is_pg ())
    return;

  db = ct_test_db_open (ct_test_service_get_db_path (svc));
  ck_assert_int_ge (ct_test_db_exec (db, floor_fn), 0);
  /* A payment's or a decrease's credit of the pool goes to the database
   * with the commit. */
  ck_assert_int_ge (ct_test_db_exec (db, "CREATE TRIGGER ct_test_pool_credit BEFORE UPDATE OF balance"
                                         " ON account_slots FOR EACH ROW"
                                         " WHEN (NEW.name = '@pool' AND NEW.balance > OLD.balance)"
                                         " EXECUTE FUNCTION ct_test_pool_floor ()"), 0);
  paid = card_post (card, "payments", "{\"amount\":100,\"operator\":\"op\"}");
  expect_status (paid, 409, "insufficient_pool");
  down = card_post (card, "adjustments", "{\"delta\":-100,\"reason\":\"fix\"," MGR "}");
  expect_status (down, 409, "insufficient_pool");
  ck_assert_int_ge (ct_test_db_exec (db, "DROP TRIGGER ct_test_pool_credit ON account_slots"), 0);
  /* An increase drawn on the pool, refused by the floor in the write. */
  ck_assert_int_ge (ct_test_db_exec (db, "CREATE TRIGGER ct_test_pool_debit BEFORE UPDATE OF balance"
                                         " ON account_slots FOR EACH ROW"
                                         " WHEN (NEW.name = '@pool' AND NEW.balance < OLD.balance)"
                                         " EXECUTE FUNCTION ct_test_pool_floor ()"), 0);
  drawn = card_post (card, "adjustments", "{\"delta\":100,\"reason\":\"gift\"," MGR "}");
  expect_status (drawn, 409, "insufficient_pool");
  ck_assert_int_ge (ct_test_db_exec (db, "DROP TRIGGER ct_test_pool_debit ON account_slots"), 0);
  ck_assert_int_eq (balance_of (card), 8000);
  chk = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (chk->body, "pool"), 3000);
}
END_TEST

START_TEST (test_service_payment_moves_money_to_the_pool_and_earns_points)
{
  g_autofree char *card = issue_card ("Pay", NULL);
  g_autoptr(CtTestResponse) r = NULL;

  topup (card, "p100");
  r = card_post (card, "payments", "{\"amount\":2599,\"order_ref\":\"A-1\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), -2599);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), 25);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 25);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 11000 - 2599);
  ck_assert_msg (strstr (r->body, "\"order_ref\":\"A-1\"") != NULL, "%s", r->body);
}
END_TEST

START_TEST (test_service_payment_refusals)
{
  g_autofree char *card = issue_card ("Short", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) zero = NULL, neg = NULL, big = NULL, freeze = NULL, frozen = NULL;

  topup (card, "p100");
  g_free (pay (card, 11001, 409));
  zero = card_post (card, "payments", "{\"amount\":0,\"operator\":\"op\"}");
  neg = card_post (card, "payments", "{\"amount\":-5,\"operator\":\"op\"}");
  big = card_post (card, "payments", "{\"amount\":10000000000001,\"operator\":\"op\"}");
  expect_status (zero, 422, "invalid_amount");
  expect_status (neg, 422, "invalid_amount");
  expect_status (big, 422, "invalid_amount");
  freeze = req ("PATCH", path, "{\"status\":\"frozen\"," MGR "}");
  expect_status (freeze, 200, NULL);
  /* card_frozen comes before insufficient_balance. */
  frozen = card_post (card, "payments", "{\"amount\":99999,\"operator\":\"op\"}");
  expect_status (frozen, 409, "card_frozen");
  ck_assert_int_eq (balance_of (card), 11000);
}
END_TEST

START_TEST (test_service_insufficient_balance_code)
{
  g_autofree char *card = issue_card ("Empty", NULL);
  g_autoptr(CtTestResponse) r = card_post (card, "payments", "{\"amount\":1,\"operator\":\"op\"}");

  expect_status (r, 409, "insufficient_balance");
}
END_TEST

START_TEST (test_service_numbers_must_be_json_integers)
{
  const char *bodies[] = {
    "{\"amount\":12.0,\"operator\":\"op\"}",
    "{\"amount\":1e3,\"operator\":\"op\"}",
    "{\"amount\":\"100\",\"operator\":\"op\"}",
    "{\"amount\":9223372036854775808,\"operator\":\"op\"}",
    "{\"amount\":-9223372036854775809,\"operator\":\"op\"}",
    "{\"amount\":100,\"amount\":1,\"operator\":\"op\"}",
    "{\"amount\":100,\"operator\":\"op\"",
    "{\"amount\":100}",
    "{\"amount\":100,\"operator\":7}",
    "[1,2]",
    "",
    "{\"amount\":0100,\"operator\":\"op\"}",
    "{\"amount\":true,\"operator\":\"op\"}",
    "null",
    " null ",
    "5",
    "\"text\"",
  };
  g_autofree char *card = issue_card ("Types", NULL);

  topup (card, "p200");
  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(CtTestResponse) r = card_post (card, "payments", bodies[i]);
      ck_assert_msg (r->status == 400, "%s -> %ld %s", bodies[i], r->status, r->body);
      expect_status (r, 400, "bad_request");
    }
  ck_assert_int_eq (balance_of (card), 23000);
}
END_TEST

static size_t
discard (char *ptr, size_t size, size_t nmemb, void *data)
{
  return size * nmemb;
}

START_TEST (test_service_check_order_key_then_size_then_body_then_card)
{
  g_autoptr(CtTestResponse) nokey = NULL, badkey = NULL, big = NULL, body_first = NULL;
  gsize n = 8 * 1024 * 1024 + 16;
  g_autofree char *huge = g_malloc (n + 1);

  nokey = ct_test_client_request (cl, "POST", "/v1/cards/NOPE-3/payments", NULL, "{", NULL);
  expect_status (nokey, 400, "idempotency_key_missing");
  badkey = ct_test_client_request (cl, "POST", "/v1/cards/NOPE-3/payments", "has space", "{}", NULL);
  expect_status (badkey, 400, "idempotency_key_missing");
  memset (huge, ' ', n);
  huge[0] = '{';
  huge[n - 1] = '}';
  huge[n] = '\0';
  /* A little over the limit the body is dropped unread, then refused. */
  big = ct_test_client_request_len (cl, "POST", "/v1/cards/NOPE-3/payments", "big-1", huge, 200 * 1024, NULL, NULL);
  ck_assert_ptr_nonnull (big);
  expect_status (big, 413, "payload_too_large");
  /* Far over it the refusal goes out at once and the connection closes:
   * the client reads the 413 or sees its upload cut off. */
  {
    g_autoptr(CtTestResponse) far = NULL;
    g_autoptr(CtTestResponse) after = NULL;
    g_autoptr(GError) error = NULL;

    far = ct_test_client_request_len (cl, "POST", "/v1/cards/NOPE-3/payments", "big-3", huge, n, NULL, &error);
    if (far != NULL)
      expect_status (far, 413, "payload_too_large");
    else
      ck_assert_msg (strstr (error->message, "send") != NULL,
                     "%s", error->message);
    after = req ("GET", "/v1/merchant", NULL);
    expect_status (after, 200, NULL);
  }
  /* A client that waits for "100 Continue" is refused before it sends. */
  {
    CURL *c = curl_easy_init ();
    g_autofree char *url = g_strconcat (ct_test_service_get_url (svc), "/v1/cards/NOPE-3/payments", NULL);
    g_autofree char *auth = g_strconcat ("Authorization: Bearer ", ct_test_service_get_token (svc), NULL);
    struct curl_slist *h = curl_slist_append (NULL, auth);
    long status = 0;

    h = curl_slist_append (h, "Idempotency-Key: big-2");
    h = curl_slist_append (h, "Expect: 100-continue");
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_CAINFO, ct_test_service_get_ca_file (svc));
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, huge);
    curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) n);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, discard);
    ck_assert_int_eq (curl_easy_perform (c), CURLE_OK);
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_int_eq (status, 413);
    curl_slist_free_all (h);
    curl_easy_cleanup (c);
  }
  /* Malformed JSON is reported before the unknown card. */
  body_first = req ("POST", "/v1/cards/NOPE-3/payments", "{\"amount\":1.5,\"operator\":\"op\"}");
  expect_status (body_first, 400, "bad_request");
}
END_TEST

/* A body of @n bytes: @json padded with spaces. */
static char *
padded (const char *json,
        gsize       n)
{
  char *body = g_malloc (n + 1);

  memset (body, ' ', n);
  memcpy (body, json, strlen (json));
  body[n] = '\0';
  return body;
}

START_TEST (test_service_body_limit_is_64_kib_but_8_mib_for_imports)
{
  g_autofree char *card = issue_card ("Cap", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *at_cap = padded ("{\"amount\":1,\"operator\":\"op\"}", 64 * 1024);
  g_autofree char *over = padded ("{\"amount\":1,\"operator\":\"op\"}", 64 * 1024 + 1);
  g_autofree char *import = padded ("{\"batch_id\":\"cap\",\"rows\":[{\"line\":1,\"card_no\":\"X\",\"balance\":0}]," MGR "}", 8 * 1024 * 1024);
  g_autofree char *import_over = padded ("{\"batch_id\":\"cap\",\"rows\":[{\"line\":1,\"card_no\":\"X\",\"balance\":0}]," MGR "}", 8 * 1024 * 1024 + 1);
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
  g_autoptr(GError) error = NULL;

  topup (card, "p100");
  r1 = ct_test_client_request_len (cl, "POST", path, "cap-1", at_cap, 64 * 1024, NULL, NULL);
  ck_assert_ptr_nonnull (r1);
  expect_status (r1, 201, NULL);
  /* One byte over is refused from Content-Length, nothing taken. */
  r2 = ct_test_client_request_len (cl, "POST", path, "cap-2", over, 64 * 1024 + 1, NULL, NULL);
  ck_assert_ptr_nonnull (r2);
  expect_status (r2, 413, "payload_too_large");
  ck_assert_int_eq (balance_of (card), 11000 - 1);
  /* An import may be 8 MiB, and not a byte more. */
  r3 = ct_test_client_request_len (cl, "POST", "/v1/imports", "cap-3", import, 8 * 1024 * 1024, NULL, NULL);
  ck_assert_ptr_nonnull (r3);
  expect_status (r3, 200, NULL);
  r4 = ct_test_client_request_len (cl, "POST", "/v1/imports", "cap-4", import_over, 8 * 1024 * 1024 + 1, NULL, &error);
  ck_assert_msg (r4 != NULL, "%s", error ? error->message : "");
  expect_status (r4, 413, "payload_too_large");
}
END_TEST

/* Refunds */

START_TEST (test_service_refund_of_a_payment_returns_money_and_points)
{
  g_autofree char *card = issue_card ("Ref", NULL);
  g_autofree char *tx = NULL, *body = NULL;
  g_autoptr(CtTestResponse) r = NULL, again = NULL;

  topup (card, "p100");
  tx = pay (card, 5000, 201);
  body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  r = card_post (card, "refunds", body);
  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 5000);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), -50);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 0);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 11000);
  ck_assert_msg (strstr (r->body, "\"manager\":\"m1\"") != NULL, "%s", r->body);
  {
    g_autofree char *ref = ct_test_json_str (r->body, "transaction.refund_of");
    ck_assert_str_eq (ref, tx);
  }
  again = card_post (card, "refunds", body);
  expect_status (again, 409, "already_refunded");
}
END_TEST

START_TEST (test_service_refund_of_a_topup_is_a_void)
{
  g_autofree char *card = issue_card ("Void", NULL);
  g_autoptr(CtTestResponse) t = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  g_autofree char *tx = ct_test_json_str (t->body, "transaction.id");
  g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  g_autoptr(CtTestResponse) r = NULL, chk = NULL;

  expect_status (t, 201, NULL);
  r = card_post (card, "refunds", body);
  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), -11000);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 0);
  chk = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (chk->body, "cash"), 0);
  ck_assert_int_eq (ct_test_json_int (chk->body, "promo"), 0);
}
END_TEST

START_TEST (test_service_void_needs_the_balance_still_there)
{
  g_autofree char *card = issue_card ("Spent", NULL);
  g_autoptr(CtTestResponse) t = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  g_autofree char *tx = ct_test_json_str (t->body, "transaction.id");
  g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  g_autoptr(CtTestResponse) r = NULL;

  g_autoptr(CtTestResponse) chk = NULL;

  g_free (pay (card, 100, 201));
  /* The card gives back the 100.00 and the cash drawer takes it before
   * the 10.00 bonus is refused: nothing of it may stay. */
  r = card_post (card, "refunds", body);
  expect_status (r, 409, "insufficient_balance");
  ck_assert_int_eq (balance_of (card), 10900);
  chk = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (chk->body, "cash"), -10000);
  ck_assert_int_eq (ct_test_json_int (chk->body, "pool"), 100);
}
END_TEST

START_TEST (test_service_refund_of_another_cards_transaction_is_not_found)
{
  g_autofree char *a = issue_card ("A", NULL);
  g_autofree char *b = issue_card ("B", NULL);
  g_autofree char *tx = NULL, *body = NULL;
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL, r3 = NULL;

  topup (a, "p100");
  tx = pay (a, 100, 201);
  body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  r1 = card_post (b, "refunds", body);
  expect_status (r1, 404, "not_found");
  r2 = card_post (a, "refunds", "{\"transaction_id\":\"999999\",\"operator\":\"op\"," MGR "}");
  expect_status (r2, 404, "not_found");
  r3 = card_post (a, "refunds", "{\"transaction_id\":\"abc\",\"operator\":\"op\"," MGR "}");
  expect_status (r3, 404, "not_found");
}
END_TEST

START_TEST (test_service_refund_needs_the_pool_and_credits_a_frozen_card)
{
  g_autofree char *a = issue_card ("PoolA", NULL);
  g_autofree char *b = issue_card ("PoolB", NULL);
  g_autofree char *tx = NULL, *body = NULL, *path = NULL;
  g_autoptr(CtTestResponse) adj = NULL, r1 = NULL, r2 = NULL, r3 = NULL, freeze = NULL;

  topup (a, "p100");
  tx = pay (a, 3000, 201);
  /* The pool's 30.00 goes to B, so the refund has nothing to draw on. */
  adj = card_post (b, "adjustments", "{\"delta\":3000,\"reason\":\"goodwill\"," MGR "}");
  expect_status (adj, 201, NULL);
  body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  r1 = card_post (a, "refunds", body);
  expect_status (r1, 409, "insufficient_pool");
  r2 = card_post (b, "adjustments", "{\"delta\":-3000,\"reason\":\"undo\"," MGR "}");
  expect_status (r2, 201, NULL);
  path = g_strdup_printf ("/v1/cards/%s", a);
  freeze = req ("PATCH", path, "{\"status\":\"frozen\"," MGR "}");
  expect_status (freeze, 200, NULL);
  r3 = card_post (a, "refunds", body);
  expect_status (r3, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r3->body, "card.balance"), 11000);
}
END_TEST

/* Adjustments */

START_TEST (test_service_adjustments_draw_on_the_pool)
{
  g_autofree char *card = issue_card ("Adj", NULL);
  g_autoptr(CtTestResponse) empty_pool = NULL, zero = NULL, down = NULL, up = NULL, over = NULL;

  empty_pool = card_post (card, "adjustments", "{\"delta\":100,\"reason\":\"gift\",\"operator\":\"op\"," MGR "}");
  expect_status (empty_pool, 409, "insufficient_pool");
  zero = card_post (card, "adjustments", "{\"delta\":0,\"reason\":\"none\"," MGR "}");
  expect_status (zero, 422, "invalid_amount");
  over = card_post (card, "adjustments", "{\"delta\":-1,\"reason\":\"take\"," MGR "}");
  expect_status (over, 409, "insufficient_balance");
  topup (card, "p100");
  down = card_post (card, "adjustments", "{\"delta\":-500,\"reason\":\"fix\"," MGR "}");
  expect_status (down, 201, NULL);
  ck_assert_msg (strstr (down->body, "\"reason\":\"fix\"") && strstr (down->body, "\"operator\":null"), "%s", down->body);
  up = card_post (card, "adjustments", "{\"delta\":200,\"reason\":\"back\",\"operator\":\"op\"," MGR "}");
  expect_status (up, 201, NULL);
  ck_assert_int_eq (balance_of (card), 11000 - 500 + 200);
}
END_TEST

/* History */

START_TEST (test_service_history_is_newest_first_with_cursors)
{
  g_autofree char *card = issue_card ("Hist", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/transactions?limit=2", card);
  g_autoptr(CtTestResponse) p1 = NULL, p2 = NULL, all = NULL, bad = NULL, badlimit = NULL;
  g_autofree char *cursor = NULL, *path2 = NULL, *first = NULL;

  topup (card, "p100");
  for (int i = 0; i < 3; i++)
    g_free (pay (card, 100 + i, 201));
  p1 = req ("GET", path, NULL);
  expect_status (p1, 200, NULL);
  first = ct_test_json_str (p1->body, "transactions");
  ck_assert_msg (strstr (p1->body, "\"delta\":-102") < strstr (p1->body, "\"delta\":-101"), "%s", p1->body);
  cursor = ct_test_json_str (p1->body, "next_cursor");
  ck_assert_ptr_nonnull (cursor);
  path2 = g_strdup_printf ("/v1/cards/%s/transactions?limit=2&cursor=%s", card, cursor);
  p2 = req ("GET", path2, NULL);
  expect_status (p2, 200, NULL);
  ck_assert_msg (strstr (p2->body, "\"delta\":-100") && strstr (p2->body, "\"kind\":\"topup\"")
                 && strstr (p2->body, "\"next_cursor\":null"), "%s", p2->body);
  g_free (path);
  path = g_strdup_printf ("/v1/cards/%s/transactions?from=2000-01-01&to=2000-01-02", card);
  all = req ("GET", path, NULL);
  ck_assert_str_eq (all->body, "{\"transactions\":[],\"next_cursor\":null}");
  g_free (path);
  path = g_strdup_printf ("/v1/cards/%s/transactions?from=2020-13-01", card);
  bad = req ("GET", path, NULL);
  expect_status (bad, 400, "bad_request");
  g_free (path);
  path = g_strdup_printf ("/v1/cards/%s/transactions?limit=501", card);
  badlimit = req ("GET", path, NULL);
  expect_status (badlimit, 400, "bad_request");
}
END_TEST

START_TEST (test_service_store_day_lists_and_totals)
{
  g_autofree char *card = issue_card ("Day", NULL);
  g_autoptr(CtTestResponse) r = NULL, other = NULL, bad = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autofree char *today = NULL, *path = NULL;

  topup (card, "p200");
  g_free (pay (card, 700, 201));
  now = g_date_time_new_now (tz);
  today = g_date_time_format (now, "%Y-%m-%d");
  r = req ("GET", "/v1/transactions", NULL);
  expect_status (r, 200, NULL);
  {
    g_autofree char *date = ct_test_json_str (r->body, "date");
    ck_assert_str_eq (date, today);
  }
  ck_assert_msg (strstr (r->body, "\"store\":\"s1\"") != NULL, "%s", r->body);
  ck_assert_msg (strstr (r->body, "\"totals\":{\"count\":2,\"topups\":20000,\"bonus\":3000,\"payments\":700,"
                                  "\"refunds\":0,\"voids\":0,\"void_bonus\":0,\"adjustments\":0,\"imports\":0,")
                 != NULL, "%s", r->body);
  path = g_strdup_printf ("/v1/transactions?date=%s&till=t9", today);
  other = req ("GET", path, NULL);
  ck_assert_msg (strstr (other->body, "\"transactions\":[]") != NULL, "%s", other->body);
  bad = req ("GET", "/v1/transactions?date=yesterday", NULL);
  expect_status (bad, 400, "bad_request");
}
END_TEST

START_TEST (test_service_store_day_pages_with_totals_of_the_whole_day)
{
  g_autofree char *card = issue_card ("Pages", NULL);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cursor = NULL;
  guint pages = 0;

  topup (card, "p200");
  for (int i = 0; i < 5; i++)
    g_free (pay (card, 100 + i, 201));
  /* Six transactions, two a page: three pages, oldest first, each with
   * the totals of the whole day. */
  do
    {
      g_autofree char *path = cursor ? g_strdup_printf ("/v1/transactions?limit=2&cursor=%s", cursor)
                                     : g_strdup ("/v1/transactions?limit=2");
      g_autoptr(CtTestResponse) r = req ("GET", path, NULL);
      json_object *root, *list = NULL;

      expect_status (r, 200, NULL);
      ck_assert_int_eq (ct_test_json_int (r->body, "totals.count"), 6);
      ck_assert_int_eq (ct_test_json_int (r->body, "totals.payments"), 100 + 101 + 102 + 103 + 104);
      root = parse (r->body);
      ck_assert (json_object_object_get_ex (root, "transactions", &list));
      ck_assert_int_le (json_object_array_length (list), 2);
      for (gsize i = 0; i < json_object_array_length (list); i++)
        {
          json_object *id = NULL;

          ck_assert (json_object_object_get_ex (json_object_array_get_idx (list, i), "id", &id));
          g_ptr_array_add (seen, g_strdup (json_object_get_string (id)));
        }
      json_object_put (root);
      g_clear_pointer (&cursor, g_free);
      cursor = ct_test_json_str (r->body, "next_cursor");
      pages++;
    }
  while (cursor != NULL && pages < 10);
  ck_assert_uint_eq (pages, 3);
  ck_assert_uint_eq (seen->len, 6);
  for (guint i = 1; i < seen->len; i++)
    ck_assert (g_ascii_strtoll (seen->pdata[i - 1], NULL, 10) < g_ascii_strtoll (seen->pdata[i], NULL, 10));
  {
    g_autoptr(CtTestResponse) bad = req ("GET", "/v1/transactions?limit=501", NULL);
    g_autoptr(CtTestResponse) bad_cursor = req ("GET", "/v1/transactions?cursor=x", NULL);

    expect_status (bad, 400, "bad_request");
    expect_status (bad_cursor, 400, "bad_request");
  }
}
END_TEST

/* A payment of @amount on @card by the till holding @token. */
static void
pay_as (const char *token,
        const char *card,
        int64_t     amount)
{
  g_autoptr(CtTestClient) c = ct_test_client_new_for_token (svc, token);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *key = g_strdup_printf ("as-%u", ++key_counter);
  g_autofree char *body = g_strdup_printf ("{\"amount\":%" G_GINT64_FORMAT ",\"operator\":\"op\"}", amount);
  g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key, body, NULL);

  ck_assert_msg (r != NULL && r->status == 201, "%s", r ? r->body : "no answer");
}

static char *
add_till (const char *store_name,
          const char *name)
{
  g_autofree char *out = NULL;
  char *nl;

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "add", "--store", store_name, "--name", name, NULL), 0);
  g_strstrip (out);
  nl = strrchr (out, '\n');
  return g_strdup (nl ? nl + 1 : out);
}

/* A payment by @c with @key: its status. */
static long
pay_on (CtTestClient *c,
        const char   *card,
        const char   *key)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key, "{\"amount\":100,\"operator\":\"op\"}",
                                                        NULL);

  ck_assert (r != NULL);
  return r->status;
}

/* A till's writes take the till from a cache of tokens; a new token or a
 * revoke, made by the admin command in another process, still stops the
 * next write, even on the connection that paid a moment before. */
START_TEST (test_service_a_till_changed_by_another_process_writes_no_more)
{
  g_autofree char *card = issue_card ("Cached", NULL);
  g_autofree char *old = add_till ("s1", "t5");
  g_autofree char *out = NULL;
  g_autoptr(CtTestClient) c_old = ct_test_client_new_for_token (svc, old);
  g_autoptr(CtTestClient) c_new = NULL;
  g_auto(GStrv) lines = NULL;
  int64_t before;

  topup (card, "p200");
  before = balance_of (card);
  ck_assert_int_eq (pay_on (c_old, card, "cache-1"), 201);
  ck_assert_int_eq (pay_on (c_old, card, "cache-2"), 201); /* from the cache */

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "token", "--store", "s1", "--name", "t5", NULL), 0);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  c_new = ct_test_client_new_for_token (svc, lines[g_strv_length (lines) - 1]);
  ck_assert_int_eq (pay_on (c_old, card, "cache-3"), 401);
  ck_assert_int_eq (pay_on (c_new, card, "cache-4"), 201);
  ck_assert_int_eq (pay_on (c_new, card, "cache-5"), 201);

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "till", "revoke", "--store", "s1", "--name", "t5", NULL), 0);
  ck_assert_int_eq (pay_on (c_new, card, "cache-6"), 401);
  ck_assert_int_eq (pay_on (c_old, card, "cache-7"), 401);
  /* The write that found the till revoked took its token out of the
   * cache: a request without a key, refused before it reaches a write, is
   * refused for its token first (401 comes before every other check). */
  ck_assert_int_eq (pay_on (c_new, card, NULL), 401);
  ck_assert_int_eq (pay_on (c_old, card, NULL), 401);
  ck_assert_int_eq (balance_of (card), before - 400);
}
END_TEST

START_TEST (test_service_day_report_per_store_and_till)
{
  g_autofree char *card = issue_card ("Report", NULL);
  g_autofree char *t2 = add_till ("s1", "t2");
  g_autofree char *east = add_till ("s2", "t1");
  g_autoptr(CtTestResponse) r = NULL, bad = NULL;
  json_object *root, *stores = NULL, *s1 = NULL, *tills = NULL;

  topup (card, "p200");
  g_free (pay (card, 300, 201));
  pay_as (t2, card, 200);
  pay_as (east, card, 50);
  pay_as (east, card, 25);
  r = req ("GET", "/v1/reports/day", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.payments"), 575);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.topups"), 20000);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.count"), 5);
  root = parse (r->body);
  ck_assert (json_object_object_get_ex (root, "stores", &stores));
  ck_assert_int_eq (json_object_array_length (stores), 2);
  s1 = json_object_array_get_idx (stores, 0);
  ck_assert_str_eq (json_object_get_string (json_object_object_get (s1, "store")), "s1");
  ck_assert_int_eq (json_object_get_int64 (json_object_object_get (json_object_object_get (s1, "totals"),
                                                                   "payments")), 500);
  ck_assert (json_object_object_get_ex (s1, "tills", &tills));
  ck_assert_int_eq (json_object_array_length (tills), 2);
  ck_assert_str_eq (json_object_get_string (json_object_object_get (json_object_array_get_idx (tills, 1),
                                                                    "till")), "t2");
  ck_assert_int_eq (json_object_get_int64 (json_object_object_get (
                      json_object_object_get (json_object_array_get_idx (tills, 1), "totals"), "payments")), 200);
  ck_assert_int_eq (json_object_get_int64 (json_object_object_get (
                      json_object_object_get (json_object_array_get_idx (stores, 1), "totals"), "payments")), 75);
  json_object_put (root);
  /* Another store's page is there too, by name. */
  {
    g_autoptr(CtTestResponse) other = req ("GET", "/v1/transactions?store=s2", NULL);

    expect_status (other, 200, NULL);
    ck_assert_int_eq (ct_test_json_int (other->body, "totals.count"), 2);
  }
  bad = req ("GET", "/v1/reports/day?date=2026-13-40", NULL);
  expect_status (bad, 400, "bad_request");
}
END_TEST

/* Idempotency */

START_TEST (test_service_replay_is_byte_identical_and_marked)
{
  g_autofree char *card = issue_card ("Idem", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
  g_autoptr(GError) error = NULL;

  topup (card, "p100");
  r1 = ct_test_client_request (cl, "POST", path, "pay-1", "{\"amount\":300,\"operator\":\"op\"}", NULL);
  r2 = ct_test_client_request (cl, "POST", path, "pay-1", "{\"amount\":300,\"operator\":\"op\"}", NULL);
  expect_status (r1, 201, NULL);
  expect_status (r2, 201, NULL);
  ck_assert_str_eq (r1->body, r2->body);
  ck_assert_ptr_null (ct_test_response_header (r1, "Idempotent-Replayed"));
  ck_assert_str_eq (ct_test_response_header (r2, "Idempotent-Replayed"), "true");
  ck_assert_int_eq (balance_of (card), 11000 - 300);
  /* The same key with other bytes (even a space) is another intent. */
  r3 = ct_test_client_request (cl, "POST", path, "pay-1", "{\"amount\":300, \"operator\":\"op\"}", NULL);
  expect_status (r3, 422, "idempotency_key_reused");
  /* ... and so is the same key on another path. */
  g_free (path);
  path = g_strdup_printf ("/v1/cards/%s/topups", card);
  r4 = ct_test_client_request (cl, "POST", path, "pay-1", "{\"amount\":300,\"operator\":\"op\"}", NULL);
  expect_status (r4, 422, "idempotency_key_reused");
}
END_TEST

/* The stored identity of @key (hex), read behind the service. */
static char *
stored_identity (const char *key)
{
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autofree char *sql = g_strdup_printf (ct_test_store_is_pg ()
                                          ? "SELECT encode(hash, 'hex') FROM idempotency WHERE key = '%s'"
                                          : "SELECT lower(hex(hash)) FROM idempotency WHERE key = '%s'", key);
  g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

  ck_assert_msg (rows != NULL && rows->len == 1, "no stored identity for %s", key);
  return g_strdup (((char **) rows->pdata[0])[0]);
}

/* What the identity was before PINs were left out of it: the SHA-256 of
 * method, path and every byte of the body. */
static char *
identity_with_the_pins (const char *path,
                        const char *body)
{
  g_autofree char *text = g_strdup_printf ("POST\n%s\n%s", path, body);

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

/* No stored text of the database holds @pin: the stored answers, the audit
 * log, the card events; and, on SQLite, no byte of its files. */
static void
assert_pin_is_not_stored (const char *pin)
{
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  const char *tables[][2] = { { "idempotency", "body" }, { "audit", "detail" }, { "card_events", "detail" } };

  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s WHERE %s LIKE '%%%s%%'",
                                              tables[i][0], tables[i][1], pin);
      g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

      ck_assert (rows != NULL && rows->len == 1);
      ck_assert_msg (g_str_equal (((char **) rows->pdata[0])[0], "0"), "%s holds the PIN %s", tables[i][0], pin);
    }
  if (!ct_test_store_is_pg ())
    {
      const char *suffixes[] = { "", "-wal", "-journal" };

      for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (ct_test_service_get_db_path (svc), suffixes[i], NULL);
          g_autofree char *bytes = NULL;
          gsize len = 0;

          if (!g_file_get_contents (file, &bytes, &len, NULL))
            continue;
          for (gsize at = 0; at + strlen (pin) <= len; at++)
            ck_assert_msg (memcmp (bytes + at, pin, strlen (pin)) != 0, "%s holds the PIN %s at byte %"
                           G_GSIZE_FORMAT, file, pin, at);
        }
    }
}

/* A stored identity never derives from a PIN (a hash of a body with a
 * short PIN in it gives the PIN away), so a retry whose PIN was typed
 * again, right or wrong, is the same request: the stored answer, no
 * conflict and nothing done twice. Any other byte still makes it
 * another request. */
START_TEST (test_service_pins_stay_out_of_the_request_identity)
{
  g_autofree char *card = issue_card ("Pin", NULL);
  g_autofree char *pay_path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *pin_path = g_strdup_printf ("/v1/cards/%s/member-pin", card);
  g_autofree char *cashier = cashier_pin_file ("570314");
  const char *set = "{\"member_pin\":\"918273\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}";
  const char *set_again = "{\"member_pin\":\"918273\",\"manager\":{\"id\":\"m1\",\"pin\":\"999999\"}}";
  const char *set_other = "{\"member_pin\":\"527361\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}";
  const char *paid = "{\"amount\":300,\"member_pin\":\"918273\",\"operator\":\"op\"}";
  const char *paid_again = "{\"amount\":300,\"member_pin\":\"111111\",\"operator\":\"op\"}";
  const char *paid_wrong = "{\"amount\":300,\"member_pin\":\"444444\",\"operator\":\"op\"}";
  const char *paid_more = "{\"amount\":301,\"member_pin\":\"918273\",\"operator\":\"op\"}";
  const char *signed_in = "{\"cashier\":\"c5\",\"pin\":\"570314\"}";
  const char *signed_in_again = "{\"cashier\":\"c5\",\"pin\":\"000000\"}";
  g_autoptr(CtTestResponse) s1 = NULL, s2 = NULL, s3 = NULL, p1 = NULL, p2 = NULL, w1 = NULL, m1 = NULL, c1 = NULL, c2 = NULL;
  g_autofree char *id_pay = NULL, *id_wrong = NULL, *id_set = NULL, *id_sign = NULL;
  g_autofree char *old_pay = NULL, *old_set = NULL, *old_sign = NULL;

  topup (card, "p100");
  s1 = ct_test_client_request (cl, "POST", pin_path, "pin-set", set, NULL);
  expect_status (s1, 200, NULL);
  /* The manager's PIN typed again (wrongly): the stored answer, and no
   * wrong PIN counted. */
  s2 = ct_test_client_request (cl, "POST", pin_path, "pin-set", set_again, NULL);
  expect_status (s2, 200, NULL);
  ck_assert_str_eq (s1->body, s2->body);
  ck_assert_str_eq (ct_test_response_header (s2, "Idempotent-Replayed"), "true");
  /* Another new PIN under the same key is another request: the member's
   * PIN is what it stores, not who asks. */
  s3 = ct_test_client_request (cl, "POST", pin_path, "pin-set", set_other, NULL);
  expect_status (s3, 422, "idempotency_key_reused");

  p1 = ct_test_client_request (cl, "POST", pay_path, "pin-pay", paid, NULL);
  expect_status (p1, 201, NULL);
  p2 = ct_test_client_request (cl, "POST", pay_path, "pin-pay", paid_again, NULL);
  expect_status (p2, 201, NULL);
  ck_assert_str_eq (p1->body, p2->body);
  ck_assert_str_eq (ct_test_response_header (p2, "Idempotent-Replayed"), "true");
  ck_assert_int_eq (balance_of (card), 11000 - 300);
  /* Another amount with the same key is another intent. */
  m1 = ct_test_client_request (cl, "POST", pay_path, "pin-pay", paid_more, NULL);
  expect_status (m1, 422, "idempotency_key_reused");
  /* A wrong member PIN under a new key is refused and stored, under the
   * identity of the right one. */
  w1 = ct_test_client_request (cl, "POST", pay_path, "pin-wrong", paid_wrong, NULL);
  expect_status (w1, 403, "member_pin_wrong");
  ck_assert_int_eq (balance_of (card), 11000 - 300);

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "cashier", "add", "--id", "c5", "--name", "Lin",
                                           "--pin-file", cashier, NULL), 0);
  c1 = ct_test_client_request (cl, "POST", "/v1/cashiers/sign-in", "pin-sign", signed_in, NULL);
  expect_status (c1, 200, NULL);
  c2 = ct_test_client_request (cl, "POST", "/v1/cashiers/sign-in", "pin-sign", signed_in_again, NULL);
  expect_status (c2, 200, NULL);
  ck_assert_str_eq (c1->body, c2->body);
  ck_assert_str_eq (ct_test_response_header (c2, "Idempotent-Replayed"), "true");

  id_pay = stored_identity ("pin-pay");
  id_wrong = stored_identity ("pin-wrong");
  id_set = stored_identity ("pin-set");
  id_sign = stored_identity ("pin-sign");
  old_pay = identity_with_the_pins (pay_path, paid);
  old_set = identity_with_the_pins (pin_path, set);
  old_sign = identity_with_the_pins ("/v1/cashiers/sign-in", signed_in);
  ck_assert_str_eq (id_pay, id_wrong);
  ck_assert_str_ne (id_pay, old_pay);
  ck_assert_str_ne (id_set, old_set);
  ck_assert_str_ne (id_sign, old_sign);

  assert_pin_is_not_stored ("918273");
  assert_pin_is_not_stored ("527361");
  assert_pin_is_not_stored ("444444");
  assert_pin_is_not_stored ("246813");
  assert_pin_is_not_stored ("570314");
}
END_TEST

START_TEST (test_service_stored_refusals_replay_but_unstored_do_not)
{
  g_autofree char *card = issue_card ("Refusal", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  const char *body = "{\"amount\":500,\"operator\":\"op\"}";
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL, bad1 = NULL, bad2 = NULL;

  r1 = ct_test_client_request (cl, "POST", path, "short-1", body, NULL);
  expect_status (r1, 409, "insufficient_balance");
  topup (card, "p100");
  /* The refusal was stored with the key: the retry gets it back, and the
   * money that arrived since is not spent by an old intent. */
  r2 = ct_test_client_request (cl, "POST", path, "short-1", body, NULL);
  expect_status (r2, 409, "insufficient_balance");
  ck_assert_str_eq (r1->body, r2->body);
  ck_assert_str_eq (ct_test_response_header (r2, "Idempotent-Replayed"), "true");
  ck_assert_int_eq (balance_of (card), 11000);
  bad1 = ct_test_client_request (cl, "POST", path, "bad-1", "{\"amount\":5.0}", NULL);
  bad2 = ct_test_client_request (cl, "POST", path, "bad-1", "{\"amount\":5.0}", NULL);
  expect_status (bad2, 400, "bad_request");
  ck_assert_str_eq (ct_test_response_header (bad2, "Idempotent-Replayed"), "true");
  ck_assert_str_eq (bad1->body, bad2->body);
}
END_TEST

START_TEST (test_service_unstored_answers_leave_the_key_free)
{
  g_autofree char *card = issue_card ("Free", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autoptr(CtTestClient) wrong = ct_test_client_new_for_token (svc, "nope");
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL;

  topup (card, "p100");
  r1 = ct_test_client_request (wrong, "POST", path, "free-1", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  expect_status (r1, 401, "unauthorized");
  r2 = ct_test_client_request (cl, "POST", path, "free-1", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  expect_status (r2, 201, NULL);
  ck_assert_ptr_null (ct_test_response_header (r2, "Idempotent-Replayed"));
}
END_TEST

START_TEST (test_service_keys_are_scoped_to_the_till)
{
  g_autofree char *card = issue_card ("Scope", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *out = NULL, *out2 = NULL;
  g_auto(GStrv) lines = NULL, lines2 = NULL;
  g_autoptr(CtTestClient) other = NULL, reissued = NULL;
  g_autoptr(CtTestResponse) r1 = NULL, r2 = NULL, r3 = NULL;

  topup (card, "p100");
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "add", "--store", "s1", "--name", "t2", NULL), 0);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  other = ct_test_client_new_for_token (svc, lines[g_strv_length (lines) - 1]);
  r1 = ct_test_client_request (cl, "POST", path, "same", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  r2 = ct_test_client_request (other, "POST", path, "same", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  expect_status (r1, 201, NULL);
  expect_status (r2, 201, NULL);
  ck_assert_ptr_null (ct_test_response_header (r2, "Idempotent-Replayed"));
  ck_assert_int_eq (balance_of (card), 10800);
  /* A reissued token keeps the till's keys. */
  ck_assert_int_eq (ct_test_service_admin (svc, &out2, "till", "token", "--store", "s1", "--name", "t2", NULL), 0);
  lines2 = g_strsplit (g_strstrip (out2), "\n", -1);
  reissued = ct_test_client_new_for_token (svc, lines2[g_strv_length (lines2) - 1]);
  r3 = ct_test_client_request (reissued, "POST", path, "same", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  expect_status (r3, 201, NULL);
  ck_assert_str_eq (ct_test_response_header (r3, "Idempotent-Replayed"), "true");
  ck_assert_int_eq (balance_of (card), 10800);
}
END_TEST

typedef struct
{
  CtTestService  *svc;
  char           *path;
  CtTestResponse *resp;
} Slow;

static gpointer
slow_request (gpointer data)
{
  Slow *s = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (s->svc);

  s->resp = ct_test_client_request (c, "POST", s->path, "slow-1", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  return NULL;
}

START_TEST (test_service_retry_while_running_is_request_in_progress)
{
  g_autofree char *card = issue_card ("Slow", NULL);
  Slow s = { svc, g_strdup_printf ("/v1/cards/%s/payments", card), NULL };
  g_autoptr(CtTestResponse) r = NULL;
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  GThread *t;

  topup (card, "p100");
  /* Holding the database's write locks keeps the first request in flight. */
  ct_test_db_hold_writes (db);
  t = g_thread_new ("slow", slow_request, &s);
  ck_assert_msg (ct_test_service_wait_for_held_writes (svc, 1), "the first request never reached the service");
  r = ct_test_client_request (cl, "POST", s.path, "slow-1", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  expect_status (r, 409, "request_in_progress");
  ct_test_db_release (db);
  g_thread_join (t);
  ck_assert_ptr_nonnull (s.resp);
  expect_status (s.resp, 201, NULL);
  ct_test_response_free (s.resp);
  g_free (s.path);
  ck_assert_int_eq (balance_of (card), 10900);
}
END_TEST

START_TEST (test_service_dates_follow_the_merchant_time_zone)
{
  g_autofree char *card = issue_card ("Zone", NULL);
  g_autoptr(GTimeZone) east = g_time_zone_new_identifier ("Pacific/Kiritimati");
  g_autoptr(GTimeZone) west = g_time_zone_new_identifier ("Pacific/Pago_Pago");
  g_autoptr(GDateTime) now_east = g_date_time_new_now (east);
  g_autoptr(GDateTime) now_west = g_date_time_new_now (west);
  g_autofree char *day_east = g_date_time_format (now_east, "%Y-%m-%d");
  g_autofree char *day_west = g_date_time_format (now_west, "%Y-%m-%d");
  g_autofree char *p_east = g_strdup_printf ("/v1/transactions?date=%s", day_east);
  g_autofree char *p_west = g_strdup_printf ("/v1/transactions?date=%s", day_west);
  g_autoptr(CtTestResponse) e1 = NULL, w1 = NULL, def = NULL, w2 = NULL;

  /* UTC+14 and UTC-11 are 25 hours apart: never the same date. */
  ck_assert_str_ne (day_east, day_west);
  topup (card, "p100");
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--timezone", "Pacific/Kiritimati", NULL), 0);
  e1 = req ("GET", p_east, NULL);
  w1 = req ("GET", p_west, NULL);
  def = req ("GET", "/v1/transactions", NULL);
  ck_assert_msg (strstr (e1->body, card) != NULL, "%s", e1->body);
  ck_assert_msg (strstr (w1->body, card) == NULL, "%s", w1->body);
  ck_assert_msg (strstr (def->body, day_east) != NULL, "%s", def->body);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--timezone", "Pacific/Pago_Pago", NULL), 0);
  w2 = req ("GET", p_west, NULL);
  ck_assert_msg (strstr (w2->body, card) != NULL, "%s", w2->body);
}
END_TEST

static void
age_key (const char *key,
         int         days)
{
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autofree char *sql = g_strdup_printf ("UPDATE idempotency SET created_at = created_at - %" G_GINT64_FORMAT
                                          " WHERE key = '%s'", (int64_t) days * 86400000, key);

  ck_assert_int_eq (ct_test_db_exec (db, sql), 1);
}

START_TEST (test_service_keys_are_kept_at_least_thirty_days)
{
  g_autofree char *card = issue_card ("Old", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  const char *body = "{\"amount\":100,\"operator\":\"op\"}";
  g_autoptr(CtTestResponse) a1 = NULL, b1 = NULL, a2 = NULL, b2 = NULL;

  topup (card, "p100");
  a1 = ct_test_client_request (cl, "POST", path, "aged-31", body, NULL);
  b1 = ct_test_client_request (cl, "POST", path, "aged-40", body, NULL);
  expect_status (a1, 201, NULL);
  expect_status (b1, 201, NULL);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  age_key ("aged-31", 31);
  age_key ("aged-40", 40);
  ck_assert (ct_test_service_restart (svc, NULL));
  ct_test_client_free (cl);
  cl = ct_test_client_new (svc);
  /* Expiry runs with the first write after a start. */
  g_free (pay (card, 1, 201));
  a2 = ct_test_client_request (cl, "POST", path, "aged-31", body, NULL);
  expect_status (a2, 201, NULL);
  ck_assert_str_eq (ct_test_response_header (a2, "Idempotent-Replayed"), "true");
  ck_assert_str_eq (a1->body, a2->body);
  /* Past the retention the key is forgotten: the same bytes are a new payment. */
  b2 = ct_test_client_request (cl, "POST", path, "aged-40", body, NULL);
  expect_status (b2, 201, NULL);
  ck_assert_ptr_null (ct_test_response_header (b2, "Idempotent-Replayed"));
  ck_assert_int_eq (balance_of (card), 11000 - 100 - 100 - 1 - 100);
}
END_TEST

/* Rate limit */

START_TEST (test_service_rate_limit_answers_429_with_retry_after)
{
  const char *args[] = { "--rate-limit", "3", NULL };
  g_autoptr(GError) error = NULL;
  CtTestService *limited = ct_test_service_start_full (TRUE, args, &error);
  g_autoptr(CtTestClient) c = NULL;
  gboolean seen = FALSE;

  ck_assert_msg (limited != NULL, "%s", error ? error->message : "");
  c = ct_test_client_new (limited);
  for (int i = 0; i < 10 && !seen; i++)
    {
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);
      if (r->status == 429)
        {
          expect_status (r, 429, "rate_limited");
          ck_assert_ptr_nonnull (ct_test_response_header (r, "Retry-After"));
          seen = TRUE;
        }
    }
  ck_assert (seen);
  g_clear_pointer (&c, ct_test_client_free);
  ct_test_service_free (limited);
}
END_TEST

/* Transport and command line */

START_TEST (test_service_plain_http_only_on_loopback)
{
  g_autofree char *out = NULL;
  int status = ct_test_service_admin (svc, &out, "serve", "--listen", "0.0.0.0:0", "--insecure-http", NULL);

  ck_assert_int_ne (status, 0);
}
END_TEST

START_TEST (test_service_sigterm_shuts_down_cleanly)
{
  g_autofree char *card = issue_card ("Term", NULL);

  topup (card, "p100");
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  /* SIGINT (Ctrl+C in a terminal) stops it the same way. */
  ck_assert (ct_test_service_restart (svc, NULL));
  ck_assert_int_eq (ct_test_service_stop_with_signal (svc, SIGINT), 0);
  ck_assert (ct_test_service_restart (svc, NULL));
  ct_test_client_free (cl);
  cl = ct_test_client_new (svc);
  ck_assert_int_eq (balance_of (card), 11000);
}
END_TEST

START_TEST (test_service_second_serve_on_the_same_database_is_refused)
{
  g_autofree char *out = NULL;
  int status = ct_test_service_admin (svc, &out, "serve", "--listen", "127.0.0.1:0", "--insecure-http", NULL);

  ck_assert_int_eq (status, 4);
}
END_TEST

START_TEST (test_service_requests_share_one_keep_alive_connection)
{
  g_autofree char *card = issue_card ("Keep", NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);

  topup (card, "p100");
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
      g_autofree char *key = g_strdup_printf ("keep-%d", i);
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key,
                                                            "{\"amount\":1,\"operator\":\"op\"}", NULL);
      g_autoptr(CtTestResponse) g = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);
      expect_status (r, 201, NULL);
      expect_status (g, 200, NULL);
    }
  ck_assert_uint_eq (ct_test_client_get_connects (c), 1);
}
END_TEST

START_TEST (test_service_database_failure_is_500_and_not_stored)
{
  const char *args[] = { "--busy-timeout", "200", NULL };
  g_autoptr(GError) error = NULL;
  CtTestService *other = ct_test_service_start_full (TRUE, args, &error);
  g_autoptr(CtTestClient) c = NULL;
  g_autoptr(CtTestResponse) issued = NULL, failed = NULL, retried = NULL;
  g_autofree char *card = NULL, *path = NULL;
  g_autoptr(CtTestDb) db = NULL;

  ck_assert_msg (other != NULL, "%s", error ? error->message : "");
  c = ct_test_client_new (other);
  issued = ct_test_client_request (c, "POST", "/v1/cards", "i-1",
                                   "{\"member\":{\"name\":\"Busy\"},\"operator\":\"op\"," MGR "}", NULL);
  expect_status (issued, 201, NULL);
  card = ct_test_json_str (issued->body, "card_no");
  path = g_strdup_printf ("/v1/cards/%s/topups", card);
  /* Another connection holds the write lock longer than the service waits. */
  db = ct_test_db_open (ct_test_service_get_db_path (other));
  ct_test_db_hold_writes (db);
  failed = ct_test_client_request (c, "POST", path, "t-1", "{\"package_id\":\"p100\",\"operator\":\"op\"}", NULL);
  expect_status (failed, 500, "internal");
  ct_test_db_release (db);
  /* A 5xx is not kept with the key: the retry runs for real, once. */
  retried = ct_test_client_request (c, "POST", path, "t-1", "{\"package_id\":\"p100\",\"operator\":\"op\"}", NULL);
  expect_status (retried, 201, NULL);
  ck_assert_ptr_null (ct_test_response_header (retried, "Idempotent-Replayed"));
  ck_assert_int_eq (ct_test_json_int (retried->body, "card.balance"), 11000);
  g_clear_pointer (&c, ct_test_client_free);
  ct_test_service_free (other);
}
END_TEST

typedef struct
{
  CtTestService  *svc;
  char           *path;
  CtTestResponse *resp;
} InFlight;

static gpointer
in_flight_request (gpointer data)
{
  InFlight *f = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (f->svc);

  f->resp = ct_test_client_request (c, "POST", f->path, "flight-1", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  return NULL;
}

START_TEST (test_service_sigterm_finishes_the_request_in_flight)
{
  g_autofree char *card = issue_card ("Flight", NULL);
  InFlight f = { svc, NULL, NULL };
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  GThread *t;

  topup (card, "p100");
  f.path = g_strdup_printf ("/v1/cards/%s/payments", card);
  ct_test_db_hold_writes (db);
  t = g_thread_new ("flight", in_flight_request, &f);
  ck_assert_msg (ct_test_service_wait_for_held_writes (svc, 1), "the request never reached the service");
  kill (ct_test_service_get_pid (svc), SIGTERM);
  /* Released before or after the service saw the signal, the request
   * taken is finished either way. */
  ct_test_db_release (db);
  g_thread_join (t);
  ck_assert_ptr_nonnull (f.resp);
  expect_status (f.resp, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (f.resp->body, "card.balance"), 10900);
  ct_test_response_free (f.resp);
  g_free (f.path);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  /* Back up for the teardown's ledger check. */
  ck_assert (ct_test_service_restart (svc, NULL));
  ct_test_client_free (cl);
  cl = ct_test_client_new (svc);
  ck_assert_int_eq (balance_of (card), 10900);
}
END_TEST

static long
health_with_pin (const char *pin)
{
  CURL *c = curl_easy_init ();
  g_autofree char *url = g_strconcat (ct_test_service_get_url (svc), "/v1/health", NULL);
  long status = 0;
  CURLcode rc;

  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_CAINFO, ct_test_service_get_ca_file (svc));
  curl_easy_setopt (c, CURLOPT_PINNEDPUBLICKEY, pin);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, discard);
  rc = curl_easy_perform (c);
  if (rc == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (c);
  return rc == CURLE_OK ? status : -(long) rc;
}

START_TEST (test_service_gen_cert_pin_matches_the_served_key)
{
  const char *pin = ct_test_service_get_pin_pubkey (svc);

  ck_assert (g_str_has_prefix (pin, "sha256//"));
  ck_assert_int_eq (health_with_pin (pin), 200);
  ck_assert_int_eq (health_with_pin ("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), -(long) CURLE_SSL_PINNEDPUBKEYNOTMATCH);
}
END_TEST

START_TEST (test_service_insecure_http_on_loopback_for_tests)
{
  g_autoptr(GError) error = NULL;
  CtTestService *plain = ct_test_service_start (FALSE, &error);
  g_autoptr(CtTestClient) c = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  ck_assert_msg (plain != NULL, "%s", error ? error->message : "");
  ck_assert (g_str_has_prefix (ct_test_service_get_url (plain), "http://127.0.0.1:"));
  c = ct_test_client_new (plain);
  r = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);
  expect_status (r, 200, NULL);
  g_clear_pointer (&c, ct_test_client_free);
  ct_test_service_free (plain);
}
END_TEST

START_TEST (test_service_ledger_check_command_finds_tampering)
{
  g_autofree char *card = issue_card ("Audit", NULL);
  g_autofree char *out = NULL, *out2 = NULL, *sql = NULL, *undo = NULL;
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));

  topup (card, "p200");
  g_free (pay (card, 1234, 201));
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "ledger", "check", NULL), 0);
  ck_assert_msg (strstr (out, "cards: 217.66\n") && strstr (out, "pool: 12.34\n") && strstr (out, "sum: 0.00\n")
                 && strstr (out, "\nbalanced\n"), "%s", out);
  /* A balance changed behind the ledger's back is found. */
  sql = g_strdup_printf ("UPDATE cards SET balance = balance + 1 WHERE card_no = '%s'", card);
  undo = g_strdup_printf ("UPDATE cards SET balance = balance - 1 WHERE card_no = '%s'", card);
  ck_assert_int_eq (ct_test_db_exec (db, sql), 1);
  ck_assert_int_eq (ct_test_service_admin (svc, &out2, "ledger", "check", NULL), 2);
  ck_assert_msg (strstr (out2, "NOT BALANCED") != NULL, "%s", out2);
  ck_assert_int_eq (ct_test_db_exec (db, undo), 1);
}
END_TEST

/* Removes a SQLite database with its WAL files. */
static void
unlink_database (const char *db)
{
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);

  g_unlink (db);
  g_unlink (wal);
  g_unlink (shm);
}

START_TEST (test_service_cli_exit_codes)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "x.db", NULL);
  g_autofree char *cert = g_build_filename (dir, "c.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "k.pem", NULL);
  g_autofree char *out = NULL;
  g_autofree char *pin = NULL;
  const char *bin = ct_test_service_get_binary ();
  int st;
  struct stat sb;

#define RUN(...) ({ const char *argv_[] = { bin, __VA_ARGS__, NULL }; int ws_ = 0; \
                    g_clear_pointer (&out, g_free); \
                    ck_assert (g_spawn_sync (NULL, (char **) argv_, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &ws_, NULL)); \
                    WEXITSTATUS (ws_); })
  ck_assert_int_eq (RUN ("frobnicate"), 1);
  ck_assert_int_eq (RUN ("init", "--db", db), 1);
  ck_assert_int_eq (RUN ("init", "--db", db, "--merchant-name", "X", "--topup-min", "1.234"), 1);
  ck_assert_int_eq (RUN ("init", "--db", db, "--merchant-name", "X", "--timezone", "Mars/Base"), 1);
  ck_assert_int_eq (RUN ("till", "add", "--db", db, "--store", "s", "--name", "t"), 2);
  ck_assert_int_eq (RUN ("init", "--db", db, "--merchant-name", "X", "--topup-mode", "any"), 0);
  ck_assert_int_eq (RUN ("init", "--db", db, "--merchant-name", "X"), 2);
  ck_assert_int_eq (RUN ("till", "add", "--db", db, "--store", "s", "--name", "t"), 0);
  ck_assert_int_eq (strlen (g_strstrip (strrchr (g_strstrip (out), '\n') + 1)), 43);
  ck_assert_int_eq (RUN ("till", "add", "--db", db, "--store", "s", "--name", "t"), 2);
  ck_assert_int_eq (RUN ("till", "revoke", "--db", db, "--store", "s", "--name", "nope"), 2);
  ck_assert_int_eq (RUN ("package", "add", "--db", db, "--id", "p", "--amount", "10.00", "--bonus", "1.00", "--bonus-bp", "5"), 1);
  ck_assert_int_eq (RUN ("package", "remove", "--db", db, "--id", "nope"), 2);
  ck_assert_int_eq (RUN ("manager", "add", "--db", db, "--id", "m", "--pin-file", "/nonexistent/pin"), 4);
  pin = g_build_filename (dir, "pin", NULL);
  g_file_set_contents (pin, "12\n", -1, NULL);
  ck_assert_int_eq (RUN ("manager", "add", "--db", db, "--id", "m", "--pin-file", pin), 1);
  ck_assert_int_eq (RUN ("merchant", "set", "--db", db, "--topup-max", "5.00", "--topup-min", "1.00"), 0);
  ck_assert_int_eq (RUN ("merchant", "show", "--db", db), 0);
  ck_assert_msg (strstr (out, "top-up range: 1.00 to 5.00") != NULL, "%s", out);
  st = RUN ("gen-cert", "--cert", cert, "--key", key, "--ip", "127.0.0.1", "--days", "10");
  ck_assert_int_eq (st, 0);
  ck_assert_msg (g_str_has_prefix (strrchr (g_strstrip (out), '\n') + 1, "sha256//"), "%s", out);
  ck_assert_int_eq (stat (key, &sb), 0);
  ck_assert_int_eq (sb.st_mode & 0777, 0600);
  ck_assert_int_eq (RUN ("gen-cert", "--cert", cert, "--key", key, "--ip", "localhost"), 1);
#undef RUN
  unlink_database (db);
  g_unlink (cert);
  g_unlink (key);
  g_unlink (pin);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_service_database_from_db_file_or_environment)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "x.db", NULL);
  g_autofree char *db_file = g_build_filename (dir, "db-location", NULL);
  g_autofree char *contents = g_strdup_printf ("%s\nthe rest is ignored\n", db);
  g_autofree char *env_db = g_strdup_printf ("CARDTILL_DB=%s", db);
  g_autofree char *out = NULL, *err = NULL;
  const char *bin = ct_test_service_get_binary ();
  g_auto(GStrv) env = g_environ_unsetenv (g_get_environ (), "CARDTILL_DB");
  g_auto(GStrv) env_with_db = g_strdupv (env);
  int ws = 0;

  env_with_db = g_environ_setenv (env_with_db, "CARDTILL_DB", db, TRUE);
#define RUN_ENV(envp, ...) ({ const char *argv_[] = { bin, __VA_ARGS__, NULL }; ws = 0; \
                    g_clear_pointer (&out, g_free); g_clear_pointer (&err, g_free); \
                    ck_assert (g_spawn_sync (NULL, (char **) argv_, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &ws, NULL)); \
                    WEXITSTATUS (ws); })
  /* Without --db, --db-file or CARDTILL_DB there is nothing to open. */
  ck_assert_int_eq (RUN_ENV (env, "ledger", "check"), 1);
  ck_assert_msg (strstr (err, "CARDTILL_DB") != NULL, "%s", err);
  /* The environment names the database... */
  ck_assert_int_eq (RUN_ENV (env_with_db, "init", "--merchant-name", "Env Shop"), 0);
  ck_assert (g_file_test (db, G_FILE_TEST_EXISTS));
  /* ...and so does the first line of --db-file. */
  ck_assert (g_file_set_contents (db_file, contents, -1, NULL));
  ck_assert_int_eq (RUN_ENV (env, "merchant", "show", "--db-file", db_file), 0);
  ck_assert_msg (strstr (out, "Env Shop") != NULL, "%s", out);
  /* --db wins over the environment. */
  ck_assert_int_eq (RUN_ENV (env_with_db, "merchant", "show", "--db", "/nonexistent/other.db"), 2);
  ck_assert_msg (strstr (err, "/nonexistent/other.db") != NULL, "%s", err);
  /* An empty first line says what it should hold. */
  ck_assert (g_file_set_contents (db_file, "\n", -1, NULL));
  ck_assert_int_eq (RUN_ENV (env, "merchant", "show", "--db-file", db_file), 1);
  ck_assert_msg (strstr (err, "first line is empty") != NULL, "%s", err);
#undef RUN_ENV
  g_unlink (db_file);
  unlink_database (db);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_service_postgresql_uri_errors_say_where_and_why)
{
  g_autofree char *out = NULL, *err = NULL;
  const char *bin = ct_test_service_get_binary ();
  int ws = 0;

#define RUN_ERR(...) ({ const char *argv_[] = { bin, __VA_ARGS__, NULL }; ws = 0; \
                    g_clear_pointer (&out, g_free); g_clear_pointer (&err, g_free); \
                    ck_assert (g_spawn_sync (NULL, (char **) argv_, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &ws, NULL)); \
                    WEXITSTATUS (ws); })
  /* Nothing listens on port 1: the sentence names the database, the user,
   * the host and the port, never a password. */
  ck_assert_int_eq (RUN_ERR ("ledger", "check", "--db", "postgresql://shop:s3cret@127.0.0.1:1/cards"), 4);
  ck_assert_msg (strstr (err, "cannot connect to database \"cards\" as shop on 127.0.0.1 port 1") != NULL, "%s", err);
  ck_assert_msg (strstr (err, "s3cret") == NULL, "%s", err);
  /* A URI libpq cannot read says so and shows the form. */
  ck_assert_int_eq (RUN_ERR ("ledger", "check", "--db", "postgresql://h/x?colour=blue"), 4);
  ck_assert_msg (strstr (err, "not a PostgreSQL URI") != NULL && strstr (err, "colour") != NULL, "%s", err);
#undef RUN_ERR
}
END_TEST

START_TEST (test_service_other_schema_version_is_refused_with_the_command_to_run)
{
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autofree char *out = NULL;
  const char *newer = ct_test_store_is_pg () ? "UPDATE schema_version SET version = 99"
                                             : "UPDATE settings SET value = '99' WHERE key = 'schema_version'";
  g_autofree char *back = NULL;
  const char *at;
  guint64 version = 0;

  /* The current schema: upgrade has nothing to do, init refuses to touch it.
   * Each store counts the versions of its own schema. */
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "upgrade", NULL), 0);
  ck_assert_msg ((at = strstr (out, "at version ")) != NULL && strstr (out, " already") != NULL, "%s", out);
  version = g_ascii_strtoull (at + strlen ("at version "), NULL, 10);
  ck_assert_msg (version >= 1, "%s", out);
  back = ct_test_store_is_pg ()
           ? g_strdup_printf ("UPDATE schema_version SET version = %" G_GUINT64_FORMAT, version)
           : g_strdup_printf ("UPDATE settings SET value = '%" G_GUINT64_FORMAT "' WHERE key = 'schema_version'",
                              version);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "init", "--merchant-name", "Again", NULL), 2);
  ck_assert_int_eq (ct_test_db_exec (db, newer), 1);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  {
    const char *argv[] = { ct_test_service_get_binary (), "serve", "--db", ct_test_service_get_db_path (svc),
                           "--listen", "127.0.0.1:0", "--insecure-http", NULL };
    g_autofree char *err = NULL;
    int ws = 0;

    ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &ws, NULL));
    ck_assert_int_eq (WEXITSTATUS (ws), 2);
    ck_assert_msg (strstr (err, "schema version 99") != NULL && strstr (err, "cardtill-service") != NULL, "%s", err);
  }
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "ledger", "check", NULL), 2);
  ck_assert_int_eq (ct_test_db_exec (db, back), 1);
  ck_assert (ct_test_service_restart (svc, NULL));
  ct_test_client_free (cl);
  cl = ct_test_client_new (svc);
}
END_TEST

static Suite *
service_suite (void)
{
  Suite *s = suite_create ("service");
  struct { const char *name; const TTest *tests[16]; } cases[] = {
    { "auth", { test_service_health_needs_no_token, test_service_requests_without_a_valid_token_are_401,
                test_service_reissued_token_replaces_the_old_one_and_revoke_disables,
                test_service_a_till_changed_by_another_process_writes_no_more,
                test_service_unknown_path_is_404_not_found } },
    { "merchant", { test_service_merchant_shows_settings_packages_and_pool,
                    test_service_merchant_names_the_asking_till } },
    { "cards", { test_service_issue_card_gets_a_luhn_number_under_the_prefix,
                 test_service_issue_card_with_a_given_number,
                 test_service_unknown_card_is_404_and_bad_check_digit_422,
                 test_service_card_numbers_are_upper_cased,
                 test_service_find_cards_by_phone_and_name,
                 test_service_phone_is_stored_as_digits_and_found_in_any_form,
                 test_service_patch_card_freezes_edits_and_needs_a_manager } },
    { "manager", { test_service_wrong_pin_and_unknown_manager_get_one_403_message,
                   test_service_five_wrong_pins_lock_the_manager,
                   test_service_card_check_comes_before_the_manager_check,
                   test_service_manager_set_pin_and_remove_take_effect } },
    { "cashier", { test_service_cashier_add_list_sign_in_and_remove,
                   test_service_cashier_wrong_pins_lock_the_cashier_not_the_manager } },
    { "topup", { test_service_topup_package_posts_amount_and_bonus, test_service_topup_refusals_in_fixed_mode,
                 test_service_topup_any_amount_mode, test_service_removed_package_is_not_found } },
    { "payment", { test_service_payment_moves_money_to_the_pool_and_earns_points,
                   test_service_payment_on_a_number_in_another_form,
                   test_service_a_check_refused_at_commit_is_answered,
                   test_service_a_short_pool_is_the_pools_refusal, test_service_payment_refusals,
                   test_service_insufficient_balance_code, test_service_numbers_must_be_json_integers,
                   test_service_check_order_key_then_size_then_body_then_card,
                   test_service_body_limit_is_64_kib_but_8_mib_for_imports } },
    { "refund", { test_service_refund_of_a_payment_returns_money_and_points, test_service_refund_of_a_topup_is_a_void,
                  test_service_void_needs_the_balance_still_there,
                  test_service_refund_of_another_cards_transaction_is_not_found,
                  test_service_refund_needs_the_pool_and_credits_a_frozen_card } },
    { "adjustment", { test_service_adjustments_draw_on_the_pool } },
    { "history", { test_service_history_is_newest_first_with_cursors, test_service_store_day_lists_and_totals,
                   test_service_store_day_pages_with_totals_of_the_whole_day,
                   test_service_day_report_per_store_and_till,
                   test_service_dates_follow_the_merchant_time_zone } },
    { "idempotency", { test_service_replay_is_byte_identical_and_marked,
                       test_service_stored_refusals_replay_but_unstored_do_not,
                       test_service_pins_stay_out_of_the_request_identity,
                       test_service_unstored_answers_leave_the_key_free,
                       test_service_keys_are_scoped_to_the_till,
                       test_service_retry_while_running_is_request_in_progress,
                       test_service_keys_are_kept_at_least_thirty_days } },
    { "transport", { test_service_rate_limit_answers_429_with_retry_after, test_service_plain_http_only_on_loopback,
                     test_service_sigterm_shuts_down_cleanly, test_service_cli_exit_codes,
                     test_service_database_from_db_file_or_environment,
                     test_service_postgresql_uri_errors_say_where_and_why,
                     test_service_other_schema_version_is_refused_with_the_command_to_run,
                     test_service_second_serve_on_the_same_database_is_refused,
                     test_service_requests_share_one_keep_alive_connection,
                     test_service_database_failure_is_500_and_not_stored,
                     test_service_sigterm_finishes_the_request_in_flight,
                     test_service_gen_cert_pin_matches_the_served_key,
                     test_service_insecure_http_on_loopback_for_tests,
                     test_service_ledger_check_command_finds_tampering } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);

      tcase_add_checked_fixture (tc, setup, teardown);
      tcase_set_timeout (tc, 60);
      for (int j = 0; cases[i].tests[j] != NULL; j++)
        {
          /* One process per database is SQLite's rule; PostgreSQL serves
           * any number (test-service-multi). */
          if (cases[i].tests[j] == test_service_second_serve_on_the_same_database_is_refused
              && ct_test_store_is_pg ())
            continue;
          /* A write deferred to the commit is PostgreSQL's. */
          if (cases[i].tests[j] == test_service_a_check_refused_at_commit_is_answered
              && !ct_test_store_is_pg ())
            continue;
          _tcase_add_test (tc, cases[i].tests[j], 0, 0, 0, 1);
        }
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (service_suite ());
  int failed;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
