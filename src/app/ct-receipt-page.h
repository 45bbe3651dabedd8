/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_RECEIPT_PAGE (ct_receipt_page_get_type ())

G_DECLARE_FINAL_TYPE (CtReceiptPage, ct_receipt_page, CT, RECEIPT_PAGE, AdwBin)

GtkWidget *ct_receipt_page_new        (CtSession            *session);
char      *ct_receipt_page_get_text   (CtReceiptPage        *self);
const char *ct_receipt_page_get_printer_problem (CtReceiptPage *self);
gboolean   ct_receipt_export_pdf      (const CtReceiptData  *data,
                                       GtkWindow            *parent,
                                       const char           *path,
                                       GError              **error);

G_END_DECLS
