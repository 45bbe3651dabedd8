/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-refund-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-format.h"
#include "ct-money.h"
#include "ct-refund-dialog.h"

/* The refund form of a payment (ui/ct-refund-dialog.ui): how much of it
 * to give back, all that is left of it at first. Continue stays off until
 * the amount is more than zero and no more than what is left, and the
 * line under the form says what is wrong. A card service without partial
 * refunds would give back the whole payment whatever part it was asked
 * for: then the form offers the whole payment alone and says why. The
 * manager's PIN is asked for after it (ct-manager-actions.c). */

struct _CtRefundDialog
{
  AdwMessageDialog  parent_instance;

  AdwEntryRow      *amount_row;
  GtkLabel         *note_label;
  GtkLabel         *hint_label;

  int               minor_units;
  int64_t           left;
  gboolean          partial;
};

G_DEFINE_FINAL_TYPE (CtRefundDialog, ct_refund_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
update_response (CtRefundDialog *self)
{
  g_autofree char *problem = NULL;
  int64_t amount = 0;
  gboolean ok = ct_refund_dialog_read (self, &amount, &problem);
  const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->amount_row));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "continue", ok);
  gtk_label_set_label (self->hint_label, ok || *typed == '\0' ? "" : problem);
}

static void
ct_refund_dialog_class_init (CtRefundDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-refund-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtRefundDialog, amount_row);
  gtk_widget_class_bind_template_child (widget_class, CtRefundDialog, note_label);
  gtk_widget_class_bind_template_child (widget_class, CtRefundDialog, hint_label);
}

static void
ct_refund_dialog_init (CtRefundDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->minor_units = 2;
  self->partial = TRUE;
  g_signal_connect_swapped (self->amount_row, "changed", G_CALLBACK (update_response), self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "continue", GTK_WIDGET (self->amount_row), NULL);
}

/**
 * ct_refund_dialog_new:
 * @parent: a widget of the window the dialog belongs to
 * @body: the payment refunded, in words
 * @minor_units: of the merchant's currency
 * @left: what is left to refund of the payment, minor units
 * @no_partial: (nullable): why only all that is left can be refunded (the
 *   card service does not take a part), or %NULL to take any part
 *
 * Returns: (transfer none): the form, not yet presented, with all that is
 *   left in the amount; it belongs to the list of toplevels until it
 *   closes.
 */
CtRefundDialog *
ct_refund_dialog_new (GtkWidget  *parent,
                      const char *body,
                      int         minor_units,
                      int64_t     left,
                      const char *no_partial)
{
  g_autofree char *all = ct_money_format_plain (left, minor_units);
  CtRefundDialog *self;

  self = g_object_new (CT_TYPE_REFUND_DIALOG,
                       "transient-for", ct_window_of (parent),
                       "body", body,
                       NULL);
  self->minor_units = minor_units;
  self->left = left;
  self->partial = no_partial == NULL;
  gtk_editable_set_text (GTK_EDITABLE (self->amount_row), all);
  gtk_editable_set_editable (GTK_EDITABLE (self->amount_row), self->partial);
  /* Nothing to edit: no pencil inviting the cashier to type a part. */
  if (!self->partial)
    gtk_widget_add_css_class (GTK_WIDGET (self->amount_row), "whole-only");
  gtk_label_set_label (self->note_label, no_partial ? no_partial : "");
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), no_partial != NULL);
  update_response (self);
  return self;
}

/**
 * ct_refund_dialog_takes_part:
 *
 * Returns: whether the form lets a part of the payment be refunded.
 */
gboolean
ct_refund_dialog_takes_part (CtRefundDialog *self)
{
  g_return_val_if_fail (CT_IS_REFUND_DIALOG (self), FALSE);
  return self->partial;
}

/**
 * ct_refund_dialog_read:
 * @out_amount: (out): the amount to give back, minor units
 * @out_problem: (out): what is wrong, when it returns %FALSE
 *
 * Returns: whether the form holds an amount more than zero and no more
 *   than what is left of the payment.
 */
gboolean
ct_refund_dialog_read (CtRefundDialog  *self,
                       int64_t         *out_amount,
                       char           **out_problem)
{
  g_return_val_if_fail (CT_IS_REFUND_DIALOG (self), FALSE);

  if (!ct_format_parse_amount (gtk_editable_get_text (GTK_EDITABLE (self->amount_row)), self->minor_units,
                               FALSE, out_amount, out_problem))
    return FALSE;
  if (*out_amount <= 0)
    {
      *out_problem = g_strdup (_("The amount to refund cannot be zero."));
      return FALSE;
    }
  if (!self->partial && *out_amount != self->left)
    {
      g_autofree char *left = ct_money_format_plain (self->left, self->minor_units);

      *out_problem = g_strdup_printf (_("Only all that is left, %s, can be refunded."), left);
      return FALSE;
    }
  if (*out_amount > self->left)
    {
      g_autofree char *left = ct_money_format_plain (self->left, self->minor_units);

      *out_problem = g_strdup_printf (_("At most %s is left to refund."), left);
      return FALSE;
    }
  return TRUE;
}
