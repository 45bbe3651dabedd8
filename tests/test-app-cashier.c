/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-cashier"

#include "config.h"

#include <check.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "ct-app-fixture.h"
#include "ct-pay-page.h"
#include "ct-screenshot.h"
#include "ct-sign-in-page.h"

/* Who is at the till: with cashiers at the service, the real window asks
 * for a cashier id and PIN before it takes money, records the cashier on
 * what it takes, and locks on F12 or when idle without losing the till's
 * state. The service here has cashier c1 (李娜). */

#define CASHIER_ID   "c1"
#define CASHIER_NAME "李娜"
#define CASHIER_PIN  "135790"

static void
cashier_service_setup (void)
{
  g_autofree char *pin_path = NULL;

  service_setup ();
  pin_path = g_build_filename (ct_test_service_get_data_dir (service), "cashier.pin", NULL);
  ck_assert (g_file_set_contents (pin_path, CASHIER_PIN "\n", -1, NULL));
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "cashier", "add", "--id", CASHIER_ID,
                                           "--name", CASHIER_NAME, "--pin-file", pin_path, NULL), 0);
}

static CtSignInPage *
sign_in_page (Till *till)
{
  return CT_SIGN_IN_PAGE (find_widget (GTK_WIDGET (till->window), CT_TYPE_SIGN_IN_PAGE, NULL));
}

static gboolean
locked (gpointer data)
{
  Till *till = data;

  return ct_window_is_locked (till->window) && gtk_widget_get_mapped (GTK_WIDGET (sign_in_page (till)));
}

static gboolean
unlocked (gpointer data)
{
  Till *till = data;

  return !ct_window_is_locked (till->window);
}

static gboolean
sign_in_problem_gone (gpointer data)
{
  Till *till = data;

  return ct_sign_in_page_get_problem (sign_in_page (till)) == NULL;
}

static gboolean
sign_in_problem_shown (gpointer data)
{
  Till *till = data;
  CtSignInPage *page = sign_in_page (till);

  return !ct_sign_in_page_get_busy (page) && ct_sign_in_page_get_problem (page) != NULL;
}

/* A till whose window asks who is at it. */
static Till *
locked_till (void)
{
  Till *till = till_new ();

  ck_assert_msg (wait_until (locked, till, 20000), "the sign-in screen did not come up");
  return till;
}

/* Types the PIN into its field and presses Enter, as a cashier does. */
static void
enter_pin (Till       *till,
           const char *cashier_id,
           const char *pin)
{
  GtkWidget *page = GTK_WIDGET (sign_in_page (till));

  fill_named (page, "cashier", cashier_id);
  fill_named (page, "pin", pin);
  keys_focus (GTK_WINDOW (till->window));
  gtk_widget_grab_focus (find_widget (page, ADW_TYPE_PASSWORD_ENTRY_ROW, "pin"));
  keys_press (GDK_KEY_Return);
}

static void
sign_in (Till *till)
{
  enter_pin (till, CASHIER_ID, CASHIER_PIN);
  ck_assert_msg (wait_until (unlocked, till, 30000), "the right PIN did not sign in: %s",
                 ct_sign_in_page_get_problem (sign_in_page (till)));
  ck_assert_str_eq (ct_client_get_operator (till->client), CASHIER_ID);
  ck_assert_str_eq (ct_session_get_cashier (till->session)->name, CASHIER_NAME);
}

static const char *
pin_field_text (Till *till)
{
  return gtk_editable_get_text (GTK_EDITABLE (find_widget (GTK_WIDGET (sign_in_page (till)),
                                                           ADW_TYPE_PASSWORD_ENTRY_ROW, "pin")));
}

static gboolean
settings_shown (gpointer data)
{
  Till *till = data;

  return gtk_widget_get_mapped (ct_window_get_page_widget (till->window, "settings"));
}

/* Settings, where nobody types the operator while cashiers sign in. */
static void
show_settings (Till *till)
{
  GtkWidget *page;

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "settings"));
  ck_assert (wait_until (settings_shown, till, 10000));
  page = ct_window_get_page_widget (till->window, "settings");
  ck_assert (!gtk_widget_get_visible (find_widget (page, ADW_TYPE_ENTRY_ROW, "operator")));
  /* The settings screen is the largest: let its first layout finish. */
  ct_screenshot_settle (1500);
}

START_TEST (test_app_cashier_wrong_pin_then_sign_in)
{
  Till *till = locked_till ();
  GtkWidget *cashier_button;

  /* Nothing of the till answers while it is locked. */
  gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay");
  keys_focus (GTK_WINDOW (till->window));
  keys_press (GDK_KEY_F4);
  ck_assert (locked (till));
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  save_png (till, NULL, "sign-in");

  enter_pin (till, CASHIER_ID, "999999");
  ck_assert_msg (wait_until (sign_in_problem_shown, till, 30000), "no sentence for the wrong PIN");
  ck_assert_str_eq (ct_sign_in_page_get_problem (sign_in_page (till)),
                    "Wrong cashier ID or PIN. Check both and try again.");
  ck_assert_str_eq (pin_field_text (till), "");
  ck_assert (ct_window_is_locked (till->window));
  save_png (till, NULL, "sign-in-wrong-pin");

  sign_in (till);
  /* The header says who is at the till. */
  cashier_button = find_widget (GTK_WIDGET (till->window), GTK_TYPE_BUTTON, "cashier");
  ck_assert (gtk_widget_get_visible (cashier_button));
  ck_assert_str_eq (gtk_label_get_label (GTK_LABEL (find_widget (cashier_button, GTK_TYPE_LABEL, NULL))),
                    CASHIER_NAME);
  show_settings (till);
  save_png (till, NULL, "signed-in-settings");
  till_free (till);
}
END_TEST

START_TEST (test_app_cashier_is_locked_after_five_wrong_pins)
{
  g_autofree char *pin_path = g_build_filename (ct_test_service_get_data_dir (service), "c2.pin", NULL);
  Till *till = NULL;
  const char *problem;

  ck_assert (g_file_set_contents (pin_path, "246800\n", -1, NULL));
  ck_assert_int_eq (ct_test_service_admin (service, NULL, "cashier", "add", "--id", "c2", "--name", "Bo",
                                           "--pin-file", pin_path, NULL), 0);
  till = locked_till ();
  for (int i = 0; i < 6; i++)
    {
      enter_pin (till, "c2", "111111");
      /* Sending clears the sentence of the attempt before. */
      ck_assert (wait_until (sign_in_problem_gone, till, 10000));
      ck_assert_msg (wait_until (sign_in_problem_shown, till, 30000), "no sentence for wrong PIN %d", i + 1);
      if (i < 5)
        fill_named (GTK_WIDGET (sign_in_page (till)), "pin", "");
    }
  problem = ct_sign_in_page_get_problem (sign_in_page (till));
  ck_assert_msg (strstr (problem, "Cashier c2 is locked after too many wrong PINs") != NULL, "%s", problem);
  save_png (till, NULL, "sign-in-locked");
  till_free (till);
}
END_TEST

static gboolean
have_card (gpointer data)
{
  return card_fresh (data);
}

START_TEST (test_app_cashier_payment_and_shift_carry_the_cashier)
{
  Till *till = locked_till ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autoptr(CtTestResponse) history = NULL;
  g_autoptr(CtAnswer) shift = NULL;
  g_autoptr(GError) error = NULL;
  CtPayPage *pay;

  sign_in (till);
  card_no = issue_card (till, "Cashier Member", phone, "p100");
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "12.00");
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt: %s", ct_pay_page_get_problem (pay));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, CASHIER_NAME " (" CASHIER_ID ")") != NULL, "%s", text);
  save_png (till, NULL, "cashier-receipt");

  /* The ledger keeps the cashier's id as the operator. */
  path = g_strdup_printf ("/v1/cards/%s/transactions", card_no);
  history = ct_test_http (service, "GET", path, NULL, NULL, &error);
  ck_assert_ptr_nonnull (history);
  ck_assert_msg (strstr (history->body, "\"kind\":\"payment\"") != NULL
                 && strstr (history->body, "\"operator\":\"" CASHIER_ID "\"") != NULL, "%s", history->body);

  /* A shift opened at this till is the cashier's, as the CLI and the
   * shift screen open it: with the client's operator. */
  {
    g_autofree char *open = ct_wire_encode_shift_open (10000, ct_client_get_operator (till->client));
    g_autoptr(GBytes) bytes = g_bytes_new (open, strlen (open));
    CtRequestInfo info = { .kind = CT_OUTBOX_KIND_SHIFT };

    shift = ct_client_request (till->client, "POST", "/v1/shifts", NULL, bytes, &info, NULL, &error);
    ck_assert_msg (shift != NULL && shift->status == 201, "%s", error ? error->message : "");
    body = g_strndup (g_bytes_get_data (shift->body, NULL), g_bytes_get_size (shift->body));
    ck_assert_msg (strstr (body, "\"operator\":\"" CASHIER_ID "\"") != NULL, "%s", body);
  }
  till_free (till);
}
END_TEST

START_TEST (test_app_cashier_ctrl_l_locks_and_keeps_the_till)
{
  Till *till = locked_till ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  CtPayPage *pay;

  sign_in (till);
  card_no = issue_card (till, "Lock Member", phone, "p100");
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "8.00");

  keys_focus (GTK_WINDOW (till->window));
  keys_press (GDK_KEY_F12);
  ck_assert_msg (wait_until (locked, till, 10000), "F12 did not lock the till");
  /* A scan at a locked till takes no customer. */
  ct_window_handle_scan (till->window, "8888000000000000");
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  save_png (till, NULL, "locked-f12");

  /* The cashier who locked it signs in with the PIN alone. */
  fill_named (GTK_WIDGET (sign_in_page (till)), "pin", CASHIER_PIN);
  keys_press (GDK_KEY_Return);
  ck_assert_msg (wait_until (unlocked, till, 30000), "%s", ct_sign_in_page_get_problem (sign_in_page (till)));
  ck_assert_str_eq (ct_window_get_page (till->window), "pay");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay))), "8.00");
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  ck_assert (have_card (till));
  till_free (till);
}
END_TEST

START_TEST (test_app_cashier_idle_minutes_lock_the_till)
{
  Till *till = locked_till ();
  gint64 signed_in_at;

  sign_in (till);
  signed_in_at = g_get_monotonic_time ();
  g_settings_set_uint (till->settings, "lock-idle-minutes", 1);
  ck_assert_msg (wait_until (locked, till, 150000), "a minute without a key did not lock the till");
  ck_assert_int_ge (g_get_monotonic_time () - signed_in_at, 60 * G_USEC_PER_SEC - G_USEC_PER_SEC);
  g_settings_set_uint (till->settings, "lock-idle-minutes", 0);
  till_free (till);
}
END_TEST

/* The same screens in Chinese, for a look at 1024×600. */
START_TEST (test_app_cashier_screens_in_chinese)
{
  g_autofree char *localedir = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "po", NULL);
  Till *till;

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  till = locked_till ();
  ck_assert_str_ne (_("Who Is at the Till?"), "Who Is at the Till?");
  save_png (till, NULL, "sign-in-zh_CN");
  enter_pin (till, CASHIER_ID, "999999");
  ck_assert_msg (wait_until (sign_in_problem_shown, till, 30000), "no sentence for the wrong PIN");
  ck_assert_str_ne (ct_sign_in_page_get_problem (sign_in_page (till)),
                    "Wrong cashier ID or PIN. Check both and try again.");
  save_png (till, NULL, "sign-in-wrong-pin-zh_CN");
  sign_in (till);
  show_settings (till);
  save_png (till, NULL, "signed-in-settings-zh_CN");
  till_free (till);
  g_setenv ("LANGUAGE", "C", TRUE);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-cashier");
  TCase *tc = tcase_create ("cashier");
  SRunner *runner;
  int failed;

  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "C", TRUE);
  gtk_init ();
  adw_init ();

  tcase_set_timeout (tc, 300);
  tcase_add_unchecked_fixture (tc, cashier_service_setup, service_teardown);
  add_test (tc, test_app_cashier_wrong_pin_then_sign_in);
  add_test (tc, test_app_cashier_is_locked_after_five_wrong_pins);
  add_test (tc, test_app_cashier_payment_and_shift_carry_the_cashier);
  add_test (tc, test_app_cashier_ctrl_l_locks_and_keeps_the_till);
  add_test (tc, test_app_cashier_idle_minutes_lock_the_till);
  add_test (tc, test_app_cashier_screens_in_chinese);
  suite_add_tcase (s, tc);

  runner = srunner_create (s);
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
