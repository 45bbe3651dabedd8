/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

AdwMessageDialog *ct_find_dialog   (const char       *name);
gboolean          ct_dialog_choose (AdwMessageDialog *dialog,
                                    const char       *response);

G_END_DECLS
