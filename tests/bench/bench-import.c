/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-import"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-csv.h"
#include "ct-legacy-import.h"
#include "ct-test-service.h"

/* The legacy import benchmark (docs/performance.md, issue 7): a generated file of
 * BENCH_IMPORT_ROWS rows (default 1,000,000), first parsed alone (the CSV
 * reader, then the whole validation: encoding, duplicates, every row), then
 * imported end to end by cardtill-cli into a real cardtill-service over
 * HTTPS on 127.0.0.1. Prints rows/s, total time and the client's peak RSS,
 * and checks the ledger afterwards. Goals: parse > 1,000,000 rows/s, end to
 * end < 20 s, client < 100 MB. */

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1e6;
}

static char *
generate (const char *dir,
          guint       rows,
          int64_t    *out_total)
{
  g_autofree char *path = g_build_filename (dir, "members.csv", NULL);
  FILE *out = fopen (path, "w");
  int64_t total = 0;

  g_assert (out != NULL);
  fputs ("card_no,name,phone,balance,points,level\n", out);
  for (guint i = 0; i < rows; i++)
    {
      guint fen = (i * 7919u) % 100000u;

      fprintf (out, "M%07u,Member %u,138%08u,%u.%02u,%u,gold\n", i, i, i, fen / 100, fen % 100,
               i % 50);
      total += fen;
    }
  g_assert (fclose (out) == 0);
  *out_total = total;
  return g_steal_pointer (&path);
}

static void
bench_parse (const char *path,
             guint       rows)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autoptr(CtCsvReader) reader = ct_csv_reader_new (G_INPUT_STREAM (in), CT_CSV_ENCODING_UTF8);
  CtImportOptions options = { CT_CSV_ENCODING_AUTO, NULL, 2, NULL };
  g_autoptr(CtLegacyImport) import = NULL;
  g_autoptr(GError) error = NULL;
  CtImportItem item;
  CtImportTotals totals;
  guint64 n = 0;
  gint64 start = g_get_monotonic_time ();
  double t;

  while (ct_csv_reader_next (reader, NULL, NULL))
    n++;
  t = seconds_since (start);
  printf ("csv reader:        %" G_GUINT64_FORMAT " records in %.3f s = %.0f rows/s\n", n, t, n / t);

  start = g_get_monotonic_time ();
  import = ct_legacy_import_open (file, &options, NULL, &error);
  g_assert_no_error (error);
  while (ct_legacy_import_next (import, &item, NULL, NULL))
    ;
  t = seconds_since (start);
  ct_legacy_import_get_totals (import, &totals);
  g_assert_cmpuint (totals.accepted, ==, rows);
  printf ("full validation:   %u rows in %.3f s = %.0f rows/s (sha256, encoding, duplicates, every row)\n",
          rows, t, rows / t);
}

static int64_t
ledger_cards (CtTestService *svc)
{
  g_autoptr(CtTestResponse) resp = ct_test_http (svc, "GET", "/v1/ledger/check", NULL, NULL, NULL);
  json_object *obj, *v = NULL, *sum = NULL;
  int64_t cards = -1;

  g_assert (resp != NULL && resp->status == 200);
  obj = json_tokener_parse (resp->body);
  if (json_object_object_get_ex (obj, "cards", &v) && json_object_object_get_ex (obj, "sum", &sum)
      && json_object_get_int64 (sum) == 0)
    cards = json_object_get_int64 (v);
  json_object_put (obj);
  return cards;
}

static void
bench_end_to_end (const char *dir,
                  const char *path,
                  guint       rows,
                  int64_t     total)
{
  g_autoptr(GError) error = NULL;
  CtTestService *svc = ct_test_service_start_full (TRUE, (const char * const[]) { "--rate-limit", "0", NULL }, &error);
  g_autofree char *pin_file = g_build_filename (dir, "pin", NULL);
  g_autofree char *data_dir = g_build_filename (dir, "till", NULL);
  g_autofree char *cli = g_build_filename (g_getenv ("CT_TOP_BUILDDIR") ? g_getenv ("CT_TOP_BUILDDIR") : ".",
                                           "src", "cli", "cardtill-cli", NULL);
  struct rusage usage;
  gint64 start;
  double t;
  int status = 0;
  pid_t pid;

  g_assert_no_error (error);
  g_assert (g_file_set_contents (pin_file, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, NULL));

  start = g_get_monotonic_time ();
  pid = fork ();
  g_assert (pid >= 0);
  if (pid == 0)
    {
      int devnull = open ("/dev/null", O_WRONLY);

      dup2 (devnull, STDOUT_FILENO);
      g_setenv ("CARDTILL_SERVICE", ct_test_service_get_url (svc), TRUE);
      g_setenv ("CARDTILL_TOKEN", ct_test_service_get_token (svc), TRUE);
      g_setenv ("CARDTILL_CA", ct_test_service_get_ca_file (svc), TRUE);
      g_setenv ("CARDTILL_DATA_DIR", data_dir, TRUE);
      g_setenv ("XDG_CONFIG_HOME", dir, TRUE);
      execl (cli, cli, "import", path, "--manager", CT_TEST_SERVICE_MANAGER_ID,
             "--pin-file", pin_file, (char *) NULL);
      _exit (127);
    }
  while (wait4 (pid, &status, 0, &usage) < 0 && errno == EINTR)
    ;
  t = seconds_since (start);

  printf ("end to end:        %u rows in %.2f s = %.0f rows/s (cardtill-cli exit %d)\n",
          rows, t, rows / t, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  printf ("client peak RSS:   %.1f MB\n", usage.ru_maxrss / 1024.0);
  printf ("client CPU:        %.2f s user, %.2f s system\n",
          usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
          usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
  printf ("ledger:            cards %s the file's total\n",
          ledger_cards (svc) == total ? "hold exactly" : "DO NOT hold");
  ct_test_service_free (svc);
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

int
main (void)
{
  const char *env = g_getenv ("BENCH_IMPORT_ROWS");
  guint rows = env != NULL ? (guint) g_ascii_strtoull (env, NULL, 10) : 1000000;
  g_autofree char *dir = g_dir_make_tmp ("ct-bench-import-XXXXXX", NULL);
  g_autofree char *path = NULL;
  int64_t total;
  gint64 start = g_get_monotonic_time ();

  GStatBuf st;

  path = generate (dir, rows, &total);
  g_assert (g_stat (path, &st) == 0);
  printf ("generated:         %u rows, %.1f MB in %.2f s\n", rows,
          st.st_size / (1024.0 * 1024.0), seconds_since (start));
  bench_parse (path, rows);
  bench_end_to_end (dir, path, rows, total);
  remove_tree (dir);
  return 0;
}
