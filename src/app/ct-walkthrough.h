/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-window.h"

G_BEGIN_DECLS

void     ct_walkthrough_run_async  (CtWindow            *window,
                                    const char          *directory,
                                    const char          *manager_pin,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
gboolean ct_walkthrough_run_finish (GAsyncResult        *result,
                                    GError             **error);

G_END_DECLS
