/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-keypad"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-keypad.h"

/* A numeric keypad with large buttons for touch screens. It types into
 * an amount entry, so the keyboard and the keypad always agree on what
 * was entered. */

struct _CtKeypad
{
  GtkWidget    parent_instance;

  GtkWidget   *grid;
  GtkEditable *target;
};

G_DEFINE_FINAL_TYPE (CtKeypad, ct_keypad, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TARGET,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * ct_keypad_press:
 * @key: "0".."9", "00", ".", "back" or "clear"
 *
 * Does what pressing that key does to the target entry.
 */
void
ct_keypad_press (CtKeypad   *self,
                 const char *key)
{
  g_autofree char *text = NULL;
  gsize len;

  g_return_if_fail (CT_IS_KEYPAD (self));
  g_return_if_fail (key != NULL);

  if (self->target == NULL)
    return;

  text = g_strdup (gtk_editable_get_text (self->target));
  len = strlen (text);

  if (g_str_equal (key, "clear"))
    {
      gtk_editable_set_text (self->target, "");
    }
  else if (g_str_equal (key, "back"))
    {
      if (len > 0)
        {
          text[len - 1] = '\0';
          gtk_editable_set_text (self->target, text);
        }
    }
  else
    {
      g_autofree char *joined = g_strconcat (text, key, NULL);

      gtk_editable_set_text (self->target, joined);
    }

  gtk_editable_set_position (self->target, -1);
}

static void
key_clicked_cb (GtkButton *button,
                CtKeypad  *self)
{
  ct_keypad_press (self, g_object_get_data (G_OBJECT (button), "ct-key"));
}

static void
ct_keypad_dispose (GObject *object)
{
  CtKeypad *self = CT_KEYPAD (object);

  g_clear_pointer (&self->grid, gtk_widget_unparent);
  g_clear_weak_pointer (&self->target);

  G_OBJECT_CLASS (ct_keypad_parent_class)->dispose (object);
}

static void
ct_keypad_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  CtKeypad *self = CT_KEYPAD (object);

  switch (prop_id)
    {
    case PROP_TARGET:
      g_value_set_object (value, self->target);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_keypad_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  CtKeypad *self = CT_KEYPAD (object);

  switch (prop_id)
    {
    case PROP_TARGET:
      ct_keypad_set_target (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_keypad_class_init (CtKeypadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_keypad_dispose;
  object_class->get_property = ct_keypad_get_property;
  object_class->set_property = ct_keypad_set_property;

  properties[PROP_TARGET] =
    g_param_spec_object ("target", NULL, NULL, GTK_TYPE_EDITABLE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "keypad");
}

static void
ct_keypad_init (CtKeypad *self)
{
  static const struct { const char *key; const char *label; int col; int row; } keys[] = {
    { "7", "7", 0, 0 }, { "8", "8", 1, 0 }, { "9", "9", 2, 0 },
    { "4", "4", 0, 1 }, { "5", "5", 1, 1 }, { "6", "6", 2, 1 },
    { "1", "1", 0, 2 }, { "2", "2", 1, 2 }, { "3", "3", 2, 2 },
    { "00", "00", 0, 3 }, { "0", "0", 1, 3 }, { ".", ".", 2, 3 },
  };
  GtkWidget *button;

  self->grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 8);
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 8);
  gtk_grid_set_row_homogeneous (GTK_GRID (self->grid), TRUE);
  gtk_grid_set_column_homogeneous (GTK_GRID (self->grid), TRUE);
  gtk_widget_add_css_class (self->grid, "keypad");
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      button = gtk_button_new_with_label (keys[i].label);
      /* Keypad keys never take the focus away from the amount entry. */
      gtk_widget_set_focus_on_click (button, FALSE);
      g_object_set_data (G_OBJECT (button), "ct-key", (gpointer) keys[i].key);
      g_signal_connect (button, "clicked", G_CALLBACK (key_clicked_cb), self);
      gtk_grid_attach (GTK_GRID (self->grid), button, keys[i].col, keys[i].row, 1, 1);
    }

  button = gtk_button_new_from_icon_name ("edit-clear-symbolic");
  gtk_widget_set_focus_on_click (button, FALSE);
  gtk_widget_set_tooltip_text (button, _("Delete the last digit"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Delete the last digit"), -1);
  g_object_set_data (G_OBJECT (button), "ct-key", (gpointer) "back");
  g_signal_connect (button, "clicked", G_CALLBACK (key_clicked_cb), self);
  gtk_grid_attach (GTK_GRID (self->grid), button, 3, 0, 1, 2);

  button = gtk_button_new_with_label (_("Clear"));
  gtk_widget_set_focus_on_click (button, FALSE);
  g_object_set_data (G_OBJECT (button), "ct-key", (gpointer) "clear");
  g_signal_connect (button, "clicked", G_CALLBACK (key_clicked_cb), self);
  gtk_grid_attach (GTK_GRID (self->grid), button, 3, 2, 1, 2);
}

GtkWidget *
ct_keypad_new (void)
{
  return g_object_new (CT_TYPE_KEYPAD, NULL);
}

void
ct_keypad_set_target (CtKeypad    *self,
                      GtkEditable *target)
{
  g_return_if_fail (CT_IS_KEYPAD (self));

  if (g_set_weak_pointer (&self->target, target))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
}

GtkEditable *
ct_keypad_get_target (CtKeypad *self)
{
  g_return_val_if_fail (CT_IS_KEYPAD (self), NULL);
  return self->target;
}
