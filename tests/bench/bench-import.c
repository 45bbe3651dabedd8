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

/* The legacy import benchmark (docs/performance.md): a generated file of
 * BENCH_IMPORT_ROWS rows (default 1,000,000), first parsed alone (the CSV
 * reader, then the whole validation: encoding, duplicates, every row), then
 * imported end to end by cardtill-cli into a real cardtill-service over
 * HTTPS on 127.0.0.1. Prints rows/s, total time and the client's peak RSS,
 * and checks the ledger afterwards. The sqlite3 shell's `.import` of the
 * same file, in the same run, is the yardstick: the ratio is printed.
 * Goals: parse > 1,000,000 rows/s, end to end < 20 s and within 3x of
 * sqlite3 .import, client < 100 MB. */

static guint ct_bench_rows;

/* CPU time (user + system) in seconds of a process, or of one of its
 * threads, from /proc/PID/stat or /proc/PID/task/TID/stat. */
static double
stat_cpu_s (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (after = strrchr (text, ')')) == NULL)
    return 0;
  fields = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return 0;
  /* utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'. */
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) / sysconf (_SC_CLK_TCK);
}

static double
process_cpu_s (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);

  return stat_cpu_s (path);
}

/* The service's committer thread: every imported row goes through it one
 * after the other, so it bounds the import however many processors there
 * are. Its CPU time (/proc/PID/task/TID/stat), and from its schedstat the
 * time it ran and the time it waited for a processor: the rest of the wall
 * time it was blocked, on the log's fsync or waiting for the next chunk. */
typedef struct
{
  double cpu;      /* user + system */
  double run;      /* schedstat: on a processor */
  double runqueue; /* schedstat: runnable, waiting for a processor */
} Committer;

static void
committer_read (GPid       pid,
                Committer *out)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *tid;

  memset (out, 0, sizeof *out);
  while (d != NULL && (tid = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *comm_path = g_build_filename (dir, tid, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (comm_path, &comm, NULL, NULL) && g_str_has_prefix (comm, "ct-committer"))
        {
          g_autofree char *stat_path = g_build_filename (dir, tid, "stat", NULL);
          g_autofree char *sched_path = g_build_filename (dir, tid, "schedstat", NULL);
          g_autofree char *sched = NULL;
          guint64 run = 0, runqueue = 0;

          out->cpu = stat_cpu_s (stat_path);
          if (g_file_get_contents (sched_path, &sched, NULL, NULL)
              && sscanf (sched, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &run, &runqueue) == 2)
            {
              out->run = run / 1e9;
              out->runqueue = runqueue / 1e9;
            }
          return;
        }
    }
}

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
  double t, t_open;

  while (ct_csv_reader_next (reader, NULL, NULL))
    n++;
  t = seconds_since (start);
  printf ("csv reader:        %" G_GUINT64_FORMAT " records in %.3f s = %.0f rows/s\n", n, t, n / t);

  start = g_get_monotonic_time ();
  import = ct_legacy_import_open (file, &options, NULL, &error);
  g_assert_no_error (error);
  /* Nothing is sent before the open has read the whole file (a duplicate
   * on the last line rejects the first): the service idles through it. */
  t_open = seconds_since (start);
  while (ct_legacy_import_next (import, &item, NULL, NULL))
    ;
  t = seconds_since (start);
  ct_legacy_import_get_totals (import, &totals);
  g_assert_cmpuint (totals.accepted, ==, rows);
  printf ("full validation:   %u rows in %.3f s = %.0f rows/s (sha256, encoding, duplicates, every row)\n",
          rows, t, rows / t);
  printf ("  of which open:   %.3f s (sha256, encoding, the card numbers' duplicates; before any row is sent)\n",
          t_open);
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

/* The yardstick: the sqlite3 shell's `.import` of the same file into a
 * fresh database on the same disk, one table, no index, one transaction.
 * Returns the seconds it took, or 0 without the sqlite3 shell. */
static double
bench_sqlite3_import (const char *dir,
                      const char *path)
{
  g_autofree char *shell = g_find_program_in_path ("sqlite3");
  g_autofree char *db = g_build_filename (dir, "yardstick.db", NULL);
  g_autofree char *import = g_strdup_printf (".import --csv --skip 1 %s members", path);
  const char *argv[] = { shell, db,
                         "CREATE TABLE members (card_no TEXT, name TEXT, phone TEXT, balance TEXT, points TEXT, "
                         "level TEXT)",
                         import, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;
  gint64 start;
  double t;

  if (shell == NULL)
    {
      printf ("sqlite3 .import:   (no sqlite3 shell: apt install sqlite3)\n");
      return 0;
    }
  start = g_get_monotonic_time ();
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
                     &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      printf ("sqlite3 .import:   failed: %s\n", error->message);
      return 0;
    }
  t = seconds_since (start);
  printf ("sqlite3 .import:   same file in %.2f s = %.0f rows/s (one table, no index)\n", t,
          0.0 + ct_bench_rows / t);
  g_unlink (db);
  return t;
}

static double
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
  double service_cpu0, service_cpu1;
  Committer committer0, committer1;
  gint64 start;
  double t;
  int status = 0;
  pid_t pid;

  g_assert_no_error (error);
  g_assert (g_file_set_contents (pin_file, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, NULL));

  service_cpu0 = process_cpu_s (ct_test_service_get_pid (svc));
  committer_read (ct_test_service_get_pid (svc), &committer0);
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
  service_cpu1 = process_cpu_s (ct_test_service_get_pid (svc));
  committer_read (ct_test_service_get_pid (svc), &committer1);

  printf ("end to end:        %u rows in %.2f s = %.0f rows/s (cardtill-cli exit %d)\n",
          rows, t, rows / t, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  printf ("client peak RSS:   %.1f MB\n", usage.ru_maxrss / 1024.0);
  printf ("client CPU:        %.2f s user, %.2f s system\n",
          usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6,
          usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6);
  printf ("service CPU:       %.2f s (user + system), of which its committer %.2f s\n", service_cpu1 - service_cpu0,
          committer1.cpu - committer0.cpu);
  if (committer1.run > 0)
    printf ("committer:         ran %.2f s, waited %.2f s for a processor, blocked %.2f s (fsync, no chunk ready)\n",
            committer1.run - committer0.run, committer1.runqueue - committer0.runqueue,
            t - (committer1.run - committer0.run) - (committer1.runqueue - committer0.runqueue));
  printf ("ledger:            cards %s the file's total\n",
          ledger_cards (svc) == total ? "hold exactly" : "DO NOT hold");
  ct_test_service_free (svc);
  return t;
}

/* The first field of /proc/loadavg: the figures swing with the machine's
 * load, so each run prints it beside them. */
static double
load_average (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return -1;
  return g_ascii_strtod (text, NULL);
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
  double yardstick, end_to_end;
  double load_start = load_average ();
  GStatBuf st;

  path = generate (dir, rows, &total);
  g_assert (g_stat (path, &st) == 0);
  printf ("generated:         %u rows, %.1f MB in %.2f s\n", rows,
          st.st_size / (1024.0 * 1024.0), seconds_since (start));
  ct_bench_rows = rows;
  bench_parse (path, rows);
  yardstick = bench_sqlite3_import (dir, path);
  end_to_end = bench_end_to_end (dir, path, rows, total);
  if (yardstick > 0)
    printf ("end to end / sqlite3 .import: %.1fx (goal: at most 3x)\n", end_to_end / yardstick);
  printf ("load average:      %.2f at the start, %.2f at the end\n", load_start, load_average ());
  remove_tree (dir);
  return 0;
}
