/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Who is at the till (docs/operations.md, "Cashiers"): a cashier signed in
 * with an id and a PIN. @offline is TRUE when the service could not be
 * reached and the PIN was checked against the till's own memory. */
typedef struct
{
  char     *id;
  char     *name;
  gboolean  offline;
} CtCashier;

CtCashier *ct_cashier_new  (const char       *id,
                            const char       *name,
                            gboolean          offline);
CtCashier *ct_cashier_copy (const CtCashier  *cashier);
void       ct_cashier_free (CtCashier        *cashier);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtCashier, ct_cashier_free)

char      *ct_cashier_encode_sign_in (const char  *cashier_id,
                                      const char  *pin);
CtCashier *ct_cashier_decode         (const char  *body,
                                      gsize        len,
                                      GError     **error);

/* The till's memory of the cashiers who signed in on it online, so that
 * they can sign in while the service is unreachable: per service and
 * cashier id, the name and a salted PBKDF2-HMAC-SHA256 hash of the PIN
 * (never the PIN), kept in a file only the till's user reads. A record
 * lasts CT_CASHIER_BOOK_MAX_AGE after its last online sign-in, and wrong
 * PINs lock it as the service would. Thread-safe. */
typedef struct _CtCashierBook CtCashierBook;

#define CT_CASHIER_BOOK_ITERATIONS 60000
#define CT_CASHIER_BOOK_MAX_AGE ((gint64) 7 * 24 * 3600 * G_USEC_PER_SEC)
#define CT_CASHIER_BOOK_MAX_FAILURES 5
#define CT_CASHIER_BOOK_LOCK_USEC ((gint64) 5 * 60 * G_USEC_PER_SEC)

CtCashierBook *ct_cashier_book_new      (const char     *path);
void           ct_cashier_book_free     (CtCashierBook  *book);
/* After a right PIN at the service: remembers a new salted hash of @pin. */
gboolean       ct_cashier_book_remember (CtCashierBook  *book,
                                         const char     *service_id,
                                         const CtCashier *cashier,
                                         const char     *pin,
                                         GError        **error);
/* After the service refused the id or PIN: forgets the record. */
void           ct_cashier_book_forget   (CtCashierBook  *book,
                                         const char     *service_id,
                                         const char     *cashier_id);
/* Offline: the cashier (offline TRUE) when @pin is right, otherwise NULL
 * with CT_CLIENT_ERROR_FORBIDDEN (counted), PIN_LOCKED, or UNREACHABLE
 * when this till knows no recent record of the id. @now is
 * g_get_real_time(). */
CtCashier     *ct_cashier_book_verify   (CtCashierBook  *book,
                                         const char     *service_id,
                                         const char     *cashier_id,
                                         const char     *pin,
                                         gint64          now,
                                         GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtCashierBook, ct_cashier_book_free)

G_END_DECLS
