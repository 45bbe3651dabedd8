/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CT_TYPE_OUTCOME_DIALOG (ct_outcome_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtOutcomeDialog, ct_outcome_dialog, CT, OUTCOME_DIALOG, AdwMessageDialog)

CtOutcomeDialog *ct_outcome_dialog_new  (GtkWidget        *parent,
                                         const char       *manager_id,
                                         int               minor_units);
gboolean         ct_outcome_dialog_read (CtOutcomeDialog  *self,
                                         char            **out_manager_id,
                                         char            **out_pin,
                                         char            **out_outcome,
                                         int64_t          *out_cash_given_back);

G_END_DECLS
