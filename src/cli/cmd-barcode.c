/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-cli"
#include "config.h"

#include <json.h>
#include <stdio.h>
#include <string.h>

#include "ct-barcode.h"
#include "ct-card-number.h"
#include "ct-cli.h"
#include "ct-cli-private.h"
#include "ct-hid-decode.h"

/* cardtill-cli barcode decode IMAGE | encode TEXT --format F -o OUT.png */

static const char barcode_usage[] =
  "Usage: cardtill-cli barcode decode IMAGE [--issuer-prefix P]\n"
  "       cardtill-cli barcode encode TEXT --format code128|qr|ean13|… -o OUT.png\n"
  "                                   [--width W] [--height H]\n";

static int
barcode_decode (CtCli  *cli,
                int     argc,
                char  **argv)
{
  static const char * const spec[] = { "issuer-prefix=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;
  const char *image;
  const char *prefix;
  json_object *array = NULL;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_help (barcode_usage, error->message);
  if (args.positional->len > 1)
    return ct_cli_usage_help (barcode_usage, "barcode decode takes one IMAGE");
  if (args.positional->len == 0)
    return ct_cli_usage_help (barcode_usage, "barcode decode needs an IMAGE");
  image = g_ptr_array_index (args.positional, 0);
  prefix = ct_cli_args_get (&args, "issuer-prefix");
  if (prefix == NULL)
    prefix = CT_CARD_NUMBER_DEFAULT_PREFIX;

  found = ct_barcode_decode_file (image, &error);
  if (found == NULL)
    {
      fprintf (stderr, "cardtill-cli: %s%s%s\n",
               g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_FOUND) ? image : "",
               g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_FOUND) ? ": " : "",
               error->message);
      return CT_EXIT_LOCAL;
    }

  if (cli->json)
    array = json_object_new_array ();
  for (guint i = 0; i < found->len; i++)
    {
      CtBarcode *b = g_ptr_array_index (found, i);
      g_autofree char *text = ct_hid_escape_bytes (b->text, strlen (b->text));
      g_autofree char *card = ct_card_number_from_scan (b->text, prefix, NULL);

      if (array != NULL)
        {
          json_object *o = json_object_new_object ();

          json_object_object_add (o, "format", json_object_new_string (b->format));
          json_object_object_add (o, "text", json_object_new_string (b->text));
          json_object_object_add (o, "symbology", json_object_new_string (b->symbology));
          json_object_object_add (o, "card_no", card ? json_object_new_string (card) : NULL);
          json_object_array_add (array, o);
          continue;
        }
      if (i > 0)
        printf ("\n");
      printf ("format: %s\n", b->format);
      printf ("text: %s\n", text);
      if (card != NULL)
        printf ("card: %s\n", card);
    }
  if (array != NULL)
    {
      printf ("%s\n", json_object_to_json_string_ext (array, JSON_C_TO_STRING_PLAIN));
      json_object_put (array);
    }
  return CT_EXIT_OK;
}

static gboolean
is_matrix_format (zxing_BarcodeFormat format)
{
  return (format & zxing_BarcodeFormat_MatrixCodes) != 0 && format != zxing_BarcodeFormat_PDF417;
}

static int
barcode_encode (CtCli  *cli,
                int     argc,
                char  **argv)
{
  static const char * const spec[] = { "format=", "o=", "output=", "width=", "height=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  const char *text = NULL, *format_name, *out, *width_text, *height_text;
  zxing_BarcodeFormat format;
  guint64 width = 0, height = 0;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_help (barcode_usage, error->message);
  if (args.positional->len > 1)
    return ct_cli_usage_help (barcode_usage, "barcode encode takes one TEXT");
  if (args.positional->len == 1)
    text = g_ptr_array_index (args.positional, 0);
  format_name = ct_cli_args_get (&args, "format");
  out = ct_cli_args_get (&args, "output") ? ct_cli_args_get (&args, "output")
                                          : ct_cli_args_get (&args, "o");
  width_text = ct_cli_args_get (&args, "width");
  height_text = ct_cli_args_get (&args, "height");
  if (text == NULL || format_name == NULL || out == NULL)
    return ct_cli_usage_help (barcode_usage, "barcode encode needs TEXT, --format and -o OUT.png");
  if (!ct_barcode_format_from_name (format_name, &format))
    return ct_cli_usage_help (barcode_usage, "unknown --format (code128, qr, ean13, or a ZXing name like EAN-8)");
  if (width_text != NULL && !g_ascii_string_to_unsigned (width_text, 10, 1, 10000, &width, NULL))
    return ct_cli_usage_help (barcode_usage, "--width takes 1 to 10000 pixels");
  if (height_text != NULL && !g_ascii_string_to_unsigned (height_text, 10, 1, 10000, &height, NULL))
    return ct_cli_usage_help (barcode_usage, "--height takes 1 to 10000 pixels");

  /* Printable defaults: a square for 2D codes, a wide strip for 1D. */
  if (width == 0)
    width = is_matrix_format (format) ? 300 : 400;
  if (height == 0)
    height = is_matrix_format (format) ? width : 150;

  if (!ct_barcode_encode_png (text, format, (int) width, (int) height, out, &error))
    {
      fprintf (stderr, "cardtill-cli: %s\n", error->message);
      return g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FILE)
             ? CT_EXIT_LOCAL : CT_EXIT_USAGE;
    }
  return CT_EXIT_OK;
}

int
ct_cli_cmd_barcode (CtCli  *cli,
                    int     argc,
                    char  **argv)
{
  const char *sub = argc > 1 ? argv[1] : NULL;

  if (sub != NULL && strcmp (sub, "decode") == 0)
    return barcode_decode (cli, argc - 1, argv + 1);
  if (sub != NULL && strcmp (sub, "encode") == 0)
    return barcode_encode (cli, argc - 1, argv + 1);
  return ct_cli_usage_help (barcode_usage, "barcode needs decode or encode");
}
