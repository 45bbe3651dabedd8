/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-pay"

#include "config.h"

#include <check.h>
#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <X11/keysym.h>

#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pay-page.h"
#include "ct-receipt-data.h"
#include "ct-receipt-page.h"
#include "ct-scan-page.h"
#include "ct-screenshot.h"
#include "ct-session.h"
#include "ct-app-fixture.h"
#include "ct-test-json.h"

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
  /* An empty card: nothing to split, the shortfall alone (a card that
   * holds some is offered a split payment, below). */
  g_autofree char *card_no = issue_card (till, "Short Member", phone, NULL);
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "40.00");
  ck_assert_str_eq (ct_pay_page_get_after (pay), "Insufficient balance: ¥40.00 short");
  ck_assert_ptr_null (ct_pay_page_get_split_offer (pay));
  ck_assert (!gtk_widget_activate_action (GTK_WIDGET (pay), "pay.confirm", NULL) ||
             !ct_pay_page_is_busy (pay));
  ct_screenshot_settle (100);
  ck_assert_str_eq (ct_window_get_page (till->window), "pay");
  save_png (till, NULL, "pay-insufficient");

  till_free (till);
}
END_TEST

/* The split's key taken, or its receipt already up. */
static gboolean
split_key_taken (gpointer data)
{
  Till *till = data;
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  return ct_pay_page_is_busy (pay) || on_receipt (till);
}

/* Presses Alt+@keysym on the Pay screen, as a cashier does, until the
 * page takes it: on a loaded machine an XTest key sent right after the
 * focus moved was once not seen at all (no payment, no problem). A key
 * the page took makes it busy at once, and a busy page ignores another,
 * so a second press can never take a second payment. */
static void
press_split_key (Till  *till,
                 guint  keysym)
{
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  for (guint attempt = 0; attempt < 3; attempt++)
    {
      /* Pressed again only while the offer still waits for its key: a
       * late key that was taken makes the page busy or shows its answer,
       * and a refusal is a problem to report, not to press through. */
      if (split_key_taken (till))
        return;
      ck_assert_msg (ct_pay_page_get_problem (pay) == NULL, "%s", ct_pay_page_get_problem (pay));
      ck_assert_str_eq (ct_window_get_page (till->window), "pay");
      ck_assert_ptr_nonnull (ct_pay_page_get_split_offer (pay));
      keys_focus (GTK_WINDOW (till->window));
      gtk_widget_grab_focus (GTK_WIDGET (ct_pay_page_get_amount_entry (pay)));
      keys_chord (XK_Alt_L, keysym);
      if (wait_until (split_key_taken, till, 5000))
        return;
    }
  ck_abort_msg ("Alt+%s was not taken: split offer \"%s\", problem \"%s\"", gdk_keyval_name (keysym),
                ct_pay_page_get_split_offer (pay), ct_pay_page_get_problem (pay));
}

/* A card short of the order: the Pay screen offers the split (the card
 * pays what it holds, the rest by a tender chosen with one key), the
 * cashier presses Alt+C and the receipt shows the rest taken in cash. */
START_TEST (test_app_pay_split_offers_the_rest_by_a_tender_key)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Split Member", phone, "p100");
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  g_autofree char *text = NULL;

  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "pay");
  /* Enough on the card: nothing is offered. */
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "100.00");
  ck_assert_ptr_null (ct_pay_page_get_split_offer (pay));
  ck_assert (!gtk_widget_activate_action (GTK_WIDGET (pay), "pay.split", "s", "cash") || !ct_pay_page_is_busy (pay));

  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "150.00");
  ck_assert_msg (g_strcmp0 (ct_pay_page_get_split_offer (pay), "Card pays ¥110.00, take the rest ¥40.00 by:") == 0,
                 "offer: %s", ct_pay_page_get_split_offer (pay));
  ck_assert_str_eq (ct_pay_page_get_after (pay), "Card pays ¥110.00, take the rest ¥40.00 by:");
  /* Enter does not take less than the order: Confirm stays off. */
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert (!ct_pay_page_is_busy (pay));
  save_png (till, NULL, "pay-split-offer");

  /* The cashier's key: Alt+C takes the rest in cash. */
  press_split_key (till, XK_c);
  ck_assert_msg (wait_until (on_receipt, till, 30000), "no receipt: %s", ct_pay_page_get_problem (pay));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Order total: ¥150.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Paid from card: ¥110.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Rest paid by Cash: ¥40.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥0.00") != NULL, "%s", text);
  save_png (till, NULL, "pay-split-receipt");

  /* Queued offline, the receipt says the same, as expected. */
  {
    g_autoptr(CtReceiptData) data = ct_session_pending_receipt (till->session, CT_TRANSACTION_PAYMENT,
                                                                ct_session_get_card (till->session), 0, 0, NULL);
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(GString) pending = g_string_new (NULL);

    data->amount = 2000;
    data->rest = 500;
    data->rest_tender = g_strdup ("bank_card");
    lines = ct_receipt_lines (data);
    for (guint i = 0; i < lines->len; i++)
      {
        CtReceiptLine *line = lines->pdata[i];

        g_string_append_printf (pending, "%s: %s\n", line->label, line->value);
      }
    ck_assert_msg (strstr (pending->str, "Order total: ¥25.00\n") != NULL
                   && strstr (pending->str, "Rest paid by Bank card: ¥5.00\n") != NULL
                   && strstr (pending->str, "Transaction: pending sync") != NULL, "%s", pending->str);
  }

  /* The card's history says how the rest was paid. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, ct_window_get_page_widget (till->window, "members"), 15000));
  ck_assert_int_eq (ct_members_page_get_history_item (CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window,
                                                                                                   "members")),
                                                      0)->rest, 4000);
  ck_assert (row_subtitle_contains (ct_window_get_page_widget (till->window, "members"), "rest ¥40.00 paid by Cash"));

  till_free (till);
}
END_TEST

/* The labels of the buttons under @root that activate @action_name. */
static void
collect_action_labels (GtkWidget  *root,
                       const char *action_name,
                       GPtrArray  *labels)
{
  if (GTK_IS_ACTIONABLE (root)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action_name) == 0)
    {
      GtkWidget *label = find_widget (root, GTK_TYPE_LABEL, NULL);

      ck_assert_ptr_nonnull (label);
      g_ptr_array_add (labels, label);
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_action_labels (child, action_name, labels);
}

/* On an 800 px wide window the split offer's tender keys (and the
 * top-up's) name each tender whole: the cashier reads "WeChat Pay", not
 * "WeChat P…". */
START_TEST (test_app_pay_split_tender_names_whole_at_800px)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Narrow Member", phone, "p100");
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  CtPayPage *pay;
  int window_width;

  till_show_at (till, 800, 600);
  pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "150.00");
  ck_assert_ptr_nonnull (ct_pay_page_get_split_offer (pay));
  save_png_settled (till, "pay-split-offer-800");
  window_width = gtk_widget_get_width (GTK_WIDGET (till->window));
  ck_assert_int_le (window_width, 800);

  collect_action_labels (GTK_WIDGET (pay), "pay.split", labels);
  ck_assert_uint_eq (labels->len, 5);
  /* The same names on the top-up's tender toggles. */
  ct_window_show_page (till->window, "topup");
  save_png_settled (till, "topup-tenders-800");
  collect_action_labels (ct_window_get_page_widget (till->window, "topup"), "topup.tender", labels);
  ck_assert_uint_eq (labels->len, 10);
  for (guint i = 0; i < labels->len; i++)
    {
      GtkLabel *label = labels->pdata[i];
      PangoLayout *layout = gtk_label_get_layout (label);
      int natural = 0, width = 0;
      graphene_rect_t bounds;

      gtk_widget_measure (GTK_WIDGET (label), GTK_ORIENTATION_HORIZONTAL, -1, NULL, &natural, NULL, NULL);
      pango_layout_get_pixel_size (layout, &width, NULL);
      ck_assert_msg (!pango_layout_is_ellipsized (layout), "\"%s\" is cut off", gtk_label_get_label (label));
      ck_assert_msg (gtk_widget_get_width (GTK_WIDGET (label)) >= natural,
                     "\"%s\" has %d px of the %d px it needs", gtk_label_get_label (label),
                     gtk_widget_get_width (GTK_WIDGET (label)), natural);
      ck_assert_msg (width <= gtk_widget_get_width (GTK_WIDGET (label)), "\"%s\" is drawn %d px wide in %d px",
                     gtk_label_get_label (label), width, gtk_widget_get_width (GTK_WIDGET (label)));
      /* And inside the window, not clipped by its edge. */
      ck_assert (gtk_widget_compute_bounds (GTK_WIDGET (label), GTK_WIDGET (till->window), &bounds));
      ck_assert_msg (bounds.origin.x >= 0 && bounds.origin.x + bounds.size.width <= window_width,
                     "\"%s\" spans %g to %g px of a %d px window", gtk_label_get_label (label), bounds.origin.x,
                     bounds.origin.x + bounds.size.width, window_width);
    }

  till_free (till);
}
END_TEST

/* The offer in Chinese, to look at. */
START_TEST (test_app_pay_split_offer_in_chinese)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  Till *till;
  CtPayPage *pay;

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  ck_assert_str_ne (_("Card pays %s, take the rest %s by:"), "Card pays %s, take the rest %s by:");

  till = till_new ();
  gtk_window_set_default_size (GTK_WINDOW (till->window), 1024, 600);
  card_no = issue_card (till, "王芳", phone, "p100");
  pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "150.00");
  ck_assert_ptr_nonnull (ct_pay_page_get_split_offer (pay));
  save_png (till, NULL, "pay-split-offer-zh_CN");
  /* Alt+A is Alipay while the offer is up, though the amount's label
   * has the same mnemonic. */
  press_split_key (till, XK_a);
  ck_assert_msg (wait_until (on_receipt, till, 30000), "no receipt: %s", ct_pay_page_get_problem (pay));
  {
    g_autofree char *text = receipt_text (till);

    ck_assert_msg (strstr (text, "支付宝") != NULL, "%s", text);
  }
  save_png (till, NULL, "pay-split-receipt-zh_CN");

  till_free (till);
  g_setenv ("LANGUAGE", "C", TRUE);
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
/* The card on the counter, lost and replaced at another till meanwhile:
 * the payment is refused, and the counter learns the card is closed and
 * names the card that replaced it, instead of keeping the closed card
 * there to be tried again. */
typedef struct
{
  Till       *till;
  CtPayPage  *pay;
  CtScanPage *scan;
  const char *new_no;
} ReplacedElsewhere;

static gboolean
replaced_card_learnt (gpointer data)
{
  ReplacedElsewhere *r = data;
  const char *problem = ct_scan_page_get_problem (r->scan);

  return !ct_pay_page_is_busy (r->pay) && ct_pay_page_get_problem (r->pay) != NULL
         && ct_session_get_card (r->till->session) == NULL
         && problem != NULL && strstr (problem, r->new_no) != NULL;
}

START_TEST (test_app_pay_on_a_card_replaced_at_another_till)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Replaced Member", phone, "p100");
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/replace", card_no);
  g_autofree char *new_no = NULL;
  g_autoptr(CtTestClient) other_till = ct_test_client_new (service);
  g_autoptr(CtTestResponse) replaced = NULL;
  ReplacedElsewhere r = { till, CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay")),
                          CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")), NULL };

  scan_and_wait (till, card_no);
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (r.pay)), "10.00");

  replaced = ct_test_client_request (other_till, "POST", path, "replace-elsewhere",
                                     "{\"operator\":\"op\",\"manager\":{\"id\":\"" CT_TEST_SERVICE_MANAGER_ID
                                     "\",\"pin\":\"" CT_TEST_SERVICE_MANAGER_PIN "\"}}", NULL);
  ck_assert (replaced != NULL && replaced->status == 201);
  new_no = ct_test_json_str (replaced->body, "card.card_no");
  r.new_no = new_no;

  g_signal_emit_by_name (ct_pay_page_get_amount_entry (r.pay), "activate");
  ck_assert_msg (wait_until (replaced_card_learnt, &r, 15000), "pay: %s; scan: %s",
                 ct_pay_page_get_problem (r.pay), ct_scan_page_get_problem (r.scan));
  ck_assert_msg (strstr (ct_pay_page_get_problem (r.pay), new_no) != NULL, "%s",
                 ct_pay_page_get_problem (r.pay));
  ck_assert_str_ne (ct_window_get_page (till->window), "receipt");
  save_png (till, NULL, "pay-card-replaced-elsewhere");
  ct_window_show_page (till->window, "scan");
  save_png (till, NULL, "scan-card-replaced-elsewhere");

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
  add_test (tc, test_app_pay_on_a_card_replaced_at_another_till);
  add_test (tc, test_app_pay_split_offers_the_rest_by_a_tender_key);
  add_test (tc, test_app_pay_split_offer_in_chinese);
  add_test (tc, test_app_pay_split_tender_names_whole_at_800px);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
