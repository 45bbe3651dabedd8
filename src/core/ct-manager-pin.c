/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-manager-pin"
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ct-manager-pin.h"

G_DEFINE_QUARK (ct-manager-pin-error-quark, ct_manager_pin_error)

/**
 * ct_manager_pin_rule:
 *
 * Returns: (transfer full): the rule for a new PIN, in words, to show
 *   where the PIN is chosen.
 */
char *
ct_manager_pin_rule (void)
{
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "A manager PIN has at least %d digit.",
                                       "A manager PIN has at least %d digits.",
                                       CT_MANAGER_PIN_MIN_DIGITS),
                          CT_MANAGER_PIN_MIN_DIGITS);
}

static gboolean
pin_check_new (const char  *pin,
               gboolean     cashier,
               GError     **error)
{
  gsize len = strlen (pin);

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (pin[i]))
      {
        g_set_error_literal (error, CT_MANAGER_PIN_ERROR, CT_MANAGER_PIN_ERROR_NOT_DIGITS,
                             cashier ? _("A cashier PIN is made of digits only.")
                                     : _("A manager PIN is made of digits only."));
        return FALSE;
      }
  if (len < CT_MANAGER_PIN_MIN_DIGITS)
    {
      g_autofree char *rule = NULL;

      if (cashier)
        rule = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "A cashier PIN has at least %d digit.",
                                             "A cashier PIN has at least %d digits.",
                                             CT_MANAGER_PIN_MIN_DIGITS),
                                CT_MANAGER_PIN_MIN_DIGITS);
      else
        rule = ct_manager_pin_rule ();
      g_set_error_literal (error, CT_MANAGER_PIN_ERROR, CT_MANAGER_PIN_ERROR_TOO_SHORT, rule);
      return FALSE;
    }
  if (len > CT_MANAGER_PIN_MAX_DIGITS)
    {
      g_set_error (error, CT_MANAGER_PIN_ERROR, CT_MANAGER_PIN_ERROR_TOO_LONG,
                   cashier ? _("A cashier PIN has at most %d digits.") : _("A manager PIN has at most %d digits."),
                   CT_MANAGER_PIN_MAX_DIGITS);
      return FALSE;
    }
  return TRUE;
}

/**
 * ct_manager_pin_check_new:
 * @pin: a PIN someone chose for a new manager
 *
 * Returns: %TRUE when @pin follows the rule; otherwise %FALSE with a
 *   sentence that says the rule.
 */
gboolean
ct_manager_pin_check_new (const char  *pin,
                          GError     **error)
{
  g_return_val_if_fail (pin != NULL, FALSE);

  return pin_check_new (pin, FALSE, error);
}

/**
 * ct_cashier_pin_check_new:
 * @pin: a PIN someone chose for a cashier
 *
 * A cashier's PIN follows the managers' rule: the till keeps a slow hash
 * of it to sign the cashier in offline, and a short PIN would fall to a
 * search of that hash.
 *
 * Returns: %TRUE when @pin follows the rule; otherwise %FALSE with a
 *   sentence that says the rule.
 */
gboolean
ct_cashier_pin_check_new (const char  *pin,
                          GError     **error)
{
  g_return_val_if_fail (pin != NULL, FALSE);

  return pin_check_new (pin, TRUE, error);
}

/**
 * ct_member_pin_check:
 * @pin: a member PIN, to set or to pay with
 *
 * Returns: %TRUE when @pin is CT_MEMBER_PIN_DIGITS digits; otherwise
 *   %FALSE with a sentence that says the rule.
 */
gboolean
ct_member_pin_check (const char  *pin,
                     GError     **error)
{
  gsize len;

  g_return_val_if_fail (pin != NULL, FALSE);

  len = strlen (pin);
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (pin[i]))
      {
        g_set_error_literal (error, CT_MANAGER_PIN_ERROR, CT_MANAGER_PIN_ERROR_NOT_DIGITS,
                             _("A member PIN is made of digits only."));
        return FALSE;
      }
  if (len != CT_MEMBER_PIN_DIGITS)
    {
      g_set_error (error, CT_MANAGER_PIN_ERROR,
                   len < CT_MEMBER_PIN_DIGITS ? CT_MANAGER_PIN_ERROR_TOO_SHORT : CT_MANAGER_PIN_ERROR_TOO_LONG,
                   _("A member PIN has %d digits."), CT_MEMBER_PIN_DIGITS);
      return FALSE;
    }
  return TRUE;
}

gboolean
ct_pin_hash_parse (const char *stored,
                   CtPinHash  *out)
{
  g_auto(GStrv) parts = stored != NULL ? g_strsplit (stored, "$", 4) : NULL;
  g_autofree guchar *salt = NULL;
  g_autofree guchar *hash = NULL;
  gsize salt_len = 0, hash_len = 0;
  guint64 iterations;

  if (parts == NULL || g_strv_length (parts) != 4 || !g_str_equal (parts[0], "pbkdf2-sha256")
      || !g_ascii_string_to_unsigned (parts[1], 10, 1, 10000000, &iterations, NULL))
    return FALSE;
  salt = g_base64_decode (parts[2], &salt_len);
  hash = g_base64_decode (parts[3], &hash_len);
  if (salt_len == 0 || hash_len != CT_PIN_HASH_LEN)
    return FALSE;
  out->iterations = (guint) iterations;
  out->salt = g_steal_pointer (&salt);
  out->salt_len = salt_len;
  out->hash = g_steal_pointer (&hash);
  return TRUE;
}

void
ct_pin_hash_clear (CtPinHash *hash)
{
  g_clear_pointer (&hash->salt, g_free);
  g_clear_pointer (&hash->hash, g_free);
}

void
ct_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  memset (secret, 0, strlen (secret));
  g_free (secret);
}

gboolean
ct_pin_hash_equal (const guint8 *a,
                   const guint8 *b)
{
  guint8 diff = 0;

  for (gsize i = 0; i < CT_PIN_HASH_LEN; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}
