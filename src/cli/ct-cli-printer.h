/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-cli.h"
#include "ct-printer.h"

G_BEGIN_DECLS

/* What `printer test`, `receipt`, `shift report` and `report day` share
 * (cmd-printer.c). */
CtPrinter *ct_cli_open_printer  (const char      *text,
                                 GError         **error);
gboolean   ct_cli_parse_paper   (const char      *text,
                                 CtPaper         *out);
/* The printer of --printer and the paper of --paper in @args, both checked
 * before anything is fetched; NULL with the sentence for a usage error. */
CtPrinter *ct_cli_take_printer  (CtCliArgs       *args,
                                 CtPaper         *out_paper,
                                 GError         **error);
int        ct_cli_print_raster  (CtPrinter       *printer,
                                 const CtRaster  *raster);
void       ct_cli_print_lines   (const char      *title,
                                 GPtrArray       *lines);

G_END_DECLS
