/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app"

#include "config.h"

#include <check.h>
#include <adwaita.h>

#include "ct-screenshot.h"
#include "ct-window.h"

static char *
png_path (const char *name)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *dir = g_build_filename (builddir ? builddir : ".", "screenshots", NULL);
  g_autofree char *file = g_strdup_printf ("app-%s.png", name);

  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, file, NULL);
}

START_TEST (test_app_window_navigates_every_screen)
{
  static const char *pages[] = { "scan", "topup", "pay", "members", "import", "sync", "settings" };
  CtWindow *window = ct_window_new (NULL);

  gtk_window_present (GTK_WINDOW (window));
  ct_screenshot_settle (300);

  ck_assert_str_eq (ct_window_get_page (window), "scan");

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *path = png_path (pages[i]);
      g_autoptr(GError) error = NULL;

      ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.page", "s", pages[i]));
      ct_screenshot_settle (250);
      ck_assert_str_eq (ct_window_get_page (window), pages[i]);
      ck_assert_msg (ct_screenshot_save_png (GTK_WIDGET (window), path, &error),
                     "%s", error ? error->message : "");
      ck_assert (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
app_suite (void)
{
  Suite *s = suite_create ("app");
  TCase *tc = tcase_create ("window");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_app_window_navigates_every_screen);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *runner;
  int failed;

  gtk_init ();
  adw_init ();

  runner = srunner_create (app_suite ());
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_VERBOSE);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);

  return failed == 0 ? 0 : 1;
}
