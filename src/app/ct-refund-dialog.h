/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>
#include <stdint.h>

G_BEGIN_DECLS

#define CT_TYPE_REFUND_DIALOG (ct_refund_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtRefundDialog, ct_refund_dialog, CT, REFUND_DIALOG, AdwMessageDialog)

CtRefundDialog *ct_refund_dialog_new        (GtkWidget       *parent,
                                             const char      *body,
                                             int              minor_units,
                                             int64_t          left,
                                             const char      *no_partial);
gboolean        ct_refund_dialog_takes_part (CtRefundDialog  *self);
gboolean        ct_refund_dialog_read       (CtRefundDialog  *self,
                                             int64_t         *out_amount,
                                             char           **out_problem);

G_END_DECLS
