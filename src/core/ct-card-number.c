/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-card-number"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ct-card-number.h"
#include "ct-member-code.h"

G_DEFINE_QUARK (ct-card-number-error-quark, ct_card_number_error)

#define CARD_NO_MIN 4
#define CARD_NO_MAX 32

static gboolean
all_digits (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

/* Sum of the Luhn weights of @digits where the rightmost digit has weight
 * @double_rightmost ? 2 : 1. */
static int
luhn_sum (const char *digits,
          gboolean    double_rightmost)
{
  size_t len = strlen (digits);
  int sum = 0;
  gboolean dbl = double_rightmost;

  for (size_t i = len; i > 0; i--)
    {
      int d = digits[i - 1] - '0';

      if (dbl)
        {
          d *= 2;
          if (d > 9)
            d -= 9;
        }
      sum += d;
      dbl = !dbl;
    }
  return sum;
}

/**
 * ct_luhn_valid:
 * @digits: a string of decimal digits whose last digit is the check digit
 *
 * Returns: %TRUE if the Luhn check digit matches
 */
gboolean
ct_luhn_valid (const char *digits)
{
  g_return_val_if_fail (digits != NULL, FALSE);

  if (strlen (digits) < 2 || !all_digits (digits))
    return FALSE;
  return luhn_sum (digits, FALSE) % 10 == 0;
}

/**
 * ct_luhn_check_digit:
 * @digits_without_check: decimal digits
 *
 * Returns: the check digit ('0'..'9') to append, or '\0' for non-digits
 */
char
ct_luhn_check_digit (const char *digits_without_check)
{
  g_return_val_if_fail (digits_without_check != NULL, '\0');

  if (!all_digits (digits_without_check))
    return '\0';
  return (char) ('0' + (10 - luhn_sum (digits_without_check, TRUE) % 10) % 10);
}

/**
 * ct_card_number_in_issuer_range:
 *
 * Returns: %TRUE when @card_no is all digits and starts with the issuer
 *   prefix: the range where only numbers the service issued may live.
 */
gboolean
ct_card_number_in_issuer_range (const char *card_no,
                                const char *issuer_prefix)
{
  g_return_val_if_fail (card_no != NULL, FALSE);

  if (issuer_prefix == NULL || *issuer_prefix == '\0')
    return FALSE;
  return all_digits (card_no) && g_str_has_prefix (card_no, issuer_prefix);
}

/**
 * ct_card_number_normalize:
 * @text: a card number as typed, scanned or imported
 * @issuer_prefix: (nullable): the digits that issued card numbers start with
 * @out_kind: (out) (optional): whether it is an issued or a legacy number
 * @error: a #CtCardNumberError
 *
 * Upper-cases the number (full-width forms become ASCII) and checks it: a
 * 16-digit number under the issuer prefix must pass Luhn; any other 4..32
 * characters of [0-9A-Z-] is a legacy number.
 *
 * Returns: (transfer full): the normalized card number, or %NULL
 */
char *
ct_card_number_normalize (const char        *text,
                          const char        *issuer_prefix,
                          CtCardNumberKind  *out_kind,
                          GError           **error)
{
  g_autoptr(GString) s = NULL;
  size_t len;

  g_return_val_if_fail (text != NULL, NULL);

  if (out_kind)
    *out_kind = CT_CARD_NUMBER_INVALID;

  len = 0;
  while (text[len] != '\0' && (guchar) text[len] < 0x80)
    len++;
  if (text[len] == '\0')
    {
      /* ASCII, the usual case, upper-cased in one copy: decoding it
       * character by character into a GString was most of the time of a
       * number that an import checks three times (twice in the till, once
       * in the service). Nothing else below applies to ASCII. */
      s = g_string_new_len (text, len);
      for (size_t i = 0; i < len; i++)
        s->str[i] = g_ascii_toupper (s->str[i]);
    }
  else
    {
      if (!g_utf8_validate (text, -1, NULL))
        {
          g_set_error_literal (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_SYNTAX,
                               _("The card number is not valid text"));
          return NULL;
        }

      s = g_string_new (NULL);
      for (const char *p = text; *p; p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);

          if (c >= 0xFF01 && c <= 0xFF5E)
            c -= 0xFF01 - 0x21;
          if (c == 0x3000)
            c = ' ';
          g_string_append_unichar (s, c < 0x80 ? (gunichar) g_ascii_toupper ((char) c) : c);
        }
    }
  g_strstrip (s->str);
  s->len = strlen (s->str);
  len = s->len;

  if (len == 0)
    {
      g_set_error_literal (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_SYNTAX,
                           _("The card number is empty"));
      return NULL;
    }

  for (size_t i = 0; i < len; i++)
    {
      char c = s->str[i];

      if (!(g_ascii_isdigit (c) || (c >= 'A' && c <= 'Z') || c == '-'))
        {
          g_set_error (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_SYNTAX,
                       _("“%s” is not a card number: only digits, letters and '-' are allowed"),
                       s->str);
          return NULL;
        }
    }

  if (len < CARD_NO_MIN || len > CARD_NO_MAX)
    {
      g_set_error (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_SYNTAX,
                   _("“%s” is not a card number: it must have %d to %d characters"),
                   s->str, CARD_NO_MIN, CARD_NO_MAX);
      return NULL;
    }

  if (len == CT_CARD_NUMBER_ISSUED_LENGTH && ct_card_number_in_issuer_range (s->str, issuer_prefix))
    {
      if (!ct_luhn_valid (s->str))
        {
          g_set_error (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_CHECK_DIGIT,
                       _("“%s” is not a valid card number: its check digit is wrong "
                         "(a digit was probably mistyped)"), s->str);
          return NULL;
        }
      if (out_kind)
        *out_kind = CT_CARD_NUMBER_ISSUED;
    }
  else if (out_kind)
    {
      *out_kind = CT_CARD_NUMBER_LEGACY;
    }

  return g_string_free (g_steal_pointer (&s), FALSE);
}

/**
 * ct_card_number_generate:
 * @issuer_prefix: up to 15 digits
 * @rand: the random source
 *
 * Returns: (transfer full): a new 16-digit number under @issuer_prefix with a
 *   Luhn check digit. The caller retries on a collision.
 */
char *
ct_card_number_generate (const char *issuer_prefix,
                         GRand      *rand)
{
  char digits[CT_CARD_NUMBER_ISSUED_LENGTH + 1];
  size_t plen;

  g_return_val_if_fail (issuer_prefix != NULL, NULL);
  g_return_val_if_fail (rand != NULL, NULL);
  plen = strlen (issuer_prefix);
  g_return_val_if_fail (plen < CT_CARD_NUMBER_ISSUED_LENGTH && all_digits (issuer_prefix), NULL);

  memcpy (digits, issuer_prefix, plen);
  for (size_t i = plen; i < CT_CARD_NUMBER_ISSUED_LENGTH - 1; i++)
    digits[i] = (char) ('0' + g_rand_int_range (rand, 0, 10));
  digits[CT_CARD_NUMBER_ISSUED_LENGTH - 1] = '\0';
  digits[CT_CARD_NUMBER_ISSUED_LENGTH - 1] = ct_luhn_check_digit (digits);
  digits[CT_CARD_NUMBER_ISSUED_LENGTH] = '\0';

  return g_strdup (digits);
}

static char *
last_url_segment (const char  *payload,
                  GError     **error)
{
  const char *rest = payload + strlen ("https://");
  const char *path = strchr (rest, '/');
  g_autofree char *p = NULL;
  g_auto(GStrv) segments = NULL;
  const char *last = NULL;
  char *cut;
  char *decoded;

  if (path == NULL)
    goto no_segment;

  p = g_strdup (path);
  if ((cut = strpbrk (p, "?#")) != NULL)
    *cut = '\0';

  segments = g_strsplit (p, "/", -1);
  for (guint i = 0; segments[i] != NULL; i++)
    if (segments[i][0] != '\0')
      last = segments[i];

  if (last == NULL)
    goto no_segment;

  decoded = g_uri_unescape_string (last, "/");
  if (decoded == NULL)
    {
      g_set_error (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_PAYLOAD,
                   _("The scanned link has a malformed escape in “%s”"), last);
      return NULL;
    }
  return decoded;

no_segment:
  g_set_error_literal (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_PAYLOAD,
                       _("The scanned link does not end in a card number"));
  return NULL;
}

/**
 * ct_card_number_from_scan:
 * @payload: the text of a Code 128, EAN or QR code
 * @issuer_prefix: (nullable): the issuer prefix
 * @error: a #CtCardNumberError
 *
 * A QR code holding an https URL gives its last non-empty path segment
 * (query and fragment stripped, percent-decoded); a member's payment code
 * ("CTP1:<card_no>:<code>", ct_member_code_parse()) gives its card; then the
 * card number rules of ct_card_number_normalize() apply.
 *
 * Returns: (transfer full): the card number, or %NULL
 */
char *
ct_card_number_from_scan (const char  *payload,
                          const char  *issuer_prefix,
                          GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *segment = NULL;

  g_return_val_if_fail (payload != NULL, NULL);

  trimmed = g_strstrip (g_strdup (payload));

  /* A member's dynamic payment code names its card. */
  if (g_ascii_strncasecmp (trimmed, CT_MEMBER_CODE_PREFIX, strlen (CT_MEMBER_CODE_PREFIX)) == 0)
    {
      g_autofree char *code = NULL;
      char *card_no = NULL;

      if (!ct_member_code_parse (trimmed, issuer_prefix, &card_no, &code, error))
        return NULL;
      return card_no;
    }

  if (g_ascii_strncasecmp (trimmed, "https://", strlen ("https://")) == 0)
    {
      segment = last_url_segment (trimmed, error);
      if (segment == NULL)
        return NULL;
      return ct_card_number_normalize (segment, issuer_prefix, NULL, error);
    }

  if (strstr (trimmed, "://") != NULL)
    {
      g_set_error_literal (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_PAYLOAD,
                           _("The scanned code is a link that is not https, so it is not a card"));
      return NULL;
    }

  return ct_card_number_normalize (trimmed, issuer_prefix, NULL, error);
}
