/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-service"
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct-test-service.h"

/* Durable payments per second against a real cardtill-service over HTTPS:
 * N tills (threads, each with its own keep-alive connection and its own
 * card) take 1-fen payments, with a top-up every 20th request, for a fixed
 * time. Prints payments/s, p50 and p99 latency, and the ledger check.
 * CT_BENCH_TILLS (32) and CT_BENCH_SECONDS (5) change the load;
 * CT_BENCH_THREADS sets the service's worker threads. */

typedef struct
{
  CtTestService *svc;
  char          *token;
  char          *card_no;
  gint64         deadline;
  GArray        *latencies; /* gint64 µs, payments only */
  guint          payments;
  guint          topups;
  guint          failures;
  guint          connects;
} Till;

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
  g_autoptr(CtTestClient) client = ct_test_client_new_for_token (t->svc, t->token);
  g_autofree char *pay_path = g_strdup_printf ("/v1/cards/%s/payments", t->card_no);
  g_autofree char *topup_path = g_strdup_printf ("/v1/cards/%s/topups", t->card_no);
  guint n = 0;

  while (g_get_monotonic_time () < t->deadline)
    {
      g_autofree char *key = g_strdup_printf ("bench-%s-%u", t->card_no, n);
      g_autoptr(CtTestResponse) resp = NULL;
      gboolean topup = (n % 20) == 19;
      gint64 start = g_get_monotonic_time (), elapsed;

      resp = ct_test_client_request (client, "POST", topup ? topup_path : pay_path, key,
                                     topup ? "{\"package_id\":\"p200\",\"operator\":\"bench\"}"
                                           : "{\"amount\":1,\"operator\":\"bench\"}", NULL);
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
  t->connects = ct_test_client_get_connects (client);
  return NULL;
}

/* CPU time (user + system) of a process in µs, from /proc. */
static gint64
process_cpu_us (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (after = strrchr (text, ')')) == NULL)
    return -1;
  fields = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return -1;
  /* utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'. */
  return (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10))
         * G_USEC_PER_SEC / sysconf (_SC_CLK_TCK);
}

static int
cmp_i64 (gconstpointer a,
         gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

int
main (int    argc,
      char **argv)
{
  guint n_tills = 32, seconds = 5;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(CtTestResponse) check = NULL;
  CtTestService *svc;
  Till *tills;
  GThread **threads;
  guint payments = 0, topups = 0, failures = 0, connects = 0;
  gint64 t0, t1, cpu0, cpu1;

  if (g_getenv ("CT_BENCH_TILLS"))
    n_tills = (guint) CLAMP (atoi (g_getenv ("CT_BENCH_TILLS")), 1, 256);
  if (g_getenv ("CT_BENCH_SECONDS"))
    seconds = (guint) CLAMP (atoi (g_getenv ("CT_BENCH_SECONDS")), 1, 600);

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
  tills = g_new0 (Till, n_tills);
  threads = g_new0 (GThread *, n_tills);
  for (guint i = 0; i < n_tills; i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *name = g_strdup_printf ("bench%u", i);
      g_autofree char *body = NULL;
      g_autofree char *key = g_strdup_printf ("issue-%u", i);
      g_autoptr(CtTestResponse) resp = NULL;
      g_auto(GStrv) lines = NULL;
      guint n;

      if (ct_test_service_admin (svc, &out, "till", "add", "--store", "s1", "--name", name, NULL) != 0)
        g_error ("till add failed");
      lines = g_strsplit (g_strstrip (out), "\n", -1);
      n = g_strv_length (lines);
      tills[i].svc = svc;
      tills[i].token = g_strdup (lines[n - 1]);
      tills[i].latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
      body = g_strdup_printf ("{\"member\":{\"name\":\"Bench %u\"},\"operator\":\"bench\","
                              "\"manager\":{\"id\":\"m1\",\"pin\":\"2468\"}}", i);
      resp = ct_test_http (svc, "POST", "/v1/cards", key, body, &error);
      if (resp == NULL || resp->status != 201)
        g_error ("card issue failed");
      tills[i].card_no = json_string_at (resp->body, "card_no");
      for (int k = 0; k < 3; k++)
        {
          g_autofree char *path = g_strdup_printf ("/v1/cards/%s/topups", tills[i].card_no);
          g_autofree char *tkey = g_strdup_printf ("seed-%u-%d", i, k);
          g_autoptr(CtTestResponse) r2 = ct_test_http (svc, "POST", path, tkey,
                                                       "{\"package_id\":\"p200\",\"operator\":\"bench\"}", NULL);
          if (r2 == NULL || r2->status != 201)
            g_error ("seed top-up failed");
        }
    }

  cpu0 = process_cpu_us (ct_test_service_get_pid (svc));
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_tills; i++)
    {
      tills[i].deadline = t0 + (gint64) seconds * G_USEC_PER_SEC;
      threads[i] = g_thread_new ("till", till_main, &tills[i]);
    }
  for (guint i = 0; i < n_tills; i++)
    g_thread_join (threads[i]);
  t1 = g_get_monotonic_time ();
  cpu1 = process_cpu_us (ct_test_service_get_pid (svc));

  for (guint i = 0; i < n_tills; i++)
    {
      payments += tills[i].payments;
      topups += tills[i].topups;
      failures += tills[i].failures;
      connects += tills[i].connects;
      g_array_append_vals (all, tills[i].latencies->data, tills[i].latencies->len);
    }
  g_array_sort (all, cmp_i64);
  check = ct_test_http (svc, "GET", "/v1/ledger/check", NULL, NULL, NULL);

  printf ("tills: %u, seconds: %.1f, service worker threads: %s\n",
          n_tills, (t1 - t0) / 1e6, g_getenv ("CT_BENCH_THREADS") ? g_getenv ("CT_BENCH_THREADS") : "two per processor");
  printf ("payments: %u, top-ups: %u, failed: %u, connections opened: %u\n", payments, topups, failures, connects);
  printf ("payments/s: %.0f (all writes/s: %.0f)\n", payments / ((t1 - t0) / 1e6),
          (payments + topups) / ((t1 - t0) / 1e6));
  if (all->len > 0)
    printf ("payment latency p50: %.2f ms, p99: %.2f ms\n",
            g_array_index (all, gint64, all->len / 2) / 1000.0,
            g_array_index (all, gint64, MIN (all->len - 1, all->len * 99 / 100)) / 1000.0);
  if (cpu0 >= 0 && cpu1 >= 0 && payments + topups > 0)
    printf ("service CPU: %.1f s over %.1f s, %.0f µs per write\n", (cpu1 - cpu0) / 1e6, (t1 - t0) / 1e6,
            (double) (cpu1 - cpu0) / (payments + topups));
  printf ("ledger check: %s\n", check ? check->body : "(no answer)");

  for (guint i = 0; i < n_tills; i++)
    {
      g_free (tills[i].token);
      g_free (tills[i].card_no);
      g_array_unref (tills[i].latencies);
    }
  g_free (tills);
  g_free (threads);
  ct_test_service_free (svc);
  return check != NULL && strstr (check->body, "\"sum\":0,") != NULL && failures == 0 ? 0 : 1;
}
