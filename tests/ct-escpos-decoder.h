/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-escpos.h"

G_BEGIN_DECLS

/* Reads the bytes a receipt printer gets, as the printer would: every
 * command must be one cardtill sends, and the raster bands are stacked
 * back into the image that was printed. */
typedef struct
{
  GString  *ops;             /* "status init raster raster cut drawer" */
  guint     inits;
  guint     bands;
  guint     max_band_rows;
  guint     cuts;
  guint     drawer_kicks;
  guint     status_requests;
  CtRaster *raster;          /* NULL when the stream had no raster */
} CtDecoded;

CtDecoded *ct_escpos_decode        (const guint8    *data,
                                    gsize            len,
                                    GError         **error);
void       ct_decoded_free         (CtDecoded       *decoded);
gboolean   ct_raster_write_png     (const CtRaster  *raster,
                                    const char      *name,
                                    char           **out_path);
gboolean   ct_raster_find          (const CtRaster  *haystack,
                                    const CtRaster  *needle,
                                    guint           *out_x,
                                    guint           *out_y);
gboolean   ct_raster_equal         (const CtRaster  *a,
                                    const CtRaster  *b);
gboolean   ct_raster_ink_within    (const CtRaster  *raster,
                                    guint            left,
                                    guint            right);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtDecoded, ct_decoded_free)

G_END_DECLS
