/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cashier"
#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "ct-cashier.h"
#include "ct-manager-pin.h"
#include "ct-wire.h"

CtCashier *
ct_cashier_new (const char *id,
                const char *name,
                gboolean    offline)
{
  CtCashier *cashier = g_new0 (CtCashier, 1);

  cashier->id = g_strdup (id);
  cashier->name = g_strdup (name != NULL ? name : id);
  cashier->offline = offline;
  return cashier;
}

CtCashier *
ct_cashier_copy (const CtCashier *cashier)
{
  g_return_val_if_fail (cashier != NULL, NULL);

  return ct_cashier_new (cashier->id, cashier->name, cashier->offline);
}

void
ct_cashier_free (CtCashier *cashier)
{
  if (cashier == NULL)
    return;
  g_free (cashier->id);
  g_free (cashier->name);
  g_free (cashier);
}

/**
 * ct_cashier_encode_sign_in:
 *
 * Returns: (transfer full): the body of POST /v1/cashiers/sign-in.
 */
char *
ct_cashier_encode_sign_in (const char *cashier_id,
                           const char *pin)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "cashier", json_object_new_string (cashier_id));
  json_object_object_add (obj, "pin", json_object_new_string (pin));
  return ct_wire_json_take_text (obj);
}

/**
 * ct_cashier_decode:
 *
 * Returns: (transfer full) (nullable): the cashier of a sign-in answer
 *   (`{"cashier": {"id", "name"}}`), or NULL with CT_CLIENT_ERROR_BAD_ANSWER.
 */
CtCashier *
ct_cashier_decode (const char  *body,
                   gsize        len,
                   GError     **error)
{
  g_autofree char *text = g_strndup (body, len);
  json_object *obj = json_tokener_parse (text);
  json_object *cashier = NULL, *id = NULL, *name = NULL;
  CtCashier *out = NULL;

  if (obj != NULL && json_object_object_get_ex (obj, "cashier", &cashier)
      && json_object_object_get_ex (cashier, "id", &id) && json_object_is_type (id, json_type_string)
      && json_object_object_get_ex (cashier, "name", &name) && json_object_is_type (name, json_type_string))
    out = ct_cashier_new (json_object_get_string (id), json_object_get_string (name), FALSE);
  else
    g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                         "The service's answer to the sign-in names no cashier");
  json_object_put (obj);
  return out;
}

struct _CtCashierBook
{
  GMutex  lock;
  char   *path;
};

CtCashierBook *
ct_cashier_book_new (const char *path)
{
  CtCashierBook *book = g_new0 (CtCashierBook, 1);

  g_return_val_if_fail (path != NULL, NULL);

  g_mutex_init (&book->lock);
  book->path = g_strdup (path);
  return book;
}

void
ct_cashier_book_free (CtCashierBook *book)
{
  if (book == NULL)
    return;
  g_mutex_clear (&book->lock);
  g_free (book->path);
  g_free (book);
}

/* PBKDF2-HMAC-SHA256 (RFC 8018) for one 32-byte block: the service's PIN
 * hash, made here with GLib alone. */
static void
pbkdf2_sha256 (const char   *pin,
               const guint8 *salt,
               gsize         salt_len,
               guint         iterations,
               guint8        out[32])
{
  g_autoptr(GHmac) keyed = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) pin, strlen (pin));
  static const guint8 block_one[4] = { 0, 0, 0, 1 };
  guint8 u[32];
  gsize len = sizeof u;

  {
    g_autoptr(GHmac) h = g_hmac_copy (keyed);

    g_hmac_update (h, salt, salt_len);
    g_hmac_update (h, block_one, sizeof block_one);
    g_hmac_get_digest (h, u, &len);
  }
  memcpy (out, u, 32);
  for (guint i = 1; i < iterations; i++)
    {
      g_autoptr(GHmac) h = g_hmac_copy (keyed);

      g_hmac_update (h, u, sizeof u);
      len = sizeof u;
      g_hmac_get_digest (h, u, &len);
      for (guint j = 0; j < 32; j++)
        out[j] ^= u[j];
    }
}

/* A record's group: a digest of the service and the id, so that neither
 * needs escaping and one till may serve several services. */
static char *
group_of (const char *service_id,
          const char *cashier_id)
{
  g_autofree char *text = g_strconcat (service_id, "\n", cashier_id, NULL);

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

static GKeyFile *
load (CtCashierBook *book)
{
  GKeyFile *kf = g_key_file_new ();

  /* A missing or damaged file is an empty book: cashiers then sign in
   * online once more. */
  g_key_file_load_from_file (kf, book->path, G_KEY_FILE_NONE, NULL);
  return kf;
}

static gboolean
save (CtCashierBook  *book,
      GKeyFile       *kf,
      GError        **error)
{
  g_autofree char *data = g_key_file_to_data (kf, NULL, NULL);

  return g_file_set_contents_full (book->path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

gboolean
ct_cashier_book_remember (CtCashierBook    *book,
                          const char       *service_id,
                          const CtCashier  *cashier,
                          const char       *pin,
                          GError          **error)
{
  g_autoptr(GKeyFile) kf = NULL;
  g_autofree char *group = NULL;
  g_autofree char *salt64 = NULL;
  g_autofree char *hash64 = NULL;
  g_autofree char *stored = NULL;
  guint8 salt[16];
  guint8 hash[32];
  gboolean ok;

  g_return_val_if_fail (book != NULL && service_id != NULL && cashier != NULL && pin != NULL, FALSE);

  /* A salt needs to differ between records, not to be secret. */
  for (guint i = 0; i < sizeof salt; i += 4)
    {
      guint32 r = g_random_int ();

      memcpy (salt + i, &r, 4);
    }
  pbkdf2_sha256 (pin, salt, sizeof salt, CT_CASHIER_BOOK_ITERATIONS, hash);
  salt64 = g_base64_encode (salt, sizeof salt);
  hash64 = g_base64_encode (hash, sizeof hash);
  stored = g_strdup_printf ("pbkdf2-sha256$%u$%s$%s", CT_CASHIER_BOOK_ITERATIONS, salt64, hash64);
  group = group_of (service_id, cashier->id);

  g_mutex_lock (&book->lock);
  kf = load (book);
  g_key_file_remove_group (kf, group, NULL);
  g_key_file_set_string (kf, group, "id", cashier->id);
  g_key_file_set_string (kf, group, "name", cashier->name);
  g_key_file_set_string (kf, group, "pin-hash", stored);
  g_key_file_set_int64 (kf, group, "signed-in-at", g_get_real_time ());
  ok = save (book, kf, error);
  g_mutex_unlock (&book->lock);
  return ok;
}

void
ct_cashier_book_forget (CtCashierBook *book,
                        const char    *service_id,
                        const char    *cashier_id)
{
  g_autoptr(GKeyFile) kf = NULL;
  g_autofree char *group = group_of (service_id, cashier_id);

  g_return_if_fail (book != NULL);

  g_mutex_lock (&book->lock);
  kf = load (book);
  if (g_key_file_remove_group (kf, group, NULL))
    save (book, kf, NULL);
  g_mutex_unlock (&book->lock);
}

static gboolean
hash_matches (const char *pin,
              const char *stored)
{
  g_auto(CtPinHash) h = { 0 };
  guint8 got[CT_PIN_HASH_LEN];

  if (!ct_pin_hash_parse (stored, &h))
    return FALSE;
  pbkdf2_sha256 (pin, h.salt, h.salt_len, h.iterations, got);
  return ct_pin_hash_equal (got, h.hash);
}

CtCashier *
ct_cashier_book_verify (CtCashierBook  *book,
                        const char     *service_id,
                        const char     *cashier_id,
                        const char     *pin,
                        gint64          now,
                        GError        **error)
{
  g_autoptr(GKeyFile) kf = NULL;
  g_autofree char *group = group_of (service_id, cashier_id);
  g_autofree char *stored = NULL;
  g_autofree char *name = NULL;
  CtCashier *cashier = NULL;
  gint64 signed_in_at, locked_until;
  int failures;

  g_return_val_if_fail (book != NULL && service_id != NULL && cashier_id != NULL && pin != NULL, NULL);

  g_mutex_lock (&book->lock);
  kf = load (book);
  stored = g_key_file_get_string (kf, group, "pin-hash", NULL);
  name = g_key_file_get_string (kf, group, "name", NULL);
  signed_in_at = g_key_file_get_int64 (kf, group, "signed-in-at", NULL);
  locked_until = g_key_file_get_int64 (kf, group, "locked-until", NULL);
  failures = g_key_file_get_integer (kf, group, "failures", NULL);
  if (stored == NULL || now - signed_in_at > CT_CASHIER_BOOK_MAX_AGE)
    g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE,
                 "The card service cannot be reached, and cashier %s has not signed in on this till "
                 "in the last 7 days", cashier_id);
  else if (locked_until > now)
    g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PIN_LOCKED,
                 "Cashier %s is locked after %d wrong PINs; try again in %" G_GINT64_FORMAT " seconds",
                 cashier_id, CT_CASHIER_BOOK_MAX_FAILURES, (locked_until - now) / G_USEC_PER_SEC + 1);
  else if (hash_matches (pin, stored))
    {
      cashier = ct_cashier_new (cashier_id, name, TRUE);
      if (failures > 0)
        {
          g_key_file_set_integer (kf, group, "failures", 0);
          save (book, kf, NULL);
        }
    }
  else
    {
      failures++;
      if (failures >= CT_CASHIER_BOOK_MAX_FAILURES)
        {
          failures = 0;
          g_key_file_set_int64 (kf, group, "locked-until", now + CT_CASHIER_BOOK_LOCK_USEC);
        }
      g_key_file_set_integer (kf, group, "failures", failures);
      save (book, kf, NULL);
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN, "The cashier id or PIN is wrong");
    }
  g_mutex_unlock (&book->lock);
  return cashier;
}
