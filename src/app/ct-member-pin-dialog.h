/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CT_TYPE_MEMBER_PIN_DIALOG (ct_member_pin_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtMemberPinDialog, ct_member_pin_dialog, CT, MEMBER_PIN_DIALOG, AdwMessageDialog)

void                ct_member_pin_dialog_run_async   (GtkWidget            *parent,
                                                      const char           *body,
                                                      const char           *problem,
                                                      const char           *confirm_label,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
char               *ct_member_pin_dialog_run_finish  (GAsyncResult         *result,
                                                      GError              **error);
void                ct_member_pin_dialog_press       (CtMemberPinDialog    *self,
                                                      const char           *key);
guint               ct_member_pin_dialog_get_length  (CtMemberPinDialog    *self);
const char         *ct_member_pin_dialog_get_problem (CtMemberPinDialog    *self);

G_END_DECLS
