/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-hardening"
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-service-auth.h"
#include "ct-service-cert.h"
#include "ct-store.h"
#include "ct-test-service.h"

/* The card service under hostile traffic and careless input
 * (docs/operations.md, "Hardening"): connection limits and timeouts, body
 * limits, TLS versions, strict request bodies, the rate limit and the
 * start-up checks. Each test starts the services it needs. */

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"

static CtTestService *
start (gboolean            https,
       const char * const *args)
{
  g_autoptr(GError) error = NULL;
  CtTestService *svc = ct_test_service_start_full (https, args, &error);

  ck_assert_msg (svc != NULL, "service did not start: %s", error ? error->message : "");
  return svc;
}

/* Stops @svc, which must exit cleanly, and removes its files. */
static void
finish (CtTestService *svc)
{
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
}

static guint
port_of (CtTestService *svc)
{
  const char *url = ct_test_service_get_url (svc);

  return (guint) g_ascii_strtoull (strrchr (url, ':') + 1, NULL, 10);
}

/* A TCP connection to the service from @source (an address of the loopback
 * network: 127.0.0.2 is another host to the service). */
static int
connect_from (CtTestService *svc,
              const char    *source)
{
  struct sockaddr_in src = { 0 }, dst = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  ck_assert_int_ge (fd, 0);
  src.sin_family = AF_INET;
  ck_assert_int_eq (inet_pton (AF_INET, source, &src.sin_addr), 1);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &src, sizeof src), 0);
  dst.sin_family = AF_INET;
  dst.sin_port = htons ((guint16) port_of (svc));
  inet_pton (AF_INET, "127.0.0.1", &dst.sin_addr);
  ck_assert_msg (connect (fd, (struct sockaddr *) &dst, sizeof dst) == 0, "connect: %s", g_strerror (errno));
  return fd;
}

/* TRUE once the service closed @fd (end of file or a reset), reading and
 * dropping whatever it sent first; FALSE if it is still open. */
static gboolean
is_closed (int fd,
           int timeout_ms)
{
  struct pollfd pfd = { fd, POLLIN, 0 };
  char buf[512];

  while (poll (&pfd, 1, timeout_ms) > 0)
    {
      ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        return TRUE;
    }
  return FALSE;
}

static guint
count_closed (int     *fds,
              guint    n)
{
  guint closed = 0;

  for (guint i = 0; i < n; i++)
    if (fds[i] < 0 || is_closed (fds[i], 0))
      {
        if (fds[i] >= 0)
          close (fds[i]);
        fds[i] = -1;
        closed++;
      }
  return closed;
}

static char *
json_string_at (const char *body,
                const char *key)
{
  json_object *root = json_tokener_parse (body), *v = root;
  g_auto(GStrv) parts = g_strsplit (key, ".", -1);
  char *out = NULL;

  for (guint i = 0; v != NULL && parts[i]; i++)
    if (!json_object_object_get_ex (v, parts[i], &v))
      v = NULL;
  if (v != NULL)
    out = g_strdup (json_object_get_string (v));
  json_object_put (root);
  return out;
}

/* A card with 110.00 on it, issued through @c. */
static char *
funded_card (CtTestClient *c)
{
  g_autoptr(CtTestResponse) issued = NULL, topped = NULL;
  g_autofree char *path = NULL;
  char *card;

  issued = ct_test_client_request (c, "POST", "/v1/cards", "card-1",
                                   "{\"member\":{\"name\":\"H\"},\"operator\":\"op\"," MGR "}", NULL);
  ck_assert_msg (issued != NULL && issued->status == 201, "issue: %s", issued ? issued->body : "no answer");
  card = json_string_at (issued->body, "card_no");
  path = g_strdup_printf ("/v1/cards/%s/topups", card);
  topped = ct_test_client_request (c, "POST", path, "topup-1", "{\"package_id\":\"p100\",\"operator\":\"op\"}", NULL);
  ck_assert_msg (topped != NULL && topped->status == 201, "top-up: %s", topped ? topped->body : "no answer");
  return card;
}

static long
pay (CtTestClient *c,
     const char   *card,
     const char   *key)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = ct_test_client_request (c, "POST", path, key, "{\"amount\":100,\"operator\":\"op\"}",
                                                        &error);

  ck_assert_msg (r != NULL, "payment: %s", error ? error->message : "");
  return r->status;
}

/* Connections */

START_TEST (test_hardening_idle_connections_from_one_address_do_not_stop_payments)
{
  /* Room for 16 connections, 4 from one address; the idle ones would take
   * every slot without the per-address limit. */
  const char *args[] = { "--threads", "2", "--max-connections", "16", "--connections-per-address", "4",
                         "--handshake-timeout", "120", NULL };
  CtTestService *svc = start (TRUE, args);
  g_autoptr(CtTestClient) c = NULL;
  g_autofree char *card = NULL;
  int idle[20];
  guint closed = 0;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  for (guint i = 0; i < G_N_ELEMENTS (idle); i++)
    idle[i] = connect_from (svc, "127.0.0.2");
  /* The service closes every connection over the four at once. */
  while ((closed = count_closed (idle, G_N_ELEMENTS (idle))) < 16 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  ck_assert_uint_eq (closed, 16);

  c = ct_test_client_new (svc);
  card = funded_card (c);
  ck_assert_int_eq (pay (c, card, "pay-1"), 201);
  ck_assert_int_eq (pay (c, card, "pay-2"), 201);
  /* The four it holds are still idle, within their handshake time. */
  ck_assert_uint_eq (count_closed (idle, G_N_ELEMENTS (idle)), 16);

  for (guint i = 0; i < G_N_ELEMENTS (idle); i++)
    if (idle[i] >= 0)
      close (idle[i]);
  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

START_TEST (test_hardening_connection_without_a_till_request_is_closed_after_the_handshake_timeout)
{
  const char *args[] = { "--handshake-timeout", "1", NULL };
  CtTestService *svc = start (TRUE, args);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autoptr(CtTestResponse) first = NULL, second = NULL;
  int idle;

  /* The till's connection must finish its own handshake within the short
   * timeout too; on a loaded machine (the sanitizer build) one attempt may
   * not, so it tries again with a new connection until one is up. */
  for (guint attempt = 0; attempt < 20; attempt++)
    {
      g_clear_pointer (&first, ct_test_response_free);
      first = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);
      if (first != NULL && first->status == 200)
        break;
      g_clear_pointer (&c, ct_test_client_free);
      c = ct_test_client_new (svc);
    }
  ck_assert_ptr_nonnull (first);
  ck_assert_int_eq (first->status, 200);
  /* A connection that never starts TLS is closed after the short timeout… */
  idle = connect_from (svc, "127.0.0.1");
  ck_assert_msg (is_closed (idle, 30 * 1000), "the idle connection was not closed");
  close (idle);
  /* …while the till's keep-alive connection, idle longer, is still there. */
  second = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);
  ck_assert_int_eq (second->status, 200);
  ck_assert_uint_eq (ct_test_client_get_connects (c), 1);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

/* Starts an import upload of 1 MB on plain HTTP and leaves it unfinished.
 * It asks for "100 Continue" and waits for it, so the service has taken
 * the upload when this returns. */
static int
start_import_upload (CtTestService *svc,
                     const char    *key)
{
  int fd = connect_from (svc, "127.0.0.1");
  g_autofree char *head = g_strdup_printf ("POST /v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Authorization: Bearer %s\r\nIdempotency-Key: %s\r\n"
                                           "Content-Type: application/json\r\nContent-Length: 1000000\r\n"
                                           "Expect: 100-continue\r\n\r\n",
                                           ct_test_service_get_token (svc), key);
  g_autoptr(GString) answer = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  ck_assert_int_eq (send (fd, head, strlen (head), MSG_NOSIGNAL), (ssize_t) strlen (head));
  while (strstr (answer->str, "\r\n\r\n") == NULL && g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      char buf[256];
      ssize_t n;

      if (poll (&pfd, 1, 1000) <= 0)
        continue;
      n = recv (fd, buf, sizeof buf, 0);
      ck_assert_int_gt (n, 0);
      g_string_append_len (answer, buf, n);
    }
  ck_assert_msg (g_str_has_prefix (answer->str, "HTTP/1.1 100"), "%s", answer->str);
  ck_assert_int_eq (send (fd, "{", 1, MSG_NOSIGNAL), 1);
  return fd;
}

static long
import_of_size (CtTestClient *c,
                gsize         size,
                guint         attempt)
{
  g_autofree char *key = g_strdup_printf ("imp-%" G_GSIZE_FORMAT "-%u", size, attempt);
  const char *json = "{\"batch_id\":\"b\",\"rows\":[{\"line\":1,\"card_no\":\"X\",\"balance\":0}]," MGR "}";
  g_autofree char *body = g_malloc (size);
  g_autoptr(CtTestResponse) r = NULL;

  memset (body, ' ', size);
  memcpy (body, json, strlen (json));
  r = ct_test_client_request_len (c, "POST", "/v1/imports", key, body, size, NULL, NULL);
  ck_assert_ptr_nonnull (r);
  ck_assert_msg (r->status == 200 || r->status == 429, "%ld %s", r->status, r->body);
  if (r->status == 429)
    ck_assert_ptr_nonnull (ct_test_response_header (r, "Retry-After"));
  return r->status;
}

START_TEST (test_hardening_large_bodies_are_received_two_at_a_time)
{
  const char *args[] = { "--rate-limit", "0", NULL };
  CtTestService *svc = start (FALSE, args);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  int uploads[2];
  guint attempt = 0;
  long status;

  uploads[0] = start_import_upload (svc, "slow-1");
  uploads[1] = start_import_upload (svc, "slow-2");
  /* The service has both unfinished uploads: a third large body waits. */
  ck_assert_int_eq (import_of_size (c, 100 * 1024, attempt++), 429);
  /* A small import is never held up. */
  ck_assert_int_eq (import_of_size (c, 1024, 0), 200);
  /* When one upload ends, a large body is taken again. */
  close (uploads[0]);
  while ((status = import_of_size (c, 100 * 1024, attempt++)) != 200 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  ck_assert_int_eq (status, 200);

  close (uploads[1]);
  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

/* TLS */

/* Runs a TLS handshake with the service offering only @priorities; returns
 * the negotiated version, or GNUTLS_VERSION_UNKNOWN when it is refused. */
static gnutls_protocol_t
handshake_with (CtTestService *svc,
                const char    *priorities)
{
  gnutls_certificate_credentials_t creds;
  gnutls_session_t session;
  gnutls_protocol_t version = GNUTLS_VERSION_UNKNOWN;
  int fd = connect_from (svc, "127.0.0.1");
  int ret;

  ck_assert_int_eq (gnutls_certificate_allocate_credentials (&creds), GNUTLS_E_SUCCESS);
  ck_assert_int_eq (gnutls_init (&session, GNUTLS_CLIENT), GNUTLS_E_SUCCESS);
  ck_assert_msg (gnutls_priority_set_direct (session, priorities, NULL) == GNUTLS_E_SUCCESS,
                 "this GnuTLS does not take %s", priorities);
  ck_assert_int_eq (gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, creds), GNUTLS_E_SUCCESS);
  gnutls_transport_set_int (session, fd);
  gnutls_handshake_set_timeout (session, 30 * 1000);
  do
    ret = gnutls_handshake (session);
  while (ret < 0 && !gnutls_error_is_fatal (ret));
  if (ret == GNUTLS_E_SUCCESS)
    version = gnutls_protocol_get_version (session);
  else
    g_test_message ("%s: %s", priorities, gnutls_strerror (ret));
  gnutls_deinit (session);
  gnutls_certificate_free_credentials (creds);
  close (fd);
  return version;
}

START_TEST (test_hardening_tls_is_1_2_or_1_3_without_cbc_sha1)
{
  CtTestService *svc = start (TRUE, NULL);

  ck_assert_int_eq (handshake_with (svc, "NORMAL:-VERS-ALL:+VERS-TLS1.0"), GNUTLS_VERSION_UNKNOWN);
  ck_assert_int_eq (handshake_with (svc, "NORMAL:-VERS-ALL:+VERS-TLS1.1"), GNUTLS_VERSION_UNKNOWN);
  ck_assert_int_eq (handshake_with (svc, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC"
                                         ":-MAC-ALL:+SHA1"),
                    GNUTLS_VERSION_UNKNOWN);
  /* What a till offers is taken. */
  ck_assert_int_eq (handshake_with (svc, "NORMAL:-VERS-ALL:+VERS-TLS1.2"), GNUTLS_TLS1_2);
  ck_assert_int_eq (handshake_with (svc, "NORMAL"), GNUTLS_TLS1_3);

  finish (svc);
}
END_TEST

/* Request input */

static void
expect_refused_naming (CtTestClient *c,
                       const char   *method,
                       const char   *path,
                       const char   *body,
                       const char   *field)
{
  static guint n;
  g_autofree char *key = g_strdup_printf ("strict-%u", ++n);
  g_autofree char *code = NULL, *message = NULL, *quoted = g_strdup_printf ("\"%s\"", field);
  g_autoptr(CtTestResponse) r = ct_test_client_request (c, method, path, key, body, NULL);

  ck_assert_ptr_nonnull (r);
  code = json_string_at (r->body, "error.code");
  message = json_string_at (r->body, "error.message");
  ck_assert_msg (r->status == 400 && g_strcmp0 (code, "bad_request") == 0, "%s %s: %ld %s", method, path,
                 r->status, r->body);
  ck_assert_msg (message != NULL && strstr (message, quoted) != NULL, "%s does not name %s", r->body, field);
}

static int64_t
balance_of (CtTestClient *c,
            const char   *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = ct_test_client_request (c, "GET", path, NULL, NULL, NULL);
  g_autofree char *balance = NULL;

  ck_assert_int_eq (r->status, 200);
  balance = json_string_at (r->body, "balance");
  return g_ascii_strtoll (balance, NULL, 10);
}

START_TEST (test_hardening_unknown_fields_are_refused_on_every_route)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *card = funded_card (c);
  g_autofree char *card_path = g_strdup_printf ("/v1/cards/%s", card);
  g_autofree char *topups = g_strdup_printf ("/v1/cards/%s/topups", card);
  g_autofree char *payments = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *refunds = g_strdup_printf ("/v1/cards/%s/refunds", card);
  g_autofree char *adjustments = g_strdup_printf ("/v1/cards/%s/adjustments", card);
  g_autofree char *refund = NULL, *paid = NULL;
  g_autoptr(CtTestResponse) payment = NULL;

  payment = ct_test_client_request (c, "POST", payments, "paid-1", "{\"amount\":1000,\"operator\":\"op\"}", NULL);
  ck_assert_int_eq (payment->status, 201);
  paid = json_string_at (payment->body, "transaction.id");
  ck_assert_int_eq (balance_of (c, card), 10000);

  /* A refund to somewhere this service does not know is not a refund to
   * the card… */
  refund = g_strdup_printf ("{\"transaction_id\":\"%s\",\"refund_to\":\"bank\",\"operator\":\"op\"," MGR "}",
                            paid);
  expect_refused_naming (c, "POST", refunds, refund, "refund_to");
  /* …and a coupon it cannot take is not ignored. */
  expect_refused_naming (c, "POST", payments, "{\"amount\":100,\"coupon\":\"HALF\",\"operator\":\"op\"}",
                         "coupon");
  ck_assert_int_eq (balance_of (c, card), 10000);

  expect_refused_naming (c, "POST", "/v1/cards",
                         "{\"member\":{\"name\":\"N\"},\"operator\":\"op\",\"vip\":true," MGR "}", "vip");
  expect_refused_naming (c, "POST", "/v1/cards",
                         "{\"member\":{\"name\":\"N\",\"email\":\"n@example.com\"},\"operator\":\"op\"," MGR "}",
                         "member.email");
  expect_refused_naming (c, "PATCH", card_path, "{\"status\":\"frozen\",\"note\":\"x\"," MGR "}", "note");
  expect_refused_naming (c, "PATCH", card_path,
                         "{\"status\":\"frozen\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\",\"role\":\"x\"}}",
                         "manager.role");
  expect_refused_naming (c, "POST", topups, "{\"package_id\":\"p100\",\"tender\":\"card\",\"operator\":\"op\"}",
                         "tender");
  expect_refused_naming (c, "POST", topups,
                         "{\"package_id\":\"p100\",\"expect\":{\"amount\":10000,\"bonus\":1000,\"points\":5},"
                         "\"operator\":\"op\"}", "expect.points");
  expect_refused_naming (c, "POST", adjustments,
                         "{\"delta\":-100,\"reason\":\"r\",\"points\":5,\"operator\":\"op\"," MGR "}", "points");
  expect_refused_naming (c, "POST", "/v1/imports", "{\"batch_id\":\"b\",\"dry_run\":true,\"rows\":[{\"line\":1,"
                         "\"card_no\":\"X\",\"balance\":0}]," MGR "}", "dry_run");
  expect_refused_naming (c, "POST", "/v1/imports", "{\"batch_id\":\"b\",\"rows\":[{\"line\":1,\"card_no\":\"X\","
                         "\"balance\":0,\"email\":\"e\"}]," MGR "}", "rows[0].email");
  ck_assert_int_eq (balance_of (c, card), 10000);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

START_TEST (test_hardening_control_bytes_in_the_path_are_refused)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *card = funded_card (c);
  const char *suffixes[] = { "%00/freeze", "%00", "%0a", "%7F", "%ff" };
  g_autofree char *status = NULL, *card_path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) shown = NULL, found = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s%s", card, suffixes[i]);
      g_autoptr(CtTestResponse) patch = NULL, get = NULL;
      g_autofree char *code = NULL;

      patch = ct_test_client_request (c, "PATCH", path, NULL, "{\"status\":\"frozen\"," MGR "}", NULL);
      ck_assert_msg (patch->status == 400, "PATCH %s: %ld %s", path, patch->status, patch->body);
      code = json_string_at (patch->body, "error.code");
      ck_assert_str_eq (code, "bad_request");
      get = ct_test_client_request (c, "GET", path, NULL, NULL, NULL);
      ck_assert_msg (get->status == 400, "GET %s: %ld %s", path, get->status, get->body);
    }
  shown = ct_test_client_request (c, "GET", card_path, NULL, NULL, NULL);
  status = json_string_at (shown->body, "status");
  ck_assert_str_eq (status, "active");
  /* A query argument with a control byte is refused too, not cut short. */
  found = ct_test_client_request (c, "GET", "/v1/cards?name=H%00", NULL, NULL, NULL);
  ck_assert_int_eq (found->status, 400);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

/* Rate limit and features */

typedef struct
{
  CtTestService *svc;
  guint          max_requests;
  gint          *stop;
  gboolean       limited;
} Reader;

/* Reads the merchant as fast as it can, up to @max_requests times, until
 * any reader is limited. */
static gpointer
read_fast (gpointer data)
{
  Reader *r = data;
  g_autoptr(CtTestClient) c = ct_test_client_new (r->svc);

  for (guint i = 0; i < r->max_requests && !g_atomic_int_get (r->stop); i++)
    {
      g_autoptr(CtTestResponse) resp = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);

      if (resp != NULL && resp->status == 429)
        {
          g_autofree char *code = json_string_at (resp->body, "error.code");

          r->limited = g_strcmp0 (code, "rate_limited") == 0
                       && ct_test_response_header (resp, "Retry-After") != NULL;
          g_atomic_int_set (r->stop, 1);
        }
    }
  return NULL;
}

static gboolean
reads_get_limited (CtTestService *svc,
                   guint          max_requests)
{
  Reader readers[4];
  GThread *threads[4];
  gint stop = 0;
  gboolean limited = FALSE;

  for (guint i = 0; i < 4; i++)
    {
      readers[i] = (Reader) { svc, max_requests / 4, &stop, FALSE };
      threads[i] = g_thread_new ("reader", read_fast, &readers[i]);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      limited = limited || readers[i].limited;
    }
  return limited;
}

START_TEST (test_hardening_rate_limit_is_on_by_default)
{
  CtTestService *svc = start (TRUE, NULL);
  const char *off[] = { "--rate-limit", "0", NULL };
  CtTestService *unlimited = start (TRUE, off);

  /* One till reading the member data at thousands a second is stopped. */
  ck_assert (reads_get_limited (svc, 3000));
  /* `--rate-limit 0` turns the limit off (load tests, benchmarks). */
  ck_assert (!reads_get_limited (unlimited, 400));

  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
  finish (unlimited);
}
END_TEST

START_TEST (test_hardening_health_lists_the_features)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) anon = ct_test_client_new_for_token (svc, NULL);
  g_autoptr(CtTestResponse) r = ct_test_client_request (anon, "GET", "/v1/health", NULL, NULL, NULL);
  json_object *root = json_tokener_parse (r->body), *features = NULL;
  gboolean strict = FALSE;

  ck_assert_int_eq (r->status, 200);
  ck_assert_msg (json_object_object_get_ex (root, "features", &features)
                 && json_object_is_type (features, json_type_array), "%s", r->body);
  for (gsize i = 0; i < json_object_array_length (features); i++)
    strict = strict || g_strcmp0 (json_object_get_string (json_object_array_get_idx (features, i)),
                                  "strict_fields") == 0;
  ck_assert_msg (strict, "%s", r->body);
  json_object_put (root);

  g_clear_pointer (&anon, ct_test_client_free);
  finish (svc);
}
END_TEST

/* Administration */

static long
merchant_status (CtTestService *svc,
                 const char    *token)
{
  g_autoptr(CtTestClient) c = ct_test_client_new_for_token (svc, token);
  g_autoptr(CtTestResponse) r = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);

  ck_assert_ptr_nonnull (r);
  return r->status;
}

START_TEST (test_hardening_a_revoked_till_gets_no_new_token_until_enabled)
{
  CtTestService *svc = start (TRUE, NULL);
  const char *old = ct_test_service_get_token (svc);
  g_autofree char *out = NULL, *err = NULL, *enabled = NULL, *token = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "till", "revoke", "--store", "s1", "--name", "t1", NULL), 0);
  ck_assert_int_eq (merchant_status (svc, old), 401);
  /* A new token would let the revoked till take money again: refused, and
   * the refusal says what to run. */
  ck_assert_int_eq (ct_test_service_admin_full (svc, &out, &err, "till", "token", "--store", "s1", "--name", "t1",
                                                NULL), 2);
  ck_assert_msg (strstr (err, "revoked") && strstr (err, "till enable --store s1 --name t1"), "%s", err);
  ck_assert_msg (out == NULL || *out == '\0', "a token was printed: %s", out);
  ck_assert_int_eq (merchant_status (svc, old), 401);
  /* `till enable` lets it work again, with a new token only. */
  ck_assert_int_eq (ct_test_service_admin (svc, &enabled, "till", "enable", "--store", "s1", "--name", "t1", NULL), 0);
  token = ct_test_last_line (enabled);
  ck_assert_int_eq (merchant_status (svc, token), 200);
  ck_assert_int_eq (merchant_status (svc, old), 401);

  finish (svc);
}
END_TEST

/* Runs serve with @cert and @key and returns its exit status (124 if it was
 * still serving after 30 s) and its stderr. */
static int
serve_with (CtTestService  *svc,
            const char     *cert,
            const char     *key,
            char          **out_stderr)
{
  const char *argv[] = { "timeout", "30", ct_test_service_get_binary (), "serve",
                         "--db", ct_test_service_get_db_path (svc), "--listen", "127.0.0.1:0",
                         "--cert", cert, "--key", key, NULL };
  g_autoptr(GError) error = NULL;
  int wait_status = 0;

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, out_stderr,
                               &wait_status, &error), "%s", error ? error->message : "");
  return WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128;
}

START_TEST (test_hardening_serve_says_what_is_wrong_with_the_certificate)
{
  CtTestService *svc = start (TRUE, NULL);
  const char *dir = ct_test_service_get_data_dir (svc);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  struct { const char *name; gint64 from, to; } pairs[] = {
    { "expired", now - 10 * 86400, now - 86400 },
    { "future", now + 86400, now + 10 * 86400 },
    { "a", now - 3600, now + 86400 },
    { "b", now - 3600, now + 86400 },
  };
  struct { const char *cert, *key, *says; } cases[] = {
    { "expired", "expired", "expired on" },
    { "future", "future", "is not valid yet" },
    { "a", "b", "does not match the certificate" },
  };

  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *cert = g_strdup_printf ("%s/%s-cert.pem", dir, pairs[i].name);
      g_autofree char *key = g_strdup_printf ("%s/%s-key.pem", dir, pairs[i].name);
      g_autoptr(GError) error = NULL;
      g_autofree char *pin = ct_service_gen_cert_valid (cert, key, "127.0.0.1", pairs[i].from, pairs[i].to, &error);

      ck_assert_msg (pin != NULL, "%s", error ? error->message : "");
    }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *cert = g_strdup_printf ("%s/%s-cert.pem", dir, cases[i].cert);
      g_autofree char *key = g_strdup_printf ("%s/%s-key.pem", dir, cases[i].key);
      g_autofree char *err = NULL;

      ck_assert_int_eq (serve_with (svc, cert, key, &err), 4);
      ck_assert_msg (strstr (err, cases[i].says) != NULL && strstr (err, cases[i].cert) != NULL, "%s", err);
    }
  /* The matching pair that is valid now serves. */
  ck_assert (ct_test_service_restart (svc, NULL));
  finish (svc);
}
END_TEST

/* Managers */

static CtTestResponse *
adjust_as (CtTestClient *c,
           const char   *card,
           const char   *manager_id,
           const char   *pin)
{
  static guint n;
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/adjustments", card);
  g_autofree char *key = g_strdup_printf ("adjust-%u", ++n);
  g_autofree char *body = g_strdup_printf ("{\"delta\":-1,\"reason\":\"count\",\"operator\":\"op\","
                                           "\"manager\":{\"id\":\"%s\",\"pin\":\"%s\"}}", manager_id, pin);
  CtTestResponse *r = ct_test_client_request (c, "POST", path, key, body, NULL);

  ck_assert_ptr_nonnull (r);
  return r;
}

static long
adjust_status (CtTestClient *c,
               const char   *card,
               const char   *manager_id,
               const char   *pin)
{
  g_autoptr(CtTestResponse) r = adjust_as (c, card, manager_id, pin);

  return r->status;
}

static char *
admin_out (CtTestService *svc,
           int            want_status,
           const char    *first,
           ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int wait_status = 0;
  va_list ap;

  g_ptr_array_add (argv, g_strdup (ct_test_service_get_binary ()));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, g_strdup ("--db"));
  g_ptr_array_add (argv, g_strdup (ct_test_service_get_db_path (svc)));
  g_ptr_array_add (argv, NULL);
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &wait_status, &error), "%s", error ? error->message : "");
  ck_assert_msg (WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == want_status, "%s: exit %d, wanted %d: %s%s",
                 first, WEXITSTATUS (wait_status), want_status, out, err);
  return g_strconcat (out, err, NULL);
}

static char *
pin_file (CtTestService *svc,
          const char    *pin)
{
  char *path = g_build_filename (ct_test_service_get_data_dir (svc), "new.pin", NULL);
  g_autofree char *text = g_strconcat (pin, "\n", NULL);

  ck_assert (g_file_set_contents (path, text, -1, NULL));
  return path;
}

START_TEST (test_hardening_new_pins_have_six_digits_and_short_old_ones_are_warned_about)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *card = funded_card (c);
  g_autofree char *short_pin = pin_file (svc, "1234");
  g_autofree char *out = NULL, *listed = NULL, *checked = NULL, *learned = NULL, *fixed = NULL;
  g_autofree char *letters = NULL, *good = NULL;

  out = admin_out (svc, 1, "manager", "add", "--id", "m2", "--pin-file", short_pin, NULL);
  ck_assert_msg (strstr (out, "at least 6 digits") != NULL, "%s", out);
  g_free (letters);
  letters = pin_file (svc, "12345a");
  g_free (out);
  out = admin_out (svc, 1, "manager", "set-pin", "--id", "m1", "--pin-file", letters, NULL);
  ck_assert_msg (strstr (out, "digits only") != NULL, "%s", out);

  /* A manager from before the rule, with a four-digit PIN, as an older
   * cardtill-service stored it. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CtStore) store = ct_store_open (ct_test_service_get_db_path (svc), 0, &error);
    g_autofree char *hash = ct_auth_pin_hash ("4321", NULL);

    ck_assert_msg (store != NULL, "%s", error ? error->message : "");
    ck_assert (ct_store_begin (store, NULL));
    ck_assert (ct_store_manager_put (store, "old", hash, TRUE, NULL));
    ck_assert (ct_store_commit (store, NULL));
  }
  listed = admin_out (svc, 0, "manager", "list", NULL);
  ck_assert_msg (strstr (listed, "manager old may have a PIN shorter than 6 digits") != NULL, "%s", listed);
  ck_assert_msg (strstr (listed, "manager m1 ") == NULL, "%s", listed);
  checked = admin_out (svc, 0, "ledger", "check", NULL);
  ck_assert_msg (strstr (checked, "balanced") && strstr (checked, "warning: manager old"), "%s", checked);
  /* It keeps working; once used, the service knows it is short. */
  ck_assert_int_eq (adjust_status (c, card, "old", "4321"), 201);
  learned = admin_out (svc, 0, "manager", "list", NULL);
  ck_assert_msg (strstr (learned, "manager old has a PIN shorter than 6 digits") != NULL, "%s", learned);
  good = pin_file (svc, "864209");
  g_free (out);
  out = admin_out (svc, 0, "manager", "set-pin", "--id", "old", "--pin-file", good, NULL);
  fixed = admin_out (svc, 0, "manager", "list", NULL);
  ck_assert_msg (strstr (fixed, "warning") == NULL, "%s", fixed);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

/* The time of one adjustment refused for @manager_id with a wrong PIN. */
static gint64
refusal_time (CtTestClient *c,
              const char   *card,
              const char   *manager_id,
              char        **out_body)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(CtTestResponse) r = adjust_as (c, card, manager_id, "999999");
  gint64 took = g_get_monotonic_time () - start;

  ck_assert_msg (r->status == 403, "%ld %s", r->status, r->body);
  if (out_body != NULL && *out_body == NULL)
    *out_body = g_strdup (r->body);
  return took;
}

START_TEST (test_hardening_unknown_manager_gets_the_answer_time_and_lock_of_a_wrong_pin)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *card = funded_card (c);
  g_autofree char *wrong_body = NULL, *unknown_body = NULL;
  g_autoptr(CtTestResponse) locked = NULL;
  gint64 wrong, unknown;

  /* Unknown ids take the slow hash too (each a new id, so none locks).
   * The quickest of four tries of each is compared: load only ever adds
   * time, while an unknown id that skipped the hash would be quicker
   * every time. The tries alternate, and which goes first alternates, so
   * a busy moment of a loaded machine falls on both alike (three wrong
   * PINs in a row once all met one). Four wrong PINs stay below the lock.
   * Each try is timed into a variable first: MIN() evaluates an argument
   * twice, and sent a second wrong PIN for a quicker try. */
  G_STATIC_ASSERT (CT_PIN_MAX_FAILURES > 4);
  wrong = unknown = G_MAXINT64;
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *ghost = g_strdup_printf ("ghost%u", i);
      gint64 took_wrong, took_unknown;

      if (i % 2 == 0)
        {
          took_wrong = refusal_time (c, card, "m1", &wrong_body);
          took_unknown = refusal_time (c, card, ghost, &unknown_body);
        }
      else
        {
          took_unknown = refusal_time (c, card, ghost, &unknown_body);
          took_wrong = refusal_time (c, card, "m1", &wrong_body);
        }
      wrong = MIN (wrong, took_wrong);
      unknown = MIN (unknown, took_unknown);
    }
  ck_assert_str_eq (wrong_body, unknown_body);
  ck_assert_msg (unknown * 2 >= wrong, "an unknown id was refused in %" G_GINT64_FORMAT " us, a wrong PIN in %"
                 G_GINT64_FORMAT " us (the quickest of each)", unknown, wrong);
  /* An unknown id counts its wrong PINs and locks like a real one. */
  for (int i = 0; i < CT_PIN_MAX_FAILURES; i++)
    ck_assert_int_eq (adjust_status (c, card, "nobody", "999999"), 403);
  locked = adjust_as (c, card, "nobody", "999999");
  ck_assert_int_eq (locked->status, 429);
  ck_assert_ptr_nonnull (strstr (locked->body, "pin_locked"));
  ck_assert_ptr_nonnull (ct_test_response_header (locked, "Retry-After"));

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

/* Locks m1 with five wrong PINs; returns the Retry-After of the next try. */
static int
lock_out (CtTestClient *c,
          const char   *card)
{
  g_autoptr(CtTestResponse) r = NULL;

  for (int i = 0; i < CT_PIN_MAX_FAILURES; i++)
    ck_assert_int_eq (adjust_status (c, card, "m1", "999999"), 403);
  r = adjust_as (c, card, "m1", "999999");
  ck_assert_int_eq (r->status, 429);
  return atoi (ct_test_response_header (r, "Retry-After"));
}

START_TEST (test_hardening_lockouts_grow_and_wrong_pins_are_forgotten_after_an_hour)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autofree char *card = funded_card (c);
  const char *unlock = "UPDATE pin_guard SET locked_until = 1 WHERE manager_id = 'm1'";
  int wait;

  wait = lock_out (c, card);
  ck_assert_msg (wait > 200 && wait <= 300, "%d", wait);
  ck_assert_int_eq (ct_test_db_exec (db, unlock), 1);
  wait = lock_out (c, card);
  ck_assert_msg (wait > 1700 && wait <= 1800, "%d", wait);
  ck_assert_int_eq (ct_test_db_exec (db, unlock), 1);
  wait = lock_out (c, card);
  ck_assert_msg (wait > 86000 && wait <= 86400, "%d", wait);
  /* The right PIN, once the lock is over, starts again from five minutes. */
  ck_assert_int_eq (ct_test_db_exec (db, unlock), 1);
  ck_assert_int_eq (adjust_status (c, card, "m1", CT_TEST_SERVICE_MANAGER_PIN), 201);
  wait = lock_out (c, card);
  ck_assert_msg (wait > 200 && wait <= 300, "%d", wait);

  /* Four wrong PINs, then an hour without one: the count starts again. */
  ck_assert_int_eq (ct_test_db_exec (db, unlock), 1);
  for (int i = 0; i < CT_PIN_MAX_FAILURES - 1; i++)
    ck_assert_int_eq (adjust_status (c, card, "m1", "999999"), 403);
  ck_assert_int_eq (ct_test_db_exec (db, "UPDATE pin_guard SET last_failure_at = last_failure_at - 3600000"
                                         " WHERE manager_id = 'm1'"), 1);
  for (int i = 0; i < CT_PIN_MAX_FAILURES - 1; i++)
    ck_assert_int_eq (adjust_status (c, card, "m1", "999999"), 403);
  ck_assert_int_eq (adjust_status (c, card, "m1", "999999"), 403);
  ck_assert_int_eq (adjust_status (c, card, "m1", CT_TEST_SERVICE_MANAGER_PIN), 429);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

static CtTestResponse *
post (CtTestClient *c,
      const char   *path,
      const char   *key,
      const char   *body)
{
  CtTestResponse *r = ct_test_client_request (c, "POST", path, key, body, NULL);

  ck_assert_ptr_nonnull (r);
  return r;
}

START_TEST (test_hardening_audit_lists_manager_actions_and_refused_pins)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autofree char *card = funded_card (c);
  g_autofree char *card_path = g_strdup_printf ("/v1/cards/%s", card);
  g_autofree char *pay_path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *refund_path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  g_autofree char *refund = NULL, *wrong_refund = NULL, *paid = NULL, *log = NULL, *none = NULL;
  g_autofree char *since_time = NULL, *tomorrow = NULL;
  g_autoptr(CtTestResponse) payment = NULL, r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL;
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) next_day = g_date_time_add_days (now, 1);

  payment = post (c, pay_path, "a-pay", "{\"amount\":500,\"operator\":\"op\"}");
  paid = json_string_at (payment->body, "transaction.id");
  wrong_refund = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\","
                                  "\"manager\":{\"id\":\"m1\",\"pin\":\"111111\"}}", paid);
  r1 = post (c, refund_path, "a-wrong", wrong_refund);
  ck_assert_int_eq (r1->status, 403);
  refund = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", paid);
  r2 = post (c, refund_path, "a-refund", refund);
  ck_assert_int_eq (r2->status, 201);
  r3 = ct_test_client_request (c, "PATCH", card_path, NULL, "{\"status\":\"frozen\"," MGR "}", NULL);
  ck_assert_int_eq (r3->status, 200);
  r4 = post (c, "/v1/imports", "a-import", "{\"batch_id\":\"old-shop\",\"rows\":[{\"line\":1,\"card_no\":\"X\","
             "\"balance\":0}]," MGR "}");
  ck_assert_int_eq (r4->status, 200);
  r5 = post (c, "/v1/imports", "a-import-2", "{\"batch_id\":\"b2\",\"rows\":[{\"line\":1,\"card_no\":\"X\","
             "\"balance\":0}],\"manager\":{\"id\":\"ghost\",\"pin\":\"123456\"}}");
  ck_assert_int_eq (r5->status, 403);

  log = admin_out (svc, 0, "audit", NULL);
  {
    const char *want[] = { "  s1/t1  m1  issue  ", "  s1/t1  m1  pin_wrong  ", "  s1/t1  m1  refund  ",
                           "  s1/t1  m1  card_change  ", "  s1/t1  m1  import  ", "  s1/t1  ghost  pin_wrong  " };

    for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
      ck_assert_msg (strstr (log, want[i]) != NULL, "no \"%s\" in:\n%s", want[i], log);
  }
  ck_assert_msg (strstr (log, card) != NULL && strstr (log, "old-shop") != NULL
                 && strstr (log, "refund refused: wrong PIN 1 of 5") != NULL, "%s", log);
  /* The PINs are never in it. */
  ck_assert_msg (strstr (log, CT_TEST_SERVICE_MANAGER_PIN) == NULL && strstr (log, "111111") == NULL, "%s", log);

  tomorrow = g_date_time_format (next_day, "%Y-%m-%d");
  none = admin_out (svc, 0, "audit", "--since", tomorrow, NULL);
  ck_assert_msg (strstr (none, "no manager actions") != NULL, "%s", none);
  since_time = g_date_time_format (now, "%Y-%m-%dT00:00");
  g_free (none);
  none = admin_out (svc, 0, "audit", "--since", since_time, NULL);
  ck_assert_msg (strstr (none, "  refund  ") != NULL, "%s", none);
  g_free (none);
  none = admin_out (svc, 1, "audit", "--since", "yesterday", NULL);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

START_TEST (test_hardening_an_outcome_needs_the_manager_and_is_audited)
{
  CtTestService *svc = start (TRUE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autoptr(CtTestResponse) missing = NULL, wrong = NULL, unknown = NULL, done = NULL, again = NULL;
  g_autofree char *id = NULL, *log = NULL;
  const char *note = "{\"card_no\":\"8888000000000001\",\"idempotency_key\":\"pay-77\",\"kind\":\"payment\","
                     "\"outcome\":\"Customer paid cash instead\"";
  g_autofree char *no_manager = g_strconcat (note, "}", NULL);
  g_autofree char *wrong_pin = g_strconcat (note, ",\"manager\":{\"id\":\"m1\",\"pin\":\"111111\"}}", NULL);
  g_autofree char *extra = g_strconcat (note, ",\"tip\":1," MGR "}", NULL);
  g_autofree char *right = g_strconcat (note, "," MGR "}", NULL);

  missing = post (c, "/v1/outcomes", "o-1", no_manager);
  ck_assert_int_eq (missing->status, 400);
  wrong = post (c, "/v1/outcomes", "o-2", wrong_pin);
  ck_assert_int_eq (wrong->status, 403);
  unknown = post (c, "/v1/outcomes", "o-3", extra);
  ck_assert_int_eq (unknown->status, 400);
  done = post (c, "/v1/outcomes", "o-4", right);
  ck_assert_msg (done->status == 201, "%s", done->body);
  id = json_string_at (done->body, "audit_id");
  ck_assert_msg (id != NULL && g_ascii_strtoll (id, NULL, 10) > 0, "%s", done->body);
  ck_assert_ptr_nonnull (strstr (done->body, "\"created_at\":\""));
  /* Idempotent like every POST. */
  again = post (c, "/v1/outcomes", "o-4", right);
  ck_assert_str_eq (again->body, done->body);
  ck_assert_str_eq (ct_test_response_header (again, "Idempotent-Replayed"), "true");

  log = admin_out (svc, 0, "audit", NULL);
  ck_assert_msg (strstr (log, "  m1  outcome  8888000000000001  ") != NULL
                 && strstr (log, "Customer paid cash instead") != NULL && strstr (log, "pay-77") != NULL, "%s", log);
  ck_assert_msg (g_strstr_len (log, -1, "outcome  8888") == g_strrstr (log, "outcome  8888"), "recorded twice:\n%s", log);

  g_clear_pointer (&c, ct_test_client_free);
  finish (svc);
}
END_TEST

static Suite *
hardening_suite (void)
{
  Suite *s = suite_create ("service-hardening");
  struct { const char *name; const TTest *tests[8]; } cases[] = {
    { "connections", { test_hardening_idle_connections_from_one_address_do_not_stop_payments,
                       test_hardening_connection_without_a_till_request_is_closed_after_the_handshake_timeout,
                       test_hardening_large_bodies_are_received_two_at_a_time } },
    { "tls", { test_hardening_tls_is_1_2_or_1_3_without_cbc_sha1 } },
    { "input", { test_hardening_unknown_fields_are_refused_on_every_route,
                 test_hardening_control_bytes_in_the_path_are_refused } },
    { "rate", { test_hardening_rate_limit_is_on_by_default, test_hardening_health_lists_the_features } },
    { "admin", { test_hardening_a_revoked_till_gets_no_new_token_until_enabled,
                 test_hardening_serve_says_what_is_wrong_with_the_certificate } },
    { "managers", { test_hardening_new_pins_have_six_digits_and_short_old_ones_are_warned_about,
                    test_hardening_unknown_manager_gets_the_answer_time_and_lock_of_a_wrong_pin,
                    test_hardening_lockouts_grow_and_wrong_pins_are_forgotten_after_an_hour,
                    test_hardening_audit_lists_manager_actions_and_refused_pins,
                    test_hardening_an_outcome_needs_the_manager_and_is_audited } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);

      tcase_set_timeout (tc, 90);
      for (int j = 0; cases[i].tests[j] != NULL; j++)
        _tcase_add_test (tc, cases[i].tests[j], 0, 0, 0, 1);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (hardening_suite ());
  int failed;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
