/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-window"

#include "config.h"

#include <glib/gi18n.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include "ct-app-resources.h"
#include "ct-members-page.h"
#include "ct-pay-page.h"
#include "ct-receipt-page.h"
#include "ct-reports-page.h"
#include "ct-scan-page.h"
#include "ct-settings-page.h"
#include "ct-shift-page.h"
#include "ct-sign-in-page.h"
#include "ct-sync-page.h"
#include "ct-topup-page.h"
#include "ct-wedge-capture.h"
#include "ct-window.h"
#include "ct-import-page.h"

/* The main window: a sidebar of screens, the header with the cashier,
 * store, till and connection state, and the keyboard-wedge rule that
 * tells a scanner's burst of keys from a person typing, wherever the
 * focus is. When the merchant has cashiers, the sign-in screen covers
 * the till until someone signs in, and again on F12, Ctrl+L or after the idle
 * minutes of the settings; the screens below keep what they held. */

#define IDLE_CHECK_SECONDS 1
/* How long the till rests on the Scan screen before the heap a customer's
 * screens freed goes back to the system. */
#define TRIM_AFTER_SECONDS 2

struct _CtWindow
{
  AdwApplicationWindow  parent_instance;

  CtSession            *session;
  CtWedgeCapture       *wedge;
  GtkWidget            *sign_in_page;
  GtkWidget            *till_focus;     /* weak: the focus when the till locked */
  gint64                last_activity;  /* monotonic µs of the last key or click */
  gint64                page_shown_at;  /* monotonic µs of the last change of screen */
  gboolean              heap_trimmed;   /* since that change */
  guint                 idle_source;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkLabel             *store_label;
  GtkButton            *cashier_button;
  GtkLabel             *cashier_label;
  GtkStack             *lock_stack;
  GtkButton            *connection_button;
  GtkImage             *connection_icon;
  GtkLabel             *connection_label;
  GtkListBox           *nav_list;
  GtkStack             *stack;
};

G_DEFINE_FINAL_TYPE (CtWindow, ct_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
select_nav_row (CtWindow   *self,
                const char *name)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->nav_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      if (GTK_IS_LIST_BOX_ROW (row) &&
          g_strcmp0 (gtk_widget_get_name (row), name) == 0)
        {
          gtk_list_box_select_row (self->nav_list, GTK_LIST_BOX_ROW (row));
          return;
        }
    }

  /* The receipt has no row of its own. */
  gtk_list_box_unselect_all (self->nav_list);
}

static GtkWidget *
make_scan_page (CtWindow *self)
{
  return ct_scan_page_new (self->session);
}

static GtkWidget *
make_topup_page (CtWindow *self)
{
  return ct_topup_page_new (self->session);
}

static GtkWidget *
make_pay_page (CtWindow *self)
{
  return ct_pay_page_new (self->session);
}

static GtkWidget *
make_members_page (CtWindow *self)
{
  return ct_members_page_new (self->session);
}

static GtkWidget *
make_import_page (CtWindow *self)
{
  return ct_import_page_new (ct_session_get_client (self->session));
}

static GtkWidget *
make_sync_page (CtWindow *self)
{
  return ct_sync_page_new (self->session);
}

static GtkWidget *
make_shift_page (CtWindow *self)
{
  return ct_shift_page_new (self->session);
}

static GtkWidget *
make_reports_page (CtWindow *self)
{
  return ct_reports_page_new (self->session);
}

static GtkWidget *
make_settings_page (CtWindow *self)
{
  return ct_settings_page_new (self->session);
}

static GtkWidget *
make_receipt_page (CtWindow *self)
{
  return ct_receipt_page_new (self->session);
}

typedef GtkWidget *(*PageFactory) (CtWindow *self);

/* The screens, in sidebar order. Each is made the first time it is shown
 * (or asked for), so the window comes up with the scan screen alone. */
static const struct
{
  const char  *name;
  const char  *title;
  PageFactory  factory;
} screens[] = {
  { "scan", N_("Scan card"), make_scan_page },
  { "topup", N_("Top up"), make_topup_page },
  { "pay", N_("Pay"), make_pay_page },
  { "members", N_("Members"), make_members_page },
  { "import", N_("Import"), make_import_page },
  { "sync", N_("Sync"), make_sync_page },
  { "settings", N_("Settings"), make_settings_page },
  { "shift", N_("Shift"), make_shift_page },
  { "reports", N_("Reports"), make_reports_page },
  { "receipt", N_("Receipt"), make_receipt_page },
};

static GtkWidget *
ensure_page (CtWindow  *self,
             GtkWidget *child)
{
  GtkWidget *slot = g_object_get_data (G_OBJECT (child), "ct-slot");
  GtkWidget *page = gtk_widget_get_first_child (slot);
  PageFactory factory;

  if (page != NULL)
    return page;

  factory = g_object_get_data (G_OBJECT (slot), "ct-factory");
  page = factory (self);
  gtk_widget_set_hexpand (page, TRUE);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_widget_add_css_class (page, "counter-screen");
  gtk_box_append (GTK_BOX (slot), page);

  return page;
}

static void
stack_page_changed_cb (CtWindow *self)
{
  GtkWidget *child = gtk_stack_get_visible_child (self->stack);
  const char *name = gtk_stack_get_visible_child_name (self->stack);
  GtkStackPage *page;

  if (child == NULL)
    return;

  ensure_page (self, child);
  self->page_shown_at = g_get_monotonic_time ();
  self->heap_trimmed = FALSE;

  page = gtk_stack_get_page (self->stack, child);
  adw_window_title_set_title (self->window_title, gtk_stack_page_get_title (page));
  select_nav_row (self, name);
}

static void
nav_row_activated_cb (GtkListBox    *list,
                      GtkListBoxRow *row,
                      CtWindow      *self)
{
  ct_window_show_page (self, gtk_widget_get_name (GTK_WIDGET (row)));
}

static void
update_header (CtWindow *self)
{
  CtClient *client;
  g_autofree char *connection = NULL;
  g_autofree char *store = NULL;
  const char *icon;

  if (self->session == NULL)
    return;

  client = ct_session_get_client (self->session);
  connection = ct_connection_text (client);
  gtk_label_set_label (self->connection_label, connection);

  switch (ct_client_get_connection_state (client))
    {
    case CT_CONNECTION_ONLINE:
      icon = "network-transmit-receive-symbolic";
      gtk_widget_remove_css_class (GTK_WIDGET (self->connection_button), "warning");
      break;
    case CT_CONNECTION_OFFLINE:
      icon = "network-offline-symbolic";
      gtk_widget_add_css_class (GTK_WIDGET (self->connection_button), "warning");
      break;
    case CT_CONNECTION_UNKNOWN:
    default:
      icon = "network-idle-symbolic";
      break;
    }
  gtk_image_set_from_icon_name (self->connection_icon, icon);

  if (ct_client_get_attention_count (client) > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->connection_button), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->connection_button), "error");

  store = g_strdup_printf ("%s · %s", ct_session_get_store (self->session),
                           ct_session_get_till (self->session));
  gtk_label_set_label (self->store_label, store);
}

static void
receipt_changed_cb (CtWindow *self)
{
  if (ct_session_get_last_receipt (self->session) != NULL)
    ct_window_show_page (self, "receipt");
}

/**
 * ct_window_handle_scan:
 * @text: what a scanner read (USB, keyboard wedge or a photo)
 *
 * Looks the card up and shows it. On the top-up and pay screens the
 * cashier stays where they are; elsewhere the scan screen comes up.
 */
void
ct_window_handle_scan (CtWindow   *self,
                       const char *text)
{
  const char *page;

  g_return_if_fail (CT_IS_WINDOW (self));
  g_return_if_fail (text != NULL);

  /* Nobody takes a customer at a locked till. */
  if (ct_window_is_locked (self))
    return;
  page = ct_window_get_page (self);
  ct_session_scan (self->session, text, CT_SCAN_SOURCE_SCANNER);

  if (g_strcmp0 (page, "topup") != 0 && g_strcmp0 (page, "pay") != 0 &&
      g_strcmp0 (page, "settings") != 0)
    ct_window_show_page (self, "scan");
}

/**
 * ct_window_wedge_key:
 * @time_ms: the event's time stamp
 *
 * Feeds one key event to the keyboard-wedge capture, as the window's key
 * controller does.
 *
 * Returns: %TRUE when the event ended a scan and must not reach the
 *   focused widget.
 */
gboolean
ct_window_wedge_key (CtWindow        *self,
                     guint            keyval,
                     guint32          time_ms,
                     gboolean         is_key_down,
                     gboolean         is_repeat,
                     GdkModifierType  state)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), FALSE);

  if (self->wedge == NULL)
    return FALSE;
  return ct_wedge_capture_key (self->wedge, keyval, time_ms, is_key_down, is_repeat, state);
}

static void
wedge_scan_cb (const char *scan,
               gpointer    user_data)
{
  ct_window_handle_scan (CT_WINDOW (user_data), scan);
}

static void
page_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  ct_window_show_page (CT_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
toast_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  ct_window_toast (CT_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
card_history_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  CtWindow *self = CT_WINDOW (widget);
  const CtCard *card = ct_session_get_card (self->session);
  GtkWidget *members = ct_window_get_page_widget (self, "members");

  if (card == NULL || card->fetched_at == 0)
    return;

  ct_members_page_show_card (CT_MEMBERS_PAGE (members), card);
  ct_window_show_page (self, "members");
}

static void
adjust_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtWindow *self = CT_WINDOW (widget);
  const CtCard *card = ct_session_get_card (self->session);

  /* Ctrl+B from any screen: the card on the counter's Adjust Balance. */
  if (card == NULL || card->fetched_at == 0)
    return;
  card_history_action (widget, NULL, NULL);
  gtk_widget_activate_action (ct_window_get_page_widget (self, "members"), "members.adjust", NULL);
}

static void
last_receipt_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  CtWindow *self = CT_WINDOW (widget);
  CtTillPrinter *printer = ct_session_get_printer (self->session);
  const CtReceiptData *data = ct_session_get_last_receipt (self->session);

  if (data == NULL)
    {
      ct_window_toast (self, _("No receipt yet."));
      return;
    }
  ct_window_show_page (self, "receipt");
  /* With a receipt printer, F9 prints the last receipt again. */
  if (printer != NULL && ct_till_printer_is_set (printer))
    ct_till_printer_reprint (printer, data);
}

/* Commands that act on the till's screens; off while it is locked. */
static const char * const till_actions[] = { "win.page", "win.card-history", "win.last-receipt", "win.adjust" };

static void
set_locked (CtWindow *self,
            gboolean  locked)
{
  GtkWidget *till = gtk_stack_get_child_by_name (self->lock_stack, "till");
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  for (guint i = 0; i < G_N_ELEMENTS (till_actions); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), till_actions[i], !locked);
  if (locked)
    {
      /* Where the cashier was typing, for when someone signs in again. */
      if (focus != NULL && gtk_widget_is_ancestor (focus, till))
        g_set_weak_pointer (&self->till_focus, focus);
      ct_sign_in_page_reset (CT_SIGN_IN_PAGE (self->sign_in_page));
    }
  else
    {
      /* The stack would give the focus back to whatever had it when the
       * till locked, even a widget a screen has since taken away. */
      gtk_window_set_focus (GTK_WINDOW (self), NULL);
    }
  gtk_stack_set_visible_child_name (self->lock_stack, locked ? "sign-in" : "till");
  if (!locked)
    {
      if (self->till_focus != NULL && gtk_widget_is_ancestor (self->till_focus, till)
          && gtk_widget_is_visible (self->till_focus))
        gtk_widget_grab_focus (self->till_focus);
      else
        gtk_widget_child_focus (gtk_stack_get_visible_child (self->stack), GTK_DIR_TAB_FORWARD);
      g_clear_weak_pointer (&self->till_focus);
    }
  /* Locked, the header shows nobody at the till and no screen of it. */
  gtk_widget_set_visible (GTK_WIDGET (self->cashier_button),
                          !locked && ct_session_get_cashier (self->session) != NULL);
  if (locked)
    adw_window_title_set_title (self->window_title, _("Sign In"));
  else
    stack_page_changed_cb (self);
  self->last_activity = g_get_monotonic_time ();
}

/**
 * ct_window_lock:
 *
 * Shows the sign-in screen over the till, when the merchant has cashiers;
 * the screens keep what they held for the next cashier.
 *
 * Returns: %TRUE when the till is locked now.
 */
gboolean
ct_window_lock (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), FALSE);

  if (!ct_session_get_cashiers_in_use (self->session))
    return FALSE;
  if (!ct_window_is_locked (self))
    set_locked (self, TRUE);
  return TRUE;
}

GtkWidget *
ct_window_get_sign_in_page (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);
  return self->sign_in_page;
}

gboolean
ct_window_is_locked (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), FALSE);

  return g_strcmp0 (gtk_stack_get_visible_child_name (self->lock_stack), "sign-in") == 0;
}

static void
lock_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  CtWindow *self = CT_WINDOW (widget);

  if (!ct_window_lock (self))
    ct_window_toast (self, _("This till has no cashiers to sign in, so it does not lock."));
}

static void
signed_in_cb (CtWindow        *self,
              const CtCashier *cashier)
{
  g_autofree char *text = NULL;

  set_locked (self, FALSE);
  if (cashier->offline)
    {
      text = g_strdup_printf (_("Signed in as %s while the card service is unreachable."), cashier->name);
      ct_window_toast (self, text);
    }
}

/* Whether someone must sign in: the merchant has cashiers (it may say so
 * only after the window is up) and nobody has signed in yet. */
static void
update_lock (CtWindow *self)
{
  if (ct_session_get_cashiers_in_use (self->session))
    {
      if (ct_session_get_cashier (self->session) == NULL)
        ct_window_lock (self);
    }
  else if (ct_window_is_locked (self))
    set_locked (self, FALSE);
}

static void
update_cashier (CtWindow *self)
{
  const CtCashier *cashier = ct_session_get_cashier (self->session);

  gtk_widget_set_visible (GTK_WIDGET (self->cashier_button), cashier != NULL && !ct_window_is_locked (self));
  if (cashier != NULL)
    gtk_label_set_label (self->cashier_label, cashier->name);
}

static void
activity_cb (CtWindow *self)
{
  self->last_activity = g_get_monotonic_time ();
}

static gboolean
activity_key_cb (GtkEventControllerKey *keys,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 CtWindow              *self)
{
  activity_cb (self);
  return GDK_EVENT_PROPAGATE;
}

/* A customer's screens (the card, its history, a receipt) free what they
 * held when the till goes back to Scan, but glibc keeps the freed pages of
 * its heap: a shift grew the till by about 6 MB that nothing used. Once the
 * till has rested on Scan for a moment, they go back to the system
 * (malloc_trim() takes about a millisecond and happens once a customer). */
static void
trim_heap_at_rest (CtWindow *self)
{
#ifdef HAVE_MALLOC_TRIM
  if (!self->heap_trimmed
      && g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "scan") == 0
      && g_get_monotonic_time () - self->page_shown_at >= TRIM_AFTER_SECONDS * G_USEC_PER_SEC)
    {
      malloc_trim (0);
      self->heap_trimmed = TRUE;
    }
#endif
}

static gboolean
idle_check_cb (gpointer user_data)
{
  CtWindow *self = user_data;
  GSettings *settings = ct_session_get_settings (self->session);
  guint minutes = settings != NULL ? g_settings_get_uint (settings, "lock-idle-minutes") : 0;

  if (minutes > 0 && !ct_window_is_locked (self)
      && g_get_monotonic_time () - self->last_activity >= (gint64) minutes * 60 * G_USEC_PER_SEC)
    ct_window_lock (self);
  trim_heap_at_rest (self);
  return G_SOURCE_CONTINUE;
}

static void
settings_changed_cb (CtWindow   *self,
                     const char *key)
{
  GSettings *settings = ct_session_get_settings (self->session);

  if (g_strcmp0 (key, "wedge-threshold-ms") == 0)
    ct_wedge_capture_set_threshold (self->wedge, g_settings_get_uint (settings, key));
  else
    update_header (self);
}

static void
ct_window_constructed (GObject *object)
{
  CtWindow *self = CT_WINDOW (object);
  CtClient *client = ct_session_get_client (self->session);
  GSettings *settings = ct_session_get_settings (self->session);

  G_OBJECT_CLASS (ct_window_parent_class)->constructed (object);

  if (settings != NULL)
    {
      ct_wedge_capture_set_threshold (self->wedge, g_settings_get_uint (settings, "wedge-threshold-ms"));
      g_signal_connect_object (settings, "changed", G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
    }

  for (guint i = 0; i < G_N_ELEMENTS (screens); i++)
    {
      GtkWidget *slot = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      GtkWidget *scroller = gtk_scrolled_window_new ();

      /* A screen larger than a small touch screen (800×600) scrolls
       * rather than making the window larger than the display. */
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), slot);
      g_object_set_data (G_OBJECT (scroller), "ct-slot", slot);
      g_object_set_data (G_OBJECT (slot), "ct-factory", screens[i].factory);
      gtk_stack_add_titled (self->stack, scroller, screens[i].name, _(screens[i].title));
    }

  g_signal_connect_object (client, "notify::connection-state", G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::pending-count", G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::attention-count", G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::store", G_CALLBACK (update_header), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::last-receipt", G_CALLBACK (receipt_changed_cb), self, G_CONNECT_SWAPPED);

  self->sign_in_page = ct_sign_in_page_new (self->session);
  gtk_stack_add_named (self->lock_stack, self->sign_in_page, "sign-in");
  g_signal_connect_object (self->sign_in_page, "signed-in", G_CALLBACK (signed_in_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::merchant", G_CALLBACK (update_lock), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::cashier", G_CALLBACK (update_cashier), self, G_CONNECT_SWAPPED);

  gtk_stack_set_visible_child_name (self->stack, "scan");
  stack_page_changed_cb (self);
  update_header (self);
  update_cashier (self);
  update_lock (self);
}

static void
ct_window_dispose (GObject *object)
{
  CtWindow *self = CT_WINDOW (object);

  g_clear_pointer (&self->wedge, ct_wedge_capture_free);
  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_weak_pointer (&self->till_focus);

  G_OBJECT_CLASS (ct_window_parent_class)->dispose (object);
}

static void
ct_window_finalize (GObject *object)
{
  CtWindow *self = CT_WINDOW (object);

  g_clear_object (&self->session);

  G_OBJECT_CLASS (ct_window_parent_class)->finalize (object);
}

static void
ct_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  CtWindow *self = CT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  CtWindow *self = CT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_window_class_init (CtWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct { guint key; const char *page; } page_keys[] = {
    { GDK_KEY_F2, "scan" },
    { GDK_KEY_F3, "topup" },
    { GDK_KEY_F4, "pay" },
    { GDK_KEY_F5, "members" },
    { GDK_KEY_F6, "import" },
    { GDK_KEY_F7, "sync" },
    { GDK_KEY_F8, "settings" },
    { GDK_KEY_F11, "shift" },
  };

  object_class->constructed = ct_window_constructed;
  object_class->dispose = ct_window_dispose;
  object_class->finalize = ct_window_finalize;
  object_class->get_property = ct_window_get_property;
  object_class->set_property = ct_window_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CT_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Referencing the resource bundle keeps the linker from dropping it
   * out of the static library. */
  g_assert (ct_app_get_resource () != NULL);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CtWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, store_label);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, cashier_button);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, cashier_label);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, lock_stack);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, connection_button);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, connection_icon);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, connection_label);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, nav_list);
  gtk_widget_class_bind_template_child (widget_class, CtWindow, stack);
  gtk_widget_class_bind_template_callback (widget_class, stack_page_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, nav_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "win.page", "s", page_action);
  gtk_widget_class_install_action (widget_class, "win.toast", "s", toast_action);
  gtk_widget_class_install_action (widget_class, "win.card-history", NULL, card_history_action);
  gtk_widget_class_install_action (widget_class, "win.last-receipt", NULL, last_receipt_action);
  gtk_widget_class_install_action (widget_class, "win.adjust", NULL, adjust_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_b, GDK_CONTROL_MASK, "win.adjust", NULL);
  gtk_widget_class_install_action (widget_class, "win.lock", NULL, lock_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.lock", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F12, 0, "win.lock", NULL);
  /* Reports is the manager's screen beside the lock key. A function key,
   * unlike Ctrl+letter, reaches the window from inside a field. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F12, GDK_SHIFT_MASK,
                                       "win.page", "s", "reports");

  for (guint i = 0; i < G_N_ELEMENTS (page_keys); i++)
    gtk_widget_class_add_binding_action (widget_class, page_keys[i].key, 0,
                                         "win.page", "s", page_keys[i].page);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.last-receipt", NULL);
}

static void
load_css (void)
{
  static gboolean loaded;
  GtkCssProvider *provider;

  if (loaded || gdk_display_get_default () == NULL)
    return;

  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, "/io/github/cardtill/Cardtill/ct-style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (provider);
  loaded = TRUE;
}

static void
ct_window_init (CtWindow *self)
{
  load_css ();
  gtk_widget_init_template (GTK_WIDGET (self));

  self->wedge = ct_wedge_capture_new (GTK_WINDOW (self), wedge_scan_cb, self);

  /* Any key or click keeps the till awake; the controllers only look. */
  {
    GtkEventController *keys = gtk_event_controller_key_new ();
    GtkGesture *clicks = gtk_gesture_click_new ();

    gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
    g_signal_connect (keys, "key-pressed", G_CALLBACK (activity_key_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self), keys);
    gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (clicks), GTK_PHASE_CAPTURE);
    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (clicks), 0);
    g_signal_connect_swapped (clicks, "pressed", G_CALLBACK (activity_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (clicks));
  }
  self->last_activity = g_get_monotonic_time ();
  self->idle_source = g_timeout_add_seconds (IDLE_CHECK_SECONDS, idle_check_cb, self);
}

CtWindow *
ct_window_new (AdwApplication *application,
               CtSession      *session)
{
  g_return_val_if_fail (CT_IS_SESSION (session), NULL);

  return g_object_new (CT_TYPE_WINDOW,
                       "application", application,
                       "session", session,
                       NULL);
}

CtSession *
ct_window_get_session (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);
  return self->session;
}

/**
 * ct_window_show_page:
 * @self: a #CtWindow
 * @name: "scan", "topup", "pay", "members", "import", "sync", "settings"
 *   or "receipt"
 *
 * Switches the window to the named screen.
 */
void
ct_window_show_page (CtWindow   *self,
                     const char *name)
{
  g_return_if_fail (CT_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  if (gtk_stack_get_child_by_name (self->stack, name) == NULL)
    {
      g_warning ("No screen named %s", name);
      return;
    }

  gtk_stack_set_visible_child_name (self->stack, name);
}

const char *
ct_window_get_page (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

GtkWidget *
ct_window_get_page_widget (CtWindow   *self,
                           const char *name)
{
  GtkWidget *slot;

  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);

  slot = gtk_stack_get_child_by_name (self->stack, name);
  if (slot == NULL)
    return NULL;

  return ensure_page (self, slot);
}

void
ct_window_toast (CtWindow   *self,
                 const char *text)
{
  g_return_if_fail (CT_IS_WINDOW (self));

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

const char *
ct_window_get_connection_text (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);
  return gtk_label_get_label (self->connection_label);
}

const char *
ct_window_get_header_text (CtWindow *self)
{
  g_return_val_if_fail (CT_IS_WINDOW (self), NULL);
  return gtk_label_get_label (self->store_label);
}
