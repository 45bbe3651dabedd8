/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-application"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-application.h"
#include "ct-demo-data.h"
#include "ct-format.h"
#include "ct-session.h"
#include "ct-usb-scanner.h"
#include "ct-walkthrough.h"
#include "ct-welcome-dialog.h"
#include "ct-window.h"

/* The application: reads the settings, connects the till to its card
 * service (the built-in one by default), opens the USB scanner, and in
 * demo mode fills the built-in service with example members. */

/* The first manager PIN of a demo till; the demo says it on screen. */
#define DEMO_MANAGER_PIN "246813"

struct _CtApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  CtClient       *client;
  CtSession      *session;
  CtUsbScanner   *scanner;
  char           *walkthrough_dir;
  gboolean        demo;
  gboolean        pin_chosen;      /* the first manager's PIN was typed here */
  gboolean        exit_after_first_frame;
  gint64          started_at;
};

G_DEFINE_FINAL_TYPE (CtApplication, ct_application, ADW_TYPE_APPLICATION)

static CtWindow *
main_window (CtApplication *self)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  for (GList *l = windows; l != NULL; l = l->next)
    if (CT_IS_WINDOW (l->data))
      return CT_WINDOW (l->data);

  return NULL;
}

/**
 * ct_application_config_from_settings:
 *
 * Returns: how to reach the card service: the settings first, then
 *   CARDTILL_* variables and till.ini for what the settings leave empty;
 *   no service at all means the built-in one.
 */
CtClientConfig *
ct_application_config_from_settings (GSettings  *settings,
                                     GError    **error)
{
  g_autoptr(CtClientConfig) config = ct_client_config_new ();

  if (!g_settings_get_boolean (settings, "use-builtin"))
    {
      g_autofree char *url = g_settings_get_string (settings, "service-url");
      g_autofree char *token = g_settings_get_string (settings, "till-token");
      g_autofree char *ca = g_settings_get_string (settings, "ca-file");
      g_autofree char *pin = g_settings_get_string (settings, "pin-pubkey");

      config->service_url = *url ? g_steal_pointer (&url) : NULL;
      config->token = *token ? g_steal_pointer (&token) : NULL;
      config->ca_file = *ca ? g_steal_pointer (&ca) : NULL;
      config->pin_pubkey = *pin ? g_steal_pointer (&pin) : NULL;
    }

  {
    g_autofree char *data_dir = g_settings_get_string (settings, "data-dir");
    g_autofree char *operator_name = g_settings_get_string (settings, "operator");

    config->data_dir = *data_dir ? g_steal_pointer (&data_dir) : NULL;
    config->operator_name = *operator_name ? g_steal_pointer (&operator_name) : NULL;
  }

  if (!ct_client_config_fill_defaults (config, error))
    return NULL;

  return g_steal_pointer (&config);
}

static void
apply_style (CtApplication *self)
{
  g_autofree char *style = g_settings_get_string (self->settings, "style");
  AdwStyleManager *manager = adw_style_manager_get_default ();

  if (g_strcmp0 (style, "light") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
  else if (g_strcmp0 (style, "dark") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_DARK);
  else
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_DEFAULT);
}

static void
scanner_scanned_cb (CtApplication *self,
                    CtScan        *scan)
{
  CtWindow *window = main_window (self);

  if (window != NULL && scan != NULL && scan->text != NULL)
    ct_window_handle_scan (window, scan->text);
}

static void
scanner_problem_cb (CtApplication *self,
                    const char    *message)
{
  g_message ("Scanner: %s", message);
}

static void
start_scanner (CtApplication *self)
{
  g_autofree char *device = g_settings_get_string (self->settings, "scanner-device");
  g_autoptr(GError) error = NULL;
  guint16 vendor_id = 0;
  guint16 product_id = 0;

  if (self->scanner != NULL)
    {
      ct_usb_scanner_stop (self->scanner);
      g_clear_object (&self->scanner);
    }

  if (!g_settings_get_boolean (self->settings, "use-usb-scanner"))
    return;

  if (*device != '\0' && !ct_usb_parse_vid_pid (device, &vendor_id, &product_id))
    g_message ("Ignoring the scanner setting “%s”: not VID:PID", device);

  self->scanner = ct_usb_scanner_new (vendor_id, product_id);
  g_signal_connect_object (self->scanner, "scanned", G_CALLBACK (scanner_scanned_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scanner, "problem", G_CALLBACK (scanner_problem_cb), self, G_CONNECT_SWAPPED);

  if (!ct_usb_scanner_start (self->scanner, &error))
    {
      /* No usbfs or no permission: keyboard scanners and typing still
       * work. Said once, in the log. */
      g_message ("No USB scanner: %s", error->message);
      g_clear_object (&self->scanner);
    }
}

static void
settings_changed_cb (CtApplication *self,
                     const char    *key)
{
  if (g_strcmp0 (key, "style") == 0)
    apply_style (self);
  else if (g_strcmp0 (key, "scanner-device") == 0 || g_strcmp0 (key, "use-usb-scanner") == 0)
    start_scanner (self);
  else if (g_strcmp0 (key, "operator") == 0 && self->client != NULL)
    {
      g_autofree char *operator_name = g_settings_get_string (self->settings, key);

      CtWindow *window = main_window (self);

      /* The next transaction records the new cashier, unless cashiers
       * sign in: then the operator is whoever did. */
      if (*operator_name != '\0'
          && (window == NULL || ct_session_get_cashier (ct_window_get_session (window)) == NULL))
        ct_client_set_operator (self->client, operator_name);
    }
}

static void
walkthrough_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  CtApplication *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ct_walkthrough_run_finish (result, &error))
    {
      g_printerr ("cardtill: walk-through failed: %s\n", error->message);
      /* A failed walk-through is a failed demo run. */
      g_object_set_data (G_OBJECT (self), "ct-exit-status", GINT_TO_POINTER (1));
    }

  g_application_release (G_APPLICATION (self));
  g_application_quit (G_APPLICATION (self));
}

static void
after_demo_data (CtApplication *self)
{
  CtWindow *window = main_window (self);

  if (self->walkthrough_dir != NULL && window != NULL)
    ct_walkthrough_run_async (window, self->walkthrough_dir, DEMO_MANAGER_PIN,
                              NULL, walkthrough_done_cb, self);
  else if (window != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Demo till: the cashier is “%s”, PIN %s; the manager is "
                                                 "“manager”, PIN %s."),
                                               CT_DEMO_CASHIER_ID, CT_DEMO_CASHIER_PIN, DEMO_MANAGER_PIN);

      ct_window_toast (window, text);
    }
}

static void
demo_data_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  CtApplication *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ct_demo_data_create_finish (result, &error))
    g_printerr ("cardtill: demo data: %s\n", error->message);

  after_demo_data (self);
  g_application_release (G_APPLICATION (self));
}

static void
start_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  CtApplication *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *generated_pin = NULL;
  CtWindow *window = main_window (self);

  if (!ct_client_start_finish (CT_CLIENT (object), result, &generated_pin, &error))
    {
      /* Offline starts are fine (the stored merchant is used); anything
       * else the user must know about. */
      g_autofree char *text = ct_format_error (error);

      g_warning ("Starting the client: %s", error->message);
      if (window != NULL)
        ct_window_toast (window, text);
    }

  if (generated_pin != NULL && window != NULL && !self->demo && !self->pin_chosen)
    {
      g_autofree char *body = g_strdup_printf (_("The first manager is “manager” with PIN %s. "
                                                 "Write it down now: it is not shown again."),
                                               generated_pin);
      GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (window), _("Manager PIN"), body);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Done"));
      gtk_window_present (GTK_WINDOW (dialog));
    }

  if (self->demo)
    {
      ct_demo_data_create_async (self->session, "manager", DEMO_MANAGER_PIN, NULL,
                                 demo_data_cb, self);
      return;
    }

  g_application_release (G_APPLICATION (self));
}

static void
welcome_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     CtApplication    *self)
{
  if (g_strcmp0 (response, "start") == 0)
    {
      self->pin_chosen = TRUE;
      ct_client_start_async (self->client, ct_welcome_dialog_get_pin (dialog), NULL, start_cb, self);
      return;
    }

  /* Escape or Quit: nothing was set up; the next start asks again. */
  g_application_release (G_APPLICATION (self));
  g_application_quit (G_APPLICATION (self));
}

static void
ask_first_pin (CtApplication *self,
               CtWindow      *window)
{
  GtkWidget *dialog = ct_welcome_dialog_new (GTK_WINDOW (window));

  /* The first run of the built-in service makes the first manager; the
   * person setting the till up chooses the PIN. */
  g_signal_connect (dialog, "response", G_CALLBACK (welcome_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
show_fatal (CtApplication *self,
            const char    *text)
{
  GtkWidget *dialog = adw_message_dialog_new (NULL, _("cardtill Cannot Start"), text);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_application_add_window (GTK_APPLICATION (self), GTK_WINDOW (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
first_frame_cb (GdkFrameClock *clock,
                CtApplication *self)
{
  /* For the cold-start benchmark: the window has drawn once. */
  g_signal_handlers_disconnect_by_func (clock, first_frame_cb, self);
  g_print ("first frame after %.1f ms\n",
           (g_get_monotonic_time () - self->started_at) / 1000.0);
  g_application_quit (G_APPLICATION (self));
}

static void
window_realized_cb (GtkWidget     *window,
                    CtApplication *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);

  g_signal_connect (clock, "after-paint", G_CALLBACK (first_frame_cb), self);
}

static void
ct_application_activate (GApplication *app)
{
  CtApplication *self = CT_APPLICATION (app);
  CtWindow *window = main_window (self);
  g_autoptr(CtClientConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  if (window != NULL)
    {
      gtk_window_present (GTK_WINDOW (window));
      return;
    }

  config = ct_application_config_from_settings (self->settings, &error);
  if (config != NULL)
    self->client = ct_client_new (config, &error);

  if (self->client == NULL)
    {
      g_autofree char *text = ct_format_error (error);

      g_printerr ("cardtill: %s\n", error->message);
      show_fatal (self, text);
      return;
    }

  self->session = ct_session_new (self->client, self->settings);
  window = ct_window_new (ADW_APPLICATION (self), self->session);
  if (self->exit_after_first_frame)
    {
      g_signal_connect (window, "realize", G_CALLBACK (window_realized_cb), self);
      gtk_window_present (GTK_WINDOW (window));
      return;
    }
  gtk_window_present (GTK_WINDOW (window));

  start_scanner (self);

  /* Keep running until the client has started (and the demo data and
   * walk-through are done), even without a window. */
  g_application_hold (app);

  if (self->walkthrough_dir != NULL)
    g_application_hold (app);

  if (ct_client_needs_first_run (self->client) && !self->demo)
    ask_first_pin (self, window);
  else
    ct_client_start_async (self->client, self->demo ? DEMO_MANAGER_PIN : NULL, NULL, start_cb, self);
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  const char *developers[] = { "cardtill contributors", NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("cardtill"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "comments", _("Cashier client for stored-value membership cards"),
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
ct_application_startup (GApplication *app)
{
  CtApplication *self = CT_APPLICATION (app);
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (ct_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);

  self->settings = g_settings_new (APP_ID);
  g_signal_connect_object (self->settings, "changed", G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
  apply_style (self);
}

static void
ct_application_shutdown (GApplication *app)
{
  CtApplication *self = CT_APPLICATION (app);
  GList *windows;

  /* The windows go first: the cashier sees the till quit at once, while
   * the background sync finishes its request and the built-in service
   * stops. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    gtk_window_destroy (GTK_WINDOW (windows->data));
  gdk_display_flush (gdk_display_get_default ());

  if (self->scanner != NULL)
    ct_usb_scanner_stop (self->scanner);
  g_clear_object (&self->scanner);
  if (self->client != NULL)
    ct_client_shutdown (self->client);

  G_APPLICATION_CLASS (ct_application_parent_class)->shutdown (app);
}

static int
ct_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  CtApplication *self = CT_APPLICATION (app);
  const char *dir = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("cardtill %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_contains (options, "demo"))
    self->demo = TRUE;

  if (g_variant_dict_contains (options, "exit-after-first-frame"))
    {
      self->exit_after_first_frame = TRUE;
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }

  if (g_variant_dict_lookup (options, "demo-walkthrough", "^&ay", &dir))
    {
      self->demo = TRUE;
      self->walkthrough_dir = g_strdup (dir);
      if (g_mkdir_with_parents (dir, 0755) != 0)
        {
          g_printerr ("cardtill: cannot create %s\n", dir);
          return 4;
        }
    }

  /* A demo or walk-through run is its own instance, never a remote
   * call into a running till. */
  if (self->demo)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);

  return -1;
}

static void
ct_application_finalize (GObject *object)
{
  CtApplication *self = CT_APPLICATION (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->session);
  g_clear_object (&self->client);
  g_free (self->walkthrough_dir);

  G_OBJECT_CLASS (ct_application_parent_class)->finalize (object);
}

static void
ct_application_class_init (CtApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ct_application_finalize;
  app_class->activate = ct_application_activate;
  app_class->startup = ct_application_startup;
  app_class->shutdown = ct_application_shutdown;
  app_class->handle_local_options = ct_application_handle_local_options;
}

static void
ct_application_init (CtApplication *self)
{
  self->started_at = g_get_monotonic_time ();

  static const GOptionEntry options[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { "demo", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Run on the built-in service with demo members"), NULL },
    { "demo-walkthrough", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Demo: walk through every screen, write one PNG per screen into DIR, then exit"), N_("DIR") },
    { "exit-after-first-frame", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL,
      N_("Benchmark: print the time to the first frame and exit"), NULL },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

CtApplication *
ct_application_new (void)
{
  return g_object_new (CT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

/**
 * ct_application_get_exit_status:
 *
 * Returns: 1 when a walk-through failed, else 0.
 */
int
ct_application_get_exit_status (CtApplication *self)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (self), "ct-exit-status"));
}

/* A till's screens are flat widgets that the cairo renderer draws well
 * without a GPU. Creating a GL context loads the whole Mesa driver (with
 * LLVM: about 45 MB resident) just to probe it, so unless the user asks for
 * GL with CARDTILL_GL=1 the window renders with cairo and GL stays off. An
 * explicit GSK_RENDERER or GDK_DEBUG from the user is left alone. */

/**
 * ct_application_prefer_software_rendering:
 *
 * Chooses cairo rendering without GL for this process (see above). Call it
 * before GTK is initialised.
 */
void
ct_application_prefer_software_rendering (void)
{
  if (g_strcmp0 (g_getenv ("CARDTILL_GL"), "1") == 0)
    return;
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
}
