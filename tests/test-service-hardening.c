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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ct-test-service.h"

/* The card service under hostile traffic and careless input
 * (docs/operations.md, "Hardening"): connection limits and timeouts, body
 * limits, TLS versions, strict request bodies, the rate limit and the
 * start-up checks. Each test starts the services it needs. */

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"2468\"}"

static CtTestService *
start (gboolean            https,
       const char * const *args)
{
  g_autoptr(GError) error = NULL;
  CtTestService *svc = ct_test_service_start_full (https, args, &error);

  ck_assert_msg (svc != NULL, "service did not start: %s", error ? error->message : "");
  return svc;
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
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
}
END_TEST

START_TEST (test_hardening_connection_without_a_till_request_is_closed_after_the_handshake_timeout)
{
  const char *args[] = { "--handshake-timeout", "1", NULL };
  CtTestService *svc = start (TRUE, args);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autoptr(CtTestResponse) first = NULL, second = NULL;
  int idle;

  first = ct_test_client_request (c, "GET", "/v1/merchant", NULL, NULL, NULL);
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
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
}
END_TEST

/* Starts an import upload of 1 MB on plain HTTP and leaves it unfinished. */
static int
start_import_upload (CtTestService *svc,
                     const char    *key)
{
  int fd = connect_from (svc, "127.0.0.1");
  g_autofree char *head = g_strdup_printf ("POST /v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Authorization: Bearer %s\r\nIdempotency-Key: %s\r\n"
                                           "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
                                           ct_test_service_get_token (svc), key);

  ck_assert_int_eq (send (fd, head, strlen (head), MSG_NOSIGNAL), (ssize_t) strlen (head));
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
  CtTestService *svc = start (FALSE, NULL);
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  int uploads[2];
  guint attempt = 0;
  long status;

  uploads[0] = start_import_upload (svc, "slow-1");
  uploads[1] = start_import_upload (svc, "slow-2");
  /* Once the service has both unfinished uploads, a third large body waits. */
  while ((status = import_of_size (c, 100 * 1024, attempt++)) != 429 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  ck_assert_int_eq (status, 429);
  /* A small import is never held up. */
  ck_assert_int_eq (import_of_size (c, 1024, 0), 200);
  /* When one upload ends, a large body is taken again. */
  close (uploads[0]);
  while ((status = import_of_size (c, 100 * 1024, attempt++)) != 200 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  ck_assert_int_eq (status, 200);

  close (uploads[1]);
  g_clear_pointer (&c, ct_test_client_free);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
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

  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  ct_test_service_free (svc);
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
