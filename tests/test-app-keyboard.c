/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-keyboard"

#include "config.h"

#include <check.h>
#include <X11/keysym.h>

#include "ct-app-fixture.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pin-dialog.h"
#include "ct-receipt-page.h"
#include "ct-screenshot.h"

/* The till driven from the keyboard alone, with real key events through
 * the X server: dialogs that submit with Enter and close, focus that
 * follows the form. */

static gboolean
no_pin_dialog (gpointer data)
{
  return count_windows (CT_TYPE_PIN_DIALOG) == 0;
}

static gboolean
pin_dialog_focused (gpointer data)
{
  CtPinDialog *dialog = ct_pin_dialog_find ();

  return dialog != NULL && gtk_window_is_active (GTK_WINDOW (dialog));
}

/* Types into the PIN dialog on screen as a manager does: the manager id
 * and Tab (unless the till remembers the manager and the PIN has the
 * focus), the PIN, Enter. */
static void
type_pin (const char *manager,
          const char *pin)
{
  CtPinDialog *dialog;

  ck_assert_msg (wait_until (pin_dialog_up, NULL, 20000), "no PIN dialog");
  dialog = ct_pin_dialog_find ();
  keys_focus (GTK_WINDOW (dialog));
  ck_assert (wait_until (pin_dialog_focused, NULL, 10000));
  if (gtk_widget_get_ancestor (gtk_root_get_focus (GTK_ROOT (dialog)), ADW_TYPE_PASSWORD_ENTRY_ROW) == NULL)
    {
      keys_type (manager, 30);
      keys_press (XK_Tab);
    }
  keys_type (pin, 30);
  keys_press (XK_Return);
}

START_TEST (test_app_keyboard_pin_dialog_closes_on_enter)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Enter Member", phone, "p200");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  AdwMessageDialog *form;
  g_autofree char *text = NULL;

  pay_directly (till, card_no, 5000);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.adjust", NULL));
  form = ct_find_dialog ("ct-adjust-dialog");
  ck_assert (form != NULL);
  fill_named (GTK_WIDGET (form), "delta", "+12.00");
  fill_named (GTK_WIDGET (form), "reason", "Goodwill");
  ck_assert (ct_dialog_choose (form, "continue"));

  /* A wrong PIN and Enter: the same dialog asks again; it is the only one. */
  type_pin (CT_TEST_SERVICE_MANAGER_ID, "000000");
  ck_assert_msg (wait_until (pin_dialog_with_problem, NULL, 20000), "no second PIN prompt");
  ck_assert_uint_eq (count_windows (CT_TYPE_PIN_DIALOG), 1);

  /* The right PIN and Enter: the adjustment is made and no dialog stays
   * to block the till. */
  type_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt after the right PIN");
  ck_assert_msg (wait_until (no_pin_dialog, NULL, 10000), "%u PIN dialogs stay open",
                 count_windows (CT_TYPE_PIN_DIALOG));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Change: +¥12.00") != NULL, "%s", text);

  /* The till answers the keyboard again: F2 goes to the scan screen. */
  keys_focus (GTK_WINDOW (till->window));
  keys_press (XK_F2);
  ck_assert (wait_until (scan_page_shown, till, 10000));

  till_free (till);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-keyboard");
  TCase *tc = tcase_create ("keyboard");
  SRunner *runner;
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  gtk_init ();
  adw_init ();

  tcase_set_timeout (tc, 300);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_keyboard_pin_dialog_closes_on_enter);
  suite_add_tcase (s, tc);

  runner = srunner_create (s);
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_VERBOSE);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);

  return failed == 0 ? 0 : 1;
}
