/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-format"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-card-number.h"
#include "ct-format.h"
#include "ct-money.h"

/* Everything the screens show about money, people and failures goes
 * through here, so the wording is the same on every screen and a raw
 * service code never reaches a cashier. */

/**
 * ct_format_currency_symbol:
 * @currency: (nullable): an ISO 4217 code
 *
 * Returns: the symbol the UI puts in front of amounts.
 */
const char *
ct_format_currency_symbol (const char *currency)
{
  if (currency == NULL || g_str_equal (currency, "CNY") || g_str_equal (currency, "JPY"))
    return "¥";
  if (g_str_equal (currency, "USD"))
    return "$";
  if (g_str_equal (currency, "EUR"))
    return "€";
  if (g_str_equal (currency, "GBP"))
    return "£";
  if (g_str_equal (currency, "HKD"))
    return "HK$";

  return currency;
}

/**
 * ct_format_money:
 *
 * Returns: the amount as "¥1,234.50" (a negative one as "-¥10.00").
 */
char *
ct_format_money (int64_t     minor,
                 int         minor_units,
                 const char *currency)
{
  return ct_money_format_display (minor, minor_units,
                                  ct_format_currency_symbol (currency), ",");
}

/**
 * ct_format_signed_money:
 *
 * Returns: the amount with an explicit sign, "+¥10.00" or "-¥10.00", as
 *   history lines show a change of balance.
 */
char *
ct_format_signed_money (int64_t     minor,
                        int         minor_units,
                        const char *currency)
{
  g_autofree char *plain = ct_format_money (minor, minor_units, currency);

  if (minor > 0)
    return g_strconcat ("+", plain, NULL);

  return g_steal_pointer (&plain);
}

/**
 * ct_format_mask_card:
 *
 * Shows only the last four characters of a card number, for receipts.
 */
char *
ct_format_mask_card (const char *card_no)
{
  gsize len;

  if (card_no == NULL)
    return g_strdup ("");

  len = strlen (card_no);
  if (len <= 4)
    return g_strdup (card_no);

  return g_strdup_printf ("**** %s", card_no + len - 4);
}

/**
 * ct_format_card_no:
 *
 * Groups a 16-digit card number by four for reading aloud; legacy
 * numbers stay as they are.
 */
char *
ct_format_card_no (const char *card_no)
{
  GString *out;
  gsize len;

  if (card_no == NULL)
    return g_strdup ("");

  len = strlen (card_no);
  if (len != CT_CARD_NUMBER_ISSUED_LENGTH)
    return g_strdup (card_no);

  out = g_string_new (NULL);
  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && i % 4 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, card_no[i]);
    }

  return g_string_free (out, FALSE);
}

/* The merchant's time zone: every time a person reads is in it, whatever
 * the till's own zone (a till set to UTC in a Shanghai shop still prints
 * the shop's hour). NULL until the client knows the merchant. */
static GMutex zone_lock;
static GTimeZone *display_zone;

/**
 * ct_format_set_time_zone:
 * @identifier: (nullable): an IANA zone, "Asia/Shanghai"; NULL for the
 *   till's own zone
 *
 * Sets the zone ct_format_local_time() shows times in. The client sets it
 * from the merchant's settings.
 */
void
ct_format_set_time_zone (const char *identifier)
{
  GTimeZone *zone = identifier != NULL ? g_time_zone_new_identifier (identifier) : NULL;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&zone_lock);

  g_clear_pointer (&display_zone, g_time_zone_unref);
  display_zone = zone;
}

/**
 * ct_format_tender:
 * @tender: (nullable): "cash", "wechat", "alipay", "bank_card", "other"
 *
 * Returns: how the customer paid, in the cashier's words.
 */
char *
ct_format_tender (const char *tender)
{
  if (tender == NULL || g_str_equal (tender, "cash"))
    return g_strdup (_("Cash"));
  if (g_str_equal (tender, "wechat"))
    return g_strdup (_("WeChat Pay"));
  if (g_str_equal (tender, "alipay"))
    return g_strdup (_("Alipay"));
  if (g_str_equal (tender, "bank_card"))
    return g_strdup (_("Bank card"));
  if (g_str_equal (tender, "other"))
    return g_strdup (_("Other"));
  return g_strdup (tender);
}

/**
 * ct_format_local_time:
 * @rfc3339: a service time stamp, "2026-11-22T10:15:00.000Z"
 * @format: a g_date_time_format() format
 *
 * Returns: the time in the merchant's time zone (the till's until the
 *   merchant is known), or the raw text when it cannot be read.
 */
char *
ct_format_local_time (const char *rfc3339,
                      const char *format)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (rfc3339 == NULL)
    return g_strdup ("");

  utc = g_date_time_new_from_iso8601 (rfc3339, NULL);
  if (utc == NULL)
    return g_strdup (rfc3339);

  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&zone_lock);

    local = display_zone != NULL ? g_date_time_to_timezone (utc, display_zone) : g_date_time_to_local (utc);
  }
  return g_date_time_format (local, format);
}

const char *
ct_format_transaction_kind (CtTransactionKind kind)
{
  switch (kind)
    {
    case CT_TRANSACTION_TOPUP:
      return _("Top-up");
    case CT_TRANSACTION_PAYMENT:
      return _("Payment");
    case CT_TRANSACTION_REFUND:
      return _("Refund");
    case CT_TRANSACTION_ADJUSTMENT:
      return _("Adjustment");
    case CT_TRANSACTION_IMPORT:
      return _("Imported balance");
    case CT_TRANSACTION_REPLACEMENT:
      return _("Lost card replacement");
    default:
      return _("Other");
    }
}

const char *
ct_format_card_status (CtCardStatus status)
{
  switch (status)
    {
    case CT_CARD_STATUS_ACTIVE:
      return _("Active");
    case CT_CARD_STATUS_FROZEN:
      return _("Frozen");
    case CT_CARD_STATUS_CLOSED:
      return _("Replaced");
    default:
      return _("Unknown");
    }
}

static const char *
client_error_text (CtClientError code)
{
  switch (code)
    {
    case CT_CLIENT_ERROR_CARD_NOT_FOUND:
      return _("This card is not known. Check the number or scan it again.");
    case CT_CLIENT_ERROR_NOT_FOUND:
      return _("That transaction or package does not exist any more.");
    case CT_CLIENT_ERROR_CARD_FROZEN:
      return _("This card is frozen. A manager can unfreeze it.");
    case CT_CLIENT_ERROR_CARD_CLOSED:
      return _("This card was lost and replaced by a new card. Look the member up and use the new card.");
    case CT_CLIENT_ERROR_INSUFFICIENT_BALANCE:
      return _("There is not enough balance on the card.");
    case CT_CLIENT_ERROR_INSUFFICIENT_POOL:
      return _("The store's card account is too low for this. It fills up as members pay with their cards.");
    case CT_CLIENT_ERROR_INSUFFICIENT_POINTS:
      return _("The card does not hold that many points.");
    case CT_CLIENT_ERROR_MEMBER_CONSENT_REQUIRED:
      return _("This payment needs the member's consent: the member types their PIN, or scan the payment code on the member's phone.");
    case CT_CLIENT_ERROR_MEMBER_PIN_WRONG:
      return _("The member's PIN is wrong. Ask the member to type it again.");
    case CT_CLIENT_ERROR_MEMBER_PIN_LOCKED:
      return _("The member's PIN is locked after too many wrong tries. Scan the payment code on the member's phone, or try again later.");
    case CT_CLIENT_ERROR_MEMBER_PIN_NOT_SET:
      return _("This card has no member PIN. Scan the payment code on the member's phone, or a manager can set a PIN.");
    case CT_CLIENT_ERROR_ALREADY_REFUNDED:
      return _("This transaction was already refunded.");
    case CT_CLIENT_ERROR_CARD_EXISTS:
      return _("A card with this number already exists.");
    case CT_CLIENT_ERROR_PACKAGE_CHANGED:
      return _("This package was changed by the store. Check the new price with the customer and try again.");
    case CT_CLIENT_ERROR_INVALID_AMOUNT:
      return _("This amount is not allowed here.");
    case CT_CLIENT_ERROR_INVALID_CARD_NO:
      return _("This card number is not valid. Check the number or scan it again.");
    case CT_CLIENT_ERROR_FORBIDDEN:
      return _("Wrong manager or PIN.");
    case CT_CLIENT_ERROR_PIN_LOCKED:
      return _("Too many wrong PINs. This manager is locked for a few minutes.");
    case CT_CLIENT_ERROR_UNAUTHORIZED:
      return _("The card service does not accept this till. A manager should check the till token in Settings.");
    case CT_CLIENT_ERROR_RATE_LIMITED:
    case CT_CLIENT_ERROR_REQUEST_IN_PROGRESS:
      return _("The card service is busy. Wait a moment and try again.");
    case CT_CLIENT_ERROR_QUEUED:
      return _("Saved on this till and waiting to be sent (pending sync).");
    case CT_CLIENT_ERROR_OFFLINE_REFUSED:
      return _("The card service cannot be reached, and this payment is over what the store allows offline. Take another means of payment.");
    case CT_CLIENT_ERROR_UNREACHABLE:
      return _("The card service cannot be reached. Nothing was done.");
    case CT_CLIENT_ERROR_TLS:
      return _("The card service's certificate does not match this till's settings. Nothing was sent.");
    case CT_CLIENT_ERROR_CONFIG:
      return _("The card service settings of this till are incomplete. A manager should check Settings.");
    case CT_CLIENT_ERROR_EMBEDDED:
      return _("The built-in card service could not be started.");
    case CT_CLIENT_ERROR_EARLIER_PENDING:
      return _("An earlier request on this card is not settled yet, so this was not done. Sync, then try again.");
    case CT_CLIENT_ERROR_SHIFT_OPEN:
      return _("A shift is already open on this till. Close it or hand it over first.");
    case CT_CLIENT_ERROR_SHIFT_CLOSED:
      return _("This shift is already closed.");
    case CT_CLIENT_ERROR_SHIFT_REQUIRED:
      return _("This store takes money only during a shift. Open a shift first.");
    case CT_CLIENT_ERROR_INVALID_TAKEN_AT:
      return _("This till's clock is wrong, or the request waited too long to be sent. A manager should check the clock and the history.");
    case CT_CLIENT_ERROR_INVALID_INPUT:
      return _("Please check what was entered.");
    case CT_CLIENT_ERROR_LOCAL:
      return _("This till could not save its data. Check the disk.");
    case CT_CLIENT_ERROR_BAD_REQUEST:
    case CT_CLIENT_ERROR_IDEMPOTENCY_KEY_MISSING:
    case CT_CLIENT_ERROR_IDEMPOTENCY_KEY_REUSED:
    case CT_CLIENT_ERROR_PAYLOAD_TOO_LARGE:
    case CT_CLIENT_ERROR_BAD_ANSWER:
    case CT_CLIENT_ERROR_INTERNAL:
    case CT_CLIENT_ERROR_OTHER_REFUSAL:
    default:
      return _("The card service could not do this. Please call support.");
    }
}

static const char *
money_error_text (CtMoneyError code)
{
  switch (code)
    {
    case CT_MONEY_ERROR_EMPTY:
      return _("Enter an amount.");
    case CT_MONEY_ERROR_TOO_MANY_DECIMALS:
      return _("Too many digits after the decimal point.");
    case CT_MONEY_ERROR_GROUPING:
      return _("Digit groups must have three digits, like 1,234.50.");
    case CT_MONEY_ERROR_SIGN:
      return _("Enter the amount without a sign.");
    case CT_MONEY_ERROR_OVERFLOW:
      return _("This amount is too large.");
    case CT_MONEY_ERROR_ZERO:
      return _("The amount cannot be zero.");
    case CT_MONEY_ERROR_SYNTAX:
    default:
      return _("This is not an amount. Type digits like 12.50.");
    }
}

static const char *
card_number_error_text (CtCardNumberError code)
{
  switch (code)
    {
    case CT_CARD_NUMBER_ERROR_CHECK_DIGIT:
      return _("This card number has a typing mistake (check digit). Check it or scan the card.");
    case CT_CARD_NUMBER_ERROR_IN_ISSUER_RANGE:
      return _("This number belongs to the store's own cards and is not valid.");
    case CT_CARD_NUMBER_ERROR_PAYLOAD:
      return _("This code is not a membership card.");
    case CT_CARD_NUMBER_ERROR_SYNTAX:
    default:
      return _("This is not a card number.");
    }
}

/**
 * ct_format_error:
 * @error: an error from the client core, money or card number rules
 *
 * Returns: a sentence a cashier understands; never a raw code.
 */
char *
ct_format_error (const GError *error)
{
  if (error == NULL)
    return g_strdup (_("Something went wrong."));

  if (error->domain == CT_CLIENT_ERROR)
    return g_strdup (client_error_text ((CtClientError) error->code));
  if (error->domain == CT_MONEY_ERROR)
    return g_strdup (money_error_text ((CtMoneyError) error->code));
  if (error->domain == CT_CARD_NUMBER_ERROR)
    return g_strdup (card_number_error_text ((CtCardNumberError) error->code));

  return g_strdup (_("Something went wrong. Please call support."));
}

/**
 * ct_format_parse_amount:
 * @out_problem: (out) (optional): a cashier's sentence when the text is
 *   not an amount
 *
 * Parses what a cashier typed with the money rules of the core.
 */
gboolean
ct_format_parse_amount (const char  *text,
                        int          minor_units,
                        gboolean     is_signed,
                        int64_t     *out_minor,
                        char       **out_problem)
{
  g_autoptr(GError) error = NULL;

  if (ct_money_parse (text, minor_units,
                      is_signed ? CT_MONEY_PARSE_SIGNED : CT_MONEY_PARSE_DEFAULT,
                      out_minor, &error))
    return TRUE;

  if (out_problem != NULL)
    *out_problem = ct_format_error (error);

  return FALSE;
}

/* Basis points as a decimal without floating point: 1500 / 100 is "15",
 * 250 / 100 "2.5", 15000 / 10000 "1.5". */
static char *
format_bp (int64_t bp,
           int64_t per)
{
  int64_t whole = bp / per, rest = bp % per;
  g_autofree char *digits = NULL;
  int width = per == 100 ? 2 : 4;
  char *end;

  if (rest == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT, whole);
  digits = g_strdup_printf ("%0*" G_GINT64_FORMAT, width, rest);
  for (end = digits + strlen (digits); end > digits && end[-1] == '0'; end--)
    end[-1] = '\0';
  return g_strdup_printf ("%" G_GINT64_FORMAT ".%s", whole, digits);
}

/**
 * ct_format_level:
 *
 * Returns: a member's level with what it gives, for the till: "Gold ·
 *   5% off · points ×1.5 · top-up bonus +2%".
 */
char *
ct_format_level (const CtLevel *level)
{
  GString *out;

  g_return_val_if_fail (level != NULL, NULL);

  out = g_string_new (level->name);
  if (level->discount_bp > 0)
    {
      g_autofree char *pct = format_bp (level->discount_bp, 100);

      g_string_append (out, " · ");
      g_string_append_printf (out, _("%s%% off"), pct);
    }
  if (level->points_multiplier_bp != 10000)
    {
      g_autofree char *times = format_bp (level->points_multiplier_bp, 10000);

      g_string_append (out, " · ");
      g_string_append_printf (out, _("points ×%s"), times);
    }
  if (level->topup_bonus_bp > 0)
    {
      g_autofree char *pct = format_bp (level->topup_bonus_bp, 100);

      g_string_append (out, " · ");
      g_string_append_printf (out, _("top-up bonus +%s%%"), pct);
    }
  return g_string_free (out, FALSE);
}
