/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-sync"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ct-http.h"
#include "ct-sync.h"

struct _CtSync
{
  CtOutbox      *outbox;
  CtMemberCache *cache;
  char          *service_id;
  int            lock_fd;
  GMutex         send_lock;     /* threads of this process; flock for the others */

  GMutex         lock;          /* guards what follows */
  char          *base_url;
  char          *token;
  char          *till;          /* fingerprint of the token */
  char          *ca_file;
  char          *pin_pubkey;
  guint          connect_timeout_ms;
  guint          request_timeout_ms;
  guint          generation;    /* bumps when the service settings change */
  GPtrArray     *idle_http;     /* CtHttp of the current generation */
  GHashTable    *claimed;       /* entry ids an interactive caller is settling */
  GRand         *rand;
  guint          default_wait_ms;

  CtSyncNotify   notify;
  gpointer       notify_data;
};

typedef struct
{
  CtHttp *http;
  guint   generation;
} PooledHttp;

typedef enum
{
  ATTEMPT_DONE,          /* 2xx with a valid answer */
  ATTEMPT_REFUSED,       /* a refusal the service stored: definitive */
  ATTEMPT_NOT_STORED,    /* 401, 413, idempotency_key_missing: not applied, not stored */
  ATTEMPT_RETRY,         /* outcome unknown or the service asks to come back */
  ATTEMPT_NOT_SENT,      /* nothing reached the service */
  ATTEMPT_UNRESPONSIVE,  /* sent, and the service stopped answering: outcome unknown */
  ATTEMPT_TLS,           /* certificate or pin refused; nothing sent */
} AttemptKind;

typedef struct
{
  AttemptKind  kind;
  int          status;
  GBytes      *body;
  gboolean     replayed;
  int          retry_after;
  char        *reason;
  CtCard      *card;       /* the card a valid 2xx answer carried */
  CtCard      *closed;     /* and the lost card a replacement closed, or NULL */
} Attempt;

static void
attempt_clear (Attempt *a)
{
  g_clear_pointer (&a->body, g_bytes_unref);
  g_clear_pointer (&a->reason, g_free);
  g_clear_pointer (&a->card, ct_card_free);
  g_clear_pointer (&a->closed, ct_card_free);
}

char *
ct_sync_new_key (void)
{
  g_autofree char *uuid = g_uuid_string_random ();
  GString *key = g_string_new ("ct-");

  for (const char *p = uuid; *p; p++)
    if (*p != '-')
      g_string_append_c (key, *p);
  return g_string_free (key, FALSE);
}

CtSync *
ct_sync_new (CtOutbox       *outbox,
             CtMemberCache  *cache,
             const char     *service_id,
             const char     *lock_path,
             GError        **error)
{
  CtSync *self;
  int fd;

  g_return_val_if_fail (outbox != NULL && service_id != NULL && lock_path != NULL, NULL);

  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL,
                   "Cannot open the outbox lock %s: %s", lock_path, g_strerror (saved));
      return NULL;
    }

  self = g_new0 (CtSync, 1);
  self->outbox = outbox;
  self->cache = cache;
  self->service_id = g_strdup (service_id);
  self->lock_fd = fd;
  g_mutex_init (&self->send_lock);
  g_mutex_init (&self->lock);
  self->idle_http = g_ptr_array_new ();
  self->claimed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->rand = g_rand_new ();
  self->default_wait_ms = 30000;
  return self;
}

static void
pooled_free (PooledHttp *p)
{
  ct_http_free (p->http);
  g_free (p);
}

void
ct_sync_free (CtSync *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->idle_http->len; i++)
    pooled_free (g_ptr_array_index (self->idle_http, i));
  g_ptr_array_unref (self->idle_http);
  g_hash_table_unref (self->claimed);
  g_rand_free (self->rand);
  close (self->lock_fd);
  g_free (self->service_id);
  g_free (self->base_url);
  g_free (self->token);
  g_free (self->till);
  g_free (self->ca_file);
  g_free (self->pin_pubkey);
  g_mutex_clear (&self->send_lock);
  g_mutex_clear (&self->lock);
  g_free (self);
}

gboolean
ct_sync_set_service (CtSync      *self,
                     const char  *base_url,
                     const char  *token,
                     const char  *ca_file,
                     const char  *pin_pubkey,
                     guint        connect_timeout_ms,
                     guint        request_timeout_ms,
                     GError     **error)
{
  g_autoptr(GError) local = NULL;

  if (!ct_http_url_allowed (base_url, &local))
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG, local->message);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  g_free (self->base_url);
  self->base_url = g_strdup (base_url);
  g_free (self->token);
  self->token = g_strdup (token);
  g_free (self->till);
  self->till = token ? g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1) : g_strdup ("");
  if (strlen (self->till) > 16)
    self->till[16] = '\0';
  g_free (self->ca_file);
  self->ca_file = g_strdup (ca_file);
  g_free (self->pin_pubkey);
  self->pin_pubkey = g_strdup (pin_pubkey);
  self->connect_timeout_ms = connect_timeout_ms;
  self->request_timeout_ms = request_timeout_ms;
  self->generation++;
  for (guint i = 0; i < self->idle_http->len; i++)
    pooled_free (g_ptr_array_index (self->idle_http, i));
  g_ptr_array_set_size (self->idle_http, 0);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
ct_sync_set_notify (CtSync       *self,
                    CtSyncNotify  notify,
                    gpointer      user_data)
{
  g_mutex_lock (&self->lock);
  self->notify = notify;
  self->notify_data = user_data;
  g_mutex_unlock (&self->lock);
}

void
ct_sync_set_default_wait (CtSync *self,
                          guint   wait_ms)
{
  self->default_wait_ms = wait_ms;
}

static void
emit (CtSync        *self,
      CtSyncEvent    event,
      gconstpointer  data)
{
  CtSyncNotify notify;
  gpointer user_data;

  g_mutex_lock (&self->lock);
  notify = self->notify;
  user_data = self->notify_data;
  g_mutex_unlock (&self->lock);
  if (notify)
    notify (event, data, user_data);
}

static PooledHttp *
take_http (CtSync  *self,
           GError **error)
{
  PooledHttp *p = NULL;
  g_autoptr(GError) local = NULL;

  g_mutex_lock (&self->lock);
  if (self->base_url == NULL)
    {
      g_mutex_unlock (&self->lock);
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                           "No card service is configured");
      return NULL;
    }
  if (self->idle_http->len > 0)
    p = g_ptr_array_steal_index (self->idle_http, self->idle_http->len - 1);
  else
    {
      CtHttp *http = ct_http_new (self->base_url, self->token, self->ca_file, self->pin_pubkey,
                                  self->connect_timeout_ms, self->request_timeout_ms, &local);

      if (http != NULL)
        {
          p = g_new0 (PooledHttp, 1);
          p->http = http;
          p->generation = self->generation;
        }
    }
  g_mutex_unlock (&self->lock);
  if (p == NULL)
    g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG, local->message);
  return p;
}

static void
give_back_http (CtSync     *self,
                PooledHttp *p)
{
  g_mutex_lock (&self->lock);
  if (p->generation == self->generation)
    {
      g_ptr_array_add (self->idle_http, p);
      p = NULL;
    }
  g_mutex_unlock (&self->lock);
  if (p != NULL)
    pooled_free (p);
}

static void
send_lock (CtSync *self)
{
  g_mutex_lock (&self->send_lock);
  while (flock (self->lock_fd, LOCK_EX) != 0 && errno == EINTR)
    ;
}

static void
send_unlock (CtSync *self)
{
  flock (self->lock_fd, LOCK_UN);
  g_mutex_unlock (&self->send_lock);
}

static gboolean
is_claimed (CtSync *self,
            gint64  id)
{
  gboolean claimed;

  g_mutex_lock (&self->lock);
  claimed = g_hash_table_contains (self->claimed, &id);
  g_mutex_unlock (&self->lock);
  return claimed;
}

static void
claim (CtSync   *self,
       gint64    id,
       gboolean  on)
{
  g_mutex_lock (&self->lock);
  if (on)
    g_hash_table_add (self->claimed, g_memdup2 (&id, sizeof id));
  else
    g_hash_table_remove (self->claimed, &id);
  g_mutex_unlock (&self->lock);
}

/* Checks that a 2xx answer is what the request kind promises, and keeps
 * the card it carries. An answer that does not decode is not proof of
 * anything: the entry is retried with its key and the service's replay
 * settles it. */
static gboolean
answer_valid (CtOutboxKind   kind,
              GBytes        *body,
              CtCard       **out_card,
              CtCard       **out_closed,
              GError       **error)
{
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  switch (kind)
    {
    case CT_OUTBOX_KIND_TOPUP:
    case CT_OUTBOX_KIND_PAYMENT:
    case CT_OUTBOX_KIND_REFUND:
    case CT_OUTBOX_KIND_ADJUSTMENT:
      {
        g_autoptr(CtReceipt) r = ct_wire_decode_receipt (data, len, error);

        if (r == NULL)
          return FALSE;
        *out_card = g_steal_pointer (&r->card);
        return TRUE;
      }
    case CT_OUTBOX_KIND_CARD_ISSUE:
    case CT_OUTBOX_KIND_CARD_PATCH:
      *out_card = ct_wire_decode_card (data, len, error);
      return *out_card != NULL;
    case CT_OUTBOX_KIND_CARD_REPLACE:
      /* The new card, and the lost one now closed: the offline rules of
       * this till refuse the lost card from now on, whoever asked. */
      return ct_wire_decode_card_replaced (data, len, out_card, out_closed, error);
    case CT_OUTBOX_KIND_IMPORT:
    case CT_OUTBOX_KIND_OTHER:
    case CT_OUTBOX_KIND_SHIFT:
    default:
      /* Answers of other kinds (imports) are checked by their callers; a
       * complete JSON object is what proves the answer arrived whole. */
      return ct_wire_check_object (data, len, error);
    }
}

/* Caches the cards a definitive answer carried and tells the listeners. */
static void
learn_from_answer (CtSync        *self,
                   const Attempt *a)
{
  const CtCard *cards[] = { a->closed, a->card };

  for (guint i = 0; i < G_N_ELEMENTS (cards); i++)
    {
      if (cards[i] == NULL)
        continue;
      if (self->cache != NULL)
        ct_member_cache_store (self->cache, cards[i], NULL);
      emit (self, CT_SYNC_EVENT_CARD, cards[i]);
    }
}

/* Sends @entry once and says what the answer means. No database change. */
static void
attempt_send (CtSync              *self,
              const CtOutboxEntry *entry,
              Attempt             *out)
{
  PooledHttp *p;
  CtHttpResult result = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) refusal = NULL;
  gsize len;
  const char *data;

  memset (out, 0, sizeof *out);
  out->retry_after = -1;

  p = take_http (self, &error);
  if (p == NULL)
    {
      out->kind = ATTEMPT_NOT_SENT;
      out->reason = g_strdup (error->message);
      return;
    }
  if (!ct_http_request (p->http, entry->method, entry->path, entry->idempotency_key, entry->body,
                        &result, &error))
    {
      give_back_http (self, p);
      out->reason = g_strdup (error->message);
      if (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT))
        out->kind = ATTEMPT_NOT_SENT;
      else if (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS))
        out->kind = ATTEMPT_TLS;
      else if (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_UNRESPONSIVE))
        out->kind = ATTEMPT_UNRESPONSIVE;
      else
        out->kind = ATTEMPT_RETRY;
      if (out->kind != ATTEMPT_TLS)
        emit (self, CT_SYNC_EVENT_OFFLINE, NULL);
      return;
    }
  give_back_http (self, p);
  emit (self, CT_SYNC_EVENT_ONLINE, NULL);

  out->status = result.status;
  out->body = g_steal_pointer (&result.body);
  out->replayed = result.replayed;
  out->retry_after = result.retry_after;
  data = g_bytes_get_data (out->body, &len);

  if (result.status >= 200 && result.status < 300)
    {
      if (answer_valid (entry->kind, out->body, &out->card, &out->closed, &error))
        out->kind = ATTEMPT_DONE;
      else
        {
          out->kind = ATTEMPT_RETRY;
          out->reason = g_strdup (error->message);
        }
      return;
    }

  ct_wire_decode_error (result.status, data, len, &refusal);
  if (g_error_matches (refusal, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER))
    {
      /* An HTML error page from a proxy, a cut body: nothing definitive. */
      out->kind = ATTEMPT_RETRY;
      out->reason = g_strdup (refusal->message);
      return;
    }
  out->reason = g_strdup_printf ("%s: %s", ct_client_error_code_to_string (refusal->code),
                                 refusal->message);

  /* Which refusals the service stored with the key (§4) decides whether
   * the answer is final. */
  switch (result.status)
    {
    case 400:
      out->kind = refusal->code == CT_CLIENT_ERROR_IDEMPOTENCY_KEY_MISSING
                  ? ATTEMPT_NOT_STORED : ATTEMPT_REFUSED;
      break;
    case 401:
    case 413:
      out->kind = ATTEMPT_NOT_STORED;
      break;
    case 403:
    case 404:
    case 422:
      out->kind = ATTEMPT_REFUSED;
      break;
    case 409:
      out->kind = refusal->code == CT_CLIENT_ERROR_REQUEST_IN_PROGRESS
                  ? ATTEMPT_RETRY : ATTEMPT_REFUSED;
      break;
    case 429:
      /* A locked manager or member PIN will not unlock by retrying the
       * same PIN: the request was not applied and a person has to try
       * again. A rate limit is worth waiting for. */
      out->kind = refusal->code == CT_CLIENT_ERROR_PIN_LOCKED
                  || refusal->code == CT_CLIENT_ERROR_MEMBER_PIN_LOCKED ? ATTEMPT_NOT_STORED : ATTEMPT_RETRY;
      break;
    default:
      /* 5xx and anything unexpected: come back later with the key. */
      out->kind = ATTEMPT_RETRY;
      break;
    }
}

static gint64
next_attempt_time (CtSync *self,
                   int     attempts,
                   int     retry_after)
{
  gint64 delay;

  g_mutex_lock (&self->lock);
  delay = ct_outbox_backoff (attempts, self->rand);
  g_mutex_unlock (&self->lock);
  if (retry_after > 0)
    delay = MAX (delay, (gint64) MIN (retry_after, 60) * G_USEC_PER_SEC);
  return g_get_real_time () + delay;
}

/* Applies an attempt's outcome to an entry that no caller is waiting for.
 * Returns TRUE if the entry left the pending list. */
static gboolean
settle_background (CtSync               *self,
                   const CtOutboxEntry  *e,
                   Attempt              *a,
                   GError              **error)
{
  gboolean ok = TRUE;
  gboolean left = FALSE;

  switch (a->kind)
    {
    case ATTEMPT_DONE:
      ok = ct_outbox_remove (self->outbox, e->id, error);
      if (ok)
        learn_from_answer (self, a);
      left = ok;
      break;
    case ATTEMPT_REFUSED:
      /* Queued and then refused: never dropped, a manager decides. */
      ok = ct_outbox_set_state (self->outbox, e->id, CT_OUTBOX_STATE_NEEDS_ATTENTION,
                                a->status, a->body, a->reason, error);
      left = ok;
      break;
    case ATTEMPT_NOT_STORED:
      if (a->status == 401)
        ok = ct_outbox_record_attempt (self->outbox, e->id, FALSE,
                                       next_attempt_time (self, e->attempts + 1, -1), a->status,
                                       a->reason, error);
      else
        {
          ok = ct_outbox_set_state (self->outbox, e->id, CT_OUTBOX_STATE_NEEDS_ATTENTION,
                                    a->status, a->body, a->reason, error);
          left = ok;
        }
      break;
    case ATTEMPT_RETRY:
    case ATTEMPT_UNRESPONSIVE:
      ok = ct_outbox_record_attempt (self->outbox, e->id, TRUE,
                                     next_attempt_time (self, e->attempts + 1, a->retry_after),
                                     a->status, a->reason, error);
      break;
    case ATTEMPT_NOT_SENT:
    case ATTEMPT_TLS:
    default:
      ok = ct_outbox_record_attempt (self->outbox, e->id, FALSE,
                                     next_attempt_time (self, e->attempts + 1, -1), 0,
                                     a->reason, error);
      break;
    }
  if (ok)
    emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
  return left;
}

static gboolean
entry_is_ours (CtSync              *self,
               const CtOutboxEntry *e)
{
  return g_strcmp0 (e->service_url, self->service_id) == 0;
}

static gboolean
expire_old (CtSync  *self,
            GError **error)
{
  g_autoptr(GError) local = NULL;
  guint n = ct_outbox_expire (self->outbox, g_get_real_time () - CT_SYNC_REPLAY_HORIZON, &local);

  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (n > 0)
    emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
  return TRUE;
}

typedef struct
{
  CtSync     *sync;
  GPtrArray  *work;        /* one GPtrArray per card (or card-less entry): its
                            * entries to send in order, borrowed */
  GHashTable *tried;       /* entry ids sent in this drain, under tried_lock */
  GMutex      tried_lock;
  gboolean    ignore_backoff;
  gint        next;
  gint        settled;
  gint        offline;
  GMutex      error_lock;
  GError     *error;

  GMutex      ack_lock;    /* guards what follows */
  GArray     *ack_ids;     /* entries the service settled, not removed yet */
  GPtrArray  *ack_cards;   /* the cards their answers carried (CtCard) */
} DrainRound;

/* Settled entries are removed from the outbox DRAIN_ACK_BATCH at a time,
 * in one commit, and a card's next entry goes out without waiting for its
 * predecessor's removal: the service has settled it, which is all the
 * card's order needs. A removal lost to a crash or a power cut only means
 * the entry is sent again with its key, and the service answers what it
 * stored (docs/architecture.md). */
#define DRAIN_ACK_BATCH 64

static void
round_fail (DrainRound *round,
            GError     *local)
{
  g_mutex_lock (&round->error_lock);
  if (round->error == NULL)
    round->error = local;
  else
    g_error_free (local);
  g_mutex_unlock (&round->error_lock);
}

/* Marks @id as tried in this drain; FALSE if it was already. */
static gboolean
round_try (DrainRound *round,
           gint64      id)
{
  gboolean fresh;

  g_mutex_lock (&round->tried_lock);
  fresh = !g_hash_table_contains (round->tried, &id);
  if (fresh)
    g_hash_table_add (round->tried, g_memdup2 (&id, sizeof id));
  g_mutex_unlock (&round->tried_lock);
  return fresh;
}

/* Writes the removals of the settled entries waiting, when there are at
 * least @at_least, and then learns the cards their answers carried. */
static void
round_flush_acks (DrainRound *round,
                  guint       at_least)
{
  CtSync *self = round->sync;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) cards = NULL;
  GError *local = NULL;

  g_mutex_lock (&round->ack_lock);
  if (round->ack_ids->len > 0 && round->ack_ids->len >= at_least)
    {
      ids = round->ack_ids;
      cards = round->ack_cards;
      round->ack_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      round->ack_cards = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_card_free);
    }
  g_mutex_unlock (&round->ack_lock);
  if (ids == NULL)
    return;

  if (!ct_outbox_remove_many (self->outbox, (const gint64 *) (gpointer) ids->data, ids->len,
                              &local))
    {
      round_fail (round, local);
      return;
    }
  g_atomic_int_add (&round->settled, (gint) ids->len);
  if (self->cache != NULL)
    ct_member_cache_store_many (self->cache, cards, NULL);
  for (guint i = 0; i < cards->len; i++)
    emit (self, CT_SYNC_EVENT_CARD, g_ptr_array_index (cards, i));
  emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
}

/* @e was settled by the service (@a, ATTEMPT_DONE): its removal waits for
 * the next batch. */
static void
round_ack (DrainRound          *round,
           const CtOutboxEntry *e,
           Attempt             *a)
{
  guint waiting;

  g_mutex_lock (&round->ack_lock);
  g_array_append_val (round->ack_ids, e->id);
  /* The lost card a replacement closed first, then the card, as
   * learn_from_answer() stores them. */
  if (a->closed != NULL)
    g_ptr_array_add (round->ack_cards, g_steal_pointer (&a->closed));
  if (a->card != NULL)
    g_ptr_array_add (round->ack_cards, g_steal_pointer (&a->card));
  waiting = round->ack_ids->len;
  g_mutex_unlock (&round->ack_lock);
  if (waiting >= DRAIN_ACK_BATCH)
    round_flush_acks (round, DRAIN_ACK_BATCH);
}

static gpointer
drain_worker (gpointer data)
{
  DrainRound *round = data;
  CtSync *self = round->sync;

  for (;;)
    {
      gint i = g_atomic_int_add (&round->next, 1);
      GPtrArray *queue;

      if (i >= (gint) round->work->len || g_atomic_int_get (&round->offline))
        break;
      queue = g_ptr_array_index (round->work, i);

      /* A worker keeps to its card: once an entry settles, the card's next
       * one goes on the same connection, in order. */
      for (guint j = 0; j < queue->len && !g_atomic_int_get (&round->offline); j++)
        {
          CtOutboxEntry *e = g_ptr_array_index (queue, j);
          GError *local = NULL;
          gboolean left;
          Attempt a;

          /* The first entry of each card was checked when the round was
           * made. */
          if (j > 0
              && (is_claimed (self, e->id)
                  || (!round->ignore_backoff && e->next_attempt_at > g_get_real_time ())
                  || !round_try (round, e->id)))
            break;

          attempt_send (self, e, &a);
          if (a.kind == ATTEMPT_DONE)
            {
              round_ack (round, e, &a);
              left = TRUE;
            }
          else
            {
              left = settle_background (self, e, &a, &local);
              if (left)
                g_atomic_int_inc (&round->settled);
            }
          if (local != NULL)
            round_fail (round, local);
          if (a.kind == ATTEMPT_NOT_SENT || a.kind == ATTEMPT_TLS
              || a.kind == ATTEMPT_UNRESPONSIVE)
            g_atomic_int_set (&round->offline, 1);
          attempt_clear (&a);

          if (!left || e->card_no == NULL || local != NULL)
            break;
        }
    }
  return NULL;
}

/* What a round may send, from this service's pending entries in the order
 * they were taken (@pending): for each card, its entries in order, the
 * first of them due; each card-less entry alone. Requests for another
 * service (the till was pointed elsewhere) are another ledger's order and
 * hold nothing back. A shift's opening or closing waits for everything
 * taken before it and holds back everything taken after it, so the
 * service books each sale into the shift it was taken in
 * (ct_outbox_list_due() says the same of the first entries). */
static GPtrArray *
round_queues (DrainRound *round,
              GPtrArray  *pending,
              gint64      now)
{
  CtSync *self = round->sync;
  GPtrArray *work = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) cards = g_hash_table_new (g_str_hash, g_str_equal);
  gint64 first_id = -1;
  gint64 first_shift = G_MAXINT64;

  for (guint i = 0; i < pending->len; i++)
    {
      CtOutboxEntry *e = g_ptr_array_index (pending, i);

      if (!entry_is_ours (self, e))
        continue;
      if (first_id < 0)
        first_id = e->id;
      if (e->kind == CT_OUTBOX_KIND_SHIFT)
        {
          first_shift = e->id;
          break;
        }
    }

  for (guint i = 0; i < pending->len; i++)
    {
      CtOutboxEntry *e = g_ptr_array_index (pending, i);
      GPtrArray *queue;
      gboolean first_ok;

      if (!entry_is_ours (self, e))
        continue;
      if (e->id > first_shift || (e->id == first_shift && e->id != first_id))
        break;
      if (e->card_no != NULL && g_hash_table_lookup_extended (cards, e->card_no, NULL,
                                                              (gpointer *) &queue))
        {
          /* A card whose first entry may not go now sends none. */
          if (queue != NULL)
            g_ptr_array_add (queue, e);
          continue;
        }
      first_ok = e->next_attempt_at <= now && !is_claimed (self, e->id)
                 && round_try (round, e->id);
      queue = NULL;
      if (first_ok)
        {
          queue = g_ptr_array_new ();
          g_ptr_array_add (queue, e);
          g_ptr_array_add (work, queue);
        }
      if (e->card_no != NULL)
        g_hash_table_insert (cards, e->card_no, queue);
    }
  return work;
}

/* Cards are independent: their entries go out over several connections at
 * once (each worker takes its own pooled connection). */
#define DRAIN_WORKERS 8

static gboolean
drain_rounds (CtSync    *self,
              gboolean   ignore_backoff,
              guint     *out_settled,
              gboolean  *out_offline,
              GError   **error)
{
  g_autoptr(GHashTable) tried = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint settled = 0;
  gboolean offline = FALSE;
  gboolean progress = TRUE;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!expire_old (self, error))
    return FALSE;

  send_lock (self);
  /* Each round sends every card's pending entries in order, each card on
   * one worker; a card stops at an entry that does not settle, and a shift
   * holds back what was taken after it, so go round until nothing moves. */
  while (ok && progress && !offline)
    {
      g_autoptr(GPtrArray) pending = NULL;
      g_autoptr(GPtrArray) work = NULL;
      DrainRound round = { 0 };
      guint n_threads;

      progress = FALSE;
      /* Read once for the round: the send lock keeps every other sender
       * away, and what is taken meanwhile comes after these entries. */
      pending = ct_outbox_list (self->outbox, CT_OUTBOX_STATE_PENDING, error);
      if (pending == NULL)
        {
          ok = FALSE;
          break;
        }
      round.sync = self;
      round.tried = tried;
      round.ignore_backoff = ignore_backoff;
      g_mutex_init (&round.error_lock);
      g_mutex_init (&round.tried_lock);
      g_mutex_init (&round.ack_lock);
      round.ack_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      round.ack_cards = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_card_free);
      work = round_queues (&round, pending, ignore_backoff ? G_MAXINT64 : g_get_real_time ());
      round.work = work;

      n_threads = MIN (DRAIN_WORKERS, work->len);
      if (n_threads == 1)
        drain_worker (&round);
      else if (n_threads > 1)
        {
          GThread *threads[DRAIN_WORKERS];

          for (guint t = 0; t < n_threads; t++)
            threads[t] = g_thread_new ("ct-drain", drain_worker, &round);
          for (guint t = 0; t < n_threads; t++)
            g_thread_join (threads[t]);
        }
      round_flush_acks (&round, 0);
      g_array_unref (round.ack_ids);
      g_ptr_array_unref (round.ack_cards);
      g_mutex_clear (&round.ack_lock);
      g_mutex_clear (&round.error_lock);
      g_mutex_clear (&round.tried_lock);
      settled += (guint) round.settled;
      progress = round.settled > 0;
      offline = round.offline != 0;
      if (round.error != NULL)
        {
          g_propagate_error (error, round.error);
          ok = FALSE;
        }
    }
  send_unlock (self);

  if (out_settled)
    *out_settled = settled;
  if (out_offline)
    *out_offline = offline;
  return ok;
}

gboolean
ct_sync_drain_once (CtSync    *self,
                    gboolean   ignore_backoff,
                    guint     *out_settled,
                    GError   **error)
{
  return drain_rounds (self, ignore_backoff, out_settled, NULL, error);
}

static guint
count_ours_pending (CtSync *self)
{
  g_autoptr(GPtrArray) pending = ct_outbox_list (self->outbox, CT_OUTBOX_STATE_PENDING, NULL);
  guint n = 0;

  for (guint i = 0; pending != NULL && i < pending->len; i++)
    if (entry_is_ours (self, g_ptr_array_index (pending, i)))
      n++;
  return n;
}

static void
sleep_until (gint64        until_monotonic,
             GCancellable *cancellable)
{
  while (g_get_monotonic_time () < until_monotonic
         && !g_cancellable_is_cancelled (cancellable))
    {
      gint64 left = until_monotonic - g_get_monotonic_time ();

      g_usleep (MAX (0, MIN (left, 50 * 1000)));
    }
}

gboolean
ct_sync_drain (CtSync        *self,
               guint          wait_ms,
               guint         *out_settled,
               GCancellable  *cancellable,
               GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) wait_ms * 1000;
  guint total = 0;
  int round = 0;
  int refused_rounds = 0;

  for (;;)
    {
      guint settled = 0;
      gboolean offline = FALSE;

      if (!drain_rounds (self, TRUE, &settled, &offline, error))
        return FALSE;
      total += settled;
      if (count_ours_pending (self) == 0)
        break;
      if (g_get_monotonic_time () >= deadline || g_cancellable_is_cancelled (cancellable))
        break;
      /* A service that refuses connections round after round is down, not
       * slow: say so now rather than at the end of the wait. */
      refused_rounds = offline && settled == 0 ? refused_rounds + 1 : 0;
      if (refused_rounds >= 3)
        break;
      /* A short, growing pause between rounds, well under the backoff cap:
       * someone is waiting at the till for this. */
      round++;
      sleep_until (MIN (deadline, g_get_monotonic_time () + MIN (round, 10) * 100 * 1000),
                   cancellable);
    }
  if (out_settled)
    *out_settled = total;
  return TRUE;
}

gboolean
ct_sync_offline_payment_allowed (const CtMerchant  *merchant,
                                 const CtCard      *cached,
                                 int64_t            amount,
                                 int64_t            pending_other,
                                 gint64             now,
                                 char             **reason)
{
  int64_t total;

  if (merchant == NULL)
    {
      *reason = g_strdup ("the service is unreachable and this till has never received the "
                          "merchant's offline limits");
      return FALSE;
    }
  if (merchant->offline_payment_cap <= 0 || merchant->offline_card_cap <= 0)
    {
      *reason = g_strdup ("the service is unreachable and the merchant allows no card "
                          "payments while offline");
      return FALSE;
    }
  if (amount > merchant->offline_payment_cap)
    {
      *reason = g_strdup ("the service is unreachable and the amount is over the offline "
                          "limit per payment");
      return FALSE;
    }
  /* The member's consent (a PIN, a payment code) is checked by the service
   * alone: above the merchant's limit for it a payment waits for it. */
  if (merchant->consent_over > 0 && amount > merchant->consent_over)
    {
      *reason = g_strdup ("the service is unreachable and a payment this large needs the member's "
                          "PIN or payment code, which only the service can check");
      return FALSE;
    }
  if (cached == NULL)
    {
      *reason = g_strdup ("the service is unreachable and this till has never seen the card");
      return FALSE;
    }
  if (now - cached->fetched_at > CT_SYNC_OFFLINE_CARD_MAX_AGE || cached->fetched_at > now + 60 * G_USEC_PER_SEC)
    {
      *reason = g_strdup ("the service is unreachable and the card's last known state is "
                          "more than 24 hours old");
      return FALSE;
    }
  if (cached->status == CT_CARD_STATUS_FROZEN)
    {
      *reason = g_strdup ("the service is unreachable and the card was frozen when last seen");
      return FALSE;
    }
  if (cached->status == CT_CARD_STATUS_CLOSED)
    {
      *reason = g_strdup_printf ("the service is unreachable and the card was replaced by card %s", cached->replaced_by);
      return FALSE;
    }
  total = pending_other + amount;
  if (pending_other < 0 || total < pending_other)
    {
      *reason = g_strdup ("offline payment sum overflows");
      return FALSE;
    }
  if (total > merchant->offline_card_cap)
    {
      *reason = g_strdup ("the service is unreachable and this card's unsynced payments "
                          "would pass the offline limit per card");
      return FALSE;
    }
  if (total > cached->balance)
    {
      *reason = g_strdup ("the service is unreachable and the card's last known balance, "
                          "less its unsynced payments, does not cover the amount");
      return FALSE;
    }
  return TRUE;
}

static CtAnswer *
answer_from_attempt (const CtOutboxEntry *e,
                     Attempt             *a)
{
  CtAnswer *ans = g_new0 (CtAnswer, 1);

  ans->status = a->status;
  ans->body = a->body ? g_bytes_ref (a->body) : NULL;
  ans->replayed = a->replayed;
  ans->idempotency_key = g_strdup (e->idempotency_key);
  return ans;
}

/* An answer that is no reply of the service: @e's key, and why
 * (@code, @reason). */
static CtAnswer *
answer_without_reply (const CtOutboxEntry *e,
                      CtClientError        code,
                      const char          *reason)
{
  CtAnswer *ans = g_new0 (CtAnswer, 1);

  ans->idempotency_key = g_strdup (e->idempotency_key);
  ans->reason_code = code;
  ans->reason = g_strdup (reason);
  return ans;
}

/* The answer for @e, already marked as reported in the outbox. */
static CtAnswer *
answer_queued_marked (CtSync              *self,
                      const CtOutboxEntry *e,
                      CtClientError        code,
                      const char          *reason)
{
  CtAnswer *ans = answer_without_reply (e, code, reason);

  ans->queued = TRUE;
  ans->outbox_id = e->id;
  emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
  return ans;
}

static CtAnswer *
answer_queued (CtSync              *self,
               const CtOutboxEntry *e,
               CtClientError        code,
               const char          *reason)
{
  ct_outbox_mark_reported (self->outbox, e->id, NULL);
  return answer_queued_marked (self, e, code, reason);
}

/* @e never reached the unreachable service and waits in the outbox: its
 * attempt and its being reported in one commit. */
static CtAnswer *
answer_queued_offline (CtSync              *self,
                       const CtOutboxEntry *e,
                       const char          *why,
                       const char          *reason)
{
  ct_outbox_record_queued (self->outbox, e->id, next_attempt_time (self, e->attempts + 1, -1),
                           why, NULL);
  return answer_queued_marked (self, e, CT_CLIENT_ERROR_QUEUED, reason);
}

static CtAnswer *
answer_not_sent (CtSync               *self,
                 const CtOutboxEntry  *e,
                 CtClientError         code,
                 const char           *reason,
                 GError              **error)
{
  CtAnswer *ans;

  /* Nothing reached the service: the entry goes, nothing was done. */
  if (!ct_outbox_remove_unsent (self->outbox, e->id, error))
    return NULL;
  ans = answer_without_reply (e, code, reason);
  ans->not_sent = TRUE;
  emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
  return ans;
}

/* The service cannot be reached and @e never reached it. */
static CtAnswer *
handle_offline (CtSync               *self,
                const CtOutboxEntry  *e,
                const char           *why,
                GError              **error)
{
  switch (e->kind)
    {
    case CT_OUTBOX_KIND_TOPUP:
      {
        g_autofree char *reason = g_strdup_printf ("pending sync: the top-up is queued and will "
                                                   "be sent when the service is back (%s)", why);

        return answer_queued_offline (self, e, why, reason);
      }
    case CT_OUTBOX_KIND_SHIFT:
      {
        g_autofree char *reason = g_strdup_printf ("pending sync: the shift change is queued and "
                                                   "will be sent when the service is back (%s)", why);

        return answer_queued_offline (self, e, why, reason);
      }
    case CT_OUTBOX_KIND_PAYMENT:
      {
        g_autoptr(CtMerchant) merchant = self->cache ? ct_member_cache_load_merchant (self->cache) : NULL;
        g_autoptr(CtCard) cached = (self->cache && e->card_no)
                                   ? ct_member_cache_lookup (self->cache, e->card_no) : NULL;
        g_autofree char *refusal = NULL;
        int64_t pending = 0;

        /* The points and the code's single use are the service's to decide. */
        if (ct_wire_payment_needs_service (e->body))
          {
            g_autofree char *reason = g_strdup_printf ("not done: a payment with points, the member's "
                                                       "PIN or the member's payment code needs the "
                                                       "service, which is unreachable (%s)", why);
            return answer_not_sent (self, e, CT_CLIENT_ERROR_UNREACHABLE, reason, error);
          }

        if (e->card_no == NULL
            || !ct_outbox_pending_payments (self->outbox, e->card_no, &pending, error))
          {
            if (error && *error)
              return NULL;
          }
        /* The sum includes this payment, already in the outbox. */
        if (ct_sync_offline_payment_allowed (merchant, cached, e->amount, pending - e->amount,
                                             g_get_real_time (), &refusal))
          return answer_queued_offline (self, e, why,
                                        "pending sync: the service is unreachable; the payment "
                                        "was taken within the merchant's offline limits");
        return answer_not_sent (self, e, CT_CLIENT_ERROR_OFFLINE_REFUSED, refusal, error);
      }
    case CT_OUTBOX_KIND_REFUND:
    case CT_OUTBOX_KIND_ADJUSTMENT:
    case CT_OUTBOX_KIND_CARD_ISSUE:
    case CT_OUTBOX_KIND_CARD_PATCH:
    case CT_OUTBOX_KIND_CARD_REPLACE:
    case CT_OUTBOX_KIND_IMPORT:
    case CT_OUTBOX_KIND_OTHER:
    default:
      {
        g_autofree char *reason = g_strdup_printf ("not done: this needs the service, which "
                                                   "is unreachable (%s)", why);
        return answer_not_sent (self, e, CT_CLIENT_ERROR_UNREACHABLE, reason, error);
      }
    }
}

/* Sends the card's older pending entries first (order per card). Returns
 * TRUE when none is left ahead of @e; *out_offline tells whether the service
 * was unreachable. Caller holds the send lock. */
static gboolean
clear_card_queue (CtSync               *self,
                  const CtOutboxEntry  *e,
                  gboolean             *out_offline,
                  char                **out_reason,
                  GError              **error)
{
  g_autoptr(CtOutboxEntry) p = NULL;
  GError *local = NULL;

  *out_offline = FALSE;
  if (e->card_no == NULL)
    return TRUE;
  /* The oldest one at a time: the first that does not settle ends it, and
   * a card with a long queue offline is not read whole for each request. */
  p = ct_outbox_first_card_before (self->outbox, e->card_no, e->id, &local);
  if (p == NULL && local == NULL)
    return TRUE;

  /* An older entry past the replay horizon is not sent on its own, not even
   * to make way for this one: it goes to needs attention first, as in a
   * drain. */
  if (local == NULL && expire_old (self, &local))
    {
      g_clear_pointer (&p, ct_outbox_entry_free);
      p = ct_outbox_first_card_before (self->outbox, e->card_no, e->id, &local);
    }
  while (p != NULL)
    {
      Attempt a;
      gboolean left;

      if (is_claimed (self, p->id) || !entry_is_ours (self, p))
        {
          g_free (*out_reason);
          *out_reason = g_strdup ("an earlier request for this card is still being settled");
          return FALSE;
        }
      attempt_send (self, p, &a);
      left = settle_background (self, p, &a, NULL);
      if (!left)
        {
          *out_offline = a.kind == ATTEMPT_NOT_SENT || a.kind == ATTEMPT_UNRESPONSIVE;
          g_free (*out_reason);
          *out_reason = g_strdup_printf ("an earlier request on this card is not settled yet "
                                         "(%s)", a.reason ? a.reason : "no answer");
          attempt_clear (&a);
          return FALSE;
        }
      attempt_clear (&a);
      g_clear_pointer (&p, ct_outbox_entry_free);
      p = ct_outbox_first_card_before (self->outbox, e->card_no, e->id, &local);
    }
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

/* The entry vanished: another till process settled it under the lock with a
 * stored answer. The same key and bytes get that answer replayed. */
static CtAnswer *
replay_settled (CtSync              *self,
                const CtOutboxEntry *e)
{
  Attempt a;
  CtAnswer *ans;

  attempt_send (self, e, &a);
  if (a.kind == ATTEMPT_DONE || a.kind == ATTEMPT_REFUSED || a.kind == ATTEMPT_NOT_STORED)
    ans = answer_from_attempt (e, &a);
  else
    {
      ans = g_new0 (CtAnswer, 1);
      ans->queued = TRUE;
      ans->idempotency_key = g_strdup (e->idempotency_key);
      ans->reason_code = CT_CLIENT_ERROR_QUEUED;
      ans->reason = g_strdup_printf ("settled by another sync; its answer could not be fetched "
                                     "again (%s)", a.reason ? a.reason : "no answer");
    }
  attempt_clear (&a);
  return ans;
}

/* ---- submit: prepare, one round, wait ---------------------------------- */

/* The send lock held for a scope: g_autoptr(SendLocker) locker = send_locker (self). */
typedef CtSync SendLocker;

static SendLocker *
send_locker (CtSync *self)
{
  send_lock (self);
  return self;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendLocker, send_unlock)

/* A new pending entry for the request, not stored yet. */
static CtOutboxEntry *
new_entry (CtSync              *self,
           const char          *method,
           const char          *path,
           const char          *idempotency_key,
           GBytes              *body,
           const CtRequestInfo *info)
{
  CtOutboxEntry *entry = g_new0 (CtOutboxEntry, 1);

  entry->idempotency_key = idempotency_key ? g_strdup (idempotency_key) : ct_sync_new_key ();
  entry->method = g_strdup (method);
  entry->path = g_strdup (path);
  entry->body = g_bytes_ref (body);
  entry->service_url = g_strdup (self->service_id);
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

    entry->till = g_strdup (self->till ? self->till : "");
  }
  entry->card_no = g_strdup (info->card_no);
  entry->kind = info->kind;
  entry->amount = info->amount;
  entry->order_ref = g_strdup (info->order_ref);
  entry->created_at = g_get_real_time ();
  entry->next_attempt_at = entry->created_at;
  entry->state = CT_OUTBOX_STATE_PENDING;
  return entry;
}

/* The answer an entry already settled under the caller's key holds. */
static CtAnswer *
answer_stored (const CtOutboxEntry *existing)
{
  CtAnswer *ans = g_new0 (CtAnswer, 1);

  ans->status = existing->last_status;
  ans->body = existing->last_answer ? g_bytes_ref (existing->last_answer) : NULL;
  ans->idempotency_key = g_strdup (existing->idempotency_key);
  if (ans->body == NULL || ans->status == 0)
    {
      ans->queued = TRUE;
      ans->outbox_id = existing->id;
      ans->reason_code = CT_CLIENT_ERROR_QUEUED;
      ans->reason = g_strdup (existing->reason ? existing->reason : "needs attention");
    }
  return ans;
}

/* Prepare: the durable entry to send (*out_entry), or, for a caller's key
 * already settled in the outbox, its answer (*out_answer). A caller-chosen
 * key may be there already: the same intent taken again after a crash (an
 * import rerun). Same bytes: settle that entry. Other bytes under the same
 * key: a new intent needs a new key. */
static gboolean
submit_prepare (CtSync               *self,
                const char           *method,
                const char           *path,
                const char           *idempotency_key,
                GBytes               *body,
                const CtRequestInfo  *info,
                CtOutboxEntry       **out_entry,
                CtAnswer            **out_answer,
                GError              **error)
{
  g_autoptr(CtOutboxEntry) entry = NULL;

  if (idempotency_key != NULL)
    {
      g_autoptr(GError) local = NULL;

      entry = ct_outbox_get_by_key (self->outbox, idempotency_key, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (entry != NULL && (g_strcmp0 (entry->path, path) != 0 || !g_bytes_equal (entry->body, body)))
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "The key %s is already used in the outbox for another request",
                       idempotency_key);
          return FALSE;
        }
      if (entry != NULL && entry->state != CT_OUTBOX_STATE_PENDING)
        {
          *out_answer = answer_stored (entry);
          return TRUE;
        }
    }
  if (entry == NULL)
    {
      entry = new_entry (self, method, path, idempotency_key, body, info);
      /* Durable before a byte goes out. */
      if (!ct_outbox_add (self->outbox, entry, error))
        return FALSE;
    }
  *out_entry = g_steal_pointer (&entry);
  return TRUE;
}

/* Settles @e from one attempt @a: the answer, or NULL when it is to be
 * tried again (or with @error for a local failure). */
static CtAnswer *
settle_attempt (CtSync               *self,
                const CtOutboxEntry  *e,
                Attempt              *a,
                GError              **error)
{
  g_autoptr(GError) remove_error = NULL;
  g_autofree char *reason = NULL;

  switch (a->kind)
    {
    case ATTEMPT_DONE:
    case ATTEMPT_REFUSED:
      /* The answer is definitive whatever the disk says: if the entry
       * cannot be removed now, it is replayed later and the service
       * answers the stored result again. */
      if (!ct_outbox_remove (self->outbox, e->id, &remove_error))
        g_warning ("%s", remove_error->message);
      if (a->kind == ATTEMPT_DONE)
        learn_from_answer (self, a);
      emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
      return answer_from_attempt (e, a);
    case ATTEMPT_NOT_STORED:
      if (e->maybe_sent)
        {
          ct_outbox_record_attempt (self->outbox, e->id, FALSE,
                                    next_attempt_time (self, e->attempts + 1, -1),
                                    a->status, a->reason, NULL);
          return answer_queued (self, e, CT_CLIENT_ERROR_QUEUED, a->reason);
        }
      /* Refused before anything could apply (token, size). */
      if (!ct_outbox_remove (self->outbox, e->id, error))
        return NULL;
      emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);
      return answer_from_attempt (e, a);
    case ATTEMPT_TLS:
      if (!e->maybe_sent)
        return answer_not_sent (self, e, CT_CLIENT_ERROR_TLS, a->reason, error);
      G_GNUC_FALLTHROUGH;
    case ATTEMPT_NOT_SENT:
      if (!e->maybe_sent)
        return handle_offline (self, e, a->reason, error);
      /* An earlier attempt may have reached the service, which is now
       * unreachable: waiting cannot settle it, the outbox will (same key)
       * when the service is back. */
      ct_outbox_record_attempt (self->outbox, e->id, FALSE,
                                next_attempt_time (self, e->attempts + 1, -1), 0, a->reason,
                                NULL);
      reason = g_strdup_printf ("outcome pending in the outbox: the service became unreachable "
                                "after the request may have reached it (%s)", a->reason);
      return answer_queued (self, e, CT_CLIENT_ERROR_QUEUED, reason);
    case ATTEMPT_UNRESPONSIVE:
      /* The service took the request and went silent, a health check too:
       * the cashier is not held for the full timeout; the outbox settles
       * it with the same key. */
      ct_outbox_record_attempt (self->outbox, e->id, TRUE,
                                next_attempt_time (self, e->attempts + 1, -1), 0, a->reason,
                                NULL);
      reason = g_strdup_printf ("outcome pending in the outbox: %s", a->reason);
      return answer_queued (self, e, CT_CLIENT_ERROR_QUEUED, reason);
    case ATTEMPT_RETRY:
    default:
      ct_outbox_record_attempt (self->outbox, e->id, TRUE,
                                next_attempt_time (self, e->attempts + 1, a->retry_after),
                                a->status, a->reason, NULL);
      return NULL;
    }
}

/* One round, under the send lock: the entry as the outbox has it now, the
 * card's earlier requests, then one attempt. Returns the answer when the
 * entry is settled (or can go no further now), NULL to wait and try again;
 * NULL with @error for a local failure. *last_reason keeps why the last
 * round did not settle. */
static CtAnswer *
submit_round (CtSync               *self,
              const CtOutboxEntry  *entry,
              char                **last_reason,
              GError              **error)
{
  g_autoptr(SendLocker) locker = send_locker (self);
  g_autoptr(CtOutboxEntry) e = NULL;
  g_autoptr(GError) local = NULL;
  gboolean offline = FALSE;
  CtAnswer *answer;
  Attempt a;

  e = ct_outbox_get (self->outbox, entry->id, &local);
  if (e == NULL && !g_error_matches (local, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (e == NULL)
    return replay_settled (self, entry);
  if (e->state != CT_OUTBOX_STATE_PENDING)
    return answer_queued (self, e, CT_CLIENT_ERROR_QUEUED, e->reason ? e->reason : "needs attention");

  if (!clear_card_queue (self, e, &offline, last_reason, &local))
    {
      if (local != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      else if (offline && !e->maybe_sent)
        return handle_offline (self, e, *last_reason, error);
      else if (offline)
        return answer_queued (self, e, CT_CLIENT_ERROR_QUEUED, *last_reason);
      return NULL;
    }

  /* An import chunk has no card, so no order to keep, and its key makes a
   * second copy in flight harmless (a drain in another process meets
   * "request in progress"): the next chunk may go while this one commits. */
  if (e->kind == CT_OUTBOX_KIND_IMPORT && e->card_no == NULL)
    g_clear_pointer (&locker, send_unlock);
  attempt_send (self, e, &a);
  g_free (*last_reason);
  *last_reason = g_strdup (a.reason);
  answer = settle_attempt (self, e, &a, error);
  attempt_clear (&a);
  return answer;
}

/* The caller's patience ran out before the entry settled: the answer that
 * says so. */
static CtAnswer *
submit_give_up (CtSync               *self,
                const CtOutboxEntry  *entry,
                const char           *last_reason,
                GError              **error)
{
  g_autoptr(CtOutboxEntry) now = ct_outbox_get (self->outbox, entry->id, NULL);
  g_autofree char *reason = NULL;

  if (now == NULL)
    {
      g_autoptr(SendLocker) locker = send_locker (self);

      return replay_settled (self, entry);
    }
  /* A request that needs the service and never left the till is not
   * queued behind the card's unsettled one: it is not done. */
  if (now->state == CT_OUTBOX_STATE_PENDING && !now->maybe_sent
      && ct_outbox_kind_is_online_only (now->kind))
    {
      reason = g_strdup_printf ("not done, nothing was sent: %s",
                                last_reason ? last_reason
                                            : "an earlier request on this card is not settled yet");
      return answer_not_sent (self, now, CT_CLIENT_ERROR_EARLIER_PENDING, reason, error);
    }
  reason = g_strdup_printf ("outcome pending in the outbox; it will be settled with the same key "
                            "(%s)", last_reason ? last_reason : "no answer yet");
  return answer_queued (self, now, CT_CLIENT_ERROR_QUEUED, reason);
}

/* Waits for the entry's next attempt (backoff, jitter), at most until
 * @deadline. */
static void
submit_wait (CtSync              *self,
             const CtOutboxEntry *entry,
             gint64               deadline,
             GCancellable        *cancellable)
{
  g_autoptr(CtOutboxEntry) now = ct_outbox_get (self->outbox, entry->id, NULL);
  gint64 next = now ? now->next_attempt_at : g_get_real_time ();
  gint64 pause = MAX (20 * 1000, next - g_get_real_time ());

  sleep_until (MIN (deadline, g_get_monotonic_time () + pause), cancellable);
}

CtAnswer *
ct_sync_submit (CtSync               *self,
                const char           *method,
                const char           *path,
                const char           *idempotency_key,
                GBytes               *body,
                const CtRequestInfo  *info,
                GCancellable         *cancellable,
                GError              **error)
{
  g_autoptr(CtOutboxEntry) entry = NULL;
  g_autofree char *last_reason = NULL;
  CtAnswer *answer = NULL;
  gint64 deadline;

  g_return_val_if_fail (self != NULL && method != NULL && path != NULL && body != NULL, NULL);
  g_return_val_if_fail (info != NULL, NULL);

  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

    if (self->base_url == NULL)
      {
        g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                             "The till is not connected to its card service yet");
        return NULL;
      }
  }
  if (!submit_prepare (self, method, path, idempotency_key, body, info, &entry, &answer, error))
    return NULL;
  if (answer != NULL)
    return answer;
  claim (self, entry->id, TRUE);
  emit (self, CT_SYNC_EVENT_OUTBOX_CHANGED, NULL);

  /* Not settled: try the same key again, until the caller's patience runs out. */
  deadline = g_get_monotonic_time () + (gint64) (info->wait_ms ? info->wait_ms
                                                               : self->default_wait_ms) * 1000;
  for (;;)
    {
      g_autoptr(GError) local = NULL;

      answer = submit_round (self, entry, &last_reason, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          break;
        }
      if (answer != NULL)
        break;
      if (g_get_monotonic_time () >= deadline || g_cancellable_is_cancelled (cancellable))
        {
          answer = submit_give_up (self, entry, last_reason, error);
          break;
        }
      submit_wait (self, entry, deadline, cancellable);
    }
  claim (self, entry->id, FALSE);
  return answer;
}

/* One request sent at once, never kept in the outbox. */
static CtAnswer *
send_direct (CtSync      *self,
             const char  *method,
             const char  *path,
             const char  *idempotency_key,
             GBytes      *body,
             GError     **error)
{
  PooledHttp *p;
  CtHttpResult result = { 0 };
  g_autoptr(GError) local = NULL;
  CtAnswer *ans;

  p = take_http (self, error);
  if (p == NULL)
    return NULL;
  if (!ct_http_request (p->http, method, path, idempotency_key, body, &result, &local))
    {
      give_back_http (self, p);
      if (g_error_matches (local, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS))
        g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_TLS, local->message);
      else if (g_error_matches (local, CT_HTTP_ERROR, CT_HTTP_ERROR_TOO_LARGE))
        g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER, local->message);
      else
        {
          emit (self, CT_SYNC_EVENT_OFFLINE, NULL);
          g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE,
                               local->message);
        }
      return NULL;
    }
  give_back_http (self, p);
  emit (self, CT_SYNC_EVENT_ONLINE, NULL);
  ans = g_new0 (CtAnswer, 1);
  ans->status = result.status;
  ans->body = g_steal_pointer (&result.body);
  ans->replayed = result.replayed;
  return ans;
}

CtAnswer *
ct_sync_get (CtSync      *self,
             const char  *path,
             GError     **error)
{
  return send_direct (self, "GET", path, NULL, NULL, error);
}

CtAnswer *
ct_sync_post_direct (CtSync      *self,
                     const char  *path,
                     GBytes      *body,
                     GError     **error)
{
  g_autofree char *key = ct_sync_new_key ();
  CtAnswer *ans = send_direct (self, "POST", path, key, body, error);

  if (ans != NULL)
    ans->idempotency_key = g_steal_pointer (&key);
  return ans;
}
