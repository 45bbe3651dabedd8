/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-till-cache"
#include "config.h"

#include <string.h>

#include "ct-till-cache.h"

/* A busy store has tens of tills; a full cache starts again rather than
 * grow with tokens that are wrong or gone. */
#define MAX_ENTRIES 4096

typedef struct
{
  CtStoreTill till;
  guint8      hash[32];
  guint64     epoch;
} Entry;

struct _CtTillCache
{
  GMutex      lock;
  GHashTable *entries; /* token -> Entry */
  guint64     epoch;
  guint64     version;
  gboolean    synced;
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  ct_store_till_clear (&e->till);
  g_free (e);
}

CtTillCache *
ct_till_cache_new (void)
{
  CtTillCache *cache = g_new0 (CtTillCache, 1);

  g_mutex_init (&cache->lock);
  cache->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  return cache;
}

void
ct_till_cache_free (CtTillCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_destroy (cache->entries);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

guint64
ct_till_cache_epoch (CtTillCache *cache)
{
  guint64 epoch;

  g_mutex_lock (&cache->lock);
  epoch = cache->epoch;
  g_mutex_unlock (&cache->lock);
  return epoch;
}

/* TRUE with a copy of the till behind @token, its token's hash and the
 * epoch it was looked up in, when it was looked up in the current one. */
gboolean
ct_till_cache_lookup (CtTillCache *cache,
                      const char  *token,
                      CtStoreTill *out,
                      guint8       out_hash[32],
                      guint64     *out_epoch)
{
  Entry *e;
  gboolean hit;

  g_mutex_lock (&cache->lock);
  e = g_hash_table_lookup (cache->entries, token);
  hit = e != NULL && e->epoch == cache->epoch;
  if (hit)
    {
      *out = e->till;
      out->store = g_strdup (e->till.store);
      out->name = g_strdup (e->till.name);
      memcpy (out_hash, e->hash, 32);
      *out_epoch = e->epoch;
    }
  g_mutex_unlock (&cache->lock);
  return hit;
}

/* Keeps @till, read from the store in @epoch (taken before the read), for
 * @token; an entry of an older epoch is never a hit. */
void
ct_till_cache_add (CtTillCache       *cache,
                   guint64            epoch,
                   const char        *token,
                   const CtStoreTill *till,
                   const guint8       hash[32])
{
  Entry *e = g_new0 (Entry, 1);

  e->till = *till;
  e->till.store = g_strdup (till->store);
  e->till.name = g_strdup (till->name);
  memcpy (e->hash, hash, 32);
  e->epoch = epoch;
  g_mutex_lock (&cache->lock);
  if (g_hash_table_size (cache->entries) >= MAX_ENTRIES)
    g_hash_table_remove_all (cache->entries);
  g_hash_table_replace (cache->entries, g_strdup (token), e);
  g_mutex_unlock (&cache->lock);
}

/* Called by the writer inside its transaction with the store's tills
 * version: when it moved, every entry is of an older epoch. */
void
ct_till_cache_sync (CtTillCache *cache,
                    guint64      version)
{
  g_mutex_lock (&cache->lock);
  if (!cache->synced || version != cache->version)
    {
      cache->epoch++;
      cache->version = version;
      cache->synced = TRUE;
      g_hash_table_remove_all (cache->entries);
    }
  g_mutex_unlock (&cache->lock);
}

static gboolean
entry_has_hash (gpointer key,
                gpointer value,
                gpointer hash)
{
  const Entry *e = value;

  return memcmp (e->hash, hash, 32) == 0;
}

/* Drops the entry of the token whose hash is @hash: a write found its
 * till revoked or its token replaced, and the token's next request must
 * ask the store rather than pass on the entry. */
void
ct_till_cache_forget (CtTillCache  *cache,
                      const guint8  hash[32])
{
  g_mutex_lock (&cache->lock);
  g_hash_table_foreach_remove (cache->entries, entry_has_hash, (gpointer) hash);
  g_mutex_unlock (&cache->lock);
}
