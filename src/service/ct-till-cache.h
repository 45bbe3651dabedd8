/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-store.h"

G_BEGIN_DECLS

/* The tills the workers looked up by token, so that a till's next write
 * needs neither a read transaction nor the token's SHA-256. An entry is
 * good for the epoch it was looked up in; the one writer moves to a new
 * epoch (and empties the cache) when the store's tills version changed,
 * and checks again the writes that brought an entry of an older epoch. */
typedef struct _CtTillCache CtTillCache;

CtTillCache *ct_till_cache_new    (void);
void         ct_till_cache_free   (CtTillCache       *cache);
guint64      ct_till_cache_epoch  (CtTillCache       *cache);
gboolean     ct_till_cache_lookup (CtTillCache       *cache,
                                   const char        *token,
                                   CtStoreTill       *out,
                                   guint8             out_hash[32],
                                   guint64           *out_epoch);
void         ct_till_cache_add    (CtTillCache       *cache,
                                   guint64            epoch,
                                   const char        *token,
                                   const CtStoreTill *till,
                                   const guint8       hash[32]);
void         ct_till_cache_sync   (CtTillCache       *cache,
                                   guint64            version);
void         ct_till_cache_forget (CtTillCache       *cache,
                                   const guint8       hash[32]);

G_END_DECLS
