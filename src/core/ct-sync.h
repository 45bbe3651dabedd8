/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ct-client.h"
#include "ct-member-cache.h"
#include "ct-outbox.h"

G_BEGIN_DECLS

/* The sync engine (docs/architecture.md): sends outbox entries with their keys and
 * exact bytes, settles them on definitive answers, applies the offline
 * rules, retries with backoff, keeps each card's order, and drains under an
 * exclusive lock (flock on a file in the data directory). */

typedef struct _CtSync CtSync;

typedef enum
{
  CT_SYNC_EVENT_ONLINE,
  CT_SYNC_EVENT_OFFLINE,
  CT_SYNC_EVENT_OUTBOX_CHANGED,
  CT_SYNC_EVENT_CARD,          /* data: a CtCard */
} CtSyncEvent;

typedef void (*CtSyncNotify) (CtSyncEvent event, gconstpointer data, gpointer user_data);

/* @service_id names the service the entries are for ("https://host:port",
 * or "embedded:<data dir>" whose port changes between runs); entries for
 * another service are left alone. The outbox and cache stay owned by the
 * caller and must outlive the engine. */
CtSync    *ct_sync_new                   (CtOutbox              *outbox,
                                          CtMemberCache         *cache,
                                          const char            *service_id,
                                          const char            *lock_path,
                                          GError               **error);
void       ct_sync_free                  (CtSync                *sync);

/* Points the engine at the service (the embedded one's port can change). */
gboolean   ct_sync_set_service           (CtSync                *sync,
                                          const char            *base_url,
                                          const char            *token,
                                          const char            *ca_file,
                                          const char            *pin_pubkey,
                                          guint                  connect_timeout_ms,
                                          guint                  request_timeout_ms,
                                          GError               **error);
void       ct_sync_set_notify            (CtSync                *sync,
                                          CtSyncNotify           notify,
                                          gpointer               user_data);
void       ct_sync_set_default_wait      (CtSync                *sync,
                                          guint                  wait_ms);

/* A POST/PATCH through the outbox; see ct_client_request(). */
CtAnswer  *ct_sync_submit                (CtSync                *sync,
                                          const char            *method,
                                          const char            *path,
                                          const char            *idempotency_key,
                                          GBytes                *body,
                                          const CtRequestInfo   *info,
                                          GCancellable          *cancellable,
                                          GError               **error);
/* A GET, sent directly (no outbox). Returns NULL with an error only when
 * no answer came (UNREACHABLE, TLS, BAD_ANSWER for a cut answer). */
CtAnswer  *ct_sync_get                   (CtSync                *sync,
                                          const char            *path,
                                          GError               **error);
/* A POST with a fresh key, sent directly and never kept (a sign-in: it
 * moves no money and its body holds a PIN); errors as ct_sync_get(). */
CtAnswer  *ct_sync_post_direct           (CtSync                *sync,
                                          const char            *path,
                                          GBytes                *body,
                                          GError               **error);

/* One drain round: sends each due entry once (all pending ones when
 * @ignore_backoff), card order kept. *out_settled counts entries that left
 * the pending list (done or moved to needs attention). */
gboolean   ct_sync_drain_once            (CtSync                *sync,
                                          gboolean               ignore_backoff,
                                          guint                 *out_settled,
                                          GError               **error);
/* Drains until nothing this engine may send is pending or @wait_ms passed. */
gboolean   ct_sync_drain                 (CtSync                *sync,
                                          guint                  wait_ms,
                                          guint                 *out_settled,
                                          GCancellable          *cancellable,
                                          GError               **error);

/* The offline rule for a balance payment (pure): may the till take a
 * payment of @amount on @cached while offline, given @pending_other, the
 * sum of this till's other unsynced payments on that card? FALSE sets
 * @reason to why not. */
gboolean   ct_sync_offline_payment_allowed (const CtMerchant    *merchant,
                                            const CtCard        *cached,
                                            int64_t              amount,
                                            int64_t              pending_other,
                                            gint64               now,
                                            char               **reason);

/* Key retention of the service (30 days) minus a day: older entries go to
 * needs attention instead of being replayed on their own. */
#define CT_SYNC_REPLAY_HORIZON ((gint64) 29 * 24 * 3600 * G_USEC_PER_SEC)
/* A cached card older than this does not allow offline payments. */
#define CT_SYNC_OFFLINE_CARD_MAX_AGE ((gint64) 24 * 3600 * G_USEC_PER_SEC)

/* A fresh Idempotency-Key: "ct-" + 32 random hex digits. */
char      *ct_sync_new_key               (void);

G_END_DECLS
