/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The rule for a new manager PIN, wherever one is chosen (the till's first
 * start, cardtill-service manager add): at least this many digits, and
 * digits only. PINs made under an older rule keep working. */
#define CT_MANAGER_PIN_MIN_DIGITS 6
#define CT_MANAGER_PIN_MAX_DIGITS 32

/* A member PIN (docs/api.md, "Member consent") is typed by the member on
 * the till's keypad: exactly this many digits, like a bank card's. */
#define CT_MEMBER_PIN_DIGITS 6

#define CT_MANAGER_PIN_ERROR (ct_manager_pin_error_quark ())

typedef enum
{
  CT_MANAGER_PIN_ERROR_TOO_SHORT,
  CT_MANAGER_PIN_ERROR_TOO_LONG,
  CT_MANAGER_PIN_ERROR_NOT_DIGITS,
} CtManagerPinError;

GQuark    ct_manager_pin_error_quark (void);
char     *ct_manager_pin_rule        (void);
gboolean  ct_manager_pin_check_new   (const char  *pin,
                                      GError     **error);
gboolean  ct_cashier_pin_check_new   (const char  *pin,
                                      GError     **error);
gboolean  ct_member_pin_check        (const char  *pin,
                                      GError     **error);

/* A stored PIN hash, "pbkdf2-sha256$ITERATIONS$SALT$HASH" (SALT and HASH
 * in base64), as the service keeps its managers' and cashiers' PINs and
 * a till its cashiers' for signing in offline. */
#define CT_PIN_HASH_LEN 32

typedef struct
{
  guint   iterations;
  guchar *salt;
  gsize   salt_len;
  guchar *hash;   /* CT_PIN_HASH_LEN bytes */
} CtPinHash;

/* Reads @stored apart; FALSE when it is not such a hash (1 to 10,000,000
 * iterations, a salt, a 32-byte hash). */
gboolean  ct_pin_hash_parse          (const char     *stored,
                                      CtPinHash      *out);
void      ct_pin_hash_clear          (CtPinHash      *hash);
/* Compares two hashes in a time that does not depend on where they differ. */
gboolean  ct_pin_hash_equal          (const guint8   *a,
                                      const guint8   *b);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtPinHash, ct_pin_hash_clear)

/* Frees a PIN, token or other secret text after overwriting it, so that
 * it does not linger in freed memory; NULL is allowed. */
void      ct_secret_free             (char           *secret);

G_END_DECLS
