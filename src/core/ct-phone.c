/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-phone"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ct-phone.h"

/*
 * The one phone rule of the project (docs/api.md, "Phones"): a phone is
 * stored as digits only. People type spaces, dashes, dots and brackets
 * between the digits, full-width digits from a Chinese input method, and a
 * mainland mobile number with its country code (+86 or 0086); all of these
 * mean the same member. The service, the import, the app and the CLI call
 * these functions and nothing else, so a member issued with dashes is found
 * by the digits and the other way round.
 */

G_DEFINE_QUARK (ct-phone-error-quark, ct_phone_error)

#define MAINLAND_DIGITS 11

static gboolean
is_separator (gunichar c)
{
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
         || c == 0x3000 /* ideographic space */ || c == 0xFF0D /* full-width - */
         || c == 0xFF08 || c == 0xFF09 /* full-width brackets */;
}

/* The digits of @text with the separators dropped, or NULL when @text holds
 * anything else. *out_plus says whether it began with '+'. */
static char *
collect_digits (const char *text,
                gboolean   *out_plus)
{
  g_autoptr(GString) out = g_string_new (NULL);

  *out_plus = FALSE;
  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    return NULL;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0xFF10 && c <= 0xFF19)
        c = c - 0xFF10 + '0';
      if (c >= '0' && c <= '9')
        g_string_append_c (out, (char) c);
      else if ((c == '+' || c == 0xFF0B) && out->len == 0 && !*out_plus)
        *out_plus = TRUE;
      else if (!is_separator (c))
        return NULL;
      if (out->len > 64)
        return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Drops the country code of a mainland mobile number: "+86" or "0086"
 * followed by 11 digits that start with 1. */
static void
drop_mainland_prefix (char     *digits,
                      gboolean  plus)
{
  gsize len = strlen (digits);
  gsize skip = 0;

  if (plus && len == 2 + MAINLAND_DIGITS && g_str_has_prefix (digits, "86"))
    skip = 2;
  else if (!plus && len == 4 + MAINLAND_DIGITS && g_str_has_prefix (digits, "0086"))
    skip = 4;
  if (skip > 0 && digits[skip] == '1')
    memmove (digits, digits + skip, len - skip + 1);
}

/**
 * ct_phone_normalize:
 * @text: a phone number as a person typed it
 * @error: set to %CT_PHONE_ERROR_INVALID with a sentence when it is not one
 *
 * Returns: (transfer full): the digits to store, 5 to 15 of them, or %NULL
 */
char *
ct_phone_normalize (const char  *text,
                    GError     **error)
{
  g_autofree char *digits = NULL;
  gboolean plus = FALSE;
  gsize len;

  digits = collect_digits (text, &plus);
  if (digits != NULL)
    {
      drop_mainland_prefix (digits, plus);
      len = strlen (digits);
      if (len >= CT_PHONE_MIN_DIGITS && len <= CT_PHONE_MAX_DIGITS)
        return g_steal_pointer (&digits);
    }
  g_set_error (error, CT_PHONE_ERROR, CT_PHONE_ERROR_INVALID,
               _("phone “%s” is not a phone number (5 to 15 digits; spaces, dashes, dots, "
                 "brackets and a leading + are fine)"),
               text != NULL && g_utf8_validate (text, -1, NULL) ? text : "");
  return NULL;
}

/**
 * ct_phone_search_key:
 * @text: what a cashier typed to look a member up by phone
 * @out_tail: (out) (optional): set to %TRUE when the key is the last four
 *   digits of a phone rather than the whole number
 *
 * Returns: (transfer full) (nullable): the digits to look for, or %NULL when
 *   @text is neither a phone number nor the last four digits of one
 */
char *
ct_phone_search_key (const char *text,
                     gboolean   *out_tail)
{
  g_autofree char *digits = NULL;
  gboolean plus = FALSE;

  if (out_tail != NULL)
    *out_tail = FALSE;
  digits = collect_digits (text, &plus);
  if (digits != NULL && !plus && strlen (digits) == CT_PHONE_TAIL_DIGITS)
    {
      if (out_tail != NULL)
        *out_tail = TRUE;
      return g_steal_pointer (&digits);
    }
  return ct_phone_normalize (text, NULL);
}

/**
 * ct_phone_mask:
 * @phone: (nullable): a phone
 *
 * Keeps the first three and last four digits, as receipts, the card view
 * and a search by the last four digits show a member's phone:
 * "13812345678" is "138****5678"; a short number keeps its last four.
 *
 * Returns: (transfer full): the masked phone ("" for %NULL)
 */
char *
ct_phone_mask (const char *phone)
{
  GString *out;
  glong len, keep_head, i = 0;

  if (phone == NULL || !g_utf8_validate (phone, -1, NULL))
    return g_strdup ("");
  len = g_utf8_strlen (phone, -1);
  if (len <= CT_PHONE_TAIL_DIGITS)
    return g_strdup (phone);
  keep_head = len >= 8 ? 3 : 0;
  out = g_string_new (NULL);
  for (const char *p = phone; *p != '\0'; p = g_utf8_next_char (p), i++)
    {
      if (i < keep_head || i >= len - CT_PHONE_TAIL_DIGITS)
        g_string_append_unichar (out, g_utf8_get_char (p));
      else
        g_string_append_c (out, '*');
    }
  return g_string_free (out, FALSE);
}
