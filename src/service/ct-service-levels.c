/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-levels"
#include "config.h"

#include "ct-service.h"
#include "ct-service-levels.h"

/* A card moves up by what its balance paid, in the transaction of the
 * payment that reached the level, and never moves down by itself: a
 * refund lowers the spend, not the level. A manager may set any level. */

const CtStoreLevel *
ct_levels_find (GPtrArray  *levels,
                const char *card_level)
{
  if (levels == NULL || card_level == NULL)
    return NULL;
  for (guint i = 0; i < levels->len; i++)
    {
      const CtStoreLevel *level = levels->pdata[i];

      if (g_str_equal (level->id, card_level))
        return level;
    }
  return NULL;
}

/* The highest level @spend reaches; @levels is ordered by min_spend. */
static const CtStoreLevel *
reached_by (GPtrArray *levels,
            int64_t    spend)
{
  const CtStoreLevel *best = NULL;

  for (guint i = 0; i < levels->len; i++)
    {
      const CtStoreLevel *level = levels->pdata[i];

      if (level->min_spend > 0 && level->min_spend <= spend
          && (best == NULL || level->min_spend > best->min_spend))
        best = level;
    }
  return best;
}

gboolean
ct_levels_add_spend (CtStore             *store,
                     GPtrArray           *levels,
                     CtStoreCard         *card,
                     int64_t              delta,
                     int64_t             *out_spend,
                     const CtStoreLevel **out_reached,
                     GError             **error)
{
  const CtStoreLevel *now, *reached;

  *out_reached = NULL;
  if (!ct_store_card_add_spend (store, card->card_no, delta, out_spend, error))
    return FALSE;
  if (delta <= 0 || levels == NULL)
    return TRUE;
  now = ct_levels_find (levels, card->level);
  reached = reached_by (levels, *out_spend);
  if (reached == NULL || reached == now || (now != NULL && reached->min_spend <= now->min_spend))
    return TRUE;
  g_free (card->level);
  card->level = g_strdup (reached->id);
  card->updated_at = ct_store_now_ms ();
  if (!ct_store_card_update (store, card, error))
    return FALSE;
  *out_reached = reached;
  return TRUE;
}

void
ct_levels_write_applied (GString            *out,
                         const CtStoreLevel *level)
{
  g_string_append (out, ",\"level\":");
  if (level == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append (out, "{\"id\":");
  ct_json_append_string (out, level->id);
  g_string_append (out, ",\"name\":");
  ct_json_append_string (out, level->name);
  g_string_append_printf (out, ",\"discount_bp\":%" G_GINT64_FORMAT ",\"points_multiplier_bp\":%" G_GINT64_FORMAT
                          ",\"topup_bonus_bp\":%" G_GINT64_FORMAT "}",
                          level->discount_bp, level->points_multiplier_bp, level->topup_bonus_bp);
}
