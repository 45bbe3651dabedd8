/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-levels"

#include "config.h"

/* Levels by spend at the till, in the real window against a real
 * cardtill-service: the card view shows the member's level and what it
 * gives, the Pay screen shows before the cashier confirms what the level
 * takes off and what points pay, and the receipt prints both as the
 * service booked them; an offline payment's receipt says the benefit is
 * expected. Screenshots at 1024×600, in English and in Chinese. */

#include <check.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "ct-app-fixture.h"
#include "ct-pay-page.h"
#include "ct-receipt-data.h"
#include "ct-screenshot.h"

static void
setup (void)
{
  service_setup ();
  /* issue_card() gives its cards the level text "Gold": here it is a
   * level with benefits. */
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "level", "add", "--id", "Gold", "--name", "Gold",
                                           "--min-spend", "0", "--discount-bp", "1000",
                                           "--points-multiplier-bp", "20000", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "merchant", "set", "--points-redeem-rate", "100",
                                           "--points-redeem-max-bp", "5000", NULL), 0);
}

static void
teardown (void)
{
  service_teardown ();
}

/* A Gold member with 110.00 - 54.00 = 56.00 and 108 points (a 60.00
 * order: 10 % off, twice the points), on the Pay screen. */
static CtPayPage *
gold_member_on_pay (Till  *till,
                    char **out_card_no)
{
  g_autofree char *phone = unique_phone ();
  char *card_no = issue_card (till, "Gold Member", phone, "p100");

  pay_directly (till, card_no, 6000);
  scan_and_wait (till, card_no);
  *out_card_no = card_no;
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  return CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
}

static gboolean
card_balance_is (gpointer data)
{
  Till *till = data;
  const CtCard *card = ct_session_get_card (till->session);

  return card != NULL && card->balance == 5600 - 1700;
}

START_TEST (test_app_levels_card_view_pay_preview_and_receipt)
{
  Till *till = till_new_small ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  CtPayPage *pay;

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "scan"));
  pay = gold_member_on_pay (till, &card_no);

  /* The card view names the level and what it gives. */
  {
    CtCardView *view = scan_card_view (till);

    ck_assert_msg (strstr (ct_card_view_get_details_text (view), "Gold · 10% off · points ×2") != NULL, "%s",
                   ct_card_view_get_details_text (view));
  }

  /* A 20.00 order: the level takes 2.00 off, the balance pays 18.00. */
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "20.00");
  ck_assert_str_eq (ct_pay_page_get_summary (pay), "Pay ¥20.00");
  ck_assert_str_eq (ct_pay_page_get_benefit (pay), "Gold: ¥2.00 off");
  ck_assert_str_eq (ct_pay_page_get_after (pay), "The balance pays ¥18.00; balance after: ¥38.00");
  ck_assert_str_eq (ct_pay_page_get_points (pay), "Earns 36 points");

  /* Points the service would refuse are said at once; Confirm is off. */
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "150");
  ck_assert_str_eq (ct_pay_page_get_problem (pay), "Points pay in steps of 100.");
  ck_assert (!gtk_widget_activate_action (GTK_WIDGET (pay), "pay.confirm", NULL) || !ct_pay_page_is_busy (pay));
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "200");
  ck_assert_str_eq (ct_pay_page_get_problem (pay), "The card holds only 108 points.");

  /* 100 points pay 1.00 of the 18.00 due. */
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "100");
  ck_assert_ptr_null (ct_pay_page_get_problem (pay));
  ck_assert_str_eq (ct_pay_page_get_benefit (pay), "Gold: ¥2.00 off · 100 points pay ¥1.00");
  ck_assert_str_eq (ct_pay_page_get_after (pay), "The balance pays ¥17.00; balance after: ¥39.00");
  ck_assert_str_eq (ct_pay_page_get_points (pay), "Earns 34 points");
  save_png_settled (till, "levels-pay-preview");

  /* Confirmed: the service books what the screen showed. */
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (pay));
  ck_assert (wait_until (card_balance_is, till, 20000));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Order total: ¥20.00") != NULL
                 && strstr (text, "Level discount (Gold): -¥2.00") != NULL
                 && strstr (text, "Points redeemed: 100 points pay ¥1.00") != NULL
                 && strstr (text, "Paid from card: ¥17.00") != NULL
                 && strstr (text, "Points: -66 (42)") != NULL, "%s", text);
  save_png_settled (till, "levels-pay-receipt");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "scan"));
  save_png_settled (till, "levels-card-view");
  till_free (till);
}
END_TEST

static gboolean
card_emptied (gpointer data)
{
  Till *till = data;
  const CtCard *card = ct_session_get_card (till->session);

  /* 108 - 100 redeemed + 2 × 56 earned on the balance's part. */
  return card != NULL && card->balance == 0 && card->points == 120;
}

/* Points the cashier typed count before the rest: a Gold member with
 * 56.00 and 108 points orders 80.00 and redeems 100 points (1.00). The
 * card's part is 63.33 (10 % off: 57.00 due, 56.00 from the balance and
 * 1.00 from the points), another tender takes the other 16.67. */
START_TEST (test_app_levels_split_offer_takes_the_points_first)
{
  Till *till = till_new_small ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  CtPayPage *pay = gold_member_on_pay (till, &card_no);

  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "80.00");
  ck_assert_msg (g_strcmp0 (ct_pay_page_get_split_offer (pay), "Card pays ¥56.00, take the rest ¥17.78 by:") == 0,
                 "offer: %s", ct_pay_page_get_split_offer (pay));
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "100");
  ck_assert_ptr_null (ct_pay_page_get_problem (pay));
  ck_assert_msg (g_strcmp0 (ct_pay_page_get_split_offer (pay),
                            "Card pays ¥56.00 + 100 points (¥1.00), take the rest ¥16.67 by:") == 0,
                 "offer: %s", ct_pay_page_get_split_offer (pay));
  /* The level takes its 10 % off the card's part alone. */
  ck_assert_str_eq (ct_pay_page_get_benefit (pay), "Gold: ¥6.33 off · 100 points pay ¥1.00");
  save_png_settled (till, "levels-split-offer-with-points");
  /* At 1024 x 600, with the level's line and the points, the tender keys
   * and Cancel stand in view, and so does Confirm (off while offered). */
  assert_actions_in_view (GTK_WIDGET (pay), "pay.split", 5);
  assert_actions_in_view (GTK_WIDGET (pay), "pay.cancel", 1);
  assert_actions_in_view (GTK_WIDGET (pay), "pay.confirm", 1);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (pay), "pay.split", "s", "wechat"));
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (pay));
  ck_assert (wait_until (card_emptied, till, 20000));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Order total: ¥80.00") != NULL
                 && strstr (text, "Level discount (Gold): -¥6.33") != NULL
                 && strstr (text, "Points redeemed: 100 points pay ¥1.00") != NULL
                 && strstr (text, "Paid from card: ¥56.00") != NULL
                 && strstr (text, "Rest paid by WeChat Pay: ¥16.67") != NULL
                 && strstr (text, "Balance after: ¥0.00") != NULL, "%s", text);
  save_png_settled (till, "levels-split-receipt-with-points");
  till_free (till);
}
END_TEST

/* The service lets points pay at most their share of the card's part:
 * with 1.10 on the card, 200 points (2.00) are more than half of the
 * 3.10 the card's part would be due, and the cashier is told so; 100
 * points fit and are offered. */
START_TEST (test_app_levels_split_with_too_many_points_says_why)
{
  Till *till = till_new_small ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Gold Member", phone, "p100");
  CtPayPage *pay;

  /* 110.00 - 54.00 - 54.90 = 1.10, and 108 + 108 = 216 points. */
  pay_directly (till, card_no, 6000);
  pay_directly (till, card_no, 6100);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "10.00");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "200");
  ck_assert_ptr_null (ct_pay_page_get_split_offer (pay));
  ck_assert_str_eq (ct_pay_page_get_problem (pay),
                    "In a split payment, points may pay at most ¥1.55 of the card's part. Use fewer points, or none.");
  ck_assert (!gtk_widget_activate_action (GTK_WIDGET (pay), "pay.split", "s", "cash") || !ct_pay_page_is_busy (pay));
  save_png_settled (till, "levels-split-too-many-points");

  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "100");
  ck_assert_ptr_null (ct_pay_page_get_problem (pay));
  ck_assert_msg (g_strcmp0 (ct_pay_page_get_split_offer (pay),
                            "Card pays ¥1.10 + 100 points (¥1.00), take the rest ¥7.67 by:") == 0,
                 "offer: %s", ct_pay_page_get_split_offer (pay));
  till_free (till);
}
END_TEST

/* A payment taken offline is booked by the service when it is sent, with
 * the benefits of the card's level then: its receipt says so. */
START_TEST (test_app_levels_offline_receipt_says_the_benefit_is_expected)
{
  Till *till = till_new_small ();
  g_autofree char *card_no = NULL;
  g_autoptr(CtReceiptData) data = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  gold_member_on_pay (till, &card_no);
  data = ct_session_pending_receipt (till->session, CT_TRANSACTION_PAYMENT, ct_session_get_card (till->session),
                                     2000, 0, NULL);
  lines = ct_receipt_lines (data);
  for (guint i = 0; i < lines->len; i++)
    {
      CtReceiptLine *line = lines->pdata[i];

      g_string_append_printf (text, "%s: %s\n", line->label, line->value);
    }
  ck_assert_msg (strstr (text->str, "Level discount (Gold): -¥2.00 (expected)") != NULL
                 && strstr (text->str, "Paid from card: ¥18.00 (expected)") != NULL
                 && strstr (text->str, "Balance after: ¥38.00 (expected)") != NULL
                 && strstr (text->str, "Points: +36") != NULL
                 && strstr (text->str, "Transaction: pending sync") != NULL, "%s", text->str);
  till_free (till);
}
END_TEST

static gboolean
offline_shown (gpointer data)
{
  Till *till = data;

  return g_str_has_prefix (ct_window_get_connection_text (till->window), "Offline");
}

static gboolean
pay_refused (gpointer data)
{
  CtPayPage *pay = data;

  return !ct_pay_page_is_busy (pay) && ct_pay_page_get_problem (pay) != NULL;
}

/* Only the service holds the points: offline, a payment that redeems them
 * is not taken, and the Pay screen says why. */
START_TEST (test_app_levels_points_offline_are_refused_with_a_sentence)
{
  Till *till = till_new_small ();
  g_autofree char *card_no = NULL;
  CtPayPage *pay = gold_member_on_pay (till, &card_no);

  ct_test_service_stop (service);
  ct_session_refresh_card (till->session);
  ck_assert_msg (wait_until (offline_shown, till, 30000), "header: %s", ct_window_get_connection_text (till->window));
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "20.00");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "100");
  ck_assert_ptr_null (ct_pay_page_get_problem (pay));
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert_msg (wait_until (pay_refused, pay, 60000), "busy %d", ct_pay_page_is_busy (pay));
  ck_assert_str_eq (ct_pay_page_get_problem (pay),
                    "Paying with points needs the card service, and the service cannot be reached. "
                    "Nothing was taken.");
  ck_assert_str_eq (ct_window_get_page (till->window), "pay");
  save_png_settled (till, "levels-points-offline");
  till_free (till);
}
END_TEST

/* The same screens in Chinese at 1024×600, to look at. */
START_TEST (test_app_levels_in_chinese)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);
  g_autofree char *card_no = NULL;
  Till *till;
  CtPayPage *pay;

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  ck_assert_str_ne (_("The balance pays %s; balance after: %s"), "The balance pays %s; balance after: %s");

  till = till_new_small ();
  pay = gold_member_on_pay (till, &card_no);
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "20.00");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_points_entry (pay)), "100");
  ck_assert_ptr_null (ct_pay_page_get_problem (pay));
  save_png_settled (till, "levels-pay-preview-zh_CN");
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (pay));
  save_png_settled (till, "levels-pay-receipt-zh_CN");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "scan"));
  save_png_settled (till, "levels-card-view-zh_CN");

  till_free (till);
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-levels");
  TCase *tc = tcase_create ("levels");

  tcase_set_timeout (tc, 400);
  tcase_add_checked_fixture (tc, setup, teardown);
  add_test (tc, test_app_levels_card_view_pay_preview_and_receipt);
  add_test (tc, test_app_levels_offline_receipt_says_the_benefit_is_expected);
  add_test (tc, test_app_levels_points_offline_are_refused_with_a_sentence);
  add_test (tc, test_app_levels_split_offer_takes_the_points_first);
  add_test (tc, test_app_levels_split_with_too_many_points_says_why);
  /* Last: the translations stay bound for the rest of the process. */
  add_test (tc, test_app_levels_in_chinese);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
