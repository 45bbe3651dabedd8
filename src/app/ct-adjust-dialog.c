/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-adjust-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-adjust-dialog.h"
#include "ct-dialog.h"
#include "ct-format.h"

/* The balance adjustment form (ui/ct-adjust-dialog.ui): the change with
 * its sign and a reason. Continue stays off until both make sense, and
 * the line under the form says what is wrong with the change typed. The
 * manager's PIN is asked for after it (ct-manager-actions.c). */

struct _CtAdjustDialog
{
  AdwMessageDialog  parent_instance;

  AdwEntryRow      *delta_row;
  AdwEntryRow      *reason_row;
  GtkLabel         *hint_label;

  int               minor_units;
};

G_DEFINE_FINAL_TYPE (CtAdjustDialog, ct_adjust_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
update_response (CtAdjustDialog *self)
{
  g_autofree char *problem = NULL;
  int64_t delta = 0;
  gboolean ok = ct_adjust_dialog_read (self, &delta, NULL, &problem);
  const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->delta_row));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "continue", ok);
  /* Nothing typed yet is not a mistake to point out. */
  gtk_label_set_label (self->hint_label, ok || *typed == '\0' ? "" : problem);
}

static void
ct_adjust_dialog_class_init (CtAdjustDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-adjust-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtAdjustDialog, delta_row);
  gtk_widget_class_bind_template_child (widget_class, CtAdjustDialog, reason_row);
  gtk_widget_class_bind_template_child (widget_class, CtAdjustDialog, hint_label);
}

static void
ct_adjust_dialog_init (CtAdjustDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->minor_units = 2;
  g_signal_connect_swapped (self->delta_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->reason_row, "changed", G_CALLBACK (update_response), self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "continue",
                  GTK_WIDGET (self->delta_row), GTK_WIDGET (self->reason_row), NULL);
  update_response (self);
}

/**
 * ct_adjust_dialog_new:
 * @parent: a widget of the window the dialog belongs to
 * @minor_units: of the merchant's currency
 *
 * Returns: (transfer none): the form, not yet presented; it belongs to
 *   the list of toplevels until it closes.
 */
CtAdjustDialog *
ct_adjust_dialog_new (GtkWidget *parent,
                      int        minor_units)
{
  CtAdjustDialog *self;

  self = g_object_new (CT_TYPE_ADJUST_DIALOG,
                       "transient-for", ct_window_of (parent),
                       NULL);
  self->minor_units = minor_units;
  update_response (self);
  return self;
}

/**
 * ct_adjust_dialog_read:
 * @out_delta: (out): the change, signed, in minor units
 * @out_reason: (out) (optional): the reason, trimmed
 * @out_problem: (out): what is wrong, when it returns %FALSE
 *
 * Returns: whether the form holds a change that is not zero and a reason.
 */
gboolean
ct_adjust_dialog_read (CtAdjustDialog  *self,
                       int64_t         *out_delta,
                       char           **out_reason,
                       char           **out_problem)
{
  g_autofree char *reason = NULL;

  g_return_val_if_fail (CT_IS_ADJUST_DIALOG (self), FALSE);

  if (!ct_format_parse_amount (gtk_editable_get_text (GTK_EDITABLE (self->delta_row)), self->minor_units,
                               TRUE, out_delta, out_problem))
    return FALSE;
  if (*out_delta == 0)
    {
      *out_problem = g_strdup (_("The change cannot be zero."));
      return FALSE;
    }
  reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->reason_row))));
  if (*reason == '\0')
    {
      *out_problem = g_strdup (_("A reason is required."));
      return FALSE;
    }
  if (out_reason != NULL)
    *out_reason = g_steal_pointer (&reason);
  return TRUE;
}
