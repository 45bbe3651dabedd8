/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-wire.h"

G_BEGIN_DECLS

/* The member cache (docs/architecture.md): the last known state of each card this
 * till saw, and the last merchant settings, in SQLite, with an in-memory
 * index so a scanned card shows at once. Thread-safe. */

typedef struct _CtMemberCache CtMemberCache;

CtMemberCache *ct_member_cache_open           (const char     *path,
                                               GError        **error);
void           ct_member_cache_close          (CtMemberCache  *cache);

/* A copy of the cached card (from_cache set), or NULL when never seen. */
CtCard        *ct_member_cache_lookup         (CtMemberCache  *cache,
                                               const char     *card_no);
/* Stores @card unless the cache holds a newer state of it. */
gboolean       ct_member_cache_store          (CtMemberCache  *cache,
                                               const CtCard   *card,
                                               GError        **error);
/* ct_member_cache_store() of each of @cards (element-type CtCard), the
 * disk written in one commit. */
gboolean       ct_member_cache_store_many     (CtMemberCache  *cache,
                                               GPtrArray      *cards,
                                               GError        **error);
guint          ct_member_cache_size           (CtMemberCache  *cache);

/* The last /v1/merchant answer, kept as the service sent it. */
gboolean       ct_member_cache_store_merchant (CtMemberCache  *cache,
                                               const char     *body,
                                               gsize           len,
                                               GError        **error);
CtMerchant    *ct_member_cache_load_merchant  (CtMemberCache  *cache);

G_END_DECLS
