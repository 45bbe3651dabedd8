/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-walkthrough"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-demo-data.h"
#include "ct-dialog.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pay-page.h"
#include "ct-pin-dialog.h"
#include "ct-scan-page.h"
#include "ct-screenshot.h"
#include "ct-sign-in-page.h"
#include "ct-sync-page.h"
#include "ct-topup-page.h"
#include "ct-walkthrough.h"

/* The demo walk-through: drives the real window through every screen
 * with the demo data, the way a cashier and a manager would, and writes
 * one PNG per screen. Each step acts, waits until the screen shows the
 * answer, lets it settle, then captures the window or the dialog. */

#define STEP_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define SETTLE_MS 350

typedef struct _Walk Walk;

typedef struct
{
  const char *name;
  void      (*act)     (Walk *walk);
  gboolean  (*ready)   (Walk *walk);
  GtkWidget *(*target) (Walk *walk);
} Step;

struct _Walk
{
  CtWindow  *window;
  CtSession *session;
  char      *directory;
  char      *manager_pin;
  char      *card_no;
  guint      step;
  gint64     deadline;
  guint      source;
  AdwMessageDialog *dialog;    /* the last one the till opened (weak) */
  gulong     toplevels_handler;
};

static void
walk_free (gpointer data)
{
  Walk *walk = data;

  g_clear_handle_id (&walk->source, g_source_remove);
  g_clear_signal_handler (&walk->toplevels_handler, gtk_window_get_toplevels ());
  g_clear_weak_pointer (&walk->dialog);
  g_clear_object (&walk->window);
  g_clear_object (&walk->session);
  g_free (walk->directory);
  g_free (walk->manager_pin);
  g_free (walk->card_no);
  g_free (walk);
}

static GtkWidget *
page (Walk       *walk,
      const char *name)
{
  return ct_window_get_page_widget (walk->window, name);
}

/* The walk-through meets a dialog as the cashier does: the one the till
 * opened last, in front of the window. */
static void
toplevels_changed_cb (GListModel *toplevels,
                      guint       position,
                      guint       removed,
                      guint       added,
                      Walk       *walk)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window))
        g_set_weak_pointer (&walk->dialog, ADW_MESSAGE_DIALOG (window));
    }
}

static AdwMessageDialog *
shown_dialog (Walk       *walk,
              const char *name)
{
  if (walk->dialog == NULL ||
      !gtk_widget_get_visible (GTK_WIDGET (walk->dialog)) ||
      g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (walk->dialog)), name) != 0)
    return NULL;

  return walk->dialog;
}

static gboolean
always (Walk *walk)
{
  return TRUE;
}

static gboolean
on_receipt (Walk *walk)
{
  return g_strcmp0 (ct_window_get_page (walk->window), "receipt") == 0;
}

static gboolean
card_shown (Walk *walk)
{
  const CtCard *card = ct_session_get_card (walk->session);

  return card != NULL && card->fetched_at > 0 && !ct_session_get_refreshing (walk->session);
}

/* Steps */

static void
act_none (Walk *walk)
{
}

/* The demo has a cashier: the till comes up asking who is at it (a till
 * without cashiers shows its scan screen instead). */
static gboolean
sign_in_ready (Walk *walk)
{
  return ct_window_is_locked (walk->window) || !ct_session_get_cashiers_in_use (walk->session);
}

static gboolean
signed_in (Walk *walk)
{
  return !ct_window_is_locked (walk->window);
}

static void
act_home (Walk *walk)
{
  if (ct_window_is_locked (walk->window))
    ct_sign_in_page_sign_in (CT_SIGN_IN_PAGE (ct_window_get_sign_in_page (walk->window)),
                             CT_DEMO_CASHIER_ID, CT_DEMO_CASHIER_PIN);
  ct_session_clear_card (walk->session);
  ct_window_show_page (walk->window, "scan");
}

static void
act_search (Walk *walk)
{
  ct_window_show_page (walk->window, "members");
  ct_members_page_search (CT_MEMBERS_PAGE (page (walk, "members")), CT_DEMO_PHONE_1);
}

static gboolean
members_ready (Walk *walk)
{
  CtMembersPage *members = CT_MEMBERS_PAGE (page (walk, "members"));

  if (ct_members_page_is_loading (members) || ct_members_page_get_card (members) == NULL)
    return FALSE;

  g_free (walk->card_no);
  walk->card_no = g_strdup (ct_members_page_get_card (members)->card_no);
  return TRUE;
}

static void
act_previous_day (Walk *walk)
{
  gtk_widget_activate_action (page (walk, "members"), "members.previous-day", NULL);
}

static void
act_scan (Walk *walk)
{
  ct_window_show_page (walk->window, "scan");
  if (walk->card_no != NULL)
    ct_window_handle_scan (walk->window, walk->card_no);
}

static void
act_topup (Walk *walk)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (walk->session);

  ct_window_show_page (walk->window, "topup");
  if (merchant != NULL && merchant->packages->len > 0)
    {
      const CtPackage *package = g_ptr_array_index (merchant->packages, 0);

      ct_topup_page_select_package (CT_TOPUP_PAGE (page (walk, "topup")), package->id);
    }
  else
    gtk_editable_set_text (GTK_EDITABLE (ct_topup_page_get_amount_entry (CT_TOPUP_PAGE (page (walk, "topup")))),
                           "100.00");
}

static void
act_topup_confirm (Walk *walk)
{
  gtk_widget_activate_action (page (walk, "topup"), "topup.confirm", NULL);
}

static void
act_pay (Walk *walk)
{
  ct_window_show_page (walk->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (page (walk, "pay")))),
                         "25.00");
}

static void
act_pay_confirm (Walk *walk)
{
  gtk_widget_activate_action (page (walk, "pay"), "pay.confirm", NULL);
}

static void
act_pay_too_much (Walk *walk)
{
  ct_window_show_page (walk->window, "pay");
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (CT_PAY_PAGE (page (walk, "pay")))),
                         "9,999.00");
}

static void
act_adjust_form (Walk *walk)
{
  CtMembersPage *members = CT_MEMBERS_PAGE (page (walk, "members"));
  AdwMessageDialog *dialog;

  ct_window_show_page (walk->window, "members");
  gtk_widget_activate_action (GTK_WIDGET (members), "members.adjust", NULL);
  dialog = shown_dialog (walk, "ct-adjust-dialog");
  if (dialog != NULL)
    {
      GtkWidget *list = adw_message_dialog_get_extra_child (dialog);
      GtkWidget *box_child = gtk_widget_get_first_child (list);

      /* The form's rows: the change, then the reason. */
      for (GtkWidget *w = gtk_widget_get_first_child (box_child); w != NULL; w = gtk_widget_get_next_sibling (w))
        {
          if (g_strcmp0 (gtk_widget_get_name (w), "delta") == 0)
            gtk_editable_set_text (GTK_EDITABLE (w), "+5.00");
          else if (g_strcmp0 (gtk_widget_get_name (w), "reason") == 0)
            gtk_editable_set_text (GTK_EDITABLE (w), _("Goodwill for a late delivery"));
        }
    }
}

static GtkWidget *
adjust_dialog (Walk *walk)
{
  return GTK_WIDGET (shown_dialog (walk, "ct-adjust-dialog"));
}

static gboolean
adjust_dialog_ready (Walk *walk)
{
  return adjust_dialog (walk) != NULL;
}

static void
act_pin (Walk *walk)
{
  AdwMessageDialog *dialog = shown_dialog (walk, "ct-adjust-dialog");

  if (dialog != NULL)
    ct_dialog_submit (dialog, "continue");
}

static GtkWidget *
pin_dialog (Walk *walk)
{
  return GTK_WIDGET (ct_pin_dialog_find ());
}

static gboolean
pin_ready (Walk *walk)
{
  CtPinDialog *dialog = ct_pin_dialog_find ();

  if (dialog == NULL)
    return FALSE;

  ct_pin_dialog_fill (dialog, "manager", walk->manager_pin);
  return TRUE;
}

static void
act_authorize (Walk *walk)
{
  CtPinDialog *dialog = ct_pin_dialog_find ();

  if (dialog != NULL)
    ct_dialog_submit (ADW_MESSAGE_DIALOG (dialog), "authorize");
}

/* The form's rows by name, wherever they sit in it. */
static void
fill_issue_rows (GtkWidget *root)
{
  for (GtkWidget *w = gtk_widget_get_first_child (root); w != NULL; w = gtk_widget_get_next_sibling (w))
    {
      if (!GTK_IS_EDITABLE (w))
        fill_issue_rows (w);
      else if (g_strcmp0 (gtk_widget_get_name (w), "name") == 0)
        gtk_editable_set_text (GTK_EDITABLE (w), "陈静");
      else if (g_strcmp0 (gtk_widget_get_name (w), "phone") == 0)
        gtk_editable_set_text (GTK_EDITABLE (w), "13655556666");
      else if (g_strcmp0 (gtk_widget_get_name (w), "level") == 0)
        gtk_editable_set_text (GTK_EDITABLE (w), "Gold");
    }
}

static void
act_issue (Walk *walk)
{
  AdwMessageDialog *dialog;

  ct_window_show_page (walk->window, "members");
  gtk_widget_activate_action (page (walk, "members"), "members.issue", NULL);
  dialog = shown_dialog (walk, "ct-issue-dialog");
  if (dialog != NULL)
    {
      fill_issue_rows (adw_message_dialog_get_extra_child (dialog));
      ct_dialog_submit (dialog, "continue");
    }
}

static gboolean
issue_pin_ready (Walk *walk)
{
  CtPinDialog *dialog = ct_pin_dialog_find ();

  if (dialog == NULL)
    return FALSE;

  ct_pin_dialog_fill (dialog, "manager", walk->manager_pin);
  ct_dialog_submit (ADW_MESSAGE_DIALOG (dialog), "authorize");
  return FALSE;
}

static GtkWidget *
new_card_dialog (Walk *walk)
{
  return GTK_WIDGET (shown_dialog (walk, "ct-new-card-dialog"));
}

static gboolean
new_card_ready (Walk *walk)
{
  if (new_card_dialog (walk) != NULL)
    return TRUE;

  /* Answer the PIN dialog when it comes. */
  issue_pin_ready (walk);
  return FALSE;
}

static void
act_close_new_card (Walk *walk)
{
  AdwMessageDialog *dialog = shown_dialog (walk, "ct-new-card-dialog");

  if (dialog != NULL)
    ct_dialog_submit (dialog, "close");
  ct_window_show_page (walk->window, "sync");
}

static gboolean
sync_ready (Walk *walk)
{
  return !ct_sync_page_is_loading (CT_SYNC_PAGE (page (walk, "sync")));
}

static void
act_settings (Walk *walk)
{
  ct_window_show_page (walk->window, "settings");
}

static void
act_import (Walk *walk)
{
  ct_window_show_page (walk->window, "import");
}

static void
act_shortcuts (Walk *walk)
{
  gtk_widget_activate_action (GTK_WIDGET (walk->window), "win.show-help-overlay", NULL);
}

static GtkWidget *
shortcuts_window (Walk *walk)
{
  return GTK_WIDGET (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (walk->window)));
}

static gboolean
shortcuts_ready (Walk *walk)
{
  GtkWidget *overlay = shortcuts_window (walk);

  /* Without an application (tests) there is no overlay: skip it. */
  return overlay == NULL || gtk_widget_get_mapped (overlay);
}

static void
act_dark (Walk *walk)
{
  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (walk->window));

  if (overlay != NULL)
    gtk_widget_set_visible (GTK_WIDGET (overlay), FALSE);

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  ct_window_show_page (walk->window, "scan");
}

static const Step steps[] = {
  { "00-sign-in", act_none, sign_in_ready, NULL },
  { "01-scan-home", act_home, signed_in, NULL },
  { "02-members-search", act_search, members_ready, NULL },
  { "03-members-previous-day", act_previous_day, members_ready, NULL },
  { "04-scan-card", act_scan, card_shown, NULL },
  { "05-topup-packages", act_topup, always, NULL },
  { "06-topup-receipt", act_topup_confirm, on_receipt, NULL },
  { "07-pay", act_pay, always, NULL },
  { "08-pay-receipt", act_pay_confirm, on_receipt, NULL },
  { "09-pay-insufficient", act_pay_too_much, always, NULL },
  { "10-adjust-form", act_adjust_form, adjust_dialog_ready, adjust_dialog },
  { "11-manager-pin", act_pin, pin_ready, pin_dialog },
  { "12-adjust-receipt", act_authorize, on_receipt, NULL },
  { "13-new-card", act_issue, new_card_ready, new_card_dialog },
  { "14-sync", act_close_new_card, sync_ready, NULL },
  { "15-settings", act_settings, always, NULL },
  { "16-import", act_import, always, NULL },
  { "17-keyboard-shortcuts", act_shortcuts, shortcuts_ready, shortcuts_window },
  { "18-scan-card-dark", act_dark, card_shown, NULL },
};

static void run_step (GTask *task);

/* A screen still cross-fading from the last one is not captured: on a
 * loaded machine the fade outlasts the settling time. */
static gboolean
transition_running (GtkWidget *widget)
{
  if (GTK_IS_STACK (widget) && gtk_stack_get_transition_running (GTK_STACK (widget)))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (transition_running (child))
      return TRUE;
  return FALSE;
}

static gboolean
capture_cb (gpointer user_data)
{
  GTask *task = user_data;
  Walk *walk = g_task_get_task_data (task);
  const Step *step = &steps[walk->step];
  GtkWidget *target = step->target ? step->target (walk) : GTK_WIDGET (walk->window);
  g_autofree char *file = g_strdup_printf ("%s.png", step->name);
  g_autofree char *path = g_build_filename (walk->directory, file, NULL);
  g_autoptr(GError) error = NULL;

  if (target != NULL && transition_running (GTK_WIDGET (walk->window)))
    return G_SOURCE_CONTINUE;
  walk->source = 0;

  if (target == NULL || !ct_screenshot_save_png (target, path, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", step->name,
                               error ? error->message : "nothing to capture");
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }

  g_print ("%s\n", path);
  walk->step++;
  run_step (task);
  return G_SOURCE_REMOVE;
}

static gboolean
poll_cb (gpointer user_data)
{
  GTask *task = user_data;
  Walk *walk = g_task_get_task_data (task);
  const Step *step = &steps[walk->step];

  if (step->ready (walk))
    {
      walk->source = g_timeout_add (SETTLE_MS, capture_cb, task);
      return G_SOURCE_REMOVE;
    }

  if (g_get_monotonic_time () > walk->deadline)
    {
      walk->source = 0;
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "%s: the screen did not show the expected state in time", step->name);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
run_step (GTask *task)
{
  Walk *walk = g_task_get_task_data (task);

  if (walk->step >= G_N_ELEMENTS (steps))
    {
      GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (walk->window));

      if (overlay != NULL)
        gtk_widget_set_visible (GTK_WIDGET (overlay), FALSE);
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  walk->deadline = g_get_monotonic_time () + STEP_TIMEOUT_US;
  steps[walk->step].act (walk);
  walk->source = g_timeout_add (50, poll_cb, task);
}

/**
 * ct_walkthrough_run_async:
 * @directory: where the PNGs go
 * @manager_pin: the demo manager's PIN
 *
 * Walks @window through every screen with the demo data.
 */
void
ct_walkthrough_run_async (CtWindow            *window,
                          const char          *directory,
                          const char          *manager_pin,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Walk *walk = g_new0 (Walk, 1);

  walk->window = g_object_ref (window);
  walk->session = g_object_ref (ct_window_get_session (window));
  walk->directory = g_strdup (directory);
  walk->manager_pin = g_strdup (manager_pin);
  walk->toplevels_handler = g_signal_connect (gtk_window_get_toplevels (), "items-changed",
                                              G_CALLBACK (toplevels_changed_cb), walk);
  g_task_set_task_data (task, walk, walk_free);
  g_task_set_source_tag (task, ct_walkthrough_run_async);

  run_step (task);
}

gboolean
ct_walkthrough_run_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
