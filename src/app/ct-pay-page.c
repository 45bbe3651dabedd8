/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-pay-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-focus.h"
#include "ct-format.h"
#include "ct-keypad.h"
#include "ct-member-pin-dialog.h"
#include "ct-money.h"
#include "ct-pay-page.h"

/* Pay from the card's balance: the balance after, or the shortfall, is
 * on screen before the cashier confirms; a frozen card is refused; the
 * points the payment earns are shown. */

struct _CtPayPage
{
  AdwBin         parent_instance;

  CtSession     *session;
  char          *card_no;   /* the customer the choices on screen belong to */
  GCancellable  *cancellable;
  int64_t        amount;
  gboolean       amount_ok;
  gboolean       busy;
  int64_t        redeem_points; /* what the cashier typed, as the service would take it */
  gboolean       consent_asked; /* the payment on its way needs the member's consent */
  gboolean       code_sent;     /* it carries the member's payment code */
  gboolean       points_sent;   /* it redeems points */
  /* A card short of the order: what it pays and the rest another tender
   * takes, offered on screen; and the split of the payment on its way. */
  gboolean       split_offered;
  int64_t        split_share;
  int64_t        split_rest;
  int64_t        send_amount;   /* what the card pays in the payment on its way */
  int64_t        send_rest;     /* 0, or the rest its tender takes */
  char          *send_rest_tender;

  GtkLabel      *card_label;
  GtkEntry      *amount_entry;
  GtkEntry      *order_entry;
  CtKeypad      *keypad;
  GtkLabel      *summary_label;
  GtkLabel      *after_label;
  GtkLabel      *points_label;
  GtkLabel      *benefit_label;
  GtkWidget     *points_box;
  GtkEntry      *points_entry;
  GtkLabel      *problem_label;
  GtkWidget     *split_box;
  /* The labels whose mnemonics (Alt+A, Alt+O) the tender keys take while
   * a split payment is offered, with their text with and without one. */
  GtkLabel      *titles[3];
  char          *title_text[3];
  char          *title_plain[3];
  GtkLabel      *amount_title;
  GtkLabel      *order_title;
  GtkLabel      *points_title;
  GtkSpinner    *spinner;
  GtkButton     *confirm_button;
};

G_DEFINE_FINAL_TYPE (CtPayPage, ct_pay_page, ADW_TYPE_BIN)

static void
show_problem (CtPayPage  *self,
              const char *problem)
{
  ct_problem_label_set (self->problem_label, problem);
}

/* The points the cashier typed to redeem: 0 for none, -1 (with a
 * sentence in @out_problem) when the service would refuse them. Sets
 * @out_value to what they pay, at most the merchant's share of @due. */
static int64_t
points_to_redeem (CtPayPage        *self,
                  const CtMerchant *merchant,
                  const CtCard     *card,
                  int64_t           due,
                  int64_t          *out_value,
                  char            **out_problem)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->points_entry));
  guint64 points = 0;
  int64_t value, max_value;

  *out_value = 0;
  if (text == NULL || *text == '\0')
    return 0;
  if (!g_ascii_string_to_unsigned (text, 10, 1, CT_MONEY_MAX, &points, NULL))
    {
      *out_problem = g_strdup (_("Points to use is a whole number of points."));
      return -1;
    }
  if (points % merchant->points_redeem_rate != 0)
    {
      g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) merchant->points_redeem_rate);

      *out_problem = g_strdup_printf (_("Points pay in steps of %s."), step);
      return -1;
    }
  if (card != NULL && (int64_t) points > card->points)
    {
      g_autofree char *held = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) card->points);

      *out_problem = g_strdup_printf (_("The card holds only %s points."), held);
      return -1;
    }
  value = (int64_t) points / merchant->points_redeem_rate * ct_money_unit (merchant->minor_units);
  max_value = ct_money_share_bp (due, merchant->points_redeem_max_bp);
  if (value > max_value)
    {
      g_autofree char *max = ct_session_format_money (self->session, max_value);

      *out_problem = g_strdup_printf (_("Points may pay at most %s of this payment."), max);
      return -1;
    }
  *out_value = value;
  return (int64_t) points;
}

/* What the member's level takes off (@discount) and what @points pay
 * (@value), on the line above the balance. */
static void
show_benefit (CtPayPage     *self,
              const CtLevel *level,
              int64_t        discount,
              int64_t        points,
              int64_t        value)
{
  g_autoptr(GString) benefit = g_string_new (NULL);

  if (discount > 0)
    {
      g_autofree char *off = ct_session_format_money (self->session, discount);
      g_string_append_printf (benefit, _("%s: %s off"), level->name, off);
    }
  if (value > 0)
    {
      g_autofree char *paid = ct_session_format_money (self->session, value);
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) points);

      if (benefit->len > 0)
        g_string_append (benefit, " · ");
      g_string_append_printf (benefit, g_dngettext (GETTEXT_PACKAGE, "%s point pays %s", "%s points pay %s",
                                                    (gulong) MIN (points, G_MAXLONG)), count, paid);
    }
  gtk_label_set_label (self->benefit_label, benefit->str);
  gtk_widget_set_visible (GTK_WIDGET (self->benefit_label), benefit->len > 0);
}

/* Split payment: the card pays what its balance and the points the
 * cashier typed cover, another tender the rest. The points pay part of
 * the card's share and, as the service books it, at most the merchant's
 * share of what that part is due: points the share cannot take are said
 * in a sentence rather than offered. The offer takes the shortfall's line,
 * so Confirm stays on a 600 px screen. */
static void
offer_split (CtPayPage        *self,
             const CtMerchant *merchant,
             const CtCard     *card,
             const CtLevel    *level,
             int64_t           amount,
             int64_t           points,
             int64_t           value)
{
  int64_t discount_bp = level ? level->discount_bp : 0;
  int64_t share = ct_pay_split_card_share (amount, card->balance + value, discount_bp);
  int64_t due = share - ct_money_share_bp (share, discount_bp);
  g_autofree char *rest = NULL;
  g_autofree char *offer = NULL;

  if (share <= 0 || share >= amount)
    return;
  if (value > 0 && value > ct_money_share_bp (due, merchant->points_redeem_max_bp))
    {
      g_autofree char *max = ct_session_format_money (self->session,
                                                      ct_money_share_bp (due, merchant->points_redeem_max_bp));
      g_autofree char *msg =
        g_strdup_printf (_("In a split payment, points may pay at most %s of the card's part. "
                           "Use fewer points, or none."), max);

      show_problem (self, msg);
      return;
    }

  rest = ct_session_format_money (self->session, amount - share);
  if (value > 0)
    {
      g_autofree char *balance = ct_session_format_money (self->session, due - value);
      g_autofree char *paid = ct_session_format_money (self->session, value);
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) points);

      offer = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Card pays %s + %s point (%s), take the rest %s by:",
                                            "Card pays %s + %s points (%s), take the rest %s by:",
                                            (gulong) MIN (points, G_MAXLONG)),
                               balance, count, paid, rest);
    }
  else
    {
      g_autofree char *pays = ct_session_format_money (self->session, due);

      offer = g_strdup_printf (_("Card pays %s, take the rest %s by:"), pays, rest);
    }
  self->split_offered = TRUE;
  self->split_share = share;
  self->split_rest = amount - share;
  /* The level's discount is the card's part's alone, as the service books it. */
  show_benefit (self, level, share - due, points, value);
  gtk_label_set_label (self->after_label, offer);
  gtk_widget_remove_css_class (GTK_WIDGET (self->after_label), "error");
  gtk_widget_set_visible (self->split_box, TRUE);
}

/* What the card's level takes off and what points pay, before the cashier
 * confirms, computed as the service will book it; FALSE when the payment
 * cannot be made as it stands. */
static gboolean
show_split (CtPayPage        *self,
            const CtMerchant *merchant,
            const CtCard     *card,
            gboolean          card_known,
            int64_t           amount,
            gboolean         *out_short)
{
  const CtLevel *level = card_known ? ct_merchant_find_level (merchant, card->level) : NULL;
  g_autofree char *problem = NULL;
  int64_t value = 0, points = 0, discount_bp = level ? level->discount_bp : 0;
  CtPaySplit split;

  ct_pay_split_compute (amount, discount_bp, 0, merchant ? merchant->minor_units : 2, 0, 10000, &split);
  if (merchant != NULL && merchant->points_redeem_rate > 0)
    points = points_to_redeem (self, merchant, card_known ? card : NULL, split.due, &value, &problem);
  ct_pay_split_compute (amount, discount_bp, value, merchant ? merchant->minor_units : 2,
                        merchant ? merchant->points_per_unit : 0, level ? level->points_multiplier_bp : 10000,
                        &split);
  self->redeem_points = MAX (points, 0);

  if (problem != NULL)
    show_problem (self, problem);
  show_benefit (self, level, split.discount, points, value);

  *out_short = card_known && split.from_balance > card->balance;
  if (card_known && *out_short)
    {
      g_autofree char *shortfall = ct_session_format_money (self->session, split.from_balance - card->balance);
      g_autofree char *msg = g_strdup_printf (_("Insufficient balance: %s short"), shortfall);

      gtk_label_set_label (self->after_label, msg);
      gtk_widget_add_css_class (GTK_WIDGET (self->after_label), "error");
      if (problem == NULL && card->balance >= 0 && card->balance + value > 0
          && card->status != CT_CARD_STATUS_FROZEN)
        offer_split (self, merchant, card, level, amount, points, value);
    }
  else if (card_known)
    {
      g_autofree char *after = ct_session_format_money (self->session, card->balance - split.from_balance);
      g_autofree char *pays = ct_session_format_money (self->session, split.from_balance);
      g_autofree char *msg = split.from_balance != amount
                               ? g_strdup_printf (_("The balance pays %s; balance after: %s"), pays, after)
                               : g_strdup_printf (_("Balance after: %s"), after);

      gtk_label_set_label (self->after_label, msg);
    }

  /* Points are earned by a payment that can be made. */
  if (merchant != NULL && merchant->points_per_unit > 0 && !*out_short && problem == NULL
      && !(card_known && card->status == CT_CARD_STATUS_FROZEN))
    {
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) split.points_earned);
      g_autofree char *msg =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Earns %s point", "Earns %s points",
                                      (gulong) MIN (split.points_earned, G_MAXLONG)),
                         count);

      gtk_label_set_label (self->points_label, msg);
      gtk_widget_set_visible (GTK_WIDGET (self->points_label), TRUE);
    }
  return problem == NULL;
}

static void set_title_mnemonics (CtPayPage *self, gboolean on);

static void
update_summary (CtPayPage *self)
{
  const CtCard *card = ct_session_get_card (self->session);
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);
  gboolean card_known = card != NULL && !(card->from_cache && card->fetched_at == 0);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->amount_entry));
  int minor_units = merchant ? merchant->minor_units : 2;
  gboolean short_of_money = FALSE;
  gboolean frozen = card_known && card->status == CT_CARD_STATUS_FROZEN;
  gboolean can_redeem = merchant != NULL && merchant->points_redeem_rate > 0 && card_known && card->points > 0;

  self->amount_ok = FALSE;
  self->redeem_points = 0;
  self->split_offered = FALSE;
  self->split_share = self->split_rest = 0;
  gtk_widget_set_visible (self->split_box, FALSE);
  gtk_label_set_label (self->after_label, "");
  gtk_label_set_label (self->points_label, "");
  gtk_widget_set_visible (GTK_WIDGET (self->points_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->benefit_label), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->after_label), "error");
  /* Points pay only where the merchant takes them and the card has some. */
  gtk_widget_set_visible (GTK_WIDGET (self->points_box), can_redeem);
  if (!can_redeem && *gtk_editable_get_text (GTK_EDITABLE (self->points_entry)) != '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->points_entry), "");

  if (text == NULL || *text == '\0')
    gtk_label_set_label (self->summary_label, _("Enter the amount."));
  else
    {
      g_autofree char *problem = NULL;
      int64_t amount = 0;

      if (!ct_format_parse_amount (text, minor_units, FALSE, &amount, &problem))
        gtk_label_set_label (self->summary_label, problem);
      else
        {
          g_autofree char *amount_text = ct_session_format_money (self->session, amount);
          g_autofree char *summary = g_strdup_printf (_("Pay %s"), amount_text);

          self->amount = amount;
          gtk_label_set_label (self->summary_label, summary);
          self->amount_ok = show_split (self, merchant, card, card_known, amount, &short_of_money);
        }
    }

  if (card == NULL)
    gtk_label_set_label (self->card_label, _("Scan the member's card first (F2)."));
  else
    {
      g_autofree char *balance = card_known ? ct_session_format_money (self->session, card->balance)
                                            : g_strdup ("—");
      g_autofree char *label = g_strdup_printf (_("%s — balance %s"),
                                                card->member_name && *card->member_name
                                                  ? card->member_name : card->card_no,
                                                balance);

      gtk_label_set_label (self->card_label, label);
    }

  if (frozen)
    show_problem (self, _("This card is frozen. It cannot pay until a manager unfreezes it."));

  /* An insufficient balance is still sent when the shown state came from
   * the cache: the service decides with the real balance. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "pay.confirm",
                                 card != NULL && self->amount_ok && !self->busy && !frozen &&
                                 !(short_of_money && !card->from_cache));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "pay.split",
                                 card != NULL && self->amount_ok && self->split_offered && !self->busy && !frozen);
  set_title_mnemonics (self, !self->split_offered);
}

static void
amount_changed_cb (CtPayPage *self)
{
  show_problem (self, NULL);
  update_summary (self);
}

static void
amount_activate_cb (CtPayPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "pay.confirm", NULL);
}

static void
set_busy (CtPayPage *self,
          gboolean   busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_editable_set_editable (GTK_EDITABLE (self->amount_entry), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->keypad), !busy);
  update_summary (self);
}

static void ask_member_pin (CtPayPage *self, const char *problem);

static void start_payment (CtPayPage *self, const CtMerchant *merchant);

/* The member's consent, asked again: the service wants the member's PIN
 * (none given yet, or a wrong one). FALSE for any other answer, and for a
 * payment code refused (the cashier says so; the member may show it
 * again). */
static gboolean
consent_needed (CtPayPage    *self,
                const GError *error)
{
  if (!(g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_MEMBER_CONSENT_REQUIRED) && !self->code_sent)
      && !g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_MEMBER_PIN_WRONG))
    return FALSE;
  ask_member_pin (self, error->code == CT_CLIENT_ERROR_MEMBER_PIN_WRONG
                        ? _("That PIN is wrong. Please type it again.") : NULL);
  return TRUE;
}

static void
pay_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(CtPayPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = NULL;

  receipt = ct_client_pay_finish (CT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);

  if (receipt != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
      gtk_editable_set_text (GTK_EDITABLE (self->order_entry), "");
      gtk_editable_set_text (GTK_EDITABLE (self->points_entry), "");
      ct_session_apply_receipt (self->session, receipt);
      return;
    }

  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_QUEUED))
    {
      if (self->send_rest > 0)
        ct_session_show_queued_split_receipt (self->session, ct_session_get_card (self->session),
                                              self->send_amount, self->send_rest, self->send_rest_tender);
      else
        ct_session_show_queued_receipt (self->session, CT_TRANSACTION_PAYMENT,
                                        ct_session_get_card (self->session), self->send_amount, 0, NULL);
      gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
      gtk_editable_set_text (GTK_EDITABLE (self->order_entry), "");
      gtk_editable_set_text (GTK_EDITABLE (self->points_entry), "");
      return;
    }

  ct_session_refresh_after_refusal (self->session, error);
  if (consent_needed (self, error))
    return;
  /* Only the service checks a member's PIN or payment code. */
  if (self->consent_asked && (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE)
                              || g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_OFFLINE_REFUSED)))
    {
      show_problem (self, _("This payment needs the member's PIN or payment code, which only the card "
                            "service can check, and the service cannot be reached. Nothing was taken."));
      return;
    }
  /* Only the service holds the points: a redemption is never taken offline. */
  if (self->points_sent && (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE)
                            || g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_OFFLINE_REFUSED)))
    {
      show_problem (self, _("Paying with points needs the card service, and the service cannot be reached. "
                            "Nothing was taken."));
      return;
    }

  {
    g_autofree char *problem = ct_format_error (error);

    show_problem (self, problem);
  }
}

/* Sends the payment on screen, with the member's @member_pin if given. */
static void
send_payment (CtPayPage  *self,
              const char *member_pin)
{
  const CtCard *card = ct_session_get_card (self->session);
  const char *order = gtk_editable_get_text (GTK_EDITABLE (self->order_entry));
  g_autofree char *member_code = NULL;

  if (card == NULL || !self->amount_ok || self->busy)
    return;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);

  /* A payment code the member showed goes with this payment and no other:
   * the service takes each code once. */
  member_code = g_strdup (ct_session_get_member_code (self->session));
  ct_session_forget_member_code (self->session);
  self->code_sent = member_code != NULL;
  self->points_sent = self->redeem_points > 0;
  self->consent_asked |= member_code != NULL || member_pin != NULL;
  if (self->send_rest > 0)
    {
      ct_client_pay_split_async (ct_session_get_client (self->session), card->card_no, self->send_amount,
                                 order && *order ? order : NULL, self->redeem_points, member_code, member_pin,
                                 self->send_rest,
                                 self->send_rest_tender, self->cancellable, pay_cb, g_object_ref (self));
      return;
    }
  ct_client_pay_member_async (ct_session_get_client (self->session), card->card_no, self->send_amount,
                              order && *order ? order : NULL, self->redeem_points, member_code,
                              member_pin, self->cancellable, pay_cb, g_object_ref (self));
}

static void
member_pin_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(CtPayPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = ct_member_pin_dialog_run_finish (result, &error);

  if (pin == NULL)
    {
      g_autofree char *problem = NULL;
      g_autoptr(GError) consent = g_error_new_literal (CT_CLIENT_ERROR, CT_CLIENT_ERROR_MEMBER_CONSENT_REQUIRED, "");

      problem = ct_format_error (consent);
      show_problem (self, problem);
      return;
    }
  send_payment (self, pin);
  memset (pin, 0, strlen (pin));
}

/* The member's PIN dialog, turned to the member: what they pay, and why
 * the last PIN was refused. */
static void
ask_member_pin (CtPayPage  *self,
                const char *problem)
{
  g_autofree char *amount = ct_session_format_money (self->session, self->send_amount);
  g_autofree char *body = g_strdup_printf (_("Please type your card's PIN to pay %s. The cashier does not see it."),
                                           amount);

  ct_member_pin_dialog_run_async (GTK_WIDGET (self), body, problem, NULL, NULL, member_pin_cb, g_object_ref (self));
}

static void
confirm_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  CtPayPage *self = CT_PAY_PAGE (widget);
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);

  update_summary (self);
  if (ct_session_get_card (self->session) == NULL || !self->amount_ok || self->busy)
    return;
  show_problem (self, NULL);
  self->send_amount = self->amount;
  self->send_rest = 0;
  g_clear_pointer (&self->send_rest_tender, g_free);
  start_payment (self, merchant);
}

/* Over the merchant's limit the member types their PIN first, unless
 * they showed their payment code; then the payment goes. */
static void
start_payment (CtPayPage        *self,
               const CtMerchant *merchant)
{
  self->consent_asked = merchant != NULL && merchant->consent_over > 0 && self->send_amount > merchant->consent_over;
  if (self->consent_asked && ct_session_get_member_code (self->session) == NULL)
    ask_member_pin (self, NULL);
  else
    send_payment (self, NULL);
}

/* The cashier took the rest by @param's tender: the card pays what it
 * holds, and the rest goes with the payment. */
static void
split_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtPayPage *self = CT_PAY_PAGE (widget);
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);

  update_summary (self);
  if (ct_session_get_card (self->session) == NULL || !self->amount_ok || !self->split_offered || self->busy)
    return;
  show_problem (self, NULL);
  self->send_amount = self->split_share;
  self->send_rest = self->split_rest;
  g_free (self->send_rest_tender);
  self->send_rest_tender = g_variant_dup_string (param, NULL);
  start_payment (self, merchant);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtPayPage *self = CT_PAY_PAGE (widget);

  if (self->busy)
    return;

  show_problem (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->order_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->points_entry), "");
  gtk_widget_activate_action (widget, "win.page", "s", "scan");
}

static void
ct_pay_page_dispose (GObject *object)
{
  CtPayPage *self = CT_PAY_PAGE (object);

  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_PAY_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->card_no, g_free);
  g_clear_pointer (&self->send_rest_tender, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->titles); i++)
    {
      g_clear_pointer (&self->title_text[i], g_free);
      g_clear_pointer (&self->title_plain[i], g_free);
    }

  G_OBJECT_CLASS (ct_pay_page_parent_class)->dispose (object);
}

static void
ct_pay_page_map (GtkWidget *widget)
{
  CtPayPage *self = CT_PAY_PAGE (widget);

  GTK_WIDGET_CLASS (ct_pay_page_parent_class)->map (widget);
  ct_focus_soon (GTK_WIDGET (self->amount_entry));
}

static void
ct_pay_page_class_init (CtPayPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_pay_page_dispose;
  widget_class->map = ct_pay_page_map;

  g_type_ensure (CT_TYPE_KEYPAD);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-pay-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, card_label);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, amount_entry);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, order_entry);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, after_label);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, points_label);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, benefit_label);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, points_box);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, points_entry);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, split_box);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, amount_title);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, order_title);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, points_title);
  gtk_widget_class_bind_template_child (widget_class, CtPayPage, confirm_button);
  gtk_widget_class_bind_template_callback (widget_class, amount_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, amount_activate_cb);

  gtk_widget_class_install_action (widget_class, "pay.confirm", NULL, confirm_action);
  gtk_widget_class_install_action (widget_class, "pay.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "pay.split", "s", split_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "pay.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "pay.confirm", NULL);
}

/* A label's text without its mnemonic: "_Amount to pay" is "Amount to
 * pay", "消费金额(_A)" is "消费金额". */
static char *
strip_mnemonic (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if ((p[0] == '(' || g_str_has_prefix (p, "（")) && strstr (p, "_") != NULL)
        {
          const char *open_end = p[0] == '(' ? p + 1 : p + strlen ("（");
          const char *close = open_end[0] == '_' && open_end[1] != '\0' ? open_end + 2 : NULL;

          if (close != NULL && (close[0] == ')' || g_str_has_prefix (close, "）")))
            {
              p = close[0] == ')' ? close : close + strlen ("）") - 1;
              continue;
            }
        }
      if (p[0] == '_' && p[1] == '_')
        {
          g_string_append_c (out, '_');
          p++;
          continue;
        }
      if (p[0] == '_')
        continue;
      g_string_append_c (out, p[0]);
    }
  return g_string_free (out, FALSE);
}

/* While a split payment is offered, its tender keys are Alt+C/W/A/B/O:
 * the labels give up their mnemonics (Alt+A, Alt+O), which GTK would
 * otherwise take first; they come back with the offer's end. */
static void
set_title_mnemonics (CtPayPage *self,
                     gboolean   on)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->titles); i++)
    {
      if (gtk_label_get_use_underline (self->titles[i]) == on)
        continue;
      gtk_label_set_use_underline (self->titles[i], on);
      gtk_label_set_label (self->titles[i], on ? self->title_text[i] : self->title_plain[i]);
    }
}

/* The rest's tender keys, taken before the labels' mnemonics see them
 * (Alt+A is also "Amount to pay", Alt+O "Order reference") while a split
 * payment is offered; otherwise they pass on. */
static gboolean
split_key_cb (GtkEventControllerKey *controller,
              guint                  keyval,
              guint                  keycode,
              GdkModifierType        state,
              CtPayPage             *self)
{
  static const struct
  {
    guint       keyval;
    const char *tender;
  } keys[] = {
    { GDK_KEY_c, "cash" }, { GDK_KEY_w, "wechat" }, { GDK_KEY_a, "alipay" },
    { GDK_KEY_b, "bank_card" }, { GDK_KEY_o, "other" },
  };
  guint lower = gdk_keyval_to_lower (keyval);

  if ((state & (GDK_ALT_MASK | GDK_CONTROL_MASK | GDK_SUPER_MASK)) != GDK_ALT_MASK || !self->split_offered
      || self->busy)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (lower == keys[i].keyval)
      return gtk_widget_activate_action (GTK_WIDGET (self), "pay.split", "s", keys[i].tender);
  return FALSE;
}

static void
ct_pay_page_init (CtPayPage *self)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (split_key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
  self->titles[0] = self->amount_title;
  self->titles[1] = self->order_title;
  self->titles[2] = self->points_title;
  for (guint i = 0; i < G_N_ELEMENTS (self->titles); i++)
    {
      self->title_text[i] = g_strdup (gtk_label_get_label (self->titles[i]));
      self->title_plain[i] = strip_mnemonic (self->title_text[i]);
    }
  ct_keypad_set_target (self->keypad, GTK_EDITABLE (self->amount_entry));
}

/* Another customer (or none) is on the counter: what was chosen for the
 * previous one goes, and the focus leaves Confirm, so that Enter cannot
 * take the previous customer's choice for the new one. */
static void
card_changed_cb (CtPayPage *self)
{
  gboolean had_focus;

  if (!ct_session_card_is_new (self->session, &self->card_no))
    {
      update_summary (self);
      return;
    }

  had_focus = gtk_widget_has_focus (GTK_WIDGET (self->confirm_button));
  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->order_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->points_entry), "");
  /* A card that left the counter because the service closed it: the
   * session says why (the card that replaced it). */
  show_problem (self, ct_session_get_card (self->session) == NULL ? ct_session_get_problem (self->session) : NULL);
  update_summary (self);
  if (had_focus)
    gtk_widget_grab_focus (GTK_WIDGET (self->amount_entry));
}

GtkWidget *
ct_pay_page_new (CtSession *session)
{
  CtPayPage *self = g_object_new (CT_TYPE_PAY_PAGE, NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::card", G_CALLBACK (card_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (ct_session_get_client (session), "notify::merchant",
                           G_CALLBACK (update_summary), self, G_CONNECT_SWAPPED);
  update_summary (self);

  return GTK_WIDGET (self);
}

GtkEntry *
ct_pay_page_get_amount_entry (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);
  return self->amount_entry;
}

const char *
ct_pay_page_get_summary (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);
  return gtk_label_get_label (self->summary_label);
}

const char *
ct_pay_page_get_after (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);
  return gtk_label_get_label (self->after_label);
}

const char *
ct_pay_page_get_points (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);
  return gtk_label_get_label (self->points_label);
}

const char *
ct_pay_page_get_benefit (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->benefit_label)))
    return NULL;
  return gtk_label_get_label (self->benefit_label);
}

GtkEntry *
ct_pay_page_get_points_entry (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);
  return self->points_entry;
}

/* The split payment offered ("Card pays ¥110.00, take the rest ¥40.00
 * by:"), or NULL. */
const char *
ct_pay_page_get_split_offer (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->split_box))
    return NULL;
  return gtk_label_get_label (self->after_label);
}

const char *
ct_pay_page_get_problem (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), NULL);

  return ct_problem_label_get (self->problem_label);
}

gboolean
ct_pay_page_is_busy (CtPayPage *self)
{
  g_return_val_if_fail (CT_IS_PAY_PAGE (self), FALSE);
  return self->busy;
}
