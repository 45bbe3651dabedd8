/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-service.h"

G_BEGIN_DECLS

/* The writes of docs/ledger.md: parse in a worker, apply in the committer. */
CtReply *ct_ledger_parse_issue      (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_issue      (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_patch      (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_patch      (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_topup      (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_topup      (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_payment    (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_payment    (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_refund     (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_refund     (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_adjustment (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_adjustment (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_member_link (CtService *svc, CtCall *call);
CtReply *ct_ledger_parse_member_pin (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_member_pin (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_parse_replace    (CtService *svc, CtCall *call);
CtReply *ct_ledger_apply_replace    (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_ledger_apply_member_link (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);

/* Posts a transaction and answers 201 {"transaction", "card"}; shared with
 * the import endpoint. @tx gets its id, balance_after and points_after. */
CtReply *ct_ledger_post             (CtStore *store, const CtStoreMerchant *merchant, CtCall *call, CtStoreTx *tx,
                                     const CtStorePosting *postings, guint n_postings,
                                     int64_t points_delta, GError **error);

/* A till's clock may run this far ahead of the service's. */
#define CT_LEDGER_TAKEN_AT_SKEW_MS 60000
CtReply *ct_ledger_parse_taken_at   (CtCall *call, int64_t *out_ms);

G_END_DECLS
