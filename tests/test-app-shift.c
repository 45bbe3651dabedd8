/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-shift"

#include "config.h"

/* The Shift and Reports screens in the real window against a real
 * cardtill-service, driven with real keys where a cashier types: a shift
 * opened with its float, a counted cash that is not an amount, the close
 * and its report on the receipt printer (a local network printer, its
 * bytes decoded), a handover, a shift closed twice, a shift opened
 * offline, the day's report, and cash a manager hands back for a refused
 * request leaving the shift's expected cash. Screenshots at 1024×600, in
 * English and in Chinese. */

#include <check.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <X11/keysym.h>

#include "ct-app-fixture.h"
#include "ct-client-shifts.h"
#include "ct-escpos-decoder.h"
#include "ct-format.h"
#include "ct-printer-listener.h"
#include "ct-printer-render.h"
#include "ct-reports-page.h"
#include "ct-screenshot.h"
#include "ct-shift-page.h"
#include "ct-sync-page.h"

static CtPrinterListener *printer;

/* A till on a 1024×600 display with a receipt printer set. */
static Till *
small_till (void)
{
  Till *till = till_new ();
  g_autofree char *address = ct_printer_listener_address (printer);

  g_settings_set_string (till->settings, "printer", address);
  g_settings_set_string (till->settings, "paper-width", "80");
  g_settings_set_boolean (till->settings, "auto-print", FALSE);
  till_show_at (till, 1024, 600);
  return till;
}

static void
small_till_free (Till *till)
{
  g_settings_reset (till->settings, "printer");
  g_settings_reset (till->settings, "paper-width");
  g_settings_reset (till->settings, "auto-print");
  till_free (till);
}

static void
setup (void)
{
  /* A service of its own for each test: shifts are the till's. */
  service_setup ();
  printer = ct_printer_listener_new ();
}

static void
teardown (void)
{
  g_clear_pointer (&printer, ct_printer_listener_free);
  service_teardown ();
}

static CtShiftPage *
shift_page (Till *till)
{
  return CT_SHIFT_PAGE (ct_window_get_page_widget (till->window, "shift"));
}

static CtReportsPage *
reports_page (Till *till)
{
  return CT_REPORTS_PAGE (ct_window_get_page_widget (till->window, "reports"));
}

static gboolean
shift_idle (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), "shift") == 0 && !ct_shift_page_is_busy (shift_page (till));
}

static void
wait_shift_idle (Till *till)
{
  ck_assert_msg (wait_until (shift_idle, till, 60000), "the Shift screen stayed busy");
}

/* The till's current shift as the service has it; NULL: none yet. */
static CtShift *
service_shift (Till *till)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  CtShift *shift;

  ct_client_shift_current_async (till->client, NULL, async_done_cb, &result);
  shift = ct_client_shift_current_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
  return shift;
}

static gboolean
entry_focused (gpointer data)
{
  GtkWidget *entry = data;
  GtkRoot *root = gtk_widget_get_root (entry);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  return focus != NULL && (focus == entry || gtk_widget_is_ancestor (focus, entry));
}

static GtkEntry *typed_entry;
static const char *typed_text;

static gboolean
entry_has_typed (gpointer data)
{
  return g_str_equal (gtk_editable_get_text (GTK_EDITABLE (typed_entry)), typed_text);
}

/* Types @text into @entry as a person does (slower than a scanner) and
 * presses Enter. */
static void
type_and_enter (Till       *till,
                GtkEntry   *entry,
                const char *text)
{
  /* Focus events land before the first key: a field that gets the
   * focus selects its text, and a key would then replace it. */
  if (!gtk_window_is_active (GTK_WINDOW (till->window)))
    keys_focus (GTK_WINDOW (till->window));
  gtk_widget_grab_focus (GTK_WIDGET (entry));
  ck_assert (wait_until (entry_focused, entry, 10000));
  ct_screenshot_settle (150);
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  keys_type (text, 80);
  /* The X server may be slow to pass the keys on, on a loaded machine. */
  typed_entry = entry;
  typed_text = text;
  if (!wait_until (entry_has_typed, NULL, 20000))
    {
      GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (till->window));

      ck_abort_msg ("typed “%s”, the field has “%s”; the focus is on %s", text,
                    gtk_editable_get_text (GTK_EDITABLE (entry)), focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
    }
  /* Enter at a person's pace, never as the end of a scanner's burst. */
  ct_screenshot_settle (100);
  keys_press (XK_Return);
}

static gboolean
shift_page_shown (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), "shift") == 0
         && gtk_widget_get_mapped (GTK_WIDGET (shift_page (till)));
}

/* F11, as the cashier reaches the screen. */
/* Every screen has its row in the sidebar's list, shown, and the screen on
 * display is the selected one. */
static void
assert_sidebar_lists_every_screen (Till       *till,
                                   const char *current)
{
  static const char *const screens[] = {
    "scan", "topup", "pay", "members", "import", "sync", "settings", "shift", "reports",
  };

  for (guint i = 0; i < G_N_ELEMENTS (screens); i++)
    {
      GtkWidget *row = find_widget (GTK_WIDGET (till->window), GTK_TYPE_LIST_BOX_ROW, screens[i]);

      ck_assert_msg (row != NULL, "the sidebar has no row for %s", screens[i]);
      ck_assert_msg (GTK_IS_LIST_BOX (gtk_widget_get_parent (row)), "the row for %s is not in the sidebar's list",
                     screens[i]);
      ck_assert_msg (gtk_widget_get_mapped (row), "the row for %s is not shown", screens[i]);
      ck_assert_msg (gtk_list_box_row_is_selected (GTK_LIST_BOX_ROW (row)) == (g_strcmp0 (screens[i], current) == 0),
                     "the row for %s is %sselected", screens[i],
                     gtk_list_box_row_is_selected (GTK_LIST_BOX_ROW (row)) ? "" : "not ");
    }
}

static void
show_shift_page (Till *till)
{
  keys_focus (GTK_WINDOW (till->window));
  keys_press (XK_F11);
  ck_assert_msg (wait_until (shift_page_shown, till, 10000), "F11 did not show the Shift screen");
  wait_shift_idle (till);
  /* The screen gives its field the focus once it is up. */
  ct_screenshot_settle (100);
  assert_sidebar_lists_every_screen (till, "shift");
}

static CtDecoded *
printed_job (guint n)
{
  g_autoptr(GByteArray) got = ct_printer_listener_wait (printer, n);
  g_autoptr(GError) error = NULL;
  CtDecoded *d;

  ck_assert_msg (got != NULL, "the printer got no job %u", n);
  d = ct_escpos_decode (got->data, got->len, &error);
  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  return d;
}

static void
assert_printed (const CtRaster *raster,
                const char     *text,
                gboolean        title)
{
  g_autoptr(CtRaster) needle = ct_render_text (text, title, NULL);

  ck_assert_msg (ct_raster_find (raster, needle, NULL, NULL), "“%s” is not printed", text);
}

static const char *want_state;

static gboolean
state_is (gpointer data)
{
  CtShiftPage *page = shift_page (data);

  return !ct_shift_page_is_busy (page) && g_strcmp0 (ct_shift_page_get_state_text (page), want_state) == 0;
}

static void
wait_state (Till       *till,
            const char *state)
{
  want_state = state;
  ck_assert_msg (wait_until (state_is, till, 60000), "the Shift screen says “%s”, not “%s”",
                 ct_shift_page_get_state_text (shift_page (till)), state);
  /* The screen moves the focus to the next field once it is done. */
  ct_screenshot_settle (100);
}

static gboolean
problem_shown (gpointer data)
{
  return ct_shift_page_get_problem (shift_page (data)) != NULL;
}

static char *
money (Till    *till,
       int64_t  amount,
       gboolean is_signed)
{
  int mu = ct_session_get_minor_units (till->session);
  const char *cur = ct_session_get_currency (till->session);

  return is_signed ? ct_format_signed_money (amount, mu, cur) : ct_format_money (amount, mu, cur);
}

/* @text holds the line @fmt makes. */
static void G_GNUC_PRINTF (2, 3)
assert_has (const char *text,
            const char *fmt,
            ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, fmt);
  line = g_strdup_vprintf (fmt, args);
  va_end (args);
  ck_assert_msg (strstr (text, line) != NULL, "“%s” is not in:\n%s", line, text);
}

static gboolean
report_shown (gpointer data)
{
  g_autofree char *text = ct_shift_page_get_report_text (shift_page (data));

  return strstr (text, "Variance") != NULL;
}

START_TEST (test_app_shift_open_wrong_count_close_and_print)
{
  Till *till = small_till ();
  CtShiftPage *page;
  g_autoptr(CtShift) opened = NULL;
  g_autoptr(CtShift) still = NULL;
  g_autoptr(CtShift) closed = NULL;
  g_autoptr(CtDecoded) d = NULL;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *report = NULL;
  g_autofree char *counted = NULL;
  g_autofree char *variance = NULL;
  g_autofree char *expected = NULL;

  show_shift_page (till);
  page = shift_page (till);
  ck_assert_str_eq (ct_shift_page_get_state_text (page), "No shift is open");
  save_png_settled (till, "shift-none");

  /* The float typed, Enter: the shift is open at the service. */
  type_and_enter (till, ct_shift_page_get_entry (page, "float"), "200.00");
  wait_state (till, "Shift of alice is open");
  ck_assert_msg (ct_shift_page_get_problem (page) == NULL, "%s", ct_shift_page_get_problem (page));
  opened = service_shift (till);
  ck_assert (opened != NULL && opened->open);
  ck_assert_str_eq (opened->operator_name, "alice");
  ck_assert_int_eq (opened->float_amount, 20000);

  /* A cash top-up of ¥100 (bonus ¥10) in the shift. */
  card_no = issue_card (till, "Shift Customer", phone, "p100");
  show_shift_page (till);
  save_png_settled (till, "shift-open");

  /* A counted cash that is not an amount: a sentence, nothing sent. */
  type_and_enter (till, ct_shift_page_get_entry (page, "counted"), "12.3.4");
  ck_assert (wait_until (problem_shown, till, 10000));
  ck_assert (g_str_has_prefix (ct_shift_page_get_problem (page), "Counted cash: "));
  ck_assert_uint_eq (ct_client_get_pending_count (till->client), 0);
  still = service_shift (till);
  ck_assert (still->open);
  ck_assert_str_eq (ct_shift_page_get_state_text (page), "Shift of alice is open");
  save_png_settled (till, "shift-wrong-counted");

  /* ¥295 counted against ¥300 expected: the report says −¥5. */
  type_and_enter (till, ct_shift_page_get_entry (page, "counted"), "295.00");
  ck_assert_msg (wait_until (report_shown, till, 60000), "no report after closing");
  wait_shift_idle (till);
  ck_assert_msg (ct_shift_page_get_problem (page) == NULL, "%s", ct_shift_page_get_problem (page));
  ck_assert_str_eq (ct_shift_page_get_state_text (page), "No shift is open");
  closed = service_shift (till);
  ck_assert (!closed->open);
  ck_assert_int_eq (closed->counted_cash, 29500);
  report = ct_shift_page_get_report_text (page);
  counted = money (till, 29500, FALSE);
  expected = money (till, 30000, FALSE);
  variance = money (till, -500, TRUE);
  g_message ("%s", report);
  ck_assert (g_str_has_prefix (report, "Shift Report\n"));
  assert_has (report, "Expected cash: %s\n", expected);
  assert_has (report, "Counted cash: %s\n", counted);
  assert_has (report, "Variance: %s\n", variance);
  assert_has (report, "Top-ups: 1 × ");
  save_png_settled (till, "shift-closed-report");

  /* On the receipt printer: the report's title, its variance, a cut,
   * and never the drawer. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "shift.print-receipt", NULL));
  d = printed_job (1);
  ck_assert_uint_eq (d->raster->width, 576);
  ck_assert_uint_eq (d->drawer_kicks, 0);
  ck_assert (g_str_has_suffix (d->ops->str, "raster cut"));
  assert_printed (d->raster, "Shift Report", TRUE);
  assert_printed (d->raster, variance, FALSE);
  ck_assert (ct_raster_write_png (d->raster, "app-shift-report-80mm.png", NULL));

  /* And through the print dialog. */
  ck_assert (gtk_widget_is_sensitive (find_action_button (GTK_WIDGET (page), "shift.print")));

  small_till_free (till);
}
END_TEST

static gboolean
shift_of (gpointer data)
{
  CtShiftPage *page = data;
  const CtShift *shift = ct_shift_page_get_shift (page);

  return !ct_shift_page_is_busy (page) && shift != NULL && shift->open && g_strcmp0 (shift->operator_name, "bob") == 0;
}

START_TEST (test_app_shift_handover_then_closed_twice)
{
  Till *till = small_till ();
  CtShiftPage *page;
  g_autoptr(CtShift) now = NULL;
  g_autoptr(CtShift) closed = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;

  show_shift_page (till);
  page = shift_page (till);
  type_and_enter (till, ct_shift_page_get_entry (page, "float"), "100");
  wait_state (till, "Shift of alice is open");

  /* Counted cash, the next cashier and their float; Enter hands over. */
  gtk_editable_set_text (GTK_EDITABLE (ct_shift_page_get_entry (page, "counted")), "100");
  gtk_editable_set_text (GTK_EDITABLE (ct_shift_page_get_entry (page, "next")), "bob");
  type_and_enter (till, ct_shift_page_get_entry (page, "next-float"), "150");
  ck_assert_msg (wait_until (shift_of, page, 60000), "the handover did not open bob's shift");
  ck_assert_str_eq (ct_shift_page_get_state_text (page), "Shift of bob is open");
  report = ct_shift_page_get_report_text (page);
  assert_has (report, "Cashier: alice\n");
  assert_has (report, "Variance: ");
  now = service_shift (till);
  ck_assert (now->open);
  ck_assert_str_eq (now->operator_name, "bob");
  ck_assert_int_eq (now->float_amount, 15000);
  save_png_settled (till, "shift-handover");

  /* Bob's shift is closed elsewhere (another request); closing it here
   * again is a sentence, and the screen shows it closed. */
  ct_client_shift_close_async (till->client, now->id, "manager", 15000, NULL, 0, NULL, async_done_cb, &result);
  closed = ct_client_shift_close_finish (till->client, wait_result (&result), NULL, &error);
  ck_assert_msg (closed != NULL, "%s", error ? error->message : "");
  type_and_enter (till, ct_shift_page_get_entry (page, "counted"), "150");
  ck_assert (wait_until (problem_shown, till, 60000));
  ck_assert_str_eq (ct_shift_page_get_problem (page), "This shift is already closed.");
  wait_state (till, "No shift is open");
  save_png_settled (till, "shift-closed-twice");

  small_till_free (till);
}
END_TEST

static gboolean
service_has_open_shift (gpointer data)
{
  Till *till = data;
  g_autoptr(CtShift) shift = NULL;

  if (ct_client_get_pending_count (till->client) > 0)
    return FALSE;
  shift = service_shift (till);
  return shift != NULL && shift->open;
}

START_TEST (test_app_shift_opened_offline_is_pending_then_sent)
{
  Till *till = small_till ();
  CtShiftPage *page;
  const CtShift *shown;

  show_shift_page (till);
  page = shift_page (till);

  /* The service goes away: the opening is taken and waits in the outbox. */
  ck_assert_int_eq (ct_test_service_stop (service), 0);
  type_and_enter (till, ct_shift_page_get_entry (page, "float"), "50");
  wait_state (till, "Shift of alice is open");
  shown = ct_shift_page_get_shift (page);
  ck_assert (shown != NULL && shown->open && shown->pending);
  ck_assert_uint_eq (ct_client_get_pending_count (till->client), 1);
  ck_assert_str_eq (ct_shift_page_get_state_text (page), "Shift of alice is open");
  save_png_settled (till, "shift-pending");

  /* Back online, the outbox sends it. */
  ck_assert (ct_test_service_restart (service, NULL));
  ck_assert_msg (wait_until (service_has_open_shift, till, 120000), "the queued opening never reached the service");

  small_till_free (till);
}
END_TEST

static gboolean
reports_loaded (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), "reports") == 0
         && gtk_widget_get_mapped (GTK_WIDGET (reports_page (till)))
         && ct_reports_page_get_date (reports_page (till)) != NULL
         && !ct_reports_page_is_loading (reports_page (till));
}

static const char *want_date;

static gboolean
reports_show_day (gpointer data)
{
  Till *till = data;

  return reports_loaded (till) && g_strcmp0 (ct_reports_page_get_date (reports_page (till)), want_date) == 0;
}

static gboolean
reports_problem (gpointer data)
{
  return ct_reports_page_get_problem (reports_page (data)) != NULL;
}

/* A shift with a top-up, closed, through the client. */
static void
day_with_a_shift (Till *till)
{
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GAsyncResult) closed = NULL;
  g_autoptr(CtShift) shift = NULL;
  g_autoptr(CtShift) done = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;

  ct_client_shift_open_async (till->client, "alice", 20000, NULL, async_done_cb, &opened);
  shift = ct_client_shift_open_finish (till->client, wait_result (&opened), &error);
  ck_assert_msg (shift != NULL && !shift->pending, "%s", error ? error->message : "pending");
  card_no = issue_card (till, "Day Customer", phone, "p100");
  ct_client_shift_close_async (till->client, shift->id, "alice", 31000, NULL, 0, NULL, async_done_cb, &closed);
  done = ct_client_shift_close_finish (till->client, wait_result (&closed), NULL, &error);
  ck_assert_msg (done != NULL && !done->pending, "%s", error ? error->message : "pending");
}

START_TEST (test_app_reports_day_with_data)
{
  Till *till = small_till ();
  CtReportsPage *page;
  g_autofree char *text = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *today = NULL;
  g_autofree char *variance = NULL;
  g_autoptr(CtDecoded) d = NULL;

  day_with_a_shift (till);

  keys_focus (GTK_WINDOW (till->window));
  keys_chord (XK_Shift_L, XK_F12);
  ck_assert_msg (wait_until (reports_loaded, till, 60000), "Shift+F12 did not show the day");
  page = reports_page (till);
  ck_assert_msg (ct_reports_page_get_problem (page) == NULL, "%s", ct_reports_page_get_problem (page));
  today = g_strdup (ct_reports_page_get_date (page));
  text = ct_reports_page_get_text (page);
  variance = money (till, 1000, TRUE);
  g_message ("%s", text);
  assert_has (text, "Day Report %s\n", today);
  assert_has (text, "Store: ");
  assert_has (text, "Till: ");
  assert_has (text, "Top-ups: 1 × ");
  assert_has (text, "variance %s", variance);
  assert_has (text, "Shift 1 (alice");
  ck_assert (gtk_widget_is_sensitive (find_action_button (GTK_WIDGET (page), "reports.print")));
  save_png_settled (till, "reports-day");

  /* The day before: nothing. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "reports.previous-day", NULL));
  ck_assert (wait_until (reports_loaded, till, 60000));
  ck_assert_str_ne (ct_reports_page_get_date (page), today);
  save_png_settled (till, "reports-empty-day");
  empty = ct_reports_page_get_text (page);
  ck_assert_msg (strstr (empty, "Shift 1") == NULL && strstr (empty, "Top-ups: 0 × ") != NULL, "%s", empty);

  /* A day typed that is not one: a sentence, the day stays. */
  {
    g_autofree char *before = g_strdup (ct_reports_page_get_date (page));

    type_and_enter (till, ct_reports_page_get_date_entry (page), "2026-13-45");
    ck_assert (wait_until (reports_problem, till, 10000));
    ck_assert_str_eq (ct_reports_page_get_date (page), before);
    save_png_settled (till, "reports-bad-date");
  }

  /* Today typed, Enter; printed on the receipt printer. */
  type_and_enter (till, ct_reports_page_get_date_entry (page), today);
  want_date = today;
  ck_assert (wait_until (reports_show_day, till, 60000));
  ck_assert (ct_reports_page_get_problem (page) == NULL);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "reports.print-receipt", NULL));
  d = printed_job (1);
  {
    g_autofree char *title = g_strdup_printf ("Day Report %s", today);
    g_autofree char *line = g_strdup_printf ("variance %s", variance);

    assert_printed (d->raster, title, TRUE);
    assert_printed (d->raster, line, FALSE);
  }
  ck_assert (ct_raster_write_png (d->raster, "app-day-report-80mm.png", NULL));

  small_till_free (till);
}
END_TEST

/* Cash handed back through a recorded outcome */

static gboolean
attention_is (gpointer data)
{
  Till *till = data;

  return ct_client_get_attention_count (till->client) == GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (till->window),
                                                                                               "want-attention"));
}

static void
wait_attention (Till  *till,
                guint  count)
{
  g_object_set_data (G_OBJECT (till->window), "want-attention", GUINT_TO_POINTER (count));
  ck_assert_msg (wait_until (attention_is, till, 60000), "%u need attention, not %u",
                 ct_client_get_attention_count (till->client), count);
}

static gboolean
sync_idle (gpointer data)
{
  return !ct_sync_page_is_loading (CT_SYNC_PAGE (data));
}

static char *want_line;

static gboolean
report_has_line (gpointer data)
{
  g_autofree char *text = ct_shift_page_get_report_text (shift_page (data));

  return !ct_shift_page_is_busy (shift_page (data)) && strstr (text, want_line) != NULL;
}

/* A top-up taken offline that the service refuses once it is back (the
 * package changed meanwhile): one request needs attention. */
static void
refused_offline_topup (Till       *till,
                       const char *card_no)
{
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (till->client);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(CtReceipt) receipt = NULL;

  ck_assert_int_eq (ct_test_service_stop (service), 0);
  ct_client_topup_package_async (till->client, card_no, ct_merchant_find_package (merchant, "p100"), NULL,
                                 async_done_cb, &result);
  receipt = ct_client_topup_finish (till->client, wait_result (&result), NULL);
  ck_assert_uint_eq (ct_client_get_pending_count (till->client), 1);
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "package", "remove", "--id", "p100", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "package", "add", "--id", "p100", "--amount", "100.00",
                                           "--bonus", "20.00", NULL), 0);
  ck_assert (ct_test_service_restart (service, NULL));
  ck_assert (ct_client_sync (till->client, 30000, NULL, NULL, NULL));
  wait_attention (till, 1);
}

/* The manager records the outcome of the refused top-up with 25.00 handed
 * back from the drawer (@note: what was done); the Shift screen's expected
 * cash is that much less. @suffix names the screenshots ("" or "-zh_CN"). */
static void
outcome_cash_in_the_shift (const char *note,
                           const char *suffix)
{
  Till *till = small_till ();
  CtSyncPage *sync = CT_SYNC_PAGE (ct_window_get_page_widget (till->window, "sync"));
  AdwMessageDialog *dialog;
  GtkWidget *hint;
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(CtShift) shift = NULL;
  g_autoptr(CtShift) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *name = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *given = NULL;

  /* Float 200.00 and a cash top-up of 100.00: 300.00 expected. */
  ct_client_shift_open_async (till->client, "alice", 20000, NULL, async_done_cb, &opened);
  shift = ct_client_shift_open_finish (till->client, wait_result (&opened), &error);
  ck_assert_msg (shift != NULL && !shift->pending, "%s", error ? error->message : "pending");
  card_no = issue_card (till, "Outcome Customer", phone, "p100");
  refused_offline_topup (till, card_no);

  ct_window_show_page (till->window, "sync");
  ct_sync_page_reload (sync);
  ck_assert (wait_until (sync_idle, sync, 60000));
  ck_assert_uint_eq (ct_sync_page_get_n_attention (sync), 1);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (sync), "sync.record-outcome", "x",
                                         (gint64) ct_sync_page_get_attention_entry (sync, 0)->id));
  dialog = ct_find_dialog ("ct-outcome-dialog");
  ck_assert (dialog != NULL);
  fill_named (GTK_WIDGET (dialog), "manager", CT_TEST_SERVICE_MANAGER_ID);
  fill_named (GTK_WIDGET (dialog), "pin", CT_TEST_SERVICE_MANAGER_PIN);
  fill_named (GTK_WIDGET (dialog), "outcome", note);

  /* An amount that does not parse: a sentence, and nothing can be sent. */
  fill_named (GTK_WIDGET (dialog), "cash", "12.3.4");
  hint = find_widget (GTK_WIDGET (dialog), GTK_TYPE_LABEL, "hint");
  ck_assert (hint != NULL && gtk_widget_get_visible (hint));
  {
    g_autofree char *prefix = g_strdup_printf (_("Cash handed back: %s"), "");

    ck_assert_msg (g_str_has_prefix (gtk_label_get_label (GTK_LABEL (hint)), prefix), "%s",
                   gtk_label_get_label (GTK_LABEL (hint)));
  }
  ck_assert (!ct_dialog_choose (dialog, "record"));
  name = g_strdup_printf ("sync-outcome-cash-wrong%s", suffix);
  save_png (till, GTK_WIDGET (dialog), name);
  g_clear_pointer (&name, g_free);

  fill_named (GTK_WIDGET (dialog), "cash", "25.00");
  ck_assert (!gtk_widget_get_visible (hint));
  name = g_strdup_printf ("sync-outcome-cash%s", suffix);
  save_png (till, GTK_WIDGET (dialog), name);
  g_clear_pointer (&name, g_free);
  ck_assert (ct_dialog_choose (dialog, "record"));
  wait_attention (till, 0);

  /* The Shift screen shows the cash handed back and 275.00 expected. */
  after = service_shift (till);
  ck_assert (after != NULL && after->open);
  show_shift_page (till);
  given = money (till, -2500, TRUE);
  expected = money (till, 27500, FALSE);
  want_line = g_strdup_printf ("%s: %s\n", _("Expected cash"), expected);
  ck_assert_msg (wait_until (report_has_line, till, 60000), "“%s” is not in the shift's report", want_line);
  {
    g_autofree char *text = ct_shift_page_get_report_text (shift_page (till));

    g_message ("%s", text);
    assert_has (text, "%s: %s\n", _("Cash handed back (outcomes)"), given);
  }
  g_clear_pointer (&want_line, g_free);
  name = g_strdup_printf ("shift-outcome-cash%s", suffix);
  save_png_settled (till, name);

  small_till_free (till);
}

START_TEST (test_app_shift_outcome_cash_leaves_the_expected_cash)
{
  outcome_cash_in_the_shift ("Cash returned to the customer", "");
}
END_TEST

static void
speak_chinese (void)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  ck_assert_str_ne (_("No shift is open"), "No shift is open");
}

START_TEST (test_app_shift_outcome_cash_in_chinese)
{
  speak_chinese ();
  outcome_cash_in_the_shift ("已将现金退还顾客", "-zh_CN");
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

/* Both screens in Chinese at 1024×600, to look at. */
START_TEST (test_app_shift_and_reports_in_chinese)
{
  Till *till;
  CtShiftPage *page;

  speak_chinese ();
  till = small_till ();
  day_with_a_shift (till);
  show_shift_page (till);
  page = shift_page (till);
  save_png_settled (till, "shift-closed-report-zh_CN");
  type_and_enter (till, ct_shift_page_get_entry (page, "float"), "200");
  {
    g_autofree char *state = g_strdup_printf (_("Shift of %s is open"), "alice");

    wait_state (till, state);
  }
  type_and_enter (till, ct_shift_page_get_entry (page, "counted"), "1.2.3");
  ck_assert (wait_until (problem_shown, till, 10000));
  save_png_settled (till, "shift-open-zh_CN");

  keys_chord (XK_Shift_L, XK_F12);
  ck_assert (wait_until (reports_loaded, till, 60000));
  save_png_settled (till, "reports-day-zh_CN");

  small_till_free (till);
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-shift");
  TCase *tc = tcase_create ("shift");

  tcase_set_timeout (tc, 400);
  tcase_add_checked_fixture (tc, setup, teardown);
  add_test (tc, test_app_shift_open_wrong_count_close_and_print);
  add_test (tc, test_app_shift_handover_then_closed_twice);
  add_test (tc, test_app_shift_opened_offline_is_pending_then_sent);
  add_test (tc, test_app_reports_day_with_data);
  add_test (tc, test_app_shift_and_reports_in_chinese);
  add_test (tc, test_app_shift_outcome_cash_leaves_the_expected_cash);
  add_test (tc, test_app_shift_outcome_cash_in_chinese);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
