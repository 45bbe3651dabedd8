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
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t key_pem = { NULL, 0 };
  gnutls_datum_t crt_pem = { NULL, 0 };
  gnutls_datum_t spki = { NULL, 0 };
  unsigned char addr[16];
  size_t addr_len;
  guint8 serial[16];
  time_t now = time (NULL);
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
  if (days == 0 || days > 36500)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--days must be 1 to 36500");
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
    && check (gnutls_x509_crt_set_activation_time (crt, now - 3600), "activation", error)
    && check (gnutls_x509_crt_set_expiration_time (crt, now + (time_t) days * 86400), "expiration", error)
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
