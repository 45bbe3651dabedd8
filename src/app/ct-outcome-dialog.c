/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-outcome-dialog"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-format.h"
#include "ct-outcome-dialog.h"

/* What was done instead of a request the service refused
 * (ui/ct-outcome-dialog.ui): the manager, their PIN and the outcome, all
 * in one form since the outcome is recorded at the service under that
 * PIN, and the cash handed back from the drawer if any (the service takes
 * it off the open shift's expected cash). Record stays off until the
 * three are there and the cash, if typed, is an amount; a sentence under
 * the form says what is wrong with it. */

struct _CtOutcomeDialog
{
  AdwMessageDialog     parent_instance;

  int                  minor_units;

  AdwEntryRow         *manager_row;
  AdwPasswordEntryRow *pin_row;
  AdwEntryRow         *outcome_row;
  AdwEntryRow         *cash_row;
  GtkLabel            *hint;
};

G_DEFINE_FINAL_TYPE (CtOutcomeDialog, ct_outcome_dialog, ADW_TYPE_MESSAGE_DIALOG)

/* The cash typed (0 when the field is empty), or a sentence saying why it
 * is not an amount. */
static gboolean
read_cash (CtOutcomeDialog  *self,
           int64_t          *out_cash,
           char            **out_problem)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->cash_row))));
  g_autofree char *problem = NULL;

  *out_cash = 0;
  if (*text == '\0' || ct_format_parse_amount (text, self->minor_units, FALSE, out_cash, &problem))
    return TRUE;
  if (out_problem != NULL)
    *out_problem = g_strdup_printf (_("Cash handed back: %s"), problem);
  return FALSE;
}

static void
update_response (CtOutcomeDialog *self)
{
  g_autofree char *problem = NULL;
  int64_t cash;

  read_cash (self, &cash, &problem);
  gtk_label_set_label (self->hint, problem ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hint), problem != NULL);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "record",
                                           ct_outcome_dialog_read (self, NULL, NULL, NULL, NULL));
}

static void
ct_outcome_dialog_class_init (CtOutcomeDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-outcome-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, manager_row);
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, pin_row);
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, outcome_row);
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, cash_row);
  gtk_widget_class_bind_template_child (widget_class, CtOutcomeDialog, hint);
}

static void
ct_outcome_dialog_init (CtOutcomeDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->manager_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->pin_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->outcome_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->cash_row, "changed", G_CALLBACK (update_response), self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "record", GTK_WIDGET (self->manager_row),
                  GTK_WIDGET (self->pin_row), GTK_WIDGET (self->outcome_row), GTK_WIDGET (self->cash_row),
                  NULL);
  update_response (self);
}

/**
 * ct_outcome_dialog_new:
 * @parent: a widget of the window the dialog belongs to
 * @manager_id: (nullable): the manager to offer
 * @minor_units: the merchant's, for the cash handed back
 *
 * Returns: (transfer none): the form, not yet presented; it belongs to
 *   the list of toplevels until it closes.
 */
CtOutcomeDialog *
ct_outcome_dialog_new (GtkWidget  *parent,
                       const char *manager_id,
                       int         minor_units)
{
  CtOutcomeDialog *self;

  self = g_object_new (CT_TYPE_OUTCOME_DIALOG,
                       "transient-for", ct_window_of (parent),
                       NULL);
  self->minor_units = minor_units;
  gtk_editable_set_text (GTK_EDITABLE (self->manager_row), manager_id ? manager_id : "");
  return self;
}

/**
 * ct_outcome_dialog_read:
 * @out_manager_id: (out) (optional): the manager, trimmed
 * @out_pin: (out) (optional): the PIN as typed
 * @out_outcome: (out) (optional): what was done, trimmed
 * @out_cash_given_back: (out) (optional): the cash handed back from the
 *   drawer, minor units (0: none)
 *
 * Returns: whether the form holds a manager, a PIN and an outcome, and no
 *   cash that is not an amount.
 */
gboolean
ct_outcome_dialog_read (CtOutcomeDialog  *self,
                        char            **out_manager_id,
                        char            **out_pin,
                        char            **out_outcome,
                        int64_t          *out_cash_given_back)
{
  g_autofree char *manager = NULL;
  g_autofree char *outcome = NULL;
  const char *pin;
  int64_t cash;

  g_return_val_if_fail (CT_IS_OUTCOME_DIALOG (self), FALSE);

  manager = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->manager_row))));
  outcome = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->outcome_row))));
  pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  if (*manager == '\0' || *pin == '\0' || *outcome == '\0' || !read_cash (self, &cash, NULL))
    return FALSE;

  if (out_cash_given_back != NULL)
    *out_cash_given_back = cash;
  if (out_manager_id != NULL)
    *out_manager_id = g_steal_pointer (&manager);
  if (out_pin != NULL)
    *out_pin = g_strdup (pin);
  if (out_outcome != NULL)
    *out_outcome = g_steal_pointer (&outcome);
  return TRUE;
}
