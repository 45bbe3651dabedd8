/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ct-main-context.h"

void
ct_main_context_post (GMainContext   *context,
                      int             priority,
                      GSourceFunc     func,
                      gpointer        data,
                      GDestroyNotify  notify,
                      const char     *name)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, name);
  g_source_attach (source, context);
  g_source_unref (source);
}
