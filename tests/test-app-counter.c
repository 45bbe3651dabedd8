/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-counter"

#include "config.h"

#include <check.h>

#include "ct-app-fixture.h"
#include "ct-members-page.h"
#include "ct-pay-page.h"
#include "ct-receipt-page.h"
#include "ct-scan-page.h"
#include "ct-screenshot.h"
#include "ct-topup-page.h"

/* The customer at the counter: a new scan, a search or a finished sale
 * leaves nothing of the previous customer on any screen. */

static gboolean
card_is (Till       *till,
         const char *card_no)
{
  const CtCard *card = ct_session_get_card (till->session);

  return card != NULL && g_strcmp0 (card->card_no, card_no) == 0 && card_fresh (till);
}

static const char *want_card;

static gboolean
wanted_card_loaded (gpointer data)
{
  return card_is (data, want_card);
}

static void
scan_card (Till       *till,
           const char *card_no)
{
  want_card = card_no;
  ct_window_handle_scan (till->window, card_no);
  ck_assert_msg (wait_until (wanted_card_loaded, till, 20000), "%s did not load", card_no);
}

static gboolean
can_confirm (GtkWidget  *page,
             const char *action_name)
{
  GtkWidget *button = find_action_button (page, action_name);

  ck_assert (button != NULL);
  return gtk_widget_is_sensitive (button);
}

START_TEST (test_app_counter_new_scan_clears_topup_and_pay_choices)
{
  Till *till = till_new ();
  g_autofree char *phone_a = unique_phone ();
  g_autofree char *phone_b = unique_phone ();
  g_autofree char *card_a = issue_card (till, "First Customer", phone_a, "p100");
  g_autofree char *card_b = issue_card (till, "Second Customer", phone_b, "p200");
  GtkWidget *topup = ct_window_get_page_widget (till->window, "topup");
  GtkWidget *pay = ct_window_get_page_widget (till->window, "pay");
  GtkWidget *focus;

  /* The first customer chooses a package: Confirm has the focus. */
  scan_card (till, card_a);
  ct_window_show_page (till->window, "topup");
  ck_assert (gtk_widget_activate_action (topup, "topup.select-package", "s", "p100"));
  ct_screenshot_settle (100);
  ck_assert (can_confirm (topup, "topup.confirm"));
  gtk_widget_grab_focus (find_action_button (topup, "topup.confirm"));
  focus = gtk_root_get_focus (GTK_ROOT (till->window));
  ck_assert_msg (focus == find_action_button (topup, "topup.confirm"), "focus: %s",
                 focus ? G_OBJECT_TYPE_NAME (focus) : "none");

  /* The next customer's card is scanned on the same screen: the package
   * chosen for the first is gone, Enter cannot take it for the second. */
  scan_card (till, card_b);
  ck_assert_str_eq (ct_window_get_page (till->window), "topup");
  ck_assert_str_eq (ct_topup_page_get_summary (CT_TOPUP_PAGE (topup)), "Choose a package.");
  ck_assert (!can_confirm (topup, "topup.confirm"));
  ck_assert (gtk_root_get_focus (GTK_ROOT (till->window)) != find_action_button (topup, "topup.confirm"));
  save_png (till, NULL, "counter-topup-after-new-scan");

  /* On Pay, the amount typed for one customer goes with them. */
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay))), "5.00");
  ck_assert (can_confirm (pay, "pay.confirm"));
  scan_card (till, card_a);
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay)))), "");
  ck_assert (!can_confirm (pay, "pay.confirm"));

  till_free (till);
}
END_TEST

START_TEST (test_app_counter_mistyped_number_leaves_no_customer)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Earlier Customer", phone, "p100");
  CtScanPage *scan = CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"));
  GtkWidget *pay = ct_window_get_page_widget (till->window, "pay");

  scan_card (till, card_no);
  ck_assert (ct_scan_page_is_showing_card (scan));

  /* A typo in the next number: nobody is at the counter, F4 pays for
   * nobody. */
  gtk_editable_set_text (GTK_EDITABLE (ct_scan_page_get_entry (scan)), "8888 0000 0000 0001");
  g_signal_emit_by_name (ct_scan_page_get_entry (scan), "activate");
  ck_assert (ct_scan_page_get_problem (scan) != NULL);
  ck_assert_ptr_null (ct_session_get_card (till->session));
  ck_assert (!ct_scan_page_is_showing_card (scan));
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay))), "5.00");
  ck_assert (!can_confirm (pay, "pay.confirm"));

  till_free (till);
}
END_TEST

START_TEST (test_app_counter_search_and_scan_clear_member_detail)
{
  Till *till = till_new ();
  g_autofree char *phone_a = unique_phone ();
  g_autofree char *phone_b = unique_phone ();
  g_autofree char *card_a = issue_card (till, "Found Member", phone_a, "p100");
  g_autofree char *card_b = issue_card (till, "Scanned Member", phone_b, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));

  ct_window_show_page (till->window, "members");
  ct_members_page_search (members, phone_a);
  ck_assert (wait_until (members_idle, members, 20000));
  ck_assert (ct_members_page_get_card (members) != NULL);
  ck_assert (can_confirm (GTK_WIDGET (members), "members.adjust"));

  /* A search that finds nobody: the member found before and the manager
   * buttons for them go. */
  ct_members_page_search (members, "10000000000");
  ck_assert (wait_until (members_idle, members, 20000));
  ck_assert_uint_eq (ct_members_page_get_n_results (members), 0);
  ck_assert_ptr_null (ct_members_page_get_card (members));
  ck_assert (!can_confirm (GTK_WIDGET (members), "members.adjust"));
  save_png (till, NULL, "counter-members-no-result");

  /* The member is shown again; then another card is scanned. */
  ct_members_page_search (members, phone_a);
  ck_assert (wait_until (members_idle, members, 20000));
  ck_assert_str_eq (ct_members_page_get_card (members)->card_no, card_a);
  scan_card (till, card_b);
  ck_assert_ptr_null (ct_members_page_get_card (members));

  till_free (till);
}
END_TEST

START_TEST (test_app_counter_finished_sale_returns_to_empty_scan)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Sale Member", phone, "p100");
  GtkWidget *pay = ct_window_get_page_widget (till->window, "pay");

  scan_card (till, card_no);
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay))), "1.00");
  ck_assert (gtk_widget_activate_action (pay, "pay.confirm", NULL));
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (CT_PAY_PAGE (pay)));
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "receipt"), "receipt.done", NULL));

  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert_ptr_null (ct_session_get_card (till->session));
  ck_assert (!ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))));
  save_png (till, NULL, "counter-after-sale");

  till_free (till);
}
END_TEST

static gboolean
card_settled (gpointer data)
{
  Till *till = data;

  return ct_session_get_card (till->session) != NULL && !ct_session_get_refreshing (till->session);
}

static char *
offline_topup (Till *till)
{
  GtkWidget *topup = ct_window_get_page_widget (till->window, "topup");

  ct_window_show_page (till->window, "topup");
  ck_assert (ct_topup_page_select_package (CT_TOPUP_PAGE (topup), "p100"));
  ck_assert (gtk_widget_activate_action (topup, "topup.confirm", NULL));
  ck_assert_msg (wait_until (on_receipt, till, 30000), "no receipt: %s",
                 ct_topup_page_get_problem (CT_TOPUP_PAGE (topup)));
  return receipt_text (till);
}

START_TEST (test_app_counter_offline_receipts_count_pending_topups)
{
  g_autoptr(GError) error = NULL;
  CtTestService *own = ct_test_service_start (TRUE, &error);
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  Till *till;

  ck_assert_msg (own != NULL, "%s", error ? error->message : "");
  till = till_new_for (own, 1500);
  card_no = issue_card (till, "Offline Twice", phone, "p100");
  scan_card (till, card_no);
  ct_test_service_stop (own);

  /* ¥110 known; ¥100 + ¥10 taken offline: ¥220 expected. */
  first = offline_topup (till);
  ck_assert_msg (strstr (first, "Balance before: ¥110.00") != NULL, "%s", first);
  ck_assert_msg (strstr (first, "Balance after: ¥220.00 (expected)") != NULL, "%s", first);
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "receipt"), "receipt.done", NULL));

  /* The same card again, still offline: the pending top-up counts. */
  ct_window_handle_scan (till->window, card_no);
  ck_assert (wait_until (card_settled, till, 30000));
  second = offline_topup (till);
  ck_assert_msg (strstr (second, "Balance before: ¥220.00") != NULL, "%s", second);
  ck_assert_msg (strstr (second, "Balance after: ¥330.00 (expected)") != NULL, "%s", second);
  save_png (till, NULL, "counter-offline-second-topup");

  /* And the service books what the receipt said. */
  ck_assert (ct_test_service_restart (own, NULL));
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(CtCard) card = NULL;
    guint settled = 0;

    ct_client_sync_async (till->client, NULL, async_done_cb, &result);
    ck_assert_msg (ct_client_sync_finish (till->client, wait_result (&result), &settled, &error),
                   "%s", error ? error->message : "");
    g_clear_object (&result);
    ct_client_card_show_async (till->client, card_no, NULL, async_done_cb, &result);
    card = ct_client_card_show_finish (till->client, wait_result (&result), &error);
    ck_assert_msg (card != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq (card->balance, 33000);
  }

  till_free (till);
  ct_test_service_free (own);
}
END_TEST

static gboolean
window_height_is (gpointer data)
{
  Till *till = data;
  int want = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (till->window), "want-height"));

  int height = gtk_widget_get_height (GTK_WIDGET (till->window));

  /* The window's own drawing (its shadow, without a window manager) takes
   * a few pixels of the size asked for. */
  return height <= want && height >= want - 40;
}

/* Every screen fits a small touch screen: the window's minimum size with
 * that screen shown is within it, and Pay's Confirm is on screen. */
/* The screen's own scroller has nothing to scroll sideways: the screen
 * fits the width the window gives it. */
static void
assert_no_sideways_scroll (GtkWidget  *page,
                           const char *what)
{
  GtkWidget *scroller = gtk_widget_get_ancestor (page, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *h;

  ck_assert_ptr_nonnull (scroller);
  ct_screenshot_settle (100);
  h = gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (scroller));
  ck_assert_msg (gtk_adjustment_get_upper (h) - gtk_adjustment_get_page_size (h) < 1,
                 "%s scrolls %.0f px sideways", what,
                 gtk_adjustment_get_upper (h) - gtk_adjustment_get_page_size (h));
}

/* The member's card on the Members screen takes no focus: a selectable
 * label would (in GTK 4.8 one the pointer selects must), and the folded
 * screen gave it to the name, with a text caret in it. Tab passes the
 * card by. */
static void
assert_card_view_takes_no_focus (Till       *till,
                                 GtkWidget  *members,
                                 const char *what)
{
  GtkWidget *view = find_widget (members, CT_TYPE_CARD_VIEW, NULL);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (till->window));

  ck_assert_ptr_nonnull (view);
  ck_assert_msg (focus == NULL || !gtk_widget_is_ancestor (focus, view), "%s: the focus is on the card (%s)",
                 what, G_OBJECT_TYPE_NAME (focus));
  ck_assert_msg (!gtk_widget_child_focus (view, GTK_DIR_TAB_FORWARD), "%s: Tab stops on the card", what);
}

static gboolean
focus_on_use (gpointer data)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (data));

  return focus != NULL && GTK_IS_ACTIONABLE (focus)
         && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (focus)), "members.use") == 0;
}

START_TEST (test_app_counter_screens_fit_small_displays)
{
  static const char *pages[] = { "scan", "topup", "pay", "members", "import", "sync", "settings", "shift", "reports",
                                 "receipt" };
  static const int sizes[][2] = { { 1024, 600 }, { 800, 600 } };
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Small Screen", phone, "p100");

  scan_card (till, card_no);
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      /* A window of that size, as the till starts on that display. */
      gtk_window_destroy (GTK_WINDOW (till->window));
      till->window = ct_window_new (NULL, till->session);
      gtk_window_set_default_size (GTK_WINDOW (till->window), sizes[s][0], sizes[s][1]);
      gtk_window_present (GTK_WINDOW (till->window));
      g_object_set_data (G_OBJECT (till->window), "want-height", GINT_TO_POINTER (sizes[s][1]));
      for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
        {
          int min_width = 0, min_height = 0;

          ct_window_show_page (till->window, pages[i]);
          ct_screenshot_settle (100);
          gtk_widget_measure (GTK_WIDGET (till->window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
          gtk_widget_measure (GTK_WIDGET (till->window), GTK_ORIENTATION_VERTICAL, sizes[s][0], &min_height, NULL, NULL, NULL);
          g_message ("%s at %dx%d: needs %dx%d", pages[i], sizes[s][0], sizes[s][1], min_width, min_height);
          ck_assert_msg (min_width <= sizes[s][0], "%s needs %d px of width", pages[i], min_width);
          ck_assert_msg (min_height <= sizes[s][1], "%s needs %d px of height", pages[i], min_height);
        }
      ck_assert_msg (wait_until (window_height_is, till, 10000), "window %dx%d", gtk_widget_get_width (GTK_WIDGET (till->window)), gtk_widget_get_height (GTK_WIDGET (till->window)));

      /* Pay's Confirm is within the window. */
      ct_window_show_page (till->window, "pay");
      ct_screenshot_settle (200);
      {
        GtkWidget *confirm = find_action_button (ct_window_get_page_widget (till->window, "pay"), "pay.confirm");
        graphene_rect_t bounds;
        g_autofree char *name = g_strdup_printf ("pay-%dx%d", sizes[s][0], sizes[s][1]);

        ck_assert (gtk_widget_compute_bounds (confirm, GTK_WIDGET (till->window), &bounds));
        ck_assert_msg (bounds.origin.y + bounds.size.height <= gtk_widget_get_height (GTK_WIDGET (till->window)),
                       "Confirm ends at %.0f px", bounds.origin.y + bounds.size.height);

        /* Also with the longest summary: an amount the card cannot pay. */
        gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay")))),
                               "9999.00");
        ct_screenshot_settle (200);
        ck_assert (gtk_widget_compute_bounds (confirm, GTK_WIDGET (till->window), &bounds));
        ck_assert_msg (bounds.origin.y + bounds.size.height <= gtk_widget_get_height (GTK_WIDGET (till->window)),
                       "with a shortfall, Confirm ends at %.0f px", bounds.origin.y + bounds.size.height);
        save_png (till, NULL, name);
        gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay")))),
                               "");
      }
      {
        g_autofree char *name = g_strdup_printf ("members-%dx%d", sizes[s][0], sizes[s][1]);
        g_autofree char *detail = g_strdup_printf ("members-detail-%dx%d", sizes[s][0], sizes[s][1]);
        GtkWidget *members = ct_window_get_page_widget (till->window, "members");

        ct_window_show_page (till->window, "members");
        save_png (till, NULL, name);
        assert_no_sideways_scroll (members, name);
        /* With a member's card, buttons and history on the right too. */
        ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
        ck_assert (wait_until (members_idle, members, 20000));
        save_png (till, NULL, detail);
        assert_no_sideways_scroll (members, detail);
        /* The focus goes to Use This Card (Enter), also where the card
         * takes the list's place (folded). */
        ck_assert_msg (wait_until (focus_on_use, till->window, 10000), "%s: the focus is not on Use This Card",
                       detail);
        assert_card_view_takes_no_focus (till, members, detail);
        if (sizes[s][0] == 800)
          {
            /* Folded: back to the list and its search. */
            ck_assert (gtk_widget_activate_action (members, "members.back", NULL));
            ct_screenshot_settle (300);
            save_png (till, NULL, "members-back-800x600");
            assert_no_sideways_scroll (members, "members-back-800x600");
          }
      }
    }

  till_free (till);
}
END_TEST

static gboolean
all_rows_made (gpointer data)
{
  CtMembersPage *members = data;

  return ct_members_page_get_n_result_rows (members) == ct_members_page_get_n_results (members);
}

START_TEST (test_app_counter_broad_search_is_paged)
{
  Till *till = till_new ();
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  g_autofree char *name = g_strdup_printf ("Paged %u", g_random_int_range (100000, 999999));

  for (int i = 0; i < 45; i++)
    {
      g_autofree char *phone = unique_phone ();
      g_autofree char *card_no = issue_card (till, name, phone, NULL);
    }

  /* The answer holds 45 members: the rows come a page at a time, the
   * first page at once, the rest while the window keeps answering. */
  ct_window_show_page (till->window, "members");
  ct_members_page_search (members, name);
  ck_assert (wait_until (members_idle, members, 20000));
  ck_assert_uint_eq (ct_members_page_get_n_results (members), 45);
  ck_assert_uint_le (ct_members_page_get_n_result_rows (members), 40);
  ck_assert (wait_until (all_rows_made, members, 20000));
  ck_assert_uint_eq (ct_members_page_get_n_result_rows (members), 45);

  till_free (till);
}
END_TEST

static gboolean
frozen_now (gpointer data)
{
  Till *till = data;
  const CtCard *card = ct_session_get_card (till->session);

  return card != NULL && card->status == CT_CARD_STATUS_FROZEN;
}

/* The height a button takes on screen, its padding and border included. */
static int
button_height (GtkWidget *button)
{
  int min = 0;

  ck_assert (button != NULL);
  gtk_widget_measure (button, GTK_ORIENTATION_VERTICAL, -1, &min, NULL, NULL, NULL);
  return MAX (min, gtk_widget_get_height (button));
}

START_TEST (test_app_counter_counter_details)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Details Member", phone, "p100");
  CtScanPage *scan = CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"));
  GtkWidget *pay = ct_window_get_page_widget (till->window, "pay");
  GtkWidget *topup = ct_window_get_page_widget (till->window, "topup");
  g_autofree char *text = NULL;

  scan_card (till, card_no);
  ck_assert (ct_scan_page_suggests_sale (scan));

  /* No points are promised for a payment the card cannot make. */
  ct_window_show_page (till->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay))), "500.00");
  ck_assert_str_eq (ct_pay_page_get_points (CT_PAY_PAGE (pay)), "");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay))), "10.00");
  ck_assert_str_eq (ct_pay_page_get_points (CT_PAY_PAGE (pay)), "Earns 10 points");

  /* Buttons at the counter are at least 44 px tall. */
  ct_screenshot_settle (200);
  ck_assert_int_ge (button_height (find_action_button (pay, "pay.confirm")), 44);
  ck_assert_int_ge (button_height (find_action_button (pay, "pay.cancel")), 44);
  ck_assert_int_ge (button_height (find_widget (pay, GTK_TYPE_BUTTON, NULL)), 44);
  ck_assert_int_ge (button_height (find_action_button (ct_window_get_page_widget (till->window, "members"),
                                                       "members.issue")), 44);
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (pay))), "");

  /* An online receipt names the store and the till, as an offline one. */
  ct_window_show_page (till->window, "topup");
  ck_assert (ct_topup_page_select_package (CT_TOPUP_PAGE (topup), "p100"));
  ck_assert (gtk_widget_activate_action (topup, "topup.confirm", NULL));
  ck_assert (wait_until (on_receipt, till, 20000));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Store: Test Shop") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Till: Till 1") != NULL, "%s", text);
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "receipt"), "receipt.done", NULL));

  /* A frozen card does not offer Top Up and Pay as the next step. */
  scan_card (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "members"), "members.freeze", NULL));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert (wait_until (frozen_now, till, 20000));
  ct_window_show_page (till->window, "scan");
  ck_assert (!ct_scan_page_suggests_sale (scan));
  save_png (till, NULL, "counter-frozen-no-suggestion");

  till_free (till);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-counter");
  TCase *tc = tcase_create ("counter");

  tcase_set_timeout (tc, 300);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_counter_new_scan_clears_topup_and_pay_choices);
  add_test (tc, test_app_counter_mistyped_number_leaves_no_customer);
  add_test (tc, test_app_counter_search_and_scan_clear_member_detail);
  add_test (tc, test_app_counter_finished_sale_returns_to_empty_scan);
  add_test (tc, test_app_counter_offline_receipts_count_pending_topups);
  add_test (tc, test_app_counter_screens_fit_small_displays);
  add_test (tc, test_app_counter_broad_search_is_paged);
  add_test (tc, test_app_counter_counter_details);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
