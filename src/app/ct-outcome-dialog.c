/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-outcome-dialog"

#include "config.h"

#include <string.h>

#include "ct-dialog.h"
#include "ct-outcome-dialog.h"

/* What was done instead of a request the service refused
 * (ui/ct-outcome-dialog.ui): the manager, their PIN and the outcome, all
 * in one form since the outcome is recorded at the service under that
 * PIN. Record stays off until all three are there. */

struct _CtOutcomeDialog
{
  AdwMessageDialog     parent_instance;

  AdwEntryRow         *manager_row;
  AdwPasswordEntryRow *pin_row;
  AdwEntryRow         *outcome_row;
};

G_DEFINE_FINAL_TYPE (CtOutcomeDialog, ct_outcome_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
update_response (CtOutcomeDialog *self)
{
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "record",
                                           ct_outcome_dialog_read (self, NULL, NULL, NULL));
}

static void
ct_outcome_dialog_class_init (CtOutcomeDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-outcome-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, manager_row);
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, pin_row);
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, outcome_row);
}

static void
ct_outcome_dialog_init (CtOutcomeDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->manager_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->pin_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->outcome_row, "changed", G_CALLBACK (update_response), self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "record", GTK_WIDGET (self->manager_row),
                  GTK_WIDGET (self->pin_row), GTK_WIDGET (self->outcome_row), NULL);
  update_response (self);
}

/**
 * ct_outcome_dialog_new:
 * @parent: a widget of the window the dialog belongs to
 * @manager_id: (nullable): the manager to offer
 *
 * Returns: (transfer none): the form, not yet presented; it belongs to
 *   the list of toplevels until it closes.
 */
CtOutcomeDialog *
ct_outcome_dialog_new (GtkWidget  *parent,
                       const char *manager_id)
{
  GtkRoot *root = parent != NULL ? gtk_widget_get_root (parent) : NULL;
  CtOutcomeDialog *self;

  self = g_object_new (CT_TYPE_OUTCOME_DIALOG,
                       "transient-for", GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                       NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->manager_row), manager_id ? manager_id : "");
  return self;
}

/**
 * ct_outcome_dialog_read:
 * @out_manager_id: (out) (optional): the manager, trimmed
 * @out_pin: (out) (optional): the PIN as typed
 * @out_outcome: (out) (optional): what was done, trimmed
 *
 * Returns: whether the form holds a manager, a PIN and an outcome.
 */
gboolean
ct_outcome_dialog_read (CtOutcomeDialog  *self,
                        char            **out_manager_id,
                        char            **out_pin,
                        char            **out_outcome)
{
  g_autofree char *manager = NULL;
  g_autofree char *outcome = NULL;
  const char *pin;

  g_return_val_if_fail (CT_IS_OUTCOME_DIALOG (self), FALSE);

  manager = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->manager_row))));
  outcome = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->outcome_row))));
  pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  if (*manager == '\0' || *pin == '\0' || *outcome == '\0')
    return FALSE;

  if (out_manager_id != NULL)
    *out_manager_id = g_steal_pointer (&manager);
  if (out_pin != NULL)
    *out_pin = g_strdup (pin);
  if (out_outcome != NULL)
    *out_outcome = g_steal_pointer (&outcome);
  return TRUE;
}
