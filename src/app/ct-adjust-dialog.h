/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>
#include <stdint.h>

G_BEGIN_DECLS

#define CT_TYPE_ADJUST_DIALOG (ct_adjust_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtAdjustDialog, ct_adjust_dialog, CT, ADJUST_DIALOG, AdwMessageDialog)

CtAdjustDialog *ct_adjust_dialog_new  (GtkWidget       *parent,
                                       int              minor_units);
gboolean        ct_adjust_dialog_read (CtAdjustDialog  *self,
                                       int64_t         *out_delta,
                                       char           **out_reason,
                                       char           **out_problem);

G_END_DECLS
