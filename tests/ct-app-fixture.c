/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-app-fixture"

#include "config.h"

#include <check.h>
#include <glib/gstdio.h>

#include "ct-app-fixture.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-pin-dialog.h"
#include "ct-receipt-page.h"
#include "ct-scan-page.h"
#include "ct-screenshot.h"

#include <gdk/x11/gdkx.h>
#include <X11/extensions/XTest.h>

CtTestService *service;


gboolean
wait_until (gboolean (*predicate) (gpointer),
            gpointer   data,
            guint      timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!predicate (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }

  return TRUE;
}

/* The widget has been given its size on a shown window: a screen just
 * switched to may still be in its transition on a loaded machine. */
static gboolean
laid_out (gpointer data)
{
  GtkWidget *widget = data;

  return gtk_widget_get_mapped (widget) &&
         gtk_widget_get_width (widget) > 0 && gtk_widget_get_height (widget) > 0;
}

void
save_png (Till       *till,
          GtkWidget  *widget,
          const char *name)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *dir = g_build_filename (builddir ? builddir : ".", "screenshots", NULL);
  g_autofree char *file = g_strdup_printf ("app-%s.png", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;

  GtkWidget *target = widget ? widget : GTK_WIDGET (till->window);

  g_mkdir_with_parents (dir, 0755);
  ck_assert_msg (wait_until (laid_out, target, 20000), "%s is not on the screen for %s",
                 G_OBJECT_TYPE_NAME (target), name);
  ct_screenshot_settle (350);
  ck_assert_msg (ct_screenshot_save_png (target, path, &error),
                 "%s", error ? error->message : "");
  ck_assert (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* No screen is cross-fading: neither the stacks that hold the page on
 * show nor the window's first stack. */
static gboolean
no_transition (gpointer data)
{
  CtWindow *window = data;
  GtkWidget *first = find_widget (GTK_WIDGET (window), GTK_TYPE_STACK, NULL);
  GtkWidget *w = ct_window_get_page_widget (window, ct_window_get_page (window));

  if (first == NULL || gtk_stack_get_transition_running (GTK_STACK (first)))
    return FALSE;
  for (; w != NULL; w = gtk_widget_get_parent (w))
    if (GTK_IS_STACK (w) && gtk_stack_get_transition_running (GTK_STACK (w)))
      return FALSE;
  return TRUE;
}

void
save_png_settled (Till       *till,
                  const char *name)
{
  ck_assert (wait_until (no_transition, till->window, 10000));
  save_png (till, NULL, name);
}

void
till_show_at (Till *till,
              int   width,
              int   height)
{
  gtk_window_destroy (GTK_WINDOW (till->window));
  till->window = ct_window_new (NULL, till->session);
  gtk_window_set_default_size (GTK_WINDOW (till->window), width, height);
  gtk_window_present (GTK_WINDOW (till->window));
  ct_screenshot_settle (200);
}

Till *
till_new_small (void)
{
  Till *till = till_new ();

  till_show_at (till, 1024, 600);
  return till;
}

void
async_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

gboolean
result_arrived (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

GAsyncResult *
wait_result (GAsyncResult **slot)
{
  ck_assert_msg (wait_until (result_arrived, slot, 60000), "no answer in time");
  return *slot;
}

/* Starting fetches the merchant's settings, but a slow answer leaves the
 * till without them (it carries on offline-style): the tests need them,
 * so ask until they are there. */
static void
wait_for_merchant (CtClient *client)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (TRUE)
    {
      g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (client);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(CtMerchant) fetched = NULL;
      g_autoptr(GError) error = NULL;

      if (merchant != NULL)
        return;
      ck_assert_msg (g_get_monotonic_time () < deadline, "the merchant's settings never arrived");
      ct_client_merchant_async (client, NULL, async_done_cb, &result);
      fetched = ct_client_merchant_finish (client, wait_result (&result), &error);
      if (fetched == NULL)
        g_message ("merchant settings not fetched yet: %s", error->message);
    }
}

Till *
till_new_for (CtTestService *svc,
              guint          queue_wait_ms)
{
  return till_new_via (svc, NULL, queue_wait_ms);
}

Till *
till_new_via (CtTestService *svc,
              const char    *url,
              guint          queue_wait_ms)
{
  Till *till = g_new0 (Till, 1);
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *pin = NULL;

  till->data_dir = g_dir_make_tmp ("cardtill-app-XXXXXX", &error);
  ck_assert_msg (till->data_dir != NULL, "%s", error ? error->message : "");

  config->service_url = g_strdup (url != NULL ? url : ct_test_service_get_url (svc));
  config->token = g_strdup (ct_test_service_get_token (svc));
  config->ca_file = g_strdup (ct_test_service_get_ca_file (svc));
  config->data_dir = g_strdup (till->data_dir);
  config->operator_name = g_strdup ("alice");
  /* Generous: a loaded machine (sanitizers, parallel builds) answers
   * slowly, and a timeout would look like the service being away. */
  config->connect_timeout_ms = 5000;
  config->request_timeout_ms = 20000;
  config->queue_wait_ms = queue_wait_ms;

  till->client = ct_client_new (config, &error);
  ck_assert_msg (till->client != NULL, "%s", error ? error->message : "");

  ct_client_start_async (till->client, NULL, NULL, async_done_cb, &result);
  ck_assert_msg (ct_client_start_finish (till->client, wait_result (&result), &pin, &error),
                 "%s", error ? error->message : "");
  wait_for_merchant (till->client);

  till->settings = g_settings_new (APP_ID);
  g_settings_set_string (till->settings, "manager-id", "");
  g_settings_set_string (till->settings, "till-name", "Till 1");
  till->session = ct_session_new (till->client, till->settings);
  till->window = ct_window_new (NULL, till->session);
  gtk_window_present (GTK_WINDOW (till->window));
  ct_screenshot_settle (200);

  return till;
}

Till *
till_new (void)
{
  return till_new_for (service, 3000);
}

Till *
till_new_behind_proxy (const CtFaultWeights *weights)
{
  g_autoptr(GError) error = NULL;
  CtTestService *own = ct_test_service_start (FALSE, &error);
  CtFaultProxy *proxy;
  Till *till;

  ck_assert_msg (own != NULL, "%s", error ? error->message : "");
  proxy = ct_fault_proxy_new (ct_test_service_get_url (own), 1, &error);
  ck_assert_msg (proxy != NULL, "%s", error ? error->message : "");
  ct_fault_proxy_set_weights (proxy, weights);
  till = till_new_via (own, ct_fault_proxy_get_url (proxy), 3000);
  till->own_service = own;
  till->proxy = proxy;
  return till;
}

void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

void
till_free (Till *till)
{
  gtk_window_destroy (GTK_WINDOW (till->window));
  ct_screenshot_settle (50);
  ct_client_shutdown (till->client);
  g_clear_object (&till->session);
  g_clear_object (&till->client);
  g_clear_object (&till->settings);
  remove_tree (till->data_dir);
  g_free (till->data_dir);
  g_clear_pointer (&till->proxy, ct_fault_proxy_free);
  g_clear_pointer (&till->own_service, ct_test_service_free);
  g_free (till);
}

/* Makes a member through the client core (as a manager would) with
 * @topup_package applied, and returns the card number. */
char *
issue_card (Till       *till,
            const char *name,
            const char *phone,
            const char *topup_package)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;

  ct_client_card_issue_async (till->client, name, phone, "Gold", NULL,
                              CT_TEST_SERVICE_MANAGER_ID, CT_TEST_SERVICE_MANAGER_PIN,
                              NULL, async_done_cb, &result);
  card = ct_client_card_issue_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (card != NULL, "%s", error ? error->message : "");

  if (topup_package != NULL)
    {
      g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (till->client);
      g_autoptr(GAsyncResult) topup = NULL;
      g_autoptr(CtReceipt) receipt = NULL;

      ck_assert (merchant != NULL);
      ct_client_topup_package_async (till->client, card->card_no,
                                     ct_merchant_find_package (merchant, topup_package),
                                     NULL, async_done_cb, &topup);
      receipt = ct_client_topup_finish (till->client, wait_result (&topup), &error);
      ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");
    }

  return g_strdup (card->card_no);
}

void
pay_directly (Till       *till,
              const char *card_no,
              int64_t     amount)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = NULL;

  ct_client_pay_async (till->client, card_no, amount, NULL, NULL, async_done_cb, &result);
  receipt = ct_client_pay_finish (till->client, wait_result (&result), &error);
  ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");
}

char *
unique_phone (void)
{
  static guint counter;

  return g_strdup_printf ("139%04u%04u", (guint) (g_get_real_time () / 1000 % 10000), ++counter);
}

gboolean
card_fresh (gpointer data)
{
  Till *till = data;
  const CtCard *card = ct_session_get_card (till->session);

  return card != NULL && !card->from_cache && !ct_session_get_refreshing (till->session);
}

gboolean
on_receipt (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), "receipt") == 0;
}

gboolean
scan_problem_shown (gpointer data)
{
  return ct_scan_page_get_problem (CT_SCAN_PAGE (data)) != NULL;
}

CtCardView *
scan_card_view (Till *till)
{
  return ct_scan_page_get_card_view (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
}

char *
receipt_text (Till *till)
{
  return ct_receipt_page_get_text (CT_RECEIPT_PAGE (ct_window_get_page_widget (till->window, "receipt")));
}

void
scan_and_wait (Till       *till,
               const char *card_no)
{
  ct_window_handle_scan (till->window, card_no);
  ck_assert_msg (wait_until (card_fresh, till, 15000), "the card did not load");
}

gboolean
pin_dialog_up (gpointer data)
{
  return ct_pin_dialog_find () != NULL;
}

gboolean
pin_dialog_with_problem (gpointer data)
{
  CtPinDialog *dialog = ct_pin_dialog_find ();

  return dialog != NULL && ct_pin_dialog_get_problem (dialog) != NULL;
}

void
answer_pin (const char *manager,
            const char *pin)
{
  CtPinDialog *dialog;

  ck_assert_msg (wait_until (pin_dialog_up, NULL, 10000), "no PIN dialog");
  dialog = ct_pin_dialog_find ();
  ct_pin_dialog_fill (dialog, manager, pin);
  ck_assert (ct_dialog_choose (ADW_MESSAGE_DIALOG (dialog), "authorize"));
}

void
fill_named (GtkWidget  *root,
            const char *name,
            const char *text)
{
  for (GtkWidget *w = gtk_widget_get_first_child (root); w != NULL; w = gtk_widget_get_next_sibling (w))
    {
      if (g_strcmp0 (gtk_widget_get_name (w), name) == 0 && GTK_IS_EDITABLE (w))
        {
          gtk_editable_set_text (GTK_EDITABLE (w), text);
          return;
        }
      fill_named (w, name, text);
    }
}

static gboolean
dialog_up (gpointer data)
{
  return ct_find_dialog (data) != NULL;
}

AdwMessageDialog *
wait_dialog (const char *name)
{
  ck_assert_msg (wait_until (dialog_up, (gpointer) name, 15000), "no %s on screen", name);
  return ct_find_dialog (name);
}

gboolean
problem_dialog_up (gpointer data)
{
  return ct_find_dialog ("ct-problem-dialog") != NULL;
}

gboolean
members_idle (gpointer data)
{
  return !ct_members_page_is_loading (CT_MEMBERS_PAGE (data));
}


void
service_setup (void)
{
  g_autoptr(GError) error = NULL;

  service = ct_test_service_start (TRUE, &error);
  ck_assert_msg (service != NULL, "%s", error ? error->message : "");
}

void
service_teardown (void)
{
  g_clear_pointer (&service, ct_test_service_free);
}


static Display *
x_display (void)
{
  GdkDisplay *display = gdk_display_get_default ();

  ck_assert_msg (GDK_IS_X11_DISPLAY (display), "real key events need X11 (Xvfb)");
  return gdk_x11_display_get_xdisplay (display);
}

/* Gives @window the X keyboard focus (there is no window manager under
 * Xvfb) and waits until GTK knows. */
static gboolean
window_active (gpointer data)
{
  return gtk_window_is_active (GTK_WINDOW (data));
}

void
keys_focus (GtkWindow *window)
{
  Display *dpy = x_display ();

  ck_assert (wait_until ((gboolean (*) (gpointer)) gtk_widget_get_mapped, window, 10000));
  XSetInputFocus (dpy, gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (window))),
                  RevertToParent, CurrentTime);
  XFlush (dpy);
  ck_assert_msg (wait_until (window_active, window, 10000), "the window did not get the keyboard");
}

void
keys_type (const char *text,
           guint       gap_ms)
{
  Display *dpy = x_display ();

  for (const char *p = text; *p != '\0'; p++)
    {
      char name[2] = { *p, '\0' };
      KeyCode code = XKeysymToKeycode (dpy, *p == '.' ? XK_period : *p == '+' ? XK_plus
                                            : *p == '-' ? XK_minus : *p == ' ' ? XK_space
                                            : XStringToKeysym (name));
      gboolean shift = g_ascii_isupper (*p) || *p == '+';
      KeyCode shift_code = XKeysymToKeycode (dpy, XK_Shift_L);

      if (shift)
        XTestFakeKeyEvent (dpy, shift_code, True, CurrentTime);
      XTestFakeKeyEvent (dpy, code, True, CurrentTime);
      XTestFakeKeyEvent (dpy, code, False, CurrentTime);
      if (shift)
        XTestFakeKeyEvent (dpy, shift_code, False, CurrentTime);
      if (gap_ms > 0)
        {
          XFlush (dpy);
          ct_screenshot_settle (gap_ms);
        }
    }
  XFlush (dpy);
}

void
keys_press (guint keysym)
{
  Display *dpy = x_display ();
  KeyCode code = XKeysymToKeycode (dpy, keysym);

  XTestFakeKeyEvent (dpy, code, True, CurrentTime);
  XTestFakeKeyEvent (dpy, code, False, CurrentTime);
  XFlush (dpy);
}

void
keys_chord (guint modifier,
            guint keysym)
{
  Display *dpy = x_display ();
  KeyCode mod = XKeysymToKeycode (dpy, modifier);
  KeyCode code = XKeysymToKeycode (dpy, keysym);

  XTestFakeKeyEvent (dpy, mod, True, CurrentTime);
  XTestFakeKeyEvent (dpy, code, True, CurrentTime);
  XTestFakeKeyEvent (dpy, code, False, CurrentTime);
  XTestFakeKeyEvent (dpy, mod, False, CurrentTime);
  XFlush (dpy);
}

/* The first widget under @root of @type (0: any) and @name (NULL: any). */
GtkWidget *
find_widget (GtkWidget  *root,
             GType       type,
             const char *name)
{
  for (GtkWidget *w = gtk_widget_get_first_child (root); w != NULL; w = gtk_widget_get_next_sibling (w))
    {
      GtkWidget *found;

      if ((type == 0 || G_TYPE_CHECK_INSTANCE_TYPE (w, type)) &&
          (name == NULL || g_strcmp0 (gtk_widget_get_name (w), name) == 0))
        return w;
      if ((found = find_widget (w, type, name)) != NULL)
        return found;
    }
  return NULL;
}

/* Whether @match says yes to a widget under @root (not @root itself),
 * looked for depth first. */
gboolean
any_widget (GtkWidget  *root,
            gboolean  (*match) (GtkWidget *widget, const char *text),
            const char *text)
{
  for (GtkWidget *w = gtk_widget_get_first_child (root); w != NULL; w = gtk_widget_get_next_sibling (w))
    if (match (w, text) || any_widget (w, match, text))
      return TRUE;
  return FALSE;
}

/* Whether @widget is a row whose subtitle contains @text. */
static gboolean
row_subtitle_has (GtkWidget  *widget,
                  const char *text)
{
  const char *subtitle;

  if (!ADW_IS_ACTION_ROW (widget))
    return FALSE;
  subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (widget));
  return subtitle != NULL && strstr (subtitle, text) != NULL;
}

/* Whether a row under @root has @text in its subtitle. */
gboolean
row_subtitle_contains (GtkWidget  *root,
                       const char *text)
{
  return any_widget (root, row_subtitle_has, text);
}

/* The windows of @type that exist (shown or not, not yet destroyed). */
guint
count_windows (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint count = 0;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type))
        count++;
    }
  return count;
}

/* CT_TEST_ONLY=name[,name…] runs only the tests whose names hold one of
 * the words, for work on one screen. */
gboolean
test_selected (const char *name)
{
  const char *only = g_getenv ("CT_TEST_ONLY");
  g_auto(GStrv) words = NULL;

  if (only == NULL || *only == '\0')
    return TRUE;
  words = g_strsplit (only, ",", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0' && strstr (name, words[i]) != NULL)
      return TRUE;
  return FALSE;
}


gboolean
scan_page_shown (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), "scan") == 0;
}

/* The button with @action_name under @root. */
GtkWidget *
find_action_button (GtkWidget  *root,
                    const char *action_name)
{
  for (GtkWidget *w = gtk_widget_get_first_child (root); w != NULL; w = gtk_widget_get_next_sibling (w))
    {
      GtkWidget *found;

      if (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (w)), action_name) == 0)
        return w;
      if ((found = find_action_button (w, action_name)) != NULL)
        return found;
    }
  return NULL;
}

/* Runs @suite (taken) in this process, since the window cannot cross a
 * fork, with messages and amounts in English for the assertions; returns
 * the exit status of main(). */
int
run_app_suite (Suite *suite)
{
  SRunner *runner;
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  gtk_init ();
  adw_init ();

  runner = srunner_create (suite);
  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_VERBOSE);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);

  return failed == 0 ? 0 : 1;
}

static void
actions_in_view (GtkWidget  *page,
                 GtkWidget  *root,
                 const char *action_name,
                 guint      *found)
{
  if (GTK_IS_ACTIONABLE (root) && gtk_widget_get_mapped (root)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action_name) == 0)
    {
      graphene_rect_t bounds;

      ck_assert (gtk_widget_compute_bounds (root, page, &bounds));
      ck_assert_msg (bounds.origin.y >= 0 && bounds.origin.y + bounds.size.height <= gtk_widget_get_height (page),
                     "a %s key spans %g to %g px of a page %d px tall: the cashier must scroll to it",
                     action_name, bounds.origin.y, bounds.origin.y + bounds.size.height,
                     gtk_widget_get_height (page));
      (*found)++;
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    actions_in_view (page, child, action_name, found);
}

/* Asserts that each of the @expected buttons of @action_name on @page
 * stands whole inside the page as it is on screen: not below the fold of
 * a scrolled window, where a cashier would have to scroll to reach it. */
void
assert_actions_in_view (GtkWidget  *page,
                        const char *action_name,
                        guint       expected)
{
  guint found = 0;

  ct_screenshot_settle (100);
  actions_in_view (page, page, action_name, &found);
  ck_assert_msg (found == expected, "%u %s keys on screen, not %u", found, action_name, expected);
}
