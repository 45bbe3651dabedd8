/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-welcome-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-manager-pin.h"
#include "ct-welcome-dialog.h"

/* The first start of a till with its own card service: the person setting
 * it up chooses the first manager's PIN. The rule is shown in the dialog
 * and Start waits until the PIN follows it. Its responses are "start" and
 * "quit" (also Escape). The PIN is kept on the dialog as it is typed, so
 * the answer can be read while the dialog is being torn down. */

typedef struct
{
  GtkWidget *row;
  GtkLabel  *problem;
  char      *pin;
} Welcome;

static void
welcome_free (gpointer data)
{
  Welcome *welcome = data;

  ct_secret_free (welcome->pin);
  g_free (welcome);
}

static Welcome *
welcome_of (AdwMessageDialog *dialog)
{
  return g_object_get_data (G_OBJECT (dialog), "ct-welcome");
}

static void
pin_changed_cb (GtkEditable      *row,
                AdwMessageDialog *dialog)
{
  Welcome *welcome = welcome_of (dialog);
  g_autoptr(GError) error = NULL;
  const char *pin = gtk_editable_get_text (row);
  gboolean ok = ct_manager_pin_check_new (pin, &error);

  ct_secret_free (welcome->pin);
  welcome->pin = g_strdup (pin);

  adw_message_dialog_set_response_enabled (dialog, "start", ok);
  if (ok)
    {
      g_autofree char *rule = ct_manager_pin_rule ();

      gtk_label_set_label (welcome->problem, rule);
      gtk_widget_remove_css_class (GTK_WIDGET (welcome->problem), "error");
    }
  else if (*pin != '\0')
    {
      gtk_label_set_label (welcome->problem, error->message);
      gtk_widget_add_css_class (GTK_WIDGET (welcome->problem), "error");
    }
}

static gboolean
close_request_cb (GtkWindow *dialog)
{
  /* libadwaita 1.2 crashes tearing down an entry row that has the focus
   * (a notify on the half-disposed row): let go of it first. */
  gtk_window_set_focus (dialog, NULL);
  return FALSE;
}

/**
 * ct_welcome_dialog_new:
 *
 * Returns: (transfer floating): the first start's dialog, not yet shown.
 */
GtkWidget *
ct_welcome_dialog_new (GtkWindow *parent)
{
  Welcome *welcome = g_new0 (Welcome, 1);
  g_autofree char *rule = ct_manager_pin_rule ();
  GtkWidget *dialog;
  GtkWidget *box;
  GtkWidget *list;

  dialog = adw_message_dialog_new (parent, _("Welcome to cardtill"),
                                   _("This till keeps its own card service. Choose the PIN of the first manager, "
                                     "whose name is “manager”. Managers authorise refunds, balance changes and new cards."));
  gtk_widget_set_name (dialog, "ct-welcome-dialog");
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "quit", _("_Quit"),
                                    "start", _("_Start"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "start", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "start");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "quit");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "start", FALSE);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  list = gtk_list_box_new ();
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  welcome->row = adw_password_entry_row_new ();
  gtk_widget_set_name (welcome->row, "pin");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (welcome->row), _("Manager PIN"));
  gtk_list_box_append (GTK_LIST_BOX (list), welcome->row);
  gtk_box_append (GTK_BOX (box), list);
  welcome->problem = GTK_LABEL (gtk_label_new (rule));
  gtk_label_set_wrap (welcome->problem, TRUE);
  gtk_label_set_xalign (welcome->problem, 0);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (welcome->problem));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);

  g_object_set_data_full (G_OBJECT (dialog), "ct-welcome", welcome, welcome_free);
  g_signal_connect (welcome->row, "changed", G_CALLBACK (pin_changed_cb), dialog);
  ct_dialog_form (ADW_MESSAGE_DIALOG (dialog), "start", welcome->row, NULL);
  g_signal_connect (dialog, "close-request", G_CALLBACK (close_request_cb), NULL);
  gtk_widget_grab_focus (welcome->row);

  return dialog;
}

/**
 * ct_welcome_dialog_get_pin:
 *
 * Returns: the PIN typed so far (valid while the dialog lives).
 */
const char *
ct_welcome_dialog_get_pin (AdwMessageDialog *dialog)
{
  Welcome *welcome = welcome_of (dialog);

  g_return_val_if_fail (welcome != NULL, NULL);
  return welcome->pin ? welcome->pin : "";
}

/**
 * ct_welcome_dialog_get_problem:
 *
 * Returns: (nullable): why the PIN typed cannot be used, or %NULL.
 */
const char *
ct_welcome_dialog_get_problem (AdwMessageDialog *dialog)
{
  Welcome *welcome = welcome_of (dialog);

  g_return_val_if_fail (welcome != NULL, NULL);
  if (!gtk_widget_has_css_class (GTK_WIDGET (welcome->problem), "error"))
    return NULL;
  return gtk_label_get_label (welcome->problem);
}
