/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-cli"
#include "config.h"

#include <json.h>
#include <stdio.h>
#include <string.h>

#include "ct-text.h"
#include "ct-cli-private.h"
#include "ct-cli-printer.h"
#include "ct-printer-render.h"
#include "ct-receipt-data.h"

/* cardtill-cli receipt TX_ID [--date D] [--print [--printer A] [--paper 58|80]]:
 * the receipt of a transaction with the app's lines, on the terminal and,
 * with --print, on the receipt printer. */

static const char receipt_usage[] =
  "receipt TX_ID [--date YYYY-MM-DD] [--print [--printer ADDRESS] [--paper 58|80]]";

/* The transaction from the store's day (the service has no lookup by id
 * alone); the card for the member's name. */
static CtReceiptData *
fetch_receipt (CtClient    *client,
               const char  *tx_id,
               const char  *date,
               GError     **error)
{
  g_autoptr(CtDayReport) day = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  g_autoptr(CtCard) card = NULL;
  const CtTransaction *tx = NULL;

  day = ct_client_day_report (client, date, NULL, error);
  if (day == NULL)
    return NULL;
  for (guint i = 0; i < day->transactions->len && tx == NULL; i++)
    {
      const CtTransaction *t = g_ptr_array_index (day->transactions, i);

      if (g_strcmp0 (t->id, tx_id) == 0)
        tx = t;
    }
  if (tx == NULL)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND,
                   "no transaction %s in this store on %s%s", tx_id, day->date,
                   date == NULL ? " (give its day with --date YYYY-MM-DD)" : "");
      return NULL;
    }

  if (tx->card_no != NULL)
    {
      g_autoptr(CtAnswer) card_answer = NULL;
      g_autoptr(CtRequest) card_request = ct_request_card_show (tx->card_no, NULL);

      /* Without the card the receipt is still right, only nameless. */
      if (card_request != NULL)
        card_answer = ct_client_send (client, card_request, NULL, NULL);
      if (card_answer != NULL && ct_answer_to_error (card_answer, NULL))
        {
          gsize len = 0;
          const char *body = g_bytes_get_data (card_answer->body, &len);

          card = ct_wire_decode_card (body, len, NULL);
        }
    }
  merchant = ct_client_dup_merchant (client);
  return ct_receipt_data_new_from_transaction (tx, card ? card->member_name : NULL, merchant);
}

/* Names and reasons are typed by people and may hold anything: their
 * control characters are shown escaped, never sent to the terminal. */
static void
print_text (const CtReceiptData *data)
{
  g_autoptr(GPtrArray) lines = ct_receipt_lines (data);
  g_autofree char *title = ct_receipt_title (data);

  ct_cli_print_lines (title, lines);
}

static void
print_json (const CtReceiptData *data)
{
  g_autoptr(GPtrArray) lines = ct_receipt_lines (data);
  g_autofree char *title = ct_receipt_title (data);
  json_object *o = json_object_new_object ();
  json_object *array = json_object_new_array ();

  json_object_object_add (o, "title", json_object_new_string (title));
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);
      json_object *l = json_object_new_object ();

      json_object_object_add (l, "label", json_object_new_string (line->label));
      json_object_object_add (l, "value", json_object_new_string (line->value));
      json_object_array_add (array, l);
    }
  json_object_object_add (o, "lines", array);
  printf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
  json_object_put (o);
}

int
ct_cli_cmd_receipt (CtCli  *cli,
                    int     argc,
                    char  **argv)
{
  static const char * const spec[] = { "date=", "print", "printer=", "paper=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceiptData) data = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  const char *date;
  const char *tx_id;
  CtPaper paper = CT_PAPER_58MM;
  gboolean print;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (args.positional->len != 1)
    return ct_cli_usage_error ("%s", receipt_usage);
  tx_id = g_ptr_array_index (args.positional, 0);
  date = ct_cli_args_get (&args, "date");
  print = ct_cli_args_has (&args, "print");
  if (date != NULL && !ct_cli_valid_date (date))
    return ct_cli_usage_error ("dates are YYYY-MM-DD");
  if (*tx_id == '\0' || strspn (tx_id, "0123456789") != strlen (tx_id))
    return ct_cli_usage_error ("a transaction id is a number, as history shows it");
  if ((ct_cli_args_get (&args, "printer") != NULL || ct_cli_args_get (&args, "paper") != NULL) && !print)
    return ct_cli_usage_error ("--printer and --paper go with --print");
  /* A wrong printer setting is found before anything is fetched. */
  if (print && (printer = ct_cli_take_printer (&args, &paper, &error)) == NULL)
    return ct_cli_usage_error ("%s", error->message);

  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  data = fetch_receipt (client, tx_id, date, &error);
  if (data == NULL)
    return ct_cli_report_error (cli, error);

  if (cli->json)
    print_json (data);
  else
    print_text (data);

  if (print)
    {
      g_autoptr(CtRaster) raster = ct_render_receipt (data, paper, NULL);

      fflush (stdout);
      return ct_cli_print_raster (printer, raster);
    }
  return CT_EXIT_OK;
}
