/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-store"
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-service-auth.h"
#include "ct-sqlite-pcache.h"
#include "ct-sqlite-walbuf.h"
#include "ct-service.h"
#include "ct-test-service.h"
#include "ct-store.h"
#include "ct-strict-json.h"

/* The service's parts without a server: the strict JSON validator, PIN and
 * token hashing, the store's balance floors and the check order of the
 * request parsers. */

static gboolean
valid (const char *text)
{
  return ct_strict_json_validate (text, strlen (text), NULL);
}

static int
invalid_code (const char *text)
{
  g_autoptr(GError) error = NULL;

  ck_assert_msg (!ct_strict_json_validate (text, strlen (text), &error), "accepted: %s", text);
  ck_assert (error->domain == CT_STRICT_JSON_ERROR);
  return error->code;
}

START_TEST (test_strict_json_accepts_plain_json)
{
  ck_assert (valid ("{}"));
  ck_assert (valid (" {\"a\": [1, -2, 0, true, false, null, \"x\\u00e9\\n\"], \"b\": {\"c\": {}}} "));
  ck_assert (valid ("{\"max\":9223372036854775807,\"min\":-9223372036854775808}"));
  /* 18 digits always fit and are not converted; 19 are. */
  ck_assert (valid ("{\"a\":999999999999999999,\"b\":-999999999999999999,\"c\":-0}"));
  ck_assert (!valid ("{\"a\":9999999999999999999}"));
  ck_assert (!valid ("{\"a\":-9999999999999999999}"));
  ck_assert (valid ("{\"emoji\":\"\\ud83d\\ude00\",\"raw\":\"\xe4\xbd\xa0\"}"));
  ck_assert (valid ("{\"a\":1,\"A\":2}"));
}
END_TEST

START_TEST (test_strict_json_rejects_non_integers_and_out_of_range)
{
  ck_assert_int_eq (invalid_code ("{\"a\":12.0}"), CT_STRICT_JSON_ERROR_NUMBER);
  ck_assert_int_eq (invalid_code ("{\"a\":1e3}"), CT_STRICT_JSON_ERROR_NUMBER);
  ck_assert_int_eq (invalid_code ("{\"a\":1E3}"), CT_STRICT_JSON_ERROR_NUMBER);
  ck_assert_int_eq (invalid_code ("{\"a\":9223372036854775808}"), CT_STRICT_JSON_ERROR_NUMBER);
  ck_assert_int_eq (invalid_code ("{\"a\":-9223372036854775809}"), CT_STRICT_JSON_ERROR_NUMBER);
  ck_assert_int_eq (invalid_code ("{\"a\":123456789012345678901234567890}"), CT_STRICT_JSON_ERROR_NUMBER);
  ck_assert_int_eq (invalid_code ("{\"a\":01}"), CT_STRICT_JSON_ERROR_SYNTAX);
  ck_assert_int_eq (invalid_code ("{\"a\":-}"), CT_STRICT_JSON_ERROR_SYNTAX);
  ck_assert_int_eq (invalid_code ("{\"a\":+1}"), CT_STRICT_JSON_ERROR_SYNTAX);
}
END_TEST

START_TEST (test_strict_json_rejects_duplicate_keys_even_escaped)
{
  ck_assert_int_eq (invalid_code ("{\"a\":1,\"a\":2}"), CT_STRICT_JSON_ERROR_DUPLICATE_KEY);
  ck_assert_int_eq (invalid_code ("{\"a\":1,\"\\u0061\":2}"), CT_STRICT_JSON_ERROR_DUPLICATE_KEY);
  ck_assert_int_eq (invalid_code ("{\"x\":{\"m\":1,\"n\":2,\"m\":3}}"), CT_STRICT_JSON_ERROR_DUPLICATE_KEY);
  ck_assert (valid ("{\"x\":{\"m\":1},\"y\":{\"m\":1}}"));
}
END_TEST

START_TEST (test_strict_json_rejects_malformed_input)
{
  const char *bad[] = { "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{\"a\":1} x",
                        "{'a':1}", "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
                        "{\"a\":\"\\u0000\"}", "{\"a\":\"\xff\"}", "{\"a\":NaN}", "{\"a\":\"unterminated}" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    invalid_code (bad[i]);
}
END_TEST

START_TEST (test_strict_json_limits_depth)
{
  g_autoptr(GString) deep = g_string_new (NULL);

  for (int i = 0; i < 100; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 100; i++)
    g_string_append_c (deep, ']');
  ck_assert_int_eq (invalid_code (deep->str), CT_STRICT_JSON_ERROR_TOO_DEEP);
}
END_TEST

START_TEST (test_strict_json_parse_builds_what_it_validated)
{
  const char *text = "{\"amount\":9223372036854775807,\"s\":\"a\\\"b\"}";
  json_object *obj = ct_strict_json_parse (text, strlen (text), NULL);
  json_object *v = NULL;

  ck_assert_ptr_nonnull (obj);
  ck_assert (json_object_object_get_ex (obj, "amount", &v));
  ck_assert (json_object_is_type (v, json_type_int));
  ck_assert (json_object_get_int64 (v) == G_MAXINT64);
  json_object_put (obj);
}
END_TEST

/* The values of the members named pin or member_pin in @text, joined by
 * '|', as ct_strict_json_find_members() finds them. */
static char *
pins_found (const char *text)
{
  static const char * const keys[] = { "pin", "member_pin", NULL };
  g_autoptr(GArray) spans = ct_strict_json_find_members (text, strlen (text), keys);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < spans->len; i++)
    {
      const CtJsonSpan *span = &g_array_index (spans, CtJsonSpan, i);

      ck_assert (span->start <= span->end && span->end <= strlen (text));
      if (i > 0)
        g_string_append_c (out, '|');
      g_string_append_len (out, text + span->start, span->end - span->start);
    }
  return g_string_free (out, FALSE);
}

#define ck_assert_pins(text, want) \
  G_STMT_START { g_autofree char *got_ = pins_found (text); ck_assert_str_eq (got_, want); } G_STMT_END

START_TEST (test_strict_json_finds_pin_values_even_in_refused_bodies)
{
  ck_assert_pins ("{\"amount\":300,\"operator\":\"op\"}", "");
  ck_assert_pins ("{\"member_pin\":\"918273\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}",
                  "\"918273\"|\"246813\"");
  ck_assert_pins ("{ \"cashier\" : \"c1\" , \"pin\" : \"1234\" }", "\"1234\"");
  /* Names and values that only look like a PIN member are not one. */
  ck_assert_pins ("{\"op\":\"pin\",\"x\":[\"pin\",\"member_pin\"],\"pins\":\"1\",\"note\":\"\\\"pin\\\":\\\"9\\\"\"}",
                  "");
  /* An escaped name is the name it spells; a value of any type is taken
   * whole. */
  ck_assert_pins ("{\"p\\u0069n\":\"4321\"}", "\"4321\"");
  ck_assert_pins ("{\"pin\":246813,\"member_pin\":[\"1\",{\"pin\":\"2\"}]}", "246813|[\"1\",{\"pin\":\"2\"}]");
  ck_assert_pins ("{\"rows\":[{\"member_pin\":\"112233\"},{\"member_pin\":\"445566\"}]}",
                  "\"112233\"|\"445566\"");
  /* Bodies the strict parser refuses still have their PINs found. */
  ck_assert_pins ("{\"amount\":1.5,\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}", "\"246813\"");
  ck_assert_pins ("{\"pin\":\"1\",\"pin\":\"2\"}", "\"1\"|\"2\"");
  ck_assert_pins ("{\"pin\":\"12\\u00", "\"12\\u00");
  /* A name that is not a well-formed string is compared as its bytes. */
  ck_assert_pins ("{\"pin\":\"1\",\"p\x01n\":\"2\",\"pi\xffn\":\"3\"}", "\"1\"");
  ck_assert_pins ("{\"p\\qn\":\"1\",\"member_pin\":\"2\"}", "\"2\"");
  ck_assert_pins ("{\"pin", "");
  ck_assert_pins ("{\"pin\":", "");
  ck_assert_pins ("]]}}{\"pin\":\"7\"", "\"7\"");
  ck_assert_pins ("", "");
}
END_TEST

START_TEST (test_pin_hash_is_salted_and_verifies)
{
  g_autofree char *h1 = ct_auth_pin_hash ("2468", NULL);
  g_autofree char *h2 = ct_auth_pin_hash ("2468", NULL);

  ck_assert (g_str_has_prefix (h1, "pbkdf2-sha256$"));
  ck_assert_str_ne (h1, h2);
  ck_assert (ct_auth_pin_verify ("2468", h1));
  ck_assert (!ct_auth_pin_verify ("2469", h1));
  ck_assert (ct_auth_pin_verify_cached ("m1", "2468", h1));
  ck_assert (ct_auth_pin_verify_cached ("m1", "2468", h1));
  ck_assert (ct_auth_pin_verify_cached ("m1", "2468", h2));
  ck_assert (!ct_auth_pin_verify_cached ("m1", "1111", h1));
  ck_assert (!ct_auth_pin_verify ("2468", "garbage"));
  ck_assert (ct_auth_pin_hash ("12", NULL) == NULL);
}
END_TEST

START_TEST (test_tokens_are_random_and_hashed)
{
  g_autofree char *a = ct_auth_new_token ();
  g_autofree char *b = ct_auth_new_token ();
  guint8 ha[32], hb[32];

  ck_assert_int_eq (strlen (a), 43);
  ck_assert_str_ne (a, b);
  ct_auth_token_hash (a, ha);
  ct_auth_token_hash (b, hb);
  ck_assert (memcmp (ha, hb, 32) != 0);
}
END_TEST

/* The store tests run against the backend under test: SQLite, or the
 * PostgreSQL cluster of tests/ct-pg-run.sh. */
static char *tmpdir;
static char *location;
static CtStore *store;

static void
store_setup (void)
{
  CtStoreMerchant m = { (char *) "Shop", (char *) "CNY", 2, (char *) "fixed", 100, 1000000, 1,
                   (char *) "Asia/Shanghai", 0, 0, (char *) "8888" };
  g_autoptr(GError) error = NULL;
  CtStore *created;

  tmpdir = g_dir_make_tmp ("ct-store-XXXXXX", NULL);
  ck_assert_msg (ct_test_store_new (tmpdir, &location, &error), "%s", error ? error->message : "");
  created = ct_store_create (location, &m, &error);
  ck_assert_msg (created != NULL, "%s", error ? error->message : "");
  ct_store_free (created);
  store = ct_store_open (location, 2, &error);
  ck_assert_msg (store != NULL, "%s", error ? error->message : "");
}

static void
store_teardown (void)
{
  ct_store_free (store);
  /* The directory holds the database and its WAL files. */
  {
    GDir *d = g_dir_open (tmpdir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name (d)))
      {
        g_autofree char *p = g_build_filename (tmpdir, name, NULL);
        g_unlink (p);
      }
    if (d)
      g_dir_close (d);
  }
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&location, g_free);
}

START_TEST (test_store_create_refuses_an_existing_database)
{
  CtStoreMerchant m = { (char *) "Shop", (char *) "CNY", 2, (char *) "fixed", 100, 1000000, 1,
                   (char *) "UTC", 0, 0, (char *) "8888" };
  g_autoptr(GError) error = NULL;

  ck_assert_ptr_null (ct_store_create (location, &m, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_ALREADY_INITIALIZED));
}
END_TEST

START_TEST (test_store_debits_never_go_below_zero)
{
  CtStoreCard card = { (char *) "CARD-1", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting credit[] = { { CT_ACCOUNT_CASH, -500 }, { "CARD-1", 500 } };
  CtStorePosting debit[] = { { "CARD-1", -501 }, { CT_ACCOUNT_POOL, 501 } };
  CtStorePosting pool_debit[] = { { CT_ACCOUNT_POOL, -1 }, { "CARD-1", 1 } };
  g_autoptr(GError) error = NULL;
  CtStoreLedgerCheck check;

  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_insert (store, &card, NULL));
  ck_assert (ct_store_post (store, credit, 2, NULL));
  ck_assert (ct_store_savepoint (store, NULL));
  ck_assert (!ct_store_post (store, debit, 2, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT));
  ct_store_rollback_savepoint (store);
  ck_assert (ct_store_release_savepoint (store, NULL));
  g_clear_error (&error);
  /* A refused post may have applied its other postings: the caller rolls
   * its savepoint back, as the service does. */
  ck_assert (ct_store_savepoint (store, NULL));
  ck_assert (!ct_store_post (store, pool_debit, 2, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT));
  ct_store_rollback_savepoint (store);
  ck_assert (ct_store_release_savepoint (store, NULL));
  ck_assert (ct_store_commit (store, NULL));
  ck_assert_int_eq (ct_store_account_balance (store, "CARD-1", NULL), 500);
  ck_assert (ct_store_ledger_check (store, &check, NULL));
  ck_assert_int_eq (check.sum, 0);
  ck_assert_int_eq (check.cash, -500);
  /* The balance moved without a transaction row: postings do not match. */
  ck_assert (!check.balances_match);
}
END_TEST

START_TEST (test_store_credits_follow_reads_and_savepoints)
{
  CtStoreCard card = { (char *) "CARD-9", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting topup[] = { { CT_ACCOUNT_CASH, -1000 }, { "CARD-9", 1000 } };
  CtStorePosting pay100[] = { { "CARD-9", -100 }, { CT_ACCOUNT_POOL, 100 } };
  CtStorePosting pay200[] = { { "CARD-9", -200 }, { CT_ACCOUNT_POOL, 200 } };
  CtStorePosting pay50[] = { { "CARD-9", -50 }, { CT_ACCOUNT_POOL, 50 } };
  CtStorePosting pay25[] = { { "CARD-9", -25 }, { CT_ACCOUNT_POOL, 25 } };
  CtStoreLedgerCheck check;

  /* PostgreSQL holds a transaction's credits to the pool back and writes
   * them summed: a read of the pool inside the transaction sees them, and
   * a rollback to a savepoint takes back the ones made after it. */
  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_insert (store, &card, NULL));
  ck_assert (ct_store_post (store, topup, 2, NULL));
  ck_assert (ct_store_post (store, pay100, 2, NULL));
  ck_assert (ct_store_post (store, pay200, 2, NULL));
  ck_assert_int_eq (ct_store_account_balance (store, CT_ACCOUNT_POOL, NULL), 300);
  ck_assert (ct_store_post (store, pay100, 2, NULL));
  ck_assert (ct_store_savepoint (store, NULL));
  ck_assert (ct_store_post (store, pay50, 2, NULL));
  ct_store_rollback_savepoint (store);
  ck_assert (ct_store_release_savepoint (store, NULL));
  ck_assert (ct_store_savepoint (store, NULL));
  ck_assert (ct_store_post (store, pay25, 2, NULL));
  ck_assert (ct_store_release_savepoint (store, NULL));
  ck_assert (ct_store_commit (store, NULL));
  ck_assert_int_eq (ct_store_account_balance (store, CT_ACCOUNT_POOL, NULL), 425);
  ck_assert_int_eq (ct_store_account_balance (store, "CARD-9", NULL), 575);
  ck_assert (ct_store_ledger_check (store, &check, NULL));
  ck_assert_int_eq (check.sum, 0);
  ck_assert_int_eq (check.pool, 425);
}
END_TEST

static void top_up_card (CtStoreCard *card, int64_t amount);

/* PostgreSQL: a transaction that took a payment and then a top-up holds
 * no pool slot before its commit: the top-up's debit of its tender, an
 * account without a floor, waits with the credits. Holding a slot, a
 * group waited for a later card of its own that a refund alone held,
 * while the refund waited for every slot of the pool. */
START_TEST (test_store_a_top_up_locks_no_pool_slot_before_the_commit)
{
  CtStoreCard a = { (char *) "CARD-71", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStoreCard b = { (char *) "CARD-72", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting pay[] = { { "CARD-71", -100 }, { CT_ACCOUNT_POOL, 100 } };
  CtStorePosting top[] = { { CT_ACCOUNT_CASH, -300 }, { "CARD-72", 300 } };
  CtStorePosting bonus[] = { { CT_ACCOUNT_PROMO, -30 }, { "CARD-72", 30 } };
  const char *free_slots = "SELECT count (*) FROM (SELECT 1 FROM account_slots WHERE name = '@pool'"
                           " FOR UPDATE SKIP LOCKED) s";
  g_autoptr(CtTestDb) other = NULL;
  g_autoptr(GPtrArray) all = NULL, free_now = NULL;
  CtStoreLedgerCheck check;

  if (!ct_test_store_is_pg ())
    return;
  top_up_card (&a, 1000);
  top_up_card (&b, 1000);
  other = ct_test_db_open (location);
  all = ct_test_db_query (other, "SELECT count (*) FROM account_slots WHERE name = '@pool'");

  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_post (store, pay, 2, NULL));
  ck_assert (ct_store_post (store, top, 2, NULL));
  ck_assert (ct_store_post (store, bonus, 2, NULL));
  free_now = ct_test_db_query (other, free_slots);
  ck_assert_str_eq (((char **) free_now->pdata[0])[0], ((char **) all->pdata[0])[0]);
  ck_assert (ct_store_commit (store, NULL));

  ck_assert_int_eq (ct_store_account_balance (store, "CARD-71", NULL), 900);
  ck_assert_int_eq (ct_store_account_balance (store, "CARD-72", NULL), 1330);
  ck_assert_int_eq (ct_store_account_balance (store, CT_ACCOUNT_CASH, NULL), -2300);
  ck_assert_int_eq (ct_store_account_balance (store, CT_ACCOUNT_PROMO, NULL), -30);
  ck_assert (ct_store_ledger_check (store, &check, NULL));
  ck_assert_int_eq (check.sum, 0);
  ck_assert_int_eq (check.pool, 100);
}
END_TEST

START_TEST (test_store_refunds_never_give_back_more_than_the_transaction_took)
{
  CtStoreCard card = { (char *) "CARD-2", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStoreTx tx = { 0 };
  CtStoreTx r1 = { 0 }, r2 = { 0 };
  CtStoreTx read = { 0 };
  g_autoptr(GError) error = NULL;
  int64_t before = -1, refunded = -1;

  tx.card_no = r1.card_no = r2.card_no = (char *) "CARD-2";
  tx.kind = (char *) "payment";
  tx.delta = -1000;
  r1.kind = r2.kind = (char *) "refund";
  tx.store = r1.store = r2.store = (char *) "s";
  tx.till = r1.till = r2.till = (char *) "t";
  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_insert (store, &card, NULL));
  ck_assert (ct_store_tx_insert (store, &tx, NULL, 0, NULL));
  ck_assert (ct_store_tx_refunded (store, tx.id, &refunded, NULL));
  ck_assert_int_eq (refunded, 0);
  /* Two parts of one payment: both refunds name it. */
  ck_assert (ct_store_refund_claim (store, tx.id, 1000, 600, &before, NULL));
  ck_assert_int_eq (before, 0);
  r1.refund_of = r2.refund_of = tx.id;
  ck_assert (ct_store_tx_insert (store, &r1, NULL, 0, NULL));
  ck_assert (ct_store_refund_claim (store, tx.id, 1000, 300, &before, NULL));
  ck_assert_int_eq (before, 600);
  ck_assert (ct_store_tx_insert (store, &r2, NULL, 0, NULL));
  /* 100 is left: 101 is refused and says what was given back. */
  ck_assert (!ct_store_refund_claim (store, tx.id, 1000, 101, &before, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT));
  ck_assert_int_eq (before, 900);
  ck_assert (ct_store_tx_refunded (store, tx.id, &refunded, NULL));
  ck_assert_int_eq (refunded, 900);
  ck_assert (ct_store_tx_get (store, tx.id, &read, NULL));
  ck_assert_int_eq (read.refunded, 900);
  ct_store_tx_clear (&read);
  ct_store_rollback (store);
}
END_TEST

static gpointer
claim_elsewhere (gpointer data)
{
  GError **error = data;
  gboolean claimed;

  ck_assert (ct_store_begin (store, NULL));
  claimed = ct_store_claim_key (store, 1, "k", error);
  ck_assert (ct_store_claim_key (store, 2, "k", NULL));
  ct_store_rollback (store);
  return GINT_TO_POINTER (claimed);
}

START_TEST (test_store_keys_claim_once)
{
  g_autoptr(GError) error = NULL;

  if (!ct_store_batches_writes (store))
    {
      /* Claims taken in the database last as long as the transaction that
       * took them, and shut out every other connection meanwhile. */
      ck_assert (ct_store_begin (store, NULL));
      ck_assert (ct_store_claim_key (store, 1, "k", NULL));
      ck_assert (!GPOINTER_TO_INT (g_thread_join (g_thread_new ("claim", claim_elsewhere, &error))));
      ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS));
      ct_store_rollback (store);
      g_clear_error (&error);
      ck_assert (GPOINTER_TO_INT (g_thread_join (g_thread_new ("claim", claim_elsewhere, &error))));
      return;
    }
  ck_assert (ct_store_claim_key (store, 1, "k", NULL));
  ck_assert (!ct_store_claim_key (store, 1, "k", &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS));
  ck_assert (ct_store_claim_key (store, 2, "k", NULL));
  ct_store_unclaim_key (store, 1, "k");
  ck_assert (ct_store_claim_key (store, 1, "k", NULL));
}
END_TEST

START_TEST (test_day_range_follows_the_merchant_time_zone)
{
  int64_t from, to;

  ck_assert (ct_service_day_range ("Asia/Shanghai", "2026-01-02", &from, &to));
  /* Midnight in Shanghai is 16:00 UTC the day before. */
  ck_assert (from == G_GINT64_CONSTANT (1767283200000));
  ck_assert (to - from == 86400000);
  ck_assert (!ct_service_day_range ("UTC", "2026-02-30", &from, &to));
  ck_assert (!ct_service_day_range ("UTC", "26-01-01", &from, &to));
}
END_TEST

START_TEST (test_parsers_refuse_before_the_ledger_sees_a_request)
{
  struct { const char *method, *path, *body; guint status; } cases[] = {
    { "POST", "/v1/cards/X/payments", "{\"amount\":1,\"operator\":\"op\"}", 0 },
    { "POST", "/v1/cards/X/payments", "{\"operator\":\"op\"}", 400 },
    { "POST", "/v1/cards/X/topups", "{\"operator\":\"op\"}", 400 },
    { "POST", "/v1/cards/X/topups", "{\"package_id\":\"p\",\"expect\":{\"amount\":1},\"operator\":\"op\"}", 400 },
    { "POST", "/v1/cards/X/refunds", "{\"transaction_id\":7,\"operator\":\"op\"}", 400 },
    { "POST", "/v1/cards/X/adjustments", "{\"delta\":5}", 400 },
    { "POST", "/v1/cards/X/adjustments", "{\"delta\":5,\"reason\":\"r\",\"manager\":\"m1\"}", 400 },
    { "POST", "/v1/cards", "{\"operator\":\"op\"}", 400 },
    { "POST", "/v1/cards", "{\"member\":{\"name\":\"A\",\"phone\":\"abc\"},\"operator\":\"op\"}", 400 },
    { "PATCH", "/v1/cards/X", "{\"status\":\"gone\"}", 400 },
    { "PATCH", "/v1/cards/X", "{\"level\":null}", 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtReply) r = ct_service_parse_body (cases[i].method, cases[i].path, cases[i].body,
                                                    strlen (cases[i].body));
      ck_assert_msg ((r ? r->status : 0) == cases[i].status, "%s: %s", cases[i].body, r ? r->body : "accepted");
    }
}
END_TEST

/* The import's rows are read from the body's text, not from json-c's tree:
 * each shape refused names the row and field, as it did from the tree. */
START_TEST (test_import_body_refusals_name_the_row_and_field)
{
#define IMPORT_BODY(rows) "{\"batch_id\":\"b1\",\"rows\":" rows ",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}"
  struct { const char *body, *says; } cases[] = {
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0}]"), NULL },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":5,\"points\":null,\"name\":null,\"phone\":\"\","
                   "\"level\":\"gold\"},\n {\"card_no\":\"X2\",\"\\u006cine\":2,\"balance\":0,\"name\":\"A \\\"B\\\"\"}]"),
      NULL },
    { IMPORT_BODY ("[]"), "holds 1 to 5000 rows, not 0" },
    { IMPORT_BODY ("{}"), "must be an array of rows" },
    { "{\"batch_id\":\"b1\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}", "must be an array of rows" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0}, 7]"), "rows[1] must be an object" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0,\"email\":{\"a\":[1]}}]"),
      "rows[0].email" },
    { IMPORT_BODY ("[{\"card_no\":\"X1\",\"balance\":0}]"), "rows[0].line is required" },
    { IMPORT_BODY ("[{\"line\":null,\"card_no\":\"X1\",\"balance\":0}]"), "rows[0].line is required" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":\"5\"}]"), "rows[0].balance must be a JSON integer" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0,\"points\":true}]"),
      "rows[0].points must be a JSON integer" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0,\"name\":5}]"),
      "rows[0].name must be a string or null" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0,\"level\":[\"a\"]}]"),
      "rows[0].level must be a string or null" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":12,\"balance\":0}]"), "rows[0].card_no must be a string" },
    { IMPORT_BODY ("[{\"line\":1,\"balance\":0}]"), "rows[0].card_no must be a string" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0,\"line\":2}]"), "duplicate key" },
    { IMPORT_BODY ("[{\"line\":1,\"card_no\":\"X1\",\"balance\":0,\"l\\u0069ne\":2}]"), "duplicate key" },
    { IMPORT_BODY ("[{\"line\":1.5,\"card_no\":\"X1\",\"balance\":0}]"), "not an integer" },
    { "{\"batch_id\":\"b1\",\"rows\":[],\"rows\":[{\"line\":1,\"card_no\":\"X1\",\"balance\":0}]}", "duplicate key" },
    { "[1]", "must be a JSON object" },
  };
  g_autoptr(GString) many = g_string_new ("[");
  g_autoptr(GString) long_card = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtReply) r = ct_service_parse_body ("POST", "/v1/imports", cases[i].body, strlen (cases[i].body));

      if (cases[i].says == NULL)
        ck_assert_msg (r == NULL, "%s: %s", cases[i].body, r ? r->body : "");
      else
        ck_assert_msg (r != NULL && r->status == 400 && strstr (r->body, cases[i].says) != NULL, "%s: %s",
                       cases[i].body, r ? r->body : "accepted");
    }

  /* 5,001 rows are one too many; a card number of 65 bytes too long. */
  for (guint i = 0; i < 5001; i++)
    g_string_append_printf (many, "%s{\"line\":%u,\"card_no\":\"X%u\",\"balance\":0}", i ? "," : "", i + 1, i);
  g_string_append_c (many, ']');
  {
    g_autofree char *body = g_strdup_printf (IMPORT_BODY ("%s"), many->str);
    g_autoptr(CtReply) r = ct_service_parse_body ("POST", "/v1/imports", body, strlen (body));

    ck_assert_msg (r != NULL && strstr (r->body, "not 5001") != NULL, "%s", r ? r->body : "accepted");
  }
  g_string_append_printf (long_card, "[{\"line\":1,\"card_no\":\"%065d\",\"balance\":0}]", 0);
  {
    g_autofree char *body = g_strdup_printf (IMPORT_BODY ("%s"), long_card->str);
    g_autoptr(CtReply) r = ct_service_parse_body ("POST", "/v1/imports", body, strlen (body));

    ck_assert_msg (r != NULL && strstr (r->body, "rows[0].card_no is too long") != NULL, "%s",
                   r ? r->body : "accepted");
  }
#undef IMPORT_BODY
}
END_TEST

/* The answers of payments and top-ups are written as text: byte for byte
 * what json-c prints for the same card and transaction, whatever the
 * strings hold (quotes, backslashes, control characters, Chinese, NULL). */
START_TEST (test_answer_text_is_what_json_c_prints)
{
  const char *names[] = { "Plain", "Zh\u00e0ng \u5f20\u4e09", "say \"hi\" \\ back/slash", "tab\tnew\nline\r\b\f",
                          "\x01\x1f\x7f end", "", NULL };
  const int64_t times[] = { 0, 1, 1772357400250, 1700000000999, 253402300799999, 253402300800000, -5 };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    for (guint k = 0; k < G_N_ELEMENTS (times); k++)
      {
        CtStoreCard card = { .card_no = (char *) "8800000000000017", .status = (char *) "active",
                             .level = i % 2 ? NULL : (char *) "gold", .name = (char *) names[i],
                             .phone = i % 3 ? (char *) "+86 138 0000 0000" : NULL,
                             .balance = G_MAXINT64 - (int64_t) i, .points = -(int64_t) k,
                             .created_at = times[k], .updated_at = times[(k + 1) % G_N_ELEMENTS (times)] };
        CtStoreTx tx = { .id = (int64_t) i * 1000003 + (int64_t) k, .card_no = card.card_no,
                         .kind = (char *) "payment", .delta = -1, .bonus = (int64_t) k,
                         .balance_after = card.balance, .points_delta = G_MININT64 + 1,
                         .points_after = 7, .store = (char *) "s1", .till = (char *) names[i],
                         .operator_name = (char *) names[(i + 1) % G_N_ELEMENTS (names)],
                         .manager = NULL, .reason = (char *) "\"", .order_ref = (char *) names[i],
                         .refund_of = k % 2 ? 42 : 0, .created_at = times[k] };
        json_object *cj = ct_service_card_to_json (&card);
        json_object *tj = ct_service_tx_to_json (&tx);
        g_autoptr(GString) ct = g_string_new (NULL);
        g_autoptr(GString) tt = g_string_new (NULL);
        const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

        ct_service_card_write (ct, &card);
        ct_service_tx_write (tt, &tx);
        ck_assert_str_eq (ct->str, json_object_to_json_string_ext (cj, flags));
        ck_assert_str_eq (tt->str, json_object_to_json_string_ext (tj, flags));
        json_object_put (cj);
        json_object_put (tj);
      }
  {
    g_autofree char *t1 = ct_service_format_time (1772357400250);
    g_autofree char *t2 = ct_service_format_time (951782400007);
    g_autofree char *t3 = ct_service_format_time (253402300799999);

    ck_assert_str_eq (t1, "2026-03-01T09:30:00.250Z");
    ck_assert_str_eq (t2, "2000-02-29T00:00:00.007Z");
    ck_assert_str_eq (t3, "9999-12-31T23:59:59.999Z");
  }
}
END_TEST

/* What a request reads back inside its transaction is what it wrote there,
 * whatever the store read ahead or holds back for a later round trip. */
START_TEST (test_store_reads_see_the_transaction_s_own_writes)
{
  CtStoreCard card = { (char *) "CARD-3", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting credit[] = { { CT_ACCOUNT_CASH, -700 }, { "CARD-3", 700 } };
  CtStoreLevel gold = { (char *) "gold", (char *) "Gold", 100, 10000, 500, 0 };
  CtStoreMerchant m = { 0 };
  g_auto(CtStoreCard) after = { 0 };
  g_autoptr(GPtrArray) levels = NULL;
  g_autofree char *body = NULL;
  CtStoreKeyState state;
  guint8 hash[32] = { 1 }, got[32];
  guint status = 0;

  if (ct_store_batches_writes (store))
    ck_assert (ct_store_claim_key (store, 1, "own", NULL));
  ck_assert (ct_store_begin (store, NULL));
  if (!ct_store_batches_writes (store))
    ck_assert (ct_store_claim_key (store, 1, "own", NULL));
  ck_assert (ct_store_level_put (store, &gold, NULL));
  levels = ct_store_level_list (store, NULL);
  ck_assert_ptr_nonnull (levels);
  ck_assert_uint_eq (levels->len, 1);
  ck_assert (ct_store_key_put (store, 1, "own", hash, 201, "{}", NULL));
  ck_assert (ct_store_key_get (store, 1, "own", &state, got, &status, &body, NULL));
  ck_assert_int_eq (state, CT_STORE_KEY_DONE);
  ck_assert_uint_eq (status, 201);
  /* The next claim of a group in the same transaction reads the levels as
   * they are now, not as the first claim found them. */
  if (!ct_store_batches_writes (store))
    {
      g_clear_pointer (&levels, g_ptr_array_unref);
      ck_assert (ct_store_claim_key (store, 1, "own-next", NULL));
      levels = ct_store_level_list (store, NULL);
      ck_assert_ptr_nonnull (levels);
      ck_assert_uint_eq (levels->len, 1);
    }
  ck_assert (ct_store_card_insert (store, &card, NULL));
  ck_assert (ct_store_post (store, credit, 2, NULL));
  ck_assert (ct_store_card_get (store, "CARD-3", &after, NULL));
  ck_assert_int_eq (after.balance, 700);
  ct_store_card_clear (&after);
  ck_assert (ct_store_card_add_points (store, "CARD-3", 9, NULL, NULL));
  ck_assert (ct_store_card_get (store, "CARD-3", &after, NULL));
  ck_assert_int_eq (after.balance, 700);
  ck_assert_int_eq (after.points, 9);
  ck_assert (ct_store_get_merchant (store, &m, NULL));
  ck_assert (ct_store_commit (store, NULL));
  ct_store_merchant_clear (&m);
  ck_assert_int_eq (ct_store_account_balance (store, CT_ACCOUNT_CASH, NULL), -700);
}
END_TEST

/* The number of levels and of wallet connectors a read in the write
 * transaction under way finds. */
static void
assert_lists (guint n_levels,
              guint n_connectors)
{
  g_autoptr(GPtrArray) levels = ct_store_level_list (store, NULL);
  g_autoptr(GPtrArray) connectors = ct_store_wallet_connectors (store, NULL);

  ck_assert_ptr_nonnull (levels);
  ck_assert_ptr_nonnull (connectors);
  ck_assert_uint_eq (levels->len, n_levels);
  ck_assert_uint_eq (connectors->len, n_connectors);
}

/* A write transaction reads the levels and the wallet connectors once for
 * all its payments, and again after any change: one made in it, and one
 * that another connection (the admin command) committed before it began. */
START_TEST (test_store_levels_and_connectors_follow_every_change)
{
  CtStoreLevel silver = { (char *) "silver", (char *) "Silver", 50, 10000, 100, 0 };
  CtStoreLevel gold = { (char *) "gold", (char *) "Gold", 100, 10000, 500, 0 };
  CtWalletConnector alipay = { 0, (char *) "Shop", CT_WALLET_ALIPAY, (char *) "app", NULL, (char *) "/k",
                               (char *) "/p", (char *) "tpl", (char *) "https://gw.invalid" };
  g_autoptr(GError) error = NULL;
  CtStore *other;

  ck_assert (ct_store_begin (store, NULL));
  assert_lists (0, 0);
  ck_assert (ct_store_level_put (store, &silver, NULL));
  assert_lists (1, 0);
  ck_assert (ct_store_wallet_connector_put (store, &alipay, NULL));
  assert_lists (1, 1);
  ck_assert (ct_store_level_remove (store, "silver", NULL));
  assert_lists (0, 1);
  ck_assert (ct_store_wallet_connector_remove (store, "Shop", CT_WALLET_ALIPAY, NULL));
  assert_lists (0, 0);
  ck_assert (ct_store_commit (store, NULL));

  other = ct_store_open (location, 0, &error);
  ck_assert_msg (other != NULL, "%s", error ? error->message : "");
  ck_assert (ct_store_begin (other, NULL));
  ck_assert (ct_store_level_put (other, &gold, NULL));
  ck_assert (ct_store_wallet_connector_put (other, &alipay, NULL));
  ck_assert (ct_store_commit (other, NULL));
  ct_store_free (other);

  ck_assert (ct_store_begin (store, NULL));
  assert_lists (1, 1);
  ck_assert (ct_store_commit (store, NULL));
}
END_TEST

/* A write held back for the next round trip that fails fails its
 * transaction: nothing of it stands. */
START_TEST (test_store_a_failed_write_fails_the_commit)
{
  CtStoreCard card = { (char *) "CARD-4", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting credit[] = { { CT_ACCOUNT_CASH, -300 }, { "CARD-4", 300 } };
  guint8 hash[32] = { 2 };
  g_autoptr(GError) error = NULL;
  gboolean wrote;

  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_insert (store, &card, NULL));
  ck_assert (ct_store_post (store, credit, 2, NULL));
  ck_assert (ct_store_key_put (store, 1, "twice", hash, 201, "{}", NULL));
  /* The second answer for the same key breaks the unique constraint,
   * here or at the commit. */
  wrote = ct_store_key_put (store, 1, "twice", hash, 201, "{}", &error);
  if (wrote)
    ck_assert (!ct_store_commit (store, &error));
  else
    ct_store_rollback (store);
  ck_assert_ptr_nonnull (error);
  g_clear_error (&error);
  ck_assert (!ct_store_card_get (store, "CARD-4", &(CtStoreCard) { 0 }, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND));
  ck_assert_int_eq (ct_store_account_balance (store, CT_ACCOUNT_CASH, NULL), 0);
}
END_TEST

/* A caller that logs a failed statement and carries on (an audit row, a
 * PIN guard) must learn at the commit whether the transaction stands.
 * SQLite undoes the failed statement alone; PostgreSQL aborts the whole
 * transaction and answers its COMMIT with "ROLLBACK", without an error:
 * that commit must fail, and may be run again. */
START_TEST (test_store_a_commit_tells_whether_the_transaction_stands)
{
  CtStoreCard card = { (char *) "CARD-6", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  g_auto(CtStoreCard) read = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  CtStoreKeyState state;
  gboolean committed;
  guint8 hash[32] = { 3 }, got[32];
  guint status = 0;

  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_insert (store, &card, NULL));
  ck_assert (ct_store_key_put (store, 1, "again", hash, 201, "{}", NULL));
  /* The same key again breaks a unique constraint, here or with the next
   * statement on stored answers (which flushes it), and the caller goes
   * on. */
  ct_store_key_put (store, 1, "again", hash, 201, "{}", NULL);
  ct_store_key_get (store, 1, "other", &state, got, &status, &body, NULL);
  committed = ct_store_commit (store, &error);
  if (ct_test_store_is_pg ())
    {
      ck_assert (!committed);
      ck_assert_msg (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_RETRY), "%s",
                     error ? error->message : "no error");
    }
  g_clear_error (&error);
  if (committed)
    ck_assert (ct_store_card_get (store, "CARD-6", &read, NULL));
  else
    {
      ck_assert (!ct_store_card_get (store, "CARD-6", &read, &error));
      ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND));
    }
}
END_TEST

/* Inserts @card and tops it up by @amount, committed. */
static void
top_up_card (CtStoreCard *card,
             int64_t      amount)
{
  CtStorePosting credit[] = { { CT_ACCOUNT_CASH, -amount }, { card->card_no, amount } };
  CtStoreTx top = { 0 };

  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_insert (store, card, NULL));
  ck_assert (ct_store_post (store, credit, 2, NULL));
  top.card_no = card->card_no;
  top.kind = (char *) "topup";
  top.delta = top.balance_after = amount;
  top.store = (char *) "s";
  top.till = (char *) "t";
  ck_assert (ct_store_tx_insert (store, &top, credit, 2, NULL));
  ck_assert (ct_store_commit (store, NULL));
}

/* A write that names its card ahead of the claim (PostgreSQL reads it,
 * locked, in the claim's round trip) gets the same answers as one that
 * does not: the card after each of its own writes, a refusal that leaves
 * nothing, the card again after its savepoint rolled back, its spend, and
 * a transaction whose id it can answer with; and all of it is there
 * after the commit. */
START_TEST (test_store_reads_named_ahead_answer_as_reads_made_later)
{
  CtStoreCard card = { (char *) "CARD-5", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting pay[] = { { "CARD-5", -300 }, { CT_ACCOUNT_POOL, 300 } };
  CtStorePosting too_much[] = { { "CARD-5", -701 }, { CT_ACCOUNT_POOL, 701 } };
  CtStoreAhead ahead = { NULL, "CARD-5", "s", "t", 1000 };
  CtStoreTx tx = { 0 };
  g_auto(CtStoreTx) read = { 0 };
  g_auto(CtStoreCard) after = { 0 };
  g_autoptr(GError) error = NULL;
  CtStoreLedgerCheck check;
  int64_t spend = -1, points = -1;

  top_up_card (&card, 1000);

  if (ct_store_batches_writes (store))
    ck_assert (ct_store_claim_key (store, 1, "ahead", NULL));
  ck_assert (ct_store_begin (store, NULL));
  ct_store_read_ahead (store, &ahead);
  if (!ct_store_batches_writes (store))
    ck_assert (ct_store_claim_key (store, 1, "ahead", NULL));
  ck_assert_int_eq (ct_store_shift_at (store, "s", "t", 1000, NULL), 0);
  ck_assert (ct_store_card_get (store, "CARD-5", &after, NULL));
  ck_assert_int_eq (after.balance, 1000);
  ct_store_card_clear (&after);
  ck_assert (ct_store_post (store, pay, 2, NULL));
  ck_assert (ct_store_card_add_points (store, "CARD-5", 7, &points, NULL));
  ck_assert_int_eq (points, 7);
  ck_assert (ct_store_card_add_spend (store, "CARD-5", 300, &spend, NULL));
  ck_assert_int_eq (spend, 300);
  ck_assert (ct_store_card_get (store, "CARD-5", &after, NULL));
  ck_assert_int_eq (after.balance, 700);
  ck_assert_int_eq (after.points, 7);
  ct_store_card_clear (&after);

  /* Refused, and nothing of it stands once its savepoint is rolled back. */
  ck_assert (ct_store_savepoint (store, NULL));
  ck_assert (ct_store_card_add_spend (store, "CARD-5", 701, &spend, NULL));
  ck_assert_int_eq (spend, 1001);
  ck_assert (!ct_store_card_add_points (store, "CARD-5", -8, NULL, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT));
  g_clear_error (&error);
  ck_assert (!ct_store_post (store, too_much, 2, &error));
  ck_assert (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT));
  ct_store_rollback_savepoint (store);
  ck_assert (ct_store_release_savepoint (store, NULL));
  ck_assert (ct_store_card_get (store, "CARD-5", &after, NULL));
  ck_assert_int_eq (after.balance, 700);
  ck_assert_int_eq (after.points, 7);
  ct_store_card_clear (&after);
  ck_assert (ct_store_card_add_spend (store, "CARD-5", -100, &spend, NULL));
  ck_assert_int_eq (spend, 200);

  tx.card_no = (char *) "CARD-5";
  tx.kind = (char *) "payment";
  tx.delta = -300;
  tx.balance_after = 700;
  tx.points_delta = 7;
  tx.points_after = 7;
  tx.store = (char *) "s";
  tx.till = (char *) "t";
  tx.created_at = tx.taken_at = 1000;
  ck_assert (ct_store_tx_insert (store, &tx, pay, 2, NULL));
  ck_assert_int_gt (tx.id, 0);
  ck_assert (ct_store_commit (store, NULL));

  ck_assert (ct_store_tx_get (store, tx.id, &read, NULL));
  ck_assert_str_eq (read.card_no, "CARD-5");
  ck_assert_int_eq (read.delta, -300);
  ck_assert_int_eq (read.balance_after, 700);
  ck_assert (ct_store_card_get (store, "CARD-5", &after, NULL));
  ck_assert_int_eq (after.balance, 700);
  ck_assert_int_eq (after.points, 7);
  ck_assert_int_eq (ct_store_account_balance (store, "CARD-5", NULL), 700);
  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_card_add_spend (store, "CARD-5", 0, &spend, NULL));
  ct_store_rollback (store);
  ck_assert_int_eq (spend, 200);
  ck_assert (ct_store_ledger_check (store, &check, NULL));
  ck_assert_int_eq (check.sum, 0);
  ck_assert (check.balances_match);
}
END_TEST

/* The database of the store, where each statement of @event on each of
 * @tables (NULL-terminated) counts itself and its rows in test_inserts. */
static CtTestDb *
statements_counted (const char         *event,
                    const char * const *tables)
{
  CtTestDb *db = ct_test_db_open (location);

  ck_assert_int_ge (ct_test_db_exec (db, "CREATE TABLE IF NOT EXISTS test_inserts (tbl text, n bigint)"), 0);
  ck_assert_int_ge (ct_test_db_exec (db, "CREATE OR REPLACE FUNCTION test_count () RETURNS trigger LANGUAGE plpgsql"
                                         " AS $$ BEGIN INSERT INTO test_inserts SELECT TG_TABLE_NAME, count (*)"
                                         " FROM new_rows; RETURN NULL; END $$"), 0);
  for (guint i = 0; tables[i] != NULL; i++)
    {
      g_autofree char *sql = g_strdup_printf ("CREATE TRIGGER test_count_%s AFTER %s ON %s"
                                              " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
                                              " EXECUTE FUNCTION test_count ()", tables[i], event, tables[i]);

      ck_assert_int_ge (ct_test_db_exec (db, sql), 0);
    }
  return db;
}

/* Checks the row of @table in @counts: @statements statements of @rows
 * rows in all. */
static void
assert_statements (GPtrArray  *counts,
                   guint       i,
                   const char *table,
                   const char *statements,
                   const char *rows)
{
  ck_assert_uint_gt (counts->len, i);
  ck_assert_str_eq (((char **) counts->pdata[i])[0], table);
  ck_assert_str_eq (((char **) counts->pdata[i])[1], statements);
  ck_assert_str_eq (((char **) counts->pdata[i])[2], rows);
}

/* PostgreSQL sends a group's transaction rows, postings and stored
 * answers as one insert each of many rows: a claim of a key the group
 * answered already reads its answer, and every row is there after the
 * commit, in as many statements as flushes. */
START_TEST (test_store_group_inserts_go_as_one_statement_each)
{
  CtStoreCard card = { (char *) "CARD-6", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting pay[] = { { "CARD-6", -100 }, { CT_ACCOUNT_POOL, 100 } };
  CtStoreAhead ahead = { NULL, "CARD-6", NULL, NULL, 0 };
  CtStoreTx tx[3] = { { 0 } };
  g_autoptr(CtTestDb) db = NULL;
  g_autoptr(GPtrArray) counts = NULL;
  g_autofree char *body = NULL;
  CtStoreKeyState state;
  CtStoreLedgerCheck check;
  guint8 hash[32] = { 6 }, got[32];
  guint status = 0;

  if (!ct_test_store_is_pg ())
    return;
  /* Each insert statement on the three tables counts its rows. */
  db = statements_counted ("INSERT", (const char *[]) { "transactions", "postings", "idempotency", NULL });

  top_up_card (&card, 1000);
  ck_assert_int_eq (ct_test_db_exec (db, "DELETE FROM test_inserts"), 2);

  /* Three payments in one transaction, as a group runs them. */
  ck_assert (ct_store_begin (store, NULL));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *key = g_strdup_printf ("group-%u", i);

      ct_store_read_ahead (store, &ahead);
      ck_assert (ct_store_claim_key (store, 1, key, NULL));
      ck_assert (ct_store_key_get (store, 1, key, &state, got, &status, &body, NULL));
      ck_assert_int_eq (state, CT_STORE_KEY_NEW);
      g_clear_pointer (&body, g_free);
      ck_assert (ct_store_post (store, pay, 2, NULL));
      tx[i].card_no = (char *) "CARD-6";
      tx[i].kind = (char *) "payment";
      tx[i].delta = -100;
      tx[i].balance_after = 900 - 100 * (int64_t) i;
      tx[i].store = (char *) "s";
      tx[i].till = (char *) "t";
      tx[i].created_at = tx[i].taken_at = 1000 + i;
      ck_assert (ct_store_tx_insert (store, &tx[i], pay, 2, NULL));
      ck_assert_int_gt (tx[i].id, 0);
      ck_assert (ct_store_key_put (store, 1, key, hash, 201, "{\"n\":\"\\\"a\\\\\"}", NULL));
    }
  /* The first key again, as a replay inside the group: its answer. */
  ck_assert (ct_store_claim_key (store, 1, "group-0", NULL));
  ck_assert (ct_store_key_get (store, 1, "group-0", &state, got, &status, &body, NULL));
  ck_assert_int_eq (state, CT_STORE_KEY_DONE);
  ck_assert_uint_eq (status, 201);
  ck_assert_str_eq (body, "{\"n\":\"\\\"a\\\\\"}");
  ck_assert (ct_store_commit (store, NULL));

  counts = ct_test_db_query (db, "SELECT tbl, count (*), sum (n) FROM test_inserts GROUP BY tbl ORDER BY tbl");
  ck_assert_uint_eq (counts->len, 3);
  assert_statements (counts, 0, "idempotency", "1", "3");
  assert_statements (counts, 1, "postings", "1", "6");
  assert_statements (counts, 2, "transactions", "1", "3");
  for (guint i = 0; i < 3; i++)
    {
      g_auto(CtStoreTx) read = { 0 };

      ck_assert (ct_store_tx_get (store, tx[i].id, &read, NULL));
      ck_assert_int_eq (read.balance_after, 900 - 100 * (int64_t) i);
    }
  ck_assert_int_eq (ct_store_account_balance (store, "CARD-6", NULL), 700);
  ck_assert (ct_store_ledger_check (store, &check, NULL));
  ck_assert_int_eq (check.sum, 0);
  ck_assert (check.balances_match);
}
END_TEST

/* PostgreSQL sends the balance updates of the cards a group holds locked,
 * and their spends, as one statement each; a second write on a card of
 * the group reads the row its first left, and goes in a statement after
 * it (an UPDATE … FROM changes a row once a statement). */
START_TEST (test_store_group_card_writes_go_as_one_statement_each)
{
  const char *nos[] = { "CARD-71", "CARD-72", "CARD-73" };
  g_autoptr(CtTestDb) db = NULL;
  g_autoptr(CtTestDb) spends = NULL;
  g_autoptr(GPtrArray) counts = NULL;
  CtStoreLedgerCheck check;
  int64_t spend = -1;

  if (!ct_test_store_is_pg ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (nos); i++)
    {
      CtStoreCard card = { (char *) nos[i], (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };

      top_up_card (&card, 1000);
    }
  db = statements_counted ("UPDATE", (const char *[]) { "cards", NULL });
  /* An upsert fires its insert trigger once a statement, with the rows it
   * inserted. */
  spends = statements_counted ("INSERT", (const char *[]) { "card_spend", NULL });

  /* Three payments on three cards, then a fourth on the first, in one
   * transaction as a group runs them. */
  ck_assert (ct_store_begin (store, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (nos) + 1; i++)
    {
      const char *no = nos[i % G_N_ELEMENTS (nos)];
      CtStoreAhead ahead = { NULL, no, NULL, NULL, 0 };
      CtStorePosting pay[] = { { no, -100 }, { CT_ACCOUNT_POOL, 100 } };
      g_autofree char *key = g_strdup_printf ("cards-%u", i);
      g_auto(CtStoreCard) card = { 0 };
      CtStoreTx tx = { 0 };

      ct_store_read_ahead (store, &ahead);
      ck_assert (ct_store_claim_key (store, 1, key, NULL));
      ck_assert (ct_store_card_get (store, no, &card, NULL));
      ck_assert_int_eq (card.balance, i < G_N_ELEMENTS (nos) ? 1000 : 900);
      ck_assert (ct_store_post (store, pay, 2, NULL));
      ck_assert (ct_store_card_add_spend (store, no, 100, &spend, NULL));
      ck_assert_int_eq (spend, i < G_N_ELEMENTS (nos) ? 100 : 200);
      tx.card_no = (char *) no;
      tx.kind = (char *) "payment";
      tx.delta = -100;
      tx.balance_after = card.balance - 100;
      tx.store = (char *) "s";
      tx.till = (char *) "t";
      ck_assert (ct_store_tx_insert (store, &tx, pay, 2, NULL));
    }
  ck_assert (ct_store_commit (store, NULL));

  /* The three rows before the fourth claim, then the fourth's (an
   * update of a spend the group inserted). */
  counts = ct_test_db_query (db, "SELECT tbl, count (*), sum (n) FROM test_inserts GROUP BY tbl ORDER BY tbl = 'cards'");
  assert_statements (counts, 0, "card_spend", "2", "3");
  assert_statements (counts, 1, "cards", "2", "4");
  g_clear_pointer (&counts, g_ptr_array_unref);
  counts = ct_test_db_query (db, "SELECT card_no, spend FROM card_spend WHERE card_no LIKE 'CARD-7_' ORDER BY card_no");
  ck_assert_uint_eq (counts->len, 3);
  for (guint i = 0; i < G_N_ELEMENTS (nos); i++)
    {
      ck_assert_str_eq (((char **) counts->pdata[i])[1], i == 0 ? "200" : "100");
      ck_assert_int_eq (ct_store_account_balance (store, nos[i], NULL), i == 0 ? 800 : 900);
    }
  ck_assert (ct_store_ledger_check (store, &check, NULL));
  ck_assert_int_eq (check.sum, 0);
  ck_assert (check.balances_match);
}
END_TEST

/* PostgreSQL reads a till and a shift once for the claims of a
 * transaction that name the same ones (a group's requests): what another
 * session commits meanwhile is for the next transaction, what the
 * transaction writes itself is read again. */
START_TEST (test_store_group_reads_its_till_and_shift_once)
{
  guint8 hash[32] = { 9, 9 };
  CtStoreShift shift = { 0, (char *) "s9", (char *) "t9", (char *) "op", 0, 1000, 0, NULL, 0 };
  g_autoptr(CtTestDb) other = NULL;

  if (!ct_test_store_is_pg ())
    return;
  other = ct_test_db_open (location);
  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_till_put (store, "s9", "t9", hash, TRUE, NULL));
  ck_assert (ct_store_shift_open (store, &shift, NULL));
  ck_assert (ct_store_commit (store, NULL));

  ck_assert (ct_store_begin (store, NULL));
  for (guint i = 0; i < 3; i++)
    {
      CtStoreAhead ahead = { hash, NULL, "s9", "t9", 5000 };
      g_autofree char *key = g_strdup_printf ("till-%u", i);
      g_auto(CtStoreTill) till = { 0 };

      if (i == 1)
        {
          /* Another session revokes the till and closes the shift. */
          ck_assert_int_eq (ct_test_db_exec (other, "UPDATE tills SET revoked = true WHERE name = 't9'"), 1);
          ck_assert_int_eq (ct_test_db_exec (other, "UPDATE shifts SET closed_at = 2000 WHERE till = 't9'"), 1);
        }
      if (i == 2)
        /* The transaction writes the till itself. */
        ck_assert (ct_store_till_revoke (store, "s9", "t9", NULL));
      ct_store_read_ahead (store, &ahead);
      ck_assert (ct_store_claim_key (store, 1, key, NULL));
      ck_assert (ct_store_till_by_token (store, hash, &till, NULL));
      ck_assert_int_eq (till.revoked, i == 2);
      ck_assert_int_eq (ct_store_shift_at (store, "s9", "t9", 5000, NULL), i == 2 ? 0 : shift.id);
    }
  ck_assert (ct_store_commit (store, NULL));
}
END_TEST

/* A credit held back for the commit to an account the merchant does not
 * have fails the commit and keeps nothing, as a credit sent at once
 * does (PostgreSQL). */
START_TEST (test_store_credit_to_no_account_fails_the_commit)
{
  CtStoreCard card = { (char *) "CARD-8", (char *) "active", NULL, (char *) "n", NULL, 0, 0, 1, 1 };
  CtStorePosting credit[] = { { "CARD-8", -100 }, { "@nosuch", 100 } };
  g_autoptr(GError) error = NULL;

  if (!ct_test_store_is_pg ())
    return;
  top_up_card (&card, 1000);
  ck_assert (ct_store_begin (store, NULL));
  ck_assert (ct_store_post (store, credit, 2, NULL));
  ck_assert (!ct_store_commit (store, &error));
  ck_assert_msg (strstr (error->message, "no account @nosuch") != NULL, "%s", error->message);
  ck_assert_int_eq (ct_store_account_balance (store, "CARD-8", NULL), 1000);
}
END_TEST

/* Connections that credit the pool at the same moment, each holding its
 * transaction open until all of them have posted. */
typedef struct
{
  CtStore *store;
  gint     posted;
  gint     failed;
} SlotRace;

#define SLOT_RACE_CONNECTIONS 64

static gpointer
credit_and_hold (gpointer data)
{
  SlotRace *race = data;
  CtStorePosting credit[] = { { CT_ACCOUNT_CASH, -1 }, { CT_ACCOUNT_POOL, 1 } };
  gint64 deadline = g_get_monotonic_time () + 40 * G_USEC_PER_SEC;

  ck_assert (ct_store_begin (race->store, NULL));
  if (!ct_store_post (race->store, credit, 2, NULL))
    {
      g_atomic_int_inc (&race->failed);
      ct_store_rollback (race->store);
      return NULL;
    }
  g_atomic_int_inc (&race->posted);
  while (g_atomic_int_get (&race->posted) + g_atomic_int_get (&race->failed) < SLOT_RACE_CONNECTIONS
         && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  ck_assert (ct_store_commit (race->store, NULL));
  return NULL;
}

START_TEST (test_store_connections_credit_slots_of_their_own)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  SlotRace race = { 0 };

  /* One writer batches its writes: there is no slot to share. */
  if (ct_store_batches_writes (store))
    return;
  /* As many connections as slots, as two service processes of 32 have:
   * a slot shared by two of them would hold the second one's credit until
   * the first commits, here until the lock times out. The fixture's own
   * connections would take two slots. */
  g_clear_pointer (&store, ct_store_free);
  race.store = ct_store_open (location, SLOT_RACE_CONNECTIONS, &error);
  ck_assert_msg (race.store != NULL, "%s", error ? error->message : "");
  for (guint i = 0; i < SLOT_RACE_CONNECTIONS; i++)
    g_ptr_array_add (threads, g_thread_new ("credit", credit_and_hold, &race));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  ck_assert_int_eq (race.failed, 0);
  ck_assert_int_eq (race.posted, SLOT_RACE_CONNECTIONS);
  ck_assert_int_eq (ct_store_account_balance (race.store, CT_ACCOUNT_POOL, NULL), SLOT_RACE_CONNECTIONS);
  ct_store_free (race.store);
}
END_TEST

/* This process's write system calls so far (/proc/self/io). */
static guint64
write_calls (void)
{
  g_autofree char *text = NULL;
  const char *at;

  ck_assert (g_file_get_contents ("/proc/self/io", &text, NULL, NULL));
  at = strstr (text, "syscw: ");
  ck_assert (at != NULL);
  return g_ascii_strtoull (at + 7, NULL, 10);
}

/* Commits @rows rows of 1,000 bytes (about 4 rows a page) in one
 * transaction through the store's VFS, as the store opens it. */
static gboolean
commit_rows (const char *path,
             int         first,
             int         rows)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int failed = 0;

  /* Asserted once at the end: Check writes a record of every assertion,
   * which would count as the process's writes. */
  failed += sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, ct_sqlite_walbuf_vfs ()) != SQLITE_OK;
  failed += sqlite3_exec (db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB);"
                              "BEGIN", NULL, NULL, NULL) != SQLITE_OK;
  failed += sqlite3_prepare_v2 (db, "INSERT INTO t VALUES (?1, zeroblob (1000))", -1, &st, NULL) != SQLITE_OK;
  for (int i = first; i < first + rows && failed == 0; i++)
    {
      sqlite3_bind_int (st, 1, i);
      failed += sqlite3_step (st) != SQLITE_DONE;
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  failed += sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
  /* Left open: the caller may be killed before it would close. */
  return failed == 0;
}

static int
count_rows (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int n;

  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT count(*) FROM t", -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  n = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return n;
}

/* The store's VFS writes a commit's log frames with a few write calls,
 * not two a page (about 120 here), and what it wrote is there for another
 * connection and after the writer is killed without closing. 480 KiB of
 * frames also go past the default VFS's 128 KiB limit for one write. */
START_TEST (test_store_log_writes_are_gathered_and_durable)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-walbuf-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.db", NULL);
  guint64 before;
  pid_t pid;
  int status = 0;

  ck_assert (commit_rows (path, 0, 1));
  before = write_calls ();
  ck_assert (commit_rows (path, 1, 400));
  ck_assert_msg (write_calls () - before < 20, "%" G_GUINT64_FORMAT " write calls", write_calls () - before);
  ck_assert_int_eq (count_rows (path), 401);

  pid = fork ();
  if (pid == 0)
    {
      if (!commit_rows (path, 1000, 400))
        _exit (1);
      kill (getpid (), SIGKILL);
    }
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  ck_assert_int_eq (count_rows (path), 801);
}
END_TEST

static void
exec_ok (sqlite3    *db,
         const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);

  ck_assert_msg (rc == SQLITE_OK, "%s: %s", sql, msg != NULL ? msg : sqlite3_errstr (rc));
}

static char *
text_of (sqlite3    *db,
         const char *sql)
{
  sqlite3_stmt *st = NULL;
  char *out;

  ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  out = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  return out;
}

static void
insert_rows (sqlite3 *db,
             int      rows,
             int      size)
{
  sqlite3_stmt *st = NULL;

  ck_assert_int_eq (sqlite3_prepare_v2 (db, "INSERT INTO t (k, v) VALUES (randomblob (16), zeroblob (?1))",
                                        -1, &st, NULL), SQLITE_OK);
  for (int i = 0; i < rows; i++)
    {
      sqlite3_bind_int (st, 1, size);
      ck_assert_int_eq (sqlite3_step (st), SQLITE_DONE);
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
}

/* The page cache's wrapper (ct-sqlite-pcache.c): commits whose splits
 * swapped pages through the far temporary number skip the truncation
 * that would walk the whole cache, and the database stays sound through
 * rollbacks of transactions that grew it. */
START_TEST (test_store_page_cache_truncates_only_what_may_be_past_the_end)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-pcache-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.db", NULL);
  g_autofree char *count = NULL;
  g_autofree char *check = NULL;
  g_autofree char *other_check = NULL;
  sqlite3 *db = NULL, *other = NULL;
  guint skipped0, far0, skipped1, far1;

  ck_assert (ct_sqlite_pcache_install ());
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     ct_sqlite_walbuf_vfs ()), SQLITE_OK);
  exec_ok (db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-32768;"
               "CREATE TABLE t (id INTEGER PRIMARY KEY, k BLOB UNIQUE, v BLOB)");
  /* A free list in no order, as the service's expiry leaves one. */
  exec_ok (db, "BEGIN");
  insert_rows (db, 3000, 100);
  exec_ok (db, "COMMIT; DELETE FROM t WHERE id % 3 = 0");

  ct_sqlite_pcache_counts (&skipped0, &far0);
  for (int i = 0; i < 100; i++)
    {
      exec_ok (db, "BEGIN");
      insert_rows (db, 20, 100);
      exec_ok (db, "COMMIT");
    }
  ct_sqlite_pcache_counts (&skipped1, &far1);
  ck_assert_uint_gt (far1 - far0, 0);
  ck_assert_uint_ge (skipped1 - skipped0, 100);

  /* Pages past the end of the file, rolled back: the next growth must not
   * find them. */
  exec_ok (db, "BEGIN");
  insert_rows (db, 400, 3000);
  exec_ok (db, "ROLLBACK; BEGIN; SAVEPOINT s");
  insert_rows (db, 300, 3000);
  exec_ok (db, "ROLLBACK TO s; RELEASE s");
  insert_rows (db, 10, 500);
  exec_ok (db, "COMMIT; BEGIN");
  insert_rows (db, 300, 1000);
  exec_ok (db, "COMMIT");
  count = text_of (db, "SELECT count(*) || ' ' || sum(length (v)) FROM t");
  ck_assert_str_eq (count, "4310 705000");
  check = text_of (db, "PRAGMA integrity_check");
  ck_assert_str_eq (check, "ok");
  ck_assert_int_eq (sqlite3_open_v2 (path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  other_check = text_of (other, "PRAGMA integrity_check");
  ck_assert_str_eq (other_check, "ok");
  sqlite3_close (other);
  sqlite3_close (db);
}
END_TEST

static void
move_page (const sqlite3_pcache_methods2 *m,
           sqlite3_pcache                *cache,
           unsigned                       from,
           unsigned                       to)
{
  sqlite3_pcache_page *page = m->xFetch (cache, from, 0);

  ck_assert (page != NULL);
  m->xRekey (cache, page, from, to);
  m->xUnpin (cache, page, 0);
}

/* What a truncation promises SQLite through the wrapper: every page at or
 * past its limit is gone, whether it came there by a fetch or was given
 * that number (a page left at the far number a split swaps through). */
START_TEST (test_store_page_cache_drops_every_page_past_a_truncation)
{
  const sqlite3_pcache_methods2 *m = ct_sqlite_pcache_methods ();
  const unsigned far = 262145;
  sqlite3_pcache *cache;

  ck_assert (ct_sqlite_pcache_install ());
  ck_assert_int_eq (sqlite3_initialize (), SQLITE_OK);
  cache = m->xCreate (4096, 64, 1);
  ck_assert (cache != NULL);
  m->xCachesize (cache, 100);
  for (unsigned key = 1; key <= 10; key++)
    {
      sqlite3_pcache_page *page = m->xFetch (cache, key, 2);

      ck_assert (page != NULL);
      m->xUnpin (cache, page, 0);
    }
  /* A split's swap: nothing is left past page 10. */
  move_page (m, cache, 4, far);
  move_page (m, cache, 9, 4);
  move_page (m, cache, far, 9);
  m->xTruncate (cache, 11);
  ck_assert_int_eq (m->xPagecount (cache), 10);

  move_page (m, cache, 7, far);
  m->xTruncate (cache, 11);
  ck_assert_int_eq (m->xPagecount (cache), 9);
  ck_assert (m->xFetch (cache, far, 0) == NULL);
  m->xTruncate (cache, 6);
  ck_assert_int_eq (m->xPagecount (cache), 5);
  ck_assert (m->xFetch (cache, 8, 0) == NULL);

  m->xUnpin (cache, m->xFetch (cache, 20, 2), 0);
  m->xTruncate (cache, 15);
  ck_assert_int_eq (m->xPagecount (cache), 5);
  m->xDestroy (cache);
}
END_TEST

static Suite *
store_suite (void)
{
  Suite *s = suite_create ("service-store");
  TCase *json = tcase_create ("strict-json");
  TCase *auth = tcase_create ("auth");
  TCase *st = tcase_create ("store");
  TCase *parse = tcase_create ("parse");

  tcase_add_test (json, test_strict_json_accepts_plain_json);
  tcase_add_test (json, test_strict_json_rejects_non_integers_and_out_of_range);
  tcase_add_test (json, test_strict_json_rejects_duplicate_keys_even_escaped);
  tcase_add_test (json, test_strict_json_rejects_malformed_input);
  tcase_add_test (json, test_strict_json_limits_depth);
  tcase_add_test (json, test_strict_json_parse_builds_what_it_validated);
  tcase_add_test (json, test_strict_json_finds_pin_values_even_in_refused_bodies);
  tcase_add_test (json, test_answer_text_is_what_json_c_prints);
  tcase_add_test (json, test_import_body_refusals_name_the_row_and_field);
  tcase_add_test (auth, test_pin_hash_is_salted_and_verifies);
  tcase_add_test (auth, test_tokens_are_random_and_hashed);
  tcase_add_checked_fixture (st, store_setup, store_teardown);
  tcase_add_test (st, test_store_create_refuses_an_existing_database);
  tcase_add_test (st, test_store_debits_never_go_below_zero);
  tcase_add_test (st, test_store_credits_follow_reads_and_savepoints);
  tcase_add_test (st, test_store_a_top_up_locks_no_pool_slot_before_the_commit);
  tcase_add_test (st, test_store_refunds_never_give_back_more_than_the_transaction_took);
  tcase_add_test (st, test_store_keys_claim_once);
  tcase_add_test (st, test_store_connections_credit_slots_of_their_own);
  tcase_add_test (st, test_store_log_writes_are_gathered_and_durable);
  tcase_add_test (st, test_store_page_cache_truncates_only_what_may_be_past_the_end);
  tcase_add_test (st, test_store_page_cache_drops_every_page_past_a_truncation);
  tcase_add_test (st, test_store_reads_see_the_transaction_s_own_writes);
  tcase_add_test (st, test_store_levels_and_connectors_follow_every_change);
  tcase_add_test (st, test_store_a_failed_write_fails_the_commit);
  tcase_add_test (st, test_store_a_commit_tells_whether_the_transaction_stands);
  tcase_add_test (st, test_store_reads_named_ahead_answer_as_reads_made_later);
  tcase_add_test (st, test_store_group_inserts_go_as_one_statement_each);
  tcase_add_test (st, test_store_group_card_writes_go_as_one_statement_each);
  tcase_add_test (st, test_store_group_reads_its_till_and_shift_once);
  tcase_add_test (st, test_store_credit_to_no_account_fails_the_commit);
  tcase_add_test (parse, test_day_range_follows_the_merchant_time_zone);
  tcase_add_test (parse, test_parsers_refuse_before_the_ledger_sees_a_request);
  suite_add_tcase (s, json);
  suite_add_tcase (s, auth);
  suite_add_tcase (s, st);
  suite_add_tcase (s, parse);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  /* Before SQLite starts, as the service's main() does. */
  ct_sqlite_pcache_install ();
  sr = srunner_create (store_suite ());

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
