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
#include "ct-money.h"

/* cardtill-cli import FILE [--dry-run] [--encoding auto|utf-8|gb18030]
 *   [--map COLUMN=FIELD …] [--report FILE] --manager ID [--pin-file F]
 *
 * Prints each rejected row as "line N: reason", then the totals
 * (accepted, rejected, total balance, total points). Exit 0 when every row
 * went in, 2 when some rows were rejected (the rest went in), 1 for a file
 * that cannot be imported at all, 3 when a chunk could not be settled now
 * (rerun to resume), 4 for a local failure. */

typedef struct
{
  CtCli          *cli;
  CtImportReport *report;
  GError         *report_error;
  json_object    *json_rejects;  /* dry run with --json */
  gboolean        tty_progress;
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
  printf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
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
  fprintf (stderr, "cardtill-cli: %s\n", error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return CT_EXIT_NOT_APPLIED;
  if (error->domain == G_IO_ERROR || error->domain == G_FILE_ERROR)
    return CT_EXIT_LOCAL;
  return CT_EXIT_USAGE;
}

static void
print_error (const GError *error)
{
  if (error->domain == CT_CLIENT_ERROR)
    fprintf (stderr, "cardtill-cli: %s: %s\n",
             ct_client_error_code_to_string ((CtClientError) error->code), error->message);
  else
    fprintf (stderr, "cardtill-cli: %s\n", error->message);
}

int
ct_cli_cmd_import (CtCli  *cli,
                   int     argc,
                   char  **argv)
{
  gboolean dry_run = FALSE;
  g_autofree char *encoding_text = NULL;
  g_auto(GStrv) maps = NULL;
  g_autofree char *report_path = NULL;
  g_autofree char *manager_id = NULL;
  g_autofree char *pin_file = NULL;
  GOptionEntry entries[] = {
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "Check every row and print the totals; send nothing", NULL },
    { "encoding", 0, 0, G_OPTION_ARG_STRING, &encoding_text, "auto (default), utf-8 or gb18030", "ENC" },
    { "map", 0, 0, G_OPTION_ARG_STRING_ARRAY, &maps, "Map a column: COLUMN=FIELD (card_no, name, phone, balance, points, level, ignore)", "C=F" },
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &report_path, "Write every rejected row and why to this CSV file", "FILE" },
    { "manager", 0, 0, G_OPTION_ARG_STRING, &manager_id, "The manager who authorises the import", "ID" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file, "Read the manager's PIN from the first line of this file", "F" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE - import a store's old card balances");
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(CtLegacyImport) import = NULL;
  CtClient *client = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *totals_text = NULL;
  CtImportOptions options = { CT_CSV_ENCODING_AUTO, NULL, 2, NULL };
  CtImportCallbacks callbacks = { on_reject, on_progress, on_answer, on_unsettled, NULL };
  CtImportProgress progress;
  CtImportTotals totals = { 0 };
  ImportRun run = { 0 };
  gboolean ok;
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_help_enabled (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "cardtill-cli: import: %s\n", error->message);
      return CT_EXIT_USAGE;
    }
  if (argc != 2)
    {
      fprintf (stderr, "cardtill-cli: import: give exactly one FILE (see import --help)\n");
      return CT_EXIT_USAGE;
    }
  if (encoding_text != NULL && !ct_csv_encoding_from_string (encoding_text, &options.encoding))
    {
      fprintf (stderr, "cardtill-cli: import: --encoding is auto, utf-8 or gb18030, not %s\n",
               encoding_text);
      return CT_EXIT_USAGE;
    }
  if (!dry_run && manager_id == NULL)
    {
      fprintf (stderr, "cardtill-cli: import: an import needs --manager ID (or use --dry-run)\n");
      return CT_EXIT_USAGE;
    }
  options.maps = (const char * const *) maps;

  if (!dry_run)
    {
      pin = ct_cli_read_pin (cli, pin_file, &error);
      if (pin == NULL)
        return exit_for_error (cli, error);
      client = ct_cli_get_client (cli, &error);
      if (client == NULL)
        return exit_for_error (cli, error);
    }
  options.minor_units = ct_cli_minor_units (cli);

  file = g_file_new_for_commandline_arg (argv[1]);
  import = ct_legacy_import_open (file, &options, NULL, &error);
  if (import == NULL)
    {
      print_error (error);
      return error->domain == G_IO_ERROR ? CT_EXIT_LOCAL : CT_EXIT_USAGE;
    }
  if (ct_legacy_import_get_n_rows (import) == 0)
    {
      fprintf (stderr, "cardtill-cli: %s has a header but no rows to import\n", argv[1]);
      return CT_EXIT_USAGE;
    }
  if (!cli->json)
    fprintf (stderr, "import: %s: %" G_GUINT64_FORMAT " rows, %s, batch %s\n", argv[1],
             ct_legacy_import_get_n_rows (import),
             ct_csv_encoding_to_string (ct_legacy_import_get_encoding (import)),
             ct_legacy_import_get_batch_id (import));

  if (report_path != NULL)
    {
      g_autoptr(GFile) report_file = g_file_new_for_commandline_arg (report_path);

      run.report = ct_import_report_new (report_file, &error);
      if (run.report == NULL)
        {
          print_error (error);
          return CT_EXIT_LOCAL;
        }
    }

  run.cli = cli;
  run.tty_progress = !dry_run && !cli->json && isatty (STDERR_FILENO);
  if (dry_run && cli->json)
    run.json_rejects = json_object_new_array ();
  callbacks.user_data = &run;

  ok = ct_legacy_import_run (import, dry_run ? NULL : client, manager_id, pin, &callbacks,
                             &progress, NULL, &error);
  if (run.tty_progress)
    fprintf (stderr, "\n");

  if (run.report != NULL)
    {
      if (run.report_error == NULL)
        ct_import_report_close (run.report, &run.report_error);
      g_clear_pointer (&run.report, ct_import_report_free);
    }

  totals.accepted = progress.accepted;
  totals.rejected = progress.rejected;
  totals.total_balance = progress.total_balance;
  totals.total_points = progress.total_points;

  if (run.json_rejects != NULL)
    {
      json_object *root = json_object_new_object ();

      json_object_object_add (root, "batch_id",
                              json_object_new_string (ct_legacy_import_get_batch_id (import)));
      json_object_object_add (root, "accepted", json_object_new_int64 ((int64_t) totals.accepted));
      json_object_object_add (root, "rejected", run.json_rejects);
      json_object_object_add (root, "total_balance", json_object_new_int64 (totals.total_balance));
      json_object_object_add (root, "total_points", json_object_new_int64 (totals.total_points));
      printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN));
      json_object_put (root);
    }
  else if (!cli->json)
    {
      totals_text = ct_import_format_totals (&totals, options.minor_units);
      fputs (totals_text, stdout);
    }
  fflush (stdout);

  if (!ok)
    {
      status = exit_for_error (cli, error);
      if (!dry_run)
        fprintf (stderr, "cardtill-cli: import stopped after %u chunks; run the same command "
                 "again to resume (nothing is imported twice)\n", progress.chunks);
      return status;
    }
  if (run.report_error != NULL)
    {
      print_error (run.report_error);
      g_clear_error (&run.report_error);
      return CT_EXIT_LOCAL;
    }

  /* The service's own count of the batch, for the person at the till. */
  if (!dry_run && !cli->json)
    {
      int64_t held_rows, held_balance;

      if (ct_import_fetch_batch (client, ct_legacy_import_get_batch_id (import), &held_rows,
                                 &held_balance, NULL))
        {
          g_autofree char *balance = ct_money_format_plain (held_balance, options.minor_units);

          fprintf (stderr, "import: the service holds %" G_GINT64_FORMAT " rows of this batch, "
                   "total balance %s\n", held_rows, balance);
        }
    }

  status = progress.rejected > 0 ? CT_EXIT_REFUSED : CT_EXIT_OK;
  return status;
}
