/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Paper widths of thermal receipt printers, in dots at 203 dpi. */
typedef enum
{
  CT_PAPER_58MM = 384,
  CT_PAPER_80MM = 576,
} CtPaper;

/* A raster band is at most this many dots high: small printers have
 * small buffers, and a bounded band keeps one GS v 0 command within
 * what every model takes. */
#define CT_ESCPOS_BAND_ROWS 128

/* A 1-bit image: rows of width / 8 bytes, the leftmost dot in the most
 * significant bit, 1 for a black dot (as GS v 0 takes it). */
typedef struct
{
  guint   width;
  guint   height;
  guint   stride;
  guint8 *bits;
} CtRaster;

/* What DLE EOT tells about the printer. */
typedef struct
{
  gboolean paper_out;
  gboolean cover_open;
} CtPrinterStatus;

gboolean  ct_paper_from_mm          (guint               mm,
                                     CtPaper            *out);
guint     ct_paper_mm               (CtPaper             paper);

CtRaster *ct_raster_new             (guint               width,
                                     guint               height);
void      ct_raster_free            (CtRaster           *raster);
gboolean  ct_raster_get             (const CtRaster     *raster,
                                     guint               x,
                                     guint               y);

void      ct_escpos_init            (GByteArray         *out);
void      ct_escpos_raster          (GByteArray         *out,
                                     const CtRaster     *raster);
void      ct_escpos_cut             (GByteArray         *out);
void      ct_escpos_drawer_kick     (GByteArray         *out);
void      ct_escpos_status_request  (GByteArray         *out);
gsize     ct_escpos_status_length   (void);
gboolean  ct_escpos_parse_status    (const guint8       *answer,
                                     gsize               len,
                                     CtPrinterStatus    *status);
GBytes   *ct_escpos_document        (const CtRaster     *raster,
                                     gboolean            open_drawer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtRaster, ct_raster_free)

G_END_DECLS
