/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-money"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ct-money.h"

G_DEFINE_QUARK (ct-money-error-quark, ct_money_error)

/* Full-width forms (U+FF01..U+FF5E) map onto ASCII by a fixed offset. */
#define FULLWIDTH_FIRST 0xFF01
#define FULLWIDTH_LAST  0xFF5E
#define FULLWIDTH_OFFSET (0xFF01 - 0x21)

static const int64_t pow10_table[] = {
  1LL, 10LL, 100LL, 1000LL, 10000LL,
};

/**
 * ct_money_unit:
 * @minor_units: digits after the decimal point (0..4)
 *
 * Returns: how many minor units make one major unit (100 for CNY).
 */
int64_t
ct_money_unit (int minor_units)
{
  g_return_val_if_fail (minor_units >= 0 && minor_units <= CT_MONEY_MINOR_UNITS_MAX, 1);

  return pow10_table[minor_units];
}

/* Reduces the text to ASCII: full-width digits and punctuation become their
 * ASCII forms and either yen sign becomes '$' (a stand-in nobody types for
 * CNY, so it cannot be confused with real input). Anything else outside ASCII
 * is kept as '?' so that the syntax check rejects it. */
static char *
normalize_text (const char *text)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == 0x00A5 || c == 0xFFE5)
        g_string_append_c (out, '$');
      else if (c >= FULLWIDTH_FIRST && c <= FULLWIDTH_LAST)
        g_string_append_c (out, (char) (c - FULLWIDTH_OFFSET));
      else if (c == 0x3000) /* ideographic space */
        g_string_append_c (out, ' ');
      else if (c < 0x80 && c != '$')
        g_string_append_c (out, (char) c);
      else
        g_string_append_c (out, '?');
    }

  return g_string_free (out, FALSE);
}

static gboolean
fail (GError       **error,
      CtMoneyError   code,
      const char    *text,
      const char    *why)
{
  g_set_error (error, CT_MONEY_ERROR, code, _("“%s” is not an amount: %s"), text, why);
  return FALSE;
}

/**
 * ct_money_parse:
 * @text: what the user typed or the file held
 * @minor_units: the currency's minor units (2 for CNY)
 * @flags: %CT_MONEY_PARSE_SIGNED where a signed value is meant
 * @out_minor: (out): the amount in minor units
 * @error: a #CtMoneyError saying what is wrong
 *
 * Parses an amount exactly, without floating point: an optional sign (only
 * with %CT_MONEY_PARSE_SIGNED), an optional ¥ or ￥, digits with optional
 * ',' grouping in groups of exactly three, an optional '.' followed by 1 to
 * @minor_units digits. ASCII and full-width forms are both accepted.
 *
 * Returns: %TRUE on success
 */
gboolean
ct_money_parse (const char         *text,
                int                 minor_units,
                CtMoneyParseFlags   flags,
                int64_t            *out_minor,
                GError            **error)
{
  g_autofree char *norm = NULL;
  const char *p;
  int sign = 1;
  gboolean has_sign = FALSE;
  int64_t integer = 0;
  int64_t fraction = 0;
  int int_digits = 0;
  int group_digits = 0;
  gboolean grouped = FALSE;
  int64_t value;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (minor_units >= 0 && minor_units <= CT_MONEY_MINOR_UNITS_MAX, FALSE);
  g_return_val_if_fail (out_minor != NULL, FALSE);

  norm = normalize_text (text);
  g_strstrip (norm);
  p = norm;

  if (*p == '\0')
    return fail (error, CT_MONEY_ERROR_EMPTY, text, _("it is empty"));

  if (*p == '+' || *p == '-')
    {
      if (!(flags & CT_MONEY_PARSE_SIGNED))
        return fail (error, CT_MONEY_ERROR_SIGN, text, _("a sign is not allowed here"));
      has_sign = TRUE;
      sign = *p == '-' ? -1 : 1;
      p++;
    }

  if (*p == '$')
    p++;

  if (!g_ascii_isdigit (*p))
    {
      if (*p == '\0')
        return fail (error, CT_MONEY_ERROR_EMPTY, text, _("there are no digits"));
      if (*p == '.')
        return fail (error, CT_MONEY_ERROR_SYNTAX, text, _("a digit must come before the decimal point"));
      return fail (error, CT_MONEY_ERROR_SYNTAX, text, _("it must start with a digit"));
    }

  for (; *p; p++)
    {
      if (g_ascii_isdigit (*p))
        {
          if (integer > CT_MONEY_MAX)
            return fail (error, CT_MONEY_ERROR_OVERFLOW, text, _("it is too large"));
          integer = integer * 10 + (*p - '0');
          int_digits++;
          group_digits++;
          if (grouped && group_digits > 3)
            return fail (error, CT_MONEY_ERROR_GROUPING, text, _("digit groups after a ',' must have exactly three digits"));
        }
      else if (*p == ',')
        {
          if ((!grouped && group_digits > 3) || (grouped && group_digits != 3) || group_digits == 0)
            return fail (error, CT_MONEY_ERROR_GROUPING, text, _("digit groups after a ',' must have exactly three digits"));
          grouped = TRUE;
          group_digits = 0;
        }
      else
        break;
    }

  if (grouped && group_digits != 3)
    return fail (error, CT_MONEY_ERROR_GROUPING, text, _("digit groups after a ',' must have exactly three digits"));

  if (*p == '.')
    {
      int frac_digits = 0;

      p++;
      for (; g_ascii_isdigit (*p); p++)
        {
          frac_digits++;
          if (frac_digits > minor_units)
            {
              g_autofree char *why = NULL;

              if (minor_units == 0)
                why = g_strdup (_("this currency has no decimal places"));
              else
                why = g_strdup_printf (_("at most %d decimal places are allowed"), minor_units);
              return fail (error, CT_MONEY_ERROR_TOO_MANY_DECIMALS, text, why);
            }
          fraction = fraction * 10 + (*p - '0');
        }
      if (frac_digits == 0)
        return fail (error, CT_MONEY_ERROR_SYNTAX, text, _("a digit must follow the decimal point"));
      fraction *= pow10_table[minor_units - frac_digits];
    }

  if (*p != '\0')
    {
      if (*p == 'e' || *p == 'E')
        return fail (error, CT_MONEY_ERROR_SYNTAX, text, _("exponents are not allowed"));
      return fail (error, CT_MONEY_ERROR_SYNTAX, text, _("it contains characters that do not belong in an amount"));
    }

  g_assert (int_digits > 0);

  if (integer > CT_MONEY_MAX / pow10_table[minor_units])
    return fail (error, CT_MONEY_ERROR_OVERFLOW, text, _("it is too large"));
  value = integer * pow10_table[minor_units] + fraction;
  if (value > CT_MONEY_MAX)
    return fail (error, CT_MONEY_ERROR_OVERFLOW, text, _("it is too large"));

  if (has_sign && value == 0)
    return fail (error, CT_MONEY_ERROR_ZERO, text, _("a signed amount cannot be zero"));

  *out_minor = sign * value;
  return TRUE;
}

static void
append_grouped (GString    *out,
                uint64_t    integer,
                const char *sep)
{
  char digits[32];
  int n = g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, integer);

  for (int i = 0; i < n; i++)
    {
      if (sep != NULL && i > 0 && (n - i) % 3 == 0)
        g_string_append (out, sep);
      g_string_append_c (out, digits[i]);
    }
}

static char *
format_amount (int64_t     minor,
               int         minor_units,
               const char *symbol,
               const char *sep)
{
  GString *out = g_string_new (NULL);
  /* The magnitude of INT64_MIN does not fit in int64_t, so work unsigned. */
  uint64_t magnitude = minor < 0 ? (uint64_t) 0 - (uint64_t) minor : (uint64_t) minor;
  uint64_t unit = (uint64_t) ct_money_unit (minor_units);

  if (minor < 0)
    g_string_append_c (out, '-');
  if (symbol != NULL)
    g_string_append (out, symbol);
  append_grouped (out, magnitude / unit, sep);
  if (minor_units > 0)
    g_string_append_printf (out, ".%0*" G_GUINT64_FORMAT, minor_units, magnitude % unit);

  return g_string_free (out, FALSE);
}

/**
 * ct_money_format_plain:
 *
 * Returns: the amount as the CLI prints it: "1234.50", "-10.00".
 */
char *
ct_money_format_plain (int64_t minor,
                       int     minor_units)
{
  return format_amount (minor, minor_units, NULL, NULL);
}

/**
 * ct_money_format_display:
 * @symbol: (nullable): the currency symbol, "¥" for CNY
 * @group_separator: (nullable): the thousands separator of the locale, or
 *   %NULL for ","
 *
 * Returns: the amount as the UI shows it: "¥1,234.50", "-¥10.00".
 */
char *
ct_money_format_display (int64_t     minor,
                         int         minor_units,
                         const char *symbol,
                         const char *group_separator)
{
  if (group_separator == NULL || *group_separator == '\0')
    group_separator = ",";

  return format_amount (minor, minor_units, symbol, group_separator);
}

static gboolean
checked (gboolean   overflowed,
         int64_t    result,
         int64_t   *out,
         GError   **error)
{
  if (overflowed || result > CT_MONEY_MAX || result < -CT_MONEY_MAX)
    {
      g_set_error_literal (error, CT_MONEY_ERROR, CT_MONEY_ERROR_OVERFLOW,
                           _("The amount is too large"));
      return FALSE;
    }
  *out = result;
  return TRUE;
}

/**
 * ct_money_add:
 *
 * Adds two amounts; fails when the result leaves ±%CT_MONEY_MAX.
 */
gboolean
ct_money_add (int64_t   a,
              int64_t   b,
              int64_t  *out,
              GError  **error)
{
  int64_t r;
  gboolean o = __builtin_add_overflow (a, b, &r);

  return checked (o, r, out, error);
}

/**
 * ct_money_sub:
 *
 * Subtracts @b from @a; fails when the result leaves ±%CT_MONEY_MAX.
 */
gboolean
ct_money_sub (int64_t   a,
              int64_t   b,
              int64_t  *out,
              GError  **error)
{
  int64_t r;
  gboolean o = __builtin_sub_overflow (a, b, &r);

  return checked (o, r, out, error);
}

/**
 * ct_money_mul:
 *
 * Multiplies an amount by an integer factor; fails when the result leaves
 * ±%CT_MONEY_MAX.
 */
gboolean
ct_money_mul (int64_t   a,
              int64_t   factor,
              int64_t  *out,
              GError  **error)
{
  int64_t r;
  gboolean o = __builtin_mul_overflow (a, factor, &r);

  return checked (o, r, out, error);
}

/**
 * ct_bonus_from_ratio:
 * @amount: the top-up amount, minor units, >= 0
 * @basis_points: the bonus ratio, 1500 = 15 %
 *
 * The bonus is floor(amount × bp / 10000), computed in integers.
 */
gboolean
ct_bonus_from_ratio (int64_t   amount,
                     int64_t   basis_points,
                     int64_t  *out_bonus,
                     GError  **error)
{
  int64_t product;

  if (amount < 0 || basis_points < 0)
    {
      g_set_error_literal (error, CT_MONEY_ERROR, CT_MONEY_ERROR_SIGN,
                           _("A bonus needs a non-negative amount and ratio"));
      return FALSE;
    }
  if (__builtin_mul_overflow (amount, basis_points, &product))
    return checked (TRUE, 0, out_bonus, error);

  return checked (FALSE, product / 10000, out_bonus, error);
}

/**
 * ct_points_for_payment:
 *
 * A balance payment earns floor(amount / unit) × points_per_unit. The result
 * saturates at G_MAXINT64 rather than wrapping.
 */
int64_t
ct_points_for_payment (int64_t amount,
                       int     minor_units,
                       int64_t points_per_unit)
{
  int64_t units;
  int64_t points;

  g_return_val_if_fail (amount >= 0, 0);
  g_return_val_if_fail (points_per_unit >= 0, 0);

  units = amount / ct_money_unit (minor_units);
  if (__builtin_mul_overflow (units, points_per_unit, &points))
    return G_MAXINT64;
  return points;
}

/**
 * ct_points_for_refund:
 * @recorded_points: the points the refunded payment earned
 * @card_points: the points the card holds now
 *
 * Returns: the points to take back: what the payment recorded, but never
 *   more than the card has, so points never go below zero.
 */
int64_t
ct_points_for_refund (int64_t recorded_points,
                      int64_t card_points)
{
  if (recorded_points <= 0 || card_points <= 0)
    return 0;
  return MIN (recorded_points, card_points);
}

/**
 * ct_money_share_bp:
 * @amount: an amount or a count, >= 0
 * @basis_points: the share, >= 0 (10000 = all of it)
 *
 * Returns: floor(@amount × @basis_points / 10000), computed in integers
 *   without overflowing for any amount up to %CT_MONEY_MAX and share up to
 *   10^5; it saturates at %G_MAXINT64.
 */
int64_t
ct_money_share_bp (int64_t amount,
                   int64_t basis_points)
{
  int64_t whole, part;

  g_return_val_if_fail (amount >= 0 && basis_points >= 0, 0);

  if (__builtin_mul_overflow (amount / 10000, basis_points, &whole)
      || __builtin_add_overflow (whole, amount % 10000 * basis_points / 10000, &part))
    return G_MAXINT64;
  return part;
}

/**
 * ct_pay_split_compute:
 * @amount: the order's total
 * @discount_bp: the member's level discount in basis points (0: none)
 * @points_value: what the points redeemed pay, minor units (0: none)
 * @minor_units: of the currency
 * @points_per_unit: points a major unit paid from the balance earns
 * @multiplier_bp: the member's level points multiplier (10000: as many)
 * @out: (out): the split
 *
 * How a payment divides, the same for the service that books it and the
 * till that shows it before the cashier confirms: the level's discount
 * comes off the order, points pay part of the rest, the balance pays what
 * is left and earns points on that part only.
 */
void
ct_pay_split_compute (int64_t     amount,
                      int64_t     discount_bp,
                      int64_t     points_value,
                      int         minor_units,
                      int64_t     points_per_unit,
                      int64_t     multiplier_bp,
                      CtPaySplit *out)
{
  g_return_if_fail (amount >= 0 && out != NULL);

  out->amount = amount;
  out->discount = MIN (ct_money_share_bp (amount, MAX (discount_bp, 0)), amount);
  out->due = amount - out->discount;
  out->points_value = CLAMP (points_value, 0, out->due);
  out->from_balance = out->due - out->points_value;
  out->points_earned = ct_money_share_bp (ct_points_for_payment (out->from_balance, minor_units,
                                                                 MAX (points_per_unit, 0)),
                                          MAX (multiplier_bp, 0));
}

/* floor(@x × @part / @whole) for 0 <= @part <= @whole, without overflow. */
static int64_t
share_of (int64_t x,
          int64_t part,
          int64_t whole)
{
  if (whole <= 0 || x <= 0 || part <= 0)
    return 0;
  return (int64_t) ((unsigned __int128) x * (guint64) part / (guint64) whole);
}

/**
 * ct_refund_split_compute:
 * @total: what the payment took: its balance part plus what points paid
 * @points_value: what points paid of it
 * @redeemed_points: the points it redeemed
 * @points_earned: the points its balance part earned
 * @rest: what another tender took of the order (a split payment), or 0
 * @before: what refunds of it gave back before this one
 * @amount: what this refund gives back, 0 < @before + @amount <= @total
 * @out: (out): the split
 *
 * Each share is counted on what the refunds have given back altogether,
 * floor(share × refunded / total), less what the refunds before gave: the
 * parts of a payment refunded in several refunds add up to its whole
 * refund exactly, and the last part gives back all that is left.
 */
void
ct_refund_split_compute (int64_t        total,
                         int64_t        points_value,
                         int64_t        redeemed_points,
                         int64_t        points_earned,
                         int64_t        rest,
                         int64_t        before,
                         int64_t        amount,
                         CtRefundSplit *out)
{
  int64_t after = before + amount;

  g_return_if_fail (out != NULL && before >= 0 && amount > 0 && after <= total);

  out->amount = amount;
  out->to_promo = share_of (points_value, after, total) - share_of (points_value, before, total);
  out->to_card = amount - out->to_promo;
  out->points_back = share_of (redeemed_points, after, total) - share_of (redeemed_points, before, total);
  out->points_taken = share_of (points_earned, after, total) - share_of (points_earned, before, total);
  out->rest_back = share_of (rest, after, total) - share_of (rest, before, total);
}

/**
 * ct_pay_split_card_share:
 * @total: the order's total, >= 0
 * @balance: what the card holds, >= 0
 * @discount_bp: the member's level discount in basis points (0: none)
 *
 * A split payment: the card pays what it holds and another tender takes
 * the rest. The card's share is the largest part of @total whose due,
 * after the level's discount, the balance covers (the discount applies to
 * the card's share only, as the service books it).
 *
 * Returns: the card's share of @total; the rest is @total minus it
 */
int64_t
ct_pay_split_card_share (int64_t total,
                         int64_t balance,
                         int64_t discount_bp)
{
  int64_t lo = 0, hi;

  g_return_val_if_fail (total >= 0 && balance >= 0, 0);

  hi = total;
  /* What a share of a pays is a - discount(a), which never falls as a
   * grows: the largest share paid in full is found by halving. */
  while (lo < hi)
    {
      int64_t mid = lo + (hi - lo + 1) / 2;
      int64_t due = mid - MIN (ct_money_share_bp (mid, MAX (discount_bp, 0)), mid);

      if (due <= balance)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}
