/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-client.h"

G_BEGIN_DECLS

/* What every asynchronous call of the client shares, in ct-client.c and
 * ct-client-shifts.c alike: a task tagged with the call that made it, a
 * worker's result or error returned, and the result taken back only by
 * the _finish of that call.
 * ct_client_run_task() starts a call whose worker needs nothing but its
 * task data. */
GTask    *ct_client_task_new      (CtClient            *self,
                                   gpointer             source_tag,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
void      ct_client_task_return   (GTask               *task,
                                   gpointer             result,
                                   GDestroyNotify       result_free,
                                   GError              *error);
void      ct_client_run_task      (CtClient            *self,
                                   gpointer             source_tag,
                                   gpointer             task_data,
                                   GDestroyNotify       task_data_free,
                                   GTaskThreadFunc      worker,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean  ct_client_task_is_valid (CtClient            *self,
                                   GAsyncResult        *result,
                                   gpointer             source_tag);
gpointer  ct_client_task_finish   (CtClient            *self,
                                   GAsyncResult        *result,
                                   gpointer             source_tag,
                                   GError             **error);

G_END_DECLS
