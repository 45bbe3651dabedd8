/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-sync"

#include "config.h"

#include <check.h>
#include <adwaita.h>

#include "ct-pay-page.h"
#include "ct-receipt-page.h"
#include "ct-screenshot.h"
#include "ct-settings-page.h"
#include "ct-sync-page.h"
#include "ct-topup-page.h"
#include "ct-app-fixture.h"

#include <glib/gstdio.h>

/* The till offline and the Sync screen, in the real window against a real
 * cardtill-service: a top-up queued while the service is away is sent
 * when it is back; one the service refuses needs a manager's attention. */

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
int
main (void)
{
  Suite *s = suite_create ("app-sync");
  TCase *tc = tcase_create ("sync");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_offline_topup_is_queued_pending_sync);
  add_test (tc, test_app_refused_queued_topup_needs_attention);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
