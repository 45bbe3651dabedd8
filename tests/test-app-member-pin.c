/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-member-pin"

#include "config.h"

/* The member's PIN at the till, in the real window against a real
 * cardtill-service whose merchant asks consent above 50.00: the Pay
 * screen opens the member's keypad, the member types a wrong PIN (real
 * number keys, Enter), is asked again, types the right one on the large
 * keys (touch) and pays; Escape cancels and takes nothing; five wrong PINs
 * lock the card's PIN; offline the till says only the service can check a
 * PIN. Screenshots at 1024×600, in English and in Chinese. */

#include <check.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "ct-app-fixture.h"
#include "ct-member-pin-dialog.h"
#include "ct-pay-page.h"
#include "ct-screenshot.h"
#include "ct-test-dialog.h"

#define MEMBER_PIN "482916"

/* The member's keypad on screen, if any. */
static CtMemberPinDialog *
keypad_on_screen (void)
{
  AdwMessageDialog *dialog = ct_find_dialog ("member-pin");

  return dialog != NULL && CT_IS_MEMBER_PIN_DIALOG (dialog) ? CT_MEMBER_PIN_DIALOG (dialog) : NULL;
}

static void
setup (void)
{
  service_setup ();
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "merchant", "set", "--consent-over", "50.00", NULL), 0);
}

static void
teardown (void)
{
  service_teardown ();
}

/* A member with 230.00 and the PIN MEMBER_PIN, on the Pay screen. */
static CtPayPage *
member_on_pay (Till  *till,
               char **out_card_no)
{
  g_autofree char *phone = unique_phone ();
  char *card_no = issue_card (till, "Pin Member", phone, "p200");
  g_autoptr(CtTestClient) http = ct_test_client_new (service);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/member-pin", card_no);
  g_autofree char *key = g_strdup_printf ("set-pin-%s", card_no);
  g_autoptr(CtTestResponse) r = NULL;

  r = ct_test_client_request (http, "POST", path, key,
                              "{\"member_pin\":\"" MEMBER_PIN "\",\"manager\":{\"id\":\""
                              CT_TEST_SERVICE_MANAGER_ID "\",\"pin\":\"" CT_TEST_SERVICE_MANAGER_PIN "\"}}", NULL);
  ck_assert (r != NULL && r->status == 200);
  scan_and_wait (till, card_no);
  *out_card_no = card_no;
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  return CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
}

static gboolean
dialog_up (gpointer data)
{
  return keypad_on_screen () != NULL;
}

static gboolean
dialog_gone (gpointer data)
{
  return keypad_on_screen () == NULL;
}

/* A new dialog is up: @data points to a weak pointer to the last one. */
static gboolean
dialog_replaced (gpointer data)
{
  return *(gpointer *) data == NULL && keypad_on_screen () != NULL;
}

static gboolean
offline_shown (gpointer data)
{
  Till *till = data;

  return g_str_has_prefix (ct_window_get_connection_text (till->window), "Offline");
}

static gboolean
six_digits (gpointer data)
{
  CtMemberPinDialog *dialog = keypad_on_screen ();

  return dialog != NULL && ct_member_pin_dialog_get_length (dialog) == 6;
}

static gboolean
pay_settled (gpointer data)
{
  CtPayPage *pay = data;

  return !ct_pay_page_is_busy (pay) && ct_pay_page_get_problem (pay) != NULL;
}

static void
pay (Till       *till,
     CtPayPage  *pay,
     const char *amount)
{
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), amount);
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert_msg (wait_until (dialog_up, NULL, 20000), "no keypad: %s (busy %d, balance %" G_GINT64_FORMAT ")",
                 ct_pay_page_get_problem (pay), ct_pay_page_is_busy (pay),
                 ct_session_get_card (till->session)->balance);
}

/* The member's keypad on top of the till, to look at. */
static void
shot (Till       *till,
      const char *name)
{
  save_png (till, GTK_WIDGET (keypad_on_screen ()), name);
}

/* The button labelled @label inside @root. */
static GtkWidget *
find_key (GtkWidget  *root,
          const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_key (c, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Types @pin on the dialog's own keys, as a finger would. */
static void
touch_pin (CtMemberPinDialog *dialog,
           const char        *pin)
{
  for (const char *p = pin; *p != '\0'; p++)
    {
      char label[2] = { *p, '\0' };
      GtkWidget *button = find_key (GTK_WIDGET (dialog), label);

      ck_assert_msg (button != NULL, "no key %s", label);
      g_signal_emit_by_name (button, "clicked");
    }
}

START_TEST (test_app_member_pin_wrong_then_right_escape_and_lockout)
{
  Till *till = till_new_small ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  CtPayPage *page = member_on_pay (till, &card_no);
  CtMemberPinDialog *dialog;
  gpointer last = NULL;

  /* Over 50.00 the member's keypad opens at once, every key large. */
  pay (till, page, "60.00");
  dialog = keypad_on_screen ();
  ck_assert_ptr_null (ct_member_pin_dialog_get_problem (dialog));
  shot (till, "member-pin-keypad");

  /* A wrong PIN on the number keys; Enter pays, and the service says no:
   * the keypad comes back saying so, nothing was taken. */
  keys_focus (GTK_WINDOW (dialog));
  keys_type ("111111", 20);
  ck_assert (wait_until (six_digits, NULL, 10000));
  shot (till, "member-pin-typed");
  last = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), &last);
  keys_press (GDK_KEY_Return);
  ck_assert_msg (wait_until (dialog_replaced, &last, 20000), "no second keypad: %s",
                 ct_pay_page_get_problem (page));
  dialog = keypad_on_screen ();
  ck_assert_str_eq (ct_member_pin_dialog_get_problem (dialog), "That PIN is wrong. Please type it again.");
  ck_assert_int_eq (ct_session_get_card (till->session)->balance, 23000);
  shot (till, "member-pin-wrong");

  /* The right one on the keys, a digit taken back on the way; Pay. */
  touch_pin (dialog, "4829");
  ct_member_pin_dialog_press (dialog, "back");
  touch_pin (dialog, "916");
  ck_assert_int_eq (ct_member_pin_dialog_get_length (dialog), 6);
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (dialog), "pay"));
  ck_assert (wait_until (dialog_gone, NULL, 5000));
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (page));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Balance after: ¥170.00") != NULL, "%s", text);

  /* Escape: the member did not consent, nothing is taken. */
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  pay (till, page, "55.00");
  dialog = keypad_on_screen ();
  keys_focus (GTK_WINDOW (dialog));
  keys_press (GDK_KEY_Escape);
  ck_assert (wait_until (dialog_gone, NULL, 10000));
  ck_assert (wait_until (pay_settled, page, 10000));
  ck_assert_msg (strstr (ct_pay_page_get_problem (page), "member's consent") != NULL, "%s",
                 ct_pay_page_get_problem (page));

  /* Five wrong PINs lock the card's PIN: then even the right one is
   * refused, with the payment code offered instead. */
  pay (till, page, "55.00");
  for (int i = 0; i < 5; i++)
    {
      dialog = keypad_on_screen ();
      touch_pin (dialog, "975310");
      last = dialog;
      g_object_add_weak_pointer (G_OBJECT (dialog), &last);
      ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (dialog), "pay"));
      ck_assert_msg (wait_until (dialog_replaced, &last, 20000), "wrong PIN %d: %s", i + 1,
                     ct_pay_page_get_problem (page));
    }
  dialog = keypad_on_screen ();
  touch_pin (dialog, MEMBER_PIN);
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (dialog), "pay"));
  ck_assert (wait_until (pay_settled, page, 20000));
  ck_assert_ptr_null (keypad_on_screen ());
  ck_assert_msg (strstr (ct_pay_page_get_problem (page), "locked") != NULL, "%s", ct_pay_page_get_problem (page));
  save_png (till, NULL, "member-pin-locked");

  /* Offline only the service can check a PIN: the till says so. */
  ct_test_service_stop (service);
  ct_session_refresh_card (till->session);
  ck_assert_msg (wait_until (offline_shown, till, 30000), "header: %s", ct_window_get_connection_text (till->window));
  pay (till, page, "55.00");
  touch_pin (keypad_on_screen (), MEMBER_PIN);
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (keypad_on_screen ()), "pay"));
  ck_assert_msg (wait_until (pay_settled, page, 60000), "page %s, busy %d, keypad %p, problem %s", ct_window_get_page (till->window), ct_pay_page_is_busy (page),
                 keypad_on_screen (), ct_pay_page_get_problem (page));
  ck_assert_msg (strstr (ct_pay_page_get_problem (page), "only the card service can check") != NULL, "%s",
                 ct_pay_page_get_problem (page));
  save_png (till, NULL, "member-pin-offline");
  till_free (till);
}
END_TEST

/* The member chooses a new PIN on the Members screen (typed twice, a
 * mismatch asked again), a manager authorises it, and it pays. */
/* Whether a label under @widget says @text (a toast, for instance). */
static gboolean
label_shown (GtkWidget  *widget,
             const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_label (GTK_LABEL (widget)), text) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (label_shown (child, text))
      return TRUE;
  return FALSE;
}

static gboolean
member_pin_set_toast (gpointer data)
{
  Till *till = data;

  return label_shown (GTK_WIDGET (till->window), "The member's PIN is set.");
}

START_TEST (test_app_member_pin_set_on_the_members_screen)
{
  Till *till = till_new_small ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "New Pin", phone, "p200");
  CtMemberPinDialog *dialog;
  gpointer last = NULL;
  CtPayPage *page;

  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  save_png (till, NULL, "member-pin-members-screen");
  ck_assert (gtk_widget_activate_action (ct_window_get_page_widget (till->window, "members"), "members.member-pin",
                                         NULL));
  ck_assert (wait_until (dialog_up, NULL, 10000));
  /* The PIN, another one (so the PIN is asked again from the start), then
   * the PIN twice. */
  for (int round = 0; round < 4; round++)
    {
      dialog = keypad_on_screen ();
      touch_pin (dialog, round == 1 ? "111111" : "739150");
      if (round == 0)
        shot (till, "member-pin-new");
      last = dialog;
      g_object_add_weak_pointer (G_OBJECT (dialog), &last);
      ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (dialog), "pay"));
      if (round < 3)
        ck_assert (wait_until (dialog_replaced, &last, 10000));
      if (round == 1)
        {
          ck_assert_str_eq (ct_member_pin_dialog_get_problem (keypad_on_screen ()),
                            "The two PINs differ. Please type the new PIN again.");
          shot (till, "member-pin-new-differs");
        }
    }
  ck_assert_ptr_null (keypad_on_screen ());
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert (wait_until (dialog_gone, NULL, 10000));
  /* The PIN dialog closes when the manager's PIN is sent; the new member
   * PIN is the service's once the till says so. */
  ck_assert (wait_until (member_pin_set_toast, till, 20000));

  /* The new PIN pays. */
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  page = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  pay (till, page, "60.00");
  touch_pin (keypad_on_screen (), "739150");
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (keypad_on_screen ()), "pay"));
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (page));
  till_free (till);
}
END_TEST

static gboolean
new_card_dialog_up (gpointer data)
{
  return ct_find_dialog ("ct-new-card-dialog") != NULL;
}

/* The member's PIN rows of the card issue form show dots only. */
static void
assert_masked (AdwMessageDialog *form,
               const char       *name)
{
  GtkWidget *row = find_widget (GTK_WIDGET (form), ADW_TYPE_ENTRY_ROW, name);
  GtkEditable *delegate;

  ck_assert_msg (row != NULL, "no row %s", name);
  delegate = gtk_editable_get_delegate (GTK_EDITABLE (row));
  ck_assert (GTK_IS_TEXT (delegate));
  ck_assert (!gtk_text_get_visibility (GTK_TEXT (delegate)));
  ck_assert_int_eq (gtk_text_get_input_purpose (GTK_TEXT (delegate)), GTK_INPUT_PURPOSE_PIN);
}

/* The card issue form with the member's name and phone, and @pin and
 * @again in its PIN rows. */
static AdwMessageDialog *
issue_form (Till       *till,
            const char *phone)
{
  GtkWidget *members = ct_window_get_page_widget (till->window, "members");
  AdwMessageDialog *form;

  ct_window_show_page (till->window, "members");
  ck_assert (gtk_widget_activate_action (members, "members.issue", NULL));
  form = ct_find_dialog ("ct-issue-dialog");
  ck_assert (form != NULL);
  fill_named (GTK_WIDGET (form), "name", "Issued With Pin");
  fill_named (GTK_WIDGET (form), "phone", phone);
  return form;
}

static void
fill_pins (AdwMessageDialog *form,
           const char       *pin,
           const char       *again)
{
  fill_named (GTK_WIDGET (form), "member-pin", pin);
  fill_named (GTK_WIDGET (form), "member-pin-again", again);
}

/* The member chooses the card's PIN when the card is issued: typed twice
 * in the issue form, shown as dots, held to the member PIN rule; the card
 * is issued with it, and it pays over the merchant's consent limit. */
START_TEST (test_app_member_pin_chosen_at_card_issue)
{
  Till *till = till_new_small ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  AdwMessageDialog *form = issue_form (till, phone);
  AdwMessageDialog *done;
  CtPayPage *page;

  assert_masked (form, "member-pin");
  assert_masked (form, "member-pin-again");
  /* No PIN is a card without one; a PIN half typed is not a mistake yet. */
  ck_assert (adw_message_dialog_get_response_enabled (form, "continue"));
  ck_assert (label_shown (GTK_WIDGET (form), "The member may choose a 6-digit PIN for paying with the card "
                                             "and type it twice. Only dots show."));
  fill_pins (form, "5821", "");
  ck_assert (!adw_message_dialog_get_response_enabled (form, "continue"));
  ck_assert (label_shown (GTK_WIDGET (form), "The member may choose a 6-digit PIN for paying with the card "
                                             "and type it twice. Only dots show."));
  /* The rule: six digits. */
  fill_pins (form, "58a193", "");
  ck_assert (!adw_message_dialog_get_response_enabled (form, "continue"));
  ck_assert (label_shown (GTK_WIDGET (form), "A member PIN is made of digits only."));
  fill_pins (form, "5821930", "5821930");
  ck_assert (!adw_message_dialog_get_response_enabled (form, "continue"));
  ck_assert (label_shown (GTK_WIDGET (form), "A member PIN has 6 digits."));
  /* Twice the same. */
  fill_pins (form, "582193", "582190");
  ck_assert (!adw_message_dialog_get_response_enabled (form, "continue"));
  ck_assert (label_shown (GTK_WIDGET (form), "The two PINs differ."));
  save_png (till, GTK_WIDGET (form), "issue-form-member-pin-differs");
  ck_assert (!ct_dialog_choose (form, "continue"));
  fill_pins (form, "582193", "582193");
  ck_assert (adw_message_dialog_get_response_enabled (form, "continue"));
  save_png (till, GTK_WIDGET (form), "issue-form-member-pin");

  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (new_card_dialog_up, NULL, 15000), "no new-card dialog");
  done = ct_find_dialog ("ct-new-card-dialog");
  ck_assert_msg (strstr (adw_message_dialog_get_body (done), "with the PIN the member chose") != NULL, "%s",
                 adw_message_dialog_get_body (done));
  ck_assert_str_eq (ct_session_get_card (till->session)->member_name, "Issued With Pin");
  card_no = g_strdup (ct_session_get_card (till->session)->card_no);
  ck_assert (ct_dialog_choose (done, "close"));

  /* The card pays with the PIN the member chose, over the limit. */
  {
    g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (till->client);
    g_autoptr(GAsyncResult) topup = NULL;
    g_autoptr(CtReceipt) receipt = NULL;
    g_autoptr(GError) error = NULL;

    ct_client_topup_package_async (till->client, card_no, ct_merchant_find_package (merchant, "p200"),
                                   NULL, async_done_cb, &topup);
    receipt = ct_client_topup_finish (till->client, wait_result (&topup), &error);
    ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");
  }
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  page = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  pay (till, page, "60.00");
  touch_pin (keypad_on_screen (), "582193");
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (keypad_on_screen ()), "pay"));
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (page));

  /* Without a PIN the form issues a card as before: it has no PIN. */
  g_free (phone);
  phone = unique_phone ();
  form = issue_form (till, phone);
  ck_assert (ct_dialog_choose (form, "continue"));
  answer_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (new_card_dialog_up, NULL, 15000), "no new-card dialog");
  done = ct_find_dialog ("ct-new-card-dialog");
  ck_assert (strstr (adw_message_dialog_get_body (done), "with the PIN") == NULL);
  ck_assert (ct_dialog_choose (done, "close"));
  till_free (till);
}
END_TEST

/* The keypad in Chinese at 1024×600, to look at. */
START_TEST (test_app_member_pin_in_chinese)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);
  g_autofree char *card_no = NULL;
  CtMemberPinDialog *dialog;
  gpointer last = NULL;
  CtPayPage *page;
  Till *till;

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  ck_assert_str_ne (_("That PIN is wrong. Please type it again."), "That PIN is wrong. Please type it again.");

  till = till_new_small ();
  page = member_on_pay (till, &card_no);
  pay (till, page, "60.00");
  dialog = keypad_on_screen ();
  touch_pin (dialog, "111");
  shot (till, "member-pin-keypad-zh_CN");
  touch_pin (dialog, "111");
  last = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), &last);
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (dialog), "pay"));
  ck_assert (wait_until (dialog_replaced, &last, 20000));
  shot (till, "member-pin-wrong-zh_CN");
  touch_pin (keypad_on_screen (), MEMBER_PIN);
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (keypad_on_screen ()), "pay"));
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (page));

  /* The card issue form with the member's PIN rows. */
  {
    g_autofree char *phone = unique_phone ();
    AdwMessageDialog *form = issue_form (till, phone);

    fill_named (GTK_WIDGET (form), "name", "陈静");
    save_png (till, GTK_WIDGET (form), "issue-form-member-pin-zh_CN");
    fill_pins (form, "582193", "582190");
    ck_assert (!label_shown (GTK_WIDGET (form), "The two PINs differ."));
    save_png (till, GTK_WIDGET (form), "issue-form-member-pin-differs-zh_CN");
    ck_assert (ct_dialog_choose (form, "cancel"));
  }

  till_free (till);
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-member-pin");
  TCase *tc = tcase_create ("member_pin");
  SRunner *runner;
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  gtk_init ();
  adw_init ();

  tcase_set_timeout (tc, 400);
  tcase_add_checked_fixture (tc, setup, teardown);
  add_test (tc, test_app_member_pin_wrong_then_right_escape_and_lockout);
  add_test (tc, test_app_member_pin_set_on_the_members_screen);
  add_test (tc, test_app_member_pin_chosen_at_card_issue);
  add_test (tc, test_app_member_pin_in_chinese);
  suite_add_tcase (s, tc);

  runner = srunner_create (s);
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_VERBOSE);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);

  return failed == 0 ? 0 : 1;
}
