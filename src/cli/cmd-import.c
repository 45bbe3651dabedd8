/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-import"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ct-cli.h"
#include "ct-client.h"
#include "ct-legacy-import-send.h"
#include "ct-manager-pin.h"
#include "ct-money.h"

/* cardtill-cli import FILE [--dry-run] [--encoding auto|utf-8|gb18030]
 *   [--map COLUMN=FIELD …] [--report FILE] --manager ID [--pin-file F]
 *
 * Prints each rejected row as "line N: reason", then the totals
 * (accepted, rejected, total balance, total points). Exit 0 when every row
 * went in, 2 when some rows were rejected (the rest went in), 1 for a file
 * that cannot be imported at all, 3 when a chunk could not be settled now
 * (rerun to resume), 4 for a local failure. */

/* One run of the command: its options, what it opened, how it went. */
typedef struct
{
  CtCli            *cli;
  gboolean          dry_run;
  char             *encoding;
  char            **maps;
  char             *report_path;
  char             *manager_id;
  char             *pin_file;
  char             *path;          /* the FILE */
  CtImportOptions   options;

  CtClient         *client;        /* the CLI's, not a dry run's */
  char             *pin;
  CtLegacyImport   *import;
  CtImportReport   *report;
  GError           *report_error;
  json_object      *json_rejects;  /* dry run with --json */
  gboolean          tty_progress;
  CtImportProgress  progress;
  /* --json: the chunks left without an answer, described once every
   * sender is done, so they come after every answer that did arrive
   * (two chunks are in flight at once). */
  GMutex            unsettled_lock;
  GPtrArray        *unsettled;
} ImportRun;

static void
on_reject (guint64     line,
           const char *card_no,
           const char *code,
           const char *reason,
           gpointer    user_data)
{
  ImportRun *run = user_data;

  if (run->json_rejects != NULL)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "line", json_object_new_int64 ((int64_t) line));
      json_object_object_add (o, "card_no", json_object_new_string (card_no ? card_no : ""));
      json_object_object_add (o, "code", json_object_new_string (code));
      json_object_object_add (o, "message", json_object_new_string (reason));
      json_object_array_add (run->json_rejects, o);
    }
  else if (!run->cli->json)
    {
      g_autofree char *text = ct_import_format_reject (line, reason);

      printf ("%s\n", text);
    }

  if (run->report != NULL && run->report_error == NULL)
    ct_import_report_add (run->report, line, card_no, code, reason, &run->report_error);
}

static void
on_progress (const CtImportProgress *progress,
             gpointer                user_data)
{
  ImportRun *run = user_data;

  if (run->tty_progress && progress->size > 0)
    fprintf (stderr, "\rimport: %3u%%  %" G_GUINT64_FORMAT " rows, %u chunks",
             (guint) (progress->bytes_read * 100 / progress->size), progress->rows,
             progress->chunks);
}

static void
on_answer (GBytes   *body,
           gpointer  user_data)
{
  ImportRun *run = user_data;

  if (run->cli->json)
    {
      fwrite (g_bytes_get_data (body, NULL), 1, g_bytes_get_size (body), stdout);
      fputc ('\n', stdout);
    }
}

/* --json: a chunk without a definitive answer is described the way every
 * command describes one: {"queued", "idempotency_key", "reason", "code"}. */
static void
on_unsettled (const CtAnswer *answer,
              gpointer        user_data)
{
  ImportRun *run = user_data;
  json_object *o;

  if (!run->cli->json)
    return;
  o = json_object_new_object ();
  json_object_object_add (o, "queued", json_object_new_boolean (answer->queued));
  json_object_object_add (o, "idempotency_key",
                          answer->idempotency_key ? json_object_new_string (answer->idempotency_key)
                                                  : NULL);
  json_object_object_add (o, "reason", json_object_new_string (answer->reason ? answer->reason : ""));
  json_object_object_add (o, "code",
                          json_object_new_string (ct_client_error_code_to_string (
                            answer->queued ? CT_CLIENT_ERROR_QUEUED : answer->reason_code)));
  g_mutex_lock (&run->unsettled_lock);
  g_ptr_array_add (run->unsettled, g_strdup (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN)));
  g_mutex_unlock (&run->unsettled_lock);
  json_object_put (o);
}

/* Exit status for an error that stopped the run: the client's own
 * mapping for the client's errors; a cancelled or unreadable file else. */
static int
exit_for_error (CtCli        *cli,
                const GError *error)
{
  if (error->domain == CT_CLIENT_ERROR)
    return ct_cli_report_error (cli, error);
  ct_cli_print_error (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return CT_EXIT_NOT_APPLIED;
  if (error->domain == G_IO_ERROR || error->domain == G_FILE_ERROR)
    return CT_EXIT_LOCAL;
  return CT_EXIT_USAGE;
}

static void
import_run_clear (ImportRun *run)
{
  g_free (run->encoding);
  g_strfreev (run->maps);
  g_free (run->report_path);
  g_free (run->manager_id);
  g_free (run->pin_file);
  g_free (run->path);
  ct_secret_free (run->pin);
  g_clear_pointer (&run->import, ct_legacy_import_free);
  g_clear_pointer (&run->report, ct_import_report_free);
  g_clear_error (&run->report_error);
  json_object_put (run->json_rejects);
  if (run->unsettled != NULL)
    {
      g_ptr_array_unref (run->unsettled);
      g_mutex_clear (&run->unsettled_lock);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImportRun, import_run_clear)

static const char import_usage[] =
  "Usage: cardtill-cli import FILE [OPTION…] - import a store's old card balances\n"
  "  --dry-run          Check every row and print the totals; send nothing\n"
  "  --encoding ENC     auto (default), utf-8 or gb18030\n"
  "  --map C=F          Map a column: COLUMN=FIELD (card_no, name, phone, balance, points,\n"
  "                     level, ignore); may be given again\n"
  "  --report FILE      Write every rejected row and why to this CSV file\n"
  "  --manager ID       The manager who authorises the import\n"
  "  --pin-file F       Read the manager's PIN from the first line of this file\n";

/* Parse: the command line into @run. CT_EXIT_OK, or the usage error. */
static int
import_parse (ImportRun  *run,
              int         argc,
              char      **argv)
{
  static const char * const spec[] = { "dry-run", "encoding=", "map=+", "report=", "manager=",
                                       "pin-file=", "help", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_help (import_usage, error->message);
  if (ct_cli_args_has (&args, "help"))
    {
      fputs (import_usage, stdout);
      return CT_EXIT_USAGE;
    }
  if (args.positional->len != 1)
    return ct_cli_usage_error ("import: give exactly one FILE (see import --help)");
  run->path = g_strdup (g_ptr_array_index (args.positional, 0));
  run->dry_run = ct_cli_args_has (&args, "dry-run");
  run->encoding = g_strdup (ct_cli_args_get (&args, "encoding"));
  run->maps = g_strdupv ((char **) ct_cli_args_get_all (&args, "map"));
  run->report_path = g_strdup (ct_cli_args_get (&args, "report"));
  run->manager_id = g_strdup (ct_cli_args_get (&args, "manager"));
  run->pin_file = g_strdup (ct_cli_args_get (&args, "pin-file"));
  run->options.encoding = CT_CSV_ENCODING_AUTO;
  if (run->encoding != NULL && !ct_csv_encoding_from_string (run->encoding, &run->options.encoding))
    return ct_cli_usage_error ("import: --encoding is auto, utf-8 or gb18030, not %s",
                               run->encoding);
  if (!run->dry_run && run->manager_id == NULL)
    return ct_cli_usage_error ("import: an import needs --manager ID (or use --dry-run)");
  run->options.maps = (const char * const *) run->maps;
  return CT_EXIT_OK;
}

/* Opens what the run needs: the manager's PIN and the client (not for a
 * dry run), the file, the report. CT_EXIT_OK, or why it cannot start. */
static int
import_open (ImportRun *run)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;

  if (!run->dry_run)
    {
      run->pin = ct_cli_read_pin (run->cli, run->pin_file, &error);
      if (run->pin == NULL)
        return exit_for_error (run->cli, error);
      run->client = ct_cli_get_client (run->cli, &error);
      if (run->client == NULL)
        return exit_for_error (run->cli, error);
    }
  run->options.minor_units = ct_cli_minor_units (run->cli);

  file = g_file_new_for_commandline_arg (run->path);
  run->import = ct_legacy_import_open (file, &run->options, NULL, &error);
  if (run->import == NULL)
    {
      ct_cli_print_error (error);
      return error->domain == G_IO_ERROR ? CT_EXIT_LOCAL : CT_EXIT_USAGE;
    }
  if (ct_legacy_import_get_n_rows (run->import) == 0)
    {
      fprintf (stderr, "cardtill-cli: %s has a header but no rows to import\n", run->path);
      return CT_EXIT_USAGE;
    }
  if (!run->cli->json)
    fprintf (stderr, "import: %s: %" G_GUINT64_FORMAT " rows, %s, batch %s\n", run->path,
             ct_legacy_import_get_n_rows (run->import),
             ct_csv_encoding_to_string (ct_legacy_import_get_encoding (run->import)),
             ct_legacy_import_get_batch_id (run->import));
  if (run->report_path != NULL)
    {
      g_autoptr(GFile) report_file = g_file_new_for_commandline_arg (run->report_path);

      run->report = ct_import_report_new (report_file, &error);
      if (run->report == NULL)
        {
          ct_cli_print_error (error);
          return CT_EXIT_LOCAL;
        }
    }
  return CT_EXIT_OK;
}

/* Run: every row checked, and sent unless a dry run; the report closed. */
static gboolean
import_run (ImportRun  *run,
            GError    **error)
{
  CtImportCallbacks callbacks = { on_reject, on_progress, on_answer, on_unsettled, run };
  gboolean ok;

  run->tty_progress = !run->dry_run && !run->cli->json && isatty (STDERR_FILENO);
  if (run->dry_run && run->cli->json)
    run->json_rejects = json_object_new_array ();
  g_mutex_init (&run->unsettled_lock);
  run->unsettled = g_ptr_array_new_with_free_func (g_free);
  ok = ct_legacy_import_run (run->import, run->dry_run ? NULL : run->client, run->manager_id,
                             run->pin, &callbacks, &run->progress, NULL, error);
  for (guint i = 0; i < run->unsettled->len; i++)
    printf ("%s\n", (const char *) g_ptr_array_index (run->unsettled, i));
  if (run->tty_progress)
    fprintf (stderr, "\n");
  if (run->report != NULL && run->report_error == NULL)
    ct_import_report_close (run->report, &run->report_error);
  g_clear_pointer (&run->report, ct_import_report_free);
  return ok;
}

/* Print: the totals, for people or (a dry run with --json) as one object. */
static void
import_print (ImportRun *run)
{
  CtImportTotals totals = { 0 };

  totals.accepted = run->progress.accepted;
  totals.rejected = run->progress.rejected;
  totals.total_balance = run->progress.total_balance;
  totals.total_points = run->progress.total_points;
  if (run->json_rejects != NULL)
    {
      json_object *root = json_object_new_object ();

      json_object_object_add (root, "batch_id",
                              json_object_new_string (ct_legacy_import_get_batch_id (run->import)));
      json_object_object_add (root, "accepted", json_object_new_int64 ((int64_t) totals.accepted));
      json_object_object_add (root, "rejected", g_steal_pointer (&run->json_rejects));
      json_object_object_add (root, "total_balance", json_object_new_int64 (totals.total_balance));
      json_object_object_add (root, "total_points", json_object_new_int64 (totals.total_points));
      printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN));
      json_object_put (root);
    }
  else if (!run->cli->json)
    {
      g_autofree char *text = ct_import_format_totals (&totals, run->options.minor_units);

      fputs (text, stdout);
    }
  fflush (stdout);
}

/* The service's own count of the batch, for the person at the till. */
static void
import_print_held (ImportRun *run)
{
  int64_t held_rows, held_balance;
  g_autofree char *balance = NULL;

  if (run->dry_run || run->cli->json
      || !ct_import_fetch_batch (run->client, ct_legacy_import_get_batch_id (run->import),
                                 &held_rows, &held_balance, NULL))
    return;
  balance = ct_money_format_plain (held_balance, run->options.minor_units);
  fprintf (stderr, "import: the service holds %" G_GINT64_FORMAT " rows of this batch, "
           "total balance %s\n", held_rows, balance);
}

int
ct_cli_cmd_import (CtCli  *cli,
                   int     argc,
                   char  **argv)
{
  g_auto(ImportRun) run = { .cli = cli };
  g_autoptr(GError) error = NULL;
  int status;

  status = import_parse (&run, argc, argv);
  if (status == CT_EXIT_OK)
    status = import_open (&run);
  if (status != CT_EXIT_OK)
    return status;

  if (!import_run (&run, &error))
    {
      import_print (&run);
      status = exit_for_error (cli, error);
      if (!run.dry_run)
        fprintf (stderr, "cardtill-cli: import stopped after %u chunks; run the same command "
                 "again to resume (nothing is imported twice)\n", run.progress.chunks);
      return status;
    }
  import_print (&run);
  if (run.report_error != NULL)
    {
      ct_cli_print_error (run.report_error);
      return CT_EXIT_LOCAL;
    }
  import_print_held (&run);
  return run.progress.rejected > 0 ? CT_EXIT_REFUSED : CT_EXIT_OK;
}
