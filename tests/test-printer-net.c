/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-printer-net"
#include "config.h"

/* The network and file transports against what a printer would do: a
 * local TCP listener on 127.0.0.1 that answers DLE EOT like a receipt
 * printer (with "paper out" as many times as a test asks, or never), and
 * keeps every byte each connection brought, for the ESC/POS decoder. */

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-escpos-decoder.h"
#include "ct-printer.h"
#include "ct-printer-listener.h"
#include "ct-printer-render.h"

/* @timeout: 1 s where the test waits for it to run out, else long
 * enough for a loaded machine. */
static CtPrinter *
tcp_printer (CtPrinterListener *l,
             guint              timeout)
{
  g_autofree char *text = ct_printer_listener_address (l);
  g_autoptr(CtPrinterAddress) address = ct_printer_address_parse (text, NULL);
  CtPrinter *printer;

  ck_assert_ptr_nonnull (address);
  printer = ct_printer_new (address);
  ct_printer_set_timeout (printer, timeout);
  return printer;
}

static GBytes *
test_page_job (void)
{
  g_autoptr(CtRaster) raster = ct_render_test_page (CT_PAPER_58MM, "tcp", NULL);

  return ct_escpos_document (raster, FALSE);
}

static CtDecoded *
decode (GByteArray *got)
{
  g_autoptr(GError) error = NULL;
  CtDecoded *d = ct_escpos_decode (got->data, got->len, &error);

  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  return d;
}

START_TEST (test_printer_tcp_paper_out_once_then_prints_when_asked)
{
  CtPrinterListener *l = ct_printer_listener_new ();
  g_autoptr(CtPrinter) printer = tcp_printer (l, 20);
  g_autoptr(GBytes) job = test_page_job ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) first = NULL;
  g_autoptr(GByteArray) second = NULL;
  g_autoptr(CtDecoded) d1 = NULL;
  g_autoptr(CtDecoded) d2 = NULL;

  ct_printer_listener_answer (l, 1, FALSE);
  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_PAPER_OUT));
  ck_assert_str_eq (error->message, "The printer is out of paper. Put in a new roll, then print again.");

  /* Only the status question went out: nothing was printed. */
  first = ct_printer_listener_wait (l, 1);
  ck_assert_ptr_nonnull (first);
  d1 = decode (first);
  ck_assert_str_eq (d1->ops->str, "status status");
  ck_assert_uint_eq (ct_printer_listener_connections (l), 1);

  /* Print again, as the cashier asks: the whole receipt, once. */
  ck_assert (ct_printer_print (printer, job, NULL, NULL));
  second = ct_printer_listener_wait (l, 2);
  ck_assert_ptr_nonnull (second);
  d2 = decode (second);
  ck_assert (g_str_has_prefix (d2->ops->str, "status status init raster"));
  ck_assert (g_str_has_suffix (d2->ops->str, "raster cut"));
  ck_assert_uint_eq (d2->inits, 1);
  ck_assert_uint_eq (d2->raster->width, 384);
  ck_assert (ct_raster_write_png (d2->raster, "tcp-test-page.png", NULL));
  ck_assert_uint_eq (ct_printer_listener_connections (l), 2);

  ct_printer_listener_free (l);
}
END_TEST

START_TEST (test_printer_tcp_never_answers_is_a_timeout)
{
  CtPrinterListener *l = ct_printer_listener_new ();
  g_autoptr(CtPrinter) printer = tcp_printer (l, 1);
  g_autoptr(GBytes) job = test_page_job ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = NULL;
  g_autoptr(CtDecoded) d = NULL;

  ct_printer_listener_answer (l, 0, TRUE);
  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT));
  ck_assert_str_eq (error->message,
                    "The printer did not answer within 1 second. Check that it is switched on and connected; nothing was printed.");
  got = ct_printer_listener_wait (l, 1);
  ck_assert_ptr_nonnull (got);
  d = decode (got);
  ck_assert_str_eq (d->ops->str, "status status");

  ct_printer_listener_free (l);
}
END_TEST

START_TEST (test_printer_tcp_nothing_listening)
{
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(CtPrinterAddress) address = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = test_page_job ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  /* A port that was free a moment ago and has no listener. */
  ck_assert (g_socket_bind (s, any, TRUE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  text = g_strdup_printf ("tcp:127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (s, NULL);
  address = ct_printer_address_parse (text, NULL);
  printer = ct_printer_new (address);
  ct_printer_set_timeout (printer, 2);

  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_REFUSED));
  ck_assert (g_str_has_prefix (error->message, "The printer at 127.0.0.1:"));
  ck_assert (g_str_has_suffix (error->message, "nothing was printed."));
}
END_TEST

typedef struct
{
  guint     ticks;
  guint     ticks_at_result;
  gboolean  done;
  GError   *error;
} AsyncSeen;

static gboolean
tick_cb (gpointer user_data)
{
  AsyncSeen *seen = user_data;

  seen->ticks++;
  return G_SOURCE_CONTINUE;
}

static void
print_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncSeen *seen = user_data;

  ck_assert (!ct_printer_print_finish (CT_PRINTER (source), result, &seen->error));
  seen->ticks_at_result = seen->ticks;
  seen->done = TRUE;
}

START_TEST (test_printer_async_never_blocks_the_main_loop)
{
  CtPrinterListener *l = ct_printer_listener_new ();
  g_autoptr(CtPrinter) printer = tcp_printer (l, 1);
  g_autoptr(GBytes) job = test_page_job ();
  AsyncSeen seen = { 0 };
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint tick;

  ct_printer_listener_answer (l, 0, TRUE);
  tick = g_timeout_add (5, tick_cb, &seen);
  ct_printer_print_async (printer, job, NULL, print_done_cb, &seen);
  while (!seen.done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);

  ck_assert (seen.done);
  /* The main loop went on while the printer kept silent. */
  ck_assert_uint_gt (seen.ticks_at_result, 0);
  ck_assert (g_error_matches (seen.error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT));
  g_clear_error (&seen.error);
  ct_printer_listener_free (l);
}
END_TEST

START_TEST (test_printer_file_gets_each_job_once)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-printer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "printer.bin", NULL);
  g_autofree char *text = g_strdup_printf ("file:%s", path);
  g_autoptr(CtPrinterAddress) address = ct_printer_address_parse (text, NULL);
  g_autoptr(CtPrinter) printer = ct_printer_new (address);
  g_autoptr(GBytes) job = test_page_job ();
  g_autoptr(CtDecoded) d = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  ck_assert (ct_printer_print (printer, job, NULL, NULL));
  ck_assert (ct_printer_print (printer, job, NULL, NULL));
  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  d = ct_escpos_decode ((const guint8 *) contents, len, NULL);
  ck_assert_ptr_nonnull (d);
  /* A file cannot answer DLE EOT: no status question, two whole jobs. */
  ck_assert_uint_eq (d->status_requests, 0);
  ck_assert_uint_eq (d->inits, 2);
  ck_assert_uint_eq (d->cuts, 2);
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_printer_file_in_a_missing_folder)
{
  g_autoptr(CtPrinterAddress) address = ct_printer_address_parse ("file:/nonexistent/dir/r.bin", NULL);
  g_autoptr(CtPrinter) printer = ct_printer_new (address);
  g_autoptr(GBytes) job = test_page_job ();
  g_autoptr(GError) error = NULL;

  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_FAILED));
  ck_assert_str_eq (error->message,
                    "The receipt could not be written to /nonexistent/dir/r.bin: No such file or directory.");
}
END_TEST

static Suite *
printer_net_suite (void)
{
  Suite *s = suite_create ("printer-net");
  TCase *tc = tcase_create ("transports");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_printer_tcp_paper_out_once_then_prints_when_asked);
  tcase_add_test (tc, test_printer_tcp_never_answers_is_a_timeout);
  tcase_add_test (tc, test_printer_tcp_nothing_listening);
  tcase_add_test (tc, test_printer_async_never_blocks_the_main_loop);
  tcase_add_test (tc, test_printer_file_gets_each_job_once);
  tcase_add_test (tc, test_printer_file_in_a_missing_folder);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (printer_net_suite ());
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
