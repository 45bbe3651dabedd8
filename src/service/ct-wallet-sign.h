/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RSA keys of the wallet connectors and SHA256withRSA (PKCS#1 v1.5), the
 * signature both Alipay (RSA2) and WeChat Pay APIv3 use, on GnuTLS. */

#define CT_WALLET_SIGN_ERROR (ct_wallet_sign_error_quark ())

typedef enum
{
  CT_WALLET_SIGN_ERROR_FILE,        /* unreadable, or readable by others */
  CT_WALLET_SIGN_ERROR_KEY,         /* not an RSA key of at least 2048 bits */
  CT_WALLET_SIGN_ERROR_BAD_SIGNATURE,
} CtWalletSignError;

typedef struct _CtWalletKey    CtWalletKey;     /* a private key */
typedef struct _CtWalletPubkey CtWalletPubkey;  /* a public key, maybe from a certificate */

GQuark          ct_wallet_sign_error_quark (void);

/* Refuses a key file that is not a regular file owned by the user running
 * the service, or that its group or others may read or write. */
gboolean        ct_wallet_key_file_check   (const char       *path,
                                            GError          **error);
/* Loads an RSA private key: PEM (PKCS#1 or PKCS#8), or the bare base64 of
 * its DER as Alipay's key tool writes it. Checks the file first. */
CtWalletKey    *ct_wallet_key_load         (const char       *path,
                                            GError          **error);
void            ct_wallet_key_free         (CtWalletKey      *key);
/* Loads a public key: a PEM certificate (WeChat Pay's platform
 * certificate), a PEM "PUBLIC KEY", or the bare base64 of its DER (the
 * Alipay public key as Alipay's console shows it). */
CtWalletPubkey *ct_wallet_pubkey_load      (const char       *path,
                                            GError          **error);
void            ct_wallet_pubkey_free      (CtWalletPubkey   *pub);
/* The certificate's serial number in upper-case hex, or NULL for a bare
 * public key. */
const char     *ct_wallet_pubkey_serial    (const CtWalletPubkey *pub);

/* Base64 of the SHA256withRSA signature of @len bytes of @data. */
char           *ct_wallet_sign             (CtWalletKey      *key,
                                            const void       *data,
                                            gsize             len,
                                            GError          **error);
gboolean        ct_wallet_verify           (CtWalletPubkey   *pub,
                                            const void       *data,
                                            gsize             len,
                                            const char       *signature_base64,
                                            GError          **error);

/* @n random characters of [0-9A-Za-z], for nonces. */
char           *ct_wallet_nonce            (guint             n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWalletKey, ct_wallet_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWalletPubkey, ct_wallet_pubkey_free)

G_END_DECLS
