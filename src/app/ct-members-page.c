/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-members-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-focus.h"
#include "ct-card-view.h"
#include "ct-format.h"
#include "ct-phone.h"
#include "ct-manager-actions.h"
#include "ct-members-page.h"
#include "ct-receipt-data.h"
#include "ct-till-printer.h"

/* Members: find a member by phone or name, see their card and its
 * history one day at a time (today first), and the manager actions. */

struct _CtMembersPage
{
  AdwBin          parent_instance;

  CtSession      *session;
  CtCard         *card;
  GPtrArray      *results;       /* element-type CtCard */
  guint           results_shown;  /* rows made so far */
  guint           results_idle;
  GPtrArray      *history;       /* element-type CtTransaction */
  GDate           date;
  GCancellable   *search_cancellable;
  GCancellable   *history_cancellable;
  char           *history_cursor;
  gboolean        loading;
  gboolean        searching;

  GtkSearchEntry *search_entry;
  char           *counter_card_no;  /* the session's card, to see it change */
  GtkLabel       *search_status;
  GtkListBox     *results_list;
  GtkStack       *detail_stack;
  AdwLeaflet     *leaflet;
  GtkWidget      *list_pane;
  GtkWidget      *back_button;
  GtkWidget      *use_button;
  CtCardView     *card_view;
  GtkButton      *freeze_button;
  GtkMenuButton  *date_button;
  GtkCalendar    *calendar;
  GtkStack       *history_stack;
  GtkLabel       *history_empty_label;
  GtkListBox     *history_list;
};

G_DEFINE_FINAL_TYPE (CtMembersPage, ct_members_page, ADW_TYPE_BIN)

static void load_history (CtMembersPage *self);
static void calendar_day_selected_cb (CtMembersPage *self);

static void
today (CtMembersPage *self,
       GDate         *out)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);
  g_autoptr(GTimeZone) zone = NULL;
  g_autoptr(GDateTime) now = NULL;

  /* "Today" is the merchant's day, as the service counts it. */
  if (merchant != NULL && merchant->timezone != NULL)
    zone = g_time_zone_new_identifier (merchant->timezone);
  if (zone == NULL)
    zone = g_time_zone_new_local ();

  now = g_date_time_new_now (zone);
  g_date_clear (out, 1);
  g_date_set_dmy (out, g_date_time_get_day_of_month (now),
                  g_date_time_get_month (now), g_date_time_get_year (now));
}

static char *
date_iso (const GDate *date)
{
  return g_strdup_printf ("%04d-%02d-%02d", g_date_get_year (date),
                          g_date_get_month (date), g_date_get_day (date));
}

static void
update_date_label (CtMembersPage *self)
{
  g_autofree char *text = ct_members_page_get_date_text (self);
  GDate now;

  today (self, &now);
  gtk_menu_button_set_label (self->date_button, text);

  /* The calendar opens on the day shown. */
  {
    g_autoptr(GDateTime) shown = g_date_time_new_local (g_date_get_year (&self->date),
                                                        g_date_get_month (&self->date),
                                                        g_date_get_day (&self->date), 12, 0, 0);

    g_signal_handlers_block_by_func (self->calendar, calendar_day_selected_cb, self);
    gtk_calendar_select_day (self->calendar, shown);
    g_signal_handlers_unblock_by_func (self->calendar, calendar_day_selected_cb, self);
  }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "members.next-day",
                                 g_date_compare (&self->date, &now) < 0);
}

/* A member's card shown takes the focus to Use This Card, where the
 * cashier's next key (Enter) belongs, not wherever the focus chain lands
 * (on a narrow screen the card takes the place of the list and its
 * search, and the focus went to the history's previous day). A card that
 * cannot be used gives it to the way back to the list, or to the search.
 * The card itself takes no focus: its labels are not selectable. */
static void
focus_card_soon (CtMembersPage *self)
{
  ct_focus_soon_first (self->use_button, self->back_button, GTK_WIDGET (self->search_entry), NULL);
}

static void
update_card (CtMembersPage *self)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);

  gtk_stack_set_visible_child_name (self->detail_stack, self->card ? "detail" : "none");
  ct_card_view_set_merchant (self->card_view, merchant);
  /* Folded (a narrow screen), the column shows the member once there is one. */
  adw_leaflet_set_visible_child (self->leaflet, self->card ? GTK_WIDGET (self->detail_stack)
                                                           : GTK_WIDGET (self->list_pane));
  ct_card_view_set_card (self->card_view, self->card,
                         ct_session_get_minor_units (self->session),
                         ct_session_get_currency (self->session), FALSE);

  if (self->card != NULL)
    gtk_button_set_label (self->freeze_button,
                          self->card->status == CT_CARD_STATUS_FROZEN ? _("Un_freeze Card…")
                                                                      : _("_Freeze Card…"));

  /* A closed card (lost and replaced) is only looked at. */
  {
    gboolean open = self->card != NULL && self->card->status != CT_CARD_STATUS_CLOSED;

    gtk_widget_action_set_enabled (GTK_WIDGET (self), "members.adjust", open);
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "members.freeze", open);
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "members.member-pin", open);
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "members.use", open);
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "members.replace", open);
  }
}

static GtkWidget *
result_row_new (CtMembersPage *self,
                const CtCard  *card)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *phone = ct_phone_mask (card->member_phone);
  g_autofree char *balance = ct_session_format_money (self->session, card->balance);
  g_autofree char *subtitle = g_strdup_printf ("%s · %s", phone, card->card_no);
  GtkWidget *suffix = gtk_label_new (balance);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 card->member_name && *card->member_name ? card->member_name
                                                                         : card->card_no);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  gtk_widget_add_css_class (suffix, "heading");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), suffix);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);

  return row;
}

#define RESULTS_PAGE 40

static void
add_result_rows (CtMembersPage *self)
{
  guint end;

  if (self->results == NULL)
    return;
  end = MIN (self->results->len, self->results_shown + RESULTS_PAGE);
  for (; self->results_shown < end; self->results_shown++)
    gtk_list_box_append (self->results_list,
                         result_row_new (self, g_ptr_array_index (self->results, self->results_shown)));
}

static gboolean
add_result_rows_cb (gpointer user_data)
{
  CtMembersPage *self = user_data;

  add_result_rows (self);
  if (self->results != NULL && self->results_shown < self->results->len)
    return G_SOURCE_CONTINUE;
  self->results_idle = 0;
  return G_SOURCE_REMOVE;
}

static void
find_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(CtMembersPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cards = NULL;

  cards = ct_client_card_find_finish (CT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->searching = FALSE;
  g_clear_handle_id (&self->results_idle, g_source_remove);
  ct_list_box_clear (self->results_list);
  g_clear_pointer (&self->results, g_ptr_array_unref);

  if (cards == NULL)
    {
      g_autofree char *text = ct_format_error (error);

      gtk_label_set_label (self->search_status, text);
      return;
    }

  self->results = g_ptr_array_ref (cards);

  if (cards->len == 0)
    gtk_label_set_label (self->search_status, _("No member found."));
  else
    {
      g_autofree char *text =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member found.", "%u members found.", cards->len),
                         cards->len);

      gtk_label_set_label (self->search_status, text);
    }

  /* A broad search finds hundreds: the rows are made a page at a time in
   * idle time, so the window keeps answering. */
  self->results_shown = 0;
  add_result_rows (self);
  if (self->results_shown < cards->len && self->results_idle == 0)
    self->results_idle = g_idle_add (add_result_rows_cb, self);
  gtk_widget_set_visible (GTK_WIDGET (self->results_list), cards->len > 0);

  if (cards->len == 1)
    ct_members_page_show_card (self, g_ptr_array_index (cards, 0));
}

/**
 * ct_members_page_search:
 * @text: a phone number or (part of) a name
 *
 * Looks members up; a phone number (or its last four digits) by phone,
 * anything else by name.
 */
void
ct_members_page_search (CtMembersPage *self,
                        const char    *text)
{
  g_autofree char *query = NULL;
  g_autofree char *phone_key = NULL;

  g_return_if_fail (CT_IS_MEMBERS_PAGE (self));

  query = g_strstrip (g_strdup (text ? text : ""));
  if (*query == '\0')
    {
      gtk_label_set_label (self->search_status, _("Type a phone number or a name."));
      return;
    }

  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)), text) != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);

  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  self->search_cancellable = g_cancellable_new ();
  self->searching = TRUE;

  /* The member found before is not the one being looked for now: their
   * details and the manager buttons for them go until the answer. */
  g_clear_handle_id (&self->results_idle, g_source_remove);
  ct_list_box_clear (self->results_list);
  g_clear_pointer (&self->results, g_ptr_array_unref);
  self->results_shown = 0;
  gtk_widget_set_visible (GTK_WIDGET (self->results_list), FALSE);
  ct_members_page_show_card (self, NULL);

  gtk_label_set_label (self->search_status, _("Searching…"));
  /* The whole number in any form, or its last four digits, is a phone
   * (ct-phone.c); anything else is a name. */
  phone_key = ct_phone_search_key (query, NULL);
  if (phone_key != NULL)
    ct_client_card_find_async (ct_session_get_client (self->session), phone_key, NULL,
                               self->search_cancellable, find_cb, g_object_ref (self));
  else
    ct_client_card_find_async (ct_session_get_client (self->session), NULL, query,
                               self->search_cancellable, find_cb, g_object_ref (self));
}

static void
search_activate_cb (CtMembersPage *self)
{
  ct_members_page_search (self, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static void
result_activated_cb (CtMembersPage *self,
                     GtkListBoxRow *row)
{
  int index = gtk_list_box_row_get_index (row);

  if (self->results != NULL && index >= 0 && (guint) index < self->results->len)
    ct_members_page_show_card (self, g_ptr_array_index (self->results, index));
}

static void
refund_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);
  const char *id = g_variant_get_string (param, NULL);

  for (guint i = 0; i < self->history->len; i++)
    {
      const CtTransaction *tx = g_ptr_array_index (self->history, i);

      if (g_strcmp0 (tx->id, id) == 0)
        {
          ct_manager_refund (widget, self->session, self->card, tx);
          return;
        }
    }
}

/* The receipt of a transaction in the card's history, printed again on
 * the till's receipt printer as a copy (never the drawer): the way a
 * fresh receipt goes, through the session's printer. */
static void
reprint_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);
  CtTillPrinter *printer = ct_session_get_printer (self->session);
  const char *id = g_variant_get_string (param, NULL);

  if (!ct_till_printer_is_set (printer))
    {
      gtk_widget_activate_action (widget, "win.toast", "s",
                                  _("No receipt printer is set. Choose one in Settings (F8)."));
      return;
    }
  for (guint i = 0; i < self->history->len; i++)
    {
      const CtTransaction *tx = g_ptr_array_index (self->history, i);

      if (g_strcmp0 (tx->id, id) == 0)
        {
          g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);
          g_autoptr(CtReceiptData) data =
            ct_receipt_data_new_from_transaction (tx, self->card ? self->card->member_name : NULL, merchant);

          data->copy = TRUE;
          ct_session_name_receipt (self->session, data);
          ct_till_printer_reprint (printer, data);
          gtk_widget_activate_action (widget, "win.toast", "s", _("Printing a copy of the receipt."));
          return;
        }
    }
}

/* Whether nothing is left to refund of @tx: what the service says was
 * given back of it, or, from a service before partial refunds, a refund of
 * it that day (refunds were whole). */
static gboolean
is_refunded (CtMembersPage       *self,
             const CtTransaction *tx)
{
  if (tx->refunded > 0)
    return tx->kind != CT_TRANSACTION_PAYMENT || tx->refunded >= -tx->delta + tx->redeemed_value;
  for (guint i = 0; i < self->history->len; i++)
    {
      const CtTransaction *refund = g_ptr_array_index (self->history, i);

      if (g_strcmp0 (refund->refund_of, tx->id) == 0)
        return TRUE;
    }

  return FALSE;
}

static GtkWidget *
history_row_new (CtMembersPage       *self,
                 const CtTransaction *tx)
{
  int mu = ct_session_get_minor_units (self->session);
  const char *cur = ct_session_get_currency (self->session);
  GtkWidget *row = adw_action_row_new ();
  /* When the customer paid (the day the service files it under), in the
   * merchant's time zone; an older service sends only its booking time. */
  g_autofree char *time = ct_format_local_time (tx->taken_at ? tx->taken_at : tx->created_at, "%H:%M");
  g_autofree char *tender = tx->tender ? ct_format_tender (tx->tender) : NULL;
  g_autofree char *paid_by = tender ? g_strdup_printf (_("paid by %s"), tender) : NULL;
  /* A split payment: the rest another tender took (its refund: gave back). */
  g_autofree char *rest_tender = tx->rest > 0 ? ct_format_tender (tx->rest_tender) : NULL;
  g_autofree char *rest_money = tx->rest > 0 ? ct_format_money (tx->rest, mu, cur) : NULL;
  g_autofree char *rest = tx->rest <= 0 ? NULL
                          : tx->kind == CT_TRANSACTION_REFUND ? g_strdup_printf (_("rest %s given back by %s"), rest_money,
                                                                                 rest_tender)
                                                              : g_strdup_printf (_("rest %s paid by %s"), rest_money,
                                                                                 rest_tender);
  g_autofree char *delta = ct_format_signed_money (tx->delta, mu, cur);
  g_autofree char *after = ct_format_money (tx->balance_after, mu, cur);
  g_autofree char *title = g_strdup_printf ("%s  %s", time, ct_format_transaction_kind (tx->kind));
  g_autofree char *after_text = g_strdup_printf (_("balance %s"), after);
  g_autofree char *subtitle = NULL;
  g_autofree char *refunded = NULL;
  GtkWidget *box;
  GtkWidget *amount;
  GtkWidget *balance;

  /* A payment refunded in part, or in parts, says how much of it. */
  if (tx->kind == CT_TRANSACTION_PAYMENT && tx->refunded > 0)
    {
      g_autofree char *part = ct_format_money (tx->refunded, mu, cur);
      g_autofree char *total = ct_format_money (-tx->delta + tx->redeemed_value, mu, cur);

      refunded = g_strdup_printf (_("refunded %s of %s"), part, total);
    }

  {
    const char *parts[7] = { NULL, };
    guint n = 0;

    parts[n++] = tx->till ? tx->till : "";
    parts[n++] = tx->operator_name ? tx->operator_name : "";
    if (paid_by != NULL)
      parts[n++] = paid_by;
    if (rest != NULL)
      parts[n++] = rest;
    if (refunded != NULL)
      parts[n++] = refunded;
    if (tx->reason != NULL && *tx->reason != '\0')
      parts[n++] = tx->reason;
    subtitle = g_strjoinv (" · ", (char **) parts);
  }

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  amount = gtk_label_new (delta);
  gtk_label_set_xalign (GTK_LABEL (amount), 1);
  gtk_widget_add_css_class (amount, "heading");
  gtk_widget_add_css_class (amount, tx->delta >= 0 ? "success" : "error");
  balance = gtk_label_new (after_text);
  gtk_label_set_xalign (GTK_LABEL (balance), 1);
  gtk_widget_add_css_class (balance, "dim-label");
  gtk_widget_add_css_class (balance, "caption");
  gtk_box_append (GTK_BOX (box), amount);
  gtk_box_append (GTK_BOX (box), balance);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);

  {
    GtkWidget *button = gtk_button_new_from_icon_name ("document-print-symbolic");

    gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
    gtk_widget_set_tooltip_text (button, _("Print a copy of the receipt"));
    gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Print a copy of the receipt"), -1);
    gtk_widget_add_css_class (button, "flat");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "members.reprint");
    gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", tx->id);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  }

  if ((tx->kind == CT_TRANSACTION_PAYMENT || tx->kind == CT_TRANSACTION_TOPUP) &&
      !is_refunded (self, tx))
    {
      GtkWidget *button = gtk_button_new_with_label (tx->kind == CT_TRANSACTION_PAYMENT ? _("Refund…")
                                                                                       : _("Void…"));

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "members.refund");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", tx->id);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }

  return row;
}

static void
show_history (CtMembersPage *self)
{
  ct_list_box_clear (self->history_list);

  if (self->history->len == 0)
    {
      gtk_label_set_label (self->history_empty_label, _("No transactions on this day."));
      gtk_stack_set_visible_child_name (self->history_stack, "empty");
      return;
    }

  for (guint i = 0; i < self->history->len; i++)
    gtk_list_box_append (self->history_list, history_row_new (self, g_ptr_array_index (self->history, i)));
  gtk_stack_set_visible_child_name (self->history_stack, "list");
}

static void
history_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(CtMembersPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtHistoryPage) page = NULL;

  page = ct_client_history_finish (CT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (page == NULL)
    {
      g_autofree char *text = ct_format_error (error);

      self->loading = FALSE;
      gtk_label_set_label (self->history_empty_label, text);
      gtk_stack_set_visible_child_name (self->history_stack, "empty");
      return;
    }

  for (guint i = 0; i < page->transactions->len; i++)
    g_ptr_array_add (self->history, ct_transaction_copy (g_ptr_array_index (page->transactions, i)));

  g_clear_pointer (&self->history_cursor, g_free);
  self->history_cursor = g_strdup (page->next_cursor);

  /* A day is shown whole: follow the cursor to its end. */
  if (self->history_cursor != NULL && self->history->len < 5000)
    {
      g_autofree char *iso = date_iso (&self->date);

      ct_client_history_async (CT_CLIENT (object), self->card->card_no, iso, iso,
                               self->history_cursor, 200, self->history_cancellable,
                               history_cb, g_object_ref (self));
      return;
    }

  self->loading = FALSE;
  show_history (self);
}

static void
load_history (CtMembersPage *self)
{
  g_autofree char *iso = NULL;

  if (self->history_cancellable != NULL)
    g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  g_ptr_array_set_size (self->history, 0);
  ct_list_box_clear (self->history_list);
  update_date_label (self);

  if (self->card == NULL)
    return;

  self->history_cancellable = g_cancellable_new ();
  self->loading = TRUE;
  gtk_stack_set_visible_child_name (self->history_stack, "loading");

  iso = date_iso (&self->date);
  ct_client_history_async (ct_session_get_client (self->session), self->card->card_no, iso, iso,
                           NULL, 200, self->history_cancellable, history_cb, g_object_ref (self));
}

/**
 * ct_members_page_show_card:
 *
 * Shows @card with today's history.
 */
void
ct_members_page_show_card (CtMembersPage *self,
                           const CtCard  *card)
{
  g_return_if_fail (CT_IS_MEMBERS_PAGE (self));

  g_clear_pointer (&self->card, ct_card_free);
  self->card = card ? ct_card_copy (card) : NULL;
  today (self, &self->date);
  update_card (self);
  load_history (self);
  focus_card_soon (self);
}

void
ct_members_page_set_date (CtMembersPage *self,
                          GDate         *date)
{
  g_return_if_fail (CT_IS_MEMBERS_PAGE (self));
  g_return_if_fail (g_date_valid (date));

  self->date = *date;
  load_history (self);
}

static void
move_day (CtMembersPage *self,
          int            days)
{
  GDate date = self->date;
  GDate now;

  today (self, &now);
  if (days < 0)
    g_date_subtract_days (&date, -days);
  else
    g_date_add_days (&date, days);

  /* There is no history in the future. */
  if (g_date_compare (&date, &now) > 0)
    return;

  ct_members_page_set_date (self, &date);
}

static void
previous_day_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  move_day (CT_MEMBERS_PAGE (widget), -1);
}

static void
next_day_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  move_day (CT_MEMBERS_PAGE (widget), 1);
}

static void
today_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);
  GDate now;

  today (self, &now);
  ct_members_page_set_date (self, &now);
}

static void
calendar_day_selected_cb (CtMembersPage *self)
{
  g_autoptr(GDateTime) chosen = gtk_calendar_get_date (self->calendar);
  GDate date;

  g_date_clear (&date, 1);
  g_date_set_dmy (&date, g_date_time_get_day_of_month (chosen),
                  g_date_time_get_month (chosen), g_date_time_get_year (chosen));
  gtk_menu_button_popdown (self->date_button);

  /* There is no history in the future: a later day shows today. */
  {
    GDate now;

    today (self, &now);
    if (g_date_compare (&date, &now) > 0)
      date = now;
  }

  if (g_date_compare (&date, &self->date) != 0)
    ct_members_page_set_date (self, &date);
}

static void
adjust_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  if (self->card != NULL)
    ct_manager_adjust (widget, self->session, self->card->card_no);
}

static void
freeze_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  if (self->card != NULL)
    ct_manager_set_frozen (widget, self->session, self->card->card_no,
                           self->card->status != CT_CARD_STATUS_FROZEN);
}

static void
member_pin_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  if (self->card != NULL)
    ct_manager_set_member_pin (widget, self->session, self->card->card_no);
}

static void
replace_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  if (self->card != NULL && self->card->status != CT_CARD_STATUS_CLOSED)
    ct_manager_replace_card (widget, self->session, self->card);
}

static void
issue_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  ct_manager_issue_card (widget, CT_MEMBERS_PAGE (widget)->session);
}

static void
use_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  if (self->card == NULL)
    return;

  ct_session_set_card (self->session, self->card);
  ct_session_refresh_card (self->session);
  gtk_widget_activate_action (widget, "win.page", "s", "scan");
}

static void
focus_search_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->list_pane));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
card_updated_cb (CtMembersPage *self,
                 CtCard        *card)
{
  if (self->card != NULL && card != NULL && g_strcmp0 (self->card->card_no, card->card_no) == 0)
    {
      g_clear_pointer (&self->card, ct_card_free);
      self->card = ct_card_copy (card);
      update_card (self);
    }
}

static void
session_card_cb (CtMembersPage *self)
{
  const CtCard *card = ct_session_get_card (self->session);

  /* Another card on the counter (a scan), or none after a sale: the
   * member shown here before is not the customer any more. A fresh
   * state of the same card is only an update. */
  if (ct_session_card_is_new (self->session, &self->counter_card_no)
      && self->card != NULL && g_strcmp0 (self->counter_card_no, self->card->card_no) != 0)
    {
      ct_members_page_show_card (self, NULL);
      return;
    }
  card_updated_cb (self, (CtCard *) card);
}

static void
receipt_cb (CtMembersPage *self)
{
  const CtReceiptData *data = ct_session_get_last_receipt (self->session);

  /* A refund or adjustment of the shown card changes its history. */
  if (data != NULL && self->card != NULL && g_strcmp0 (data->card_no, self->card->card_no) == 0)
    load_history (self);
}

static void
ct_members_page_dispose (GObject *object)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (object);

  if (self->search_cancellable != NULL)
    g_cancellable_cancel (self->search_cancellable);
  if (self->history_cancellable != NULL)
    g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->history_cancellable);
  g_clear_pointer (&self->counter_card_no, g_free);
  g_clear_handle_id (&self->results_idle, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_MEMBERS_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->card, ct_card_free);
  g_clear_pointer (&self->results, g_ptr_array_unref);
  g_clear_pointer (&self->history, g_ptr_array_unref);
  g_clear_pointer (&self->history_cursor, g_free);

  G_OBJECT_CLASS (ct_members_page_parent_class)->dispose (object);
}

static void
ct_members_page_map (GtkWidget *widget)
{
  CtMembersPage *self = CT_MEMBERS_PAGE (widget);

  GTK_WIDGET_CLASS (ct_members_page_parent_class)->map (widget);
  if (self->card == NULL)
    ct_focus_soon (GTK_WIDGET (self->search_entry));
  else
    focus_card_soon (self);
}

static void
ct_members_page_class_init (CtMembersPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_members_page_dispose;
  widget_class->map = ct_members_page_map;

  g_type_ensure (CT_TYPE_CARD_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-members-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, search_status);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, results_list);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, list_pane);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, use_button);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, card_view);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, freeze_button);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, date_button);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, calendar);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, history_stack);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, history_empty_label);
  gtk_widget_class_bind_template_child (widget_class, CtMembersPage, history_list);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, result_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, calendar_day_selected_cb);

  gtk_widget_class_install_action (widget_class, "members.previous-day", NULL, previous_day_action);
  gtk_widget_class_install_action (widget_class, "members.next-day", NULL, next_day_action);
  gtk_widget_class_install_action (widget_class, "members.today", NULL, today_action);
  gtk_widget_class_install_action (widget_class, "members.adjust", NULL, adjust_action);
  gtk_widget_class_install_action (widget_class, "members.freeze", NULL, freeze_action);
  gtk_widget_class_install_action (widget_class, "members.member-pin", NULL, member_pin_action);
  gtk_widget_class_install_action (widget_class, "members.replace", NULL, replace_action);
  gtk_widget_class_install_action (widget_class, "members.issue", NULL, issue_action);
  gtk_widget_class_install_action (widget_class, "members.use", NULL, use_action);
  gtk_widget_class_install_action (widget_class, "members.refund", "s", refund_action);
  gtk_widget_class_install_action (widget_class, "members.reprint", "s", reprint_action);
  gtk_widget_class_install_action (widget_class, "members.focus-search", NULL, focus_search_action);
  /* Folded: from the member back to the list and the search. */
  gtk_widget_class_install_action (widget_class, "members.back", NULL, focus_search_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, 0, "members.previous-day", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, 0, "members.next-day", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, GDK_ALT_MASK, "members.today", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "members.focus-search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "members.issue", NULL);
  /* The manager actions of the member shown, without Tabbing to them. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_b, GDK_CONTROL_MASK, "members.adjust", NULL);
}

static void
ct_members_page_init (CtMembersPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The bin's own child, not a template child: the bin unparents it. */
  self->leaflet = ADW_LEAFLET (adw_bin_get_child (ADW_BIN (self)));
  g_object_bind_property (self->leaflet, "folded", self->back_button, "visible", G_BINDING_SYNC_CREATE);
  gtk_widget_set_visible (GTK_WIDGET (self->results_list), FALSE);
  self->history = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_transaction_free);
  g_date_clear (&self->date, 1);
}

GtkWidget *
ct_members_page_new (CtSession *session)
{
  CtMembersPage *self = g_object_new (CT_TYPE_MEMBERS_PAGE, NULL);

  self->session = g_object_ref (session);
  if (ct_session_get_card (session) != NULL)
    self->counter_card_no = g_strdup (ct_session_get_card (session)->card_no);
  today (self, &self->date);
  g_signal_connect_object (ct_session_get_client (session), "card-updated",
                           G_CALLBACK (card_updated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::card", G_CALLBACK (session_card_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::last-receipt", G_CALLBACK (receipt_cb), self, G_CONNECT_SWAPPED);
  update_card (self);
  update_date_label (self);

  return GTK_WIDGET (self);
}

char *
ct_members_page_get_date_text (CtMembersPage *self)
{
  GDate now;

  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), NULL);

  today (self, &now);
  if (g_date_compare (&self->date, &now) == 0)
    {
      g_autofree char *iso = date_iso (&self->date);

      return g_strdup_printf (_("Today, %s"), iso);
    }

  /* The weekday comes from our own translations, not from strftime, so it
   * follows the language the window speaks even where the matching locale
   * is not installed. */
  {
    static const char *const weekdays[] = {
      NC_("weekday", "Mon"), NC_("weekday", "Tue"), NC_("weekday", "Wed"),
      NC_("weekday", "Thu"), NC_("weekday", "Fri"), NC_("weekday", "Sat"),
      NC_("weekday", "Sun"),
    };
    GDateWeekday wd = g_date_get_weekday (&self->date);
    g_autofree char *iso = date_iso (&self->date);

    if (wd < G_DATE_MONDAY || wd > G_DATE_SUNDAY)
      return g_steal_pointer (&iso);
    /* TRANSLATORS: a day of a member's history: the date (2026-11-22),
     * then the weekday's short name. */
    return g_strdup_printf (C_("history day", "%s %s"), iso,
                            g_dpgettext2 (GETTEXT_PACKAGE, "weekday", weekdays[wd - 1]));
  }
}

/**
 * ct_members_page_get_n_result_rows:
 *
 * Returns: the rows of results made so far (a page at a time).
 */
guint
ct_members_page_get_n_result_rows (CtMembersPage *self)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), 0);
  return self->results_shown;
}

guint
ct_members_page_get_n_results (CtMembersPage *self)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), 0);
  return self->results ? self->results->len : 0;
}

guint
ct_members_page_get_n_history (CtMembersPage *self)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), 0);
  return self->loading ? 0 : self->history->len;
}

gboolean
ct_members_page_is_loading (CtMembersPage *self)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), FALSE);
  return self->loading || self->searching;
}

const char *
ct_members_page_get_status (CtMembersPage *self)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), NULL);
  return gtk_label_get_label (self->search_status);
}

const CtCard *
ct_members_page_get_card (CtMembersPage *self)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), NULL);
  return self->card;
}

const CtTransaction *
ct_members_page_get_history_item (CtMembersPage *self,
                                  guint          index)
{
  g_return_val_if_fail (CT_IS_MEMBERS_PAGE (self), NULL);

  if (self->loading || index >= self->history->len)
    return NULL;
  return g_ptr_array_index (self->history, index);
}
