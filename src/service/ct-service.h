/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "ct-store.h"

G_BEGIN_DECLS

#define CT_SERVICE_ERROR (ct_service_error_quark ())

typedef enum
{
  CT_SERVICE_ERROR_FAILED,
  CT_SERVICE_ERROR_ADDRESS,
  CT_SERVICE_ERROR_TLS,
} CtServiceError;

/* Request bodies: 64 KiB on every route but imports, which take 8 MiB. */
#define CT_SERVICE_BODY_MAX        (64 * 1024)
#define CT_SERVICE_IMPORT_BODY_MAX (8 * 1024 * 1024)
/* How far over its limit a body is read and dropped so that the client can
 * read the 413; further over, the answer goes out at once. */
#define CT_SERVICE_BODY_DROP_MAX   (1024 * 1024)
/* Bodies over 64 KiB (imports) received at once; another waits (429). */
#define CT_SERVICE_LARGE_BODIES_AT_ONCE 2

/* Connections: in total, from one address, and how long a connection may
 * take to finish its TLS handshake and first request headers with a valid
 * till token before it is closed (a till's keep-alive connection then gets
 * the longer idle timeout). */
/* TLS 1.2 and 1.3 with AEAD ciphers and ECDHE only: no TLS 1.0/1.1, no CBC
 * suites (CBC-SHA1 was the weak one), no key exchange without forward
 * secrecy. */
#define CT_SERVICE_TLS_PRIORITIES \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305" \
  ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

/* Requests a second per till unless `serve --rate-limit N` says otherwise:
 * far above what a busy till sends (a sale is two or three requests), far
 * below what a stolen token reading the member list would. A till may send
 * that many at once after a quiet second. */
#define CT_SERVICE_RATE_LIMIT_DEFAULT 50

#define CT_SERVICE_CONNECTIONS_DEFAULT       4000
/* PostgreSQL: committers per process, each with a connection of its own;
 * each runs every write waiting at that moment in one transaction. */
#define CT_SERVICE_PG_COMMITTERS_DEFAULT     4
#define CT_SERVICE_PER_ADDRESS_DEFAULT       64
#define CT_SERVICE_HANDSHAKE_TIMEOUT_DEFAULT 10
#define CT_SERVICE_IDLE_TIMEOUT              120
#define CT_SERVICE_KEY_RETENTION_DAYS 35
/* libmicrohttpd's memory per connection: the request's headers and the
 * answer's; a body streams through it. It zeroes all of it between two
 * requests of a keep-alive connection, so it is kept to what a request
 * needs (a till's headers are under 1 KiB). */
#define CT_SERVICE_CONNECTION_MEMORY         8192

typedef struct _CtService CtService;
typedef struct _CtCall CtCall;
typedef struct _CtRoute CtRoute;

/* An answer: a status, a JSON body and the headers that go with some of
 * them. @code is the error code of a refusal (NULL on success). */
typedef struct
{
  guint     status;
  char     *code;
  char     *body;
  guint     retry_after;
  gboolean  replayed;
  const char *content_type; /* NULL: application/json */
  char     *csp;            /* a Content-Security-Policy for a page, or NULL */
} CtReply;

typedef enum
{
  CT_MANAGER_ABSENT,      /* no "manager" in the body */
  CT_MANAGER_GIVEN,       /* id and PIN given; verified is set */
} CtManagerState;

typedef enum
{
  CT_MANAGER_OUTCOME_NONE,
  CT_MANAGER_OUTCOME_SUCCESS,
  CT_MANAGER_OUTCOME_FAILURE,
  CT_MANAGER_OUTCOME_LOCKED,
} CtManagerOutcome;

/* One request on its way through the service. Route functions read the
 * request half and fill @data; the HTTP layer owns the rest. */
struct _CtCall
{
  const CtRoute   *route;
  char            *method;
  char            *path;
  char            *args[2];     /* the path segments matched by '*' */
  GHashTable      *query;       /* GET arguments */
  char            *accept_language; /* the request's Accept-Language, or NULL */
  char            *base_url;    /* what the service is reached at: "https://HOST" */
  GString         *body;
  json_object     *json;        /* the parsed body of a write */
  CtStoreTill           till;
  gboolean         till_cached; /* taken from the till cache in @till_epoch */
  guint64          till_epoch;
  guint8           till_hash[32]; /* the token's SHA-256 */
  CtStore         *store;       /* the store as the till's merchant sees it */
  char            *idem_key;
  guint8           identity[32];

  /* The PIN the request carries: a manager's, or a cashier's signing in
   * (cashier TRUE: manager_id and manager_pin are the cashier's). */
  CtManagerState   manager_state;
  gboolean         cashier;
  char            *manager_id;
  char            *manager_pin;
  char            *guard_id;    /* the key of the id's PIN guard */
  char            *manager_hash_checked; /* the stored hash the PIN was checked against */
  gboolean         manager_verified;
  CtManagerOutcome manager_outcome;
  CtStorePinGuard  manager_guard; /* read by ct_call_check_manager() */
  /* The member PIN a request carries (ct-service-member-pin.c): a payment
   * checks it, a card issue or a PIN change sets it (member_pin_sets). */
  char            *member_pin;
  gboolean         member_pin_sets;
  char            *member_pin_hash;      /* a new PIN's hash, or the stored hash it was checked against */
  char            *member_pin_card;      /* the card the stored hash was read for */
  gboolean         member_pin_verified;
  CtManagerOutcome member_pin_outcome;
  CtStorePinGuard  member_pin_guard;     /* read by ct_call_check_member_pin() */
  int64_t          taken_at;    /* a write's "taken_at" (ms), 0 when absent */
  int64_t          now_ms;      /* when the write is applied, fixed for each attempt; 0: ask the clock */
  char            *card_no;     /* the card acted on, for the audit log */
  int64_t          audit_id;    /* the audit entry the request wrote, 0 if none yet */

  gpointer         data;        /* the route's parsed request */
  GDestroyNotify   data_free;

  CtReply         *reply;
  CtReply         *parse_reply; /* a write's refusal by its parser, until the committer */

  /* HTTP layer state */
  gpointer         connection;
  gsize            body_max;
  gboolean         too_large;
  gboolean         large_body;  /* holds one of the CT_SERVICE_LARGE_BODIES_AT_ONCE */
  gboolean         queued;
  gboolean         claimed;
  CtService       *service;
};

typedef CtReply *(*CtReadFunc)  (CtService *svc, CtCall *call);
/* Parses and validates the body in a worker thread; returns NULL when the
 * request may go to the ledger, or the refusal (400 bad_request). */
typedef CtReply *(*CtParseFunc) (CtService *svc, CtCall *call);
/* Runs in the committer inside the request's savepoint. A non-2xx answer
 * rolls the savepoint back. */
typedef CtReply *(*CtApplyFunc) (CtService *svc, CtStore *store, const CtStoreMerchant *merchant,
                                 CtCall *call);

struct _CtRoute
{
  const char  *method;
  const char  *pattern;   /* "/v1/cards/ * /topups": '*' is one path segment */
  gboolean     public;    /* no token needed */
  CtReadFunc   read;
  CtParseFunc  parse;
  CtApplyFunc  apply;
  gsize        body_max;  /* 0: CT_SERVICE_BODY_MAX */
  const char  *action;    /* a manager action, as the audit log names it */
};

typedef struct
{
  char     *db_path;
  char     *listen;        /* ADDR:PORT */
  char     *cert_file;
  char     *key_file;
  gboolean  insecure_http;
  guint     rate_limit;    /* requests per second per till, 0 = off */
  guint     threads;       /* 0 = two per processor */
  guint     busy_timeout_ms; /* 0 = the store's default */
  guint     wallet_retry_cap_s; /* longest wait between wallet attempts; 0 = 10 min */
  guint     max_connections;   /* 0 = CT_SERVICE_CONNECTIONS_DEFAULT */
  guint     per_address;       /* 0 = CT_SERVICE_PER_ADDRESS_DEFAULT */
  guint     handshake_timeout; /* seconds, 0 = CT_SERVICE_HANDSHAKE_TIMEOUT_DEFAULT */
  char     *public_url;        /* the member links' base URL; NULL: from the request's Host */
  guint     connections;   /* PostgreSQL: committers, one connection each (0 = CT_SERVICE_PG_COMMITTERS_DEFAULT) */
  gboolean  reuse_port;    /* several processes listen on one port */
} CtServiceOptions;

GQuark      ct_service_error_quark  (void);

CtService  *ct_service_new          (const CtServiceOptions *options,
                                     GError                **error);
gboolean    ct_service_start        (CtService   *svc,
                                     GError     **error);
const char *ct_service_get_url      (CtService   *svc);
/* Stops taking connections, lets in-flight requests finish, then stops. */
void        ct_service_stop         (CtService   *svc);
void        ct_service_free         (CtService   *svc);
CtStore    *ct_service_get_store    (CtService   *svc);
/* Writes committed and commit groups (fsyncs) so far. */
void        ct_service_get_stats    (CtService   *svc,
                                     guint64     *n_writes,
                                     guint64     *n_commits);
/* Writes parsed and waiting for a committer. */
guint       ct_service_queued_writes (CtService  *svc);
guint       ct_service_writes_waiting (CtService *svc);

/* Routing (ct-service-routes.c). */
const CtRoute *ct_service_route     (const char  *method,
                                     const char  *path,
                                     char        *args[2],
                                     gboolean    *path_known);

/* Replies. */
CtReply    *ct_reply_new_json       (guint        status,
                                     json_object *body);
CtReply    *ct_reply_error          (guint        status,
                                     const char  *code,
                                     const char  *format,
                                     ...) G_GNUC_PRINTF (3, 4);
CtReply    *ct_reply_card_closed    (const CtStoreCard *card);
CtReply    *ct_reply_copy           (const CtReply *reply);
void        ct_reply_free           (CtReply     *reply);
gboolean    ct_reply_is_stored      (const CtReply *reply);
gboolean    ct_reply_is_success     (const CtReply *reply);

/* Helpers for route functions. */
char       *ct_service_format_time  (int64_t      ms);
json_object *ct_service_card_to_json        (const CtStoreCard *card);
json_object *ct_service_tx_to_json          (const CtStoreTx   *tx);
/* The same objects appended to @out as JSON text; a string NULL is null. */
void        ct_json_append_string        (GString           *out,
                                          const char        *s);
void        ct_service_card_write        (GString           *out,
                                          const CtStoreCard *card);
void        ct_service_tx_write          (GString           *out,
                                          const CtStoreTx   *tx);
json_object *ct_service_totals_to_json      (const CtStoreDayTotals *totals);
CtReply    *ct_call_body_object     (CtCall      *call);
CtReply    *ct_call_take_manager    (CtCall      *call);

/* Managers and the audit log (ct-service-managers.c). */
CtReply    *ct_call_check_manager   (CtCall      *call,
                                     CtStore     *store);
void        ct_service_manager_verify (CtStore   *store,
                                       CtCall    *call);
void        ct_service_manager_record (CtStore       *store,
                                       CtCall        *call,
                                       const CtReply *reply);
int64_t     ct_service_audit          (CtStore       *store,
                                       CtCall        *call,
                                       const char    *manager,
                                       const char    *action,
                                       const char    *card_no,
                                       char          *detail);
/* Member PINs (ct-service-member-pin.c). */
CtReply    *ct_call_take_member_pin   (CtCall      *call,
                                       gboolean     sets);
void        ct_service_member_pin_prepare (CtStore *store,
                                           CtCall  *call);
CtReply    *ct_call_check_member_pin  (CtCall      *call,
                                       CtStore     *store,
                                       const char  *card_no);
gboolean    ct_call_put_member_pin    (CtCall      *call,
                                       CtStore     *store,
                                       const char  *card_no,
                                       GError     **error);
void        ct_service_member_pin_record (CtStore *store,
                                          CtCall  *call);
CtReply    *ct_service_parse_cashier_sign_in (CtService   *svc,
                                             CtCall      *call);
CtReply    *ct_service_apply_cashier_sign_in (CtService             *svc,
                                             CtStore               *store,
                                             const CtStoreMerchant *merchant,
                                             CtCall                *call);
CtReply    *ct_service_parse_outcome  (CtService   *svc,
                                       CtCall      *call);
CtReply    *ct_service_apply_outcome  (CtService             *svc,
                                       CtStore               *store,
                                       const CtStoreMerchant *merchant,
                                       CtCall                *call);
CtReply    *ct_call_card_number     (CtCall      *call,
                                     const char  *text,
                                     const CtStoreMerchant *merchant,
                                     char       **out_card_no);
CtReply    *ct_json_refuse_unknown  (json_object *obj,
                                     const char  *where,
                                     const char * const *known);
gboolean    ct_json_get_string      (json_object *obj,
                                     const char  *key,
                                     gboolean     required,
                                     gsize        max_len,
                                     const char **out,
                                     CtReply    **reply);
gboolean    ct_json_get_int         (json_object *obj,
                                     const char  *key,
                                     gboolean     required,
                                     gboolean    *present,
                                     int64_t     *out,
                                     CtReply    **reply);
gboolean    ct_service_day_range    (const char  *timezone,
                                     const char  *date,
                                     int64_t     *from_ms,
                                     int64_t     *to_ms);
char       *ct_service_today        (const char  *timezone);

/* Request parsing for one route without a server (the fuzz target). */
CtReply    *ct_service_parse_body   (const char  *method,
                                     const char  *path,
                                     const char  *body,
                                     gsize        len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtReply, ct_reply_free)

G_END_DECLS
