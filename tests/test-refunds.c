/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-refunds"

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ct-test-json.h"
#include "ct-test-ledger-fixture.h"

/* Partial refunds of payments through a real cardtill-service, on the
 * store under test: parts until the payment is refunded in full, points
 * in proportion, and two refunds racing for the rest. */

static char *
issue (void)
{
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards", "{\"member\":{\"name\":\"Part\",\"phone\":\"13600000001\"},"
                                                          "\"operator\":\"op\"," MGR "}");

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "card_no");
}

/* The transaction @tx_id as the card's history shows it today. */
static int64_t
history_refunded (const char *card,
                  const char *tx_id)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/transactions", card);
  g_autoptr(CtTestResponse) r = req ("GET", path, NULL);

  expect (r, 200, NULL);
  for (guint i = 0;; i++)
    {
      g_autofree char *id_path = g_strdup_printf ("transactions.%u.id", i);
      g_autofree char *id = ct_test_json_str (r->body, id_path);
      g_autofree char *refunded_path = g_strdup_printf ("transactions.%u.refunded", i);

      ck_assert_msg (id != NULL, "%s not in %s", tx_id, r->body);
      if (g_str_equal (id, tx_id))
        return ct_test_json_int (r->body, refunded_path);
    }
}

START_TEST (test_refunds_a_payment_is_refunded_in_parts_until_it_is_whole)
{
  g_autofree char *card = issue ();
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  int64_t pool_before;

  r = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (r->body, "\"partial_refund\"") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* 110.00 on the card; 50.00 paid earns 50 points. */
  g_free (topup (card, NULL));
  tx = pay (card, "{\"amount\":5000,\"operator\":\"op\"}");
  pool_before = ledger_figure ("pool");
  ck_assert_int_eq (history_refunded (card, tx), 0);

  /* Amounts that are not a part of what is left, and amounts of the wrong
   * type, change nothing. */
  r = refund (card, tx, 5001);
  expect (r, 422, "invalid_amount");
  g_clear_pointer (&r, ct_test_response_free);
  {
    const char *bad[] = { "0", "-100", "12.5", "\"100\"", "1e3", "true" };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"amount\":%s,\"operator\":\"op\","
                                                 MGR "}", tx, bad[i]);

        r = card_post (card, "refunds", body);
        ck_assert_msg (r->status == 422 || r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        g_clear_pointer (&r, ct_test_response_free);
      }
  }
  ck_assert_int_eq (ledger_figure ("pool"), pool_before);

  /* 10.00 back: the card gets 10.00, 10 of the 50 points go. */
  r = refund (card, tx, 1000);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), -10);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 6000 + 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 40);
  ck_assert_int_eq (ct_test_json_int (r->body, "amount"), 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "refunded"), 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "total"), 5000);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (history_refunded (card, tx), 1000);
  ck_assert_int_eq (ledger_figure ("pool"), pool_before - 1000);

  /* 0.01 more: floor (50 × 1001 / 5000) is still 10 points. */
  r = refund (card, tx, 1);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), 0);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 40);
  g_clear_pointer (&r, ct_test_response_free);

  /* More than is left is refused, and says what is left. */
  r = refund (card, tx, 4000);
  expect (r, 422, "invalid_amount");
  ck_assert_msg (strstr (r->body, "39.99") != NULL, "%s", r->body);
  g_clear_pointer (&r, ct_test_response_free);

  /* No amount: all that is left, and the rest of the points. */
  r = refund (card, tx, 0);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 3999);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), -40);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 11000);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 0);
  ck_assert_int_eq (ct_test_json_int (r->body, "refunded"), 5000);
  g_clear_pointer (&r, ct_test_response_free);

  ck_assert_int_eq (ledger_figure ("pool"), pool_before - 5000);
  ck_assert_int_eq (history_refunded (card, tx), 5000);
  /* Refunded in full: any further part is already refunded. */
  r = refund (card, tx, 1);
  expect (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (card, tx, 0);
  expect (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("pool"), pool_before - 5000);
}
END_TEST

START_TEST (test_refunds_points_come_back_in_proportion)
{
  g_autofree char *card = issue ();
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) r = NULL;
  int64_t promo_before;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--points-redeem-rate", "100",
                                           "--points-redeem-max-bp", "5000", NULL), 0);
  /* 100.00 paid earns 100 points; 10.00 paid with 100 points: the balance
   * pays 9.00 and earns 9, promo pays 1.00. */
  g_free (topup (card, NULL));
  g_free (topup (card, NULL));
  g_free (pay (card, "{\"amount\":10000,\"operator\":\"op\"}"));
  promo_before = ledger_figure ("promo");
  tx = pay (card, "{\"amount\":1000,\"redeem_points\":100,\"operator\":\"op\"}");
  ck_assert_int_eq (ledger_figure ("promo"), promo_before - 100);

  /* Half of it back: 4.50 to the card, 0.50 to promo, 50 of the redeemed
   * points back and floor (9 / 2) = 4 of the earned ones taken back. */
  r = refund (card, tx, 500);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 450);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), 50 - 4);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 9 + 46);
  ck_assert_int_eq (ct_test_json_int (r->body, "total"), 1000);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("promo"), promo_before - 50);

  /* The other half: the rest of both parts and of the points. */
  r = refund (card, tx, 500);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 450);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.points_delta"), 50 - 5);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.points"), 100);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 22000 - 10000);
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (ledger_figure ("promo"), promo_before);
  ck_assert_int_eq (history_refunded (card, tx), 1000);
}
END_TEST

START_TEST (test_refunds_a_top_up_is_voided_whole)
{
  g_autofree char *card = issue ();
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) r = card_post (card, "topups", "{\"package_id\":\"p100\",\"operator\":\"op\"}");

  expect (r, 201, NULL);
  tx = ct_test_json_str (r->body, "transaction.id");
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (card, tx, 5000);
  expect (r, 422, "invalid_amount");
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (card, tx, 11000);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 0);
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (card, tx, 0);
  expect (r, 409, "already_refunded");
  g_clear_pointer (&r, ct_test_response_free);
  ck_assert_int_eq (history_refunded (card, tx), 11000);
  ledger_figure ("sum");
}
END_TEST

START_TEST (test_refunds_a_split_payment_gives_its_rest_back_in_proportion)
{
  g_autofree char *card = issue ();
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) r = NULL;

  /* 50.00 from the card and 20.00 in cash: half of the card's part back
   * gives half of the rest back by cash. */
  g_free (topup (card, NULL));
  tx = pay (card, "{\"amount\":5000,\"rest\":{\"amount\":2000,\"tender\":\"cash\"},\"operator\":\"op\"}");
  r = refund (card, tx, 2500);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 2500);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.rest.amount"), 1000);
  g_clear_pointer (&r, ct_test_response_free);
  r = refund (card, tx, 0);
  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), 2500);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.rest.amount"), 1000);
  ck_assert_int_eq (ct_test_json_int (r->body, "card.balance"), 11000);
  g_clear_pointer (&r, ct_test_response_free);
  ledger_figure ("sum");
}
END_TEST

typedef struct
{
  const char     *method;  /* NULL: POST */
  char           *path;
  char           *key;
  char           *body;
  CtTestResponse *resp;
} Racer;

static gpointer
race_request (gpointer data)
{
  Racer *racer = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);

  g_atomic_pointer_set (&racer->resp, ct_test_client_request (c, racer->method ? racer->method : "POST",
                                                             racer->path, racer->key, racer->body, NULL));
  return NULL;
}

static void
racer_clear (Racer *racer)
{
  g_clear_pointer (&racer->resp, ct_test_response_free);
  g_free (racer->path);
  g_free (racer->key);
  g_free (racer->body);
}

/* PostgreSQL: polls, with a deadline, until @n requests of the service
 * wait for the locks the test holds (seen from another connection: a
 * transaction keeps the first view of pg_stat_activity it took). */
static void
wait_for_lock_waiters_or_answer (guint  n,
                                 Racer *racer);

static void
wait_for_lock_waiters (guint n)
{
  wait_for_lock_waiters_or_answer (n, NULL);
}

/* The same, or until @racer has its answer (it did not wait at all). */
static void
wait_for_lock_waiters_or_answer (guint  n,
                                 Racer *racer)
{
  g_autoptr(CtTestDb) watch = ct_test_db_open (ct_test_service_get_db_path (svc));
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GPtrArray) rows = ct_test_db_query (watch, "SELECT count(*) FROM pg_stat_activity"
                                                           " WHERE datname = current_database()"
                                                           " AND wait_event_type = 'Lock'");

      ck_assert (rows != NULL && rows->len == 1);
      if (g_ascii_strtoull (((char **) rows->pdata[0])[0], NULL, 10) >= n
          || (racer != NULL && g_atomic_pointer_get (&racer->resp) != NULL))
        return;
      ck_assert_msg (g_get_monotonic_time () < deadline, "the racing requests never reached the database");
      g_usleep (20 * 1000);
    }
}

/* Two refunds of the same payment sent at once: what they give back
 * never passes the payment. On PostgreSQL, where each runs on a
 * connection of its own, both are held behind a lock on the cards until
 * both wait, then let go together; on SQLite one writer takes them in
 * turn, whichever comes first. */
static void
race (const char *card,
      const char *tx,
      int64_t     amount_a,
      int64_t     amount_b,
      guint      *out_created)
{
  g_autoptr(CtTestDb) db = ct_test_store_is_pg () ? ct_test_db_open (ct_test_service_get_db_path (svc)) : NULL;
  Racer racers[2];
  GThread *threads[2];
  int64_t amounts[2] = { amount_a, amount_b };

  if (db != NULL)
    ct_test_db_hold_writes (db);
  for (guint i = 0; i < 2; i++)
    {
      racers[i].method = NULL;
      racers[i].path = g_strdup_printf ("/v1/cards/%s/refunds", card);
      racers[i].key = new_key ();
      racers[i].body = amounts[i] > 0
        ? g_strdup_printf ("{\"transaction_id\":\"%s\",\"amount\":%" G_GINT64_FORMAT ",\"operator\":\"op\"," MGR "}",
                           tx, amounts[i])
        : g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
      racers[i].resp = NULL;
      threads[i] = g_thread_new ("racer", race_request, &racers[i]);
    }
  if (db != NULL)
    {
      wait_for_lock_waiters (2);
      ct_test_db_release (db);
    }
  *out_created = 0;
  for (guint i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      ck_assert_ptr_nonnull (racers[i].resp);
      if (racers[i].resp->status == 201)
        (*out_created)++;
      else
        {
          g_autofree char *code = ct_test_response_error_code (racers[i].resp);

          ck_assert_msg ((racers[i].resp->status == 422 && g_strcmp0 (code, "invalid_amount") == 0)
                         || (racers[i].resp->status == 409 && g_strcmp0 (code, "already_refunded") == 0),
                         "%ld %s", racers[i].resp->status, racers[i].resp->body);
        }
      ct_test_response_free (racers[i].resp);
      g_free (racers[i].path);
      g_free (racers[i].key);
      g_free (racers[i].body);
    }
}

START_TEST (test_refunds_two_racing_parts_never_pass_the_payment)
{
  g_autofree char *card = issue ();
  int64_t pool_before;
  guint created = 0;

  g_free (topup (card, NULL));
  g_free (topup (card, NULL));
  pool_before = ledger_figure ("pool");
  /* 30.00 and 30.00 of a 50.00 payment: one of them only. */
  for (guint round = 0; round < 3; round++)
    {
      g_autofree char *tx = pay (card, "{\"amount\":5000,\"operator\":\"op\"}");

      race (card, tx, 3000, 3000, &created);
      ck_assert_uint_eq (created, 1);
      ck_assert_int_eq (history_refunded (card, tx), 3000);
    }
  /* The whole of one payment, twice at once: one of them only. */
  {
    g_autofree char *tx = pay (card, "{\"amount\":2000,\"operator\":\"op\"}");

    race (card, tx, 0, 0, &created);
    ck_assert_uint_eq (created, 1);
    ck_assert_int_eq (history_refunded (card, tx), 2000);
  }
  /* 30.00 and the whole: both may be booked only as two parts of 50.00. */
  {
    g_autofree char *tx = pay (card, "{\"amount\":5000,\"operator\":\"op\"}");

    race (card, tx, 3000, 0, &created);
    ck_assert_uint_ge (created, 1);
    ck_assert_int_eq (history_refunded (card, tx), 5000);
  }
  {
    g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
    g_autoptr(CtTestResponse) r = req ("GET", path, NULL);

    /* 220.00 less 3 × 20.00 kept, the 20.00 and 50.00 wholly refunded. */
    ck_assert_int_eq (ct_test_json_int (r->body, "balance"), 22000 - 3 * 2000);
  }
  ck_assert_int_eq (ledger_figure ("pool"), pool_before + 3 * 2000);
}
END_TEST

/* A manager request on a card and the card's replacement in another
 * process, both let go at once (PostgreSQL): @first waits for a manager
 * row the test holds (after it read its card), the replacement by another
 * manager for its card. Whichever is booked first, the lost card ends
 * closed and empty and the ledger balanced. */
static void
race_with_replacement (const char *card,
                       Racer      *first)
{
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autofree char *pin_file = g_build_filename (ct_test_service_get_data_dir (svc), "m2-pin", NULL);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) after = NULL;
  g_autofree char *status = NULL, *replaced_by = NULL;
  Racer replace = { NULL, g_strdup_printf ("/v1/cards/%s/replace", card), new_key (),
                    g_strdup ("{\"operator\":\"op\",\"manager\":{\"id\":\"m2\",\"pin\":\"135790\"}}"), NULL };
  GThread *threads[2];

  ck_assert (g_file_set_contents (pin_file, "135790\n", -1, NULL));
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "manager", "add", "--id", "m2", "--pin-file", pin_file, NULL), 0);
  ck_assert (ct_test_db_exec (db, "BEGIN; SELECT * FROM pin_guard WHERE manager_id = 'm1' FOR UPDATE") >= 0);
  threads[0] = g_thread_new ("first", race_request, first);
  wait_for_lock_waiters (1);
  threads[1] = g_thread_new ("replace", race_request, &replace);
  /* The replacement waits for the card the first request holds (or, if it
   * does not, is answered at once: what follows then shows the harm). */
  wait_for_lock_waiters_or_answer (2, &replace);
  ck_assert (ct_test_db_exec (db, "COMMIT") >= 0);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);
  ck_assert_ptr_nonnull (first->resp);
  ck_assert_msg (replace.resp != NULL && replace.resp->status == 201, "%s", replace.resp ? replace.resp->body : "");

  after = req ("GET", path, NULL);
  status = ct_test_json_str (after->body, "status");
  replaced_by = ct_test_json_str (after->body, "replaced_by");
  ck_assert_msg (g_strcmp0 (status, "closed") == 0 && replaced_by != NULL, "%s", after->body);
  ck_assert_msg (ct_test_json_int (after->body, "balance") == 0, "the lost card holds money: %s", after->body);
  ledger_figure ("sum");
  racer_clear (&replace);
}

START_TEST (test_refunds_a_refund_racing_a_replacement_leaves_no_money_on_the_lost_card)
{
  g_autofree char *card = issue ();
  g_autofree char *tx = NULL;
  Racer refund_racer = { NULL };

  if (!ct_test_store_is_pg ())
    return;   /* SQLite's one writer takes them in turn by itself. */
  g_free (topup (card, NULL));
  tx = pay (card, "{\"amount\":9000,\"operator\":\"op\"}");
  refund_racer.path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  refund_racer.key = new_key ();
  refund_racer.body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"amount\":3000,\"operator\":\"op\"," MGR "}",
                                       tx);
  race_with_replacement (card, &refund_racer);
  /* The refund was booked before the replacement moved the balance. */
  expect (refund_racer.resp, 201, NULL);
  racer_clear (&refund_racer);
}
END_TEST

START_TEST (test_refunds_a_change_racing_a_replacement_does_not_reopen_the_lost_card)
{
  g_autofree char *card = issue ();
  Racer patch = { "PATCH", NULL };

  if (!ct_test_store_is_pg ())
    return;
  g_free (topup (card, NULL));
  patch.path = g_strdup_printf ("/v1/cards/%s", card);
  patch.key = new_key ();
  patch.body = g_strdup ("{\"member\":{\"name\":\"Renamed\"}," MGR "}");
  race_with_replacement (card, &patch);
  expect (patch.resp, 200, NULL);
  racer_clear (&patch);
}
END_TEST

static Suite *
refunds_suite (void)
{
  Suite *s = suite_create ("refunds");
  TCase *tc = tcase_create ("partial");

  tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_refunds_a_payment_is_refunded_in_parts_until_it_is_whole);
  tcase_add_test (tc, test_refunds_points_come_back_in_proportion);
  tcase_add_test (tc, test_refunds_a_top_up_is_voided_whole);
  tcase_add_test (tc, test_refunds_a_split_payment_gives_its_rest_back_in_proportion);
  tcase_add_test (tc, test_refunds_two_racing_parts_never_pass_the_payment);
  tcase_add_test (tc, test_refunds_a_refund_racing_a_replacement_leaves_no_money_on_the_lost_card);
  tcase_add_test (tc, test_refunds_a_change_racing_a_replacement_does_not_reopen_the_lost_card);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (refunds_suite ());
  int failed;

  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
