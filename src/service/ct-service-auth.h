/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-store.h"

G_BEGIN_DECLS

/* Till tokens are 32 random bytes (base64url, 43 characters); the database
 * keeps only their SHA-256. Manager PINs are kept as salted PBKDF2-HMAC-SHA256
 * hashes: "pbkdf2-sha256$ITERATIONS$SALT$HASH" (base64). */

#define CT_PIN_ITERATIONS 60000
/* Wrong PINs for one manager id (known or not): 5 lock it, for 5 minutes,
 * then 30 minutes, then 24 hours for each further lock-out; a right PIN
 * resets all of it, and the count of wrong PINs starts again after an hour
 * without one. */
#define CT_PIN_MAX_FAILURES 5
#define CT_PIN_DECAY_MS (60 * 60 * 1000)

char     *ct_auth_new_token      (void);
void      ct_auth_token_hash     (const char  *token,
                                  guint8       out[32]);
char     *ct_auth_pin_hash       (const char  *pin,
                                  GError     **error);
gboolean  ct_auth_pin_verify     (const char  *pin,
                                  const char  *stored);
gboolean  ct_auth_pin_valid      (const char  *pin);
/* PBKDF2-HMAC-SHA256 of the @len bytes at @pin with @salt, at the stored
 * PINs' cost: a value derived from a PIN is as slow to guess back as the
 * PIN's stored hash. */
void      ct_auth_pin_derive     (const char   *pin,
                                  gsize         len,
                                  const guint8 *salt,
                                  gsize         salt_len,
                                  guint8        out[32]);
/* Spends the time of a PIN check on @pin without a manager to check it
 * against: an unknown id takes as long to refuse as a wrong PIN. */
void      ct_auth_pin_verify_dummy (const char *pin);

int64_t   ct_auth_lock_ms         (int              lockouts);
/* Counts a wrong PIN at @now_ms; TRUE when it locks the id. */
gboolean  ct_auth_guard_failure   (CtStorePinGuard *guard,
                                   int64_t          now_ms);
/* A right PIN: unlocks and forgets the wrong ones. */
void      ct_auth_guard_success   (CtStorePinGuard *guard,
                                   const char      *pin);

/* Verification with a memory of successes, so a manager approving many
 * requests does not pay the slow hash every time. Entries are keyed by the
 * stored hash (which holds the salt), so a changed PIN never hits. */
gboolean  ct_auth_pin_verify_cached (const char *manager_id,
                                     const char *pin,
                                     const char *stored);

G_END_DECLS
