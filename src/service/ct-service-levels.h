/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-store.h"

G_BEGIN_DECLS

/* Levels by spend (docs/ledger.md, "Levels"): which level's benefits a
 * card gets, and the move up booked with the payment that reaches one. */

/* Basis points a level's benefits take: a discount up to all of the
 * order, a points multiplier and an extra top-up bonus up to ten times. */
#define CT_LEVEL_DISCOUNT_BP_MAX   10000
#define CT_LEVEL_MULTIPLIER_BP_MAX 100000
#define CT_LEVEL_BONUS_BP_MAX      100000

/* The level @id names among @levels (of CtStoreLevel*), or NULL: a card's
 * level text that names no level gives no benefits. */
const CtStoreLevel *ct_levels_find      (GPtrArray          *levels,
                                         const char         *card_level);

/* Adds @delta to @card's spend; a positive one moves the card up to the
 * highest level reached by spend (min_spend above 0 and at most the spend)
 * when that ranks above its level now, in the caller's transaction. A
 * level given by a manager, or a text that names no level, ranks as its
 * min_spend (0 for a text). @card must be read after the payment's
 * postings, so its row is the one being booked; its level is updated.
 * @out_reached is the level moved up to, or NULL. */
gboolean            ct_levels_add_spend (CtStore            *store,
                                         GPtrArray          *levels,
                                         CtStoreCard        *card,
                                         int64_t             delta,
                                         int64_t            *out_spend,
                                         const CtStoreLevel **out_reached,
                                         GError            **error);

/* Appends ,"level":{…} (the level whose benefits applied) or null. */
void                ct_levels_write_applied (GString            *out,
                                             const CtStoreLevel *level);

G_END_DECLS
