/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-auth"
#include "config.h"

#include <gio/gio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "ct-manager-pin.h"
#include "ct-service-auth.h"

static char *
base64url (const guint8 *data,
           gsize         len)
{
  char *s = g_base64_encode (data, len);

  for (char *p = s; *p; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }
  return s;
}

char *
ct_auth_new_token (void)
{
  guint8 raw[32];

  if (gnutls_rnd (GNUTLS_RND_KEY, raw, sizeof raw) != 0)
    g_error ("no random numbers available");
  return base64url (raw, sizeof raw);
}

void
ct_auth_token_hash (const char *token,
                    guint8      out[32])
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = 32;

  g_checksum_update (sum, (const guchar *) token, strlen (token));
  g_checksum_get_digest (sum, out, &len);
}

gboolean
ct_auth_pin_valid (const char *pin)
{
  gsize len;

  if (pin == NULL)
    return FALSE;
  len = strlen (pin);
  return len >= 4 && len <= 64 && g_utf8_validate (pin, -1, NULL);
}

static gboolean
derive (const char   *pin,
        const guint8 *salt,
        gsize         salt_len,
        guint         iterations,
        guint8        out[32])
{
  gnutls_datum_t key = { (unsigned char *) pin, (unsigned int) strlen (pin) };
  gnutls_datum_t s = { (unsigned char *) salt, (unsigned int) salt_len };

  return gnutls_pbkdf2 (GNUTLS_MAC_SHA256, &key, &s, iterations, out, 32) == 0;
}

void
ct_auth_pin_derive (const char   *pin,
                    gsize         len,
                    const guint8 *salt,
                    gsize         salt_len,
                    guint8        out[32])
{
  gnutls_datum_t key = { (unsigned char *) pin, (unsigned int) len };
  gnutls_datum_t s = { (unsigned char *) salt, (unsigned int) salt_len };

  if (gnutls_pbkdf2 (GNUTLS_MAC_SHA256, &key, &s, CT_PIN_ITERATIONS, out, 32) != 0)
    g_error ("PBKDF2 is not available");
}

char *
ct_auth_pin_hash (const char  *pin,
                  GError     **error)
{
  guint8 salt[16];
  guint8 hash[32];
  g_autofree char *salt64 = NULL;
  g_autofree char *hash64 = NULL;

  if (!ct_auth_pin_valid (pin))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "a PIN is 4 to 64 characters");
      return NULL;
    }
  if (gnutls_rnd (GNUTLS_RND_NONCE, salt, sizeof salt) != 0
      || !derive (pin, salt, sizeof salt, CT_PIN_ITERATIONS, hash))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot hash the PIN");
      return NULL;
    }
  salt64 = g_base64_encode (salt, sizeof salt);
  hash64 = g_base64_encode (hash, sizeof hash);
  return g_strdup_printf ("pbkdf2-sha256$%u$%s$%s", CT_PIN_ITERATIONS, salt64, hash64);
}

gboolean
ct_auth_pin_verify (const char *pin,
                    const char *stored)
{
  g_auto(CtPinHash) h = { 0 };
  guint8 got[CT_PIN_HASH_LEN];

  if (pin == NULL || !ct_pin_hash_parse (stored, &h))
    return FALSE;
  if (!derive (pin, h.salt, h.salt_len, h.iterations, got))
    return FALSE;
  return ct_pin_hash_equal (got, h.hash);
}

static GMutex cache_lock;
static GHashTable *cache;

gboolean
ct_auth_pin_verify_cached (const char *manager_id,
                           const char *pin,
                           const char *stored)
{
  g_autoptr(GChecksum) sum = NULL;
  char *key;
  gboolean hit;

  if (pin == NULL || stored == NULL || manager_id == NULL)
    return FALSE;
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) manager_id, strlen (manager_id) + 1);
  g_checksum_update (sum, (const guchar *) stored, strlen (stored) + 1);
  g_checksum_update (sum, (const guchar *) pin, strlen (pin));
  key = g_strdup (g_checksum_get_string (sum));

  g_mutex_lock (&cache_lock);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  hit = g_hash_table_contains (cache, key);
  g_mutex_unlock (&cache_lock);
  if (hit)
    {
      g_free (key);
      return TRUE;
    }
  if (!ct_auth_pin_verify (pin, stored))
    {
      g_free (key);
      return FALSE;
    }
  g_mutex_lock (&cache_lock);
  if (g_hash_table_size (cache) > 1024)
    g_hash_table_remove_all (cache);
  g_hash_table_add (cache, key);
  g_mutex_unlock (&cache_lock);
  return TRUE;
}

void
ct_auth_pin_verify_dummy (const char *pin)
{
  static gsize made;
  static char *dummy;

  if (g_once_init_enter (&made))
    {
      dummy = ct_auth_pin_hash ("no-such-manager", NULL);
      g_once_init_leave (&made, 1);
    }
  (void) ct_auth_pin_verify (pin != NULL ? pin : "", dummy);
}

/**
 * ct_auth_lock_ms:
 * How long the @lockouts-th lock-out since the last right PIN lasts.
 */
int64_t
ct_auth_lock_ms (int lockouts)
{
  if (lockouts <= 1)
    return 5 * 60 * 1000;
  if (lockouts == 2)
    return 30 * 60 * 1000;
  return 24 * 60 * 60 * 1000;
}

gboolean
ct_auth_guard_failure (CtStorePinGuard *guard,
                       int64_t          now_ms)
{
  if (now_ms - guard->last_failure_at >= CT_PIN_DECAY_MS)
    guard->failures = 0;
  guard->failures++;
  guard->last_failure_at = now_ms;
  if (guard->failures < CT_PIN_MAX_FAILURES)
    return FALSE;
  guard->failures = 0;
  guard->lockouts++;
  guard->locked_until = now_ms + ct_auth_lock_ms (guard->lockouts);
  return TRUE;
}

void
ct_auth_guard_success (CtStorePinGuard *guard,
                       const char      *pin)
{
  guard->failures = 0;
  guard->lockouts = 0;
  guard->last_failure_at = 0;
  guard->locked_until = 0;
  guard->pin_short = strlen (pin) < CT_MANAGER_PIN_MIN_DIGITS;
}
