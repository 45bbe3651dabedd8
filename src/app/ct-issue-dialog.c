/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-issue-dialog"

#include "config.h"

#include "ct-dialog.h"
#include "ct-issue-dialog.h"
#include "ct-phone.h"

/* The card issue form (ui/ct-issue-dialog.ui): the member's name, phone
 * and level. Continue stays off until there is a name and a phone the
 * service would take; the manager's PIN is asked for after it
 * (ct-manager-actions.c). */

struct _CtIssueDialog
{
  AdwMessageDialog  parent_instance;

  AdwEntryRow      *name_row;
  AdwEntryRow      *phone_row;
  AdwEntryRow      *level_row;
};

G_DEFINE_FINAL_TYPE (CtIssueDialog, ct_issue_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
update_response (CtIssueDialog *self)
{
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "continue",
                                           ct_issue_dialog_read (self, NULL, NULL, NULL));
}

static void
ct_issue_dialog_class_init (CtIssueDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-issue-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, phone_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, level_row);
}

static void
ct_issue_dialog_init (CtIssueDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->phone_row, "changed", G_CALLBACK (update_response), self);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "continue", GTK_WIDGET (self->name_row),
                  GTK_WIDGET (self->phone_row), GTK_WIDGET (self->level_row), NULL);
  update_response (self);
}

/**
 * ct_issue_dialog_new:
 * @parent: a widget of the window the dialog belongs to
 *
 * Returns: (transfer none): the form, not yet presented; it belongs to
 *   the list of toplevels until it closes.
 */
CtIssueDialog *
ct_issue_dialog_new (GtkWidget *parent)
{
  GtkRoot *root = parent != NULL ? gtk_widget_get_root (parent) : NULL;

  return g_object_new (CT_TYPE_ISSUE_DIALOG,
                       "transient-for", GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                       NULL);
}

/**
 * ct_issue_dialog_read:
 * @out_name: (out) (optional): the name, trimmed
 * @out_phone: (out) (optional): the phone by the one phone rule (ct-phone.c)
 * @out_level: (out) (optional) (nullable): the level, trimmed; %NULL when empty
 *
 * Returns: whether the form holds a name and a phone the service stores
 *   (a number it would refuse cannot be sent).
 */
gboolean
ct_issue_dialog_read (CtIssueDialog  *self,
                      char          **out_name,
                      char          **out_phone,
                      char          **out_level)
{
  g_autofree char *name = NULL;
  g_autofree char *phone = NULL;
  g_autofree char *level = NULL;

  g_return_val_if_fail (CT_IS_ISSUE_DIALOG (self), FALSE);

  if (*gtk_editable_get_text (GTK_EDITABLE (self->name_row)) == '\0')
    return FALSE;
  phone = ct_phone_normalize (gtk_editable_get_text (GTK_EDITABLE (self->phone_row)), NULL);
  if (phone == NULL)
    return FALSE;
  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  level = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->level_row))));

  if (out_name != NULL)
    *out_name = g_steal_pointer (&name);
  if (out_phone != NULL)
    *out_phone = g_steal_pointer (&phone);
  if (out_level != NULL)
    *out_level = *level != '\0' ? g_steal_pointer (&level) : NULL;
  return TRUE;
}
