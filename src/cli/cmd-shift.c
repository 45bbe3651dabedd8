/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-shift"
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ct-cli-private.h"
#include "ct-cli-printer.h"
#include "ct-printer-render.h"
#include "ct-report-lines.h"

/* cardtill-cli shift open --float A | close --counted A |
 * handover --counted A --float A --to OPERATOR | report [ID] [--print]:
 * a cashier's shift on this till. Opening and closing go through the
 * outbox like every POST, so they are taken offline too and settle in
 * order; the till names its open shift "current", which needs no id. */

static const char shift_usage[] =
  "shift open --float A | shift close --counted A | "
  "shift handover --counted A --float A --to OPERATOR | shift report [ID] [--print [--printer ADDRESS] [--paper 58|80]]";

static gboolean
print_shift_body (CtCli       *cli,
                  const char  *body,
                  gsize        len,
                  gboolean     print,
                  GError     **error)
{
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (ct_cli_get_client (cli, NULL));
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;

  lines = ct_report_shift_lines (body, len, merchant ? merchant->minor_units : 2,
                                 merchant ? merchant->currency : NULL, &title, error);
  if (lines == NULL)
    return FALSE;
  if (print)
    ct_cli_print_lines (title, lines);
  return TRUE;
}

/* Parses --NAME as an amount of 0 or more; exit 1 material on failure. */
static gboolean
take_amount (CtCli      *cli,
             CtCliArgs  *args,
             const char *name,
             int64_t    *out,
             int        *status)
{
  const char *text = ct_cli_args_get (args, name);
  g_autoptr(GError) error = NULL;

  if (text == NULL)
    {
      *status = ct_cli_usage_error ("--%s A is needed: %s", name, shift_usage);
      return FALSE;
    }
  if (!ct_cli_parse_amount (cli, text, FALSE, out, &error))
    {
      *status = ct_cli_usage_error ("--%s: %s", name, error->message);
      return FALSE;
    }
  return TRUE;
}

/* Sends @request (taken). */
static CtAnswer *
send_request (CtClient   *client,
              CtRequest  *request,
              GError    **error)
{
  g_autoptr(CtRequest) owned = request;

  return ct_client_send (client, owned, NULL, error);
}

static int
shift_report (CtCli     *cli,
              CtClient  *client,
              CtCliArgs *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;
  const char *id = args->positional->len == 2 ? g_ptr_array_index (args->positional, 1) : "current";
  CtPaper paper = CT_PAPER_58MM;
  gboolean print = ct_cli_args_has (args, "print");
  const char *body;
  gsize len = 0;
  int status;

  if (args->positional->len > 2 || (strcmp (id, "current") != 0 && strspn (id, "0123456789") != strlen (id)))
    return ct_cli_usage_error ("%s", shift_usage);
  if (print && (printer = ct_cli_take_printer (args, &paper, &error)) == NULL)
    return ct_cli_usage_error ("%s", error->message);
  answer = send_request (client, ct_request_shift_show (id), &error);
  if (answer == NULL)
    return ct_cli_finish_error (cli, error);
  status = ct_cli_finish_answer (cli, answer, print_shift_body);
  if (status != CT_EXIT_OK || !print)
    return status;

  merchant = ct_client_dup_merchant (client);
  body = g_bytes_get_data (answer->body, &len);
  lines = ct_report_shift_lines (body, len, merchant ? merchant->minor_units : 2,
                                 merchant ? merchant->currency : NULL, &title, &error);
  if (lines == NULL)
    return ct_cli_report_error (cli, error);
  {
    g_autoptr(CtRaster) raster = ct_render_lines (title, NULL, lines, paper, NULL);

    fflush (stdout);
    return ct_cli_print_raster (printer, raster);
  }
}

int
ct_cli_cmd_shift (CtCli  *cli,
                  int     argc,
                  char  **argv)
{
  static const char * const spec[] = { "float=", "counted=", "to=", "print", "printer=", "paper=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  const char *what;
  int64_t float_amount = 0, counted = 0;
  int status = CT_EXIT_OK;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (args.positional->len < 1)
    return ct_cli_usage_error ("%s", shift_usage);
  what = g_ptr_array_index (args.positional, 0);
  if (!g_str_equal (what, "open") && !g_str_equal (what, "close") && !g_str_equal (what, "handover")
      && !g_str_equal (what, "report"))
    return ct_cli_usage_error ("%s", shift_usage);
  if (!g_str_equal (what, "report") && args.positional->len != 1)
    return ct_cli_usage_error ("%s", shift_usage);
  if (g_str_equal (what, "handover") && ct_cli_args_get (&args, "to") == NULL)
    return ct_cli_usage_error ("shift handover needs --to OPERATOR, the cashier who takes over");

  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  /* Amounts are read with the merchant's minor units, so after the client. */
  if ((g_str_equal (what, "open") || g_str_equal (what, "handover"))
      && !take_amount (cli, &args, "float", &float_amount, &status))
    return status;
  if ((g_str_equal (what, "close") || g_str_equal (what, "handover"))
      && !take_amount (cli, &args, "counted", &counted, &status))
    return status;

  if (g_str_equal (what, "report"))
    return shift_report (cli, client, &args);

  if (g_str_equal (what, "close") || g_str_equal (what, "handover"))
    {
      answer = send_request (client,
                             ct_request_shift_close (NULL, counted, ct_client_get_operator (client)),
                             &error);
      if (answer == NULL)
        return ct_cli_finish_error (cli, error);
      status = ct_cli_finish_answer (cli, answer, print_shift_body);
      /* A handover opens the next shift even when the close is queued:
       * the outbox sends them in the order they were taken. */
      if (g_str_equal (what, "close") || (status != CT_EXIT_OK && status != CT_EXIT_NOT_APPLIED))
        return status;
      g_clear_pointer (&answer, ct_answer_free);
    }

  {
    const char *cashier = g_str_equal (what, "handover") ? ct_cli_args_get (&args, "to")
                                                         : ct_client_get_operator (client);
    int open_status;

    answer = send_request (client, ct_request_shift_open (float_amount, cashier), &error);
    if (answer == NULL)
      return ct_cli_finish_error (cli, error);
    open_status = ct_cli_finish_answer (cli, answer, print_shift_body);
    return open_status != CT_EXIT_OK ? open_status : status;
  }
}
