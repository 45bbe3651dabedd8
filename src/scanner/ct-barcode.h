/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "zxing-c.h"

G_BEGIN_DECLS

#define CT_BARCODE_ERROR (ct_barcode_error_quark ())

typedef enum
{
  CT_BARCODE_ERROR_FILE,        /* cannot read or write the file */
  CT_BARCODE_ERROR_NOT_IMAGE,   /* not an image GdkPixbuf can load */
  CT_BARCODE_ERROR_TOO_LARGE,   /* refused before decoding */
  CT_BARCODE_ERROR_NOT_FOUND,   /* no barcode in the image */
  CT_BARCODE_ERROR_FORMAT,      /* unknown or unwritable barcode format */
  CT_BARCODE_ERROR_ENCODE,      /* the text does not fit the format */
} CtBarcodeError;

/* Limits checked before an image is decoded. */
#define CT_BARCODE_MAX_FILE_BYTES (50 * 1024 * 1024)
#define CT_BARCODE_MAX_PIXELS     (40 * 1000 * 1000)

typedef struct
{
  char *format;      /* ZXing's name: "EAN-13", "Code128", "QRCode"… */
  char *text;
  char *symbology;   /* "]E0" */
} CtBarcode;

GQuark      ct_barcode_error_quark      (void);
void        ct_barcode_free             (CtBarcode           *barcode);

gboolean    ct_barcode_format_from_name (const char          *name,
                                         zxing_BarcodeFormat *out_format);

GPtrArray  *ct_barcode_decode_lum       (const guint8        *lum,
                                         int                  width,
                                         int                  height,
                                         int                  stride,
                                         GError             **error);
GPtrArray  *ct_barcode_decode_pixbuf    (GdkPixbuf           *pixbuf,
                                         GError             **error);
GPtrArray  *ct_barcode_decode_file      (const char          *path,
                                         GError             **error);

GdkPixbuf  *ct_barcode_encode           (const char          *text,
                                         zxing_BarcodeFormat  format,
                                         int                  width,
                                         int                  height,
                                         GError             **error);
gboolean    ct_barcode_encode_png       (const char          *text,
                                         zxing_BarcodeFormat  format,
                                         int                  width,
                                         int                  height,
                                         const char          *path,
                                         GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtBarcode, ct_barcode_free)

G_END_DECLS
