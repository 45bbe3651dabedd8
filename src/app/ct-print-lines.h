/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "ct-till-printer.h"

G_BEGIN_DECLS

/* Lines of a receipt or report (CtReceiptLine: a label and its value) on
 * screen and through GTK's print dialog (printers, PDF). */
void     ct_lines_grid_fill        (GtkGrid            *grid,
                                    GPtrArray          *lines,
                                    const char * const *headings);
char    *ct_lines_to_text          (const char         *title,
                                    GPtrArray          *lines);
void     ct_print_lines_dialog     (GtkWidget    *widget,
                                    const char   *job_name,
                                    const char   *title,
                                    const char   *note,
                                    GPtrArray    *lines);
void     ct_print_lines_on_till    (GtkWidget          *widget,
                                    CtTillPrinter      *printer,
                                    const char         *title,
                                    GPtrArray          *lines);
gboolean ct_print_lines_export_pdf (GtkWindow    *parent,
                                    const char   *title,
                                    const char   *note,
                                    GPtrArray    *lines,
                                    const char   *path,
                                    GError      **error);

G_END_DECLS
