/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wallet"
#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "ct-money.h"
#include "ct-wallet.h"
#include "ct-wire.h"

#define BEIJING_OFFSET_S (8 * 3600)

G_DEFINE_QUARK (ct-wallet-error-quark, ct_wallet_error)

void
ct_wallet_connector_free (CtWalletConnector *c)
{
  if (c == NULL)
    return;
  g_free (c->merchant);
  g_free (c->app_id);
  g_free (c->serial_no);
  g_free (c->private_key);
  g_free (c->public_key);
  g_free (c->template_id);
  g_free (c->gateway);
  g_free (c);
}

void
ct_wallet_message_free (CtWalletMessage *m)
{
  if (m == NULL)
    return;
  g_free (m->card_no);
  g_free (m->method);
  g_free (m->request_no);
  g_free (m->payload);
  g_free (m);
}

int
ct_wallet_message_compare (gconstpointer a,
                           gconstpointer b)
{
  const CtWalletMessage *x = *(const CtWalletMessage * const *) a;
  const CtWalletMessage *y = *(const CtWalletMessage * const *) b;

  return x->id < y->id ? -1 : x->id > y->id;
}

const char *
ct_wallet_kind_to_string (CtWalletKind kind)
{
  switch (kind)
    {
    case CT_WALLET_ALIPAY:
      return "alipay";
    case CT_WALLET_WECHAT:
      return "wechat";
    default:
      g_assert_not_reached ();
    }
}

gboolean
ct_wallet_kind_from_string (const char   *text,
                            CtWalletKind *out)
{
  if (g_strcmp0 (text, "alipay") == 0)
    *out = CT_WALLET_ALIPAY;
  else if (g_strcmp0 (text, "wechat") == 0)
    *out = CT_WALLET_WECHAT;
  else
    return FALSE;
  return TRUE;
}

char *
ct_wallet_yuan_text (int64_t minor,
                     int     minor_units)
{
  return ct_money_format_plain (minor, minor_units);
}

char *
ct_wallet_local_time (int64_t     ms,
                      const char *timezone)
{
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = NULL;

  if (timezone != NULL && *timezone != '\0')
    tz = g_time_zone_new_identifier (timezone);
  /* China keeps one offset all year, so Beijing time needs no tzdata. */
  if (tz == NULL)
    tz = g_time_zone_new_offset (BEIJING_OFFSET_S);
  local = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

char *
ct_wallet_open_serial (const char *card_no)
{
  return g_strconcat ("open:", card_no, NULL);
}

char *
ct_wallet_alipay_trade_no (const char *merchant,
                           int64_t     tx_id)
{
  return g_strdup_printf ("%s:%" G_GINT64_FORMAT, merchant, tx_id);
}

char *
ct_wallet_wechat_clean (char *text)
{
  /* out_request_no allows letters, digits, '-' and '_' only. */
  for (char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      *p = '_';
  return text;
}

char *
ct_wallet_wechat_request_no (const char *merchant,
                             int64_t     tx_id)
{
  return ct_wallet_wechat_clean (g_strdup_printf ("%s-%" G_GINT64_FORMAT, merchant, tx_id));
}

const char *
ct_wallet_alipay_trade_type (const char *tx_kind)
{
  if (g_strcmp0 (tx_kind, "topup") == 0)
    return "DEPOSIT";
  if (g_strcmp0 (tx_kind, "payment") == 0)
    return "TRADE";
  if (g_strcmp0 (tx_kind, "refund") == 0)
    return "RETURN";
  if (g_strcmp0 (tx_kind, "import") == 0)
    return "OPEN";
  return NULL;
}

static void
add_string (json_object *obj,
            const char  *key,
            const char  *value)
{
  json_object_object_add (obj, key, json_object_new_string (value));
}

static void
add_string_take (json_object *obj,
                 const char  *key,
                 char        *value)
{
  add_string (obj, key, value);
  g_free (value);
}

/* balance, point and level: the card's state Alipay shows. */
static void
add_card_state (json_object        *obj,
                const CtWalletCard *card)
{
  add_string_take (obj, "balance", ct_wallet_yuan_text (card->balance, card->minor_units));
  add_string_take (obj, "point", g_strdup_printf ("%" G_GINT64_FORMAT, card->points));
  if (card->level != NULL && *card->level != '\0')
    add_string (obj, "level", card->level);
}

char *
ct_alipay_payload_open (const char         *template_id,
                        const CtWalletCard *card,
                        const char         *timezone)
{
  json_object *root = json_object_new_object ();
  json_object *ext = json_object_new_object ();

  g_return_val_if_fail (card != NULL && card->card_no != NULL, NULL);

  add_string_take (root, "out_serial_no", ct_wallet_open_serial (card->card_no));
  add_string (root, "card_template_id", template_id);
  add_string (ext, "external_card_no", card->card_no);
  add_string_take (ext, "open_date", ct_wallet_local_time (card->opened_at_ms, timezone));
  add_string (ext, "valid_date", CT_WALLET_VALID_DATE);
  add_card_state (ext, card);
  json_object_object_add (root, "card_ext_info", ext);
  return ct_wire_json_take_text (root);
}

char *
ct_alipay_payload_sync (const char         *trade_no,
                        const char         *trade_type,
                        int64_t             trade_amount,
                        int64_t             trade_ms,
                        const CtWalletCard *card,
                        const char         *timezone)
{
  json_object *root = json_object_new_object ();
  json_object *info = json_object_new_object ();

  g_return_val_if_fail (card != NULL && trade_no != NULL && trade_type != NULL, NULL);

  add_string (root, "trade_type", trade_type);
  add_string (root, "trade_no", trade_no);
  add_string_take (root, "trade_time", ct_wallet_local_time (trade_ms, timezone));
  add_string_take (root, "trade_amount",
                   ct_wallet_yuan_text (trade_amount < 0 ? -trade_amount : trade_amount,
                                        card->minor_units));
  add_card_state (info, card);
  json_object_object_add (root, "card_info", info);
  return ct_wire_json_take_text (root);
}

char *
ct_alipay_payload_update (int64_t             occur_ms,
                          const CtWalletCard *card,
                          const char         *timezone)
{
  json_object *root = json_object_new_object ();
  json_object *info = json_object_new_object ();
  g_autofree char *status = NULL;

  g_return_val_if_fail (card != NULL, NULL);

  add_string_take (root, "occur_time", ct_wallet_local_time (occur_ms, timezone));
  add_card_state (info, card);
  json_object_object_add (root, "card_info", info);
  /* The card's own state (frozen, closed) travels in ext_info, which the
   * merchant's card template may show. */
  status = g_ascii_strup (card->status != NULL ? card->status : "active", -1);
  {
    json_object *ext = json_object_new_object ();

    add_string (ext, "card_status", status);
    add_string_take (root, "ext_info", ct_wire_json_take_text (ext));
  }
  return ct_wire_json_take_text (root);
}

char *
ct_wechat_payload_update (const char         *out_request_no,
                          int64_t             before_balance,
                          const char         *remark,
                          const CtWalletCard *card)
{
  json_object *root = json_object_new_object ();

  g_return_val_if_fail (card != NULL && out_request_no != NULL, NULL);

  add_string (root, "membership_number", card->card_no);
  if (card->level != NULL && *card->level != '\0')
    add_string (root, "level", card->level);
  add_string (root, "out_request_no", out_request_no);
  if (before_balance != card->balance || remark != NULL)
    {
      json_object *bal = json_object_new_object ();

      /* WeChat Pay takes balances in fen, as JSON integers. */
      json_object_object_add (bal, "before_balance", json_object_new_int64 (before_balance));
      json_object_object_add (bal, "balance", json_object_new_int64 (card->balance));
      json_object_object_add (bal, "add_balance", json_object_new_int64 (card->balance - before_balance));
      if (remark != NULL)
        add_string (bal, "balance_remark", remark);
      json_object_object_add (root, "balance_information", bal);
    }
  return ct_wire_json_take_text (root);
}

gboolean
ct_wallet_answer_error (GError     **error,
                        const char  *message)
{
  g_set_error_literal (error, CT_WALLET_ERROR, CT_WALLET_ERROR_ANSWER, message);
  return FALSE;
}
