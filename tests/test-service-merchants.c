/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-merchants"
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct-test-json.h"
#include "ct-test-service.h"

/* Several merchants in one service, over real HTTPS: the test service's
 * merchant "main" and a second one, "shopb", with a till, a manager and a
 * package of its own. A till acts inside its merchant only: the same card
 * number may exist under both, and nothing of one merchant (cards, pool,
 * packages, managers and their PIN locks, history, reports, imports) is
 * seen or touched by the other's till. Also: the admin commands'
 * --merchant, the ledger check per merchant, and the upgrade of a ledger
 * written before several merchants. */

static CtTestService *svc;
static CtTestClient *cl;     /* main's till */
static CtTestClient *cl_b;   /* shopb's till */
static char *token_b;        /* its token */

#define MGR "\"manager\":{\"id\":\"" CT_TEST_SERVICE_MANAGER_ID "\",\"pin\":\"" CT_TEST_SERVICE_MANAGER_PIN "\"}"
#define MGR_B_PIN "135792"
#define MGR_B "\"manager\":{\"id\":\"mb\",\"pin\":\"" MGR_B_PIN "\"}"

static guint
len_at (const char *body,
        const char *path)
{
  json_object *root = json_tokener_parse (body);
  guint n;

  ck_assert_msg (root != NULL, "not JSON: %s", body);
  n = (guint) json_object_array_length (ct_test_json_at (root, path));
  json_object_put (root);
  return n;
}

static guint key_counter;

static CtTestResponse *
req_on (CtTestClient *client,
        const char   *method,
        const char   *path,
        const char   *body)
{
  g_autofree char *key = g_strdup_printf ("mc-%u-%u", (guint) getpid (), ++key_counter);
  g_autoptr(GError) error = NULL;
  CtTestResponse *r;

  r = ct_test_client_request (client, method, path, g_str_equal (method, "POST") ? key : NULL, body, &error);
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
}

/* Runs an admin command and insists on its exit status. */
#define admin_ok(out, ...) ck_assert_int_eq (ct_test_service_admin (svc, out, __VA_ARGS__, NULL), 0)

static char *
pin_file (const char *pin)
{
  char *path = g_build_filename (ct_test_service_get_data_dir (svc), "pin-file", NULL);

  ck_assert (g_file_set_contents (path, pin, -1, NULL));
  return path;
}

static void
setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *token = NULL;
  g_autofree char *pins = NULL;

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "service did not start: %s", error ? error->message : "");
  cl = ct_test_client_new (svc);
  admin_ok (NULL, "merchant", "add", "--id", "shopb", "--name", "Shop B", "--timezone", "UTC");
  admin_ok (&out, "till", "add", "--merchant", "shopb", "--store", "bs", "--name", "bt");
  token = ct_test_last_line (out);
  cl_b = ct_test_client_new_for_token (svc, token);
  g_free (token_b);
  token_b = g_strdup (token);
  pins = pin_file (MGR_B_PIN);
  admin_ok (NULL, "manager", "add", "--merchant", "shopb", "--id", "mb", "--pin-file", pins);
  admin_ok (NULL, "package", "add", "--merchant", "shopb", "--id", "pb50", "--amount", "50.00", "--bonus", "5.00");
}

static void
ledger_balanced (CtTestClient *client)
{
  g_autoptr(CtTestResponse) r = req_on (client, "GET", "/v1/ledger/check", NULL);

  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "sum"), 0);
  ck_assert_msg (strstr (r->body, "\"balanced\":true") != NULL, "ledger not balanced: %s", r->body);
}

static void
teardown (void)
{
  ledger_balanced (cl);
  ledger_balanced (cl_b);
  ct_test_client_free (cl);
  ct_test_client_free (cl_b);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
}

static char *
issue (CtTestClient *client,
       const char   *card_no,
       const char   *phone,
       const char   *manager)
{
  g_autofree char *no = card_no ? g_strdup_printf ("\"card_no\":\"%s\",", card_no) : g_strdup ("");
  g_autofree char *ph = phone ? g_strdup_printf ("\"%s\"", phone) : g_strdup ("null");
  g_autofree char *body = g_strdup_printf ("{%s\"member\":{\"name\":\"Mia\",\"phone\":%s},\"operator\":\"op\",%s}",
                                           no, ph, manager);
  g_autoptr(CtTestResponse) r = req_on (client, "POST", "/v1/cards", body);

  expect_status (r, 201, NULL);
  return ct_test_json_str (r->body, "card_no");
}

static CtTestResponse *
card_post (CtTestClient *client,
           const char   *card,
           const char   *what,
           const char   *body)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/%s", card, what);

  return req_on (client, "POST", path, body);
}

static int64_t
balance (CtTestClient *client,
         const char   *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = req_on (client, "GET", path, NULL);

  expect_status (r, 200, NULL);
  return ct_test_json_int (r->body, "balance");
}

static int64_t
pool (CtTestClient *client)
{
  g_autoptr(CtTestResponse) r = req_on (client, "GET", "/v1/merchant", NULL);

  expect_status (r, 200, NULL);
  return ct_test_json_int (r->body, "pool_balance");
}

START_TEST (test_merchants_one_card_number_under_two_merchants_keeps_two_cards)
{
  g_autofree char *no = issue (cl, NULL, NULL, MGR);
  g_autofree char *same = issue (cl_b, no, NULL, MGR_B);
  g_autofree char *pay_a_id = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  ck_assert_str_eq (same, no);
  r = card_post (cl, no, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  /* Packages are the merchant's own: shopb has pb50, not p100. */
  r = card_post (cl_b, no, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect_status (r, 404, "not_found");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, no, "topups", "{\"package_id\":\"pb50\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl, no), 11000);
  ck_assert_int_eq (balance (cl_b, no), 5500);

  /* Payments credit each merchant's own pool. */
  r = card_post (cl, no, "payments", "{\"amount\":1000,\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  pay_a_id = ct_test_json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, no, "payments", "{\"amount\":500,\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl, no), 10000);
  ck_assert_int_eq (balance (cl_b, no), 5000);
  ck_assert_int_eq (pool (cl), 1000);
  ck_assert_int_eq (pool (cl_b), 500);

  /* main's payment is no transaction of shopb's card of that number. */
  {
    g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR_B "}", pay_a_id);

    r = card_post (cl_b, no, "refunds", body);
    expect_status (r, 404, "not_found");
    g_clear_pointer (&r, ct_test_response_free);
  }
  ck_assert_int_eq (balance (cl_b, no), 5000);
  ck_assert_int_eq (pool (cl), 1000);

  /* Each till's history of the number is its merchant's card's. */
  {
    g_autofree char *path = g_strdup_printf ("/v1/cards/%s/transactions", no);

    r = req_on (cl_b, "GET", path, NULL);
    expect_status (r, 200, NULL);
    ck_assert_int_eq (len_at (r->body, "transactions"), 2);
    ck_assert_int_eq (ct_test_json_int (r->body, "transactions.0.delta"), -500);
    ck_assert_int_eq (ct_test_json_int (r->body, "transactions.1.delta"), 5500);
    g_clear_pointer (&r, ct_test_response_free);
  }
  /* The day's list and report of each merchant hold its own money only. */
  r = req_on (cl_b, "GET", "/v1/transactions", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.payments"), 500);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.topups"), 5000);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "GET", "/v1/transactions", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.payments"), 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "totals.topups"), 10000);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl_b, "GET", "/v1/reports/day", NULL);
  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, "\"s1\"") == NULL, "main's store in shopb's report: %s", r->body);
  ck_assert_msg (strstr (r->body, "\"bs\"") != NULL, "%s", r->body);
}
END_TEST

START_TEST (test_merchants_a_till_cannot_see_pay_refund_top_up_or_change_another_merchants_card)
{
  g_autofree char *only_a = issue (cl, NULL, "13912345678", MGR);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", only_a);
  g_autofree char *history = g_strdup_printf ("/v1/cards/%s/transactions", only_a);
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) r = card_post (cl, only_a, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");

  expect_status (r, 201, NULL);
  tx = ct_test_json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);

  /* To shopb's till, main's card is a card that does not exist. */
  r = req_on (cl_b, "GET", path, NULL);
  expect_status (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl_b, "GET", history, NULL);
  expect_status (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, only_a, "payments", "{\"amount\":100,\"operator\":\"op\"}");
  expect_status (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, only_a, "topups", "{\"package_id\":\"pb50\",\"operator\":\"op\"}");
  expect_status (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);
  {
    g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR_B "}", tx);

    r = card_post (cl_b, only_a, "refunds", body);
    expect_status (r, 404, "card_not_found");
    g_clear_pointer (&r, ct_test_response_free);
  }
  r = card_post (cl_b, only_a, "adjustments", "{\"delta\":-100,\"reason\":\"x\"," MGR_B "}");
  expect_status (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);
  {
    g_autofree char *patch = g_strdup_printf ("/v1/cards/%s", only_a);
    g_autofree char *key = g_strdup_printf ("mc-patch-%u", (guint) getpid ());

    r = ct_test_client_request (cl_b, "PATCH", patch, key, "{\"status\":\"frozen\"," MGR_B "}", NULL);
    ck_assert_ptr_nonnull (r);
    expect_status (r, 404, "card_not_found");
    g_clear_pointer (&r, ct_test_response_free);
  }
  r = req_on (cl_b, "GET", "/v1/cards?phone=13912345678", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (len_at (r->body, "cards"), 0);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "GET", "/v1/cards?phone=13912345678", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (len_at (r->body, "cards"), 1);
  g_clear_pointer (&r, ct_test_response_free);

  /* Nothing moved: main's card and pool are as they were. */
  ck_assert_int_eq (balance (cl, only_a), 11000);
  ck_assert_int_eq (pool (cl), 0);
  r = req_on (cl, "GET", path, NULL);
  ck_assert_msg (strstr (r->body, "\"status\":\"active\"") != NULL, "%s", r->body);
}
END_TEST

START_TEST (test_merchants_managers_and_their_pin_locks_stay_in_their_merchant)
{
  g_autoptr(CtTestResponse) r = NULL;
  g_autofree char *card = NULL;

  /* main's manager is nobody at shopb, and the other way round. */
  r = req_on (cl_b, "POST", "/v1/cards", "{\"member\":{\"name\":\"X\",\"phone\":null},\"operator\":\"op\"," MGR "}");
  expect_status (r, 403, "forbidden");
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "POST", "/v1/cards", "{\"member\":{\"name\":\"X\",\"phone\":null},\"operator\":\"op\"," MGR_B "}");
  expect_status (r, 403, "forbidden");
  g_clear_pointer (&r, ct_test_response_free);

  /* Wrong PINs for "m1" at shopb lock shopb's "m1", not main's manager. */
  for (int i = 0; i < 6; i++)
    {
      r = req_on (cl_b, "POST", "/v1/cards",
                  "{\"member\":{\"name\":\"X\",\"phone\":null},\"operator\":\"op\","
                  "\"manager\":{\"id\":\"m1\",\"pin\":\"000000\"}}");
      ck_assert_msg (r->status == 403 || r->status == 429, "%ld: %s", r->status, r->body);
      if (r->status == 429)
        break;
      g_clear_pointer (&r, ct_test_response_free);
    }
  ck_assert_ptr_nonnull (r);
  expect_status (r, 429, "pin_locked");
  g_clear_pointer (&r, ct_test_response_free);
  card = issue (cl, NULL, NULL, MGR);
  ck_assert_ptr_nonnull (card);
  {
    g_autofree char *out = NULL;

    admin_ok (&out, "manager", "list", "--merchant", "shopb");
    ck_assert_msg (strstr (out, "mb") != NULL && strstr (out, "m1") == NULL, "%s", out);
    g_clear_pointer (&out, g_free);
    admin_ok (&out, "manager", "list");
    ck_assert_msg (strstr (out, "m1") != NULL && strstr (out, "locked") == NULL && strstr (out, "mb") == NULL,
                   "%s", out);
  }
}
END_TEST

static CtTestResponse *
import_rows (CtTestClient *client,
             const char   *batch,
             const char   *rows,
             const char   *manager)
{
  g_autofree char *body = g_strdup_printf ("{\"batch_id\":\"%s\",\"rows\":[%s],%s}", batch, rows, manager);

  return req_on (client, "POST", "/v1/imports", body);
}

#define ROW(line, no, balance) \
  "{\"line\":" #line ",\"card_no\":\"" no "\",\"name\":\"N\",\"phone\":null,\"balance\":" #balance \
  ",\"points\":0,\"level\":null}"

START_TEST (test_merchants_imports_decide_card_exists_within_a_merchant)
{
  g_autoptr(CtTestResponse) r = import_rows (cl, "a1", ROW (2, "LEG7001", 300), MGR);

  expect_status (r, 200, NULL);
  ck_assert_msg (ct_test_json_int (r->body, "accepted") == 1, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  r = import_rows (cl_b, "b0", ROW (2, "LEG7002", 200), MGR_B);
  ck_assert_msg (ct_test_json_int (r->body, "accepted") == 1, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* main's number is free at shopb, and so is main's batch id; shopb's own
   * card is not. */
  r = import_rows (cl_b, "a1", ROW (2, "LEG7001", 700) "," ROW (3, "LEG7002", 900), MGR_B);
  expect_status (r, 200, NULL);
  ck_assert_msg (ct_test_json_int (r->body, "accepted") == 1, "%s", r->body);
  ck_assert_int_eq (len_at (r->body, "rejected"), 1);
  ck_assert_int_eq (ct_test_json_int (r->body, "rejected.0.line"), 3);
  ck_assert_msg (strstr (r->body, "card_exists") != NULL && strstr (r->body, "b0") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl_b, "LEG7001"), 700);
  ck_assert_int_eq (balance (cl, "LEG7001"), 300);
  ck_assert_int_eq (balance (cl_b, "LEG7002"), 200);
  r = req_on (cl, "GET", "/v1/cards/LEG7002", NULL);
  expect_status (r, 404, "card_not_found");
  g_clear_pointer (&r, ct_test_response_free);

  /* Each merchant's batch "a1" is its own. */
  r = req_on (cl, "GET", "/v1/imports/a1", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "total_balance"), 300);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl_b, "GET", "/v1/imports/a1", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "total_balance"), 700);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "GET", "/v1/imports/b0", NULL);
  expect_status (r, 404, NULL);
}
END_TEST

/* The service inserts an import's cards several to a statement; one
 * number taken in such a group (here by another batch of the merchant)
 * must cost that row alone, the others of its group going in once, and a
 * number taken at the other merchant none. 40 rows: a full group of 32
 * and a rest. */
START_TEST (test_merchants_a_taken_number_in_a_group_of_imported_rows_rejects_that_row_alone)
{
  g_autoptr(GString) rows = g_string_new (NULL);
  g_autoptr(CtTestResponse) r = import_rows (cl, "t0", ROW (2, "LEG8010", 500), MGR);
  int64_t total = 0;

  expect_status (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = import_rows (cl_b, "tb", ROW (2, "LEG8005", 900), MGR_B);
  expect_status (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);

  for (int i = 0; i < 40; i++)
    {
      g_string_append_printf (rows, "%s{\"line\":%d,\"card_no\":\"LEG%04d\",\"name\":\"N\",\"phone\":null,"
                              "\"balance\":%d,\"points\":0,\"level\":null}", i > 0 ? "," : "", i + 2,
                              8000 + i, 100 + i);
      if (i != 10)
        total += 100 + i;
    }
  r = import_rows (cl, "t1", rows->str, MGR);
  expect_status (r, 200, NULL);
  ck_assert_msg (ct_test_json_int (r->body, "accepted") == 39, "%s", r->body);
  ck_assert_int_eq (len_at (r->body, "rejected"), 1);
  ck_assert_int_eq (ct_test_json_int (r->body, "rejected.0.line"), 12);
  ck_assert_msg (strstr (r->body, "card_exists") != NULL && strstr (r->body, "t0") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl, "LEG8010"), 500);
  ck_assert_int_eq (balance (cl, "LEG8009"), 109);
  ck_assert_int_eq (balance (cl, "LEG8011"), 111);
  ck_assert_int_eq (balance (cl, "LEG8005"), 105);
  ck_assert_int_eq (balance (cl_b, "LEG8005"), 900);
  ck_assert_int_eq (balance (cl, "LEG8039"), 139);

  /* The same batch again (a new key): every row is in already, nothing
   * is booked twice. */
  r = import_rows (cl, "t1", rows->str, MGR);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (len_at (r->body, "rejected"), 1);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "GET", "/v1/imports/t1", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "rows_accepted"), 39);
  ck_assert_int_eq (ct_test_json_int (r->body, "total_balance"), total);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl, "LEG8020"), 120);
  ledger_balanced (cl);
}
END_TEST

START_TEST (test_merchants_admin_commands_take_merchant_and_refuse_an_unknown_one)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  admin_ok (&out, "merchant", "list");
  ck_assert_msg (strstr (out, "main  Test Shop") != NULL && strstr (out, "shopb  Shop B") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "package", "list", "--merchant", "shopb");
  ck_assert_msg (strstr (out, "pb50: 50.00 with bonus 5.00") != NULL && strstr (out, "p100") == NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "package", "list");
  ck_assert_msg (strstr (out, "p100") != NULL && strstr (out, "pb50") == NULL, "%s", out);
  g_clear_pointer (&out, g_free);

  /* merchant set changes that merchant only. */
  admin_ok (NULL, "merchant", "set", "--merchant", "shopb", "--topup-mode", "any", "--merchant-name", "Shop Bee");
  r = req_on (cl_b, "GET", "/v1/merchant", NULL);
  ck_assert_msg (strstr (r->body, "\"name\":\"Shop Bee\"") != NULL && strstr (r->body, "\"timezone\":\"UTC\"") != NULL
                 && strstr (r->body, "\"topup_mode\":\"any\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "GET", "/v1/merchant", NULL);
  ck_assert_msg (strstr (r->body, "\"name\":\"Test Shop\"") != NULL && strstr (r->body, "\"topup_mode\":\"fixed\"") != NULL,
                 "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* Levels are the merchant's own too. */
  admin_ok (NULL, "level", "add", "--merchant", "shopb", "--id", "gold", "--name", "Gold", "--min-spend", "100.00");
  admin_ok (&out, "level", "list");
  ck_assert_msg (strstr (out, "gold") == NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "level", "list", "--merchant", "shopb");
  ck_assert_msg (strstr (out, "gold: Gold") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);

  /* An unknown merchant is a sentence and exit 2, and nothing is made. */
  ck_assert_int_eq (ct_test_service_admin_full (svc, &out, &err, "till", "add", "--merchant", "nope", "--store", "x",
                                                "--name", "y", NULL), 2);
  ck_assert_msg (strstr (err, "there is no merchant nope") != NULL, "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (ct_test_service_admin_full (svc, &out, &err, "ledger", "check", "--merchant", "nope", NULL), 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (ct_test_service_admin_full (svc, &out, &err, "till", "add", "--store", "x", "--name", "y",
                                                NULL), 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* A merchant id is taken once. */
  ck_assert_int_eq (ct_test_service_admin_full (svc, &out, &err, "merchant", "add", "--id", "shopb",
                                                "--name", "Again", NULL), 2);
  ck_assert_msg (strstr (err, "merchant shopb already exists") != NULL, "%s", err);
}
END_TEST

START_TEST (test_merchants_ledger_check_sums_each_merchant)
{
  g_autofree char *a = issue (cl, NULL, NULL, MGR);
  g_autofree char *b = issue (cl_b, NULL, NULL, MGR_B);
  g_autofree char *out = NULL;
  g_autoptr(CtTestResponse) r = card_post (cl, a, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");

  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, b, "topups", "{\"package_id\":\"pb50\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);

  /* One line each without --merchant; one merchant's figures with it. */
  admin_ok (&out, "ledger", "check");
  ck_assert_msg (strstr (out, "main: cards 110.00, pool 0.00, sum 0.00: balanced") != NULL, "%s", out);
  ck_assert_msg (strstr (out, "shopb: cards 55.00, pool 0.00, sum 0.00: balanced") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "ledger", "check", "--merchant", "shopb");
  ck_assert_msg (strstr (out, "cards: 55.00\n") != NULL && strstr (out, "cash: -50.00\n") != NULL
                 && strstr (out, "balanced\n") != NULL, "%s", out);
  r = req_on (cl_b, "GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "cards"), 5500);
}
END_TEST

/* The upgrade of a ledger from before several merchants */

/* The request whose answer the old ledger stored under "old-payment". */
#define OLD_PAYMENT_PATH "/v1/cards/70001234/payments"
#define OLD_PAYMENT_BODY "{\"amount\":3000,\"operator\":\"op\"}"

/* The SQL of an old ledger: @sqlite or @pg in tests/fixtures/store/ (by
 * the store under test), with its tills' tokens (@token, @second_token) hashed
 * in, the managers' @pin_hash, and the answer stored for the old
 * payment's key. */
static char *
fixture (const char *sqlite,
         const char *pg,
         const char *token,
         const char *second_token,
         const char *pin_hash)
{
  g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures", "store",
                                            ct_test_store_is_pg () ? pg : sqlite, NULL);
  g_autofree char *text = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) sum_b = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) identity = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  const char *request = "POST\n" OLD_PAYMENT_PATH "\n" OLD_PAYMENT_BODY;
  const char *from[] = { "@TOKEN_HEX@", "@TOKEN_B_HEX@", "@PIN_HASH@", "@IDEM_HEX@", "@NOW_MS@" };
  const char *to[5];

  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  g_checksum_update (sum, (const guchar *) token, strlen (token));
  g_checksum_update (sum_b, (const guchar *) second_token, strlen (second_token));
  g_checksum_update (identity, (const guchar *) request, strlen (request));
  to[0] = g_checksum_get_string (sum);
  to[1] = g_checksum_get_string (sum_b);
  to[2] = pin_hash;
  to[3] = g_checksum_get_string (identity);
  to[4] = now;
  for (gsize i = 0; i < G_N_ELEMENTS (from); i++)
    {
      g_auto(GStrv) parts = g_strsplit (text, from[i], -1);

      g_free (text);
      text = g_strjoinv (to[i], parts);
    }
  return g_steal_pointer (&text);
}

/* Stops the test service and puts it on a new ledger made from a fixture
 * (fixture()); returns where the ledger is. */
static char *
load_old_ledger (const char *sqlite,
                 const char *pg)
{
  g_autofree char *dir = g_build_filename (ct_test_service_get_data_dir (svc), "old", NULL);
  g_autofree char *pin_hash = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GError) error = NULL;
  char *location = NULL;

  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
    g_autoptr(GPtrArray) rows = ct_test_db_query (db, "SELECT pin_hash FROM managers WHERE id = 'm1'");

    ck_assert_int_eq (rows->len, 1);
    pin_hash = g_strdup (((char **) rows->pdata[0])[0]);
  }
  ck_assert_int_eq (g_mkdir_with_parents (dir, 0700), 0);
  ck_assert (ct_test_store_new (dir, &location, &error));
  sql = fixture (sqlite, pg, ct_test_service_get_token (svc), token_b, pin_hash);
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (location);

    ck_assert_int_ge (ct_test_db_exec (db, sql), 0);
  }
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_set_db (svc, location);
  return location;
}

START_TEST (test_merchants_upgrade_moves_an_old_ledger_into_the_first_merchant)
{
  g_autofree char *location = load_old_ledger ("ledger-schema1.sqlite.sql", "ledger-schema2.pg.sql");
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  /* A 10.00 payment refunded whole before partial refunds (the ledger's
   * balances stay as the fixture has them). */
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (location);

    ck_assert_int_eq (ct_test_db_exec (db, "INSERT INTO transactions (id, card_no, kind, delta, bonus, balance_after,"
                                           " points_delta, points_after, store, till, operator, created_at, tender,"
                                           " taken_at, refund_of)"
                                           " VALUES (3, '70001234', 'payment', -1000, 0, 7000, 0, 0, 's1', 't1', 'op',"
                                           " 1764547400000, NULL, 1764547400000, NULL),"
                                           " (4, '70001234', 'refund', 1000, 0, 8000, 0, 0, 's1', 't1', 'op',"
                                           " 1764547500000, NULL, 1764547500000, 3)"), 2);
    ck_assert_int_eq (ct_test_db_exec (db, "INSERT INTO postings VALUES (3, '70001234', -1000), (3, '@pool', 1000),"
                                           " (4, '@pool', -1000), (4, '70001234', 1000)"), 4);
    /* Phones typed before the one phone rule: dashes, spaces, +86, and one
     * the rule does not take. */
    ck_assert_int_eq (ct_test_db_exec (db, "INSERT INTO cards (card_no, status, level, name, phone, balance, points,"
                                           " created_at, updated_at) VALUES"
                                           " ('70005678', 'active', NULL, 'Dashed', '138-0013-8000', 0, 0, 1, 1),"
                                           " ('70005679', 'active', NULL, 'Spaced', '+86 139 0000 1111', 0, 0, 1, 1),"
                                           " ('70005680', 'active', NULL, 'Odd', 'ext. 12', 0, 0, 1, 1)"), 3);
    if (ct_test_store_is_pg ())
      ck_assert_int_ge (ct_test_db_exec (db, "SELECT setval ('transactions_id_seq', 4)"), 0);
  }

  /* The old schema is refused until upgrade moves it. */
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "ledger", "check", NULL), 2);
  admin_ok (&out, "upgrade");
  ck_assert_msg (strstr (out, ct_test_store_is_pg () ? "from version 2 to 13" : "from version 1 to 11") != NULL,
                 "%s", out);
  ck_assert_msg (strstr (out, "wrote 2 stored phones in the phone rule's form") != NULL, "%s", out);
  ck_assert_msg (strstr (out, "phone left as it is: card 70005680 (merchant main): \"ext. 12\"") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (location);
    g_autoptr(GPtrArray) rows = ct_test_db_query (db, "SELECT card_no, phone FROM cards"
                                                      " WHERE card_no IN ('70005678', '70005679', '70005680')"
                                                      " ORDER BY card_no");

    ck_assert_uint_eq (rows->len, 3);
    ck_assert_str_eq (((char **) rows->pdata[0])[1], "13800138000");
    ck_assert_str_eq (((char **) rows->pdata[1])[1], "13900001111");
    ck_assert_str_eq (((char **) rows->pdata[2])[1], "ext. 12");
  }
  /* A card's transactions are indexed by merchant and day. */
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (location);
    g_autoptr(GPtrArray) index = ct_test_db_query (db, ct_test_store_is_pg ()
                                                         ? "SELECT indexdef FROM pg_indexes"
                                                           " WHERE indexname = 'transactions_card_day'"
                                                         : "SELECT sql FROM sqlite_master"
                                                           " WHERE name = 'transactions_card_day'");

    ck_assert_uint_eq (index->len, 1);
    ck_assert_msg (strstr (((char **) index->pdata[0])[0], "merchant_id, card_no, taken_at") != NULL, "%s",
                   ((char **) index->pdata[0])[0]);
  }
  admin_ok (&out, "merchant", "list");
  ck_assert_msg (g_str_equal (out, "main  Old Shop (CNY)\n"), "%s", out);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "ledger", "check");
  ck_assert_msg (strstr (out, "cards: 80.00\n") != NULL && strstr (out, "pool: 30.00\n") != NULL
                 && strstr (out, "balanced\n") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  /* Levels came after the old schema: the card's level text became a
   * level a manager gives, and its payments its spend. */
  admin_ok (&out, "level", "list");
  ck_assert_msg (strstr (out, "VIP: VIP, given by a manager only; discount 0 bp, points 10000 bp") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (location);
    g_autoptr(GPtrArray) rows = ct_test_db_query (db, "SELECT spend FROM card_spend WHERE card_no = '70001234'");

    ck_assert_uint_eq (rows->len, 1);
    ck_assert_str_eq (((char **) rows->pdata[0])[0], "3000");
  }
  admin_ok (NULL, "level", "add", "--id", "VIP", "--name", "VIP", "--min-spend", "0", "--discount-bp", "500");
  /* Cashiers came after the old schema too. */
  {
    g_autofree char *pins = pin_file ("135790");

    admin_ok (NULL, "cashier", "add", "--id", "c1", "--name", "Bo", "--pin-file", pins);
  }
  admin_ok (NULL, "merchant", "add", "--id", "shopb", "--name", "Shop B");
  admin_ok (&out, "till", "add", "--merchant", "shopb", "--store", "bs", "--name", "bt");

  /* The old till keeps its token and finds the old card, money and all. */
  ck_assert_msg (ct_test_service_restart (svc, &error), "%s", error ? error->message : "");
  ct_test_client_free (cl);
  ct_test_client_free (cl_b);
  cl = ct_test_client_new (svc);
  {
    g_autofree char *token = ct_test_last_line (out);

    cl_b = ct_test_client_new_for_token (svc, token);
  }
  ck_assert_int_eq (balance (cl, "70001234"), 8000);
  ck_assert_int_eq (pool (cl), 3000);
  /* The answer stored before the upgrade is replayed for its key. */
  {
    g_autoptr(GError) err = NULL;

    r = ct_test_client_request (cl, "POST", OLD_PAYMENT_PATH, "old-payment", OLD_PAYMENT_BODY, &err);
    ck_assert_msg (r != NULL, "%s", err ? err->message : "");
    expect_status (r, 201, NULL);
    ck_assert_str_eq (r->body, "{\"stored\":\"before the upgrade\"}");
    ck_assert_str_eq (ct_test_response_header (r, "Idempotent-Replayed"), "true");
    g_clear_pointer (&r, ct_test_response_free);
  }
  ck_assert_int_eq (balance (cl, "70001234"), 8000);
  r = card_post (cl, "70001234", "payments", "{\"amount\":1000,\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), -950);
  ck_assert_int_eq (ct_test_json_int (r->body, "spend"), 3950);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl, "70001234", "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl, "70001234"), 18050);
  r = req_on (cl, "POST", "/v1/cashiers/sign-in", "{\"cashier\":\"c1\",\"pin\":\"135790\"}");
  expect_status (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  /* Member PINs came after the old schema: the old card takes one. */
  r = card_post (cl, "70001234", "member-pin", "{\"member_pin\":\"620417\"," MGR "}");
  expect_status (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl, "70001234", "payments", "{\"amount\":50,\"member_pin\":\"620417\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_lt (balance (cl, "70001234"), 18050);
  /* A cashier of main is nobody at shopb. */
  r = req_on (cl_b, "POST", "/v1/cashiers/sign-in", "{\"cashier\":\"c1\",\"pin\":\"135790\"}");
  ck_assert_msg (r->status == 403, "%ld: %s", r->status, r->body);
  g_clear_pointer (&r, ct_test_response_free);
  /* The new merchant starts empty. */
  r = req_on (cl_b, "GET", "/v1/cards/70001234", NULL);
  expect_status (r, 404, "card_not_found");
  ck_assert_int_eq (pool (cl_b), 0);
  g_clear_pointer (&r, ct_test_response_free);

  /* Partial refunds came after the old schema: the payment refunded whole
   * before stays refunded, the old 30.00 payment is refunded in parts. */
  r = card_post (cl, "70001234", "refunds", "{\"transaction_id\":\"3\",\"operator\":\"op\"," MGR "}");
  expect_status (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl, "70001234", "refunds", "{\"transaction_id\":\"2\",\"amount\":1000,\"operator\":\"op\"," MGR "}");
  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "refunded"), 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "total"), 3000);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl, "70001234", "refunds", "{\"transaction_id\":\"2\",\"operator\":\"op\"," MGR "}");
  expect_status (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "amount"), 2000);
  g_clear_pointer (&r, ct_test_response_free);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "ledger", "check");
  ck_assert_msg (strstr (out, "balanced") != NULL, "%s", out);
  /* The dashed phone is found by the number in any form. */
  r = req_on (cl, "GET", "/v1/cards?phone=13800138000", NULL);
  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, "70005678") != NULL, "%s", r->body);
}
END_TEST

/* A ledger at this schema version whose phones were written before the
 * one phone rule (a hand edit, an older import): `upgrade` has no schema
 * to change but writes every merchant's phones in the rule's form, leaves
 * one it does not take as it is and says so, and a second run has nothing
 * to do. */
START_TEST (test_merchants_upgrade_normalises_stored_phones)
{
  g_autofree char *a = issue (cl, NULL, "13600000001", MGR);
  g_autofree char *b = issue (cl_b, NULL, "13600000002", MGR_B);
  g_autofree char *c = issue (cl, NULL, "13600000003", MGR);
  g_autofree char *out = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));

    sql = g_strdup_printf ("UPDATE cards SET phone = CASE card_no WHEN '%s' THEN '(136) 0000-0001'"
                           " WHEN '%s' THEN '0086 136.0000.0002' ELSE '12' END"
                           " WHERE card_no IN ('%s', '%s', '%s')", a, b, a, b, c);
    ck_assert_int_eq (ct_test_db_exec (db, sql), 3);
  }
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  admin_ok (&out, "upgrade");
  ck_assert_msg (strstr (out, "already; nothing to do") != NULL, "%s", out);
  ck_assert_msg (strstr (out, "wrote 2 stored phones") != NULL, "%s", out);
  {
    g_autofree char *kept = g_strdup_printf ("phone left as it is: card %s (merchant main): \"12\"", c);

    ck_assert_msg (strstr (out, kept) != NULL, "%s", out);
  }
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "upgrade");
  ck_assert_msg (strstr (out, "wrote") == NULL && strstr (out, "phone left as it is") != NULL, "%s", out);

  ck_assert_msg (ct_test_service_restart (svc, &error), "%s", error ? error->message : "");
  ct_test_client_free (cl);
  ct_test_client_free (cl_b);
  cl = ct_test_client_new (svc);
  cl_b = ct_test_client_new_for_token (svc, token_b);
  r = req_on (cl, "GET", "/v1/cards?phone=136-0000-0001", NULL);
  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, a) != NULL && strstr (r->body, "\"13600000001\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl_b, "GET", "/v1/cards?phone=13600000002", NULL);
  expect_status (r, 200, NULL);
  ck_assert_msg (strstr (r->body, b) != NULL, "%s", r->body);
}
END_TEST

/* A ledger of several merchants from before recorded outcomes could hand
 * back cash (SQLite 5, PostgreSQL 6): after the upgrade, cash handed back
 * at one merchant's till leaves that till's open shift, and the other
 * merchant's till of the same store and name keeps its expected cash. */
START_TEST (test_merchants_upgrade_adds_outcome_cash_to_each_merchants_shifts)
{
  g_autofree char *location = load_old_ledger ("ledger-schema5.sqlite.sql", "ledger-schema6.pg.sql");
  g_autofree char *out = NULL, *err = NULL, *shift = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  ck_assert_int_eq (ct_test_service_admin_full (svc, NULL, &err, "ledger", "check", NULL), 2);
  ck_assert_msg (strstr (err, "upgrade") != NULL, "%s", err);
  admin_ok (&out, "upgrade");
  ck_assert_msg (strstr (out, ct_test_store_is_pg () ? "from version 6 to 13" : "from version 5 to 11") != NULL,
                 "%s", out);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "ledger", "check");
  ck_assert_msg (strstr (out, "main: cards 110.00, pool 0.00, sum 0.00: balanced") != NULL
                 && strstr (out, "tea: cards 0.00, pool 0.00, sum 0.00: balanced") != NULL, "%s", out);

  ck_assert_msg (ct_test_service_restart (svc, &error), "%s", error ? error->message : "");
  ct_test_client_free (cl);
  ct_test_client_free (cl_b);
  cl = ct_test_client_new (svc);
  cl_b = ct_test_client_new_for_token (svc, token_b);
  /* main's shift: float 200.00 and a cash top-up of 100.00. */
  r = req_on (cl, "GET", "/v1/shifts/current", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.expected_cash"), 30000);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.outcome_cash"), 0);
  g_clear_pointer (&r, ct_test_response_free);

  r = req_on (cl, "POST", "/v1/outcomes", "{\"card_no\":\"70001234\",\"idempotency_key\":\"refused-1\","
                                          "\"kind\":\"topup\",\"outcome\":\"cash returned\","
                                          "\"cash_given_back\":2500," MGR "}");
  expect_status (r, 201, NULL);
  shift = ct_test_json_str (r->body, "shift_id");
  ck_assert_str_eq (shift, "1");
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl, "GET", "/v1/shifts/current", NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.outcome_cash"), 2500);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.expected_cash"), 27500);
  g_clear_pointer (&r, ct_test_response_free);
  /* tea's till s1/t1 has a shift of its own, untouched. */
  r = req_on (cl_b, "GET", "/v1/shifts/current", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "shift.float"), 5000);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.outcome_cash"), 0);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.expected_cash"), 5000);
}
END_TEST

/* Moving a service of several merchants from SQLite to PostgreSQL */

static char *pg_uri;

/* The service on SQLite, with both merchants, whatever CT_TEST_PG says. */
static void
lite_setup (void)
{
  g_unsetenv ("CT_TEST_PG");
  setup ();
  g_setenv ("CT_TEST_PG", pg_uri, TRUE);
}

START_TEST (test_merchants_copy_to_postgresql_keeps_each_merchant_apart)
{
  g_autofree char *no = issue (cl, NULL, NULL, MGR);
  g_autofree char *same = issue (cl_b, no, NULL, MGR_B);
  g_autofree char *target = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = card_post (cl, no, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");

  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, same, "topups", "{\"package_id\":\"pb50\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, same, "payments", "{\"amount\":500,\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  /* Cash handed back through an outcome in shopb's open shift. */
  r = req_on (cl_b, "POST", "/v1/shifts", "{\"operator\":\"bo\",\"float\":1000}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = req_on (cl_b, "POST", "/v1/outcomes", "{\"card_no\":\"-\",\"idempotency_key\":\"refused-1\","
                                            "\"kind\":\"topup\",\"outcome\":\"cash returned\","
                                            "\"cash_given_back\":300," MGR_B "}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl_b, same, "member-pin", "{\"member_pin\":\"508142\"," MGR_B "}");
  expect_status (r, 200, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);

  ck_assert (ct_test_store_new (ct_test_service_get_data_dir (svc), &target, &error));
  {
    const char *argv[] = { ct_test_service_get_binary (), "copy", "--from", ct_test_service_get_db_path (svc),
                           "--to", target, NULL };
    int ws = 0;

    ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &ws,
                             NULL));
    ck_assert_msg (WEXITSTATUS (ws) == 0, "%s", out);
  }
  ck_assert_msg (strstr (out, "ledger check of main") != NULL && strstr (out, "ledger check of shopb") != NULL
                 && strstr (out, "DIFFERENT") == NULL, "%s", out);

  /* Both merchants' tills keep their tokens and their own cards. */
  ct_test_service_set_db (svc, target);
  ck_assert_msg (ct_test_service_restart (svc, &error), "%s", error ? error->message : "");
  ct_test_client_free (cl);
  ct_test_client_free (cl_b);
  cl = ct_test_client_new (svc);
  cl_b = ct_test_client_new_for_token (svc, token_b);
  ck_assert_int_eq (balance (cl, no), 11000);
  ck_assert_int_eq (balance (cl_b, no), 5000);
  ck_assert_int_eq (pool (cl), 0);
  ck_assert_int_eq (pool (cl_b), 500);
  /* The member PIN came along, with its merchant's card only. */
  r = card_post (cl_b, no, "payments", "{\"amount\":100,\"member_pin\":\"508142\",\"operator\":\"op\"}");
  expect_status (r, 201, NULL);
  g_clear_pointer (&r, ct_test_response_free);
  r = card_post (cl, no, "payments", "{\"amount\":100,\"member_pin\":\"508142\",\"operator\":\"op\"}");
  expect_status (r, 403, "member_pin_not_set");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (balance (cl_b, no), 4900);
  ck_assert_int_eq (balance (cl, no), 11000);
  r = req_on (cl_b, "GET", "/v1/shifts/current", NULL);
  expect_status (r, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.outcome_cash"), 300);
  ck_assert_int_eq (ct_test_json_int (r->body, "report.expected_cash"), 1000 - 300);
  g_clear_pointer (&r, ct_test_response_free);
  g_clear_pointer (&out, g_free);
  admin_ok (&out, "merchant", "list");
  ck_assert_msg (strstr (out, "main  Test Shop") != NULL && strstr (out, "shopb  Shop B") != NULL, "%s", out);
}
END_TEST

static Suite *
merchants_suite (void)
{
  Suite *s = suite_create ("service-merchants");
  struct
  {
    const char *name;
    const TTest *tests[8];
  } cases[] = {
    { "isolation", { test_merchants_one_card_number_under_two_merchants_keeps_two_cards,
                     test_merchants_a_till_cannot_see_pay_refund_top_up_or_change_another_merchants_card,
                     test_merchants_managers_and_their_pin_locks_stay_in_their_merchant,
                     test_merchants_imports_decide_card_exists_within_a_merchant,
                     test_merchants_a_taken_number_in_a_group_of_imported_rows_rejects_that_row_alone } },
    { "admin", { test_merchants_admin_commands_take_merchant_and_refuse_an_unknown_one,
                 test_merchants_ledger_check_sums_each_merchant } },
    { "upgrade", { test_merchants_upgrade_moves_an_old_ledger_into_the_first_merchant,
                   test_merchants_upgrade_adds_outcome_cash_to_each_merchants_shifts,
                   test_merchants_upgrade_normalises_stored_phones } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);

      tcase_add_checked_fixture (tc, setup, teardown);
      tcase_set_timeout (tc, 90);
      for (int j = 0; cases[i].tests[j] != NULL; j++)
        _tcase_add_test (tc, cases[i].tests[j], 0, 0, 0, 1);
      suite_add_tcase (s, tc);
    }
  /* The copy needs a PostgreSQL cluster to copy to. */
  pg_uri = g_strdup (g_getenv ("CT_TEST_PG"));
  if (pg_uri != NULL)
    {
      TCase *tc = tcase_create ("copy");

      tcase_add_checked_fixture (tc, lite_setup, teardown);
      tcase_set_timeout (tc, 90);
      tcase_add_test (tc, test_merchants_copy_to_postgresql_keeps_each_merchant_apart);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (merchants_suite ());
  int failed;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
