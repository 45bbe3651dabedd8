/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-outbox"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "ct-money.h"
#include "ct-outbox.h"
#include "ct-wire.h"

#include <json-c/json.h>

struct _CtOutbox
{
  GMutex      lock;
  sqlite3    *db;
  GHashTable *statements;  /* SQL text -> sqlite3_stmt, prepared once */

  /* The entries in each state, as last counted: the till asks after every
   * request, and counting walks the index of every entry in that state (a
   * queue of 10,000 top-ups counted 20,000 index entries per top-up). Kept
   * up to date by this connection's own adds; any other change of state
   * on this connection, or a commit by another one (PRAGMA data_version),
   * counts again. */
  gboolean    counts_valid;
  gint64      counts_version;
  guint       counts[CT_OUTBOX_STATE_RESOLVED + 1];
};

static const char * const kind_names[] = {
  [CT_OUTBOX_KIND_TOPUP] = "topup",
  [CT_OUTBOX_KIND_PAYMENT] = "payment",
  [CT_OUTBOX_KIND_REFUND] = "refund",
  [CT_OUTBOX_KIND_ADJUSTMENT] = "adjustment",
  [CT_OUTBOX_KIND_CARD_ISSUE] = "card_issue",
  [CT_OUTBOX_KIND_CARD_PATCH] = "card_change",
  [CT_OUTBOX_KIND_IMPORT] = "import",
  [CT_OUTBOX_KIND_OTHER] = "other",
  [CT_OUTBOX_KIND_SHIFT] = "shift",
  [CT_OUTBOX_KIND_CARD_REPLACE] = "card_replace",
};

static const char * const state_names[] = {
  [CT_OUTBOX_STATE_PENDING] = "pending",
  [CT_OUTBOX_STATE_NEEDS_ATTENTION] = "needs_attention",
  [CT_OUTBOX_STATE_RESOLVED] = "resolved",
};

const char *
ct_outbox_kind_to_string (CtOutboxKind kind)
{
  if ((guint) kind < G_N_ELEMENTS (kind_names))
    return kind_names[kind];
  return "other";
}

gboolean
ct_outbox_kind_is_online_only (CtOutboxKind kind)
{
  return kind == CT_OUTBOX_KIND_REFUND || kind == CT_OUTBOX_KIND_ADJUSTMENT
         || kind == CT_OUTBOX_KIND_CARD_ISSUE || kind == CT_OUTBOX_KIND_CARD_PATCH
         || kind == CT_OUTBOX_KIND_CARD_REPLACE;
}

static CtOutboxKind
kind_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (text != NULL && strcmp (kind_names[i], text) == 0)
      return i;
  return CT_OUTBOX_KIND_OTHER;
}

const char *
ct_outbox_state_to_string (CtOutboxState state)
{
  if ((guint) state < G_N_ELEMENTS (state_names))
    return state_names[state];
  return "pending";
}

/**
 * ct_outbox_entry_balance_change:
 * @out_delta: (out): what the entry will do to its card's balance once the
 *   service books it, as the customer was told
 *
 * A top-up adds its amount and the bonus the customer was shown; a payment
 * takes its amount; an adjustment its signed amount. Other entries (a
 * refund, whose amount the service knows) say nothing.
 *
 * Returns: %TRUE when the change is known.
 */
gboolean
ct_outbox_entry_balance_change (const CtOutboxEntry *entry,
                                int64_t             *out_delta)
{
  g_return_val_if_fail (entry != NULL && out_delta != NULL, FALSE);

  switch (entry->kind)
    {
    case CT_OUTBOX_KIND_TOPUP:
      {
        int64_t bonus = 0;

        if (entry->body != NULL)
          {
            gsize len;
            const char *data = g_bytes_get_data (entry->body, &len);
            g_autofree char *text = g_strndup (data, len);
            json_object *obj = json_tokener_parse (text);
            json_object *expect, *value;

            if (obj != NULL && json_object_object_get_ex (obj, "expect", &expect)
                && json_object_object_get_ex (expect, "bonus", &value)
                && json_object_is_type (value, json_type_int))
              bonus = json_object_get_int64 (value);
            json_object_put (obj);
          }
        return ct_money_add (entry->amount, bonus, out_delta, NULL);
      }
    case CT_OUTBOX_KIND_PAYMENT:
      *out_delta = -entry->amount;
      return TRUE;
    case CT_OUTBOX_KIND_ADJUSTMENT:
      *out_delta = entry->amount;
      return TRUE;
    case CT_OUTBOX_KIND_REFUND:
    case CT_OUTBOX_KIND_CARD_ISSUE:
    case CT_OUTBOX_KIND_CARD_PATCH:
    case CT_OUTBOX_KIND_CARD_REPLACE:
    case CT_OUTBOX_KIND_IMPORT:
    case CT_OUTBOX_KIND_OTHER:
    case CT_OUTBOX_KIND_SHIFT:
    default:
      return FALSE;
    }
}

CtOutboxEntry *
ct_outbox_entry_copy (const CtOutboxEntry *entry)
{
  CtOutboxEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = g_memdup2 (entry, sizeof *entry);
  copy->idempotency_key = g_strdup (entry->idempotency_key);
  copy->method = g_strdup (entry->method);
  copy->path = g_strdup (entry->path);
  copy->body = entry->body ? g_bytes_ref (entry->body) : NULL;
  copy->service_url = g_strdup (entry->service_url);
  copy->till = g_strdup (entry->till);
  copy->card_no = g_strdup (entry->card_no);
  copy->order_ref = g_strdup (entry->order_ref);
  copy->reason = g_strdup (entry->reason);
  copy->last_answer = entry->last_answer ? g_bytes_ref (entry->last_answer) : NULL;
  return copy;
}

void
ct_outbox_entry_free (CtOutboxEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->idempotency_key);
  g_free (entry->method);
  g_free (entry->path);
  g_clear_pointer (&entry->body, g_bytes_unref);
  g_free (entry->service_url);
  g_free (entry->till);
  g_free (entry->card_no);
  g_free (entry->order_ref);
  g_free (entry->reason);
  g_clear_pointer (&entry->last_answer, g_bytes_unref);
  g_free (entry);
}

G_DEFINE_BOXED_TYPE (CtOutboxEntry, ct_outbox_entry, ct_outbox_entry_copy, ct_outbox_entry_free)

static gboolean
db_error (sqlite3     *db,
          int          rc,
          const char  *what,
          GError     **error)
{
  const char *hint = "";

  if (rc == SQLITE_FULL)
    hint = " (the disk is full)";
  else if ((rc & 0xff) == SQLITE_IOERR)
    hint = " (the disk may be full or failing)";
  else if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
    hint = " (check the data directory's permissions)";
  g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL,
               "Outbox database: %s failed: %s%s", what,
               db ? sqlite3_errmsg (db) : sqlite3_errstr (rc), hint);
  return FALSE;
}

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS outbox ("
  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
  " idem_key TEXT NOT NULL UNIQUE,"
  " method TEXT NOT NULL,"
  " path TEXT NOT NULL,"
  " body BLOB NOT NULL,"
  " service_url TEXT NOT NULL,"
  " till TEXT NOT NULL,"
  " card_no TEXT,"
  " kind TEXT NOT NULL,"
  " amount INTEGER NOT NULL,"
  " order_ref TEXT,"
  " created_at INTEGER NOT NULL,"
  " attempts INTEGER NOT NULL DEFAULT 0,"
  " next_attempt_at INTEGER NOT NULL,"
  " state TEXT NOT NULL,"
  " reason TEXT,"
  " maybe_sent INTEGER NOT NULL DEFAULT 0,"
  " reported INTEGER NOT NULL DEFAULT 0,"
  " last_status INTEGER NOT NULL DEFAULT 0,"
  " last_answer BLOB);"
  "CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, card_no, id);"
  /* Every send first looks for pending entries past the replay horizon
   * (ct_outbox_expire): without it, a scan of the whole outbox. */
  "CREATE INDEX IF NOT EXISTS outbox_pending_age ON outbox (state, created_at);";

gboolean
ct_sqlite_file_make_private (const char  *path,
                             GError     **error)
{
  static const char * const suffixes[] = { "", "-wal", "-shm", "-journal" };
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0 || fchmod (fd, 0600) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL, "Cannot open %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);
  /* SQLite gives its side files the mode of the database; older ones
   * created before are tightened too. */
  for (guint i = 1; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *side = g_strconcat (path, suffixes[i], NULL);

      if (chmod (side, 0600) != 0 && errno != ENOENT)
        g_debug ("cannot chmod %s: %s", side, g_strerror (errno));
    }
  return TRUE;
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

CtOutbox *
ct_outbox_open (const char  *path,
                GError     **error)
{
  sqlite3 *db = NULL;
  int rc;
  char *msg = NULL;
  CtOutbox *self;

  g_return_val_if_fail (path != NULL, NULL);

  /* It holds manager PINs while their requests are pending. */
  if (!ct_sqlite_file_make_private (path, error))
    return NULL;
  rc = sqlite3_open_v2 (path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      db_error (db, rc, "open", error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 10000);
  /* The last connection to close leaves the log to the next one rather
   * than checkpointing it: that cost every short-lived cardtill-cli two
   * fdatasyncs at exit, and the next add a new log file (a directory sync
   * and a synced log header). SQLite's automatic checkpoint still bounds
   * the log, and restarting it after one overwrites old frames, as in a
   * running app. */
  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  /* Durability where it matters: adding an entry commits with FULL (the
   * WAL is synced before the request may go out). Every other change
   * (attempt counters, removal, state) commits with NORMAL: losing one to a
   * power cut only means the entry is replayed with its key and the service
   * answers the stored result again; the next FULL commit syncs them too. */
  /* secure_delete: a settled manager request's PIN does not linger in
   * free pages. */
  rc = sqlite3_exec (db,
                     "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=NORMAL;"
                     "PRAGMA secure_delete=ON;",
                     NULL, NULL, &msg);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (db, schema, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL,
                   "Outbox database %s: %s%s; nothing was sent", path,
                   msg ? msg : sqlite3_errstr (rc),
                   rc == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR
                   ? " (the disk may be full or failing)" : "");
      sqlite3_free (msg);
      sqlite3_close (db);
      return NULL;
    }

  self = g_new0 (CtOutbox, 1);
  g_mutex_init (&self->lock);
  self->db = db;
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_statement);
  return self;
}

void
ct_outbox_close (CtOutbox *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->statements);
  sqlite3_close (self->db);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* The statement for @sql, prepared the first time and kept: the outbox runs
 * the same few statements over and over, and preparing one cost about as
 * much as running it (a quarter of the CPU of a top-up queued offline).
 * Caller holds the lock and hands it back with done_locked(). */
static int
prepare_locked (CtOutbox      *self,
                const char    *sql,
                sqlite3_stmt **out)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc = SQLITE_OK;

  if (stmt == NULL)
    {
      rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
      if (rc == SQLITE_OK)
        g_hash_table_insert (self->statements, g_strdup (sql), stmt);
    }
  *out = stmt;
  return rc;
}

/* Ready for the next use: no open read, no value left bound (a PIN). */
static void
done_locked (sqlite3_stmt *stmt)
{
  if (stmt == NULL)
    return;
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

static void
pragma_locked (CtOutbox   *self,
               const char *sql)
{
  sqlite3_stmt *stmt = NULL;

  if (prepare_locked (self, sql, &stmt) == SQLITE_OK)
    sqlite3_step (stmt);
  done_locked (stmt);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           i,
           const char   *text)
{
  if (text)
    sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, i);
}

static void
bind_bytes (sqlite3_stmt *stmt,
            int           i,
            GBytes       *bytes)
{
  gsize len;
  const void *data;

  if (bytes == NULL)
    {
      sqlite3_bind_null (stmt, i);
      return;
    }
  data = g_bytes_get_data (bytes, &len);
  sqlite3_bind_blob64 (stmt, i, data ? data : "", len, SQLITE_TRANSIENT);
}

gboolean
ct_outbox_add (CtOutbox       *self,
               CtOutboxEntry  *entry,
               GError        **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (self != NULL && entry != NULL, FALSE);
  g_return_val_if_fail (entry->idempotency_key != NULL && entry->body != NULL, FALSE);

  g_mutex_lock (&self->lock);
  pragma_locked (self, "PRAGMA synchronous=FULL");
  rc = prepare_locked (self,
                           "INSERT INTO outbox (idem_key, method, path, body, service_url, till,"
                           " card_no, kind, amount, order_ref, created_at, attempts,"
                           " next_attempt_at, state, reason, maybe_sent, reported)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &stmt);
  if (rc == SQLITE_OK)
    {
      bind_text (stmt, 1, entry->idempotency_key);
      bind_text (stmt, 2, entry->method);
      bind_text (stmt, 3, entry->path);
      bind_bytes (stmt, 4, entry->body);
      bind_text (stmt, 5, entry->service_url ? entry->service_url : "");
      bind_text (stmt, 6, entry->till ? entry->till : "");
      bind_text (stmt, 7, entry->card_no);
      bind_text (stmt, 8, ct_outbox_kind_to_string (entry->kind));
      sqlite3_bind_int64 (stmt, 9, entry->amount);
      bind_text (stmt, 10, entry->order_ref);
      sqlite3_bind_int64 (stmt, 11, entry->created_at);
      sqlite3_bind_int (stmt, 12, entry->attempts);
      sqlite3_bind_int64 (stmt, 13, entry->next_attempt_at);
      bind_text (stmt, 14, ct_outbox_state_to_string (entry->state));
      bind_text (stmt, 15, entry->reason);
      sqlite3_bind_int (stmt, 16, entry->maybe_sent);
      sqlite3_bind_int (stmt, 17, entry->reported_queued);
      rc = sqlite3_step (stmt);
    }
  if (rc == SQLITE_DONE)
    {
      entry->id = sqlite3_last_insert_rowid (self->db);
      if ((guint) entry->state < G_N_ELEMENTS (self->counts))
        self->counts[entry->state]++;
    }
  else
    db_error (self->db, rc, "saving a request (nothing was sent)", error);
  done_locked (stmt);
  pragma_locked (self, "PRAGMA synchronous=NORMAL");
  g_mutex_unlock (&self->lock);
  return rc == SQLITE_DONE;
}

/* Runs one statement binding int64 params (NULL-terminated list of
 * values given as count). Caller holds the lock. */
static gboolean
exec_locked (CtOutbox *self, const char *sql, const char *what, GError **error,
             int n, ...)
{
  sqlite3_stmt *stmt = NULL;
  int rc;
  va_list args;

  rc = prepare_locked (self, sql, &stmt);
  if (rc == SQLITE_OK)
    {
      va_start (args, n);
      for (int i = 1; i <= n; i++)
        sqlite3_bind_int64 (stmt, i, va_arg (args, gint64));
      va_end (args);
      rc = sqlite3_step (stmt);
    }
  done_locked (stmt);
  if (rc != SQLITE_DONE)
    return db_error (self->db, rc, what, error);
  return TRUE;
}

gboolean
ct_outbox_remove (CtOutbox  *self,
                  gint64     id,
                  GError   **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  /* NORMAL (see ct_outbox_open): a lost removal means one replay. */
  ok = exec_locked (self, "DELETE FROM outbox WHERE id = ?", "removing a settled request",
                    error, 1, id);
  self->counts_valid = FALSE;
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
ct_outbox_remove_many (CtOutbox      *self,
                       const gint64  *ids,
                       guint          n_ids,
                       GError       **error)
{
  gboolean ok;

  g_return_val_if_fail (self != NULL && (ids != NULL || n_ids == 0), FALSE);

  if (n_ids == 0)
    return TRUE;
  g_mutex_lock (&self->lock);
  /* One commit for all of them, NORMAL like a single removal: the pages
   * the removals share (the table's, the indexes') are written to the log
   * once instead of once per entry. */
  ok = exec_locked (self, "BEGIN IMMEDIATE", "removing settled requests", error, 0);
  for (guint i = 0; ok && i < n_ids; i++)
    ok = exec_locked (self, "DELETE FROM outbox WHERE id = ?", "removing a settled request",
                      error, 1, ids[i]);
  if (ok)
    ok = exec_locked (self, "COMMIT", "removing settled requests", error, 0);
  if (!ok && !sqlite3_get_autocommit (self->db))
    exec_locked (self, "ROLLBACK", "removing settled requests", NULL, 0);
  self->counts_valid = FALSE;
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
ct_outbox_remove_unsent (CtOutbox  *self,
                         gint64     id,
                         GError   **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  /* FULL: the customer is told this request was not done. A removal lost
   * to a power cut would bring it back and send it later, charging for
   * something that was refused at the till. */
  pragma_locked (self, "PRAGMA synchronous=FULL");
  ok = exec_locked (self, "DELETE FROM outbox WHERE id = ?", "removing a request that was not sent",
                    error, 1, id);
  self->counts_valid = FALSE;
  pragma_locked (self, "PRAGMA synchronous=NORMAL");
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
ct_outbox_mark_reported (CtOutbox  *self,
                         gint64     id,
                         GError   **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = exec_locked (self, "UPDATE outbox SET reported = 1 WHERE id = ?", "marking a request",
                    error, 1, id);
  g_mutex_unlock (&self->lock);
  return ok;
}

/* An attempt that did not settle entry @id; with @reported, the till told
 * the user it is queued, in the same commit. */
static gboolean
record_attempt (CtOutbox    *self,
                gint64       id,
                gboolean     maybe_sent,
                gint64       next_attempt_at,
                int          last_status,
                const char  *reason,
                gboolean     reported,
                GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_mutex_lock (&self->lock);
  rc = prepare_locked (self,
                       reported
                       ? "UPDATE outbox SET attempts = attempts + 1,"
                         " maybe_sent = max(maybe_sent, ?), next_attempt_at = ?,"
                         " last_status = ?, reason = ?, reported = 1 WHERE id = ?"
                       : "UPDATE outbox SET attempts = attempts + 1,"
                         " maybe_sent = max(maybe_sent, ?), next_attempt_at = ?,"
                         " last_status = ?, reason = ? WHERE id = ?", &stmt);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_int (stmt, 1, maybe_sent ? 1 : 0);
      sqlite3_bind_int64 (stmt, 2, next_attempt_at);
      sqlite3_bind_int (stmt, 3, last_status);
      bind_text (stmt, 4, reason);
      sqlite3_bind_int64 (stmt, 5, id);
      rc = sqlite3_step (stmt);
    }
  done_locked (stmt);
  if (rc != SQLITE_DONE)
    db_error (self->db, rc, "recording an attempt", error);
  g_mutex_unlock (&self->lock);
  return rc == SQLITE_DONE;
}

gboolean
ct_outbox_record_attempt (CtOutbox    *self,
                          gint64       id,
                          gboolean     maybe_sent,
                          gint64       next_attempt_at,
                          int          last_status,
                          const char  *reason,
                          GError     **error)
{
  return record_attempt (self, id, maybe_sent, next_attempt_at, last_status, reason, FALSE,
                         error);
}

gboolean
ct_outbox_record_queued (CtOutbox    *self,
                         gint64       id,
                         gint64       next_attempt_at,
                         const char  *reason,
                         GError     **error)
{
  /* ct_outbox_record_attempt() and ct_outbox_mark_reported() in one
   * commit: a request queued offline is both. */
  return record_attempt (self, id, FALSE, next_attempt_at, 0, reason, TRUE, error);
}

gboolean
ct_outbox_set_state (CtOutbox       *self,
                     gint64          id,
                     CtOutboxState   state,
                     int             last_status,
                     GBytes         *last_answer,
                     const char     *reason,
                     GError        **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_mutex_lock (&self->lock);
  /* A manager's decision must not come back after a power cut (a re-sent
   * intent offered again could be sent twice): durable. */
  if (state == CT_OUTBOX_STATE_RESOLVED)
    pragma_locked (self, "PRAGMA synchronous=FULL");
  /* A resolved entry is a record, never sent again: its body (which may
   * hold a manager's PIN) is dropped. */
  rc = prepare_locked (self,
                           state == CT_OUTBOX_STATE_RESOLVED
                           ? "UPDATE outbox SET state = ?, last_status = ?,"
                             " last_answer = coalesce(?, last_answer), reason = ?, body = X''"
                             " WHERE id = ?"
                           : "UPDATE outbox SET state = ?, last_status = ?,"
                             " last_answer = coalesce(?, last_answer), reason = ? WHERE id = ?", &stmt);
  if (rc == SQLITE_OK)
    {
      bind_text (stmt, 1, ct_outbox_state_to_string (state));
      sqlite3_bind_int (stmt, 2, last_status);
      bind_bytes (stmt, 3, last_answer);
      bind_text (stmt, 4, reason);
      sqlite3_bind_int64 (stmt, 5, id);
      rc = sqlite3_step (stmt);
    }
  done_locked (stmt);
  self->counts_valid = FALSE;
  if (state == CT_OUTBOX_STATE_RESOLVED)
    pragma_locked (self, "PRAGMA synchronous=NORMAL");
  if (rc != SQLITE_DONE)
    db_error (self->db, rc, "changing a request's state", error);
  g_mutex_unlock (&self->lock);
  return rc == SQLITE_DONE;
}

#define ENTRY_COLUMNS \
  "id, idem_key, method, path, body, service_url, till, card_no, kind, amount, order_ref," \
  " created_at, attempts, next_attempt_at, state, reason, maybe_sent, reported, last_status," \
  " last_answer"

static char *
column_text (sqlite3_stmt *stmt,
             int           i)
{
  const unsigned char *text = sqlite3_column_text (stmt, i);

  return text ? g_strdup ((const char *) text) : NULL;
}

static GBytes *
column_bytes (sqlite3_stmt *stmt,
              int           i)
{
  const void *data;
  int len;

  if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
    return NULL;
  data = sqlite3_column_blob (stmt, i);
  len = sqlite3_column_bytes (stmt, i);
  return g_bytes_new (data, len);
}

static CtOutboxEntry *
entry_from_row (sqlite3_stmt *stmt)
{
  CtOutboxEntry *e = g_new0 (CtOutboxEntry, 1);
  g_autofree char *kind = NULL;
  g_autofree char *state = NULL;

  e->id = sqlite3_column_int64 (stmt, 0);
  e->idempotency_key = column_text (stmt, 1);
  e->method = column_text (stmt, 2);
  e->path = column_text (stmt, 3);
  e->body = column_bytes (stmt, 4);
  if (e->body == NULL)
    e->body = g_bytes_new (NULL, 0);
  e->service_url = column_text (stmt, 5);
  e->till = column_text (stmt, 6);
  e->card_no = column_text (stmt, 7);
  kind = column_text (stmt, 8);
  e->kind = kind_from_string (kind);
  e->amount = sqlite3_column_int64 (stmt, 9);
  e->order_ref = column_text (stmt, 10);
  e->created_at = sqlite3_column_int64 (stmt, 11);
  e->attempts = sqlite3_column_int (stmt, 12);
  e->next_attempt_at = sqlite3_column_int64 (stmt, 13);
  state = column_text (stmt, 14);
  e->state = CT_OUTBOX_STATE_PENDING;
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (state && strcmp (state, state_names[i]) == 0)
      e->state = i;
  e->reason = column_text (stmt, 15);
  e->maybe_sent = sqlite3_column_int (stmt, 16) != 0;
  e->reported_queued = sqlite3_column_int (stmt, 17) != 0;
  e->last_status = sqlite3_column_int (stmt, 18);
  e->last_answer = column_bytes (stmt, 19);
  return e;
}

/* Runs a query returning entries. @text_param (nullable) is bound first,
 * then @n int64 params. */
static GPtrArray *
query_entries (CtOutbox *self, const char *sql, const char *text_param, GError **error,
               int n, ...)
{
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_outbox_entry_free);
  int rc;
  int first = 1;
  va_list args;

  g_mutex_lock (&self->lock);
  rc = prepare_locked (self, sql, &stmt);
  if (rc == SQLITE_OK)
    {
      if (text_param != NULL)
        bind_text (stmt, first++, text_param);
      va_start (args, n);
      for (int i = 0; i < n; i++)
        sqlite3_bind_int64 (stmt, first + i, va_arg (args, gint64));
      va_end (args);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (out, entry_from_row (stmt));
    }
  done_locked (stmt);
  if (rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "reading requests", error);
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  g_mutex_unlock (&self->lock);
  return g_steal_pointer (&out);
}

CtOutboxEntry *
ct_outbox_get (CtOutbox  *self,
               gint64     id,
               GError   **error)
{
  g_autoptr(GPtrArray) list = query_entries (self, "SELECT " ENTRY_COLUMNS " FROM outbox WHERE id = ?",
                                             NULL, error, 1, id);

  if (list == NULL)
    return NULL;
  if (list->len == 0)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND,
                   "No outbox entry %" G_GINT64_FORMAT, id);
      return NULL;
    }
  return ct_outbox_entry_copy (g_ptr_array_index (list, 0));
}

GPtrArray *
ct_outbox_list (CtOutbox       *self,
                CtOutboxState   state,
                GError        **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  return query_entries (self, "SELECT " ENTRY_COLUMNS " FROM outbox WHERE state = ? ORDER BY id",
                        ct_outbox_state_to_string (state), error, 0);
}

GPtrArray *
ct_outbox_list_due (CtOutbox  *self,
                    gint64     now,
                    GError   **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  /* The oldest pending entry of each card at each service is the only one
   * of that card that may go; it must also be due. Card-less entries go on
   * their own. Requests for another service (the till was pointed
   * elsewhere) are another ledger's order and never hold these back. A
   * shift's opening or closing waits for everything taken before it and
   * holds back everything taken after it, so the service books each sale
   * into the shift it was taken in. */
  return query_entries (self,
                        "SELECT " ENTRY_COLUMNS " FROM outbox o WHERE state = 'pending'"
                        " AND next_attempt_at <= ?"
                        " AND (card_no IS NULL OR id = (SELECT min(id) FROM outbox p"
                        "  WHERE p.state = 'pending' AND p.card_no = o.card_no"
                        "  AND p.service_url IS o.service_url))"
                        " AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.state = 'pending'"
                        "  AND (s.kind = 'shift' OR o.kind = 'shift') AND s.id < o.id"
                        "  AND s.service_url IS o.service_url)"
                        " ORDER BY id",
                        NULL, error, 1, now);
}

GPtrArray *
ct_outbox_list_card_before (CtOutbox    *self,
                            const char  *card_no,
                            gint64       before_id,
                            GError     **error)
{
  g_return_val_if_fail (self != NULL && card_no != NULL, NULL);

  return query_entries (self,
                        "SELECT " ENTRY_COLUMNS " FROM outbox WHERE state = 'pending'"
                        " AND card_no = ?1 AND id < ?2"
                        " AND service_url IS (SELECT service_url FROM outbox WHERE id = ?2)"
                        " ORDER BY id",
                        card_no, error, 1, before_id);
}

CtOutboxEntry *
ct_outbox_first_card_before (CtOutbox    *self,
                             const char  *card_no,
                             gint64       before_id,
                             GError     **error)
{
  g_autoptr(GPtrArray) list = NULL;

  g_return_val_if_fail (self != NULL && card_no != NULL, NULL);

  list = query_entries (self,
                        "SELECT " ENTRY_COLUMNS " FROM outbox WHERE state = 'pending'"
                        " AND card_no = ?1 AND id < ?2"
                        " AND service_url IS (SELECT service_url FROM outbox WHERE id = ?2)"
                        " ORDER BY id LIMIT 1",
                        card_no, error, 1, before_id);
  if (list == NULL || list->len == 0)
    return NULL;
  return ct_outbox_entry_copy (g_ptr_array_index (list, 0));
}

CtOutboxEntry *
ct_outbox_get_by_key (CtOutbox    *self,
                      const char  *idempotency_key,
                      GError     **error)
{
  g_autoptr(GPtrArray) list = NULL;

  g_return_val_if_fail (self != NULL && idempotency_key != NULL, NULL);

  list = query_entries (self, "SELECT " ENTRY_COLUMNS " FROM outbox WHERE idem_key = ?",
                        idempotency_key, error, 0);
  if (list == NULL || list->len == 0)
    return NULL;
  return ct_outbox_entry_copy (g_ptr_array_index (list, 0));
}

CtOutboxEntry *
ct_outbox_first_pending (CtOutbox    *self,
                         const char  *card_no,
                         GError     **error)
{
  g_autoptr(GPtrArray) list = NULL;

  g_return_val_if_fail (self != NULL && card_no != NULL, NULL);

  list = query_entries (self,
                        "SELECT " ENTRY_COLUMNS " FROM outbox WHERE state = 'pending'"
                        " AND card_no = ? ORDER BY id LIMIT 1",
                        card_no, error, 0);
  if (list == NULL || list->len == 0)
    return NULL;
  return ct_outbox_entry_copy (g_ptr_array_index (list, 0));
}

static gboolean
query_int64 (CtOutbox    *self,
             const char  *sql,
             const char  *text_param,
             int          n_ints,
             gint64       a,
             gint64      *out,
             GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_mutex_lock (&self->lock);
  rc = prepare_locked (self, sql, &stmt);
  if (rc == SQLITE_OK)
    {
      int i = 1;

      if (text_param != NULL)
        bind_text (stmt, i++, text_param);
      if (n_ints > 0)
        sqlite3_bind_int64 (stmt, i, a);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_DONE;
        }
    }
  done_locked (stmt);
  if (rc != SQLITE_DONE)
    db_error (self->db, rc, "counting requests", error);
  g_mutex_unlock (&self->lock);
  return rc == SQLITE_DONE;
}

guint
ct_outbox_count_before (CtOutbox    *self,
                        const char  *card_no,
                        gint64       before_id,
                        GError     **error)
{
  gint64 n = 0;

  if (card_no == NULL)
    return 0;
  if (!query_int64 (self, "SELECT count(*) FROM outbox WHERE state = 'pending' AND card_no = ?1"
                    " AND id < ?2 AND service_url IS (SELECT service_url FROM outbox WHERE id = ?2)",
                    card_no, 1, before_id, &n, error))
    return 0;
  return (guint) n;
}

gboolean
ct_outbox_pending_payments (CtOutbox    *self,
                            const char  *card_no,
                            int64_t     *out_sum,
                            GError     **error)
{
  gint64 sum = 0;

  if (!query_int64 (self, "SELECT coalesce(sum(amount), 0) FROM outbox WHERE state = 'pending'"
                    " AND kind = 'payment' AND card_no = ?", card_no, 0, 0, &sum, error))
    return FALSE;
  *out_sum = sum;
  return TRUE;
}

/* PRAGMA data_version: changes when another connection committed. */
static gboolean
data_version_locked (CtOutbox *self,
                     gint64   *out)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (prepare_locked (self, "PRAGMA data_version", &stmt) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    {
      *out = sqlite3_column_int64 (stmt, 0);
      ok = TRUE;
    }
  done_locked (stmt);
  return ok;
}

guint
ct_outbox_count (CtOutbox      *self,
                 CtOutboxState  state)
{
  sqlite3_stmt *stmt = NULL;
  gint64 version = 0;
  guint counts[G_N_ELEMENTS (self->counts)] = { 0 };
  guint n = 0;
  int rc;

  g_return_val_if_fail (self != NULL, 0);
  if ((guint) state >= G_N_ELEMENTS (self->counts))
    return 0;

  g_mutex_lock (&self->lock);
  if (!data_version_locked (self, &version))
    self->counts_valid = FALSE;
  else if (self->counts_valid && version == self->counts_version)
    {
      n = self->counts[state];
      g_mutex_unlock (&self->lock);
      return n;
    }
  /* One walk of the index for every state at once. */
  rc = prepare_locked (self, "SELECT state, count(*) FROM outbox GROUP BY state", &stmt);
  if (rc == SQLITE_OK)
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        const char *text = (const char *) sqlite3_column_text (stmt, 0);

        for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
          if (text != NULL && strcmp (text, state_names[i]) == 0)
            counts[i] = (guint) sqlite3_column_int64 (stmt, 1);
      }
  done_locked (stmt);
  if (rc == SQLITE_DONE)
    {
      memcpy (self->counts, counts, sizeof counts);
      self->counts_version = version;
      self->counts_valid = TRUE;
      n = counts[state];
    }
  else
    {
      db_error (self->db, rc, "counting requests", NULL);
      self->counts_valid = FALSE;
    }
  g_mutex_unlock (&self->lock);
  return n;
}

guint
ct_outbox_expire (CtOutbox  *self,
                  gint64     cutoff,
                  GError   **error)
{
  gboolean ok;
  guint n;

  g_mutex_lock (&self->lock);
  ok = exec_locked (self,
                    "UPDATE outbox SET state = 'needs_attention',"
                    " reason = 'too old to replay on its own: check the card''s history first'"
                    " WHERE state = 'pending' AND created_at < ?",
                    "expiring old requests", error, 1, cutoff);
  n = ok ? (guint) sqlite3_changes (self->db) : 0;
  if (n > 0)
    self->counts_valid = FALSE;
  g_mutex_unlock (&self->lock);
  return n;
}

gint64
ct_outbox_backoff (int    attempts,
                   GRand *rand)
{
  gint64 delay = G_USEC_PER_SEC / 2;
  gint64 cap = 60 * G_USEC_PER_SEC;

  for (int i = 1; i < attempts && delay < cap; i++)
    delay *= 2;
  delay = MIN (delay, cap);
  /* Jitter spreads the tills of a store that went offline together. */
  if (rand != NULL)
    return delay / 2 + g_rand_int_range (rand, 0, (gint32) (delay / 2) + 1);
  return delay / 2 + g_random_int_range (0, (gint32) (delay / 2) + 1);
}
