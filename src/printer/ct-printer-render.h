/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-escpos.h"
#include "ct-receipt-data.h"

G_BEGIN_DECLS

/* Pixel sizes of the printed text: at 203 dpi a 22-dot line is the size
 * of a printer's own 12 x 24 font, readable on both paper widths. */
#define CT_RENDER_MARGIN     8
#define CT_RENDER_TEXT_PX    22
#define CT_RENDER_TITLE_PX   30

CtRaster *ct_render_lines      (const char          *title,
                                const char          *note,
                                GPtrArray           *lines,
                                CtPaper              paper,
                                guint               *unknown_glyphs);
CtRaster *ct_render_receipt    (const CtReceiptData *data,
                                CtPaper              paper,
                                guint               *unknown_glyphs);
CtRaster *ct_render_test_page  (CtPaper              paper,
                                const char          *printer,
                                guint               *unknown_glyphs);
CtRaster *ct_render_text       (const char          *text,
                                gboolean             title,
                                guint               *unknown_glyphs);

G_END_DECLS
