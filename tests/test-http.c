/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-http"
#include "config.h"

#include <check.h>
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
  gsize len;
  const char *data;

  ck_assert_msg (ct_http_request (http, "GET", "/v1/health", NULL, NULL, &r, &error), "%s",
                 error ? error->message : "");
  ck_assert_int_eq (r.status, 200);
  data = g_bytes_get_data (r.body, &len);
  ck_assert (ct_wire_decode_health (data, len, &version, NULL));
  ct_http_result_clear (&r);

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
  g_autoptr(CtHttp) http = ct_http_new (ct_test_service_get_url (https_svc),
                                        ct_test_service_get_token (https_svc),
                                        NULL, NULL, 2000, 5000, &error);
  CtHttpResult r;

  ck_assert_ptr_nonnull (http);
  ck_assert (!ct_http_request (http, "GET", "/v1/merchant", NULL, NULL, &r, &error));
  ck_assert (g_error_matches (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS));
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
  g_autofree char *body_text = ct_wire_encode_card_issue ("Bob", "13900000000", NULL, NULL, "t",
                                                          CT_TEST_SERVICE_MANAGER_ID,
                                                          CT_TEST_SERVICE_MANAGER_PIN);
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
