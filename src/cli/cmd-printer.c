/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-cli"
#include "config.h"

#include <json.h>
#include <stdio.h>
#include <string.h>

#include "ct-cli.h"
#include "ct-cli-private.h"
#include "ct-cli-printer.h"
#include "ct-text.h"
#include "ct-printer-render.h"

/* cardtill-cli printer list | test, and what `receipt --print` shares:
 * the --printer and --paper options. */

static const char printer_usage[] =
  "Usage: cardtill-cli printer list\n"
  "       cardtill-cli printer test [--printer ADDRESS] [--paper 58|80]\n"
  "ADDRESS is usb:VID:PID, tcp:HOST:PORT or file:PATH (default: $CARDTILL_PRINTER).\n";

/**
 * ct_cli_open_printer:
 * @text: (nullable): the --printer value; $CARDTILL_PRINTER when NULL
 *
 * Returns: the printer, or %NULL with a sentence saying how to write one.
 */
CtPrinter *
ct_cli_open_printer (const char  *text,
                     GError     **error)
{
  g_autoptr(CtPrinterAddress) address = NULL;

  if (text == NULL)
    text = g_getenv ("CARDTILL_PRINTER");
  address = ct_printer_address_parse (text, error);
  if (address == NULL)
    return NULL;
  return ct_printer_new (address);
}

/**
 * ct_cli_parse_paper:
 * @text: (nullable): "58" or "80"; 58 mm when NULL
 */
gboolean
ct_cli_parse_paper (const char *text,
                    CtPaper    *out)
{
  guint64 mm = 58;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 0, 1000, &mm, NULL))
    return FALSE;
  return ct_paper_from_mm ((guint) mm, out);
}

CtPrinter *
ct_cli_take_printer (CtCliArgs  *args,
                     CtPaper    *out_paper,
                     GError    **error)
{
  if (!ct_cli_parse_paper (ct_cli_args_get (args, "paper"), out_paper))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--paper is 58 or 80 (mm)");
      return NULL;
    }
  return ct_cli_open_printer (ct_cli_args_get (args, "printer"), error);
}

/**
 * ct_cli_print_raster:
 *
 * Prints @raster (never with a drawer kick: the CLI only reprints) and
 * reports a failure as the printer's sentence.
 */
/**
 * ct_cli_print_lines:
 * Prints a receipt's or a report's title and "label: value" lines, with
 * the control characters of text people typed shown escaped.
 */
void
ct_cli_print_lines (const char *title,
                    GPtrArray  *lines)
{
  g_autofree char *safe_title = ct_text_escape_controls (title);

  printf ("%s\n", safe_title);
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);
      g_autofree char *label = ct_text_escape_controls (line->label);
      g_autofree char *value = ct_text_escape_controls (line->value);

      printf ("%s: %s\n", label, value);
    }
}

int
ct_cli_print_raster (CtPrinter      *printer,
                     const CtRaster *raster)
{
  g_autoptr(GBytes) job = ct_escpos_document (raster, FALSE);
  g_autoptr(GError) error = NULL;

  if (!ct_printer_print (printer, job, NULL, &error))
    {
      fprintf (stderr, "cardtill-cli: %s\n", error->message);
      return CT_EXIT_LOCAL;
    }
  return CT_EXIT_OK;
}

static json_object *
printer_to_json (gconstpointer device)
{
  const CtPrinterUsbInfo *info = device;
  g_autofree char *address = g_strdup_printf ("usb:%04x:%04x", info->vendor_id, info->product_id);
  json_object *o = ct_cli_usb_json ("printer", address, info->bus, info->address, info->interface_number);

  json_object_object_add (o, "out_endpoint", json_object_new_int (info->out_endpoint));
  json_object_object_add (o, "in_endpoint", info->in_endpoint ? json_object_new_int (info->in_endpoint) : NULL);
  json_object_object_add (o, "manufacturer", info->manufacturer ? json_object_new_string (info->manufacturer) : NULL);
  json_object_object_add (o, "product", info->product ? json_object_new_string (info->product) : NULL);
  json_object_object_add (o, "generic_vendor", json_object_new_boolean (info->generic_vendor));
  json_object_object_add (o, "accessible", json_object_new_boolean (info->accessible));
  return o;
}

static char *
printer_describe (gconstpointer device)
{
  return ct_printer_usb_info_describe (device);
}

static int
printer_list (CtCli  *cli,
              int     argc,
              char  **argv)
{
  if (argc > 1)
    return ct_cli_usage_help (printer_usage, "printer list takes no arguments");
  return ct_cli_print_devices (cli, ct_printer_list_usb, printer_to_json, printer_describe,
                               "No USB printers found.");
}

static int
printer_test (CtCli  *cli,
              int     argc,
              char  **argv)
{
  static const char * const spec[] = { "printer=", "paper=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(CtRaster) raster = NULL;
  g_autofree char *name = NULL;
  CtPaper paper;
  int status;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_help (printer_usage, error->message);
  if (args.positional->len != 0)
    return ct_cli_usage_help (printer_usage, "printer test takes no positional arguments");
  printer = ct_cli_take_printer (&args, &paper, &error);
  if (printer == NULL)
    return ct_cli_usage_help (printer_usage, error->message);

  name = ct_printer_address_to_string (ct_printer_get_address (printer));
  raster = ct_render_test_page (paper, name, NULL);
  status = ct_cli_print_raster (printer, raster);
  if (status == CT_EXIT_OK)
    printf ("Printed a %u mm test page on %s.\n", ct_paper_mm (paper), name);
  return status;
}

int
ct_cli_cmd_printer (CtCli  *cli,
                    int     argc,
                    char  **argv)
{
  const char *sub = argc > 1 ? argv[1] : NULL;

  if (sub != NULL && strcmp (sub, "list") == 0)
    return printer_list (cli, argc - 1, argv + 1);
  if (sub != NULL && strcmp (sub, "test") == 0)
    return printer_test (cli, argc - 1, argv + 1);
  return ct_cli_usage_help (printer_usage, "printer needs list or test");
}
