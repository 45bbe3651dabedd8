/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-store"
#include "config.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>
#include <string.h>

#include "ct-money.h"
#include "ct-sqlite-pcache.h"
#include "ct-sqlite-walbuf.h"
#include "ct-store-private.h"
#include "ct-store.h"

/* The SQLite store: one writer connection (the committer thread, or the
 * admin command line) and a pool of read connections for the worker
 * threads. WAL with synchronous=FULL, so a returned commit is on disk. */

#define SCHEMA_VERSION 11

/* The merchant a statement acts inside is always its parameter ?99
 * (bind_merchant()), whatever the other parameters are. */
#define MERCHANT_PARAM 99

typedef struct
{
  sqlite3    *db;
  GHashTable *stmts; /* sql text -> sqlite3_stmt* */
} Conn;

typedef struct _CtSqliteStore CtSqliteStore;

struct _CtSqliteStore
{
  CtStore      parent;
  char        *path;
  int          serve_lock;
  GThread     *checkpointer;
  GMutex       checkpoint_lock;
  GCond        checkpoint_cond;
  gboolean     checkpoint_stop;
  Conn        *writer;
  GAsyncQueue *readers;
  guint        n_readers;
  GThread     *tx_thread;   /* the thread inside a write transaction */
  /* Held from begin to commit or rollback: the committer and the wallet
   * worker take turns on the one writer connection. */
  GMutex       write_lock;
  GMutex       claims_lock;
  GHashTable  *claims;
  gint         till_changes; /* tills changed through this store's writer */
  /* The levels and the wallet connectors read inside the write transaction
   * under way, by merchant (int64_t -> GPtrArray), forgotten when it ends:
   * every payment of a group reads both. Only the admin commands change
   * them, on this writer between transactions (or through these store
   * calls, which forget the lists) or in another process, which cannot
   * commit while this writer holds its transaction (BEGIN IMMEDIATE). */
  GHashTable  *tx_levels;
  GHashTable  *tx_connectors;
};

static void sqlite_free (CtStore *base);
static const CtStoreBackend sqlite_backend;

static void
sqlite_store_destroy (CtSqliteStore *store)
{
  sqlite_free (&store->parent);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtSqliteStore, sqlite_store_destroy)

/* Databases made before imports kept batch totals get the table when
 * they are opened. */
#define IMPORT_BATCHES_SQL \
  "CREATE TABLE IF NOT EXISTS import_batches (batch_id TEXT PRIMARY KEY," \
  "  rows_accepted INTEGER NOT NULL, rows_rejected INTEGER NOT NULL," \
  "  total_balance INTEGER NOT NULL, total_points INTEGER NOT NULL," \
  "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID"

/* What is known about the PINs given for each manager id, and the audit
 * log of manager actions and refused PINs; made when a database is opened,
 * so databases from before them get them. */
#define MANAGER_GUARD_SQL \
  "CREATE TABLE IF NOT EXISTS pin_guard (manager_id TEXT PRIMARY KEY," \
  "  failures INTEGER NOT NULL DEFAULT 0, lockouts INTEGER NOT NULL DEFAULT 0," \
  "  last_failure_at INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0," \
  "  pin_short INTEGER NOT NULL DEFAULT -1) WITHOUT ROWID;" \
  "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL," \
  "  store TEXT, till TEXT, manager TEXT, action TEXT NOT NULL, card_no TEXT, detail TEXT);" \
  "CREATE INDEX IF NOT EXISTS audit_time ON audit (created_at)"

/* Wallet connectors, their outbox and the wallet's card numbers; made when
 * a database is opened, so databases from before connectors get them. A
 * private key is a path here, never the key. */
#define WALLET_SQL \
  "CREATE TABLE IF NOT EXISTS wallet_connectors (id INTEGER PRIMARY KEY," \
  "  merchant TEXT NOT NULL, kind TEXT NOT NULL, app_id TEXT NOT NULL, serial_no TEXT," \
  "  private_key TEXT NOT NULL, public_key TEXT NOT NULL, template_id TEXT NOT NULL," \
  "  gateway TEXT NOT NULL, UNIQUE (merchant, kind));" \
  "CREATE TABLE IF NOT EXISTS wallet_outbox (id INTEGER PRIMARY KEY," \
  "  connector_id INTEGER NOT NULL, card_no TEXT NOT NULL, method TEXT NOT NULL," \
  "  request_no TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending'," \
  "  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0, last_error TEXT," \
  "  created_at INTEGER NOT NULL, settled_at INTEGER);" \
  "CREATE INDEX IF NOT EXISTS wallet_outbox_pending ON wallet_outbox (connector_id, card_no, id)" \
  "  WHERE state = 'pending';" \
  "CREATE INDEX IF NOT EXISTS wallet_outbox_settled ON wallet_outbox (connector_id, state, settled_at);" \
  "CREATE TABLE IF NOT EXISTS wallet_cards (connector_id INTEGER NOT NULL, card_no TEXT NOT NULL," \
  "  biz_card_no TEXT NOT NULL, PRIMARY KEY (connector_id, card_no)) WITHOUT ROWID"

/* Loyalty: the member's page link (only the SHA-256 of its token) and the
 * card's payment-code secret, with the last code step that paid; and the
 * points a payment redeemed with the value they paid (for its refund). */
#define LOYALTY_SQL \
  "CREATE TABLE IF NOT EXISTS member_links (card_no TEXT PRIMARY KEY," \
  "  token_hash BLOB NOT NULL UNIQUE, secret BLOB NOT NULL," \
  "  code_step INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL) WITHOUT ROWID;" \
  "CREATE TABLE IF NOT EXISTS redemptions (tx_id INTEGER PRIMARY KEY," \
  "  points INTEGER NOT NULL CHECK (points > 0), value INTEGER NOT NULL CHECK (value > 0))"

/* Tenders, shifts and the till's time of a transaction: databases made
 * before them get the accounts, the table and the columns when they are
 * opened (TX_DAY_COLUMNS_SQL once, when taken_at is missing; a transaction
 * from before belongs to the day it was booked). */
#define SHIFTS_SQL \
  "INSERT OR IGNORE INTO accounts VALUES ('@wechat', 0, 0), ('@alipay', 0, 0)," \
  "  ('@bank_card', 0, 0), ('@other', 0, 0);" \
  "CREATE TABLE IF NOT EXISTS shifts (id INTEGER PRIMARY KEY, store TEXT NOT NULL," \
  "  till TEXT NOT NULL, operator TEXT NOT NULL, float_amount INTEGER NOT NULL," \
  "  opened_at INTEGER NOT NULL, closed_at INTEGER, closed_by TEXT, counted_cash INTEGER);" \
  "CREATE UNIQUE INDEX IF NOT EXISTS shifts_open ON shifts (store, till) WHERE closed_at IS NULL;" \
  "CREATE INDEX IF NOT EXISTS shifts_till ON shifts (store, till, opened_at);" \
  "CREATE INDEX IF NOT EXISTS shifts_day ON shifts (opened_at)"

#define TX_DAY_COLUMNS_SQL \
  "ALTER TABLE transactions ADD COLUMN tender TEXT;" \
  "ALTER TABLE transactions ADD COLUMN shift_id INTEGER;" \
  "ALTER TABLE transactions ADD COLUMN taken_at INTEGER;" \
  "UPDATE transactions SET taken_at = created_at, tender = CASE kind WHEN 'topup' THEN 'cash' END;" \
  "UPDATE transactions SET tender = 'cash' WHERE kind = 'refund'" \
  "  AND refund_of IN (SELECT id FROM transactions WHERE kind = 'topup');" \
  "CREATE INDEX transactions_taken ON transactions (taken_at);" \
  "CREATE INDEX transactions_shift ON transactions (shift_id) WHERE shift_id IS NOT NULL"

/* The cashiers who sign in at the tills; their PIN guards live in
 * pin_guard under "cashier/ID" (ct_store_cashier_guard_id()). */
#define CASHIERS_SQL \
  "CREATE TABLE cashiers (id TEXT PRIMARY KEY, name TEXT NOT NULL, pin_hash TEXT NOT NULL," \
  "  created_at INTEGER NOT NULL) WITHOUT ROWID"

/* Levels by spend: the merchant's levels, each card's spend, and the level
 * benefits a transaction got. */
#define LEVELS_SQL \
  "CREATE TABLE levels (merchant_id INTEGER NOT NULL DEFAULT 1, id TEXT NOT NULL, name TEXT NOT NULL," \
  "  min_spend INTEGER NOT NULL CHECK (min_spend >= 0), points_multiplier_bp INTEGER NOT NULL," \
  "  discount_bp INTEGER NOT NULL, topup_bonus_bp INTEGER NOT NULL," \
  "  PRIMARY KEY (merchant_id, id)) WITHOUT ROWID;" \
  "CREATE TABLE card_spend (merchant_id INTEGER NOT NULL DEFAULT 1, card_no TEXT NOT NULL," \
  "  spend INTEGER NOT NULL CHECK (spend >= 0), PRIMARY KEY (merchant_id, card_no)) WITHOUT ROWID;" \
  "CREATE TABLE tx_benefits (tx_id INTEGER PRIMARY KEY, level TEXT NOT NULL," \
  "  order_amount INTEGER NOT NULL, discount INTEGER NOT NULL," \
  "  points_multiplier_bp INTEGER NOT NULL, topup_bonus INTEGER NOT NULL)"

/* Each level text cards had becomes a level of that id and name given by
 * a manager only (min_spend 0) with no benefits, so the cards keep it;
 * each card's spend is its balance payments less their refunds so far. */
#define LEVELS_MAP_SQL \
  "INSERT INTO levels (id, name, min_spend, points_multiplier_bp, discount_bp, topup_bonus_bp)" \
  "  SELECT DISTINCT level, level, 0, 10000, 0, 0 FROM cards WHERE level IS NOT NULL AND level <> '';" \
  "INSERT INTO card_spend (card_no, spend) SELECT card_no, max (0, sum (-delta)) FROM transactions" \
  "  WHERE kind = 'payment' OR (kind = 'refund' AND refund_of IN" \
  "    (SELECT id FROM transactions WHERE kind = 'payment')) GROUP BY card_no"

/* A card's transactions by the till's day, so a day's history never walks
 * the card's newer transactions; no index on the booking time, which
 * nothing asks by. The stored answers (about 600 bytes each) in a table
 * of their own, appended in order, with a narrow index on the key: in the
 * key's own b-tree six answers filled a page, so the keys' pages split
 * every few writes. Each statement is written to apply to either shape. */
#define INDEXES_BY_DAY_SQL \
  "DROP INDEX IF EXISTS transactions_card;" \
  "DROP INDEX IF EXISTS transactions_time;" \
  "CREATE INDEX IF NOT EXISTS transactions_card_day ON transactions (card_no, taken_at);" \
  "CREATE TABLE idempotency_new (id INTEGER PRIMARY KEY, till_id INTEGER NOT NULL, key TEXT NOT NULL," \
  "  hash BLOB NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);" \
  "INSERT INTO idempotency_new (till_id, key, hash, status, body, created_at)" \
  "  SELECT till_id, key, hash, status, body, created_at FROM idempotency ORDER BY created_at;" \
  "DROP TABLE idempotency;" \
  "ALTER TABLE idempotency_new RENAME TO idempotency;" \
  IDEMPOTENCY_INDEXES_SQL

#define IDEMPOTENCY_INDEXES_SQL \
  "CREATE UNIQUE INDEX idempotency_key ON idempotency (till_id, key);" \
  "CREATE INDEX idempotency_time ON idempotency (created_at)"

static const char schema_sql[] =
  "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE packages (id TEXT PRIMARY KEY, amount INTEGER NOT NULL,"
  "  bonus INTEGER NOT NULL, bonus_bp INTEGER NOT NULL, position INTEGER NOT NULL);"
  "CREATE TABLE tills (id INTEGER PRIMARY KEY, store TEXT NOT NULL, name TEXT NOT NULL,"
  "  token_hash BLOB NOT NULL UNIQUE, revoked INTEGER NOT NULL DEFAULT 0, UNIQUE (store, name));"
  "CREATE TABLE managers (id TEXT PRIMARY KEY, pin_hash TEXT NOT NULL,"
  "  failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL,"
  "  floor_zero INTEGER NOT NULL, CHECK (floor_zero = 0 OR balance >= 0)) WITHOUT ROWID;"
  "INSERT INTO accounts VALUES ('@pool', 0, 1), ('@cash', 0, 0), ('@promo', 0, 0), ('@legacy', 0, 0);"
  "CREATE TABLE cards (card_no TEXT PRIMARY KEY, status TEXT NOT NULL, level TEXT,"
  "  name TEXT, phone TEXT, balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),"
  "  points INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),"
  "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE INDEX cards_phone ON cards (phone);"
  "CREATE TABLE transactions (id INTEGER PRIMARY KEY, card_no TEXT NOT NULL,"
  "  kind TEXT NOT NULL, delta INTEGER NOT NULL, bonus INTEGER NOT NULL,"
  "  balance_after INTEGER NOT NULL, points_delta INTEGER NOT NULL,"
  "  points_after INTEGER NOT NULL, store TEXT NOT NULL, till TEXT NOT NULL,"
  "  operator TEXT, manager TEXT, reason TEXT, order_ref TEXT, refund_of INTEGER UNIQUE,"
  "  created_at INTEGER NOT NULL, tender TEXT, shift_id INTEGER, taken_at INTEGER);"
  "CREATE INDEX transactions_card_day ON transactions (card_no, taken_at);"
  "CREATE INDEX transactions_taken ON transactions (taken_at);"
  "CREATE INDEX transactions_shift ON transactions (shift_id) WHERE shift_id IS NOT NULL;"
  "CREATE TABLE postings (tx_id INTEGER NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL);"
  "CREATE TABLE idempotency (id INTEGER PRIMARY KEY, till_id INTEGER NOT NULL, key TEXT NOT NULL,"
  "  hash BLOB NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);"
  IDEMPOTENCY_INDEXES_SQL ";"
  "CREATE TABLE card_events (id INTEGER PRIMARY KEY, card_no TEXT NOT NULL, kind TEXT NOT NULL,"
  "  detail TEXT, store TEXT NOT NULL, till TEXT NOT NULL, operator TEXT, manager TEXT,"
  "  created_at INTEGER NOT NULL);"
  "CREATE INDEX card_events_card ON card_events (card_no, id);"
  IMPORT_BATCHES_SQL ";"
  MANAGER_GUARD_SQL ";"
  WALLET_SQL ";"
  LOYALTY_SQL ";"
  SHIFTS_SQL ";"
  CASHIERS_SQL ";"
  LEVELS_SQL ";";

/* Version 4 → 5: several merchants. The merchants and their settings get
 * tables of their own; every row of a merchant's cards, accounts, ledger,
 * packages, tills, managers, cashiers, imports, member links, shifts and audit log
 * names its merchant, and whatever was unique in the service is unique
 * within a merchant. The rows there were belong to the first merchant,
 * "main" (the id wallet connectors had by default). */
#define MERCHANTS_SQL \
  "CREATE TABLE merchants (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);" \
  "INSERT INTO merchants VALUES (1, 'main');" \
  "CREATE TABLE merchant_settings (merchant_id INTEGER NOT NULL, key TEXT NOT NULL," \
  "  value TEXT NOT NULL, PRIMARY KEY (merchant_id, key)) WITHOUT ROWID;" \
  "INSERT INTO merchant_settings SELECT 1, key, value FROM settings WHERE key <> 'schema_version';" \
  "DELETE FROM settings WHERE key <> 'schema_version';" \
  "CREATE TABLE packages_2 (merchant_id INTEGER NOT NULL, id TEXT NOT NULL, amount INTEGER NOT NULL," \
  "  bonus INTEGER NOT NULL, bonus_bp INTEGER NOT NULL, position INTEGER NOT NULL," \
  "  PRIMARY KEY (merchant_id, id));" \
  "INSERT INTO packages_2 SELECT 1, id, amount, bonus, bonus_bp, position FROM packages;" \
  "DROP TABLE packages; ALTER TABLE packages_2 RENAME TO packages;" \
  "CREATE TABLE tills_2 (id INTEGER PRIMARY KEY, merchant_id INTEGER NOT NULL, store TEXT NOT NULL," \
  "  name TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE, revoked INTEGER NOT NULL DEFAULT 0," \
  "  UNIQUE (merchant_id, store, name));" \
  "INSERT INTO tills_2 SELECT id, 1, store, name, token_hash, revoked FROM tills;" \
  "DROP TABLE tills; ALTER TABLE tills_2 RENAME TO tills;" \
  "CREATE TABLE managers_2 (merchant_id INTEGER NOT NULL, id TEXT NOT NULL, pin_hash TEXT NOT NULL," \
  "  failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0," \
  "  PRIMARY KEY (merchant_id, id));" \
  "INSERT INTO managers_2 SELECT 1, id, pin_hash, failures, locked_until FROM managers;" \
  "DROP TABLE managers; ALTER TABLE managers_2 RENAME TO managers;" \
  "CREATE TABLE cashiers_2 (merchant_id INTEGER NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL," \
  "  pin_hash TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (merchant_id, id)) WITHOUT ROWID;" \
  "INSERT INTO cashiers_2 SELECT 1, id, name, pin_hash, created_at FROM cashiers;" \
  "DROP TABLE cashiers; ALTER TABLE cashiers_2 RENAME TO cashiers;" \
  "CREATE TABLE accounts_2 (merchant_id INTEGER NOT NULL, name TEXT NOT NULL, balance INTEGER NOT NULL," \
  "  floor_zero INTEGER NOT NULL, CHECK (floor_zero = 0 OR balance >= 0)," \
  "  PRIMARY KEY (merchant_id, name)) WITHOUT ROWID;" \
  "INSERT INTO accounts_2 SELECT 1, name, balance, floor_zero FROM accounts;" \
  "DROP TABLE accounts; ALTER TABLE accounts_2 RENAME TO accounts;" \
  "CREATE TABLE cards_2 (merchant_id INTEGER NOT NULL, card_no TEXT NOT NULL, status TEXT NOT NULL," \
  "  level TEXT, name TEXT, phone TEXT, balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0)," \
  "  points INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0)," \
  "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (merchant_id, card_no))" \
  "  WITHOUT ROWID;" \
  "INSERT INTO cards_2 SELECT 1, card_no, status, level, name, phone, balance, points, created_at," \
  "  updated_at FROM cards;" \
  "DROP TABLE cards; ALTER TABLE cards_2 RENAME TO cards;" \
  "CREATE INDEX cards_phone ON cards (merchant_id, phone);" \
  "ALTER TABLE transactions ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 1;" \
  "DROP INDEX transactions_card_day; DROP INDEX transactions_taken;" \
  "CREATE INDEX transactions_card_day ON transactions (merchant_id, card_no, taken_at);" \
  "CREATE INDEX transactions_taken ON transactions (merchant_id, taken_at);" \
  "ALTER TABLE postings ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 1;" \
  "ALTER TABLE card_events ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 1;" \
  "DROP INDEX card_events_card;" \
  "CREATE INDEX card_events_card ON card_events (merchant_id, card_no, id);" \
  "CREATE TABLE import_batches_2 (merchant_id INTEGER NOT NULL, batch_id TEXT NOT NULL," \
  "  rows_accepted INTEGER NOT NULL, rows_rejected INTEGER NOT NULL," \
  "  total_balance INTEGER NOT NULL, total_points INTEGER NOT NULL," \
  "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (merchant_id, batch_id))" \
  "  WITHOUT ROWID;" \
  "INSERT INTO import_batches_2 SELECT 1, * FROM import_batches;" \
  "DROP TABLE import_batches; ALTER TABLE import_batches_2 RENAME TO import_batches;" \
  "CREATE TABLE pin_guard_2 (merchant_id INTEGER NOT NULL, manager_id TEXT NOT NULL," \
  "  failures INTEGER NOT NULL DEFAULT 0, lockouts INTEGER NOT NULL DEFAULT 0," \
  "  last_failure_at INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0," \
  "  pin_short INTEGER NOT NULL DEFAULT -1, PRIMARY KEY (merchant_id, manager_id)) WITHOUT ROWID;" \
  "INSERT INTO pin_guard_2 SELECT 1, * FROM pin_guard;" \
  "DROP TABLE pin_guard; ALTER TABLE pin_guard_2 RENAME TO pin_guard;" \
  "ALTER TABLE audit ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 1;" \
  "ALTER TABLE wallet_connectors ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 1;" \
  "CREATE TABLE member_links_2 (merchant_id INTEGER NOT NULL, card_no TEXT NOT NULL," \
  "  token_hash BLOB NOT NULL UNIQUE, secret BLOB NOT NULL, code_step INTEGER NOT NULL DEFAULT 0," \
  "  created_at INTEGER NOT NULL, PRIMARY KEY (merchant_id, card_no)) WITHOUT ROWID;" \
  "INSERT INTO member_links_2 SELECT 1, * FROM member_links;" \
  "DROP TABLE member_links; ALTER TABLE member_links_2 RENAME TO member_links;" \
  "ALTER TABLE shifts ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 1;" \
  "DROP INDEX shifts_open; DROP INDEX shifts_till;" \
  "CREATE UNIQUE INDEX shifts_open ON shifts (merchant_id, store, till) WHERE closed_at IS NULL;" \
  "CREATE INDEX shifts_till ON shifts (merchant_id, store, till, opened_at)"

/* Version 5 → 6: cash a manager handed back from a shift's drawer,
 * recorded with an outcome (POST /v1/outcomes); it leaves the shift's
 * expected cash. */
#define OUTCOME_CASH_SQL \
  "CREATE TABLE outcome_cash (id INTEGER PRIMARY KEY, merchant_id INTEGER NOT NULL," \
  "  shift_id INTEGER NOT NULL, amount INTEGER NOT NULL CHECK (amount > 0), audit_id INTEGER," \
  "  created_at INTEGER NOT NULL);" \
  "CREATE INDEX outcome_cash_shift ON outcome_cash (merchant_id, shift_id)"

/* Version 6 → 7: the member's PIN of each card (a salted slow hash, never
 * the PIN) with its guard against guessing, beside the card. */
#define MEMBER_PINS_SQL \
  "CREATE TABLE member_pins (merchant_id INTEGER NOT NULL, card_no TEXT NOT NULL, pin_hash TEXT NOT NULL," \
  "  failures INTEGER NOT NULL DEFAULT 0, lockouts INTEGER NOT NULL DEFAULT 0," \
  "  last_failure_at INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0," \
  "  updated_at INTEGER NOT NULL, PRIMARY KEY (merchant_id, card_no)) WITHOUT ROWID"

/* Version 7 → 8: a split payment's rest, the part of the order another
 * tender took when the card held too little, and that tender; a refund
 * of it records the rest it gave back. */
#define SPLIT_PAYMENT_SQL \
  "ALTER TABLE transactions ADD COLUMN rest INTEGER;" \
  "ALTER TABLE transactions ADD COLUMN rest_tender TEXT"
/* Version 9 → 10: a lost card replaced by another is closed and names
 * the card that replaced it. */
#define CARD_REPLACED_SQL \
  "ALTER TABLE cards ADD COLUMN replaced_by TEXT"

/* Version 8 → 9: partial refunds. A payment may be refunded in parts, so
 * refund_of is no longer unique (the transactions table is made again
 * without that constraint, which SQLite cannot drop); what refunds gave
 * back of each transaction is kept in refund_totals, whose conditional
 * update decides a race. Refunds from before were whole. */
#define PARTIAL_REFUNDS_SQL \
  "CREATE TABLE transactions_9 (id INTEGER PRIMARY KEY, card_no TEXT NOT NULL," \
  "  kind TEXT NOT NULL, delta INTEGER NOT NULL, bonus INTEGER NOT NULL," \
  "  balance_after INTEGER NOT NULL, points_delta INTEGER NOT NULL," \
  "  points_after INTEGER NOT NULL, store TEXT NOT NULL, till TEXT NOT NULL," \
  "  operator TEXT, manager TEXT, reason TEXT, order_ref TEXT, refund_of INTEGER," \
  "  created_at INTEGER NOT NULL, tender TEXT, shift_id INTEGER, taken_at INTEGER," \
  "  merchant_id INTEGER NOT NULL DEFAULT 1, rest INTEGER, rest_tender TEXT);" \
  "INSERT INTO transactions_9 (" TX_9_COLUMNS ") SELECT " TX_9_COLUMNS " FROM transactions;" \
  "DROP TABLE transactions;" \
  "ALTER TABLE transactions_9 RENAME TO transactions;" \
  "CREATE INDEX transactions_card_day ON transactions (merchant_id, card_no, taken_at);" \
  "CREATE INDEX transactions_taken ON transactions (merchant_id, taken_at);" \
  "CREATE INDEX transactions_shift ON transactions (shift_id) WHERE shift_id IS NOT NULL;" \
  "CREATE INDEX transactions_refund_of ON transactions (refund_of) WHERE refund_of IS NOT NULL;" \
  "CREATE TABLE refund_totals (tx_id INTEGER PRIMARY KEY, total INTEGER NOT NULL," \
  "  refunded INTEGER NOT NULL, CHECK (refunded >= 0 AND refunded <= total));" \
  "INSERT INTO refund_totals (tx_id, total, refunded) SELECT id, t, t FROM" \
  "  (SELECT p.id, CASE p.kind WHEN 'payment' THEN -p.delta" \
  "     + coalesce ((SELECT r.value FROM redemptions r WHERE r.tx_id = p.id), 0) ELSE p.delta END AS t" \
  "   FROM transactions p WHERE p.id IN (SELECT refund_of FROM transactions WHERE kind = 'refund'))"

#define TX_9_COLUMNS \
  "id, card_no, kind, delta, bonus, balance_after, points_delta, points_after, store, till, operator," \
  " manager, reason, order_ref, refund_of, created_at, tender, shift_id, taken_at, merchant_id, rest, rest_tender"

/* Version 10 → 11: the level a payment moved its card up to, so a receipt
 * printed again later still shows the move. Payments booked before it
 * have none. */
#define LEVEL_UP_SQL \
  "ALTER TABLE transactions ADD COLUMN level_up TEXT"

/* migrations[i] takes a database from version i + 1 to i + 2 (version 1
 * is the first one init made); `upgrade` applies the ones a database
 * lacks, in one transaction. Tables that version 1 made when a database
 * was opened (the IF NOT EXISTS ones above) come first. init makes
 * schema_sql, the shape of version SCHEMA_SQL_VERSION, and applies the
 * migrations after it, so new and upgraded ledgers have one shape. */
static const char *const migrations[] = {
  /* 1 → 2 */
  CASHIERS_SQL,
  /* 2 → 3 */
  LEVELS_SQL ";" LEVELS_MAP_SQL,
  /* 3 → 4 */
  INDEXES_BY_DAY_SQL,
  /* 4 → 5 */
  MERCHANTS_SQL,
  /* 5 → 6 */
  OUTCOME_CASH_SQL,
  /* 6 → 7 */
  MEMBER_PINS_SQL,
  /* 7 → 8 */
  SPLIT_PAYMENT_SQL,
  /* 8 → 9 */
  PARTIAL_REFUNDS_SQL,
  /* 9 → 10 */
  CARD_REPLACED_SQL,
  /* 10 → 11 */
  LEVEL_UP_SQL,
};

#define SCHEMA_SQL_VERSION 4

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) + 1 == SCHEMA_VERSION);

/* A new merchant's ledger accounts: only the pool has a floor. */
#define MERCHANT_ACCOUNTS_SQL \
  "INSERT INTO accounts (merchant_id, name, balance, floor_zero) VALUES (?1, '@pool', 0, 1)," \
  " (?1, '@cash', 0, 0), (?1, '@promo', 0, 0), (?1, '@legacy', 0, 0), (?1, '@wechat', 0, 0)," \
  " (?1, '@alipay', 0, 0), (?1, '@bank_card', 0, 0), (?1, '@other', 0, 0)"

/* Connections and statements */

static gboolean
db_error (sqlite3     *db,
          int          rc,
          const char  *what,
          GError     **error)
{
  int code = CT_STORE_ERROR_FAILED;

  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    code = CT_STORE_ERROR_EXISTS;
  g_set_error (error, CT_STORE_ERROR, code, "%s: %s", what,
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

static void
conn_free (Conn *c)
{
  if (c == NULL)
    return;
  g_hash_table_destroy (c->stmts);
  sqlite3_close_v2 (c->db);
  g_free (c);
}

static gboolean
conn_exec (Conn        *c,
           const char  *sql,
           GError     **error)
{
  char *msg = NULL;
  int rc = sqlite3_exec (c->db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "%s", msg ? msg : sqlite3_errstr (rc));
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static void
finalize_stmt (gpointer st)
{
  sqlite3_finalize (st);
}

static Conn *
conn_open (const char  *path,
           gboolean     create,
           GError     **error)
{
  Conn *c = g_new0 (Conn, 1);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc;

  /* A no-op after the first call, and too late (harmless) if something
   * in this process opened a database before: main() installs it first. */
  ct_sqlite_pcache_install ();
  /* Keyed by the SQL literal's address: every query is a string literal,
   * and hashing long SQL text on every call showed up in profiles. */
  c->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);
  /* The log's writes gathered into one per commit (ct-sqlite-walbuf.c);
   * sound because every connection syncs every commit (synchronous=FULL
   * below). */
  rc = sqlite3_open_v2 (path, &c->db, flags, ct_sqlite_walbuf_vfs ());
  if (rc != SQLITE_OK)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "cannot open %s: %s", path,
                   c->db ? sqlite3_errmsg (c->db) : sqlite3_errstr (rc));
      conn_free (c);
      return NULL;
    }
  sqlite3_busy_timeout (c->db, CT_STORE_BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (c->db, 1);
  if (!conn_exec (c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                     "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;", error))
    {
      conn_free (c);
      return NULL;
    }
  return c;
}

/* Whether the parameters below the merchant's ?99 that @st uses are
 * ?1..?N with none skipped, which done() relies on. */
static gboolean
low_params_contiguous (sqlite3_stmt *st)
{
  gboolean ended = FALSE;

  if (sqlite3_bind_parameter_count (st) != MERCHANT_PARAM)
    return TRUE;
  for (int i = 1; i < MERCHANT_PARAM; i++)
    {
      gboolean used = sqlite3_bind_parameter_name (st, i) != NULL;

      if (used && ended)
        return FALSE;
      ended = ended || !used;
    }
  return TRUE;
}

static sqlite3_stmt *
prep (Conn        *c,
      const char  *sql,
      GError     **error)
{
  sqlite3_stmt *st = g_hash_table_lookup (c->stmts, sql);
  int rc;

  if (st != NULL)
    return st;
  rc = sqlite3_prepare_v3 (c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (c->db, rc, "prepare", error);
      return NULL;
    }
  if (!low_params_contiguous (st))
    {
      sqlite3_finalize (st);
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                   "statement skips a parameter below ?%d: %s", MERCHANT_PARAM, sql);
      return NULL;
    }
  g_hash_table_insert (c->stmts, (gpointer) sql, st);
  return st;
}

/* Unbinds @st's parameters for its next use. A statement with the
 * merchant's ?99 has 99 parameter slots: sqlite3_clear_bindings() walked
 * all of them after every step, a tenth of a write's instructions. Its
 * used ones are ?1..?N without a gap (prep() checks) and ?99. */
static void
done (sqlite3_stmt *st)
{
  sqlite3_reset (st);
  if (sqlite3_bind_parameter_count (st) != MERCHANT_PARAM)
    {
      sqlite3_clear_bindings (st);
      return;
    }
  for (int i = 1; i < MERCHANT_PARAM && sqlite3_bind_parameter_name (st, i) != NULL; i++)
    sqlite3_bind_null (st, i);
  sqlite3_bind_null (st, MERCHANT_PARAM);
}

static void
bind_text (sqlite3_stmt *st,
           int           i,
           const char   *s)
{
  if (s == NULL)
    sqlite3_bind_null (st, i);
  else
    sqlite3_bind_text (st, i, s, -1, SQLITE_TRANSIENT);
}

static char *
col_text (sqlite3_stmt *st,
          int           i)
{
  const unsigned char *t = sqlite3_column_text (st, i);

  return t != NULL ? g_strdup ((const char *) t) : NULL;
}

/* Binds the merchant of @base to the statement's ?99. */
static void
bind_merchant (sqlite3_stmt *st,
               CtStore      *base)
{
  g_assert (sqlite3_bind_parameter_count (st) == MERCHANT_PARAM);
  sqlite3_bind_int64 (st, MERCHANT_PARAM, base->merchant);
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (Conn          *c,
           sqlite3_stmt  *st,
           const char    *what,
           GError       **error)
{
  int rc = sqlite3_step (st);

  done (st);
  if (rc != SQLITE_DONE)
    return db_error (c->db, rc, what, error);
  return TRUE;
}

/* Runs a statement of the import that returns no rows, whose text
 * parameters were bound with bind_static() and whose parameters are
 * ?1..?@n_params and the merchant's ?99: unbinds exactly those, so no
 * pointer to the request's text stays bound, without done()'s search for
 * them (a tenth of an imported row's instructions went to done() and to
 * copying the bound text). */
static gboolean
step_import (Conn          *c,
             sqlite3_stmt  *st,
             int            n_params,
             const char    *what,
             GError       **error)
{
  int rc = sqlite3_step (st);

  sqlite3_reset (st);
  for (int i = 1; i <= n_params; i++)
    sqlite3_bind_null (st, i);
  sqlite3_bind_null (st, MERCHANT_PARAM);
  if (rc != SQLITE_DONE)
    return db_error (c->db, rc, what, error);
  return TRUE;
}

/* Binds text that outlives the statement's step (step_import() unbinds
 * it right after). */
static void
bind_static (sqlite3_stmt *st,
             int           i,
             const char   *s)
{
  if (s == NULL)
    sqlite3_bind_null (st, i);
  else
    sqlite3_bind_text (st, i, s, -1, SQLITE_STATIC);
}

/* done() for a statement whose every parameter its one caller binds again
 * on every use (a value or NULL): it is only reset, and keeps its values
 * until they are bound again. Unbinding the ~60 parameters of a payment's
 * statements one by one was 7,000 instructions of every payment; a caller
 * that leaves a parameter unbound must use done(). */
static void
done_rebound (sqlite3_stmt *st)
{
  sqlite3_reset (st);
}

/* Fills the item of a list from the statement's current row. */
typedef void (*RowFunc) (sqlite3_stmt *st,
                         gpointer      item);

/* Steps @st to its end, each row an item of @size bytes that @from_row
 * fills, then done().
 *
 * Returns: (transfer full): the items (freed with @free_item), or %NULL
 *   with @error saying what @what could not be read. */
static GPtrArray *
collect_rows (Conn            *c,
              sqlite3_stmt    *st,
              gsize            size,
              RowFunc          from_row,
              GDestroyNotify   free_item,
              const char      *what,
              GError         **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (free_item);
  int rc;

  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gpointer item = g_malloc0 (size);

      from_row (st, item);
      g_ptr_array_add (list, item);
    }
  done (st);
  if (rc != SQLITE_DONE)
    {
      db_error (c->db, rc, what, error);
      return NULL;
    }
  return g_steal_pointer (&list);
}

/* step_done() with done_rebound(). */
static gboolean
step_rebound (Conn          *c,
              sqlite3_stmt  *st,
              const char    *what,
              GError       **error)
{
  int rc = sqlite3_step (st);

  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return db_error (c->db, rc, what, error);
  return TRUE;
}

/* The connection for one call: the writer on the thread inside a write
 * transaction, so that the call sees that transaction's own changes; a
 * read connection on any other thread. Without read connections (the
 * admin command line) everything shares the writer, which only that one
 * thread uses. */
static Conn *
conn_take (CtSqliteStore *store)
{
  if (store->n_readers == 0 || g_atomic_pointer_get (&store->tx_thread) == g_thread_self ())
    return store->writer;
  return g_async_queue_pop (store->readers);
}

static void
conn_give (CtSqliteStore *store,
           Conn          *c)
{
  if (c != store->writer)
    g_async_queue_push (store->readers, c);
}

/* Settings */

static gboolean
setting_put (Conn        *c,
             const char  *key,
             const char  *value,
             GError     **error)
{
  sqlite3_stmt *st = prep (c, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);

  if (st == NULL)
    return FALSE;
  bind_text (st, 1, key);
  bind_text (st, 2, value);
  return step_done (c, st, "settings", error);
}

static gboolean
setting_put_int (Conn        *c,
                 const char  *key,
                 int64_t      value,
                 GError     **error)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, value);
  return setting_put (c, key, buf, error);
}

static gboolean
merchant_put (Conn                   *c,
              int64_t                 merchant,
              const CtStoreMerchant  *m,
              GError                **error)
{
  g_auto(GStrv) settings = ct_store_merchant_to_settings (m);

  for (guint i = 0; settings[i] != NULL; i += 2)
    {
      sqlite3_stmt *st = prep (c, "INSERT INTO merchant_settings (merchant_id, key, value) VALUES (?1, ?2, ?3)"
                                  " ON CONFLICT (merchant_id, key) DO UPDATE SET value = excluded.value", error);

      if (st == NULL)
        return FALSE;
      sqlite3_bind_int64 (st, 1, merchant);
      bind_text (st, 2, settings[i]);
      bind_text (st, 3, settings[i + 1]);
      if (!step_done (c, st, "settings", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
merchant_get (Conn             *c,
              int64_t           merchant,
              CtStoreMerchant  *out,
              GError          **error)
{
  sqlite3_stmt *st = prep (c, "SELECT key, value FROM merchant_settings WHERE merchant_id = ?1"
                              " UNION ALL SELECT '', code FROM merchants WHERE id = ?1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, merchant);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (st, 0);
      const char *value = (const char *) sqlite3_column_text (st, 1);

      if (*key == '\0')
        out->code = g_strdup (value);
      else
        ct_store_merchant_set_field (out, key, value);
    }
  done (st);
  if (rc != SQLITE_DONE)
    {
      ct_store_merchant_clear (out);
      return db_error (c->db, rc, "settings", error);
    }
  return ct_store_merchant_complete (out, error);
}

static int
schema_version (Conn *c)
{
  sqlite3_stmt *st = prep (c, "SELECT value FROM settings WHERE key = 'schema_version'", NULL);
  int v = 0;

  if (st == NULL)
    return 0;
  if (sqlite3_step (st) == SQLITE_ROW)
    v = (int) sqlite3_column_int64 (st, 0);
  done (st);
  return v;
}

/* Opening */

static gpointer checkpointer_main (gpointer data);

static CtSqliteStore *
store_new (const char *path)
{
  CtSqliteStore *store = g_new0 (CtSqliteStore, 1);

  store->parent.backend = &sqlite_backend;
  store->parent.root = &store->parent;
  store->parent.merchant = CT_STORE_FIRST_MERCHANT;

  store->path = g_strdup (path);
  store->serve_lock = -1;
  store->readers = g_async_queue_new ();
  g_mutex_init (&store->claims_lock);
  g_mutex_init (&store->write_lock);
  store->claims = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  store->tx_levels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                            (GDestroyNotify) g_ptr_array_unref);
  store->tx_connectors = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                (GDestroyNotify) g_ptr_array_unref);
  g_mutex_init (&store->checkpoint_lock);
  g_cond_init (&store->checkpoint_cond);
  return store;
}

static gboolean apply_migrations (Conn *c, int from, GError **error);

/* The first merchant's id (when init names one) and settings. */
static gboolean
first_merchant_put (Conn                   *c,
                    const CtStoreMerchant  *m,
                    GError                **error)
{
  sqlite3_stmt *st = prep (c, "UPDATE merchants SET code = ?1 WHERE id = 1", error);

  if (st == NULL)
    return FALSE;
  if (m->code != NULL)
    {
      bind_text (st, 1, m->code);
      if (!step_done (c, st, "merchant", error))
        return FALSE;
    }
  return merchant_put (c, CT_STORE_FIRST_MERCHANT, m, error);
}

CtStore *
ct_store_sqlite_create (const char        *path,
                        const CtStoreMerchant  *merchant,
                        GError           **error)
{
  g_autoptr(CtSqliteStore) store = NULL;

  g_return_val_if_fail (path != NULL && merchant != NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_ALREADY_INITIALIZED,
                   "%s already exists; init refuses to overwrite a database", path);
      return NULL;
    }
  store = store_new (path);
  store->writer = conn_open (path, TRUE, error);
  if (store->writer == NULL)
    return NULL;
  if (!conn_exec (store->writer, "BEGIN IMMEDIATE", error))
    return NULL;
  /* The first version's schema and every migration since: one shape for
   * new and upgraded databases. */
  if (!conn_exec (store->writer, schema_sql, error)
      || !apply_migrations (store->writer, SCHEMA_SQL_VERSION, error)
      || !first_merchant_put (store->writer, merchant, error)
      || !setting_put_int (store->writer, "schema_version", SCHEMA_VERSION, error)
      || !conn_exec (store->writer, "COMMIT", error))
    {
      conn_exec (store->writer, "ROLLBACK", NULL);
      return NULL;
    }
  return (CtStore *) g_steal_pointer (&store);
}

static gboolean
add_day_columns (Conn    *c,
                 GError **error)
{
  sqlite3_stmt *st = prep (c, "SELECT count(*) FROM pragma_table_info('transactions') WHERE name = 'taken_at'",
                           error);
  gboolean have = FALSE;

  if (st == NULL)
    return FALSE;
  if (sqlite3_step (st) == SQLITE_ROW)
    have = sqlite3_column_int (st, 0) > 0;
  done (st);
  return have || conn_exec (c, TX_DAY_COLUMNS_SQL, error);
}

CtStore *
ct_store_sqlite_open (const char  *path,
                      guint        readers,
                      GError     **error)
{
  g_autoptr(CtSqliteStore) store = NULL;
  CtStoreMerchant m;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED,
                   "%s does not exist (run `cardtill-service init --db %s` first)", path, path);
      return NULL;
    }
  store = store_new (path);
  if (readers > 0)
    {
      /* Serving: this store keeps its "request in progress" claims in
       * memory beside its one writer, so exactly one process may serve a
       * database. A lock file refuses a second; admin commands (no
       * readers) still work alongside. */
      g_autofree char *lock_path = g_strconcat (path, ".serve-lock", NULL);

      store->serve_lock = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (store->serve_lock < 0 || flock (store->serve_lock, LOCK_EX | LOCK_NB) != 0)
        {
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                       "another cardtill-service is already serving %s", path);
          return NULL;
        }
    }
  store->writer = conn_open (path, FALSE, error);
  if (store->writer == NULL)
    return NULL;
  if (schema_version (store->writer) != SCHEMA_VERSION)
    {
      int version = schema_version (store->writer);

      if (version == 0)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED,
                     "%s is not a cardtill ledger (run `cardtill-service init --db %s` for a new one)",
                     path, path);
      else if (version < SCHEMA_VERSION)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                     "%s has schema version %d and this cardtill-service needs %d: run "
                     "`cardtill-service upgrade --db %s` first", path, version, SCHEMA_VERSION, path);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                     "%s has schema version %d, newer than this cardtill-service knows (%d): install "
                     "the cardtill-service that upgraded it", path, version, SCHEMA_VERSION);
      return NULL;
    }
  if (!merchant_get (store->writer, CT_STORE_FIRST_MERCHANT, &m, error))
    return NULL;
  ct_store_merchant_clear (&m);
  for (guint i = 0; i < readers; i++)
    {
      Conn *c = conn_open (path, FALSE, error);

      if (c == NULL)
        return NULL;
      g_async_queue_push (store->readers, c);
      store->n_readers++;
    }
  if (readers > 0)
    {
      /* A large WAL is still checkpointed by the writer as a safety net. */
      if (!conn_exec (store->writer, "PRAGMA wal_autocheckpoint=20000", error))
        return NULL;
      store->checkpointer = g_thread_new ("ct-checkpoint", checkpointer_main, store);
    }
  return (CtStore *) g_steal_pointer (&store);
}

static gboolean
apply_migrations (Conn     *c,
                  int       from,
                  GError  **error)
{
  for (int v = from; v < SCHEMA_VERSION; v++)
    if (!conn_exec (c, migrations[v - 1], error))
      return FALSE;
  return TRUE;
}

/* The first version made with several merchants: it reshaped the tables
 * that version 1 made as it was opened, so only older ledgers get those. */
#define MERCHANTS_VERSION 5

/* Brings a ledger of an older version to this one in one transaction:
 * first the tables and columns that version 1 made as it was opened (for a
 * ledger from before several merchants), then each migration. */
static gboolean
migrate (Conn     *c,
         int       from,
         GError  **error)
{
  if (!conn_exec (c, "BEGIN IMMEDIATE", error))
    return FALSE;
  if ((from < MERCHANTS_VERSION
       && (!add_day_columns (c, error)
           || !conn_exec (c, IMPORT_BATCHES_SQL ";" MANAGER_GUARD_SQL ";" WALLET_SQL ";" LOYALTY_SQL ";"
                          SHIFTS_SQL, error)))
      || !apply_migrations (c, from, error)
      || !setting_put_int (c, "schema_version", SCHEMA_VERSION, error)
      || !conn_exec (c, "COMMIT", error))
    {
      conn_exec (c, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

/* The phones step of `upgrade`, in one transaction of its own: every
 * stored phone in the phone rule's form (ct_store_phone_upgrade()). */
static gboolean
normalize_phones (Conn                *c,
                  CtStorePhoneReport  *report,
                  GError             **error)
{
  g_autoptr(GPtrArray) updates = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;
  int rc;

  if (!conn_exec (c, "BEGIN IMMEDIATE", error))
    return FALSE;
  rc = sqlite3_prepare_v2 (c->db, "SELECT m.code, c.merchant_id, c.card_no, c.phone FROM cards c"
                                  " JOIN merchants m ON m.id = c.merchant_id"
                                  " WHERE c.phone IS NOT NULL ORDER BY c.merchant_id, c.card_no", -1, &st, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      char *digits = ct_store_phone_upgrade (report, (const char *) sqlite3_column_text (st, 0),
                                             (const char *) sqlite3_column_text (st, 2),
                                             (const char *) sqlite3_column_text (st, 3));

      if (digits != NULL)
        {
          /* merchant id, card number, new phone */
          g_ptr_array_add (updates, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 1)));
          g_ptr_array_add (updates, g_strdup ((const char *) sqlite3_column_text (st, 2)));
          g_ptr_array_add (updates, digits);
        }
      rc = SQLITE_OK;
    }
  sqlite3_finalize (st);
  st = NULL;
  if (rc == SQLITE_DONE)
    rc = sqlite3_prepare_v2 (c->db, "UPDATE cards SET phone = ?3 WHERE merchant_id = ?1 AND card_no = ?2", -1, &st,
                             NULL);
  for (guint i = 0; rc == SQLITE_OK && i < updates->len; i += 3)
    {
      sqlite3_bind_int64 (st, 1, g_ascii_strtoll (updates->pdata[i], NULL, 10));
      sqlite3_bind_text (st, 2, updates->pdata[i + 1], -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 3, updates->pdata[i + 2], -1, SQLITE_STATIC);
      rc = sqlite3_step (st) == SQLITE_DONE ? sqlite3_reset (st) : SQLITE_ERROR;
    }
  sqlite3_finalize (st);
  if ((rc != SQLITE_OK && rc != SQLITE_DONE) || !conn_exec (c, "COMMIT", NULL))
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "stored phones: %s", sqlite3_errmsg (c->db));
      conn_exec (c, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

/**
 * ct_store_sqlite_upgrade:
 * Brings the ledger at @path to this version's schema; refuses while a
 * service serves it.
 */
gboolean
ct_store_sqlite_upgrade (const char          *path,
                         int                 *out_from,
                         int                 *out_to,
                         CtStorePhoneReport  *out_phones,
                         GError             **error)
{
  g_autofree char *lock_path = g_strconcat (path, ".serve-lock", NULL);
  Conn *c;
  int version, lock = -1;
  gboolean ok = FALSE;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED,
                   "%s does not exist (run `cardtill-service init --db %s` first)", path, path);
      return FALSE;
    }
  c = conn_open (path, FALSE, error);
  if (c == NULL)
    return FALSE;
  version = schema_version (c);
  *out_from = version;
  *out_to = MAX (version, SCHEMA_VERSION);
  if (version == 0)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED, "%s is not a cardtill ledger", path);
  else if (version > SCHEMA_VERSION)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                 "%s has schema version %d, newer than this cardtill-service knows (%d)",
                 path, version, SCHEMA_VERSION);
  else if (version == SCHEMA_VERSION)
    ok = TRUE;
  else
    {
      /* A serving process keeps statements of the old shape: it must stop
       * first. */
      lock = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (lock < 0 || flock (lock, LOCK_EX | LOCK_NB) != 0)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                     "a cardtill-service is serving %s: stop it before the upgrade", path);
      else
        ok = migrate (c, version, error);
    }
  /* Phones stored before the one phone rule take its form; a phone it does
   * not take stays as it is and is reported. */
  if (ok)
    ok = normalize_phones (c, out_phones, error);
  conn_free (c);
  if (lock >= 0)
    close (lock);
  return ok;
}

/* Checkpoints copy the WAL into the database file and fsync it. Left to
 * the writer they would stall a commit group now and then; in serve mode a
 * thread of its own does them (PASSIVE: it never blocks the writer), every
 * CHECKPOINT_INTERVAL_MS. A page the writes keep changing (a card's, the
 * pool's, an index's last) is copied once per checkpoint however often it
 * was written in between, so fewer checkpoints copy fewer pages; the log is
 * synced at every commit either way, and the writer's wal_autocheckpoint
 * bounds it. */
#define CHECKPOINT_INTERVAL_MS 2000

static gpointer
checkpointer_main (gpointer data)
{
  CtSqliteStore *store = data;
  g_autoptr(GError) error = NULL;
  Conn *c = conn_open (store->path, FALSE, &error);

  if (c == NULL)
    {
      g_warning ("checkpoints: %s", error->message);
      return NULL;
    }
  g_mutex_lock (&store->checkpoint_lock);
  while (!store->checkpoint_stop)
    {
      gint64 until = g_get_monotonic_time () + CHECKPOINT_INTERVAL_MS * G_TIME_SPAN_MILLISECOND;

      g_cond_wait_until (&store->checkpoint_cond, &store->checkpoint_lock, until);
      if (store->checkpoint_stop)
        break;
      g_mutex_unlock (&store->checkpoint_lock);
      sqlite3_wal_checkpoint_v2 (c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      g_mutex_lock (&store->checkpoint_lock);
    }
  g_mutex_unlock (&store->checkpoint_lock);
  sqlite3_wal_checkpoint_v2 (c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  conn_free (c);
  return NULL;
}

static void
sqlite_free (CtStore *base)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;

  if (store == NULL)
    return;
  if (store->checkpointer != NULL)
    {
      g_mutex_lock (&store->checkpoint_lock);
      store->checkpoint_stop = TRUE;
      g_cond_signal (&store->checkpoint_cond);
      g_mutex_unlock (&store->checkpoint_lock);
      g_thread_join (store->checkpointer);
    }
  g_mutex_clear (&store->checkpoint_lock);
  g_cond_clear (&store->checkpoint_cond);
  for (guint i = 0; i < store->n_readers; i++)
    conn_free (g_async_queue_pop (store->readers));
  g_async_queue_unref (store->readers);
  conn_free (store->writer);
  g_hash_table_destroy (store->claims);
  g_hash_table_destroy (store->tx_levels);
  g_hash_table_destroy (store->tx_connectors);
  g_mutex_clear (&store->claims_lock);
  g_mutex_clear (&store->write_lock);
  if (store->serve_lock >= 0)
    close (store->serve_lock);
  g_free (store->path);
  g_free (store);
}

static void
sqlite_set_busy_timeout (CtStore *base,
                         guint    ms)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;

  sqlite3_busy_timeout (store->writer->db, (int) MIN (ms, (guint) G_MAXINT));
}

/* Transactions */

static gint64
sqlite_write_count (CtStore *base)
{
  return sqlite3_total_changes64 (((CtSqliteStore *) base->root)->writer->db);
}

/* PRAGMA data_version moves when another connection, in this process or
 * another, committed since the writer last looked; the writer's own till
 * changes are counted beside it. */
static gboolean
sqlite_tills_version (CtStore  *base,
                      guint64  *out,
                      GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "PRAGMA data_version", error);
  int rc;

  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out = ((guint64) sqlite3_column_int64 (st, 0) << 32) | (guint32) g_atomic_int_get (&store->till_changes);
  done (st);
  if (rc != SQLITE_ROW)
    return db_error (store->writer->db, rc, "data version", error);
  return TRUE;
}

/* Forgets the lists read in the transaction that ends (tx_levels). */
static void
tx_lists_forget (CtSqliteStore *store)
{
  g_hash_table_remove_all (store->tx_levels);
  g_hash_table_remove_all (store->tx_connectors);
}

/* The list @cache holds for @base's merchant when @c is the writer inside
 * this thread's transaction, or NULL: then read it and tx_list_keep() it. */
static GPtrArray *
tx_list_get (CtSqliteStore *store,
             Conn          *c,
             GHashTable    *cache,
             CtStore       *base)
{
  GPtrArray *list;

  if (c != store->writer || g_atomic_pointer_get (&store->tx_thread) != g_thread_self ())
    return NULL;
  list = g_hash_table_lookup (cache, &base->merchant);
  return list != NULL ? g_ptr_array_ref (list) : NULL;
}

static void
tx_list_keep (CtSqliteStore *store,
              Conn          *c,
              GHashTable    *cache,
              CtStore       *base,
              GPtrArray     *list)
{
  if (list == NULL || c != store->writer || g_atomic_pointer_get (&store->tx_thread) != g_thread_self ())
    return;
  g_hash_table_insert (cache, g_memdup2 (&base->merchant, sizeof base->merchant), g_ptr_array_ref (list));
}

static gboolean
sqlite_begin (CtStore  *base,
              GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st;

  g_mutex_lock (&store->write_lock);
  st = prep (store->writer, "BEGIN IMMEDIATE", error);
  if (st == NULL || !step_done (store->writer, st, "begin", error))
    {
      g_mutex_unlock (&store->write_lock);
      return FALSE;
    }
  tx_lists_forget (store);
  g_atomic_pointer_set (&store->tx_thread, g_thread_self ());
  return TRUE;
}

static gboolean
sqlite_commit (CtStore  *base,
               GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "COMMIT", error);

  if (st == NULL || !step_done (store->writer, st, "commit", error))
    {
      ct_store_rollback (&store->parent);
      return FALSE;
    }
  tx_lists_forget (store);
  g_atomic_pointer_set (&store->tx_thread, NULL);
  g_mutex_unlock (&store->write_lock);
  return TRUE;
}

static void
sqlite_rollback (CtStore *base)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;

  /* Only the thread inside the transaction may end it: after a failed
   * begin the writer may be another thread's (the wallet worker's). */
  if (g_atomic_pointer_get (&store->tx_thread) != g_thread_self ())
    return;
  if (!sqlite3_get_autocommit (store->writer->db))
    conn_exec (store->writer, "ROLLBACK", NULL);
  tx_lists_forget (store);
  g_atomic_pointer_set (&store->tx_thread, NULL);
  g_mutex_unlock (&store->write_lock);
}

static gboolean
sqlite_savepoint (CtStore  *base,
                  GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "SAVEPOINT request", error);

  return st != NULL && step_done (store->writer, st, "savepoint", error);
}

static void
sqlite_rollback_savepoint (CtStore *base)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "ROLLBACK TO request", NULL);

  if (st != NULL)
    step_done (store->writer, st, "rollback to", NULL);
}

static gboolean
sqlite_release_savepoint (CtStore  *base,
                          GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "RELEASE request", error);

  return st != NULL && step_done (store->writer, st, "release", error);
}

/* Merchant and packages */

static gboolean
sqlite_get_merchant (CtStore          *base,
                     CtStoreMerchant  *out,
                     GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  gboolean ok = merchant_get (c, base->merchant, out, error);

  conn_give (store, c);
  return ok;
}

static gboolean
sqlite_set_merchant (CtStore           *base,
                     const CtStoreMerchant  *m,
                     GError           **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;

  return merchant_put (store->writer, base->merchant, m, error);
}

static gboolean
sqlite_merchant_add (CtStore                *base,
                     const CtStoreMerchant  *m,
                     int64_t                *out_id,
                     GError                **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO merchants (code) VALUES (?1)", error);
  int64_t id;

  if (st == NULL)
    return FALSE;
  bind_text (st, 1, m->code);
  if (!step_done (c, st, "merchant", error))
    {
      if (g_error_matches (*error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        {
          g_clear_error (error);
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "merchant %s already exists", m->code);
        }
      return FALSE;
    }
  id = sqlite3_last_insert_rowid (c->db);
  st = prep (c, MERCHANT_ACCOUNTS_SQL, error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  if (!step_done (c, st, "merchant accounts", error) || !merchant_put (c, id, m, error))
    return FALSE;
  *out_id = id;
  return TRUE;
}

static gboolean
sqlite_merchant_find (CtStore     *base,
                      const char  *code,
                      int64_t     *out_id,
                      GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id FROM merchants WHERE code = ?1", error);
  int rc = SQLITE_ERROR;

  if (st != NULL)
    {
      bind_text (st, 1, code);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        *out_id = sqlite3_column_int64 (st, 0);
      else if (rc == SQLITE_DONE)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "there is no merchant %s", code);
      else
        db_error (c->db, rc, "merchant", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW;
}

static void
merchant_ref_from_row (sqlite3_stmt       *st,
                       CtStoreMerchantRef *ref)
{
  ref->id = sqlite3_column_int64 (st, 0);
  ref->code = col_text (st, 1);
}

static GPtrArray *
sqlite_merchant_list (CtStore  *base,
                      GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id, code FROM merchants ORDER BY id", error);
  GPtrArray *list = NULL;

  if (st != NULL)
    list = collect_rows (c, st, sizeof (CtStoreMerchantRef), (RowFunc) merchant_ref_from_row,
                         (GDestroyNotify) ct_store_merchant_ref_free, "merchants", error);
  conn_give (store, c);
  return list;
}

static void
package_from_row (sqlite3_stmt *st,
                  CtStorePackage    *p)
{
  p->id = col_text (st, 0);
  p->amount = sqlite3_column_int64 (st, 1);
  p->bonus = sqlite3_column_int64 (st, 2);
  p->bonus_bp = sqlite3_column_int64 (st, 3);
}

static GPtrArray *
packages_list (Conn     *c,
               CtStore  *base,
               GError  **error)
{
  sqlite3_stmt *st = prep (c, "SELECT id, amount, bonus, bonus_bp FROM packages WHERE merchant_id = ?99"
                              " ORDER BY position, id", error);

  if (st == NULL)
    return NULL;
  bind_merchant (st, base);
  return collect_rows (c, st, sizeof (CtStorePackage), (RowFunc) package_from_row,
                       (GDestroyNotify) ct_store_package_free, "packages", error);
}

static GPtrArray *
sqlite_list_packages (CtStore  *base,
                      GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  GPtrArray *list = packages_list (c, base, error);

  conn_give (store, c);
  return list;
}

static gboolean
sqlite_get_package (CtStore     *base,
                    const char  *id,
                    CtStorePackage   *out,
                    GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "SELECT id, amount, bonus, bonus_bp FROM packages"
                                          " WHERE merchant_id = ?99 AND id = ?1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    package_from_row (st, out);
  done (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no package \"%s\"", id);
      return FALSE;
    }
  return db_error (store->writer->db, rc, "package", error);
}

static gboolean
sqlite_put_package (CtStore          *base,
                    const CtStorePackage  *p,
                    GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer,
                           "INSERT INTO packages (merchant_id, id, amount, bonus, bonus_bp, position) "
                           "VALUES (?99, ?1, ?2, ?3, ?4, (SELECT coalesce(max(position), 0) + 1 FROM packages"
                           " WHERE merchant_id = ?99)) "
                           "ON CONFLICT (merchant_id, id) DO UPDATE SET amount = excluded.amount, "
                           "bonus = excluded.bonus, bonus_bp = excluded.bonus_bp", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, p->id);
  sqlite3_bind_int64 (st, 2, p->amount);
  sqlite3_bind_int64 (st, 3, p->bonus);
  sqlite3_bind_int64 (st, 4, p->bonus_bp);
  return step_done (store->writer, st, "package", error);
}

static gboolean
expect_one_change (Conn        *c,
                   const char  *what,
                   const char  *name,
                   GError     **error)
{
  if (sqlite3_changes (c->db) == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no %s \"%s\"", what, name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_remove_package (CtStore     *base,
                       const char  *id,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "DELETE FROM packages WHERE merchant_id = ?99 AND id = ?1", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  return step_done (store->writer, st, "package", error)
      && expect_one_change (store->writer, "package", id, error);
}

/* Tills and managers */

static gboolean
sqlite_till_put (CtStore       *base,
                 const char    *store_name,
                 const char    *name,
                 const guint8   token_hash[32],
                 gboolean       must_be_new,
                 GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;
  g_autofree char *label = g_strdup_printf ("%s/%s", store_name, name);

  if (must_be_new)
    st = prep (c, "INSERT INTO tills (merchant_id, store, name, token_hash) VALUES (?99, ?1, ?2, ?3)", error);
  else
    st = prep (c, "UPDATE tills SET token_hash = ?3, revoked = 0 WHERE merchant_id = ?99 AND store = ?1"
                  " AND name = ?2", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, store_name);
  bind_text (st, 2, name);
  sqlite3_bind_blob (st, 3, token_hash, 32, SQLITE_TRANSIENT);
  g_atomic_int_inc (&store->till_changes);
  if (!step_done (c, st, "till", error))
    {
      if (g_error_matches (*error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        {
          g_clear_error (error);
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "till %s already exists", label);
        }
      return FALSE;
    }
  return must_be_new || expect_one_change (c, "till", label, error);
}

static gboolean
sqlite_till_revoke (CtStore     *base,
                    const char  *store_name,
                    const char  *name,
                    GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "UPDATE tills SET revoked = 1 WHERE merchant_id = ?99 AND store = ?1 AND name = ?2",
                           error);
  g_autofree char *label = g_strdup_printf ("%s/%s", store_name, name);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, store_name);
  bind_text (st, 2, name);
  g_atomic_int_inc (&store->till_changes);
  return step_done (c, st, "till", error) && expect_one_change (c, "till", label, error);
}

/* Steps @st, a SELECT of id, store, name, revoked, merchant_id, into @out. */
static gboolean
till_from_statement (Conn          *c,
                     sqlite3_stmt  *st,
                     const char    *not_found,
                     CtStoreTill   *out,
                     GError       **error)
{
  gboolean ok = FALSE;
  int rc = sqlite3_step (st);

  if (rc == SQLITE_ROW)
    {
      out->id = sqlite3_column_int64 (st, 0);
      out->store = col_text (st, 1);
      out->name = col_text (st, 2);
      out->revoked = sqlite3_column_int (st, 3) != 0;
      out->merchant = sqlite3_column_int64 (st, 4);
      ok = TRUE;
    }
  else if (rc == SQLITE_DONE)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "%s", not_found);
  else
    db_error (c->db, rc, "till", error);
  done (st);
  return ok;
}

static gboolean
sqlite_till_by_token (CtStore       *base,
                      const guint8   token_hash[32],
                      CtStoreTill   *out,
                      GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id, store, name, revoked, merchant_id FROM tills WHERE token_hash = ?1",
                           error);
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  if (st != NULL)
    {
      sqlite3_bind_blob (st, 1, token_hash, 32, SQLITE_TRANSIENT);
      ok = till_from_statement (c, st, "unknown token", out, error);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
sqlite_till_get (CtStore       *base,
                 const char    *store_name,
                 const char    *name,
                 CtStoreTill   *out,
                 GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id, store, name, revoked, merchant_id FROM tills"
                              " WHERE merchant_id = ?99 AND store = ?1 AND name = ?2", error);
  g_autofree char *not_found = g_strdup_printf ("there is no till %s/%s", store_name, name);
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, store_name);
      bind_text (st, 2, name);
      ok = till_from_statement (c, st, not_found, out, error);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
sqlite_manager_put (CtStore     *base,
                    const char  *id,
                    const char  *pin_hash,
                    int          must_be_new,
                    GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;

  if (must_be_new)
    st = prep (c, "INSERT INTO managers (merchant_id, id, pin_hash) VALUES (?99, ?1, ?2)", error);
  else
    st = prep (c, "UPDATE managers SET pin_hash = ?2 WHERE merchant_id = ?99 AND id = ?1", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  bind_text (st, 2, pin_hash);
  if (!step_done (c, st, "manager", error))
    {
      if (g_error_matches (*error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        {
          g_clear_error (error);
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "manager %s already exists", id);
        }
      return FALSE;
    }
  return must_be_new || expect_one_change (c, "manager", id, error);
}

static gboolean
sqlite_manager_remove (CtStore     *base,
                       const char  *id,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "DELETE FROM managers WHERE merchant_id = ?99 AND id = ?1", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  return step_done (c, st, "manager", error) && expect_one_change (c, "manager", id, error);
}

static gboolean
manager_get (Conn            *c,
             CtStore         *base,
             const char      *id,
             CtStoreManager  *out,
             GError         **error)
{
  sqlite3_stmt *st = prep (c, "SELECT id, pin_hash FROM managers WHERE merchant_id = ?99 AND id = ?1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      out->id = col_text (st, 0);
      out->pin_hash = col_text (st, 1);
    }
  done (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no manager \"%s\"", id);
      return FALSE;
    }
  return db_error (c->db, rc, "manager", error);
}

static gboolean
sqlite_manager_get (CtStore     *base,
                    const char  *id,
                    CtStoreManager   *out,
                    GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  gboolean ok = manager_get (c, base, id, out, error);

  conn_give (store, c);
  return ok;
}

#define GUARD_COLUMNS "failures, lockouts, last_failure_at, locked_until, pin_short"

static void
guard_from_row (sqlite3_stmt    *st,
                int              first,
                CtStorePinGuard *g)
{
  g->failures = sqlite3_column_int (st, first);
  g->lockouts = sqlite3_column_int (st, first + 1);
  g->last_failure_at = sqlite3_column_int64 (st, first + 2);
  g->locked_until = sqlite3_column_int64 (st, first + 3);
  g->pin_short = sqlite3_column_type (st, first + 4) == SQLITE_NULL ? -1 : sqlite3_column_int (st, first + 4);
}

static gboolean
sqlite_pin_guard_get (CtStore          *base,
                      const char       *id,
                      CtStorePinGuard  *out,
                      GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT " GUARD_COLUMNS " FROM pin_guard WHERE merchant_id = ?99 AND manager_id = ?1",
                           error);
  gboolean ok = FALSE;
  int rc;

  *out = (CtStorePinGuard) { .pin_short = -1 };
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        guard_from_row (st, 0, out);
      ok = rc == SQLITE_ROW || rc == SQLITE_DONE || db_error (c->db, rc, "PIN guard", error);
      done (st);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
sqlite_pin_guard_put (CtStore               *base,
                      const char            *id,
                      const CtStorePinGuard *g,
                      GError               **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer,
                           "INSERT OR REPLACE INTO pin_guard (merchant_id, manager_id, " GUARD_COLUMNS ") "
                           "VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  sqlite3_bind_int (st, 2, g->failures);
  sqlite3_bind_int (st, 3, g->lockouts);
  sqlite3_bind_int64 (st, 4, g->last_failure_at);
  sqlite3_bind_int64 (st, 5, g->locked_until);
  sqlite3_bind_int (st, 6, g->pin_short);
  return step_done (store->writer, st, "PIN guard", error);
}

static void
manager_info_from_row (sqlite3_stmt       *st,
                       CtStoreManagerInfo *info)
{
  info->id = col_text (st, 0);
  guard_from_row (st, 1, &info->guard);
}

static GPtrArray *
sqlite_manager_list (CtStore  *base,
                     GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT m.id, coalesce (g.failures, 0), coalesce (g.lockouts, 0),"
                              " coalesce (g.last_failure_at, 0), coalesce (g.locked_until, 0), g.pin_short"
                              " FROM managers m LEFT JOIN pin_guard g ON g.merchant_id = m.merchant_id"
                              " AND g.manager_id = m.id WHERE m.merchant_id = ?99 ORDER BY m.id",
                           error);
  GPtrArray *list = NULL;

  if (st != NULL)
    {
      bind_merchant (st, base);
      list = collect_rows (c, st, sizeof (CtStoreManagerInfo), (RowFunc) manager_info_from_row,
                           (GDestroyNotify) ct_store_manager_info_free, "managers", error);
    }
  conn_give (store, c);
  return list;
}

static gboolean
sqlite_cashier_put (CtStore     *base,
                    const char  *id,
                    const char  *name,
                    const char  *pin_hash,
                    gboolean     must_be_new,
                    GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;

  if (must_be_new)
    st = prep (c, "INSERT INTO cashiers (merchant_id, id, name, pin_hash, created_at)"
                  " VALUES (?99, ?1, ?2, ?3, ?4)", error);
  else
    st = prep (c, "UPDATE cashiers SET name = ?2, pin_hash = ?3 WHERE merchant_id = ?99 AND id = ?1", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  bind_text (st, 2, name);
  bind_text (st, 3, pin_hash);
  if (must_be_new)
    sqlite3_bind_int64 (st, 4, ct_store_now_ms ());
  if (!step_done (c, st, "cashier", error))
    {
      if (g_error_matches (*error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        {
          g_clear_error (error);
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "cashier %s already exists", id);
        }
      return FALSE;
    }
  return must_be_new || expect_one_change (c, "cashier", id, error);
}

static gboolean
sqlite_cashier_remove (CtStore     *base,
                       const char  *id,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "DELETE FROM cashiers WHERE merchant_id = ?99 AND id = ?1", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  return step_done (c, st, "cashier", error) && expect_one_change (c, "cashier", id, error);
}

static gboolean
sqlite_cashier_get (CtStore         *base,
                    const char      *id,
                    CtStoreCashier  *out,
                    GError         **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id, name, pin_hash FROM cashiers WHERE merchant_id = ?99 AND id = ?1", error);
  gboolean ok = FALSE;
  int rc;

  memset (out, 0, sizeof *out);
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          out->id = col_text (st, 0);
          out->name = col_text (st, 1);
          out->pin_hash = col_text (st, 2);
          ok = TRUE;
        }
      else if (rc == SQLITE_DONE)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no cashier \"%s\"", id);
      else
        db_error (c->db, rc, "cashier", error);
      done (st);
    }
  conn_give (store, c);
  return ok;
}

static void
cashier_from_row (sqlite3_stmt   *st,
                  CtStoreCashier *k)
{
  k->id = col_text (st, 0);
  k->name = col_text (st, 1);
  guard_from_row (st, 2, &k->guard);
}

static GPtrArray *
sqlite_cashier_list (CtStore  *base,
                     GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT k.id, k.name, coalesce (g.failures, 0), coalesce (g.lockouts, 0),"
                              " coalesce (g.last_failure_at, 0), coalesce (g.locked_until, 0), g.pin_short"
                              " FROM cashiers k LEFT JOIN pin_guard g ON g.merchant_id = k.merchant_id"
                              " AND g.manager_id = '" CT_STORE_CASHIER_GUARD_PREFIX "' || k.id"
                              " WHERE k.merchant_id = ?99 ORDER BY k.id", error);
  GPtrArray *list = NULL;

  if (st != NULL)
    {
      bind_merchant (st, base);
      list = collect_rows (c, st, sizeof (CtStoreCashier), (RowFunc) cashier_from_row,
                           (GDestroyNotify) ct_store_cashier_free, "cashiers", error);
    }
  conn_give (store, c);
  return list;
}

static gboolean
sqlite_audit_add (CtStore       *base,
                  CtStoreAudit  *a,
                  GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO audit (merchant_id, created_at, store, till, manager, action, card_no,"
                              " detail) VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6, ?7)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  sqlite3_bind_int64 (st, 1, a->created_at);
  bind_text (st, 2, a->store);
  bind_text (st, 3, a->till);
  bind_text (st, 4, a->manager);
  bind_text (st, 5, a->action);
  bind_text (st, 6, a->card_no);
  bind_text (st, 7, a->detail);
  if (!step_done (c, st, "audit", error))
    return FALSE;
  a->id = sqlite3_last_insert_rowid (c->db);
  return TRUE;
}

static void
audit_from_row (sqlite3_stmt *st,
                CtStoreAudit *a)
{
  a->id = sqlite3_column_int64 (st, 0);
  a->created_at = sqlite3_column_int64 (st, 1);
  a->store = col_text (st, 2);
  a->till = col_text (st, 3);
  a->manager = col_text (st, 4);
  a->action = col_text (st, 5);
  a->card_no = col_text (st, 6);
  a->detail = col_text (st, 7);
}

static GPtrArray *
sqlite_audit_list (CtStore  *base,
                   int64_t   since_ms,
                   GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id, created_at, store, till, manager, action, card_no, detail"
                              " FROM audit WHERE merchant_id = ?99 AND created_at >= ?1 ORDER BY id", error);
  GPtrArray *list = NULL;

  if (st != NULL)
    {
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, since_ms);
      list = collect_rows (c, st, sizeof (CtStoreAudit), (RowFunc) audit_from_row,
                           (GDestroyNotify) ct_store_audit_free, "audit", error);
    }
  conn_give (store, c);
  return list;
}

/* Cards */

#define CARD_COLUMNS "card_no, status, level, name, phone, balance, points, created_at, updated_at"
/* What a card is read with: its columns and the card that replaced it. */
#define CARD_READ_COLUMNS CARD_COLUMNS ", replaced_by"

static void
card_from_row (sqlite3_stmt *st,
               CtStoreCard       *c)
{
  c->card_no = col_text (st, 0);
  c->status = col_text (st, 1);
  c->level = col_text (st, 2);
  c->name = col_text (st, 3);
  c->phone = col_text (st, 4);
  c->balance = sqlite3_column_int64 (st, 5);
  c->points = sqlite3_column_int64 (st, 6);
  c->created_at = sqlite3_column_int64 (st, 7);
  c->updated_at = sqlite3_column_int64 (st, 8);
  c->replaced_by = col_text (st, 9);
}

static gboolean
card_get (Conn         *c,
          CtStore      *base,
          const char   *card_no,
          CtStoreCard  *out,
          GError      **error)
{
  sqlite3_stmt *st = prep (c, "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = ?99 AND card_no = ?1",
                           error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    card_from_row (st, out);
  done_rebound (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no card %s", card_no);
      return FALSE;
    }
  return db_error (c->db, rc, "card", error);
}

static gboolean
sqlite_card_get (CtStore     *base,
                 const char  *card_no,
                 CtStoreCard      *out,
                 GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  gboolean ok = card_get (c, base, card_no, out, error);

  conn_give (store, c);
  return ok;
}

static gboolean
sqlite_card_insert (CtStore       *base,
                    const CtStoreCard  *card,
                    GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO cards (merchant_id, " CARD_COLUMNS ") "
                              "VALUES (?99, ?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card->card_no);
  bind_text (st, 2, card->status);
  bind_text (st, 3, card->level);
  bind_text (st, 4, card->name);
  bind_text (st, 5, card->phone);
  sqlite3_bind_int64 (st, 6, card->points);
  sqlite3_bind_int64 (st, 7, card->created_at);
  return step_done (c, st, "card", error);
}

static gboolean
sqlite_card_update (CtStore       *base,
                    const CtStoreCard  *card,
                    GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "UPDATE cards SET status = ?2, level = ?3, name = ?4, phone = ?5, "
                              "updated_at = ?6 WHERE merchant_id = ?99 AND card_no = ?1", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card->card_no);
  bind_text (st, 2, card->status);
  bind_text (st, 3, card->level);
  bind_text (st, 4, card->name);
  bind_text (st, 5, card->phone);
  sqlite3_bind_int64 (st, 6, card->updated_at);
  return step_done (c, st, "card", error) && expect_one_change (c, "card", card->card_no, error);
}

/* Closes the old card, ends its member link and moves the member's PIN
 * and spend to the new one, in the writer's transaction. */
static gboolean
sqlite_card_replace (CtStore     *base,
                     const char  *old_no,
                     const char  *new_no,
                     int64_t      now_ms,
                     GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  static const char *const moves[] = {
    /* The lost card's page link and payment-code secret stop; the
     * replacement gives the new card its own (ct_member_link_new). */
    "DELETE FROM member_links WHERE merchant_id = ?99 AND card_no = ?1 AND ?2 IS NOT NULL",
    "UPDATE member_pins SET card_no = ?2 WHERE merchant_id = ?99 AND card_no = ?1",
    "INSERT INTO card_spend (merchant_id, card_no, spend) SELECT ?99, ?2, spend FROM card_spend"
    "  WHERE merchant_id = ?99 AND card_no = ?1 ON CONFLICT (merchant_id, card_no)"
    "  DO UPDATE SET spend = spend + excluded.spend",
    "DELETE FROM card_spend WHERE merchant_id = ?99 AND card_no = ?1",
  };
  sqlite3_stmt *st = prep (c, "UPDATE cards SET status = 'closed', replaced_by = ?2, updated_at = ?3"
                              " WHERE merchant_id = ?99 AND card_no = ?1 AND status <> 'closed'", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, old_no);
  bind_text (st, 2, new_no);
  sqlite3_bind_int64 (st, 3, now_ms);
  if (!step_done (c, st, "card", error))
    return FALSE;
  if (sqlite3_changes (c->db) == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "card %s is closed", old_no);
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (moves); i++)
    {
      st = prep (c, moves[i], error);
      if (st == NULL)
        return FALSE;
      bind_merchant (st, base);
      bind_text (st, 1, old_no);
      bind_text (st, 2, new_no);
      if (!step_done (c, st, "card", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_card_replaced_into (CtStore     *base,
                           const char  *card_no,
                           const char  *holder,
                           gboolean    *out_replaced,
                           GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  /* UNION, not UNION ALL: a chain that came round again would end. */
  sqlite3_stmt *st = prep (c, "WITH RECURSIVE later (card_no) AS ("
                              " SELECT replaced_by FROM cards WHERE merchant_id = ?99 AND card_no = ?1"
                              " UNION SELECT cards.replaced_by FROM cards JOIN later"
                              "  ON cards.merchant_id = ?99 AND cards.card_no = later.card_no)"
                              " SELECT 1 FROM later WHERE card_no = ?2", error);
  int rc = SQLITE_ERROR;

  *out_replaced = FALSE;
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, card_no);
      bind_text (st, 2, holder);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        *out_replaced = TRUE;
      else if (rc != SQLITE_DONE)
        db_error (c->db, rc, "card", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static gboolean
sqlite_card_add_points (CtStore     *base,
                        const char  *card_no,
                        int64_t      delta,
                        int64_t     *out_points,
                        GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "UPDATE cards SET points = points + ?2 WHERE merchant_id = ?99 AND card_no = ?1 "
                              "AND points + ?2 >= 0 RETURNING points", error);
  int rc;

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  sqlite3_bind_int64 (st, 2, delta);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW && out_points != NULL)
    *out_points = sqlite3_column_int64 (st, 0);
  done_rebound (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT, "points of %s would go below zero", card_no);
      return FALSE;
    }
  return db_error (c->db, rc, "points", error);
}

static gboolean
sqlite_card_event (CtStore     *base,
                   const char  *card_no,
                   const char  *kind,
                   const char  *detail,
                   const char  *store_name,
                   const char  *till,
                   const char  *operator_name,
                   const char  *manager,
                   GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO card_events (merchant_id, card_no, kind, detail, store, till, operator,"
                              " manager, created_at) VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  bind_text (st, 2, kind);
  bind_text (st, 3, detail);
  bind_text (st, 4, store_name);
  bind_text (st, 5, till);
  bind_text (st, 6, operator_name);
  bind_text (st, 7, manager);
  sqlite3_bind_int64 (st, 8, ct_store_now_ms ());
  return step_done (c, st, "card event", error);
}

/* Ledger */

static gboolean
post_at (CtStore               *base,
         const CtStorePosting  *postings,
         guint                  n_postings,
         int64_t                now,
         GError               **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;

  for (guint i = 0; i < n_postings; i++)
    {
      const CtStorePosting *p = &postings[i];
      sqlite3_stmt *st;

      if (p->amount == 0)
        continue;
      /* The floor is part of the update itself, so the database refuses an
       * overdraft whatever the application thought the balance was. */
      if (p->account[0] == '@')
        st = prep (c, "UPDATE accounts SET balance = balance + ?1 WHERE merchant_id = ?99 AND name = ?2 "
                      "AND (floor_zero = 0 OR balance + ?1 >= 0)", error);
      else
        st = prep (c, "UPDATE cards SET balance = balance + ?1, updated_at = ?3 WHERE merchant_id = ?99"
                      " AND card_no = ?2 AND balance + ?1 >= 0", error);
      if (st == NULL)
        return FALSE;
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, p->amount);
      bind_text (st, 2, p->account);
      if (p->account[0] != '@')
        sqlite3_bind_int64 (st, 3, now);
      if (!step_rebound (c, st, "posting", error))
        return FALSE;
      if (sqlite3_changes (c->db) == 0)
        {
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT,
                       "account %s cannot go below zero", p->account);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
sqlite_post (CtStore               *base,
             const CtStorePosting  *postings,
             guint                  n_postings,
             GError               **error)
{
  return post_at (base, postings, n_postings, ct_store_now_ms (), error);
}

/* The writer is the only connection that writes, and @card was read inside
 * its transaction: what the postings did to the card is known without
 * reading it again (a read was 8,000 instructions of every payment). */
static gboolean
sqlite_post_card (CtStore               *base,
                  const CtStorePosting  *postings,
                  guint                  n_postings,
                  CtStoreCard           *card,
                  GError               **error)
{
  int64_t now = ct_store_now_ms ();

  if (!post_at (base, postings, n_postings, now, error))
    return FALSE;
  for (guint i = 0; i < n_postings; i++)
    if (postings[i].amount != 0 && g_str_equal (postings[i].account, card->card_no))
      {
        card->balance += postings[i].amount;
        card->updated_at = now;
      }
  return TRUE;
}

static gboolean
sqlite_tx_insert (CtStore          *base,
                  CtStoreTx             *tx,
                  const CtStorePosting  *postings,
                  guint             n_postings,
                  GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO transactions (merchant_id, card_no, kind, delta, bonus, balance_after,"
                              " points_delta, points_after, store, till, operator, manager, reason,"
                              " order_ref, refund_of, created_at, tender, shift_id, taken_at, rest, rest_tender,"
                              " level_up)"
                              " VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
                              " ?17, ?18, ?19, ?20, ?21)",
                           error);
  int64_t sum = 0;

  if (st == NULL)
    return FALSE;
  for (guint i = 0; i < n_postings; i++)
    sum += postings[i].amount;
  g_assert (sum == 0);

  bind_merchant (st, base);
  bind_text (st, 1, tx->card_no);
  bind_text (st, 2, tx->kind);
  sqlite3_bind_int64 (st, 3, tx->delta);
  sqlite3_bind_int64 (st, 4, tx->bonus);
  sqlite3_bind_int64 (st, 5, tx->balance_after);
  sqlite3_bind_int64 (st, 6, tx->points_delta);
  sqlite3_bind_int64 (st, 7, tx->points_after);
  bind_text (st, 8, tx->store);
  bind_text (st, 9, tx->till);
  bind_text (st, 10, tx->operator_name);
  bind_text (st, 11, tx->manager);
  bind_text (st, 12, tx->reason);
  bind_text (st, 13, tx->order_ref);
  if (tx->refund_of > 0)
    sqlite3_bind_int64 (st, 14, tx->refund_of);
  else
    sqlite3_bind_null (st, 14);
  sqlite3_bind_int64 (st, 15, tx->created_at);
  bind_text (st, 16, tx->tender);
  if (tx->shift_id > 0)
    sqlite3_bind_int64 (st, 17, tx->shift_id);
  else
    sqlite3_bind_null (st, 17);
  sqlite3_bind_int64 (st, 18, tx->taken_at != 0 ? tx->taken_at : tx->created_at);
  if (tx->rest > 0)
    sqlite3_bind_int64 (st, 19, tx->rest);
  else
    sqlite3_bind_null (st, 19);
  bind_text (st, 20, tx->rest > 0 ? tx->rest_tender : NULL);
  bind_text (st, 21, tx->level_up);
  if (!step_rebound (c, st, "transaction", error))
    return FALSE;
  tx->id = sqlite3_last_insert_rowid (c->db);

  for (guint i = 0; i < n_postings; i++)
    {
      if (postings[i].amount == 0)
        continue;
      st = prep (c, "INSERT INTO postings (merchant_id, tx_id, account, amount) VALUES (?99, ?1, ?2, ?3)",
                 error);
      if (st == NULL)
        return FALSE;
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, tx->id);
      bind_text (st, 2, postings[i].account);
      sqlite3_bind_int64 (st, 3, postings[i].amount);
      if (!step_rebound (c, st, "posting", error))
        return FALSE;
    }
  return TRUE;
}

#define TX_COLUMNS "id, card_no, kind, delta, bonus, balance_after, points_delta, points_after, " \
                   "store, till, operator, manager, reason, order_ref, refund_of, created_at, " \
                   "tender, coalesce(shift_id, 0), coalesce(taken_at, created_at), " \
                   "(SELECT b.level FROM tx_benefits b WHERE b.tx_id = transactions.id), " \
                   "coalesce ((SELECT b.discount FROM tx_benefits b WHERE b.tx_id = transactions.id), 0), " \
                   "coalesce ((SELECT b.topup_bonus FROM tx_benefits b WHERE b.tx_id = transactions.id), 0), " \
                   "coalesce ((SELECT r.points FROM redemptions r WHERE r.tx_id = transactions.id), 0), " \
                   "coalesce ((SELECT r.value FROM redemptions r WHERE r.tx_id = transactions.id), 0), " \
                   "coalesce (rest, 0), rest_tender, " \
                   "coalesce ((SELECT f.refunded FROM refund_totals f WHERE f.tx_id = transactions.id), 0), " \
                   "level_up"

static void
tx_from_row (sqlite3_stmt *st,
             CtStoreTx         *t)
{
  t->id = sqlite3_column_int64 (st, 0);
  t->card_no = col_text (st, 1);
  t->kind = col_text (st, 2);
  t->delta = sqlite3_column_int64 (st, 3);
  t->bonus = sqlite3_column_int64 (st, 4);
  t->balance_after = sqlite3_column_int64 (st, 5);
  t->points_delta = sqlite3_column_int64 (st, 6);
  t->points_after = sqlite3_column_int64 (st, 7);
  t->store = col_text (st, 8);
  t->till = col_text (st, 9);
  t->operator_name = col_text (st, 10);
  t->manager = col_text (st, 11);
  t->reason = col_text (st, 12);
  t->order_ref = col_text (st, 13);
  t->refund_of = sqlite3_column_int64 (st, 14);
  t->created_at = sqlite3_column_int64 (st, 15);
  t->tender = col_text (st, 16);
  t->shift_id = sqlite3_column_int64 (st, 17);
  t->taken_at = sqlite3_column_int64 (st, 18);
  t->level = col_text (st, 19);
  t->discount = sqlite3_column_int64 (st, 20);
  t->level_bonus = sqlite3_column_int64 (st, 21);
  t->redeemed_points = sqlite3_column_int64 (st, 22);
  t->redeemed_value = sqlite3_column_int64 (st, 23);
  t->rest = sqlite3_column_int64 (st, 24);
  t->rest_tender = col_text (st, 25);
  t->refunded = sqlite3_column_int64 (st, 26);
  t->level_up = col_text (st, 27);
}

static gboolean
sqlite_tx_get (CtStore  *base,
               int64_t   id,
               CtStoreTx     *out,
               GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "SELECT " TX_COLUMNS " FROM transactions WHERE merchant_id = ?99 AND id = ?1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  sqlite3_bind_int64 (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    tx_from_row (st, out);
  done (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no transaction %" G_GINT64_FORMAT, id);
      return FALSE;
    }
  return db_error (c->db, rc, "transaction", error);
}

static gboolean
sqlite_tx_refunded (CtStore  *base,
                    int64_t   id,
                    int64_t  *out_refunded,
                    GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT refunded FROM refund_totals WHERE tx_id = ?1", error);
  int rc = SQLITE_ERROR;

  *out_refunded = 0;
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        *out_refunded = sqlite3_column_int64 (st, 0);
      else if (rc != SQLITE_DONE)
        db_error (c->db, rc, "refunded", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* One conditional upsert: the row's total is the limit, whoever wrote it
 * first. No row back means the refund would pass the total. */
static gboolean
sqlite_refund_claim (CtStore  *base,
                     int64_t   tx_id,
                     int64_t   total,
                     int64_t   amount,
                     int64_t  *out_before,
                     GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO refund_totals (tx_id, total, refunded) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT (tx_id) DO UPDATE SET refunded = refunded + excluded.refunded"
                              " WHERE refunded + excluded.refunded <= total RETURNING refunded", error);
  int rc;

  *out_before = 0;
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, tx_id);
  sqlite3_bind_int64 (st, 2, total);
  sqlite3_bind_int64 (st, 3, amount);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *out_before = sqlite3_column_int64 (st, 0) - amount;
      rc = sqlite3_step (st);
    }
  else if (rc == SQLITE_DONE)
    {
      done (st);
      if (!sqlite_tx_refunded (base, tx_id, out_before, error))
        return FALSE;
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT,
                   "transaction %" G_GINT64_FORMAT " has %" G_GINT64_FORMAT " left to refund", tx_id,
                   total - *out_before);
      return FALSE;
    }
  done (st);
  if (rc != SQLITE_DONE)
    return db_error (c->db, rc, "refund", error);
  return TRUE;
}

static int64_t
balance_get (Conn        *c,
             CtStore     *base,
             const char  *account,
             GError     **error)
{
  sqlite3_stmt *st;
  int64_t v = -1;
  int rc;

  if (account[0] == '@')
    st = prep (c, "SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = ?1", error);
  else
    st = prep (c, "SELECT balance FROM cards WHERE merchant_id = ?99 AND card_no = ?1", error);
  if (st == NULL)
    return -1;
  bind_merchant (st, base);
  bind_text (st, 1, account);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  else if (rc == SQLITE_DONE)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no account %s", account);
  else
    db_error (c->db, rc, "balance", error);
  done (st);
  return v;
}

static int64_t
sqlite_account_balance (CtStore     *base,
                        const char  *account,
                        GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  int64_t v = balance_get (c, base, account, error);

  conn_give (store, c);
  return v;
}

/* Idempotency */

static char *
claim_name (int64_t     till_id,
            const char *key)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%s", till_id, key);
}

static gboolean
sqlite_claim_key (CtStore     *base,
                  int64_t      till_id,
                  const char  *key,
                  GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  char *name = claim_name (till_id, key);
  gboolean ok;

  g_mutex_lock (&store->claims_lock);
  ok = g_hash_table_add (store->claims, name);
  g_mutex_unlock (&store->claims_lock);
  if (!ok)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS,
                 "key %s of till %" G_GINT64_FORMAT " is in progress", key, till_id);
  return ok;
}

static void
sqlite_unclaim_key (CtStore     *base,
                    int64_t      till_id,
                    const char  *key)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  g_autofree char *name = claim_name (till_id, key);

  g_mutex_lock (&store->claims_lock);
  g_hash_table_remove (store->claims, name);
  g_mutex_unlock (&store->claims_lock);
}

static gboolean
sqlite_key_get (CtStore          *base,
                int64_t           till_id,
                const char       *key,
                CtStoreKeyState  *out_state,
                guint8            out_hash[32],
                guint            *out_status,
                char            **out_body,
                GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "SELECT hash, status, body FROM idempotency WHERE till_id = ?1 AND key = ?2", error);
  int rc;

  *out_state = CT_STORE_KEY_NEW;
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, till_id);
  bind_text (st, 2, key);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      const void *h = sqlite3_column_blob (st, 0);

      *out_state = CT_STORE_KEY_DONE;
      memset (out_hash, 0, 32);
      if (h != NULL && sqlite3_column_bytes (st, 0) == 32)
        memcpy (out_hash, h, 32);
      *out_status = (guint) sqlite3_column_int (st, 1);
      *out_body = col_text (st, 2);
    }
  done_rebound (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (c->db, rc, "idempotency", error);
  return TRUE;
}

static gboolean
sqlite_key_put (CtStore       *base,
                int64_t        till_id,
                const char    *key,
                const guint8   hash[32],
                guint          status,
                const char    *body,
                GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO idempotency (till_id, key, hash, status, body, created_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, till_id);
  bind_text (st, 2, key);
  sqlite3_bind_blob (st, 3, hash, 32, SQLITE_TRANSIENT);
  sqlite3_bind_int (st, 4, (int) status);
  bind_text (st, 5, body);
  sqlite3_bind_int64 (st, 6, ct_store_now_ms ());
  return step_rebound (c, st, "idempotency", error);
}

static gboolean
sqlite_key_expire (CtStore  *base,
                   int64_t   older_than_ms,
                   GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "DELETE FROM idempotency WHERE created_at < ?1", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, older_than_ms);
  return step_done (store->writer, st, "idempotency", error);
}

/* Reads */

static GPtrArray *
sqlite_find_cards (CtStore     *base,
                   const char  *phone,
                   const char  *name,
                   guint        limit,
                   GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  GPtrArray *list = NULL;
  sqlite3_stmt *st;

  if (phone != NULL)
    st = prep (c, "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = ?99 AND (phone = ?1 "
                  "OR (length (?1) = 4 AND substr (phone, -4) = ?1)) "
                  "ORDER BY created_at, card_no LIMIT ?2", error);
  else
    st = prep (c, "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = ?99"
                  " AND instr(lower(name), lower(?1)) > 0 ORDER BY created_at, card_no LIMIT ?2", error);
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, phone != NULL ? phone : name);
      sqlite3_bind_int (st, 2, (int) limit);
      list = collect_rows (c, st, sizeof (CtStoreCard), (RowFunc) card_from_row,
                           (GDestroyNotify) ct_store_card_free, "cards", error);
    }
  conn_give (store, c);
  return list;
}

static GPtrArray *
sqlite_card_history (CtStore     *base,
                     const char  *card_no,
                     int64_t      from_ms,
                     int64_t      to_ms,
                     int64_t      before_id,
                     guint        limit,
                     GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT " TX_COLUMNS " FROM transactions WHERE merchant_id = ?99 AND card_no = ?1"
                              " AND id < ?2 AND taken_at >= ?3 AND taken_at < ?4 ORDER BY id DESC LIMIT ?5",
                           error);
  GPtrArray *list = NULL;

  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, card_no);
      sqlite3_bind_int64 (st, 2, before_id > 0 ? before_id : G_MAXINT64);
      sqlite3_bind_int64 (st, 3, from_ms);
      sqlite3_bind_int64 (st, 4, to_ms);
      sqlite3_bind_int (st, 5, (int) limit);
      list = collect_rows (c, st, sizeof (CtStoreTx), (RowFunc) tx_from_row, (GDestroyNotify) ct_store_tx_free,
                           "transactions", error);
    }
  conn_give (store, c);
  return list;
}

static GPtrArray *
sqlite_store_day (CtStore     *base,
                  const char  *store_name,
                  const char  *till,
                  int64_t      from_ms,
                  int64_t      to_ms,
                  int64_t      after_id,
                  guint        limit,
                  GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT " TX_COLUMNS " FROM transactions WHERE merchant_id = ?99 AND taken_at >= ?1 "
                              "AND taken_at < ?2 AND store = ?3 AND (?4 IS NULL OR till = ?4) "
                              "AND +id > ?5 ORDER BY id LIMIT ?6", error);
  GPtrArray *list = NULL;

  if (st != NULL)
    {
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, from_ms);
      sqlite3_bind_int64 (st, 2, to_ms);
      bind_text (st, 3, store_name);
      bind_text (st, 4, till);
      sqlite3_bind_int64 (st, 5, after_id);
      sqlite3_bind_int64 (st, 6, limit);
      list = collect_rows (c, st, sizeof (CtStoreTx), (RowFunc) tx_from_row, (GDestroyNotify) ct_store_tx_free,
                           "transactions", error);
    }
  conn_give (store, c);
  return list;
}

static void
totals_from_row (sqlite3_stmt     *st,
                 int               first,
                 CtStoreDayTotals *t)
{
  int64_t *fields[CT_STORE_DAY_TOTALS_N];
  guint n = ct_store_day_totals_fields (t, fields);

  for (guint i = 0; i < n; i++)
    *fields[i] = sqlite3_column_int64 (st, first + (int) i);
}

/* A store's or till's totals: its store and till, then the totals. */
static void
place_totals_from_row (sqlite3_stmt     *st,
                       CtStoreDayTotals *t)
{
  t->store = col_text (st, 0);
  t->till = col_text (st, 1);
  totals_from_row (st, 2, t);
}

static GPtrArray *
sqlite_day_totals (CtStore     *base,
                   const char  *store_name,
                   const char  *till,
                   int64_t      from_ms,
                   int64_t      to_ms,
                   gboolean     by_till,
                   GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  GPtrArray *list = NULL;
  sqlite3_stmt *st;

  if (by_till)
    st = prep (c, "SELECT store, till," CT_STORE_DAY_TOTALS_SQL " FROM transactions WHERE merchant_id = ?99"
                  " AND taken_at >= ?1 AND taken_at < ?2 AND (?3 IS NULL OR store = ?3)"
                  " AND (?4 IS NULL OR till = ?4) GROUP BY store, till ORDER BY store, till", error);
  else
    st = prep (c, "SELECT ?3, ?4," CT_STORE_DAY_TOTALS_SQL " FROM transactions WHERE merchant_id = ?99"
                  " AND taken_at >= ?1 AND taken_at < ?2 AND store = ?3 AND (?4 IS NULL OR till = ?4)", error);
  if (st != NULL)
    {
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, from_ms);
      sqlite3_bind_int64 (st, 2, to_ms);
      bind_text (st, 3, store_name);
      bind_text (st, 4, till);
      list = collect_rows (c, st, sizeof (CtStoreDayTotals), (RowFunc) place_totals_from_row,
                           (GDestroyNotify) ct_store_day_totals_free, "day totals", error);
    }
  conn_give (store, c);
  return list;
}

static gboolean
sqlite_ledger_check (CtStore        *base,
                     CtStoreLedgerCheck  *out,
                     GError        **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  gboolean ok = FALSE;
  sqlite3_stmt *st;
  int rc;

  memset (out, 0, sizeof *out);
  /* One read transaction so every figure comes from the same snapshot. */
  if (!conn_exec (c, "BEGIN", error))
    goto out;
  st = prep (c, "SELECT (SELECT coalesce(sum(balance), 0) FROM cards WHERE merchant_id = ?99),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@pool'),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@cash'),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@promo'),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@legacy'),"
                " (SELECT coalesce(sum(amount), 0) FROM postings WHERE merchant_id = ?99),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@wechat'),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@alipay'),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@bank_card'),"
                " (SELECT balance FROM accounts WHERE merchant_id = ?99 AND name = '@other'),"
                " (SELECT count(*) FROM (SELECT account, sum(amount) AS s FROM postings WHERE merchant_id = ?99"
                "   GROUP BY account) p"
                "   LEFT JOIN cards ON cards.merchant_id = ?99 AND cards.card_no = p.account"
                "   LEFT JOIN accounts ON accounts.merchant_id = ?99 AND accounts.name = p.account"
                "   WHERE coalesce(cards.balance, accounts.balance) IS NOT p.s)"
                " + (SELECT count(*) FROM cards WHERE merchant_id = ?99 AND balance <> 0"
                "   AND card_no NOT IN (SELECT account FROM postings WHERE merchant_id = ?99))",
             error);
  if (st == NULL)
    goto rollback;
  bind_merchant (st, base);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      out->cards = sqlite3_column_int64 (st, 0);
      out->pool = sqlite3_column_int64 (st, 1);
      out->cash = sqlite3_column_int64 (st, 2);
      out->promo = sqlite3_column_int64 (st, 3);
      out->legacy = sqlite3_column_int64 (st, 4);
      out->postings_sum = sqlite3_column_int64 (st, 5);
      out->tenders[CT_TENDER_WECHAT] = sqlite3_column_int64 (st, 6);
      out->tenders[CT_TENDER_ALIPAY] = sqlite3_column_int64 (st, 7);
      out->tenders[CT_TENDER_BANK_CARD] = sqlite3_column_int64 (st, 8);
      out->tenders[CT_TENDER_OTHER] = sqlite3_column_int64 (st, 9);
      out->balances_match = sqlite3_column_int64 (st, 10) == 0;
      out->tenders[CT_TENDER_CASH] = out->cash;
      out->sum = out->cards + out->pool + out->promo + out->legacy;
      for (guint i = 0; i < CT_N_TENDERS; i++)
        out->sum += out->tenders[i];
      ok = TRUE;
    }
  else
    db_error (c->db, rc, "ledger check", error);
  done (st);
rollback:
  conn_exec (c, "COMMIT", NULL);
out:
  conn_give (store, c);
  return ok;
}

/* Shifts */

#define SHIFT_COLUMNS "id, store, till, operator, float_amount, opened_at, coalesce(closed_at, 0), closed_by, " \
                      "coalesce(counted_cash, 0)"

static void
shift_from_row (sqlite3_stmt *st,
                CtStoreShift *s)
{
  s->id = sqlite3_column_int64 (st, 0);
  s->store = col_text (st, 1);
  s->till = col_text (st, 2);
  s->operator_name = col_text (st, 3);
  s->float_amount = sqlite3_column_int64 (st, 4);
  s->opened_at = sqlite3_column_int64 (st, 5);
  s->closed_at = sqlite3_column_int64 (st, 6);
  s->closed_by = col_text (st, 7);
  s->counted_cash = sqlite3_column_int64 (st, 8);
}

static gboolean
sqlite_shift_open (CtStore       *base,
                   CtStoreShift  *shift,
                   GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO shifts (merchant_id, store, till, operator, float_amount, opened_at)"
                              " VALUES (?99, ?1, ?2, ?3, ?4, ?5)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, shift->store);
  bind_text (st, 2, shift->till);
  bind_text (st, 3, shift->operator_name);
  sqlite3_bind_int64 (st, 4, shift->float_amount);
  sqlite3_bind_int64 (st, 5, shift->opened_at);
  if (!step_done (c, st, "shift", error))
    return FALSE;
  shift->id = sqlite3_last_insert_rowid (c->db);
  return TRUE;
}

static gboolean
sqlite_shift_close (CtStore             *base,
                    const CtStoreShift  *shift,
                    GError             **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "UPDATE shifts SET closed_at = ?2, closed_by = ?3, counted_cash = ?4"
                              " WHERE merchant_id = ?99 AND id = ?1 AND closed_at IS NULL", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  sqlite3_bind_int64 (st, 1, shift->id);
  sqlite3_bind_int64 (st, 2, shift->closed_at);
  bind_text (st, 3, shift->closed_by);
  sqlite3_bind_int64 (st, 4, shift->counted_cash);
  if (!step_done (c, st, "shift", error))
    return FALSE;
  if (sqlite3_changes (c->db) == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS,
                   "shift %" G_GINT64_FORMAT " is closed already", shift->id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_shift_outcome_cash (CtStore  *base,
                           int64_t   shift_id,
                           int64_t   amount,
                           int64_t   audit_id,
                           int64_t   at_ms,
                           GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO outcome_cash (merchant_id, shift_id, amount, audit_id, created_at)"
                              " VALUES (?99, ?1, ?2, ?3, ?4)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  sqlite3_bind_int64 (st, 1, shift_id);
  sqlite3_bind_int64 (st, 2, amount);
  if (audit_id > 0)
    sqlite3_bind_int64 (st, 3, audit_id);
  sqlite3_bind_int64 (st, 4, at_ms);
  return step_done (c, st, "outcome cash", error);
}

static gboolean
sqlite_shift_get (CtStore       *base,
                  int64_t        id,
                  CtStoreShift  *out,
                  GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT " SHIFT_COLUMNS " FROM shifts WHERE merchant_id = ?99 AND id = ?1", error);
  int rc = SQLITE_ERROR;

  memset (out, 0, sizeof *out);
  if (st != NULL)
    {
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        shift_from_row (st, out);
      done (st);
      if (rc == SQLITE_DONE)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no shift %" G_GINT64_FORMAT, id);
      else if (rc != SQLITE_ROW)
        db_error (c->db, rc, "shift", error);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW;
}

static int64_t
sqlite_shift_at (CtStore     *base,
                 const char  *store_name,
                 const char  *till,
                 int64_t      at_ms,
                 GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT id FROM shifts WHERE merchant_id = ?99 AND store = ?1 AND till = ?2"
                              " AND opened_at <= ?3 AND (closed_at IS NULL OR closed_at > ?3)"
                              " ORDER BY opened_at DESC LIMIT 1", error);
  int64_t id = -1;
  int rc;

  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, store_name);
      bind_text (st, 2, till);
      sqlite3_bind_int64 (st, 3, at_ms);
      rc = sqlite3_step (st);
      id = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
      done_rebound (st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        {
          db_error (c->db, rc, "shift", error);
          id = -1;
        }
    }
  conn_give (store, c);
  return id;
}

static GPtrArray *
sqlite_shift_list (CtStore     *base,
                   const char  *store_name,
                   const char  *till,
                   int64_t      from_ms,
                   int64_t      to_ms,
                   GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT " SHIFT_COLUMNS " FROM shifts WHERE merchant_id = ?99 AND opened_at >= ?1"
                              " AND opened_at < ?2 AND (?3 IS NULL OR store = ?3) AND (?4 IS NULL OR till = ?4)"
                              " ORDER BY opened_at, id", error);
  GPtrArray *list = NULL;

  if (st != NULL)
    {
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, from_ms);
      sqlite3_bind_int64 (st, 2, to_ms);
      bind_text (st, 3, store_name);
      bind_text (st, 4, till);
      list = collect_rows (c, st, sizeof (CtStoreShift), (RowFunc) shift_from_row,
                           (GDestroyNotify) ct_store_shift_free, "shifts", error);
    }
  conn_give (store, c);
  return list;
}

static gboolean
sqlite_shift_totals (CtStore           *base,
                     int64_t            shift_id,
                     CtStoreDayTotals  *out,
                     GError           **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT" CT_STORE_DAY_TOTALS_SQL ","
                              " (SELECT coalesce (sum (amount), 0) FROM outcome_cash"
                              "  WHERE merchant_id = ?99 AND shift_id = ?1)"
                              " FROM transactions WHERE merchant_id = ?99 AND shift_id = ?1", error);
  int rc = SQLITE_ERROR;

  if (st != NULL)
    {
      int64_t *fields[CT_STORE_DAY_TOTALS_N];

      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, shift_id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          totals_from_row (st, 0, out);
          out->outcome_cash = sqlite3_column_int64 (st, (int) ct_store_day_totals_fields (out, fields));
        }
      done (st);
      if (rc != SQLITE_ROW)
        db_error (c->db, rc, "shift totals", error);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW;
}

/* Imports */

/* The card of an imported row, with its opening balance; when the number
 * is taken, which batch took it. */
static gboolean
import_card (CtStore                 *base,
             const CtStoreTx         *origin,
             const CtStoreImportRow  *row,
             CtStoreImportOutcome    *out_outcome,
             char                   **out_other_batch,
             GError                 **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;

  *out_other_batch = NULL;
  /* One insert with the opening balance rather than a card at 0 and a
   * posting that updates it: an import writes thousands of rows. */
  st = prep (c, "INSERT INTO cards (merchant_id, card_no, status, level, name, phone, balance, points,"
                " created_at, updated_at) VALUES (?99, ?1, 'active', ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
                " ON CONFLICT (merchant_id, card_no) DO NOTHING", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_static (st, 1, row->card_no);
  bind_static (st, 2, row->level);
  bind_static (st, 3, row->name);
  bind_static (st, 4, row->phone);
  sqlite3_bind_int64 (st, 5, row->balance);
  sqlite3_bind_int64 (st, 6, row->points);
  sqlite3_bind_int64 (st, 7, origin->created_at);
  if (!step_import (c, st, 7, "import card", error))
    return FALSE;

  if (sqlite3_changes (c->db) == 0)
    {
      int rc;

      st = prep (c, "SELECT order_ref FROM transactions WHERE merchant_id = ?99 AND card_no = ?1"
                    " AND kind = 'import' ORDER BY id LIMIT 1", error);
      if (st == NULL)
        return FALSE;
      bind_merchant (st, base);
      bind_text (st, 1, row->card_no);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW && sqlite3_column_type (st, 0) == SQLITE_TEXT)
        *out_other_batch = col_text (st, 0);
      done (st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error (c->db, rc, "import lookup", error);
      if (g_strcmp0 (*out_other_batch, origin->order_ref) == 0)
        {
          g_clear_pointer (out_other_batch, g_free);
          *out_outcome = CT_STORE_IMPORT_ALREADY_IN_BATCH;
        }
      else
        *out_outcome = CT_STORE_IMPORT_CARD_EXISTS;
      return TRUE;
    }
  *out_outcome = CT_STORE_IMPORT_INSERTED;
  return TRUE;
}

/* The opening transaction of an inserted card and its postings. */
static gboolean
import_tx (CtStore                 *base,
           const CtStoreTx         *origin,
           const CtStoreImportRow  *row,
           GError                 **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;
  int64_t tx_id;

  st = prep (c, "INSERT INTO transactions (merchant_id, card_no, kind, delta, bonus, balance_after,"
                " points_delta, points_after, store, till, operator, manager, reason, order_ref,"
                " refund_of, created_at, taken_at) VALUES (?99, ?1, 'import', ?2, 0, ?2, ?3, ?3, ?4, ?5, ?6,"
                " ?7, NULL, ?8, NULL, ?9, ?9)", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_static (st, 1, row->card_no);
  sqlite3_bind_int64 (st, 2, row->balance);
  sqlite3_bind_int64 (st, 3, row->points);
  bind_static (st, 4, origin->store);
  bind_static (st, 5, origin->till);
  bind_static (st, 6, origin->operator_name);
  bind_static (st, 7, origin->manager);
  bind_static (st, 8, origin->order_ref);
  sqlite3_bind_int64 (st, 9, origin->created_at);
  if (!step_import (c, st, 9, "import transaction", error))
    return FALSE;
  tx_id = sqlite3_last_insert_rowid (c->db);

  /* Both postings in one statement: legacy → card. */
  if (row->balance != 0)
    {
      st = prep (c, "INSERT INTO postings (merchant_id, tx_id, account, amount)"
                    " VALUES (?99, ?1, ?2, -?4), (?99, ?1, ?3, ?4)", error);
      if (st == NULL)
        return FALSE;
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, tx_id);
      bind_static (st, 2, CT_ACCOUNT_LEGACY);
      bind_static (st, 3, row->card_no);
      sqlite3_bind_int64 (st, 4, row->balance);
      if (!step_import (c, st, 4, "import postings", error))
        return FALSE;
    }
  return TRUE;
}


static gboolean
sqlite_import_row (CtStore                 *base,
                   const CtStoreTx         *origin,
                   const CtStoreImportRow  *row,
                   CtStoreImportOutcome    *out_outcome,
                   char                   **out_other_batch,
                   GError                 **error)
{
  if (!import_card (base, origin, row, out_outcome, out_other_batch, error))
    return FALSE;
  return *out_outcome != CT_STORE_IMPORT_INSERTED || import_tx (base, origin, row, error);
}

/* Rows whose cards (when none is taken) and transactions one statement
 * inserts: each statement's own
 * work (its start, its end, binding and unbinding) was a fifth of an
 * imported row's instructions when each row had its own two. */
#define IMPORT_GROUP 32

/* INSERT INTO transactions … VALUES (…), … for IMPORT_GROUP rows: ?1 the
 * merchant, ?2..?7 the origin, then card_no, balance, points of each row. */
static const char *
import_group_sql (void)
{
  static gsize made;
  static char *sql;

  if (g_once_init_enter (&made))
    {
      GString *text = g_string_new ("INSERT INTO transactions (merchant_id, card_no, kind, delta, bonus,"
                                    " balance_after, points_delta, points_after, store, till, operator,"
                                    " manager, reason, order_ref, refund_of, created_at, taken_at) VALUES ");

      for (int i = 0; i < IMPORT_GROUP; i++)
        {
          int p = 8 + 3 * i;

          g_string_append_printf (text, "%s(?1, ?%d, 'import', ?%d, 0, ?%d, ?%d, ?%d, ?2, ?3, ?4, ?5, NULL,"
                                  " ?6, NULL, ?7, ?7)", i > 0 ? ", " : "", p, p + 1, p + 1, p + 2, p + 2);
        }
      sql = g_string_free (text, FALSE);
      g_once_init_leave (&made, 1);
    }
  return sql;
}

/* The transactions of IMPORT_GROUP inserted cards in one statement, then
 * their postings (the legacy account's and the card's) in another, read
 * back from the transactions just written: their ids are the ones after
 * the largest before, one per row (no other writer; checked). */
static gboolean
import_tx_group (CtStore                 *base,
                 const CtStoreTx         *origin,
                 const CtStoreImportRow  *rows,
                 const guint             *which,
                 GError                 **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;
  int64_t before, last, with_postings = 0;
  int rc;

  st = prep (c, "SELECT coalesce (max (id), 0) FROM transactions", error);
  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  before = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
  done (st);
  if (rc != SQLITE_ROW)
    return db_error (c->db, rc, "import transactions", error);

  st = prep (c, import_group_sql (), error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, base->merchant);
  bind_static (st, 2, origin->store);
  bind_static (st, 3, origin->till);
  bind_static (st, 4, origin->operator_name);
  bind_static (st, 5, origin->manager);
  bind_static (st, 6, origin->order_ref);
  sqlite3_bind_int64 (st, 7, origin->created_at);
  for (int i = 0; i < IMPORT_GROUP; i++)
    {
      const CtStoreImportRow *row = &rows[which[i]];

      bind_static (st, 8 + 3 * i, row->card_no);
      sqlite3_bind_int64 (st, 9 + 3 * i, row->balance);
      sqlite3_bind_int64 (st, 10 + 3 * i, row->points);
      with_postings += row->balance != 0;
    }
  if (!step_import (c, st, 7 + 3 * IMPORT_GROUP, "import transactions", error))
    return FALSE;
  last = sqlite3_last_insert_rowid (c->db);
  if (sqlite3_changes (c->db) != IMPORT_GROUP || last != before + IMPORT_GROUP)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                   "import transactions: the ids after %" G_GINT64_FORMAT " are not the rows'", before);
      return FALSE;
    }
  if (with_postings == 0)
    return TRUE;

  st = prep (c, "INSERT INTO postings (merchant_id, tx_id, account, amount)"
                " SELECT ?99, id, ?3, -delta FROM transactions"
                "  WHERE id BETWEEN ?1 AND ?2 AND +merchant_id = ?99 AND delta <> 0"
                " UNION ALL SELECT ?99, id, card_no, delta FROM transactions"
                "  WHERE id BETWEEN ?1 AND ?2 AND +merchant_id = ?99 AND delta <> 0", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  sqlite3_bind_int64 (st, 1, before + 1);
  sqlite3_bind_int64 (st, 2, last);
  bind_static (st, 3, CT_ACCOUNT_LEGACY);
  if (!step_import (c, st, 3, "import postings", error))
    return FALSE;
  if (sqlite3_changes (c->db) != 2 * with_postings)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "import postings: %d rows for %" G_GINT64_FORMAT,
                   sqlite3_changes (c->db), with_postings);
      return FALSE;
    }
  return TRUE;
}

/* INSERT INTO cards … VALUES (…), … for IMPORT_GROUP rows: ?1 the merchant,
 * ?2 the time, then card_no, level, name, phone, balance, points of each. */
static const char *
import_cards_sql (void)
{
  static gsize made;
  static char *sql;

  if (g_once_init_enter (&made))
    {
      GString *text = g_string_new ("INSERT INTO cards (merchant_id, card_no, status, level, name, phone, balance,"
                                    " points, created_at, updated_at) VALUES ");

      for (int i = 0; i < IMPORT_GROUP; i++)
        {
          int p = 3 + 6 * i;

          g_string_append_printf (text, "%s(?1, ?%d, 'active', ?%d, ?%d, ?%d, ?%d, ?%d, ?2, ?2)",
                                  i > 0 ? ", " : "", p, p + 1, p + 2, p + 3, p + 4, p + 5);
        }
      sql = g_string_free (text, FALSE);
      g_once_init_leave (&made, 1);
    }
  return sql;
}

/* The cards of IMPORT_GROUP rows from @rows in one statement when none of
 * their numbers is taken (*@out_all set), the usual case. When one is,
 * the statement fails on the cards' key and SQLite undoes what it wrote
 * (a failed statement is rolled back, the transaction is not): nothing is
 * written and each row goes through import_card(). The key's own check
 * finds a taken number, so no lookup goes first (one was 5% of the
 * committer's time per imported row). */
static gboolean
import_card_group (CtStore                 *base,
                   const CtStoreTx         *origin,
                   const CtStoreImportRow  *rows,
                   gboolean                *out_all,
                   GError                 **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;
  int rc;

  *out_all = FALSE;
  st = prep (c, import_cards_sql (), error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, base->merchant);
  sqlite3_bind_int64 (st, 2, origin->created_at);
  for (int i = 0; i < IMPORT_GROUP; i++)
    {
      int p = 3 + 6 * i;

      bind_static (st, p, rows[i].card_no);
      bind_static (st, p + 1, rows[i].level);
      bind_static (st, p + 2, rows[i].name);
      bind_static (st, p + 3, rows[i].phone);
      sqlite3_bind_int64 (st, p + 4, rows[i].balance);
      sqlite3_bind_int64 (st, p + 5, rows[i].points);
    }
  rc = sqlite3_step (st);
  sqlite3_reset (st);
  for (int i = 1; i <= 2 + 6 * IMPORT_GROUP; i++)
    sqlite3_bind_null (st, i);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return TRUE; /* one is taken: row by row */
  if (rc != SQLITE_DONE)
    return db_error (c->db, rc, "import cards", error);
  *out_all = TRUE;
  return TRUE;
}

static gboolean
sqlite_import_rows (CtStore                 *base,
                    const CtStoreTx         *origin,
                    const CtStoreImportRow  *rows,
                    guint                    n,
                    CtStoreImportOutcome    *outcomes,
                    char                   **other_batches,
                    GError                 **error)
{
  g_autofree guint *inserted = g_new (guint, n);
  guint n_inserted = 0, i = 0;

  for (guint k = 0; k < n;)
    {
      gboolean grouped = k + IMPORT_GROUP <= n, all = FALSE;

      if (grouped && !import_card_group (base, origin, rows + k, &all, error))
        return FALSE;
      for (guint end = grouped ? k + IMPORT_GROUP : k + 1; k < end; k++)
        {
          other_batches[k] = NULL;
          if (all)
            outcomes[k] = CT_STORE_IMPORT_INSERTED;
          else if (!import_card (base, origin, &rows[k], &outcomes[k], &other_batches[k], error))
            return FALSE;
          if (outcomes[k] == CT_STORE_IMPORT_INSERTED)
            inserted[n_inserted++] = k;
        }
    }
  for (; i + IMPORT_GROUP <= n_inserted; i += IMPORT_GROUP)
    if (!import_tx_group (base, origin, rows, inserted + i, error))
      return FALSE;
  for (; i < n_inserted; i++)
    if (!import_tx (base, origin, &rows[inserted[i]], error))
      return FALSE;
  return TRUE;
}

static gboolean
sqlite_import_finish (CtStore                   *base,
                      const char                *batch_id,
                      const CtStoreImportBatch  *counts,
                      GError                   **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st;
  int64_t now = ct_store_now_ms ();

  if (counts->total_balance != 0)
    {
      /* @legacy has no floor: it holds minus every opening balance. */
      st = prep (c, "UPDATE accounts SET balance = balance - ?1 WHERE merchant_id = ?99 AND name = '@legacy'",
                 error);
      if (st == NULL)
        return FALSE;
      bind_merchant (st, base);
      sqlite3_bind_int64 (st, 1, counts->total_balance);
      if (!step_done (c, st, "import legacy account", error))
        return FALSE;
      if (sqlite3_changes (c->db) != 1)
        {
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "the legacy account is missing");
          return FALSE;
        }
    }
  st = prep (c, "INSERT INTO import_batches (merchant_id, batch_id, rows_accepted, rows_rejected, total_balance,"
                " total_points, created_at, updated_at) VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6, ?6)"
                " ON CONFLICT (merchant_id, batch_id) DO UPDATE SET"
                " rows_accepted = rows_accepted + excluded.rows_accepted,"
                " rows_rejected = rows_rejected + excluded.rows_rejected,"
                " total_balance = total_balance + excluded.total_balance,"
                " total_points = total_points + excluded.total_points,"
                " updated_at = excluded.updated_at", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, batch_id);
  sqlite3_bind_int64 (st, 2, counts->rows_accepted);
  sqlite3_bind_int64 (st, 3, counts->rows_rejected);
  sqlite3_bind_int64 (st, 4, counts->total_balance);
  sqlite3_bind_int64 (st, 5, counts->total_points);
  sqlite3_bind_int64 (st, 6, now);
  return step_done (c, st, "import batch", error);
}

static gboolean
sqlite_import_batch_get (CtStore             *base,
                         const char          *batch_id,
                         CtStoreImportBatch  *out,
                         GError             **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT rows_accepted, rows_rejected, total_balance, total_points"
                              " FROM import_batches WHERE merchant_id = ?99 AND batch_id = ?1", error);
  int rc = SQLITE_ERROR;

  memset (out, 0, sizeof *out);
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, batch_id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          out->rows_accepted = sqlite3_column_int64 (st, 0);
          out->rows_rejected = sqlite3_column_int64 (st, 1);
          out->total_balance = sqlite3_column_int64 (st, 2);
          out->total_points = sqlite3_column_int64 (st, 3);
        }
      else if (rc == SQLITE_DONE)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no import batch %s", batch_id);
      else
        db_error (c->db, rc, "import batch", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW;
}

/* Wallet connectors and their outbox */

static gboolean
sqlite_wallet_connector_put (CtStore            *base,
                             CtWalletConnector  *c,
                             GError            **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *w = store->writer;
  sqlite3_stmt *st = prep (w, "INSERT INTO wallet_connectors (merchant_id, merchant, kind, app_id, serial_no,"
                              " private_key, public_key, template_id, gateway)"
                              " VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                              " ON CONFLICT (merchant, kind) DO UPDATE SET app_id = excluded.app_id,"
                              " serial_no = excluded.serial_no, private_key = excluded.private_key,"
                              " public_key = excluded.public_key, template_id = excluded.template_id,"
                              " gateway = excluded.gateway RETURNING id", error);
  int rc;

  tx_lists_forget (store);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, c->merchant);
  bind_text (st, 2, ct_wallet_kind_to_string (c->kind));
  bind_text (st, 3, c->app_id);
  bind_text (st, 4, c->serial_no);
  bind_text (st, 5, c->private_key);
  bind_text (st, 6, c->public_key);
  bind_text (st, 7, c->template_id);
  bind_text (st, 8, c->gateway);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      c->id = sqlite3_column_int64 (st, 0);
      rc = sqlite3_step (st);
    }
  done (st);
  if (rc != SQLITE_DONE)
    return db_error (w->db, rc, "wallet connector", error);
  return TRUE;
}

static gboolean
sqlite_wallet_connector_remove (CtStore       *base,
                                const char    *merchant,
                                CtWalletKind   kind,
                                GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *w = store->writer;
  sqlite3_stmt *st = prep (w, "DELETE FROM wallet_connectors WHERE merchant_id = ?99 AND merchant = ?1"
                              " AND kind = ?2 RETURNING id", error);
  int64_t id = 0;
  int rc;

  tx_lists_forget (store);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, merchant);
  bind_text (st, 2, ct_wallet_kind_to_string (kind));
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (st, 0);
      rc = sqlite3_step (st);
    }
  done (st);
  if (rc != SQLITE_DONE)
    return db_error (w->db, rc, "wallet connector", error);
  if (id == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "merchant %s has no %s connector",
                   merchant, ct_wallet_kind_to_string (kind));
      return FALSE;
    }
  /* Delivered and refused messages stay as history; the undelivered ones
   * and the card links go with the connector. */
  st = prep (w, "DELETE FROM wallet_outbox WHERE connector_id = ?1 AND state = 'pending'", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  if (!step_done (w, st, "wallet outbox", error))
    return FALSE;
  st = prep (w, "DELETE FROM wallet_cards WHERE connector_id = ?1", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  return step_done (w, st, "wallet cards", error);
}

static GPtrArray *
sqlite_wallet_connectors (CtStore  *base,
                          GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  GPtrArray *list = tx_list_get (store, c, store->tx_connectors, base);
  sqlite3_stmt *st;
  int rc = SQLITE_ERROR;

  if (list != NULL)
    {
      conn_give (store, c);
      return list;
    }
  st = prep (c, "SELECT id, merchant, kind, app_id, serial_no, private_key, public_key,"
                " template_id, gateway FROM wallet_connectors"
                " WHERE ?99 = 0 OR merchant_id = ?99 ORDER BY id", error);
  if (st != NULL)
    {
      bind_merchant (st, base);
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_connector_free);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          CtWalletConnector *conn = g_new0 (CtWalletConnector, 1);
          g_autofree char *kind = col_text (st, 2);

          conn->id = sqlite3_column_int64 (st, 0);
          conn->merchant = col_text (st, 1);
          if (!ct_wallet_kind_from_string (kind, &conn->kind))
            {
              ct_wallet_connector_free (conn);
              continue;
            }
          conn->app_id = col_text (st, 3);
          conn->serial_no = col_text (st, 4);
          conn->private_key = col_text (st, 5);
          conn->public_key = col_text (st, 6);
          conn->template_id = col_text (st, 7);
          conn->gateway = col_text (st, 8);
          g_ptr_array_add (list, conn);
        }
      done_rebound (st);
      if (rc != SQLITE_DONE)
        {
          db_error (c->db, rc, "wallet connectors", error);
          g_clear_pointer (&list, g_ptr_array_unref);
        }
      tx_list_keep (store, c, store->tx_connectors, base, list);
    }
  conn_give (store, c);
  return list;
}

static gboolean
sqlite_wallet_enqueue (CtStore          *base,
                       CtWalletMessage  *msg,
                       int64_t           now_ms,
                       GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *w = store->writer;
  sqlite3_stmt *st = prep (w, "INSERT INTO wallet_outbox (connector_id, card_no, method, request_no,"
                              " payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, msg->connector_id);
  bind_text (st, 2, msg->card_no);
  bind_text (st, 3, msg->method);
  bind_text (st, 4, msg->request_no);
  bind_text (st, 5, msg->payload);
  sqlite3_bind_int64 (st, 6, now_ms);
  if (!step_done (w, st, "wallet outbox", error))
    return FALSE;
  msg->id = sqlite3_last_insert_rowid (w->db);
  return TRUE;
}

static GPtrArray *
sqlite_wallet_due (CtStore  *base,
                   int64_t   now_ms,
                   guint     limit,
                   int64_t   lease_until_ms,
                   GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  /* The head of each card's queue, and only when it is due: a message
   * waiting for its retry holds back the later ones of its card. Taking
   * them moves their next attempt to the lease's end. */
  sqlite3_stmt *st = prep (c, "UPDATE wallet_outbox SET next_at = ?3 WHERE id IN"
                              " (SELECT o.id FROM wallet_outbox o"
                              "  WHERE o.state = 'pending' AND o.next_at <= ?1"
                              "  AND o.id = (SELECT min (p.id) FROM wallet_outbox p"
                              "    WHERE p.state = 'pending' AND p.connector_id = o.connector_id"
                              "    AND p.card_no = o.card_no)"
                              "  ORDER BY o.id LIMIT ?2)"
                              " RETURNING id, connector_id, card_no, method, request_no, payload, attempts",
                           error);
  GPtrArray *list = NULL;
  int rc;

  if (st != NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_message_free);
      sqlite3_bind_int64 (st, 1, now_ms);
      sqlite3_bind_int64 (st, 2, limit);
      sqlite3_bind_int64 (st, 3, lease_until_ms);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          CtWalletMessage *m = g_new0 (CtWalletMessage, 1);

          m->id = sqlite3_column_int64 (st, 0);
          m->connector_id = sqlite3_column_int64 (st, 1);
          m->card_no = col_text (st, 2);
          m->method = col_text (st, 3);
          m->request_no = col_text (st, 4);
          m->payload = col_text (st, 5);
          m->attempts = (guint) sqlite3_column_int64 (st, 6);
          g_ptr_array_add (list, m);
        }
      done (st);
      if (rc != SQLITE_DONE)
        {
          db_error (c->db, rc, "wallet outbox", error);
          g_clear_pointer (&list, g_ptr_array_unref);
        }
      else
        g_ptr_array_sort (list, ct_wallet_message_compare);
    }
  return list;
}

static gboolean
sqlite_wallet_link_get (CtStore     *base,
                        int64_t      connector_id,
                        const char  *card_no,
                        char       **out,
                        GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT biz_card_no FROM wallet_cards WHERE connector_id = ?1"
                              " AND card_no = ?2", error);
  int rc = SQLITE_ERROR;

  *out = NULL;
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, connector_id);
      bind_text (st, 2, card_no);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        *out = col_text (st, 0);
      else if (rc != SQLITE_DONE)
        db_error (c->db, rc, "wallet cards", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static gboolean
sqlite_wallet_link_put (CtStore     *base,
                        int64_t      connector_id,
                        const char  *card_no,
                        const char  *biz_card_no,
                        GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *w = store->writer;
  sqlite3_stmt *st = prep (w, "INSERT INTO wallet_cards (connector_id, card_no, biz_card_no)"
                              " VALUES (?1, ?2, ?3) ON CONFLICT (connector_id, card_no)"
                              " DO UPDATE SET biz_card_no = excluded.biz_card_no", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, connector_id);
  bind_text (st, 2, card_no);
  bind_text (st, 3, biz_card_no);
  return step_done (w, st, "wallet cards", error);
}

static gboolean
sqlite_wallet_settle (CtStore          *base,
                      int64_t           id,
                      CtWalletOutcome   outcome,
                      int64_t           next_at_ms,
                      const char       *reason,
                      int64_t           now_ms,
                      GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *w = store->writer;
  sqlite3_stmt *st;

  switch (outcome)
    {
    case CT_WALLET_DELIVERED:
      st = prep (w, "UPDATE wallet_outbox SET state = 'delivered', attempts = attempts + 1,"
                    " last_error = NULL, settled_at = ?2 WHERE id = ?1", error);
      break;
    case CT_WALLET_REFUSED:
      st = prep (w, "UPDATE wallet_outbox SET state = 'refused', attempts = attempts + 1,"
                    " last_error = ?3, settled_at = ?2 WHERE id = ?1", error);
      break;
    case CT_WALLET_RETRY:
      st = prep (w, "UPDATE wallet_outbox SET attempts = attempts + 1, last_error = ?3,"
                    " next_at = ?4 WHERE id = ?1 AND state = 'pending'", error);
      break;
    default:
      g_assert_not_reached ();
    }
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  sqlite3_bind_int64 (st, 2, now_ms);
  if (outcome != CT_WALLET_DELIVERED)
    bind_text (st, 3, reason);
  if (outcome == CT_WALLET_RETRY)
    sqlite3_bind_int64 (st, 4, next_at_ms);
  return step_done (w, st, "wallet outbox", error);
}

static gboolean
sqlite_wallet_status (CtStore              *base,
                      int64_t               connector_id,
                      int64_t               since_ms,
                      CtStoreWalletStatus  *out,
                      GError              **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st;
  int rc = SQLITE_ERROR;

  st = prep (c, "SELECT count (*), min (created_at),"
                " (SELECT last_error FROM wallet_outbox WHERE connector_id = ?1 AND state = 'pending'"
                "  AND last_error IS NOT NULL ORDER BY next_at DESC LIMIT 1),"
                " (SELECT count (*) FROM wallet_outbox WHERE connector_id = ?1 AND state = 'delivered'"
                "  AND settled_at >= ?2),"
                " (SELECT count (*) FROM wallet_outbox WHERE connector_id = ?1 AND state = 'refused')"
                " FROM wallet_outbox WHERE connector_id = ?1 AND state = 'pending'", error);
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, connector_id);
      sqlite3_bind_int64 (st, 2, since_ms);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          out->pending = sqlite3_column_int64 (st, 0);
          out->oldest_pending_ms = sqlite3_column_int64 (st, 1);
          out->last_error = col_text (st, 2);
          out->delivered_since = sqlite3_column_int64 (st, 3);
          out->refused = sqlite3_column_int64 (st, 4);
        }
      else
        db_error (c->db, rc, "wallet status", error);
      done (st);
    }
  if (rc == SQLITE_ROW)
    {
      st = prep (c, "SELECT card_no, method, request_no, last_error, settled_at FROM wallet_outbox"
                    " WHERE connector_id = ?1 AND state = 'refused' ORDER BY settled_at DESC, id DESC"
                    " LIMIT 20", error);
      rc = SQLITE_ERROR;
      if (st != NULL)
        {
          sqlite3_bind_int64 (st, 1, connector_id);
          while ((rc = sqlite3_step (st)) == SQLITE_ROW)
            {
              CtStoreWalletRefusal *r = g_new0 (CtStoreWalletRefusal, 1);

              r->card_no = col_text (st, 0);
              r->method = col_text (st, 1);
              r->request_no = col_text (st, 2);
              r->reason = col_text (st, 3);
              r->settled_at = sqlite3_column_int64 (st, 4);
              g_ptr_array_add (out->refusals, r);
            }
          done (st);
          if (rc != SQLITE_DONE)
            db_error (c->db, rc, "wallet status", error);
        }
    }
  conn_give (store, c);
  return rc == SQLITE_DONE;
}

/* Member links and payment codes */

static gboolean
sqlite_member_link_put (CtStore       *base,
                        const char    *card_no,
                        const guint8   token_hash[32],
                        const guint8  *secret,
                        gsize          secret_len,
                        int64_t        now_ms,
                        GError       **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO member_links (merchant_id, card_no, token_hash, secret, code_step,"
                              " created_at) VALUES (?99, ?1, ?2, ?3, 0, ?4) ON CONFLICT (merchant_id, card_no)"
                              " DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
                           error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  sqlite3_bind_blob (st, 2, token_hash, 32, SQLITE_TRANSIENT);
  sqlite3_bind_blob (st, 3, secret, (int) secret_len, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, now_ms);
  return step_done (c, st, "member link", error);
}

static gboolean
member_link_select (CtStore        *base,
                    const char     *sql,
                    const void     *key,
                    int             key_len,
                    int64_t        *out_merchant,
                    char          **out_card_no,
                    GBytes        **out_secret,
                    GError        **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, sql, error);
  int rc = SQLITE_ERROR;

  if (st != NULL)
    {
      if (sqlite3_bind_parameter_count (st) == MERCHANT_PARAM)
        bind_merchant (st, base);
      if (key_len < 0)
        bind_text (st, 1, key);
      else
        sqlite3_bind_blob (st, 1, key, key_len, SQLITE_TRANSIENT);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          if (out_card_no != NULL)
            *out_card_no = col_text (st, 0);
          if (out_secret != NULL)
            *out_secret = g_bytes_new (sqlite3_column_blob (st, 1), sqlite3_column_bytes (st, 1));
          if (out_merchant != NULL)
            *out_merchant = sqlite3_column_int64 (st, 2);
        }
      else if (rc == SQLITE_DONE)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no member link");
      else
        db_error (c->db, rc, "member link", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW;
}

static gboolean
sqlite_member_link_get (CtStore       *base,
                        const guint8   token_hash[32],
                        int64_t       *out_merchant,
                        char         **out_card_no,
                        GBytes       **out_secret,
                        GError       **error)
{
  return member_link_select (base,
                             "SELECT card_no, secret, merchant_id FROM member_links WHERE token_hash = ?1",
                             token_hash, 32, out_merchant, out_card_no, out_secret, error);
}

static gboolean
sqlite_member_secret_get (CtStore     *base,
                          const char  *card_no,
                          GBytes     **out_secret,
                          GError     **error)
{
  return member_link_select (base,
                             "SELECT card_no, secret, merchant_id FROM member_links"
                             " WHERE merchant_id = ?99 AND card_no = ?1",
                             card_no, -1, NULL, NULL, out_secret, error);
}

static gboolean
sqlite_member_code_take (CtStore     *base,
                         const char  *card_no,
                         int64_t      step,
                         GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "UPDATE member_links SET code_step = ?2 WHERE merchant_id = ?99 AND card_no = ?1"
                              " AND code_step < ?2", error);
  int rc;

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  sqlite3_bind_int64 (st, 2, step);
  rc = sqlite3_step (st);
  done (st);
  if (rc != SQLITE_DONE)
    return db_error (c->db, rc, "member code", error);
  if (sqlite3_changes (c->db) == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "this payment code of %s was used", card_no);
      return FALSE;
    }
  return TRUE;
}

/* Member PINs */

static gboolean
sqlite_member_pin_get (CtStore          *base,
                       const char       *card_no,
                       char            **out_hash,
                       CtStorePinGuard  *out_guard,
                       GError          **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT pin_hash, failures, lockouts, last_failure_at, locked_until FROM member_pins"
                              " WHERE merchant_id = ?99 AND card_no = ?1", error);
  gboolean ok = FALSE;
  int rc;

  *out_hash = NULL;
  *out_guard = (CtStorePinGuard) { .pin_short = -1 };
  if (st != NULL)
    {
      bind_merchant (st, base);
      bind_text (st, 1, card_no);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          *out_hash = col_text (st, 0);
          out_guard->failures = sqlite3_column_int (st, 1);
          out_guard->lockouts = sqlite3_column_int (st, 2);
          out_guard->last_failure_at = sqlite3_column_int64 (st, 3);
          out_guard->locked_until = sqlite3_column_int64 (st, 4);
        }
      ok = rc == SQLITE_ROW || rc == SQLITE_DONE || db_error (c->db, rc, "member PIN", error);
      done (st);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
sqlite_member_pin_put (CtStore     *base,
                       const char  *card_no,
                       const char  *pin_hash,
                       int64_t      now_ms,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer,
                           "INSERT OR REPLACE INTO member_pins (merchant_id, card_no, pin_hash, updated_at)"
                           " VALUES (?99, ?1, ?2, ?3)", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  bind_text (st, 2, pin_hash);
  sqlite3_bind_int64 (st, 3, now_ms);
  return step_done (store->writer, st, "member PIN", error);
}

static gboolean
sqlite_member_pin_guard_put (CtStore               *base,
                             const char            *card_no,
                             const CtStorePinGuard *g,
                             GError               **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer,
                           "UPDATE member_pins SET failures = ?2, lockouts = ?3, last_failure_at = ?4,"
                           " locked_until = ?5 WHERE merchant_id = ?99 AND card_no = ?1", error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  sqlite3_bind_int (st, 2, g->failures);
  sqlite3_bind_int (st, 3, g->lockouts);
  sqlite3_bind_int64 (st, 4, g->last_failure_at);
  sqlite3_bind_int64 (st, 5, g->locked_until);
  return step_done (store->writer, st, "member PIN", error);
}

static gboolean
sqlite_redemption_put (CtStore     *base,
                       int64_t      tx_id,
                       int64_t      points,
                       int64_t      value,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  sqlite3_stmt *st = prep (c, "INSERT INTO redemptions (tx_id, points, value) VALUES (?1, ?2, ?3)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, tx_id);
  sqlite3_bind_int64 (st, 2, points);
  sqlite3_bind_int64 (st, 3, value);
  return step_done (c, st, "redemption", error);
}

static gboolean
sqlite_redemption_get (CtStore     *base,
                       int64_t      tx_id,
                       int64_t     *out_points,
                       int64_t     *out_value,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  sqlite3_stmt *st = prep (c, "SELECT points, value FROM redemptions WHERE tx_id = ?1", error);
  int rc = SQLITE_ERROR;

  *out_points = *out_value = 0;
  if (st != NULL)
    {
      sqlite3_bind_int64 (st, 1, tx_id);
      rc = sqlite3_step (st);
      if (rc == SQLITE_ROW)
        {
          *out_points = sqlite3_column_int64 (st, 0);
          *out_value = sqlite3_column_int64 (st, 1);
        }
      else if (rc != SQLITE_DONE)
        db_error (c->db, rc, "redemption", error);
      done (st);
    }
  conn_give (store, c);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Levels */

#define LEVEL_COLUMNS "id, name, min_spend, points_multiplier_bp, discount_bp, topup_bonus_bp"

static void
level_from_row (sqlite3_stmt *st,
                CtStoreLevel *level)
{
  level->id = col_text (st, 0);
  level->name = col_text (st, 1);
  level->min_spend = sqlite3_column_int64 (st, 2);
  level->points_multiplier_bp = sqlite3_column_int64 (st, 3);
  level->discount_bp = sqlite3_column_int64 (st, 4);
  level->topup_bonus_bp = sqlite3_column_int64 (st, 5);
}

static GPtrArray *
sqlite_level_list (CtStore  *base,
                   GError  **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = conn_take (store);
  GPtrArray *list = tx_list_get (store, c, store->tx_levels, base);
  sqlite3_stmt *st;

  if (list != NULL)
    {
      conn_give (store, c);
      return list;
    }
  st = prep (c, "SELECT " LEVEL_COLUMNS " FROM levels WHERE merchant_id = ?99 ORDER BY min_spend, id", error);
  if (st != NULL)
    {
      bind_merchant (st, base);
      list = collect_rows (c, st, sizeof (CtStoreLevel), (RowFunc) level_from_row,
                           (GDestroyNotify) ct_store_level_free, "levels", error);
      tx_list_keep (store, c, store->tx_levels, base, list);
    }
  conn_give (store, c);
  return list;
}

static gboolean
sqlite_level_put (CtStore             *base,
                  const CtStoreLevel  *level,
                  GError             **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer,
                           "INSERT INTO levels (merchant_id, " LEVEL_COLUMNS ") VALUES (?99, ?1, ?2, ?3, ?4, ?5, ?6)"
                           " ON CONFLICT (merchant_id, id) DO UPDATE SET name = excluded.name,"
                           " min_spend = excluded.min_spend, points_multiplier_bp = excluded.points_multiplier_bp,"
                           " discount_bp = excluded.discount_bp, topup_bonus_bp = excluded.topup_bonus_bp",
                           error);

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, level->id);
  bind_text (st, 2, level->name);
  sqlite3_bind_int64 (st, 3, level->min_spend);
  sqlite3_bind_int64 (st, 4, level->points_multiplier_bp);
  sqlite3_bind_int64 (st, 5, level->discount_bp);
  sqlite3_bind_int64 (st, 6, level->topup_bonus_bp);
  tx_lists_forget (store);
  return step_done (store->writer, st, "level", error);
}

static gboolean
sqlite_level_remove (CtStore     *base,
                     const char  *id,
                     GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer, "DELETE FROM levels WHERE merchant_id = ?99 AND id = ?1", error);

  tx_lists_forget (store);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, id);
  return step_done (store->writer, st, "level", error)
      && expect_one_change (store->writer, "level", id, error);
}

static gboolean
sqlite_card_add_spend (CtStore     *base,
                       const char  *card_no,
                       int64_t      delta,
                       int64_t     *out_spend,
                       GError     **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  Conn *c = store->writer;
  /* No RETURNING: SQLite runs one through a temporary table of its own,
   * which cost more than the upsert and a read of the row together (33,000
   * instructions against 12,000 per payment). */
  sqlite3_stmt *st = prep (c, "INSERT INTO card_spend (merchant_id, card_no, spend) VALUES (?99, ?1, max (?2, 0))"
                              " ON CONFLICT (merchant_id, card_no) DO UPDATE SET spend = max (spend + ?2, 0)", error);
  int rc;

  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  sqlite3_bind_int64 (st, 2, delta);
  if (!step_rebound (c, st, "spend", error))
    return FALSE;
  st = prep (c, "SELECT spend FROM card_spend WHERE merchant_id = ?99 AND card_no = ?1", error);
  if (st == NULL)
    return FALSE;
  bind_merchant (st, base);
  bind_text (st, 1, card_no);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    *out_spend = sqlite3_column_int64 (st, 0);
  done_rebound (st);
  if (rc != SQLITE_ROW)
    return db_error (c->db, rc, "spend", error);
  return TRUE;
}

static gboolean
sqlite_benefit_put (CtStore               *base,
                    int64_t                tx_id,
                    const CtStoreBenefit  *b,
                    GError               **error)
{
  CtSqliteStore *store = (CtSqliteStore *) base->root;
  sqlite3_stmt *st = prep (store->writer,
                           "INSERT INTO tx_benefits (tx_id, level, order_amount, discount, points_multiplier_bp,"
                           " topup_bonus) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, tx_id);
  bind_text (st, 2, b->level);
  sqlite3_bind_int64 (st, 3, b->order_amount);
  sqlite3_bind_int64 (st, 4, b->discount);
  sqlite3_bind_int64 (st, 5, b->points_multiplier_bp);
  sqlite3_bind_int64 (st, 6, b->topup_bonus);
  return step_done (store->writer, st, "benefit", error);
}

static const CtStoreBackend sqlite_backend = {
  .name = "sqlite",
  .batches_writes = TRUE,
  .write_count = sqlite_write_count,
  .tills_version = sqlite_tills_version,
  .free = sqlite_free,
  .set_busy_timeout = sqlite_set_busy_timeout,
  .begin = sqlite_begin,
  .commit = sqlite_commit,
  .rollback = sqlite_rollback,
  .savepoint = sqlite_savepoint,
  .rollback_savepoint = sqlite_rollback_savepoint,
  .release_savepoint = sqlite_release_savepoint,
  .merchant_add = sqlite_merchant_add,
  .merchant_find = sqlite_merchant_find,
  .merchant_list = sqlite_merchant_list,
  .get_merchant = sqlite_get_merchant,
  .set_merchant = sqlite_set_merchant,
  .list_packages = sqlite_list_packages,
  .get_package = sqlite_get_package,
  .put_package = sqlite_put_package,
  .remove_package = sqlite_remove_package,
  .till_put = sqlite_till_put,
  .till_revoke = sqlite_till_revoke,
  .till_by_token = sqlite_till_by_token,
  .till_get = sqlite_till_get,
  .manager_put = sqlite_manager_put,
  .manager_remove = sqlite_manager_remove,
  .manager_get = sqlite_manager_get,
  .pin_guard_get = sqlite_pin_guard_get,
  .pin_guard_put = sqlite_pin_guard_put,
  .manager_list = sqlite_manager_list,
  .cashier_put = sqlite_cashier_put,
  .cashier_remove = sqlite_cashier_remove,
  .cashier_get = sqlite_cashier_get,
  .cashier_list = sqlite_cashier_list,
  .audit_add = sqlite_audit_add,
  .audit_list = sqlite_audit_list,
  .card_get = sqlite_card_get,
  .card_insert = sqlite_card_insert,
  .card_update = sqlite_card_update,
  .card_replace = sqlite_card_replace,
  .card_replaced_into = sqlite_card_replaced_into,
  .card_add_points = sqlite_card_add_points,
  .card_event = sqlite_card_event,
  .post = sqlite_post,
  .post_card = sqlite_post_card,
  .tx_insert = sqlite_tx_insert,
  .tx_get = sqlite_tx_get,
  .tx_refunded = sqlite_tx_refunded,
  .refund_claim = sqlite_refund_claim,
  .account_balance = sqlite_account_balance,
  .claim_key = sqlite_claim_key,
  .unclaim_key = sqlite_unclaim_key,
  .key_get = sqlite_key_get,
  .key_put = sqlite_key_put,
  .key_expire = sqlite_key_expire,
  .find_cards = sqlite_find_cards,
  .card_history = sqlite_card_history,
  .store_day = sqlite_store_day,
  .day_totals = sqlite_day_totals,
  .ledger_check = sqlite_ledger_check,
  .shift_open = sqlite_shift_open,
  .shift_close = sqlite_shift_close,
  .shift_get = sqlite_shift_get,
  .shift_at = sqlite_shift_at,
  .shift_list = sqlite_shift_list,
  .shift_totals = sqlite_shift_totals,
  .shift_outcome_cash = sqlite_shift_outcome_cash,
  .import_row = sqlite_import_row,
  .import_rows = sqlite_import_rows,
  .import_finish = sqlite_import_finish,
  .import_batch_get = sqlite_import_batch_get,
  .wallet_connector_put = sqlite_wallet_connector_put,
  .wallet_connector_remove = sqlite_wallet_connector_remove,
  .wallet_connectors = sqlite_wallet_connectors,
  .wallet_enqueue = sqlite_wallet_enqueue,
  .wallet_due = sqlite_wallet_due,
  .wallet_link_get = sqlite_wallet_link_get,
  .wallet_link_put = sqlite_wallet_link_put,
  .wallet_settle = sqlite_wallet_settle,
  .wallet_status = sqlite_wallet_status,
  .member_link_put = sqlite_member_link_put,
  .member_link_get = sqlite_member_link_get,
  .member_secret_get = sqlite_member_secret_get,
  .member_code_take = sqlite_member_code_take,
  .member_pin_get = sqlite_member_pin_get,
  .member_pin_put = sqlite_member_pin_put,
  .member_pin_guard_put = sqlite_member_pin_guard_put,
  .redemption_put = sqlite_redemption_put,
  .redemption_get = sqlite_redemption_get,
  .level_list = sqlite_level_list,
  .level_put = sqlite_level_put,
  .level_remove = sqlite_level_remove,
  .card_add_spend = sqlite_card_add_spend,
  .benefit_put = sqlite_benefit_put,
};
