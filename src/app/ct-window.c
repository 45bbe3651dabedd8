/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-window"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-app-resources.h"
#include "ct-window.h"

struct _CtWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkLabel             *store_label;
  GtkButton            *connection_button;
  GtkImage             *connection_icon;
  GtkLabel             *connection_label;
  GtkListBox           *nav_list;
  GtkStack             *stack;
};

G_DEFINE_FINAL_TYPE (CtWindow, ct_window, ADW_TYPE_APPLICATION_WINDOW)

static void
select_nav_row (CtWindow   *self,
                const char *name)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->nav_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      if (GTK_IS_LIST_BOX_ROW (row) &&
          g_strcmp0 (gtk_widget_get_name (row), name) == 0)
        {
          gtk_list_box_select_row (self->nav_list, GTK_LIST_BOX_ROW (row));
          return;
        }
    }
}

static void
stack_page_changed_cb (CtWindow *self)
{
  GtkWidget *child = gtk_stack_get_visible_child (self->stack);
  const char *name = gtk_stack_get_visible_child_name (self->stack);
  GtkStackPage *page;

  if (child == NULL)
    return;

  page = gtk_stack_get_page (self->stack, child);
  adw_window_title_set_title (self->window_title, gtk_stack_page_get_title (page));
  select_nav_row (self, name);
}

static void
nav_row_activated_cb (GtkListBox    *list,
                      GtkListBoxRow *row,
                      CtWindow      *self)
{
  ct_window_show_page (self, gtk_widget_get_name (GTK_WIDGET (row)));
}

static void
page_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  ct_window_show_page (CT_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
ct_window_class_init (CtWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct { guint key; const char *page; } page_keys[] = {
    { GDK_KEY_F2, "scan" },
    { GDK_KEY_F3, "topup" },
    { GDK_KEY_F4, "pay" },
    { GDK_KEY_F5, "members" },
    { GDK_KEY_F6, "import" },
    { GDK_KEY_F7, "sync" },
    { GDK_KEY_F8, "settings" },
  };

  /* Referencing the resource bundle keeps the linker from dropping it
   * out of the static library. */
  g_assert (ct_app_get_resource () != NULL);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CtWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, store_label);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, connection_button);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, connection_icon);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, connection_label);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, nav_list);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, stack);
  gtk_widget_class_bind_template_callback (widget_class, stack_page_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, nav_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "win.page", "s", page_action);

  for (guint i = 0; i < G_N_ELEMENTS (page_keys); i++)
    gtk_widget_class_add_binding_action (widget_class, page_keys[i].key, 0,
                                         "win.page", "s", page_keys[i].page);
}

static void
add_placeholder (CtWindow   *self,
                 const char *name,
                 const char *title)
{
  GtkWidget *status = adw_status_page_new ();

  adw_status_page_set_title (ADW_STATUS_PAGE (status), title);
  gtk_stack_add_titled (self->stack, status, name, title);
}

static void
ct_window_init (CtWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  add_placeholder (self, "scan", _("Scan card"));
  add_placeholder (self, "topup", _("Top up"));
  add_placeholder (self, "pay", _("Pay"));
  add_placeholder (self, "members", _("Members"));
  add_placeholder (self, "import", _("Import"));
  add_placeholder (self, "sync", _("Sync"));
  add_placeholder (self, "settings", _("Settings"));
  stack_page_changed_cb (self);
}

CtWindow *
ct_window_new (AdwApplication *application)
{
  return g_object_new (CT_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

/**
 * ct_window_show_page:
 * @self: a #CtWindow
 * @name: "scan", "topup", "pay", "members", "import", "sync" or "settings"
 *
 * Switches the window to the named screen.
 */
void
ct_window_show_page (CtWindow   *self,
                     const char *name)
{
  g_return_if_fail (CT_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  if (gtk_stack_get_child_by_name (self->stack, name) == NULL)
    {
      g_warning ("No screen named %s", name);
      return;
    }

  gtk_stack_set_visible_child_name (self->stack, name);
}

const char *
ct_window_get_page (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

GtkWidget *
ct_window_get_page_widget (CtWindow   *self,
                           const char *name)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);

  return gtk_stack_get_child_by_name (self->stack, name);
}

void
ct_window_toast (CtWindow   *self,
                 const char *text)
{
  g_return_if_fail (CT_IS_WINDOW (self));

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}
