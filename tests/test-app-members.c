/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-members"

#include "config.h"

#include <check.h>
#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "ct-format.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pin-dialog.h"
#include "ct-receipt-page.h"
#include "ct-scan-page.h"
#include "ct-app-fixture.h"
#include "ct-refund-dialog.h"

/* The Members screen and its manager actions in the real window against a
 * real cardtill-service: search by phone, the history by day, a balance
 * adjusted (a wrong PIN first, an empty pool), a card issued, a payment
 * refunded. */

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
  /* The top-up says how it was paid. */
  ck_assert_str_eq (ct_members_page_get_history_item (members, 2)->tender, "cash");
  ck_assert (row_subtitle_contains (GTK_WIDGET (members), "paid by Cash"));
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
  save_png (till, GTK_WIDGET (form), "issue-form");
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
static const char *
named_text (GtkWidget  *root,
            const char *name)
{
  GtkWidget *widget = find_widget (root, 0, name);

  ck_assert_msg (widget != NULL && GTK_IS_EDITABLE (widget), "no field %s", name);
  return gtk_editable_get_text (GTK_EDITABLE (widget));
}

static gboolean
history_has_4 (gpointer data)
{
  return members_idle (data) && ct_members_page_get_n_history (data) == 4;
}

static guint
count_action_buttons (GtkWidget  *root,
                      const char *action_name)
{
  guint n = 0;

  if (GTK_IS_ACTIONABLE (root) && gtk_widget_get_mapped (root)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action_name) == 0)
    n++;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_action_buttons (child, action_name);
  return n;
}

START_TEST (test_app_refund_payment_from_history)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Refund Member", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  const CtTransaction *payment;
  AdwMessageDialog *form;
  g_autofree char *text = NULL;

  pay_directly (till, card_no, 1000);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, members, 15000));
  payment = ct_members_page_get_history_item (members, 0);
  ck_assert (payment != NULL && payment->kind == CT_TRANSACTION_PAYMENT);

  /* The refund form offers all of the payment; a part is typed over it,
   * and more than the payment is refused in the form. A second click
   * before the form came up (a slow service) brings no second form. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", payment->id));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", payment->id));
  form = wait_dialog ("ct-refund-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (named_text (GTK_WIDGET (form), "amount"), "10.00");
  ck_assert (adw_message_dialog_get_response_enabled (form, "continue"));
  fill_named (GTK_WIDGET (form), "amount", "10.01");
  ck_assert (!adw_message_dialog_get_response_enabled (form, "continue"));
  fill_named (GTK_WIDGET (form), "amount", "4.00");
  ck_assert (adw_message_dialog_get_response_enabled (form, "continue"));
  save_png (till, GTK_WIDGET (form), "refund-form");
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no refund receipt");
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Refund Receipt") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Refunded: ¥4.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Balance after: ¥104.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Points: -4 (6)") != NULL, "%s", text);
  save_png (till, NULL, "refund-receipt");
  ck_assert_uint_eq (count_windows (CT_TYPE_REFUND_DIALOG), 0);

  /* The history says how much of the payment is refunded, and offers the
   * rest. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_uint_eq (ct_members_page_get_n_history (members), 3);
  ck_assert_int_eq (ct_members_page_get_history_item (members, 0)->kind, CT_TRANSACTION_REFUND);
  payment = ct_members_page_get_history_item (members, 1);
  ck_assert (payment->kind == CT_TRANSACTION_PAYMENT && payment->refunded == 400);
  ck_assert (row_subtitle_contains (GTK_WIDGET (members), "refunded ¥4.00 of ¥10.00"));
  ck_assert (find_action_button (GTK_WIDGET (members), "members.refund") != NULL);
  save_png (till, NULL, "members-history-refund");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", payment->id));
  form = wait_dialog ("ct-refund-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (named_text (GTK_WIDGET (form), "amount"), "6.00");
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no receipt for the rest");
  g_free (text);
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Refunded: ¥6.00") != NULL && strstr (text, "Points: -6 (0)") != NULL, "%s", text);
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (history_has_4, members, 15000));
  ck_assert (row_subtitle_contains (GTK_WIDGET (members), "refunded ¥10.00 of ¥10.00"));
  /* Refunded in full: the top-up alone can still be voided. */
  ck_assert (count_action_buttons (GTK_WIDGET (members), "members.refund") == 1);
  save_png (till, NULL, "members-history-refunded");

  till_free (till);
}
END_TEST
/* A lost card (挂失补卡) from the Members screen: the form, a wrong PIN,
 * then the new card with the money; the lost card scanned at the till is
 * refused with a sentence naming the new card. */

typedef struct
{
  Till       *till;
  const char *old;
} Replaced;

static gboolean
new_card_shown (gpointer data)
{
  Replaced *r = data;
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (r->till->window, "members"));
  const CtCard *card = ct_members_page_get_card (members);

  return card != NULL && g_strcmp0 (card->card_no, r->old) != 0 && members_idle (members);
}

START_TEST (test_app_lost_card_replaced_from_members_and_refused_at_the_till)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Lost Member", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  CtScanPage *scan = CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"));
  Replaced replaced = { till, card_no };
  g_autofree char *new_no = NULL;
  g_autofree char *wanted = NULL;
  AdwMessageDialog *form;
  const CtCard *card;

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert (find_action_button (GTK_WIDGET (members), "members.replace") != NULL);
  save_png (till, NULL, "lost-card-members");
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.replace", NULL));
  form = ct_find_dialog ("ct-replace-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (adw_message_dialog_get_heading (form), "Lost Card");
  ck_assert_msg (strstr (adw_message_dialog_get_body (form), "¥110.00") != NULL, "%s",
                 adw_message_dialog_get_body (form));
  /* A number that is not one cannot go on. */
  fill_named (GTK_WIDGET (form), "new-card", "no!");
  ck_assert (!ct_dialog_choose (form, "continue"));
  save_png (till, GTK_WIDGET (form), "lost-card-form-bad-number");
  fill_named (GTK_WIDGET (form), "new-card", "");
  save_png (till, GTK_WIDGET (form), "lost-card-form");
  ck_assert (ct_dialog_choose (form, "continue"));

  answer_pin (CT_TEST_SERVICE_MANAGER_ID, "0000");
  ck_assert_msg (wait_until (pin_dialog_with_problem, NULL, 15000), "no second PIN prompt");
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (new_card_shown, &replaced, 15000), "the new card is not shown");
  card = ct_members_page_get_card (members);
  new_no = g_strdup (card->card_no);
  ck_assert_int_eq (card->balance, 11000);
  ck_assert_int_eq (card->status, CT_CARD_STATUS_ACTIVE);
  ck_assert_str_eq (card->member_name, "Lost Member");
  /* The counter has the new card too. */
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, new_no);
  save_png (till, NULL, "lost-card-replaced");

  /* The lost card at the till: refused, naming the new card. */
  ct_window_handle_scan (till->window, card_no);
  ck_assert_msg (wait_until (scan_problem_shown, scan, 15000), "no sentence for the lost card");
  wanted = g_strdup_printf ("This card was replaced by card %s.", new_no);
  ck_assert_msg (strstr (ct_scan_page_get_problem (scan), wanted) != NULL, "%s", ct_scan_page_get_problem (scan));
  ck_assert_ptr_null (ct_session_get_card (till->session));
  save_png (till, NULL, "lost-card-scanned");

  till_free (till);
}
END_TEST

/* Replaces @card_no by a new card, as a manager; returns its number. */
static char *
replace_directly (Till       *till,
                  const char *card_no)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;

  ct_client_card_replace_async (till->client, card_no, NULL, CT_TEST_SERVICE_MANAGER_ID,
                                CT_TEST_SERVICE_MANAGER_PIN, NULL, async_done_cb, &result);
  card = ct_client_card_replace_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (card != NULL, "%s", error ? error->message : "");
  return g_strdup (card->card_no);
}

static CtCard *
show_directly (Till       *till,
               const char *card_no)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  CtCard *card;

  ct_client_card_show_async (till->client, card_no, NULL, async_done_cb, &result);
  card = ct_client_card_show_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (card != NULL, "%s", error ? error->message : "");
  return card;
}

/* The first transaction of @kind in the shown history. */
static const CtTransaction *
history_item_of_kind (CtMembersPage     *members,
                      CtTransactionKind  kind)
{
  for (guint i = 0; i < ct_members_page_get_n_history (members); i++)
    {
      const CtTransaction *tx = ct_members_page_get_history_item (members, i);

      if (tx->kind == kind)
        return tx;
    }
  return NULL;
}

/* Looks @card up on the Members screen and asks Refund… (Void… for a
 * top-up) of its first transaction of @kind. */
static void
refund_from_history (Till              *till,
                     CtMembersPage     *members,
                     const CtCard      *card,
                     CtTransactionKind  kind)
{
  const CtTransaction *tx;

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "members"));
  ct_members_page_show_card (members, card);
  ck_assert (wait_until (members_idle, members, 15000));
  tx = history_item_of_kind (members, kind);
  ck_assert (tx != NULL);
  ck_assert (find_action_button (GTK_WIDGET (members), "members.refund") != NULL);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", tx->id));
}

typedef struct
{
  CtMembersPage *members;
  int64_t        refunded;
} RefundedShown;

static gboolean
payment_refunded_shown (gpointer data)
{
  RefundedShown *shown = data;
  const CtTransaction *payment;

  if (!members_idle (shown->members))
    return FALSE;
  payment = history_item_of_kind (shown->members, CT_TRANSACTION_PAYMENT);
  return payment != NULL && payment->refunded == shown->refunded;
}

/* The lost card's history, looked up on the Members screen, still offers
 * Refund… on its payment: the money goes onto the card the member holds
 * now, through two replacements. */
START_TEST (test_app_refund_of_a_lost_cards_payment_goes_onto_the_new_card)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *lost = issue_card (till, "Twice Lost", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  RefundedShown shown = { members, 400 };
  g_autofree char *middle = NULL, *holder = NULL, *text = NULL, *wanted = NULL;
  g_autoptr(CtCard) lost_card = NULL;
  g_autoptr(CtCard) held = NULL;
  AdwMessageDialog *form;

  pay_directly (till, lost, 1000);
  middle = replace_directly (till, lost);
  holder = replace_directly (till, middle);
  lost_card = show_directly (till, lost);
  ck_assert_int_eq (lost_card->status, CT_CARD_STATUS_CLOSED);

  /* The form names the card the refund goes onto: the last one. */
  refund_from_history (till, members, lost_card, CT_TRANSACTION_PAYMENT);
  form = wait_dialog ("ct-refund-dialog");
  wanted = g_strdup_printf ("the refund goes onto card %s", holder);
  ck_assert_msg (strstr (adw_message_dialog_get_body (form), wanted) != NULL, "%s",
                 adw_message_dialog_get_body (form));
  ck_assert_str_eq (named_text (GTK_WIDGET (form), "amount"), "10.00");
  fill_named (GTK_WIDGET (form), "amount", "4.00");
  save_png (till, GTK_WIDGET (form), "refund-form-lost-card");
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no refund receipt");
  text = receipt_text (till);
  /* The receipt shows the card's last four digits. */
  g_free (wanted);
  wanted = g_strdup_printf ("Card: **** %s", holder + strlen (holder) - 4);
  ck_assert_msg (strstr (text, "Refunded: ¥4.00") != NULL && strstr (text, wanted) != NULL
                 && strstr (text, "Balance after: ¥104.00") != NULL, "%s", text);
  save_png (till, NULL, "refund-receipt-lost-card");

  /* The Members screen shows the card the member holds, with the money
   * and the refund in its history. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (members_idle, members, 15000));
  ck_assert_str_eq (ct_members_page_get_card (members)->card_no, holder);
  ck_assert_int_eq (ct_members_page_get_card (members)->balance, 10400);
  ck_assert (history_item_of_kind (members, CT_TRANSACTION_REFUND) != NULL);
  save_png (till, NULL, "members-lost-card-refund-holder");

  /* The lost card's history says how much of its payment is refunded,
   * and offers the rest. */
  g_clear_pointer (&lost_card, ct_card_free);
  lost_card = show_directly (till, lost);
  ct_members_page_show_card (members, lost_card);
  ck_assert_msg (wait_until (payment_refunded_shown, &shown, 15000), "the lost card's history is not updated");
  ck_assert (row_subtitle_contains (GTK_WIDGET (members), "refunded ¥4.00 of ¥10.00"));
  ck_assert (find_action_button (GTK_WIDGET (members), "members.refund") != NULL);
  save_png (till, NULL, "members-history-lost-card-refunded");
  held = show_directly (till, holder);
  ck_assert_int_eq (held->balance, 10400);

  till_free (till);
}
END_TEST

/* The card a lost card's refund goes onto is lost and replaced in its
 * turn while the refund form is open: the service refuses the refund as
 * card_closed, and nothing is refunded. The till follows the card that
 * replaced it, asks the PIN again saying which card the refund goes onto
 * now, and refunds it there, once. */
START_TEST (test_app_refund_follows_a_card_replaced_while_its_form_is_open)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *lost = issue_card (till, "Lost Again", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  RefundedShown shown = { members, 400 };
  g_autofree char *middle = NULL, *newest = NULL, *text = NULL, *wanted = NULL;
  g_autoptr(CtCard) lost_card = NULL, middle_card = NULL, held = NULL;
  AdwMessageDialog *form;
  CtPinDialog *pin;

  pay_directly (till, lost, 1000);
  middle = replace_directly (till, lost);
  lost_card = show_directly (till, lost);
  refund_from_history (till, members, lost_card, CT_TRANSACTION_PAYMENT);
  form = wait_dialog ("ct-refund-dialog");
  wanted = g_strdup_printf ("the refund goes onto card %s", middle);
  ck_assert_msg (strstr (adw_message_dialog_get_body (form), wanted) != NULL, "%s",
                 adw_message_dialog_get_body (form));
  fill_named (GTK_WIDGET (form), "amount", "4.00");

  /* Meanwhile the member loses the new card too. */
  newest = replace_directly (till, middle);
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (pin_dialog_with_problem, NULL, 15000), "no confirmation for the newest card");
  pin = ct_pin_dialog_find ();
  g_free (wanted);
  wanted = g_strdup_printf ("Card %s was replaced by card %s in the meantime, and nothing was refunded.",
                            middle, newest);
  ck_assert_msg (strstr (ct_pin_dialog_get_problem (pin), wanted) != NULL, "%s", ct_pin_dialog_get_problem (pin));
  g_free (wanted);
  wanted = g_strdup_printf ("Refund ¥4.00 to card %s.", newest);
  ck_assert_str_eq (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (pin)), wanted);
  save_png (till, GTK_WIDGET (pin), "refund-card-replaced-while-open");
  /* Nothing moved before the manager confirms. */
  middle_card = show_directly (till, middle);
  ck_assert_int_eq (middle_card->status, CT_CARD_STATUS_CLOSED);
  held = show_directly (till, newest);
  ck_assert_int_eq (held->balance, 10000);
  g_clear_pointer (&held, ct_card_free);

  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no refund receipt");
  text = receipt_text (till);
  g_free (wanted);
  wanted = g_strdup_printf ("Card: **** %s", newest + strlen (newest) - 4);
  ck_assert_msg (strstr (text, "Refunded: ¥4.00") != NULL && strstr (text, wanted) != NULL
                 && strstr (text, "Balance after: ¥104.00") != NULL, "%s", text);
  held = show_directly (till, newest);
  ck_assert_int_eq (held->balance, 10400);

  /* Refunded once: the lost card's payment says 4.00 of it is back. */
  ct_window_show_page (till->window, "members");
  ct_members_page_show_card (members, lost_card);
  ck_assert_msg (wait_until (payment_refunded_shown, &shown, 15000), "the lost card's history is not updated");
  ck_assert (row_subtitle_contains (GTK_WIDGET (members), "refunded ¥4.00 of ¥10.00"));

  till_free (till);
}
END_TEST

/* The manager's forms in Chinese at 1024×600, to look at: every word of
 * them comes from the templates' translations. */
START_TEST (test_app_manager_forms_in_chinese)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  CtMembersPage *members;
  AdwMessageDialog *form;
  Till *till;

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  till = till_new ();
  gtk_window_set_default_size (GTK_WINDOW (till->window), 1024, 600);
  members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  card_no = issue_card (till, "Chinese Forms", phone, "p100");
  pay_directly (till, card_no, 1000);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, members, 15000));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.adjust", NULL));
  form = ct_find_dialog ("ct-adjust-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (adw_message_dialog_get_heading (form), "调整余额");
  fill_named (GTK_WIDGET (form), "delta", "+12.00");
  fill_named (GTK_WIDGET (form), "reason", "补偿");
  save_png (till, GTK_WIDGET (form), "adjust-form-zh_CN");
  ck_assert (ct_dialog_choose (form, "cancel"));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.replace", NULL));
  form = ct_find_dialog ("ct-replace-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (adw_message_dialog_get_heading (form), "挂失补卡");
  save_png (till, GTK_WIDGET (form), "lost-card-form-zh_CN");
  ck_assert (ct_dialog_choose (form, "cancel"));
  save_png (till, NULL, "members-zh_CN");

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.issue", NULL));
  form = ct_find_dialog ("ct-issue-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (adw_message_dialog_get_heading (form), "开新卡");
  fill_named (GTK_WIDGET (form), "name", "陈静");
  fill_named (GTK_WIDGET (form), "phone", phone);
  save_png (till, GTK_WIDGET (form), "issue-form-zh_CN");
  ck_assert (ct_dialog_choose (form, "cancel"));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s",
                                         ct_members_page_get_history_item (members, 0)->id));
  form = wait_dialog ("ct-refund-dialog");
  ck_assert (form != NULL);
  ck_assert_str_eq (adw_message_dialog_get_heading (form), "消费退款");
  fill_named (GTK_WIDGET (form), "amount", "20.00");
  save_png (till, GTK_WIDGET (form), "refund-form-zh_CN");
  ck_assert (ct_dialog_choose (form, "cancel"));

  till_free (till);
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

static gboolean
label_says (GtkWidget  *widget,
            const char *text)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget)
         && g_strcmp0 (gtk_label_get_label (GTK_LABEL (widget)), text) == 0;
}

/* Whether a visible label under @root says @text. */
static gboolean
label_shows (GtkWidget  *root,
             const char *text)
{
  return any_widget (root, label_says, text);
}

/* A lost card's top-up is voided on the card the member holds now: the
 * till asks the service's features first, then the manager's PIN. */
START_TEST (test_app_void_of_a_lost_cards_topup_takes_it_off_the_new_card)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *lost = issue_card (till, "Lost Top-Up", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  g_autofree char *holder = replace_directly (till, lost);
  g_autoptr(CtCard) lost_card = show_directly (till, lost);
  g_autoptr(CtCard) held = NULL;

  refund_from_history (till, members, lost_card, CT_TRANSACTION_TOPUP);
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no void receipt");
  held = show_directly (till, holder);
  ck_assert_int_eq (held->balance, 0);

  till_free (till);
}
END_TEST

static gboolean
no_problem_dialog (gpointer data)
{
  return ct_find_dialog ("ct-problem-dialog") == NULL;
}

/* A card service from before lost cards' refunds would answer 404 for
 * the lost card's payment on the new card: the till asks its features and
 * says what the service lacks, and nothing moves. */
START_TEST (test_app_refund_of_a_lost_cards_payment_needs_a_service_that_takes_it)
{
  CtFaultWeights weights = { .pass = 1, .hide_feature = "refund_replaced" };
  g_autofree char *phone = unique_phone ();
  g_autofree char *lost = NULL, *holder = NULL;
  g_autoptr(CtCard) lost_card = NULL;
  g_autoptr(CtCard) held = NULL;
  const CtTransaction *payment;
  CtMembersPage *members;
  AdwMessageDialog *problem;
  Till *till;

  till = till_new_behind_proxy (&weights);
  members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  lost = issue_card (till, "Lost Elsewhere", phone, "p100");
  pay_directly (till, lost, 1000);
  holder = replace_directly (till, lost);
  lost_card = show_directly (till, lost);

  refund_from_history (till, members, lost_card, CT_TRANSACTION_PAYMENT);
  ck_assert_msg (wait_until (problem_dialog_up, NULL, 15000), "no sentence for an older service");
  problem = ct_find_dialog ("ct-problem-dialog");
  ck_assert_msg (strstr (adw_message_dialog_get_body (problem), "cannot refund a lost card's payment or top-up") != NULL,
                 "%s", adw_message_dialog_get_body (problem));
  ck_assert_ptr_null (ct_find_dialog ("ct-refund-dialog"));
  save_png (till, GTK_WIDGET (problem), "refund-lost-card-older-service");
  ck_assert (ct_dialog_choose (problem, "close"));
  ck_assert (wait_until (no_problem_dialog, NULL, 15000));

  /* Its top-up is not voided on the new card either. */
  payment = history_item_of_kind (members, CT_TRANSACTION_TOPUP);
  ck_assert (payment != NULL);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", payment->id));
  ck_assert_msg (wait_until (problem_dialog_up, NULL, 15000), "no sentence for an older service's void");
  problem = ct_find_dialog ("ct-problem-dialog");
  ck_assert_msg (strstr (adw_message_dialog_get_body (problem), "cannot refund a lost card's payment or top-up")
                 != NULL, "%s", adw_message_dialog_get_body (problem));
  ck_assert_ptr_null (ct_pin_dialog_find ());
  ck_assert (ct_dialog_choose (problem, "close"));
  held = show_directly (till, holder);
  ck_assert_int_eq (held->balance, 10000);

  till_free (till);
}
END_TEST

/* A card service from before partial refunds would give back all of a
 * payment whatever part it was asked for: the till asks the service's
 * features, and the refund form then offers the whole payment alone and
 * says why. The older service is the test service behind a proxy that
 * leaves "partial_refund" out of its health answer. */
START_TEST (test_app_refund_offers_no_part_to_an_older_service)
{
  CtFaultWeights weights = { .pass = 1, .hide_feature = "partial_refund" };
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  const CtTransaction *payment;
  CtMembersPage *members;
  AdwMessageDialog *form;
  GtkWidget *amount;
  Till *till;

  till = till_new_behind_proxy (&weights);
  members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  card_no = issue_card (till, "Older Service", phone, "p100");
  pay_directly (till, card_no, 1000);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (wait_until (members_idle, members, 15000));
  payment = ct_members_page_get_history_item (members, 0);
  ck_assert (payment != NULL && payment->kind == CT_TRANSACTION_PAYMENT);

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.refund", "s", payment->id));
  form = wait_dialog ("ct-refund-dialog");
  amount = find_widget (GTK_WIDGET (form), 0, "amount");
  ck_assert_ptr_nonnull (amount);
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (amount)), "10.00");
  ck_assert (!gtk_editable_get_editable (GTK_EDITABLE (amount)));
  ck_assert_msg (label_shows (GTK_WIDGET (form), "This card service is older and refunds a payment only in full. "
                                                  "Update it to refund a part."), "no sentence on the form");
  /* A part is refused in the form even if it got there. */
  gtk_editable_set_text (GTK_EDITABLE (amount), "4.00");
  ck_assert (!adw_message_dialog_get_response_enabled (form, "continue"));
  gtk_editable_set_text (GTK_EDITABLE (amount), "10.00");
  ck_assert (adw_message_dialog_get_response_enabled (form, "continue"));
  save_png (till, GTK_WIDGET (form), "refund-form-older-service");

  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "no refund receipt");
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Refunded: ¥10.00") != NULL, "%s", text);

  till_free (till);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-members");
  TCase *tc = tcase_create ("members");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_adjust_wrong_then_right_pin);
  add_test (tc, test_app_adjust_with_empty_pool_shows_pool_balance);
  add_test (tc, test_app_search_by_phone_finds_member);
  add_test (tc, test_app_history_pages_by_day);
  add_test (tc, test_app_issue_card_shows_qr_and_barcode);
  add_test (tc, test_app_refund_payment_from_history);
  add_test (tc, test_app_refund_offers_no_part_to_an_older_service);
  add_test (tc, test_app_refund_of_a_lost_cards_payment_needs_a_service_that_takes_it);
  add_test (tc, test_app_void_of_a_lost_cards_topup_takes_it_off_the_new_card);
  add_test (tc, test_app_lost_card_replaced_from_members_and_refused_at_the_till);
  add_test (tc, test_app_refund_of_a_lost_cards_payment_goes_onto_the_new_card);
  add_test (tc, test_app_refund_follows_a_card_replaced_while_its_form_is_open);
  add_test (tc, test_app_manager_forms_in_chinese);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
