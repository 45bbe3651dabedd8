/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-client"
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "ct-card-number.h"
#include "ct-client.h"
#include "ct-client-private.h"
#include "ct-format.h"
#include "ct-manager-pin.h"
#include "ct-embedded.h"
#include "ct-main-context.h"
#include "ct-member-cache.h"
#include "ct-money.h"
#include "ct-sync.h"

struct _CtClient
{
  GObject            parent_instance;

  CtClientConfig    *config;
  GMainContext      *context;
  CtOutbox          *outbox;
  CtMemberCache     *cache;
  CtSync            *sync;
  CtCashierBook     *cashiers;
  char              *service_id;

  GMutex             lock;       /* guards the fields below */
  CtEmbedded        *embedded;
  char              *operator_name;
  CtConnectionState  state;
  guint              pending;
  guint              attention;
  gboolean           started;
  gint64             last_recount;
  gboolean           counts_dirty;

  GThread           *bg_thread;
  GMutex             bg_lock;
  GCond              bg_cond;
  gboolean           bg_stop;
  gboolean           bg_kick;
};

G_DEFINE_FINAL_TYPE (CtClient, ct_client, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONNECTION_STATE,
  PROP_PENDING_COUNT,
  PROP_ATTENTION_COUNT,
  PROP_MERCHANT,
  N_PROPS
};

enum
{
  SIGNAL_CARD_UPDATED,
  SIGNAL_OUTBOX_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

GType
ct_connection_state_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    {
      static const GEnumValue values[] = {
        { CT_CONNECTION_UNKNOWN, "CT_CONNECTION_UNKNOWN", "unknown" },
        { CT_CONNECTION_ONLINE, "CT_CONNECTION_ONLINE", "online" },
        { CT_CONNECTION_OFFLINE, "CT_CONNECTION_OFFLINE", "offline" },
        { 0, NULL, NULL },
      };
      g_once_init_leave (&type, g_enum_register_static ("CtConnectionState", values));
    }
  return type;
}

void
ct_answer_free (CtAnswer *answer)
{
  if (answer == NULL)
    return;
  g_clear_pointer (&answer->body, g_bytes_unref);
  g_free (answer->idempotency_key);
  g_free (answer->reason);
  g_free (answer);
}

gboolean
ct_answer_to_error (const CtAnswer  *answer,
                    GError         **error)
{
  gsize len = 0;
  const char *data;

  g_return_val_if_fail (answer != NULL, FALSE);

  if (answer->queued || answer->not_sent)
    {
      g_set_error_literal (error, CT_CLIENT_ERROR,
                           answer->queued ? CT_CLIENT_ERROR_QUEUED : answer->reason_code,
                           answer->reason ? answer->reason : "no answer from the service");
      return FALSE;
    }
  if (answer->status >= 200 && answer->status < 300)
    return TRUE;
  data = answer->body ? g_bytes_get_data (answer->body, &len) : NULL;
  return ct_wire_decode_error (answer->status, data, len, error);
}

/* ---- notifications, always delivered in the client's context ---------- */

/* What a notification delivers in the client's context. */
typedef enum
{
  NOTIFY_PROPERTY,        /* a property changed: notify it */
  NOTIFY_OUTBOX_CHANGED,  /* the counts and the lists of the outbox changed */
  NOTIFY_CARD_UPDATED,    /* fresh state of a card arrived */
} NotifyKind;

typedef struct
{
  GWeakRef    client;
  NotifyKind  kind;
  guint       prop_id;   /* NOTIFY_PROPERTY */
  CtCard     *card;      /* NOTIFY_CARD_UPDATED */
} Notification;

static gboolean
deliver (gpointer data)
{
  Notification *n = data;
  g_autoptr(CtClient) client = g_weak_ref_get (&n->client);

  /* Nobody can listen to a client that is gone. */
  if (client == NULL)
    return G_SOURCE_REMOVE;

  switch (n->kind)
    {
    case NOTIFY_PROPERTY:
      g_object_notify_by_pspec (G_OBJECT (client), properties[n->prop_id]);
      break;
    case NOTIFY_OUTBOX_CHANGED:
      g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_PENDING_COUNT]);
      g_object_notify_by_pspec (G_OBJECT (client), properties[PROP_ATTENTION_COUNT]);
      g_signal_emit (client, signals[SIGNAL_OUTBOX_CHANGED], 0);
      break;
    case NOTIFY_CARD_UPDATED:
      g_signal_emit (client, signals[SIGNAL_CARD_UPDATED], 0, n->card);
      break;
    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_REMOVE;
}

static void
notification_free (gpointer data)
{
  Notification *n = data;

  g_weak_ref_clear (&n->client);
  g_clear_pointer (&n->card, ct_card_free);
  g_free (n);
}

/* Delivers a notification in the client's context, whichever thread asks:
 * at once in the thread iterating that context, else at that context's
 * next iteration, never in a worker thread (a request's, the background
 * sync's), where the session and the screens would change beside the main
 * thread (a card set while a screen reads it, a page reloaded while the
 * window is destroyed).
 *
 * A queued notification holds the client weakly: it does not keep the
 * client and its stores open when nothing iterates the context (the CLI's
 * calls), and is dropped when the client is gone. */
static void
schedule (CtClient     *self,
          NotifyKind    kind,
          guint         prop_id,
          const CtCard *card)
{
  Notification *n = g_new0 (Notification, 1);

  g_weak_ref_init (&n->client, self);
  n->kind = kind;
  n->prop_id = prop_id;
  n->card = card ? ct_card_copy (card) : NULL;

  if (g_main_context_is_owner (self->context))
    {
      deliver (n);
      notification_free (n);
      return;
    }
  ct_main_context_post (self->context, G_PRIORITY_DEFAULT, deliver, n, notification_free,
                        "[ct-client] notification");
}

static void
recount (CtClient *self);

/* Counting is a query per state; during a drain of thousands of entries
 * the counts are refreshed at most every 200 ms (and by the background
 * sync once a second), not once per entry. */
static void
recount_throttled (CtClient *self)
{
  gint64 now = g_get_monotonic_time ();
  gboolean due;

  g_mutex_lock (&self->lock);
  due = now - self->last_recount >= 200 * 1000;
  if (due)
    self->last_recount = now;
  else
    self->counts_dirty = TRUE;
  g_mutex_unlock (&self->lock);
  if (due)
    recount (self);
}

static void
recount (CtClient *self)
{
  guint pending = ct_outbox_count (self->outbox, CT_OUTBOX_STATE_PENDING);
  guint attention = ct_outbox_count (self->outbox, CT_OUTBOX_STATE_NEEDS_ATTENTION);
  gboolean changed;

  g_mutex_lock (&self->lock);
  changed = pending != self->pending || attention != self->attention;
  self->counts_dirty = FALSE;
  self->pending = pending;
  self->attention = attention;
  g_mutex_unlock (&self->lock);
  if (changed)
    schedule (self, NOTIFY_OUTBOX_CHANGED, 0, NULL);
}

/* Brings the counts up to date if a throttled recount was skipped. */
static void
flush_counts (CtClient *self)
{
  gboolean dirty;

  g_mutex_lock (&self->lock);
  dirty = self->counts_dirty;
  g_mutex_unlock (&self->lock);
  if (dirty)
    recount (self);
}

static void
on_sync_event (CtSyncEvent   event,
               gconstpointer data,
               gpointer      user_data)
{
  CtClient *self = user_data;
  CtConnectionState state;
  gboolean changed = FALSE;

  switch (event)
    {
    case CT_SYNC_EVENT_ONLINE:
    case CT_SYNC_EVENT_OFFLINE:
      state = event == CT_SYNC_EVENT_ONLINE ? CT_CONNECTION_ONLINE : CT_CONNECTION_OFFLINE;
      g_mutex_lock (&self->lock);
      changed = self->state != state;
      self->state = state;
      g_mutex_unlock (&self->lock);
      if (changed)
        schedule (self, NOTIFY_PROPERTY, PROP_CONNECTION_STATE, NULL);
      break;
    case CT_SYNC_EVENT_OUTBOX_CHANGED:
      recount_throttled (self);
      break;
    case CT_SYNC_EVENT_CARD:
      schedule (self, NOTIFY_CARD_UPDATED, 0, data);
      break;
    default:
      break;
    }
}

/* ---- object ------------------------------------------------------------ */

static void
ct_client_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  CtClient *self = CT_CLIENT (object);

  switch (prop_id)
    {
    case PROP_CONNECTION_STATE:
      g_value_set_enum (value, ct_client_get_connection_state (self));
      break;
    case PROP_PENDING_COUNT:
      g_value_set_uint (value, ct_client_get_pending_count (self));
      break;
    case PROP_ATTENTION_COUNT:
      g_value_set_uint (value, ct_client_get_attention_count (self));
      break;
    case PROP_MERCHANT:
      g_value_take_boxed (value, ct_client_dup_merchant (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_client_finalize (GObject *object)
{
  CtClient *self = CT_CLIENT (object);

  ct_client_shutdown (self);
  g_clear_pointer (&self->sync, ct_sync_free);
  g_clear_pointer (&self->cashiers, ct_cashier_book_free);
  g_clear_pointer (&self->outbox, ct_outbox_close);
  g_clear_pointer (&self->cache, ct_member_cache_close);
  g_clear_pointer (&self->config, ct_client_config_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->service_id);
  g_free (self->operator_name);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->bg_lock);
  g_cond_clear (&self->bg_cond);

  G_OBJECT_CLASS (ct_client_parent_class)->finalize (object);
}

static void
ct_client_class_init (CtClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ct_client_get_property;
  object_class->finalize = ct_client_finalize;

  properties[PROP_CONNECTION_STATE] =
    g_param_spec_enum ("connection-state", NULL, NULL, CT_TYPE_CONNECTION_STATE,
                       CT_CONNECTION_UNKNOWN,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PENDING_COUNT] =
    g_param_spec_uint ("pending-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ATTENTION_COUNT] =
    g_param_spec_uint ("attention-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MERCHANT] =
    g_param_spec_boxed ("merchant", NULL, NULL, CT_TYPE_MERCHANT,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CARD_UPDATED] =
    g_signal_new ("card-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, CT_TYPE_CARD);
  signals[SIGNAL_OUTBOX_CHANGED] =
    g_signal_new ("outbox-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ct_client_init (CtClient *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->bg_lock);
  g_cond_init (&self->bg_cond);
}

CtClient *
ct_client_new (const CtClientConfig  *config,
               GError               **error)
{
  g_autoptr(CtClient) self = NULL;
  g_autofree char *outbox_path = NULL;
  g_autofree char *cache_path = NULL;
  g_autofree char *lock_path = NULL;

  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (CT_TYPE_CLIENT, NULL);
  self->config = ct_client_config_copy (config);
  if (self->config->data_dir == NULL)
    self->config->data_dir = g_build_filename (g_get_user_data_dir (), "cardtill", NULL);
  if (self->config->operator_name == NULL)
    self->config->operator_name = g_strdup (g_get_user_name ());
  self->operator_name = g_strdup (self->config->operator_name);
  self->context = g_main_context_ref_thread_default ();

  if (self->config->service_url != NULL
      && !ct_client_config_check_url (self->config->service_url, error))
    return NULL;

  if (g_mkdir_with_parents (self->config->data_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL,
                   "Cannot create the data directory %s: %s", self->config->data_dir,
                   g_strerror (saved));
      return NULL;
    }
  outbox_path = g_build_filename (self->config->data_dir, "outbox.db", NULL);
  cache_path = g_build_filename (self->config->data_dir, "cache.db", NULL);
  lock_path = g_build_filename (self->config->data_dir, "outbox.lock", NULL);

  self->outbox = ct_outbox_open (outbox_path, error);
  if (self->outbox == NULL)
    return NULL;
  self->cache = ct_member_cache_open (cache_path, error);
  if (self->cache == NULL)
    return NULL;
  if (self->config->service_url != NULL)
    self->service_id = g_strdup (self->config->service_url);
  else
    self->service_id = g_strconcat ("embedded:", self->config->data_dir, NULL);
  self->sync = ct_sync_new (self->outbox, self->cache, self->service_id, lock_path, error);
  if (self->sync == NULL)
    return NULL;
  {
    g_autofree char *cashiers_path = g_build_filename (self->config->data_dir, "cashiers.ini", NULL);

    self->cashiers = ct_cashier_book_new (cashiers_path);
  }
  ct_sync_set_default_wait (self->sync, self->config->queue_wait_ms);
  ct_sync_set_notify (self->sync, on_sync_event, self);
  self->pending = ct_outbox_count (self->outbox, CT_OUTBOX_STATE_PENDING);
  self->attention = ct_outbox_count (self->outbox, CT_OUTBOX_STATE_NEEDS_ATTENTION);
  return g_steal_pointer (&self);
}

const CtClientConfig *
ct_client_get_config (CtClient *self)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  return self->config;
}

gboolean
ct_client_is_embedded (CtClient *self)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), FALSE);
  return self->config->service_url == NULL;
}

gboolean
ct_client_needs_first_run (CtClient *self)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), FALSE);
  return ct_client_is_embedded (self) && !ct_embedded_exists (self->config->data_dir);
}

char *
ct_client_get_embedded_db_path (CtClient *self)
{
  char *path = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);

  if (!ct_client_is_embedded (self))
    return NULL;
  g_mutex_lock (&self->lock);
  if (self->embedded != NULL)
    path = g_strdup (ct_embedded_get_db_path (self->embedded));
  g_mutex_unlock (&self->lock);
  if (path == NULL)
    path = g_build_filename (self->config->data_dir, "service", "service.db", NULL);
  return path;
}

void
ct_client_set_operator (CtClient   *self,
                        const char *operator_name)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  g_mutex_lock (&self->lock);
  g_free (self->operator_name);
  self->operator_name = g_strdup (operator_name ? operator_name : self->config->operator_name);
  g_mutex_unlock (&self->lock);
}

const char *
ct_client_get_operator (CtClient *self)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  return self->operator_name;
}

static char *
dup_operator (CtClient *self)
{
  char *name;

  g_mutex_lock (&self->lock);
  name = g_strdup (self->operator_name);
  g_mutex_unlock (&self->lock);
  return name;
}

CtConnectionState
ct_client_get_connection_state (CtClient *self)
{
  CtConnectionState state;

  g_return_val_if_fail (CT_IS_CLIENT (self), CT_CONNECTION_UNKNOWN);
  g_mutex_lock (&self->lock);
  state = self->state;
  g_mutex_unlock (&self->lock);
  return state;
}

guint
ct_client_get_pending_count (CtClient *self)
{
  guint n;

  g_return_val_if_fail (CT_IS_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  n = self->pending;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
ct_client_get_attention_count (CtClient *self)
{
  guint n;

  g_return_val_if_fail (CT_IS_CLIENT (self), 0);
  g_mutex_lock (&self->lock);
  n = self->attention;
  g_mutex_unlock (&self->lock);
  return n;
}

CtMerchant *
ct_client_dup_merchant (CtClient *self)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  return ct_member_cache_load_merchant (self->cache);
}

CtCard *
ct_client_cached_card (CtClient   *self,
                       const char *card_no)
{
  g_autofree char *normal = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  g_return_val_if_fail (card_no != NULL, NULL);

  normal = ct_card_number_normalize (card_no, NULL, NULL, NULL);
  if (normal == NULL)
    return NULL;
  return ct_member_cache_lookup (self->cache, normal);
}

/* ---- start / shutdown ------------------------------------------------- */

static gpointer
background_sync (gpointer data)
{
  CtClient *self = data;
  gboolean dirty;

  g_mutex_lock (&self->bg_lock);
  while (!self->bg_stop)
    {
      gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;

      while (!self->bg_stop && !self->bg_kick)
        if (!g_cond_wait_until (&self->bg_cond, &self->bg_lock, until))
          break;
      self->bg_kick = FALSE;
      if (self->bg_stop)
        break;
      g_mutex_unlock (&self->bg_lock);
      /* Backoff decides what is due; errors are local (disk) and retried. */
      ct_sync_drain_once (self->sync, FALSE, NULL, NULL);
      g_mutex_lock (&self->lock);
      dirty = self->counts_dirty;
      g_mutex_unlock (&self->lock);
      if (dirty)
        recount (self);
      g_mutex_lock (&self->bg_lock);
    }
  g_mutex_unlock (&self->bg_lock);
  return NULL;
}

static gboolean
fetch_merchant (CtClient *self, CtMerchant **out, GError **error);
static void learn_time_zone (CtClient *self);

static gboolean
stored_merchant_fresh (CtClient *self)
{
  g_autoptr(CtMerchant) stored = NULL;
  gint64 age;

  if (self->config->merchant_max_age_s == 0)
    return FALSE;
  stored = ct_member_cache_load_merchant (self->cache);
  if (stored == NULL)
    return FALSE;
  age = g_get_real_time () - stored->fetched_at;
  return age >= 0 && age < (gint64) self->config->merchant_max_age_s * G_USEC_PER_SEC;
}

gboolean
ct_client_start (CtClient      *self,
                 const char    *first_manager_pin,
                 char         **out_generated_pin,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GError) local = NULL;
  const char *url, *token, *ca, *pin;
  CtEmbedded *embedded = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), FALSE);

  if (out_generated_pin)
    *out_generated_pin = NULL;

  if (ct_client_is_embedded (self))
    {
      g_mutex_lock (&self->lock);
      embedded = self->embedded;
      g_mutex_unlock (&self->lock);
      if (embedded == NULL)
        {
          embedded = ct_embedded_join (self->config->data_dir,
                                       first_manager_pin ? first_manager_pin
                                                         : self->config->first_manager_pin,
                                       out_generated_pin, error);
          if (embedded == NULL)
            return FALSE;
          g_mutex_lock (&self->lock);
          self->embedded = embedded;
          g_mutex_unlock (&self->lock);
        }
      url = ct_embedded_get_url (embedded);
      token = ct_embedded_get_token (embedded);
      ca = ct_embedded_get_ca_file (embedded);
      pin = ct_embedded_get_pin_pubkey (embedded);
    }
  else
    {
      if (self->config->token == NULL || *self->config->token == '\0')
        {
          g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                               "No till token for the card service: give --token-file F, "
                               "CARDTILL_TOKEN or token= in till.ini (cardtill-service till add "
                               "prints one)");
          return FALSE;
        }
      url = self->config->service_url;
      token = self->config->token;
      ca = self->config->ca_file;
      pin = self->config->pin_pubkey;
    }
  if (!ct_sync_set_service (self->sync, url, token, ca, pin, self->config->connect_timeout_ms,
                            self->config->request_timeout_ms, error))
    return FALSE;

  /* The merchant's settings feed the offline rules; offline, the stored
   * ones stay. A refused token is worth saying at once. A one-shot command
   * content with recent stored settings saves the round trip (its own
   * request says a refused token or certificate as well). */
  if (stored_merchant_fresh (self))
    learn_time_zone (self);
  else if (!fetch_merchant (self, NULL, &local))
    {
      if (g_error_matches (local, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNAUTHORIZED)
          || g_error_matches (local, CT_CLIENT_ERROR, CT_CLIENT_ERROR_TLS)
          || g_error_matches (local, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_debug ("merchant settings not refreshed: %s", local->message);
      learn_time_zone (self);
    }
  g_mutex_lock (&self->lock);
  self->started = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static void
start_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CtClient *self = source;
  g_autoptr(GError) error = NULL;
  char *pin = NULL;

  if (!ct_client_start (self, task_data, &pin, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_mutex_lock (&self->bg_lock);
  if (self->bg_thread == NULL && !self->bg_stop)
    self->bg_thread = g_thread_new ("ct-sync", background_sync, self);
  g_mutex_unlock (&self->bg_lock);
  g_task_return_pointer (task, pin, g_free);
}

void
ct_client_start_async (CtClient            *self,
                       const char          *first_manager_pin,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_start_async, g_strdup (first_manager_pin), (GDestroyNotify) ct_secret_free,
                      start_thread, cancellable, callback, user_data);
}

gboolean
ct_client_start_finish (CtClient      *self,
                        GAsyncResult  *result,
                        char         **out_generated_pin,
                        GError       **error)
{
  char *pin;

  g_return_val_if_fail (ct_client_task_is_valid (self, result, ct_client_start_async), FALSE);

  pin = g_task_propagate_pointer (G_TASK (result), error);
  if (pin == NULL && g_task_had_error (G_TASK (result)))
    return FALSE;
  if (out_generated_pin)
    *out_generated_pin = pin;
  else
    g_free (pin);
  return TRUE;
}

void
ct_client_shutdown (CtClient *self)
{
  GThread *thread;
  CtEmbedded *embedded;

  g_return_if_fail (CT_IS_CLIENT (self));

  g_mutex_lock (&self->bg_lock);
  self->bg_stop = TRUE;
  thread = g_steal_pointer (&self->bg_thread);
  g_cond_broadcast (&self->bg_cond);
  g_mutex_unlock (&self->bg_lock);
  if (thread != NULL)
    g_thread_join (thread);

  g_mutex_lock (&self->lock);
  embedded = g_steal_pointer (&self->embedded);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&embedded, ct_embedded_leave);
}

static void
kick_background (CtClient *self)
{
  g_mutex_lock (&self->bg_lock);
  self->bg_kick = TRUE;
  g_cond_signal (&self->bg_cond);
  g_mutex_unlock (&self->bg_lock);
}

/* ---- generic request -------------------------------------------------- */

/* Requests whose time of taking decides their day and shift. */
static gboolean
takes_money (CtOutboxKind kind)
{
  switch (kind)
    {
    case CT_OUTBOX_KIND_TOPUP:
    case CT_OUTBOX_KIND_PAYMENT:
    case CT_OUTBOX_KIND_REFUND:
    case CT_OUTBOX_KIND_ADJUSTMENT:
    case CT_OUTBOX_KIND_SHIFT:
      return TRUE;
    case CT_OUTBOX_KIND_CARD_ISSUE:
    case CT_OUTBOX_KIND_CARD_PATCH:
    case CT_OUTBOX_KIND_CARD_REPLACE:
    case CT_OUTBOX_KIND_IMPORT:
    case CT_OUTBOX_KIND_OTHER:
    default:
      return FALSE;
    }
}

CtAnswer *
ct_client_request (CtClient             *self,
                   const char           *method,
                   const char           *path,
                   const char           *idempotency_key,
                   GBytes               *body,
                   const CtRequestInfo  *info,
                   GCancellable         *cancellable,
                   GError              **error)
{
  g_autoptr(GBytes) stamped_body = NULL;
  CtAnswer *answer;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  g_return_val_if_fail (method != NULL && path != NULL, NULL);

  if (g_ascii_strcasecmp (method, "GET") == 0)
    {
      g_autoptr(GError) local = NULL;

      answer = ct_sync_get (self->sync, path, &local);
      if (answer == NULL)
        {
          if (g_error_matches (local, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return NULL;
            }
          answer = g_new0 (CtAnswer, 1);
          answer->not_sent = TRUE;
          answer->reason_code = local->code;
          answer->reason = g_strdup (local->message);
        }
      return answer;
    }

  g_return_val_if_fail (body != NULL && info != NULL, NULL);
  if (takes_money (info->kind) && idempotency_key == NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (body, &len);
      char *stamped = ct_wire_add_taken_at (data, len, g_get_real_time ());

      if (stamped != NULL)
        stamped_body = g_bytes_new_take (stamped, strlen (stamped));
    }
  answer = ct_sync_submit (self->sync, method, path, idempotency_key,
                           stamped_body != NULL ? stamped_body : body, info, cancellable, error);
  flush_counts (self);
  if (answer != NULL && answer->queued)
    kick_background (self);
  return answer;
}

gboolean
ct_client_sync (CtClient      *self,
                guint          wait_ms,
                guint         *out_settled,
                GCancellable  *cancellable,
                GError       **error)
{
  gboolean ok;

  g_return_val_if_fail (CT_IS_CLIENT (self), FALSE);
  ok = ct_sync_drain (self->sync, wait_ms, out_settled, cancellable, error);
  flush_counts (self);
  return ok;
}

/* ---- typed calls -------------------------------------------------------- */

CtAnswer *
ct_client_send (CtClient         *self,
                const CtRequest  *request,
                GCancellable     *cancellable,
                GError          **error)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  g_return_val_if_fail (request != NULL, NULL);

  return ct_client_request (self, request->method, request->path, request->idempotency_key,
                            request->body, &request->info, cancellable, error);
}

/* The body of an answer that must be a success (2xx). */
static GBytes *
send_ok (CtClient         *self,
         const CtRequest  *request,
         GCancellable     *cancellable,
         GError          **error)
{
  g_autoptr(CtAnswer) answer = ct_client_send (self, request, cancellable, error);

  if (answer == NULL || !ct_answer_to_error (answer, error))
    return NULL;
  return g_bytes_ref (answer->body);
}

/* Times are shown in the merchant's zone, from its last known settings. */
static void
learn_time_zone (CtClient *self)
{
  g_autoptr(CtMerchant) merchant = ct_member_cache_load_merchant (self->cache);

  if (merchant != NULL && merchant->timezone != NULL)
    ct_format_set_time_zone (merchant->timezone);
}

static gboolean
fetch_merchant (CtClient    *self,
                CtMerchant **out,
                GError     **error)
{
  g_autoptr(CtRequest) request = ct_request_merchant ();
  g_autoptr(GBytes) body = send_ok (self, request, NULL, error);
  gsize len;
  const char *data;

  if (body == NULL)
    return FALSE;
  data = g_bytes_get_data (body, &len);
  if (!ct_member_cache_store_merchant (self->cache, data, len, error))
    return FALSE;
  schedule (self, NOTIFY_PROPERTY, PROP_MERCHANT, NULL);
  learn_time_zone (self);
  if (out)
    *out = ct_member_cache_load_merchant (self->cache);
  return TRUE;
}

CtMerchant *
ct_client_fetch_merchant (CtClient      *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  CtMerchant *m = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  if (!fetch_merchant (self, &m, error))
    return NULL;
  return m;
}

/* Sends a money request and turns the answer into a receipt. */
static CtReceipt *
send_for_receipt (CtClient         *self,
                  const CtRequest  *request,
                  GCancellable     *cancellable,
                  GError          **error)
{
  g_autoptr(CtAnswer) answer = ct_client_send (self, request, cancellable, error);
  CtReceipt *receipt;
  gsize len;
  const char *data;

  if (answer == NULL || !ct_answer_to_error (answer, error))
    return NULL;
  data = g_bytes_get_data (answer->body, &len);
  receipt = ct_wire_decode_receipt (data, len, error);
  if (receipt != NULL)
    {
      receipt->idempotency_key = g_strdup (answer->idempotency_key);
      receipt->replayed = answer->replayed;
    }
  return receipt;
}

/* Sends a card change and decodes the card it answers. */
static CtCard *
send_for_card (CtClient         *self,
               const CtRequest  *request,
               GCancellable     *cancellable,
               GError          **error)
{
  g_autoptr(GBytes) body = send_ok (self, request, cancellable, error);
  gsize len;
  const char *data;

  if (body == NULL)
    return NULL;
  data = g_bytes_get_data (body, &len);
  return ct_wire_decode_card (data, len, error);
}

/* The package and the terms the customer was shown, from a stored top-up
 * body; FALSE when it is not a package top-up with "expect". */
static gboolean
stored_package_terms (GBytes   *body,
                      char    **out_id,
                      int64_t  *out_amount,
                      int64_t  *out_bonus)
{
  gsize len;
  const char *data = g_bytes_get_data (body, &len);
  g_autofree char *text = g_strndup (data, len);
  json_object *obj = json_tokener_parse (text);
  json_object *id, *expect, *amount, *bonus;
  gboolean ok;

  ok = obj != NULL && json_object_object_get_ex (obj, "package_id", &id)
       && json_object_is_type (id, json_type_string)
       && json_object_object_get_ex (obj, "expect", &expect)
       && json_object_object_get_ex (expect, "amount", &amount)
       && json_object_object_get_ex (expect, "bonus", &bonus);
  if (ok)
    {
      *out_id = g_strdup (json_object_get_string (id));
      *out_amount = json_object_get_int64 (amount);
      *out_bonus = json_object_get_int64 (bonus);
    }
  json_object_put (obj);
  return ok;
}

/* The package of a stored top-up as the service has it now, when its terms
 * differ from those the customer was shown; NULL otherwise (or on error). */
static CtPackage *
quote_package (CtClient             *self,
               const CtOutboxEntry  *e,
               CtMerchant          **out_merchant,
               GError              **error)
{
  g_autofree char *id = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  const CtPackage *now;
  int64_t amount, bonus;

  if (e->kind != CT_OUTBOX_KIND_TOPUP || !stored_package_terms (e->body, &id, &amount, &bonus))
    return NULL;
  if (!fetch_merchant (self, &merchant, error))
    return NULL;
  now = ct_merchant_find_package (merchant, id);
  if (now == NULL)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND,
                   "The package %s no longer exists: record what was done instead", id);
      return NULL;
    }
  if (out_merchant)
    *out_merchant = g_steal_pointer (&merchant);
  if (now->amount == amount && now->bonus == bonus)
    return NULL;
  return ct_package_copy (now);
}

/* Replaces the manager of a stored body (a re-send is a new intent) and,
 * for a package top-up, the terms with those the manager confirmed. */
static char *
body_with_manager (GBytes           *body,
                   const char       *manager_id,
                   const char       *manager_pin,
                   const CtPackage  *terms,
                   GError          **error)
{
  gsize len;
  const char *data = g_bytes_get_data (body, &len);
  g_autofree char *text = g_strndup (data, len);
  json_object *obj = json_tokener_parse (text);

  if (obj == NULL || !json_object_is_type (obj, json_type_object))
    {
      json_object_put (obj);
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL,
                           "The stored request cannot be read back");
      return NULL;
    }
  /* Only requests that carry a manager get the one who re-sends them. */
  if (manager_id != NULL && json_object_object_get_ex (obj, "manager", NULL))
    {
      json_object *m = json_object_new_object ();

      json_object_object_add (m, "id", json_object_new_string (manager_id));
      json_object_object_add (m, "pin", json_object_new_string (manager_pin ? manager_pin : ""));
      json_object_object_add (obj, "manager", m);
    }
  if (terms != NULL && json_object_object_get_ex (obj, "expect", NULL))
    {
      json_object *expect = json_object_new_object ();

      json_object_object_add (expect, "amount", json_object_new_int64 (terms->amount));
      json_object_object_add (expect, "bonus", json_object_new_int64 (terms->bonus));
      json_object_object_add (obj, "expect", expect);
    }
  return ct_wire_json_take_text (obj);
}

/* Every card a look-up answered goes to the member cache. */
static void
learn_cards (CtClient       *self,
             const CtAnswer *answer,
             gboolean        list)
{
  gsize len;
  const char *data;

  if (answer->status != 200 || answer->body == NULL)
    return;
  data = g_bytes_get_data (answer->body, &len);
  if (list)
    {
      g_autoptr(GPtrArray) cards = ct_wire_decode_card_list (data, len, NULL);

      for (guint i = 0; cards != NULL && i < cards->len; i++)
        {
          ct_member_cache_store (self->cache, g_ptr_array_index (cards, i), NULL);
          schedule (self, NOTIFY_CARD_UPDATED, 0, g_ptr_array_index (cards, i));
        }
    }
  else
    {
      g_autoptr(CtCard) card = ct_wire_decode_card (data, len, NULL);

      if (card != NULL)
        {
          ct_member_cache_store (self->cache, card, NULL);
          schedule (self, NOTIFY_CARD_UPDATED, 0, card);
        }
    }
}

/* Sends a look-up; every card its answer carries is learnt. */
static CtAnswer *
send_lookup (CtClient      *self,
             CtRequest     *request,
             gboolean       list,
             GCancellable  *cancellable,
             GError       **error)
{
  CtAnswer *answer;

  if (request == NULL)
    return NULL;
  answer = ct_client_send (self, request, cancellable, error);
  if (answer != NULL)
    learn_cards (self, answer, list);
  return answer;
}

CtAnswer *
ct_client_card_lookup (CtClient      *self,
                       const char    *card_no,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(CtRequest) request = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);

  request = ct_request_card_show (card_no, error);
  return send_lookup (self, request, FALSE, cancellable, error);
}

CtAnswer *
ct_client_card_search (CtClient      *self,
                       const char    *phone,
                       const char    *name,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(CtRequest) request = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);

  request = ct_request_card_find (phone, name, error);
  return send_lookup (self, request, TRUE, cancellable, error);
}

gboolean
ct_client_voided_bonus (CtClient             *self,
                        const CtTransaction  *refund,
                        int64_t              *out_bonus,
                        GCancellable         *cancellable,
                        GError              **error)
{
  g_autofree char *cursor = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (refund != NULL && out_bonus != NULL, FALSE);

  /* A service that names a void's tender records its bonus too; and the
   * top-up may be a lost card's, not in the history of the card that
   * replaced it. */
  if (refund->tender != NULL)
    {
      *out_bonus = refund->bonus;
      return TRUE;
    }
  /* An older service: newest first, the top-up is usually on the first
   * page. */
  for (guint pages = 0; refund->refund_of != NULL && refund->card_no != NULL && pages < 20; pages++)
    {
      g_autoptr(CtRequest) request = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(CtHistoryPage) page = NULL;
      gsize len;
      const char *data;

      request = ct_request_history (refund->card_no, "2000-01-01", "2100-01-01", cursor, 500,
                                    error);
      if (request == NULL)
        return FALSE;
      body = send_ok (self, request, cancellable, error);
      if (body == NULL)
        return FALSE;
      data = g_bytes_get_data (body, &len);
      page = ct_wire_decode_history (data, len, error);
      if (page == NULL)
        return FALSE;
      for (guint i = 0; i < page->transactions->len; i++)
        {
          const CtTransaction *tx = g_ptr_array_index (page->transactions, i);

          if (g_strcmp0 (tx->id, refund->refund_of) == 0)
            {
              *out_bonus = tx->bonus;
              return TRUE;
            }
        }
      if (page->next_cursor == NULL || g_cancellable_is_cancelled (cancellable))
        break;
      g_free (cursor);
      cursor = g_strdup (page->next_cursor);
    }
  g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND,
                       "The voided top-up is not in the card's history");
  return FALSE;
}

/* POST /v1/outcomes with the manager's PIN; the audit id on success, and
 * in *out_shift_id the shift whose drawer @cash_given_back left (NULL:
 * none was open). A new key is used each time (a refused PIN is stored
 * with its key). */
static char *
record_outcome_at_service (CtClient             *self,
                           const CtOutboxEntry  *e,
                           const char           *manager_id,
                           const char           *manager_pin,
                           const char           *outcome,
                           int64_t               cash_given_back,
                           char                **out_shift_id,
                           GCancellable         *cancellable,
                           GError              **error)
{
  g_autoptr(CtRequest) request = ct_request_outcome (e, outcome, cash_given_back, manager_id, manager_pin);
  g_autoptr(GBytes) body = send_ok (self, request, cancellable, error);
  g_autofree char *copy = NULL;
  json_object *obj, *v;
  char *audit_id = NULL;
  gsize len;
  const char *data;

  if (body == NULL)
    return NULL;
  data = g_bytes_get_data (body, &len);
  copy = g_strndup (data, len);
  obj = json_tokener_parse (copy);
  if (obj != NULL && json_object_object_get_ex (obj, "audit_id", &v)
      && json_object_is_type (v, json_type_string))
    audit_id = g_strdup (json_object_get_string (v));
  if (obj != NULL && json_object_object_get_ex (obj, "shift_id", &v)
      && json_object_is_type (v, json_type_string))
    *out_shift_id = g_strdup (json_object_get_string (v));
  json_object_put (obj);
  if (audit_id == NULL)
    g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                         "The service's answer to the outcome has no audit id");
  return audit_id;
}

/* An outbox entry by the number the user gave; with @refusal, it must
 * need attention (else @refusal is the error). A wrong number is the
 * user's input, not a refusal of the service. */
static CtOutboxEntry *
get_entry (CtClient    *self,
           gint64       entry_id,
           const char  *refusal,
           GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(CtOutboxEntry) e = ct_outbox_get (self->outbox, entry_id, &local);

  if (e == NULL)
    {
      if (g_error_matches (local, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND))
        local->code = CT_CLIENT_ERROR_INVALID_INPUT;
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (refusal != NULL && e->state != CT_OUTBOX_STATE_NEEDS_ATTENTION)
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT, refusal);
      return NULL;
    }
  return g_steal_pointer (&e);
}

/* ---- the asynchronous calls: one worker each, on its own task data ----- */

GTask *
ct_client_task_new (CtClient            *self,
                    gpointer             source_tag,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  return task;
}

/* Starts the call of @source_tag: @worker runs in a thread on @task_data
 * (taken, freed with @task_data_free; may be NULL). */
void
ct_client_run_task (CtClient            *self,
                    gpointer             source_tag,
                    gpointer             task_data,
                    GDestroyNotify       task_data_free,
                    GTaskThreadFunc      worker,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = ct_client_task_new (self, source_tag, cancellable, callback, user_data);

  g_task_set_task_data (task, task_data, task_data_free);
  g_task_run_in_thread (task, worker);
}

/* The task of a call on @request (taken), or NULL when the request could
 * not be built: then @error (taken) has gone to the callback. */
static GTask *
request_task (CtClient            *self,
              CtRequest           *request,
              GError              *error,
              gpointer             source_tag,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task = ct_client_task_new (self, source_tag, cancellable, callback, user_data);

  if (request == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return NULL;
    }
  g_task_set_task_data (task, request, (GDestroyNotify) ct_request_free);
  return task;
}

/* Runs @worker on @request (taken) in a thread, or, when the request could
 * not be built, returns @error (taken) to the callback. */
static void
run_request (CtClient            *self,
             CtRequest           *request,
             GError              *error,
             GTaskThreadFunc      worker,
             gpointer             source_tag,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  g_autoptr(GTask) task = request_task (self, request, error, source_tag, cancellable, callback, user_data);

  if (task != NULL)
    g_task_run_in_thread (task, worker);
}

/* Returns @result, or @error (taken) when it is NULL. */
void
ct_client_task_return (GTask          *task,
                       gpointer        result,
                       GDestroyNotify  result_free,
                       GError         *error)
{
  if (result != NULL)
    g_task_return_pointer (task, result, result_free);
  else
    g_task_return_error (task, error);
}

/* @result is a task of @self that the call of @source_tag made. */
gboolean
ct_client_task_is_valid (CtClient     *self,
                         GAsyncResult *result,
                         gpointer      source_tag)
{
  return CT_IS_CLIENT (self) && g_task_is_valid (result, self) &&
         g_task_get_source_tag (G_TASK (result)) == source_tag;
}

/* The result of a call started with @source_tag. */
gpointer
ct_client_task_finish (CtClient      *self,
                       GAsyncResult  *result,
                       gpointer       source_tag,
                       GError       **error)
{
  g_return_val_if_fail (ct_client_task_is_valid (self, result, source_tag), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
merchant_worker (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  CtClient *self = source;
  GError *error = NULL;
  CtMerchant *merchant = NULL;

  fetch_merchant (self, &merchant, &error);
  ct_client_task_return (task, merchant, (GDestroyNotify) ct_merchant_free, error);
}

void
ct_client_merchant_async (CtClient            *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_merchant_async, NULL, NULL, merchant_worker, cancellable, callback,
                      user_data);
}

CtMerchant *
ct_client_merchant_finish (CtClient      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_merchant_async, error);
}

/**
 * ct_client_fetch_features:
 *
 * Blocking form of ct_client_features_async(), for the CLI.
 *
 * Returns: (transfer full): the features' names, or %NULL with @error
 *   set when the service could not be asked
 */
char **
ct_client_fetch_features (CtClient      *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autoptr(CtRequest) request = ct_request_health ();
  g_autoptr(GBytes) body = NULL;
  char **features = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);

  body = send_ok (self, request, cancellable, error);
  if (body == NULL
      || !ct_wire_decode_health (g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL, &features, error))
    return NULL;
  return features;
}

/* GET /v1/health: the features the service names, for a till to check
 * before it offers something that needs one. */
static void
features_worker (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;
  char **features = ct_client_fetch_features (source, cancellable, &error);

  ct_client_task_return (task, features, (GDestroyNotify) g_strfreev, error);
}

/**
 * ct_client_features_async:
 *
 * Asks the service which features of the API it has beyond the first
 * version ("partial_refund", "split_payment", …), as docs/api.md lists
 * them. A service that lacks one refuses or misreads a request that
 * needs it: ask before offering it.
 */
void
ct_client_features_async (CtClient            *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_features_async, NULL, NULL, features_worker, cancellable, callback,
                      user_data);
}

/**
 * ct_client_features_finish:
 *
 * Returns: (transfer full): the features' names, or %NULL with @error
 *   set when the service could not be asked
 */
char **
ct_client_features_finish (CtClient      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_features_async, error);
}

/* A look-up whose success (2xx) decodes to the call's result: one card,
 * or a list of them. */
typedef struct
{
  gboolean         list;
  gpointer       (*decode) (const char *body, gsize len, GError **error);
  GDestroyNotify   result_free;
} Lookup;

static gpointer
decode_card (const char *body, gsize len, GError **error)
{
  return ct_wire_decode_card (body, len, error);
}

static gpointer
decode_card_list (const char *body, gsize len, GError **error)
{
  return ct_wire_decode_card_list (body, len, error);
}

static const Lookup card_show_lookup = { FALSE, decode_card, (GDestroyNotify) ct_card_free };
static const Lookup card_find_lookup = { TRUE, decode_card_list, (GDestroyNotify) g_ptr_array_unref };

/* The worker of a look-up (run_lookup()): the answer must be a success,
 * and the cards it carries are learnt either way. */
static void
lookup_worker (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  const Lookup *lookup = g_object_get_data (G_OBJECT (task), "ct-lookup");
  GError *error = NULL;
  g_autoptr(CtAnswer) answer = send_lookup (source, task_data, lookup->list, cancellable, &error);
  gpointer result = NULL;

  if (answer != NULL && ct_answer_to_error (answer, &error))
    result = lookup->decode (g_bytes_get_data (answer->body, NULL), g_bytes_get_size (answer->body), &error);
  ct_client_task_return (task, result, lookup->result_free, error);
}

/* run_request() for a look-up. */
static void
run_lookup (CtClient            *self,
            CtRequest           *request,
            GError              *error,
            const Lookup        *lookup,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = request_task (self, request, error, source_tag, cancellable, callback, user_data);

  if (task == NULL)
    return;
  g_object_set_data (G_OBJECT (task), "ct-lookup", (gpointer) lookup);
  g_task_run_in_thread (task, lookup_worker);
}

void
ct_client_card_show_async (CtClient            *self,
                           const char          *card_no,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  request = ct_request_card_show (card_no ? card_no : "", &error);
  run_lookup (self, request, error, &card_show_lookup, ct_client_card_show_async, cancellable,
              callback, user_data);
}

CtCard *
ct_client_card_show_finish (CtClient      *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_card_show_async, error);
}

void
ct_client_card_find_async (CtClient            *self,
                           const char          *phone,
                           const char          *name,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  request = ct_request_card_find (phone, name, &error);
  run_lookup (self, request, error, &card_find_lookup, ct_client_card_find_async, cancellable,
              callback, user_data);
}

GPtrArray *
ct_client_card_find_finish (CtClient      *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_card_find_async, error);
}

/* The worker of the card changes (issue, patch): the card they answer. */
static void
card_change_worker (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  GError *error = NULL;
  CtCard *card = send_for_card (source, task_data, cancellable, &error);

  ct_client_task_return (task, card, (GDestroyNotify) ct_card_free, error);
}

void
ct_client_card_issue_async (CtClient            *self,
                            const char          *member_name,
                            const char          *member_phone,
                            const char          *level,
                            const char          *card_no,
                            const char          *manager_id,
                            const char          *manager_pin,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  ct_client_card_issue_with_pin_async (self, member_name, member_phone, level, card_no, NULL,
                                       manager_id, manager_pin, cancellable, callback, user_data);
}

void
ct_client_card_issue_with_pin_async (CtClient            *self,
                                     const char          *member_name,
                                     const char          *member_phone,
                                     const char          *level,
                                     const char          *card_no,
                                     const char          *member_pin,
                                     const char          *manager_id,
                                     const char          *manager_pin,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  request = ct_request_card_issue (member_name, member_phone, level, card_no, member_pin, operator_name,
                                   manager_id, manager_pin, &error);
  run_request (self, request, error, card_change_worker, ct_client_card_issue_async, cancellable,
               callback, user_data);
}

CtCard *
ct_client_card_issue_finish (CtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_card_issue_async, error);
}

void
ct_client_card_patch_async (CtClient            *self,
                            const char          *card_no,
                            const CtCardPatch   *patch,
                            const char          *manager_id,
                            const char          *manager_pin,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));
  g_return_if_fail (patch != NULL);

  request = ct_request_card_patch (card_no ? card_no : "", patch, manager_id, manager_pin,
                                   &error);
  run_request (self, request, error, card_change_worker, ct_client_card_patch_async, cancellable,
               callback, user_data);
}

CtCard *
ct_client_card_patch_finish (CtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_card_patch_async, error);
}

void
ct_client_member_pin_async (CtClient            *self,
                            const char          *card_no,
                            const char          *member_pin,
                            const char          *manager_id,
                            const char          *manager_pin,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));
  g_return_if_fail (member_pin != NULL);

  operator_name = dup_operator (self);
  request = ct_request_member_pin (card_no ? card_no : "", member_pin, operator_name, manager_id,
                                   manager_pin, &error);
  run_request (self, request, error, card_change_worker, ct_client_member_pin_async, cancellable,
               callback, user_data);
}

/* A lost card's replacement: the new card is the answer. The sync layer
 * already put both cards into the member cache (the lost one closed, so the
 * offline rules refuse it) when the answer arrived, for every caller. */
static void
card_replace_worker (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  CtClient *self = source;
  GError *error = NULL;
  g_autoptr(GBytes) body = send_ok (self, task_data, cancellable, &error);
  CtCard *card = NULL;
  g_autoptr(CtCard) replaced = NULL;

  if (body != NULL
      && ct_wire_decode_card_replaced (g_bytes_get_data (body, NULL), g_bytes_get_size (body), &card, &replaced,
                                       &error))
    {
      schedule (self, NOTIFY_CARD_UPDATED, 0, replaced);
      schedule (self, NOTIFY_CARD_UPDATED, 0, card);
    }
  ct_client_task_return (task, card, (GDestroyNotify) ct_card_free, error);
}

void
ct_client_card_replace_async (CtClient            *self,
                              const char          *card_no,
                              const char          *new_card_no,
                              const char          *manager_id,
                              const char          *manager_pin,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  request = ct_request_card_replace (card_no ? card_no : "", new_card_no, operator_name, manager_id, manager_pin,
                                     &error);
  run_request (self, request, error, card_replace_worker, ct_client_card_replace_async, cancellable,
               callback, user_data);
}

CtCard *
ct_client_card_replace_finish (CtClient      *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_card_replace_async, error);
}

CtCard *
ct_client_member_pin_finish (CtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_member_pin_async, error);
}

/* The worker of the money calls (top-up, pay, refund, adjust): the receipt
 * of the request they built. */
static void
money_worker (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;
  CtReceipt *receipt = send_for_receipt (source, task_data, cancellable, &error);

  ct_client_task_return (task, receipt, (GDestroyNotify) ct_receipt_free, error);
}

void
ct_client_topup_async (CtClient            *self,
                       const char          *card_no,
                       const CtPackage     *package,
                       int64_t              amount,
                       const char          *tender,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  if (package != NULL)
    request = ct_request_topup_package (card_no ? card_no : "", package->id, package, tender,
                                        operator_name, &error);
  else
    request = ct_request_topup_amount (card_no ? card_no : "", amount, tender, operator_name,
                                       &error);
  /* Every top-up call shares one source tag, so any of them finishes it. */
  run_request (self, request, error, money_worker, ct_client_topup_async, cancellable, callback,
               user_data);
}

void
ct_client_topup_package_async (CtClient            *self,
                               const char          *card_no,
                               const CtPackage     *package,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (package != NULL);

  ct_client_topup_async (self, card_no, package, 0, NULL, cancellable, callback, user_data);
}

void
ct_client_topup_amount_async (CtClient            *self,
                              const char          *card_no,
                              int64_t              amount,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ct_client_topup_async (self, card_no, NULL, amount, NULL, cancellable, callback, user_data);
}

CtReceipt *
ct_client_topup_finish (CtClient      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_topup_async, error);
}

void
ct_client_pay_async (CtClient            *self,
                     const char          *card_no,
                     int64_t              amount,
                     const char          *order_ref,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  ct_client_pay_member_async (self, card_no, amount, order_ref, 0, NULL, NULL, cancellable, callback,
                              user_data);
}

/**
 * ct_client_pay_member_async:
 * @redeem_points: points that pay part of the payment (0: none)
 * @member_code: (nullable): the member's dynamic payment code, their consent
 * @member_pin: (nullable): the PIN the member typed, their consent
 *
 * A payment with the member's side of it; with any of them it is
 * online-only.
 */
void
ct_client_pay_member_async (CtClient            *self,
                            const char          *card_no,
                            int64_t              amount,
                            const char          *order_ref,
                            int64_t              redeem_points,
                            const char          *member_code,
                            const char          *member_pin,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  request = ct_request_payment (card_no ? card_no : "", amount, order_ref, redeem_points,
                                member_code, member_pin, operator_name, &error);
  run_request (self, request, error, money_worker, ct_client_pay_member_async, cancellable,
               callback, user_data);
}

/**
 * ct_client_pay_split_async:
 * @redeem_points: points that pay part of the card's share (0: none)
 * @rest: the part of the order @rest_tender took (> 0)
 * @rest_tender: "cash", "wechat", "alipay", "bank_card" or "other"
 *
 * A split payment: the card pays @amount, what its balance and the
 * points redeemed cover, and another tender takes the rest, recorded
 * with the payment.
 */
void
ct_client_pay_split_async (CtClient            *self,
                           const char          *card_no,
                           int64_t              amount,
                           const char          *order_ref,
                           int64_t              redeem_points,
                           const char          *member_code,
                           const char          *member_pin,
                           int64_t              rest,
                           const char          *rest_tender,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  request = ct_request_split_payment (card_no ? card_no : "", amount, order_ref, redeem_points, member_code,
                                      member_pin, rest, rest_tender, operator_name, &error);
  /* Finished like any payment (ct_client_pay_finish). */
  run_request (self, request, error, money_worker, ct_client_pay_member_async, cancellable,
               callback, user_data);
}

CtReceipt *
ct_client_pay_finish (CtClient      *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_pay_member_async, error);
}

void
ct_client_refund_async (CtClient            *self,
                        const char          *card_no,
                        const char          *transaction_id,
                        int64_t              amount,
                        const char          *manager_id,
                        const char          *manager_pin,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  request = ct_request_refund (card_no ? card_no : "", transaction_id, amount, operator_name, manager_id,
                               manager_pin, &error);
  run_request (self, request, error, money_worker, ct_client_refund_async, cancellable, callback,
               user_data);
}

CtReceipt *
ct_client_refund_finish (CtClient      *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_refund_async, error);
}

void
ct_client_adjust_async (CtClient            *self,
                        const char          *card_no,
                        int64_t              delta,
                        const char          *reason,
                        const char          *manager_id,
                        const char          *manager_pin,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *operator_name = NULL;
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  operator_name = dup_operator (self);
  request = ct_request_adjustment (card_no ? card_no : "", delta, reason, operator_name,
                                   manager_id, manager_pin, &error);
  run_request (self, request, error, money_worker, ct_client_adjust_async, cancellable, callback,
               user_data);
}

CtReceipt *
ct_client_adjust_finish (CtClient      *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_adjust_async, error);
}

static void
history_worker (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;
  CtHistoryPage *page = NULL;

  body = send_ok (source, task_data, cancellable, &error);
  if (body != NULL)
    page = ct_wire_decode_history (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                   &error);
  ct_client_task_return (task, page, (GDestroyNotify) ct_history_page_free, error);
}

void
ct_client_history_async (CtClient            *self,
                         const char          *card_no,
                         const char          *from_date,
                         const char          *to_date,
                         const char          *cursor,
                         guint                limit,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GError *error = NULL;
  CtRequest *request;

  g_return_if_fail (CT_IS_CLIENT (self));

  request = ct_request_history (card_no ? card_no : "", from_date, to_date, cursor, limit,
                                &error);
  run_request (self, request, error, history_worker, ct_client_history_async, cancellable,
               callback, user_data);
}

CtHistoryPage *
ct_client_history_finish (CtClient      *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_history_async, error);
}

/**
 * ct_client_day_report:
 * The whole day of the till's store (@date NULL: today), every page of
 * GET /v1/transactions followed; blocks (the CLI, or a worker thread).
 */
CtDayReport *
ct_client_day_report (CtClient    *self,
                      const char  *date,
                      const char  *till,
                      GError     **error)
{
  g_autoptr(CtDayReport) report = NULL;
  g_autofree char *cursor = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);

  do
    {
      g_autoptr(CtRequest) request = ct_request_day_transactions (date, till, cursor);
      g_autoptr(GBytes) body = NULL;
      g_autoptr(CtDayReport) page = NULL;
      gsize len;
      const char *data;

      body = send_ok (self, request, NULL, error);
      if (body == NULL)
        return NULL;
      data = g_bytes_get_data (body, &len);
      page = ct_wire_decode_day_report (data, len, error);
      if (page == NULL)
        return NULL;
      g_free (cursor);
      cursor = g_steal_pointer (&page->next_cursor);
      if (report == NULL)
        report = g_steal_pointer (&page);
      else
        g_ptr_array_extend_and_steal (report->transactions, g_steal_pointer (&page->transactions));
    }
  while (cursor != NULL);
  return g_steal_pointer (&report);
}

typedef struct
{
  char *date;
  char *till;
} DayReportData;

static void
day_report_data_free (DayReportData *data)
{
  g_free (data->date);
  g_free (data->till);
  g_free (data);
}

static void
day_report_worker (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  DayReportData *data = task_data;
  GError *error = NULL;
  CtDayReport *report = ct_client_day_report (source, data->date, data->till, &error);

  ct_client_task_return (task, report, (GDestroyNotify) ct_day_report_free, error);
}

void
ct_client_day_report_async (CtClient            *self,
                            const char          *date,
                            const char          *till,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  DayReportData *data;

  g_return_if_fail (CT_IS_CLIENT (self));

  data = g_new0 (DayReportData, 1);
  data->date = g_strdup (date);
  data->till = g_strdup (till);
  ct_client_run_task (self, ct_client_day_report_async, data, (GDestroyNotify) day_report_data_free,
                      day_report_worker, cancellable, callback, user_data);
}

CtDayReport *
ct_client_day_report_finish (CtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_day_report_async, error);
}

static void
sync_worker (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  CtClient *self = source;
  GError *error = NULL;
  guint settled = 0;

  if (ct_sync_drain (self->sync, self->config->queue_wait_ms, &settled, cancellable, &error))
    g_task_return_int (task, settled);
  else
    g_task_return_error (task, error);
}

void
ct_client_sync_async (CtClient            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_sync_async, NULL, NULL, sync_worker, cancellable, callback, user_data);
}

gboolean
ct_client_sync_finish (CtClient      *self,
                       GAsyncResult  *result,
                       guint         *out_settled,
                       GError       **error)
{
  gssize settled;

  g_return_val_if_fail (ct_client_task_is_valid (self, result, ct_client_sync_async), FALSE);

  settled = g_task_propagate_int (G_TASK (result), error);
  if (settled < 0)
    return FALSE;
  if (out_settled)
    *out_settled = (guint) settled;
  return TRUE;
}

static void
outbox_list_worker (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  CtClient *self = source;
  CtOutboxState state = GPOINTER_TO_INT (task_data);
  GError *error = NULL;
  GPtrArray *list = ct_outbox_list (self->outbox, state, &error);

  ct_client_task_return (task, list, (GDestroyNotify) g_ptr_array_unref, error);
}

void
ct_client_outbox_list_async (CtClient            *self,
                             CtOutboxState        state,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_outbox_list_async, GINT_TO_POINTER (state), NULL, outbox_list_worker,
                      cancellable, callback, user_data);
}

GPtrArray *
ct_client_outbox_list_finish (CtClient      *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_outbox_list_async, error);
}

GPtrArray *
ct_client_outbox_list (CtClient       *self,
                       CtOutboxState   state,
                       GError        **error)
{
  g_return_val_if_fail (CT_IS_CLIENT (self), NULL);
  return ct_outbox_list (self->outbox, state, error);
}

/* ---- needs attention: re-send, or record what was done ----------------- */

typedef struct
{
  gint64     entry_id;
  char      *manager_id;
  char      *manager_pin;
  CtPackage *accepted;     /* re-send: the package terms the manager confirmed */
  char      *outcome;      /* record: what was done instead */
  int64_t    cash_given_back; /* record: from the drawer, minor units (0: none) */
} AttentionData;

static void
attention_data_free (AttentionData *data)
{
  g_free (data->manager_id);
  ct_secret_free (data->manager_pin);
  g_clear_pointer (&data->accepted, ct_package_free);
  g_free (data->outcome);
  g_free (data);
}

static AttentionData *
attention_data_new (gint64      entry_id,
                    const char *manager_id,
                    const char *manager_pin)
{
  AttentionData *data = g_new0 (AttentionData, 1);

  data->entry_id = entry_id;
  data->manager_id = g_strdup (manager_id);
  data->manager_pin = g_strdup (manager_pin);
  return data;
}

/* The request that re-sends @e: its intent with the manager who re-sends
 * it and, for a package top-up, the package's current terms, which the
 * manager must have confirmed. */
static CtRequest *
resend_request (CtClient             *self,
                const CtOutboxEntry  *e,
                const AttentionData  *data,
                GError              **error)
{
  g_autoptr(CtPackage) now = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  g_autoptr(GError) local = NULL;
  char *body_text;

  now = quote_package (self, e, &merchant, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (now != NULL
      && (data->accepted == NULL || data->accepted->amount != now->amount
          || data->accepted->bonus != now->bonus))
    {
      g_autofree char *amount = ct_money_format_plain (now->amount, merchant->minor_units);
      g_autofree char *bonus = ct_money_format_plain (now->bonus, merchant->minor_units);

      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PACKAGE_CHANGED,
                   "The package %s is now %s with a bonus of %s%s; confirm these terms "
                   "with the customer to re-send it", now->id, amount, bonus,
                   data->accepted != NULL ? " (it changed again)" : "");
      return NULL;
    }
  body_text = body_with_manager (e->body, data->manager_id, data->manager_pin, now, error);
  if (body_text == NULL)
    return NULL;
  return ct_request_resend (e, body_text, now != NULL ? now->amount : e->amount);
}

/* After the re-sent request was refused too: it stays in view with both
 * refusals (a wrong or locked PIN says nothing about the request itself). */
static void
keep_refused (CtClient            *self,
              const CtOutboxEntry *e,
              const AttentionData *data,
              const CtAnswer      *answer,
              const GError        *refusal)
{
  g_autofree char *note = NULL;

  if (g_error_matches (refusal, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN)
      || g_error_matches (refusal, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PIN_LOCKED)
      || g_error_matches (refusal, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNAUTHORIZED))
    return;
  note = g_strdup_printf ("refused again when re-sent by manager %s (key %s): %s: %s; before: %s",
                          data->manager_id ? data->manager_id : "?", answer->idempotency_key,
                          ct_client_error_code_to_string (refusal->code), refusal->message,
                          e->reason ? e->reason : "");
  ct_outbox_set_state (self->outbox, e->id, CT_OUTBOX_STATE_NEEDS_ATTENTION, answer->status,
                       answer->body, note, NULL);
  recount (self);
}

/* Settles @e from the answer to its re-sent request: resolved once the new
 * request is done or queued, the answer like the original call's. */
static CtReceipt *
settle_resent (CtClient             *self,
               const CtOutboxEntry  *e,
               const AttentionData  *data,
               const CtAnswer       *answer,
               GError              **error)
{
  g_autofree char *note = NULL;
  CtReceipt *receipt;
  gsize len;
  const char *body;

  /* Nothing reached the service: the entry stays as it was. */
  if (answer->not_sent)
    {
      ct_answer_to_error (answer, error);
      return NULL;
    }
  if (!answer->queued && (answer->status < 200 || answer->status >= 300))
    {
      g_autoptr(GError) refusal = NULL;

      ct_answer_to_error (answer, &refusal);
      keep_refused (self, e, data, answer, refusal);
      g_propagate_error (error, g_steal_pointer (&refusal));
      return NULL;
    }
  note = g_strdup_printf ("re-sent as a new request (key %s%s) by manager %s; was: %s",
                          answer->idempotency_key, answer->queued ? ", pending" : "",
                          data->manager_id ? data->manager_id : "?", e->reason ? e->reason : "");
  if (!ct_outbox_set_state (self->outbox, e->id, CT_OUTBOX_STATE_RESOLVED, e->last_status, NULL,
                            note, error))
    return NULL;
  recount (self);
  if (!ct_answer_to_error (answer, error))
    return NULL;
  body = g_bytes_get_data (answer->body, &len);
  receipt = ct_wire_decode_receipt (body, len, NULL);
  /* Card changes answer a card, not a receipt. */
  if (receipt == NULL)
    {
      receipt = g_new0 (CtReceipt, 1);
      receipt->card = ct_wire_decode_card (body, len, NULL);
    }
  receipt->idempotency_key = g_strdup (answer->idempotency_key);
  receipt->replayed = answer->replayed;
  return receipt;
}

static void
resend_worker (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  CtClient *self = source;
  AttentionData *data = task_data;
  g_autoptr(CtOutboxEntry) e = NULL;
  g_autoptr(CtRequest) request = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  GError *error = NULL;
  CtReceipt *receipt = NULL;

  e = get_entry (self, data->entry_id, "Only a request that needs attention can be re-sent",
                 &error);
  if (e != NULL)
    request = resend_request (self, e, data, &error);
  if (request != NULL)
    answer = ct_client_send (self, request, cancellable, &error);
  if (answer != NULL)
    receipt = settle_resent (self, e, data, answer, &error);
  ct_client_task_return (task, receipt, (GDestroyNotify) ct_receipt_free, error);
}

void
ct_client_resend_as_new_async (CtClient            *self,
                               gint64               entry_id,
                               const char          *manager_id,
                               const char          *manager_pin,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  ct_client_resend_accepting_async (self, entry_id, manager_id, manager_pin, NULL, cancellable,
                                    callback, user_data);
}

void
ct_client_resend_accepting_async (CtClient            *self,
                                  gint64               entry_id,
                                  const char          *manager_id,
                                  const char          *manager_pin,
                                  const CtPackage     *accepted,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  AttentionData *data;

  g_return_if_fail (CT_IS_CLIENT (self));

  data = attention_data_new (entry_id, manager_id, manager_pin);
  data->accepted = accepted ? ct_package_copy (accepted) : NULL;
  /* Both re-sends share one source tag, so either finish takes them. */
  ct_client_run_task (self, ct_client_resend_as_new_async, data, (GDestroyNotify) attention_data_free,
                      resend_worker, cancellable, callback, user_data);
}

CtReceipt *
ct_client_resend_as_new_finish (CtClient      *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_resend_as_new_async, error);
}

static void
resend_quote_worker (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  CtClient *self = source;
  AttentionData *data = task_data;
  g_autoptr(CtOutboxEntry) e = NULL;
  GError *error = NULL;
  CtPackage *now = NULL;

  e = get_entry (self, data->entry_id, NULL, &error);
  if (e != NULL)
    now = quote_package (self, e, NULL, &error);
  /* No package, or terms that did not change: NULL without an error. */
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, now, (GDestroyNotify) ct_package_free);
}

void
ct_client_resend_quote_async (CtClient            *self,
                              gint64               entry_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_resend_quote_async, attention_data_new (entry_id, NULL, NULL),
                      (GDestroyNotify) attention_data_free, resend_quote_worker, cancellable, callback,
                      user_data);
}

CtPackage *
ct_client_resend_quote_finish (CtClient      *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_resend_quote_async, error);
}

static void
record_outcome_worker (GTask        *task,
                       gpointer      source,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  CtClient *self = source;
  AttentionData *data = task_data;
  g_autoptr(CtOutboxEntry) e = NULL;
  g_autofree char *note = NULL;
  g_autofree char *audit_id = NULL;
  g_autofree char *shift_id = NULL;
  g_autofree char *cash = NULL;
  GError *error = NULL;

  e = get_entry (self, data->entry_id, "Only a request that needs attention can be resolved",
                 &error);
  if (e == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (data->manager_pin != NULL)
    {
      audit_id = record_outcome_at_service (self, e, data->manager_id, data->manager_pin,
                                            data->outcome, data->cash_given_back, &shift_id,
                                            cancellable, &error);
      if (audit_id == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  if (data->cash_given_back > 0)
    {
      g_autoptr(CtMerchant) merchant = self->cache ? ct_member_cache_load_merchant (self->cache) : NULL;
      g_autofree char *amount = ct_money_format_plain (data->cash_given_back, merchant ? merchant->minor_units : 2);

      cash = shift_id ? g_strdup_printf (" (%s cash handed back, out of shift %s)", amount, shift_id)
                      : g_strdup_printf (" (%s cash handed back, no shift open)", amount);
    }
  note = g_strdup_printf ("outcome recorded by manager %s%s%s: %s%s; was: %s",
                          data->manager_id ? data->manager_id : "?",
                          audit_id ? " at the service, audit " : "", audit_id ? audit_id : "",
                          data->outcome ? data->outcome : "", cash ? cash : "", e->reason ? e->reason : "");
  if (!ct_outbox_set_state (self->outbox, e->id, CT_OUTBOX_STATE_RESOLVED, e->last_status, NULL,
                            note, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  recount (self);
  g_task_return_boolean (task, TRUE);
}

void
ct_client_record_outcome_async (CtClient            *self,
                                gint64               entry_id,
                                const char          *manager_id,
                                const char          *outcome,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  AttentionData *data;

  g_return_if_fail (CT_IS_CLIENT (self));

  data = attention_data_new (entry_id, manager_id, NULL);
  data->outcome = g_strdup (outcome);
  ct_client_run_task (self, ct_client_record_outcome_async, data, (GDestroyNotify) attention_data_free,
                      record_outcome_worker, cancellable, callback, user_data);
}

void
ct_client_record_outcome_authorized_async (CtClient            *self,
                                           gint64               entry_id,
                                           const char          *manager_id,
                                           const char          *manager_pin,
                                           const char          *outcome,
                                           int64_t              cash_given_back,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  AttentionData *data;

  g_return_if_fail (CT_IS_CLIENT (self));
  g_return_if_fail (manager_pin != NULL);
  g_return_if_fail (cash_given_back >= 0);

  data = attention_data_new (entry_id, manager_id, manager_pin);
  data->outcome = g_strdup (outcome);
  data->cash_given_back = cash_given_back;
  /* Both forms share one source tag: ct_client_record_outcome_finish(). */
  ct_client_run_task (self, ct_client_record_outcome_async, data, (GDestroyNotify) attention_data_free,
                      record_outcome_worker, cancellable, callback, user_data);
}

gboolean
ct_client_record_outcome_finish (CtClient      *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (ct_client_task_is_valid (self, result, ct_client_record_outcome_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- cashiers ----------------------------------------------------------- */

typedef struct
{
  char *cashier_id;
  char *pin;
} SignIn;

static void
sign_in_free (SignIn *data)
{
  g_free (data->cashier_id);
  ct_secret_free (data->pin);
  g_free (data);
}

static void
sign_in_worker (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  CtClient *self = source;
  SignIn *data = task_data;
  g_autoptr(CtRequest) request = ct_request_cashier_sign_in (data->cashier_id, data->pin);
  g_autoptr(CtAnswer) answer = NULL;
  g_autoptr(GError) error = NULL;
  CtCashier *cashier = NULL;
  gsize len;
  const char *bytes;

  answer = ct_sync_post_direct (self->sync, request->path, request->body, &error);
  if (answer == NULL)
    {
      /* No answer: the till's own memory of the cashier decides. */
      if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE))
        {
          g_clear_error (&error);
          cashier = ct_cashier_book_verify (self->cashiers, self->service_id, data->cashier_id, data->pin,
                                            g_get_real_time (), &error);
        }
    }
  else if (ct_answer_to_error (answer, &error))
    {
      g_autoptr(GError) local = NULL;

      bytes = g_bytes_get_data (answer->body, &len);
      cashier = ct_cashier_decode (bytes, len, &error);
      if (cashier != NULL
          && !ct_cashier_book_remember (self->cashiers, self->service_id, cashier, data->pin, &local))
        g_warning ("Cannot remember cashier %s for offline sign-in: %s", cashier->id, local->message);
    }
  else if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN))
    ct_cashier_book_forget (self->cashiers, self->service_id, data->cashier_id);
  ct_client_task_return (task, cashier, (GDestroyNotify) ct_cashier_free, g_steal_pointer (&error));
}

void
ct_client_cashier_sign_in_async (CtClient            *self,
                                 const char          *cashier_id,
                                 const char          *pin,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  SignIn *data;

  g_return_if_fail (CT_IS_CLIENT (self));
  g_return_if_fail (cashier_id != NULL && pin != NULL);

  data = g_new0 (SignIn, 1);
  data->cashier_id = g_strdup (cashier_id);
  data->pin = g_strdup (pin);
  ct_client_run_task (self, ct_client_cashier_sign_in_async, data, (GDestroyNotify) sign_in_free,
                      sign_in_worker, cancellable, callback, user_data);
}

CtCashier *
ct_client_cashier_sign_in_finish (CtClient      *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_cashier_sign_in_async, error);
}
