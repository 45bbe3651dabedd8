/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-receipt-data"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-format.h"
#include "ct-receipt-data.h"

/* The one home of what a receipt says. The screen, the PDF, the terminal
 * and the thermal printer differ in how they lay the lines out, never in
 * which lines there are or how an amount is written. */

G_DEFINE_BOXED_TYPE (CtReceiptData, ct_receipt_data, ct_receipt_data_copy, ct_receipt_data_free)

CtReceiptData *
ct_receipt_data_copy (const CtReceiptData *data)
{
  CtReceiptData *copy;

  if (data == NULL)
    return NULL;

  copy = g_memdup2 (data, sizeof *data);
  copy->card_no = g_strdup (data->card_no);
  copy->member_name = g_strdup (data->member_name);
  copy->store = g_strdup (data->store);
  copy->till = g_strdup (data->till);
  copy->operator_name = g_strdup (data->operator_name);
  copy->manager = g_strdup (data->manager);
  copy->reason = g_strdup (data->reason);
  copy->tender = g_strdup (data->tender);
  copy->rest_tender = g_strdup (data->rest_tender);
  copy->transaction_id = g_strdup (data->transaction_id);
  copy->created_at = g_strdup (data->created_at);
  copy->currency = g_strdup (data->currency);
  copy->level = g_strdup (data->level);
  copy->level_up = g_strdup (data->level_up);

  return copy;
}

void
ct_receipt_data_free (CtReceiptData *data)
{
  if (data == NULL)
    return;

  g_free (data->card_no);
  g_free (data->member_name);
  g_free (data->store);
  g_free (data->till);
  g_free (data->operator_name);
  g_free (data->manager);
  g_free (data->reason);
  g_free (data->tender);
  g_free (data->rest_tender);
  g_free (data->transaction_id);
  g_free (data->created_at);
  g_free (data->currency);
  g_free (data->level);
  g_free (data->level_up);
  g_free (data);
}

/**
 * ct_receipt_data_new_from_transaction:
 * @tx: a transaction as the service keeps it
 * @member_name: (nullable): the card holder's name
 * @merchant: (nullable): for the currency
 *
 * Returns: what the receipt of an applied transaction shows.
 */
CtReceiptData *
ct_receipt_data_new_from_transaction (const CtTransaction *tx,
                                      const char          *member_name,
                                      const CtMerchant    *merchant)
{
  CtReceiptData *data;

  g_return_val_if_fail (tx != NULL, NULL);

  data = g_new0 (CtReceiptData, 1);
  data->kind = tx->kind;
  data->card_no = g_strdup (tx->card_no);
  data->member_name = g_strdup (member_name);
  data->store = g_strdup (tx->store);
  data->till = g_strdup (tx->till);
  data->operator_name = g_strdup (tx->operator_name);
  data->manager = g_strdup (tx->manager);
  data->reason = g_strdup (tx->reason);
  data->transaction_id = g_strdup (tx->id);
  /* The receipt shows when the customer paid, which for a sale taken
   * offline is before the service booked it. */
  data->created_at = g_strdup (tx->taken_at != NULL ? tx->taken_at : tx->created_at);
  data->tender = g_strdup (tx->tender);
  data->bonus = tx->bonus;
  /* A top-up's delta includes its bonus; the receipt shows them apart. */
  data->amount = tx->kind == CT_TRANSACTION_TOPUP ? tx->delta - tx->bonus : ABS (tx->delta);
  if (tx->kind == CT_TRANSACTION_ADJUSTMENT)
    data->amount = tx->delta;
  data->balance_after = tx->balance_after;
  data->balance_before = tx->balance_after - tx->delta;
  data->balance_known = TRUE;
  data->points_delta = tx->points_delta;
  data->points_after = tx->points_after;
  data->pending = FALSE;
  data->minor_units = merchant ? merchant->minor_units : 2;
  data->currency = g_strdup (merchant ? merchant->currency : "CNY");
  data->level = g_strdup (ct_merchant_level_name (merchant, tx->level));
  data->discount = tx->discount;
  data->level_bonus = tx->level_bonus;
  data->redeemed_points = tx->redeemed_points;
  data->redeemed_value = tx->redeemed_value;
  data->rest = tx->rest > 0 && tx->rest_tender != NULL ? tx->rest : 0;
  data->rest_tender = data->rest > 0 ? g_strdup (tx->rest_tender) : NULL;
  /* The level the payment moved the card up to, as the service kept it
   * with the transaction: a receipt printed again later shows it too. */
  if (tx->level_up != NULL)
    data->level_up = g_strdup (ct_merchant_level_name (merchant, tx->level_up));

  return data;
}

/**
 * ct_receipt_data_new_from_receipt:
 * @receipt: the service's answer to a money request
 * @merchant: (nullable): for the currency
 *
 * Returns: what the receipt shows for an applied request.
 */
CtReceiptData *
ct_receipt_data_new_from_receipt (const CtReceipt  *receipt,
                                  const CtMerchant *merchant)
{
  CtReceiptData *data;

  g_return_val_if_fail (receipt != NULL && receipt->transaction != NULL, NULL);

  data = ct_receipt_data_new_from_transaction (receipt->transaction,
                                               receipt->card ? receipt->card->member_name : NULL,
                                               merchant);
  /* The answer names the level; a service before transactions kept it
   * says so only there. */
  if (receipt->level_up != NULL)
    {
      g_free (data->level_up);
      data->level_up = g_strdup (receipt->level_up);
    }
  return data;
}

/**
 * ct_receipt_data_opens_drawer:
 *
 * Returns: whether taking this transaction puts cash in the drawer: a
 *   top-up paid in cash, or a split payment whose rest was taken in cash.
 *   Other payments, refunds and adjustments move only the card's balance,
 *   and a reprint never opens the drawer (the caller asks this only when
 *   the transaction is taken).
 */
gboolean
ct_receipt_data_opens_drawer (const CtReceiptData *data)
{
  g_return_val_if_fail (data != NULL, FALSE);

  if (data->kind == CT_TRANSACTION_PAYMENT)
    return data->rest > 0 && g_strcmp0 (data->rest_tender, "cash") == 0;
  return data->kind == CT_TRANSACTION_TOPUP
         && (data->tender == NULL || g_str_equal (data->tender, "cash"));
}

/**
 * ct_receipt_title:
 *
 * Returns: "Top-up receipt", "Payment receipt", ...
 */
char *
ct_receipt_title (const CtReceiptData *data)
{
  switch (data->kind)
    {
    case CT_TRANSACTION_TOPUP:
      return g_strdup (_("Top-Up Receipt"));
    case CT_TRANSACTION_PAYMENT:
      return g_strdup (_("Payment Receipt"));
    case CT_TRANSACTION_REFUND:
      return g_strdup (_("Refund Receipt"));
    case CT_TRANSACTION_ADJUSTMENT:
      return g_strdup (_("Balance Adjustment"));
    case CT_TRANSACTION_REPLACEMENT:
      return g_strdup (_("Lost Card Replacement"));
    case CT_TRANSACTION_IMPORT:
    default:
      return g_strdup (_("Receipt"));
    }
}

static void
receipt_line_free (gpointer data)
{
  CtReceiptLine *line = data;

  g_free (line->label);
  g_free (line->value);
  g_free (line);
}

/**
 * ct_receipt_lines_new:
 *
 * Returns: (transfer full) (element-type CtReceiptLine): no lines yet,
 *   for ct_receipt_lines_add().
 */
GPtrArray *
ct_receipt_lines_new (void)
{
  return g_ptr_array_new_with_free_func (receipt_line_free);
}

/**
 * ct_receipt_lines_add:
 * @value: (transfer full): the value, taken
 */
void
ct_receipt_lines_add (GPtrArray  *lines,
                      const char *label,
                      char       *value)
{
  CtReceiptLine *line = g_new0 (CtReceiptLine, 1);

  line->label = g_strdup (label);
  line->value = value;
  g_ptr_array_add (lines, line);
}

/* A value the service decides when the till sends a pending request: the
 * receipt says it is expected. Takes @value. */
static char *
expected (const CtReceiptData *data,
          char                *value)
{
  char *out;

  if (!data->pending)
    return value;
  out = g_strdup_printf (_("%s (expected)"), value);
  g_free (value);
  return out;
}

/* A payment: the order, what the member's level took off it and what
 * points paid, then what the card paid, and a level reached. */
static void
add_payment_lines (GPtrArray           *lines,
                   const CtReceiptData *data)
{
  int mu = data->minor_units;
  const char *cur = data->currency;

  if (data->discount > 0 || data->redeemed_value > 0 || data->rest > 0)
    {
      int64_t order = data->amount + data->discount + data->redeemed_value + data->rest;

      ct_receipt_lines_add (lines, _("Order total"), ct_format_money (order, mu, cur));
    }
  if (data->discount > 0)
    {
      g_autofree char *label = g_strdup_printf (_("Level discount (%s)"), data->level ? data->level : "");
      g_autofree char *value = ct_format_money (data->discount, mu, cur);

      ct_receipt_lines_add (lines, label, expected (data, g_strdup_printf ("-%s", value)));
    }
  if (data->redeemed_points > 0)
    {
      g_autofree char *value = ct_format_money (data->redeemed_value, mu, cur);
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) data->redeemed_points);

      ct_receipt_lines_add (lines, _("Points redeemed"),
                            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s point pays %s", "%s points pay %s",
                                                          (gulong) MIN (data->redeemed_points, G_MAXLONG)),
                                             count, value));
    }
  ct_receipt_lines_add (lines, _("Paid from card"), expected (data, ct_format_money (data->amount, mu, cur)));
  if (data->rest > 0)
    {
      g_autofree char *tender = ct_format_tender (data->rest_tender);
      g_autofree char *label = g_strdup_printf (_("Rest paid by %s"), tender);

      ct_receipt_lines_add (lines, label, ct_format_money (data->rest, mu, cur));
    }
  if (data->level_up != NULL)
    ct_receipt_lines_add (lines, _("New level"), g_strdup (data->level_up));
  else if (data->level != NULL && data->discount == 0 && !data->pending)
    ct_receipt_lines_add (lines, _("Level"), g_strdup (data->level));
}

/**
 * ct_receipt_lines:
 *
 * Returns: (transfer full) (element-type CtReceiptLine): the label and
 *   value pairs of a receipt, in print order.
 */
GPtrArray *
ct_receipt_lines (const CtReceiptData *data)
{
  GPtrArray *lines = ct_receipt_lines_new ();
  int mu = data->minor_units;
  const char *cur = data->currency;

  /* First, under the title: whoever reads it sees at once that it is not
   * a receipt of a new transaction. */
  if (data->copy)
    ct_receipt_lines_add (lines, _("REPRINT"), g_strdup (_("copy")));
  ct_receipt_lines_add (lines, _("Store"), g_strdup (data->store ? data->store : ""));
  ct_receipt_lines_add (lines, _("Till"), g_strdup (data->till ? data->till : ""));
  ct_receipt_lines_add (lines, _("Operator"), g_strdup (data->operator_name ? data->operator_name : ""));
  if (data->manager != NULL)
    ct_receipt_lines_add (lines, _("Authorised by"), g_strdup (data->manager));
  ct_receipt_lines_add (lines, _("Card"), ct_format_mask_card (data->card_no));
  if (data->member_name != NULL && *data->member_name != '\0')
    ct_receipt_lines_add (lines, _("Member"), g_strdup (data->member_name));

  switch (data->kind)
    {
    case CT_TRANSACTION_TOPUP:
      ct_receipt_lines_add (lines, _("Paid in"), ct_format_money (data->amount, mu, cur));
      ct_receipt_lines_add (lines, _("Bonus"), ct_format_money (data->bonus, mu, cur));
      if (data->level_bonus > 0)
        {
          g_autofree char *label = g_strdup_printf (_("Level bonus (%s)"), data->level ? data->level : "");
          g_autofree char *value = ct_format_money (data->level_bonus, mu, cur);

          ct_receipt_lines_add (lines, label, expected (data, g_strdup_printf (_("%s included"), value)));
        }
      ct_receipt_lines_add (lines, _("Paid by"), ct_format_tender (data->tender));
      break;
    case CT_TRANSACTION_PAYMENT:
      add_payment_lines (lines, data);
      break;
    case CT_TRANSACTION_REFUND:
      ct_receipt_lines_add (lines, _("Refunded"), ct_format_money (data->amount, mu, cur));
      if (data->tender != NULL)
        ct_receipt_lines_add (lines, _("Given back by"), ct_format_tender (data->tender));
      if (data->rest > 0)
        {
          g_autofree char *tender = ct_format_tender (data->rest_tender);
          g_autofree char *label = g_strdup_printf (_("Rest given back by %s"), tender);

          ct_receipt_lines_add (lines, label, ct_format_money (data->rest, mu, cur));
        }
      break;
    case CT_TRANSACTION_ADJUSTMENT:
      ct_receipt_lines_add (lines, _("Change"), ct_format_signed_money (data->amount, mu, cur));
      break;
    case CT_TRANSACTION_REPLACEMENT:
      ct_receipt_lines_add (lines, _("Moved"), ct_format_signed_money (data->amount, mu, cur));
      break;
    case CT_TRANSACTION_IMPORT:
    default:
      ct_receipt_lines_add (lines, _("Amount"), ct_format_money (data->amount, mu, cur));
      break;
    }

  if (data->balance_known)
    {
      ct_receipt_lines_add (lines, _("Balance before"), ct_format_money (data->balance_before, mu, cur));
      if (data->pending)
        {
          g_autofree char *after = ct_format_money (data->balance_after, mu, cur);

          /* Counted by the till with what else is pending on the card: the
           * service books it when the till is back online. */
          ct_receipt_lines_add (lines, _("Balance after"), g_strdup_printf (_("%s (expected)"), after));
        }
      else
        ct_receipt_lines_add (lines, _("Balance after"), ct_format_money (data->balance_after, mu, cur));
    }
  else
    ct_receipt_lines_add (lines, _("Balance after"), g_strdup (_("known after sync")));

  if (data->points_delta != 0 || data->kind == CT_TRANSACTION_PAYMENT)
    {
      if (data->balance_known)
        ct_receipt_lines_add (lines, _("Points"),
                  g_strdup_printf ("%+" G_GINT64_FORMAT " (%" G_GINT64_FORMAT ")",
                                   (gint64) data->points_delta, (gint64) data->points_after));
      else
        ct_receipt_lines_add (lines, _("Points"), g_strdup_printf ("%+" G_GINT64_FORMAT, (gint64) data->points_delta));
    }

  if (data->reason != NULL && *data->reason != '\0')
    ct_receipt_lines_add (lines, _("Reason"), g_strdup (data->reason));

  ct_receipt_lines_add (lines, _("Time"), ct_format_local_time (data->created_at, "%Y-%m-%d %H:%M:%S"));

  if (data->pending)
    ct_receipt_lines_add (lines, _("Transaction"), g_strdup (_("pending sync")));
  else
    ct_receipt_lines_add (lines, _("Transaction"), g_strdup (data->transaction_id ? data->transaction_id : ""));

  return lines;
}

