/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-wire.h"

G_BEGIN_DECLS

#define CT_TYPE_REPLACE_DIALOG (ct_replace_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtReplaceDialog, ct_replace_dialog, CT, REPLACE_DIALOG, AdwMessageDialog)

CtReplaceDialog *ct_replace_dialog_new  (GtkWidget        *parent,
                                         const CtCard     *card,
                                         int               minor_units,
                                         const char       *currency);
gboolean         ct_replace_dialog_read (CtReplaceDialog  *self,
                                         char            **out_new_card_no,
                                         char            **out_problem);

G_END_DECLS
