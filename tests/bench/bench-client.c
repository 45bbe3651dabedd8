/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-client"
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ct-client.h"
#include "ct-test-service.h"

/* The client core's two figures (docs/performance.md):
 *  1. one payment through the client core (outbox write, HTTPS request on a
 *     reused connection, outbox removal) to a real cardtill-service on
 *     loopback: p50 and p99 over N payments (goal p50 < 5 ms, p99 < 20 ms);
 *  2. the outbox drain rate after N top-ups were queued offline (goal over
 *     2,000/s).
 * N is 10,000 unless given as the first argument. */

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The CPU this process used so far (every thread), in ms: on a shared
 * machine the wall clock says more about the other jobs than about the
 * client. */
static double
self_cpu_ms (void)
{
  struct rusage u;

  getrusage (RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3
         + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

/* The CPU the service process used so far (user + system), in ms. */
static double
service_cpu_ms (CtTestService *svc)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) ct_test_service_get_pid (svc));
  g_autofree char *text = NULL;
  unsigned long long utime = 0, stime = 0;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return 0;
  /* After the command's name: state, then fields 4-13, then utime, stime. */
  if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return 0;
  return (utime + stime) * 1e3 / sysconf (_SC_CLK_TCK);
}

static double
load_average (void)
{
  double load[1] = { 0 };

  getloadavg (load, 1);
  return load[0];
}

static CtClient *
client_for (const char *url, CtTestService *svc, const char *data_dir)
{
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(GError) error = NULL;
  CtClient *client;

  config->service_url = g_strdup (url);
  config->token = g_strdup (ct_test_service_get_token (svc));
  config->ca_file = g_strdup (ct_test_service_get_ca_file (svc));
  config->pin_pubkey = g_strdup (ct_test_service_get_pin_pubkey (svc));
  config->data_dir = g_strdup (data_dir);
  config->operator_name = g_strdup ("bench");
  config->connect_timeout_ms = 500;
  client = ct_client_new (config, &error);
  if (client == NULL)
    g_error ("client: %s", error->message);
  /* Offline at start is fine: the stored merchant settings stay. */
  ct_client_start (client, NULL, NULL, NULL, NULL);
  return client;
}

static char *
issue_card (CtTestService *svc, int n)
{
  g_autofree char *key = g_strdup_printf ("bench-issue-%d", n);
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"Bench %d\",\"phone\":\"1370000%04d\"},"
                                           "\"operator\":\"b\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}",
                                           n, n);
  g_autoptr(CtTestResponse) r = ct_test_http (svc, "POST", "/v1/cards", key, body, NULL);
  g_autoptr(CtCard) card = NULL;

  if (r == NULL || r->status != 201)
    g_error ("issue failed");
  card = ct_wire_decode_card (r->body, r->body_len, NULL);
  return g_strdup (card->card_no);
}

static void
post (CtClient *client, const char *card_no, const char *kind, const char *body_text,
      CtOutboxKind okind, int64_t amount, int *status, gboolean *queued)
{
  g_autoptr(GBytes) body = g_bytes_new (body_text, strlen (body_text));
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/%s", card_no, kind);
  CtRequestInfo info = { .kind = okind, .card_no = card_no, .amount = amount };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) a = ct_client_request (client, "POST", path, NULL, body, &info, NULL,
                                             &error);

  if (a == NULL)
    g_error ("request: %s", error->message);
  *status = a->status;
  *queued = a->queued;
}

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 10000;
  g_autoptr(GError) error = NULL;
  CtTestService *svc;
  g_autofree char *dir = g_dir_make_tmp ("bench-client-XXXXXX", NULL);
  g_autofree char *dir2 = g_build_filename (dir, "drain", NULL);
  g_autofree char *card = NULL;
  g_autofree gint64 *lat = g_new (gint64, n);
  CtClient *client;
  gint64 t0, total;
  double cpu0, svc_cpu0;
  int cards = 100;
  g_autoptr(GPtrArray) card_nos = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *old_url = NULL;
  guint settled = 0;
  int status;
  gboolean queued;

  svc = ct_test_service_start_full (TRUE, (const char * const[]) { "--rate-limit", "0", NULL }, &error);
  if (svc == NULL)
    g_error ("service: %s", error->message);

  /* 1. Payments: one card holding enough for n payments of 0.01. */
  card = issue_card (svc, 0);
  client = client_for (ct_test_service_get_url (svc), svc, dir);
  for (int i = 0; i < 1 + n / 10000; i++)
    {
      post (client, card, "topups", "{\"package_id\":\"p100\",\"operator\":\"b\"}",
            CT_OUTBOX_KIND_TOPUP, 10000, &status, &queued);
      if (status != 201)
        g_error ("top-up: %d", status);
    }
  for (int i = 0; i < 50; i++)   /* warm-up: connection, caches */
    post (client, card, "payments", "{\"amount\":1,\"operator\":\"b\"}", CT_OUTBOX_KIND_PAYMENT,
          1, &status, &queued);
  total = g_get_monotonic_time ();
  for (int i = 0; i < n; i++)
    {
      t0 = g_get_monotonic_time ();
      post (client, card, "payments", "{\"amount\":1,\"operator\":\"b\"}", CT_OUTBOX_KIND_PAYMENT,
            1, &status, &queued);
      lat[i] = g_get_monotonic_time () - t0;
      if (status != 201)
        g_error ("payment %d: status %d", i, status);
    }
  total = g_get_monotonic_time () - total;
  qsort (lat, n, sizeof *lat, cmp_i64);
  printf ("payments: %d through the client core over HTTPS (keep-alive) in %.2f s\n", n,
          total / 1e6);
  printf ("payment latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms (goal p50 < 5, p99 < 20)\n",
          lat[n / 2] / 1000.0, lat[(n * 99) / 100] / 1000.0, lat[n - 1] / 1000.0);
  ct_client_shutdown (client);
  g_object_unref (client);

  /* 2. Drain: n top-ups queued while the service is down, on 100 cards. */
  for (int i = 0; i < cards; i++)
    g_ptr_array_add (card_nos, issue_card (svc, i + 1));
  old_url = g_strdup (ct_test_service_get_url (svc));
  client = client_for (old_url, svc, dir2);
  ct_test_service_stop (svc);
  t0 = g_get_monotonic_time ();
  cpu0 = self_cpu_ms ();
  for (int i = 0; i < n; i++)
    {
      post (client, g_ptr_array_index (card_nos, i % cards), "topups",
            "{\"package_id\":\"p100\",\"expect\":{\"amount\":10000,\"bonus\":1000},\"operator\":\"b\"}",
            CT_OUTBOX_KIND_TOPUP, 10000, &status, &queued);
      if (!queued)
        g_error ("top-up %d was not queued", i);
    }
  total = g_get_monotonic_time () - t0;
  printf ("queued offline: %d top-ups in %.2f s: %.2f ms each, %.2f ms of the client's CPU each "
          "(load average %.1f)\n", n, total / 1e6, total / 1e3 / n, (self_cpu_ms () - cpu0) / n,
          load_average ());
  ct_client_shutdown (client);
  g_object_unref (client);

  if (!ct_test_service_restart (svc, &error))
    g_error ("restart: %s", error->message);
  if (g_strcmp0 (old_url, ct_test_service_get_url (svc)) != 0)
    {
      /* The test service comes back on another port; a real till's service
       * keeps its address. Point the queued entries at the new one. */
      g_autofree char *db = g_build_filename (dir2, "outbox.db", NULL);
      g_autofree char *sql = g_strdup_printf ("UPDATE outbox SET service_url = '%s'",
                                              ct_test_service_get_url (svc));
      sqlite3 *h;

      sqlite3_open (db, &h);
      sqlite3_exec (h, sql, NULL, NULL, NULL);
      sqlite3_close (h);
    }
  client = client_for (ct_test_service_get_url (svc), svc, dir2);
  t0 = g_get_monotonic_time ();
  cpu0 = self_cpu_ms ();
  svc_cpu0 = service_cpu_ms (svc);
  if (!ct_client_sync (client, 600000, &settled, NULL, &error))
    g_error ("sync: %s", error->message);
  total = g_get_monotonic_time () - t0;
  printf ("outbox drain: %u of %d queued top-ups settled in %.2f s: %.0f/s (goal > 2000/s), "
          "%.2f ms of the client's CPU and %.2f ms of the service's each (load average %.1f)\n",
          settled, n, total / 1e6, settled / (total / 1e6), (self_cpu_ms () - cpu0) / MAX (settled, 1),
          (service_cpu_ms (svc) - svc_cpu0) / MAX (settled, 1), load_average ());
  if (ct_client_get_pending_count (client) != 0)
    g_error ("%u entries still pending", ct_client_get_pending_count (client));
  ct_client_shutdown (client);
  g_object_unref (client);

  {
    g_autoptr(CtTestResponse) r = ct_test_http (svc, "GET", "/v1/ledger/check", NULL, NULL, NULL);
    CtLedgerCheck check;

    if (r == NULL || !ct_wire_decode_ledger_check (r->body, r->body_len, &check, NULL)
        || check.sum != 0)
      g_error ("ledger does not balance");
    printf ("ledger check: sum 0\n");
  }
  ct_test_service_free (svc);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

    if (system (cmd) != 0)
      g_warning ("could not remove %s", dir);
  }
  return 0;
}
