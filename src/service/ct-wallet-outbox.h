/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-store.h"
#include "ct-wallet.h"

G_BEGIN_DECLS

/* The wallet outbox in the service's store: what the ledger writes, in its
 * own write transaction, and the delivery worker's view of it. */

/* The worker's CtWalletOutboxOps over a CtStore (the outbox pointer). Each
 * settlement is a write transaction of its own. */
extern const CtWalletOutboxOps ct_wallet_store_ops;

/* What the ledger calls inside its write transaction: they look the
 * connectors up and write nothing when there are none. @card is the card
 * after the change. */
gboolean   ct_wallet_outbox_ledger_tx  (CtStore                *store,
                                        const CtStoreTx        *tx,
                                        const CtStoreCard      *card,
                                        GError                **error);
gboolean   ct_wallet_outbox_card_changed (CtStore              *store,
                                          const char           *card_no,
                                          gboolean              issued,
                                          GError              **error);

/* The same with the connectors (ct_store_wallet_connectors()) looked up by
 * the caller, once for many imported cards (an import request); nothing is
 * written when there are none. */

/* An imported card: card.open with its opening balance, then the import
 * transaction as an OPEN trade. */
gboolean   ct_wallet_outbox_import     (CtStore                *store,
                                        GPtrArray              *connectors,
                                        const CtStoreMerchant  *merchant,
                                        const char             *card_no,
                                        GError                **error);

G_END_DECLS
