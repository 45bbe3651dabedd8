/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _CtWedgeCapture CtWedgeCapture;

typedef void (*CtWedgeScanFunc) (const char *scan,
                                 gpointer    user_data);

CtWedgeCapture *ct_wedge_capture_new           (GtkWindow       *window,
                                                CtWedgeScanFunc  scan_func,
                                                gpointer         user_data);
void            ct_wedge_capture_free          (CtWedgeCapture  *self);
void            ct_wedge_capture_set_threshold (CtWedgeCapture  *self,
                                                guint            threshold_ms);
gboolean        ct_wedge_capture_key           (CtWedgeCapture  *self,
                                                guint            keyval,
                                                guint32          time_ms,
                                                gboolean         is_key_down,
                                                gboolean         is_repeat,
                                                GdkModifierType  state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWedgeCapture, ct_wedge_capture_free)

G_END_DECLS
