/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wallet-wechat"
#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "ct-strict-json.h"
#include "ct-wallet-wechat.h"

char *
ct_wechat_message (const char *method,
                   const char *path_and_query,
                   int64_t     timestamp_s,
                   const char *nonce,
                   const char *body)
{
  return g_strdup_printf ("%s\n%s\n%" G_GINT64_FORMAT "\n%s\n%s\n",
                          method, path_and_query, timestamp_s, nonce, body != NULL ? body : "");
}

char *
ct_wechat_authorization (CtWalletKey  *key,
                         const char   *mchid,
                         const char   *serial_no,
                         const char   *method,
                         const char   *path_and_query,
                         const char   *body,
                         int64_t       timestamp_s,
                         const char   *nonce,
                         GError      **error)
{
  g_autofree char *message = ct_wechat_message (method, path_and_query, timestamp_s, nonce, body);
  g_autofree char *signature = ct_wallet_sign (key, message, strlen (message), error);

  if (signature == NULL)
    return NULL;
  return g_strdup_printf ("WECHATPAY2-SHA256-RSA2048 mchid=\"%s\",nonce_str=\"%s\",signature=\"%s\","
                          "timestamp=\"%" G_GINT64_FORMAT "\",serial_no=\"%s\"",
                          mchid, nonce, signature, timestamp_s, serial_no);
}

gboolean
ct_wechat_verify_answer (CtWalletPubkey              *platform_cert,
                         const CtWechatAnswerHeaders *headers,
                         const char                  *body,
                         gsize                        len,
                         int64_t                      now_s,
                         GError                     **error)
{
  g_autofree char *message = NULL;
  const char *serial;
  gint64 ts = 0;

  g_return_val_if_fail (platform_cert != NULL && headers != NULL, FALSE);

  if (headers->signature == NULL || headers->timestamp == NULL || headers->nonce == NULL
      || headers->serial == NULL)
    return ct_wallet_answer_error (error, "the answer is not signed (no Wechatpay-Signature headers)");
  serial = ct_wallet_pubkey_serial (platform_cert);
  if (serial != NULL && g_ascii_strcasecmp (serial, headers->serial) != 0)
    return ct_wallet_answer_error (error, "the answer is signed by another certificate than the platform certificate");
  if (!g_ascii_string_to_signed (headers->timestamp, 10, 0, G_MAXINT64, &ts, NULL)
      || ts < now_s - CT_WECHAT_ANSWER_SKEW_S || ts > now_s + CT_WECHAT_ANSWER_SKEW_S)
    return ct_wallet_answer_error (error, "the answer's Wechatpay-Timestamp is not within five minutes of now");
  message = g_strdup_printf ("%s\n%s\n%.*s\n", headers->timestamp, headers->nonce,
                             (int) len, body != NULL ? body : "");
  return ct_wallet_verify (platform_cert, message, strlen (message), headers->signature, error);
}

CtWalletOutcome
ct_wechat_judge (CtWalletPubkey              *platform_cert,
                 long                         http_status,
                 const CtWechatAnswerHeaders *headers,
                 const char                  *body,
                 gsize                        len,
                 int64_t                      now_s,
                 char                       **out_reason)
{
  g_autoptr(GError) error = NULL;
  json_object *obj, *v = NULL;
  const char *code = NULL, *message = NULL;
  CtWalletOutcome outcome;

  *out_reason = NULL;
  /* A body with a NUL in it could sign one thing and show another. */
  if (body != NULL && memchr (body, '\0', len) != NULL)
    {
      *out_reason = g_strdup ("WeChat Pay's answer holds a NUL byte; it is not taken");
      return CT_WALLET_RETRY;
    }
  if (!ct_wechat_verify_answer (platform_cert, headers, body, len, now_s, &error))
    {
      *out_reason = g_strdup_printf ("WeChat Pay's answer (HTTP %ld) was not taken: %s",
                                     http_status, error->message);
      return CT_WALLET_RETRY;
    }
  if (http_status >= 200 && http_status < 300)
    return CT_WALLET_DELIVERED;

  obj = len > 0 ? ct_strict_json_parse (body, len, NULL) : NULL;
  if (obj != NULL && json_object_object_get_ex (obj, "code", &v) && json_object_is_type (v, json_type_string))
    code = json_object_get_string (v);
  if (obj != NULL && json_object_object_get_ex (obj, "message", &v) && json_object_is_type (v, json_type_string))
    message = json_object_get_string (v);
  *out_reason = g_strdup_printf ("WeChat Pay HTTP %ld %s: %s", http_status, code ? code : "-",
                                 message ? message : "no message");
  if (http_status == 429 || http_status >= 500 || g_strcmp0 (code, "SYSTEM_ERROR") == 0
      || g_strcmp0 (code, "FREQUENCY_LIMITED") == 0)
    outcome = CT_WALLET_RETRY;
  else
    outcome = CT_WALLET_REFUSED;
  /* code and message belong to obj. */
  json_object_put (obj);
  return outcome;
}

char *
ct_wechat_code_path (const char *card_id,
                     const char *code)
{
  g_autofree char *id = g_uri_escape_string (card_id, NULL, FALSE);
  g_autofree char *c = g_uri_escape_string (code, NULL, FALSE);

  return g_strdup_printf ("/v3/marketing/membercard-open/cards/%s/codes/%s", id, c);
}
