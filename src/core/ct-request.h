/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ct-outbox.h"
#include "ct-wire.h"

G_BEGIN_DECLS

/* The facts of a request that the outbox and its offline rules read
 * (docs/ledger.md): what it is, on which card, how much. */
typedef struct
{
  CtOutboxKind  kind;          /* what it is (offline rules, sync --status) */
  const char   *card_no;       /* nullable: per-card order, offline rules */
  int64_t       amount;        /* minor units, for the offline rules and the lists */
  const char   *order_ref;     /* nullable */
  guint         wait_ms;       /* how long to keep retrying before "queued"; 0 = config */
} CtRequestInfo;

/* CtRequest: one request to the card service exactly as every front end
 * sends it (docs/api.md). The app's client and cardtill-cli both build
 * their requests here and differ only in how they show the answer. */
typedef struct
{
  const char    *method;           /* "GET", "POST" or "PATCH" (static) */
  char          *path;             /* with its query, escaped */
  GBytes        *body;             /* NULL for a GET */
  char          *idempotency_key;  /* NULL: the outbox makes one */
  CtRequestInfo  info;             /* its strings point into the request */

  /*< private >*/
  char          *card_no;
  char          *order_ref;
} CtRequest;

void       ct_request_free              (CtRequest          *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtRequest, ct_request_free)

/* A card number as the service knows it (upper case, check digit), or
 * NULL with CT_CLIENT_ERROR_INVALID_INPUT saying what is wrong with it. */
char      *ct_request_card_number       (const char         *text,
                                         GError            **error);

/* GET /v1/merchant. */
CtRequest *ct_request_merchant          (void);
CtRequest *ct_request_health            (void);
/* GET /v1/cards/{no}. */
CtRequest *ct_request_card_show         (const char         *card_no,
                                         GError            **error);
/* GET /v1/cards?phone= or ?name=: exactly one of them, not empty. */
CtRequest *ct_request_card_find         (const char         *phone,
                                         const char         *name,
                                         GError            **error);
/* POST /v1/cards (manager); @card_no NULL: the service issues a number. */
/* @member_pin: (nullable): the PIN the member chose, if any. */
CtRequest *ct_request_card_issue        (const char         *member_name,
                                         const char         *member_phone,
                                         const char         *level,
                                         const char         *card_no,
                                         const char         *member_pin,
                                         const char         *operator_name,
                                         const char         *manager_id,
                                         const char         *manager_pin,
                                         GError            **error);
/* PATCH /v1/cards/{no} (manager). */
CtRequest *ct_request_card_patch        (const char         *card_no,
                                         const CtCardPatch  *patch,
                                         const char         *manager_id,
                                         const char         *manager_pin,
                                         GError            **error);
/* POST /v1/cards/{no}/topups of a package; @shown (nullable) holds the
 * terms the customer was told, sent as "expect" (without them the service
 * decides alone). */
CtRequest *ct_request_topup_package     (const char         *card_no,
                                         const char         *package_id,
                                         const CtPackage    *shown,
                                         const char         *tender,
                                         const char         *operator_name,
                                         GError            **error);
/* POST /v1/cards/{no}/topups of an amount in minor units. */
CtRequest *ct_request_topup_amount      (const char         *card_no,
                                         int64_t             amount,
                                         const char         *tender,
                                         const char         *operator_name,
                                         GError            **error);
/* POST /v1/cards/{no}/payments. */
CtRequest *ct_request_payment           (const char         *card_no,
                                         int64_t             amount,
                                         const char         *order_ref,
                                         int64_t             redeem_points,
                                         const char         *member_code,
                                         const char         *member_pin,
                                         const char         *operator_name,
                                         GError            **error);
/* POST /v1/cards/{no}/payments of a split payment: the card pays
 * @amount, @rest_tender ("cash", "wechat", ...) took @rest (> 0). */
CtRequest *ct_request_split_payment     (const char         *card_no,
                                         int64_t             amount,
                                         const char         *order_ref,
                                         int64_t             redeem_points,
                                         const char         *member_code,
                                         const char         *member_pin,
                                         int64_t             rest,
                                         const char         *rest_tender,
                                         const char         *operator_name,
                                         GError            **error);
/* POST /v1/cards/{no}/member-pin: the PIN the member chose, set by a
 * manager. */
CtRequest *ct_request_member_pin        (const char         *card_no,
                                         const char         *member_pin,
                                         const char         *operator_name,
                                         const char         *manager_id,
                                         const char         *manager_pin,
                                         GError            **error);
/* POST /v1/cards/{no}/replace (manager): a lost card replaced by a new one,
 * numbered @new_card_no, or by the service when NULL. */
CtRequest *ct_request_card_replace      (const char         *card_no,
                                         const char         *new_card_no,
                                         const char         *operator_name,
                                         const char         *manager_id,
                                         const char         *manager_pin,
                                         GError            **error);
/* POST /v1/cards/{no}/refunds (manager): @amount is a part of a payment
 * (minor units), 0 for all that is left of it. */
CtRequest *ct_request_refund            (const char         *card_no,
                                         const char         *transaction_id,
                                         int64_t             amount,
                                         const char         *operator_name,
                                         const char         *manager_id,
                                         const char         *manager_pin,
                                         GError            **error);
/* POST /v1/cards/{no}/adjustments (manager); @delta signed, minor units. */
CtRequest *ct_request_adjustment        (const char         *card_no,
                                         int64_t             delta,
                                         const char         *reason,
                                         const char         *operator_name,
                                         const char         *manager_id,
                                         const char         *manager_pin,
                                         GError            **error);
/* GET /v1/cards/{no}/transactions: one page; NULL arguments and @limit 0
 * are left to the service. */
CtRequest *ct_request_history           (const char         *card_no,
                                         const char         *from_date,
                                         const char         *to_date,
                                         const char         *cursor,
                                         guint               limit,
                                         GError            **error);
/* GET /v1/transactions?date=&till=: one page of the day report. */
CtRequest *ct_request_day_transactions  (const char         *date,
                                         const char         *till,
                                         const char         *cursor);
/* GET /v1/reports/day[?date=]: the merchant's day by store and till. */
CtRequest *ct_request_day_summary       (const char         *date);
/* POST /v1/shifts: opens a shift for @cashier with @float_amount. */
CtRequest *ct_request_shift_open        (int64_t             float_amount,
                                         const char         *cashier);
/* POST /v1/shifts/{id}/close with the counted cash; @shift_id NULL is
 * "current", the till's open shift. */
CtRequest *ct_request_shift_close       (const char         *shift_id,
                                         int64_t             counted_cash,
                                         const char         *operator_name);
/* GET /v1/shifts/{id} ("current": the till's open shift). */
CtRequest *ct_request_shift_show        (const char         *shift_id);
/* POST /v1/outcomes: what a manager did instead of a refused request, and
 * the cash handed back from the drawer for it (0: none), which the
 * service takes off the till's open shift. Not a card's money: it waits
 * behind nothing on the card. */
CtRequest *ct_request_outcome           (const CtOutboxEntry *entry,
                                         const char          *outcome,
                                         int64_t              cash_given_back,
                                         const char          *manager_id,
                                         const char          *manager_pin);
/* POST /v1/cashiers/sign-in: a cashier's id and PIN, sent directly (a
 * sign-in is not an intent to keep in the outbox). */
CtRequest *ct_request_cashier_sign_in   (const char          *cashier_id,
                                         const char          *pin);
/* A re-send of a stored request as a new one: its method, path and facts
 * with @body_text (taken) and @amount. */
CtRequest *ct_request_resend            (const CtOutboxEntry *entry,
                                         char                *body_text,
                                         int64_t              amount);
/* POST /v1/imports: one chunk of a legacy import, under its own @key. */
CtRequest *ct_request_import_chunk      (GBytes             *body,
                                         const char         *key);
/* GET /v1/imports/{batch_id}. */
CtRequest *ct_request_import_batch      (const char         *batch_id);

G_END_DECLS
