/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-settings-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-card-number.h"
#include "ct-format.h"
#include "ct-settings-page.h"
#include "ct-sync-page.h"
#include "ct-printer.h"
#include "ct-usb-scanner.h"

/* Settings: how the till reaches its card service, what it records,
 * which scanner it reads, and the store's offline limits (read-only). */

struct _CtSettingsPage
{
  AdwBin          parent_instance;

  CtSession      *session;
  GPtrArray      *devices;   /* element-type CtUsbDeviceInfo */
  GCancellable   *cancellable;
  gboolean        filling_scanners;

  GtkSwitch      *builtin_switch;
  AdwEntryRow    *url_row;
  AdwEntryRow    *token_row;
  AdwEntryRow    *ca_row;
  AdwEntryRow    *pin_row;
  AdwActionRow   *service_state_row;
  AdwEntryRow    *operator_row;
  AdwActionRow   *cashier_row;
  GtkSpinButton  *idle_lock_spin;
  AdwEntryRow    *store_row;
  AdwEntryRow    *till_row;
  AdwComboRow    *style_row;
  GtkSwitch      *usb_switch;
  AdwComboRow    *scanner_row;
  GtkStringList  *scanner_model;
  GtkSpinButton  *threshold_spin;
  AdwEntryRow    *test_row;
  AdwActionRow   *last_scan_row;
  AdwActionRow   *payment_cap_row;
  AdwActionRow   *card_cap_row;
  AdwActionRow   *topup_mode_row;
  AdwEntryRow    *printer_row;
  AdwComboRow    *paper_row;
  GtkSwitch      *auto_print_switch;
  GtkSwitch      *drawer_switch;
  AdwActionRow   *printer_state_row;
};

G_DEFINE_FINAL_TYPE (CtSettingsPage, ct_settings_page, ADW_TYPE_BIN)

static const char *styles[] = { "default", "light", "dark" };

static void
update_merchant (CtSettingsPage *self)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);
  g_autofree char *state = ct_connection_text (ct_session_get_client (self->session));

  adw_action_row_set_subtitle (self->service_state_row, state);

  if (merchant == NULL)
    {
      adw_action_row_set_subtitle (self->payment_cap_row, _("Not known yet"));
      adw_action_row_set_subtitle (self->card_cap_row, _("Not known yet"));
      adw_action_row_set_subtitle (self->topup_mode_row, _("Not known yet"));
      return;
    }

  if (merchant->offline_payment_cap == 0)
    adw_action_row_set_subtitle (self->payment_cap_row, _("No balance payments while offline"));
  else
    {
      g_autofree char *cap = ct_format_money (merchant->offline_payment_cap, merchant->minor_units,
                                              merchant->currency);

      adw_action_row_set_subtitle (self->payment_cap_row, cap);
    }

  if (merchant->offline_card_cap == 0)
    adw_action_row_set_subtitle (self->card_cap_row, _("No balance payments while offline"));
  else
    {
      g_autofree char *cap = ct_format_money (merchant->offline_card_cap, merchant->minor_units,
                                              merchant->currency);

      adw_action_row_set_subtitle (self->card_cap_row, cap);
    }

  adw_action_row_set_subtitle (self->topup_mode_row,
                               merchant->topup_mode == CT_TOPUP_MODE_FIXED
                                 ? _("Packages with bonus")
                                 : _("Any amount, no bonus"));
}

/* With cashiers, the operator is whoever signed in: nobody types it. */
static void
update_cashier (CtSettingsPage *self)
{
  const CtCashier *cashier = ct_session_get_cashier (self->session);
  gboolean in_use = ct_session_get_cashiers_in_use (self->session);

  gtk_widget_set_visible (GTK_WIDGET (self->operator_row), !in_use);
  gtk_widget_set_visible (GTK_WIDGET (self->cashier_row), in_use);
  if (cashier != NULL)
    {
      g_autofree char *who = g_strdup_printf ("%s (%s)", cashier->name, cashier->id);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->cashier_row), who);
    }
}

static void
update_last_scan (CtSettingsPage *self)
{
  const char *scan = ct_session_get_last_scan (self->session);
  g_autoptr(GError) error = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *text = NULL;

  if (scan == NULL)
    {
      adw_action_row_set_subtitle (self->last_scan_row, _("Nothing scanned yet"));
      return;
    }

  card_no = ct_card_number_from_scan (scan, CT_CARD_NUMBER_DEFAULT_PREFIX, &error);
  if (card_no != NULL)
    text = g_strdup_printf (_("%s — card %s"), scan, card_no);
  else
    {
      g_autofree char *problem = ct_format_error (error);

      text = g_strdup_printf ("%s — %s", scan, problem);
    }

  adw_action_row_set_subtitle (self->last_scan_row, text);
}

static void
test_row_activated_cb (CtSettingsPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->test_row));

  if (*text != '\0')
    ct_session_scan (self->session, text, CT_SCAN_SOURCE_SCANNER);
  gtk_editable_set_text (GTK_EDITABLE (self->test_row), "");
}

static void
style_changed_cb (CtSettingsPage *self)
{
  guint selected = adw_combo_row_get_selected (self->style_row);
  GSettings *settings = ct_session_get_settings (self->session);

  if (settings != NULL && selected < G_N_ELEMENTS (styles))
    g_settings_set_string (settings, "style", styles[selected]);
}

static void
paper_setting_cb (CtSettingsPage *self)
{
  GSettings *settings = ct_session_get_settings (self->session);
  g_autofree char *paper = g_settings_get_string (settings, "paper-width");

  adw_combo_row_set_selected (self->paper_row, g_str_equal (paper, "80") ? 1 : 0);
}

static void
paper_changed_cb (CtSettingsPage *self)
{
  GSettings *settings = ct_session_get_settings (self->session);

  if (settings != NULL)
    g_settings_set_string (settings, "paper-width",
                           adw_combo_row_get_selected (self->paper_row) == 1 ? "80" : "58");
}

/* What the printer setting means now: its mistake, the printer's last
 * fault, or that it works. */
static void
update_printer_state (CtSettingsPage *self)
{
  GSettings *settings = ct_session_get_settings (self->session);
  CtTillPrinter *printer = ct_session_get_printer (self->session);
  g_autofree char *text = settings ? g_settings_get_string (settings, "printer") : NULL;
  g_autoptr(CtPrinterAddress) address = NULL;
  g_autoptr(GError) error = NULL;
  const char *problem = printer ? ct_till_printer_get_problem (printer) : NULL;

  if (text == NULL || *text == '\0')
    adw_action_row_set_subtitle (self->printer_state_row, _("No receipt printer is set."));
  else if ((address = ct_printer_address_parse (text, &error)) == NULL)
    adw_action_row_set_subtitle (self->printer_state_row, error->message);
  else if (problem != NULL)
    adw_action_row_set_subtitle (self->printer_state_row, problem);
  else if (printer != NULL && ct_till_printer_get_printed (printer) > 0)
    adw_action_row_set_subtitle (self->printer_state_row, _("The last receipt or test page printed."));
  else
    adw_action_row_set_subtitle (self->printer_state_row, "");
}

static void
print_test_page_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  CtSettingsPage *self = CT_SETTINGS_PAGE (widget);
  CtTillPrinter *printer = ct_session_get_printer (self->session);

  if (ct_till_printer_is_set (printer))
    ct_till_printer_test_page (printer);
  update_printer_state (self);
}

static void
scanner_selected_cb (CtSettingsPage *self)
{
  guint selected = adw_combo_row_get_selected (self->scanner_row);
  GSettings *settings = ct_session_get_settings (self->session);

  if (self->filling_scanners || settings == NULL)
    return;

  /* Item 0 is "the first known scanner". */
  if (selected == 0 || self->devices == NULL || selected > self->devices->len)
    g_settings_set_string (settings, "scanner-device", "");
  else
    {
      const CtUsbDeviceInfo *info = g_ptr_array_index (self->devices, selected - 1);
      g_autofree char *id = g_strdup_printf ("%04x:%04x", info->vendor_id, info->product_id);

      g_settings_set_string (settings, "scanner-device", id);
    }
}

static void
list_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GPtrArray *devices = ct_usb_list_devices (&error);

  if (devices == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, devices, (GDestroyNotify) g_ptr_array_unref);
}

static void
list_devices_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(CtSettingsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = g_task_propagate_pointer (G_TASK (result), &error);
  GSettings *settings = ct_session_get_settings (self->session);
  g_autofree char *wanted = settings ? g_settings_get_string (settings, "scanner-device") : NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->scanner_model));
  guint selected = 0;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->filling_scanners = TRUE;
  gtk_string_list_splice (self->scanner_model, 0, n, NULL);
  gtk_string_list_append (self->scanner_model, _("First known scanner"));

  g_clear_pointer (&self->devices, g_ptr_array_unref);
  if (devices != NULL)
    {
      self->devices = g_ptr_array_ref (devices);
      for (guint i = 0; i < devices->len; i++)
        {
          const CtUsbDeviceInfo *info = g_ptr_array_index (devices, i);
          g_autofree char *text = ct_usb_device_info_describe (info);
          g_autofree char *id = g_strdup_printf ("%04x:%04x", info->vendor_id, info->product_id);

          gtk_string_list_append (self->scanner_model, text);
          if (g_strcmp0 (id, wanted) == 0)
            selected = i + 1;
        }
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->scanner_row), "");
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self->scanner_row),
                                 _("USB scanners cannot be read on this computer. Keyboard scanners still work."));

  adw_combo_row_set_selected (self->scanner_row, selected);
  self->filling_scanners = FALSE;
}

/**
 * ct_settings_page_reload_scanners:
 *
 * Lists the USB HID devices again, on a worker thread.
 */
void
ct_settings_page_reload_scanners (CtSettingsPage *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CT_IS_SETTINGS_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  task = g_task_new (NULL, self->cancellable, list_devices_cb, g_object_ref (self));
  g_task_set_source_tag (task, ct_settings_page_reload_scanners);
  g_task_run_in_thread (task, list_devices_thread);
}

static void
ct_settings_page_dispose (GObject *object)
{
  CtSettingsPage *self = CT_SETTINGS_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_SETTINGS_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->devices, g_ptr_array_unref);

  G_OBJECT_CLASS (ct_settings_page_parent_class)->dispose (object);
}

static void
ct_settings_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (ct_settings_page_parent_class)->map (widget);

  update_merchant (CT_SETTINGS_PAGE (widget));
  ct_settings_page_reload_scanners (CT_SETTINGS_PAGE (widget));
}

static void
ct_settings_page_class_init (CtSettingsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_settings_page_dispose;
  widget_class->map = ct_settings_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-settings-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, builtin_switch);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, url_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, token_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, ca_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, pin_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, service_state_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, operator_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, cashier_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, idle_lock_spin);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, store_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, till_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, style_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, usb_switch);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, scanner_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, scanner_model);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, threshold_spin);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, test_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, last_scan_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, payment_cap_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, card_cap_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, topup_mode_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, printer_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, paper_row);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, auto_print_switch);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, drawer_switch);
  gtk_widget_class_bind_template_child (widget_class, CtSettingsPage, printer_state_row);

  gtk_widget_class_install_action (widget_class, "settings.print-test-page", NULL, print_test_page_action);
}

static void
ct_settings_page_init (CtSettingsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static void
bind_settings (CtSettingsPage *self,
               GSettings      *settings)
{
  g_autofree char *style = g_settings_get_string (settings, "style");

  g_settings_bind (settings, "use-builtin", self->builtin_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "use-builtin", self->url_row, "sensitive", G_SETTINGS_BIND_GET | G_SETTINGS_BIND_INVERT_BOOLEAN);
  g_settings_bind (settings, "use-builtin", self->token_row, "sensitive", G_SETTINGS_BIND_GET | G_SETTINGS_BIND_INVERT_BOOLEAN);
  g_settings_bind (settings, "use-builtin", self->ca_row, "sensitive", G_SETTINGS_BIND_GET | G_SETTINGS_BIND_INVERT_BOOLEAN);
  g_settings_bind (settings, "use-builtin", self->pin_row, "sensitive", G_SETTINGS_BIND_GET | G_SETTINGS_BIND_INVERT_BOOLEAN);
  g_settings_bind (settings, "service-url", self->url_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "till-token", self->token_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "ca-file", self->ca_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "pin-pubkey", self->pin_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "operator", self->operator_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "lock-idle-minutes", self->idle_lock_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "store-name", self->store_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "till-name", self->till_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "use-usb-scanner", self->usb_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "use-usb-scanner", self->scanner_row, "sensitive", G_SETTINGS_BIND_GET);
  g_settings_bind (settings, "wedge-threshold-ms", self->threshold_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "printer", self->printer_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "auto-print", self->auto_print_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "open-drawer", self->drawer_switch, "active", G_SETTINGS_BIND_DEFAULT);
  paper_setting_cb (self);

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    if (g_strcmp0 (style, styles[i]) == 0)
      adw_combo_row_set_selected (self->style_row, i);
}

GtkWidget *
ct_settings_page_new (CtSession *session)
{
  CtSettingsPage *self = g_object_new (CT_TYPE_SETTINGS_PAGE, NULL);
  CtClient *client = ct_session_get_client (session);
  GSettings *settings = ct_session_get_settings (session);

  self->session = g_object_ref (session);

  if (settings != NULL)
    bind_settings (self, settings);

  g_signal_connect_object (self->style_row, "notify::selected", G_CALLBACK (style_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scanner_row, "notify::selected", G_CALLBACK (scanner_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->paper_row, "notify::selected", G_CALLBACK (paper_changed_cb), self, G_CONNECT_SWAPPED);
  if (settings != NULL)
    {
      g_signal_connect_object (settings, "changed::printer", G_CALLBACK (update_printer_state), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (settings, "changed::paper-width", G_CALLBACK (paper_setting_cb), self, G_CONNECT_SWAPPED);
    }
  if (ct_session_get_printer (session) != NULL)
    {
      g_signal_connect_object (ct_session_get_printer (session), "notify::problem",
                               G_CALLBACK (update_printer_state), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (ct_session_get_printer (session), "notify::printed",
                               G_CALLBACK (update_printer_state), self, G_CONNECT_SWAPPED);
    }
  g_signal_connect_object (self->test_row, "entry-activated", G_CALLBACK (test_row_activated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::last-scan", G_CALLBACK (update_last_scan), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::merchant", G_CALLBACK (update_merchant), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::merchant", G_CALLBACK (update_cashier), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::cashier", G_CALLBACK (update_cashier), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::connection-state", G_CALLBACK (update_merchant), self, G_CONNECT_SWAPPED);
  gtk_string_list_append (self->scanner_model, _("First known scanner"));

  update_merchant (self);
  update_cashier (self);
  update_last_scan (self);
  update_printer_state (self);

  return GTK_WIDGET (self);
}

const char *
ct_settings_page_get_last_scan (CtSettingsPage *self)
{
  g_return_val_if_fail (CT_IS_SETTINGS_PAGE (self), NULL);
  return adw_action_row_get_subtitle (self->last_scan_row);
}

const char *
ct_settings_page_get_payment_cap (CtSettingsPage *self)
{
  g_return_val_if_fail (CT_IS_SETTINGS_PAGE (self), NULL);
  return adw_action_row_get_subtitle (self->payment_cap_row);
}

/**
 * ct_settings_page_get_printer_state:
 *
 * Returns: what Settings says about the receipt printer: a mistake in
 *   its address, its last fault, or that it printed.
 */
const char *
ct_settings_page_get_printer_state (CtSettingsPage *self)
{
  g_return_val_if_fail (CT_IS_SETTINGS_PAGE (self), NULL);
  return adw_action_row_get_subtitle (self->printer_state_row);
}
