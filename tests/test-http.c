/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-http"
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-fault-proxy.h"
#include "ct-http.h"
#include "ct-test-service.h"
#include "ct-wire.h"

static CtTestService *https_svc;
static CtTestService *http_svc;

static void
start_services (void)
{
  g_autoptr(GError) error = NULL;

  https_svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (https_svc != NULL, "%s", error ? error->message : "");
  http_svc = ct_test_service_start (FALSE, &error);
  ck_assert_msg (http_svc != NULL, "%s", error ? error->message : "");
}

static void
stop_services (void)
{
  g_clear_pointer (&https_svc, ct_test_service_free);
  g_clear_pointer (&http_svc, ct_test_service_free);
}

static CtHttp *
https_client (const char *pin)
{
  g_autoptr(GError) error = NULL;
  CtHttp *http = ct_http_new (ct_test_service_get_url (https_svc),
                              ct_test_service_get_token (https_svc),
                              ct_test_service_get_ca_file (https_svc), pin, 2000, 5000, &error);

  ck_assert_msg (http != NULL, "%s", error ? error->message : "");
  return http;
}

START_TEST (test_http_https_with_ca_and_pin_reaches_service)
{
  g_autoptr(CtHttp) http = https_client (ct_test_service_get_pin_pubkey (https_svc));
  g_autoptr(GError) error = NULL;
  CtHttpResult r;
  g_autofree char *version = NULL;
  g_auto(GStrv) features = NULL;
  gsize len;
  const char *data;

  ck_assert_msg (ct_http_request (http, "GET", "/v1/health", NULL, NULL, &r, &error), "%s",
                 error ? error->message : "");
  ck_assert_int_eq (r.status, 200);
  data = g_bytes_get_data (r.body, &len);
  ck_assert (ct_wire_decode_health (data, len, &version, &features, NULL));
  /* What a till checks before it offers a part refund. */
  ck_assert (g_strv_contains ((const char * const *) features, "partial_refund"));
  ct_http_result_clear (&r);
  /* A service from before the list names no feature. */
  {
    static const char older[] = "{\"status\":\"ok\",\"version\":\"0.9\"}";
    g_auto(GStrv) none = NULL;

    ck_assert (ct_wire_decode_health (older, sizeof older - 1, NULL, &none, NULL));
    ck_assert_uint_eq (g_strv_length (none), 0);
  }

  ck_assert (ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, &error));
  ck_assert_int_eq (r.status, 200);
  ct_http_result_clear (&r);
}
END_TEST

START_TEST (test_http_wrong_pin_is_refused_before_sending)
{
  g_autoptr(CtHttp) http = https_client ("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  g_autoptr(GError) error = NULL;
  CtHttpResult r;

  ck_assert (!ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, &error));
  ck_assert (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS));
}
END_TEST

START_TEST (test_http_unknown_certificate_is_refused)
{
  g_autoptr(GError) error = NULL;
  /* Without a CA file the handshake reads every system CA: on a loaded
   * machine under the sanitizers that took longer than 2 s, and a timeout
   * is not the refusal this is about. */
  g_autoptr(CtHttp) http = ct_http_new (ct_test_service_get_url (https_svc),
                                        ct_test_service_get_token (https_svc),
                                        NULL, NULL, 20000, 30000, &error);
  CtHttpResult r;

  ck_assert_ptr_nonnull (http);
  ck_assert (!ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, &error));
  ck_assert_msg (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS), "%s", error->message);
}
END_TEST

START_TEST (test_http_plain_http_only_to_loopback)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtHttp) remote = ct_http_new ("http://192.0.2.10:8443", "t", NULL, NULL, 0, 0, &error);
  g_autoptr(CtHttp) local = NULL;

  ck_assert_ptr_null (remote);
  ck_assert (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_CONFIG));
  g_clear_error (&error);
  ck_assert (!ct_http_url_allowed ("ftp://127.0.0.1/", NULL));
  ck_assert (ct_http_url_allowed ("http://[::1]:80", NULL));
  ck_assert (ct_http_url_allowed ("http://localhost:80", NULL));
  ck_assert (ct_http_url_allowed ("https://cards.example.com", NULL));
  local = ct_http_new ("http://127.0.0.1:1", "t", NULL, NULL, 0, 0, &error);
  ck_assert_ptr_nonnull (local);
}
END_TEST

START_TEST (test_http_refused_connection_is_not_sent)
{
  g_autoptr(CtFaultProxy) proxy = ct_fault_proxy_new (ct_test_service_get_url (http_svc), 1, NULL);
  g_autoptr(CtHttp) http = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"amount\":1,\"operator\":\"t\"}", 28);
  CtHttpResult r;

  ck_assert (ct_fault_proxy_set_offline (proxy, TRUE, NULL));
  http = ct_http_new (ct_fault_proxy_get_url (proxy), ct_test_service_get_token (http_svc),
                      NULL, NULL, 1000, 2000, &error);
  ck_assert (!ct_http_request (http, "POST", "/v1/cards/X123/payments", "k-refused", body, &r,
                               &error));
  ck_assert (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT));
}
END_TEST

START_TEST (test_http_reset_after_sending_is_unknown_outcome)
{
  g_autoptr(CtFaultProxy) proxy = ct_fault_proxy_new (ct_test_service_get_url (http_svc), 1, NULL);
  CtFaultWeights drop = { .drop_answer = 1 };
  CtFaultWeights reset = { .reset_before = 1 };
  CtFaultWeights stall = { .stall = 1, .stall_ms = 1500 };
  CtFaultWeights cut = { .cut_answer = 1 };
  const CtFaultWeights *modes[] = { &drop, &reset, &stall, &cut };
  g_autoptr(GBytes) body = g_bytes_new_static ("{\"amount\":1,\"operator\":\"t\"}", 28);

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CtHttp) http = ct_http_new (ct_fault_proxy_get_url (proxy),
                                            ct_test_service_get_token (http_svc),
                                            NULL, NULL, 1000, 800, &error);
      g_autofree char *key = g_strdup_printf ("k-unknown-%u", i);
      CtHttpResult r;

      ct_fault_proxy_set_weights (proxy, modes[i]);
      ck_assert (!ct_http_request (http, "POST", "/v1/cards/X123/payments", key, body, &r,
                                   &error));
      ck_assert_msg (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_UNKNOWN_OUTCOME),
                     "mode %u: %s", i, error->message);
    }
}
END_TEST

START_TEST (test_http_reuses_one_connection)
{
  g_autoptr(CtFaultProxy) proxy = ct_fault_proxy_new (ct_test_service_get_url (http_svc), 1, NULL);
  g_autoptr(CtHttp) http = ct_http_new (ct_fault_proxy_get_url (proxy),
                                        ct_test_service_get_token (http_svc),
                                        NULL, NULL, 1000, 5000, NULL);

  for (int i = 0; i < 20; i++)
    {
      CtHttpResult r;

      ck_assert (ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, NULL));
      ck_assert_int_eq (r.status, 200);
      ct_http_result_clear (&r);
    }
  ck_assert_uint_eq (ct_fault_proxy_get_requests (proxy), 20);
  ck_assert_uint_eq (ct_fault_proxy_get_connections (proxy), 1);
}
END_TEST

START_TEST (test_http_sends_key_and_sees_replay)
{
  g_autoptr(CtHttp) http = https_client (ct_test_service_get_pin_pubkey (https_svc));
  const CtCardIssue issue = { .member_name = "Bob", .member_phone = "13900000000", .operator_name = "t",
                              .manager_id = CT_TEST_SERVICE_MANAGER_ID,
                              .manager_pin = CT_TEST_SERVICE_MANAGER_PIN };
  g_autofree char *body_text = ct_wire_encode_card_issue (&issue);
  g_autoptr(GBytes) body = g_bytes_new (body_text, strlen (body_text));
  CtHttpResult r1, r2, r3;

  ck_assert (ct_http_request (http, "POST", "/v1/cards", "issue-bob-1", body, &r1, NULL));
  ck_assert_int_eq (r1.status, 201);
  ck_assert (!r1.replayed);
  ck_assert (ct_http_request (http, "POST", "/v1/cards", "issue-bob-1", body, &r2, NULL));
  ck_assert_int_eq (r2.status, 201);
  ck_assert (r2.replayed);
  ck_assert (g_bytes_equal (r1.body, r2.body));
  /* Without a key the service refuses (not stored). */
  ck_assert (ct_http_request (http, "POST", "/v1/cards", NULL, body, &r3, NULL));
  ck_assert_int_eq (r3.status, 400);
  ct_http_result_clear (&r1);
  ct_http_result_clear (&r2);
  ct_http_result_clear (&r3);
}
END_TEST

/* A listener that accepts TCP connections and closes them at once, before
 * any TLS: a network that cuts the handshake off. */
typedef struct
{
  GSocket  *listener;
  gboolean  stop;
  guint     accepted;
} Cutter;

static gpointer
cutter_thread (gpointer data)
{
  Cutter *c = data;

  while (!g_atomic_int_get (&c->stop))
    {
      g_autoptr(GSocket) conn = NULL;

      if (!g_socket_condition_timed_wait (c->listener, G_IO_IN, 100 * 1000, NULL, NULL))
        continue;
      conn = g_socket_accept (c->listener, NULL, NULL);
      if (conn == NULL)
        continue;
      g_atomic_int_inc (&c->accepted);
      g_socket_close (conn, NULL);
    }
  return NULL;
}

static guint16
listen_any (GSocket **out)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL);

  ck_assert_ptr_nonnull (sock);
  ck_assert (g_socket_bind (sock, addr, TRUE, NULL));
  ck_assert (g_socket_listen (sock, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  *out = sock;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

START_TEST (test_http_handshake_cut_by_the_network_is_unreachable)
{
  Cutter c = { 0 };
  guint16 port = listen_any (&c.listener);
  GThread *thread = g_thread_new ("cutter", cutter_thread, &c);
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtHttp) http = ct_http_new (url, "t", ct_test_service_get_ca_file (https_svc),
                                        ct_test_service_get_pin_pubkey (https_svc), 2000, 5000,
                                        &error);
  CtHttpResult r;

  ck_assert_ptr_nonnull (http);
  ck_assert (!ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, &error));
  g_atomic_int_set (&c.stop, TRUE);
  g_thread_join (thread);
  g_object_unref (c.listener);
  ck_assert_msg (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT), "%s (%d)",
                 error->message, error->code);
  ck_assert_uint_ge (c.accepted, 1);
  /* Said in words, not libcurl's. */
  ck_assert_msg (strstr (error->message, "does not answer") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_http_pin_alone_verifies_a_self_signed_service)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtHttp) http = ct_http_new (ct_test_service_get_url (https_svc),
                                        ct_test_service_get_token (https_svc), NULL,
                                        ct_test_service_get_pin_pubkey (https_svc), 2000, 5000,
                                        &error);
  g_autoptr(CtHttp) wrong = ct_http_new (ct_test_service_get_url (https_svc),
                                         ct_test_service_get_token (https_svc), NULL,
                                         "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                         2000, 5000, &error);
  CtHttpResult r;

  ck_assert_msg (ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, &error), "%s",
                 error ? error->message : "");
  ck_assert_int_eq (r.status, 200);
  ct_http_result_clear (&r);
  /* Without a CA the pin is the check: another key is refused. */
  ck_assert (!ct_http_request (wrong, "GET", "/v1/merchant", NULL, NULL, &r, &error));
  ck_assert (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS));
  ck_assert_msg (strstr (error->message, "pin") != NULL, "%s", error->message);
}
END_TEST

/* gnutls-serv --http on a free port of 127.0.0.1 with @cert and @key (and
 * @priority when given), once it takes connections. Returns its URL. */
static char *
start_gnutls_serv (const char   *cert,
                   const char   *key,
                   const char   *priority,
                   GSubprocess **out_serv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  GSocket *probe = NULL;
  guint16 port = listen_any (&probe);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  gboolean up = FALSE;

  g_object_unref (probe);
  g_ptr_array_add (argv, g_strdup ("gnutls-serv"));
  g_ptr_array_add (argv, g_strdup ("--http"));
  g_ptr_array_add (argv, g_strdup ("-p"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", port));
  g_ptr_array_add (argv, g_strdup ("--x509certfile"));
  g_ptr_array_add (argv, g_strdup (cert));
  g_ptr_array_add (argv, g_strdup ("--x509keyfile"));
  g_ptr_array_add (argv, g_strdup (key));
  if (priority != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--priority"));
      g_ptr_array_add (argv, g_strdup (priority));
    }
  g_ptr_array_add (argv, NULL);
  *out_serv = g_subprocess_newv ((const char * const *) argv->pdata,
                                 G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                 | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  ck_assert_msg (*out_serv != NULL, "%s", error ? error->message : "");
  while (!up && g_get_monotonic_time () < deadline)
    {
      g_autoptr(GSocketClient) client = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                                          port, NULL, NULL);

      up = conn != NULL;
      if (!up)
        g_usleep (50 * 1000);
    }
  ck_assert (up);
  return g_strdup_printf ("https://127.0.0.1:%u", port);
}

static void
stop_gnutls_serv (GSubprocess *serv)
{
  g_subprocess_force_exit (serv);
  g_subprocess_wait (serv, NULL, NULL);
  g_object_unref (serv);
}

START_TEST (test_http_refuses_tls_before_1_2)
{
  g_autoptr(GError) error = NULL;
  GSubprocess *serv = NULL;
  g_autoptr(CtHttp) http = NULL;
  g_autofree char *cert = g_build_filename (ct_test_service_get_data_dir (https_svc), "cert.pem",
                                            NULL);
  g_autofree char *key = g_build_filename (ct_test_service_get_data_dir (https_svc), "key.pem",
                                           NULL);
  /* gnutls-serv offering TLS 1.0 and 1.1 only. */
  g_autofree char *url = start_gnutls_serv (cert, key, "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1",
                                            &serv);
  CtHttpResult r;

  http = ct_http_new (url, "t", cert, NULL, 2000, 5000, &error);
  ck_assert_ptr_nonnull (http);
  ck_assert_msg (!ct_http_request (http, "GET", "/", NULL, NULL, &r, &error),
                 "a TLS 1.0/1.1 handshake was completed");
  ck_assert_msg (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS), "%s", error->message);
  ck_assert_msg (strstr (error->message, "TLS 1.2") != NULL, "%s", error->message);
  stop_gnutls_serv (serv);
}
END_TEST

static void
certtool (const char *first,
          ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  va_list args;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) "certtool");
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error);
  ck_assert_msg (proc != NULL, "%s", error ? error->message : "");
  ck_assert_msg (g_subprocess_wait_check (proc, NULL, &error), "certtool: %s", error->message);
}

/* A public CA (any CA of the system's directory) must not vouch for a
 * service when the till names its store's CA: the CA file is trusted
 * alone. The system's directory is played by a temporary one holding
 * "Public CA", which signed the service's certificate. */
START_TEST (test_http_ca_file_is_trusted_alone)
{
  g_autofree char *dir = g_dir_make_tmp ("test-http-ca-XXXXXX", NULL);
  g_autofree char *ca_dir = g_build_filename (dir, "certs", NULL);
  g_autofree char *ca_key = g_build_filename (dir, "ca.key", NULL);
  g_autofree char *ca_cert = g_build_filename (ca_dir, "public-ca.pem", NULL);
  g_autofree char *ca_tmpl = g_build_filename (dir, "ca.tmpl", NULL);
  g_autofree char *key = g_build_filename (dir, "service.key", NULL);
  g_autofree char *cert = g_build_filename (dir, "service.pem", NULL);
  g_autofree char *tmpl = g_build_filename (dir, "service.tmpl", NULL);
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtHttp) system_only = NULL;
  g_autoptr(CtHttp) store_ca = NULL;
  GSubprocess *serv = NULL;
  CtHttpResult r;

  ck_assert_int_eq (g_mkdir (ca_dir, 0700), 0);
  ck_assert (g_file_set_contents (ca_tmpl, "cn = Public CA\nca\ncert_signing_key\n"
                                  "expiration_days = 2\n", -1, NULL));
  ck_assert (g_file_set_contents (tmpl, "cn = 127.0.0.1\nip_address = 127.0.0.1\n"
                                  "tls_www_server\nsigning_key\nencryption_key\n"
                                  "expiration_days = 2\n", -1, NULL));
  certtool ("--generate-privkey", "--key-type=ecdsa", "--outfile", ca_key, NULL);
  certtool ("--generate-self-signed", "--load-privkey", ca_key, "--template", ca_tmpl,
            "--outfile", ca_cert, NULL);
  certtool ("--generate-privkey", "--key-type=ecdsa", "--outfile", key, NULL);
  certtool ("--generate-certificate", "--load-privkey", key, "--load-ca-certificate",
            ca_cert, "--load-ca-privkey", ca_key, "--template", tmpl, "--outfile", cert, NULL);
  url = start_gnutls_serv (cert, key, NULL, &serv);

  /* Without a CA file the system's directory is what vouches: the
   * stand-in is read, and its CA accepted. */
  system_only = ct_http_new (url, "t", NULL, NULL, 2000, 5000, &error);
  ck_assert_ptr_nonnull (system_only);
  ct_http_set_default_ca_path (system_only, ca_dir);
  ck_assert_msg (ct_http_request (system_only, "GET", "/", NULL, NULL, &r, &error), "%s",
                 error ? error->message : "");
  ct_http_result_clear (&r);

  /* With the store's CA file, the public CA beside it does not count. */
  store_ca = ct_http_new (url, "t", ct_test_service_get_ca_file (https_svc), NULL, 2000, 5000,
                          &error);
  ck_assert_ptr_nonnull (store_ca);
  ct_http_set_default_ca_path (store_ca, ca_dir);
  ck_assert_msg (!ct_http_request (store_ca, "GET", "/", NULL, NULL, &r, &error),
                 "a service signed by a CA outside the till's CA file was accepted");
  ck_assert_msg (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS), "%s", error->message);
  ck_assert_msg (strstr (error->message, "not signed by this till's CA") != NULL, "%s",
                 error->message);
  stop_gnutls_serv (serv);
  for (const char *const *f = (const char *const[]) { ca_cert, ca_key, ca_tmpl, key, cert, tmpl, NULL };
       *f != NULL; f++)
    g_unlink (*f);
  g_rmdir (ca_dir);
  g_rmdir (dir);
}
END_TEST

static Suite *
http_suite (void)
{
  Suite *s = suite_create ("http");
  TCase *tc = tcase_create ("http");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, start_services, stop_services);
  tcase_add_test (tc, test_http_https_with_ca_and_pin_reaches_service);
  tcase_add_test (tc, test_http_wrong_pin_is_refused_before_sending);
  tcase_add_test (tc, test_http_unknown_certificate_is_refused);
  tcase_add_test (tc, test_http_plain_http_only_to_loopback);
  tcase_add_test (tc, test_http_refused_connection_is_not_sent);
  tcase_add_test (tc, test_http_reset_after_sending_is_unknown_outcome);
  tcase_add_test (tc, test_http_reuses_one_connection);
  tcase_add_test (tc, test_http_sends_key_and_sees_replay);
  tcase_add_test (tc, test_http_handshake_cut_by_the_network_is_unreachable);
  tcase_add_test (tc, test_http_pin_alone_verifies_a_self_signed_service);
  tcase_add_test (tc, test_http_refuses_tls_before_1_2);
  tcase_add_test (tc, test_http_ca_file_is_trusted_alone);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (http_suite ());
  int failed;

  /* One process: the services started by the fixture serve every case. */
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
