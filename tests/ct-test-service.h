/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A real cardtill-service for tests: a temporary directory with a fresh
 * database (merchant "Test Shop", fixed top-up mode), one till "s1"/"t1",
 * manager "m1" with PIN "246813", packages p100 (100.00 + 10.00 bonus) and
 * p200 (200.00 + 15 %), a self-signed certificate for 127.0.0.1, and
 * `serve --listen 127.0.0.1:0` running. The binary is found through
 * $CT_TOP_BUILDDIR/src/service/cardtill-service.
 *
 * The service gets SIGKILL when the thread that started it exits (so a
 * failed Check test never leaves one behind): start and restart it from the
 * test's own thread, not from a short-lived worker. Set CT_TEST_KEEP=1 to
 * keep the temporary directory for a post-mortem. */

typedef struct _CtTestService CtTestService;

#define CT_TEST_SERVICE_MANAGER_ID  "m1"
#define CT_TEST_SERVICE_MANAGER_PIN "246813"
#define CT_TEST_SERVICE_STORE       "s1"
#define CT_TEST_SERVICE_TILL        "t1"

CtTestService *ct_test_service_start          (gboolean        https,
                                               GError        **error);
/* Like _start with extra arguments for `serve` (e.g. "--rate-limit", "5"). */
CtTestService *ct_test_service_start_full     (gboolean            https,
                                               const char * const *serve_args,
                                               GError            **error);
/* Points the service at another database (its ledger copied there); the
 * next restart serves it with the same till token and certificate. */
void           ct_test_service_set_db         (CtTestService      *svc,
                                               const char         *location);
/* Another `serve` process over the same database (PostgreSQL only). */
CtTestService *ct_test_service_start_peer     (CtTestService      *primary,
                                               const char * const *serve_args,
                                               GError            **error);
const char    *ct_test_service_get_url        (CtTestService  *svc);
const char    *ct_test_service_get_token      (CtTestService  *svc);
const char    *ct_test_service_get_ca_file    (CtTestService  *svc);
const char    *ct_test_service_get_pin_pubkey (CtTestService  *svc);
const char    *ct_test_service_get_manager_id (CtTestService  *svc);
const char    *ct_test_service_get_manager_pin(CtTestService  *svc);
const char    *ct_test_service_get_db_path    (CtTestService  *svc);
const char    *ct_test_service_get_data_dir   (CtTestService  *svc);
const char    *ct_test_service_get_binary     (void);
GPid           ct_test_service_get_pid        (CtTestService  *svc);

/* SIGTERM and wait; returns the exit status (0 on a clean shutdown). */
int            ct_test_service_stop           (CtTestService  *svc);
/* Sends @sig (SIGINT, SIGTERM…) and waits; returns the exit status, or 128 +
 * the signal if it died of one. */
int            ct_test_service_stop_with_signal (CtTestService *svc,
                                                 int            sig);
/* SIGKILL and wait. */
void           ct_test_service_kill           (CtTestService  *svc);
/* Starts serve again on the same database (the port may change). */
gboolean       ct_test_service_restart        (CtTestService  *svc,
                                               GError        **error);
/* Stops it if running and removes the temporary directory. */
void           ct_test_service_free           (CtTestService  *svc);

/* The store under test: a SQLite file in the service's directory, or,
 * when CT_TEST_PG names a PostgreSQL cluster (tests/ct-pg-run.sh), a new
 * database in it. @out_location is the --db value. */
gboolean       ct_test_store_new              (const char     *dir,
                                               char          **out_location,
                                               GError        **error);
gboolean       ct_test_store_is_pg            (void);

/* Direct access to a service's database, for tests that look behind the
 * service or hold it up: plain SQL that both stores understand. */
typedef struct _CtTestDb CtTestDb;

CtTestDb      *ct_test_db_open                (const char     *location);
void           ct_test_db_close               (CtTestDb       *db);
/* Runs @sql; returns the rows it changed, or -1 on an error. */
int64_t        ct_test_db_exec                (CtTestDb       *db,
                                               const char     *sql);
/* Runs a query; each row is a NULL-terminated array of column texts (an SQL
 * NULL is ""). */
GPtrArray     *ct_test_db_query               (CtTestDb       *db,
                                               const char     *sql);
/* Takes the locks every write of the service needs and keeps them until
 * ct_test_db_release(): the service's writes wait meanwhile. */
void           ct_test_db_hold_writes         (CtTestDb       *db);
void           ct_test_db_release             (CtTestDb       *db);
/* Waits (up to two minutes) until @n writes are held up behind
 * ct_test_db_hold_writes(): the service has taken them (GET /v1/health's
 * writes_waiting) and, on PostgreSQL, they claimed their keys and wait for
 * the card's lock. FALSE if they never got there. */
gboolean       ct_test_service_wait_for_held_writes (CtTestService *svc,
                                                     guint          n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtTestDb, ct_test_db_close)

/* Runs `cardtill-service ARGS... --db DB`; returns the exit status and,
 * if @out_stdout is set, the output. */
int            ct_test_service_admin          (CtTestService  *svc,
                                               char          **out_stdout,
                                               const char     *first_arg,
                                               ...) G_GNUC_NULL_TERMINATED;

/* The same, with what it wrote on stderr in @out_stderr. */
int            ct_test_service_admin_full     (CtTestService  *svc,
                                               char          **out_stdout,
                                               char          **out_stderr,
                                               const char     *first_arg,
                                               ...) G_GNUC_NULL_TERMINATED;

/* The last line of @text that is not empty (a printed token or pin). */
char          *ct_test_last_line              (const char     *text);

/* A tiny blocking HTTP client over libcurl, one keep-alive connection. */
typedef struct
{
  long        status;
  GHashTable *headers;   /* lower-case name -> value */
  char       *body;
  gsize       body_len;
} CtTestResponse;

typedef struct _CtTestClient CtTestClient;

CtTestClient   *ct_test_client_new            (CtTestService  *svc);
/* For another till: @token replaces the service's own. */
CtTestClient   *ct_test_client_new_for_token  (CtTestService  *svc,
                                               const char     *token);
/* Any service: @ca_file NULL for http://. */
CtTestClient   *ct_test_client_new_for_url    (const char     *url,
                                               const char     *ca_file,
                                               const char     *token);
void            ct_test_client_free           (CtTestClient   *client);
/* How many connections the client opened so far (keep-alive check). */
guint           ct_test_client_get_connects   (CtTestClient   *client);
/* @idem_key may be NULL (no header); @body may be NULL. */
CtTestResponse *ct_test_client_request        (CtTestClient   *client,
                                               const char     *method,
                                               const char     *path,
                                               const char     *idem_key,
                                               const char     *body,
                                               GError        **error);
CtTestResponse *ct_test_client_request_len    (CtTestClient   *client,
                                               const char     *method,
                                               const char     *path,
                                               const char     *idem_key,
                                               const char     *body,
                                               gsize           body_len,
                                               const char     *authorization,
                                               GError        **error);
/* One request on a fresh connection. */
CtTestResponse *ct_test_http                  (CtTestService  *svc,
                                               const char     *method,
                                               const char     *path,
                                               const char     *idem_key,
                                               const char     *body,
                                               GError        **error);
const char     *ct_test_response_header       (CtTestResponse *resp,
                                               const char     *name);
/* The "error.code" of a refusal, or NULL. */
char           *ct_test_response_error_code   (CtTestResponse *resp);
void            ct_test_response_free         (CtTestResponse *resp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtTestResponse, ct_test_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtTestClient, ct_test_client_free)

G_END_DECLS
