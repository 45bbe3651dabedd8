/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-screenshot"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-screenshot.h"

/**
 * ct_screenshot_save_png:
 * @widget: a realized widget, usually the window
 * @path: where to write the PNG
 * @error: return location for an error
 *
 * Renders @widget the way it is drawn on screen, through its own
 * renderer, and writes the picture as a PNG. Works under Xvfb and
 * needs no compositor, so the tests and the demo walk-through use it.
 */
gboolean
ct_screenshot_save_png (GtkWidget   *widget,
                        const char  *path,
                        GError     **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  GtkNative *native;
  int width;
  int height;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  native = gtk_widget_get_native (widget);

  if (width <= 0 || height <= 0 || native == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   "The window is not shown yet, nothing to capture");
      return FALSE;
    }

  renderer = gtk_native_get_renderer (native);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));

  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "The window drew nothing");
      return FALSE;
    }

  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Could not write %s", path);
      return FALSE;
    }

  return TRUE;
}

static gboolean
settle_timeout_cb (gpointer user_data)
{
  gboolean *done = user_data;

  *done = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * ct_screenshot_settle:
 * @ms: how long to keep the main loop running
 *
 * Runs the default main context for @ms milliseconds so that layout,
 * transitions and pending idle work finish before a capture.
 */
void
ct_screenshot_settle (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, settle_timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}
