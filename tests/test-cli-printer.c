/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-printer"
#include "config.h"

/* cardtill-cli receipt and printer, the real binary against a real
 * cardtill-service: the receipt on the terminal has the app's lines, and
 * what `--print` sends is decoded and looked at. */

#include <check.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ct-text.h"
#include "ct-escpos-decoder.h"
#include "ct-test-cli.h"
#include "ct-format.h"
#include "ct-printer-render.h"
#include "ct-receipt-data.h"
#include "ct-test-service.h"
#include "ct-wire.h"

typedef CtTestCliRun Run;

static CtTestService *svc;
static char *dir;
static char *pin_file;

#define run_clear ct_test_cli_run_clear

static int
cli (Run *r,
     ...)
{
  va_list args;
  int status;

  va_start (args, r);
  status = ct_test_cli_runv (svc, dir, NULL, r, args);
  va_end (args);
  return status;
}

static void
setup (void)
{
  g_autoptr(GError) error = NULL;

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "%s", error ? error->message : "");
  dir = g_dir_make_tmp ("ct-cli-printer-XXXXXX", NULL);
  pin_file = g_build_filename (dir, "pin", NULL);
  ck_assert (g_file_set_contents (pin_file, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, NULL));
}

static void
teardown (void)
{
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);

  ct_test_service_free (svc);
  svc = NULL;
  g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL);
  g_clear_pointer (&dir, g_free);
  g_clear_pointer (&pin_file, g_free);
}

static char *
issue_card (const char *name)
{
  Run r = { 0 };
  g_autoptr(CtCard) card = NULL;
  char *card_no;

  ck_assert_int_eq (cli (&r, "--json", "card", "issue", "--name", name, "--phone", "13800138000",
                         "--manager", CT_TEST_SERVICE_MANAGER_ID, "--pin-file", pin_file, NULL), 0);
  card = ct_wire_decode_card (r.out, strlen (r.out), NULL);
  ck_assert_ptr_nonnull (card);
  card_no = g_strdup (card->card_no);
  run_clear (&r);
  return card_no;
}

/* What the app shows for the service's answer @json. */
static char *
app_lines (const char *json)
{
  g_autoptr(CtReceipt) receipt = ct_wire_decode_receipt (json, strlen (json), NULL);
  g_autoptr(CtReceiptData) data = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;
  GString *out;

  ck_assert_ptr_nonnull (receipt);
  /* The CLI shows times in the merchant's zone: the test service's is
   * the default, Asia/Shanghai. */
  ct_format_set_time_zone ("Asia/Shanghai");
  data = ct_receipt_data_new_from_receipt (receipt, NULL);
  title = ct_receipt_title (data);
  out = g_string_new (title);
  g_string_append_c (out, '\n');
  lines = ct_receipt_lines (data);
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);
      g_autofree char *value = ct_text_escape_controls (line->value);

      g_string_append_printf (out, "%s: %s\n", line->label, value);
    }
  return g_string_free (out, FALSE);
}

static char *
transaction_id (const char *json)
{
  g_autoptr(CtReceipt) receipt = ct_wire_decode_receipt (json, strlen (json), NULL);

  ck_assert_ptr_nonnull (receipt);
  return g_strdup (receipt->transaction->id);
}

static CtDecoded *
decode_file (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  CtDecoded *d;
  gsize len = 0;

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  d = ct_escpos_decode ((const guint8 *) contents, len, &error);
  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  return d;
}

static void
assert_shows (const CtRaster *raster,
              const char     *text)
{
  g_autoptr(CtRaster) needle = ct_render_text (text, FALSE, NULL);

  ck_assert_msg (ct_raster_find (raster, needle, NULL, NULL), "“%s” is not on the receipt", text);
}

START_TEST (test_cli_receipt_has_the_app_lines_and_prints_them)
{
  g_autofree char *card_no = issue_card ("张三\x1b[31mred");
  g_autofree char *expected = NULL;
  g_autofree char *tx = NULL;
  g_autofree char *printed = g_build_filename (dir, "printer.bin", NULL);
  g_autofree char *printer = g_strdup_printf ("file:%s", printed);
  g_autoptr(CtDecoded) d = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (&r, "--json", "topup", card_no, "--package", "p100", NULL), 0);
  expected = app_lines (r.out);
  tx = transaction_id (r.out);

  ck_assert_int_eq (cli (&r, "receipt", tx, NULL), 0);
  ck_assert_str_eq (r.out, expected);
  /* The escape sequence in the name never reaches the terminal. */
  ck_assert_ptr_null (strchr (r.out, 0x1b));
  ck_assert_ptr_nonnull (strstr (r.out, "Member: 张三\\x1b[31mred\n"));
  ck_assert_ptr_nonnull (strstr (r.out, "Paid in: ¥100.00\nBonus: ¥10.00\n"));
  ck_assert_ptr_nonnull (strstr (r.out, "Operator: 王芳\n"));

  ck_assert_int_eq (cli (&r, "receipt", tx, "--print", "--printer", printer, "--paper", "80", NULL), 0);
  ck_assert_str_eq (r.out, expected);
  d = decode_file (printed);
  /* A reprint of a cash top-up: never the drawer. */
  ck_assert (g_str_has_prefix (d->ops->str, "init raster"));
  ck_assert (g_str_has_suffix (d->ops->str, "raster cut"));
  ck_assert_uint_eq (d->drawer_kicks, 0);
  ck_assert_uint_eq (d->raster->width, 576);
  ck_assert (ct_raster_write_png (d->raster, "cli-receipt-topup-80mm.png", NULL));
  assert_shows (d->raster, "张三\\x1b[31mred");
  assert_shows (d->raster, "¥110.00");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_refund_receipt_on_58mm)
{
  g_autofree char *card_no = issue_card ("李四");
  g_autofree char *topup = NULL;
  g_autofree char *refund = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *printed = g_build_filename (dir, "refund.bin", NULL);
  g_autofree char *printer = g_strdup_printf ("file:%s", printed);
  g_autoptr(CtDecoded) d = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (&r, "--json", "topup", card_no, "--package", "p100", NULL), 0);
  topup = transaction_id (r.out);
  ck_assert_int_eq (cli (&r, "--json", "pay", card_no, "30.00", NULL), 0);
  {
    g_autofree char *payment = transaction_id (r.out);

    ck_assert_int_eq (cli (&r, "--json", "refund", card_no, payment, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                           "--pin-file", pin_file, NULL), 0);
  }
  refund = transaction_id (r.out);
  expected = app_lines (r.out);

  ck_assert_int_eq (cli (&r, "receipt", refund, "--print", "--printer", printer, NULL), 0);
  ck_assert_str_eq (r.out, expected);
  ck_assert (g_str_has_prefix (r.out, "Refund Receipt\n"));
  d = decode_file (printed);
  ck_assert_uint_eq (d->raster->width, 384);
  ck_assert_uint_eq (d->drawer_kicks, 0);
  ck_assert (ct_raster_write_png (d->raster, "cli-receipt-refund-58mm.png", NULL));
  assert_shows (d->raster, "李四");
  assert_shows (d->raster, "¥30.00");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_printer_test_page)
{
  g_autofree char *printed = g_build_filename (dir, "test.bin", NULL);
  g_autofree char *printer = g_strdup_printf ("file:%s", printed);
  g_autofree char *said = NULL;
  g_autoptr(CtDecoded) d = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (&r, "printer", "test", "--printer", printer, "--paper", "80", NULL), 0);
  said = g_strdup_printf ("Printed a 80 mm test page on %s.\n", printer);
  ck_assert_str_eq (r.out, said);
  d = decode_file (printed);
  ck_assert_str_eq (d->ops->str, "init raster raster cut");
  ck_assert_uint_eq (d->raster->width, 576);
  assert_shows (d->raster, "会员 张三 充值 ¥1,234.50");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_printer_mistakes_are_sentences)
{
  g_autofree char *card_no = issue_card ("Wang");
  g_autofree char *tx = NULL;
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *closed = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (&r, "--json", "topup", card_no, "--package", "p100", NULL), 0);
  tx = transaction_id (r.out);

  ck_assert_int_eq (cli (&r, "receipt", tx, "--print", "--printer", "lpt1", NULL), 1);
  ck_assert_ptr_nonnull (strstr (r.err, "“lpt1” is not a printer address. Use usb:VID:PID"));
  ck_assert_str_eq (r.out, "");
  ck_assert_int_eq (cli (&r, "receipt", tx, "--printer", "file:/tmp/x", NULL), 1);
  ck_assert_int_eq (cli (&r, "printer", "test", "--printer", "file:/tmp/x", "--paper", "72", NULL), 1);
  ck_assert_ptr_nonnull (strstr (r.err, "--paper is 58 or 80"));
  ck_assert_int_eq (cli (&r, "printer", "test", NULL), 1);
  ck_assert_ptr_nonnull (strstr (r.err, "No printer is set."));
  ck_assert_int_eq (cli (&r, "receipt", "abc", NULL), 1);
  ck_assert_int_eq (cli (&r, "receipt", "999999", NULL), 2);
  ck_assert_ptr_nonnull (strstr (r.err, "no transaction 999999"));

  /* A network printer that is not there: the receipt is still shown,
   * and the failure is a sentence with exit status 4. */
  ck_assert (g_socket_bind (s, any, TRUE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  closed = g_strdup_printf ("tcp:127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (s, NULL);
  ck_assert_int_eq (cli (&r, "receipt", tx, "--print", "--printer", closed, NULL), 4);
  ck_assert (g_str_has_prefix (r.out, "Top-Up Receipt\n"));
  ck_assert_ptr_nonnull (strstr (r.err, "cannot be reached"));
  ck_assert_ptr_nonnull (strstr (r.err, "nothing was printed."));
  run_clear (&r);
}
END_TEST

/* A payment that moved the card up a level, printed again later from its
 * transaction id: the app's lines, the new level among them, on paper. */
START_TEST (test_cli_reprinted_payment_shows_the_level_it_reached)
{
  g_autofree char *card_no = issue_card ("Level Member");
  g_autofree char *expected = NULL;
  g_autofree char *tx = NULL;
  g_autofree char *printed = g_build_filename (dir, "level.bin", NULL);
  g_autofree char *printer = g_strdup_printf ("file:%s", printed);
  g_autoptr(CtDecoded) d = NULL;
  Run r = { 0 };

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "level", "add", "--id", "gold", "--name", "Gold 金卡",
                                           "--min-spend", "50", NULL), 0);
  ck_assert_int_eq (cli (&r, "topup", card_no, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (&r, "--json", "pay", card_no, "60.00", NULL), 0);
  expected = app_lines (r.out);
  ck_assert_msg (strstr (expected, "New level: Gold 金卡\n") != NULL, "%s", expected);
  tx = transaction_id (r.out);

  ck_assert_int_eq (cli (&r, "receipt", tx, NULL), 0);
  ck_assert_str_eq (r.out, expected);
  ck_assert_int_eq (cli (&r, "receipt", tx, "--print", "--printer", printer, NULL), 0);
  d = decode_file (printed);
  ck_assert (ct_raster_write_png (d->raster, "cli-receipt-level-up-58mm.png", NULL));
  assert_shows (d->raster, "New level");
  assert_shows (d->raster, "Gold 金卡");
  run_clear (&r);
}
END_TEST

static Suite *
cli_printer_suite (void)
{
  Suite *s = suite_create ("cli-printer");
  TCase *tc = tcase_create ("receipt");

  tcase_set_timeout (tc, 240);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_cli_receipt_has_the_app_lines_and_prints_them);
  tcase_add_test (tc, test_cli_refund_receipt_on_58mm);
  tcase_add_test (tc, test_cli_reprinted_payment_shows_the_level_it_reached);
  tcase_add_test (tc, test_cli_printer_test_page);
  tcase_add_test (tc, test_cli_printer_mistakes_are_sentences);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (cli_printer_suite ());
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
