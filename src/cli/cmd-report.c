/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-report"
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ct-cli-private.h"
#include "ct-cli-printer.h"
#include "ct-text.h"
#include "ct-format.h"
#include "ct-printer-render.h"
#include "ct-report-lines.h"

/* cardtill-cli report day [--date D] [--csv] [--print]: the merchant's day
 * by store and till, with the day's shifts and their variances. */

static const char report_usage[] =
  "report day [--date YYYY-MM-DD] [--csv] [--print [--printer ADDRESS] [--paper 58|80]]";

static const char * const kinds[] = { "topups", "payments", "refunds", "voids", "adjustments", "imports" };
static const char * const tenders[] = { "cash", "wechat", "alipay", "bank_card", "other" };

static json_object *
member (json_object *obj,
        const char  *key)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, key, &v))
    return NULL;
  return v;
}

static int64_t
int_member (json_object *obj,
            const char  *key)
{
  json_object *v = member (obj, key);

  return v != NULL ? json_object_get_int64 (v) : 0;
}

/* A CSV cell: quoted when it holds a separator, and a cell that starts
 * like a formula is neutralised, as in import reports. */
static void
csv_cell (GString    *out,
          const char *text)
{
  g_autofree char *safe = ct_text_escape_controls (text);

  if (strchr ("=+-@", safe[0]) != NULL && safe[0] != '\0')
    g_string_append_c (out, '\'');
  if (strpbrk (safe, ",\"") != NULL)
    {
      g_autofree char *quoted = NULL;
      g_auto(GStrv) parts = g_strsplit (safe, "\"", -1);

      quoted = g_strjoinv ("\"\"", parts);
      g_string_append_printf (out, "\"%s\"", quoted);
    }
  else
    g_string_append (out, safe);
}

static void
csv_row (CtCli       *cli,
         GString     *out,
         const char  *scope,
         const char  *store,
         const char  *till,
         json_object *totals)
{
  csv_cell (out, scope);
  g_string_append_c (out, ',');
  csv_cell (out, store ? store : "");
  g_string_append_c (out, ',');
  csv_cell (out, till ? till : "");
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *amount = ct_cli_format_amount (cli, int_member (totals, kinds[i]));

      g_string_append_printf (out, ",%" G_GINT64_FORMAT ",%s",
                              (gint64) int_member (member (totals, "counts"), kinds[i]), amount);
    }
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    {
      g_autofree char *net = ct_cli_format_amount (cli, int_member (member (member (totals, "tenders"), tenders[i]),
                                                                    "net"));

      g_string_append_printf (out, ",%s", net);
    }
  g_string_append_c (out, '\n');
}

/* One row for the merchant, one per store, one per till; amounts in major
 * units like every amount the CLI prints. */
static void
print_csv (CtCli       *cli,
           json_object *root)
{
  g_autoptr(GString) out = g_string_new ("scope,store,till");
  json_object *stores = member (root, "stores");
  json_object *shifts = member (root, "shifts");

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    g_string_append_printf (out, ",%s_count,%s", kinds[i], kinds[i]);
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    g_string_append_printf (out, ",%s_net", tenders[i]);
  g_string_append_c (out, '\n');
  csv_row (cli, out, "day", NULL, NULL, member (root, "totals"));
  for (gsize i = 0; stores != NULL && i < json_object_array_length (stores); i++)
    {
      json_object *store = json_object_array_get_idx (stores, i);
      json_object *tills = member (store, "tills");
      const char *name = json_object_get_string (member (store, "store"));

      csv_row (cli, out, "store", name, NULL, member (store, "totals"));
      for (gsize j = 0; tills != NULL && j < json_object_array_length (tills); j++)
        {
          json_object *till = json_object_array_get_idx (tills, j);

          csv_row (cli, out, "till", name, json_object_get_string (member (till, "till")),
                   member (till, "totals"));
        }
    }
  fputs (out->str, stdout);

  /* The shifts follow as a second table. */
  g_string_assign (out, "\nshift,store,till,operator,opened_at,closed_at,float,expected_cash,counted_cash,variance\n");
  for (gsize i = 0; shifts != NULL && i < json_object_array_length (shifts); i++)
    {
      json_object *s = json_object_array_get_idx (shifts, i);
      json_object *r = member (s, "report");
      const char *closed = json_object_get_string (member (s, "closed_at"));
      g_autofree char *opened_local = ct_format_local_time (json_object_get_string (member (s, "opened_at")),
                                                            "%Y-%m-%d %H:%M:%S");
      g_autofree char *closed_local = closed ? ct_format_local_time (closed, "%Y-%m-%d %H:%M:%S") : g_strdup ("");
      g_autofree char *fl = ct_cli_format_amount (cli, int_member (r, "float"));
      g_autofree char *expected = ct_cli_format_amount (cli, int_member (r, "expected_cash"));
      g_autofree char *counted = closed ? ct_cli_format_amount (cli, int_member (r, "counted_cash")) : g_strdup ("");
      g_autofree char *variance = closed ? ct_cli_format_amount (cli, int_member (r, "variance")) : g_strdup ("");

      csv_cell (out, json_object_get_string (member (s, "id")));
      g_string_append_c (out, ',');
      csv_cell (out, json_object_get_string (member (s, "store")));
      g_string_append_c (out, ',');
      csv_cell (out, json_object_get_string (member (s, "till")));
      g_string_append_c (out, ',');
      csv_cell (out, json_object_get_string (member (s, "operator")));
      g_string_append_printf (out, ",%s,%s,%s,%s,%s,%s\n", opened_local, closed_local, fl, expected, counted,
                              variance);
    }
  fputs (out->str, stdout);
}

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
  g_autofree char *path = NULL;
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
  if (print)
    {
      if (!ct_cli_parse_paper (ct_cli_args_get (&args, "paper"), &paper))
        return ct_cli_usage_error ("--paper is 58 or 80 (mm)");
      printer = ct_cli_open_printer (ct_cli_args_get (&args, "printer"), &error);
      if (printer == NULL)
        return ct_cli_usage_error ("%s", error->message);
    }

  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  path = date != NULL ? g_strdup_printf ("/v1/reports/day?date=%s", date) : g_strdup ("/v1/reports/day");
  answer = ct_client_request (client, "GET", path, NULL, NULL, NULL, NULL, &error);
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
      json_tokener *tok = json_tokener_new ();
      json_object *root = json_tokener_parse_ex (tok, body, (int) len);

      json_tokener_free (tok);
      print_csv (cli, root);
      json_object_put (root);
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
