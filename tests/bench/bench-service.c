/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-service"
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct-test-service.h"

/* Durable payments against a real cardtill-service over HTTPS: N tills
 * (threads, each with its own keep-alive connection) take 1-fen payments
 * from a shared set of cards, with a top-up every 20th request. Every
 * connection is opened and used once before the clock starts, so the
 * window holds no TLS handshakes.
 *
 * Prints payments/s, p50 and p99 latency, the service's CPU time per write
 * (user and system, from /proc/PID/stat: the figure a busy machine moves
 * least), the machine's load beside it, and the ledger check.
 *
 * CT_BENCH_TILLS (32), CT_BENCH_CARDS (200), CT_BENCH_SECONDS (10),
 * CT_BENCH_RUNS (3 windows on the same service) change the load;
 * CT_BENCH_THREADS sets the service's worker threads. With `--wrk` (and
 * wrk installed) the windows are driven by wrk and tests/bench/wrk-pay.lua
 * instead of the built-in tills. */

#define TOPUP_BODY "{\"package_id\":\"p200\",\"operator\":\"bench\"}"
#define PAY_BODY   "{\"amount\":1,\"operator\":\"bench\"}"

typedef struct
{
  CtTestService *svc;
  CtTestClient  *client;
  char          *token;
  char         **cards;
  guint          n_cards;
  guint          index;
  guint          run;
  gint64         deadline;
  GArray        *latencies; /* gint64 µs, payments only */
  guint          payments;
  guint          topups;
  guint          failures;
} Till;

typedef struct
{
  gint64 user_us;
  gint64 sys_us;
} Cpu;

static char *
json_string_at (const char *body,
                const char *key)
{
  json_object *root = json_tokener_parse (body);
  json_object *v = NULL;
  char *out = NULL;

  if (root && json_object_object_get_ex (root, key, &v))
    out = g_strdup (json_object_get_string (v));
  json_object_put (root);
  return out;
}

static gpointer
till_main (gpointer data)
{
  Till *t = data;
  guint n = 0;

  while (g_get_monotonic_time () < t->deadline)
    {
      const char *card = t->cards[(t->index + n * 32) % t->n_cards];
      g_autofree char *key = g_strdup_printf ("bench-%u-%u-%u", t->run, t->index, n);
      g_autofree char *path = NULL;
      g_autoptr(CtTestResponse) resp = NULL;
      gboolean topup = (n % 20) == 19;
      gint64 start, elapsed;

      path = g_strdup_printf ("/v1/cards/%s/%s", card, topup ? "topups" : "payments");
      start = g_get_monotonic_time ();
      resp = ct_test_client_request (t->client, "POST", path, key, topup ? TOPUP_BODY : PAY_BODY, NULL);
      elapsed = g_get_monotonic_time () - start;
      n++;
      if (resp == NULL || resp->status != 201)
        {
          t->failures++;
          continue;
        }
      if (topup)
        t->topups++;
      else
        {
          t->payments++;
          g_array_append_val (t->latencies, elapsed);
        }
    }
  return NULL;
}

/* CPU time of a process in µs, user and system, from /proc. */
static gboolean
process_cpu (GPid  pid,
             Cpu  *cpu)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;
  long tck = sysconf (_SC_CLK_TCK);

  if (!g_file_get_contents (path, &text, NULL, NULL) || (after = strrchr (text, ')')) == NULL)
    return FALSE;
  fields = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return FALSE;
  /* utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'. */
  cpu->user_us = g_ascii_strtoll (fields[11], NULL, 10) * G_USEC_PER_SEC / tck;
  cpu->sys_us = g_ascii_strtoll (fields[12], NULL, 10) * G_USEC_PER_SEC / tck;
  return TRUE;
}

/* CPU time (user + system, µs) of the service's threads by role, from
 * /proc/PID/task: the committer (one on SQLite), libmicrohttpd's workers
 * (the HTTP side: TLS, parsing, answers) and the rest (the checkpointer,
 * the wallet worker, the main thread). */
typedef struct
{
  gint64 committer_us;
  gint64 workers_us;
  gint64 other_us;
} Threads;

static void
threads_cpu (GPid     pid,
             Threads *out)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  long tck = sysconf (_SC_CLK_TCK);
  const char *tid;

  *out = (Threads) { 0 };
  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *stat_path = g_build_filename (dir_path, tid, "stat", NULL);
      g_autofree char *text = NULL;
      g_auto(GStrv) fields = NULL;
      const char *open, *close;
      gint64 us;

      if (!g_file_get_contents (stat_path, &text, NULL, NULL)
          || (open = strchr (text, '(')) == NULL || (close = strrchr (text, ')')) == NULL)
        continue;
      fields = g_strsplit (close + 2, " ", -1);
      if (g_strv_length (fields) < 13)
        continue;
      us = (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10))
           * G_USEC_PER_SEC / tck;
      if (g_str_has_prefix (open + 1, "ct-committer"))
        out->committer_us += us;
      else if (g_str_has_prefix (open + 1, "MHD-worker"))
        out->workers_us += us;
      else
        out->other_us += us;
    }
}

/* Busy and total jiffies of the whole machine, from the "cpu" line. */
static void
machine_cpu (gint64 *busy,
             gint64 *total)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) f = NULL;

  *busy = *total = 0;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL))
    return;
  *strchr (text, '\n') = '\0';
  f = g_strsplit_set (text, " ", -1);
  for (guint i = 1, k = 0; f[i] != NULL; i++)
    {
      gint64 v;

      if (f[i][0] == '\0')
        continue;
      v = g_ascii_strtoll (f[i], NULL, 10);
      *total += v;
      if (k != 3 && k != 4) /* idle, iowait */
        *busy += v;
      k++;
    }
}

static int
cmp_i64 (gconstpointer a,
         gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static guint
env_uint (const char *name,
          guint       dflt,
          guint       max)
{
  const char *v = g_getenv (name);

  return v ? (guint) CLAMP (atoi (v), 1, (int) max) : dflt;
}

/* wrk's own summary: requests and its latency percentiles come from the
 * script's done(); the non-2xx count from wrk. */
static gboolean
run_wrk (CtTestService *svc,
         Till          *tills,
         guint          n_tills,
         char         **cards,
         guint          n_cards,
         guint          run,
         guint          seconds,
         guint         *writes,
         guint         *failures,
         char         **summary)
{
  g_autofree char *wrk = g_find_program_in_path ("wrk");
  const char *srcdir = g_getenv ("CT_TOP_SRCDIR");
  g_autofree char *script = g_build_filename (srcdir ? srcdir : ".", "tests", "bench", "wrk-pay.lua", NULL);
  g_autofree char *conf = g_build_filename (ct_test_service_get_data_dir (svc), "wrk-conf.lua", NULL);
  g_autofree char *dur = g_strdup_printf ("%us", seconds);
  g_autofree char *conns = g_strdup_printf ("%u", n_tills);
  g_autoptr(GString) lua = g_string_new ("return {\n  tokens = {");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *m;
  int status = 0;

  if (wrk == NULL)
    {
      g_printerr ("bench-service: --wrk needs wrk (apt install wrk)\n");
      return FALSE;
    }
  for (guint i = 0; i < n_tills; i++)
    g_string_append_printf (lua, "\"%s\",", tills[i].token);
  g_string_append (lua, "},\n  cards = {");
  for (guint i = 0; i < n_cards; i++)
    g_string_append_printf (lua, "\"%s\",", cards[i]);
  g_string_append_printf (lua, "},\n  run = %u,\n}\n", run);
  if (!g_file_set_contents (conf, lua->str, -1, NULL))
    return FALSE;
  g_setenv ("CT_WRK_CONF", conf, TRUE);
  {
    const char *argv[] = { wrk, "-t", "2", "-c", conns, "-d", dur, "--latency", "-s", script,
                           ct_test_service_get_url (svc), NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL)
        || !g_spawn_check_wait_status (status, NULL))
      {
        g_printerr ("bench-service: wrk failed: %s\n", err ? err : "");
        return FALSE;
      }
  }
  *writes = 0;
  *failures = 0;
  if ((m = strstr (out, "requests in")) != NULL)
    {
      const char *line = m;

      while (line > out && line[-1] != '\n')
        line--;
      *writes = (guint) g_ascii_strtoull (line, NULL, 10);
    }
  if ((m = strstr (out, "Non-2xx or 3xx responses:")) != NULL)
    *failures = (guint) g_ascii_strtoull (m + strlen ("Non-2xx or 3xx responses:"), NULL, 10);
  if ((m = strstr (out, "Latency Distribution")) != NULL)
    *summary = g_strdup (m);
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  guint n_tills = env_uint ("CT_BENCH_TILLS", 32, 256);
  guint n_cards = env_uint ("CT_BENCH_CARDS", 200, 100000);
  guint seconds = env_uint ("CT_BENCH_SECONDS", 10, 600);
  guint runs = env_uint ("CT_BENCH_RUNS", 3, 100);
  gboolean use_wrk = argc > 1 && g_str_equal (argv[1], "--wrk");
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) check = NULL;
  CtTestService *svc;
  Till *tills;
  GThread **threads;
  char **cards;
  guint total_failures = 0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  {
    const char *n_threads = g_getenv ("CT_BENCH_THREADS");
    const char *args[] = { "--rate-limit", "0", n_threads ? "--threads" : NULL, n_threads, NULL };

    svc = ct_test_service_start_full (TRUE, args, &error);
  }
  if (svc == NULL)
    {
      g_printerr ("bench-service: %s\n", error->message);
      return 1;
    }

  /* The cards, each with one top-up (230.00) to pay from. */
  cards = g_new0 (char *, n_cards + 1);
  {
    g_autoptr(CtTestClient) setup = ct_test_client_new (svc);

    for (guint i = 0; i < n_cards; i++)
      {
        g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"Bench %u\"},\"operator\":\"bench\","
                                                 "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}", i);
        g_autofree char *key = g_strdup_printf ("issue-%u", i);
        g_autofree char *tkey = g_strdup_printf ("seed-%u", i);
        g_autofree char *path = NULL;
        g_autoptr(CtTestResponse) resp = ct_test_client_request (setup, "POST", "/v1/cards", key, body, NULL);
        g_autoptr(CtTestResponse) r2 = NULL;

        if (resp == NULL || resp->status != 201)
          g_error ("card issue failed");
        cards[i] = json_string_at (resp->body, "card_no");
        path = g_strdup_printf ("/v1/cards/%s/topups", cards[i]);
        r2 = ct_test_client_request (setup, "POST", path, tkey, TOPUP_BODY, NULL);
        if (r2 == NULL || r2->status != 201)
          g_error ("seed top-up failed");
      }
  }

  /* The tills, each with a connection opened and used once. */
  tills = g_new0 (Till, n_tills);
  threads = g_new0 (GThread *, n_tills);
  for (guint i = 0; i < n_tills; i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *name = g_strdup_printf ("bench%u", i);
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s", cards[i % n_cards]);
      g_autoptr(CtTestResponse) warm = NULL;
      g_auto(GStrv) lines = NULL;

      if (ct_test_service_admin (svc, &out, "till", "add", "--store", "s1", "--name", name, NULL) != 0)
        g_error ("till add failed");
      lines = g_strsplit (g_strstrip (out), "\n", -1);
      tills[i].svc = svc;
      tills[i].token = g_strdup (lines[g_strv_length (lines) - 1]);
      tills[i].cards = cards;
      tills[i].n_cards = n_cards;
      tills[i].index = i;
      tills[i].latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
      if (!use_wrk)
        {
          tills[i].client = ct_test_client_new_for_token (svc, tills[i].token);
          warm = ct_test_client_request (tills[i].client, "GET", path, NULL, NULL, NULL);
          if (warm == NULL || warm->status != 200)
            g_error ("warm-up request failed");
        }
    }

  printf ("cardtill-service over HTTPS keep-alive: %u %s, %u cards, %u s windows, "
          "service worker threads: %s, processors: %u\n",
          n_tills, use_wrk ? "wrk connections" : "tills", n_cards, seconds,
          g_getenv ("CT_BENCH_THREADS") ? g_getenv ("CT_BENCH_THREADS") : "default",
          g_get_num_processors ());

  for (guint run = 0; run < runs; run++)
    {
      g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autofree char *wrk_summary = NULL;
      guint payments = 0, topups = 0, failures = 0, writes;
      gint64 t0, t1, busy0, busy1, total0, total1;
      Cpu c0 = { 0 }, c1 = { 0 };
      Threads th0, th1;
      double secs, cpu_per, machine_busy, service_share;

      machine_cpu (&busy0, &total0);
      process_cpu (ct_test_service_get_pid (svc), &c0);
      threads_cpu (ct_test_service_get_pid (svc), &th0);
      t0 = g_get_monotonic_time ();
      if (use_wrk)
        {
          if (!run_wrk (svc, tills, n_tills, cards, n_cards, run, seconds, &writes, &failures, &wrk_summary))
            return 1;
          /* wrk counts every request: one in 20 is a top-up. */
          topups = writes / 20;
          payments = writes - topups;
        }
      else
        {
          for (guint i = 0; i < n_tills; i++)
            {
              tills[i].run = run;
              tills[i].payments = tills[i].topups = tills[i].failures = 0;
              g_array_set_size (tills[i].latencies, 0);
              tills[i].deadline = t0 + (gint64) seconds * G_USEC_PER_SEC;
              threads[i] = g_thread_new ("till", till_main, &tills[i]);
            }
          for (guint i = 0; i < n_tills; i++)
            g_thread_join (threads[i]);
        }
      t1 = g_get_monotonic_time ();
      process_cpu (ct_test_service_get_pid (svc), &c1);
      threads_cpu (ct_test_service_get_pid (svc), &th1);
      machine_cpu (&busy1, &total1);

      for (guint i = 0; i < n_tills && !use_wrk; i++)
        {
          payments += tills[i].payments;
          topups += tills[i].topups;
          failures += tills[i].failures;
          g_array_append_vals (all, tills[i].latencies->data, tills[i].latencies->len);
        }
      g_array_sort (all, cmp_i64);
      total_failures += failures;
      secs = (t1 - t0) / 1e6;
      writes = payments + topups;
      cpu_per = writes ? (double) (c1.user_us + c1.sys_us - c0.user_us - c0.sys_us) / writes : 0;
      machine_busy = total1 > total0 ? 100.0 * (busy1 - busy0) / (total1 - total0) : 0;
      /* The machine's busy time not spent by the service: the bench's own
       * clients plus whatever else runs. */
      service_share = total1 > total0
                      ? 100.0 * (c1.user_us + c1.sys_us - c0.user_us - c0.sys_us)
                        / ((double) (total1 - total0) * G_USEC_PER_SEC / sysconf (_SC_CLK_TCK))
                      : 0;

      printf ("run %u: %.1f s, %u payments + %u top-ups, %u failed: %.0f payments/s (%.0f writes/s)\n",
              run + 1, secs, payments, topups, failures, payments / secs, writes / secs);
      if (all->len > 0)
        printf ("  latency p50 %.2f ms, p99 %.2f ms\n",
                g_array_index (all, gint64, all->len / 2) / 1000.0,
                g_array_index (all, gint64, MIN (all->len - 1, all->len * 99 / 100)) / 1000.0);
      if (wrk_summary != NULL)
        printf ("  wrk %s", wrk_summary);
      if (writes > 0)
        printf ("  service CPU per write: %.1f µs (user %.1f, sys %.1f)\n", cpu_per,
                (double) (c1.user_us - c0.user_us) / writes, (double) (c1.sys_us - c0.sys_us) / writes);
      /* By thread: the committer bounds the rate (docs/performance.md). */
      if (writes > 0)
        printf ("    committer %.1f µs, HTTP workers %.1f µs, other threads %.1f µs\n",
                (double) (th1.committer_us - th0.committer_us) / writes,
                (double) (th1.workers_us - th0.workers_us) / writes,
                (double) (th1.other_us - th0.other_us) / writes);
      {
        g_autofree char *load = NULL;

        if (!g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
          load = g_strdup ("?\n");
        printf ("  machine: %.0f%% busy, service %.0f%% of it, load average %s",
                machine_busy, machine_busy > 0 ? 100.0 * service_share / machine_busy : 0.0, load);
      }
    }

  check = ct_test_http (svc, "GET", "/v1/ledger/check", NULL, NULL, NULL);
  printf ("ledger check: %s\n", check ? check->body : "(no answer)");

  for (guint i = 0; i < n_tills; i++)
    {
      g_clear_pointer (&tills[i].client, ct_test_client_free);
      g_free (tills[i].token);
      g_array_unref (tills[i].latencies);
    }
  g_strfreev (cards);
  g_free (tills);
  g_free (threads);
  ct_test_service_free (svc);
  return check != NULL && strstr (check->body, "\"sum\":0,") != NULL && total_failures == 0 ? 0 : 1;
}
