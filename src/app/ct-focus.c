/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-focus"

#include "config.h"

#include "ct-focus.h"

static gboolean
focus_cb (gpointer user_data)
{
  GWeakRef *ref = user_data;
  g_autoptr(GtkWidget) widget = g_weak_ref_get (ref);

  if (widget != NULL && gtk_widget_get_mapped (widget))
    gtk_widget_grab_focus (widget);

  return G_SOURCE_REMOVE;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/**
 * ct_focus_soon:
 * @widget: the widget a screen's typing goes to
 *
 * Gives @widget the keyboard focus once the screen switch that mapped it
 * is complete (a grab inside ::map is undone by the stack's own focus
 * handling).
 */
void
ct_focus_soon (GtkWidget *widget)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, widget);
  g_idle_add_full (G_PRIORITY_HIGH_IDLE, focus_cb, ref, weak_ref_free);
}
