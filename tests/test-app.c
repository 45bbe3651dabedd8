/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app"

#include "config.h"

#include <check.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "ct-barcode.h"
#include "ct-card-view.h"
#include "ct-format.h"
#include "ct-phone.h"
#include "ct-hid-decode.h"
#include "ct-keypad.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pay-page.h"
#include "ct-pin-dialog.h"
#include "ct-receipt-page.h"
#include "ct-scan-page.h"
#include "ct-screenshot.h"
#include "ct-settings-page.h"
#include "ct-sync-page.h"
#include "ct-test-service.h"
#include "ct-topup-page.h"
#include "ct-window.h"
#include "ct-app-fixture.h"

#include <gdk/x11/gdkx.h>
#include <X11/extensions/XTest.h>

/* UI tests: the real window, driven through its actions and widgets,
 * against a real cardtill-service over HTTPS on 127.0.0.1. Each test
 * asserts what the screen shows and saves a PNG into the build dir. */

/* Navigation */

static gboolean
focus_editable (gpointer data)
{
  Till *till = data;

  return GTK_IS_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)));
}

START_TEST (test_app_window_navigates_every_screen)
{
  static const char *pages[] = { "scan", "topup", "pay", "members", "import", "sync", "settings" };
  Till *till = till_new ();

  ck_assert_str_eq (ct_window_get_page (till->window), "scan");

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", pages[i]));
      ct_screenshot_settle (150);
      ck_assert_str_eq (ct_window_get_page (till->window), pages[i]);
      save_png (till, NULL, pages[i]);
    }

  /* The header names the store and till and says the till is online. */
  ck_assert_msg (strstr (ct_window_get_header_text (till->window), "Test Shop") != NULL,
                 "header: %s", ct_window_get_header_text (till->window));
  ck_assert_msg (strstr (ct_window_get_header_text (till->window), "Till 1") != NULL,
                 "header: %s", ct_window_get_header_text (till->window));
  ck_assert_msg (g_str_has_prefix (ct_window_get_connection_text (till->window), "Online"),
                 "connection: %s", ct_window_get_connection_text (till->window));

  till_free (till);
}
END_TEST

/* Scanning */

/* Synthetic keys with chosen time stamps: each goes through the window's
 * capture, and a key it lets through is typed into the focused field, as
 * GTK would. */
static void
feed_burst (Till       *till,
            const char *text,
            guint32    *time,
            guint       gap_ms)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      guint keyval = gdk_unicode_to_keyval ((guchar) *p);
      GtkWidget *focus;

      *time += gap_ms;
      if (!ct_window_wedge_key (till->window, keyval, *time, TRUE, FALSE, 0) &&
          (focus = gtk_root_get_focus (GTK_ROOT (till->window))) != NULL &&
          GTK_IS_EDITABLE (focus))
        {
          char ch[2] = { *p, '\0' };
          int position = gtk_editable_get_position (GTK_EDITABLE (focus));

          gtk_editable_insert_text (GTK_EDITABLE (focus), ch, 1, &position);
          gtk_editable_set_position (GTK_EDITABLE (focus), position);
        }
      ct_window_wedge_key (till->window, keyval, *time + 1, FALSE, FALSE, 0);
    }
}

START_TEST (test_app_scan_by_wedge_burst_shows_member)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Wedge Member", phone, "p100");
  GtkEditable *search;
  guint32 time = 100000;
  gboolean taken;

  /* The focus is in the members search: a scanner burst must not land
   * there, and must show the member. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (focus_editable, till, 10000));
  search = GTK_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)));
  ck_assert (GTK_IS_EDITABLE (search));

  feed_burst (till, card_no, &time, 4);
  taken = ct_window_wedge_key (till->window, GDK_KEY_Return, time + 4, TRUE, FALSE, 0);
  ck_assert (taken);

  ck_assert_str_eq (gtk_editable_get_text (search), "");
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥110.00");
  save_png (till, NULL, "scan-wedge");

  /* Slow typing is a person: the characters reach the focused entry. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (focus_editable, till, 10000));
  time += 10000;
  feed_burst (till, "13", &time, 250);
  ct_screenshot_settle (100);
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)))), "13");

  till_free (till);
}
END_TEST

static gboolean
pay_refused (gpointer data)
{
  CtPayPage *pay = data;

  return !ct_pay_page_is_busy (pay) && ct_pay_page_get_problem (pay) != NULL;
}

START_TEST (test_app_scanned_member_code_names_the_card_and_is_kept_for_it)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Code Member", phone, "p100");
  g_autofree char *other_phone = unique_phone ();
  g_autofree char *other = issue_card (till, "Other Member", other_phone, "p100");
  g_autofree char *payload = g_strdup_printf ("CTP1:%s:20481632", card_no);
  guint32 time = 200000;

  /* Through the keyboard wedge, as a scanner that types would send it. */
  ct_window_show_page (till->window, "members");
  ct_screenshot_settle (100);
  feed_burst (till, payload, &time, 4);
  ck_assert (ct_window_wedge_key (till->window, GDK_KEY_Return, time + 4, TRUE, FALSE, 0));
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  ck_assert_str_eq (ct_session_get_member_code (till->session), "20481632");
  ck_assert_ptr_null (ct_session_get_problem (till->session));

  /* The code goes with the next payment: this one is not the card's code,
   * so the service refuses it for want of the member's consent (a payment
   * without a code would have gone through), and the code is used up. */
  {
    CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

    ct_window_show_page (till->window, "pay");
    gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "1.00");
    g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
    ck_assert (wait_until (pay_refused, pay, 15000));
    ck_assert_msg (strstr (ct_pay_page_get_problem (pay), "member's consent") != NULL,
                   "%s", ct_pay_page_get_problem (pay));
    ck_assert_ptr_null (ct_session_get_member_code (till->session));
    save_png (till, NULL, "pay-consent-refused");
  }

  /* The code belongs to that card: another card on the counter drops it. */
  ct_window_handle_scan (till->window, other);
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_ptr_null (ct_session_get_member_code (till->session));

  /* A damaged code is a sentence, not a card. */
  ck_assert (!ct_session_scan (till->session, "CTP1:12", CT_SCAN_SOURCE_SCANNER));
  ck_assert_ptr_nonnull (ct_session_get_problem (till->session));

  till_free (till);
}
END_TEST

static guint8
usage_for (char c)
{
  if (c >= '1' && c <= '9')
    return 0x1e + (c - '1');
  if (c == '0')
    return 0x27;
  if (c >= 'A' && c <= 'Z')
    return 0x04 + (c - 'A');
  return 0;
}

START_TEST (test_app_scan_by_replayed_hid_reports)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "HID Member", phone, "p200");
  g_autoptr(CtHidDecoder) decoder = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  g_autoptr(CtScan) scan = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 release[8] = { 0 };

  /* A boot-keyboard scanner: one report with the key down, one with all
   * keys up, per character, then Enter. */
  for (const char *p = card_no; *p != '\0' && scan == NULL; p++)
    {
      guint8 down[8] = { 0, 0, usage_for (*p), 0, 0, 0, 0, 0 };

      ck_assert (ct_hid_decoder_feed (decoder, down, 8, &scan, &error));
      ck_assert (ct_hid_decoder_feed (decoder, release, 8, &scan, &error));
    }
  {
    guint8 enter[8] = { 0, 0, 0x28, 0, 0, 0, 0, 0 };

    ck_assert (ct_hid_decoder_feed (decoder, enter, 8, &scan, &error));
  }
  ck_assert_msg (scan != NULL, "the reports did not make a scan");
  ck_assert_str_eq (scan->text, card_no);

  /* The reader hands scans to the main loop; the window takes them. */
  ct_window_show_page (till->window, "settings");
  ct_window_handle_scan (till->window, scan->text);
  ck_assert (wait_until (card_fresh, till, 15000));
  /* On Settings the scan stays there as the test-scan field's result. */
  ck_assert_str_eq (ct_window_get_page (till->window), "settings");
  ck_assert_msg (strstr (ct_settings_page_get_last_scan (CT_SETTINGS_PAGE (ct_window_get_page_widget (till->window, "settings"))),
                         card_no) != NULL, "last scan not shown");
  save_png (till, NULL, "settings-test-scan");

  ct_window_show_page (till->window, "scan");
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥230.00");
  save_png (till, NULL, "scan-hid");

  till_free (till);
}
END_TEST

START_TEST (test_app_cached_card_shows_at_once_marked_refreshing)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Cached Member", phone, "p100");
  CtCardView *view = scan_card_view (till);

  scan_and_wait (till, card_no);
  ct_session_clear_card (till->session);

  /* Second scan: the cached card is on screen before any answer. */
  ct_window_handle_scan (till->window, card_no);
  ck_assert_str_eq (ct_card_view_get_balance_text (view), "¥110.00");
  ck_assert_msg (strstr (ct_card_view_get_freshness_text (view), "Refreshing") != NULL,
                 "freshness: %s", ct_card_view_get_freshness_text (view));
  save_png (till, NULL, "scan-cached-refreshing");

  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_str_eq (ct_card_view_get_freshness_text (view), "Up to date.");

  till_free (till);
}
END_TEST

START_TEST (test_app_typed_card_number_with_bad_check_digit_is_refused)
{
  Till *till = till_new ();
  GtkEntry *entry = ct_scan_page_get_entry (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
  const char *problem;

  gtk_editable_set_text (GTK_EDITABLE (entry), "8888 0000 0000 0001");
  g_signal_emit_by_name (entry, "activate");
  problem = ct_scan_page_get_problem (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
  ck_assert_msg (problem != NULL && strstr (problem, "check digit") != NULL, "problem: %s", problem);
  ck_assert (!ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))));
  save_png (till, NULL, "scan-typo");

  /* A well-formed number the service does not know. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "old-4711");
  g_signal_emit_by_name (entry, "activate");
  ck_assert (wait_until (scan_problem_shown, ct_window_get_page_widget (till->window, "scan"), 15000));
  problem = ct_scan_page_get_problem (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
  ck_assert_msg (strstr (problem, "This card is not known") != NULL, "problem: %s", problem);
  ck_assert (!ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))));
  ck_assert (ct_session_get_card (till->session) == NULL);

  till_free (till);
}
END_TEST

/* Top up */

START_TEST (test_app_topup_package_shows_bonus_and_receipt)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Topup Member", phone, NULL);
  CtTopupPage *topup = CT_TOPUP_PAGE (ct_window_get_page_widget (till->window, "topup"));
  g_autofree char *text = NULL;
  g_autofree char *pdf = NULL;
  g_autofree char *pdf_bytes = NULL;
  gsize pdf_len = 0;

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "topup"));
  ck_assert_uint_eq (ct_topup_page_get_n_packages (topup), 2);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (topup), "topup.select-package", "s", "p100"));
  ck_assert_str_eq (ct_topup_page_get_summary (topup), "Top up ¥100.00 + ¥10.00 bonus");
  ck_assert_str_eq (ct_topup_page_get_after (topup), "Balance after: ¥110.00");
  save_png (till, NULL, "topup-confirm");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (topup), "topup.confirm", NULL));
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no receipt: %s", ct_topup_page_get_problem (topup));

  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Top-Up Receipt") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Paid in: ¥100.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Bonus: ¥10.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance before: ¥0.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥110.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Operator: alice") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "pending sync") == NULL, "%s", text);
  save_png (till, NULL, "topup-receipt");

  /* The receipt prints (here: to a PDF). */
  pdf = g_build_filename (till->data_dir, "receipt.pdf", NULL);
  ck_assert (ct_receipt_export_pdf (ct_session_get_last_receipt (till->session),
                                    GTK_WINDOW (till->window), pdf, NULL));
  ck_assert (g_file_get_contents (pdf, &pdf_bytes, &pdf_len, NULL));
  ck_assert (pdf_len > 4 && memcmp (pdf_bytes, "%PDF", 4) == 0);

  /* Enter (Done) goes back to the scan screen, empty for the next
   * customer; the card's new balance was on the receipt. */
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "receipt"), "receipt.done", NULL));
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert_ptr_null (ct_session_get_card (till->session));
  ck_assert (!ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))));

  till_free (till);
}
END_TEST


START_TEST (test_app_topup_any_amount_enforces_limits)
{
  g_autoptr(GError) error = NULL;
  CtTestService *own = ct_test_service_start (TRUE, &error);
  Till *till;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  CtTopupPage *topup;
  GtkEditable *amount;

  ck_assert_msg (own != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (ct_test_service_admin (own, NULL, "merchant", "set", "--topup-mode", "any",
                                           "--topup-min", "10.00", "--topup-max", "1000.00", NULL), 0);
  ck_assert (ct_test_service_restart (own, NULL));
  till = till_new_for (own, 3000);
  card_no = issue_card (till, "Any Member", phone, NULL);
  topup = CT_TOPUP_PAGE (ct_window_get_page_widget (till->window, "topup"));
  amount = GTK_EDITABLE (ct_topup_page_get_amount_entry (topup));

  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "topup");
  ck_assert_uint_eq (ct_topup_page_get_n_packages (topup), 0);

  gtk_editable_set_text (amount, "5.00");
  ck_assert_str_eq (ct_topup_page_get_summary (topup), "Top-ups must be between ¥10.00 and ¥1,000.00.");
  gtk_editable_set_text (amount, "12.345");
  ck_assert_str_eq (ct_topup_page_get_summary (topup), "Too many digits after the decimal point.");
  gtk_editable_set_text (amount, "50");
  ck_assert_str_eq (ct_topup_page_get_summary (topup), "Top up ¥50.00");
  ck_assert_str_eq (ct_topup_page_get_after (topup), "Balance after: ¥50.00");
  save_png (till, NULL, "topup-any-amount");

  g_signal_emit_by_name (ct_topup_page_get_amount_entry (topup), "activate");
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no receipt: %s", ct_topup_page_get_problem (topup));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Paid in: ¥50.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Bonus: ¥0.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥50.00") != NULL, "%s", text);

  till_free (till);
  ct_test_service_free (own);
}
END_TEST

/* Pay */

START_TEST (test_app_pay_shows_balance_after_points_and_receipt)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Pay Member", phone, "p100");
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  g_autofree char *text = NULL;

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));

  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "25.50");
  ck_assert_str_eq (ct_pay_page_get_summary (pay), "Pay ¥25.50");
  ck_assert_str_eq (ct_pay_page_get_after (pay), "Balance after: ¥84.50");
  ck_assert_str_eq (ct_pay_page_get_points (pay), "Earns 25 points");
  save_png (till, NULL, "pay-confirm");

  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no receipt: %s", ct_pay_page_get_problem (pay));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Payment Receipt") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Paid from card: ¥25.50") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥84.50") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Points: +25 (25)") != NULL, "%s", text);
  save_png (till, NULL, "pay-receipt");

  till_free (till);
}
END_TEST

START_TEST (test_app_pay_insufficient_balance_shows_shortfall)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Short Member", phone, "p100");
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "150.00");
  ck_assert_str_eq (ct_pay_page_get_after (pay), "Insufficient balance: ¥40.00 short");
  ck_assert (!gtk_widget_activate_action (GTK_WIDGET (pay), "pay.confirm", NULL) ||
             !ct_pay_page_is_busy (pay));
  ct_screenshot_settle (100);
  ck_assert_str_eq (ct_window_get_page (till->window), "pay");
  save_png (till, NULL, "pay-insufficient");

  till_free (till);
}
END_TEST

static gboolean
card_frozen (gpointer data)
{
  Till *till = data;
  const CtCard *card = ct_session_get_card (till->session);

  return card != NULL && card->status == CT_CARD_STATUS_FROZEN;
}

START_TEST (test_app_pay_frozen_card_refused)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Frozen Member", phone, "p100");
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));

  /* A manager freezes the card from its member page. */
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert_str_eq (ct_window_get_page (till->window), "members");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.freeze", NULL));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (card_frozen, till, 15000), "the card was not frozen");

  ct_window_show_page (till->window, "scan");
  ck_assert_str_eq (ct_card_view_get_status_text (scan_card_view (till)), "Frozen");
  save_png (till, NULL, "scan-frozen");

  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "5.00");
  ck_assert_msg (ct_pay_page_get_problem (pay) != NULL &&
                 strstr (ct_pay_page_get_problem (pay), "frozen") != NULL,
                 "problem: %s", ct_pay_page_get_problem (pay));
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ct_screenshot_settle (200);
  ck_assert (!ct_pay_page_is_busy (pay));
  ck_assert_str_eq (ct_window_get_page (till->window), "pay");
  save_png (till, NULL, "pay-frozen");

  till_free (till);
}
END_TEST

/* Manager actions */

START_TEST (test_app_adjust_wrong_then_right_pin)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Adjust Member", phone, "p200");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  AdwMessageDialog *form;
  g_autofree char *text = NULL;

  /* Spending fills the store's pool, which funds increases. */
  pay_directly (till, card_no, 5000);

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.adjust", NULL));
  form = ct_find_dialog ("ct-adjust-dialog");
  ck_assert (form != NULL);
  fill_named (GTK_WIDGET (form), "delta", "+12.00");
  fill_named (GTK_WIDGET (form), "reason", "Goodwill");
  save_png (till, GTK_WIDGET (form), "adjust-form");
  ck_assert (ct_dialog_choose (form, "continue"));

  answer_pin (CT_TEST_SERVICE_MANAGER_ID, "0000");
  ck_assert_msg (wait_until (pin_dialog_with_problem, NULL, 15000), "no second PIN prompt");
  ck_assert_str_eq (ct_pin_dialog_get_problem (ct_pin_dialog_find ()), "Wrong manager or PIN. Try again.");
  save_png (till, GTK_WIDGET (ct_pin_dialog_find ()), "adjust-wrong-pin");

  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no receipt after the right PIN");
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Balance Adjustment") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Change: +¥12.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥192.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Reason: Goodwill") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Authorised by: m1") != NULL, "%s", text);
  save_png (till, NULL, "adjust-receipt");

  till_free (till);
}
END_TEST


START_TEST (test_app_adjust_with_empty_pool_shows_pool_balance)
{
  g_autoptr(GError) error = NULL;
  CtTestService *own = ct_test_service_start (TRUE, &error);
  Till *till;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  CtMembersPage *members;
  AdwMessageDialog *form;
  AdwMessageDialog *problem;

  /* A new merchant's card account is empty: no member has paid yet. */
  ck_assert_msg (own != NULL, "%s", error ? error->message : "");
  till = till_new_for (own, 3000);
  card_no = issue_card (till, "Pool Member", phone, "p100");
  members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.adjust", NULL));
  form = ct_find_dialog ("ct-adjust-dialog");
  ck_assert (form != NULL);

  /* The reason is required. */
  fill_named (GTK_WIDGET (form), "delta", "+5.00");
  ck_assert (!ct_dialog_choose (form, "continue"));
  fill_named (GTK_WIDGET (form), "reason", "Goodwill");
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);

  ck_assert_msg (wait_until (problem_dialog_up, NULL, 15000), "no explanation shown");
  problem = ct_find_dialog ("ct-problem-dialog");
  ck_assert_str_eq (adw_message_dialog_get_heading (problem), "The Balance Was Not Changed");
  ck_assert_msg (strstr (adw_message_dialog_get_body (problem), "it holds ¥0.00") != NULL,
                 "%s", adw_message_dialog_get_body (problem));
  save_png (till, GTK_WIDGET (problem), "adjust-pool-too-low");
  ck_assert (ct_dialog_choose (problem, "close"));
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥110.00");

  till_free (till);
  ct_test_service_free (own);
}
END_TEST

/* Members */

START_TEST (test_app_search_by_phone_finds_member)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Phone Member", phone, "p100");
  g_autofree char *dashed = NULL;
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "members"));
  ct_members_page_search (members, phone);
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_eq (ct_members_page_get_n_results (members), 1);
  ck_assert_str_eq (ct_members_page_get_status (members), "1 member found.");
  ck_assert (ct_members_page_get_card (members) != NULL);
  ck_assert_str_eq (ct_members_page_get_card (members)->card_no, card_no);
  save_png (till, NULL, "members-search");

  /* The same number typed with the country code and dashes. */
  dashed = g_strdup_printf ("+86 %.3s-%.4s-%s", phone, phone + 3, phone + 7);
  ct_members_page_search (members, dashed);
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_eq (ct_members_page_get_n_results (members), 1);
  ck_assert_str_eq (ct_members_page_get_card (members)->card_no, card_no);

  /* Its last four digits find it among others, by a masked phone. */
  ct_members_page_search (members, phone + 7);
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_ge (ct_members_page_get_n_results (members), 1);

  /* Part of the name finds the member too. */
  ct_members_page_search (members, "phone memb");
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_ge (ct_members_page_get_n_results (members), 1);

  /* Nobody has this phone. */
  ct_members_page_search (members, "10000000000");
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_eq (ct_members_page_get_n_results (members), 0);
  ck_assert_str_eq (ct_members_page_get_status (members), "No member found.");

  till_free (till);
}
END_TEST

START_TEST (test_app_history_pages_by_day)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "History Member", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  g_autofree char *today_text = NULL;
  g_autofree char *yesterday_text = NULL;
  const CtTransaction *newest;

  pay_directly (till, card_no, 1000);
  pay_directly (till, card_no, 250);

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, members, 15000));

  /* Today: the top-up and two payments, newest first. */
  today_text = ct_members_page_get_date_text (members);
  ck_assert_msg (g_str_has_prefix (today_text, "Today"), "%s", today_text);
  ck_assert_uint_eq (ct_members_page_get_n_history (members), 3);
  newest = ct_members_page_get_history_item (members, 0);
  ck_assert_int_eq (newest->kind, CT_TRANSACTION_PAYMENT);
  ck_assert_int_eq (newest->delta, -250);
  ck_assert_int_eq (newest->balance_after, 11000 - 1000 - 250);
  ck_assert_str_eq (newest->operator_name, "alice");
  save_png (till, NULL, "members-history-today");

  /* There is no tomorrow. */
  ck_assert (!gtk_widget_activate_action (GTK_WIDGET (members), "members.next-day", NULL) ||
             g_str_has_prefix (ct_members_page_get_date_text (members), "Today"));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.previous-day", NULL));
  ck_assert (wait_until (members_idle, members, 15000));
  yesterday_text = ct_members_page_get_date_text (members);
  ck_assert_msg (!g_str_has_prefix (yesterday_text, "Today"), "%s", yesterday_text);
  /* A past day shows its date and weekday: "2026-11-22 Sun". */
  ck_assert_msg (g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2} (Mon|Tue|Wed|Thu|Fri|Sat|Sun)$",
                                       yesterday_text, 0, 0), "%s", yesterday_text);
  ck_assert_uint_eq (ct_members_page_get_n_history (members), 0);
  save_png (till, NULL, "members-history-yesterday");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.next-day", NULL));
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_eq (ct_members_page_get_n_history (members), 3);

  till_free (till);
}
END_TEST

static gboolean
new_card_dialog_up (gpointer data)
{
  return ct_find_dialog ("ct-new-card-dialog") != NULL;
}

START_TEST (test_app_issue_card_shows_qr_and_barcode)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  AdwMessageDialog *form;
  AdwMessageDialog *done;
  const CtCard *card;

  ct_window_show_page (till->window, "members");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.issue", NULL));
  form = ct_find_dialog ("ct-issue-dialog");
  ck_assert (form != NULL);
  fill_named (GTK_WIDGET (form), "name", "New Member");
  fill_named (GTK_WIDGET (form), "phone", phone);
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);

  ck_assert_msg (wait_until (new_card_dialog_up, NULL, 15000), "no new-card dialog");
  done = ct_find_dialog ("ct-new-card-dialog");
  card = ct_session_get_card (till->session);
  ck_assert (card != NULL);
  ck_assert_uint_eq (strlen (card->card_no), 16);
  ck_assert_str_eq (card->member_name, "New Member");
  ck_assert_msg (strstr (adw_message_dialog_get_body (done), "New Member") != NULL, "%s",
                 adw_message_dialog_get_body (done));
  save_png (till, GTK_WIDGET (done), "issue-card");
  ck_assert (ct_dialog_choose (done, "close"));

  till_free (till);
}
END_TEST

/* Offline */

static gboolean
offline_shown (gpointer data)
{
  Till *till = data;

  return g_str_has_prefix (ct_window_get_connection_text (till->window), "Offline");
}

static gboolean
pay_idle (gpointer data)
{
  return !ct_pay_page_is_busy (CT_PAY_PAGE (data));
}

static gboolean
sync_loaded (gpointer data)
{
  return !ct_sync_page_is_loading (CT_SYNC_PAGE (data));
}

START_TEST (test_app_offline_topup_is_queued_pending_sync)
{
  g_autoptr(GError) error = NULL;
  CtTestService *own = ct_test_service_start (TRUE, &error);
  Till *till;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  CtTopupPage *topup;
  CtSyncPage *sync;

  ck_assert_msg (own != NULL, "%s", error ? error->message : "");
  till = till_new_for (own, 1500);
  card_no = issue_card (till, "Offline Member", phone, "p100");
  topup = CT_TOPUP_PAGE (ct_window_get_page_widget (till->window, "topup"));
  sync = CT_SYNC_PAGE (ct_window_get_page_widget (till->window, "sync"));

  scan_and_wait (till, card_no);
  ct_test_service_stop (own);

  ct_window_show_page (till->window, "topup");
  ck_assert (ct_topup_page_select_package (topup, "p100"));
  {
    gint64 start = g_get_monotonic_time ();

    ck_assert (gtk_widget_activate_action (GTK_WIDGET (topup), "topup.confirm", NULL));
    ck_assert_msg (wait_until (on_receipt, till, 30000), "no receipt: %s", ct_topup_page_get_problem (topup));
    g_message ("offline top-up receipt after %.1f s", (g_get_monotonic_time () - start) / 1e6);
  }

  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Pending sync") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Transaction: pending sync") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥220.00") != NULL, "%s", text);
  save_png (till, NULL, "offline-topup-receipt");

  ck_assert_msg (wait_until (offline_shown, till, 15000), "header: %s",
                 ct_window_get_connection_text (till->window));
  ck_assert_msg (strstr (ct_window_get_connection_text (till->window), "1 pending") != NULL,
                 "header: %s", ct_window_get_connection_text (till->window));

  /* A balance payment offline is refused: this store allows none. */
  {
    CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

    ct_window_show_page (till->window, "pay");
    gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "5.00");
    g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
    ck_assert (wait_until (pay_idle, pay, 30000));
    ck_assert_msg (ct_pay_page_get_problem (pay) != NULL &&
                   strstr (ct_pay_page_get_problem (pay), "cannot be reached") != NULL,
                   "problem: %s", ct_pay_page_get_problem (pay));
    ck_assert_str_eq (ct_window_get_page (till->window), "pay");
    save_png (till, NULL, "offline-pay-refused");

    /* Settings shows why: the store's offline limits, read-only. */
    ck_assert_str_eq (ct_settings_page_get_payment_cap (CT_SETTINGS_PAGE (ct_window_get_page_widget (till->window, "settings"))),
                      "No balance payments while offline");
  }

  ct_window_show_page (till->window, "sync");
  ct_screenshot_settle (50);
  ck_assert (wait_until (sync_loaded, sync, 60000));
  ck_assert_uint_eq (ct_sync_page_get_n_pending (sync), 1);
  ck_assert_uint_eq (ct_sync_page_get_n_attention (sync), 0);
  save_png (till, NULL, "offline-sync");

  till_free (till);
  ct_test_service_free (own);
}
END_TEST


START_TEST (test_app_refund_payment_from_history)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Refund Member", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  const CtTransaction *payment;
  g_autofree char *text = NULL;

  pay_directly (till, card_no, 1000);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, members, 15000));
  payment = ct_members_page_get_history_item (members, 0);
  ck_assert (payment != NULL && payment->kind == CT_TRANSACTION_PAYMENT);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", payment->id));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no refund receipt");
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Refund Receipt") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Refunded: ¥10.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥110.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Points: -10 (0)") != NULL, "%s", text);
  save_png (till, NULL, "refund-receipt");

  /* The history shows the refund, and the payment cannot be refunded twice. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_eq (ct_members_page_get_n_history (members), 3);
  ck_assert_int_eq (ct_members_page_get_history_item (members, 0)->kind, CT_TRANSACTION_REFUND);
  save_png (till, NULL, "members-history-refund");

  till_free (till);
}
END_TEST

static gboolean
attention_arrived (gpointer data)
{
  Till *till = data;

  return ct_client_get_attention_count (till->client) == 2;
}

static Till *attention_till;

static gboolean
attention_down_to (gpointer data)
{
  return ct_client_get_attention_count (attention_till->client) == GPOINTER_TO_UINT (data);
}

START_TEST (test_app_refused_queued_topup_needs_attention)
{
  g_autoptr(GError) error = NULL;
  CtTestService *own = ct_test_service_start (TRUE, &error);
  Till *till;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  CtTopupPage *topup;
  CtSyncPage *sync;
  AdwMessageDialog *dialog;

  ck_assert_msg (own != NULL, "%s", error ? error->message : "");
  till = till_new_for (own, 1500);
  card_no = issue_card (till, "Attention Member", phone, "p100");
  topup = CT_TOPUP_PAGE (ct_window_get_page_widget (till->window, "topup"));
  sync = CT_SYNC_PAGE (ct_window_get_page_widget (till->window, "sync"));
  scan_and_wait (till, card_no);
  attention_till = till;

  /* Offline, the cashier takes a top-up of the ¥100 + ¥10 package... */
  ct_test_service_stop (own);
  ct_window_show_page (till->window, "topup");
  for (int i = 0; i < 2; i++)
    {
      ct_window_show_page (till->window, "topup");
      ck_assert (ct_topup_page_select_package (topup, "p100"));
      ck_assert (gtk_widget_activate_action (GTK_WIDGET (topup), "topup.confirm", NULL));
      ck_assert_msg (wait_until (on_receipt, till, 30000), "no receipt");
    }

  /* ...twice, while the store changes that package's bonus. */
  ck_assert_int_eq (ct_test_service_admin (own, NULL, "package", "remove", "--id", "p100", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (own, NULL, "package", "add", "--id", "p100",
                                           "--amount", "100.00", "--bonus", "20.00", NULL), 0);
  ck_assert (ct_test_service_restart (own, NULL));

  /* The service refuses the queued top-up: it needs a manager. */
  ct_window_show_page (till->window, "sync");
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "sync"), "sync.now", NULL));
  ck_assert_msg (wait_until (attention_arrived, till, 60000), "no needs-attention entry");
  ck_assert (wait_until (sync_loaded, sync, 60000));
  ct_sync_page_reload (sync);
  ck_assert (wait_until (sync_loaded, sync, 60000));
  ck_assert_uint_eq (ct_sync_page_get_n_attention (sync), 2);
  ck_assert_msg (strstr (ct_window_get_connection_text (till->window), "2 need attention") != NULL,
                 "header: %s", ct_window_get_connection_text (till->window));
  save_png (till, NULL, "sync-needs-attention");

  /* Sending it again as it was is refused again, and said in words. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (sync), "sync.resend", "x",
                                         (gint64) ct_sync_page_get_attention_entry (sync, 0)->id));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (problem_dialog_up, NULL, 15000), "no explanation after sending again");
  {
    AdwMessageDialog *problem = ct_find_dialog ("ct-problem-dialog");

    ck_assert_msg (strstr (adw_message_dialog_get_body (problem), "package was changed") != NULL,
                   "%s", adw_message_dialog_get_body (problem));
    ck_assert (ct_dialog_choose (problem, "close"));
  }
  /* The refusal was told, and nothing the till took leaves the view: the
   * request refused again is back in needs attention beside the other. */
  ct_sync_page_reload (sync);
  ck_assert (wait_until (sync_loaded, sync, 60000));
  ck_assert_uint_eq (ct_sync_page_get_n_attention (sync), 2);

  /* The manager gives the cash back and records it, for each. */
  for (int i = 0; i < 2; i++)
    {
      ck_assert (gtk_widget_activate_action (GTK_WIDGET (sync), "sync.record-outcome", "x",
                                             (gint64) ct_sync_page_get_attention_entry (sync, 0)->id));
      dialog = ct_find_dialog ("ct-outcome-dialog");
      ck_assert (dialog != NULL);
      ck_assert (!ct_dialog_choose (dialog, "record"));
      fill_named (GTK_WIDGET (dialog), "manager", "m1");
      fill_named (GTK_WIDGET (dialog), "outcome", "Cash returned to the customer");
      /* No PIN, no record: the outcome goes to the service under it. */
      ck_assert (!ct_dialog_choose (dialog, "record"));
      if (i == 0)
        {
          /* A wrong PIN is refused by the service and changes nothing. */
          fill_named (GTK_WIDGET (dialog), "pin", "000000");
          ck_assert (ct_dialog_choose (dialog, "record"));
          ck_assert_msg (wait_until (problem_dialog_up, NULL, 30000), "no explanation of the wrong PIN");
          ck_assert (ct_dialog_choose (ct_find_dialog ("ct-problem-dialog"), "close"));
          ct_sync_page_reload (sync);
          ck_assert (wait_until (sync_loaded, sync, 60000));
          ck_assert_uint_eq (ct_sync_page_get_n_attention (sync), 2);
          ck_assert (gtk_widget_activate_action (GTK_WIDGET (sync), "sync.record-outcome", "x",
                                                 (gint64) ct_sync_page_get_attention_entry (sync, 0)->id));
          dialog = ct_find_dialog ("ct-outcome-dialog");
          ck_assert (dialog != NULL);
          fill_named (GTK_WIDGET (dialog), "manager", "m1");
          fill_named (GTK_WIDGET (dialog), "outcome", "Cash returned to the customer");
          save_png (till, GTK_WIDGET (dialog), "sync-record-outcome");
        }
      fill_named (GTK_WIDGET (dialog), "pin", CT_TEST_SERVICE_MANAGER_PIN);
      ck_assert (ct_dialog_choose (dialog, "record"));
      ck_assert_msg (wait_until (attention_down_to, GUINT_TO_POINTER (1 - i), 15000), "still needs attention");
      ct_sync_page_reload (sync);
      ck_assert (wait_until (sync_loaded, sync, 60000));
    }
  ck_assert_uint_eq (ct_client_get_attention_count (till->client), 0);

  till_free (till);
  ct_test_service_free (own);
}
END_TEST

/* Real key events through the X server (XTest), so the time stamps are
 * the server's: a burst as fast as a scanner types is a scan, a person's
 * typing reaches the entry. Tolerant: a loaded machine may stretch the
 * gaps of the burst, so the burst is sent in one go. */


static GtkEditable *typed_field;
static const char *typed_want;

static gboolean
field_holds (gpointer data)
{
  return g_strcmp0 (gtk_editable_get_text (typed_field), typed_want) == 0;
}

static gboolean
pay_summary_ready (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_pay_page_get_summary (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"))),
                    "Pay ¥7.50") == 0;
}

static const char *screen_wanted;

static gboolean
screen_shown (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), screen_wanted) == 0 &&
         gtk_widget_get_mapped (ct_window_get_page_widget (till->window, screen_wanted));
}

/* The screen is shown, and the focus it gives (in an idle) is given. */
static void
wait_screen (Till       *till,
             const char *name)
{
  screen_wanted = name;
  ck_assert_msg (wait_until (screen_shown, till, 10000), "%s is not shown", name);
  for (guint i = 0; i < 1000 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

START_TEST (test_app_real_typing_burst_is_a_scan_slow_typing_is_text)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Typing Member", phone, "p100");
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (till->window));
  GtkWidget *focus;

  if (!GDK_IS_X11_DISPLAY (display))
    {
      g_message ("Not on X11: no real typing test");
      till_free (till);
      return;
    }

  keys_focus (GTK_WINDOW (till->window));
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (focus_editable, till, 10000));
  focus = gtk_root_get_focus (GTK_ROOT (till->window));

  /* A person types "12" with pauses: it lands in the search entry. */
  keys_type ("12", 150);
  typed_field = GTK_EDITABLE (focus);
  typed_want = "12";
  ck_assert_msg (wait_until (field_holds, NULL, 10000), "the field holds \"%s\"",
                 gtk_editable_get_text (GTK_EDITABLE (focus)));
  gtk_editable_set_text (GTK_EDITABLE (focus), "");

  /* A scanner's burst, ended by Enter: the card comes up, the entry
   * stays empty. A loaded machine may stretch the burst's gaps: the test
   * allows the slowest scanner the settings allow. */
  g_settings_set_uint (till->settings, "wedge-threshold-ms", 200);
  keys_press (XK_End);  /* a key that types nothing: "12" is over */
  keys_type (card_no, 0);
  keys_press (XK_Return);
  ck_assert_msg (wait_until (card_fresh, till, 15000), "the burst was not taken as a scan");
  g_settings_set_uint (till->settings, "wedge-threshold-ms", 30);
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (focus)), "");
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  save_png (till, NULL, "scan-real-typing");

  /* The cashier's keys: F3 top up, Escape back, F4 pay, type, Enter
   * confirms, Escape leaves the receipt. Each waits for its screen. */
  keys_press (XK_F3);
  wait_screen (till, "topup");
  keys_press (XK_Escape);
  wait_screen (till, "scan");
  keys_press (XK_F4);
  wait_screen (till, "pay");
  ck_assert (wait_until (focus_editable, till, 10000));
  /* Three keys: never a scan's four, however the machine bunches them. */
  keys_type ("7.5", 120);
  ck_assert_msg (wait_until (pay_summary_ready, till, 10000), "summary: %s",
                 ct_pay_page_get_summary (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"))));
  keys_press (XK_Return);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "Enter did not confirm the payment");
  {
    g_autofree char *text = receipt_text (till);

    ck_assert_msg (strstr (text, "Balance after: ¥102.50") != NULL, "%s", text);
  }
  wait_screen (till, "receipt");
  keys_press (XK_Escape);
  ck_assert (wait_until (scan_page_shown, till, 10000));
  ck_assert_ptr_null (ct_session_get_card (till->session));

  till_free (till);
}
END_TEST


static gboolean
card_shown_any (gpointer data)
{
  Till *till = data;

  return ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))) &&
         card_fresh (data);
}

START_TEST (test_app_card_read_from_photo)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Photo Member", phone, "p200");
  g_autofree char *png = g_build_filename (till->data_dir, "card.png", NULL);
  g_autoptr(GError) error = NULL;

  /* A QR code holding the card's https address, as printed on cards. */
  {
    g_autofree char *url = g_strdup_printf ("https://cards.example.com/c/%s?src=print", card_no);

    ck_assert_msg (ct_barcode_encode_png (url, zxing_BarcodeFormat_QRCode, 300, 300, png, &error),
                   "%s", error ? error->message : "");
  }

  ct_scan_page_read_image (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")), png);
  ck_assert_msg (wait_until (card_shown_any, till, 15000), "the photo did not bring the card up");
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥230.00");

  /* A picture without any code says so. */
  {
    g_autofree char *blank = g_build_filename (till->data_dir, "blank.png", NULL);
    g_autoptr(GdkPixbuf) white = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 64);
    CtScanPage *scan = CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"));

    gdk_pixbuf_fill (white, 0xffffffff);
    ck_assert (gdk_pixbuf_save (white, blank, "png", NULL, NULL));
    ct_scan_page_read_image (scan, blank);
    ck_assert (wait_until (scan_problem_shown, scan, 15000));
    ck_assert_msg (strstr (ct_scan_page_get_problem (scan), "No barcode") != NULL,
                   "%s", ct_scan_page_get_problem (scan));
  }
  save_png (till, NULL, "scan-photo");

  till_free (till);
}
END_TEST

START_TEST (test_app_demo_walkthrough_writes_every_screen)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *binary = g_build_filename (builddir, "src", "app", "cardtill", NULL);
  g_autofree char *service_bin = g_build_filename (builddir, "src", "service", "cardtill-service", NULL);
  g_autofree char *data_dir = g_dir_make_tmp ("cardtill-demo-XXXXXX", NULL);
  g_autofree char *out_dir = g_build_filename (data_dir, "out", NULL);
  const char *argv[] = { binary, "--demo", "--demo-walkthrough", out_dir, NULL };
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autofree char *err = NULL;
  int status = -1;
  guint pngs = 0;

  envp = g_environ_setenv (envp, "CARDTILL_DATA_DIR", data_dir, TRUE);
  envp = g_environ_setenv (envp, "CARDTILL_SERVICE_BIN", service_bin, TRUE);
  envp = g_environ_unsetenv (envp, "CARDTILL_SERVICE");
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error), "%s", error ? error->message : "");
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "walk-through failed: %s", err);

  dir = g_dir_open (out_dir, 0, &error);
  ck_assert (dir != NULL);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (g_str_has_suffix (name, ".png"))
      pngs++;
  ck_assert_uint_eq (pngs, 19);

  remove_tree (data_dir);
}
END_TEST

/* Wording */

START_TEST (test_app_errors_are_cashier_words_not_codes)
{
  for (int code = CT_CLIENT_ERROR_BAD_REQUEST; code <= CT_CLIENT_ERROR_EMBEDDED; code++)
    {
      g_autoptr(GError) error = g_error_new_literal (CT_CLIENT_ERROR, code, "raw_service_message");
      g_autofree char *text = ct_format_error (error);
      const char *raw = ct_client_error_code_to_string (code);

      ck_assert_msg (strstr (text, "raw_service_message") == NULL, "%s", text);
      ck_assert_msg (raw == NULL || strstr (text, raw) == NULL, "code %s shown: %s", raw, text);
      ck_assert (strlen (text) > 10);
    }
}
END_TEST

START_TEST (test_app_format_masks_phone_and_groups_card)
{
  g_autofree char *phone = ct_phone_mask ("13812345678");
  g_autofree char *card = ct_format_card_no ("8888123412341234");
  g_autofree char *legacy = ct_format_card_no ("OLD-42");
  g_autofree char *money = ct_format_money (123450, 2, "CNY");
  g_autofree char *negative = ct_format_signed_money (-1000, 2, "CNY");
  g_autofree char *positive = ct_format_signed_money (1000, 2, "CNY");

  ck_assert_str_eq (phone, "138****5678");
  ck_assert_str_eq (card, "8888 1234 1234 1234");
  ck_assert_str_eq (legacy, "OLD-42");
  ck_assert_str_eq (money, "¥1,234.50");
  ck_assert_str_eq (negative, "-¥10.00");
  ck_assert_str_eq (positive, "+¥10.00");
}
END_TEST

START_TEST (test_app_keypad_types_into_its_entry)
{
  GtkWidget *entry = gtk_entry_new ();
  GtkWidget *keypad = ct_keypad_new ();

  g_object_ref_sink (entry);
  g_object_ref_sink (keypad);
  ct_keypad_set_target (CT_KEYPAD (keypad), GTK_EDITABLE (entry));
  ct_keypad_press (CT_KEYPAD (keypad), "1");
  ct_keypad_press (CT_KEYPAD (keypad), "00");
  ct_keypad_press (CT_KEYPAD (keypad), ".");
  ct_keypad_press (CT_KEYPAD (keypad), "5");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), "100.5");
  ct_keypad_press (CT_KEYPAD (keypad), "back");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), "100.");
  ct_keypad_press (CT_KEYPAD (keypad), "clear");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), "");
  g_object_unref (keypad);
  g_object_unref (entry);
}
END_TEST

static Suite *
app_suite (void)
{
  Suite *s = suite_create ("app");
  TCase *tc;

  tc = tcase_create ("format");
  add_test (tc, test_app_errors_are_cashier_words_not_codes);
  add_test (tc, test_app_format_masks_phone_and_groups_card);
  add_test (tc, test_app_keypad_types_into_its_entry);
  suite_add_tcase (s, tc);

  tc = tcase_create ("window");
  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_window_navigates_every_screen);
  add_test (tc, test_app_scan_by_wedge_burst_shows_member);
  add_test (tc, test_app_scanned_member_code_names_the_card_and_is_kept_for_it);
  add_test (tc, test_app_scan_by_replayed_hid_reports);
  add_test (tc, test_app_cached_card_shows_at_once_marked_refreshing);
  add_test (tc, test_app_typed_card_number_with_bad_check_digit_is_refused);
  add_test (tc, test_app_topup_package_shows_bonus_and_receipt);
  add_test (tc, test_app_topup_any_amount_enforces_limits);
  add_test (tc, test_app_pay_shows_balance_after_points_and_receipt);
  add_test (tc, test_app_pay_insufficient_balance_shows_shortfall);
  add_test (tc, test_app_pay_frozen_card_refused);
  add_test (tc, test_app_adjust_wrong_then_right_pin);
  add_test (tc, test_app_adjust_with_empty_pool_shows_pool_balance);
  add_test (tc, test_app_search_by_phone_finds_member);
  add_test (tc, test_app_history_pages_by_day);
  add_test (tc, test_app_issue_card_shows_qr_and_barcode);
  add_test (tc, test_app_offline_topup_is_queued_pending_sync);
  add_test (tc, test_app_refund_payment_from_history);
  add_test (tc, test_app_refused_queued_topup_needs_attention);
  add_test (tc, test_app_card_read_from_photo);
  add_test (tc, test_app_demo_walkthrough_writes_every_screen);
  add_test (tc, test_app_real_typing_burst_is_a_scan_slow_typing_is_text);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *runner;
  int failed;

  /* Messages and amounts in English for the assertions. */
  g_setenv ("LANGUAGE", "C", TRUE);
  gtk_init ();
  adw_init ();

  runner = srunner_create (app_suite ());
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_VERBOSE);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);

  return failed == 0 ? 0 : 1;
}
