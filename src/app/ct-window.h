/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_WINDOW (ct_window_get_type ())

G_DECLARE_FINAL_TYPE (CtWindow, ct_window, CT, WINDOW, AdwApplicationWindow)

CtWindow   *ct_window_new             (AdwApplication *application,
                                       CtSession      *session);
CtSession  *ct_window_get_session     (CtWindow       *self);
void        ct_window_show_page       (CtWindow       *self,
                                       const char     *name);
const char *ct_window_get_page        (CtWindow       *self);
GtkWidget  *ct_window_get_page_widget (CtWindow       *self,
                                       const char     *name);
void        ct_window_toast           (CtWindow       *self,
                                       const char     *text);
void        ct_window_handle_scan     (CtWindow       *self,
                                       const char     *text);
gboolean    ct_window_wedge_key       (CtWindow       *self,
                                       guint           keyval,
                                       guint32         time_ms,
                                       gboolean        is_key_down,
                                       gboolean        is_repeat,
                                       GdkModifierType state);
const char *ct_window_get_connection_text (CtWindow   *self);
const char *ct_window_get_header_text (CtWindow       *self);
gboolean    ct_window_lock            (CtWindow       *self);
gboolean    ct_window_is_locked       (CtWindow       *self);
GtkWidget  *ct_window_get_sign_in_page (CtWindow      *self);

G_END_DECLS
