/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-pin-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-manager-pin.h"
#include "ct-pin-dialog.h"

/* Manager actions ask for the manager and PIN here. The PIN is only
 * passed on to the service, never kept: a corrected PIN is a new
 * request. */

struct _CtPinDialog
{
  AdwMessageDialog      parent_instance;

  GtkLabel             *problem_label;
  AdwEntryRow          *manager_row;
  AdwPasswordEntryRow  *pin_row;

  GTask                *task;
};

G_DEFINE_FINAL_TYPE (CtPinDialog, ct_pin_dialog, ADW_TYPE_MESSAGE_DIALOG)

typedef struct
{
  char *manager_id;
  char *pin;
} PinAnswer;

static void
pin_answer_free (gpointer data)
{
  PinAnswer *answer = data;

  g_free (answer->manager_id);
  ct_secret_free (answer->pin);
  g_free (answer);
}

static void
update_sensitivity (CtPinDialog *self)
{
  const char *id = gtk_editable_get_text (GTK_EDITABLE (self->manager_row));
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "authorize",
                                           *id != '\0' && *pin != '\0');
}

static void
ct_pin_dialog_response (AdwMessageDialog *dialog,
                        const char       *response)
{
  CtPinDialog *self = CT_PIN_DIALOG (dialog);
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    return;

  if (g_strcmp0 (response, "authorize") == 0)
    {
      PinAnswer *answer = g_new0 (PinAnswer, 1);

      answer->manager_id = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->manager_row))));
      answer->pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_row)));
      gtk_editable_set_text (GTK_EDITABLE (self->pin_row), "");
      g_task_return_pointer (task, answer, pin_answer_free);
    }
  else
    ct_dialog_cancel_task (&task);
}

static void
ct_pin_dialog_dispose (GObject *object)
{
  CtPinDialog *self = CT_PIN_DIALOG (object);

  ct_dialog_cancel_task (&self->task);

  G_OBJECT_CLASS (ct_pin_dialog_parent_class)->dispose (object);
}

static void
ct_pin_dialog_class_init (CtPinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AdwMessageDialogClass *dialog_class = ADW_MESSAGE_DIALOG_CLASS (klass);

  object_class->dispose = ct_pin_dialog_dispose;
  dialog_class->response = ct_pin_dialog_response;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-pin-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtPinDialog, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtPinDialog, manager_row);
  gtk_widget_class_bind_template_child (widget_class, CtPinDialog, pin_row);
}

static void
ct_pin_dialog_init (CtPinDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->manager_row, "changed", G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->pin_row, "changed", G_CALLBACK (update_sensitivity), self);
  update_sensitivity (self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "authorize",
                  GTK_WIDGET (self->manager_row), GTK_WIDGET (self->pin_row), NULL);
}

/**
 * ct_pin_dialog_run_async:
 * @parent: a widget of the window the dialog belongs to
 * @heading: what is being authorised ("Adjust Balance")
 * @body: (nullable): details of the change
 * @problem: (nullable): why the last attempt failed ("Wrong manager or PIN.")
 * @manager_id: (nullable): the manager to offer
 *
 * Asks a manager for their PIN. Cancelling is reported as
 * %G_IO_ERROR_CANCELLED, which callers do not show.
 */
void
ct_pin_dialog_run_async (GtkWidget           *parent,
                         const char          *heading,
                         const char          *body,
                         const char          *problem,
                         const char          *manager_id,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  CtPinDialog *self;

  self = g_object_new (CT_TYPE_PIN_DIALOG,
                       "transient-for", ct_window_of (parent),
                       "heading", heading,
                       "body", body ? body : "",
                       NULL);
  self->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, ct_pin_dialog_run_async);

  ct_problem_label_set (self->problem_label, problem);
  gtk_editable_set_text (GTK_EDITABLE (self->manager_row), manager_id ? manager_id : "");

  gtk_window_present (GTK_WINDOW (self));
  gtk_widget_grab_focus (GTK_WIDGET (manager_id && *manager_id ? GTK_WIDGET (self->pin_row)
                                                               : GTK_WIDGET (self->manager_row)));
}

/**
 * ct_pin_dialog_run_finish:
 * @out_manager_id: (out): the manager
 * @out_pin: (out): the PIN, for one request only
 */
gboolean
ct_pin_dialog_run_finish (GAsyncResult  *result,
                          char         **out_manager_id,
                          char         **out_pin,
                          GError       **error)
{
  PinAnswer *answer;

  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;

  *out_manager_id = g_steal_pointer (&answer->manager_id);
  *out_pin = g_steal_pointer (&answer->pin);
  pin_answer_free (answer);

  return TRUE;
}

/**
 * ct_pin_dialog_find:
 *
 * Returns: (nullable) (transfer none): the PIN dialog on screen, if any.
 */
CtPinDialog *
ct_pin_dialog_find (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint n = g_list_model_get_n_items (toplevels);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (CT_IS_PIN_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return CT_PIN_DIALOG (window);
    }

  return NULL;
}

void
ct_pin_dialog_fill (CtPinDialog *self,
                    const char  *manager_id,
                    const char  *pin)
{
  g_return_if_fail (CT_IS_PIN_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->manager_row), manager_id);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), pin);
}

const char *
ct_pin_dialog_get_problem (CtPinDialog *self)
{
  g_return_val_if_fail (CT_IS_PIN_DIALOG (self), NULL);

  return ct_problem_label_get (self->problem_label);
}
