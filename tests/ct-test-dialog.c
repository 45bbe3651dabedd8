/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-test-dialog"

#include "config.h"

#include "ct-dialog.h"
#include "ct-test-dialog.h"

/* The app tests meet the till's dialogs as a cashier does: a dialog is
 * found on screen by its widget name and answered by clicking one of its
 * buttons. */

/**
 * ct_find_dialog:
 * @name: the widget name of a dialog
 *
 * Returns: (nullable) (transfer none): the message dialog of that name on
 *   screen.
 */
AdwMessageDialog *
ct_find_dialog (const char *name)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint n = g_list_model_get_n_items (toplevels);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) &&
          gtk_widget_get_visible (GTK_WIDGET (window)) &&
          g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (window)), name) == 0)
        return ADW_MESSAGE_DIALOG (window);
    }

  return NULL;
}

/**
 * ct_dialog_choose:
 * @response: a response id of @dialog
 *
 * Clicks the button of @response, exactly as a user would (the dialog
 * answers and closes).
 *
 * Returns: %FALSE when there is no such button or it is disabled.
 */
gboolean
ct_dialog_choose (AdwMessageDialog *dialog,
                  const char       *response)
{
  GtkWidget *button;

  g_return_val_if_fail (ADW_IS_MESSAGE_DIALOG (dialog), FALSE);

  if (!adw_message_dialog_has_response (dialog, response) ||
      !adw_message_dialog_get_response_enabled (dialog, response))
    return FALSE;

  button = ct_dialog_get_response_button (dialog, response);
  if (button == NULL)
    return FALSE;

  g_signal_emit_by_name (button, "clicked");
  return TRUE;
}
