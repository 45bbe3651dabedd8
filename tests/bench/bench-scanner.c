/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-scanner"
#include "config.h"

/* Scanner figures (docs/performance.md):
 * - decode time per report and per scan, boot keyboard and HID POS
 *   (goal: well under 1 µs per report);
 * - time from the last report of a scan to the "scanned" signal on the
 *   main loop, through the reader thread's own delivery path
 *   (goal: under 1 ms). */

#include <stdio.h>
#include <string.h>

#include "ct-hid-decode.h"
#include "ct-usb-scanner-private.h"

#define KEYBOARD_SCANS 200000
#define POS_SCANS 500000
#define LATENCY_SCANS 2000

static guint
keyboard_scan_reports (guint8 reports[][8])
{
  static const char digits[] = "8888000012345674";
  guint n = 0;

  for (const char *p = digits; *p; p++)
    {
      memset (reports[n], 0, 8);
      reports[n++][2] = *p == '0' ? 0x27 : (guint8) (0x1e + (*p - '1'));
      memset (reports[n++], 0, 8);
    }
  memset (reports[n], 0, 8);
  reports[n++][2] = 0x28;
  memset (reports[n++], 0, 8);
  return n;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
bench_keyboard (void)
{
  g_autoptr(CtHidDecoder) decoder = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 reports[64][8];
  guint n = keyboard_scan_reports (reports);
  guint64 total_reports = 0, scans = 0;
  gint64 start, elapsed;

  start = g_get_monotonic_time ();
  for (guint s = 0; s < KEYBOARD_SCANS; s++)
    for (guint r = 0; r < n; r++)
      {
        CtScan *scan = NULL;

        ct_hid_decoder_feed (decoder, reports[r], 8, &scan, NULL);
        total_reports++;
        if (scan != NULL)
          {
            scans++;
            ct_scan_free (scan);
          }
      }
  elapsed = g_get_monotonic_time () - start;
  g_assert (scans == KEYBOARD_SCANS);
  printf ("keyboard: %" G_GUINT64_FORMAT " reports, %" G_GUINT64_FORMAT " scans of 16 digits in %.3f s\n",
          total_reports, scans, elapsed / 1e6);
  printf ("keyboard: %.1f ns per report, %.3f us per scan (%u reports)\n",
          elapsed * 1000.0 / total_reports, (double) elapsed / scans, n);
}

static void
bench_pos (void)
{
  g_autoptr(CtHidDecoder) decoder = ct_hid_decoder_new (CT_HID_MODE_POS);
  guint8 report[64] = { 0x02, 16, ']', 'C', '0' };
  guint64 scans = 0;
  gint64 start, elapsed;

  memcpy (report + 5, "8888000012345674", 16);
  start = g_get_monotonic_time ();
  for (guint s = 0; s < POS_SCANS; s++)
    {
      CtScan *scan = NULL;

      ct_hid_decoder_feed (decoder, report, sizeof report, &scan, NULL);
      if (scan != NULL)
        {
          scans++;
          ct_scan_free (scan);
        }
    }
  elapsed = g_get_monotonic_time () - start;
  g_assert (scans == POS_SCANS);
  printf ("hid-pos: %.1f ns per report (one report per scan)\n", elapsed * 1000.0 / scans);
}

typedef struct
{
  CtUsbScanner *scanner;
  GArray       *latencies;
  GMutex        lock;
  GCond         cond;
  guint         delivered;
} Latency;

static void
on_scanned (CtUsbScanner *scanner,
            CtScan       *scan,
            Latency      *l)
{
  gint64 now = g_get_monotonic_time ();
  gint64 latency = now - scan->decoded_at;

  g_array_append_val (l->latencies, latency);
  g_mutex_lock (&l->lock);
  l->delivered++;
  g_cond_signal (&l->cond);
  g_mutex_unlock (&l->lock);
}

/* Plays the reader thread: reports go through the same decode-and-post
 * path as a completed interrupt transfer, one scan at a time. */
static gpointer
feeder (gpointer data)
{
  Latency *l = data;
  g_autoptr(CtHidDecoder) decoder = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 reports[64][8];
  guint n = keyboard_scan_reports (reports);

  for (guint s = 0; s < LATENCY_SCANS; s++)
    {
      for (guint r = 0; r < n; r++)
        ct_usb_scanner_handle_report (l->scanner, decoder, "bench", reports[r], 8);
      g_mutex_lock (&l->lock);
      while (l->delivered <= s)
        g_cond_wait (&l->cond, &l->lock);
      g_mutex_unlock (&l->lock);
      g_usleep (200);
    }
  return NULL;
}

static void
bench_latency (void)
{
  Latency l = { 0 };
  GThread *thread;
  gint64 *v;

  l.scanner = ct_usb_scanner_new (0, 0);
  l.latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_mutex_init (&l.lock);
  g_cond_init (&l.cond);
  g_signal_connect (l.scanner, "scanned", G_CALLBACK (on_scanned), &l);

  thread = g_thread_new ("feeder", feeder, &l);
  while (l.latencies->len < LATENCY_SCANS)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  g_array_sort (l.latencies, compare_gint64);
  v = (gint64 *) l.latencies->data;
  printf ("last report to main loop: median %" G_GINT64_FORMAT " us, p99 %" G_GINT64_FORMAT " us, max %" G_GINT64_FORMAT " us (%u scans)\n",
          v[LATENCY_SCANS / 2], v[LATENCY_SCANS * 99 / 100], v[LATENCY_SCANS - 1], LATENCY_SCANS);

  g_array_unref (l.latencies);
  g_object_unref (l.scanner);
  g_mutex_clear (&l.lock);
  g_cond_clear (&l.cond);
}

int
main (void)
{
  bench_keyboard ();
  bench_pos ();
  bench_latency ();
  return 0;
}
