/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-day"
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <string.h>

#include "ct-escpos-decoder.h"
#include "ct-fault-proxy.h"
#include "ct-printer-render.h"
#include "ct-test-cli.h"
#include "ct-test-service.h"
#include "ct-wire.h"

/* The cashier's day through the real cardtill-cli against a real
 * cardtill-service: top-ups by tender, a shift opened, counted and closed
 * (and closed twice), a handover, the day report as text, CSV and on
 * paper, and a shift opened, sold in and closed offline that settles in
 * the order it was taken. */

static CtTestService *svc;
static CtFaultProxy *proxy;     /* the offline test only */
static char *dir;

#define run_clear ct_test_cli_run_clear

static int
cli (CtTestCliRun *r,
     ...)
{
  va_list args;
  int status;

  va_start (args, r);
  status = ct_test_cli_runv (svc, dir, proxy ? ct_fault_proxy_get_url (proxy) : NULL, r, args);
  va_end (args);
  return status;
}

static void
start (gboolean through_proxy)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;

  svc = ct_test_service_start (!through_proxy, &error);
  ck_assert_msg (svc != NULL, "%s", error ? error->message : "");
  if (through_proxy)
    {
      proxy = ct_fault_proxy_new (ct_test_service_get_url (svc), 99, &error);
      ck_assert_msg (proxy != NULL, "%s", error ? error->message : "");
    }
  dir = g_dir_make_tmp ("ct-cli-day-XXXXXX", NULL);
  pin = g_build_filename (dir, "pin", NULL);
  ck_assert (g_file_set_contents (pin, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, NULL));
}

static void
setup (void)
{
  start (FALSE);
}

static void
teardown (void)
{
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);

  g_clear_pointer (&proxy, ct_fault_proxy_free);
  g_clear_pointer (&svc, ct_test_service_free);
  g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL);
  g_clear_pointer (&dir, g_free);
}

static char *
issue_card (void)
{
  CtTestCliRun r = { 0 };
  g_autofree char *pin = g_build_filename (dir, "pin", NULL);
  g_autoptr(CtCard) card = NULL;
  char *card_no;

  ck_assert_int_eq (cli (&r, "--json", "card", "issue", "--name", "韩梅梅", "--phone", "13800138000",
                         "--manager", CT_TEST_SERVICE_MANAGER_ID, "--pin-file", pin, NULL), 0);
  card = ct_wire_decode_card (r.out, strlen (r.out), NULL);
  ck_assert_ptr_nonnull (card);
  card_no = g_strdup (card->card_no);
  run_clear (&r);
  return card_no;
}

static char *
topup (const char *card_no,
       const char *tender)
{
  CtTestCliRun r = { 0 };
  g_autoptr(CtReceipt) receipt = NULL;
  char *id;

  ck_assert_msg (cli (&r, "--json", "topup", card_no, "--package", "p100", "--tender", tender, NULL) == 0,
                 "%s", r.err);
  receipt = ct_wire_decode_receipt (r.out, strlen (r.out), NULL);
  ck_assert_ptr_nonnull (receipt);
  ck_assert_str_eq (receipt->transaction->tender, tender);
  id = g_strdup (receipt->transaction->id);
  run_clear (&r);
  return id;
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

  ck_assert_msg (ct_raster_find (raster, needle, NULL, NULL), "“%s” is not on the paper", text);
}

#define assert_has(text, needle) \
  ck_assert_msg (strstr ((text), (needle)) != NULL, "no “%s” in:\n%s", (needle), (text))

START_TEST (test_cli_day_topup_tender_is_on_the_receipt)
{
  g_autofree char *card_no = issue_card ();
  g_autofree char *tx = topup (card_no, "wechat");
  CtTestCliRun r = { 0 };

  ck_assert_int_eq (cli (&r, "receipt", tx, NULL), 0);
  assert_has (r.out, "Paid by: WeChat Pay\n");
  /* History says how, at the merchant's time (Asia/Shanghai), not UTC. */
  ck_assert_int_eq (cli (&r, "history", card_no, NULL), 0);
  assert_has (r.out, "paid by WeChat Pay");
  {
    g_autoptr(GTimeZone) zone = g_time_zone_new_identifier ("Asia/Shanghai");
    g_autoptr(GDateTime) now = g_date_time_new_now (zone);
    g_autofree char *day = g_date_time_format (now, "%Y-%m-%d ");

    ck_assert_msg (g_str_has_prefix (r.out, day), "not the merchant's day %s:\n%s", day, r.out);
    ck_assert_msg (strstr (r.out, "Z  topup") == NULL, "%s", r.out);
  }
  ck_assert_int_eq (cli (&r, "topup", card_no, "--package", "p100", "--tender", "bitcoin", NULL), 1);
  assert_has (r.err, "--tender is cash, wechat, alipay, bank_card or other");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_day_shift_is_counted_closed_once_and_printed)
{
  g_autofree char *card_no = issue_card ();
  g_autofree char *printed = g_build_filename (dir, "shift.bin", NULL);
  g_autofree char *printer = g_strdup_printf ("file:%s", printed);
  g_autoptr(CtDecoded) d = NULL;
  CtTestCliRun r = { 0 };

  ck_assert_msg (cli (&r, "shift", "open", "--float", "200.00", NULL) == 0, "%s", r.err);
  assert_has (r.out, "Shift Report\n");
  assert_has (r.out, "Cashier: 王芳\n");
  g_free (topup (card_no, "cash"));
  g_free (topup (card_no, "alipay"));

  /* A count that is not an amount: a sentence, and the shift stays open. */
  ck_assert_int_eq (cli (&r, "shift", "close", "--counted", "299.5.0", NULL), 1);
  assert_has (r.err, "--counted:");
  ck_assert_int_eq (cli (&r, "shift", "report", NULL), 0);
  assert_has (r.out, "Closed: still open\n");
  assert_has (r.out, "Expected cash: ¥300.00\n");

  ck_assert_msg (cli (&r, "shift", "close", "--counted", "299.50", NULL) == 0, "%s", r.err);
  assert_has (r.out, "Counted cash: ¥299.50\n");
  assert_has (r.out, "Variance: -¥0.50\n");
  assert_has (r.out, "Alipay: +¥100.00\n");
  ck_assert_int_eq (cli (&r, "shift", "close", "--counted", "1.00", NULL), 2);
  assert_has (r.err, "shift_closed");

  ck_assert_int_eq (cli (&r, "shift", "report", "--print", "--printer", printer, "--paper", "58", NULL), 0);
  assert_has (r.out, "Variance: -¥0.50\n");
  d = decode_file (printed);
  ck_assert_uint_eq (d->raster->width, 384);
  ck_assert_uint_eq (d->drawer_kicks, 0);
  ck_assert (ct_raster_write_png (d->raster, "cli-shift-report-58mm.png", NULL));
  assert_shows (d->raster, "Expected cash");
  assert_shows (d->raster, "-¥0.50");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_day_handover_closes_and_opens_for_the_next_cashier)
{
  CtTestCliRun r = { 0 };

  ck_assert_int_eq (cli (&r, "shift", "handover", "--counted", "1.00", "--float", "1.00", NULL), 1);
  assert_has (r.err, "--to");
  ck_assert_int_eq (cli (&r, "shift", "open", "--float", "100.00", NULL), 0);
  ck_assert_int_eq (cli (&r, "shift", "open", "--float", "100.00", NULL), 2);
  assert_has (r.err, "shift_open");
  ck_assert_msg (cli (&r, "shift", "handover", "--counted", "100.00", "--float", "50.00", "--to", "李雷", NULL) == 0,
                 "%s", r.err);
  assert_has (r.out, "Variance: ¥0.00\n");
  ck_assert_int_eq (cli (&r, "shift", "report", NULL), 0);
  assert_has (r.out, "Cashier: 李雷\n");
  assert_has (r.out, "Float: ¥50.00\n");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_day_report_as_text_csv_and_paper)
{
  g_autofree char *card_no = issue_card ();
  g_autofree char *printed = g_build_filename (dir, "day.bin", NULL);
  g_autofree char *printer = g_strdup_printf ("file:%s", printed);
  g_autoptr(CtDecoded) d = NULL;
  CtTestCliRun r = { 0 };

  ck_assert_int_eq (cli (&r, "shift", "open", "--float", "0.00", NULL), 0);
  g_free (topup (card_no, "cash"));
  g_free (topup (card_no, "wechat"));
  ck_assert_int_eq (cli (&r, "shift", "close", "--counted", "99.00", NULL), 0);

  ck_assert_int_eq (cli (&r, "report", "day", NULL), 0);
  assert_has (r.out, "Top-ups: 2 × ¥200.00\n");
  assert_has (r.out, "WeChat Pay: +¥100.00\n");
  assert_has (r.out, "Till: s1 / t1\n");
  assert_has (r.out, "variance -¥1.00");

  ck_assert_int_eq (cli (&r, "report", "day", "--csv", NULL), 0);
  ck_assert (g_str_has_prefix (r.out, "scope,store,till,topups_count,topups,"));
  assert_has (r.out, "\ntill,s1,t1,2,200.00,");
  /* The tenders' net, then the rests of split payments (none here). */
  assert_has (r.out, ",100.00,100.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00\n");
  assert_has (r.out, "\nshift,store,till,operator,");
  assert_has (r.out, ",s1,t1,王芳,");
  assert_has (r.out, ",0.00,100.00,99.00,-1.00\n");

  ck_assert_int_eq (cli (&r, "report", "day", "--date", "31-12-2026", NULL), 1);
  ck_assert_int_eq (cli (&r, "report", "day", "--print", "--printer", printer, "--paper", "80", NULL), 0);
  d = decode_file (printed);
  ck_assert_uint_eq (d->raster->width, 576);
  ck_assert (ct_raster_write_png (d->raster, "cli-day-report-80mm.png", NULL));
  assert_shows (d->raster, "WeChat Pay");
  run_clear (&r);
}
END_TEST

/* Offline, the shift's opening, a sale and its closing queue; back
 * online they settle in the order they were taken, so the sale counts in
 * the shift, with the time the customer paid. */
START_TEST (test_cli_day_offline_shift_settles_in_order)
{
  g_autofree char *card_no = NULL;
  CtTestCliRun r = { 0 };
  g_autoptr(GDateTime) before = NULL;
  g_autoptr(CtHistoryPage) page = NULL;
  g_autoptr(GDateTime) taken = NULL;
  g_autoptr(GDateTime) created = NULL;
  CtTransaction *tx;

  teardown ();
  start (TRUE);
  card_no = issue_card ();
  ck_assert (ct_fault_proxy_set_offline (proxy, TRUE, NULL));
  before = g_date_time_new_now_utc ();
  ck_assert_int_eq (cli (&r, "shift", "open", "--float", "10.00", NULL), 3);
  ck_assert_int_eq (cli (&r, "topup", card_no, "--package", "p100", NULL), 3);
  ck_assert_int_eq (cli (&r, "shift", "close", "--counted", "110.00", NULL), 3);
  ck_assert_int_eq (cli (&r, "--json", "sync", "--status", NULL), 0);
  assert_has (r.out, "\"kind\":\"shift\"");

  ck_assert (ct_fault_proxy_set_offline (proxy, FALSE, NULL));
  ck_assert_msg (cli (&r, "sync", NULL) == 0, "%s", r.err);
  assert_has (r.out, "Settled 3");
  ck_assert_int_eq (cli (&r, "shift", "report", NULL), 0);
  assert_has (r.out, "Top-ups: 1 × ¥100.00\n");
  assert_has (r.out, "Variance: ¥0.00\n");

  ck_assert_int_eq (cli (&r, "--json", "history", card_no, NULL), 0);
  page = ct_wire_decode_history (r.out, strlen (r.out), NULL);
  ck_assert_ptr_nonnull (page);
  ck_assert_uint_eq (page->transactions->len, 1);
  tx = g_ptr_array_index (page->transactions, 0);
  ck_assert_ptr_nonnull (tx->shift_id);
  taken = g_date_time_new_from_iso8601 (tx->taken_at, NULL);
  created = g_date_time_new_from_iso8601 (tx->created_at, NULL);
  ck_assert (taken != NULL && created != NULL);
  /* Taken while offline, booked at the sync. */
  ck_assert (g_date_time_difference (taken, before) >= -G_TIME_SPAN_SECOND);
  ck_assert (g_date_time_compare (taken, created) < 0);
  run_clear (&r);
}
END_TEST

static Suite *
cli_day_suite (void)
{
  Suite *s = suite_create ("cli-day");
  TCase *tc = tcase_create ("day");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_cli_day_topup_tender_is_on_the_receipt);
  tcase_add_test (tc, test_cli_day_shift_is_counted_closed_once_and_printed);
  tcase_add_test (tc, test_cli_day_handover_closes_and_opens_for_the_next_cashier);
  tcase_add_test (tc, test_cli_day_report_as_text_csv_and_paper);
  tcase_add_test (tc, test_cli_day_offline_shift_settles_in_order);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (cli_day_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
