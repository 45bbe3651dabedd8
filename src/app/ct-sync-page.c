/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-sync-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-format.h"
#include "ct-manager-actions.h"
#include "ct-sync-page.h"

/* Sync status: what this till has taken that the card service has not
 * confirmed yet, and the requests the service refused after they were
 * queued, with what a manager can do about each. */

struct _CtSyncPage
{
  AdwBin         parent_instance;

  CtSession     *session;
  GPtrArray     *pending;     /* element-type CtOutboxEntry */
  GPtrArray     *attention;   /* element-type CtOutboxEntry */
  GCancellable  *cancellable;
  guint          generation;  /* of the last reload */
  guint          loads;       /* of its two lists, still to come */

  GtkLabel      *state_label;
  GtkSpinner    *spinner;
  GtkLabel      *pending_empty;
  GtkListBox    *pending_list;
  GtkLabel      *attention_empty;
  GtkListBox    *attention_list;
};

G_DEFINE_FINAL_TYPE (CtSyncPage, ct_sync_page, ADW_TYPE_BIN)

/**
 * ct_connection_text:
 *
 * Returns: "Online", "Offline", "Online · 3 pending"… as the header shows it.
 */
char *
ct_connection_text (CtClient *client)
{
  guint pending = ct_client_get_pending_count (client);
  guint attention = ct_client_get_attention_count (client);
  const char *state;
  GString *text;

  switch (ct_client_get_connection_state (client))
    {
    case CT_CONNECTION_ONLINE:
      state = _("Online");
      break;
    case CT_CONNECTION_OFFLINE:
      state = _("Offline");
      break;
    case CT_CONNECTION_UNKNOWN:
    default:
      state = _("Connecting…");
      break;
    }

  text = g_string_new (state);
  if (pending > 0)
    {
      g_string_append (text, " · ");
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u pending", "%u pending", pending), pending);
    }
  if (attention > 0)
    {
      g_string_append (text, " · ");
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u needs attention",
                                                 "%u need attention", attention), attention);
    }

  return g_string_free (text, FALSE);
}

static char *
describe_entry (CtSyncPage          *self,
                const CtOutboxEntry *entry)
{
  int mu = ct_session_get_minor_units (self->session);
  const char *cur = ct_session_get_currency (self->session);
  g_autofree char *amount = entry->amount != 0 ? ct_format_money (ABS (entry->amount), mu, cur)
                                               : g_strdup ("");
  const char *kind;

  switch (entry->kind)
    {
    case CT_OUTBOX_KIND_TOPUP:
      kind = _("Top-up");
      break;
    case CT_OUTBOX_KIND_PAYMENT:
      kind = _("Payment");
      break;
    case CT_OUTBOX_KIND_REFUND:
      kind = _("Refund");
      break;
    case CT_OUTBOX_KIND_ADJUSTMENT:
      kind = _("Adjustment");
      break;
    case CT_OUTBOX_KIND_CARD_ISSUE:
      kind = _("New card");
      break;
    case CT_OUTBOX_KIND_CARD_PATCH:
      kind = _("Card change");
      break;
    case CT_OUTBOX_KIND_CARD_REPLACE:
      kind = _("Lost card replacement");
      break;
    case CT_OUTBOX_KIND_IMPORT:
      kind = _("Import");
      break;
    case CT_OUTBOX_KIND_SHIFT:
      kind = _("Shift");
      break;
    case CT_OUTBOX_KIND_OTHER:
    default:
      kind = _("Request");
      break;
    }

  return g_strdup_printf ("%s %s", kind, amount);
}

static char *
describe_age (const CtOutboxEntry *entry,
              const char          *card_no)
{
  g_autoptr(GDateTime) taken = g_date_time_new_from_unix_local (entry->created_at / G_USEC_PER_SEC);
  g_autofree char *when = g_date_time_format (taken, "%Y-%m-%d %H:%M");

  return g_strdup_printf (_("Card %s · taken %s"), card_no ? card_no : "—", when);
}

/* The outbox keeps the service's refusal as "code: message"; the manager
 * reads it in the same words as everywhere else in the till. */
static char *
describe_reason (const char *reason)
{
  const char *colon;
  g_autofree char *code = NULL;
  g_autoptr(GError) error = NULL;
  CtClientError kind;

  if (reason == NULL)
    return g_strdup ("");

  colon = strstr (reason, ": ");
  if (colon == NULL)
    return g_strdup (reason);

  code = g_strndup (reason, colon - reason);
  for (const char *p = code; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && *p != '_')
      return g_strdup (reason);

  kind = ct_client_error_code_from_string (code);
  if (kind == CT_CLIENT_ERROR_OTHER_REFUSAL)
    return g_strdup (colon + 2);

  error = g_error_new_literal (CT_CLIENT_ERROR, kind, colon + 2);
  return ct_format_error (error);
}

static const CtOutboxEntry *
find_attention (CtSyncPage *self,
                gint64      id)
{
  for (guint i = 0; self->attention != NULL && i < self->attention->len; i++)
    {
      const CtOutboxEntry *entry = g_ptr_array_index (self->attention, i);

      if (entry->id == id)
        return entry;
    }

  return NULL;
}

static void
resend_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtSyncPage *self = CT_SYNC_PAGE (widget);
  const CtOutboxEntry *entry = find_attention (self, g_variant_get_int64 (param));

  if (entry != NULL)
    ct_manager_resend (widget, self->session, entry);
}

static void
record_outcome_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  CtSyncPage *self = CT_SYNC_PAGE (widget);
  const CtOutboxEntry *entry = find_attention (self, g_variant_get_int64 (param));

  if (entry != NULL)
    ct_manager_record_outcome (widget, self->session, entry);
}

static GtkWidget *
entry_row_new (CtSyncPage          *self,
               const CtOutboxEntry *entry,
               gboolean             attention)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *title = describe_entry (self, entry);
  g_autofree char *subtitle = describe_age (entry, entry->card_no);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);

  if (attention && entry->reason != NULL)
    {
      g_autofree char *reason = describe_reason (entry->reason);
      g_autofree char *full = g_strdup_printf ("%s\n%s", subtitle, reason);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), full);
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  if (attention)
    {
      GtkWidget *resend = gtk_button_new_with_mnemonic (_("Send _Again…"));
      GtkWidget *outcome = gtk_button_new_with_mnemonic (_("_Record Outcome…"));

      gtk_widget_set_valign (resend, GTK_ALIGN_CENTER);
      gtk_widget_set_valign (outcome, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (resend), "sync.resend");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (resend), "x", (gint64) entry->id);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (outcome), "sync.record-outcome");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (outcome), "x", (gint64) entry->id);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), resend);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), outcome);
    }
  else if (entry->reported_queued || entry->maybe_sent)
    {
      GtkWidget *label = gtk_label_new (_("pending sync"));

      gtk_widget_add_css_class (label, "warning");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }

  return row;
}

static void
update_state (CtSyncPage *self)
{
  g_autofree char *text = ct_connection_text (ct_session_get_client (self->session));

  gtk_label_set_label (self->state_label, text);
}

static void
show_lists (CtSyncPage *self)
{
  ct_list_box_clear (self->pending_list);
  ct_list_box_clear (self->attention_list);

  if (self->pending != NULL)
    for (guint i = 0; i < self->pending->len; i++)
      gtk_list_box_append (self->pending_list, entry_row_new (self, g_ptr_array_index (self->pending, i), FALSE));
  if (self->attention != NULL)
    for (guint i = 0; i < self->attention->len; i++)
      gtk_list_box_append (self->attention_list, entry_row_new (self, g_ptr_array_index (self->attention, i), TRUE));

  gtk_widget_set_visible (GTK_WIDGET (self->pending_empty), self->pending == NULL || self->pending->len == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->pending_list), self->pending != NULL && self->pending->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->attention_empty), self->attention == NULL || self->attention->len == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->attention_list), self->attention != NULL && self->attention->len > 0);
  update_state (self);
}

/* One list of one reload, on its way back. */
typedef struct
{
  CtSyncPage    *self;        /* owned */
  CtOutboxState  state;
  guint          generation;
} ListLoad;

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ListLoad *load = user_data;
  CtSyncPage *self = load->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;

  entries = ct_client_outbox_list_finish (CT_CLIENT (object), result, &error);
  /* Only the last reload's lists count, whatever became of the ones
   * before it (cancelled, or answered before they could be). */
  if (load->generation != self->generation || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    goto out;

  if (entries == NULL)
    g_warning ("Could not read the outbox: %s", error->message);

  /* Keep the entries alive as long as rows point at them. */
  if (load->state == CT_OUTBOX_STATE_PENDING)
    {
      g_clear_pointer (&self->pending, g_ptr_array_unref);
      self->pending = entries ? g_ptr_array_ref (entries) : NULL;
    }
  else
    {
      g_clear_pointer (&self->attention, g_ptr_array_unref);
      self->attention = entries ? g_ptr_array_ref (entries) : NULL;
    }

  if (self->loads > 0 && --self->loads == 0)
    {
      gtk_spinner_stop (self->spinner);
      show_lists (self);
    }
out:
  g_object_unref (load->self);
  g_free (load);
}

static void
load_list (CtSyncPage    *self,
           CtOutboxState  state)
{
  ListLoad *load = g_new0 (ListLoad, 1);

  load->self = g_object_ref (self);
  load->state = state;
  load->generation = self->generation;
  ct_client_outbox_list_async (ct_session_get_client (self->session), state, self->cancellable, list_cb, load);
}

/**
 * ct_sync_page_reload:
 *
 * Reads both lists from the outbox again (off the main loop).
 */
void
ct_sync_page_reload (CtSyncPage *self)
{
  g_return_if_fail (CT_IS_SYNC_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->generation++;
  self->loads = 2;
  gtk_spinner_start (self->spinner);

  load_list (self, CT_OUTBOX_STATE_PENDING);
  load_list (self, CT_OUTBOX_STATE_NEEDS_ATTENTION);
}

static void
sync_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(CtSyncPage) self = user_data;
  g_autoptr(GError) error = NULL;
  guint settled = 0;

  if (!ct_client_sync_finish (CT_CLIENT (object), result, &settled, &error))
    {
      g_autofree char *text = ct_format_error (error);

      gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s", text);
    }

  ct_sync_page_reload (self);
}

static void
sync_now_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  CtSyncPage *self = CT_SYNC_PAGE (widget);

  gtk_spinner_start (self->spinner);
  ct_client_sync_async (ct_session_get_client (self->session), NULL, sync_cb, g_object_ref (self));
}

static void
ct_sync_page_dispose (GObject *object)
{
  CtSyncPage *self = CT_SYNC_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_SYNC_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->attention, g_ptr_array_unref);

  G_OBJECT_CLASS (ct_sync_page_parent_class)->dispose (object);
}

static void
ct_sync_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (ct_sync_page_parent_class)->map (widget);
  ct_sync_page_reload (CT_SYNC_PAGE (widget));
}

static void
ct_sync_page_class_init (CtSyncPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_sync_page_dispose;
  widget_class->map = ct_sync_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-sync-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtSyncPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, CtSyncPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, CtSyncPage, pending_empty);
  gtk_widget_class_bind_template_child (widget_class, CtSyncPage, pending_list);
  gtk_widget_class_bind_template_child (widget_class, CtSyncPage, attention_empty);
  gtk_widget_class_bind_template_child (widget_class, CtSyncPage, attention_list);

  gtk_widget_class_install_action (widget_class, "sync.now", NULL, sync_now_action);
  gtk_widget_class_install_action (widget_class, "sync.resend", "x", resend_action);
  gtk_widget_class_install_action (widget_class, "sync.record-outcome", "x", record_outcome_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "sync.now", NULL);
}

static void
ct_sync_page_init (CtSyncPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

static void
outbox_changed_cb (CtSyncPage *self)
{
  update_state (self);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    ct_sync_page_reload (self);
}

GtkWidget *
ct_sync_page_new (CtSession *session)
{
  CtSyncPage *self = g_object_new (CT_TYPE_SYNC_PAGE, NULL);
  CtClient *client = ct_session_get_client (session);

  self->session = g_object_ref (session);
  g_signal_connect_object (client, "outbox-changed", G_CALLBACK (outbox_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::connection-state", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::pending-count", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (client, "notify::attention-count", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  show_lists (self);

  return GTK_WIDGET (self);
}

guint
ct_sync_page_get_n_pending (CtSyncPage *self)
{
  g_return_val_if_fail (CT_IS_SYNC_PAGE (self), 0);
  return self->pending ? self->pending->len : 0;
}

guint
ct_sync_page_get_n_attention (CtSyncPage *self)
{
  g_return_val_if_fail (CT_IS_SYNC_PAGE (self), 0);
  return self->attention ? self->attention->len : 0;
}

gboolean
ct_sync_page_is_loading (CtSyncPage *self)
{
  g_return_val_if_fail (CT_IS_SYNC_PAGE (self), FALSE);
  return self->loads > 0;
}

const char *
ct_sync_page_get_state_text (CtSyncPage *self)
{
  g_return_val_if_fail (CT_IS_SYNC_PAGE (self), NULL);
  return gtk_label_get_label (self->state_label);
}

const CtOutboxEntry *
ct_sync_page_get_attention_entry (CtSyncPage *self,
                                  guint       index)
{
  g_return_val_if_fail (CT_IS_SYNC_PAGE (self), NULL);

  if (self->attention == NULL || index >= self->attention->len)
    return NULL;
  return g_ptr_array_index (self->attention, index);
}
