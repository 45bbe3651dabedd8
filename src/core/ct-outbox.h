/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The till's durable outbox (docs/architecture.md): every POST is committed here,
 * with its Idempotency-Key and exact body bytes, before it is sent, and
 * leaves only on a definitive answer. SQLite in WAL mode: adding an entry
 * and resolving one commit with synchronous=FULL; the bookkeeping in
 * between (attempts, removal) with NORMAL, since losing it only replays an
 * entry with its key. */

typedef enum
{
  CT_OUTBOX_STATE_PENDING,          /* to be sent or re-sent with the same key */
  CT_OUTBOX_STATE_NEEDS_ATTENTION,  /* refused after it was queued, or too old */
  CT_OUTBOX_STATE_RESOLVED,         /* a manager settled it (re-sent as new, or outcome recorded) */
} CtOutboxState;

typedef enum
{
  CT_OUTBOX_KIND_TOPUP,
  CT_OUTBOX_KIND_PAYMENT,
  CT_OUTBOX_KIND_REFUND,
  CT_OUTBOX_KIND_ADJUSTMENT,
  CT_OUTBOX_KIND_CARD_ISSUE,
  CT_OUTBOX_KIND_CARD_PATCH,
  CT_OUTBOX_KIND_IMPORT,
  CT_OUTBOX_KIND_OTHER,
  CT_OUTBOX_KIND_SHIFT,             /* opening or closing a shift: queued offline like a top-up */
  CT_OUTBOX_KIND_CARD_REPLACE,      /* a lost card replaced by a new one: online only */
} CtOutboxKind;

typedef struct
{
  gint64         id;               /* local row id, order of taking */
  char          *idempotency_key;
  char          *method;           /* "POST" or "PATCH" */
  char          *path;             /* "/v1/cards/8888.../payments" */
  GBytes        *body;             /* exact bytes sent, every attempt */
  char          *service_url;
  char          *till;             /* till token fingerprint: which till it is for */
  char          *card_no;          /* nullable */
  CtOutboxKind   kind;
  int64_t        amount;           /* minor units; signed for adjustments, 0 if none */
  char          *order_ref;        /* nullable */
  gint64         created_at;       /* g_get_real_time(), µs */
  int            attempts;
  gint64         next_attempt_at;  /* µs */
  CtOutboxState  state;
  char          *reason;           /* nullable: last failure, refusal or resolution */
  gboolean       maybe_sent;       /* some attempt may have reached the service */
  gboolean       reported_queued;  /* the user was told "queued" / "pending sync" */
  int            last_status;      /* last HTTP status, 0 if none */
  GBytes        *last_answer;      /* nullable: last answer body (refusals) */
} CtOutboxEntry;

GType          ct_outbox_entry_get_type   (void) G_GNUC_CONST;
#define CT_TYPE_OUTBOX_ENTRY (ct_outbox_entry_get_type ())

CtOutboxEntry *ct_outbox_entry_copy       (const CtOutboxEntry *entry);
gboolean       ct_outbox_entry_balance_change (const CtOutboxEntry *entry,
                                               int64_t             *out_delta);
void           ct_outbox_entry_free       (CtOutboxEntry       *entry);
const char    *ct_outbox_kind_to_string   (CtOutboxKind         kind);
const char    *ct_outbox_state_to_string  (CtOutboxState        state);
/* TRUE for requests that are only done with the service answering now
 * (refund, adjustment, card issue and changes): never queued for later. */
gboolean       ct_outbox_kind_is_online_only (CtOutboxKind      kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtOutboxEntry, ct_outbox_entry_free)

typedef struct _CtOutbox CtOutbox;

/* Creates @path if needed and makes it and its SQLite side files (-wal,
 * -shm, -journal) readable by the owner only (0600). */
gboolean       ct_sqlite_file_make_private (const char     *path,
                                            GError        **error);

/* Opens (creating) the outbox database at @path. Thread-safe: one SQLite
 * connection guarded by a mutex. */
CtOutbox      *ct_outbox_open             (const char     *path,
                                           GError        **error);
void           ct_outbox_close            (CtOutbox       *outbox);

/* Inserts @entry (its id is set on return), durably committed. */
gboolean       ct_outbox_add              (CtOutbox       *outbox,
                                           CtOutboxEntry  *entry,
                                           GError        **error);
gboolean       ct_outbox_remove           (CtOutbox       *outbox,
                                           gint64          id,
                                           GError        **error);
/* Removes several settled entries in one commit (NORMAL, as
 * ct_outbox_remove()): all of them or, on an error, none. */
gboolean       ct_outbox_remove_many      (CtOutbox       *outbox,
                                           const gint64   *ids,
                                           guint           n_ids,
                                           GError        **error);
/* Removes a request that never reached the service, durably (the till
 * told the customer it was not done). */
gboolean       ct_outbox_remove_unsent    (CtOutbox       *outbox,
                                           gint64          id,
                                           GError        **error);
CtOutboxEntry *ct_outbox_get              (CtOutbox       *outbox,
                                           gint64          id,
                                           GError        **error);
/* Records an attempt that did not settle the entry. */
gboolean       ct_outbox_record_attempt   (CtOutbox       *outbox,
                                           gint64          id,
                                           gboolean        maybe_sent,
                                           gint64          next_attempt_at,
                                           int             last_status,
                                           const char     *reason,
                                           GError        **error);
/* An attempt that never reached the service, of a request the till
 * reports as queued: ct_outbox_record_attempt() (not sent, no status) and
 * ct_outbox_mark_reported() in one commit. */
gboolean       ct_outbox_record_queued    (CtOutbox       *outbox,
                                           gint64          id,
                                           gint64          next_attempt_at,
                                           const char     *reason,
                                           GError        **error);
gboolean       ct_outbox_set_state        (CtOutbox       *outbox,
                                           gint64          id,
                                           CtOutboxState   state,
                                           int             last_status,
                                           GBytes         *last_answer,
                                           const char     *reason,
                                           GError        **error);
gboolean       ct_outbox_mark_reported    (CtOutbox       *outbox,
                                           gint64          id,
                                           GError        **error);
/* Entries in @state, in the order they were taken (element-type CtOutboxEntry). */
GPtrArray     *ct_outbox_list             (CtOutbox       *outbox,
                                           CtOutboxState   state,
                                           GError        **error);
/* The first pending entry of each card at each service (and every
 * card-less one) whose next attempt is due at @now: what may be sent next,
 * card order kept. */
GPtrArray     *ct_outbox_list_due         (CtOutbox       *outbox,
                                           gint64          now,
                                           GError        **error);
/* Pending entries for @card_no, for the same service, taken before entry
 * @before_id. */
guint          ct_outbox_count_before     (CtOutbox       *outbox,
                                           const char     *card_no,
                                           gint64          before_id,
                                           GError        **error);
/* Pending entries for @card_no, for the same service, taken before entry
 * @before_id, in order (element-type CtOutboxEntry). */
GPtrArray     *ct_outbox_list_card_before (CtOutbox       *outbox,
                                           const char     *card_no,
                                           gint64          before_id,
                                           GError        **error);
/* The oldest of them, or NULL (no error) when none. */
CtOutboxEntry *ct_outbox_first_card_before (CtOutbox      *outbox,
                                            const char    *card_no,
                                            gint64         before_id,
                                            GError       **error);
/* The entry holding @idempotency_key, or NULL (no error) when none. */
CtOutboxEntry *ct_outbox_get_by_key       (CtOutbox       *outbox,
                                           const char     *idempotency_key,
                                           GError        **error);
/* The oldest pending entry of @card_no, or NULL (no error) when none. */
CtOutboxEntry *ct_outbox_first_pending    (CtOutbox       *outbox,
                                           const char     *card_no,
                                           GError        **error);
/* Sum of this till's pending payments on @card_no (minor units). */
gboolean       ct_outbox_pending_payments (CtOutbox       *outbox,
                                           const char     *card_no,
                                           int64_t        *out_sum,
                                           GError        **error);
guint          ct_outbox_count            (CtOutbox       *outbox,
                                           CtOutboxState   state);
/* Moves pending entries created before @cutoff to needs attention. */
guint          ct_outbox_expire           (CtOutbox       *outbox,
                                           gint64          cutoff,
                                           GError        **error);

/* Backoff with jitter for the @attempts-th failed attempt: 0.5 s doubling,
 * capped at 60 s, jittered into [d/2, d]. Microseconds. */
gint64         ct_outbox_backoff          (int             attempts,
                                           GRand          *rand);

G_END_DECLS
