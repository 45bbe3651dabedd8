/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Till tokens are 32 random bytes (base64url, 43 characters); the database
 * keeps only their SHA-256. Manager PINs are kept as salted PBKDF2-HMAC-SHA256
 * hashes: "pbkdf2-sha256$ITERATIONS$SALT$HASH" (base64). */

#define CT_PIN_ITERATIONS 60000
#define CT_PIN_MAX_FAILURES 5
#define CT_PIN_LOCK_MS (5 * 60 * 1000)

char     *ct_auth_new_token      (void);
void      ct_auth_token_hash     (const char  *token,
                                  guint8       out[32]);
char     *ct_auth_pin_hash       (const char  *pin,
                                  GError     **error);
gboolean  ct_auth_pin_verify     (const char  *pin,
                                  const char  *stored);
gboolean  ct_auth_pin_valid      (const char  *pin);

/* Verification with a memory of successes, so a manager approving many
 * requests does not pay the slow hash every time. Entries are keyed by the
 * stored hash (which holds the salt), so a changed PIN never hits. */
gboolean  ct_auth_pin_verify_cached (const char *manager_id,
                                     const char *pin,
                                     const char *stored);

G_END_DECLS
