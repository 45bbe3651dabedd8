/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-sqlite-pcache"
#include "config.h"

#include "ct-sqlite-pcache.h"

/* SQLite's page cache, wrapped to spare it a scan of every cached page at
 * the end of most of the service's write transactions.
 *
 * When a b-tree page splits, SQLite (balance_nonroot()) puts the new pages
 * in ascending order by swapping their numbers through a temporary one:
 * the page after the 1 GiB lock byte, 262,145 with 4 KiB pages, whatever
 * the database's size. The default cache (pcache1) remembers the largest
 * number it ever held, so at the commit, when the pager drops every page
 * past the end of the database (pager_end_transaction() truncates the
 * cache to the database's size), the gap to that number is far wider than
 * its hash table and pcache1 walks every bucket and every page it caches
 * (4,000 pages of the benchmark's database; up to the 32 MiB cache_size,
 * 8,000, on a larger one): 7 % of the committer's CPU, each page a cache
 * miss, in a truncation that drops nothing.
 *
 * This wrapper passes everything to the default cache and keeps, for each
 * cache, the largest page number it may hold apart from a few far above it
 * (the temporary number while a swap holds it). A truncation runs only
 * when a page at or past its limit may be there; when none can be, there
 * is nothing for it to drop and it is skipped. What may be there is
 * counted from every way a page number enters a cache (a fetch that
 * creates a page, a page given a new number); pages leaving the cache
 * (eviction, a discarded page) only ever make the count too high, which
 * costs a truncation that runs for nothing, never one skipped that had a
 * page to drop. */

#define FAR_MAX 4

typedef struct
{
  sqlite3_pcache *real;
  /* No page of this cache has a number above @top, the numbers in @far
   * aside (0: a free slot; no page is numbered 0). */
  unsigned        top;
  unsigned        far[FAR_MAX];
} Cache;

static sqlite3_pcache_methods2 real_methods;
static sqlite3_pcache_methods2 wrapped;
static gint truncations_skipped;
static gint far_moves;

static int
pc_init (void *arg)
{
  return real_methods.xInit != NULL ? real_methods.xInit (real_methods.pArg) : SQLITE_OK;
}

static void
pc_shutdown (void *arg)
{
  if (real_methods.xShutdown != NULL)
    real_methods.xShutdown (real_methods.pArg);
}

static sqlite3_pcache *
pc_create (int sz_page,
           int sz_extra,
           int purgeable)
{
  sqlite3_pcache *real = real_methods.xCreate (sz_page, sz_extra, purgeable);
  Cache *c;

  if (real == NULL)
    return NULL;
  c = sqlite3_malloc (sizeof *c);
  if (c == NULL)
    {
      real_methods.xDestroy (real);
      return NULL;
    }
  *c = (Cache) { .real = real };
  return (sqlite3_pcache *) c;
}

static void
pc_cachesize (sqlite3_pcache *p,
              int             n)
{
  real_methods.xCachesize (((Cache *) p)->real, n);
}

static int
pc_pagecount (sqlite3_pcache *p)
{
  return real_methods.xPagecount (((Cache *) p)->real);
}

static gboolean
far_holds (const Cache *c,
           unsigned     key)
{
  for (guint i = 0; i < FAR_MAX; i++)
    if (c->far[i] == key)
      return TRUE;
  return FALSE;
}

static sqlite3_pcache_page *
pc_fetch (sqlite3_pcache *p,
          unsigned        key,
          int             create)
{
  Cache *c = (Cache *) p;
  sqlite3_pcache_page *page = real_methods.xFetch (c->real, key, create);

  if (page != NULL && key > c->top && !far_holds (c, key))
    c->top = key;
  return page;
}

static void
pc_unpin (sqlite3_pcache      *p,
          sqlite3_pcache_page *page,
          int                  discard)
{
  real_methods.xUnpin (((Cache *) p)->real, page, discard);
}

static void
pc_rekey (sqlite3_pcache      *p,
          sqlite3_pcache_page *page,
          unsigned             old_key,
          unsigned             new_key)
{
  Cache *c = (Cache *) p;

  real_methods.xRekey (c->real, page, old_key, new_key);
  for (guint i = 0; i < FAR_MAX; i++)
    if (c->far[i] == old_key)
      c->far[i] = 0;
  if (new_key <= c->top || far_holds (c, new_key))
    return;
  g_atomic_int_inc (&far_moves);
  for (guint i = 0; i < FAR_MAX; i++)
    if (c->far[i] == 0)
      {
        c->far[i] = new_key;
        return;
      }
  c->top = new_key;
}

static void
pc_truncate (sqlite3_pcache *p,
             unsigned        limit)
{
  Cache *c = (Cache *) p;
  gboolean needed = c->top >= limit;

  for (guint i = 0; i < FAR_MAX && !needed; i++)
    needed = c->far[i] != 0 && c->far[i] >= limit;
  if (!needed)
    {
      g_atomic_int_inc (&truncations_skipped);
      return;
    }
  real_methods.xTruncate (c->real, limit);
  /* Every page numbered @limit or above is gone. */
  if (c->top >= limit)
    c->top = limit > 0 ? limit - 1 : 0;
  for (guint i = 0; i < FAR_MAX; i++)
    if (c->far[i] >= limit)
      c->far[i] = 0;
}

static void
pc_destroy (sqlite3_pcache *p)
{
  Cache *c = (Cache *) p;

  real_methods.xDestroy (c->real);
  sqlite3_free (c);
}

static void
pc_shrink (sqlite3_pcache *p)
{
  real_methods.xShrink (((Cache *) p)->real);
}

/**
 * ct_sqlite_pcache_install:
 * Puts the wrapper around SQLite's page cache. It must run before SQLite
 * is initialized (before any connection is opened in the process);
 * FALSE when it was too late, and SQLite keeps its own cache as it is.
 * Later calls answer what the first one did.
 */
gboolean
ct_sqlite_pcache_install (void)
{
  static gsize done;
  static gboolean installed;

  if (g_once_init_enter (&done))
    {
      if (sqlite3_config (SQLITE_CONFIG_GETPCACHE2, &real_methods) == SQLITE_OK
          && real_methods.xCreate != NULL)
        {
          wrapped = (sqlite3_pcache_methods2) {
            .iVersion = 1,
            .pArg = NULL,
            .xInit = pc_init,
            .xShutdown = pc_shutdown,
            .xCreate = pc_create,
            .xCachesize = pc_cachesize,
            .xPagecount = pc_pagecount,
            .xFetch = pc_fetch,
            .xUnpin = pc_unpin,
            .xRekey = pc_rekey,
            .xTruncate = pc_truncate,
            .xDestroy = pc_destroy,
            .xShrink = real_methods.xShrink != NULL ? pc_shrink : NULL,
          };
          installed = sqlite3_config (SQLITE_CONFIG_PCACHE2, &wrapped) == SQLITE_OK;
        }
      g_once_init_leave (&done, 1);
    }
  return installed;
}

/**
 * ct_sqlite_pcache_counts:
 * For the tests, in this process: how many truncations of a cache found
 * nothing to drop and were skipped, and how many times a page was given a
 * number above every other of its cache (a split's swap).
 */
void
ct_sqlite_pcache_counts (guint *skipped,
                         guint *far)
{
  *skipped = (guint) g_atomic_int_get (&truncations_skipped);
  *far = (guint) g_atomic_int_get (&far_moves);
}

/**
 * ct_sqlite_pcache_methods:
 * The wrapper's methods, as SQLite calls them (for the tests; valid once
 * ct_sqlite_pcache_install() returned TRUE).
 */
const sqlite3_pcache_methods2 *
ct_sqlite_pcache_methods (void)
{
  return &wrapped;
}
