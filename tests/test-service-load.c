/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-load"
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "ct-service.h"
#include "ct-service-auth.h"
#include "ct-test-json.h"
#include "ct-test-service.h"

/* The service under concurrency and crashes: tills racing for one card's
 * balance, a restart between write and read, and kill -9 in the middle of
 * a load that must lose no acknowledged payment. */

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"

static CtTestService *svc;

static void
setup (void)
{
  /* Load from one till: the default rate limit would answer 429. */
  const char *args[] = { "--rate-limit", "0", NULL };
  g_autoptr(GError) error = NULL;

  svc = ct_test_service_start_full (TRUE, args, &error);
  ck_assert_msg (svc != NULL, "service did not start: %s", error ? error->message : "");
}

static void
assert_ledger_balanced (void)
{
  g_autoptr(CtTestResponse) r = ct_test_http (svc, "GET", "/v1/ledger/check", NULL, NULL, NULL);

  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  ck_assert_int_eq (ct_test_json_int (r->body, "sum"), 0);
  ck_assert_msg (strstr (r->body, "\"balanced\":true") != NULL, "%s", r->body);
}

static void
teardown (void)
{
  assert_ledger_balanced ();
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
}

static char *
issue_with_balance (const char *name,
                    int         topups)
{
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"%s\"},\"operator\":\"op\"," MGR "}", name);
  g_autofree char *key = g_strdup_printf ("issue-%s", name);
  g_autoptr(CtTestResponse) r = ct_test_http (svc, "POST", "/v1/cards", key, body, NULL);
  char *card;

  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 201);
  card = ct_test_json_str (r->body, "card_no");
  for (int i = 0; i < topups; i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/topups", card);
      g_autofree char *tkey = g_strdup_printf ("top-%s-%d", name, i);
      g_autoptr(CtTestResponse) t = ct_test_http (svc, "POST", path, tkey,
                                                  "{\"package_id\":\"p100\",\"operator\":\"op\"}", NULL);
      ck_assert_int_eq (t->status, 201);
    }
  return card;
}

static int64_t
balance (const char *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = ct_test_http (svc, "GET", path, NULL, NULL, NULL);

  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  return ct_test_json_int (r->body, "balance");
}

/* Racing tills */

typedef struct
{
  char   *path;
  guint   index;
  guint   ok;
  guint   refused;
  guint   other;
} Racer;

static gpointer
racer_main (gpointer data)
{
  Racer *r = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *key = g_strdup_printf ("race-%u-%u", r->index, i);
      g_autoptr(CtTestResponse) resp = ct_test_client_request (c, "POST", r->path, key,
                                                               "{\"amount\":1100,\"operator\":\"op\"}", NULL);
      g_autofree char *code = resp ? ct_test_response_error_code (resp) : NULL;

      if (resp != NULL && resp->status == 201)
        r->ok++;
      else if (resp != NULL && resp->status == 409 && g_strcmp0 (code, "insufficient_balance") == 0)
        r->refused++;
      else
        r->other++;
    }
  return NULL;
}

START_TEST (test_service_sixteen_tills_cannot_overdraw_one_card)
{
  /* 3 top-ups of 110.00 pay for exactly K = 30 payments of 11.00. */
  g_autofree char *card = issue_with_balance ("race", 3);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  Racer racers[16];
  GThread *threads[16];
  guint ok = 0, refused = 0, other = 0;

  for (guint i = 0; i < 16; i++)
    {
      racers[i] = (Racer) { path, i, 0, 0, 0 };
      threads[i] = g_thread_new ("racer", racer_main, &racers[i]);
    }
  for (guint i = 0; i < 16; i++)
    {
      g_thread_join (threads[i]);
      ok += racers[i].ok;
      refused += racers[i].refused;
      other += racers[i].other;
    }
  ck_assert_uint_eq (ok, 30);
  ck_assert_uint_eq (refused, 16 * 40 - 30);
  ck_assert_uint_eq (other, 0);
  ck_assert_int_eq (balance (card), 0);
}
END_TEST

typedef struct
{
  char  *card;
  guint  index;
  guint  done;
} Same;

static gpointer
same_key_main (gpointer data)
{
  Same *s = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", s->card);

  /* Every thread retries the same intent until it has a definitive answer. */
  for (int attempt = 0; attempt < 200; attempt++)
    {
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, "one-intent",
                                                            "{\"amount\":500,\"operator\":\"op\"}", NULL);
      if (r != NULL && r->status == 201)
        {
          s->done = 1;
          break;
        }
      g_usleep (2000);
    }
  return NULL;
}

START_TEST (test_service_one_key_from_many_threads_applies_once)
{
  g_autofree char *card = issue_with_balance ("once", 1);
  Same same[8];
  GThread *threads[8];

  for (guint i = 0; i < 8; i++)
    {
      same[i] = (Same) { card, i, 0 };
      threads[i] = g_thread_new ("same", same_key_main, &same[i]);
    }
  for (guint i = 0; i < 8; i++)
    {
      g_thread_join (threads[i]);
      ck_assert_uint_eq (same[i].done, 1);
    }
  ck_assert_int_eq (balance (card), 11000 - 500);
}
END_TEST

typedef struct
{
  const char *url;
  const char *token;
  char       *card;
  guint       ok;
} Grouped;

static gpointer
grouped_main (gpointer data)
{
  Grouped *g = data;
  g_autoptr(CtTestClient) c = ct_test_client_new_for_url (g->url, NULL, g->token);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", g->card);

  for (guint i = 0; i < 25; i++)
    {
      g_autofree char *key = g_strdup_printf ("grp-%s-%u", g->card, i);
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key,
                                                            "{\"amount\":1,\"operator\":\"op\"}", NULL);
      if (r != NULL && r->status == 201)
        g->ok++;
    }
  return NULL;
}

START_TEST (test_service_commits_concurrent_writes_in_groups)
{
  char *cards[16];
  Grouped grouped[16];
  GThread *threads[16];
  CtServiceOptions opts = { 0 };
  g_autoptr(GError) error = NULL;
  CtService *inproc;
  guint64 writes = 0, commits = 0;

  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *name = g_strdup_printf ("grp%u", i);
      cards[i] = issue_with_balance (name, 1);
    }
  /* The same database, served in this process so its counters can be read. */
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  opts.db_path = (char *) ct_test_service_get_db_path (svc);
  opts.listen = (char *) "127.0.0.1:0";
  opts.insecure_http = TRUE;
  inproc = ct_service_new (&opts, &error);
  ck_assert_msg (inproc != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ct_service_start (inproc, &error), "%s", error ? error->message : "");
  for (guint i = 0; i < 16; i++)
    {
      grouped[i] = (Grouped) { ct_service_get_url (inproc), ct_test_service_get_token (svc), cards[i], 0 };
      threads[i] = g_thread_new ("grouped", grouped_main, &grouped[i]);
    }
  for (guint i = 0; i < 16; i++)
    {
      g_thread_join (threads[i]);
      ck_assert_uint_eq (grouped[i].ok, 25);
      g_free (cards[i]);
    }
  ct_service_stop (inproc);
  ct_service_get_stats (inproc, &writes, &commits);
  ct_service_free (inproc);
  ck_assert_uint_eq (writes, 16 * 25);
  /* Sixteen tills at once must share fsyncs, not pay one each: SQLite's
   * one writer commits them in groups; on PostgreSQL each of the
   * process's committers runs the writes waiting in one transaction. */
  if (ct_store_location_is_uri (opts.db_path))
    ck_assert_msg (commits < writes, "%" G_GUINT64_FORMAT " commits for %" G_GUINT64_FORMAT " writes",
                   commits, writes);
  else
    ck_assert_msg (commits < writes / 2, "%" G_GUINT64_FORMAT " commits for %" G_GUINT64_FORMAT " writes",
                   commits, writes);
  ck_assert (ct_test_service_restart (svc, NULL));
}
END_TEST

typedef struct
{
  char  *path;
  char  *body;
  guint  index;
  long   status;
  char  *code;
} Refunder;

static gpointer
refunder_main (gpointer data)
{
  Refunder *r = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *key = g_strdup_printf ("refund-race-%u", r->index);
  g_autoptr(CtTestResponse) resp = ct_test_client_request (c, "POST", r->path, key, r->body, NULL);

  r->status = resp ? resp->status : -1;
  r->code = resp ? ct_test_response_error_code (resp) : NULL;
  return NULL;
}

START_TEST (test_service_racing_refunds_apply_once)
{
  g_autofree char *card = issue_with_balance ("refund-race", 1);
  g_autofree char *pay_path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  g_autoptr(CtTestResponse) paid = ct_test_http (svc, "POST", pay_path, "to-refund",
                                                 "{\"amount\":4000,\"operator\":\"op\"}", NULL);
  g_autofree char *tx = ct_test_json_str (paid->body, "transaction.id");
  g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  Refunder refunders[8];
  GThread *threads[8];
  guint ok = 0, already = 0;

  ck_assert_int_eq (paid->status, 201);
  for (guint i = 0; i < 8; i++)
    {
      refunders[i] = (Refunder) { path, body, i, 0, NULL };
      threads[i] = g_thread_new ("refund", refunder_main, &refunders[i]);
    }
  for (guint i = 0; i < 8; i++)
    {
      g_thread_join (threads[i]);
      if (refunders[i].status == 201)
        ok++;
      else if (refunders[i].status == 409 && g_strcmp0 (refunders[i].code, "already_refunded") == 0)
        already++;
      g_free (refunders[i].code);
    }
  ck_assert_uint_eq (ok, 1);
  ck_assert_uint_eq (already, 7);
  ck_assert_int_eq (balance (card), 11000);
}
END_TEST

/* PostgreSQL: writes waiting together run in one transaction. Each test
 * serves the database in this process with one committer, holds that
 * committer on a card change whose row the test keeps locked, queues a
 * group behind it, then lets it go. */

typedef struct
{
  const char     *url;
  const char     *token;
  const char     *method;
  char           *path;
  char           *key;
  char           *body;
  GThread        *thread;
  CtTestResponse *resp;
} Sent;

static gpointer
sent_main (gpointer data)
{
  Sent *s = data;
  g_autoptr(CtTestClient) c = ct_test_client_new_for_url (s->url, NULL, s->token);

  s->resp = ct_test_client_request (c, s->method, s->path, s->key, s->body, NULL);
  return NULL;
}

static void
sent_start (Sent       *s,
            CtService  *inproc,
            const char *method,
            char       *path,
            const char *key,
            char       *body)
{
  *s = (Sent) { ct_service_get_url (inproc), ct_test_service_get_token (svc), method, path, g_strdup (key), body,
                NULL, NULL };
  s->thread = g_thread_new ("sent", sent_main, s);
}

static CtTestResponse *
sent_join (Sent *s)
{
  g_thread_join (s->thread);
  g_free (s->path);
  g_free (s->key);
  g_free (s->body);
  ck_assert_msg (s->resp != NULL, "no answer");
  return s->resp;
}

static void
expect_answer (CtTestResponse *r,
               long            status,
               const char     *code)
{
  g_autofree char *got = ct_test_response_error_code (r);

  ck_assert_msg (r->status == status && g_strcmp0 (got, code) == 0, "%ld %s", r->status, r->body);
}

static int64_t
db_count (CtTestDb   *db,
          const char *sql)
{
  g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

  ck_assert_uint_eq (rows->len, 1);
  return g_ascii_strtoll (((char **) rows->pdata[0])[0], NULL, 10);
}

/* Waits, with a deadline, until @n backends of the test's database wait
 * for a lock. */
static void
wait_for_lock_waits (CtTestDb *db,
                     int64_t   n)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (db_count (db, "SELECT count (*) FROM pg_stat_activity WHERE datname = current_database ()"
                       " AND wait_event_type = 'Lock'") < n)
    {
      ck_assert_msg (g_get_monotonic_time () < end, "no request came to wait for the lock");
      g_usleep (10 * 1000);
    }
}

static void
wait_for_queued (CtService *inproc,
                 guint      n)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (ct_service_queued_writes (inproc) < n)
    {
      ck_assert_msg (g_get_monotonic_time () < end, "%u writes queued, not %u", ct_service_queued_writes (inproc), n);
      g_usleep (10 * 1000);
    }
}

typedef struct
{
  CtService *inproc;
  CtTestDb  *holder;   /* keeps the held card's row locked */
  Sent       blocker;  /* the card change the committer waits in */
  guint64    writes;
  guint64    commits;
} Group;

/* Serves the database in this process with one committer and keeps it
 * busy with a change of @held_card until group_release(). */
static void
group_hold (Group      *g,
            const char *held_card)
{
  CtServiceOptions opts = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *lock = g_strdup_printf ("BEGIN; SELECT 1 FROM cards WHERE card_no = '%s' FOR UPDATE", held_card);

  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  opts.db_path = (char *) ct_test_service_get_db_path (svc);
  opts.listen = (char *) "127.0.0.1:0";
  opts.insecure_http = TRUE;
  opts.connections = 1;
  g->inproc = ct_service_new (&opts, &error);
  ck_assert_msg (g->inproc != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ct_service_start (g->inproc, &error), "%s", error ? error->message : "");
  g->holder = ct_test_db_open (opts.db_path);
  ck_assert_int_ge (ct_test_db_exec (g->holder, lock), 0);
  sent_start (&g->blocker, g->inproc, "PATCH", g_strdup_printf ("/v1/cards/%s", held_card), "hold",
              g_strdup ("{\"status\":\"frozen\"," MGR "}"));
  wait_for_lock_waits (g->holder, 1);
}

/* Lets the committer go once @n writes wait behind it: they are taken as
 * one group. */
static void
group_release (Group *g,
               guint  n)
{
  g_autoptr(CtTestResponse) r = NULL;

  wait_for_queued (g->inproc, n);
  ct_service_get_stats (g->inproc, &g->writes, &g->commits);
  ct_test_db_release (g->holder);
  r = sent_join (&g->blocker);
  ck_assert_int_eq (r->status, 200);
}

/* The commits since group_release(), once every write is answered. */
static guint64
group_finish (Group *g)
{
  guint64 writes, commits;

  ct_service_stop (g->inproc);
  ct_service_get_stats (g->inproc, &writes, &commits);
  ct_service_free (g->inproc);
  ct_test_db_close (g->holder);
  ck_assert (ct_test_service_restart (svc, NULL));
  return commits - g->commits;
}

static char *
pay_path (const char *card)
{
  return g_strdup_printf ("/v1/cards/%s/payments", card);
}

START_TEST (test_service_pg_group_answers_a_key_claimed_elsewhere_409_and_commits_the_rest)
{
  g_autofree char *held = issue_with_balance ("g1-held", 1);
  g_autofree char *a = issue_with_balance ("g1-a", 1);
  g_autofree char *b = issue_with_balance ("g1-b", 1);
  g_autofree char *c = issue_with_balance ("g1-c", 1);
  guint8 hash[32];
  g_autofree char *hex = NULL;
  g_autofree char *q = NULL;
  g_autofree char *claim = NULL;
  g_autoptr(CtTestDb) other = NULL;
  g_autoptr(CtTestResponse) again = NULL;
  Group g = { 0 };
  Sent sent[3];

  /* Another process holds the claim of b's key: the claim is the
   * database's advisory lock on "TILL:KEY". */
  ct_auth_token_hash (ct_test_service_get_token (svc), hash);
  hex = g_malloc0 (65);
  for (guint i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", hash[i]);
  other = ct_test_db_open (ct_test_service_get_db_path (svc));
  q = g_strdup_printf ("SELECT id FROM tills WHERE token_hash = '\\x%s'::bytea", hex);
  claim = g_strdup_printf ("SELECT pg_advisory_lock (hashtextextended ('%" G_GINT64_FORMAT ":held-elsewhere', 0))",
                           db_count (other, q));
  ck_assert_int_ge (ct_test_db_exec (other, claim), 0);

  group_hold (&g, held);
  sent_start (&sent[0], g.inproc, "POST", pay_path (a), "g1-a", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  sent_start (&sent[1], g.inproc, "POST", pay_path (b), "held-elsewhere", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  sent_start (&sent[2], g.inproc, "POST", pay_path (c), "g1-c", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  group_release (&g, 3);
  ck_assert_int_eq (sent_join (&sent[0])->status, 201);
  expect_answer (sent_join (&sent[1]), 409, "request_in_progress");
  ck_assert_int_eq (sent_join (&sent[2])->status, 201);
  for (guint i = 0; i < 3; i++)
    ct_test_response_free (sent[i].resp);
  /* The blocker's transaction and one for the group: the 409 did not
   * spoil it. */
  ck_assert_uint_eq (group_finish (&g), 2);
  ck_assert_int_eq (balance (a), 10900);
  ck_assert_int_eq (balance (b), 11000);
  ck_assert_int_eq (balance (c), 10900);
  /* Once the other claim ends, the key is free and applies once. */
  ck_assert_int_ge (ct_test_db_exec (other, "SELECT pg_advisory_unlock_all ()"), 0);
  again = ct_test_http (svc, "POST", pay_path (b), "held-elsewhere", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  ck_assert_int_eq (again->status, 201);
  ck_assert_ptr_null (ct_test_response_header (again, "Idempotent-Replayed"));
  ck_assert_int_eq (balance (b), 10900);
}
END_TEST

START_TEST (test_service_pg_group_with_a_refusal_after_a_write_runs_its_requests_alone)
{
  g_autofree char *held = issue_with_balance ("g2-held", 1);
  g_autofree char *a = issue_with_balance ("g2-a", 1);
  g_autofree char *b = issue_with_balance ("g2-b", 1);
  g_autofree char *c = issue_with_balance ("g2-c", 1);
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  int64_t cards = db_count (db, "SELECT count (*) FROM cards");
  Group g = { 0 };
  Sent sent[3];

  group_hold (&g, held);
  sent_start (&sent[0], g.inproc, "POST", pay_path (a), "g2-a", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  /* A card issued with b's number: its insert is a write, then the
   * number is refused as taken. */
  sent_start (&sent[1], g.inproc, "POST", g_strdup ("/v1/cards"), "g2-issue",
              g_strdup_printf ("{\"card_no\":\"%s\",\"member\":{\"name\":\"twin\"},\"operator\":\"op\"," MGR "}", b));
  sent_start (&sent[2], g.inproc, "POST", pay_path (c), "g2-c", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  group_release (&g, 3);
  ck_assert_int_eq (sent_join (&sent[0])->status, 201);
  expect_answer (sent_join (&sent[1]), 409, "card_exists");
  ck_assert_int_eq (sent_join (&sent[2])->status, 201);
  for (guint i = 0; i < 3; i++)
    ct_test_response_free (sent[i].resp);
  /* The group did not stand: its three requests ran again, a
   * transaction each. */
  ck_assert_uint_eq (group_finish (&g), 1 + 3);
  ck_assert_int_eq (balance (a), 10900);
  ck_assert_int_eq (balance (b), 11000);
  ck_assert_int_eq (balance (c), 10900);
  ck_assert_int_eq (db_count (db, "SELECT count (*) FROM cards"), cards);
  assert_ledger_balanced ();
}
END_TEST

START_TEST (test_service_pg_group_that_deadlocks_runs_again)
{
  g_autofree char *held = issue_with_balance ("g3-held", 1);
  g_autofree char *a = issue_with_balance ("g3-a", 1);
  g_autofree char *c = issue_with_balance ("g3-c", 1);
  /* The group locks its cards in card-number order. */
  const char *first = strcmp (a, c) < 0 ? a : c;
  g_autofree char *lock_first = g_strdup_printf ("SELECT 1 FROM cards WHERE card_no = '%s' FOR UPDATE", first);
  g_autoptr(CtTestDb) other = ct_test_db_open (ct_test_service_get_db_path (svc));
  Group g = { 0 };
  Sent sent[2];

  /* Every slot row locked: the group's first payment locks its card, then
   * its credit to the pool waits here (with the second payment's claim). */
  ck_assert_int_ge (ct_test_db_exec (other, "BEGIN; SELECT 1 FROM account_slots FOR UPDATE"), 0);
  group_hold (&g, held);
  sent_start (&sent[0], g.inproc, "POST", pay_path (a), "g3-a", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  sent_start (&sent[1], g.inproc, "POST", pay_path (c), "g3-c", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  group_release (&g, 2);
  wait_for_lock_waits (other, 1);
  /* Then this session wants that card: a deadlock. This session looks
   * for one only after a minute, so the group's backend finds it first
   * and gives up its transaction. */
  ck_assert_int_ge (ct_test_db_exec (other, "SET LOCAL deadlock_timeout = '60s'"), 0);
  ck_assert_int_ge (ct_test_db_exec (other, lock_first), 0);
  ck_assert_int_ge (ct_test_db_exec (other, "ROLLBACK"), 0);
  ck_assert_int_eq (sent_join (&sent[0])->status, 201);
  ck_assert_int_eq (sent_join (&sent[1])->status, 201);
  for (guint i = 0; i < 2; i++)
    ct_test_response_free (sent[i].resp);
  /* The blocker, then the group's two payments a transaction each. */
  ck_assert_uint_eq (group_finish (&g), 1 + 2);
  ck_assert_int_eq (balance (a), 10900);
  ck_assert_int_eq (balance (c), 10900);
}
END_TEST

/* A card for the group's blocker and two more, named as the group locks
 * them: first, then last. */
typedef struct
{
  char *held;
  char *first;
  char *last;
} Cards;

static void
cards_issue (Cards      *cards,
             const char *prefix)
{
  g_autofree char *held = g_strdup_printf ("%s-held", prefix);
  g_autofree char *x_name = g_strdup_printf ("%s-a", prefix);
  g_autofree char *y_name = g_strdup_printf ("%s-c", prefix);
  char *x, *y;

  cards->held = issue_with_balance (held, 1);
  x = issue_with_balance (x_name, 1);
  y = issue_with_balance (y_name, 1);
  cards->first = strcmp (x, y) < 0 ? x : y;
  cards->last = cards->first == x ? y : x;
}

static void
cards_clear (Cards *cards)
{
  g_free (cards->held);
  g_free (cards->first);
  g_free (cards->last);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Cards, cards_clear)

/* Another session of the test's database, holding @card's row locked
 * until its ROLLBACK. */
static CtTestDb *
hold_card (const char *card)
{
  CtTestDb *db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autofree char *lock = g_strdup_printf ("BEGIN; SELECT 1 FROM cards WHERE card_no = '%s' FOR UPDATE", card);

  ck_assert_int_ge (ct_test_db_exec (db, lock), 0);
  return db;
}

/* Ends @other's transaction, so the group's two writes go on, and checks
 * their answers and the commits @g made. */
static void
group_finish_two (Group    *g,
                  CtTestDb *other,
                  Sent      sent[2],
                  long      status0,
                  long      status1,
                  guint64   commits)
{
  ck_assert_int_ge (ct_test_db_exec (other, "ROLLBACK"), 0);
  ck_assert_int_eq (sent_join (&sent[0])->status, status0);
  ck_assert_int_eq (sent_join (&sent[1])->status, status1);
  for (guint i = 0; i < 2; i++)
    ct_test_response_free (sent[i].resp);
  ck_assert_uint_eq (group_finish (g), commits);
}

START_TEST (test_service_pg_group_runs_a_refund_alone_after_it)
{
  g_auto(Cards) cards = { 0 };
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) paid = NULL;
  g_autoptr(CtTestDb) other = NULL;
  int64_t slots;
  Group g = { 0 };
  Sent sent[2];

  cards_issue (&cards, "g4");
  paid = ct_test_http (svc, "POST", pay_path (cards.first), "g4-paid", "{\"amount\":100,\"operator\":\"op\"}", NULL);
  ck_assert_int_eq (paid->status, 201);
  tx = ct_test_json_str (paid->body, "transaction.id");
  other = hold_card (cards.last);
  slots = db_count (other, "SELECT count (*) FROM account_slots WHERE name = '@pool'");
  group_hold (&g, cards.held);
  /* The refund gives the payment back from the pool, which locks every
   * slot of it; in the group it came first (its card does) and held the
   * slots while the payment waited for its card below, so another group
   * holding that card and wanting a slot would deadlock with it. */
  sent_start (&sent[0], g.inproc, "POST", g_strdup_printf ("/v1/cards/%s/refunds", cards.first), "g4-refund",
              g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx));
  sent_start (&sent[1], g.inproc, "POST", pay_path (cards.last), "g4-pay", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  group_release (&g, 2);
  wait_for_lock_waits (other, 1);
  /* While the payment waits, nothing of the service holds a pool slot. */
  ck_assert_int_eq (db_count (other, "SELECT count (*) FROM (SELECT 1 FROM account_slots WHERE name = '@pool'"
                                     " FOR UPDATE SKIP LOCKED) s"), slots);
  /* The blocker, the payment, then the refund. */
  group_finish_two (&g, other, sent, 201, 201, 1 + 2);
  ck_assert_int_eq (balance (cards.first), 11000);
  ck_assert_int_eq (balance (cards.last), 10900);
  assert_ledger_balanced ();
}
END_TEST

START_TEST (test_service_pg_group_orders_a_card_change_by_its_card)
{
  g_auto(Cards) cards = { 0 };
  g_autofree char *free_last = NULL;
  g_autoptr(CtTestDb) other = NULL;
  Group g = { 0 };
  Sent sent[2];

  cards_issue (&cards, "g5");
  other = hold_card (cards.first);
  group_hold (&g, cards.held);
  /* A change of the later card (PATCH /v1/cards/{no}) comes after the
   * payment on the first card: it had named no card and came first,
   * holding its card while the payment waited. Checking a manager's PIN,
   * it locks the manager's guard row after its card, so it runs alone
   * after the group (a commit of its own). */
  sent_start (&sent[0], g.inproc, "PATCH", g_strdup_printf ("/v1/cards/%s", cards.last), "g5-change",
              g_strdup ("{\"status\":\"frozen\"," MGR "}"));
  sent_start (&sent[1], g.inproc, "POST", pay_path (cards.first), "g5-pay", g_strdup ("{\"amount\":100,\"operator\":\"op\"}"));
  group_release (&g, 2);
  wait_for_lock_waits (other, 1);
  free_last = g_strdup_printf ("SELECT count (*) FROM (SELECT 1 FROM cards WHERE card_no = '%s'"
                               " FOR UPDATE SKIP LOCKED) s", cards.last);
  ck_assert_int_eq (db_count (other, free_last), 1);
  /* The blocker, the payment's group, then the change alone. */
  group_finish_two (&g, other, sent, 200, 201, 1 + 1 + 1);
  ck_assert_int_eq (balance (cards.first), 10900);
  assert_ledger_balanced ();
}
END_TEST

/* Raw bytes at the HTTP layer */

static void
send_raw (guint16     port,
          const char *data,
          gsize       len)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  GOutputStream *out;
  GInputStream *in;
  char buf[4096];

  /* A few junk requests leave the connection waiting for more; the service
   * times those out itself, the test need not wait for it. */
  g_socket_client_set_timeout (client, 1);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  ck_assert_ptr_nonnull (conn);
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_output_stream_write_all (out, data, len, NULL, NULL, NULL);
  g_socket_shutdown (g_socket_connection_get_socket (conn), FALSE, TRUE, NULL);
  /* Read whatever comes back until the service closes. */
  while (g_input_stream_read (in, buf, sizeof buf, NULL, NULL) > 0)
    ;
}

START_TEST (test_service_survives_garbage_at_the_http_layer)
{
  const char *args[] = { "--rate-limit", "0", NULL };
  g_autoptr(GError) error = NULL;
  CtTestService *plain = ct_test_service_start_full (FALSE, args, &error);
  g_autofree char *auth = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261122);
  g_autoptr(CtTestClient) c = NULL;
  g_autoptr(CtTestResponse) health = NULL, pay = NULL;
  const char *url;
  guint16 port;
  const char *fixed[] = {
    "GET / HTTP/1.1\r\n\r\n",
    "BREW /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /v1/cards HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "POST /v1/cards HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    "POST /v1/cards HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
    "GET /v1/cards/%00%ff%2F..%2F HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /v1/health HTTP/9.9\r\n\r\n",
    "\r\n\r\n\r\n",
    "GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\xff\r\n\r\n",
  };

  ck_assert_msg (plain != NULL, "%s", error ? error->message : "");
  url = ct_test_service_get_url (plain);
  port = (guint16) g_ascii_strtoull (strrchr (url, ':') + 1, NULL, 10);
  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    send_raw (port, fixed[i], strlen (fixed[i]));
  /* A header far beyond the connection's memory. */
  {
    g_autoptr(GString) big = g_string_new ("GET /v1/health HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 100000; i++)
      g_string_append_c (big, 'a');
    g_string_append (big, "\r\n\r\n");
    send_raw (port, big->str, big->len);
  }
  /* Random bytes, and random bytes after a valid request line. */
  for (int i = 0; i < 50; i++)
    {
      guint8 junk[512];
      g_autoptr(GString) s = g_string_new (i % 2 ? "POST /v1/cards/X/payments HTTP/1.1\r\n" : "");

      for (gsize j = 0; j < sizeof junk; j++)
        junk[j] = (guint8) g_rand_int_range (rand, 0, 256);
      g_string_append_len (s, (const char *) junk, sizeof junk);
      send_raw (port, s->str, s->len);
    }

  c = ct_test_client_new (plain);
  health = ct_test_client_request (c, "GET", "/v1/health", NULL, NULL, NULL);
  ck_assert_ptr_nonnull (health);
  ck_assert_int_eq (health->status, 200);
  pay = ct_test_client_request (c, "POST", "/v1/cards/NOPE-9/payments", "after-garbage",
                                "{\"amount\":1,\"operator\":\"op\"}", NULL);
  ck_assert_int_eq (pay->status, 404);
  g_clear_pointer (&c, ct_test_client_free);
  ck_assert_int_eq (ct_test_service_stop (plain), 0);
  ct_test_service_free (plain);
}
END_TEST

/* Restart and crash */

START_TEST (test_service_restart_between_write_and_read_keeps_everything)
{
  g_autofree char *card = issue_with_balance ("restart", 2);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autoptr(CtTestResponse) paid = ct_test_http (svc, "POST", path, "before-restart",
                                                 "{\"amount\":1234,\"operator\":\"op\"}", NULL);
  g_autoptr(CtTestResponse) replay = NULL;
  g_autofree char *hist = NULL;
  g_autoptr(CtTestResponse) h = NULL;

  ck_assert_int_eq (paid->status, 201);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ck_assert (ct_test_service_restart (svc, NULL));
  ck_assert_int_eq (balance (card), 22000 - 1234);
  replay = ct_test_http (svc, "POST", path, "before-restart", "{\"amount\":1234,\"operator\":\"op\"}", NULL);
  ck_assert_int_eq (replay->status, 201);
  ck_assert_str_eq (replay->body, paid->body);
  ck_assert_str_eq (ct_test_response_header (replay, "Idempotent-Replayed"), "true");
  hist = g_strdup_printf ("/v1/cards/%s/transactions", card);
  h = ct_test_http (svc, "GET", hist, NULL, NULL, NULL);
  ck_assert_msg (strstr (h->body, "\"delta\":-1234") != NULL, "%s", h->body);
}
END_TEST

typedef struct
{
  char      *card;
  guint      index;
  GMutex    *lock;
  GPtrArray *acked;   /* transaction ids acknowledged with 201 */
  gint      *stop;
} Loader;

static gpointer
loader_main (gpointer data)
{
  Loader *l = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", l->card);

  for (guint i = 0; !g_atomic_int_get (l->stop); i++)
    {
      g_autofree char *key = g_strdup_printf ("load-%u-%u", l->index, i);
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key,
                                                            "{\"amount\":1,\"operator\":\"op\"}", NULL);
      if (r == NULL)
        break; /* the service is gone: what was not answered is not acknowledged */
      if (r->status == 201)
        {
          g_mutex_lock (l->lock);
          g_ptr_array_add (l->acked, ct_test_json_str (r->body, "transaction.id"));
          g_mutex_unlock (l->lock);
        }
    }
  return NULL;
}

START_TEST (test_service_kill_9_during_load_loses_no_acknowledged_payment)
{
  GMutex lock;
  g_autoptr(GPtrArray) acked = g_ptr_array_new_with_free_func (g_free);
  gint stop = 0;
  Loader loaders[8];
  GThread *threads[8];
  g_autoptr(CtTestDb) db = NULL;
  guint missing = 0;
  g_autofree char *card = NULL;
  int64_t before;

  g_mutex_init (&lock);
  card = issue_with_balance ("crash", 10);
  for (guint i = 0; i < 8; i++)
    {
      loaders[i] = (Loader) { card, i, &lock, acked, &stop };
      threads[i] = g_thread_new ("load", loader_main, &loaders[i]);
    }
  /* Kill once a fair number of payments were acknowledged (a slow,
   * sanitized build takes longer to get there), while the loaders are still
   * sending, so that the kill lands in the middle of commit groups. */
  for (gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
       g_get_monotonic_time () < deadline;)
    {
      guint n;

      g_mutex_lock (&lock);
      n = acked->len;
      g_mutex_unlock (&lock);
      if (n >= 40)
        break;
      g_usleep (20 * 1000);
    }
  g_usleep (100 * 1000);
  ct_test_service_kill (svc);
  g_atomic_int_set (&stop, 1);
  for (guint i = 0; i < 8; i++)
    g_thread_join (threads[i]);
  ck_assert_uint_gt (acked->len, 10);

  db = ct_test_db_open (ct_test_service_get_db_path (svc));
  for (guint i = 0; i < acked->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT 1 FROM transactions WHERE id = %" G_GINT64_FORMAT
                                              " AND kind = 'payment'",
                                              g_ascii_strtoll (acked->pdata[i], NULL, 10));
      g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);

      if (rows->len != 1)
        missing++;
    }
  ck_assert_uint_eq (missing, 0);

  ck_assert (ct_test_service_restart (svc, NULL));
  before = balance (card);
  /* Every acknowledged payment took 1 fen; more may have committed whose
   * answer was lost with the process, never fewer. */
  ck_assert_int_le (before, 110000 - (int64_t) acked->len);
  g_mutex_clear (&lock);
}
END_TEST

static Suite *
load_suite (void)
{
  Suite *s = suite_create ("service-load");
  TCase *race = tcase_create ("race");
  TCase *crash = tcase_create ("crash");

  tcase_add_checked_fixture (race, setup, teardown);
  tcase_set_timeout (race, 120);
  tcase_add_test (race, test_service_sixteen_tills_cannot_overdraw_one_card);
  tcase_add_test (race, test_service_one_key_from_many_threads_applies_once);
  tcase_add_test (race, test_service_commits_concurrent_writes_in_groups);
  tcase_add_test (race, test_service_racing_refunds_apply_once);
  tcase_add_test (race, test_service_survives_garbage_at_the_http_layer);
  if (ct_test_store_is_pg ())
    {
      TCase *group = tcase_create ("pg-group");

      tcase_add_checked_fixture (group, setup, teardown);
      tcase_set_timeout (group, 120);
      tcase_add_test (group, test_service_pg_group_answers_a_key_claimed_elsewhere_409_and_commits_the_rest);
      tcase_add_test (group, test_service_pg_group_with_a_refusal_after_a_write_runs_its_requests_alone);
      tcase_add_test (group, test_service_pg_group_that_deadlocks_runs_again);
      tcase_add_test (group, test_service_pg_group_runs_a_refund_alone_after_it);
      tcase_add_test (group, test_service_pg_group_orders_a_card_change_by_its_card);
      suite_add_tcase (s, group);
    }
  tcase_add_checked_fixture (crash, setup, teardown);
  tcase_set_timeout (crash, 120);
  tcase_add_test (crash, test_service_restart_between_write_and_read_keeps_everything);
  tcase_add_test (crash, test_service_kill_9_during_load_loses_no_acknowledged_payment);
  suite_add_tcase (s, race);
  suite_add_tcase (s, crash);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (load_suite ());
  int failed;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
