/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-wallet.h"

G_BEGIN_DECLS

/* WeChat Pay APIv3: WECHATPAY2-SHA256-RSA2048 requests and signed answers. */

/* How far a signed answer's Wechatpay-Timestamp may be from our clock. */
#define CT_WECHAT_ANSWER_SKEW_S (5 * 60)

/* The signed message: method, path with query, timestamp, nonce and body,
 * each followed by '\n'. */
char            *ct_wechat_message      (const char      *method,
                                         const char      *path_and_query,
                                         int64_t          timestamp_s,
                                         const char      *nonce,
                                         const char      *body);

/* The Authorization header's value: WECHATPAY2-SHA256-RSA2048
 * mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…". */
char            *ct_wechat_authorization (CtWalletKey    *key,
                                          const char     *mchid,
                                          const char     *serial_no,
                                          const char     *method,
                                          const char     *path_and_query,
                                          const char     *body,
                                          int64_t         timestamp_s,
                                          const char     *nonce,
                                          GError        **error);

/* The headers of an answer that carry its signature. */
typedef struct
{
  const char *timestamp;                /* Wechatpay-Timestamp */
  const char *nonce;                    /* Wechatpay-Nonce */
  const char *signature;                /* Wechatpay-Signature */
  const char *serial;                   /* Wechatpay-Serial */
} CtWechatAnswerHeaders;

/* Checks that an answer is signed by the platform certificate: the serial
 * names that certificate, the timestamp is within the allowed skew of
 * @now_s, and the signature over "timestamp\nnonce\nbody\n" verifies. */
gboolean         ct_wechat_verify_answer (CtWalletPubkey              *platform_cert,
                                          const CtWechatAnswerHeaders *headers,
                                          const char                  *body,
                                          gsize                        len,
                                          int64_t                      now_s,
                                          GError                     **error);

/* Judges an answer to the member code update: DELIVERED for a signed
 * 2xx; RETRY for an unsigned or badly signed answer (an unsigned success
 * is forged), 429 and 5xx; REFUSED for a signed 4xx, with WeChat Pay's
 * code and message in @out_reason. */
CtWalletOutcome  ct_wechat_judge         (CtWalletPubkey              *platform_cert,
                                          long                         http_status,
                                          const CtWechatAnswerHeaders *headers,
                                          const char                  *body,
                                          gsize                        len,
                                          int64_t                      now_s,
                                          char                       **out_reason);

/* "/v3/marketing/membercard-open/cards/{card_id}/codes/{code}", escaped. */
char            *ct_wechat_code_path     (const char                  *card_id,
                                          const char                  *code);

G_END_DECLS
