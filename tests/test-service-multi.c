/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-multi"
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "ct-test-json.h"
#include "ct-test-service.h"

/* Three `cardtill-service serve` processes over one PostgreSQL database:
 * whatever decides money is decided by the database, so requests spread
 * over the processes behave as if one process answered them all. Runs
 * under tests/ct-pg-run.sh. */

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"
#define N_PROC 3

static CtTestService *procs[N_PROC];

static void
setup (void)
{
  /* Load from one till: the default rate limit would answer 429 (reads
   * too) once the processes take payments as fast as they can. */
  const char *args[] = { "--rate-limit", "0", NULL };
  g_autoptr(GError) error = NULL;

  procs[0] = ct_test_service_start_full (FALSE, args, &error);
  ck_assert_msg (procs[0] != NULL, "service did not start: %s", error ? error->message : "");
  for (guint i = 1; i < N_PROC; i++)
    {
      procs[i] = ct_test_service_start_peer (procs[0], args, &error);
      ck_assert_msg (procs[i] != NULL, "peer did not start: %s", error ? error->message : "");
    }
}

static CtTestResponse *
send_to (guint       proc,
         const char *method,
         const char *path,
         const char *key,
         const char *body)
{
  CtTestResponse *r = ct_test_http (procs[proc], method, path, key, body, NULL);

  ck_assert_msg (r != NULL, "no answer from process %u to %s %s", proc, method, path);
  return r;
}

static void
teardown (void)
{
  /* Each process reads the one ledger, balanced. */
  for (guint i = 0; i < N_PROC; i++)
    if (procs[i] != NULL && ct_test_service_get_pid (procs[i]) > 0)
      {
        g_autoptr(CtTestResponse) r = send_to (i, "GET", "/v1/ledger/check", NULL, NULL);

        ck_assert_int_eq (r->status, 200);
        ck_assert_int_eq (ct_test_json_int (r->body, "sum"), 0);
        ck_assert_msg (strstr (r->body, "\"balanced\":true") != NULL, "%s", r->body);
      }
  for (guint i = N_PROC; i-- > 0;)
    g_clear_pointer (&procs[i], ct_test_service_free);
}

static char *
issue_with_balance (const char *name,
                    int         topups)
{
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"%s\"},\"operator\":\"op\"," MGR "}", name);
  g_autofree char *key = g_strdup_printf ("issue-%s", name);
  g_autoptr(CtTestResponse) r = send_to (0, "POST", "/v1/cards", key, body);
  char *card;

  ck_assert_int_eq (r->status, 201);
  card = ct_test_json_str (r->body, "card_no");
  for (int i = 0; i < topups; i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/topups", card);
      g_autofree char *tkey = g_strdup_printf ("top-%s-%d", name, i);
      guint proc = procs[i % N_PROC] != NULL ? (guint) i % N_PROC : 0;
      g_autoptr(CtTestResponse) t = send_to (proc, "POST", path, tkey,
                                             "{\"package_id\":\"p100\",\"operator\":\"op\"}");
      ck_assert_int_eq (t->status, 201);
    }
  return card;
}

static int64_t
balance_on (guint       proc,
            const char *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = send_to (proc, "GET", path, NULL, NULL);

  ck_assert_int_eq (r->status, 200);
  return ct_test_json_int (r->body, "balance");
}

/* Requests sent at once: one thread each, released together. */

typedef struct
{
  guint           proc;
  const char     *method;
  char           *path;
  char           *key;
  char           *body;
  gint           *gate;
  CtTestResponse *resp;
} Shot;

static gpointer
shot_main (gpointer data)
{
  Shot *s = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (procs[s->proc]);
  /* Connected first, so that the requests leave together. */
  g_autoptr(CtTestResponse) warm = ct_test_client_request (c, "GET", "/v1/health", NULL, NULL, NULL);

  while (g_atomic_int_get (s->gate) == 0)
    g_thread_yield ();
  s->resp = ct_test_client_request (c, s->method, s->path, s->key, s->body, NULL);
  return NULL;
}

static void
fire (Shot  *shots,
      guint  n)
{
  gint gate = 0;
  g_autofree GThread **threads = g_new0 (GThread *, n);

  for (guint i = 0; i < n; i++)
    {
      shots[i].gate = &gate;
      threads[i] = g_thread_new ("shot", shot_main, &shots[i]);
    }
  g_atomic_int_set (&gate, 1);
  for (guint i = 0; i < n; i++)
    {
      g_thread_join (threads[i]);
      ck_assert_msg (shots[i].resp != NULL, "request %u got no answer", i);
    }
}

static void
shots_clear (Shot  *shots,
             guint  n)
{
  for (guint i = 0; i < n; i++)
    {
      g_free (shots[i].path);
      g_free (shots[i].key);
      g_free (shots[i].body);
      g_clear_pointer (&shots[i].resp, ct_test_response_free);
    }
}

START_TEST (test_multi_racing_payments_never_overdraw)
{
  g_autofree char *card = issue_with_balance ("race", 1);   /* 110.00 */
  Shot shots[24] = { 0 };
  int64_t paid = 0;
  guint ok = 0, refused = 0;

  /* 24 payments of 11.00 from three processes at once for a card holding
   * 110.00: exactly ten go through. */
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    shots[i] = (Shot) { i % N_PROC, "POST", g_strdup_printf ("/v1/cards/%s/payments", card),
                        g_strdup_printf ("race-%u", i), g_strdup ("{\"amount\":1100,\"operator\":\"op\"}"),
                        NULL, NULL };
  fire (shots, G_N_ELEMENTS (shots));
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    {
      g_autofree char *code = ct_test_response_error_code (shots[i].resp);

      if (shots[i].resp->status == 201)
        {
          ok++;
          paid += 1100;
        }
      else
        {
          ck_assert_msg (shots[i].resp->status == 409 && g_strcmp0 (code, "insufficient_balance") == 0,
                         "%ld %s", shots[i].resp->status, shots[i].resp->body);
          refused++;
        }
    }
  ck_assert_uint_eq (ok, 10);
  ck_assert_uint_eq (refused, G_N_ELEMENTS (shots) - 10);
  for (guint p = 0; p < N_PROC; p++)
    ck_assert_int_eq (balance_on (p, card), 11000 - paid);
  shots_clear (shots, G_N_ELEMENTS (shots));
}
END_TEST

START_TEST (test_multi_one_key_to_every_process_applies_once)
{
  g_autofree char *card = issue_with_balance ("onekey", 1);
  Shot shots[9] = { 0 };
  guint applied = 0;

  /* The same request with the same key, three times to each process. */
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    shots[i] = (Shot) { i % N_PROC, "POST", g_strdup_printf ("/v1/cards/%s/payments", card),
                        g_strdup ("same-intent"), g_strdup ("{\"amount\":700,\"operator\":\"op\"}"), NULL, NULL };
  fire (shots, G_N_ELEMENTS (shots));
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    {
      CtTestResponse *r = shots[i].resp;
      g_autofree char *code = ct_test_response_error_code (r);

      if (r->status == 201 && ct_test_response_header (r, "Idempotent-Replayed") == NULL)
        applied++;
      else
        ck_assert_msg ((r->status == 201 && g_strcmp0 (ct_test_response_header (r, "Idempotent-Replayed"), "true") == 0)
                       || (r->status == 409 && g_strcmp0 (code, "request_in_progress") == 0),
                       "%ld %s", r->status, r->body);
    }
  ck_assert_uint_eq (applied, 1);
  ck_assert_int_eq (balance_on (2, card), 11000 - 700);
  /* Afterwards every process replays the stored answer. */
  for (guint p = 0; p < N_PROC; p++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
      g_autoptr(CtTestResponse) again = send_to (p, "POST", path, "same-intent",
                                                 "{\"amount\":700,\"operator\":\"op\"}");

      ck_assert_int_eq (again->status, 201);
      ck_assert_str_eq (ct_test_response_header (again, "Idempotent-Replayed"), "true");
    }
  shots_clear (shots, G_N_ELEMENTS (shots));
}
END_TEST

START_TEST (test_multi_racing_refunds_apply_once)
{
  g_autofree char *card = issue_with_balance ("refund", 1);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autoptr(CtTestResponse) paid = send_to (1, "POST", path, "pay-1", "{\"amount\":2500,\"operator\":\"op\"}");
  g_autofree char *tx = NULL;
  Shot shots[6] = { 0 };
  guint applied = 0;

  ck_assert_int_eq (paid->status, 201);
  tx = ct_test_json_str (paid->body, "transaction.id");
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    shots[i] = (Shot) { i % N_PROC, "POST", g_strdup_printf ("/v1/cards/%s/refunds", card),
                        g_strdup_printf ("refund-%u", i),
                        g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx), NULL, NULL };
  fire (shots, G_N_ELEMENTS (shots));
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    {
      g_autofree char *code = ct_test_response_error_code (shots[i].resp);

      if (shots[i].resp->status == 201)
        applied++;
      else
        ck_assert_msg (shots[i].resp->status == 409 && g_strcmp0 (code, "already_refunded") == 0,
                       "%ld %s", shots[i].resp->status, shots[i].resp->body);
    }
  ck_assert_uint_eq (applied, 1);
  ck_assert_int_eq (balance_on (0, card), 11000);
  shots_clear (shots, G_N_ELEMENTS (shots));
}
END_TEST

START_TEST (test_multi_wrong_pins_spread_over_processes_lock_everywhere)
{
  g_autofree char *card = issue_with_balance ("pins", 1);
  Shot shots[5] = { 0 };

  /* Five wrong PINs at once, spread over the processes: all counted. */
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    shots[i] = (Shot) { i % N_PROC, "POST", g_strdup_printf ("/v1/cards/%s/adjustments", card),
                        g_strdup_printf ("wrong-%u", i),
                        g_strdup ("{\"delta\":-1,\"reason\":\"x\",\"manager\":{\"id\":\"m1\",\"pin\":\"0000\"}}"),
                        NULL, NULL };
  fire (shots, G_N_ELEMENTS (shots));
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    ck_assert_msg (shots[i].resp->status == 403, "%ld %s", shots[i].resp->status, shots[i].resp->body);
  /* The right PIN is refused on every process now. */
  for (guint p = 0; p < N_PROC; p++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/adjustments", card);
      g_autofree char *key = g_strdup_printf ("right-%u", p);
      g_autoptr(CtTestResponse) r = send_to (p, "POST", path, key, "{\"delta\":-1,\"reason\":\"x\"," MGR "}");
      g_autofree char *code = ct_test_response_error_code (r);

      ck_assert_msg (r->status == 429 && g_strcmp0 (code, "pin_locked") == 0, "%ld %s", r->status, r->body);
    }
  shots_clear (shots, G_N_ELEMENTS (shots));
}
END_TEST

START_TEST (test_multi_concurrent_card_issues_get_unique_numbers)
{
  Shot shots[30] = { 0 };
  g_autoptr(GHashTable) numbers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    shots[i] = (Shot) { i % N_PROC, "POST", g_strdup ("/v1/cards"), g_strdup_printf ("issue-%u", i),
                        g_strdup_printf ("{\"member\":{\"name\":\"M%u\"},\"operator\":\"op\"," MGR "}", i),
                        NULL, NULL };
  fire (shots, G_N_ELEMENTS (shots));
  for (guint i = 0; i < G_N_ELEMENTS (shots); i++)
    {
      ck_assert_msg (shots[i].resp->status == 201, "%ld %s", shots[i].resp->status, shots[i].resp->body);
      ck_assert (g_hash_table_add (numbers, ct_test_json_str (shots[i].resp->body, "card_no")));
    }
  ck_assert_uint_eq (g_hash_table_size (numbers), G_N_ELEMENTS (shots));
  /* A number given twice on purpose is refused whichever process sees it. */
  {
    GHashTableIter iter;
    gpointer first = NULL;
    g_autofree char *body = NULL;
    g_autoptr(CtTestResponse) r = NULL;

    g_hash_table_iter_init (&iter, numbers);
    ck_assert (g_hash_table_iter_next (&iter, &first, NULL));
    body = g_strdup_printf ("{\"member\":{\"name\":\"Twice\"},\"card_no\":\"%s\",\"operator\":\"op\"," MGR "}",
                            (char *) first);
    r = send_to (2, "POST", "/v1/cards", "twice", body);
    ck_assert_int_eq (r->status, 409);
  }
  shots_clear (shots, G_N_ELEMENTS (shots));
}
END_TEST

START_TEST (test_multi_one_import_batch_to_several_processes_takes_each_row_once)
{
  g_autoptr(GString) rows = g_string_new (NULL);
  Shot shots[N_PROC] = { 0 };
  g_autoptr(CtTestResponse) batch = NULL;
  int64_t total = 0;

  for (guint i = 0; i < 40; i++)
    {
      g_string_append_printf (rows, "%s{\"line\":%u,\"card_no\":\"77%08u\",\"name\":\"L%u\",\"balance\":%u}",
                              i ? "," : "", i + 1, i, i, 100 + i);
      total += 100 + i;
    }
  /* One batch sent to every process at once (a till retrying elsewhere
   * with a new key): each row goes in once. */
  for (guint i = 0; i < N_PROC; i++)
    shots[i] = (Shot) { i, "POST", g_strdup ("/v1/imports"), g_strdup_printf ("import-%u", i),
                        g_strdup_printf ("{\"batch_id\":\"b1\",\"rows\":[%s]," MGR "}", rows->str), NULL, NULL };
  fire (shots, N_PROC);
  for (guint i = 0; i < N_PROC; i++)
    {
      ck_assert_msg (shots[i].resp->status == 200, "%ld %s", shots[i].resp->status, shots[i].resp->body);
      ck_assert_int_eq (ct_test_json_int (shots[i].resp->body, "accepted"), 40);
    }
  batch = send_to (1, "GET", "/v1/imports/b1", NULL, NULL);
  ck_assert_int_eq (batch->status, 200);
  ck_assert_int_eq (ct_test_json_int (batch->body, "rows_accepted"), 40);
  ck_assert_int_eq (ct_test_json_int (batch->body, "total_balance"), total);
  {
    g_autoptr(CtTestResponse) check = send_to (2, "GET", "/v1/ledger/check", NULL, NULL);

    ck_assert_int_eq (ct_test_json_int (check->body, "legacy"), -total);
  }
  shots_clear (shots, N_PROC);
}
END_TEST

/* kill -9 of one process under load */

typedef struct
{
  guint       proc;
  guint       index;
  const char *card;
  GMutex     *lock;
  GPtrArray  *acked;     /* transaction ids */
  gint       *stop;
  guint       failed;    /* requests without an answer (the killed process) */
  char       *lost_key;  /* the first of them */
} Loader;

static gpointer
loader_main (gpointer data)
{
  Loader *l = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (procs[l->proc]);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", l->card);

  for (guint i = 0; !g_atomic_int_get (l->stop) && l->failed < 20; i++)
    {
      g_autofree char *key = g_strdup_printf ("load-%u-%u", l->index, i);
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key,
                                                            "{\"amount\":1,\"operator\":\"op\"}", NULL);

      if (r == NULL)
        {
          if (l->failed++ == 0)
            l->lost_key = g_strdup (key);
          continue;
        }
      if (r->status == 201)
        {
          g_mutex_lock (l->lock);
          g_ptr_array_add (l->acked, ct_test_json_str (r->body, "transaction.id"));
          g_mutex_unlock (l->lock);
        }
    }
  return NULL;
}

START_TEST (test_multi_kill_9_loses_no_acknowledged_payment_and_others_keep_serving)
{
  g_autofree char *card = issue_with_balance ("kill", 2);
  g_autoptr(GPtrArray) acked = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(CtTestDb) db = NULL;
  GMutex lock;
  gint stop = 0;
  Loader loaders[9];
  GThread *threads[9];
  guint missing = 0, n_acked = 0, n_lost = 0;

  g_mutex_init (&lock);
  for (guint i = 0; i < G_N_ELEMENTS (loaders); i++)
    {
      loaders[i] = (Loader) { i % N_PROC, i, card, &lock, acked, &stop, 0, NULL };
      threads[i] = g_thread_new ("load", loader_main, &loaders[i]);
    }
  for (gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC; g_get_monotonic_time () < deadline;)
    {
      g_mutex_lock (&lock);
      n_acked = acked->len;
      g_mutex_unlock (&lock);
      if (n_acked >= 60)
        break;
      g_usleep (20 * 1000);
    }
  ct_test_service_kill (procs[0]);
  /* The others keep serving: more payments are acknowledged after the kill. */
  for (gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC; g_get_monotonic_time () < deadline;)
    {
      guint now;

      g_mutex_lock (&lock);
      now = acked->len;
      g_mutex_unlock (&lock);
      if (now >= n_acked + 30)
        break;
      g_usleep (20 * 1000);
    }
  g_atomic_int_set (&stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (loaders); i++)
    g_thread_join (threads[i]);
  ck_assert_uint_ge (acked->len, n_acked + 30);

  db = ct_test_db_open (ct_test_service_get_db_path (procs[0]));
  for (guint i = 0; i < acked->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT 1 FROM transactions WHERE id = %s AND kind = 'payment'",
                                              (char *) acked->pdata[i]);
      g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

      if (rows->len != 1)
        missing++;
    }
  ck_assert_uint_eq (missing, 0);
  /* What the killed process had in flight left no claim behind: the
   * request its till never got an answer for is answered by a survivor,
   * applied now or replayed if it had committed. */
  for (guint i = 0; i < G_N_ELEMENTS (loaders); i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
      g_autoptr(CtTestResponse) r = NULL;

      if (loaders[i].lost_key == NULL)
        continue;
      ck_assert_uint_eq (loaders[i].proc, 0);
      r = send_to (1, "POST", path, loaders[i].lost_key, "{\"amount\":1,\"operator\":\"op\"}");
      ck_assert_msg (r->status == 201, "%ld %s", r->status, r->body);
      n_lost++;
      g_free (loaders[i].lost_key);
    }
  ck_assert_uint_gt (n_lost, 0);
  ck_assert_int_eq (balance_on (2, card), 22000 - (int64_t) acked->len - (int64_t) n_lost);
  g_mutex_clear (&lock);
}
END_TEST

/* Moving a grown shop: SQLite to PostgreSQL */

static int
run_copy_full (const char  *from,
               const char  *to,
               char       **out,
               char       **err)
{
  const char *argv[] = { ct_test_service_get_binary (), "copy", "--from", from, "--to", to, NULL };
  int ws = 0;

  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, err ? 0 : G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out,
                           err, &ws, NULL));
  return WEXITSTATUS (ws);
}

/* Its exit status; a failure to copy prints what copy said. */
static int
run_copy (const char  *from,
          const char  *to,
          char       **out)
{
  g_autofree char *err = NULL;
  int status = run_copy_full (from, to, out, &err);

  if (status != 0)
    g_printerr ("copy: %s%s\n", *out, err);
  return status;
}

/* The number on the copy's "same: rows of TABLE N" line; -1 without one. */
static int64_t
copied_rows (const char *out,
             const char *table)
{
  g_autofree char *line = g_strdup_printf ("same: rows of %s ", table);
  const char *p = strstr (out, line);

  return p ? g_ascii_strtoll (p + strlen (line), NULL, 10) : -1;
}

static void
sqlite_exec (const char *path,
             const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  ck_assert_int_eq (sqlite3_open (path, &db), SQLITE_OK);
  ck_assert_msg (sqlite3_exec (db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
  sqlite3_close (db);
}

START_TEST (test_multi_copy_from_sqlite_keeps_tokens_keys_and_balances)
{
  g_autofree char *pg = g_strdup (g_getenv ("CT_TEST_PG"));
  g_autoptr(GError) error = NULL;
  g_autofree char *card = NULL, *tx = NULL, *target = NULL, *out = NULL, *out2 = NULL;
  g_autofree char *path = NULL, *refund_body = NULL, *lite_db = NULL;
  g_autoptr(CtTestResponse) issued = NULL, paid = NULL, refunded = NULL, imported = NULL;
  g_autoptr(CtTestResponse) replay = NULL, after = NULL, card_after = NULL, wrong_pin = NULL;
  g_autofree char *audit_out = NULL, *refund_path = NULL;
  int64_t balance_before;

  /* A shop on SQLite with a bit of everything in its ledger. */
  g_unsetenv ("CT_TEST_PG");
  procs[0] = ct_test_service_start (FALSE, &error);
  g_setenv ("CT_TEST_PG", pg, TRUE);
  ck_assert_msg (procs[0] != NULL, "%s", error ? error->message : "");
  lite_db = g_strdup (ct_test_service_get_db_path (procs[0]));
  card = issue_with_balance ("moving", 2);
  refund_path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  path = g_strdup_printf ("/v1/cards/%s/payments", card);
  paid = send_to (0, "POST", path, "before-move", "{\"amount\":1234,\"operator\":\"op\"}");
  ck_assert_int_eq (paid->status, 201);
  tx = ct_test_json_str (paid->body, "transaction.id");
  g_free (path);
  path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  refund_body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  refunded = send_to (0, "POST", path, "refund-before-move", refund_body);
  ck_assert_int_eq (refunded->status, 201);
  g_free (path);
  path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_clear_pointer (&paid, ct_test_response_free);
  paid = send_to (0, "POST", path, "paid-before-move", "{\"amount\":500,\"operator\":\"op\"}");
  wrong_pin = send_to (0, "POST", refund_path, "wrong-pin-before-move",
                       "{\"transaction_id\":\"1\",\"operator\":\"op\",\"manager\":{\"id\":\"m1\",\"pin\":\"999999\"}}");
  ck_assert_int_eq (wrong_pin->status, 403);
  imported = send_to (0, "POST", "/v1/imports", "import-before-move",
                      "{\"batch_id\":\"old\",\"rows\":[{\"line\":1,\"card_no\":\"7700000001\",\"balance\":999}]," MGR "}");
  ck_assert_int_eq (imported->status, 200);
  balance_before = balance_on (0, card);
  ck_assert_int_eq (ct_test_service_stop (procs[0]), 0);

  /* The copy agrees with its source, and refuses a target in use. */
  ck_assert (ct_test_store_new (ct_test_service_get_data_dir (procs[0]), &target, NULL));
  ck_assert_int_eq (run_copy (lite_db, target, &out), 0);
  ck_assert_msg (strstr (out, "both sides agree") != NULL && strstr (out, "DIFFERENT") == NULL, "%s", out);
  /* Every table is counted on both sides, the manager's audit log and the
   * count of his wrong PIN too. */
  ck_assert_msg (copied_rows (out, "audit") >= 1 && copied_rows (out, "pin_guard") == 1
                 && copied_rows (out, "postings") > 0 && copied_rows (out, "idempotency") > 0, "%s", out);
  ck_assert_int_eq (run_copy (lite_db, target, &out2), 2);
  {
    const char *argv[] = { ct_test_service_get_binary (), "audit", "--db", target, NULL };
    int ws = 0;

    ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &audit_out, NULL,
                             &ws, NULL));
    ck_assert_msg (WEXITSTATUS (ws) == 0 && strstr (audit_out, card) != NULL, "%s", audit_out);
  }

  /* The same till token and the same keys work against the new store. */
  ct_test_service_set_db (procs[0], target);
  ck_assert (ct_test_service_restart (procs[0], NULL));
  replay = send_to (0, "POST", path, "paid-before-move", "{\"amount\":500,\"operator\":\"op\"}");
  ck_assert_int_eq (replay->status, 201);
  ck_assert_str_eq (ct_test_response_header (replay, "Idempotent-Replayed"), "true");
  ck_assert_str_eq (replay->body, paid->body);
  ck_assert_int_eq (balance_on (0, card), balance_before);
  after = send_to (0, "POST", path, "after-move", "{\"amount\":100,\"operator\":\"op\"}");
  ck_assert_int_eq (after->status, 201);
  ck_assert (g_ascii_strtoll (ct_test_json_str (after->body, "transaction.id"), NULL, 10) > g_ascii_strtoll (tx, NULL, 10));
  ck_assert_int_eq (balance_on (0, card), balance_before - 100);
  card_after = send_to (0, "GET", "/v1/cards/7700000001", NULL, NULL);
  ck_assert_int_eq (ct_test_json_int (card_after->body, "balance"), 999);
}
END_TEST

static void
copy_teardown (void)
{
  teardown ();
}

/* A column the copy does not know stops it before the target is touched:
 * it would be left behind in silence otherwise. */
START_TEST (test_multi_copy_refuses_a_column_it_does_not_carry)
{
  g_autofree char *pg = g_strdup (g_getenv ("CT_TEST_PG"));
  g_autoptr(GError) error = NULL;
  g_autofree char *lite_db = NULL, *target = NULL, *out = NULL, *err = NULL, *out2 = NULL;

  g_unsetenv ("CT_TEST_PG");
  procs[0] = ct_test_service_start (FALSE, &error);
  g_setenv ("CT_TEST_PG", pg, TRUE);
  ck_assert_msg (procs[0] != NULL, "%s", error ? error->message : "");
  lite_db = g_strdup (ct_test_service_get_db_path (procs[0]));
  g_free (issue_with_balance ("unknown-column", 1));
  ck_assert_int_eq (ct_test_service_stop (procs[0]), 0);
  sqlite_exec (lite_db, "ALTER TABLE cards ADD COLUMN nickname TEXT");

  ck_assert (ct_test_store_new (ct_test_service_get_data_dir (procs[0]), &target, NULL));
  ck_assert_int_eq (run_copy_full (lite_db, target, &out, &err), 2);
  ck_assert_msg (strstr (err, "cards.nickname") != NULL && strstr (err, "nothing was copied") != NULL, "%s", err);
  /* The target is as it was: once the column is gone, the copy goes. */
  sqlite_exec (lite_db, "ALTER TABLE cards DROP COLUMN nickname");
  ck_assert_int_eq (run_copy (lite_db, target, &out2), 0);
  ck_assert_int_eq (copied_rows (out2, "cards"), 1);
}
END_TEST

START_TEST (test_multi_processes_share_one_port_with_reuse_port)
{
  const char *args[] = { "--reuse-port", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) pids = g_hash_table_new (g_direct_hash, g_direct_equal);
  CtTestService *a, *b;

  a = ct_test_service_start_full (FALSE, args, &error);
  ck_assert_msg (a != NULL, "%s", error ? error->message : "");
  b = ct_test_service_start_peer (a, args, &error);
  ck_assert_msg (b != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (ct_test_service_get_url (a), ct_test_service_get_url (b));
  /* Both answer on the one port; stopping one leaves the other serving it. */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(CtTestResponse) r = ct_test_http (a, "GET", "/v1/merchant", NULL, NULL, NULL);

      ck_assert (r != NULL && r->status == 200);
    }
  ck_assert_int_eq (ct_test_service_stop (a), 0);
  {
    g_autoptr(CtTestResponse) r = ct_test_http (b, "GET", "/v1/merchant", NULL, NULL, NULL);

    ck_assert (r != NULL && r->status == 200);
  }
  ct_test_service_free (b);
  ct_test_service_free (a);
}
END_TEST

static Suite *
multi_suite (void)
{
  Suite *s = suite_create ("service-multi");
  TCase *tc = tcase_create ("three-processes");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 180);
  tcase_add_test (tc, test_multi_racing_payments_never_overdraw);
  tcase_add_test (tc, test_multi_one_key_to_every_process_applies_once);
  tcase_add_test (tc, test_multi_racing_refunds_apply_once);
  tcase_add_test (tc, test_multi_wrong_pins_spread_over_processes_lock_everywhere);
  tcase_add_test (tc, test_multi_concurrent_card_issues_get_unique_numbers);
  tcase_add_test (tc, test_multi_one_import_batch_to_several_processes_takes_each_row_once);
  tcase_add_test (tc, test_multi_kill_9_loses_no_acknowledged_payment_and_others_keep_serving);
  suite_add_tcase (s, tc);
  tc = tcase_create ("copy");
  tcase_add_checked_fixture (tc, NULL, copy_teardown);
  tcase_set_timeout (tc, 180);
  tcase_add_test (tc, test_multi_copy_from_sqlite_keeps_tokens_keys_and_balances);
  tcase_add_test (tc, test_multi_copy_refuses_a_column_it_does_not_carry);
  tcase_add_test (tc, test_multi_processes_share_one_port_with_reuse_port);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  if (!ct_test_store_is_pg ())
    {
      g_printerr ("test-service-multi runs on PostgreSQL: tests/ct-pg-run.sh test-service-multi\n");
      return 77;
    }
  sr = srunner_create (multi_suite ());
  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
