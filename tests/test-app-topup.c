/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-topup"

#include "config.h"

#include <check.h>
#include <adwaita.h>

#include "ct-receipt-page.h"
#include "ct-scan-page.h"
#include "ct-topup-page.h"
#include "ct-app-fixture.h"

/* The Top-up screen in the real window against a real cardtill-service:
 * packages with their bonus, any amount within the merchant's limits,
 * and the receipt. */

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
  /* At 1024 x 600 the keypad, the tenders, Cancel and Confirm all stand in
   * view. */
  assert_actions_in_view (GTK_WIDGET (topup), "topup.tender", 5);
  assert_actions_in_view (GTK_WIDGET (topup), "topup.cancel", 1);
  assert_actions_in_view (GTK_WIDGET (topup), "topup.confirm", 1);

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
int
main (void)
{
  Suite *s = suite_create ("app-topup");
  TCase *tc = tcase_create ("topup");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_topup_package_shows_bonus_and_receipt);
  add_test (tc, test_app_topup_any_amount_enforces_limits);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
