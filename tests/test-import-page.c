/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-import-page"
#include "config.h"

#include <check.h>
#include <adwaita.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <string.h>

#include "ct-import-page.h"
#include "ct-screenshot.h"
#include "ct-test-service.h"

/* The Import screen in a real window under Xvfb, against a real service:
 * check a file, read the preview and the totals, fix a mapping, import,
 * and keep the window responsive while a large file is read. */

static CtTestService *svc;
static CtClient *client;
static char *tmp_dir;

static char *
fixture_path (const char *name)
{
  const char *top = g_getenv ("CT_TOP_SRCDIR");

  return g_build_filename (top != NULL ? top : ".", "tests", "fixtures", "import", name, NULL);
}

static char *
png_path (const char *name)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *dir = g_build_filename (builddir ? builddir : ".", "screenshots", NULL);
  g_autofree char *file = g_strdup_printf ("import-%s.png", name);

  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, file, NULL);
}

/* Saves a PNG of @window, letting a slow (sanitizer, loaded CI) machine map
 * and draw it first. */
static void
save_png (GtkWidget  *window,
          const char *name)
{
  g_autofree char *path = png_path (name);
  g_autoptr(GError) error = NULL;

  for (guint attempt = 0; attempt < 50; attempt++)
    {
      g_clear_error (&error);
      if (ct_screenshot_save_png (window, path, &error))
        return;
      ct_screenshot_settle (100);
    }
  ck_abort_msg ("screenshot %s: %s", name, error->message);
}

static void
setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtClientConfig) config = ct_client_config_new ();

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "%s", error ? error->message : "");
  tmp_dir = g_dir_make_tmp ("ct-import-page-XXXXXX", NULL);
  config->service_url = g_strdup (ct_test_service_get_url (svc));
  config->token = g_strdup (ct_test_service_get_token (svc));
  config->ca_file = g_strdup (ct_test_service_get_ca_file (svc));
  config->data_dir = g_build_filename (tmp_dir, "till", NULL);
  config->operator_name = g_strdup ("tester");
  client = ct_client_new (config, &error);
  ck_assert_msg (client != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ct_client_start (client, NULL, NULL, NULL, &error), "%s",
                 error ? error->message : "");
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d != NULL)
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static void
teardown (void)
{
  if (client != NULL)
    ct_client_shutdown (client);
  g_clear_object (&client);
  g_clear_pointer (&svc, ct_test_service_free);
  if (tmp_dir != NULL)
    remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Runs the main loop until the page is idle; fails after @seconds. */
static void
wait_idle (CtImportPage *page,
           guint         seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (ct_import_page_is_busy (page) && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  ck_assert_msg (!ct_import_page_is_busy (page), "the page stayed busy");
  ct_screenshot_settle (100);
}

static int64_t
ledger_cards (void)
{
  g_autoptr(CtTestResponse) resp = ct_test_http (svc, "GET", "/v1/ledger/check", NULL, NULL, NULL);
  json_object *obj, *v = NULL, *sum = NULL;
  int64_t cards;

  ck_assert (resp != NULL && resp->status == 200);
  obj = json_tokener_parse (resp->body);
  ck_assert (json_object_object_get_ex (obj, "sum", &sum));
  ck_assert_int_eq (json_object_get_int64 (sum), 0);
  ck_assert (json_object_object_get_ex (obj, "cards", &v));
  cards = json_object_get_int64 (v);
  json_object_put (obj);
  return cards;
}

static GtkWidget *
show_page (CtImportPage **out_page)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *page = ct_import_page_new (client);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 900);
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_present (GTK_WINDOW (window));
  ct_screenshot_settle (200);
  *out_page = CT_IMPORT_PAGE (page);
  return window;
}

START_TEST (test_import_page_checks_previews_and_imports)
{
  CtImportPage *page;
  GtkWidget *window = show_page (&page);
  g_autofree char *csv = fixture_path ("bad-rows.csv");
  g_autoptr(GFile) file = g_file_new_for_path (csv);
  g_autofree char *report = NULL;
  GListModel *preview;
  CtImportTotals check;
  CtImportProgress progress;
  gboolean saw_issued_range = FALSE;

  ct_import_page_open_file (page, file);
  ck_assert (ct_import_page_is_busy (page));
  wait_idle (page, 30);
  ck_assert (ct_import_page_is_loaded (page));

  ct_import_page_get_check (page, &check);
  ck_assert_uint_eq (check.accepted, 5);
  ck_assert_uint_eq (check.rejected, 18);
  ck_assert_int_eq (check.total_balance, 125950);

  preview = ct_import_page_get_preview (page);
  ck_assert_uint_eq (g_list_model_get_n_items (preview), 23);
  ck_assert_msg (strstr (ct_import_page_get_result_text (page), "18 rows will not be imported") != NULL,
                 "%s", ct_import_page_get_result_text (page));
  save_png (window, "check");

  /* The check wrote a report of the rejects before anything was sent. */
  ck_assert (g_file_get_contents (ct_import_page_get_report_path (page), &report, NULL, NULL));
  saw_issued_range = strstr (report, "5,8888000011112222,card_in_issued_range,") != NULL;
  ck_assert_msg (saw_issued_range, "%s", report);
  ck_assert_int_eq (ledger_cards (), 0);

  /* Without the manager nothing starts. */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.start", NULL));
  ck_assert (!ct_import_page_is_busy (page));
  ck_assert_int_eq (ledger_cards (), 0);

  ct_import_page_set_manager (page, CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.start", NULL));
  ck_assert (ct_import_page_is_busy (page));
  wait_idle (page, 60);
  ct_import_page_get_progress (page, &progress);
  ck_assert_uint_eq (progress.accepted, 5);
  ck_assert_uint_eq (progress.rejected, 18);
  ck_assert_int_eq (progress.total_balance, 125950);
  ck_assert_msg (strstr (ct_import_page_get_result_text (page), "Imported 5 cards") != NULL,
                 "%s", ct_import_page_get_result_text (page));
  /* The final report rests on the service's own count of the batch. */
  ck_assert_msg (strstr (ct_import_page_get_result_text (page),
                         "The service holds 5 cards of this file, with ¥1,259.50 in all.") != NULL,
                 "%s", ct_import_page_get_result_text (page));
  ck_assert_int_eq (ledger_cards (), 125950);
  save_png (window, "done");

  /* Importing again (a resume on a complete batch) changes nothing. */
  ct_import_page_set_manager (page, CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.start", NULL));
  wait_idle (page, 60);
  ct_import_page_get_progress (page, &progress);
  ck_assert_uint_eq (progress.accepted, 5);
  ck_assert_int_eq (ledger_cards (), 125950);

  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

START_TEST (test_import_page_mapping_step_fixes_a_missing_column)
{
  CtImportPage *page;
  GtkWidget *window = show_page (&page);
  g_autofree char *csv = fixture_path ("missing-balance.csv");
  g_autoptr(GFile) file = g_file_new_for_path (csv);
  CtImportTotals check;

  ct_import_page_open_file (page, file);
  wait_idle (page, 30);
  ck_assert (!ct_import_page_is_loaded (page));
  ck_assert_msg (strstr (ct_import_page_get_result_text (page), "balance") != NULL, "%s",
                 ct_import_page_get_result_text (page));
  save_png (window, "mapping");

  /* The manager says the "amount" column is the balance. */
  ck_assert (ct_import_page_set_column_field (page, "amount", CT_IMPORT_FIELD_BALANCE));
  wait_idle (page, 30);
  ck_assert (ct_import_page_is_loaded (page));
  ct_import_page_get_check (page, &check);
  ck_assert_uint_eq (check.rejected, 1); /* "M1" is too short for a card number */
  ck_assert_uint_eq (check.accepted, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

START_TEST (test_import_page_encoding_can_be_forced)
{
  CtImportPage *page;
  GtkWidget *window = show_page (&page);
  g_autofree char *csv = fixture_path ("gb18030-chinese.csv");
  g_autoptr(GFile) file = g_file_new_for_path (csv);
  CtImportTotals check;

  ct_import_page_open_file (page, file);
  wait_idle (page, 30);
  ck_assert (ct_import_page_is_loaded (page));
  ct_import_page_get_check (page, &check);
  ck_assert_uint_eq (check.accepted, 3);

  /* Forcing UTF-8 on GB18030 bytes is refused with the line it fails on. */
  ct_import_page_set_encoding (page, CT_CSV_ENCODING_UTF8);
  wait_idle (page, 30);
  ck_assert (!ct_import_page_is_loaded (page));
  ck_assert_msg (strstr (ct_import_page_get_result_text (page), "Line 1 is not valid UTF-8") != NULL,
                 "%s", ct_import_page_get_result_text (page));

  ct_import_page_set_encoding (page, CT_CSV_ENCODING_GB18030);
  wait_idle (page, 30);
  ck_assert (ct_import_page_is_loaded (page));
  ct_import_page_get_check (page, &check);
  ck_assert_uint_eq (check.accepted, 3);
  ck_assert_int_eq (check.total_balance, 125750);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

START_TEST (test_import_page_preview_shows_rejects_further_down)
{
  CtImportPage *page;
  GtkWidget *window = show_page (&page);
  g_autofree char *path = g_build_filename (tmp_dir, "late-rejects.csv", NULL);
  g_autoptr(GString) data = g_string_new ("card_no,balance\n");
  g_autoptr(GFile) file = NULL;
  GListModel *preview;

  for (guint i = 0; i < 500; i++)
    g_string_append_printf (data, "LATE%04u,1.00\n", i);
  g_string_append (data, "LATEBAD1,-1.00\nLATEBAD2,1.005\nLATEBAD3,\n");
  ck_assert (g_file_set_contents (path, data->str, data->len, NULL));
  file = g_file_new_for_path (path);

  ct_import_page_open_file (page, file);
  wait_idle (page, 30);
  preview = ct_import_page_get_preview (page);
  /* The first 100 rows, then the three rejects from the end of the file. */
  ck_assert_uint_eq (g_list_model_get_n_items (preview), 103);
  save_png (window, "late-rejects");
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

typedef struct
{
  CtImportPage *page;
  gint64        last;
  gint64        max_gap;
} Ticks;

/* Measures the gaps between ticks while the worker reads the file (the
 * page filling its table once the check is done is not a stall). */
static gboolean
tick_cb (gpointer user_data)
{
  Ticks *t = user_data;
  gint64 now = g_get_monotonic_time ();

  if (t->last != 0 && ct_import_page_is_busy (t->page))
    t->max_gap = MAX (t->max_gap, now - t->last);
  t->last = now;
  return G_SOURCE_CONTINUE;
}

START_TEST (test_import_page_large_file_never_freezes_the_window)
{
  CtImportPage *page;
  GtkWidget *window = show_page (&page);
  g_autofree char *path = g_build_filename (tmp_dir, "large.csv", NULL);
  g_autoptr(GString) data = g_string_new ("卡号,姓名,余额\n");
  g_autoptr(GFile) file = NULL;
  Ticks ticks = { NULL, 0, 0 };
  guint source;
  CtImportTotals check;

  for (guint i = 0; i < 300000; i++)
    g_string_append_printf (data, "W%07u,会员%u,%u.%02u\n", i, i, i % 1000, i % 100);
  ck_assert (g_file_set_contents (path, data->str, data->len, NULL));
  file = g_file_new_for_path (path);

  /* A check can be cancelled; the page then offers nothing to import. */
  ct_import_page_open_file (page, file);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.cancel", NULL));
  wait_idle (page, 60);
  ck_assert (!ct_import_page_is_loaded (page));
  ck_assert_msg (strstr (ct_import_page_get_result_text (page), "cancelled") != NULL, "%s",
                 ct_import_page_get_result_text (page));

  ticks.page = page;
  source = g_timeout_add (10, tick_cb, &ticks);
  ct_import_page_open_file (page, file);
  wait_idle (page, 120);
  g_source_remove (source);

  ct_import_page_get_check (page, &check);
  ck_assert_uint_eq (check.accepted, 300000);
  /* Only the first rows are previewed when none is rejected. */
  ck_assert_uint_eq (g_list_model_get_n_items (ct_import_page_get_preview (page)), 100);
  /* The main loop kept running while the file was read on a worker (the
   * check itself takes seconds; a stall would show as one long gap). */
  ck_assert_msg (ticks.max_gap < 500 * 1000, "the main loop stalled for %" G_GINT64_FORMAT " ms",
                 ticks.max_gap / 1000);

  /* Closing the window while a check runs leaves the worker to finish
   * quietly. */
  ct_import_page_open_file (page, file);
  gtk_window_destroy (GTK_WINDOW (window));
  {
    gint64 until = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;

    while (g_get_monotonic_time () < until)
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
  }
  g_unlink (path);
}
END_TEST

START_TEST (test_import_page_cancel_then_import_again_resumes)
{
  CtImportPage *page;
  GtkWidget *window = show_page (&page);
  g_autofree char *path = g_build_filename (tmp_dir, "cancel.csv", NULL);
  g_autoptr(GString) data = g_string_new ("card_no,balance\n");
  g_autoptr(GFile) file = NULL;
  CtImportProgress progress = { 0 };
  int64_t total = 0, partial;
  gint64 deadline;

  for (guint i = 0; i < 150000; i++)
    {
      g_string_append_printf (data, "X%07u,%u.%02u\n", i, i % 1000, i % 100);
      total += (i % 1000) * 100 + i % 100;
    }
  ck_assert (g_file_set_contents (path, data->str, data->len, NULL));
  file = g_file_new_for_path (path);
  ct_import_page_open_file (page, file);
  wait_idle (page, 120);

  ct_import_page_set_manager (page, CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.start", NULL));
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (progress.chunks == 0 && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
      ct_import_page_get_progress (page, &progress);
    }
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.cancel", NULL));
  wait_idle (page, 60);
  ck_assert_msg (strstr (ct_import_page_get_result_text (page), "cancelled") != NULL, "%s",
                 ct_import_page_get_result_text (page));
  partial = ledger_cards ();
  ck_assert_msg (partial > 0 && partial < total, "%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT,
                 partial, total);

  /* Import again: it resumes, and every balance is in exactly once. */
  ct_import_page_set_manager (page, CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (page), "import.start", NULL));
  wait_idle (page, 120);
  ct_import_page_get_progress (page, &progress);
  ck_assert_uint_eq (progress.accepted, 150000);
  ck_assert_int_eq (ledger_cards (), total);
  g_unlink (path);
  gtk_window_destroy (GTK_WINDOW (window));
}
END_TEST

static Suite *
import_page_suite (void)
{
  Suite *s = suite_create ("import-page");
  TCase *tc = tcase_create ("page");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_import_page_checks_previews_and_imports);
  tcase_add_test (tc, test_import_page_mapping_step_fixes_a_missing_column);
  tcase_add_test (tc, test_import_page_encoding_can_be_forced);
  tcase_add_test (tc, test_import_page_preview_shows_rejects_further_down);
  tcase_add_test (tc, test_import_page_large_file_never_freezes_the_window);
  tcase_add_test (tc, test_import_page_cancel_then_import_again_resumes);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int    argc,
      char **argv)
{
  SRunner *runner;
  int failed;

  gtk_init ();
  adw_init ();
  runner = srunner_create (import_page_suite ());
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
