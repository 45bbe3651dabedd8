/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app"

#include "config.h"

#include <check.h>
#include <adwaita.h>

#include "ct-format.h"
#include "ct-keypad.h"
#include "ct-phone.h"
#include "ct-screenshot.h"
#include "ct-app-fixture.h"

/* UI tests: the real window, driven through its actions and widgets,
 * against a real cardtill-service over HTTPS on 127.0.0.1. Each test
 * asserts what the screen shows and saves a PNG into the build dir.
 * This file holds the window as a whole (its screens, the demo
 * walk-through) and the wording; each screen has a file of its own
 * (test-app-scan.c, test-app-topup.c, test-app-pay.c, test-app-members.c,
 * test-app-sync.c…). */

/* Navigation */

START_TEST (test_app_window_navigates_every_screen)
{
  static const char *pages[] = { "scan", "topup", "pay", "members", "import", "sync", "settings" };
  Till *till = till_new ();

  ck_assert_str_eq (ct_window_get_page (till->window), "scan");

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", pages[i]));
      ct_screenshot_settle (150);
      ck_assert_str_eq (ct_window_get_page (till->window), pages[i]);
      save_png (till, NULL, pages[i]);
    }

  /* The header names the store and till and says the till is online. */
  ck_assert_msg (strstr (ct_window_get_header_text (till->window), "Test Shop") != NULL,
                 "header: %s", ct_window_get_header_text (till->window));
  ck_assert_msg (strstr (ct_window_get_header_text (till->window), "Till 1") != NULL,
                 "header: %s", ct_window_get_header_text (till->window));
  ck_assert_msg (g_str_has_prefix (ct_window_get_connection_text (till->window), "Online"),
                 "connection: %s", ct_window_get_connection_text (till->window));

  till_free (till);
}
END_TEST
START_TEST (test_app_demo_walkthrough_writes_every_screen)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *binary = g_build_filename (builddir, "src", "app", "cardtill", NULL);
  g_autofree char *service_bin = g_build_filename (builddir, "src", "service", "cardtill-service", NULL);
  g_autofree char *data_dir = g_dir_make_tmp ("cardtill-demo-XXXXXX", NULL);
  g_autofree char *out_dir = g_build_filename (data_dir, "out", NULL);
  const char *argv[] = { binary, "--demo", "--demo-walkthrough", out_dir, NULL };
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autofree char *err = NULL;
  int status = -1;
  guint pngs = 0;

  envp = g_environ_setenv (envp, "CARDTILL_DATA_DIR", data_dir, TRUE);
  envp = g_environ_setenv (envp, "CARDTILL_SERVICE_BIN", service_bin, TRUE);
  envp = g_environ_unsetenv (envp, "CARDTILL_SERVICE");
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error), "%s", error ? error->message : "");
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "walk-through failed: %s", err);

  dir = g_dir_open (out_dir, 0, &error);
  ck_assert (dir != NULL);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (g_str_has_suffix (name, ".png"))
      pngs++;
  ck_assert_uint_eq (pngs, 19);

  remove_tree (data_dir);
}
END_TEST

/* Wording */

START_TEST (test_app_errors_are_cashier_words_not_codes)
{
  for (int code = CT_CLIENT_ERROR_BAD_REQUEST; code <= CT_CLIENT_ERROR_EMBEDDED; code++)
    {
      g_autoptr(GError) error = g_error_new_literal (CT_CLIENT_ERROR, code, "raw_service_message");
      g_autofree char *text = ct_format_error (error);
      const char *raw = ct_client_error_code_to_string (code);

      ck_assert_msg (strstr (text, "raw_service_message") == NULL, "%s", text);
      ck_assert_msg (raw == NULL || strstr (text, raw) == NULL, "code %s shown: %s", raw, text);
      ck_assert (strlen (text) > 10);
    }
}
END_TEST

START_TEST (test_app_format_masks_phone_and_groups_card)
{
  g_autofree char *phone = ct_phone_mask ("13812345678");
  g_autofree char *card = ct_format_card_no ("8888123412341234");
  g_autofree char *legacy = ct_format_card_no ("OLD-42");
  g_autofree char *money = ct_format_money (123450, 2, "CNY");
  g_autofree char *negative = ct_format_signed_money (-1000, 2, "CNY");
  g_autofree char *positive = ct_format_signed_money (1000, 2, "CNY");

  ck_assert_str_eq (phone, "138****5678");
  ck_assert_str_eq (card, "8888 1234 1234 1234");
  ck_assert_str_eq (legacy, "OLD-42");
  ck_assert_str_eq (money, "¥1,234.50");
  ck_assert_str_eq (negative, "-¥10.00");
  ck_assert_str_eq (positive, "+¥10.00");
}
END_TEST

START_TEST (test_app_keypad_types_into_its_entry)
{
  GtkWidget *entry = gtk_entry_new ();
  GtkWidget *keypad = ct_keypad_new ();

  g_object_ref_sink (entry);
  g_object_ref_sink (keypad);
  ct_keypad_set_target (CT_KEYPAD (keypad), GTK_EDITABLE (entry));
  ct_keypad_press (CT_KEYPAD (keypad), "1");
  ct_keypad_press (CT_KEYPAD (keypad), "00");
  ct_keypad_press (CT_KEYPAD (keypad), ".");
  ct_keypad_press (CT_KEYPAD (keypad), "5");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), "100.5");
  ct_keypad_press (CT_KEYPAD (keypad), "back");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), "100.");
  ct_keypad_press (CT_KEYPAD (keypad), "clear");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), "");
  g_object_unref (keypad);
  g_object_unref (entry);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app");
  TCase *tc;

  tc = tcase_create ("format");
  add_test (tc, test_app_errors_are_cashier_words_not_codes);
  add_test (tc, test_app_format_masks_phone_and_groups_card);
  add_test (tc, test_app_keypad_types_into_its_entry);
  suite_add_tcase (s, tc);

  tc = tcase_create ("window");
  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_window_navigates_every_screen);
  add_test (tc, test_app_demo_walkthrough_writes_every_screen);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
