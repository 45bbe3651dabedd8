/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

GtkWidget  *ct_welcome_dialog_new         (GtkWindow        *parent);
const char *ct_welcome_dialog_get_pin     (AdwMessageDialog *dialog);
const char *ct_welcome_dialog_get_problem (AdwMessageDialog *dialog);

G_END_DECLS
