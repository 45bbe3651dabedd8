/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-keyboard"

#include "config.h"

#include <check.h>
#include <X11/keysym.h>

#include "ct-app-fixture.h"
#include "ct-import-page.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pin-dialog.h"
#include "ct-receipt-page.h"
#include "ct-screenshot.h"
#include "ct-topup-page.h"
#include "ct-welcome-dialog.h"

/* The till driven from the keyboard alone, with real key events through
 * the X server: dialogs that submit with Enter and close, focus that
 * follows the form. */

static gboolean
no_pin_dialog (gpointer data)
{
  return count_windows (CT_TYPE_PIN_DIALOG) == 0;
}

static gboolean
pin_dialog_focused (gpointer data)
{
  CtPinDialog *dialog = ct_pin_dialog_find ();

  return dialog != NULL && gtk_window_is_active (GTK_WINDOW (dialog));
}

/* Types into the PIN dialog on screen as a manager does: the manager id
 * and Tab (unless the till remembers the manager and the PIN has the
 * focus), the PIN, Enter. */
static void
type_pin (const char *manager,
          const char *pin)
{
  CtPinDialog *dialog;

  ck_assert_msg (wait_until (pin_dialog_up, NULL, 20000), "no PIN dialog");
  dialog = ct_pin_dialog_find ();
  keys_focus (GTK_WINDOW (dialog));
  ck_assert (wait_until (pin_dialog_focused, NULL, 10000));
  if (gtk_widget_get_ancestor (gtk_root_get_focus (GTK_ROOT (dialog)), ADW_TYPE_PASSWORD_ENTRY_ROW) == NULL)
    {
      keys_type (manager, 30);
      keys_press (XK_Tab);
    }
  keys_type (pin, 30);
  keys_press (XK_Return);
}

START_TEST (test_app_keyboard_pin_dialog_closes_on_enter)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Enter Member", phone, "p200");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  AdwMessageDialog *form;
  g_autofree char *text = NULL;

  pay_directly (till, card_no, 5000);
  scan_and_wait (till, card_no);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.card-history", NULL));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (members), "members.adjust", NULL));
  form = ct_find_dialog ("ct-adjust-dialog");
  ck_assert (form != NULL);
  fill_named (GTK_WIDGET (form), "delta", "+12.00");
  fill_named (GTK_WIDGET (form), "reason", "Goodwill");
  ck_assert (ct_dialog_choose (form, "continue"));

  /* A wrong PIN and Enter: the same dialog asks again; it is the only one. */
  type_pin (CT_TEST_SERVICE_MANAGER_ID, "000000");
  ck_assert_msg (wait_until (pin_dialog_with_problem, NULL, 20000), "no second PIN prompt");
  ck_assert_uint_eq (count_windows (CT_TYPE_PIN_DIALOG), 1);

  /* The right PIN and Enter: the adjustment is made and no dialog stays
   * to block the till. */
  type_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt after the right PIN");
  ck_assert_msg (wait_until (no_pin_dialog, NULL, 10000), "%u PIN dialogs stay open",
                 count_windows (CT_TYPE_PIN_DIALOG));
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Change: +¥12.00") != NULL, "%s", text);

  /* The till answers the keyboard again: F2 goes to the scan screen. */
  keys_focus (GTK_WINDOW (till->window));
  keys_press (XK_F2);
  ck_assert (wait_until (scan_page_shown, till, 10000));

  till_free (till);
}
END_TEST


static gboolean
adjust_form_up (gpointer data)
{
  return ct_find_dialog ("ct-adjust-dialog") != NULL;
}

static gboolean
adjust_form_gone (gpointer data)
{
  return ct_find_dialog ("ct-adjust-dialog") == NULL;
}

static GtkWidget *
focus_in (GtkWindow *window)
{
  return gtk_root_get_focus (GTK_ROOT (window));
}

static GtkWindow *focus_window;
static GtkWidget *focus_target;

/* The focus is @focus_target or inside it. */
static gboolean
focus_on_target (gpointer data)
{
  GtkWidget *focus = focus_in (focus_window);

  return focus != NULL && (focus == focus_target || gtk_widget_is_ancestor (focus, focus_target));
}

static void
wait_focus (GtkWindow *window,
            GtkWidget *target)
{
  focus_window = window;
  focus_target = target;
  ck_assert_msg (wait_until (focus_on_target, NULL, 10000), "the focus is on %s, not %s",
                 focus_in (window) ? G_OBJECT_TYPE_NAME (focus_in (window)) : "nothing",
                 G_OBJECT_TYPE_NAME (target));
}

START_TEST (test_app_keyboard_adjust_form_enter_tab_space)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Keys Member", phone, "p200");
  AdwMessageDialog *form;
  GtkWidget *reason;
  g_autofree char *text = NULL;

  pay_directly (till, card_no, 5000);
  scan_and_wait (till, card_no);

  /* Ctrl+B from the scan screen: the card's Adjust Balance form. */
  keys_focus (GTK_WINDOW (till->window));
  keys_chord (XK_Control_L, XK_b);
  ck_assert_msg (wait_until (adjust_form_up, NULL, 10000), "Ctrl+B did not open Adjust Balance");
  form = ct_find_dialog ("ct-adjust-dialog");
  keys_focus (GTK_WINDOW (form));
  reason = find_widget (GTK_WIDGET (form), 0, "reason");

  /* Enter in the change goes to the reason. */
  keys_type ("+12.00", 20);
  keys_press (XK_Return);
  wait_focus (GTK_WINDOW (form), reason);
  keys_type ("Goodwill", 20);

  /* Tab from the reason goes to Continue, not Cancel; Space presses it. */
  keys_press (XK_Tab);
  {
    GtkWidget *focus;
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (!GTK_IS_BUTTON (focus = focus_in (GTK_WINDOW (form))) && g_get_monotonic_time () < deadline)
      ct_screenshot_settle (20);
    ck_assert_msg (GTK_IS_BUTTON (focus), "Tab went to %s", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
    ck_assert_str_eq (gtk_button_get_label (GTK_BUTTON (focus)), "_Continue");
  }
  save_png (till, GTK_WIDGET (form), "keyboard-adjust-continue-focused");
  keys_press (XK_space);
  ck_assert_msg (wait_until (adjust_form_gone, NULL, 10000), "Space did not press Continue");

  type_pin (CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN);
  ck_assert_msg (wait_until (on_receipt, till, 20000), "no receipt");
  text = receipt_text (till);
  ck_assert_msg (strstr (text, "Change: +¥12.00") != NULL, "%s", text);
  ck_assert_msg (strstr (text, "Reason: Goodwill") != NULL, "%s", text);

  till_free (till);
}
END_TEST

static gboolean
topup_summary_is (gpointer data)
{
  Till *till = data;
  CtTopupPage *topup = CT_TOPUP_PAGE (ct_window_get_page_widget (till->window, "topup"));

  return g_strcmp0 (ct_topup_page_get_summary (topup), "Top up ¥200.00 + ¥30.00 bonus") == 0;
}

static const char *mapped_page;

/* The screen is on the display: its map has run, and with it the focus
 * it gives (ct_focus_soon). */
static gboolean
page_mapped (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), mapped_page) == 0 &&
         gtk_widget_get_mapped (ct_window_get_page_widget (till->window, mapped_page));
}

static void
wait_page (Till       *till,
           const char *page)
{
  mapped_page = page;
  ck_assert_msg (wait_until (page_mapped, till, 10000), "%s is not shown", page);
  /* The focus it gives comes in an idle right after: let everything due
   * run. */
  for (guint i = 0; i < 1000 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

/* The focus is on the Top up screen's Confirm button. */
static gboolean
focus_on_confirm (gpointer data)
{
  GtkWidget *focus = focus_in (focus_window);

  return GTK_IS_BUTTON (focus) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (focus)), "topup.confirm") == 0;
}

START_TEST (test_app_keyboard_package_tiles_arrows_and_space)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Tiles Member", phone, NULL);
  GtkWidget *topup = ct_window_get_page_widget (till->window, "topup");
  GtkFlowBox *box = GTK_FLOW_BOX (find_widget (topup, GTK_TYPE_FLOW_BOX, NULL));
  GtkWidget *focus;

  scan_and_wait (till, card_no);
  keys_focus (GTK_WINDOW (till->window));
  keys_press (XK_F3);
  wait_page (till, "topup");

  /* The first tile has the focus; Right moves to the second. */
  wait_focus (GTK_WINDOW (till->window), GTK_WIDGET (gtk_flow_box_get_child_at_index (box, 0)));
  keys_press (XK_Right);
  wait_focus (GTK_WINDOW (till->window), GTK_WIDGET (gtk_flow_box_get_child_at_index (box, 1)));

  /* Space picks it (the keyboard-wedge capture lets Space through) and
   * the focus goes to Confirm; Space again tops up. */
  keys_press (XK_space);
  ck_assert_msg (wait_until (topup_summary_is, till, 10000), "summary: %s",
                 ct_topup_page_get_summary (CT_TOPUP_PAGE (topup)));
  /* The focus moves to Confirm once the pick is shown (an idle): wait for
   * it rather than read it at once. */
  focus_window = GTK_WINDOW (till->window);
  wait_until (focus_on_confirm, NULL, 10000);
  ct_screenshot_settle (100);
  focus = focus_in (GTK_WINDOW (till->window));
  ck_assert_msg (GTK_IS_BUTTON (focus) && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (focus)),
                                                     "topup.confirm") == 0,
                 "focus: %s", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
  save_png (till, NULL, "keyboard-topup-confirm-focused");
  keys_press (XK_space);
  ck_assert_msg (wait_until (on_receipt, till, 20000), "Space on Confirm did not top up: %s, page %s, focus %s",
                 ct_topup_page_get_problem (CT_TOPUP_PAGE (topup)), ct_window_get_page (till->window),
                 focus_in (GTK_WINDOW (till->window)) ? G_OBJECT_TYPE_NAME (focus_in (GTK_WINDOW (till->window))) : "-");

  /* Back on Top up, the tiles are one Tab stop: Tab from a tile leaves
   * the tiles. */
  wait_focus (GTK_WINDOW (till->window), ct_window_get_page_widget (till->window, "receipt"));
  keys_press (XK_Escape);
  wait_page (till, "scan");
  scan_and_wait (till, card_no);
  keys_press (XK_F3);
  wait_page (till, "topup");
  wait_focus (GTK_WINDOW (till->window), GTK_WIDGET (gtk_flow_box_get_child_at_index (box, 0)));
  keys_press (XK_Tab);
  ct_screenshot_settle (200);
  focus = focus_in (GTK_WINDOW (till->window));
  ck_assert_msg (focus != NULL && !gtk_widget_is_ancestor (focus, GTK_WIDGET (box)),
                 "Tab stayed in the tiles: %s in %s (child 0 %p, focus %p)", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing",
                 focus ? G_OBJECT_TYPE_NAME (gtk_widget_get_parent (focus)) : "",
                 gtk_flow_box_get_child_at_index (box, 0), focus);

  till_free (till);
}
END_TEST

static GtkWidget *typed_row;

static gboolean
import_loaded (gpointer data)
{
  return !ct_import_page_is_busy (data) && ct_import_page_is_loaded (data);
}

static gboolean
row_has_m1 (gpointer data)
{
  return g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (typed_row)), "m1") == 0;
}

static gboolean
row_has_pin (gpointer data)
{
  return g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (typed_row)), CT_TEST_SERVICE_MANAGER_PIN) == 0;
}

START_TEST (test_app_keyboard_import_pin_enter_moves_on)
{
  Till *till = till_new ();
  GtkWidget *import = ct_window_get_page_widget (till->window, "import");
  GtkWidget *manager = find_widget (import, ADW_TYPE_ENTRY_ROW, NULL);
  GtkWidget *pin = find_widget (import, ADW_TYPE_PASSWORD_ENTRY_ROW, NULL);

  ck_assert (manager != NULL && pin != NULL && manager != pin);
  ct_window_show_page (till->window, "import");
  wait_page (till, "import");
  {
    g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures", "import",
                                              "utf8-basic.csv", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);

    /* The manager's fields come with a file to import. */
    ct_import_page_open_file (CT_IMPORT_PAGE (import), file);
    ck_assert (wait_until (import_loaded, import, 30000));
  }
  keys_focus (GTK_WINDOW (till->window));

  /* Enter in the manager's ID goes on to the PIN, as in every form. */
  gtk_widget_grab_focus (manager);
  wait_focus (GTK_WINDOW (till->window), manager);
  keys_type ("m1", 20);
  typed_row = manager;
  ck_assert_msg (wait_until (row_has_m1, NULL, 10000), "the manager field holds \"%s\"",
                 gtk_editable_get_text (GTK_EDITABLE (manager)));
  keys_press (XK_Return);
  wait_focus (GTK_WINDOW (till->window), pin);

  /* Tab from the PIN goes to Import, not Cancel. The PIN is typed as a
   * person types it, slower than a scanner: a fast burst ended by Tab is a
   * scan, taken back out of the field with its Tab. */
  keys_type (CT_TEST_SERVICE_MANAGER_PIN, 120);
  typed_row = pin;
  ck_assert_msg (wait_until (row_has_pin, NULL, 10000), "the PIN field holds %u characters",
                 (guint) strlen (gtk_editable_get_text (GTK_EDITABLE (pin))));
  keys_press (XK_Tab);
  {
    GtkWidget *focus;
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (!GTK_IS_BUTTON (focus = focus_in (GTK_WINDOW (till->window))) && g_get_monotonic_time () < deadline)
      ct_screenshot_settle (20);
    ck_assert_msg (GTK_IS_BUTTON (focus), "Tab went to %s", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
    ck_assert_str_eq (gtk_button_get_label (GTK_BUTTON (focus)), "_Import");
  }

  till_free (till);
}
END_TEST

static void
response_cb (AdwMessageDialog *dialog,
             const char       *response,
             char            **out)
{
  g_free (*out);
  *out = g_strdup_printf ("%s:%s", response, ct_welcome_dialog_get_pin (dialog));
}

static gboolean
string_set (gpointer data)
{
  return *(char **) data != NULL;
}

START_TEST (test_app_keyboard_welcome_pin_rule_shown_and_enter_starts)
{
  GtkWidget *dialog = ct_welcome_dialog_new (NULL);
  g_autofree char *answer = NULL;
  GtkWidget *row = find_widget (dialog, ADW_TYPE_PASSWORD_ENTRY_ROW, "pin");
  const char *problem;

  /* The PIN is typed hidden. */
  ck_assert (row != NULL);
  g_signal_connect (dialog, "response", G_CALLBACK (response_cb), &answer);
  gtk_window_present (GTK_WINDOW (dialog));
  ct_screenshot_settle (100);

  /* A PIN shorter than the rule is refused in the dialog, saying the rule;
   * Enter does nothing. */
  gtk_editable_set_text (GTK_EDITABLE (row), "1234");
  problem = ct_welcome_dialog_get_problem (ADW_MESSAGE_DIALOG (dialog));
  ck_assert_msg (problem != NULL && strstr (problem, "at least 6 digits") != NULL, "problem: %s", problem);
  ck_assert (!adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "start"));
  save_png (NULL, dialog, "welcome-short-pin");
  g_signal_emit_by_name (row, "entry-activated");
  ct_screenshot_settle (50);
  ck_assert_ptr_null (answer);

  gtk_editable_set_text (GTK_EDITABLE (row), "12ab56");
  problem = ct_welcome_dialog_get_problem (ADW_MESSAGE_DIALOG (dialog));
  ck_assert_msg (problem != NULL && strstr (problem, "digits only") != NULL, "problem: %s", problem);

  /* Six digits: Enter starts with that PIN and the dialog goes. */
  gtk_editable_set_text (GTK_EDITABLE (row), "135790");
  ck_assert_ptr_null (ct_welcome_dialog_get_problem (ADW_MESSAGE_DIALOG (dialog)));
  g_signal_emit_by_name (row, "entry-activated");
  ck_assert (wait_until (string_set, &answer, 10000));
  ck_assert_str_eq (answer, "start:135790");
  ck_assert_ptr_null (ct_find_dialog ("ct-welcome-dialog"));
}
END_TEST

static void
child_exited_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* The X window id of the first window titled @title, or 0. */
static char *
find_x_window (const char *title)
{
  const char *argv[] = { "xdotool", "search", "--name", title, NULL };
  g_autofree char *out = NULL;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, NULL, NULL) || out == NULL || *out == '\0')
    return NULL;
  g_strdelimit (out, "\n", '\0');
  return g_steal_pointer (&out);
}

START_TEST (test_app_keyboard_escape_on_welcome_quits_cleanly)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *binary = g_build_filename (builddir, "src", "app", "cardtill", NULL);
  g_autofree char *data_dir = g_dir_make_tmp ("cardtill-welcome-XXXXXX", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GSubprocess) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *window = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  gboolean exited = FALSE;

  if (g_find_program_in_path ("xdotool") == NULL)
    {
      g_message ("no xdotool: the first start is not driven");
      return;
    }

  /* A till that never ran: the Welcome dialog asks for the first PIN. */
  g_subprocess_launcher_setenv (launcher, "CARDTILL_DATA_DIR", data_dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "CARDTILL_SERVICE");
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  app = g_subprocess_launcher_spawn (launcher, &error, binary, NULL);
  ck_assert_msg (app != NULL, "%s", error ? error->message : "");
  g_subprocess_wait_async (app, NULL, child_exited_cb, &exited);

  while ((window = find_x_window ("Welcome to cardtill")) == NULL)
    {
      ck_assert_msg (!exited, "cardtill ended before asking for the first PIN");
      ck_assert_msg (g_get_monotonic_time () < deadline, "no Welcome dialog");
      ct_screenshot_settle (100);
    }

  /* Escape: the till quits, cleanly. */
  {
    const char *focus[] = { "xdotool", "windowfocus", window, NULL };
    const char *escape[] = { "xdotool", "key", "Escape", NULL };

    g_spawn_sync (NULL, (char **) focus, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, NULL, NULL);
    ct_screenshot_settle (300);
    ck_assert (g_spawn_sync (NULL, (char **) escape, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                             NULL, NULL, NULL, NULL));
  }
  ck_assert_msg (wait_until (flag_set, &exited, 60000), "cardtill did not quit on Escape");
  ck_assert_msg (g_subprocess_get_if_exited (app), "cardtill crashed (signal %d)",
                 g_subprocess_get_if_signaled (app) ? g_subprocess_get_term_sig (app) : 0);
  ck_assert_int_eq (g_subprocess_get_exit_status (app), 0);

  remove_tree (data_dir);
}
END_TEST

/* The shortcuts window lists what the keys do. A key it names for a
 * window action must be bound to that action, and every key bound to one
 * of those actions must be listed: a cashier who reads "F12" for Reports
 * and presses it must not lock the till instead. */
typedef struct
{
  const char *title;
  const char *action;
  const char *page;  /* the target of win.page, or NULL */
} ListedAction;

static const ListedAction listed_actions[] = {
  { "Scan card", "win.page", "scan" },
  { "Top up", "win.page", "topup" },
  { "Pay", "win.page", "pay" },
  { "Members", "win.page", "members" },
  { "Import", "win.page", "import" },
  { "Sync", "win.page", "sync" },
  { "Settings", "win.page", "settings" },
  { "Shift", "win.page", "shift" },
  { "Reports", "win.page", "reports" },
  { "Last receipt", "win.last-receipt", NULL },
  { "Lock the till", "win.lock", NULL },
  { "Adjust the balance of the card", "win.adjust", NULL },
};

static gboolean
shortcut_does (GtkShortcut        *shortcut,
               const ListedAction *listed)
{
  GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
  GVariant *args = gtk_shortcut_get_arguments (shortcut);

  if (!GTK_IS_NAMED_ACTION (action)
      || g_strcmp0 (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), listed->action) != 0)
    return FALSE;
  if (listed->page == NULL)
    return args == NULL;
  return args != NULL && g_variant_is_of_type (args, G_VARIANT_TYPE_STRING)
         && g_str_equal (g_variant_get_string (args, NULL), listed->page);
}

/* The window's own key bindings (its class's shortcut controller). */
static GPtrArray *
window_key_bindings (GtkWidget *window)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (window);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (controller)); k++)
        {
          GtkShortcut *shortcut = g_list_model_get_item (G_LIST_MODEL (controller), k);

          if (GTK_IS_KEYVAL_TRIGGER (gtk_shortcut_get_trigger (shortcut)))
            g_ptr_array_add (out, shortcut);
          else
            g_object_unref (shortcut);
        }
    }
  return out;
}

static GtkShortcut *
binding_of (GPtrArray       *bindings,
            guint            keyval,
            GdkModifierType  mods)
{
  for (guint i = 0; i < bindings->len; i++)
    {
      GtkKeyvalTrigger *trigger = GTK_KEYVAL_TRIGGER (gtk_shortcut_get_trigger (bindings->pdata[i]));

      if (gtk_keyval_trigger_get_keyval (trigger) == keyval
          && gtk_keyval_trigger_get_modifiers (trigger) == mods)
        return bindings->pdata[i];
    }
  return NULL;
}

START_TEST (test_app_keyboard_shortcuts_window_tells_the_truth)
{
  Till *till = till_new ();
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/io/github/cardtill/Cardtill/gtk/help-overlay.ui");
  g_autoptr(GPtrArray) bindings = window_key_bindings (GTK_WIDGET (till->window));
  GSList *objects = gtk_builder_get_objects (builder);
  guint checked = 0;

  ck_assert_uint_gt (bindings->len, 0);
  for (guint a = 0; a < G_N_ELEMENTS (listed_actions); a++)
    {
      const ListedAction *listed = &listed_actions[a];
      g_autofree char *accels = NULL;
      g_auto(GStrv) each = NULL;

      for (GSList *l = objects; l != NULL && accels == NULL; l = l->next)
        {
          g_autofree char *title = NULL;

          if (!GTK_IS_SHORTCUTS_SHORTCUT (l->data))
            continue;
          g_object_get (l->data, "title", &title, NULL);
          if (g_strcmp0 (title, listed->title) == 0)
            g_object_get (l->data, "accelerator", &accels, NULL);
        }
      ck_assert_msg (accels != NULL, "the shortcuts window does not list \"%s\"", listed->title);

      /* Each key listed does what the title says. */
      each = g_strsplit (accels, " ", -1);
      for (guint k = 0; each[k] != NULL; k++)
        {
          guint keyval;
          GdkModifierType mods;
          GtkShortcut *bound;

          if (each[k][0] == '\0')
            continue;
          ck_assert_msg (gtk_accelerator_parse (each[k], &keyval, &mods), "%s: %s", listed->title, each[k]);
          bound = binding_of (bindings, keyval, mods);
          ck_assert_msg (bound != NULL, "\"%s\" lists %s, which the window does not bind", listed->title, each[k]);
          ck_assert_msg (shortcut_does (bound, listed), "\"%s\" lists %s, which the window binds to %s",
                         listed->title, each[k],
                         gtk_shortcut_action_to_string (gtk_shortcut_get_action (bound)));
          checked++;
        }

      /* Each key bound to it is listed. */
      for (guint i = 0; i < bindings->len; i++)
        {
          GtkKeyvalTrigger *trigger = GTK_KEYVAL_TRIGGER (gtk_shortcut_get_trigger (bindings->pdata[i]));
          g_autofree char *name = NULL;
          gboolean listed_key = FALSE;

          if (!shortcut_does (bindings->pdata[i], listed))
            continue;
          name = gtk_accelerator_name (gtk_keyval_trigger_get_keyval (trigger),
                                       gtk_keyval_trigger_get_modifiers (trigger));
          for (guint k = 0; each[k] != NULL; k++)
            {
              guint keyval;
              GdkModifierType mods;

              if (gtk_accelerator_parse (each[k], &keyval, &mods)
                  && keyval == gtk_keyval_trigger_get_keyval (trigger)
                  && mods == gtk_keyval_trigger_get_modifiers (trigger))
                listed_key = TRUE;
            }
          ck_assert_msg (listed_key, "the window binds %s to \"%s\", the shortcuts window does not say so",
                         name, listed->title);
        }
    }
  ck_assert_uint_ge (checked, G_N_ELEMENTS (listed_actions));

  g_slist_free (objects);
  till_free (till);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-keyboard");
  TCase *tc = tcase_create ("keyboard");

  tcase_set_timeout (tc, 300);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_keyboard_pin_dialog_closes_on_enter);
  add_test (tc, test_app_keyboard_welcome_pin_rule_shown_and_enter_starts);
  add_test (tc, test_app_keyboard_adjust_form_enter_tab_space);
  add_test (tc, test_app_keyboard_package_tiles_arrows_and_space);
  add_test (tc, test_app_keyboard_import_pin_enter_moves_on);
  add_test (tc, test_app_keyboard_escape_on_welcome_quits_cleanly);
  add_test (tc, test_app_keyboard_shortcuts_window_tells_the_truth);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
