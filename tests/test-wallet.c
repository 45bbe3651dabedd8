/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-wallet"
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "ct-fake-wallet.h"
#include "ct-test-service.h"
#include "ct-wallet-alipay.h"
#include "ct-wallet-sign.h"
#include "ct-wallet-wechat.h"
#include "ct-wallet-worker.h"
#include "ct-wallet.h"

/* The wallet connectors: RSA2 and WECHATPAY2-SHA256-RSA2048 signatures
 * cross-checked with openssl, answer verification, the message builders,
 * and the delivery worker against the fake gateways. Keys are generated
 * for this run. */

static char *tmp_dir;
static char *app_key;            /* the merchant's Alipay app key */
static char *app_pub;
static char *alipay_key;         /* Alipay's own key (the fake signs with it) */
static char *alipay_pub;
static char *wrong_key;          /* a key nobody should trust */
static char *mch_key;            /* the WeChat Pay merchant key and certificate */
static char *mch_cert;
static char *platform_key;       /* WeChat Pay's platform key and certificate */
static char *platform_cert;

#define MCH_SERIAL "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
#define PLATFORM_SERIAL "3775B6A45ACD588826D15E583A95F5DD2C4C7B01"

static char *
run (const char *const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
  return g_steal_pointer (&out);
}

static char *
make_key (const char *name)
{
  char *path = g_build_filename (tmp_dir, name, NULL);

  g_free (run ((const char *[]) { "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                  "rsa_keygen_bits:2048", "-out", path, NULL }));
  g_chmod (path, 0600);
  return path;
}

static char *
make_pub (const char *key,
          const char *name)
{
  char *path = g_build_filename (tmp_dir, name, NULL);

  g_free (run ((const char *[]) { "openssl", "pkey", "-in", key, "-pubout", "-out", path, NULL }));
  return path;
}

static char *
make_cert (const char *key,
           const char *serial,
           const char *name)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_autofree char *serial_arg = g_strconcat ("0x", serial, NULL);

  g_free (run ((const char *[]) { "openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=cardtill test",
                                  "-days", "2", "-set_serial", serial_arg, "-out", path, NULL }));
  return path;
}

static void
make_keys (void)
{
  tmp_dir = g_dir_make_tmp ("test-wallet-XXXXXX", NULL);
  app_key = make_key ("app.pem");
  app_pub = make_pub (app_key, "app.pub");
  alipay_key = make_key ("alipay.pem");
  alipay_pub = make_pub (alipay_key, "alipay.pub");
  wrong_key = make_key ("wrong.pem");
  mch_key = make_key ("apiclient_key.pem");
  mch_cert = make_cert (mch_key, MCH_SERIAL, "apiclient_cert.pem");
  platform_key = make_key ("platform.pem");
  platform_cert = make_cert (platform_key, PLATFORM_SERIAL, "wechatpay.pem");
}

static char *
openssl_sign (const char *key,
              const char *text)
{
  g_autofree char *in = g_build_filename (tmp_dir, "message", NULL);
  g_autofree char *sig = g_build_filename (tmp_dir, "message.sig", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;

  g_assert_true (g_file_set_contents (in, text, -1, NULL));
  g_free (run ((const char *[]) { "openssl", "dgst", "-sha256", "-sign", key, "-out", sig, in, NULL }));
  g_assert_true (g_file_get_contents (sig, &bytes, &len, NULL));
  return g_base64_encode ((guchar *) bytes, len);
}

static gboolean
openssl_verify (const char *pub,
                const char *text,
                const char *sig_b64)
{
  g_autofree char *in = g_build_filename (tmp_dir, "verify", NULL);
  g_autofree char *sig = g_build_filename (tmp_dir, "verify.sig", NULL);
  g_autofree guchar *raw = NULL;
  const char *argv[] = { "openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig, in, NULL };
  int status = 0;
  gsize len = 0;

  raw = g_base64_decode (sig_b64, &len);
  g_assert_true (g_file_set_contents (in, text, -1, NULL));
  g_assert_true (g_file_set_contents (sig, (char *) raw, len, NULL));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL);
  return g_spawn_check_wait_status (status, NULL);
}

/* ---- signing ---- */

START_TEST (test_wallet_sign_matches_openssl)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = ct_wallet_key_load (app_key, &error);
  g_autoptr(CtWalletPubkey) pub = NULL;
  const char *text = "app_id=2021000000000001&biz_content={\"name\":\"王芳\"}&charset=utf-8";
  g_autofree char *ours = NULL;
  g_autofree char *theirs = openssl_sign (app_key, text);

  g_assert_no_error (error);
  ours = ct_wallet_sign (key, text, strlen (text), &error);
  g_assert_no_error (error);
  /* PKCS#1 v1.5 is deterministic: the same key and text give the same bytes. */
  ck_assert_str_eq (ours, theirs);
  ck_assert (openssl_verify (app_pub, text, ours));
  pub = ct_wallet_pubkey_load (app_pub, &error);
  g_assert_no_error (error);
  ck_assert (ct_wallet_verify (pub, text, strlen (text), theirs, NULL));
  ck_assert (!ct_wallet_verify (pub, "app_id=2021000000000002", 23, theirs, NULL));
}
END_TEST

START_TEST (test_wallet_key_file_readable_by_others_is_refused)
{
  g_autofree char *copy = g_build_filename (tmp_dir, "shared-key.pem", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = NULL;

  g_assert_true (g_file_get_contents (app_key, &text, NULL, NULL));
  g_assert_true (g_file_set_contents (copy, text, -1, NULL));
  g_chmod (copy, 0640);
  key = ct_wallet_key_load (copy, &error);
  ck_assert_ptr_null (key);
  ck_assert (g_error_matches (error, CT_WALLET_SIGN_ERROR, CT_WALLET_SIGN_ERROR_FILE));
  ck_assert_msg (strstr (error->message, "chmod 600") != NULL, "%s", error->message);
  g_clear_error (&error);
  g_chmod (copy, 0604);
  ck_assert_ptr_null (ct_wallet_key_load (copy, &error));
  g_clear_error (&error);
  g_chmod (copy, 0600);
  key = ct_wallet_key_load (copy, &error);
  g_assert_no_error (error);
  ck_assert_ptr_nonnull (key);
}
END_TEST

START_TEST (test_wallet_key_in_alipay_bare_base64_loads)
{
  g_autofree char *der = g_build_filename (tmp_dir, "app.der", NULL);
  g_autofree char *bare = g_build_filename (tmp_dir, "app-bare.txt", NULL);
  g_autofree char *pub_der = g_build_filename (tmp_dir, "app-pub.der", NULL);
  g_autofree char *pub_bare = g_build_filename (tmp_dir, "app-pub-bare.txt", NULL);
  g_autofree char *bytes = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *sig = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = NULL;
  g_autoptr(CtWalletPubkey) pub = NULL;
  gsize len = 0;

  /* Alipay's key tool writes PKCS#8 and the public key as one base64 line. */
  g_free (run ((const char *[]) { "openssl", "pkcs8", "-topk8", "-nocrypt", "-in", app_key,
                                  "-outform", "DER", "-out", der, NULL }));
  g_assert_true (g_file_get_contents (der, &bytes, &len, NULL));
  b64 = g_base64_encode ((guchar *) bytes, len);
  g_assert_true (g_file_set_contents (bare, b64, -1, NULL));
  g_chmod (bare, 0600);
  g_clear_pointer (&bytes, g_free);
  g_clear_pointer (&b64, g_free);
  g_free (run ((const char *[]) { "openssl", "pkey", "-in", app_key, "-pubout", "-outform", "DER",
                                  "-out", pub_der, NULL }));
  g_assert_true (g_file_get_contents (pub_der, &bytes, &len, NULL));
  b64 = g_base64_encode ((guchar *) bytes, len);
  g_assert_true (g_file_set_contents (pub_bare, b64, -1, NULL));

  key = ct_wallet_key_load (bare, &error);
  g_assert_no_error (error);
  pub = ct_wallet_pubkey_load (pub_bare, &error);
  g_assert_no_error (error);
  sig = ct_wallet_sign (key, "abc", 3, &error);
  g_assert_no_error (error);
  ck_assert (ct_wallet_verify (pub, "abc", 3, sig, NULL));
  ck_assert (openssl_verify (app_pub, "abc", sig));
}
END_TEST

START_TEST (test_wallet_alipay_sign_content_sorts_and_drops_empty)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *content = NULL;

  g_hash_table_insert (params, "timestamp", "2026-12-02 09:30:00");
  g_hash_table_insert (params, "app_id", "2021000000000001");
  g_hash_table_insert (params, "sign", "should-not-be-signed");
  g_hash_table_insert (params, "notify_url", "");
  g_hash_table_insert (params, "biz_content", "{\"level\":\"金卡\",\"a\":\"x&y=z\"}");
  g_hash_table_insert (params, "charset", "utf-8");
  content = ct_alipay_sign_content (params);
  /* Raw values, not URL-escaped; "sign" and empty values left out. */
  ck_assert_str_eq (content, "app_id=2021000000000001&biz_content={\"level\":\"金卡\",\"a\":\"x&y=z\"}"
                             "&charset=utf-8&timestamp=2026-12-02 09:30:00");
}
END_TEST

static GHashTable *
query_params (const char *url,
              const char *body)
{
  GHashTable *params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *q = strchr (url, '?');
  g_autofree char *all = g_strconcat (q + 1, "&", body, NULL);
  g_auto(GStrv) pairs = g_strsplit (all, "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      char *eq = strchr (pairs[i], '=');
      *eq = '\0';
      g_hash_table_replace (params, g_strdup (pairs[i]), g_uri_unescape_string (eq + 1, NULL));
    }
  return params;
}

START_TEST (test_wallet_alipay_request_signed_as_openssl_would)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = ct_wallet_key_load (app_key, &error);
  g_autoptr(GHashTable) params = NULL;
  g_autofree char *url = NULL;
  g_autofree char *body = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *content = NULL;
  /* 2026-12-02 01:30:00 UTC is 09:30:00 in Beijing. */
  int64_t now_ms = G_GINT64_CONSTANT (1796175000000);

  g_assert_no_error (error);
  ck_assert (ct_alipay_request (key, "https://openapi.alipay.com/gateway.do", "2021000000000001",
                                CT_WALLET_METHOD_SYNC, "{\"trade_no\":\"m1:7\",\"name\":\"王芳 & co\"}",
                                now_ms, &url, &body, &error));
  g_assert_no_error (error);
  ck_assert (g_str_has_prefix (url, "https://openapi.alipay.com/gateway.do?app_id=2021000000000001&"));
  ck_assert (g_str_has_prefix (body, "biz_content="));
  params = query_params (url, body);
  ck_assert_str_eq (g_hash_table_lookup (params, "timestamp"), "2026-12-02 09:30:00");
  ck_assert_str_eq (g_hash_table_lookup (params, "sign_type"), "RSA2");
  ck_assert_str_eq (g_hash_table_lookup (params, "charset"), "utf-8");
  ck_assert_str_eq (g_hash_table_lookup (params, "format"), "JSON");
  ck_assert_str_eq (g_hash_table_lookup (params, "version"), "1.0");
  content = g_strdup_printf ("app_id=2021000000000001&biz_content={\"trade_no\":\"m1:7\",\"name\":\"王芳 & co\"}"
                             "&charset=utf-8&format=JSON&method=%s&sign_type=RSA2"
                             "&timestamp=2026-12-02 09:30:00&version=1.0", CT_WALLET_METHOD_SYNC);
  expected = openssl_sign (app_key, content);
  ck_assert_str_eq (g_hash_table_lookup (params, "sign"), expected);
}
END_TEST

static char *
alipay_answer (const char *key,
               const char *name,
               const char *member)
{
  g_autofree char *sig = openssl_sign (key, member);

  return g_strdup_printf ("{\"%s\" :  %s ,\"sign\":\"%s\"}", name, member, sig);
}

START_TEST (test_wallet_alipay_answer_verified_over_raw_member)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletPubkey) pub = ct_wallet_pubkey_load (alipay_pub, &error);
  /* Spaces, an escaped slash and \u escapes: a re-serialisation would
   * change these bytes and no longer match the signature. */
  const char *member = "{ \"code\" : \"10000\", \"msg\":\"Success\", \"note\":\"a\\/b \\u6210\\u529f\","
                       " \"card_info\": {\"biz_card_no\": \"0000123\"} }";
  g_autofree char *answer = alipay_answer (alipay_key, "alipay_marketing_card_open_response", member);
  g_autofree char *forged = NULL;
  g_autofree char *tampered = NULL;
  g_autofree char *biz = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *reserialised_sig = NULL;
  json_object *obj;
  const char *span = NULL;
  gsize span_len = 0;
  char *sign = NULL;

  g_assert_no_error (error);
  ck_assert (ct_alipay_answer_split (answer, strlen (answer), CT_WALLET_METHOD_OPEN, &span, &span_len,
                                     &sign, &error));
  ck_assert_int_eq (span_len, strlen (member));
  ck_assert (memcmp (span, member, span_len) == 0);
  g_free (sign);

  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_OPEN, answer, strlen (answer), &biz, &reason),
                    CT_WALLET_DELIVERED);
  ck_assert_str_eq (biz, "0000123");
  g_clear_pointer (&biz, g_free);

  /* Signed over json-c's re-serialisation of the same member: not Alipay's bytes. */
  obj = json_tokener_parse (member);
  reserialised_sig = openssl_sign (alipay_key, json_object_to_json_string_ext (obj, JSON_C_TO_STRING_PLAIN));
  forged = g_strdup_printf ("{\"alipay_marketing_card_open_response\":%s,\"sign\":\"%s\"}", member, reserialised_sig);
  json_object_put (obj);
  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_OPEN, forged, strlen (forged), &biz, &reason),
                    CT_WALLET_RETRY);
  ck_assert_ptr_null (biz);
  g_clear_pointer (&reason, g_free);

  /* One changed byte in the member. */
  tampered = g_strdup (answer);
  *strstr (tampered, "0000123") = '9';
  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_OPEN, tampered, strlen (tampered), &biz, &reason),
                    CT_WALLET_RETRY);
  ck_assert_msg (strstr (reason, "signature") != NULL, "%s", reason);
  g_clear_pointer (&reason, g_free);

  /* Unsigned success. */
  g_clear_pointer (&forged, g_free);
  forged = g_strdup_printf ("{\"alipay_marketing_card_open_response\":%s}", member);
  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_OPEN, forged, strlen (forged), &biz, &reason),
                    CT_WALLET_RETRY);
  g_clear_pointer (&reason, g_free);

  /* A second "sign" member is not an answer to trust. */
  g_clear_pointer (&forged, g_free);
  forged = g_strdup_printf ("%.*s,\"sign\":\"x\"}", (int) strlen (answer) - 1, answer);
  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_OPEN, forged, strlen (forged), &biz, &reason),
                    CT_WALLET_RETRY);
}
END_TEST

START_TEST (test_wallet_alipay_refusal_and_busy_are_told_apart)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletPubkey) pub = ct_wallet_pubkey_load (alipay_pub, &error);
  g_autofree char *refused = alipay_answer (alipay_key, "alipay_marketing_card_consume_sync_response",
                                            "{\"code\":\"40004\",\"msg\":\"Business Failed\","
                                            "\"sub_code\":\"CARD_NOT_EXIST\",\"sub_msg\":\"卡不存在\"}");
  g_autofree char *busy = alipay_answer (alipay_key, "alipay_marketing_card_consume_sync_response",
                                         "{\"code\":\"20000\",\"msg\":\"Service Currently Unavailable\","
                                         "\"sub_code\":\"isp.unknow-error\"}");
  g_autofree char *reason = NULL;

  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_SYNC, refused, strlen (refused), NULL, &reason),
                    CT_WALLET_REFUSED);
  ck_assert_msg (strstr (reason, "CARD_NOT_EXIST") != NULL && strstr (reason, "卡不存在") != NULL, "%s", reason);
  g_clear_pointer (&reason, g_free);
  ck_assert_int_eq (ct_alipay_judge (pub, CT_WALLET_METHOD_SYNC, busy, strlen (busy), NULL, &reason),
                    CT_WALLET_RETRY);
}
END_TEST

START_TEST (test_wallet_wechat_authorization_signs_five_lines)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = ct_wallet_key_load (mch_key, &error);
  g_autofree char *auth = NULL;
  g_autofree char *expected_sig = NULL;
  g_autofree char *expected = NULL;
  const char *path = "/v3/marketing/membercard-open/cards/pbLatjvWOibDc5-TBnbUk1pD12o0/codes/8888000011112222";
  const char *body = "{\"out_request_no\":\"m1-7\",\"level\":\"金卡\"}";
  g_autofree char *message = g_strdup_printf ("PATCH\n%s\n1796175000\nNONCE123\n%s\n", path, body);

  g_assert_no_error (error);
  auth = ct_wechat_authorization (key, "1900000001", MCH_SERIAL, "PATCH", path, body, 1796175000,
                                  "NONCE123", &error);
  g_assert_no_error (error);
  expected_sig = openssl_sign (mch_key, message);
  expected = g_strdup_printf ("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"NONCE123\","
                              "signature=\"%s\",timestamp=\"1796175000\",serial_no=\"%s\"",
                              expected_sig, MCH_SERIAL);
  ck_assert_str_eq (auth, expected);
}
END_TEST

START_TEST (test_wallet_wechat_answer_needs_platform_signature)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletPubkey) cert = ct_wallet_pubkey_load (platform_cert, &error);
  int64_t now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, now);
  g_autofree char *old_ts = g_strdup_printf ("%" G_GINT64_FORMAT, now - 3600);
  g_autofree char *sig_empty = NULL;
  g_autofree char *sig_old = NULL;
  g_autofree char *sig_wrong = NULL;
  g_autofree char *sig_refusal = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *m = NULL;
  const char *refusal = "{\"code\":\"PARAM_ERROR\",\"message\":\"code 不存在\"}";
  CtWechatAnswerHeaders h;

  g_assert_no_error (error);
  ck_assert_str_eq (ct_wallet_pubkey_serial (cert), PLATFORM_SERIAL);
  m = g_strdup_printf ("%s\nN1\n\n", ts);
  sig_empty = openssl_sign (platform_key, m);
  sig_wrong = openssl_sign (wrong_key, m);
  g_free (m);
  m = g_strdup_printf ("%s\nN1\n\n", old_ts);
  sig_old = openssl_sign (platform_key, m);
  g_free (m);
  m = g_strdup_printf ("%s\nN1\n%s\n", ts, refusal);
  sig_refusal = openssl_sign (platform_key, m);

  h = (CtWechatAnswerHeaders) { ts, "N1", sig_empty, PLATFORM_SERIAL };
  ck_assert_int_eq (ct_wechat_judge (cert, 204, &h, "", 0, now, &reason), CT_WALLET_DELIVERED);

  /* An unsigned success is forged. */
  h = (CtWechatAnswerHeaders) { NULL, NULL, NULL, NULL };
  ck_assert_int_eq (ct_wechat_judge (cert, 204, &h, "", 0, now, &reason), CT_WALLET_RETRY);
  ck_assert_msg (strstr (reason, "not signed") != NULL, "%s", reason);
  g_clear_pointer (&reason, g_free);

  h = (CtWechatAnswerHeaders) { ts, "N1", sig_wrong, PLATFORM_SERIAL };
  ck_assert_int_eq (ct_wechat_judge (cert, 204, &h, "", 0, now, &reason), CT_WALLET_RETRY);
  g_clear_pointer (&reason, g_free);
  h = (CtWechatAnswerHeaders) { ts, "N1", sig_empty, MCH_SERIAL };
  ck_assert_int_eq (ct_wechat_judge (cert, 204, &h, "", 0, now, &reason), CT_WALLET_RETRY);
  g_clear_pointer (&reason, g_free);
  /* Signed, but an hour old: a replayed answer. */
  h = (CtWechatAnswerHeaders) { old_ts, "N1", sig_old, PLATFORM_SERIAL };
  ck_assert_int_eq (ct_wechat_judge (cert, 204, &h, "", 0, now, &reason), CT_WALLET_RETRY);
  g_clear_pointer (&reason, g_free);
  /* A signed refusal is kept with WeChat Pay's words. */
  h = (CtWechatAnswerHeaders) { ts, "N1", sig_refusal, PLATFORM_SERIAL };
  ck_assert_int_eq (ct_wechat_judge (cert, 400, &h, refusal, strlen (refusal), now, &reason), CT_WALLET_REFUSED);
  ck_assert_msg (strstr (reason, "PARAM_ERROR") != NULL && strstr (reason, "code 不存在") != NULL, "%s", reason);
  g_clear_pointer (&reason, g_free);
  ck_assert_int_eq (ct_wechat_judge (cert, 500, &h, refusal, strlen (refusal), now, &reason), CT_WALLET_RETRY);
}
END_TEST

/* ---- message builders ---- */

static json_object *
parse (const char *text)
{
  json_object *obj = json_tokener_parse (text);

  ck_assert_ptr_nonnull (obj);
  return obj;
}

static const char *
path_str (json_object *obj,
          const char  *a,
          const char  *b)
{
  json_object *v = NULL;

  ck_assert_msg (json_object_object_get_ex (obj, a, &v), "no %s", a);
  if (b != NULL)
    ck_assert_msg (json_object_object_get_ex (v, b, &v), "no %s.%s", a, b);
  return json_object_get_string (v);
}

START_TEST (test_wallet_payloads_carry_the_documented_fields)
{
  /* 2026-12-02 01:30:00 UTC. */
  int64_t ms = G_GINT64_CONSTANT (1796175000000);
  CtWalletCard card = { "8888000011112222", "金卡", "active", 11000, 12, 2, ms };
  g_autofree char *open = ct_alipay_payload_open ("20261202000000000001", &card, "Asia/Shanghai");
  g_autofree char *sync = NULL;
  g_autofree char *biz = NULL;
  g_autofree char *wechat = NULL;
  g_autofree char *update = NULL;
  g_autofree char *trade_no = ct_wallet_alipay_trade_no ("m1", 42);
  g_autofree char *request_no = ct_wallet_wechat_request_no ("shop 1:a", 42);
  json_object *o;

  o = parse (open);
  ck_assert_str_eq (path_str (o, "out_serial_no", NULL), "open:8888000011112222");
  ck_assert_str_eq (path_str (o, "card_template_id", NULL), "20261202000000000001");
  ck_assert_str_eq (path_str (o, "card_ext_info", "external_card_no"), "8888000011112222");
  ck_assert_str_eq (path_str (o, "card_ext_info", "open_date"), "2026-12-02 09:30:00");
  ck_assert_str_eq (path_str (o, "card_ext_info", "balance"), "110.00");
  ck_assert_str_eq (path_str (o, "card_ext_info", "point"), "12");
  ck_assert_str_eq (path_str (o, "card_ext_info", "level"), "金卡");
  json_object_put (o);

  ck_assert_str_eq (trade_no, "m1:42");
  ck_assert_str_eq (request_no, "shop_1_a-42");
  ck_assert_str_eq (ct_wallet_alipay_trade_type ("topup"), "DEPOSIT");
  ck_assert_str_eq (ct_wallet_alipay_trade_type ("payment"), "TRADE");
  ck_assert_str_eq (ct_wallet_alipay_trade_type ("refund"), "RETURN");
  ck_assert_str_eq (ct_wallet_alipay_trade_type ("import"), "OPEN");
  ck_assert_ptr_null (ct_wallet_alipay_trade_type ("adjustment"));

  card.balance = 5;
  sync = ct_alipay_payload_sync (trade_no, "TRADE", -10995, ms, &card, "America/New_York");
  biz = ct_alipay_biz_content (CT_WALLET_METHOD_SYNC, sync, "BIZ0001", NULL);
  o = parse (biz);
  ck_assert_str_eq (path_str (o, "target_card_no", NULL), "BIZ0001");
  ck_assert_str_eq (path_str (o, "target_card_no_type", NULL), "BIZ_CARD");
  ck_assert_str_eq (path_str (o, "trade_no", NULL), "m1:42");
  ck_assert_str_eq (path_str (o, "trade_type", NULL), "TRADE");
  /* The merchant's zone, not Beijing's. */
  ck_assert_str_eq (path_str (o, "trade_time", NULL), "2026-12-01 20:30:00");
  ck_assert_str_eq (path_str (o, "trade_amount", NULL), "109.95");
  ck_assert_str_eq (path_str (o, "card_info", "balance"), "0.05");
  json_object_put (o);

  card.status = "frozen";
  update = ct_alipay_payload_update (ms, &card, "Asia/Shanghai");
  o = parse (update);
  ck_assert_str_eq (path_str (o, "occur_time", NULL), "2026-12-02 09:30:00");
  ck_assert (strstr (path_str (o, "ext_info", NULL), "FROZEN") != NULL);
  json_object_put (o);

  card.balance = 11000;
  wechat = ct_wechat_payload_update (request_no, 1000, "top-up", &card);
  o = parse (wechat);
  ck_assert_str_eq (path_str (o, "out_request_no", NULL), "shop_1_a-42");
  ck_assert_str_eq (path_str (o, "membership_number", NULL), "8888000011112222");
  ck_assert_str_eq (path_str (o, "balance_information", "before_balance"), "1000");
  ck_assert_str_eq (path_str (o, "balance_information", "balance"), "11000");
  ck_assert_str_eq (path_str (o, "balance_information", "add_balance"), "10000");
  json_object_put (o);
}
END_TEST

/* ---- the fake gateways check signatures the documented way ---- */

static long
post (const char *url,
      const char *body)
{
  CURL *curl = curl_easy_init ();
  long status = 0;
  g_autoptr(GString) answer = g_string_new (NULL);

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, fwrite);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, stderr);
  ck_assert_int_eq (curl_easy_perform (curl), CURLE_OK);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (curl);
  return status;
}

static char *
form_escape (const char *text)
{
  return g_uri_escape_string (text, NULL, FALSE);
}

START_TEST (test_wallet_fake_alipay_refuses_changed_body_and_wrong_charset)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                     alipay_key, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = ct_wallet_key_load (app_key, &error);
  const char *biz = "{\"out_serial_no\":\"open:8001\",\"card_template_id\":\"T1\","
                    "\"card_ext_info\":{\"external_card_no\":\"8001\",\"level\":\"金卡\"}}";
  g_autofree char *url = NULL;
  g_autofree char *body = NULL;
  g_autofree char *tampered = NULL;
  g_autofree char *gbk_biz = NULL;
  g_autofree char *gbk_url = NULL;
  g_autoptr(GPtrArray) applied = NULL;
  gsize gbk_len = 0;

  ct_fake_wallet_start (fake);
  ck_assert (ct_alipay_request (key, ct_fake_wallet_url (fake), "2021000000000001", CT_WALLET_METHOD_OPEN,
                                biz, g_get_real_time () / 1000, &url, &body, &error));

  /* A changed body: one character of biz_content. */
  tampered = g_strdup (body);
  *strstr (tampered, "T1") = 'X';
  post (url, tampered);
  ck_assert_int_eq (ct_fake_wallet_n_bad_signature (fake), 1);

  /* Declared GBK while the bytes and the signature are UTF-8: refused. */
  {
    g_autofree char *wrong = g_strdup (url);
    char *cs = strstr (wrong, "charset=utf-8");

    memcpy (cs, "charset=gbk&a=", 14);
    post (wrong, body);
    ck_assert_int_eq (ct_fake_wallet_n_bad_signature (fake), 2);
  }

  /* The same request really in GBK, signed over its GBK bytes: taken. */
  {
    g_autoptr(GHashTable) params = query_params (url, body);
    g_autofree char *content = NULL;
    g_autofree char *gbk_content = NULL;
    g_autofree char *sig = NULL;
    g_autofree char *e_sig = NULL;
    g_autofree char *e_ts = NULL;
    g_autofree char *gbk_body = NULL;
    g_autoptr(GString) escaped = g_string_new (NULL);

    g_hash_table_replace (params, g_strdup ("charset"), g_strdup ("gbk"));
    content = ct_alipay_sign_content (params);
    gbk_content = g_convert (content, -1, "GBK", "UTF-8", NULL, &gbk_len, NULL);
    sig = ct_wallet_sign (key, gbk_content, gbk_len, NULL);
    gbk_biz = g_convert (biz, -1, "GBK", "UTF-8", NULL, NULL, NULL);
    for (const guchar *p = (const guchar *) gbk_biz; *p; p++)
      g_string_append_printf (escaped, "%%%02X", *p);
    e_sig = form_escape (sig);
    e_ts = form_escape (g_hash_table_lookup (params, "timestamp"));
    gbk_url = g_strdup_printf ("%s?app_id=2021000000000001&method=%s&format=JSON&charset=gbk&sign_type=RSA2"
                               "&timestamp=%s&version=1.0&sign=%s", ct_fake_wallet_url (fake),
                               CT_WALLET_METHOD_OPEN, e_ts, e_sig);
    gbk_body = g_strconcat ("biz_content=", escaped->str, NULL);
    post (gbk_url, gbk_body);
    ck_assert_int_eq (ct_fake_wallet_n_bad_signature (fake), 2);
  }
  applied = ct_fake_wallet_applied (fake);
  ck_assert_int_eq (applied->len, 1);
  ck_assert (strstr (((CtFakeWalletRecord *) applied->pdata[0])->content, "金卡") != NULL);

  /* And the untouched UTF-8 request is taken (the same out_serial_no: once). */
  post (url, body);
  ck_assert_int_eq (ct_fake_wallet_n_bad_signature (fake), 2);
  g_ptr_array_unref (applied);
  applied = ct_fake_wallet_applied (fake);
  ck_assert_int_eq (applied->len, 1);
  ck_assert_int_eq (ct_fake_wallet_n_received (fake), 4);
}
END_TEST

/* ---- the worker against the fake gateways ---- */

/* A wallet outbox in memory: the storage interface the worker is written
 * against, without a database. */
typedef struct
{
  CtWalletMessage *msg;
  int64_t          next_at;
  char            *state;     /* "pending", "delivered", "refused" */
  char            *reason;
} MemEntry;

typedef struct
{
  GMutex             lock;
  CtWalletConnector *connector;
  GPtrArray         *entries;   /* of MemEntry*, in outbox order */
  GHashTable        *links;
} MemOutbox;

static CtWalletConnector *
connector_copy (const CtWalletConnector *c)
{
  CtWalletConnector *copy = g_new0 (CtWalletConnector, 1);

  *copy = *c;
  copy->merchant = g_strdup (c->merchant);
  copy->app_id = g_strdup (c->app_id);
  copy->serial_no = g_strdup (c->serial_no);
  copy->private_key = g_strdup (c->private_key);
  copy->public_key = g_strdup (c->public_key);
  copy->template_id = g_strdup (c->template_id);
  copy->gateway = g_strdup (c->gateway);
  return copy;
}

static CtWalletMessage *
message_copy (const CtWalletMessage *m)
{
  CtWalletMessage *copy = g_new0 (CtWalletMessage, 1);

  *copy = *m;
  copy->card_no = g_strdup (m->card_no);
  copy->method = g_strdup (m->method);
  copy->request_no = g_strdup (m->request_no);
  copy->payload = g_strdup (m->payload);
  return copy;
}

static GPtrArray *
mem_connectors (gpointer outbox, GError **error)
{
  MemOutbox *mem = outbox;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_connector_free);

  g_ptr_array_add (list, connector_copy (mem->connector));
  return list;
}

static GPtrArray *
mem_due (gpointer outbox, int64_t now, guint limit, int64_t lease_until, GError **error)
{
  MemOutbox *mem = outbox;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);
  g_autoptr(GHashTable) heads = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *due = g_ptr_array_new ();

  for (guint i = 0; i < mem->entries->len && due->len < limit; i++)
    {
      MemEntry *e = mem->entries->pdata[i];

      if (!g_str_equal (e->state, "pending") || g_hash_table_contains (heads, e->msg->card_no))
        continue;
      g_hash_table_add (heads, e->msg->card_no);
      if (e->next_at <= now)
        {
          e->next_at = lease_until;
          g_ptr_array_add (due, message_copy (e->msg));
        }
    }
  return due;
}

static MemEntry *
mem_find (MemOutbox *mem, int64_t id)
{
  for (guint i = 0; i < mem->entries->len; i++)
    if (((MemEntry *) mem->entries->pdata[i])->msg->id == id)
      return mem->entries->pdata[i];
  g_assert_not_reached ();
}

static gboolean
mem_card_link (gpointer outbox, int64_t connector_id, const char *card_no, char **out, GError **error)
{
  MemOutbox *mem = outbox;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);

  *out = g_strdup (g_hash_table_lookup (mem->links, card_no));
  return TRUE;
}

static gboolean
mem_set_link (gpointer outbox, int64_t connector_id, const char *card_no, const char *biz, GError **error)
{
  MemOutbox *mem = outbox;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);

  g_hash_table_replace (mem->links, g_strdup (card_no), g_strdup (biz));
  return TRUE;
}

static void
mem_settle (MemOutbox *mem, const CtWalletMessage *msg, const char *state, const char *reason,
            int64_t next_at)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);
  MemEntry *e = mem_find (mem, msg->id);

  e->state = (char *) state;
  g_free (e->reason);
  e->reason = g_strdup (reason);
  e->next_at = next_at;
  if (g_str_equal (state, "pending"))
    e->msg->attempts++;
}

static gboolean
mem_delivered (gpointer outbox, const CtWalletMessage *msg, int64_t now, GError **error)
{
  mem_settle (outbox, msg, "delivered", NULL, 0);
  return TRUE;
}

static gboolean
mem_retry (gpointer outbox, const CtWalletMessage *msg, int64_t next_at, const char *reason, GError **error)
{
  mem_settle (outbox, msg, "pending", reason, next_at);
  return TRUE;
}

static gboolean
mem_refused (gpointer outbox, const CtWalletMessage *msg, const char *reason, int64_t now, GError **error)
{
  mem_settle (outbox, msg, "refused", reason, 0);
  return TRUE;
}

static const CtWalletOutboxOps mem_ops = {
  mem_connectors, mem_due, mem_card_link, mem_set_link, mem_delivered, mem_retry, mem_refused,
};

static MemOutbox *
mem_new (CtWalletKind kind,
         const char  *gateway)
{
  MemOutbox *mem = g_new0 (MemOutbox, 1);
  CtWalletConnector c = { 1, "m1", kind, NULL, NULL, NULL, NULL, NULL, (char *) gateway };

  if (kind == CT_WALLET_ALIPAY)
    {
      c.app_id = "2021000000000001";
      c.private_key = app_key;
      c.public_key = alipay_pub;
      c.template_id = "20261202000000000001";
    }
  else
    {
      c.app_id = "1900000001";
      c.serial_no = MCH_SERIAL;
      c.private_key = mch_key;
      c.public_key = platform_cert;
      c.template_id = "pbLatjvWOibDc5-TBnbUk1pD12o0";
    }
  g_mutex_init (&mem->lock);
  mem->connector = connector_copy (&c);
  mem->entries = g_ptr_array_new ();
  mem->links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return mem;
}

static void
mem_add (MemOutbox  *mem,
         const char *card_no,
         const char *method,
         const char *request_no,
         char       *payload)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);
  MemEntry *e = g_new0 (MemEntry, 1);

  e->msg = g_new0 (CtWalletMessage, 1);
  e->msg->id = mem->entries->len + 1;
  e->msg->connector_id = 1;
  e->msg->card_no = g_strdup (card_no);
  e->msg->method = g_strdup (method);
  e->msg->request_no = g_strdup (request_no);
  e->msg->payload = payload;
  e->state = "pending";
  g_ptr_array_add (mem->entries, e);
}

static guint
mem_count (MemOutbox  *mem,
           const char *state)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);
  guint n = 0;

  for (guint i = 0; i < mem->entries->len; i++)
    n += g_str_equal (((MemEntry *) mem->entries->pdata[i])->state, state);
  return n;
}

static char *
mem_reason (MemOutbox *mem,
            int64_t    id)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);

  return g_strdup (mem_find (mem, id)->reason);
}

static gboolean
mem_any_reason (MemOutbox  *mem,
                const char *text)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);

  for (guint i = 0; i < mem->entries->len; i++)
    {
      MemEntry *e = mem->entries->pdata[i];

      if (e->reason != NULL && strstr (e->reason, text) != NULL)
        return TRUE;
    }
  return FALSE;
}

static guint
mem_attempts (MemOutbox *mem,
              int64_t    id)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&mem->lock);

  return mem_find (mem, id)->msg->attempts;
}

/* Waits for a condition with a generous deadline; no fixed sleeps. */
#define WAIT_FOR(cond) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + 60 * G_USEC_PER_SEC; \
    while (!(cond)) \
      { \
        ck_assert_msg (g_get_monotonic_time () < deadline_, "timed out waiting for %s", #cond); \
        g_usleep (20 * 1000); \
      } \
  } G_STMT_END

/* Waits until message @id was tried @more more times (and not delivered). */
static void
wait_more_attempts (MemOutbox *mem,
                    int64_t    id,
                    guint      more)
{
  guint before = mem_attempts (mem, id);

  WAIT_FOR (mem_attempts (mem, id) >= before + more);
}

static const CtWalletWorkerOptions fast = { 20, 200, 50, 5000 };

static void
add_alipay_trades (MemOutbox  *mem,
                   const char *card_no,
                   int         first,
                   int         n)
{
  CtWalletCard card = { card_no, NULL, "active", 0, 0, 2, 0 };

  for (int i = first; i < first + n; i++)
    {
      g_autofree char *trade_no = ct_wallet_alipay_trade_no ("m1", i);

      card.balance += 100 * i;
      mem_add (mem, card_no, CT_WALLET_METHOD_SYNC, trade_no,
               ct_alipay_payload_sync (trade_no, "DEPOSIT", 100 * i, 0, &card, "Asia/Shanghai"));
    }
}

/* Each request id once, and per card in the order written. */
static void
assert_once_in_order (GPtrArray  *applied,
                      const char *card_no,
                      const char *const *expected)
{
  guint k = 0;

  for (guint i = 0; i < applied->len; i++)
    {
      CtFakeWalletRecord *r = applied->pdata[i];

      if (g_strcmp0 (r->card_no, card_no) != 0)
        continue;
      ck_assert_msg (expected[k] != NULL, "card %s: unexpected extra %s", card_no, r->request_no);
      ck_assert_str_eq (r->request_no, expected[k]);
      k++;
    }
  ck_assert_msg (expected[k] == NULL, "card %s: %s never arrived", card_no, expected[k]);
}

START_TEST (test_wallet_alipay_every_transaction_once_in_order)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                     alipay_key, NULL);
  g_autoptr(CtWalletWorker) worker = NULL;
  g_autoptr(GPtrArray) applied = NULL;
  CtWalletCard a = { "8001", "silver", "active", 0, 0, 2, 0 };
  MemOutbox *mem;
  const char *const expect_a[] = { "open:8001", "m1:1", "m1:2", "m1:3", "m1:4", "m1:5", "m1:6", NULL };
  /* Card 8002 was never opened here (a connector added later): the worker
   * opens it before its first trade. */
  const char *const expect_b[] = { "open:8002", "m1:7", "m1:8", "m1:9", "m1:10", NULL };

  ct_fake_wallet_start (fake);
  ct_fake_wallet_drop_every (fake, 3);
  mem = mem_new (CT_WALLET_ALIPAY, ct_fake_wallet_url (fake));
  mem_add (mem, "8001", CT_WALLET_METHOD_OPEN, "open:8001",
           ct_alipay_payload_open ("20261202000000000001", &a, "Asia/Shanghai"));
  add_alipay_trades (mem, "8001", 1, 3);
  add_alipay_trades (mem, "8002", 7, 2);

  worker = ct_wallet_worker_new (&mem_ops, mem, &fast);
  ct_wallet_worker_start (worker);
  WAIT_FOR (mem_count (mem, "delivered") >= 3);

  /* The gateway goes down; more transactions come; it comes back. */
  ct_fake_wallet_stop (fake);
  add_alipay_trades (mem, "8001", 4, 3);
  add_alipay_trades (mem, "8002", 9, 2);
  ct_wallet_worker_wake (worker);
  /* Connection refused, not a lost answer. */
  WAIT_FOR (mem_any_reason (mem, "connect to"));
  ck_assert_int_lt (mem_count (mem, "delivered"), 11);
  ct_fake_wallet_start (fake);
  WAIT_FOR (mem_count (mem, "delivered") == 11);
  ct_wallet_worker_stop (worker);

  ck_assert_int_eq (mem_count (mem, "refused"), 0);
  applied = ct_fake_wallet_applied (fake);
  assert_once_in_order (applied, "8001", expect_a);
  assert_once_in_order (applied, "8002", expect_b);
  /* Dropped answers were sent again, with the same request ids. */
  ck_assert_int_gt (ct_fake_wallet_n_received (fake), applied->len);
  ck_assert_int_eq (ct_fake_wallet_n_bad_signature (fake), 0);
}
END_TEST

START_TEST (test_wallet_alipay_wrong_answer_signature_is_not_delivered)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                     alipay_key, NULL);
  g_autoptr(CtWalletWorker) worker = NULL;
  g_autoptr(GPtrArray) applied = NULL;
  CtWalletCard a = { "8001", NULL, "active", 500, 0, 2, 0 };
  MemOutbox *mem;
  const char *const expect_a[] = { "open:8001", "m1:1", NULL };

  ct_fake_wallet_start (fake);
  ct_fake_wallet_sign_with (fake, wrong_key);
  mem = mem_new (CT_WALLET_ALIPAY, ct_fake_wallet_url (fake));
  mem_add (mem, "8001", CT_WALLET_METHOD_OPEN, "open:8001",
           ct_alipay_payload_open ("20261202000000000001", &a, "Asia/Shanghai"));
  add_alipay_trades (mem, "8001", 1, 1);
  worker = ct_wallet_worker_new (&mem_ops, mem, &fast);
  ct_wallet_worker_start (worker);
  WAIT_FOR (mem_attempts (mem, 1) >= 3);
  ck_assert_int_eq (mem_count (mem, "delivered"), 0);
  {
    g_autofree char *reason = mem_reason (mem, 1);
    ck_assert_msg (strstr (reason, "signature") != NULL, "%s", reason);
  }
  /* An unsigned answer is no better. */
  ct_fake_wallet_sign_with (fake, NULL);
  ct_fake_wallet_set_unsigned (fake, TRUE);
  wait_more_attempts (mem, 1, 2);
  ck_assert_int_eq (mem_count (mem, "delivered"), 0);
  ct_fake_wallet_set_unsigned (fake, FALSE);
  WAIT_FOR (mem_count (mem, "delivered") == 2);
  ct_wallet_worker_stop (worker);
  applied = ct_fake_wallet_applied (fake);
  assert_once_in_order (applied, "8001", expect_a);
}
END_TEST

START_TEST (test_wallet_alipay_refusal_is_kept_with_reason)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                     alipay_key, NULL);
  g_autoptr(CtWalletWorker) worker = NULL;
  CtWalletCard a = { "8003", NULL, "active", 0, 0, 2, 0 };
  MemOutbox *mem;

  ct_fake_wallet_start (fake);
  ct_fake_wallet_refuse_card (fake, "8003");
  mem = mem_new (CT_WALLET_ALIPAY, ct_fake_wallet_url (fake));
  mem_add (mem, "8003", CT_WALLET_METHOD_OPEN, "open:8003",
           ct_alipay_payload_open ("20261202000000000001", &a, "Asia/Shanghai"));
  add_alipay_trades (mem, "8004", 1, 2);
  worker = ct_wallet_worker_new (&mem_ops, mem, &fast);
  ct_wallet_worker_start (worker);
  WAIT_FOR (mem_count (mem, "refused") == 1 && mem_count (mem, "delivered") == 2);
  ct_wallet_worker_stop (worker);
  {
    g_autofree char *reason = mem_reason (mem, 1);
    ck_assert_msg (strstr (reason, "40004") != NULL && strstr (reason, "CARD_REFUSED") != NULL, "%s", reason);
  }
}
END_TEST

static void
add_wechat_updates (MemOutbox  *mem,
                    const char *card_no,
                    int         first,
                    int         n)
{
  CtWalletCard card = { card_no, "金卡", "active", 0, 0, 2, 0 };

  for (int i = first; i < first + n; i++)
    {
      g_autofree char *request_no = ct_wallet_wechat_request_no ("m1", i);
      int64_t before = card.balance;

      card.balance += 100 * i;
      mem_add (mem, card_no, CT_WALLET_METHOD_WECHAT, request_no,
               ct_wechat_payload_update (request_no, before, "top-up", &card));
    }
}

START_TEST (test_wallet_wechat_every_update_once_in_order)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_WECHAT, "1900000001", mch_cert, MCH_SERIAL,
                                                     platform_key, PLATFORM_SERIAL);
  g_autoptr(CtWalletWorker) worker = NULL;
  g_autoptr(GPtrArray) applied = NULL;
  MemOutbox *mem;
  const char *const expect_a[] = { "m1-1", "m1-2", "m1-3", "m1-4", "m1-5", NULL };
  const char *const expect_b[] = { "m1-6", "m1-7", "m1-8", NULL };

  ct_fake_wallet_start (fake);
  ct_fake_wallet_drop_every (fake, 2);
  mem = mem_new (CT_WALLET_WECHAT, ct_fake_wallet_url (fake));
  add_wechat_updates (mem, "8888000011112222", 1, 3);
  add_wechat_updates (mem, "8888000011113333", 6, 2);
  worker = ct_wallet_worker_new (&mem_ops, mem, &fast);
  ct_wallet_worker_start (worker);
  WAIT_FOR (mem_count (mem, "delivered") >= 2);
  ct_fake_wallet_stop (fake);
  add_wechat_updates (mem, "8888000011112222", 4, 2);
  add_wechat_updates (mem, "8888000011113333", 8, 1);
  ct_wallet_worker_wake (worker);
  WAIT_FOR (mem_any_reason (mem, "connect to"));
  ct_fake_wallet_start (fake);
  WAIT_FOR (mem_count (mem, "delivered") == 8);
  ct_wallet_worker_stop (worker);
  applied = ct_fake_wallet_applied (fake);
  assert_once_in_order (applied, "8888000011112222", expect_a);
  assert_once_in_order (applied, "8888000011113333", expect_b);
  ck_assert_int_eq (ct_fake_wallet_n_bad_signature (fake), 0);
}
END_TEST

START_TEST (test_wallet_wechat_unsigned_success_is_not_delivered)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_WECHAT, "1900000001", mch_cert, MCH_SERIAL,
                                                     platform_key, PLATFORM_SERIAL);
  g_autoptr(CtWalletWorker) worker = NULL;
  g_autoptr(GPtrArray) applied = NULL;
  MemOutbox *mem;

  ct_fake_wallet_start (fake);
  ct_fake_wallet_set_unsigned (fake, TRUE);
  mem = mem_new (CT_WALLET_WECHAT, ct_fake_wallet_url (fake));
  add_wechat_updates (mem, "8888000011112222", 1, 1);
  worker = ct_wallet_worker_new (&mem_ops, mem, &fast);
  ct_wallet_worker_start (worker);
  WAIT_FOR (mem_attempts (mem, 1) >= 3);
  ck_assert_int_eq (mem_count (mem, "delivered"), 0);
  {
    g_autofree char *reason = mem_reason (mem, 1);
    ck_assert_msg (strstr (reason, "not signed") != NULL, "%s", reason);
  }
  ct_fake_wallet_sign_with (fake, wrong_key);
  ct_fake_wallet_set_unsigned (fake, FALSE);
  wait_more_attempts (mem, 1, 2);
  ck_assert_int_eq (mem_count (mem, "delivered"), 0);
  ct_fake_wallet_sign_with (fake, NULL);
  WAIT_FOR (mem_count (mem, "delivered") == 1);
  ct_wallet_worker_stop (worker);
  applied = ct_fake_wallet_applied (fake);
  ck_assert_int_eq (applied->len, 1);
}
END_TEST


/* ---- the real service, its ledger and its worker ---- */

static int request_counter;

/* POSTs @body and returns the answer's JSON; asserts @expect_status. */
static json_object *
post_json (CtTestClient *client,
           const char   *path,
           const char   *body,
           long          expect_status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key = g_strdup_printf ("wallet-test-%d", ++request_counter);
  g_autoptr(CtTestResponse) r = ct_test_client_request (client, "POST", path, key, body, &error);

  g_assert_no_error (error);
  ck_assert_msg (r->status == expect_status, "%s: %ld %s", path, r->status, r->body);
  return json_tokener_parse (r->body);
}

static char *
tx_id_of (json_object *answer)
{
  json_object *tx = NULL, *id = NULL;

  ck_assert (json_object_object_get_ex (answer, "transaction", &tx));
  ck_assert (json_object_object_get_ex (tx, "id", &id));
  return g_strdup (json_object_get_string (id));
}

#define MANAGER "\"manager\":{\"id\":\"" CT_TEST_SERVICE_MANAGER_ID "\",\"pin\":\"" CT_TEST_SERVICE_MANAGER_PIN "\"}"

/* Issues a card; @card_no NULL lets the service choose its number. */
static char *
issue_card (CtTestClient *client,
            const char   *card_no_wanted)
{
  g_autofree char *number = card_no_wanted != NULL ? g_strdup_printf ("\"card_no\":\"%s\",", card_no_wanted)
                                                   : g_strdup ("");
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"王芳\",\"phone\":\"13800000000\"},"
                                           "\"level\":\"银卡\",%s\"operator\":\"amy\"," MANAGER "}", number);
  json_object *card = post_json (client, "/v1/cards", body, 201);
  json_object *no = NULL;
  char *card_no;

  ck_assert (json_object_object_get_ex (card, "card_no", &no));
  card_no = g_strdup (json_object_get_string (no));
  json_object_put (card);
  return card_no;
}

/* Runs a money request on @card_no; returns its transaction id. */
static char *
money (CtTestClient *client,
       const char   *card_no,
       const char   *what,
       const char   *body)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/%s", card_no, what);
  json_object *answer = post_json (client, path, body, 201);
  char *id = tx_id_of (answer);

  json_object_put (answer);
  return id;
}

static char *
wallet_status (CtTestService *svc)
{
  char *out = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "wallet", "status", NULL), 0);
  return out;
}

static gboolean
status_says (CtTestService *svc,
             const char    *text)
{
  g_autofree char *out = wallet_status (svc);

  return strstr (out, text) != NULL;
}

static gboolean
applied_has (CtFakeWallet *fake,
             const char   *request_no)
{
  g_autoptr(GPtrArray) applied = ct_fake_wallet_applied (fake);

  for (guint i = 0; i < applied->len; i++)
    if (g_strcmp0 (((CtFakeWalletRecord *) applied->pdata[i])->request_no, request_no) == 0)
      return TRUE;
  return FALSE;
}

static CtTestService *
service_with_wallets (CtFakeWallet *alipay,
                      CtFakeWallet *wechat)
{
  const char *const args[] = { "--wallet-retry-cap", "1", NULL };
  g_autoptr(GError) error = NULL;
  CtTestService *svc = ct_test_service_start_full (TRUE, args, &error);

  g_assert_no_error (error);
  if (alipay != NULL)
    ck_assert_int_eq (ct_test_service_admin (svc, NULL, "wallet", "add", "--kind", "alipay",
                                             "--app-id", "2021000000000001", "--private-key", app_key,
                                             "--alipay-public-key", alipay_pub,
                                             "--template-id", "20261202000000000001",
                                             "--gateway", ct_fake_wallet_url (alipay), NULL), 0);
  if (wechat != NULL)
    ck_assert_int_eq (ct_test_service_admin (svc, NULL, "wallet", "add", "--kind", "wechat",
                                             "--mch-id", "1900000001", "--serial-no", MCH_SERIAL,
                                             "--private-key", mch_key, "--platform-cert", platform_cert,
                                             "--card-id", "pbLatjvWOibDc5-TBnbUk1pD12o0",
                                             "--gateway", ct_fake_wallet_url (wechat), NULL), 0);
  return svc;
}

START_TEST (test_wallet_service_mirrors_every_transaction_once_in_order)
{
  g_autoptr(CtFakeWallet) alipay = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                       alipay_key, NULL);
  g_autoptr(CtFakeWallet) wechat = ct_fake_wallet_new (CT_FAKE_WECHAT, "1900000001", mch_cert, MCH_SERIAL,
                                                       platform_key, PLATFORM_SERIAL);
  CtTestService *svc;
  g_autoptr(CtTestClient) client = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) alipay_expect = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) wechat_expect = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) applied = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *status = NULL;
  g_autofree char *refund_body = NULL;
  g_autofree char *paid = NULL;
  CtFakeWalletRecord *last = NULL;

  ct_fake_wallet_start (alipay);
  ct_fake_wallet_start (wechat);
  ct_fake_wallet_drop_every (alipay, 3);
  ct_fake_wallet_drop_every (wechat, 2);
  svc = service_with_wallets (alipay, wechat);
  client = ct_test_client_new (svc);

  card_no = issue_card (client, NULL);
  g_ptr_array_add (ids, money (client, card_no, "topups", "{\"package_id\":\"p100\",\"operator\":\"amy\"}"));
  g_ptr_array_add (ids, money (client, card_no, "payments", "{\"amount\":3000,\"operator\":\"amy\"}"));
  paid = g_strdup_printf ("main:%s", (char *) ids->pdata[1]);
  WAIT_FOR (applied_has (alipay, paid));

  /* Alipay goes down: the tills do not notice. */
  ct_fake_wallet_stop (alipay);
  refund_body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"amy\"," MANAGER "}",
                                 (char *) ids->pdata[1]);
  g_ptr_array_add (ids, money (client, card_no, "refunds", refund_body));
  g_ptr_array_add (ids, money (client, card_no, "topups", "{\"package_id\":\"p200\",\"operator\":\"amy\"}"));
  g_ptr_array_add (ids, money (client, card_no, "payments", "{\"amount\":100,\"operator\":\"amy\"}"));
  WAIT_FOR (status_says (svc, "could not be reached"));
  ct_fake_wallet_start (alipay);

  g_ptr_array_add (alipay_expect, g_strdup_printf ("open:%s", card_no));
  for (guint i = 0; i < ids->len; i++)
    {
      g_ptr_array_add (alipay_expect, g_strdup_printf ("main:%s", (char *) ids->pdata[i]));
      g_ptr_array_add (wechat_expect, g_strdup_printf ("main-%s", (char *) ids->pdata[i]));
    }
  g_ptr_array_add (alipay_expect, NULL);
  g_ptr_array_add (wechat_expect, NULL);
  WAIT_FOR (status_says (svc, "main alipay (2021000000000001): 0 waiting")
            && status_says (svc, "main wechat (1900000001): 0 waiting"));

  applied = ct_fake_wallet_applied (alipay);
  assert_once_in_order (applied, card_no, (const char *const *) alipay_expect->pdata);
  /* The last sync carries the card as it is now: 100 + 10 + 200 + 30 - 1. */
  last = applied->pdata[applied->len - 1];
  ck_assert_msg (strstr (last->content, "\"balance\":\"339.00\"") != NULL, "%s", last->content);
  ck_assert_msg (strstr (last->content, "\"trade_type\":\"TRADE\"") != NULL, "%s", last->content);
  ck_assert_msg (strstr (last->content, "\"level\":\"银卡\"") != NULL, "%s", last->content);
  g_clear_pointer (&applied, g_ptr_array_unref);
  applied = ct_fake_wallet_applied (wechat);
  assert_once_in_order (applied, card_no, (const char *const *) wechat_expect->pdata);
  last = applied->pdata[applied->len - 1];
  ck_assert_msg (strstr (last->content, "\"balance\":33900") != NULL, "%s", last->content);

  status = wallet_status (svc);
  ck_assert_msg (strstr (status, "0 refused") != NULL, "%s", status);
  ck_assert_msg (strstr (status, "6 delivered today") != NULL, "%s", status);
  /* Never a key in what an operator sees. */
  ck_assert (strstr (status, "PRIVATE") == NULL);
  ct_test_service_free (svc);
}
END_TEST

START_TEST (test_wallet_service_bad_answer_signature_and_refusal_show_in_status)
{
  g_autoptr(CtFakeWallet) alipay = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                       alipay_key, NULL);
  CtTestService *svc;
  g_autoptr(CtTestClient) client = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *open_no = NULL;
  g_autofree char *status = NULL;
  g_autofree char *second = NULL;

  ct_fake_wallet_start (alipay);
  ct_fake_wallet_sign_with (alipay, wrong_key);
  svc = service_with_wallets (alipay, NULL);
  client = ct_test_client_new (svc);
  card_no = issue_card (client, NULL);
  open_no = g_strdup_printf ("open:%s", card_no);

  /* Alipay took the card, but its answer is not signed by Alipay: the
   * service keeps the message and sends it again. */
  WAIT_FOR (applied_has (alipay, open_no) && status_says (svc, "signature"));
  ck_assert (status_says (svc, "1 waiting"));
  ct_fake_wallet_sign_with (alipay, NULL);
  WAIT_FOR (status_says (svc, "0 waiting"));

  /* A card the member cannot hold: refused for good, kept with the reason. */
  ct_fake_wallet_refuse_card (alipay, "WALLET-2");
  second = issue_card (client, "WALLET-2");
  WAIT_FOR (status_says (svc, "1 refused"));
  status = wallet_status (svc);
  ck_assert_msg (strstr (status, second) != NULL && strstr (status, "CARD_REFUSED") != NULL, "%s", status);
  ct_test_service_free (svc);
}
END_TEST

/* The records the fake took for one card, as "method|request_no|content". */
static GPtrArray *
records_of (CtFakeWallet *fake,
            const char   *card_no)
{
  g_autoptr(GPtrArray) applied = ct_fake_wallet_applied (fake);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_fake_wallet_record_free);

  for (guint i = 0; i < applied->len; i++)
    {
      CtFakeWalletRecord *r = applied->pdata[i];

      if (g_strcmp0 (r->card_no, card_no) == 0)
        g_ptr_array_add (out, g_steal_pointer (&applied->pdata[i]));
    }
  return out;
}

START_TEST (test_wallet_service_import_adjustment_and_freeze_reach_alipay)
{
  g_autoptr(CtFakeWallet) alipay = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                       alipay_key, NULL);
  CtTestService *svc;
  g_autoptr(CtTestClient) client = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(CtTestResponse) frozen = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *adjust = NULL;
  json_object *answer;
  CtFakeWalletRecord *r;

  ct_fake_wallet_start (alipay);
  svc = service_with_wallets (alipay, NULL);
  client = ct_test_client_new (svc);

  answer = post_json (client, "/v1/imports",
                      "{\"batch_id\":\"w1\"," MANAGER ",\"rows\":[{\"line\":2,\"card_no\":\"OLD-7\","
                      "\"name\":\"李雷\",\"balance\":5000,\"points\":7,\"level\":\"金卡\"}]}", 200);
  json_object_put (answer);
  adjust = money (client, "OLD-7", "adjustments", "{\"delta\":-150,\"reason\":\"wrong import\"," MANAGER "}");
  frozen = ct_test_client_request (client, "PATCH", "/v1/cards/OLD-7", NULL,
                                   "{\"status\":\"frozen\"," MANAGER "}", &error);
  g_assert_no_error (error);
  ck_assert_int_eq (frozen->status, 200);
  WAIT_FOR (status_says (svc, "0 waiting") && status_says (svc, "4 delivered today"));

  records = records_of (alipay, "OLD-7");
  ck_assert_int_eq (records->len, 4);
  /* Opened with its opening balance, points and level… */
  r = records->pdata[0];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_OPEN);
  ck_assert_str_eq (r->request_no, "open:OLD-7");
  ck_assert_msg (strstr (r->content, "\"balance\":\"50.00\"") && strstr (r->content, "\"point\":\"7\"")
                 && strstr (r->content, "\"level\":\"金卡\""), "%s", r->content);
  /* …the opening balance as an OPEN trade… */
  r = records->pdata[1];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_SYNC);
  ck_assert_msg (strstr (r->content, "\"trade_type\":\"OPEN\"") && strstr (r->content, "\"trade_amount\":\"50.00\""),
                 "%s", r->content);
  /* …the adjustment and the freeze as card updates. */
  r = records->pdata[2];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_UPDATE);
  ck_assert_msg (strstr (r->content, "\"balance\":\"48.50\""), "%s", r->content);
  r = records->pdata[3];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_UPDATE);
  ck_assert_msg (strstr (r->content, "FROZEN"), "%s", r->content);
  ct_test_service_free (svc);
}
END_TEST

/* A lost card replaced (挂失补卡): Alipay opens the new card with the
 * money and shows the lost one closed and empty; WeChat Pay gets both
 * balances with the remark 补卡. */
START_TEST (test_wallet_service_replacement_opens_the_new_card_and_closes_the_old)
{
  g_autoptr(CtFakeWallet) alipay = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                       alipay_key, NULL);
  g_autoptr(CtFakeWallet) wechat = ct_fake_wallet_new (CT_FAKE_WECHAT, "1900000001", mch_cert, MCH_SERIAL,
                                                       platform_key, PLATFORM_SERIAL);
  CtTestService *svc;
  g_autoptr(CtTestClient) client = NULL;
  g_autoptr(GPtrArray) old_records = NULL;
  g_autoptr(GPtrArray) new_records = NULL;
  g_autoptr(GPtrArray) old_wechat = NULL;
  g_autoptr(GPtrArray) new_wechat = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *path = NULL;
  g_autofree char *topup = NULL;
  json_object *answer;
  CtFakeWalletRecord *r;

  ct_fake_wallet_start (alipay);
  ct_fake_wallet_start (wechat);
  svc = service_with_wallets (alipay, wechat);
  client = ct_test_client_new (svc);

  card_no = issue_card (client, NULL);
  topup = money (client, card_no, "topups", "{\"package_id\":\"p100\",\"operator\":\"amy\"}");
  path = g_strdup_printf ("/v1/cards/%s/replace", card_no);
  answer = post_json (client, path, "{\"new_card_no\":\"NEW-9\",\"operator\":\"amy\"," MANAGER "}", 201);
  json_object_put (answer);
  WAIT_FOR (status_says (svc, "main alipay (2021000000000001): 0 waiting")
            && status_says (svc, "main wechat (1900000001): 0 waiting"));

  /* Alipay: the lost card was opened, topped up, then closed and emptied. */
  old_records = records_of (alipay, card_no);
  ck_assert_int_eq (old_records->len, 3);
  r = old_records->pdata[2];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_UPDATE);
  ck_assert_msg (strstr (r->content, "CLOSED") && strstr (r->content, "\"balance\":\"0.00\""), "%s", r->content);
  /* The new card opens with the money, points and level, then its update. */
  new_records = records_of (alipay, "NEW-9");
  ck_assert_int_eq (new_records->len, 2);
  r = new_records->pdata[0];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_OPEN);
  ck_assert_str_eq (r->request_no, "open:NEW-9");
  ck_assert_msg (strstr (r->content, "\"balance\":\"110.00\"") && strstr (r->content, "\"level\":\"银卡\""),
                 "%s", r->content);
  r = new_records->pdata[1];
  ck_assert_str_eq (r->method, CT_WALLET_METHOD_UPDATE);
  ck_assert_msg (strstr (r->content, "ACTIVE") && strstr (r->content, "\"balance\":\"110.00\""), "%s", r->content);

  /* WeChat Pay: both codes' balances, with the remark. */
  old_wechat = records_of (wechat, card_no);
  r = old_wechat->pdata[old_wechat->len - 1];
  ck_assert_msg (strstr (r->content, "\"balance\":0,") && strstr (r->content, "补卡"), "%s", r->content);
  new_wechat = records_of (wechat, "NEW-9");
  ck_assert_int_eq (new_wechat->len, 1);
  r = new_wechat->pdata[0];
  ck_assert_msg (strstr (r->content, "\"balance\":11000") && strstr (r->content, "补卡"), "%s", r->content);
  ct_test_service_free (svc);
}
END_TEST

static gboolean
tea_status_says (CtTestService *svc,
                 const char    *text)
{
  g_autofree char *out = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "wallet", "status", "--merchant", "tea", NULL), 0);
  return strstr (out, text) != NULL;
}

START_TEST (test_wallet_service_sends_a_card_to_its_own_merchants_connector)
{
  g_autoptr(CtFakeWallet) main_gw = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000001", app_pub, NULL,
                                                        alipay_key, NULL);
  g_autoptr(CtFakeWallet) tea_gw = ct_fake_wallet_new (CT_FAKE_ALIPAY, "2021000000000002", app_pub, NULL,
                                                       alipay_key, NULL);
  CtTestService *svc;
  g_autoptr(CtTestClient) client = NULL;
  g_autoptr(CtTestClient) tea = NULL;
  g_autoptr(GPtrArray) main_records = NULL;
  g_autoptr(GPtrArray) tea_records = NULL;
  g_autofree char *out = NULL;
  g_autofree char *token = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *main_tx = NULL;
  g_autofree char *tea_tx = NULL;
  g_autofree char *tea_status = NULL;
  CtFakeWalletRecord *r;

  ct_fake_wallet_start (main_gw);
  ct_fake_wallet_start (tea_gw);
  svc = service_with_wallets (main_gw, NULL);
  client = ct_test_client_new (svc);
  /* A second merchant with its own connector, till, manager and package. */
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "add", "--id", "tea", "--name", "Tea House",
                                           "--timezone", "UTC", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "wallet", "add", "--merchant", "tea", "--kind", "alipay",
                                           "--app-id", "2021000000000002", "--private-key", app_key,
                                           "--alipay-public-key", alipay_pub,
                                           "--template-id", "20261202000000000002",
                                           "--gateway", ct_fake_wallet_url (tea_gw), NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "add", "--merchant", "tea", "--store", "t",
                                           "--name", "t1", NULL), 0);
  token = ct_test_last_line (out);
  tea = ct_test_client_new_for_token (svc, token);
  {
    g_autofree char *pin = g_build_filename (ct_test_service_get_data_dir (svc), "tea-pin", NULL);

    ck_assert (g_file_set_contents (pin, CT_TEST_SERVICE_MANAGER_PIN, -1, NULL));
    ck_assert_int_eq (ct_test_service_admin (svc, NULL, "manager", "add", "--merchant", "tea",
                                             "--id", CT_TEST_SERVICE_MANAGER_ID, "--pin-file", pin, NULL), 0);
  }
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "package", "add", "--merchant", "tea", "--id", "t20",
                                           "--amount", "20.00", "--bonus", "2.00", NULL), 0);

  /* One card number under both merchants: each card goes to its own
   * merchant's connector only. */
  card_no = issue_card (client, NULL);
  g_free (issue_card (tea, card_no));
  main_tx = money (client, card_no, "topups", "{\"package_id\":\"p100\",\"operator\":\"amy\"}");
  tea_tx = money (tea, card_no, "topups", "{\"package_id\":\"t20\",\"operator\":\"amy\"}");
  WAIT_FOR (status_says (svc, "main alipay (2021000000000001): 0 waiting, 2 delivered today"));
  WAIT_FOR (tea_status_says (svc, "tea alipay (2021000000000002): 0 waiting, 2 delivered today"));
  ck_assert_int_eq (ct_test_service_admin (svc, &tea_status, "wallet", "status", "--merchant", "tea", NULL), 0);
  ck_assert_msg (strstr (tea_status, "main alipay") == NULL, "%s", tea_status);

  main_records = records_of (main_gw, card_no);
  tea_records = records_of (tea_gw, card_no);
  ck_assert_int_eq (main_records->len, 2);
  ck_assert_int_eq (tea_records->len, 2);
  r = main_records->pdata[1];
  ck_assert_msg (g_str_has_prefix (r->request_no, "main:") && strstr (r->content, "\"balance\":\"110.00\"") != NULL,
                 "%s %s", r->request_no, r->content);
  r = tea_records->pdata[1];
  ck_assert_msg (g_str_has_prefix (r->request_no, "tea:") && strstr (r->content, "\"balance\":\"22.00\"") != NULL,
                 "%s %s", r->request_no, r->content);
  ct_test_service_free (svc);
}
END_TEST

START_TEST (test_wallet_two_workers_never_send_a_message_twice)
{
  g_autoptr(CtFakeWallet) fake = ct_fake_wallet_new (CT_FAKE_WECHAT, "1900000001", mch_cert, MCH_SERIAL,
                                                     platform_key, PLATFORM_SERIAL);
  g_autoptr(CtWalletWorker) one = NULL;
  g_autoptr(CtWalletWorker) two = NULL;
  g_autoptr(GPtrArray) applied = NULL;
  const char *const expect_a[] = { "m1-1", "m1-2", "m1-3", "m1-4", "m1-5", NULL };
  const char *const expect_b[] = { "m1-6", "m1-7", "m1-8", "m1-9", "m1-10", NULL };
  MemOutbox *mem;

  /* Two service processes on one database each run a worker. */
  ct_fake_wallet_start (fake);
  mem = mem_new (CT_WALLET_WECHAT, ct_fake_wallet_url (fake));
  add_wechat_updates (mem, "8888000011112222", 1, 5);
  add_wechat_updates (mem, "8888000011113333", 6, 5);
  one = ct_wallet_worker_new (&mem_ops, mem, &fast);
  two = ct_wallet_worker_new (&mem_ops, mem, &fast);
  ct_wallet_worker_start (one);
  ct_wallet_worker_start (two);
  WAIT_FOR (mem_count (mem, "delivered") == 10);
  ct_wallet_worker_stop (one);
  ct_wallet_worker_stop (two);
  applied = ct_fake_wallet_applied (fake);
  assert_once_in_order (applied, "8888000011112222", expect_a);
  assert_once_in_order (applied, "8888000011113333", expect_b);
  /* Each message went over the wire once: the workers took turns. */
  ck_assert_int_eq (ct_fake_wallet_n_received (fake), 10);
}
END_TEST

START_TEST (test_wallet_service_two_processes_send_each_message_once)
{
  g_autoptr(CtFakeWallet) wechat = ct_fake_wallet_new (CT_FAKE_WECHAT, "1900000001", mch_cert, MCH_SERIAL,
                                                       platform_key, PLATFORM_SERIAL);
  const char *const args[] = { "--wallet-retry-cap", "1", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) expect = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) applied = NULL;
  g_autoptr(CtTestClient) a = NULL;
  g_autoptr(CtTestClient) b = NULL;
  g_autofree char *card_no = NULL;
  CtTestService *svc, *peer;

  /* Both processes run a wallet worker over the one database. */
  ct_fake_wallet_start (wechat);
  svc = service_with_wallets (NULL, wechat);
  peer = ct_test_service_start_peer (svc, args, &error);
  g_assert_no_error (error);
  a = ct_test_client_new (svc);
  b = ct_test_client_new (peer);
  card_no = issue_card (a, NULL);
  for (int i = 0; i < 8; i++)
    {
      char *id = money (i % 2 ? b : a, card_no, "topups", "{\"package_id\":\"p100\",\"operator\":\"amy\"}");

      g_ptr_array_add (expect, g_strdup_printf ("main-%s", id));
      g_free (id);
    }
  g_ptr_array_add (expect, NULL);
  WAIT_FOR (status_says (svc, "0 waiting") && status_says (svc, "8 delivered today"));
  applied = ct_fake_wallet_applied (wechat);
  assert_once_in_order (applied, card_no, (const char *const *) expect->pdata);
  /* Nothing went over the wire twice. */
  ck_assert_int_eq (ct_fake_wallet_n_received (wechat), 8);
  ct_test_service_free (peer);
  ct_test_service_free (svc);
}
END_TEST

START_TEST (test_wallet_backoff_doubles_to_the_cap)
{
  CtWalletWorkerOptions o = { 1000, 8000, 0, 0 };

  ck_assert_uint_ge (ct_wallet_backoff_ms (&o, 1), 1000);
  ck_assert_uint_lt (ct_wallet_backoff_ms (&o, 1), 1250);
  ck_assert_uint_ge (ct_wallet_backoff_ms (&o, 3), 4000);
  ck_assert_uint_lt (ct_wallet_backoff_ms (&o, 3), 5000);
  ck_assert_uint_ge (ct_wallet_backoff_ms (&o, 30), 8000);
  ck_assert_uint_lt (ct_wallet_backoff_ms (&o, 30), 10000);
}
END_TEST

static Suite *
wallet_suite (void)
{
  Suite *s = suite_create ("wallet");
  TCase *sign = tcase_create ("sign");
  TCase *build = tcase_create ("build");
  TCase *deliver = tcase_create ("deliver");
  TCase *service = tcase_create ("service");

  tcase_add_test (sign, test_wallet_sign_matches_openssl);
  tcase_add_test (sign, test_wallet_key_file_readable_by_others_is_refused);
  tcase_add_test (sign, test_wallet_key_in_alipay_bare_base64_loads);
  tcase_add_test (sign, test_wallet_alipay_sign_content_sorts_and_drops_empty);
  tcase_add_test (sign, test_wallet_alipay_request_signed_as_openssl_would);
  tcase_add_test (sign, test_wallet_alipay_answer_verified_over_raw_member);
  tcase_add_test (sign, test_wallet_alipay_refusal_and_busy_are_told_apart);
  tcase_add_test (sign, test_wallet_wechat_authorization_signs_five_lines);
  tcase_add_test (sign, test_wallet_wechat_answer_needs_platform_signature);
  tcase_add_test (build, test_wallet_payloads_carry_the_documented_fields);
  tcase_add_test (build, test_wallet_backoff_doubles_to_the_cap);
  tcase_set_timeout (deliver, 120);
  tcase_add_test (deliver, test_wallet_fake_alipay_refuses_changed_body_and_wrong_charset);
  tcase_add_test (deliver, test_wallet_alipay_every_transaction_once_in_order);
  tcase_add_test (deliver, test_wallet_alipay_wrong_answer_signature_is_not_delivered);
  tcase_add_test (deliver, test_wallet_alipay_refusal_is_kept_with_reason);
  tcase_add_test (deliver, test_wallet_wechat_every_update_once_in_order);
  tcase_add_test (deliver, test_wallet_wechat_unsigned_success_is_not_delivered);
  tcase_add_test (deliver, test_wallet_two_workers_never_send_a_message_twice);
  tcase_set_timeout (service, 240);
  tcase_add_test (service, test_wallet_service_mirrors_every_transaction_once_in_order);
  tcase_add_test (service, test_wallet_service_bad_answer_signature_and_refusal_show_in_status);
  tcase_add_test (service, test_wallet_service_import_adjustment_and_freeze_reach_alipay);
  tcase_add_test (service, test_wallet_service_replacement_opens_the_new_card_and_closes_the_old);
  tcase_add_test (service, test_wallet_service_sends_a_card_to_its_own_merchants_connector);
  /* On PostgreSQL only what goes through the store runs again, and
   * several processes may share the database. */
  if (ct_test_store_is_pg ())
    tcase_add_test (service, test_wallet_service_two_processes_send_each_message_once);
  else
    {
      suite_add_tcase (s, sign);
      suite_add_tcase (s, build);
      suite_add_tcase (s, deliver);
    }
  suite_add_tcase (s, service);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;
  g_autofree char *rm = NULL;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  make_keys ();
  sr = srunner_create (wallet_suite ());
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  rm = g_strdup_printf ("rm -rf '%s'", tmp_dir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", tmp_dir);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
