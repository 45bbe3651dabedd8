/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-focus"

#include "config.h"

#include "ct-focus.h"

/* The first of the widgets (weak references) that is on screen and takes
 * the focus gets it. */
static gboolean
focus_cb (gpointer user_data)
{
  GPtrArray *refs = user_data;

  for (guint i = 0; i < refs->len; i++)
    {
      g_autoptr(GtkWidget) widget = g_weak_ref_get (refs->pdata[i]);

      if (widget != NULL && gtk_widget_get_mapped (widget) && gtk_widget_grab_focus (widget))
        break;
    }

  return G_SOURCE_REMOVE;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static void
focus_soon_refs (GPtrArray *refs)
{
  g_idle_add_full (G_PRIORITY_HIGH_IDLE, focus_cb, refs, (GDestroyNotify) g_ptr_array_unref);
}

static void
add_ref (GPtrArray *refs,
         GtkWidget *widget)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, widget);
  g_ptr_array_add (refs, ref);
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
  ct_focus_soon_first (widget, NULL);
}

/**
 * ct_focus_soon_first:
 * @first: the widget a screen's next key goes to
 * @...: others to take it in turn when @first cannot (hidden,
 *   insensitive), %NULL-terminated
 *
 * As ct_focus_soon(), with fallbacks: the first that is on screen and
 * takes the focus gets it.
 */
void
ct_focus_soon_first (GtkWidget *first,
                     ...)
{
  GPtrArray *refs = g_ptr_array_new_with_free_func (weak_ref_free);
  va_list args;

  va_start (args, first);
  for (GtkWidget *w = first; w != NULL; w = va_arg (args, GtkWidget *))
    add_ref (refs, w);
  va_end (args);
  focus_soon_refs (refs);
}
