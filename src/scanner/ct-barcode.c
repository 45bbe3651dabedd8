/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-barcode"
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-barcode.h"

/* Barcodes in image files: a photo of an old card decoded into its number,
 * the member's card barcode and the card-issue QR code rendered to PNG.
 * Everything goes through the zxing-c API; images load with GdkPixbuf,
 * which needs no display. */

G_DEFINE_QUARK (ct-barcode-error-quark, ct_barcode_error)

void
ct_barcode_free (CtBarcode *barcode)
{
  if (barcode == NULL)
    return;
  g_free (barcode->format);
  g_free (barcode->text);
  g_free (barcode->symbology);
  g_free (barcode);
}

/* Takes a malloc'd string from zxing-c and returns a g_malloc'd copy. */
static char *
take_zx_string (char *s)
{
  char *copy = g_strdup (s != NULL ? s : "");

  free (s);
  return copy;
}

/**
 * ct_barcode_format_from_name:
 * @name: "code128", "qr", "ean13" or any name ZXing knows ("EAN-8", "QRCode")
 *
 * Returns: %TRUE with @out_format set for exactly one known format.
 */
gboolean
ct_barcode_format_from_name (const char          *name,
                             zxing_BarcodeFormat *out_format)
{
  zxing_BarcodeFormat format;

  g_return_val_if_fail (out_format != NULL, FALSE);

  if (name == NULL || *name == '\0')
    return FALSE;
  if (g_ascii_strcasecmp (name, "qr") == 0)
    format = zxing_BarcodeFormat_QRCode;
  else
    format = zxing_BarcodeFormatFromString (name);
  if (format == zxing_BarcodeFormat_Invalid || format == zxing_BarcodeFormat_None)
    return FALSE;
  *out_format = format;
  return TRUE;
}

/**
 * ct_barcode_decode_lum:
 * @lum: 8-bit luminance pixels
 *
 * Returns: (transfer full) (element-type CtBarcode): every barcode found,
 *   or %NULL with %CT_BARCODE_ERROR_NOT_FOUND.
 */
GPtrArray *
ct_barcode_decode_lum (const guint8  *lum,
                       int            width,
                       int            height,
                       int            stride,
                       GError       **error)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_barcode_free);
  zxing_ImageView *iv;
  zxing_DecodeHints *hints;
  zxing_Results *results;

  g_return_val_if_fail (lum != NULL, NULL);

  if (width <= 0 || height <= 0 || (gint64) width * height > CT_BARCODE_MAX_PIXELS)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE,
                   "An image of %d×%d pixels is not decoded (at most %d megapixels)",
                   width, height, CT_BARCODE_MAX_PIXELS / 1000000);
      return NULL;
    }

  iv = zxing_ImageView_new (lum, width, height, zxing_ImageFormat_Lum, stride, 1);
  hints = zxing_DecodeHints_new ();
  if (iv == NULL || hints == NULL)
    {
      zxing_ImageView_delete (iv);
      zxing_DecodeHints_delete (hints);
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_IMAGE,
                   "The image cannot be read for barcodes");
      return NULL;
    }
  zxing_DecodeHints_setTryHarder (hints, true);
  zxing_DecodeHints_setTryRotate (hints, true);
  zxing_DecodeHints_setTryDownscale (hints, true);
  zxing_DecodeHints_setFormats (hints, zxing_BarcodeFormat_Any);

  results = zxing_ReadBarcodes (iv, hints);
  for (int i = 0; i < zxing_Results_size (results); i++)
    {
      const zxing_Result *r = zxing_Results_at (results, i);
      CtBarcode *barcode;

      if (!zxing_Result_isValid (r))
        continue;
      barcode = g_new0 (CtBarcode, 1);
      barcode->format = take_zx_string (zxing_BarcodeFormatToString (zxing_Result_format (r)));
      barcode->text = take_zx_string (zxing_Result_text (r));
      barcode->symbology = take_zx_string (zxing_Result_symbologyIdentifier (r));
      g_ptr_array_add (found, barcode);
    }
  zxing_Results_delete (results);
  zxing_DecodeHints_delete (hints);
  zxing_ImageView_delete (iv);

  if (found->len == 0)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_FOUND,
                   "No barcode found in the image");
      return NULL;
    }
  return g_steal_pointer (&found);
}

/**
 * ct_barcode_decode_pixbuf:
 *
 * Converts to luminance (transparent pixels count as white paper) and
 * decodes.
 */
GPtrArray *
ct_barcode_decode_pixbuf (GdkPixbuf  *pixbuf,
                          GError    **error)
{
  g_autofree guint8 *lum = NULL;
  const guint8 *pixels;
  int width, height, stride, channels;
  gboolean alpha;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);

  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  channels = gdk_pixbuf_get_n_channels (pixbuf);
  alpha = gdk_pixbuf_get_has_alpha (pixbuf);

  if ((gint64) width * height > CT_BARCODE_MAX_PIXELS)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE,
                   "An image of %d×%d pixels is not decoded (at most %d megapixels)",
                   width, height, CT_BARCODE_MAX_PIXELS / 1000000);
      return NULL;
    }
  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 || channels < 3)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_IMAGE,
                   "Unsupported pixel layout");
      return NULL;
    }

  pixels = gdk_pixbuf_read_pixels (pixbuf);
  lum = g_malloc ((gsize) width * height);
  for (int y = 0; y < height; y++)
    {
      const guint8 *row = pixels + (gsize) y * stride;
      guint8 *out = lum + (gsize) y * width;

      for (int x = 0; x < width; x++)
        {
          const guint8 *p = row + (gsize) x * channels;
          guint v = (306 * p[0] + 601 * p[1] + 117 * p[2] + 0x200) >> 10;

          if (alpha)
            v = (v * p[3] + 255 * (255 - p[3]) + 127) / 255;
          out[x] = (guint8) v;
        }
    }
  return ct_barcode_decode_lum (lum, width, height, width, error);
}

/**
 * ct_barcode_decode_file:
 * @path: a PNG, JPEG or other image GdkPixbuf reads
 *
 * Refuses files over %CT_BARCODE_MAX_FILE_BYTES and images over
 * %CT_BARCODE_MAX_PIXELS from their header, before decoding anything.
 */
GPtrArray *
ct_barcode_decode_file (const char  *path,
                        GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GError) local_error = NULL;
  GStatBuf st;
  int width = 0, height = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FILE,
                   "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FILE,
                   "%s: not a regular file", path);
      return NULL;
    }
  if (st.st_size > CT_BARCODE_MAX_FILE_BYTES)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE,
                   "%s: the file is %" G_GINT64_FORMAT " MB, larger than the %d MB an image may have",
                   path, (gint64) st.st_size / (1024 * 1024), CT_BARCODE_MAX_FILE_BYTES / (1024 * 1024));
      return NULL;
    }
  if (gdk_pixbuf_get_file_info (path, &width, &height) == NULL)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_IMAGE,
                   "%s: not an image that can be read", path);
      return NULL;
    }
  if (width <= 0 || height <= 0 || (gint64) width * height > CT_BARCODE_MAX_PIXELS)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE,
                   "%s: an image of %d×%d pixels is not decoded (at most %d megapixels)",
                   path, width, height, CT_BARCODE_MAX_PIXELS / 1000000);
      return NULL;
    }

  pixbuf = gdk_pixbuf_new_from_file (path, &local_error);
  if (pixbuf == NULL)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_IMAGE,
                   "%s: %s", path, local_error->message);
      return NULL;
    }
  /* A phone photo stores its rotation in EXIF. */
  oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  return ct_barcode_decode_pixbuf (oriented != NULL ? oriented : pixbuf, error);
}

static void
free_pixels (guchar  *pixels,
             gpointer data)
{
  g_free (pixels);
}

/**
 * ct_barcode_encode:
 * @format: one format (Code 128, EAN-13, QR code…)
 * @width: the smallest width wanted, in pixels (0: the encoder's choice)
 * @height: the smallest height wanted, in pixels
 *
 * Returns: (transfer full): an RGB image of the barcode with its quiet zone.
 */
GdkPixbuf *
ct_barcode_encode (const char           *text,
                   zxing_BarcodeFormat   format,
                   int                   width,
                   int                   height,
                   GError              **error)
{
  char *zx_error = NULL;
  uint8_t *lum;
  guint8 *rgb;
  int w = 0, h = 0;

  g_return_val_if_fail (text != NULL, NULL);

  if (format == zxing_BarcodeFormat_Invalid || format == zxing_BarcodeFormat_None)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FORMAT,
                   "Unknown barcode format");
      return NULL;
    }
  if (width < 0 || height < 0 || width > 10000 || height > 10000)
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_ENCODE,
                   "Image size %d×%d is out of range (1 to 10000 pixels a side)", width, height);
      return NULL;
    }

  lum = cardtill_zxing_WriteBarcode (text, format, width, height, -1, &w, &h, &zx_error);
  if (lum == NULL)
    {
      g_autofree char *name = take_zx_string (zxing_BarcodeFormatToString (format));

      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_ENCODE,
                   "Cannot encode \"%s\" as %s: %s", text, name,
                   zx_error != NULL ? zx_error : "unknown error");
      free (zx_error);
      return NULL;
    }

  rgb = g_malloc ((gsize) w * h * 3);
  for (gsize i = 0; i < (gsize) w * h; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = lum[i];
  free (lum);
  return gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, w, h, w * 3,
                                   free_pixels, NULL);
}

gboolean
ct_barcode_encode_png (const char           *text,
                       zxing_BarcodeFormat   format,
                       int                   width,
                       int                   height,
                       const char           *path,
                       GError              **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  pixbuf = ct_barcode_encode (text, format, width, height, error);
  if (pixbuf == NULL)
    return FALSE;
  if (!gdk_pixbuf_save (pixbuf, path, "png", &local_error, NULL))
    {
      g_set_error (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FILE,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }
  return TRUE;
}
