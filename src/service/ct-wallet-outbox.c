/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wallet-outbox"
#include "config.h"

#include "ct-wallet-outbox.h"

/* The member's history line of each kind, as WeChat shows it. */
static const char *
wechat_remark (const char *kind)
{
  if (g_strcmp0 (kind, "topup") == 0)
    return "充值";
  if (g_strcmp0 (kind, "payment") == 0)
    return "消费";
  if (g_strcmp0 (kind, "refund") == 0)
    return "退款";
  if (g_strcmp0 (kind, "import") == 0)
    return "开卡余额";
  if (g_strcmp0 (kind, "replacement") == 0)
    return "补卡";
  return "余额调整";
}

static CtWalletCard
snapshot (const CtStoreMerchant *merchant,
          const CtStoreCard     *card)
{
  return (CtWalletCard) {
    card->card_no, card->level, card->status, card->balance, card->points,
    merchant->minor_units, card->created_at,
  };
}

/* What one connector is sent about one change; method NULL: nothing. */
typedef struct
{
  const char *method;
  char       *request_no;
  char       *payload;
} Message;

/* A money movement: Alipay consume.sync (card.update for an adjustment,
 * which is no trade of the member's), WeChat's member code update. */
static Message
tx_message (const CtWalletConnector *c,
            const CtStoreMerchant   *merchant,
            const CtStoreTx         *tx,
            const CtStoreCard       *card,
            const CtWalletCard      *snap)
{
  const char *trade_type;
  char *no;

  switch (c->kind)
    {
    case CT_WALLET_ALIPAY:
      trade_type = ct_wallet_alipay_trade_type (tx->kind);
      if (trade_type == NULL)
        return (Message) {
          CT_WALLET_METHOD_UPDATE,
          g_strdup_printf ("%s:%s:%" G_GINT64_FORMAT, tx->kind, c->merchant, tx->id),
          ct_alipay_payload_update (tx->created_at, snap, merchant->timezone),
        };
      no = ct_wallet_alipay_trade_no (c->merchant, tx->id);
      return (Message) {
        CT_WALLET_METHOD_SYNC, no,
        ct_alipay_payload_sync (no, trade_type, tx->delta, tx->created_at, snap, merchant->timezone),
      };
    case CT_WALLET_WECHAT:
      no = ct_wallet_wechat_request_no (c->merchant, tx->id);
      return (Message) {
        CT_WALLET_METHOD_WECHAT, no,
        ct_wechat_payload_update (no, card->balance - tx->delta, wechat_remark (tx->kind), snap),
      };
    default:
      g_assert_not_reached ();
    }
}

/* A card issued (Alipay card.open) or changed without money (Alipay
 * card.update, WeChat's level). The member adds the WeChat card with its
 * code: an issue has nothing to update there yet. */
static Message
card_message (const CtWalletConnector *c,
              const CtStoreMerchant   *merchant,
              const CtStoreCard       *card,
              gboolean                 issued,
              const CtWalletCard      *snap)
{
  char *no;

  switch (c->kind)
    {
    case CT_WALLET_ALIPAY:
      if (issued)
        return (Message) {
          CT_WALLET_METHOD_OPEN, ct_wallet_open_serial (card->card_no),
          ct_alipay_payload_open (c->template_id, snap, merchant->timezone),
        };
      return (Message) {
        CT_WALLET_METHOD_UPDATE,
        g_strdup_printf ("update:%s:%" G_GINT64_FORMAT, card->card_no, card->updated_at),
        ct_alipay_payload_update (card->updated_at, snap, merchant->timezone),
      };
    case CT_WALLET_WECHAT:
      if (issued)
        return (Message) { NULL, NULL, NULL };
      /* A change has no transaction id: "<merchant>-c<time>-<card>". */
      no = ct_wallet_wechat_clean (g_strdup_printf ("%s-c%" G_GINT64_FORMAT "-%s", c->merchant,
                                                    card->updated_at, card->card_no));
      return (Message) {
        CT_WALLET_METHOD_WECHAT, no, ct_wechat_payload_update (no, card->balance, NULL, snap),
      };
    default:
      g_assert_not_reached ();
    }
}

/* Queues to every connector its message about @tx on @card, or about a
 * change of @card itself when @tx is NULL. */
static gboolean
enqueue_all (CtStore                *store,
             GPtrArray              *connectors,
             const CtStoreMerchant  *merchant,
             const CtStoreCard      *card,
             const CtStoreTx        *tx,
             gboolean                issued,
             GError                **error)
{
  CtWalletCard snap = snapshot (merchant, card);

  for (guint i = 0; i < connectors->len; i++)
    {
      const CtWalletConnector *c = connectors->pdata[i];
      Message m = tx ? tx_message (c, merchant, tx, card, &snap)
                     : card_message (c, merchant, card, issued, &snap);
      CtWalletMessage msg = { 0, c->id, (char *) card->card_no, (char *) m.method, m.request_no, m.payload, 0 };
      gboolean ok = m.method == NULL || ct_store_wallet_enqueue (store, &msg, ct_store_now_ms (), error);

      g_free (m.request_no);
      g_free (m.payload);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

gboolean
ct_wallet_outbox_import (CtStore                *store,
                         GPtrArray              *connectors,
                         const CtStoreMerchant  *merchant,
                         const char             *card_no,
                         GError                **error)
{
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GPtrArray) history = NULL;

  if (connectors->len == 0)
    return TRUE;
  if (!ct_store_card_get (store, card_no, &card, error))
    return FALSE;
  if (!enqueue_all (store, connectors, merchant, &card, NULL, TRUE, error))
    return FALSE;
  /* The import transaction is the card's only one. */
  history = ct_store_card_history (store, card_no, 0, G_MAXINT64, 0, 1, error);
  if (history == NULL)
    return FALSE;
  if (history->len == 0)
    return TRUE;
  return enqueue_all (store, connectors, merchant, &card, history->pdata[0], FALSE, error);
}

/* Looks the connectors up and, when there are any, the merchant. */
static gboolean
look_up (CtStore           *store,
         GPtrArray        **connectors,
         CtStoreMerchant   *merchant,
         GError           **error)
{
  *connectors = ct_store_wallet_connectors (store, error);
  if (*connectors == NULL)
    return FALSE;
  return (*connectors)->len == 0 || ct_store_get_merchant (store, merchant, error);
}

gboolean
ct_wallet_outbox_ledger_tx (CtStore            *store,
                            const CtStoreTx    *tx,
                            const CtStoreCard  *card,
                            GError            **error)
{
  g_autoptr(GPtrArray) connectors = NULL;
  g_auto(CtStoreMerchant) merchant = { 0 };

  return look_up (store, &connectors, &merchant, error)
         && enqueue_all (store, connectors, &merchant, card, tx, FALSE, error);
}

gboolean
ct_wallet_outbox_card_changed (CtStore     *store,
                               const char  *card_no,
                               gboolean     issued,
                               GError     **error)
{
  g_autoptr(GPtrArray) connectors = NULL;
  g_auto(CtStoreMerchant) merchant = { 0 };
  g_auto(CtStoreCard) card = { 0 };

  if (!look_up (store, &connectors, &merchant, error))
    return FALSE;
  return connectors->len == 0
         || (ct_store_card_get (store, card_no, &card, error)
             && enqueue_all (store, connectors, &merchant, &card, NULL, issued, error));
}

/* The worker's side. */

static GPtrArray *
ops_connectors (gpointer   outbox,
                GError   **error)
{
  return ct_store_wallet_connectors (outbox, error);
}

static GPtrArray *
ops_due (gpointer   outbox,
         int64_t    now_ms,
         guint      limit,
         int64_t    lease_until_ms,
         GError   **error)
{
  CtStore *store = outbox;
  GPtrArray *due;

  if (!ct_store_begin (store, error))
    return NULL;
  due = ct_store_wallet_due (store, now_ms, limit, lease_until_ms, error);
  if (due == NULL)
    {
      ct_store_rollback (store);
      return NULL;
    }
  if (!ct_store_commit (store, error))
    {
      g_ptr_array_unref (due);
      return NULL;
    }
  return due;
}

static gboolean
ops_card_link (gpointer     outbox,
               int64_t      connector_id,
               const char  *card_no,
               char       **out,
               GError     **error)
{
  return ct_store_wallet_link_get (outbox, connector_id, card_no, out, error);
}

static gboolean
ops_set_link (gpointer     outbox,
              int64_t      connector_id,
              const char  *card_no,
              const char  *biz_card_no,
              GError     **error)
{
  CtStore *store = outbox;

  if (!ct_store_begin (store, error))
    return FALSE;
  if (!ct_store_wallet_link_put (store, connector_id, card_no, biz_card_no, error))
    {
      ct_store_rollback (store);
      return FALSE;
    }
  return ct_store_commit (store, error);
}

static gboolean
settle (CtStore                *store,
        const CtWalletMessage  *msg,
        CtWalletOutcome         outcome,
        int64_t                 next_at_ms,
        const char             *reason,
        int64_t                 now_ms,
        GError                **error)
{
  if (!ct_store_begin (store, error))
    return FALSE;
  if (!ct_store_wallet_settle (store, msg->id, outcome, next_at_ms, reason, now_ms, error))
    {
      ct_store_rollback (store);
      return FALSE;
    }
  return ct_store_commit (store, error);
}

static gboolean
ops_delivered (gpointer                outbox,
               const CtWalletMessage  *msg,
               int64_t                 now_ms,
               GError                **error)
{
  return settle (outbox, msg, CT_WALLET_DELIVERED, 0, NULL, now_ms, error);
}

static gboolean
ops_retry (gpointer                outbox,
           const CtWalletMessage  *msg,
           int64_t                 next_at_ms,
           const char             *reason,
           GError                **error)
{
  return settle (outbox, msg, CT_WALLET_RETRY, next_at_ms, reason, ct_store_now_ms (), error);
}

static gboolean
ops_refused (gpointer                outbox,
             const CtWalletMessage  *msg,
             const char             *reason,
             int64_t                 now_ms,
             GError                **error)
{
  return settle (outbox, msg, CT_WALLET_REFUSED, 0, reason, now_ms, error);
}

const CtWalletOutboxOps ct_wallet_store_ops = {
  ops_connectors, ops_due, ops_card_link, ops_set_link, ops_delivered, ops_retry, ops_refused,
};
