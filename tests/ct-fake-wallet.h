/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fake Alipay and WeChat Pay gateways for the tests, on 127.0.0.1 over
 * plain HTTP. Each checks a request's signature the documented way, on its
 * own (it shares no signing code with the connector), applies it once per
 * request id as the real gateways do, signs its answers, and records what
 * it received. It can drop answers, sign them with a wrong key or not at
 * all, refuse a card, and go down and come back on the same port. */

typedef enum
{
  CT_FAKE_ALIPAY,
  CT_FAKE_WECHAT,
} CtFakeWalletKind;

typedef struct
{
  char *method;           /* Alipay method, or "PATCH" */
  char *request_no;       /* out_serial_no, trade_no, out_request_no; NULL for card.update */
  char *card_no;          /* the merchant's card number */
  char *content;          /* biz_content or the PATCH body, in UTF-8 */
} CtFakeWalletRecord;

typedef struct _CtFakeWallet CtFakeWallet;

/* @app_id: the Alipay app id or WeChat Pay mch id it expects.
 * @client_public_key: the public key (or certificate) of the merchant's
 * private key, to verify requests with. @gateway_key: the private key it
 * signs answers with. @serial: WeChat only: the merchant certificate serial
 * it expects and, for answers, the platform certificate's serial. */
CtFakeWallet *ct_fake_wallet_new            (CtFakeWalletKind  kind,
                                             const char       *app_id,
                                             const char       *client_public_key,
                                             const char       *merchant_serial,
                                             const char       *gateway_key,
                                             const char       *platform_serial);
void          ct_fake_wallet_free           (CtFakeWallet     *fake);
/* Up on a free port the first time, on the same port afterwards. */
void          ct_fake_wallet_start          (CtFakeWallet     *fake);
/* Down: connections are refused until started again. */
void          ct_fake_wallet_stop           (CtFakeWallet     *fake);
const char   *ct_fake_wallet_url            (CtFakeWallet     *fake);

/* Applies every @n-th request but closes the connection without answering. */
void          ct_fake_wallet_drop_every     (CtFakeWallet     *fake,
                                             guint             n);
/* Signs answers with this private key instead (NULL: the right one). */
void          ct_fake_wallet_sign_with      (CtFakeWallet     *fake,
                                             const char       *gateway_key);
void          ct_fake_wallet_set_unsigned   (CtFakeWallet     *fake,
                                             gboolean          unsigned_answers);
/* Refuses every request for this card as a business error. */
void          ct_fake_wallet_refuse_card    (CtFakeWallet     *fake,
                                             const char       *card_no);

guint         ct_fake_wallet_n_received    (CtFakeWallet     *fake);
/* Requests refused because their signature did not verify. */
guint         ct_fake_wallet_n_bad_signature (CtFakeWallet   *fake);
/* What was applied, in order, each request id once; a copy. */
GPtrArray    *ct_fake_wallet_applied        (CtFakeWallet     *fake);
void          ct_fake_wallet_record_free    (CtFakeWalletRecord *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtFakeWallet, ct_fake_wallet_free)

G_END_DECLS
