/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-dialog"

#include "config.h"

#include "ct-dialog.h"

/* What every dialog of the till shares: forms a cashier fills from the
 * keyboard alone. Enter moves to the next field and submits from the
 * last; Tab from the last field goes to the button that submits, never to
 * Cancel. libadwaita 1.2's adw_message_dialog_response()
 * does not close the dialog, so submitting closes it here. */

static GtkWidget *
find_button (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child, label);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/**
 * ct_dialog_get_response_button:
 * @response: a response id of @dialog
 *
 * Returns: (nullable) (transfer none): the button that answers @response
 *   (libadwaita 1.2 has no getter of its own).
 */
GtkWidget *
ct_dialog_get_response_button (AdwMessageDialog *dialog,
                               const char       *response)
{
  g_return_val_if_fail (ADW_IS_MESSAGE_DIALOG (dialog), NULL);

  if (!adw_message_dialog_has_response (dialog, response))
    return NULL;

  return find_button (GTK_WIDGET (dialog), adw_message_dialog_get_response_label (dialog, response));
}

/**
 * ct_dialog_submit:
 * @response: the response that submits (the default one)
 *
 * Answers @dialog with @response, as its button would, and closes it.
 *
 * Returns: %FALSE when that response is not enabled (the form is not
 *   complete); the dialog stays.
 */
gboolean
ct_dialog_submit (AdwMessageDialog *dialog,
                  const char       *response)
{
  g_return_val_if_fail (ADW_IS_MESSAGE_DIALOG (dialog), FALSE);

  if (!adw_message_dialog_has_response (dialog, response) ||
      !adw_message_dialog_get_response_enabled (dialog, response))
    return FALSE;

  g_object_ref (dialog);
  adw_message_dialog_response (dialog, response);
  /* Destroyed, not closed: closing would answer the close response too.
   * The focus goes first: libadwaita 1.2 crashes tearing down an entry
   * row that has it. */
  gtk_window_set_focus (GTK_WINDOW (dialog), NULL);
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_object_unref (dialog);
  return TRUE;
}

typedef struct
{
  AdwMessageDialog *dialog;    /* a dialog's form: submitted with @response */
  char             *response;
  GtkWidget        *owner;     /* a screen's form: submitted with @action */
  char             *action;
  GtkWidget        *submit;    /* the screen's submitting button */
  GtkWidget        *next;      /* NULL for the last field */
} FormField;

static void
form_field_free (gpointer data)
{
  FormField *field = data;

  g_free (field->response);
  g_free (field->action);
  g_free (field);
}

static void
field_activated_cb (GtkWidget *widget,
                    FormField *field)
{
  if (field->next != NULL)
    gtk_widget_grab_focus (field->next);
  else if (field->dialog != NULL)
    ct_dialog_submit (field->dialog, field->response);
  else
    gtk_widget_activate_action (field->owner, field->action, NULL);
}

static gboolean
field_key_pressed_cb (GtkEventControllerKey *controller,
                      guint                  keyval,
                      guint                  keycode,
                      GdkModifierType        state,
                      FormField             *field)
{
  GtkWidget *button = field->submit;

  if ((keyval != GDK_KEY_Tab && keyval != GDK_KEY_KP_Tab) || (state & GDK_SHIFT_MASK))
    return FALSE;

  if (button == NULL && field->dialog != NULL)
    button = ct_dialog_get_response_button (field->dialog, field->response);
  if (button == NULL || !gtk_widget_is_sensitive (button))
    return FALSE;
  gtk_widget_grab_focus (button);
  return TRUE;
}

static void
wire_fields (FormField  *proto,
             GtkWidget  *first_field,
             va_list     ap)
{
  GtkWidget *field = first_field;

  while (field != NULL)
    {
      GtkWidget *next = va_arg (ap, GtkWidget *);
      FormField *data = g_new0 (FormField, 1);
      const char *signal = ADW_IS_ENTRY_ROW (field) ? "entry-activated" : "activate";

      data->dialog = proto->dialog;
      data->response = g_strdup (proto->response);
      data->owner = proto->owner;
      data->action = g_strdup (proto->action);
      data->submit = proto->submit;
      data->next = next;
      g_object_set_data_full (G_OBJECT (field), "ct-form-field", data, form_field_free);
      g_signal_connect (field, signal, G_CALLBACK (field_activated_cb), data);

      if (next == NULL)
        {
          GtkEventController *keys = gtk_event_controller_key_new ();

          gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
          g_signal_connect (keys, "key-pressed", G_CALLBACK (field_key_pressed_cb), data);
          gtk_widget_add_controller (field, keys);
        }
      field = next;
    }
}

/**
 * ct_dialog_form:
 * @response: the response that submits the form
 * @first_field: the first field (an #AdwEntryRow, #GtkEntry…), then the
 *   others in order, %NULL-terminated
 *
 * Wires the fields of @dialog for the keyboard: Enter in a field moves to
 * the next one, Enter in the last submits (when the form allows), Tab
 * from the last goes to the submitting button.
 */
void
ct_dialog_form (AdwMessageDialog *dialog,
                const char       *response,
                GtkWidget        *first_field,
                ...)
{
  FormField proto = { .dialog = dialog, .response = (char *) response };
  va_list ap;

  g_return_if_fail (ADW_IS_MESSAGE_DIALOG (dialog));

  va_start (ap, first_field);
  wire_fields (&proto, first_field, ap);
  va_end (ap);
}

/**
 * ct_screen_form:
 * @owner: the screen whose @action submits the form
 * @submit: the button that submits it
 * @first_field: the first field, then the others in order, %NULL-terminated
 *
 * As ct_dialog_form(), for a form on a screen.
 */
void
ct_screen_form (GtkWidget  *owner,
                const char *action,
                GtkWidget  *submit,
                GtkWidget  *first_field,
                ...)
{
  FormField proto = { .owner = owner, .action = (char *) action, .submit = submit };
  va_list ap;

  va_start (ap, first_field);
  wire_fields (&proto, first_field, ap);
  va_end (ap);
}

void
ct_list_box_clear (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

/**
 * ct_window_of:
 * @widget: (nullable): a widget, or %NULL
 *
 * Returns: (nullable) (transfer none): the window @widget stands in, for
 *   a dialog to be transient for; %NULL without one.
 */
GtkWindow *
ct_window_of (GtkWidget *widget)
{
  GtkRoot *root = widget != NULL ? gtk_widget_get_root (widget) : NULL;

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/**
 * ct_dialog_cancel_task:
 * @task: where a dialog keeps the task it answers
 *
 * Answers the pending task, if any, with %G_IO_ERROR_CANCELLED (which
 * callers do not show) and clears @task: a dialog closed or destroyed
 * without its answer.
 */
void
ct_dialog_cancel_task (GTask **task)
{
  g_autoptr(GTask) pending = g_steal_pointer (task);

  if (pending != NULL)
    g_task_return_new_error (pending, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
}

/**
 * ct_problem_label_set:
 * @problem: (nullable): what went wrong, or %NULL to hide @label
 *
 * Shows @problem in a screen's or dialog's problem label.
 */
void
ct_problem_label_set (GtkLabel   *label,
                      const char *problem)
{
  gtk_label_set_label (label, problem ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (label), problem != NULL);
}

/**
 * ct_problem_label_get:
 *
 * Returns: (nullable): the problem @label shows, or %NULL when it is hidden.
 */
const char *
ct_problem_label_get (GtkLabel *label)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (label)))
    return NULL;
  return gtk_label_get_label (label);
}
