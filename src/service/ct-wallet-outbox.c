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

static gboolean
enqueue (CtStore                 *store,
         const CtWalletConnector *c,
         const char              *card_no,
         const char              *method,
         char                    *request_no,
         char                    *payload,
         GError                 **error)
{
  CtWalletMessage msg = { 0, c->id, (char *) card_no, (char *) method, request_no, payload, 0 };
  gboolean ok = ct_store_wallet_enqueue (store, &msg, ct_store_now_ms (), error);

  g_free (request_no);
  g_free (payload);
  return ok;
}

gboolean
ct_wallet_outbox_tx (CtStore                *store,
                     GPtrArray              *connectors,
                     const CtStoreMerchant  *merchant,
                     const CtStoreTx        *tx,
                     const CtStoreCard      *card,
                     GError                **error)
{
  CtWalletCard snap = snapshot (merchant, card);

  for (guint i = 0; i < connectors->len; i++)
    {
      const CtWalletConnector *c = connectors->pdata[i];
      gboolean ok;

      switch (c->kind)
        {
        case CT_WALLET_ALIPAY:
          {
            const char *trade_type = ct_wallet_alipay_trade_type (tx->kind);

            /* An adjustment is no trade of the member's: the card's new
             * balance goes as a card update. */
            if (trade_type == NULL)
              ok = enqueue (store, c, card->card_no, CT_WALLET_METHOD_UPDATE,
                            g_strdup_printf ("%s:%s:%" G_GINT64_FORMAT, tx->kind, c->merchant, tx->id),
                            ct_alipay_payload_update (tx->created_at, &snap, merchant->timezone), error);
            else
              {
                char *trade_no = ct_wallet_alipay_trade_no (c->merchant, tx->id);

                ok = enqueue (store, c, card->card_no, CT_WALLET_METHOD_SYNC, trade_no,
                              ct_alipay_payload_sync (trade_no, trade_type, tx->delta, tx->created_at,
                                                      &snap, merchant->timezone), error);
              }
          }
          break;
        case CT_WALLET_WECHAT:
          {
            char *request_no = ct_wallet_wechat_request_no (c->merchant, tx->id);

            ok = enqueue (store, c, card->card_no, CT_WALLET_METHOD_WECHAT, request_no,
                          ct_wechat_payload_update (request_no, card->balance - tx->delta,
                                                    wechat_remark (tx->kind), &snap), error);
          }
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

gboolean
ct_wallet_outbox_card (CtStore                *store,
                       GPtrArray              *connectors,
                       const CtStoreMerchant  *merchant,
                       const CtStoreCard      *card,
                       gboolean                issued,
                       GError                **error)
{
  CtWalletCard snap = snapshot (merchant, card);

  for (guint i = 0; i < connectors->len; i++)
    {
      const CtWalletConnector *c = connectors->pdata[i];
      gboolean ok = TRUE;

      switch (c->kind)
        {
        case CT_WALLET_ALIPAY:
          if (issued)
            ok = enqueue (store, c, card->card_no, CT_WALLET_METHOD_OPEN,
                          ct_wallet_open_serial (card->card_no),
                          ct_alipay_payload_open (c->template_id, &snap, merchant->timezone), error);
          else
            ok = enqueue (store, c, card->card_no, CT_WALLET_METHOD_UPDATE,
                          g_strdup_printf ("update:%s:%" G_GINT64_FORMAT, card->card_no, card->updated_at),
                          ct_alipay_payload_update (card->updated_at, &snap, merchant->timezone), error);
          break;
        case CT_WALLET_WECHAT:
          /* The member adds the WeChat card with its code; an issue has
           * nothing to update yet, a change has its level. */
          if (!issued)
            {
              /* A change has no transaction id: "<merchant>-c<time>-<card>". */
              char *request_no = ct_wallet_wechat_clean (g_strdup_printf ("%s-c%" G_GINT64_FORMAT "-%s",
                                                                          c->merchant, card->updated_at,
                                                                          card->card_no));

              ok = enqueue (store, c, card->card_no, CT_WALLET_METHOD_WECHAT, request_no,
                            ct_wechat_payload_update (request_no, card->balance, NULL, &snap), error);
            }
          break;
        default:
          g_assert_not_reached ();
        }
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
  if (!ct_wallet_outbox_card (store, connectors, merchant, &card, TRUE, error))
    return FALSE;
  /* The import transaction is the card's only one. */
  history = ct_store_card_history (store, card_no, 0, G_MAXINT64, 0, 1, error);
  if (history == NULL)
    return FALSE;
  if (history->len == 0)
    return TRUE;
  return ct_wallet_outbox_tx (store, connectors, merchant, history->pdata[0], &card, error);
}

gboolean
ct_wallet_outbox_ledger_tx (CtStore            *store,
                            const CtStoreTx    *tx,
                            const CtStoreCard  *card,
                            GError            **error)
{
  g_autoptr(GPtrArray) connectors = ct_store_wallet_connectors (store, error);
  g_auto(CtStoreMerchant) merchant = { 0 };

  if (connectors == NULL)
    return FALSE;
  if (connectors->len == 0)
    return TRUE;
  return ct_store_get_merchant (store, &merchant, error)
         && ct_wallet_outbox_tx (store, connectors, &merchant, tx, card, error);
}

gboolean
ct_wallet_outbox_card_changed (CtStore     *store,
                               const char  *card_no,
                               gboolean     issued,
                               GError     **error)
{
  g_autoptr(GPtrArray) connectors = ct_store_wallet_connectors (store, error);
  g_auto(CtStoreMerchant) merchant = { 0 };
  g_auto(CtStoreCard) card = { 0 };

  if (connectors == NULL)
    return FALSE;
  if (connectors->len == 0)
    return TRUE;
  return ct_store_get_merchant (store, &merchant, error)
         && ct_store_card_get (store, card_no, &card, error)
         && ct_wallet_outbox_card (store, connectors, &merchant, &card, issued, error);
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
