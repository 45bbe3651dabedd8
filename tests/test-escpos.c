/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-escpos"
#include "config.h"

/* What a receipt printer gets: each receipt is rendered, encoded as
 * ESC/POS, decoded again by the tests' own decoder, checked (commands,
 * width, band height, the text it must show, nothing past the margins)
 * and written back as a PNG under the build tree's tests/printer-out/. */

#include <check.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "ct-escpos-decoder.h"
#include "ct-printer.h"
#include "ct-printer-render.h"
#include "ct-receipt-data.h"
#include "ct-report-lines.h"
#include "ct-test-receipt.h"

/* Renders, encodes and decodes @data; the decoded raster must be the
 * rendered one, dot for dot. */
static CtDecoded *
print_and_decode (const CtReceiptData *data,
                  CtPaper              paper,
                  const char          *png_name)
{
  g_autoptr(CtRaster) raster = NULL;
  g_autoptr(GBytes) job = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *png = NULL;
  CtDecoded *decoded;
  guint unknown = 99;
  gsize len;
  const guint8 *bytes;

  raster = ct_render_receipt (data, paper, &unknown);
  ck_assert_uint_eq (unknown, 0);
  job = ct_escpos_document (raster, ct_receipt_data_opens_drawer (data));
  bytes = g_bytes_get_data (job, &len);
  decoded = ct_escpos_decode (bytes, len, &error);
  ck_assert_msg (decoded != NULL, "%s", error ? error->message : "");
  ck_assert_ptr_nonnull (decoded->raster);
  ck_assert (ct_raster_equal (decoded->raster, raster));
  ck_assert_uint_eq (decoded->raster->width, (guint) paper);
  ck_assert_uint_le (decoded->max_band_rows, CT_ESCPOS_BAND_ROWS);
  ck_assert (ct_raster_write_png (decoded->raster, png_name, &png));
  g_test_message ("%s", png);
  return decoded;
}

static void
assert_shows (const CtRaster *raster,
              const char     *text,
              gboolean        title)
{
  g_autoptr(CtRaster) needle = NULL;
  guint unknown = 99;

  needle = ct_render_text (text, title, &unknown);
  ck_assert_uint_eq (unknown, 0);
  ck_assert_msg (ct_raster_find (raster, needle, NULL, NULL), "“%s” is not on the receipt", text);
}

START_TEST (test_escpos_topup_58mm_chinese_name)
{
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("张三丰");
  g_autoptr(CtDecoded) d = print_and_decode (data, CT_PAPER_58MM, "receipt-58mm-topup-chinese.png");

  /* A cash top-up: initialise, the image in bands, cut, open the drawer. */
  ck_assert (g_str_has_prefix (d->ops->str, "init raster"));
  ck_assert (g_str_has_suffix (d->ops->str, "raster cut drawer"));
  ck_assert_uint_eq (d->inits, 1);
  ck_assert_uint_eq (d->cuts, 1);
  ck_assert_uint_eq (d->drawer_kicks, 1);
  ck_assert_uint_eq (d->bands, (d->raster->height + CT_ESCPOS_BAND_ROWS - 1) / CT_ESCPOS_BAND_ROWS);
  ck_assert_uint_ge (d->bands, 2);
  assert_shows (d->raster, "张三丰", FALSE);
  assert_shows (d->raster, "¥500.00", FALSE);
  assert_shows (d->raster, "¥562.50", FALSE);
  assert_shows (d->raster, "**** 0017", FALSE);
  ck_assert (ct_raster_ink_within (d->raster, CT_RENDER_MARGIN, d->raster->width - CT_RENDER_MARGIN));
}
END_TEST

START_TEST (test_escpos_topup_80mm_is_wider_not_longer)
{
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("张三丰");
  g_autoptr(CtDecoded) d80 = print_and_decode (data, CT_PAPER_80MM, "receipt-80mm-topup-chinese.png");
  g_autoptr(CtDecoded) d58 = print_and_decode (data, CT_PAPER_58MM, "receipt-58mm-topup-again.png");

  ck_assert_uint_eq (d80->raster->width, 576);
  ck_assert_uint_eq (d58->raster->width, 384);
  /* Every line fits on one row on both widths. */
  ck_assert_uint_eq (d80->raster->height, d58->raster->height);
  ck_assert_uint_gt (d80->raster->height, 300);
  ck_assert_uint_lt (d80->raster->height, 1000);
  assert_shows (d80->raster, "Top-Up Receipt", TRUE);
  assert_shows (d80->raster, "张三丰", FALSE);
  ck_assert (ct_raster_ink_within (d80->raster, CT_RENDER_MARGIN, 576 - CT_RENDER_MARGIN));
}
END_TEST

START_TEST (test_escpos_long_name_wraps_inside_the_paper)
{
  const char *long_name = "Maximilian Alexander Bartholomew von Hohenzollern-Sigmaringen 欧阳娜娜";
  g_autoptr(CtReceiptData) shortd = ct_test_receipt_topup ("Li");
  g_autoptr(CtReceiptData) longd = ct_test_receipt_topup (long_name);
  g_autoptr(CtDecoded) s = print_and_decode (shortd, CT_PAPER_58MM, "receipt-58mm-short-name.png");
  g_autoptr(CtDecoded) l = print_and_decode (longd, CT_PAPER_58MM, "receipt-58mm-long-name.png");

  /* The name takes lines of its own, and nothing is cut at the edge. */
  ck_assert_uint_ge (l->raster->height, s->raster->height + 2 * CT_RENDER_TEXT_PX);
  ck_assert (ct_raster_ink_within (l->raster, CT_RENDER_MARGIN, 384 - CT_RENDER_MARGIN));
  assert_shows (l->raster, "Member", FALSE);
  assert_shows (l->raster, "Maximilian", FALSE);
  assert_shows (s->raster, "Li", FALSE);
}
END_TEST

START_TEST (test_escpos_refund_has_no_drawer_kick)
{
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("张三丰");
  g_autoptr(CtDecoded) d = NULL;

  data->kind = CT_TRANSACTION_REFUND;
  data->amount = 3000;
  data->bonus = 0;
  data->manager = g_strdup ("店长 Zhao");
  data->balance_before = 1000;
  data->balance_after = 4000;
  d = print_and_decode (data, CT_PAPER_80MM, "receipt-80mm-refund.png");

  ck_assert_str_eq (d->ops->str + strlen (d->ops->str) - strlen ("raster cut"), "raster cut");
  ck_assert_uint_eq (d->drawer_kicks, 0);
  assert_shows (d->raster, "Refund Receipt", TRUE);
  assert_shows (d->raster, "Refunded", FALSE);
  assert_shows (d->raster, "¥30.00", FALSE);
  assert_shows (d->raster, "店长 Zhao", FALSE);
}
END_TEST

START_TEST (test_escpos_drawer_only_for_cash_topups)
{
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("A");

  ck_assert (ct_receipt_data_opens_drawer (data));
  data->tender = g_strdup ("wechat");
  ck_assert (!ct_receipt_data_opens_drawer (data));
  g_free (data->tender);
  data->tender = g_strdup ("cash");
  ck_assert (ct_receipt_data_opens_drawer (data));
  data->kind = CT_TRANSACTION_PAYMENT;
  ck_assert (!ct_receipt_data_opens_drawer (data));
  data->kind = CT_TRANSACTION_ADJUSTMENT;
  ck_assert (!ct_receipt_data_opens_drawer (data));
}
END_TEST

START_TEST (test_escpos_pending_receipt_says_so)
{
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("张三丰");
  g_autoptr(CtDecoded) d = NULL;

  data->kind = CT_TRANSACTION_PAYMENT;
  data->pending = TRUE;
  g_clear_pointer (&data->transaction_id, g_free);
  d = print_and_decode (data, CT_PAPER_58MM, "receipt-58mm-payment-pending.png");
  assert_shows (d->raster, "PENDING SYNC", TRUE);
  assert_shows (d->raster, "pending sync", FALSE);
}
END_TEST

START_TEST (test_escpos_test_page_shows_chinese)
{
  for (guint i = 0; i < 2; i++)
    {
      CtPaper paper = i == 0 ? CT_PAPER_58MM : CT_PAPER_80MM;
      g_autoptr(CtRaster) raster = NULL;
      g_autofree char *name = g_strdup_printf ("test-page-%umm.png", ct_paper_mm (paper));
      guint unknown = 99;

      raster = ct_render_test_page (paper, "usb:0416:5011", &unknown);
      ck_assert_uint_eq (unknown, 0);
      ck_assert (ct_raster_write_png (raster, name, NULL));
      assert_shows (raster, "会员 张三 充值 ¥1,234.50", FALSE);
      assert_shows (raster, "usb:0416:5011", FALSE);
      /* The bar reaches both margins. */
      ck_assert (ct_raster_get (raster, CT_RENDER_MARGIN, 2));
      ck_assert (ct_raster_get (raster, (guint) paper - CT_RENDER_MARGIN - 1, 2));
      ck_assert (!ct_raster_get (raster, (guint) paper - CT_RENDER_MARGIN, 2));
    }
}
END_TEST

/* The till in Chinese: labels, title and amounts all CJK-capable, and
 * nothing past the margins on the narrow roll. */
START_TEST (test_escpos_receipt_in_chinese)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("欧阳娜娜");
  g_autoptr(CtDecoded) d = NULL;

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  d = print_and_decode (data, CT_PAPER_58MM, "receipt-58mm-topup-zh_CN.png");
  assert_shows (d->raster, "充值小票", TRUE);
  assert_shows (d->raster, _("Paid in"), FALSE);
  ck_assert_str_ne (_("Paid in"), "Paid in");
  ck_assert (ct_raster_ink_within (d->raster, CT_RENDER_MARGIN, 384 - CT_RENDER_MARGIN));
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

/* A shift report as the service answers it, with points redeemed and
 * cash handed back through an outcome: both are lines of the report, and
 * it prints inside the narrow roll. */
START_TEST (test_escpos_shift_report_shows_points_outcome_cash_and_split_rests)
{
  static const char body[] =
    "{\"shift\":{\"id\":\"7\",\"store\":\"s1\",\"till\":\"t1\",\"status\":\"closed\",\"operator\":\"amy\","
    "\"float\":20000,\"opened_at\":\"2026-12-02T01:00:00Z\",\"closed_at\":\"2026-12-02T09:00:00Z\","
    "\"closed_by\":\"amy\",\"counted_cash\":27500},"
    "\"report\":{\"count\":3,\"topups\":10000,\"bonus\":1000,\"payments\":11000,\"refunds\":0,\"voids\":0,"
    "\"void_bonus\":0,\"adjustments\":0,\"imports\":0,\"points_redeemed\":300,\"redeemed_value\":300,"
    "\"counts\":{\"topups\":1,\"payments\":2,\"refunds\":0,\"voids\":0,\"adjustments\":0,\"imports\":0,"
    "\"points_redeemed\":2},\"tenders\":{\"cash\":{\"taken\":10000,\"given_back\":0,\"net\":10000}},"
    "\"rests\":{\"cash\":{\"taken\":0,\"given_back\":0,\"net\":0},"
    "\"alipay\":{\"taken\":4000,\"given_back\":500,\"net\":3500}},"
    "\"float\":20000,\"outcome_cash\":2500,\"expected_cash\":27500,\"counted_cash\":27500,\"variance\":0}}";
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(CtRaster) raster = NULL;
  g_autofree char *title = NULL;
  gboolean points = FALSE, outcome = FALSE, rest = FALSE, cash_rest = FALSE;

  lines = ct_report_shift_lines (body, sizeof body - 1, 2, "CNY", &title, NULL);
  ck_assert_ptr_nonnull (lines);
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);

      if (g_str_equal (line->label, "Points redeemed"))
        points = g_str_equal (line->value, "300 points in 2 payments: ¥3.00");
      if (g_str_equal (line->label, "Cash handed back (outcomes)"))
        outcome = g_str_equal (line->value, "-¥25.00") || g_str_equal (line->value, "−¥25.00");
      /* The rests of split payments, by the tender that took them. */
      if (g_str_equal (line->label, "Split rest · Alipay"))
        rest = strstr (line->value, "¥35.00") != NULL;
      if (g_str_has_prefix (line->label, "Split rest · Cash"))
        cash_rest = TRUE;
    }
  ck_assert_msg (rest, "no line of the rest Alipay took");
  ck_assert_msg (!cash_rest, "a line of a rest no tender took");
  ck_assert_msg (points, "no line of the points redeemed");
  ck_assert_msg (outcome, "no line of the cash handed back");
  raster = ct_render_lines (title, NULL, lines, CT_PAPER_58MM, NULL);
  assert_shows (raster, "300 points in 2 payments: ¥3.00", FALSE);
  ck_assert (ct_raster_ink_within (raster, CT_RENDER_MARGIN, 384 - CT_RENDER_MARGIN));
}
END_TEST

START_TEST (test_escpos_bands_are_bounded)
{
  g_autoptr(CtRaster) raster = ct_raster_new (384, 300);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(CtDecoded) d = NULL;

  for (guint y = 0; y < 300; y++)
    raster->bits[y * raster->stride + (y % 48)] = 0x81;
  ct_escpos_raster (out, raster);
  d = ct_escpos_decode (out->data, out->len, NULL);
  ck_assert_ptr_nonnull (d);
  ck_assert_str_eq (d->ops->str, "raster raster raster");
  ck_assert_uint_eq (d->max_band_rows, CT_ESCPOS_BAND_ROWS);
  ck_assert (ct_raster_equal (d->raster, raster));
}
END_TEST

START_TEST (test_escpos_status_bytes)
{
  static const guint8 ok[] = { 0x12, 0x12 };
  static const guint8 paper_stop[] = { 0x32, 0x12 };
  static const guint8 paper_sensor[] = { 0x12, 0x72 };
  static const guint8 near_end[] = { 0x12, 0x1e };
  static const guint8 cover[] = { 0x16, 0x12 };
  static const guint8 garbage[] = { 0xff, 0x00 };
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autoptr(CtDecoded) d = NULL;
  CtPrinterStatus st;

  ck_assert (ct_escpos_parse_status (ok, 2, &st));
  ck_assert (!st.paper_out && !st.cover_open);
  ck_assert (ct_escpos_parse_status (paper_stop, 2, &st) && st.paper_out && !st.cover_open);
  ck_assert (ct_escpos_parse_status (paper_sensor, 2, &st) && st.paper_out);
  /* Near the end of the roll still prints. */
  ck_assert (ct_escpos_parse_status (near_end, 2, &st) && !st.paper_out);
  ck_assert (ct_escpos_parse_status (cover, 2, &st) && st.cover_open && !st.paper_out);
  ck_assert (!ct_escpos_parse_status (garbage, 2, &st));
  ck_assert (!ct_escpos_parse_status (ok, 1, &st));

  ct_escpos_status_request (request);
  d = ct_escpos_decode (request->data, request->len, NULL);
  ck_assert_str_eq (d->ops->str, "status status");
}
END_TEST

START_TEST (test_escpos_decoder_refuses_what_a_printer_would_not_take)
{
  static const guint8 text[] = { 'H', 'i' };
  static const guint8 short_raster[] = { 0x1d, 'v', '0', 0, 48, 0, 10, 0, 0xff };
  g_autoptr(GError) error = NULL;

  ck_assert_ptr_null (ct_escpos_decode (text, sizeof text, &error));
  ck_assert_ptr_nonnull (strstr (error->message, "0x48"));
  g_clear_error (&error);
  ck_assert_ptr_null (ct_escpos_decode (short_raster, sizeof short_raster, &error));
  ck_assert_ptr_nonnull (error);
}
END_TEST

static void
assert_address (const char    *text,
                CtPrinterKind  kind,
                const char    *canonical)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtPrinterAddress) a = ct_printer_address_parse (text, &error);
  g_autofree char *back = NULL;

  ck_assert_msg (a != NULL, "%s: %s", text, error ? error->message : "");
  ck_assert_int_eq (a->kind, kind);
  back = ct_printer_address_to_string (a);
  ck_assert_str_eq (back, canonical);
}

static void
assert_bad_address (const char *text,
                    const char *says)
{
  g_autoptr(GError) error = NULL;

  ck_assert_ptr_null (ct_printer_address_parse (text, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_ADDRESS));
  ck_assert_msg (strstr (error->message, says) != NULL, "%s: %s", text, error->message);
  ck_assert (g_str_has_suffix (error->message, "."));
}

START_TEST (test_printer_address_forms)
{
  assert_address ("usb:0416:5011", CT_PRINTER_USB, "usb:0416:5011");
  assert_address ("usb:28E9:0289", CT_PRINTER_USB, "usb:28e9:0289");
  assert_address ("tcp:192.168.1.87:9100", CT_PRINTER_TCP, "tcp:192.168.1.87:9100");
  assert_address ("tcp:printer.local", CT_PRINTER_TCP, "tcp:printer.local:9100");
  assert_address ("tcp:[::1]:9101", CT_PRINTER_TCP, "tcp:[::1]:9101");
  assert_address ("file:/tmp/r.bin", CT_PRINTER_FILE, "file:/tmp/r.bin");

  assert_bad_address ("usb:416:5011", "four hexadecimal digits");
  assert_bad_address ("usb:0416", "usb:0416:5011");
  assert_bad_address ("usb:zzzz:5011", "four hexadecimal digits");
  assert_bad_address ("tcp:host:99999", "from 1 to 65535");
  assert_bad_address ("tcp:host:abc", "from 1 to 65535");
  assert_bad_address ("tcp::9100", "no printer host");
  assert_bad_address ("lpt1", "tcp:HOST:PORT");
  assert_bad_address ("file:", "file:PATH");
  assert_bad_address ("", "No printer is set");
}
END_TEST

static Suite *
escpos_suite (void)
{
  Suite *s = suite_create ("escpos");
  TCase *tc = tcase_create ("receipts");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_escpos_topup_58mm_chinese_name);
  tcase_add_test (tc, test_escpos_topup_80mm_is_wider_not_longer);
  tcase_add_test (tc, test_escpos_long_name_wraps_inside_the_paper);
  tcase_add_test (tc, test_escpos_refund_has_no_drawer_kick);
  tcase_add_test (tc, test_escpos_drawer_only_for_cash_topups);
  tcase_add_test (tc, test_escpos_pending_receipt_says_so);
  tcase_add_test (tc, test_escpos_test_page_shows_chinese);
  tcase_add_test (tc, test_escpos_receipt_in_chinese);
  tcase_add_test (tc, test_escpos_shift_report_shows_points_outcome_cash_and_split_rests);
  tcase_add_test (tc, test_escpos_bands_are_bounded);
  tcase_add_test (tc, test_escpos_status_bytes);
  tcase_add_test (tc, test_escpos_decoder_refuses_what_a_printer_would_not_take);
  tcase_add_test (tc, test_printer_address_forms);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (escpos_suite ());
  int failed;

  /* Receipts are in English here whatever the machine's locale. */
  g_setenv ("LANGUAGE", "C", TRUE);
  g_setenv ("TZ", "UTC", TRUE);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
