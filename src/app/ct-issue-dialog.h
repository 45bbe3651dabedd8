/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CT_TYPE_ISSUE_DIALOG (ct_issue_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtIssueDialog, ct_issue_dialog, CT, ISSUE_DIALOG, AdwMessageDialog)

CtIssueDialog *ct_issue_dialog_new  (GtkWidget      *parent);
gboolean       ct_issue_dialog_read (CtIssueDialog  *self,
                                     char          **out_name,
                                     char          **out_phone,
                                     char          **out_level,
                                     char          **out_member_pin,
                                     char          **out_problem);

G_END_DECLS
