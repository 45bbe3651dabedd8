/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-wallet.h"

G_BEGIN_DECLS

/* Alipay's open platform gateway, RSA2 as its SDK signs and verifies. */

/* The text RSA2 signs: every parameter but "sign" whose value is not empty,
 * sorted by key, "key=value" joined with '&', values raw (not escaped).
 * @params maps key to value (UTF-8). */
char            *ct_alipay_sign_content (GHashTable        *params);

/* The parameters of one gateway call (method, app_id, charset=utf-8,
 * format=JSON, sign_type=RSA2, timestamp in Beijing time, version=1.0,
 * biz_content), signed. Returns the URL (the gateway with every parameter
 * but biz_content in its query, as the SDK sends them) and the form body
 * carrying biz_content. */
gboolean         ct_alipay_request      (CtWalletKey       *key,
                                         const char        *gateway,
                                         const char        *app_id,
                                         const char        *method,
                                         const char        *biz_content,
                                         int64_t            now_ms,
                                         char             **out_url,
                                         char             **out_body,
                                         GError           **error);

/* Finds the raw text of the "<method>_response" member (or, failing it,
 * "error_response") and the "sign" of an answer, without re-serialising:
 * the signature covers exactly those bytes as they stand in @raw. */
gboolean         ct_alipay_answer_split (const char        *raw,
                                         gsize              len,
                                         const char        *method,
                                         const char       **out_member,
                                         gsize             *out_member_len,
                                         char             **out_sign,
                                         GError           **error);

/* Judges an answer: DELIVERED only for code 10000 under a signature that
 * verifies with the Alipay public key; RETRY for an answer that does not
 * verify, cannot be read, or says the gateway is busy; REFUSED (with the
 * reason in @out_reason) for a business refusal. For card.open,
 * @out_biz_card_no gets the card number Alipay gave. */
CtWalletOutcome  ct_alipay_judge        (CtWalletPubkey    *alipay_public_key,
                                         const char        *method,
                                         const char        *raw,
                                         gsize              len,
                                         char             **out_biz_card_no,
                                         char             **out_reason);

/* The biz_content of a message: its payload, with target_card_no and
 * target_card_no_type BIZ_CARD for every method but card.open. */
char            *ct_alipay_biz_content  (const char        *method,
                                         const char        *payload,
                                         const char        *biz_card_no,
                                         GError           **error);

/* A card.open for a card that a connector has not seen (the connector was
 * added after the card): out_serial_no "open:<card_no>", and the card's
 * balance, point and level from the card_info of @payload, the sync or
 * update it must precede. */
char            *ct_alipay_biz_open_for (const char        *template_id,
                                         const char        *card_no,
                                         const char        *payload,
                                         int64_t            now_ms,
                                         GError           **error);

G_END_DECLS
