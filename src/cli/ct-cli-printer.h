/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-printer.h"

G_BEGIN_DECLS

/* What `printer test`, `receipt`, `shift report` and `report day` share
 * (cmd-printer.c). */
CtPrinter *ct_cli_open_printer  (const char      *text,
                                 GError         **error);
gboolean   ct_cli_parse_paper   (const char      *text,
                                 CtPaper         *out);
int        ct_cli_print_raster  (CtPrinter       *printer,
                                 const CtRaster  *raster);
void       ct_cli_print_lines   (const char      *title,
                                 GPtrArray       *lines);

G_END_DECLS
