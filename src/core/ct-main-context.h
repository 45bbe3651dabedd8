/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs @func (@data) once in whichever thread iterates @context, at its
 * next iteration, then @notify (@data). Always through a source, from any
 * thread: g_main_context_invoke() would run @func at once in the calling
 * thread whenever nobody iterates @context at that moment (a worker thread
 * would then emit signals beside the main one). @name is a static string
 * naming the source. */
void ct_main_context_post (GMainContext   *context,
                           int             priority,
                           GSourceFunc     func,
                           gpointer        data,
                           GDestroyNotify  notify,
                           const char     *name);

G_END_DECLS
