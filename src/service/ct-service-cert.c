/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-cert"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <time.h>
#include <unistd.h>

#include "ct-service-cert.h"

static gboolean
check (int          rc,
       const char  *what,
       GError     **error)
{
  if (rc < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, gnutls_strerror (rc));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_private (const char           *path,
               const gnutls_datum_t *data,
               GError              **error)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gsize off = 0;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot write %s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  fchmod (fd, 0600);
  while (off < data->size)
    {
      ssize_t n = write (fd, data->data + off, data->size - off);
      if (n < 0)
        {
          int saved = errno;
          if (saved == EINTR)
            continue;
          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot write %s: %s",
                       path, g_strerror (saved));
          return FALSE;
        }
      off += n;
    }
  if (fsync (fd) != 0 || close (fd) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

char *
ct_service_gen_cert (const char  *cert_path,
                     const char  *key_path,
                     const char  *ip,
                     guint        days,
                     GError     **error)
{
  gint64 now = (gint64) time (NULL);

  if (days == 0 || days > 36500)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--days must be 1 to 36500");
      return NULL;
    }
  /* An hour of slack for a till whose clock is a little behind. */
  return ct_service_gen_cert_valid (cert_path, key_path, ip, now - 3600, now + (gint64) days * 86400, error);
}

char *
ct_service_gen_cert_valid (const char  *cert_path,
                           const char  *key_path,
                           const char  *ip,
                           gint64       not_before,
                           gint64       not_after,
                           GError     **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t key_pem = { NULL, 0 };
  gnutls_datum_t crt_pem = { NULL, 0 };
  gnutls_datum_t spki = { NULL, 0 };
  unsigned char addr[16];
  size_t addr_len;
  guint8 serial[16];
  char *pin = NULL;
  gboolean ok;

  g_return_val_if_fail (cert_path != NULL && key_path != NULL && ip != NULL, NULL);

  if (inet_pton (AF_INET, ip, addr) == 1)
    addr_len = 4;
  else if (inet_pton (AF_INET6, ip, addr) == 1)
    addr_len = 16;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s is not an IP address", ip);
      return NULL;
    }

  gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial);
  serial[0] &= 0x7f;

  ok = check (gnutls_x509_privkey_init (&key), "key", error)
    && check (gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0),
              "generate key", error)
    && check (gnutls_x509_crt_init (&crt), "certificate", error)
    && check (gnutls_x509_crt_set_version (crt, 3), "version", error)
    && check (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "serial", error)
    && check (gnutls_x509_crt_set_activation_time (crt, (time_t) not_before), "activation", error)
    && check (gnutls_x509_crt_set_expiration_time (crt, (time_t) not_after), "expiration", error)
    && check (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, ip, strlen (ip)), "name", error)
    && check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, addr, addr_len, GNUTLS_FSAN_SET),
              "subjectAltName", error)
    && check (gnutls_x509_crt_set_basic_constraints (crt, 0, -1), "constraints", error)
    && check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "key usage", error)
    && check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose", error)
    && check (gnutls_x509_crt_set_key (crt, key), "set key", error)
    && check (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "sign", error)
    && check (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &crt_pem), "export certificate", error)
    && check (gnutls_x509_privkey_export2 (key, GNUTLS_X509_FMT_PEM, &key_pem), "export key", error)
    && check (gnutls_pubkey_init (&pub), "public key", error)
    && check (gnutls_pubkey_import_x509 (pub, crt, 0), "public key", error)
    && check (gnutls_pubkey_export2 (pub, GNUTLS_X509_FMT_DER, &spki), "public key", error);

  if (ok)
    ok = write_private (key_path, &key_pem, error)
      && g_file_set_contents (cert_path, (const char *) crt_pem.data, crt_pem.size, error);
  if (ok)
    {
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      guint8 digest[32];
      gsize len = sizeof digest;
      g_autofree char *b64 = NULL;

      g_checksum_update (sum, spki.data, spki.size);
      g_checksum_get_digest (sum, digest, &len);
      b64 = g_base64_encode (digest, len);
      pin = g_strconcat ("sha256//", b64, NULL);
    }

  gnutls_free (spki.data);
  gnutls_free (crt_pem.data);
  gnutls_free (key_pem.data);
  if (pub)
    gnutls_pubkey_deinit (pub);
  if (crt)
    gnutls_x509_crt_deinit (crt);
  if (key)
    gnutls_x509_privkey_deinit (key);
  return pin;
}

static char *
format_utc (time_t t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc ((gint64) t);

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M UTC") : g_strdup ("an unknown time");
}

/* The SHA-256 key id of @pub, for comparing two public keys. */
static gboolean
key_id (gnutls_pubkey_t  pub,
        guint8           id[32])
{
  size_t len = 32;

  return gnutls_pubkey_get_key_id (pub, GNUTLS_KEYID_USE_SHA256, id, &len) == 0 && len == 32;
}

gboolean
ct_service_check_cert (const char  *cert_file,
                       const char  *cert_pem,
                       const char  *key_file,
                       const char  *key_pem,
                       GError     **error)
{
  gnutls_datum_t cert_data = { (unsigned char *) cert_pem, (unsigned int) strlen (cert_pem) };
  gnutls_datum_t key_data = { (unsigned char *) key_pem, (unsigned int) strlen (key_pem) };
  gnutls_x509_crt_t crt = NULL;
  gnutls_privkey_t key = NULL;
  gnutls_pubkey_t crt_pub = NULL, key_pub = NULL;
  guint8 crt_id[32], key_id_[32];
  time_t now = time (NULL), starts, ends;
  gboolean ok = FALSE;

  if (gnutls_x509_crt_init (&crt) < 0 || gnutls_x509_crt_import (crt, &cert_data, GNUTLS_X509_FMT_PEM) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a PEM certificate (\"-----BEGIN CERTIFICATE-----\")", cert_file);
      goto out;
    }
  starts = gnutls_x509_crt_get_activation_time (crt);
  ends = gnutls_x509_crt_get_expiration_time (crt);
  if (starts != (time_t) -1 && now < starts)
    {
      g_autofree char *when = format_utc (starts);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The certificate %s is not valid yet: it starts on %s (check this machine's clock)",
                   cert_file, when);
      goto out;
    }
  if (ends != (time_t) -1 && now > ends)
    {
      g_autofree char *when = format_utc (ends);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The certificate %s expired on %s: renew it, or make a new one with "
                   "`cardtill-service gen-cert` (and give the tills its new pin)", cert_file, when);
      goto out;
    }
  if (gnutls_privkey_init (&key) < 0
      || gnutls_privkey_import_x509_raw (key, &key_data, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is not a PEM private key without a passphrase", key_file);
      goto out;
    }
  if (gnutls_pubkey_init (&crt_pub) < 0 || gnutls_pubkey_import_x509 (crt_pub, crt, 0) < 0
      || gnutls_pubkey_init (&key_pub) < 0 || gnutls_pubkey_import_privkey (key_pub, key, 0, 0) < 0
      || !key_id (crt_pub, crt_id) || !key_id (key_pub, key_id_))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The public keys of %s and %s cannot be read", cert_file, key_file);
      goto out;
    }
  if (memcmp (crt_id, key_id_, sizeof crt_id) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The key %s does not match the certificate %s (it is the key of another certificate)",
                   key_file, cert_file);
      goto out;
    }
  ok = TRUE;

out:
  if (key_pub)
    gnutls_pubkey_deinit (key_pub);
  if (crt_pub)
    gnutls_pubkey_deinit (crt_pub);
  if (key)
    gnutls_privkey_deinit (key);
  if (crt)
    gnutls_x509_crt_deinit (crt);
  return ok;
}
