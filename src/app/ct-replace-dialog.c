/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-replace-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-format.h"
#include "ct-replace-dialog.h"
#include "ct-request.h"

/* The lost card form (ui/ct-replace-dialog.ui, 挂失补卡): says what moves
 * to the new card and takes the new card's number, or nothing when the
 * service is to pick one. The manager's PIN is asked for after it
 * (ct-manager-actions.c). */

struct _CtReplaceDialog
{
  AdwMessageDialog  parent_instance;

  AdwEntryRow      *new_card_row;
  GtkLabel         *hint_label;
};

G_DEFINE_FINAL_TYPE (CtReplaceDialog, ct_replace_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
update_response (CtReplaceDialog *self)
{
  g_autofree char *problem = NULL;
  g_autofree char *new_no = NULL;
  gboolean ok = ct_replace_dialog_read (self, &new_no, &problem);

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "continue", ok);
  gtk_label_set_label (self->hint_label, ok ? "" : problem);
}

static void
ct_replace_dialog_class_init (CtReplaceDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-replace-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtReplaceDialog, new_card_row);
  gtk_widget_class_bind_template_child (widget_class, CtReplaceDialog, hint_label);
}

static void
ct_replace_dialog_init (CtReplaceDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->new_card_row, "changed", G_CALLBACK (update_response), self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "continue", GTK_WIDGET (self->new_card_row), NULL);
  update_response (self);
}

/**
 * ct_replace_dialog_new:
 * @parent: a widget of the window the dialog belongs to
 * @card: the lost card, as last shown
 *
 * Returns: (transfer none): the form, not yet presented; it belongs to
 *   the list of toplevels until it closes.
 */
CtReplaceDialog *
ct_replace_dialog_new (GtkWidget    *parent,
                       const CtCard *card,
                       int           minor_units,
                       const char   *currency)
{
  g_autofree char *balance = ct_format_money (card->balance, minor_units, currency);
  /* The count is formatted first: G_GINT64_FORMAT cannot sit inside a
   * translatable string. */
  g_autofree char *points = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) card->points);
  g_autofree char *body = NULL;
  CtReplaceDialog *self;

  self = g_object_new (CT_TYPE_REPLACE_DIALOG,
                       "transient-for", ct_window_of (parent),
                       NULL);
  body = g_strdup_printf (_("Card %s of %s is closed for good. A new card takes its balance (%s), its %s "
                            "points, its level and the member's PIN; the member's page moves to a new link."),
                          card->card_no, card->member_name ? card->member_name : "", balance, points);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), body);
  return self;
}

/**
 * ct_replace_dialog_read:
 * @out_new_card_no: (out): the new card's number, upper-cased, or %NULL
 *   for a number the service picks
 * @out_problem: (out): what is wrong, when it returns %FALSE
 *
 * Returns: whether the form holds a card number, or nothing.
 */
gboolean
ct_replace_dialog_read (CtReplaceDialog  *self,
                        char            **out_new_card_no,
                        char            **out_problem)
{
  g_autofree char *typed = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (CT_IS_REPLACE_DIALOG (self), FALSE);

  *out_new_card_no = NULL;
  typed = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->new_card_row))));
  if (*typed == '\0')
    return TRUE;
  *out_new_card_no = ct_request_card_number (typed, &error);
  if (*out_new_card_no == NULL)
    {
      *out_problem = ct_format_error (error);
      return FALSE;
    }
  return TRUE;
}
