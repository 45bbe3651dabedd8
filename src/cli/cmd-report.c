/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-report"
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ct-cli-private.h"
#include "ct-cli-printer.h"
#include "ct-printer-render.h"
#include "ct-report-lines.h"

/* cardtill-cli report day [--date D] [--csv] [--print]: the merchant's day
 * by store and till, with the day's shifts and their variances. */

static const char report_usage[] =
  "report day [--date YYYY-MM-DD] [--csv] [--print [--printer ADDRESS] [--paper 58|80]]";

int
ct_cli_cmd_report (CtCli  *cli,
                   int     argc,
                   char  **argv)
{
  static const char * const spec[] = { "date=", "csv", "print", "printer=", "paper=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(CtRequest) request = NULL;
  g_autofree char *title = NULL;
  const char *date;
  CtPaper paper = CT_PAPER_58MM;
  gboolean print, csv;
  const char *body;
  gsize len = 0;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (args.positional->len != 1 || !g_str_equal (g_ptr_array_index (args.positional, 0), "day"))
    return ct_cli_usage_error ("%s", report_usage);
  date = ct_cli_args_get (&args, "date");
  print = ct_cli_args_has (&args, "print");
  csv = ct_cli_args_has (&args, "csv");
  if (date != NULL && !ct_cli_valid_date (date))
    return ct_cli_usage_error ("dates are YYYY-MM-DD");
  if (csv && cli->json)
    return ct_cli_usage_error ("--csv and --json are two ways to print: choose one");
  if (print && (printer = ct_cli_take_printer (&args, &paper, &error)) == NULL)
    return ct_cli_usage_error ("%s", error->message);

  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  request = ct_request_day_summary (date);
  answer = ct_client_send (client, request, NULL, &error);
  if (answer == NULL)
    return ct_cli_finish_error (cli, error);
  if (cli->json || !ct_answer_to_error (answer, NULL))
    {
      int status = ct_cli_finish_answer (cli, answer, NULL);

      if (status != CT_EXIT_OK || !print)
        return status;
    }

  merchant = ct_client_dup_merchant (client);
  body = g_bytes_get_data (answer->body, &len);
  lines = ct_report_day_lines (body, len, merchant ? merchant->minor_units : 2,
                               merchant ? merchant->currency : NULL, &title, &error);
  if (lines == NULL)
    return ct_cli_report_error (cli, error);
  if (csv)
    {
      g_autofree char *text = ct_report_day_csv (body, len, merchant ? merchant->minor_units : 2, &error);

      if (text == NULL)
        return ct_cli_report_error (cli, error);
      fputs (text, stdout);
    }
  else if (!cli->json)
    ct_cli_print_lines (title, lines);
  if (print)
    {
      g_autoptr(CtRaster) raster = ct_render_lines (title, NULL, lines, paper, NULL);

      fflush (stdout);
      return ct_cli_print_raster (printer, raster);
    }
  return CT_EXIT_OK;
}
