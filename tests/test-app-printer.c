/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-printer"
#include "config.h"

/* The window with a receipt printer set: the real window and client
 * against a real cardtill-service, a local network printer (a listener
 * that answers DLE EOT), and what it gets decoded: a receipt after each
 * transaction, the drawer only for a cash top-up, a printer fault as a
 * sentence on the receipt with "Print Again", F9 reprinting, and a copy
 * printed again from the card's history. */

#include <check.h>
#include <gtk/gtk.h>
#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-escpos-decoder.h"
#include "ct-printer-listener.h"
#include "ct-printer-render.h"
#include "ct-members-page.h"
#include "ct-receipt-page.h"
#include "ct-screenshot.h"
#include "ct-session.h"
#include "ct-settings-page.h"
#include "ct-topup-page.h"
#include "ct-test-service.h"
#include "ct-window.h"

typedef struct
{
  CtTestService     *svc;
  CtPrinterListener *printer;
  CtClient          *client;
  GSettings         *settings;
  CtSession         *session;
  CtWindow          *window;
  char              *data_dir;
} Till;

static gboolean
wait_until (gboolean (*predicate) (gpointer),
            gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!predicate (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return TRUE;
}

static void
async_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
result_arrived (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  ck_assert_msg (wait_until (result_arrived, slot), "no answer in time");
  return *slot;
}

static Till *
till_new (void)
{
  Till *till = g_new0 (Till, 1);
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *address = NULL;

  till->svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (till->svc != NULL, "%s", error ? error->message : "");
  till->printer = ct_printer_listener_new ();
  till->data_dir = g_dir_make_tmp ("cardtill-app-printer-XXXXXX", NULL);

  config->service_url = g_strdup (ct_test_service_get_url (till->svc));
  config->token = g_strdup (ct_test_service_get_token (till->svc));
  config->ca_file = g_strdup (ct_test_service_get_ca_file (till->svc));
  config->data_dir = g_strdup (till->data_dir);
  config->operator_name = g_strdup ("王芳");
  till->client = ct_client_new (config, &error);
  ck_assert_msg (till->client != NULL, "%s", error ? error->message : "");
  ct_client_start_async (till->client, NULL, NULL, async_done_cb, &result);
  ck_assert_msg (ct_client_start_finish (till->client, wait_result (&result), NULL, &error),
                 "%s", error ? error->message : "");

  address = ct_printer_listener_address (till->printer);
  till->settings = g_settings_new (APP_ID);
  g_settings_set_string (till->settings, "printer", address);
  g_settings_set_string (till->settings, "paper-width", "80");
  g_settings_set_boolean (till->settings, "auto-print", TRUE);
  g_settings_set_boolean (till->settings, "open-drawer", TRUE);
  till->session = ct_session_new (till->client, till->settings);
  till->window = ct_window_new (NULL, till->session);
  gtk_window_present (GTK_WINDOW (till->window));
  ct_screenshot_settle (200);
  return till;
}

static void
till_free (Till *till)
{
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", till->data_dir);

  gtk_window_destroy (GTK_WINDOW (till->window));
  ct_screenshot_settle (50);
  ct_client_shutdown (till->client);
  g_clear_object (&till->session);
  g_clear_object (&till->client);
  g_settings_reset (till->settings, "printer");
  g_settings_reset (till->settings, "till-name");
  g_clear_object (&till->settings);
  ct_printer_listener_free (till->printer);
  ct_test_service_free (till->svc);
  g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL);
  g_free (till->data_dir);
  g_free (till);
}

static char *
issue_card (Till       *till,
            const char *name)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;

  ct_client_card_issue_async (till->client, name, "13900139000", NULL, NULL,
                              CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN,
                              NULL, async_done_cb, &result);
  card = ct_client_card_issue_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (card != NULL, "%s", error ? error->message : "");
  return g_strdup (card->card_no);
}

/* A top-up as the Top-up screen takes it: the client's answer goes to
 * the session, which shows the receipt. */
static void
take_topup (Till       *till,
            const char *card_no)
{
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (till->client);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = NULL;

  ct_client_topup_package_async (till->client, card_no, ct_merchant_find_package (merchant, "p100"),
                                 NULL, async_done_cb, &result);
  receipt = ct_client_topup_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");
  ct_session_apply_receipt (till->session, receipt);
}

static void
take_payment (Till       *till,
              const char *card_no)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = NULL;

  ct_client_pay_async (till->client, card_no, 2550, NULL, NULL, async_done_cb, &result);
  receipt = ct_client_pay_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");
  ct_session_apply_receipt (till->session, receipt);
}

typedef struct
{
  Till  *till;
  guint  printed;
} WaitPrinted;

static gboolean
printer_idle (gpointer data)
{
  Till *till = data;
  CtTillPrinter *printer = ct_session_get_printer (till->session);

  return !ct_till_printer_get_busy (printer);
}

/* The n-th job the printer got, decoded, once the window heard back. */
static CtDecoded *
job (Till *till,
     guint n)
{
  g_autoptr(GByteArray) got = ct_printer_listener_wait (till->printer, n);
  g_autoptr(GError) error = NULL;
  CtDecoded *d;

  ck_assert_msg (got != NULL, "the printer got no job %u", n);
  ck_assert (wait_until (printer_idle, till));
  d = ct_escpos_decode (got->data, got->len, &error);
  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  return d;
}

static const char *
problem_on_receipt (Till *till)
{
  return ct_receipt_page_get_printer_problem (CT_RECEIPT_PAGE (ct_window_get_page_widget (till->window, "receipt")));
}

/* The widget has been given its size on a shown window: a screen just
 * switched to may still be in its transition on a loaded machine. */
static gboolean
laid_out (gpointer data)
{
  GtkWidget *widget = data;

  return gtk_widget_get_mapped (widget) &&
         gtk_widget_get_width (widget) > 0 && gtk_widget_get_height (widget) > 0;
}

static void
save_widget_png (GtkWidget  *widget,
                 const char *name)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *file = g_strdup_printf ("app-%s.png", name);
  g_autofree char *dir = g_build_filename (builddir ? builddir : ".", "screenshots", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (dir, 0755);
  ck_assert_msg (wait_until (laid_out, widget), "%s is not on the screen for %s",
                 G_OBJECT_TYPE_NAME (widget), name);
  ct_screenshot_settle (350);
  ck_assert_msg (ct_screenshot_save_png (widget, path, &error),
                 "%s", error ? error->message : "");
}

static void
save_png (Till       *till,
          const char *name)
{
  save_widget_png (GTK_WIDGET (till->window), name);
}

START_TEST (test_app_prints_each_receipt_and_opens_the_drawer_for_cash)
{
  Till *till = till_new ();
  g_autofree char *card_no = issue_card (till, "张三");
  g_autoptr(CtDecoded) topup = NULL;
  g_autoptr(CtDecoded) payment = NULL;

  take_topup (till, card_no);
  topup = job (till, 1);
  ck_assert (g_str_has_prefix (topup->ops->str, "status status init raster"));
  ck_assert (g_str_has_suffix (topup->ops->str, "raster cut drawer"));
  ck_assert_uint_eq (topup->raster->width, 576);
  ck_assert (ct_raster_write_png (topup->raster, "app-topup-80mm.png", NULL));
  ck_assert_ptr_null (problem_on_receipt (till));
  ck_assert_str_eq (ct_window_get_page (till->window), "receipt");

  take_payment (till, card_no);
  payment = job (till, 2);
  ck_assert (g_str_has_suffix (payment->ops->str, "raster cut"));
  ck_assert_uint_eq (payment->drawer_kicks, 0);
  ck_assert_uint_eq (ct_till_printer_get_printed (ct_session_get_printer (till->session)), 2);
  till_free (till);
}
END_TEST

static gboolean
receipt_shown (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), "receipt") == 0;
}

/* The Top-up screen offers how the customer pays; a top-up by WeChat Pay
 * says so on the receipt and leaves the cash drawer shut. */
START_TEST (test_app_topup_by_wechat_says_so_and_keeps_the_drawer_shut)
{
  Till *till = till_new ();
  g_autofree char *card_no = issue_card (till, "李雷");
  g_autoptr(CtDecoded) printed = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;
  g_autoptr(CtRaster) paid_by = NULL;
  g_autofree char *tender = NULL;
  GtkWidget *topup = ct_window_get_page_widget (till->window, "topup");

  ct_client_card_show_async (till->client, card_no, NULL, async_done_cb, &result);
  card = ct_client_card_show_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (card != NULL, "%s", error ? error->message : "");
  ct_session_set_card (till->session, card);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "topup"));
  ck_assert (gtk_widget_activate_action (topup, "topup.select-package", "s", "p100"));
  ck_assert (gtk_widget_activate_action (topup, "topup.tender", "s", "wechat"));
  g_object_get (topup, "tender", &tender, NULL);
  ck_assert_str_eq (tender, "wechat");
  save_png (till, "topup-tender");
  ck_assert (gtk_widget_activate_action (topup, "topup.confirm", NULL));
  ck_assert_msg (wait_until (receipt_shown, till), "no receipt: %s",
                 ct_topup_page_get_problem (CT_TOPUP_PAGE (topup)));

  printed = job (till, 1);
  ck_assert_uint_eq (printed->drawer_kicks, 0);
  ck_assert (ct_raster_write_png (printed->raster, "app-topup-wechat-80mm.png", NULL));
  paid_by = ct_render_text ("WeChat Pay", FALSE, NULL);
  ck_assert_msg (ct_raster_find (printed->raster, paid_by, NULL, NULL), "no “WeChat Pay” on the receipt");
  /* The next customer starts with cash. */
  g_clear_pointer (&tender, g_free);
  g_object_get (topup, "tender", &tender, NULL);
  ck_assert_str_eq (tender, "cash");
  till_free (till);
}
END_TEST

/* A paper-out, then Print Again: the customer's first paper, with no
 * copy mark. F9 then prints a copy, marked. A payment whose receipt ran
 * out of paper reprinted by F9 is its first paper too, and the next F9 a
 * copy. */
START_TEST (test_app_paper_out_is_a_sentence_and_print_again_prints_once)
{
  Till *till = till_new ();
  g_autofree char *card_no = issue_card (till, "李四");
  g_autoptr(CtRaster) mark = ct_render_text ("REPRINT", FALSE, NULL);
  GtkWidget *receipt;
  g_autoptr(CtDecoded) refused = NULL;
  g_autoptr(CtDecoded) again = NULL;
  g_autoptr(CtDecoded) f9 = NULL;
  g_autoptr(CtDecoded) paid_refused = NULL;
  g_autoptr(CtDecoded) paid_first = NULL;
  g_autoptr(CtDecoded) paid_copy = NULL;

  ct_printer_listener_answer (till->printer, 1, FALSE);
  take_topup (till, card_no);
  refused = job (till, 1);
  /* Nothing printed, the drawer stayed shut, and the receipt says why. */
  ck_assert_str_eq (refused->ops->str, "status status");
  ck_assert_str_eq (problem_on_receipt (till), "The printer is out of paper. Put in a new roll, then print again.");
  save_png (till, "receipt-printer-paper-out");

  /* Print Again: the whole receipt once, without the drawer; a second
   * press while it prints is not a second receipt. */
  receipt = ct_window_get_page_widget (till->window, "receipt");
  ck_assert (gtk_widget_activate_action (receipt, "receipt.print-again", NULL));
  ck_assert (gtk_widget_activate_action (receipt, "receipt.print-again", NULL));
  again = job (till, 2);
  ck_assert (g_str_has_prefix (again->ops->str, "status status init raster"));
  ck_assert (g_str_has_suffix (again->ops->str, "raster cut"));
  ck_assert_uint_eq (again->drawer_kicks, 0);
  ck_assert_msg (!ct_raster_find (again->raster, mark, NULL, NULL), "the first paper is marked as a copy");
  ck_assert_ptr_null (problem_on_receipt (till));
  ck_assert_uint_eq (ct_printer_listener_connections (till->printer), 2);

  /* F9 reprints the last receipt as a copy, never with the drawer. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.last-receipt", NULL));
  f9 = job (till, 3);
  ck_assert_uint_eq (f9->drawer_kicks, 0);
  ck_assert_uint_eq (f9->cuts, 1);
  ck_assert_msg (ct_raster_find (f9->raster, mark, NULL, NULL), "no “REPRINT” on F9's copy");
  ck_assert (ct_raster_write_png (f9->raster, "app-f9-copy-80mm.png", NULL));
  ck_assert_str_eq (ct_window_get_page (till->window), "receipt");

  /* The payment's own receipt runs out of paper: F9 prints its first
   * paper, unmarked, and then a copy. */
  ct_printer_listener_answer (till->printer, 1, FALSE);
  take_payment (till, card_no);
  paid_refused = job (till, 4);
  ck_assert_str_eq (paid_refused->ops->str, "status status");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.last-receipt", NULL));
  paid_first = job (till, 5);
  ck_assert_msg (!ct_raster_find (paid_first->raster, mark, NULL, NULL), "the payment's first paper is marked");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.last-receipt", NULL));
  paid_copy = job (till, 6);
  ck_assert_msg (ct_raster_find (paid_copy->raster, mark, NULL, NULL), "no “REPRINT” on the payment's copy");
  till_free (till);
}
END_TEST

static gboolean
history_loaded (gpointer data)
{
  CtMembersPage *page = data;

  return !ct_members_page_is_loading (page) && ct_members_page_get_n_history (page) > 0;
}

/* A receipt printed again from the card's history on the Members screen:
 * the printer gets the transaction's receipt with its amount, marked as a
 * copy, naming the store and till as the fresh one did, and never opens
 * the drawer. */
START_TEST (test_app_history_row_reprints_its_receipt_as_a_copy)
{
  Till *till = till_new ();
  g_autofree char *card_no = issue_card (till, "王五");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  g_autoptr(CtRaster) mark = ct_render_text ("REPRINT", FALSE, NULL);
  g_autoptr(CtRaster) amount = ct_render_text ("¥25.50", FALSE, NULL);
  g_autoptr(CtRaster) store = ct_render_text ("Test Shop", FALSE, NULL);
  g_autoptr(CtRaster) till_name = ct_render_text ("Counter 2", FALSE, NULL);
  g_autoptr(CtDecoded) topup = NULL;
  g_autoptr(CtDecoded) fresh = NULL;
  g_autoptr(CtDecoded) copy = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;
  const CtTransaction *tx;

  ck_assert_ptr_nonnull (mark);
  ck_assert_ptr_nonnull (amount);
  g_settings_set_string (till->settings, "till-name", "Counter 2");
  take_topup (till, card_no);
  topup = job (till, 1);
  take_payment (till, card_no);
  fresh = job (till, 2);
  /* The receipt of the payment as it was taken is no copy. */
  ck_assert (ct_raster_find (fresh->raster, amount, NULL, NULL));
  ck_assert (!ct_raster_find (fresh->raster, mark, NULL, NULL));
  ck_assert (ct_raster_find (fresh->raster, store, NULL, NULL));
  ck_assert (ct_raster_find (fresh->raster, till_name, NULL, NULL));

  ct_client_card_show_async (till->client, card_no, NULL, async_done_cb, &result);
  card = ct_client_card_show_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (card != NULL, "%s", error ? error->message : "");
  ct_window_show_page (till->window, "members");
  ct_members_page_show_card (members, card);
  ck_assert_msg (wait_until (history_loaded, members), "the card's history did not load");
  tx = ct_members_page_get_history_item (members, 0);
  ck_assert_int_eq (tx->kind, CT_TRANSACTION_PAYMENT);
  ck_assert_int_eq (tx->delta, -2550);
  save_png (till, "members-history-reprint");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.reprint", "s", tx->id));
  copy = job (till, 3);
  ck_assert (ct_raster_write_png (copy->raster, "app-payment-reprint-80mm.png", NULL));
  ck_assert (g_str_has_suffix (copy->ops->str, "raster cut"));
  ck_assert_uint_eq (copy->drawer_kicks, 0);
  ck_assert_msg (ct_raster_find (copy->raster, amount, NULL, NULL), "no “¥25.50” on the copy");
  ck_assert_msg (ct_raster_find (copy->raster, mark, NULL, NULL), "no “REPRINT” on the copy");
  ck_assert_msg (ct_raster_find (copy->raster, store, NULL, NULL), "no store name on the copy");
  ck_assert_msg (ct_raster_find (copy->raster, till_name, NULL, NULL), "no till name on the copy");
  ck_assert_uint_eq (ct_till_printer_get_printed (ct_session_get_printer (till->session)), 3);
  till_free (till);
}
END_TEST

static GtkWidget *
find_group (GtkWidget  *widget,
            const char *title)
{
  if (ADW_IS_PREFERENCES_GROUP (widget)
      && g_strcmp0 (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (widget)), title) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_group (child, title);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
test_page_printed (gpointer data)
{
  Till *till = data;

  return ct_till_printer_get_printed (ct_session_get_printer (till->session)) == 1;
}

START_TEST (test_app_settings_show_the_printer)
{
  Till *till = till_new ();
  CtSettingsPage *page = CT_SETTINGS_PAGE (ct_window_get_page_widget (till->window, "settings"));
  GtkWidget *group = find_group (GTK_WIDGET (page), "Receipt Printer");
  g_autofree char *address = ct_printer_listener_address (till->printer);
  g_autoptr(GByteArray) got = NULL;
  g_autoptr(CtDecoded) d = NULL;

  ck_assert_ptr_nonnull (group);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "settings"));

  /* A mistake in the address is shown as the sentence that says how. */
  g_settings_set_string (till->settings, "printer", "lpt1");
  ck_assert_str_eq (ct_settings_page_get_printer_state (page),
                    "“lpt1” is not a printer address. Use usb:VID:PID (like usb:0416:5011), "
                    "tcp:HOST:PORT (like tcp:192.168.1.87:9100) or file:PATH.");
  save_widget_png (group, "settings-printer-bad-address");

  /* The test page, at the width chosen. */
  g_settings_set_string (till->settings, "paper-width", "58");
  g_settings_set_string (till->settings, "printer", address);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "settings.print-test-page", NULL));
  ck_assert (wait_until (test_page_printed, till));
  got = ct_printer_listener_wait (till->printer, 1);
  ck_assert_ptr_nonnull (got);
  d = ct_escpos_decode (got->data, got->len, NULL);
  ck_assert_ptr_nonnull (d);
  ck_assert_uint_eq (d->raster->width, 384);
  ck_assert_str_eq (ct_settings_page_get_printer_state (page), "The last receipt or test page printed.");

  /* No printer: nothing is printed after a transaction. */
  g_settings_set_string (till->settings, "printer", "");
  ck_assert_str_eq (ct_settings_page_get_printer_state (page), "No receipt printer is set.");
  {
    g_autofree char *card_no = issue_card (till, "Wang");

    take_topup (till, card_no);
    ck_assert_str_eq (ct_window_get_page (till->window), "receipt");
    ct_screenshot_settle (200);
    ck_assert_uint_eq (ct_printer_listener_connections (till->printer), 1);
    ck_assert_uint_eq (ct_till_printer_get_printed (ct_session_get_printer (till->session)), 1);
  }
  till_free (till);
}
END_TEST

static Suite *
app_printer_suite (void)
{
  Suite *s = suite_create ("app-printer");
  TCase *tc = tcase_create ("receipt-printer");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_app_prints_each_receipt_and_opens_the_drawer_for_cash);
  tcase_add_test (tc, test_app_topup_by_wechat_says_so_and_keeps_the_drawer_shut);
  tcase_add_test (tc, test_app_paper_out_is_a_sentence_and_print_again_prints_once);
  tcase_add_test (tc, test_app_settings_show_the_printer);
  tcase_add_test (tc, test_app_history_row_reprints_its_receipt_as_a_copy);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner;
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  gtk_init ();
  adw_init ();

  runner = srunner_create (app_printer_suite ());
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_VERBOSE);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
