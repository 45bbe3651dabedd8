/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ct-wallet-sign.h"

G_BEGIN_DECLS

/* Wallet connectors (docs/wallet.md): the service mirrors each card onto the
 * member's Alipay or WeChat wallet. A wallet message is written to the
 * wallet outbox with the ledger change it reflects; a worker delivers the
 * messages (ct-wallet-worker.h). This header holds what both sides share:
 * connectors, messages, the outbox interface and the message builders. */

#define CT_WALLET_ERROR (ct_wallet_error_quark ())

typedef enum
{
  CT_WALLET_ERROR_FAILED,
  CT_WALLET_ERROR_ANSWER,       /* an answer that cannot be trusted or read */
} CtWalletError;

typedef enum
{
  CT_WALLET_ALIPAY,
  CT_WALLET_WECHAT,
} CtWalletKind;

/* What became of one delivery attempt. */
typedef enum
{
  CT_WALLET_DELIVERED,          /* the gateway took it and said so, signed */
  CT_WALLET_RETRY,              /* not delivered: try again later, same ids */
  CT_WALLET_REFUSED,            /* the gateway refused it for good */
} CtWalletOutcome;

#define CT_WALLET_METHOD_OPEN   "alipay.marketing.card.open"
#define CT_WALLET_METHOD_SYNC   "alipay.marketing.card.consume.sync"
#define CT_WALLET_METHOD_UPDATE "alipay.marketing.card.update"
#define CT_WALLET_METHOD_WECHAT "wechat.membercard.code.update"

/* Alipay asks for a validity date; a stored-value card does not expire. */
#define CT_WALLET_VALID_DATE "2099-12-31 23:59:59"

#define CT_ALIPAY_GATEWAY_DEFAULT "https://openapi.alipay.com/gateway.do"
#define CT_WECHAT_GATEWAY_DEFAULT "https://api.mch.weixin.qq.com"

/* One configured connector of one merchant. Key files are paths: the keys
 * themselves never reach the database or a log. */
typedef struct
{
  int64_t       id;
  char         *merchant;
  CtWalletKind  kind;
  char         *app_id;             /* Alipay app id, or WeChat Pay mch id */
  char         *serial_no;          /* WeChat: the merchant certificate's serial */
  char         *private_key;        /* path */
  char         *public_key;         /* path: Alipay public key / platform cert */
  char         *template_id;        /* Alipay card template, or WeChat card id */
  char         *gateway;            /* base URL */
} CtWalletConnector;

/* The card as the wallet should show it after a change. */
typedef struct
{
  const char *card_no;
  const char *level;                /* may be NULL */
  const char *status;               /* "active", "frozen", "closed" */
  int64_t     balance;              /* minor units */
  int64_t     points;
  int         minor_units;
  int64_t     opened_at_ms;
} CtWalletCard;

/* One undelivered message, in the order of the outbox (per card). The
 * request id and payload are fixed when the message is written, so every
 * retry carries the same ids. */
typedef struct
{
  int64_t  id;
  int64_t  connector_id;
  char    *card_no;
  char    *method;                  /* CT_WALLET_METHOD_* */
  char    *request_no;              /* out_serial_no / trade_no / out_request_no */
  char    *payload;                 /* JSON: the biz content or the body */
  guint    attempts;
} CtWalletMessage;

/* The storage the worker delivers from. The functions are called from the
 * worker's threads (several at once: each sending thread records its own
 * message), and may take the time of one database round. */
typedef struct
{
  /* Every configured connector, as CtWalletConnector*. */
  GPtrArray *(*connectors) (gpointer outbox, GError **error);
  /* Takes up to @limit messages, each the oldest undelivered message of
   * its card and connector, whose next attempt is due at @now_ms; as
   * CtWalletMessage*, oldest first. They are the caller's until
   * @lease_until_ms: another worker (another service process on the same
   * database) does not take them before, so a card's messages never go
   * twice at once or out of order. */
  GPtrArray *(*due)        (gpointer outbox, int64_t now_ms, guint limit, int64_t lease_until_ms,
                            GError **error);
  /* The Alipay card number (biz_card_no) of a card opened on a connector;
   * *out is NULL when the card has not been opened there. */
  gboolean   (*card_link)  (gpointer outbox, int64_t connector_id, const char *card_no,
                            char **out, GError **error);
  /* Records the Alipay card number of a card opened on a connector. */
  gboolean   (*set_link)   (gpointer outbox, int64_t connector_id, const char *card_no,
                            const char *biz_card_no, GError **error);
  gboolean   (*delivered)  (gpointer outbox, const CtWalletMessage *msg, int64_t now_ms,
                            GError **error);
  gboolean   (*retry)      (gpointer outbox, const CtWalletMessage *msg, int64_t next_at_ms,
                            const char *reason, GError **error);
  gboolean   (*refused)    (gpointer outbox, const CtWalletMessage *msg, const char *reason,
                            int64_t now_ms, GError **error);
} CtWalletOutboxOps;

GQuark       ct_wallet_error_quark        (void);

void         ct_wallet_connector_free     (CtWalletConnector *c);
void         ct_wallet_message_free       (CtWalletMessage   *m);
/* Orders CtWalletMessage* by id, for g_ptr_array_sort(). */
int          ct_wallet_message_compare    (gconstpointer      a,
                                           gconstpointer      b);
const char  *ct_wallet_kind_to_string     (CtWalletKind       kind);
/* Sets @error to CT_WALLET_ERROR_ANSWER with @message (a gateway's answer
 * that is not what the protocol says) and returns FALSE. */
gboolean     ct_wallet_answer_error       (GError           **error,
                                           const char        *message);
gboolean     ct_wallet_kind_from_string   (const char        *text,
                                           CtWalletKind      *out);

/* "110.00" from 11000 fen: the yuan text Alipay's balance and amounts take. */
char        *ct_wallet_yuan_text          (int64_t            minor,
                                           int                minor_units);
/* "yyyy-MM-dd HH:mm:ss" of @ms in @timezone (an IANA name; NULL or unknown
 * is Beijing time, the zone Alipay's timestamps are in). */
char        *ct_wallet_local_time         (int64_t            ms,
                                           const char        *timezone);

/* Request ids: "open:<card_no>", "<merchant>:<tx id>" (Alipay) and
 * "<merchant>-<tx id>" with only letters, digits, '-' and '_' (WeChat). */
char        *ct_wallet_open_serial        (const char        *card_no);
char        *ct_wallet_alipay_trade_no    (const char        *merchant,
                                           int64_t            tx_id);
char        *ct_wallet_wechat_request_no  (const char        *merchant,
                                           int64_t            tx_id);
/* Replaces in place every character out_request_no does not allow. */
char        *ct_wallet_wechat_clean       (char              *text);

/* Alipay trade_type of a ledger transaction kind: DEPOSIT (top-up), TRADE
 * (payment), RETURN (refund, void), OPEN (import); NULL when the kind is
 * not a trade (an adjustment is sent as a card update). */
const char  *ct_wallet_alipay_trade_type  (const char        *tx_kind);

/* Payloads written to the outbox. The Alipay payloads lack target_card_no,
 * which is only known once the card is open; ct_alipay_biz_content() adds
 * it when the message is sent. */
char        *ct_alipay_payload_open       (const char        *template_id,
                                           const CtWalletCard *card,
                                           const char        *timezone);
char        *ct_alipay_payload_sync       (const char        *trade_no,
                                           const char        *trade_type,
                                           int64_t            trade_amount,
                                           int64_t            trade_ms,
                                           const CtWalletCard *card,
                                           const char        *timezone);
char        *ct_alipay_payload_update     (int64_t            occur_ms,
                                           const CtWalletCard *card,
                                           const char        *timezone);
/* The WeChat PATCH body: membership number, level, balance before and
 * after, and the request number. */
char        *ct_wechat_payload_update     (const char        *out_request_no,
                                           int64_t            before_balance,
                                           const char        *remark,
                                           const CtWalletCard *card);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWalletConnector, ct_wallet_connector_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWalletMessage, ct_wallet_message_free)

G_END_DECLS
