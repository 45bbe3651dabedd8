/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-member-code"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ct-card-number.h"
#include "ct-member-code.h"

/*
 * A photo of a member's static card barcode is enough to find the card; the
 * dynamic payment code is what shows that the member is at the counter. The
 * member page shows it as a QR code that changes every 30 seconds; the till
 * reads it like any scanned card and sends the code with the payment; the
 * service checks it against the card's secret and takes each code once.
 */

/**
 * ct_member_code_step:
 * @unix_time: seconds since the epoch
 *
 * Returns: the RFC 6238 time step (T) of @unix_time
 */
gint64
ct_member_code_step (gint64 unix_time)
{
  return unix_time >= 0 ? unix_time / CT_MEMBER_CODE_STEP_S : -1;
}

/* RFC 4226 HOTP of @counter, truncated to @digits decimal digits. */
static guint32
hotp (const guint8 *secret,
      gsize         secret_len,
      guint64       counter,
      guint         digits)
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1, secret, secret_len);
  guint8 message[8];
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  guint32 binary, modulus = 1;
  guint offset;

  for (int i = 7; i >= 0; i--)
    {
      message[i] = counter & 0xff;
      counter >>= 8;
    }
  g_hmac_update (hmac, message, sizeof message);
  g_hmac_get_digest (hmac, digest, &digest_len);
  offset = digest[19] & 0x0f;
  binary = ((guint32) (digest[offset] & 0x7f) << 24) | ((guint32) digest[offset + 1] << 16)
           | ((guint32) digest[offset + 2] << 8) | digest[offset + 3];
  for (guint i = 0; i < digits; i++)
    modulus *= 10;
  return binary % modulus;
}

/**
 * ct_member_code_at:
 * @secret: the card's secret
 * @secret_len: its length in bytes
 * @unix_time: the time the code is for
 * @digits: how many digits (6 to 9; the member code uses 8)
 *
 * Returns: (transfer full): the TOTP code of @unix_time, zero-padded
 */
char *
ct_member_code_at (const guint8 *secret,
                   gsize         secret_len,
                   gint64        unix_time,
                   guint         digits)
{
  g_return_val_if_fail (secret != NULL && secret_len > 0, NULL);
  g_return_val_if_fail (digits >= 6 && digits <= 9, NULL);
  g_return_val_if_fail (unix_time >= 0, NULL);

  return g_strdup_printf ("%0*u", (int) digits,
                          hotp (secret, secret_len, (guint64) ct_member_code_step (unix_time), digits));
}

static gboolean
all_digits (const char *text,
            gsize       n)
{
  if (strlen (text) != n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

/**
 * ct_member_code_verify:
 * @secret: the card's secret
 * @secret_len: its length in bytes
 * @code: the 8-digit code the member showed
 * @unix_time: now
 * @out_step: (out) (optional): the time step the code belongs to, so that
 *   the caller can take each step once
 *
 * Accepts the code of the current step and of one step either side (a phone
 * clock a little off, a code shown just before it changed).
 *
 * Returns: whether @code is the card's code now
 */
gboolean
ct_member_code_verify (const guint8 *secret,
                       gsize         secret_len,
                       const char   *code,
                       gint64        unix_time,
                       gint64       *out_step)
{
  gint64 now_step = ct_member_code_step (unix_time);
  gboolean found = FALSE;

  g_return_val_if_fail (secret != NULL && secret_len > 0, FALSE);

  if (code == NULL || !all_digits (code, CT_MEMBER_CODE_DIGITS) || now_step < 1)
    return FALSE;
  /* Every candidate is computed so that the time taken does not tell which
   * step matched. */
  for (gint64 step = now_step - 1; step <= now_step + 1; step++)
    {
      char want[16];

      g_snprintf (want, sizeof want, "%0*u", CT_MEMBER_CODE_DIGITS,
                  hotp (secret, secret_len, (guint64) step, CT_MEMBER_CODE_DIGITS));
      if (strcmp (want, code) == 0 && !found)
        {
          found = TRUE;
          if (out_step != NULL)
            *out_step = step;
        }
    }
  return found;
}

/**
 * ct_member_code_payload:
 * @card_no: the card number
 * @code: its current code
 *
 * Returns: (transfer full): the QR code's text, "CTP1:<card_no>:<code>"
 */
char *
ct_member_code_payload (const char *card_no,
                        const char *code)
{
  return g_strconcat (CT_MEMBER_CODE_PREFIX, card_no, ":", code, NULL);
}

/**
 * ct_member_code_parse:
 * @payload: scanned text that starts with "CTP1:"
 * @issuer_prefix: (nullable): the issuer prefix, for the card number's rules
 * @out_card_no: (out) (transfer full): the card number, normalised
 * @out_code: (out) (transfer full): the 8-digit code
 * @error: a #CtCardNumberError
 *
 * Reads a dynamic payment code; the card number follows the rules of any
 * card number (ct_card_number_normalize()).
 *
 * Returns: whether @payload is a well-formed member code
 */
gboolean
ct_member_code_parse (const char  *payload,
                      const char  *issuer_prefix,
                      char       **out_card_no,
                      char       **out_code,
                      GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *card_text = NULL;
  const char *rest, *colon;

  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (out_card_no != NULL && out_code != NULL, FALSE);

  *out_card_no = NULL;
  *out_code = NULL;
  trimmed = g_strstrip (g_strdup (payload));
  if (g_ascii_strncasecmp (trimmed, CT_MEMBER_CODE_PREFIX, strlen (CT_MEMBER_CODE_PREFIX)) != 0)
    {
      g_set_error_literal (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_PAYLOAD,
                           _("The scanned code is not a member's payment code"));
      return FALSE;
    }
  rest = trimmed + strlen (CT_MEMBER_CODE_PREFIX);
  colon = strrchr (rest, ':');
  if (colon == NULL || !all_digits (colon + 1, CT_MEMBER_CODE_DIGITS))
    {
      g_set_error_literal (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_PAYLOAD,
                           _("The member's payment code is incomplete; ask the member to show it again"));
      return FALSE;
    }
  card_text = g_strndup (rest, colon - rest);
  *out_card_no = ct_card_number_normalize (card_text, issuer_prefix, NULL, error);
  if (*out_card_no == NULL)
    return FALSE;
  *out_code = g_strdup (colon + 1);
  return TRUE;
}
