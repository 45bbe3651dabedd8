/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CT_TYPE_WINDOW (ct_window_get_type ())

G_DECLARE_FINAL_TYPE (CtWindow, ct_window, CT, WINDOW, AdwApplicationWindow)

CtWindow   *ct_window_new            (AdwApplication *application);
void        ct_window_show_page      (CtWindow       *self,
                                      const char     *name);
const char *ct_window_get_page       (CtWindow       *self);
GtkWidget  *ct_window_get_page_widget (CtWindow      *self,
                                      const char     *name);
void        ct_window_toast          (CtWindow       *self,
                                      const char     *text);

G_END_DECLS
