/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-wallet.h"

G_BEGIN_DECLS

/* The wallet delivery worker: one thread that takes the due messages from
 * a wallet outbox, sends them to Alipay or WeChat Pay with libcurl, and
 * records what became of each. It never runs on a till's request: the
 * ledger only writes the outbox and wakes the worker. */

typedef struct
{
  guint backoff_min_ms;     /* first retry delay; 0 = 2 s */
  guint backoff_max_ms;     /* cap of the doubling delay; 0 = 10 min */
  guint poll_ms;            /* look for due messages at least this often; 0 = 1 s */
  guint timeout_ms;         /* one request, connection included; 0 = 20 s */
} CtWalletWorkerOptions;

typedef struct _CtWalletWorker CtWalletWorker;

CtWalletWorker *ct_wallet_worker_new   (const CtWalletOutboxOps     *ops,
                                        gpointer                     outbox,
                                        const CtWalletWorkerOptions *options);
void            ct_wallet_worker_start (CtWalletWorker *worker);
/* Something was written to the outbox: look now instead of at the next
 * poll. Cheap, never blocks. */
void            ct_wallet_worker_wake  (CtWalletWorker *worker);
/* Finishes the request in flight (bounded by the timeout) and joins. */
void            ct_wallet_worker_stop  (CtWalletWorker *worker);
void            ct_wallet_worker_free  (CtWalletWorker *worker);

/* The delay before attempt @attempts + 1: doubling from the minimum up to
 * the cap, with up to a quarter of jitter so connectors do not retry in
 * step. */
guint           ct_wallet_backoff_ms   (const CtWalletWorkerOptions *options,
                                        guint                        attempts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWalletWorker, ct_wallet_worker_free)

G_END_DECLS
