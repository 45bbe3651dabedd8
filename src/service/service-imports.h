/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-service.h"

G_BEGIN_DECLS

/* POST /v1/imports and GET /v1/imports/{batch_id} (docs/ledger.md, docs/api.md, docs/import.md):
 * opening balances of a store's old cards, legacy → card, one row per card,
 * idempotent by (batch_id, card_no). */

#define CT_IMPORT_MAX_ROWS 5000

CtReply *ct_imports_parse (CtService        *svc,
                           CtCall           *call);
CtReply *ct_imports_apply (CtService        *svc,
                           CtStore          *store,
                           const CtStoreMerchant *merchant,
                           CtCall           *call);
CtReply *ct_imports_read  (CtService        *svc,
                           CtCall           *call);

G_END_DECLS
