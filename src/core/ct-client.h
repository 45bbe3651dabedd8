/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "ct-cashier.h"
#include "ct-client-config.h"
#include "ct-outbox.h"
#include "ct-request.h"
#include "ct-wire.h"

G_BEGIN_DECLS

/* CtClient: the till's connection to its card service (docs/architecture.md), for
 * the GTK app and cardtill-cli alike. Every call that does I/O has an
 * _async/_finish pair running on a GTask worker thread (never the main
 * loop); callbacks run in the thread-default main context of the caller.
 * Every POST goes through the durable outbox first.
 *
 * Outcomes of a money call (pay, top-up, refund, adjust):
 *  - a CtReceipt: the service applied it (or replayed the stored answer);
 *  - a GError in CT_CLIENT_ERROR with a service code (insufficient_balance,
 *    card_frozen, ...; the message is the service's): refused, not applied;
 *  - CT_CLIENT_ERROR_QUEUED: taken, outcome pending in the outbox ("pending
 *    sync"); the background sync settles it with the same key. Never offer
 *    a fresh "try again" for it;
 *  - CT_CLIENT_ERROR_OFFLINE_REFUSED / _UNREACHABLE: not taken, nothing done;
 *  - CT_CLIENT_ERROR_INVALID_INPUT / _LOCAL / _TLS / _CONFIG / _BAD_ANSWER. */

#define CT_TYPE_CLIENT (ct_client_get_type ())
G_DECLARE_FINAL_TYPE (CtClient, ct_client, CT, CLIENT, GObject)

typedef enum
{
  CT_CONNECTION_UNKNOWN,   /* nothing tried yet */
  CT_CONNECTION_ONLINE,    /* the last request reached the service */
  CT_CONNECTION_OFFLINE,   /* the last request could not reach it */
} CtConnectionState;

GType ct_connection_state_get_type (void) G_GNUC_CONST;
#define CT_TYPE_CONNECTION_STATE (ct_connection_state_get_type ())

/* Creates a client: opens the data directory (outbox, member cache).
 * Does no network I/O and starts nothing; call ct_client_start_async(). */
CtClient          *ct_client_new                   (const CtClientConfig *config,
                                                    GError              **error);

const CtClientConfig *ct_client_get_config         (CtClient            *self);
/* TRUE when no service is configured: the client uses its embedded one. */
gboolean           ct_client_is_embedded           (CtClient            *self);
/* TRUE when the embedded service of this data directory does not exist yet:
 * ct_client_start_async() will create it, with the first manager PIN given
 * there (the app asks the user for it first). */
gboolean           ct_client_needs_first_run       (CtClient            *self);

/* Connects: starts or joins the embedded service if there is no configured
 * one (creating it on first run with @first_manager_pin, or a generated PIN
 * when NULL), then fetches /v1/merchant (offline: keeps the stored one) and
 * starts the background sync of the outbox. On first run *out_generated_pin
 * receives the PIN that was set (the caller shows it once); else NULL. */
void               ct_client_start_async           (CtClient            *self,
                                                    const char          *first_manager_pin,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean           ct_client_start_finish          (CtClient            *self,
                                                    GAsyncResult        *result,
                                                    char               **out_generated_pin,
                                                    GError             **error);
/* Blocking form of start, for the CLI and tests. Unlike the async form it
 * starts no background sync thread: the caller drains with ct_client_sync(). */
gboolean           ct_client_start                 (CtClient            *self,
                                                    const char          *first_manager_pin,
                                                    char               **out_generated_pin,
                                                    GCancellable        *cancellable,
                                                    GError             **error);
/* Stops the background sync and leaves the embedded service (stopping it
 * when no other client uses it). Also done on finalize. */
void               ct_client_shutdown              (CtClient            *self);

/* Where the embedded service lives (NULL when not embedded), for the
 * "how to change it" text: its database and its admin binary. */
char              *ct_client_get_embedded_db_path  (CtClient            *self);

/* The operator recorded on requests (cashier name); default from config. */
void               ct_client_set_operator          (CtClient            *self,
                                                    const char          *operator_name);
const char        *ct_client_get_operator          (CtClient            *self);

/* Properties (notified in the client's main context):
 *  "connection-state" CtConnectionState
 *  "pending-count"    guint: outbox entries waiting to be sent/settled
 *  "attention-count"  guint: entries that need a manager
 *  "merchant"         CtMerchant (boxed): last known settings, NULL before any
 * Signals:
 *  "card-updated" (CtCard *card): fresh state of a card arrived from the service
 *  "outbox-changed" (): the pending or needs-attention lists changed */
CtConnectionState  ct_client_get_connection_state  (CtClient            *self);
guint              ct_client_get_pending_count     (CtClient            *self);
guint              ct_client_get_attention_count   (CtClient            *self);
/* Last known merchant settings (stored locally from the last /v1/merchant);
 * NULL if never fetched. Fast, no I/O beyond memory. */
CtMerchant        *ct_client_dup_merchant          (CtClient            *self);

/* The member cache: the last known state of @card_no (normalised inside),
 * from_cache set, fetched_at telling its age. NULL without error when the
 * card was never seen. Synchronous and fast (an in-memory index over the
 * SQLite cache): meant for showing a scanned card at once. */
CtCard            *ct_client_cached_card           (CtClient            *self,
                                                    const char          *card_no);

/* GET /v1/merchant; stores it for offline rules and ct_client_dup_merchant(). */
void               ct_client_merchant_async        (CtClient *self, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtMerchant        *ct_client_merchant_finish       (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* GET /v1/health: the names of the API features the service has. */
void               ct_client_features_async        (CtClient *self, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
char             **ct_client_features_finish       (CtClient *self, GAsyncResult *result,
                                                    GError **error);
char             **ct_client_fetch_features        (CtClient *self, GCancellable *cancellable,
                                                    GError **error);
/* Blocking form of ct_client_merchant_async(), for the CLI. */
CtMerchant        *ct_client_fetch_merchant        (CtClient *self, GCancellable *cancellable,
                                                    GError **error);

/* GET /v1/cards/{no}; updates the member cache. */
void               ct_client_card_show_async       (CtClient *self, const char *card_no,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtCard            *ct_client_card_show_finish      (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* GET /v1/cards?phone= or ?name= (exactly one non-NULL). Element-type CtCard. */
void               ct_client_card_find_async       (CtClient *self, const char *phone,
                                                    const char *name, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
GPtrArray         *ct_client_card_find_finish      (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* POST /v1/cards (manager). @card_no NULL: the service issues a number. */
void               ct_client_card_issue_async      (CtClient *self, const char *member_name,
                                                    const char *member_phone, const char *level,
                                                    const char *card_no,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
/* The same with the card PIN the member chose (NULL: none); finished by
 * ct_client_card_issue_finish(). */
void               ct_client_card_issue_with_pin_async (CtClient *self, const char *member_name,
                                                    const char *member_phone, const char *level,
                                                    const char *card_no, const char *member_pin,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtCard            *ct_client_card_issue_finish     (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* PATCH /v1/cards/{no} (manager): freeze, unfreeze, edit member/level. */
void               ct_client_card_patch_async      (CtClient *self, const char *card_no,
                                                    const CtCardPatch *patch,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtCard            *ct_client_card_patch_finish     (CtClient *self, GAsyncResult *result,
                                                    GError **error);
/* POST /v1/cards/{no}/replace (manager): a lost card replaced by a new card
 * (@new_card_no, or a number the service draws when NULL) for the same
 * member, with its balance, points and level. Returns the new card. */
void               ct_client_card_replace_async    (CtClient *self, const char *card_no,
                                                    const char *new_card_no,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtCard            *ct_client_card_replace_finish   (CtClient *self, GAsyncResult *result,
                                                    GError **error);
/* The PIN the member chose for their card, set by a manager. */
void               ct_client_member_pin_async      (CtClient *self, const char *card_no,
                                                    const char *member_pin, const char *manager_id,
                                                    const char *manager_pin, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtCard            *ct_client_member_pin_finish     (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* Top-up of a package (fixed mode): @package is the one the customer was
 * shown (its amount and bonus are sent as "expect"). Offline it is queued:
 * CT_CLIENT_ERROR_QUEUED ("pending sync"). */
void               ct_client_topup_package_async   (CtClient *self, const char *card_no,
                                                    const CtPackage *package,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
/* A top-up of @package (fixed mode; NULL in any mode, then @amount in minor
 * units) paid by @tender ("cash", "wechat", "alipay", "bank_card",
 * "other"; NULL is cash). */
void               ct_client_topup_async           (CtClient *self, const char *card_no,
                                                    const CtPackage *package, int64_t amount,
                                                    const char *tender,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
/* Top-up of an amount (any mode), minor units. */
void               ct_client_topup_amount_async    (CtClient *self, const char *card_no,
                                                    int64_t amount,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtReceipt         *ct_client_topup_finish          (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* Balance payment. Offline: refused (OFFLINE_REFUSED) unless the merchant's
 * offline caps allow it, then queued (QUEUED). */
void               ct_client_pay_async             (CtClient *self, const char *card_no,
                                                    int64_t amount, const char *order_ref,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
void               ct_client_pay_member_async      (CtClient *self, const char *card_no,
                                                    int64_t amount, const char *order_ref,
                                                    int64_t redeem_points, const char *member_code,
                                                    const char *member_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
/* A split payment: the card pays @amount (its balance and
 * @redeem_points), @rest_tender took @rest of the order; finished with
 * ct_client_pay_finish(). */
void               ct_client_pay_split_async       (CtClient *self, const char *card_no,
                                                    int64_t amount, const char *order_ref,
                                                    int64_t redeem_points,
                                                    const char *member_code, const char *member_pin,
                                                    int64_t rest, const char *rest_tender,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtReceipt         *ct_client_pay_finish            (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* Refund of a payment or a top-up (manager). */
void               ct_client_refund_async          (CtClient *self, const char *card_no,
                                                    const char *transaction_id, int64_t amount,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtReceipt         *ct_client_refund_finish         (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* Manager balance change: @delta non-zero, signed, minor units. */
void               ct_client_adjust_async          (CtClient *self, const char *card_no,
                                                    int64_t delta, const char *reason,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtReceipt         *ct_client_adjust_finish         (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* One page of a card's history, newest first. @from_date/@to_date
 * "YYYY-MM-DD" inclusive (NULL: today in the merchant's zone), @cursor from
 * the previous page or NULL, @limit 0 = the service default. */
void               ct_client_history_async         (CtClient *self, const char *card_no,
                                                    const char *from_date, const char *to_date,
                                                    const char *cursor, guint limit,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtHistoryPage     *ct_client_history_finish        (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* GET /v1/transactions?date=D[&till=T]: the day report, every page. @date
 * NULL: today. ct_client_day_report() blocks. */
CtDayReport       *ct_client_day_report            (CtClient *self, const char *date,
                                                    const char *till, GError **error);
void               ct_client_day_report_async      (CtClient *self, const char *date,
                                                    const char *till,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtDayReport       *ct_client_day_report_finish     (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* Drains the outbox now (every due entry), ignoring backoff. Returns the
 * number of entries settled. */
void               ct_client_sync_async            (CtClient *self, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean           ct_client_sync_finish           (CtClient *self, GAsyncResult *result,
                                                    guint *out_settled, GError **error);

/* Outbox entries in @state, in the order taken (element-type CtOutboxEntry). */
void               ct_client_outbox_list_async     (CtClient *self, CtOutboxState state,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
GPtrArray         *ct_client_outbox_list_finish    (CtClient *self, GAsyncResult *result,
                                                    GError **error);
/* Blocking form (a local SQLite read), for the CLI. */
GPtrArray         *ct_client_outbox_list           (CtClient *self, CtOutboxState state,
                                                    GError **error);

/* From needs attention: re-send the same intent as a new request (new key,
 * same body but the manager given here). The old entry becomes resolved
 * (its reason says how) once the new request is done or queued; if the
 * service refuses the new request too, the old entry stays in needs
 * attention with both refusals in its reason and the error is returned;
 * if it cannot be sent, the entry is left as it was. Returns the answer
 * like the original call.
 *
 * A package top-up refused with package_changed would be refused again with
 * the terms the customer was shown: re-sending it needs the package's
 * current terms, confirmed (see ct_client_resend_quote_async()). Without
 * them a package top-up whose package changed fails with
 * CT_CLIENT_ERROR_PACKAGE_CHANGED (nothing sent), the message quoting the
 * new terms. */
void               ct_client_resend_as_new_async   (CtClient *self, gint64 entry_id,
                                                    const char *manager_id, const char *manager_pin,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
/* The same with the package terms the manager confirmed (from
 * ct_client_resend_quote_finish()); @accepted NULL is the plain re-send. If
 * the package changed again since, CT_CLIENT_ERROR_PACKAGE_CHANGED and
 * nothing is sent. */
void               ct_client_resend_accepting_async (CtClient *self, gint64 entry_id,
                                                     const char *manager_id,
                                                     const char *manager_pin,
                                                     const CtPackage *accepted,
                                                     GCancellable *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer user_data);
CtReceipt         *ct_client_resend_as_new_finish  (CtClient *self, GAsyncResult *result,
                                                    GError **error);
/* For a re-send: fetches the merchant's packages now and returns the
 * entry's package as it is now when it differs from what the customer was
 * shown (ask the manager to confirm the new amount and bonus, then re-send
 * with ct_client_resend_accepting_async()). NULL without an error when the
 * entry is not a package top-up or its terms did not change. Fails with
 * CT_CLIENT_ERROR_NOT_FOUND when the package no longer exists. */
void               ct_client_resend_quote_async    (CtClient *self, gint64 entry_id,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
CtPackage         *ct_client_resend_quote_finish   (CtClient *self, GAsyncResult *result,
                                                    GError **error);

/* From needs attention: record what happened instead ("cash returned to
 * customer") and resolve the entry. This form records it on this till
 * only; prefer ct_client_record_outcome_authorized_async(). */
void               ct_client_record_outcome_async  (CtClient *self, gint64 entry_id,
                                                    const char *manager_id, const char *outcome,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean           ct_client_record_outcome_finish (CtClient *self, GAsyncResult *result,
                                                    GError **error);
/* The same, authorised by the manager's PIN and recorded at the service
 * (POST /v1/outcomes, kept in its audit log) before the entry is resolved
 * here; @cash_given_back (minor units, 0: none) is the cash the manager
 * handed back from the drawer, which the service takes off the expected
 * cash of the till's open shift. A refusal (wrong PIN:
 * CT_CLIENT_ERROR_FORBIDDEN, PIN_LOCKED), an unreachable service
 * (UNREACHABLE) or an answer that did not come back (QUEUED) leaves the
 * entry in needs attention as it was. Finish with
 * ct_client_record_outcome_finish(). */
void               ct_client_record_outcome_authorized_async (CtClient *self, gint64 entry_id,
                                                              const char *manager_id,
                                                              const char *manager_pin,
                                                              const char *outcome,
                                                              int64_t cash_given_back,
                                                              GCancellable *cancellable,
                                                              GAsyncReadyCallback callback,
                                                              gpointer user_data);

/* Signs a cashier in: POST /v1/cashiers/sign-in, sent at once and never
 * queued (it moves no money and carries a PIN). A right PIN gives the
 * cashier (with the name to show) and is remembered as a slow salted hash
 * so that the cashier can sign in on this till while the service is
 * unreachable (CtCashier.offline). A wrong PIN: CT_CLIENT_ERROR_FORBIDDEN;
 * a locked id: PIN_LOCKED; no service and no record here: UNREACHABLE.
 * The caller then records the cashier as the operator
 * (ct_client_set_operator()). */
void               ct_client_cashier_sign_in_async  (CtClient            *self,
                                                     const char          *cashier_id,
                                                     const char          *pin,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
CtCashier         *ct_client_cashier_sign_in_finish (CtClient            *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

/* Generic request through the same path, for cardtill-cli and the import:
 * the raw answer. A POST/PATCH goes through the outbox (with @key, or a
 * generated one when NULL); a GET is sent directly. Blocking: call it from
 * a worker thread or the CLI. Returns NULL only for local failures
 * (outbox/disk, config, TLS setup); anything else is described by the
 * answer. */
typedef struct
{
  int      status;           /* HTTP status, 0 when no definitive answer came */
  GBytes  *body;             /* the answer body exactly as it came; NULL if none */
  char    *idempotency_key;  /* POST/PATCH: the key used */
  gboolean replayed;         /* Idempotent-Replayed: true */
  gboolean queued;           /* pending in the outbox (outcome unknown / offline top-up) */
  gboolean not_sent;         /* nothing was sent and nothing is pending */
  gint64   outbox_id;        /* the entry, when queued */
  CtClientError reason_code; /* when queued / not_sent: QUEUED, OFFLINE_REFUSED, UNREACHABLE, TLS, BAD_ANSWER */
  char    *reason;           /* when queued / not_sent: why, human text */
} CtAnswer;

void               ct_answer_free                  (CtAnswer *answer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtAnswer, ct_answer_free)

CtAnswer          *ct_client_request               (CtClient            *self,
                                                    const char          *method,
                                                    const char          *path,
                                                    const char          *idempotency_key,
                                                    GBytes              *body,
                                                    const CtRequestInfo *info,
                                                    GCancellable        *cancellable,
                                                    GError             **error);

/* Sends @request (built in ct-request.h) through ct_client_request(): the
 * way every front end sends what it built, so none builds a path or a body
 * of its own. Blocking, like ct_client_request(). */
CtAnswer          *ct_client_send                  (CtClient            *self,
                                                    const CtRequest     *request,
                                                    GCancellable        *cancellable,
                                                    GError             **error);

/* Look-ups for cardtill-cli, blocking, with the raw answer (for --json):
 * GET /v1/cards/{no} (normalised inside), or GET /v1/cards?phone= or ?name=
 * (exactly one non-NULL). Every card a 200 carries refreshes the member
 * cache (the offline rules know every card the till has seen) and is
 * announced with "card-updated". The async card_show/card_find calls go
 * through the same path. */
CtAnswer          *ct_client_card_lookup           (CtClient            *self,
                                                    const char          *card_no,
                                                    GCancellable        *cancellable,
                                                    GError             **error);
CtAnswer          *ct_client_card_search           (CtClient            *self,
                                                    const char          *phone,
                                                    const char          *name,
                                                    GCancellable        *cancellable,
                                                    GError             **error);

/* For the receipt of a voided top-up (a refund with a negative delta): the
 * bonus of the top-up it voided, as the void records it, or from a service
 * that does not, found in the card's history (blocking, at most a few
 * pages). The cash to hand back is then -delta - bonus. FALSE with an
 * error when the top-up cannot be found. */
gboolean           ct_client_voided_bonus          (CtClient            *self,
                                                    const CtTransaction *refund,
                                                    int64_t             *out_bonus,
                                                    GCancellable        *cancellable,
                                                    GError             **error);

/* Blocking drain for the CLI's `sync`: sends every pending entry (ignoring
 * backoff, keeping card order) until each is settled or @wait_ms passed. */
gboolean           ct_client_sync                  (CtClient            *self,
                                                    guint                wait_ms,
                                                    guint               *out_settled,
                                                    GCancellable        *cancellable,
                                                    GError             **error);

/* Turns an answer into a GError for the typed calls: NULL-returning when the
 * answer is a success (2xx). */
gboolean           ct_answer_to_error              (const CtAnswer      *answer,
                                                    GError             **error);

G_END_DECLS
