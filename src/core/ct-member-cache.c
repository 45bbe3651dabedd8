/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-member-cache"
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "ct-member-cache.h"
#include "ct-outbox.h"

struct _CtMemberCache
{
  /* Two locks: the in-memory index is never held across disk I/O, so a
   * scan shown from the cache does not wait for a worker's write. */
  GMutex      lock;      /* cards, merchant */
  GMutex      db_lock;   /* db */
  sqlite3    *db;
  /* Every settled request stores its card: prepared once, not per store. */
  sqlite3_stmt *store_card;
  GHashTable *cards;     /* card_no -> CtCard */
  CtMerchant *merchant;
};

static gboolean
cache_error (sqlite3     *db,
             int          rc,
             const char  *what,
             GError     **error)
{
  g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL,
               "Member cache: %s failed: %s%s", what,
               db ? sqlite3_errmsg (db) : sqlite3_errstr (rc),
               rc == SQLITE_FULL ? " (the disk is full)" : "");
  return FALSE;
}

CtMemberCache *
ct_member_cache_open (const char  *path,
                      GError     **error)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *msg = NULL;
  int rc;
  CtMemberCache *self;

  /* Members' names and phones: for this user's eyes only. */
  if (!ct_sqlite_file_make_private (path, error))
    return NULL;
  rc = sqlite3_open_v2 (path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      cache_error (db, rc, "open", error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 10000);
  /* No checkpoint at close, as the outbox (ct_outbox_open). */
  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  /* A cache: losing the last write to a power cut costs a refresh, so
   * it does not pay for an fsync per card. */
  rc = sqlite3_exec (db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS cards (card_no TEXT PRIMARY KEY,"
                     " card TEXT NOT NULL, fetched_at INTEGER NOT NULL);"
                     "CREATE TABLE IF NOT EXISTS merchant (id INTEGER PRIMARY KEY CHECK (id = 1),"
                     " body BLOB NOT NULL, fetched_at INTEGER NOT NULL);",
                     NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL, "Member cache %s: %s",
                   path, msg ? msg : sqlite3_errstr (rc));
      sqlite3_free (msg);
      sqlite3_close (db);
      return NULL;
    }

  self = g_new0 (CtMemberCache, 1);
  g_mutex_init (&self->lock);
  g_mutex_init (&self->db_lock);
  self->db = db;
  self->cards = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) ct_card_free);

  /* Load the index; a row that no longer decodes is simply not cached. */
  if (sqlite3_prepare_v2 (db, "SELECT card, fetched_at FROM cards", -1, &stmt, NULL) == SQLITE_OK)
    {
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, 0);
          CtCard *card = text ? ct_wire_decode_card (text, strlen (text), NULL) : NULL;

          if (card == NULL)
            continue;
          card->fetched_at = sqlite3_column_int64 (stmt, 1);
          card->from_cache = TRUE;
          g_hash_table_replace (self->cards, card->card_no, card);
        }
    }
  sqlite3_finalize (stmt);

  if (sqlite3_prepare_v2 (db, "SELECT body, fetched_at FROM merchant WHERE id = 1", -1, &stmt,
                          NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    {
      self->merchant = ct_wire_decode_merchant (sqlite3_column_blob (stmt, 0),
                                                sqlite3_column_bytes (stmt, 0), NULL);
      if (self->merchant)
        self->merchant->fetched_at = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_finalize (stmt);
  return self;
}

void
ct_member_cache_close (CtMemberCache *self)
{
  if (self == NULL)
    return;
  sqlite3_finalize (self->store_card);
  sqlite3_close (self->db);
  g_hash_table_unref (self->cards);
  g_clear_pointer (&self->merchant, ct_merchant_free);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->db_lock);
  g_free (self);
}

CtCard *
ct_member_cache_lookup (CtMemberCache *self,
                        const char    *card_no)
{
  CtCard *card, *copy = NULL;

  g_return_val_if_fail (self != NULL && card_no != NULL, NULL);

  g_mutex_lock (&self->lock);
  card = g_hash_table_lookup (self->cards, card_no);
  if (card != NULL)
    {
      copy = ct_card_copy (card);
      copy->from_cache = TRUE;
    }
  g_mutex_unlock (&self->lock);
  return copy;
}

guint
ct_member_cache_size (CtMemberCache *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = g_hash_table_size (self->cards);
  g_mutex_unlock (&self->lock);
  return n;
}

/* Puts @card in the index unless it holds a newer state of the card.
 * Returns TRUE when the index changed. */
static gboolean
index_card (CtMemberCache *self,
            const CtCard  *card)
{
  CtCard *old, *copy;

  g_mutex_lock (&self->lock);
  old = g_hash_table_lookup (self->cards, card->card_no);
  /* Answers can arrive out of order from parallel workers: keep the state
   * the service changed last. */
  if (old != NULL && old->updated_at != NULL && card->updated_at != NULL
      && strcmp (old->updated_at, card->updated_at) > 0)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  copy = ct_card_copy (card);
  copy->from_cache = TRUE;
  g_hash_table_replace (self->cards, copy->card_no, copy);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Writes what the index holds now for each of @card_nos, in one commit:
 * of two racing stores, the disk ends with the newest state whichever
 * writes last. Caller holds db_lock. */
static gboolean
write_cards_locked (CtMemberCache      *self,
                    const char * const *card_nos,
                    guint               n,
                    GError            **error)
{
  int rc = SQLITE_OK;
  gboolean batch = n > 1;

  if (self->store_card == NULL)
    rc = sqlite3_prepare_v3 (self->db,
                             "INSERT OR REPLACE INTO cards (card_no, card, fetched_at) VALUES (?,?,?)",
                             -1, SQLITE_PREPARE_PERSISTENT, &self->store_card, NULL);
  if (rc == SQLITE_OK && batch)
    rc = sqlite3_exec (self->db, "BEGIN", NULL, NULL, NULL);
  for (guint i = 0; rc == SQLITE_OK && i < n; i++)
    {
      sqlite3_stmt *stmt = self->store_card;
      g_autofree char *json = NULL;
      gint64 fetched_at = 0;
      CtCard *current;

      g_mutex_lock (&self->lock);
      current = g_hash_table_lookup (self->cards, card_nos[i]);
      if (current != NULL)
        {
          json = ct_wire_encode_card (current);
          fetched_at = current->fetched_at;
        }
      g_mutex_unlock (&self->lock);
      if (json == NULL)
        continue;
      sqlite3_bind_text (stmt, 1, card_nos[i], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, json, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, fetched_at);
      rc = sqlite3_step (stmt);
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  if (batch && rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      cache_error (self->db, rc, "storing a card", error);
      if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

gboolean
ct_member_cache_store (CtMemberCache  *self,
                       const CtCard   *card,
                       GError        **error)
{
  gboolean ok;

  g_return_val_if_fail (self != NULL && card != NULL && card->card_no != NULL, FALSE);

  if (!index_card (self, card))
    return TRUE;
  g_mutex_lock (&self->db_lock);
  ok = write_cards_locked (self, (const char * const[]) { card->card_no }, 1, error);
  g_mutex_unlock (&self->db_lock);
  return ok;
}

gboolean
ct_member_cache_store_many (CtMemberCache  *self,
                            GPtrArray      *cards,
                            GError        **error)
{
  g_autoptr(GPtrArray) card_nos = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok;

  g_return_val_if_fail (self != NULL && cards != NULL, FALSE);

  for (guint i = 0; i < cards->len; i++)
    {
      const CtCard *card = g_ptr_array_index (cards, i);

      g_return_val_if_fail (card != NULL && card->card_no != NULL, FALSE);
      if (index_card (self, card) && g_hash_table_add (seen, card->card_no))
        g_ptr_array_add (card_nos, card->card_no);
    }
  if (card_nos->len == 0)
    return TRUE;
  g_mutex_lock (&self->db_lock);
  ok = write_cards_locked (self, (const char * const *) card_nos->pdata, card_nos->len, error);
  g_mutex_unlock (&self->db_lock);
  return ok;
}

gboolean
ct_member_cache_store_merchant (CtMemberCache  *self,
                                const char     *body,
                                gsize           len,
                                GError        **error)
{
  g_autoptr(CtMerchant) merchant = ct_wire_decode_merchant (body, len, error);
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (merchant == NULL)
    return FALSE;

  g_mutex_lock (&self->db_lock);
  rc = sqlite3_prepare_v2 (self->db,
                           "INSERT OR REPLACE INTO merchant (id, body, fetched_at) VALUES (1,?,?)",
                           -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_blob64 (stmt, 1, body, len, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, merchant->fetched_at);
      rc = sqlite3_step (stmt);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    cache_error (self->db, rc, "storing the merchant settings", error);
  g_mutex_unlock (&self->db_lock);
  if (rc == SQLITE_DONE)
    {
      g_mutex_lock (&self->lock);
      g_clear_pointer (&self->merchant, ct_merchant_free);
      self->merchant = g_steal_pointer (&merchant);
      g_mutex_unlock (&self->lock);
    }
  return rc == SQLITE_DONE;
}

CtMerchant *
ct_member_cache_load_merchant (CtMemberCache *self)
{
  CtMerchant *copy;

  g_mutex_lock (&self->lock);
  copy = self->merchant ? ct_merchant_copy (self->merchant) : NULL;
  g_mutex_unlock (&self->lock);
  return copy;
}
