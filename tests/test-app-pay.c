/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-pay"

#include "config.h"

#include <check.h>
#include <adwaita.h>

#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pay-page.h"
#include "ct-receipt-page.h"
#include "ct-screenshot.h"
#include "ct-app-fixture.h"

/* The Pay screen in the real window against a real cardtill-service: the
 * balance after and the points before Confirm, a shortfall, a frozen
 * card, and the receipt. */

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
int
main (void)
{
  Suite *s = suite_create ("app-pay");
  TCase *tc = tcase_create ("pay");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_pay_shows_balance_after_points_and_receipt);
  add_test (tc, test_app_pay_insufficient_balance_shows_shortfall);
  add_test (tc, test_app_pay_frozen_card_refused);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
