/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ct-receipt-data.h"

G_BEGIN_DECLS

#define CT_TYPE_TILL_PRINTER (ct_till_printer_get_type ())

G_DECLARE_FINAL_TYPE (CtTillPrinter, ct_till_printer, CT, TILL_PRINTER, GObject)

CtTillPrinter *ct_till_printer_new            (GSettings            *settings);
gboolean       ct_till_printer_is_set         (CtTillPrinter        *self);
void           ct_till_printer_taken          (CtTillPrinter        *self,
                                               const CtReceiptData  *data);
void           ct_till_printer_reprint        (CtTillPrinter        *self,
                                               const CtReceiptData  *data);
void           ct_till_printer_print_report   (CtTillPrinter        *self,
                                               const char           *title,
                                               GPtrArray            *lines);
void           ct_till_printer_test_page      (CtTillPrinter        *self);
const char    *ct_till_printer_get_problem    (CtTillPrinter        *self);
gboolean       ct_till_printer_get_busy       (CtTillPrinter        *self);
guint          ct_till_printer_get_printed    (CtTillPrinter        *self);

G_END_DECLS
