/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CT_TYPE_PIN_DIALOG (ct_pin_dialog_get_type ())

G_DECLARE_FINAL_TYPE (CtPinDialog, ct_pin_dialog, CT, PIN_DIALOG, AdwMessageDialog)

void         ct_pin_dialog_run_async  (GtkWidget            *parent,
                                       const char           *heading,
                                       const char           *body,
                                       const char           *problem,
                                       const char           *manager_id,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gboolean     ct_pin_dialog_run_finish (GAsyncResult         *result,
                                       char                **out_manager_id,
                                       char                **out_pin,
                                       GError              **error);
CtPinDialog *ct_pin_dialog_find       (void);
void         ct_pin_dialog_fill       (CtPinDialog          *self,
                                       const char           *manager_id,
                                       const char           *pin);
const char  *ct_pin_dialog_get_problem (CtPinDialog         *self);

G_END_DECLS
