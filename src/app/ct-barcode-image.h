/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  CT_BARCODE_IMAGE_CODE128,  /* the card's barcode */
  CT_BARCODE_IMAGE_QR,       /* the enrollment QR code */
} CtBarcodeImageKind;

GdkTexture *ct_barcode_image_texture            (const char           *text,
                                                 CtBarcodeImageKind    kind,
                                                 GError              **error);
GdkTexture *ct_barcode_image_texture_cached     (const char           *text,
                                                 CtBarcodeImageKind    kind,
                                                 GError              **error);
void        ct_barcode_image_decode_file_async  (const char           *path,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
char       *ct_barcode_image_decode_file_finish (GAsyncResult         *result,
                                                 GError              **error);

G_END_DECLS
