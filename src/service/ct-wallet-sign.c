/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wallet-sign"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct-wallet-sign.h"

/* A key file is small; anything bigger is not a key. */
#define KEY_FILE_MAX (64 * 1024)
#define RSA_BITS_MIN 2048

struct _CtWalletKey
{
  gnutls_privkey_t key;
};

struct _CtWalletPubkey
{
  gnutls_pubkey_t  key;
  char            *serial;
};

G_DEFINE_QUARK (ct-wallet-sign-error-quark, ct_wallet_sign_error)

static gboolean
tls_check (int          rc,
           const char  *path,
           const char  *what,
           GError     **error)
{
  if (rc >= 0)
    return TRUE;
  g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_KEY, "%s: %s (%s)",
               path, what, gnutls_strerror (rc));
  return FALSE;
}

gboolean
ct_wallet_key_file_check (const char  *path,
                          GError     **error)
{
  struct stat st;

  g_return_val_if_fail (path != NULL, FALSE);

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_FILE, "%s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_FILE,
                   "%s is not a regular file", path);
      return FALSE;
    }
  if (st.st_uid != geteuid ())
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_FILE,
                   "%s belongs to another user: a private key must belong to the user the service runs as",
                   path);
      return FALSE;
    }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_FILE,
                   "%s may be read or changed by other users (mode %03o): run chmod 600 on it",
                   path, (unsigned) (st.st_mode & 0777));
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_key_file (const char  *path,
               char       **out,
               gsize       *out_len,
               GError     **error)
{
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, out, out_len, &local))
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_FILE, "%s", local->message);
      return FALSE;
    }
  if (*out_len == 0 || *out_len > KEY_FILE_MAX)
    {
      g_clear_pointer (out, g_free);
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_KEY, "%s is not a key file", path);
      return FALSE;
    }
  return TRUE;
}

/* The bare base64 form (no "-----BEGIN"): whitespace dropped, every other
 * character must be base64, or the file is not a key. */
static guchar *
bare_base64 (const char *text,
             gsize       len,
             gsize      *out_len)
{
  g_autoptr(GString) clean = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (g_ascii_isspace (c))
        continue;
      if (!g_ascii_isalnum (c) && c != '+' && c != '/' && c != '=')
        return NULL;
      g_string_append_c (clean, c);
    }
  if (clean->len == 0 || clean->len % 4 != 0)
    return NULL;
  return g_base64_decode (clean->str, out_len);
}

static gboolean
check_rsa (int             algorithm,
           const unsigned *bits_p,
           const char     *path,
           GError        **error)
{
  /* Read here, after the call that fills it has run. */
  unsigned bits = *bits_p;

  if (algorithm != GNUTLS_PK_RSA)
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_KEY,
                   "%s is not an RSA key (RSA2 and WECHATPAY2-SHA256-RSA2048 need RSA)", path);
      return FALSE;
    }
  if (bits < RSA_BITS_MIN)
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_KEY,
                   "%s is a %u-bit RSA key; at least %d bits are needed", path, bits, RSA_BITS_MIN);
      return FALSE;
    }
  return TRUE;
}

CtWalletKey *
ct_wallet_key_load (const char  *path,
                    GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree guchar *der = NULL;
  gnutls_datum_t datum;
  gsize len = 0, der_len = 0;
  unsigned bits = 0;
  CtWalletKey *key;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  if (!ct_wallet_key_file_check (path, error) || !read_key_file (path, &text, &len, error))
    return NULL;

  key = g_new0 (CtWalletKey, 1);
  gnutls_privkey_init (&key->key);
  if (strstr (text, "-----BEGIN") != NULL)
    {
      datum = (gnutls_datum_t) { (unsigned char *) text, (unsigned) len };
      rc = gnutls_privkey_import_x509_raw (key->key, &datum, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
  else if ((der = bare_base64 (text, len, &der_len)) != NULL)
    {
      datum = (gnutls_datum_t) { der, (unsigned) der_len };
      rc = gnutls_privkey_import_x509_raw (key->key, &datum, GNUTLS_X509_FMT_DER, NULL, 0);
    }
  else
    rc = GNUTLS_E_BASE64_DECODING_ERROR;
  /* The key's bytes leave memory as soon as GnuTLS holds them. */
  memset (text, 0, len);
  if (der != NULL)
    memset (der, 0, der_len);
  if (!tls_check (rc, path, "not a private key", error)
      || !check_rsa (gnutls_privkey_get_pk_algorithm (key->key, &bits), &bits, path, error))
    {
      ct_wallet_key_free (key);
      return NULL;
    }
  return key;
}

void
ct_wallet_key_free (CtWalletKey *key)
{
  if (key == NULL)
    return;
  gnutls_privkey_deinit (key->key);
  g_free (key);
}

static char *
serial_hex (gnutls_x509_crt_t crt)
{
  guchar serial[64];
  size_t size = sizeof serial;
  GString *hex;

  if (gnutls_x509_crt_get_serial (crt, serial, &size) < 0)
    return NULL;
  hex = g_string_new (NULL);
  for (size_t i = 0; i < size; i++)
    g_string_append_printf (hex, "%02X", serial[i]);
  return g_string_free (hex, FALSE);
}

CtWalletPubkey *
ct_wallet_pubkey_load (const char  *path,
                       GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree guchar *der = NULL;
  g_autoptr(CtWalletPubkey) pub = NULL;
  gnutls_datum_t datum;
  gsize len = 0, der_len = 0;
  unsigned bits = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  if (!read_key_file (path, &text, &len, error))
    return NULL;
  pub = g_new0 (CtWalletPubkey, 1);
  gnutls_pubkey_init (&pub->key);
  if (strstr (text, "-----BEGIN CERTIFICATE") != NULL)
    {
      gnutls_x509_crt_t crt = NULL;

      datum = (gnutls_datum_t) { (unsigned char *) text, (unsigned) len };
      gnutls_x509_crt_init (&crt);
      rc = gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_PEM);
      if (rc >= 0)
        rc = gnutls_pubkey_import_x509 (pub->key, crt, 0);
      if (rc >= 0)
        pub->serial = serial_hex (crt);
      gnutls_x509_crt_deinit (crt);
    }
  else if (strstr (text, "-----BEGIN") != NULL)
    {
      datum = (gnutls_datum_t) { (unsigned char *) text, (unsigned) len };
      rc = gnutls_pubkey_import (pub->key, &datum, GNUTLS_X509_FMT_PEM);
    }
  else if ((der = bare_base64 (text, len, &der_len)) != NULL)
    {
      datum = (gnutls_datum_t) { der, (unsigned) der_len };
      rc = gnutls_pubkey_import (pub->key, &datum, GNUTLS_X509_FMT_DER);
    }
  else
    rc = GNUTLS_E_BASE64_DECODING_ERROR;
  if (!tls_check (rc, path, "not a public key or certificate", error)
      || !check_rsa (gnutls_pubkey_get_pk_algorithm (pub->key, &bits), &bits, path, error))
    return NULL;
  return g_steal_pointer (&pub);
}

void
ct_wallet_pubkey_free (CtWalletPubkey *pub)
{
  if (pub == NULL)
    return;
  if (pub->key != NULL)
    gnutls_pubkey_deinit (pub->key);
  g_free (pub->serial);
  g_free (pub);
}

const char *
ct_wallet_pubkey_serial (const CtWalletPubkey *pub)
{
  g_return_val_if_fail (pub != NULL, NULL);
  return pub->serial;
}

char *
ct_wallet_sign (CtWalletKey  *key,
                const void   *data,
                gsize         len,
                GError      **error)
{
  gnutls_datum_t in = { (unsigned char *) data, (unsigned) len };
  gnutls_datum_t sig = { NULL, 0 };
  char *b64;
  int rc;

  g_return_val_if_fail (key != NULL, NULL);

  /* SHA-256 with an RSA key is PKCS#1 v1.5 unless RSA-PSS is asked for. */
  rc = gnutls_privkey_sign_data (key->key, GNUTLS_DIG_SHA256, 0, &in, &sig);
  if (rc < 0)
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_KEY,
                   "signing failed: %s", gnutls_strerror (rc));
      return NULL;
    }
  b64 = g_base64_encode (sig.data, sig.size);
  gnutls_free (sig.data);
  return b64;
}

gboolean
ct_wallet_verify (CtWalletPubkey  *pub,
                  const void      *data,
                  gsize            len,
                  const char      *signature_base64,
                  GError         **error)
{
  gnutls_datum_t in = { (unsigned char *) data, (unsigned) len };
  g_autofree guchar *sig = NULL;
  gsize sig_len = 0;
  gnutls_datum_t sig_datum;

  g_return_val_if_fail (pub != NULL, FALSE);

  if (signature_base64 == NULL || *signature_base64 == '\0'
      || (sig = bare_base64 (signature_base64, strlen (signature_base64), &sig_len)) == NULL
      || sig_len == 0)
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_BAD_SIGNATURE,
                   "the answer carries no readable signature");
      return FALSE;
    }
  sig_datum = (gnutls_datum_t) { sig, (unsigned) sig_len };
  if (gnutls_pubkey_verify_data2 (pub->key, GNUTLS_SIGN_RSA_SHA256, 0, &in, &sig_datum) < 0)
    {
      g_set_error (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_BAD_SIGNATURE,
                   "the answer's signature does not verify with the gateway's public key");
      return FALSE;
    }
  return TRUE;
}

char *
ct_wallet_nonce (guint n)
{
  static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  g_autofree guchar *bytes = g_malloc (n);
  char *out = g_malloc (n + 1);

  if (gnutls_rnd (GNUTLS_RND_NONCE, bytes, n) < 0)
    {
      for (guint i = 0; i < n; i++)
        bytes[i] = (guchar) g_random_int ();
    }
  for (guint i = 0; i < n; i++)
    out[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
  out[n] = '\0';
  return out;
}
