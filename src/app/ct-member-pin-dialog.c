/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-member-pin-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-manager-pin.h"
#include "ct-member-pin-dialog.h"

/* The member's PIN (docs/operations.md, "Member PINs"), typed by the
 * member on the till, to pay or to choose a new one: the dialog speaks to the member, shows only a dot
 * for each digit, and takes the digits from its large keys (touch) or
 * from the number keys; Enter pays once all digits are in, Backspace
 * takes one back, Escape cancels. The PIN goes to the one payment it was
 * typed for and is wiped from the dialog's memory; nothing keeps it. */

struct _CtMemberPinDialog
{
  AdwMessageDialog  parent_instance;

  GtkLabel         *problem_label;
  GtkLabel         *dots_label;
  GtkGrid          *grid;

  char              digits[CT_MEMBER_PIN_DIGITS + 1];
  guint             length;
  GTask            *task;
};

G_DEFINE_FINAL_TYPE (CtMemberPinDialog, ct_member_pin_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
wipe (CtMemberPinDialog *self)
{
  memset (self->digits, 0, sizeof self->digits);
  self->length = 0;
}

static void
update (CtMemberPinDialog *self)
{
  g_autoptr(GString) dots = g_string_new (NULL);

  for (guint i = 0; i < CT_MEMBER_PIN_DIGITS; i++)
    g_string_append (dots, i < self->length ? "●" : "○");
  gtk_label_set_label (self->dots_label, dots->str);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "pay",
                                           self->length == CT_MEMBER_PIN_DIGITS);
}

/**
 * ct_member_pin_dialog_press:
 * @key: "0".."9", "back" or "clear"
 *
 * Does what that key of the dialog does.
 */
void
ct_member_pin_dialog_press (CtMemberPinDialog *self,
                            const char        *key)
{
  g_return_if_fail (CT_IS_MEMBER_PIN_DIALOG (self));
  g_return_if_fail (key != NULL);

  if (g_str_equal (key, "clear"))
    wipe (self);
  else if (g_str_equal (key, "back"))
    {
      if (self->length > 0)
        self->digits[--self->length] = '\0';
    }
  else if (key[0] >= '0' && key[0] <= '9' && key[1] == '\0' && self->length < CT_MEMBER_PIN_DIGITS)
    self->digits[self->length++] = key[0];
  update (self);
}

static void
key_clicked_cb (GtkButton         *button,
                CtMemberPinDialog *self)
{
  ct_member_pin_dialog_press (self, g_object_get_data (G_OBJECT (button), "ct-key"));
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                CtMemberPinDialog     *self)
{
  char key[2] = { 0 };

  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  if (keyval >= GDK_KEY_0 && keyval <= GDK_KEY_9)
    key[0] = (char) ('0' + keyval - GDK_KEY_0);
  else if (keyval >= GDK_KEY_KP_0 && keyval <= GDK_KEY_KP_9)
    key[0] = (char) ('0' + keyval - GDK_KEY_KP_0);
  if (key[0] != '\0')
    {
      ct_member_pin_dialog_press (self, key);
      return TRUE;
    }
  switch (keyval)
    {
    case GDK_KEY_BackSpace:
      ct_member_pin_dialog_press (self, "back");
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      /* Enter pays once every digit is in; before that it does nothing. */
      ct_dialog_submit (ADW_MESSAGE_DIALOG (self), "pay");
      return TRUE;
    default:
      return FALSE;
    }
}

static void
ct_member_pin_dialog_response (AdwMessageDialog *dialog,
                               const char       *response)
{
  CtMemberPinDialog *self = CT_MEMBER_PIN_DIALOG (dialog);
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    return;
  if (g_strcmp0 (response, "pay") == 0 && self->length == CT_MEMBER_PIN_DIGITS)
    g_task_return_pointer (task, g_strdup (self->digits), g_free);
  else
    ct_dialog_cancel_task (&task);
  wipe (self);
  update (self);
}

static void
ct_member_pin_dialog_dispose (GObject *object)
{
  CtMemberPinDialog *self = CT_MEMBER_PIN_DIALOG (object);

  ct_dialog_cancel_task (&self->task);
  wipe (self);

  G_OBJECT_CLASS (ct_member_pin_dialog_parent_class)->dispose (object);
}

static void
ct_member_pin_dialog_class_init (CtMemberPinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AdwMessageDialogClass *dialog_class = ADW_MESSAGE_DIALOG_CLASS (klass);

  object_class->dispose = ct_member_pin_dialog_dispose;
  dialog_class->response = ct_member_pin_dialog_response;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cardtill/Cardtill/ct-member-pin-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtMemberPinDialog, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtMemberPinDialog, dots_label);
  gtk_widget_class_bind_template_child (widget_class, CtMemberPinDialog, grid);
}

static void
add_key (CtMemberPinDialog *self,
         const char        *key,
         GtkWidget         *button,
         int                col,
         int                row)
{
  /* The keys never take the focus: Enter must pay, not press a digit. */
  gtk_widget_set_focus_on_click (button, FALSE);
  gtk_widget_set_focusable (button, FALSE);
  g_object_set_data (G_OBJECT (button), "ct-key", (gpointer) key);
  g_signal_connect (button, "clicked", G_CALLBACK (key_clicked_cb), self);
  gtk_grid_attach (self->grid, button, col, row, 1, 1);
}

static void
ct_member_pin_dialog_init (CtMemberPinDialog *self)
{
  static const char * const digits[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };
  GtkEventController *keys;
  GtkWidget *back;

  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < G_N_ELEMENTS (digits); i++)
    add_key (self, digits[i], gtk_button_new_with_label (digits[i]), i % 3, i / 3);
  add_key (self, "clear", gtk_button_new_with_label (_("Clear")), 0, 3);
  add_key (self, "0", gtk_button_new_with_label ("0"), 1, 3);
  back = gtk_button_new_from_icon_name ("edit-clear-symbolic");
  gtk_widget_set_tooltip_text (back, _("Delete the last digit"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (back), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Delete the last digit"), -1);
  add_key (self, "back", back, 2, 3);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
  update (self);
}

/**
 * ct_member_pin_dialog_run_async:
 * @parent: a widget of the window the dialog belongs to
 * @body: what the member consents to ("Type your PIN to pay ¥60.00.")
 * @problem: (nullable): why the last PIN was refused
 * @confirm_label: (nullable): the button that takes the PIN ("_Pay" when
 *   %NULL)
 *
 * Asks the member for their PIN. Cancelling is reported as
 * %G_IO_ERROR_CANCELLED.
 */
void
ct_member_pin_dialog_run_async (GtkWidget           *parent,
                                const char          *body,
                                const char          *problem,
                                const char          *confirm_label,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  CtMemberPinDialog *self;

  self = g_object_new (CT_TYPE_MEMBER_PIN_DIALOG,
                       "transient-for", ct_window_of (parent),
                       "body", body,
                       NULL);
  self->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ct_member_pin_dialog_run_async);
  ct_problem_label_set (self->problem_label, problem);
  if (confirm_label != NULL)
    adw_message_dialog_set_response_label (ADW_MESSAGE_DIALOG (self), "pay", confirm_label);
  gtk_window_present (GTK_WINDOW (self));
}

/**
 * ct_member_pin_dialog_run_finish:
 *
 * Returns: (transfer full): the PIN, for one payment only; the caller
 *   wipes it after use.
 */
char *
ct_member_pin_dialog_run_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
ct_member_pin_dialog_get_length (CtMemberPinDialog *self)
{
  g_return_val_if_fail (CT_IS_MEMBER_PIN_DIALOG (self), 0);

  return self->length;
}

const char *
ct_member_pin_dialog_get_problem (CtMemberPinDialog *self)
{
  g_return_val_if_fail (CT_IS_MEMBER_PIN_DIALOG (self), NULL);

  return ct_problem_label_get (self->problem_label);
}
