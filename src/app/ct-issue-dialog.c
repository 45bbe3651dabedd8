/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-issue-dialog"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ct-dialog.h"
#include "ct-issue-dialog.h"
#include "ct-manager-pin.h"
#include "ct-phone.h"

/* The card issue form (ui/ct-issue-dialog.ui): the member's name, phone
 * and level, and the card PIN the member may choose now, typed twice and
 * shown only as dots. Continue stays off until there is a name and a
 * phone the service would take, and a PIN, if one is typed, keeps the
 * member PIN rule and is the same twice; the manager's PIN is asked for
 * after it (ct-manager-actions.c). */

struct _CtIssueDialog
{
  AdwMessageDialog  parent_instance;

  AdwEntryRow      *name_row;
  AdwEntryRow      *phone_row;
  AdwEntryRow      *level_row;
  AdwEntryRow      *pin_row;
  AdwEntryRow      *pin_again_row;
  GtkLabel         *hint_label;
};

G_DEFINE_FINAL_TYPE (CtIssueDialog, ct_issue_dialog, ADW_TYPE_MESSAGE_DIALOG)

static char *
pin_problem (CtIssueDialog *self,
             gboolean      *out_complete)
{
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  const char *again = gtk_editable_get_text (GTK_EDITABLE (self->pin_again_row));
  g_autoptr(GError) error = NULL;

  *out_complete = TRUE;
  if (*pin == '\0' && *again == '\0')
    return NULL;
  if (!ct_member_pin_check (pin, &error))
    {
      *out_complete = FALSE;
      return g_strdup (error->message);
    }
  if (!g_str_equal (pin, again))
    {
      *out_complete = FALSE;
      return g_strdup (_("The two PINs differ."));
    }
  return NULL;
}

static void
update_response (CtIssueDialog *self)
{
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  const char *again = gtk_editable_get_text (GTK_EDITABLE (self->pin_again_row));
  g_autofree char *problem = NULL;
  gboolean pin_ok;
  gboolean shown;

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "continue",
                                           ct_issue_dialog_read (self, NULL, NULL, NULL, NULL, NULL));
  problem = pin_problem (self, &pin_ok);
  /* A PIN half typed is not yet a mistake to point out: the rule shows
   * once the first PIN is as long as a PIN, the difference once the
   * second is as long as the first. */
  if (problem == NULL)
    shown = FALSE;
  else if (ct_member_pin_check (pin, NULL))
    shown = strlen (again) >= strlen (pin);
  else
    shown = *pin == '\0' || strlen (pin) >= CT_MEMBER_PIN_DIGITS || strspn (pin, "0123456789") != strlen (pin);
  if (shown)
    {
      gtk_label_set_label (self->hint_label, problem);
      gtk_widget_remove_css_class (GTK_WIDGET (self->hint_label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->hint_label), "error");
    }
  else
    {
      g_autofree char *rule = g_strdup_printf (_("The member may choose a %d-digit PIN for paying with the card "
                                                 "and type it twice. Only dots show."),
                                               CT_MEMBER_PIN_DIGITS);

      gtk_label_set_label (self->hint_label, rule);
      gtk_widget_remove_css_class (GTK_WIDGET (self->hint_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->hint_label), "dim-label");
    }
}

/* A PIN row shows dots, never the digits: the cashier beside the member
 * does not read it, and it cannot be copied out. Its text lives in
 * memory that is not swapped out and is cleared when the form closes. */
static void
mask_pin_row (AdwEntryRow *row)
{
  GtkEditable *delegate = gtk_editable_get_delegate (GTK_EDITABLE (row));
  g_autoptr(GtkEntryBuffer) buffer = gtk_password_entry_buffer_new ();

  g_return_if_fail (GTK_IS_TEXT (delegate));
  gtk_text_set_buffer (GTK_TEXT (delegate), buffer);
  gtk_text_set_visibility (GTK_TEXT (delegate), FALSE);
  gtk_text_set_input_purpose (GTK_TEXT (delegate), GTK_INPUT_PURPOSE_PIN);
  gtk_text_set_input_hints (GTK_TEXT (delegate), GTK_INPUT_HINT_NO_SPELLCHECK | GTK_INPUT_HINT_PRIVATE);
}

static void
ct_issue_dialog_class_init (CtIssueDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-issue-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, phone_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, level_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, pin_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, pin_again_row);
  gtk_widget_class_bind_template_child (widget_class, CtIssueDialog, hint_label);
}


static void
ct_issue_dialog_init (CtIssueDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->phone_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->pin_row, "changed", G_CALLBACK (update_response), self);
  g_signal_connect_swapped (self->pin_again_row, "changed", G_CALLBACK (update_response), self);
  mask_pin_row (self->pin_row);
  mask_pin_row (self->pin_again_row);
  ct_dialog_form (ADW_MESSAGE_DIALOG (self), "continue", GTK_WIDGET (self->name_row),
                  GTK_WIDGET (self->phone_row), GTK_WIDGET (self->level_row),
                  GTK_WIDGET (self->pin_row), GTK_WIDGET (self->pin_again_row), NULL);
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

  return g_object_new (CT_TYPE_ISSUE_DIALOG,
                       "transient-for", ct_window_of (parent),
                       NULL);
}

/**
 * ct_issue_dialog_read:
 * @out_name: (out) (optional): the name, trimmed
 * @out_phone: (out) (optional): the phone by the one phone rule (ct-phone.c)
 * @out_level: (out) (optional) (nullable): the level, trimmed; %NULL when empty
 * @out_member_pin: (out) (optional) (nullable): the member's card PIN, the
 *   same twice and by the member PIN rule; %NULL when none was typed. The
 *   caller clears it from memory when done.
 * @out_problem: (out) (optional) (nullable): why the form cannot be sent
 *   yet, when the member's PIN is the reason
 *
 * Returns: whether the form holds a name and a phone the service stores
 *   (a number it would refuse cannot be sent), and no PIN or a good one.
 */
gboolean
ct_issue_dialog_read (CtIssueDialog  *self,
                      char          **out_name,
                      char          **out_phone,
                      char          **out_level,
                      char          **out_member_pin,
                      char          **out_problem)
{
  g_autofree char *name = NULL;
  g_autofree char *phone = NULL;
  g_autofree char *level = NULL;
  g_autofree char *problem = NULL;
  const char *pin;
  gboolean pin_ok;

  g_return_val_if_fail (CT_IS_ISSUE_DIALOG (self), FALSE);

  problem = pin_problem (self, &pin_ok);
  if (out_problem != NULL)
    *out_problem = g_strdup (problem);
  if (!pin_ok)
    return FALSE;
  if (*gtk_editable_get_text (GTK_EDITABLE (self->name_row)) == '\0')
    return FALSE;
  phone = ct_phone_normalize (gtk_editable_get_text (GTK_EDITABLE (self->phone_row)), NULL);
  if (phone == NULL)
    return FALSE;
  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  level = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->level_row))));
  pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));

  if (out_name != NULL)
    *out_name = g_steal_pointer (&name);
  if (out_phone != NULL)
    *out_phone = g_steal_pointer (&phone);
  if (out_level != NULL)
    *out_level = *level != '\0' ? g_steal_pointer (&level) : NULL;
  if (out_member_pin != NULL)
    *out_member_pin = *pin != '\0' ? g_strdup (pin) : NULL;
  return TRUE;
}
