/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service"
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "ct-card-number.h"
#include "ct-service-auth.h"
#include "ct-service-cert.h"
#include "ct-service.h"
#include "ct-strict-json.h"
#include "ct-till-cache.h"
#include "ct-wallet-outbox.h"
#include "ct-wallet-worker.h"

/* The HTTP side of the service: libmicrohttpd with its own thread pool for
 * the connections, and committer threads that apply the writes.
 *
 * A write is checked and parsed in a worker thread, then handed to a
 * committer while its connection is suspended; the connection is resumed
 * with its answer only once the write is committed, so an answer is never
 * sent for a write that is not on disk. How the committers commit follows
 * the store (ct_store_batches_writes()):
 *
 *  - SQLite has one writer. One committer takes every write waiting at that
 *    moment, runs each in its own savepoint inside one transaction and
 *    commits once: one fsync for the whole group.
 *  - PostgreSQL: a few committers, each on a connection of its own, each
 *    taking every write waiting at that moment into one transaction (in
 *    card-number order, so that two groups lock cards in one order), with
 *    each key claimed in the database. A group that does not stand (a
 *    refusal after a write, a deadlock, a failed commit) runs again as
 *    writes alone, a transaction each, and a transaction alone that loses
 *    a deadlock or a serialization race is run again, so a till never
 *    sees one as a 500. */

G_DEFINE_QUARK (ct-service-error-quark, ct_service_error)

#define BATCH_MAX 512
/* PostgreSQL: the writes of one transaction at most. A group holds every
 * card it locked until its commit. */
#define GROUP_MAX 32
#define EXPIRE_EVERY_MS (10 * 60 * 1000)
#define RETRY_MAX 30

typedef struct
{
  int64_t tokens;   /* millionths of a request */
  int64_t last_us;
} Bucket;

struct _CtService
{
  CtServiceOptions   opts;
  CtStore           *store;
  CtStore           *wallet_store; /* every merchant's connectors, for the delivery worker */
  struct MHD_Daemon *daemon;
  char              *cert_pem;
  char              *key_pem;
  char              *url;
  GPtrArray         *committers;
  CtWalletWorker    *wallet;
  GAsyncQueue       *jobs;
  CtTillCache       *tills;   /* NULL unless the store batches writes and tracks tills */
  gint               active;
  gint               stopping;
  gint               large_bodies;
  gint               writes_waiting; /* handed to a committer, not yet answered */
  GMutex             rate_lock;
  GHashTable        *rate;
  GMutex             stats_lock;
  int64_t            last_expire;
  guint64            n_writes;
  guint64            n_commits;
};

static CtCall stop_marker;

CtStore *
ct_service_get_store (CtService *svc)
{
  return svc->store;
}

const char *
ct_service_get_url (CtService *svc)
{
  return svc->url;
}

/* Calls */

static CtCall *
call_new (CtService  *svc,
          const char *method,
          const char *path)
{
  CtCall *call = g_new0 (CtCall, 1);

  call->service = svc;
  call->method = g_strdup (method);
  call->path = g_strdup (path);
  g_atomic_int_inc (&svc->active);
  return call;
}

static void
call_free (CtCall *call)
{
  if (call->claimed)
    ct_store_unclaim_key (call->service->store, call->till.id, call->idem_key);
  g_clear_pointer (&call->store, ct_store_free);
  if (call->large_body)
    g_atomic_int_add (&call->service->large_bodies, -1);
  g_atomic_int_add (&call->service->active, -1);
  g_free (call->method);
  g_free (call->path);
  g_free (call->args[0]);
  g_free (call->args[1]);
  g_clear_pointer (&call->query, g_hash_table_destroy);
  g_free (call->accept_language);
  g_free (call->base_url);
  if (call->body)
    g_string_free (call->body, TRUE);
  g_clear_pointer (&call->json, json_object_put);
  ct_store_till_clear (&call->till);
  g_free (call->idem_key);
  g_free (call->manager_id);
  g_free (call->manager_pin);
  g_free (call->guard_id);
  g_free (call->manager_hash_checked);
  g_free (call->member_pin);
  g_free (call->member_pin_hash);
  g_free (call->member_pin_card);
  g_free (call->card_no);
  if (call->data_free)
    call->data_free (call->data);
  ct_reply_free (call->reply);
  ct_reply_free (call->parse_reply);
  g_free (call);
}

static enum MHD_Result
respond (CtService             *svc,
         struct MHD_Connection *conn,
         CtCall                *call,
         CtReply               *reply)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;

  resp = MHD_create_response_from_buffer (strlen (reply->body), reply->body, MHD_RESPMEM_MUST_COPY);
  if (resp == NULL)
    return MHD_NO;
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                           reply->content_type != NULL ? reply->content_type : "application/json");
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (reply->csp != NULL)
    {
      /* A member's page: nothing from elsewhere, never framed, no sniffing,
       * and its secret link never leaks in a Referer. */
      MHD_add_response_header (resp, "Content-Security-Policy", reply->csp);
      MHD_add_response_header (resp, "X-Content-Type-Options", "nosniff");
      MHD_add_response_header (resp, "Referrer-Policy", "no-referrer");
      MHD_add_response_header (resp, "X-Frame-Options", "DENY");
    }
  if (reply->replayed)
    MHD_add_response_header (resp, "Idempotent-Replayed", "true");
  if (reply->retry_after > 0)
    {
      char buf[16];
      g_snprintf (buf, sizeof buf, "%u", reply->retry_after);
      MHD_add_response_header (resp, MHD_HTTP_HEADER_RETRY_AFTER, buf);
    }
  if (g_atomic_int_get (&svc->stopping))
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CONNECTION, "close");
  /* A large body's slot is given back before its answer can reach the
   * client: given back when the connection's request completed, the slot
   * was sometimes still held when the client, answered, sent its next
   * import chunk, which a 429 then stopped (two chunks are out at once). */
  if (call != NULL && call->large_body)
    {
      if (call->body != NULL && call->body->allocated_len > CT_SERVICE_BODY_MAX)
        {
          g_string_free (call->body, TRUE);
          call->body = g_string_new (NULL);
        }
      call->large_body = FALSE;
      g_atomic_int_add (&svc->large_bodies, -1);
    }
  ret = MHD_queue_response (conn, reply->status, resp);
  MHD_destroy_response (resp);
  if (call != NULL)
    {
      call->queued = FALSE;
      if (call->reply != reply)
        {
          ct_reply_free (call->reply);
          call->reply = reply;
        }
    }
  return ret;
}

/* Checks that run before the body is read */

static CtReply *
too_large (CtCall *call)
{
  if (call->body_max > CT_SERVICE_BODY_MAX)
    return ct_reply_error (413, "payload_too_large", "An import body is at most 8 MiB; send fewer rows at a time");
  return ct_reply_error (413, "payload_too_large", "A request body is at most 64 KiB");
}

static gboolean
key_valid (const char *key)
{
  gsize n = strlen (key);

  if (n < 1 || n > 255)
    return FALSE;
  for (const char *p = key; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == ':' || *p == '-'))
      return FALSE;
  return TRUE;
}

/* Percent-decoding of the path and the query arguments. A control byte
 * (%00 to %1F, %7F) decodes to 0xFF instead, never valid in UTF-8, so the
 * request is refused whole (path_valid(), the readers' UTF-8 checks) rather
 * than cut short at a NUL: "/v1/cards/NO%00/freeze" must not act on
 * "/v1/cards/NO". */
static size_t
unescape_cb (void                  *cls,
             struct MHD_Connection *conn,
             char                  *s)
{
  char *out = s;

  for (const char *p = s; *p != '\0'; p++)
    {
      if (p[0] == '%' && g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
        {
          int v = g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2]);

          *out++ = (v < 0x20 || v == 0x7f) ? (char) 0xff : (char) v;
          p += 2;
        }
      else
        *out++ = *p;
    }
  *out = '\0';
  return (size_t) (out - s);
}

static gboolean
path_valid (const char *path)
{
  for (const char *p = path; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return g_utf8_validate (path, -1, NULL);
}

static gboolean
rate_allow (CtService *svc,
            int64_t    till_id)
{
  int64_t now = g_get_monotonic_time ();
  int64_t cap = (int64_t) svc->opts.rate_limit * 1000000;
  Bucket *b;
  gboolean ok;

  g_mutex_lock (&svc->rate_lock);
  b = g_hash_table_lookup (svc->rate, &till_id);
  if (b == NULL)
    {
      int64_t *key = g_new (int64_t, 1);

      *key = till_id;
      b = g_new0 (Bucket, 1);
      b->tokens = cap;
      b->last_us = now;
      g_hash_table_insert (svc->rate, key, b);
    }
  /* A bucket is full after a second; capping the idle time keeps the
   * product far from overflowing. */
  b->tokens = MIN (cap, b->tokens + MIN (now - b->last_us, G_USEC_PER_SEC) * (int64_t) svc->opts.rate_limit);
  b->last_us = now;
  ok = b->tokens >= 1000000;
  if (ok)
    b->tokens -= 1000000;
  g_mutex_unlock (&svc->rate_lock);
  return ok;
}

static gboolean
large_body_take (CtService *svc)
{
  int n;

  do
    {
      n = g_atomic_int_get (&svc->large_bodies);
      if (n >= CT_SERVICE_LARGE_BODIES_AT_ONCE)
        return FALSE;
    }
  while (!g_atomic_int_compare_and_exchange (&svc->large_bodies, n, n + 1));
  return TRUE;
}

/* The body limit is the route's (64 KiB, 8 MiB for imports), decided from
 * Content-Length before any of the body is read. A client waiting for
 * "100 Continue" gets the refusal before it sends the body. One already
 * sending it has the body read and dropped first, unkept, up to a bound, so
 * that it is not cut off mid-send and can read the answer; far over the
 * limit, the answer goes out at once and the connection is closed. A
 * chunked body has no length; it is dropped from the point where it passes
 * the limit. Bodies over 64 KiB take one of a few slots, so parallel
 * imports cannot take the memory of the service. */
static CtReply *
check_body_size (CtService             *svc,
                 struct MHD_Connection *conn,
                 CtCall                *call)
{
  const char *length = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  const char *chunked = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  guint64 n = 0;

  call->body_max = call->route != NULL && call->route->body_max > 0 ? call->route->body_max : CT_SERVICE_BODY_MAX;
  if (length != NULL && !g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &n, NULL))
    n = G_MAXUINT64;
  if (n > call->body_max)
    {
      const char *expect = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

      if ((expect != NULL && g_ascii_strcasecmp (expect, "100-continue") == 0)
          || n - call->body_max > CT_SERVICE_BODY_DROP_MAX)
        return too_large (call);
      call->too_large = TRUE;
      return NULL;
    }
  if (call->body_max > CT_SERVICE_BODY_MAX && (n > CT_SERVICE_BODY_MAX || (length == NULL && chunked != NULL)))
    {
      if (!large_body_take (svc))
        {
          CtReply *r = ct_reply_error (429, "rate_limited",
                                       "The service is receiving other imports; send this one again in a moment");
          r->retry_after = 1;
          return r;
        }
      call->large_body = TRUE;
    }
  return NULL;
}

/* A Host header is a name or an address and a port; anything else is not
 * put into a link. */
static gboolean
host_valid (const char *host)
{
  gsize n = strlen (host);

  if (n == 0 || n > 255)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    if (!(g_ascii_isalnum (*p) || strchr (".-:[]", *p) != NULL))
      return FALSE;
  return TRUE;
}

/* The till behind @token. A write on a store with one writer may take it
 * from the till cache: the committer checks it again inside the write's
 * transaction when the store's tills changed since it was cached
 * (till_still_valid()). Reads always ask the store. */
static gboolean
find_till (CtService   *svc,
           CtCall      *call,
           const char  *token,
           GError     **error)
{
  gboolean cacheable = svc->tills != NULL && call->route != NULL && call->route->apply != NULL;
  guint64 epoch = 0;

  if (cacheable)
    {
      if (ct_till_cache_lookup (svc->tills, token, &call->till, call->till_hash, &call->till_epoch))
        {
          call->till_cached = TRUE;
          return TRUE;
        }
      /* Before the read: a change the read misses moves the epoch on. */
      epoch = ct_till_cache_epoch (svc->tills);
    }
  ct_auth_token_hash (token, call->till_hash);
  if (!ct_store_till_by_token (svc->store, call->till_hash, &call->till, error))
    return FALSE;
  if (cacheable && !call->till.revoked)
    ct_till_cache_add (svc->tills, epoch, token, &call->till, call->till_hash);
  return TRUE;
}

static CtReply *
check_headers (CtService             *svc,
               struct MHD_Connection *conn,
               CtCall                *call)
{
  const char *auth, *key;
  gboolean known = FALSE;
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  call->route = ct_service_route (call->method, call->path, call->args, &known);
  {
    const char *language = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                        MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    const char *host = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

    call->accept_language = g_strdup (language);
    if (svc->opts.public_url != NULL)
      call->base_url = g_strdup (svc->opts.public_url);
    else if (host != NULL && host_valid (host))
      call->base_url = g_strconcat (svc->opts.insecure_http ? "http://" : "https://", host, NULL);
    else
      call->base_url = g_strdup (svc->url);
  }
  if (call->route != NULL && call->route->public)
    return NULL;

  auth = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return ct_reply_error (401, "unauthorized", "Send the till's token as \"Authorization: Bearer TOKEN\"");
  {
    const char *token = auth + 7;

    while (*token == ' ')
      token++;
    if (!find_till (svc, call, token, &error))
      {
        if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
          g_warning ("token lookup: %s", error->message);
        return ct_reply_error (401, "unauthorized", "The till token is wrong or was replaced");
      }
    if (call->till.revoked)
      return ct_reply_error (401, "unauthorized", "Till %s/%s was revoked", call->till.store, call->till.name);
    /* From here on the request acts inside the till's merchant only. */
    call->store = ct_store_for_merchant (svc->store, call->till.merchant);
  }
  /* A till's keep-alive connection may now stay idle between its
   * requests; one that never showed a valid token keeps the short timeout. */
  MHD_set_connection_option (conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int) CT_SERVICE_IDLE_TIMEOUT);

  if (!path_valid (call->path))
    return ct_reply_error (400, "bad_request", "The path holds a control character (such as %%00) or bytes "
                           "that are not UTF-8");

  if (svc->opts.rate_limit > 0 && !rate_allow (svc, call->till.id))
    {
      CtReply *r = ct_reply_error (429, "rate_limited", "Too many requests from this till; slow down");
      r->retry_after = 1;
      return r;
    }

  key = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Idempotency-Key");
  if (g_str_equal (call->method, "POST") && key == NULL)
    return ct_reply_error (400, "idempotency_key_missing", "Every POST needs an Idempotency-Key header");
  if (key != NULL && (call->route == NULL || call->route->apply != NULL))
    {
      if (!key_valid (key))
        return ct_reply_error (400, "idempotency_key_missing",
                               "The Idempotency-Key must be 1 to 255 of A-Z a-z 0-9 _ . : -");
      call->idem_key = g_strdup (key);
    }

  if ((reply = check_body_size (svc, conn, call)) != NULL || call->too_large)
    return reply;

  if (call->route == NULL)
    {
      if (known)
        return ct_reply_error (404, "not_found", "%s is not allowed on %s", call->method, call->path);
      return ct_reply_error (404, "not_found", "There is no %s", call->path);
    }
  return NULL;
}

static enum MHD_Result
collect_query (void                *cls,
               enum MHD_ValueKind   kind,
               const char          *key,
               const char          *value)
{
  GHashTable *table = cls;

  if (key != NULL && !g_hash_table_contains (table, key))
    g_hash_table_insert (table, g_strdup (key), g_strdup (value ? value : ""));
  return MHD_YES;
}

/* The members whose values are PINs: a manager's ("manager": {"pin"}), a
 * cashier's ("pin") and a member's ("member_pin"), wherever they stand. */
static const char * const pin_members[] = { "pin", "member_pin", NULL };

/* Whether the member's PIN is what the request stores (a card issue, a new
 * member PIN) rather than the member's consent to it. */
static gboolean
stores_member_pin (const CtCall *call)
{
  return call->route->action != NULL
         && (g_str_equal (call->route->action, "issue") || g_str_equal (call->route->action, "member_pin"));
}

/* The request's identity for its Idempotency-Key: the SHA-256 of the
 * method, the path and the body's bytes, each PIN's value left out (a NUL
 * byte in its place, which no JSON text holds). A stored identity so never
 * derives from a PIN quickly (a hash of a body with a short PIN in it would
 * give the PIN away to whoever reads the table), and a retry whose PIN was
 * typed again is the same request. A PIN the request stores (the member's
 * new PIN) is part of what it asks, so its slow hash, salted with the rest
 * of the identity, goes in: a retry under the key with another new PIN is
 * another request (422), and the identity is as slow to guess the PIN from
 * as the PIN's stored hash. A body without a PIN hashes as its raw bytes. */
static void
compute_identity (CtCall *call)
{
  /* GnuTLS's SHA-256 (the processor's SHA instructions where it has them)
   * instead of GLib's: 8,300 instructions of every write. */
  gnutls_hash_hd_t sum;
  g_autoptr(GArray) pins = NULL;
  gsize len = 32;

  if (gnutls_hash_init (&sum, GNUTLS_DIG_SHA256) < 0)
    g_error ("SHA-256 is not available");
  gnutls_hash (sum, call->method, strlen (call->method));
  gnutls_hash (sum, "\n", 1);
  gnutls_hash (sum, call->path, strlen (call->path));
  gnutls_hash (sum, "\n", 1);
  if (call->body != NULL)
    {
      gsize at = 0;

      pins = ct_strict_json_find_members (call->body->str, call->body->len, pin_members);
      for (guint i = 0; i < pins->len; i++)
        {
          const CtJsonSpan *pin = &g_array_index (pins, CtJsonSpan, i);

          gnutls_hash (sum, call->body->str + at, pin->start - at);
          gnutls_hash (sum, "", 1);
          at = pin->end;
        }
      gnutls_hash (sum, call->body->str + at, call->body->len - at);
    }
  gnutls_hash_deinit (sum, call->identity);
  if (pins == NULL || pins->len == 0 || !stores_member_pin (call))
    return;

  {
    static const char * const member_pin[] = { "member_pin", NULL };
    g_autoptr(GArray) new_pins = ct_strict_json_find_members (call->body->str, call->body->len, member_pin);
    g_autoptr(GChecksum) outer = g_checksum_new (G_CHECKSUM_SHA256);

    if (new_pins->len == 0)
      return;
    g_checksum_update (outer, call->identity, 32);
    for (guint i = 0; i < new_pins->len; i++)
      {
        const CtJsonSpan *pin = &g_array_index (new_pins, CtJsonSpan, i);
        guint8 derived[32];

        ct_auth_pin_derive (call->body->str + pin->start, pin->end - pin->start, call->identity, 32, derived);
        g_checksum_update (outer, derived, sizeof derived);
      }
    len = 32;
    g_checksum_get_digest (outer, call->identity, &len);
  }
}

static CtReply *
internal_error (const char *what,
                GError     *error)
{
  g_warning ("%s: %s", what, error ? error->message : "failed");
  return ct_reply_error (500, "internal", "The service could not store the request; nothing was changed");
}

/* The answer to a transaction whose commit failed: nothing of it was
 * stored. A balance floor the database enforces (a write deferred to the
 * commit that would take a card or the pool below zero) is answered as
 * the refusal found before the write would be: the card's
 * insufficient_balance, or the merchant pool's insufficient_pool (an
 * increase or a refund drawn on the pool). Anything else is the service's
 * failure. All are logged with their cause. */
static CtReply *
commit_failed (GError *error)
{
  if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT_POOL))
    {
      g_warning ("commit refused by the pool's floor, nothing was changed: %s", error->message);
      return ct_reply_error (409, "insufficient_pool",
                             "The merchant's card account holds too little for this; nothing was changed");
    }
  if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT))
    {
      g_warning ("commit refused by a card's floor, nothing was changed: %s", error->message);
      return ct_reply_error (409, "insufficient_balance",
                             "The card does not hold enough for this; nothing was changed");
    }
  return internal_error ("commit", error);
}

static CtReply *
in_progress_reply (void)
{
  return ct_reply_error (409, "request_in_progress",
                         "A request with this Idempotency-Key is still running; retry shortly");
}

static enum MHD_Result
access_cb (void                  *cls,
           struct MHD_Connection *conn,
           const char            *url,
           const char            *method,
           const char            *version,
           const char            *upload_data,
           size_t                *upload_data_size,
           void                 **con_cls)
{
  CtService *svc = cls;
  CtCall *call = *con_cls;
  CtReply *reply;

  if (call == NULL)
    {
      call = call_new (svc, method, url);
      *con_cls = call;
      call->body = g_string_new (NULL);
      reply = check_headers (svc, conn, call);
      if (reply != NULL)
        {
          call->too_large = TRUE; /* ignore any body that still arrives */
          return respond (svc, conn, call, reply);
        }
      return MHD_YES;
    }

  if (call->queued)
    {
      /* Resumed by the committer: the answer is ready and on disk. Resumed
       * by the daemon's own shutdown instead, there is no answer: the write
       * was never applied, and closing tells the client so. */
      g_atomic_int_add (&svc->writes_waiting, -1);
      if (call->reply == NULL)
        {
          call->queued = FALSE;
          return MHD_NO;
        }
      return respond (svc, conn, call, call->reply);
    }

  if (*upload_data_size > 0)
    {
      if (!call->too_large)
        {
          if (call->body->len + *upload_data_size > call->body_max)
            {
              call->too_large = TRUE;
              g_string_truncate (call->body, 0);
            }
          else
            g_string_append_len (call->body, upload_data, *upload_data_size);
        }
      *upload_data_size = 0;
      return MHD_YES;
    }

  if (call->reply != NULL)
    return MHD_YES; /* answered before the body */
  if (call->too_large)
    return respond (svc, conn, call, too_large (call));

  if (call->route->read != NULL)
    {
      call->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      MHD_get_connection_values (conn, MHD_GET_ARGUMENT_KIND, collect_query, call->query);
      return respond (svc, conn, call, call->route->read (svc, call));
    }

  /* A write: parse here, apply in the committer. */
  compute_identity (call);
  call->parse_reply = call->route->parse (svc, call);
  if (call->parse_reply == NULL)
    {
      ct_service_manager_verify (call->store, call);
      ct_service_member_pin_prepare (call->store, call);
    }
  /* A store that batches writes keeps claims beside its one writer and
   * takes them here; any other takes them in the request's transaction. */
  if (call->idem_key != NULL && ct_store_batches_writes (svc->store))
    {
      g_autoptr(GError) error = NULL;

      if (!ct_store_claim_key (svc->store, call->till.id, call->idem_key, &error))
        {
          if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS))
            return respond (svc, conn, call, in_progress_reply ());
          return respond (svc, conn, call, internal_error ("idempotency claim", error));
        }
      call->claimed = TRUE;
    }
  call->connection = conn;
  call->queued = TRUE;
  g_atomic_int_inc (&svc->writes_waiting);
  MHD_suspend_connection (conn);
  g_async_queue_push (svc->jobs, call);
  return MHD_YES;
}

static void
completed_cb (void                            *cls,
              struct MHD_Connection           *conn,
              void                           **con_cls,
              enum MHD_RequestTerminationCode  toe)
{
  CtCall *call = *con_cls;

  if (call != NULL)
    call_free (call);
  *con_cls = NULL;
}

/* The committer */

/* Replays or applies @call and stores its answer in @call->reply. Guarded,
 * the request runs inside a savepoint that a refusal rolls back. Not
 * guarded, it runs without one and FALSE means the transaction must be
 * rolled back and run again guarded: the request was refused after it had
 * written something, or the store failed. */
static gboolean
run_one (CtService             *svc,
         const CtStoreMerchant *merchant,
         CtCall                *call,
         gboolean               guarded)
{
  CtStore *store = call->store;
  g_autoptr(GError) error = NULL;
  CtReply *reply;
  gint64 writes = 0;

  if (guarded && !ct_store_savepoint (store, &error))
    {
      ct_reply_free (call->reply);
      call->reply = internal_error ("savepoint", error);
      return TRUE;
    }
  if (!guarded)
    writes = ct_store_write_count (store);

  if (call->idem_key != NULL)
    {
      CtStoreKeyState state;
      guint8 hash[32];
      guint status = 0;
      g_autofree char *body = NULL;

      if (!ct_store_key_get (store, call->till.id, call->idem_key, &state, hash, &status, &body, &error))
        {
          if (!guarded)
            return FALSE;
          ct_store_rollback_savepoint (store);
          ct_store_release_savepoint (store, NULL);
          ct_reply_free (call->reply);
          call->reply = internal_error ("idempotency", error);
          return TRUE;
        }
      if (state == CT_STORE_KEY_DONE)
        {
          ct_reply_free (call->reply);
          if (memcmp (hash, call->identity, 32) == 0)
            {
              call->reply = g_new0 (CtReply, 1);
              call->reply->status = status;
              call->reply->body = g_steal_pointer (&body);
              call->reply->replayed = TRUE;
            }
          else
            call->reply = ct_reply_error (422, "idempotency_key_reused",
                                          "This Idempotency-Key was used for a different request; "
                                          "a new intent needs a new key");
          if (guarded)
            ct_store_release_savepoint (store, NULL);
          return TRUE;
        }
    }

  /* A copy: a request that is run again needs its refusal again. */
  if (call->parse_reply != NULL)
    reply = ct_reply_copy (call->parse_reply);
  else
    reply = call->route->apply (svc, store, merchant, call);
  if (!ct_reply_is_success (reply))
    {
      if (!guarded && (reply->status >= 500 || ct_store_write_count (store) != writes))
        {
          ct_reply_free (reply);
          return FALSE;
        }
      if (guarded)
        ct_store_rollback_savepoint (store);
    }
  if (reply->status < 500)
    {
      ct_service_manager_record (store, call, reply);
      ct_service_member_pin_record (store, call);
      if (call->idem_key != NULL && ct_reply_is_stored (reply)
          && !ct_store_key_put (store, call->till.id, call->idem_key, call->identity,
                                reply->status, reply->body, &error))
        {
          ct_reply_free (reply);
          if (!guarded)
            return FALSE;
          ct_store_rollback_savepoint (store);
          reply = internal_error ("idempotency", error);
        }
    }
  if (guarded)
    ct_store_release_savepoint (store, NULL);
  ct_reply_free (call->reply);
  call->reply = reply;
  return TRUE;
}

/* Whether it is time to drop the idempotency records past their
 * retention; TRUE for one caller every EXPIRE_EVERY_MS. */
static gboolean
expire_due (CtService *svc)
{
  int64_t now = ct_store_now_ms ();
  gboolean due;

  g_mutex_lock (&svc->stats_lock);
  due = now - svc->last_expire > EXPIRE_EVERY_MS;
  if (due)
    svc->last_expire = now;
  g_mutex_unlock (&svc->stats_lock);
  return due;
}

static void
expire_keys (CtStore *store)
{
  int64_t now = ct_store_now_ms ();

  ct_store_key_expire (store, now - (int64_t) CT_SERVICE_KEY_RETENTION_DAYS * 86400 * 1000, NULL);
}

static void
count_commit (CtService *svc,
              guint      n_writes)
{
  g_mutex_lock (&svc->stats_lock);
  svc->n_writes += n_writes;
  svc->n_commits++;
  g_mutex_unlock (&svc->stats_lock);
}

/* Whether the till a write took from the till cache may still write. The
 * group's transaction has read the tills version (apply_group()); when it
 * moved since the till was cached, the till is read again here, inside the
 * transaction, so a till revoked or given a new token (by any process)
 * before this write writes nothing, and its token leaves the cache so that
 * its next request is refused before anything else is checked. FALSE with
 * the answer set. */
static gboolean
till_check_again (CtService *svc,
                  CtCall    *call)
{
  g_auto(CtStoreTill) now = { 0 };
  g_autoptr(GError) error = NULL;

  ct_reply_free (call->reply);
  if (!ct_store_till_by_token (svc->store, call->till_hash, &now, &error))
    {
      if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        {
          call->reply = internal_error ("token lookup", error);
          return FALSE;
        }
      ct_till_cache_forget (svc->tills, call->till_hash);
      call->reply = ct_reply_error (401, "unauthorized", "The till token is wrong or was replaced");
      return FALSE;
    }
  if (now.revoked || now.id != call->till.id)
    {
      ct_till_cache_forget (svc->tills, call->till_hash);
      call->reply = ct_reply_error (401, "unauthorized", "Till %s/%s was revoked", now.store, now.name);
      return FALSE;
    }
  call->reply = NULL;
  return TRUE;
}

static gboolean
till_still_valid (CtService *svc,
                  CtCall    *call)
{
  if (!call->till_cached || call->till_epoch == ct_till_cache_epoch (svc->tills))
    return TRUE;
  return till_check_again (svc, call);
}

/* Runs @call with the settings of its merchant, read once per group for
 * each merchant in it (@settings: merchant number -> CtStoreMerchant);
 * FALSE as run_one(). */
static gboolean
run_in_group (CtService  *svc,
              GHashTable *settings,
              CtCall     *call,
              gboolean    guarded)
{
  int64_t merchant = ct_store_get_merchant_id (call->store);
  CtStoreMerchant *m = g_hash_table_lookup (settings, &merchant);
  g_autoptr(GError) error = NULL;

  if (!till_still_valid (svc, call))
    return TRUE;
  if (m == NULL)
    {
      int64_t *key = g_new (int64_t, 1);

      *key = merchant;
      m = g_new0 (CtStoreMerchant, 1);
      if (!ct_store_get_merchant (call->store, m, &error))
        {
          g_free (m);
          g_free (key);
          ct_reply_free (call->reply);
          call->reply = internal_error ("merchant", error);
          return TRUE;
        }
      g_hash_table_insert (settings, key, m);
    }
  return run_one (svc, m, call, guarded);
}

static void
merchant_settings_free (gpointer m)
{
  ct_store_merchant_clear (m);
  g_free (m);
}

/* One transaction for the whole group. FALSE with @out_again set when a
 * request without a savepoint needs the group run again guarded. */
static gboolean
apply_group (CtService  *svc,
             GPtrArray  *batch,
             gboolean    guarded,
             gboolean   *out_again,
             GError    **error)
{
  CtStore *store = svc->store;
  g_autoptr(GHashTable) settings = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                          merchant_settings_free);

  *out_again = FALSE;
  if (!ct_store_begin (store, error))
    return FALSE;
  if (svc->tills != NULL)
    {
      guint64 version;

      if (!ct_store_tills_version (store, &version, error))
        {
          ct_store_rollback (store);
          return FALSE;
        }
      ct_till_cache_sync (svc->tills, version);
    }
  if (expire_due (svc))
    expire_keys (store);
  for (guint i = 0; i < batch->len; i++)
    if (!run_in_group (svc, settings, batch->pdata[i], guarded))
      {
        ct_store_rollback (store);
        *out_again = TRUE;
        return FALSE;
      }
  return ct_store_commit (store, error);
}

/* Forgets what an earlier attempt of @call answered or recorded. */
static void
call_reset (CtCall *call)
{
  g_clear_pointer (&call->reply, ct_reply_free);
  call->manager_outcome = CT_MANAGER_OUTCOME_NONE;
  call->member_pin_outcome = CT_MANAGER_OUTCOME_NONE;
  call->now_ms = ct_store_now_ms ();
}

/* A savepoint per request copies every page the request changes into the
 * sub-journal, and releasing it frees the copies: a tenth of a write's
 * instructions. Where the store counts the rows it changed, a group runs
 * without them, and again with them only when a refusal had written. */
static void
run_batch (CtService *svc,
           GPtrArray *batch)
{
  CtStore *store = svc->store;
  g_autoptr(GError) error = NULL;
  gboolean again;
  gboolean ok;

  ok = apply_group (svc, batch, ct_store_write_count (store) < 0, &again, &error);
  if (again)
    {
      for (guint i = 0; i < batch->len; i++)
        call_reset (batch->pdata[i]);
      ok = apply_group (svc, batch, TRUE, &again, &error);
    }
  if (ok)
    {
      count_commit (svc, batch->len);
      /* Wallet messages written with this group may go now. */
      ct_wallet_worker_wake (svc->wallet);
    }

  for (guint i = 0; i < batch->len; i++)
    {
      CtCall *call = batch->pdata[i];

      if (!ok)
        {
          ct_reply_free (call->reply);
          call->reply = commit_failed (error);
        }
      /* Only now, with the group on disk, may the key be claimed again and
       * the answer go out. */
      if (call->claimed)
        {
          ct_store_unclaim_key (store, call->till.id, call->idem_key);
          call->claimed = FALSE;
        }
      MHD_resume_connection (call->connection);
    }
}

/* The card a write's path names (/v1/cards/{no} and below it), in the
 * form the store keeps it (upper case, without spaces, ASCII for
 * full-width), or NULL. The issuer prefix, in the merchant's settings
 * the claim has not read yet, only decides whether a check digit is
 * checked, not the form; a number that is refused later was named for
 * nothing. */
static char *
path_card_no (CtCall *call)
{
  if (call->parse_reply != NULL
      || (!g_str_has_prefix (call->route->pattern, "/v1/cards/*/")
          && !g_str_equal (call->route->pattern, "/v1/cards/*")))
    return NULL;
  return ct_card_number_normalize (call->args[0], NULL, NULL, NULL);
}

/* Names what a write in a transaction reads after its claim, so that the
 * store reads it in the claim's round trip: the till again when it came
 * from the cache, the path's card, and the shift open on the till when
 * the money was taken. */
static void
read_ahead (CtCall *call)
{
  CtStoreAhead ahead = { 0 };
  /* A change of the card itself (PATCH) reads it as before, at its own
   * statement. */
  g_autofree char *card_no = g_str_has_prefix (call->route->pattern, "/v1/cards/*/") ? path_card_no (call) : NULL;

  if (call->till_cached)
    ahead.till_hash = call->till_hash;
  if (card_no != NULL)
    {
      ahead.card_no = card_no;
      ahead.shift_store = call->till.store;
      ahead.shift_till = call->till.name;
      ahead.shift_at = call->taken_at != 0 ? call->taken_at : call->now_ms;
    }
  ct_store_read_ahead (call->store, &ahead);
}

/* Claims @call's key and reads its merchant's settings, in one round
 * trip with what read_ahead() named. */
static gboolean
claim (CtCall           *call,
       CtStoreMerchant  *merchant,
       GError          **error)
{
  read_ahead (call);
  /* Claimed inside the till's merchant: the claim reads that merchant's
   * settings in the same round trip. */
  return (call->idem_key == NULL || ct_store_claim_key (call->store, call->till.id, call->idem_key, error))
         && ct_store_get_merchant (call->store, merchant, error);
}

/* One request in a transaction of its own: claim its key, replay or apply
 * it, commit. A deadlock or serialization failure rolls all of it back and
 * runs it again after a short random pause. A till taken from the cache
 * is read again inside the transaction (in the claim's round trip), so a
 * revoked till writes nothing. */
static void
run_alone (CtService *svc,
           CtCall    *call)
{
  CtStore *store = svc->store;

  for (guint attempt = 0;; attempt++)
    {
      g_auto(CtStoreMerchant) merchant = { 0 };
      g_autoptr(GError) error = NULL;
      gboolean ok;

      call_reset (call);
      ok = ct_store_begin (store, &error);
      if (ok)
        {
          ok = claim (call, &merchant, &error);
          if (ok)
            {
              if (!call->till_cached || till_check_again (svc, call))
                run_one (svc, &merchant, call, TRUE);
              ok = ct_store_commit (store, &error);
            }
          else
            ct_store_rollback (store);
        }
      if (ok)
        {
          count_commit (svc, 1);
          ct_wallet_worker_wake (svc->wallet);
          break;
        }
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_RETRY) && attempt < RETRY_MAX)
        {
          g_usleep (g_random_int_range (1000, 5000) * (attempt < 5 ? attempt + 1 : 5));
          continue;
        }
      g_clear_pointer (&call->reply, ct_reply_free);
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS))
        call->reply = in_progress_reply ();
      else
        call->reply = commit_failed (error);
      break;
    }
  MHD_resume_connection (call->connection);
}

/* Waits for a write, then takes every other one waiting at that moment
 * into @batch, up to @max. FALSE once the stop marker was taken: @batch
 * holds the writes before it. */
static gboolean
take_batch (CtService *svc,
            GPtrArray *batch,
            guint      max)
{
  CtCall *call = g_async_queue_pop (svc->jobs);

  g_ptr_array_set_size (batch, 0);
  if (call == &stop_marker)
    return FALSE;
  g_ptr_array_add (batch, call);
  while (batch->len < max && (call = g_async_queue_try_pop (svc->jobs)) != NULL)
    {
      if (call == &stop_marker)
        return FALSE;
      g_ptr_array_add (batch, call);
    }
  return TRUE;
}

static gpointer
committer_main (gpointer data)
{
  CtService *svc = data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();
  gboolean more = TRUE;

  while (more)
    {
      more = take_batch (svc, batch, BATCH_MAX);
      if (batch->len == 0)
        break;
      run_batch (svc, batch);
    }
  return NULL;
}

/* A write of a group, with the card its path names. */
typedef struct
{
  CtCall *call;
  char   *card_no;
  guint   order;
  gboolean failed; /* answered as a failed commit: not to be run again */
} Grouped;

/* Cards in card-number order (writes naming none first), then in the
 * order the writes came: two groups in two processes lock their cards in
 * one order, so they wait for each other instead of deadlocking. */
static gint
grouped_cmp (gconstpointer a,
             gconstpointer b)
{
  const Grouped *x = a, *y = b;
  int c = g_strcmp0 (x->card_no, y->card_no);

  if (c != 0)
    return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Runs the writes of @batch (sorted) in one transaction, without a
 * savepoint each: every claim with its reads in one round trip, the
 * writes that need no answer with the next claim, one commit. A key
 * claimed by another transaction answers 409 request_in_progress and
 * changes nothing. FALSE when the group must not stand: a request was
 * refused after it had written something, a statement failed (a
 * deadlock, a lock timeout) or the commit did; nothing of it was then
 * kept. */
static gboolean
apply_pg_group (CtService *svc,
                GArray    *batch)
{
  CtStore *store = svc->store;
  g_autoptr(GError) error = NULL;

  if (!ct_store_begin (store, &error))
    return FALSE;
  for (guint i = 0; i < batch->len; i++)
    {
      CtCall *call = g_array_index (batch, Grouped, i).call;
      g_auto(CtStoreMerchant) merchant = { 0 };
      gint64 writes = ct_store_write_count (store);

      call_reset (call);
      if (!claim (call, &merchant, &error))
        {
          /* A refused claim changed nothing; any other failure left the
           * transaction aborted. */
          if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS)
              || ct_store_write_count (store) != writes)
            {
              ct_store_rollback (store);
              return FALSE;
            }
          g_clear_error (&error);
          call->reply = in_progress_reply ();
          continue;
        }
      if (call->till_cached && !till_check_again (svc, call))
        {
          if (ct_store_write_count (store) != writes)
            {
              ct_store_rollback (store);
              return FALSE;
            }
          continue;
        }
      if (!run_one (svc, &merchant, call, FALSE))
        {
          ct_store_rollback (store);
          return FALSE;
        }
    }
  if (ct_store_commit (store, &error))
    return TRUE;
  /* A commit that failed on its way (a lost connection) may have been
   * applied: a write with a key finds its answer stored when it runs
   * again, one without a key is answered as a failed commit. */
  if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_RETRY)
      && !g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT)
      && !g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT_POOL))
    for (guint i = 0; i < batch->len; i++)
      {
        CtCall *call = g_array_index (batch, Grouped, i).call;

        if (call->idem_key == NULL)
          {
            ct_reply_free (call->reply);
            call->reply = commit_failed (error);
            g_array_index (batch, Grouped, i).failed = TRUE;
          }
      }
  return FALSE;
}

/* Runs @batch, writes that each lock the card their path names at most,
 * as one group in card-number order. */
static void
run_sorted_group (CtService *svc,
                  GArray    *batch)
{
  gboolean ok;

  g_array_sort (batch, grouped_cmp);
  ok = apply_pg_group (svc, batch);
  if (ok)
    {
      count_commit (svc, batch->len);
      ct_wallet_worker_wake (svc->wallet);
    }
  for (guint i = 0; i < batch->len; i++)
    {
      Grouped *g = &g_array_index (batch, Grouped, i);

      g_free (g->card_no);
      if (ok || g->failed)
        MHD_resume_connection (g->call->connection);
      else
        run_alone (svc, g->call);
    }
}

/* Whether @call locks more than the card its path names, so that it
 * cannot take its place in a group's card-number order: a refund and an
 * adjustment may debit the merchant's pool, which locks every slot of it
 * (ct_post_account()), and two groups each holding the slots or a card
 * the other waits for would deadlock; a replacement inserts a second
 * card, an import many; a write on a card that checks a manager's PIN
 * locks the manager's PIN guard row after the card (a change of the card,
 * a member link, a member PIN: two groups changing cards with one
 * manager's PIN, each holding a card the other wants next, would wait for
 * each other). Such a write runs alone, after the group. */
static gboolean
runs_alone (CtCall *call)
{
  static const char *const patterns[] = {
    "/v1/cards/*/refunds", "/v1/cards/*/adjustments", "/v1/cards/*/replace", "/v1/imports",
  };

  if (call->parse_reply != NULL)
    return FALSE;
  /* A card's issue takes the guard before any card, and keeps its place. */
  if (call->manager_state == CT_MANAGER_GIVEN && g_str_has_prefix (call->route->pattern, "/v1/cards/*"))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
    if (g_str_equal (call->route->pattern, patterns[i]))
      return TRUE;
  return FALSE;
}

/* A group of writes on PostgreSQL: one transaction for all of them, one
 * commit (one flush of the log, one BEGIN and COMMIT, one snapshot and
 * one look-up of each table instead of one per write). A group that does
 * not stand runs again as writes alone, each in a transaction of its own
 * with its deadlocks retried, so a till never sees the group's failure. */
static void
run_pg_group (CtService *svc,
              GPtrArray *calls)
{
  g_autoptr(GArray) batch = g_array_sized_new (FALSE, FALSE, sizeof (Grouped), calls->len);
  g_autoptr(GPtrArray) alone = g_ptr_array_new ();

  for (guint i = 0; i < calls->len; i++)
    {
      Grouped g = { calls->pdata[i], NULL, i, FALSE };

      if (runs_alone (g.call))
        {
          g_ptr_array_add (alone, g.call);
          continue;
        }
      g.card_no = path_card_no (g.call);
      g_array_append_val (batch, g);
    }
  if (batch->len == 1)
    {
      g_free (g_array_index (batch, Grouped, 0).card_no);
      run_alone (svc, g_array_index (batch, Grouped, 0).call);
      g_array_set_size (batch, 0);
    }
  if (batch->len > 0)
    run_sorted_group (svc, batch);
  for (guint i = 0; i < alone->len; i++)
    run_alone (svc, alone->pdata[i]);
}

/* PostgreSQL: each committer has a connection of its own and takes every
 * write waiting at that moment, up to GROUP_MAX, into one transaction. */
static gpointer
group_committer_main (gpointer data)
{
  CtService *svc = data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();
  gboolean more = TRUE;

  while (more)
    {
      more = take_batch (svc, batch, GROUP_MAX);
      if (batch->len == 0)
        break;
      if (expire_due (svc) && ct_store_begin (svc->store, NULL))
        {
          expire_keys (svc->store);
          ct_store_commit (svc->store, NULL);
        }
      run_pg_group (svc, batch);
    }
  return NULL;
}

/* Starts the committers; the stop marker ends one each. */
static void
committers_start (CtService *svc)
{
  svc->committers = g_ptr_array_new ();
  if (ct_store_batches_writes (svc->store))
    g_ptr_array_add (svc->committers, g_thread_new ("ct-committer", committer_main, svc));
  else
    for (guint i = 0; i < svc->opts.connections; i++)
      g_ptr_array_add (svc->committers, g_thread_new ("ct-committer", group_committer_main, svc));
}

static void
committers_join (CtService *svc)
{
  if (svc->committers == NULL)
    return;
  for (guint i = 0; i < svc->committers->len; i++)
    g_async_queue_push (svc->jobs, &stop_marker);
  for (guint i = 0; i < svc->committers->len; i++)
    g_thread_join (svc->committers->pdata[i]);
  g_clear_pointer (&svc->committers, g_ptr_array_unref);
}

/* Lifecycle */

static gboolean
parse_listen (const char               *listen,
              struct sockaddr_storage  *addr,
              socklen_t                *addr_len,
              gboolean                 *loopback,
              GError                  **error)
{
  g_autofree char *host = NULL;
  const char *colon;
  guint64 port;

  memset (addr, 0, sizeof *addr);
  if (listen == NULL || (colon = strrchr (listen, ':')) == NULL
      || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, CT_SERVICE_ERROR, CT_SERVICE_ERROR_ADDRESS,
                   "--listen takes ADDRESS:PORT, e.g. 127.0.0.1:8443");
      return FALSE;
    }
  host = g_strndup (listen, colon - listen);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  {
    struct sockaddr_in *a4 = (struct sockaddr_in *) addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) addr;

    if (inet_pton (AF_INET, host, &a4->sin_addr) == 1)
      {
        a4->sin_family = AF_INET;
        a4->sin_port = htons ((guint16) port);
        *addr_len = sizeof *a4;
        *loopback = (ntohl (a4->sin_addr.s_addr) >> 24) == 127;
        return TRUE;
      }
    if (inet_pton (AF_INET6, host, &a6->sin6_addr) == 1)
      {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons ((guint16) port);
        *addr_len = sizeof *a6;
        *loopback = IN6_IS_ADDR_LOOPBACK (&a6->sin6_addr);
        return TRUE;
      }
  }
  g_set_error (error, CT_SERVICE_ERROR, CT_SERVICE_ERROR_ADDRESS,
               "\"%s\" is not an IP address (the service binds to an address, not a name)", host);
  return FALSE;
}

CtService *
ct_service_new (const CtServiceOptions  *options,
                GError                 **error)
{
  CtService *svc = g_new0 (CtService, 1);
  /* Two workers per processor: a worker busy with a PIN's slow hash then
   * holds up fewer connections, and the benchmark's p99 was lower. */
  guint threads = options->threads ? options->threads : 2 * g_get_num_processors ();

  svc->opts = *options;
  svc->opts.db_path = g_strdup (options->db_path);
  svc->opts.listen = g_strdup (options->listen);
  svc->opts.cert_file = g_strdup (options->cert_file);
  svc->opts.public_url = g_strdup (options->public_url);
  svc->opts.key_file = g_strdup (options->key_file);
  svc->opts.threads = threads;
  if (svc->opts.max_connections == 0)
    svc->opts.max_connections = CT_SERVICE_CONNECTIONS_DEFAULT;
  if (svc->opts.per_address == 0)
    svc->opts.per_address = CT_SERVICE_PER_ADDRESS_DEFAULT;
  if (svc->opts.handshake_timeout == 0)
    svc->opts.handshake_timeout = CT_SERVICE_HANDSHAKE_TIMEOUT_DEFAULT;
  svc->jobs = g_async_queue_new ();
  g_mutex_init (&svc->rate_lock);
  g_mutex_init (&svc->stats_lock);
  svc->rate = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);

  if (!svc->opts.insecure_http)
    {
      if (svc->opts.cert_file == NULL || svc->opts.key_file == NULL)
        {
          g_set_error (error, CT_SERVICE_ERROR, CT_SERVICE_ERROR_TLS,
                       "HTTPS needs --cert and --key (see `cardtill-service gen-cert`)");
          ct_service_free (svc);
          return NULL;
        }
      if (!g_file_get_contents (svc->opts.cert_file, &svc->cert_pem, NULL, error)
          || !g_file_get_contents (svc->opts.key_file, &svc->key_pem, NULL, error)
          || !ct_service_check_cert (svc->opts.cert_file, svc->cert_pem, svc->opts.key_file, svc->key_pem, error))
        {
          ct_service_free (svc);
          return NULL;
        }
    }
  /* SQLite: read connections for the workers, beside its one writer.
   * PostgreSQL: one connection per committer plus one per worker. */
  if (ct_store_location_is_uri (svc->opts.db_path))
    {
      if (svc->opts.connections == 0)
        svc->opts.connections = CT_SERVICE_PG_COMMITTERS_DEFAULT;
      svc->store = ct_store_open (svc->opts.db_path, threads + svc->opts.connections, error);
    }
  else
    svc->store = ct_store_open (svc->opts.db_path, threads + 2, error);
  if (svc->store == NULL)
    {
      ct_service_free (svc);
      return NULL;
    }
  if (options->busy_timeout_ms > 0)
    ct_store_set_busy_timeout (svc->store, options->busy_timeout_ms);
  /* A store with one writer checks the cached tills when its tills
   * changed; any other reads a cached till again with each write's claim. */
  if (!ct_store_batches_writes (svc->store) || ct_store_tracks_tills (svc->store))
    svc->tills = ct_till_cache_new ();

  return svc;
}

gboolean
ct_service_start (CtService  *svc,
                  GError    **error)
{
  struct sockaddr_storage addr;
  socklen_t addr_len;
  gboolean loopback = FALSE;
  const union MHD_DaemonInfo *info;
  unsigned int flags;
  char host[INET6_ADDRSTRLEN];

  if (!parse_listen (svc->opts.listen, &addr, &addr_len, &loopback, error))
    return FALSE;
  if (svc->opts.insecure_http && !loopback)
    {
      g_set_error (error, CT_SERVICE_ERROR, CT_SERVICE_ERROR_ADDRESS,
                   "--insecure-http is only allowed on a loopback address (127.0.0.1 or ::1)");
      return FALSE;
    }

  /* poll(), not epoll: with a thread pool, libmicrohttpd 0.9.75's
   * MHD_quiesce_daemon() removes the listen socket from every worker's epoll
   * set while a worker may have removed it already (at its connection
   * limit), and panics on the ENOENT. A pool of a few threads, each with a
   * few dozen keep-alive tills, gains nothing from epoll. */
  flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
  if (addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  if (!svc->opts.insecure_http)
    flags |= MHD_USE_TLS;

  {
    CtWalletWorkerOptions wallet_options = { 0 };

    if (svc->opts.wallet_retry_cap_s > 0)
      {
        wallet_options.backoff_max_ms = svc->opts.wallet_retry_cap_s * 1000;
        wallet_options.backoff_min_ms = MIN (2000, wallet_options.backoff_max_ms);
      }
    svc->wallet_store = ct_store_for_merchant (svc->store, 0);
    svc->wallet = ct_wallet_worker_new (&ct_wallet_store_ops, svc->wallet_store, &wallet_options);
    ct_wallet_worker_start (svc->wallet);
  }
  committers_start (svc);
  {
    /* Every connection starts with the short timeout, which covers the TLS
     * handshake and the first request's headers; check_headers() gives a
     * till's connection the idle timeout once its token is known. */
    struct MHD_OptionItem options[] = {
      { MHD_OPTION_SOCK_ADDR, 0, &addr },
      { MHD_OPTION_THREAD_POOL_SIZE, svc->opts.threads, NULL },
      { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) completed_cb, svc },
      { MHD_OPTION_CONNECTION_TIMEOUT, svc->opts.handshake_timeout, NULL },
      { MHD_OPTION_CONNECTION_LIMIT, svc->opts.max_connections, NULL },
      { MHD_OPTION_PER_IP_CONNECTION_LIMIT, svc->opts.per_address, NULL },
      { MHD_OPTION_CONNECTION_MEMORY_LIMIT, CT_SERVICE_CONNECTION_MEMORY, NULL },
      { MHD_OPTION_LISTENING_ADDRESS_REUSE, svc->opts.reuse_port ? 1 : 0, NULL },
      { MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) unescape_cb, NULL },
      { MHD_OPTION_END, 0, NULL },
      { MHD_OPTION_END, 0, NULL },
      { MHD_OPTION_END, 0, NULL },
      { MHD_OPTION_END, 0, NULL },
      { MHD_OPTION_END, 0, NULL },
    };
    gsize n = 0;

    while (options[n].option != MHD_OPTION_END)
      n++;

    if (!svc->opts.insecure_http)
      {
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_MEM_KEY, 0, svc->key_pem };
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_MEM_CERT, 0, svc->cert_pem };
        options[n++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) CT_SERVICE_TLS_PRIORITIES };
      }
    g_assert (n < G_N_ELEMENTS (options));
    svc->daemon = MHD_start_daemon (flags, 0, NULL, NULL, access_cb, svc,
                                    MHD_OPTION_ARRAY, options, MHD_OPTION_END);
  }
  if (svc->daemon == NULL)
    {
      g_set_error (error, CT_SERVICE_ERROR, CT_SERVICE_ERROR_FAILED,
                   "cannot listen on %s (address in use, or a bad certificate or key)", svc->opts.listen);
      return FALSE;
    }
  info = MHD_get_daemon_info (svc->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (addr.ss_family == AF_INET6)
    {
      inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &addr)->sin6_addr, host, sizeof host);
      svc->url = g_strdup_printf ("%s://[%s]:%u", svc->opts.insecure_http ? "http" : "https", host,
                                  info ? info->port : 0);
    }
  else
    {
      inet_ntop (AF_INET, &((struct sockaddr_in *) &addr)->sin_addr, host, sizeof host);
      svc->url = g_strdup_printf ("%s://%s:%u", svc->opts.insecure_http ? "http" : "https", host,
                                  info ? info->port : 0);
    }
  return TRUE;
}

void
ct_service_stop (CtService *svc)
{
  int64_t deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  MHD_socket listen_fd;

  if (svc->daemon == NULL)
    return;
  g_atomic_int_set (&svc->stopping, 1);
  /* No new connections; the requests already in flight get their answers
   * (with "Connection: close"), bounded by a deadline. */
  listen_fd = MHD_quiesce_daemon (svc->daemon);
  while (g_atomic_int_get (&svc->active) > 0 && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  /* Whatever is still queued is committed and answered before the daemon
   * goes; the committer drains the queue up to the marker. */
  committers_join (svc);
  g_clear_pointer (&svc->wallet, ct_wallet_worker_free);
  /* A write that slipped in after the deadline is answered, not dropped:
   * it was never applied. */
  {
    CtCall *call;

    while ((call = g_async_queue_try_pop (svc->jobs)) != NULL)
      {
        ct_reply_free (call->reply);
        call->reply = ct_reply_error (503, "internal", "The service is shutting down; nothing was changed");
        if (call->claimed)
          {
            ct_store_unclaim_key (svc->store, call->till.id, call->idem_key);
            call->claimed = FALSE;
          }
        MHD_resume_connection (call->connection);
      }
  }
  MHD_stop_daemon (svc->daemon);
  svc->daemon = NULL;
  /* A quiesced daemon hands its listen socket to the caller. */
  if (listen_fd != MHD_INVALID_SOCKET)
    close (listen_fd);
}

void
ct_service_get_stats (CtService *svc,
                      guint64   *n_writes,
                      guint64   *n_commits)
{
  g_mutex_lock (&svc->stats_lock);
  *n_writes = svc->n_writes;
  *n_commits = svc->n_commits;
  g_mutex_unlock (&svc->stats_lock);
}

guint
ct_service_queued_writes (CtService *svc)
{
  gint n = g_async_queue_length (svc->jobs);

  return n > 0 ? (guint) n : 0;
}

/* Writes this process took and has not answered yet: queued for a
 * committer or inside a commit. GET /v1/health reports it, so that an
 * operator (or a test) sees writes held up behind a lock. */
guint
ct_service_writes_waiting (CtService *svc)
{
  gint n = g_atomic_int_get (&svc->writes_waiting);

  return n > 0 ? (guint) n : 0;
}

void
ct_service_free (CtService *svc)
{
  if (svc == NULL)
    return;
  if (svc->daemon != NULL)
    ct_service_stop (svc);
  committers_join (svc);
  g_clear_pointer (&svc->wallet, ct_wallet_worker_free);
  g_clear_pointer (&svc->wallet_store, ct_store_free);
  ct_store_free (svc->store);
  ct_till_cache_free (svc->tills);
  g_async_queue_unref (svc->jobs);
  g_hash_table_destroy (svc->rate);
  g_mutex_clear (&svc->rate_lock);
  g_mutex_clear (&svc->stats_lock);
  g_free (svc->cert_pem);
  g_free (svc->key_pem);
  g_free (svc->url);
  g_free (svc->opts.db_path);
  g_free (svc->opts.listen);
  g_free (svc->opts.cert_file);
  g_free (svc->opts.key_file);
  g_free (svc->opts.public_url);
  g_free (svc);
}
