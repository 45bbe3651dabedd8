/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wallet-worker"
#include "config.h"

#include <curl/curl.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-http.h"
#include "ct-wallet-alipay.h"
#include "ct-wallet-wechat.h"
#include "ct-wallet-worker.h"

#define DUE_BATCH 32
#define SENDERS 8
#define ANSWER_MAX (1024 * 1024)
#define NONCE_LEN 32

/* A connector with its keys loaded, or the sentence saying why not. */
typedef struct
{
  CtWalletConnector *conf;
  CtWalletKey       *key;
  CtWalletPubkey    *pub;
  char              *load_error;
  gint64             key_mtime;     /* the files as they were loaded */
  gint64             pub_mtime;
} Connector;

struct _CtWalletWorker
{
  const CtWalletOutboxOps *ops;
  gpointer                 outbox;
  CtWalletWorkerOptions    options;

  GThread                 *thread;
  GMutex                   lock;
  GCond                    cond;
  gboolean                 stopping;
  gboolean                 woken;

  /* Worker thread only. */
  GHashTable              *connectors;  /* id → Connector* */
  gint                     active;      /* any connector at the last look (atomic) */

  /* The messages of one round go out at once, one card each. */
  GThreadPool             *senders;
  GCond                    round_cond;
  guint                    round_left;
};

/* One HTTP answer. */
typedef struct
{
  long     status;
  GString *body;
  char    *wechat_timestamp;
  char    *wechat_nonce;
  char    *wechat_signature;
  char    *wechat_serial;
  gboolean too_large;
} Answer;

static void job_run (gpointer data,
                     gpointer user_data);

static void
answer_clear (Answer *a)
{
  if (a->body != NULL)
    g_string_free (a->body, TRUE);
  g_free (a->wechat_timestamp);
  g_free (a->wechat_nonce);
  g_free (a->wechat_signature);
  g_free (a->wechat_serial);
  memset (a, 0, sizeof *a);
}

static void
connector_free (gpointer data)
{
  Connector *c = data;

  ct_wallet_connector_free (c->conf);
  ct_wallet_key_free (c->key);
  ct_wallet_pubkey_free (c->pub);
  g_free (c->load_error);
  g_free (c);
}

static int64_t
now_ms (void)
{
  return g_get_real_time () / 1000;
}

guint
ct_wallet_backoff_ms (const CtWalletWorkerOptions *options,
                      guint                        attempts)
{
  guint64 delay = options->backoff_min_ms;

  for (guint i = 1; i < attempts && delay < options->backoff_max_ms; i++)
    delay *= 2;
  delay = MIN (delay, (guint64) options->backoff_max_ms);
  return (guint) (delay + (delay >= 4 ? g_random_int_range (0, (gint32) (delay / 4)) : 0));
}

CtWalletWorker *
ct_wallet_worker_new (const CtWalletOutboxOps     *ops,
                      gpointer                     outbox,
                      const CtWalletWorkerOptions *options)
{
  CtWalletWorker *w = g_new0 (CtWalletWorker, 1);

  g_return_val_if_fail (ops != NULL, NULL);

  w->ops = ops;
  w->outbox = outbox;
  if (options != NULL)
    w->options = *options;
  if (w->options.backoff_min_ms == 0)
    w->options.backoff_min_ms = 2000;
  if (w->options.backoff_max_ms == 0)
    w->options.backoff_max_ms = 10 * 60 * 1000;
  if (w->options.backoff_max_ms < w->options.backoff_min_ms)
    w->options.backoff_max_ms = w->options.backoff_min_ms;
  if (w->options.poll_ms == 0)
    w->options.poll_ms = 1000;
  if (w->options.timeout_ms == 0)
    w->options.timeout_ms = 20000;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->connectors = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, connector_free);
  g_cond_init (&w->round_cond);
  w->senders = g_thread_pool_new (job_run, NULL, SENDERS, FALSE, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  return w;
}

static gboolean
conf_equal (const CtWalletConnector *a,
            const CtWalletConnector *b)
{
  return a->kind == b->kind && g_strcmp0 (a->merchant, b->merchant) == 0
         && g_strcmp0 (a->app_id, b->app_id) == 0 && g_strcmp0 (a->serial_no, b->serial_no) == 0
         && g_strcmp0 (a->private_key, b->private_key) == 0
         && g_strcmp0 (a->public_key, b->public_key) == 0
         && g_strcmp0 (a->template_id, b->template_id) == 0 && g_strcmp0 (a->gateway, b->gateway) == 0;
}

static gint64
file_mtime (const char *path)
{
  GStatBuf st;

  if (path == NULL || g_stat (path, &st) != 0)
    return 0;
  return (gint64) st.st_mtime * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
}

static Connector *
connector_load (CtWalletConnector *conf)
{
  Connector *c = g_new0 (Connector, 1);
  g_autoptr(GError) error = NULL;

  c->conf = conf;
  c->key_mtime = file_mtime (conf->private_key);
  c->pub_mtime = file_mtime (conf->public_key);
  if (!ct_http_url_allowed (conf->gateway, &error)
      || (c->key = ct_wallet_key_load (conf->private_key, &error)) == NULL
      || (c->pub = ct_wallet_pubkey_load (conf->public_key, &error)) == NULL)
    {
      c->load_error = g_strdup (error->message);
      g_warning ("wallet connector %" G_GINT64_FORMAT " (%s, merchant %s) cannot send: %s",
                 conf->id, ct_wallet_kind_to_string (conf->kind), conf->merchant, error->message);
    }
  return c;
}

/* Keeps the loaded keys of unchanged connectors; loads new or changed ones,
 * and those whose key files were replaced. */
static gboolean
refresh_connectors (CtWalletWorker *w)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = w->ops->connectors (w->outbox, &error);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  if (list == NULL)
    {
      g_warning ("wallet: cannot read the connectors: %s", error->message);
      return FALSE;
    }
  for (guint i = 0; i < list->len; i++)
    {
      CtWalletConnector *conf = list->pdata[i];
      Connector *have = g_hash_table_lookup (w->connectors, &conf->id);

      list->pdata[i] = NULL;
      if (have != NULL && conf_equal (have->conf, conf)
          && have->key_mtime == file_mtime (conf->private_key)
          && have->pub_mtime == file_mtime (conf->public_key))
        {
          ct_wallet_connector_free (conf);
          g_hash_table_add (seen, &have->conf->id);
          continue;
        }
      have = connector_load (conf);
      g_hash_table_replace (w->connectors, &have->conf->id, have);
      g_hash_table_add (seen, &have->conf->id);
    }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, w->connectors);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (!g_hash_table_contains (seen, key))
        g_hash_table_iter_remove (&iter);
  }
  return TRUE;
}

static size_t
on_body (char   *data,
         size_t  size,
         size_t  nmemb,
         void   *user_data)
{
  Answer *a = user_data;
  size_t n = size * nmemb;

  if (a->body->len + n > ANSWER_MAX)
    {
      a->too_large = TRUE;
      return 0;
    }
  g_string_append_len (a->body, data, n);
  return n;
}

static void
take_header (char       **slot,
             const char  *line,
             size_t       n,
             const char  *name)
{
  size_t len = strlen (name);

  if (n > len + 1 && g_ascii_strncasecmp (line, name, len) == 0 && line[len] == ':')
    {
      g_free (*slot);
      *slot = g_strstrip (g_strndup (line + len + 1, n - len - 1));
    }
}

static size_t
on_header (char   *data,
           size_t  size,
           size_t  nmemb,
           void   *user_data)
{
  Answer *a = user_data;
  size_t n = size * nmemb;

  /* A new status line (after a 1xx) starts a new set of headers. */
  if (n >= 5 && memcmp (data, "HTTP/", 5) == 0)
    {
      g_clear_pointer (&a->wechat_timestamp, g_free);
      g_clear_pointer (&a->wechat_nonce, g_free);
      g_clear_pointer (&a->wechat_signature, g_free);
      g_clear_pointer (&a->wechat_serial, g_free);
    }
  take_header (&a->wechat_timestamp, data, n, "Wechatpay-Timestamp");
  take_header (&a->wechat_nonce, data, n, "Wechatpay-Nonce");
  take_header (&a->wechat_signature, data, n, "Wechatpay-Signature");
  take_header (&a->wechat_serial, data, n, "Wechatpay-Serial");
  return n;
}

/* A request in flight ends when the service stops: its message stays in
 * the outbox and goes again, with the same ids, after the restart. */
static int
on_progress (void       *user_data,
             curl_off_t  dltotal,
             curl_off_t  dlnow,
             curl_off_t  ultotal,
             curl_off_t  ulnow)
{
  CtWalletWorker *w = user_data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);

  return w->stopping ? 1 : 0;
}

/* Each sending thread keeps its own connection to the gateways. */
static GPrivate thread_curl = G_PRIVATE_INIT ((GDestroyNotify) curl_easy_cleanup);

/* Sends one request; FALSE (with @reason) when no complete answer came. */
static gboolean
http_send (CtWalletWorker    *w,
           const char        *method,
           const char        *url,
           struct curl_slist *headers,
           const char        *body,
           Answer            *out,
           char             **reason)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *curl = g_private_get (&thread_curl);
  CURLcode rc;

  if (curl == NULL)
    {
      curl = curl_easy_init ();
      g_private_set (&thread_curl, curl);
    }
  else
    curl_easy_reset (curl);
  out->body = g_string_new (NULL);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) MIN (w->options.timeout_ms, 10000));
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) w->options.timeout_ms);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, PACKAGE_NAME "-service/" PACKAGE_VERSION);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, out);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, w);
  rc = curl_easy_perform (curl);
  if (rc != CURLE_OK)
    {
      *reason = g_strdup_printf ("%s", out->too_large ? "the answer was too large"
                                       : *errbuf ? errbuf : curl_easy_strerror (rc));
      return FALSE;
    }
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &out->status);
  return TRUE;
}

static CtWalletOutcome
alipay_call (CtWalletWorker *w,
             Connector      *c,
             const char     *method,
             const char     *biz_content,
             char          **out_biz_card_no,
             char          **reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *body = NULL;
  struct curl_slist *headers = NULL;
  Answer answer = { 0 };
  CtWalletOutcome outcome;

  if (!ct_alipay_request (c->key, c->conf->gateway, c->conf->app_id, method, biz_content,
                          now_ms (), &url, &body, &error))
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_RETRY;
    }
  headers = curl_slist_append (headers, "Content-Type: application/x-www-form-urlencoded;charset=utf-8");
  headers = curl_slist_append (headers, "Expect:");
  if (!http_send (w, "POST", url, headers, body, &answer, reason))
    {
      g_autofree char *why = *reason;
      *reason = g_strdup_printf ("Alipay could not be reached or did not answer: %s", why);
      outcome = CT_WALLET_RETRY;
    }
  else if (answer.status != 200)
    {
      *reason = g_strdup_printf ("Alipay's gateway answered HTTP %ld", answer.status);
      outcome = CT_WALLET_RETRY;
    }
  else
    outcome = ct_alipay_judge (c->pub, method, answer.body->str, answer.body->len,
                               out_biz_card_no, reason);
  curl_slist_free_all (headers);
  answer_clear (&answer);
  return outcome;
}

/* The Alipay card number of the message's card, opening the card first when
 * the connector has not seen it (a connector added after the card). */
static CtWalletOutcome
alipay_link (CtWalletWorker        *w,
             Connector             *c,
             const CtWalletMessage *msg,
             char                 **out_biz,
             char                 **reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *open = NULL;
  g_autofree char *biz = NULL;
  CtWalletOutcome outcome;

  if (!w->ops->card_link (w->outbox, c->conf->id, msg->card_no, out_biz, &error))
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_RETRY;
    }
  if (*out_biz != NULL)
    return CT_WALLET_DELIVERED;
  open = ct_alipay_biz_open_for (c->conf->template_id, msg->card_no, msg->payload, now_ms (), &error);
  if (open == NULL)
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_REFUSED;
    }
  outcome = alipay_call (w, c, CT_WALLET_METHOD_OPEN, open, &biz, reason);
  if (outcome != CT_WALLET_DELIVERED)
    return outcome;
  if (!w->ops->set_link (w->outbox, c->conf->id, msg->card_no, biz, &error))
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_RETRY;
    }
  *out_biz = g_steal_pointer (&biz);
  return CT_WALLET_DELIVERED;
}

static CtWalletOutcome
deliver_alipay (CtWalletWorker        *w,
                Connector             *c,
                const CtWalletMessage *msg,
                char                 **reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *biz = NULL;
  g_autofree char *content = NULL;
  g_autofree char *opened = NULL;
  CtWalletOutcome outcome;

  if (!g_str_equal (msg->method, CT_WALLET_METHOD_OPEN))
    {
      outcome = alipay_link (w, c, msg, &biz, reason);
      if (outcome != CT_WALLET_DELIVERED)
        return outcome;
    }
  content = ct_alipay_biz_content (msg->method, msg->payload, biz, &error);
  if (content == NULL)
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_REFUSED;
    }
  outcome = alipay_call (w, c, msg->method, content, &opened, reason);
  if (outcome == CT_WALLET_DELIVERED && opened != NULL
      && !w->ops->set_link (w->outbox, c->conf->id, msg->card_no, opened, &error))
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_RETRY;
    }
  return outcome;
}

static CtWalletOutcome
deliver_wechat (CtWalletWorker        *w,
                Connector             *c,
                const CtWalletMessage *msg,
                char                 **reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = ct_wechat_code_path (c->conf->template_id, msg->card_no);
  g_autofree char *url = NULL;
  g_autofree char *nonce = ct_wallet_nonce (NONCE_LEN);
  g_autofree char *auth = NULL;
  g_autofree char *auth_header = NULL;
  struct curl_slist *headers = NULL;
  Answer answer = { 0 };
  CtWalletOutcome outcome;
  const char *base = c->conf->gateway;
  gsize base_len = strlen (base);

  while (base_len > 0 && base[base_len - 1] == '/')
    base_len--;
  url = g_strdup_printf ("%.*s%s", (int) base_len, base, path);
  auth = ct_wechat_authorization (c->key, c->conf->app_id, c->conf->serial_no, "PATCH", path,
                                  msg->payload, now_ms () / 1000, nonce, &error);
  if (auth == NULL)
    {
      *reason = g_strdup (error->message);
      return CT_WALLET_RETRY;
    }
  auth_header = g_strconcat ("Authorization: ", auth, NULL);
  headers = curl_slist_append (headers, auth_header);
  headers = curl_slist_append (headers, "Content-Type: application/json");
  headers = curl_slist_append (headers, "Accept: application/json");
  headers = curl_slist_append (headers, "Expect:");
  if (!http_send (w, "PATCH", url, headers, msg->payload, &answer, reason))
    {
      g_autofree char *why = *reason;
      *reason = g_strdup_printf ("WeChat Pay could not be reached or did not answer: %s", why);
      outcome = CT_WALLET_RETRY;
    }
  else
    {
      CtWechatAnswerHeaders h = {
        answer.wechat_timestamp, answer.wechat_nonce, answer.wechat_signature, answer.wechat_serial,
      };

      outcome = ct_wechat_judge (c->pub, answer.status, &h, answer.body->str, answer.body->len,
                                 now_ms () / 1000, reason);
    }
  curl_slist_free_all (headers);
  answer_clear (&answer);
  return outcome;
}

static void
record (CtWalletWorker        *w,
        const CtWalletMessage *msg,
        CtWalletOutcome        outcome,
        const char            *reason)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;

  switch (outcome)
    {
    case CT_WALLET_DELIVERED:
      ok = w->ops->delivered (w->outbox, msg, now_ms (), &error);
      break;
    case CT_WALLET_RETRY:
      g_debug ("wallet message %" G_GINT64_FORMAT " (%s) not delivered: %s",
               msg->id, msg->request_no, reason);
      ok = w->ops->retry (w->outbox, msg, now_ms () + ct_wallet_backoff_ms (&w->options, msg->attempts + 1),
                          reason, &error);
      break;
    case CT_WALLET_REFUSED:
      g_message ("wallet message %" G_GINT64_FORMAT " (%s, card %s) refused: %s",
                 msg->id, msg->request_no, msg->card_no, reason);
      ok = w->ops->refused (w->outbox, msg, reason, now_ms (), &error);
      break;
    default:
      g_assert_not_reached ();
    }
  /* The message stays as it was and is sent again with the same ids. */
  if (!ok)
    g_warning ("wallet: cannot record message %" G_GINT64_FORMAT ": %s", msg->id, error->message);
}

static CtWalletOutcome
deliver (CtWalletWorker        *w,
         const CtWalletMessage *msg,
         char                 **reason)
{
  Connector *c = g_hash_table_lookup (w->connectors, &msg->connector_id);

  if (c == NULL)
    {
      *reason = g_strdup ("the connector was removed");
      return CT_WALLET_REFUSED;
    }
  if (c->load_error != NULL)
    {
      *reason = g_strdup (c->load_error);
      return CT_WALLET_RETRY;
    }
  switch (c->conf->kind)
    {
    case CT_WALLET_ALIPAY:
      return deliver_alipay (w, c, msg, reason);
    case CT_WALLET_WECHAT:
      return deliver_wechat (w, c, msg, reason);
    default:
      g_assert_not_reached ();
    }
}

/* One message of a round, on a sending thread. */
typedef struct
{
  CtWalletWorker        *w;
  const CtWalletMessage *msg;
  gboolean               settled;
} Job;

static void
job_run (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  CtWalletWorker *w = job->w;
  g_autofree char *reason = NULL;
  CtWalletOutcome outcome;
  gboolean stopping;

  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);
    stopping = w->stopping;
  }
  if (stopping)
    {
      /* Not sent: free for the next start (or another process) at once. */
      outcome = CT_WALLET_RETRY;
      reason = g_strdup ("the service stopped before sending it");
      w->ops->retry (w->outbox, job->msg, now_ms (), reason, NULL);
    }
  else
    {
      outcome = deliver (w, job->msg, &reason);
      record (w, job->msg, outcome, reason);
    }
  job->settled = outcome != CT_WALLET_RETRY;

  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);
    if (--w->round_left == 0)
      g_cond_broadcast (&w->round_cond);
  }
}

/* One pass over the due messages, sent at once (they are of different
 * cards: each is the head of its card's queue); TRUE when any message
 * settled, so that the next message of its card may be due at once. */
static gboolean
deliver_round (CtWalletWorker *w)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) due = NULL;
  g_autofree Job *jobs = NULL;
  gboolean settled = FALSE;

  if (!refresh_connectors (w))
    return FALSE;
  g_atomic_int_set (&w->active, g_hash_table_size (w->connectors) > 0);
  if (g_hash_table_size (w->connectors) == 0)
    return FALSE;
  /* Held long enough for the round to finish even when every request
   * times out (an Alipay message may take an open and its own call). */
  due = w->ops->due (w->outbox, now_ms (), DUE_BATCH,
                     now_ms () + (int64_t) (DUE_BATCH / SENDERS + 1) * 2 * w->options.timeout_ms + 60000,
                     &error);
  if (due == NULL)
    {
      g_warning ("wallet: cannot read the outbox: %s", error->message);
      return FALSE;
    }
  g_ptr_array_set_free_func (due, (GDestroyNotify) ct_wallet_message_free);
  if (due->len == 0)
    return FALSE;

  jobs = g_new0 (Job, due->len);
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);
    w->round_left = due->len;
  }
  for (guint i = 0; i < due->len; i++)
    {
      jobs[i] = (Job) { w, due->pdata[i], FALSE };
      g_thread_pool_push (w->senders, &jobs[i], NULL);
    }
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);
    while (w->round_left > 0)
      g_cond_wait (&w->round_cond, &w->lock);
  }
  for (guint i = 0; i < due->len; i++)
    settled |= jobs[i].settled;
  return settled;
}

static gpointer
worker_main (gpointer data)
{
  CtWalletWorker *w = data;

  for (;;)
    {
      while (deliver_round (w))
        {
          g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);
          if (w->stopping)
            break;
        }
      {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&w->lock);
        gint64 deadline = g_get_monotonic_time () + (gint64) w->options.poll_ms * 1000;

        while (!w->stopping && !w->woken)
          if (!g_cond_wait_until (&w->cond, &w->lock, deadline))
            break;
        w->woken = FALSE;
        if (w->stopping)
          break;
      }
    }
  return NULL;
}

void
ct_wallet_worker_start (CtWalletWorker *worker)
{
  g_return_if_fail (worker != NULL && worker->thread == NULL);

  worker->thread = g_thread_new ("wallet", worker_main, worker);
}

void
ct_wallet_worker_wake (CtWalletWorker *worker)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_if_fail (worker != NULL);

  /* Without connectors the ledger's commits wake nobody: the next poll
   * sees a connector added meanwhile. */
  if (!g_atomic_int_get (&worker->active))
    return;
  locker = g_mutex_locker_new (&worker->lock);
  worker->woken = TRUE;
  g_cond_signal (&worker->cond);
}

void
ct_wallet_worker_stop (CtWalletWorker *worker)
{
  g_return_if_fail (worker != NULL);

  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&worker->lock);
    worker->stopping = TRUE;
    g_cond_signal (&worker->cond);
  }
  if (worker->thread != NULL)
    g_thread_join (g_steal_pointer (&worker->thread));
}

void
ct_wallet_worker_free (CtWalletWorker *worker)
{
  if (worker == NULL)
    return;
  ct_wallet_worker_stop (worker);
  g_thread_pool_free (worker->senders, FALSE, TRUE);
  g_hash_table_unref (worker->connectors);
  g_cond_clear (&worker->round_cond);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
  g_free (worker);
}
