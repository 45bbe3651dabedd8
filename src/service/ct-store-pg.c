/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-store-pg"
#include "config.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "ct-store-private.h"
#include "ct-store.h"

/* The PostgreSQL store: a pool of connections shared by any number of
 * service processes over one database. Nothing that decides money lives in
 * a process: balance floors are conditional updates and CHECK constraints,
 * refund-once and card numbers are unique constraints, an Idempotency-Key
 * is claimed with a transaction-level advisory lock (it ends with the
 * transaction, so a process killed -9 leaves no claim behind) and its
 * answer is a row written in the same transaction.
 *
 * No hot row: the accounts every payment or top-up touches (pool, cash,
 * promo, legacy) are split into SLOTS rows. A credit, and any posting on an
 * account without a floor, goes to the slot of the connection that makes
 * it; a debit of the pool, which must not overdraw, locks all its slots in
 * slot order and spends across them (ct_post_account()). Card rows are
 * locked before slots, so two transactions take their locks in one order.
 *
 * A thread inside ct_store_begin()/ct_store_commit() owns one connection
 * until the commit; every store call it makes meanwhile runs on that
 * connection. The service runs a group of requests in one transaction
 * (ct-service.c): the transaction counts what it wrote
 * (ct_store_write_count()), so that a request refused after a write makes
 * the group run again; the merchant's settings, levels and connectors are
 * read by its first claim for the claims after it; and its credits to the
 * connection's slots are summed and written once, before anything else
 * touches a slot, before a savepoint and at the commit; its transaction
 * rows, postings and stored answers are held back too and inserted as one
 * statement each (Batch). A deadlock or serialization failure marks the transaction,
 * and its commit fails with CT_STORE_ERROR_RETRY so the caller runs the
 * request again.
 *
 * Round trips are what a payment costs on a busy machine, so a request
 * makes as few as it can (docs/performance.md): transaction control and
 * writes whose answer nobody reads go with the next statement (libpq's
 * pipeline mode), the claim of a key reads in its own round trip what the
 * request reads next (and what it named ahead: its till, its card locked,
 * the card's spend, its shift, an id for its transaction), and the card
 * held locked is kept as the transaction sees it, so that its postings,
 * points and spend wait for the commit's round trip too. */

#define SCHEMA_VERSION 13
#define SLOTS 64
#define SLOT_LOCK 7244 /* the advisory lock class of the slots */

typedef struct _CtPgStore CtPgStore;

/* The writes each request of a group makes once, in the order they are
 * sent (a posting names its transaction row): its inserts, then the
 * update of the card it holds locked and of that card's spend. */
typedef enum
{
  BATCH_TX,
  BATCH_POSTINGS,
  BATCH_KEY,
  BATCH_CARD,
  BATCH_SPEND,
  N_BATCH
} BatchKind;

#define BATCH_ROWS 32 /* rows a statement at most: a group's requests */

typedef struct
{
  CtPgStore  *store;
  PGconn     *pg;
  int         slot;       /* this connection's slot of the split accounts */
  gboolean    in_tx;
  gboolean    retry;      /* the transaction hit a deadlock or serialization failure */
  gint64      writes;     /* statements that wrote or failed, for pg_write_count() */
  GPtrArray  *deferred;   /* Deferred: commands not sent yet */
  PGresult   *card_after; /* the card row the last posting left, until the next statement */
  int64_t     card_after_merchant;
  /* Read with the claim of a key, in its round trip (pg_claim_key()); each
   * answers one call of this transaction and goes at its end. */
  int64_t     pre_merchant;
  PGresult   *pre_settings;
  PGresult   *pre_levels;
  PGresult   *pre_connectors;
  /* The merchant's settings, levels and connectors as the first claim of
   * the transaction read them, for the claims after it (a group of writes
   * reads them once, as the SQLite store's group does); a write to any of
   * them drops them. */
  int64_t     tx_merchant;
  PGresult   *tx_settings;
  PGresult   *tx_levels;
  PGresult   *tx_connectors;
  int64_t     pre_till;
  char       *pre_key_name;
  PGresult   *pre_key;
  /* What the write named ahead of its claim (pg_read_ahead()), read in
   * the claim's round trip; each answers the matching call only. */
  gboolean    ahead_till;
  guint8      ahead_till_hash[32];
  char       *ahead_card_no;
  char       *ahead_shift_store;
  char       *ahead_shift_till;
  int64_t     ahead_shift_at;
  PGresult   *pre_till_row;
  PGresult   *pre_shift;
  /* The till and the shift as a claim of the transaction read them, for
   * the later claims that name the same (a group's requests come from a
   * few tills, at a few moments); a write to tills or shifts drops them. */
  guint8      tx_till_hash[32];
  PGresult   *tx_till_row;
  int64_t     tx_shift_merchant;
  char       *tx_shift_store;
  char       *tx_shift_till;
  int64_t     tx_shift_at;
  PGresult   *tx_shift;
  /* The card this transaction holds locked (read FOR NO KEY UPDATE), as
   * the transaction sees it: the store's own writes to it (a posting, its
   * points, its spend) change this copy and go with the next round trip,
   * since no other transaction can change the row before the commit. Any
   * other write to a card drops it. */
  gboolean    has_locked;
  int64_t     locked_merchant;
  CtStoreCard locked;
  gboolean    has_spend;  /* the locked card's spend is known */
  int64_t     spend;
  int64_t     next_tx_id; /* a transaction id drawn with the claim, or 0 */
  /* Credits to this connection's slots not written yet (Credit), summed
   * per account: a group of payments credits the pool's slot once, at
   * its commit, instead of once each, every update a new version of one
   * row the next update walks to. Written before anything else reads or
   * writes a slot, before a savepoint and at the commit. */
  GArray     *credits;
  /* Rows held back for the group's inserts of many rows (Batch): each a
   * Deferred of one row; and the statements of 2 to BATCH_ROWS rows,
   * prepared on first use. */
  GPtrArray  *batched[N_BATCH];
  char       *batch_names[N_BATCH][BATCH_ROWS + 1];
  GHashTable *prepared;   /* SQL literal -> statement name */
  guint       n_prepared;
} PgConn;

struct _CtPgStore
{
  CtStore      parent;
  char        *uri;
  char        *where;     /* the URI without its password, for messages */
  GAsyncQueue *idle;
  guint        n_conns;
  guint        lock_timeout_ms;
};

static const CtStoreBackend pg_backend;

/* The connection a thread holds between begin and commit. */
static GPrivate current_conn;

/* Schema. migrations[i] takes a database from version i to i + 1; init
 * applies them all, upgrade the ones a database lacks, each run in one
 * transaction. */

/* ct_post_account()'s declarations, and its debit of an account with a
 * floor, as schema 6 wrote them and schema 13 keeps them. */
#define POST_ACCOUNT_DECLARE \
  "DECLARE" \
  "  has_floor boolean;" \
  "  total bigint;" \
  "  rest bigint := -amount;" \
  "  r record;" \
  "BEGIN"
#define POST_ACCOUNT_DEBIT \
  "  SELECT sum (s.balance) INTO total FROM (SELECT balance FROM account_slots" \
  "    WHERE merchant_id = m AND name = acct ORDER BY slot FOR UPDATE) s;" \
  "  IF total < rest THEN RETURN false; END IF;" \
  "  FOR r IN SELECT slot, balance FROM account_slots WHERE merchant_id = m AND name = acct AND balance > 0" \
  "      ORDER BY slot LOOP" \
  "    EXIT WHEN rest = 0;" \
  "    UPDATE account_slots SET balance = balance - least (r.balance, rest)" \
  "      WHERE merchant_id = m AND name = acct AND slot = r.slot;" \
  "    rest := rest - least (r.balance, rest);" \
  "  END LOOP;" \
  "  RETURN true;" \
  "END $$;"

static const char *const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE schema_version (version integer NOT NULL);"
  "CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);"
  "CREATE TABLE packages (id text PRIMARY KEY, amount bigint NOT NULL, bonus bigint NOT NULL,"
  "  bonus_bp bigint NOT NULL, position bigint NOT NULL);"
  "CREATE TABLE tills (id bigserial PRIMARY KEY, store text NOT NULL, name text NOT NULL,"
  "  token_hash bytea NOT NULL UNIQUE, revoked boolean NOT NULL DEFAULT false, UNIQUE (store, name));"
  "CREATE TABLE managers (id text PRIMARY KEY, pin_hash text NOT NULL,"
  "  failures integer NOT NULL DEFAULT 0, locked_until bigint NOT NULL DEFAULT 0);"
  "CREATE TABLE account_slots (name text NOT NULL, slot integer NOT NULL, balance bigint NOT NULL,"
  "  floor_zero boolean NOT NULL, PRIMARY KEY (name, slot), CHECK (NOT floor_zero OR balance >= 0));"
  "INSERT INTO account_slots SELECT a.name, s, 0, a.name = '@pool'"
  "  FROM (VALUES ('@pool'), ('@cash'), ('@promo'), ('@legacy'), ('@wechat'), ('@alipay'), ('@bank_card'),"
  "    ('@other')) a (name), generate_series (0, 63) s;"
  "CREATE TABLE cards (card_no text PRIMARY KEY, status text NOT NULL, level text, name text, phone text,"
  "  balance bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),"
  "  points bigint NOT NULL DEFAULT 0 CHECK (points >= 0),"
  "  created_at bigint NOT NULL, updated_at bigint NOT NULL);"
  "CREATE INDEX cards_phone ON cards (phone);"
  "CREATE TABLE transactions (id bigserial PRIMARY KEY, card_no text NOT NULL, kind text NOT NULL,"
  "  delta bigint NOT NULL, bonus bigint NOT NULL, balance_after bigint NOT NULL,"
  "  points_delta bigint NOT NULL, points_after bigint NOT NULL, store text NOT NULL, till text NOT NULL,"
  "  operator text, manager text, reason text, order_ref text, refund_of bigint UNIQUE,"
  "  created_at bigint NOT NULL, tender text, shift_id bigint, taken_at bigint NOT NULL);"
  "CREATE INDEX transactions_card ON transactions (card_no, id);"
  "CREATE INDEX transactions_time ON transactions (created_at);"
  "CREATE INDEX transactions_taken ON transactions (taken_at);"
  "CREATE INDEX transactions_shift ON transactions (shift_id) WHERE shift_id IS NOT NULL;"
  "CREATE TABLE shifts (id bigserial PRIMARY KEY, store text NOT NULL, till text NOT NULL,"
  "  operator text NOT NULL, float_amount bigint NOT NULL, opened_at bigint NOT NULL,"
  "  closed_at bigint, closed_by text, counted_cash bigint);"
  "CREATE UNIQUE INDEX shifts_open ON shifts (store, till) WHERE closed_at IS NULL;"
  "CREATE INDEX shifts_till ON shifts (store, till, opened_at);"
  "CREATE INDEX shifts_day ON shifts (opened_at);"
  "CREATE TABLE postings (tx_id bigint NOT NULL, account text NOT NULL, amount bigint NOT NULL);"
  "CREATE INDEX postings_account ON postings (account);"
  "CREATE TABLE idempotency (till_id bigint NOT NULL, key text NOT NULL, hash bytea NOT NULL,"
  "  status integer NOT NULL, body text NOT NULL, created_at bigint NOT NULL,"
  "  PRIMARY KEY (till_id, key));"
  "CREATE INDEX idempotency_time ON idempotency (created_at);"
  "CREATE TABLE card_events (id bigserial PRIMARY KEY, card_no text NOT NULL, kind text NOT NULL,"
  "  detail text, store text NOT NULL, till text NOT NULL, operator text, manager text,"
  "  created_at bigint NOT NULL);"
  "CREATE INDEX card_events_card ON card_events (card_no, id);"
  "CREATE TABLE import_batches (batch_id text PRIMARY KEY, rows_accepted bigint NOT NULL,"
  "  rows_rejected bigint NOT NULL, total_balance bigint NOT NULL, total_points bigint NOT NULL,"
  "  created_at bigint NOT NULL, updated_at bigint NOT NULL);"
  "CREATE TABLE wallet_connectors (id bigserial PRIMARY KEY, merchant text NOT NULL, kind text NOT NULL,"
  "  app_id text NOT NULL, serial_no text, private_key text NOT NULL, public_key text NOT NULL,"
  "  template_id text NOT NULL, gateway text NOT NULL, UNIQUE (merchant, kind));"
  "CREATE TABLE wallet_outbox (id bigserial PRIMARY KEY, connector_id bigint NOT NULL,"
  "  card_no text NOT NULL, method text NOT NULL, request_no text NOT NULL, payload text NOT NULL,"
  "  state text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,"
  "  next_at bigint NOT NULL DEFAULT 0, last_error text, created_at bigint NOT NULL, settled_at bigint);"
  "CREATE INDEX wallet_outbox_pending ON wallet_outbox (connector_id, card_no, id) WHERE state = 'pending';"
  "CREATE INDEX wallet_outbox_settled ON wallet_outbox (connector_id, state, settled_at);"
  "CREATE TABLE wallet_cards (connector_id bigint NOT NULL, card_no text NOT NULL,"
  "  biz_card_no text NOT NULL, PRIMARY KEY (connector_id, card_no));"
  "CREATE TABLE member_links (card_no text PRIMARY KEY, token_hash bytea NOT NULL UNIQUE,"
  "  secret bytea NOT NULL, code_step bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL);"
  "CREATE TABLE redemptions (tx_id bigint PRIMARY KEY, points bigint NOT NULL CHECK (points > 0),"
  "  value bigint NOT NULL CHECK (value > 0));"
  /* A posting on a split account: a credit, or any posting on an account
   * without a floor, goes to the caller's slot; a debit of an account with
   * a floor locks every slot in slot order and spends across them, or
   * refuses (false) when together they hold too little. */
  "CREATE FUNCTION ct_post_account (acct text, my_slot integer, amount bigint) RETURNS boolean"
  "  LANGUAGE plpgsql AS $$"
  "DECLARE"
  "  has_floor boolean;"
  "  total bigint;"
  "  rest bigint := -amount;"
  "  r record;"
  "BEGIN"
  "  SELECT floor_zero INTO has_floor FROM account_slots WHERE name = acct AND slot = my_slot;"
  "  IF has_floor IS NULL THEN RAISE EXCEPTION 'no account %', acct; END IF;"
  "  IF amount >= 0 OR NOT has_floor THEN"
  "    UPDATE account_slots SET balance = balance + amount WHERE name = acct AND slot = my_slot;"
  "    RETURN true;"
  "  END IF;"
  "  SELECT sum (s.balance) INTO total FROM"
  "    (SELECT balance FROM account_slots WHERE name = acct ORDER BY slot FOR UPDATE) s;"
  "  IF total < rest THEN RETURN false; END IF;"
  "  FOR r IN SELECT slot, balance FROM account_slots WHERE name = acct AND balance > 0 ORDER BY slot LOOP"
  "    EXIT WHEN rest = 0;"
  "    UPDATE account_slots SET balance = balance - least (r.balance, rest)"
  "      WHERE name = acct AND slot = r.slot;"
  "    rest := rest - least (r.balance, rest);"
  "  END LOOP;"
  "  RETURN true;"
  "END $$;",
  /* 1 → 2: the PIN guard of each manager id and the audit log. */
  "CREATE TABLE pin_guard (manager_id text PRIMARY KEY, failures integer NOT NULL DEFAULT 0,"
  "  lockouts integer NOT NULL DEFAULT 0, last_failure_at bigint NOT NULL DEFAULT 0,"
  "  locked_until bigint NOT NULL DEFAULT 0, pin_short integer NOT NULL DEFAULT -1);"
  "CREATE TABLE audit (id bigserial PRIMARY KEY, created_at bigint NOT NULL, store text, till text,"
  "  manager text, action text NOT NULL, card_no text, detail text);"
  "CREATE INDEX audit_time ON audit (created_at);",
  /* 2 → 3: the cashiers who sign in at the tills; their PIN guards live in
   * pin_guard under "cashier/ID" (ct_store_cashier_guard_id()). */
  "CREATE TABLE cashiers (id text PRIMARY KEY, name text NOT NULL, pin_hash text NOT NULL,"
  "  created_at bigint NOT NULL);",
  /* 3 → 4: levels by spend. Each level text cards had becomes a level of
   * that id and name given by a manager only (min_spend 0) with no
   * benefits, so the cards keep it; each card's spend is its balance
   * payments less their refunds so far. */
  "CREATE TABLE levels (merchant_id bigint NOT NULL DEFAULT 1, id text NOT NULL, name text NOT NULL,"
  "  min_spend bigint NOT NULL CHECK (min_spend >= 0), points_multiplier_bp bigint NOT NULL,"
  "  discount_bp bigint NOT NULL, topup_bonus_bp bigint NOT NULL, PRIMARY KEY (merchant_id, id));"
  "CREATE TABLE card_spend (merchant_id bigint NOT NULL DEFAULT 1, card_no text NOT NULL,"
  "  spend bigint NOT NULL CHECK (spend >= 0), PRIMARY KEY (merchant_id, card_no));"
  "CREATE TABLE tx_benefits (tx_id bigint PRIMARY KEY, level text NOT NULL, order_amount bigint NOT NULL,"
  "  discount bigint NOT NULL, points_multiplier_bp bigint NOT NULL, topup_bonus bigint NOT NULL);"
  "INSERT INTO levels (id, name, min_spend, points_multiplier_bp, discount_bp, topup_bonus_bp)"
  "  SELECT DISTINCT level, level, 0, 10000, 0, 0 FROM cards WHERE level IS NOT NULL AND level <> '';"
  "INSERT INTO card_spend (card_no, spend) SELECT card_no, greatest (0, sum (-delta)) FROM transactions"
  "  WHERE kind = 'payment' OR (kind = 'refund' AND refund_of IN"
  "    (SELECT id FROM transactions WHERE kind = 'payment')) GROUP BY card_no;",
  /* 4 → 5: a card's transactions by the till's day, so a day's history
   * never walks the card's newer transactions; no index on the booking
   * time, which nothing asks by. */
  "DROP INDEX IF EXISTS transactions_card;"
  "DROP INDEX IF EXISTS transactions_time;"
  "CREATE INDEX IF NOT EXISTS transactions_card_day ON transactions (card_no, taken_at);",
  /* 5 → 6: several merchants. Every row of a merchant's cards, accounts,
   * ledger, packages, tills, managers, cashiers, imports, member links, shifts and
   * audit log names its merchant, and what was unique in the service is
   * unique within a merchant. The rows there were belong to the first
   * merchant, "main". */
  "CREATE TABLE merchants (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE);"
  "INSERT INTO merchants (id, code) VALUES (1, 'main');"
  "SELECT setval ('merchants_id_seq', 1);"
  "CREATE TABLE merchant_settings (merchant_id bigint NOT NULL, key text NOT NULL, value text NOT NULL,"
  "  PRIMARY KEY (merchant_id, key));"
  "INSERT INTO merchant_settings SELECT 1, key, value FROM settings;"
  "DROP TABLE settings;"
  "ALTER TABLE packages ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE packages DROP CONSTRAINT packages_pkey, ADD PRIMARY KEY (merchant_id, id);"
  "ALTER TABLE tills ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE tills DROP CONSTRAINT tills_store_name_key, ADD UNIQUE (merchant_id, store, name);"
  "ALTER TABLE managers ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE managers DROP CONSTRAINT managers_pkey, ADD PRIMARY KEY (merchant_id, id);"
  "ALTER TABLE cashiers ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE cashiers DROP CONSTRAINT cashiers_pkey, ADD PRIMARY KEY (merchant_id, id);"
  "ALTER TABLE pin_guard ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE pin_guard DROP CONSTRAINT pin_guard_pkey, ADD PRIMARY KEY (merchant_id, manager_id);"
  "ALTER TABLE account_slots ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE account_slots DROP CONSTRAINT account_slots_pkey, ADD PRIMARY KEY (merchant_id, name, slot);"
  "ALTER TABLE cards ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE cards DROP CONSTRAINT cards_pkey, ADD PRIMARY KEY (merchant_id, card_no);"
  "DROP INDEX cards_phone; CREATE INDEX cards_phone ON cards (merchant_id, phone);"
  "ALTER TABLE transactions ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "DROP INDEX transactions_card_day;"
  "CREATE INDEX transactions_card_day ON transactions (merchant_id, card_no, taken_at);"
  "DROP INDEX transactions_taken; CREATE INDEX transactions_taken ON transactions (merchant_id, taken_at);"
  "ALTER TABLE postings ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "DROP INDEX postings_account; CREATE INDEX postings_account ON postings (merchant_id, account);"
  "ALTER TABLE card_events ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "DROP INDEX card_events_card; CREATE INDEX card_events_card ON card_events (merchant_id, card_no, id);"
  "ALTER TABLE import_batches ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE import_batches DROP CONSTRAINT import_batches_pkey, ADD PRIMARY KEY (merchant_id, batch_id);"
  "ALTER TABLE audit ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE wallet_connectors ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE member_links ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "ALTER TABLE member_links DROP CONSTRAINT member_links_pkey, ADD PRIMARY KEY (merchant_id, card_no);"
  "ALTER TABLE shifts ADD COLUMN merchant_id bigint NOT NULL DEFAULT 1;"
  "DROP INDEX shifts_open; CREATE UNIQUE INDEX shifts_open ON shifts (merchant_id, store, till)"
  "  WHERE closed_at IS NULL;"
  "DROP INDEX shifts_till; CREATE INDEX shifts_till ON shifts (merchant_id, store, till, opened_at);"
  /* From now on every row names its merchant: a statement that forgets
   * fails rather than write into the first merchant. */
  "ALTER TABLE packages ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE tills ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE managers ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE cashiers ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE levels ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE card_spend ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE pin_guard ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE account_slots ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE cards ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE transactions ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE postings ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE card_events ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE import_batches ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE audit ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE wallet_connectors ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE member_links ALTER COLUMN merchant_id DROP DEFAULT;"
  "ALTER TABLE shifts ALTER COLUMN merchant_id DROP DEFAULT;"
  "DROP FUNCTION ct_post_account (text, integer, bigint);"
  "CREATE FUNCTION ct_post_account (m bigint, acct text, my_slot integer, amount bigint) RETURNS boolean"
  "  LANGUAGE plpgsql AS $$"
  POST_ACCOUNT_DECLARE
  "  SELECT floor_zero INTO has_floor FROM account_slots WHERE merchant_id = m AND name = acct AND slot = my_slot;"
  "  IF has_floor IS NULL THEN RAISE EXCEPTION 'no account %', acct; END IF;"
  "  IF amount >= 0 OR NOT has_floor THEN"
  "    UPDATE account_slots SET balance = balance + amount"
  "      WHERE merchant_id = m AND name = acct AND slot = my_slot;"
  "    RETURN true;"
  "  END IF;"
  POST_ACCOUNT_DEBIT,
  /* 6 → 7: cash a manager handed back from a shift's drawer, recorded
   * with an outcome (POST /v1/outcomes); it leaves the shift's expected
   * cash. */
  "CREATE TABLE outcome_cash (id bigserial PRIMARY KEY, merchant_id bigint NOT NULL, shift_id bigint NOT NULL,"
  "  amount bigint NOT NULL CHECK (amount > 0), audit_id bigint, created_at bigint NOT NULL);"
  "CREATE INDEX outcome_cash_shift ON outcome_cash (merchant_id, shift_id);",
  /* 7 → 8: the member's PIN of each card (a salted slow hash, never the
   * PIN) with its guard against guessing, beside the card. */
  "CREATE TABLE member_pins (merchant_id bigint NOT NULL, card_no text NOT NULL, pin_hash text NOT NULL,"
  "  failures integer NOT NULL DEFAULT 0, lockouts integer NOT NULL DEFAULT 0,"
  "  last_failure_at bigint NOT NULL DEFAULT 0, locked_until bigint NOT NULL DEFAULT 0,"
  "  updated_at bigint NOT NULL, PRIMARY KEY (merchant_id, card_no));",
  /* 8 → 9: a split payment's rest, the part of the order another tender
   * took when the card held too little, and that tender; a refund of it
   * records the rest it gave back. */
  "ALTER TABLE transactions ADD COLUMN rest bigint;"
  "ALTER TABLE transactions ADD COLUMN rest_tender text;",
  /* 9 → 10: partial refunds. A payment may be refunded in parts, so
   * refund_of is no longer unique; what refunds gave back of each
   * transaction is kept in refund_totals, whose conditional upsert decides
   * a race (the second waits for the first's row). Refunds from before
   * were whole. */
  "ALTER TABLE transactions DROP CONSTRAINT transactions_refund_of_key;"
  "CREATE INDEX transactions_refund_of ON transactions (refund_of) WHERE refund_of IS NOT NULL;"
  "CREATE TABLE refund_totals (tx_id bigint PRIMARY KEY, total bigint NOT NULL, refunded bigint NOT NULL,"
  "  CHECK (refunded >= 0 AND refunded <= total));"
  "INSERT INTO refund_totals (tx_id, total, refunded) SELECT id, t, t FROM"
  "  (SELECT p.id, CASE p.kind WHEN 'payment' THEN -p.delta"
  "     + coalesce ((SELECT r.value FROM redemptions r WHERE r.tx_id = p.id), 0) ELSE p.delta END AS t"
  "   FROM transactions p WHERE p.id IN (SELECT refund_of FROM transactions WHERE kind = 'refund')) s;",
  /* 10 → 11: a lost card replaced by another is closed and names the card
   * that replaced it. */
  "ALTER TABLE cards ADD COLUMN replaced_by text;",
  /* 11 → 12: the level a payment moved its card up to, so a receipt
   * printed again later still shows the move. Payments booked before it
   * have none. */
  "ALTER TABLE transactions ADD COLUMN level_up text;",
  /* 12 → 13: fewer index entries and statements per payment. No query
   * reads postings by account (the ledger check sums a merchant's postings
   * whole), so their index goes. The stored answers are only ever dropped
   * by age, oldest first, in the order they were written: a BRIN index of
   * their time finds them, where a b-tree took an entry for each answer.
   * A credit of a split account (every payment's pool slot) updates its
   * slot at once and looks at the floor only for a debit. */
  "DROP INDEX IF EXISTS postings_account;"
  "DROP INDEX IF EXISTS idempotency_time;"
  "CREATE INDEX idempotency_time ON idempotency USING brin (created_at);"
  "CREATE OR REPLACE FUNCTION ct_post_account (m bigint, acct text, my_slot integer, amount bigint)"
  "  RETURNS boolean LANGUAGE plpgsql AS $$"
  POST_ACCOUNT_DECLARE
  "  IF amount >= 0 THEN"
  "    UPDATE account_slots SET balance = balance + amount"
  "      WHERE merchant_id = m AND name = acct AND slot = my_slot;"
  "    IF NOT FOUND THEN RAISE EXCEPTION 'no account %', acct; END IF;"
  "    RETURN true;"
  "  END IF;"
  "  SELECT floor_zero INTO has_floor FROM account_slots WHERE merchant_id = m AND name = acct AND slot = my_slot;"
  "  IF has_floor IS NULL THEN RAISE EXCEPTION 'no account %', acct; END IF;"
  "  IF NOT has_floor THEN"
  "    UPDATE account_slots SET balance = balance + amount"
  "      WHERE merchant_id = m AND name = acct AND slot = my_slot;"
  "    RETURN true;"
  "  END IF;"
  POST_ACCOUNT_DEBIT,
};

/* A new merchant's ledger accounts, SLOTS rows each: only the pool has a
 * floor. */
#define MERCHANT_ACCOUNTS_SQL \
  "INSERT INTO account_slots (merchant_id, name, slot, balance, floor_zero)" \
  " SELECT $1, a.name, s, 0, a.name = '@pool' FROM (VALUES ('@pool'), ('@cash'), ('@promo'), ('@legacy')," \
  "  ('@wechat'), ('@alipay'), ('@bank_card'), ('@other')) a (name), generate_series (0, 63) s"


#define LATEST_VERSION ((int) G_N_ELEMENTS (migrations))
G_STATIC_ASSERT (LATEST_VERSION == SCHEMA_VERSION);

/* Parameters, as text */

#define PARAMS_MAX 24

typedef struct
{
  const char *v[PARAMS_MAX];
  char        buf[PARAMS_MAX][72];
  int         n;
} Params;

static void
p_text (Params     *p,
        const char *s)
{
  g_assert (p->n < PARAMS_MAX);
  p->v[p->n++] = s;
}

static void
p_int (Params  *p,
       int64_t  x)
{
  g_assert (p->n < PARAMS_MAX);
  g_snprintf (p->buf[p->n], sizeof p->buf[p->n], "%" G_GINT64_FORMAT, x);
  p->v[p->n] = p->buf[p->n];
  p->n++;
}

/* The merchant a call acts inside, as the next parameter. */
static void
p_merchant (Params  *p,
            CtStore *base)
{
  p_int (p, base->merchant);
}

/* A 32-byte hash as bytea's hex input. */
static void
p_hash (Params       *p,
        const guint8  h[32])
{
  char *b = p->buf[p->n];

  g_assert (p->n < PARAMS_MAX);
  b[0] = '\\';
  b[1] = 'x';
  for (int i = 0; i < 32; i++)
    g_snprintf (b + 2 + 2 * i, 3, "%02x", h[i]);
  p->v[p->n] = b;
  p->n++;
}

/* Any bytes as bytea's hex input. */
static char *
bytea_hex (const guint8 *data,
           gsize         len)
{
  GString *out = g_string_sized_new (2 + 2 * len);

  g_string_append (out, "\\x");
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", data[i]);
  return g_string_free (out, FALSE);
}

static gboolean
hash_from_text (const char *text,
                guint8      out[32])
{
  size_t len = 0;
  unsigned char *raw = PQunescapeBytea ((const unsigned char *) text, &len);
  gboolean ok = raw != NULL && len == 32;

  memset (out, 0, 32);
  if (ok)
    memcpy (out, raw, 32);
  PQfreemem (raw);
  return ok;
}

static char *
col_text (PGresult *res,
          int       row,
          int       col)
{
  if (PQgetisnull (res, row, col))
    return NULL;
  return g_strdup (PQgetvalue (res, row, col));
}

static int64_t
col_int (PGresult *res,
         int       row,
         int       col)
{
  if (PQgetisnull (res, row, col))
    return 0;
  return g_ascii_strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static gboolean
col_bool (PGresult *res,
          int       row,
          int       col)
{
  return !PQgetisnull (res, row, col) && PQgetvalue (res, row, col)[0] == 't';
}

/* Connections */

/* libpq's messages come on several lines; a log line and a till's
 * sentence want one. */
static char *
one_line (const char *message)
{
  g_auto(GStrv) words = g_strsplit_set (message ? message : "failed", " \t\n", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      g_string_append_printf (out, "%s%s", out->len > 0 ? " " : "", words[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The URI with its password masked, to name the database in messages. */
static char *
describe_uri (const char *uri)
{
  PQconninfoOption *opts = PQconninfoParse (uri, NULL);
  const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
  char *text;

  if (opts == NULL)
    return g_strdup ("the database");
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
    {
      if (o->val == NULL)
        continue;
      if (g_str_equal (o->keyword, "host"))
        host = o->val;
      else if (g_str_equal (o->keyword, "port"))
        port = o->val;
      else if (g_str_equal (o->keyword, "dbname"))
        db = o->val;
      else if (g_str_equal (o->keyword, "user"))
        user = o->val;
    }
  text = g_strdup_printf ("database \"%s\"%s%s on %s%s%s", db ? db : "(default)",
                          user ? " as " : "", user ? user : "",
                          host ? host : "the local socket", port ? " port " : "", port ? port : "");
  PQconninfoFree (opts);
  return text;
}

/* A CHECK constraint refused a write. The balance floors (a card's,
 * the pool's slots) are what the service checks itself before it writes;
 * one that still fires, from a write deferred to the commit, says the
 * card (CT_STORE_ERROR_INSUFFICIENT) or the merchant's pool
 * (CT_STORE_ERROR_INSUFFICIENT_POOL) holds too little: the answer that
 * follows names the one that is short, as a refusal found before the
 * write does. Any other rule the database enforces is named, as a
 * failure. */
static gboolean
check_fail (PGresult    *res,
            const char  *what,
            GError     **error)
{
  const char *constraint = PQresultErrorField (res, PG_DIAG_CONSTRAINT_NAME);
  const char *table = PQresultErrorField (res, PG_DIAG_TABLE_NAME);
  g_autofree char *clean = one_line (PQresultErrorMessage (res));

  if (g_strcmp0 (constraint, "account_slots_check") == 0)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT_POOL,
                 "%s: the database refused to take the merchant's pool below zero (%s): %s", what,
                 constraint, clean);
  else if (g_strcmp0 (constraint, "cards_balance_check") == 0)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT,
                 "%s: the database refused to take a balance of %s below zero (%s): %s", what,
                 table ? table : "a table", constraint, clean);
  else
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                 "%s: the database refused a write that breaks its rule %s on %s: %s", what,
                 constraint ? constraint : "(unnamed)", table ? table : "a table", clean);
  return FALSE;
}

static gboolean
pg_fail (PgConn      *c,
         PGresult    *res,
         const char  *what,
         GError     **error)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorMessage (res) : PQerrorMessage (c->pg);
  int code = CT_STORE_ERROR_FAILED;
  g_autofree char *clean = one_line (msg);

  /* A statement that failed left the transaction aborted: as far as a
   * group of requests is concerned, it changed it. */
  c->writes++;
  if (state != NULL)
    {
      if (g_str_equal (state, "23505"))
        code = CT_STORE_ERROR_EXISTS;
      else if (g_str_equal (state, "23514"))
        return check_fail (res, what, error);
      else if (g_str_equal (state, "40001") || g_str_equal (state, "40P01"))
        {
          code = CT_STORE_ERROR_RETRY;
          c->retry = TRUE;
        }
    }
  if (PQstatus (c->pg) != CONNECTION_OK)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "%s: lost the connection to %s: %s",
                 what, c->store->where, clean);
  else
    g_set_error (error, CT_STORE_ERROR, code, "%s: %s", what, clean);
  return FALSE;
}

/* A command sent with the next round trip: transaction control (a string
 * literal without parameters) or a write whose answer nobody reads (a
 * prepared statement with copies of its parameters). */
typedef struct
{
  const char *sql;
  const char *name;  /* the prepared statement, or NULL */
  const char *what;
  int         n;
  char      **values;
} Deferred;

static void
deferred_free (Deferred *d)
{
  for (int i = 0; i < d->n; i++)
    g_free (d->values[i]);
  g_free (d->values);
  g_free (d);
}

/* A prepared statement @name of @sql held back, with copies of @p. */
static Deferred *
deferred_new (const char   *sql,
              const char   *name,
              const char   *what,
              const Params *p)
{
  Deferred *d = g_new0 (Deferred, 1);

  d->sql = sql;
  d->name = name;
  d->what = what;
  d->n = p ? p->n : 0;
  d->values = g_new0 (char *, d->n + 1);
  for (int i = 0; i < d->n; i++)
    d->values[i] = g_strdup (p->v[i]);
  return d;
}

static gboolean
deferred_is (PgConn     *c,
             guint       i,
             const char *sql)
{
  return i < c->deferred->len && g_str_equal (((Deferred *) c->deferred->pdata[i])->sql, sql);
}

/* Transaction control needs no answer before the next statement: BEGIN,
 * SAVEPOINT and RELEASE wait in @c->deferred and go in the same round trip
 * as the statement after them (libpq's pipeline mode). */
static void
defer (PgConn     *c,
       const char *sql)
{
  Deferred *d = g_new0 (Deferred, 1);

  d->sql = d->what = sql;
  g_ptr_array_add (c->deferred, d);
}

/* One statement of a pipeline: a prepared one (@name, with @p) or one
 * command without parameters (@sql). */
typedef struct
{
  const char   *name;
  const char   *sql;
  const Params *p;
} Stmt;

static gboolean
send_stmt (PgConn      *c,
           const Stmt  *st)
{
  if (st->name != NULL)
    return PQsendQueryPrepared (c->pg, st->name, st->p ? st->p->n : 0, st->p ? st->p->v : NULL, NULL, NULL, 0) == 1;
  return PQsendQueryParams (c->pg, st->sql, 0, NULL, NULL, NULL, NULL, 0) == 1;
}

/* Sends the deferred commands, then @n statements, in one round trip, and
 * fills @out with the statements' results. FALSE with @error when a
 * deferred command failed (the ones after it did not run) or the
 * connection did; a statement that failed has its result in @out. */
static gboolean
exec_pipeline (PgConn      *c,
               const Stmt  *stmts,
               guint        n,
               PGresult   **out,
               const char  *what,
               GError     **error)
{
  PGresult *res, *failed = NULL;
  const char *failed_what = what;
  guint n_deferred = c->deferred->len;
  gboolean sent;

  memset (out, 0, n * sizeof *out);
  sent = PQenterPipelineMode (c->pg) == 1;
  for (guint i = 0; sent && i < n_deferred; i++)
    {
      Deferred *d = c->deferred->pdata[i];
      Stmt st = { d->name, d->sql, NULL };

      /* Its values as they are: an insert of many rows has more than a
       * Params holds. */
      if (d->name != NULL)
        sent = PQsendQueryPrepared (c->pg, d->name, d->n, (const char * const *) d->values, NULL, NULL, 0) == 1;
      else
        sent = send_stmt (c, &st);
    }
  for (guint i = 0; sent && i < n; i++)
    sent = send_stmt (c, &stmts[i]);
  sent = sent && PQpipelineSync (c->pg) == 1;
  if (sent)
    {
      /* One result and a NULL per command, then the sync. */
      for (guint i = 0; i < n_deferred + n; i++)
        {
          res = PQgetResult (c->pg);
          if (i < n_deferred)
            {
              ExecStatusType st = PQresultStatus (res);

              if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && failed == NULL)
                {
                  failed = g_steal_pointer (&res);
                  failed_what = ((Deferred *) c->deferred->pdata[i])->what;
                }
              PQclear (res);
            }
          else
            out[i - n_deferred] = res;
          res = PQgetResult (c->pg);
          g_assert (res == NULL);
        }
      res = PQgetResult (c->pg);
      if (PQresultStatus (res) != PGRES_PIPELINE_SYNC)
        sent = FALSE;
      PQclear (res);
    }
  PQexitPipelineMode (c->pg);
  g_ptr_array_set_size (c->deferred, 0);
  if (!sent || failed != NULL)
    {
      pg_fail (c, failed, failed_what, error);
      PQclear (failed);
      for (guint i = 0; i < n; i++)
        g_clear_pointer (&out[i], PQclear);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  int64_t merchant;
  char    account[32];
  int64_t amount;
} Credit;

static gboolean run_later (PgConn *c, const char *sql, const Params *p, const char *what, GError **error);
static void till_writes (PgConn *c, const char *sql);
static gboolean batch_before (PgConn *c, const char *sql, GError **error);

static const char CREDIT_SQL[] = "SELECT ct_post_account ($3, $1, $4, $2)";
/* A credit to the connection's own slot, without ct_post_account()'s
 * PL/pgSQL call: the slot's update, and the same refusal when there is
 * no such account (the text is no boolean, so the statement fails with
 * it: "no account @x"). */
static const char SLOT_CREDIT_SQL[] =
  "WITH u AS (UPDATE account_slots SET balance = balance + $2::bigint"
  "  WHERE merchant_id = $3 AND name = $1 AND slot = $4 RETURNING 1)"
  " SELECT (CASE WHEN count (*) = 1 THEN 'true' ELSE 'no account ' || $1 END)::boolean FROM u";

/* Writes the credits held back, with the next round trip. */
static void
credits_flush (PgConn *c)
{
  g_autoptr(GArray) credits = NULL;

  if (c->credits->len == 0)
    return;
  /* Taken first: run_later() flushes before a statement on the slots. */
  credits = g_steal_pointer (&c->credits);
  c->credits = g_array_new (FALSE, FALSE, sizeof (Credit));
  for (guint i = 0; i < credits->len; i++)
    {
      Credit *cr = &g_array_index (credits, Credit, i);
      Params p = { 0 };

      p_text (&p, cr->account);
      p_int (&p, cr->amount);
      p_int (&p, cr->merchant);
      p_int (&p, c->slot);
      /* It fails only as the transaction does: with the commit. */
      run_later (c, SLOT_CREDIT_SQL, &p, "posting", NULL);
    }
}

/* Holds a credit to @account of @merchant back, added to the ones before
 * it; FALSE for an account name too long to hold, which goes at once. */
static gboolean
credits_add (PgConn     *c,
             int64_t     merchant,
             const char *account,
             int64_t     amount)
{
  if (strlen (account) >= sizeof ((Credit *) NULL)->account)
    return FALSE;
  c->writes++;
  for (guint i = 0; i < c->credits->len; i++)
    {
      Credit *cr = &g_array_index (c->credits, Credit, i);

      int64_t sum;

      if (cr->merchant == merchant && g_str_equal (cr->account, account)
          && !__builtin_add_overflow (cr->amount, amount, &sum))
        {
          cr->amount = sum;
          return TRUE;
        }
    }
  {
    Credit cr = { merchant, "", amount };

    g_strlcpy (cr.account, account, sizeof cr.account);
    g_array_append_val (c->credits, cr);
  }
  return TRUE;
}

/* Whether @sql reads or writes the split accounts' slots: the credits
 * held back go before it. */
static gboolean
sql_on_slots (const char *sql)
{
  return strstr (sql, "account_slots") != NULL || strstr (sql, "ct_post_account") != NULL;
}

/* Whether @sql may change a row: anything but a SELECT, and the SELECTs
 * that call a function that writes. A SELECT … FOR UPDATE only locks. */
static gboolean
sql_writes (const char *sql)
{
  return !g_str_has_prefix (sql, "SELECT ") || strstr (sql, "ct_post_account") != NULL
         || strstr (sql, "setval") != NULL;
}

/* The name of @sql (a string literal) prepared on @c: prepared once per
 * connection, keyed by its address. */
static const char *
prepared_name (PgConn        *c,
               const char    *sql,
               const Params  *p,
               const char    *what,
               GError       **error)
{
  const char *name = g_hash_table_lookup (c->prepared, sql);
  PGresult *res;
  char *n;

  if (name != NULL)
    return name;
  n = g_strdup_printf ("s%u", ++c->n_prepared);
  res = PQprepare (c->pg, n, sql, p ? p->n : 0, NULL);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      pg_fail (c, res, what, error);
      PQclear (res);
      g_free (n);
      return NULL;
    }
  PQclear (res);
  g_hash_table_insert (c->prepared, (gpointer) sql, n);
  return n;
}

/* Runs @sql (a string literal) with @p; returns the result of a statement
 * that succeeded. */
static PGresult *
run (PgConn        *c,
     const char    *sql,
     const Params  *p,
     const char    *what,
     GError       **error)
{
  const char *name = prepared_name (c, sql, p, what, error);
  PGresult *res;
  ExecStatusType st;

  if (name == NULL || !batch_before (c, sql, error))
    return NULL;
  if (c->credits->len > 0 && sql_on_slots (sql))
    credits_flush (c);
  if (sql_writes (sql))
    {
      c->writes++;
      till_writes (c, sql);
    }
  g_clear_pointer (&c->card_after, PQclear);
  if (c->deferred->len == 0)
    res = PQexecPrepared (c->pg, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
  else
    {
      Stmt one = { name, NULL, p };

      if (!exec_pipeline (c, &one, 1, &res, what, error))
        return NULL;
    }
  st = PQresultStatus (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      pg_fail (c, res, what, error);
      PQclear (res);
      return NULL;
    }
  return res;
}

static gboolean
run_done (PgConn        *c,
          const char    *sql,
          const Params  *p,
          const char    *what,
          GError       **error)
{
  PGresult *res = run (c, sql, p, what, error);

  PQclear (res);
  return res != NULL;
}

/* A write inside the transaction whose answer nobody reads waits and goes
 * with the next round trip, as BEGIN does. It can only fail as the whole
 * transaction fails: a failure shows with that next statement (or the
 * commit), a deadlock as CT_STORE_ERROR_RETRY. */
static gboolean
run_later (PgConn        *c,
           const char    *sql,
           const Params  *p,
           const char    *what,
           GError       **error)
{
  const char *name;

  if (!c->in_tx)
    return run_done (c, sql, p, what, error);
  if ((name = prepared_name (c, sql, p, what, error)) == NULL || !batch_before (c, sql, error))
    return FALSE;
  if (c->credits->len > 0 && sql_on_slots (sql))
    credits_flush (c);
  c->writes++;
  till_writes (c, sql);
  g_ptr_array_add (c->deferred, deferred_new (sql, name, what, p));
  return TRUE;
}

/* The writes a request of a group makes once: its transaction row, its
 * postings, its key's stored answer, the balance of the card it holds
 * locked and that card's spend. A group of requests holds their rows
 * back, across its round trips, and sends each write once with all of
 * them (a statement of many rows costs the database one start and one
 * round of locks on the table and its indexes, where each row cost one):
 * before any other statement on their tables, before a savepoint, before
 * a claim of a key whose answer or of a card whose row waits among them,
 * and with the commit. One row goes as the statement of one row (@one);
 * a failure of either fails the transaction, like any write held back
 * (run_later()). */
typedef struct
{
  const char *one;  /* the statement for one row */
  const char *head; /* for many: the head, each row, the tail */
  const char *row;  /* a row, its parameters numbered as @one's */
  const char *tail;
  int         n;    /* parameters a row */
  /* Rows that name a card ($1) of a merchant ($3), at most once a
   * statement: an UPDATE … FROM changes a row once whatever number of
   * rows of the FROM name it, and an upsert refuses a second. */
  gboolean    a_card;
} Batch;

#define TX_INSERT_HEAD "INSERT INTO transactions (id, merchant_id, card_no, kind, delta, bonus, balance_after," \
  " points_delta, points_after, store, till, operator, manager, reason, order_ref, refund_of," \
  " created_at, tender, shift_id, taken_at, rest, rest_tender, level_up) VALUES "
#define TX_INSERT_ROW "($23, $22, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16," \
  " $17, $18, $19, $20, $21)"
#define POSTINGS_HEAD "INSERT INTO postings (merchant_id, tx_id, account, amount)"
#define KEY_INSERT_HEAD "INSERT INTO idempotency (till_id, key, hash, status, body, created_at) VALUES "
#define KEY_INSERT_ROW "($1, $2, $3, $4, $5, $6)"
/* The locked card's balance, as a delta (the database still refuses an
 * overdraft: CHECK balance >= 0); its spend as the sum the locked card's
 * copy knows, since every write of a card's spend holds its card. */
#define CARD_BALANCE_SQL "UPDATE cards SET balance = balance + $2, updated_at = $4 WHERE merchant_id = $3 AND card_no = $1"
#define SPEND_INSERT_HEAD "INSERT INTO card_spend (merchant_id, card_no, spend) VALUES "
#define SPEND_UPSERT_TAIL " ON CONFLICT (merchant_id, card_no) DO UPDATE SET spend = excluded.spend"

static const Batch batches[N_BATCH] = {
  [BATCH_TX] = { TX_INSERT_HEAD TX_INSERT_ROW, TX_INSERT_HEAD, TX_INSERT_ROW, "", 23 },
  /* Each row is a transaction's postings, two arrays. */
  [BATCH_POSTINGS] = { POSTINGS_HEAD " SELECT $4, $1, a, m FROM unnest ($2::text[], $3::bigint[]) AS u (a, m)",
                       POSTINGS_HEAD " SELECT v.m, v.t, u.a, u.x FROM (VALUES ",
                       "($4::bigint, $1::bigint, $2::text[], $3::bigint[])",
                       ") AS v (m, t, a, x), unnest (v.a, v.x) AS u (a, x)", 4 },
  [BATCH_KEY] = { KEY_INSERT_HEAD KEY_INSERT_ROW, KEY_INSERT_HEAD, KEY_INSERT_ROW, "", 6 },
  [BATCH_CARD] = { CARD_BALANCE_SQL,
                   "UPDATE cards SET balance = cards.balance + v.d, updated_at = v.t FROM (VALUES ",
                   "($3::bigint, $1::text, $2::bigint, $4::bigint)",
                   ") AS v (m, n, d, t) WHERE cards.merchant_id = v.m AND cards.card_no = v.n", 4, TRUE },
  [BATCH_SPEND] = { SPEND_INSERT_HEAD "($3, $1, $2)" SPEND_UPSERT_TAIL, SPEND_INSERT_HEAD,
                    "($3::bigint, $1::text, $2::bigint)", SPEND_UPSERT_TAIL, 3, TRUE },
};

/* Whether @sql names @table (a word of it, not a part of a longer name). */
static gboolean
names_table (const char *sql,
             const char *table)
{
  size_t n = strlen (table);

  for (const char *s = strstr (sql, table); s != NULL; s = strstr (s + 1, table))
    if ((s == sql || !(g_ascii_isalnum (s[-1]) || s[-1] == '_')) && !(g_ascii_isalnum (s[n]) || s[n] == '_'))
      return TRUE;
  return FALSE;
}

static gboolean
batch_pending (PgConn *c)
{
  for (guint k = 0; k < N_BATCH; k++)
    if (c->batched[k]->len > 0)
      return TRUE;
  return FALSE;
}

/* The statement inserting @rows rows of @k, prepared on @c. */
static const char *
batch_name (PgConn     *c,
            BatchKind   k,
            guint       rows,
            const char *what,
            GError    **error)
{
  const Batch *b = &batches[k];
  g_autoptr(GString) sql = NULL;
  PGresult *res;

  if (c->batch_names[k][rows] != NULL)
    return c->batch_names[k][rows];
  sql = g_string_new (b->head);
  for (guint r = 0; r < rows; r++)
    {
      if (r > 0)
        g_string_append (sql, ", ");
      for (const char *s = b->row; *s != '\0'; s++)
        {
          char *end;

          if (*s != '$' || !g_ascii_isdigit (s[1]))
            {
              g_string_append_c (sql, *s);
              continue;
            }
          g_string_append_printf (sql, "$%" G_GUINT64_FORMAT,
                                  g_ascii_strtoull (s + 1, &end, 10) + (guint64) r * (guint64) b->n);
          s = end - 1;
        }
    }
  g_string_append (sql, b->tail);
  c->batch_names[k][rows] = g_strdup_printf ("s%u", ++c->n_prepared);
  res = PQprepare (c->pg, c->batch_names[k][rows], sql->str, 0, NULL);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      pg_fail (c, res, what, error);
      PQclear (res);
      g_clear_pointer (&c->batch_names[k][rows], g_free);
      return NULL;
    }
  PQclear (res);
  return c->batch_names[k][rows];
}

/* Moves the rows of the kinds in @kinds (a bit each) held back into
 * @c->deferred, a statement of up to BATCH_ROWS rows each, transaction
 * rows first. */
static gboolean
batch_flush_kinds (PgConn  *c,
                   guint    kinds,
                   GError **error)
{
  gboolean ok = TRUE;

  for (guint k = 0; k < N_BATCH; k++)
    {
      const Batch *b = &batches[k];
      gsize len = 0;
      Deferred **rows;

      if (c->batched[k]->len == 0 || (kinds & (1u << k)) == 0)
        continue;
      rows = (Deferred **) g_ptr_array_steal (c->batched[k], &len);
      for (gsize first = 0; first < len; first += BATCH_ROWS)
        {
          gsize m = MIN (BATCH_ROWS, len - first);
          const char *name = NULL;
          Deferred *d;

          if (m == 1)
            {
              g_ptr_array_add (c->deferred, rows[first]);
              continue;
            }
          if (ok)
            name = batch_name (c, k, m, rows[first]->what, error);
          ok = name != NULL;
          if (!ok)
            {
              /* The transaction failed: its rows go nowhere. */
              for (gsize r = first; r < first + m; r++)
                deferred_free (rows[r]);
              continue;
            }
          d = g_new0 (Deferred, 1);
          d->sql = b->head;
          d->name = name;
          d->what = rows[first]->what;
          d->n = (int) m * b->n;
          d->values = g_new0 (char *, d->n + 1);
          for (gsize r = 0; r < m; r++)
            {
              memcpy (d->values + r * b->n, rows[first + r]->values, b->n * sizeof (char *));
              g_free (rows[first + r]->values);
              g_free (rows[first + r]);
            }
          g_ptr_array_add (c->deferred, d);
        }
      g_free (rows);
    }
  return ok;
}

/* Moves every row held back into @c->deferred. */
static gboolean
batch_flush (PgConn  *c,
             GError **error)
{
  return batch_flush_kinds (c, (1u << N_BATCH) - 1, error);
}

#define CARD_KINDS ((1u << BATCH_CARD) | (1u << BATCH_SPEND))

/* Flushes the rows held back before @sql when it reads or writes their
 * tables. */
static gboolean
batch_before (PgConn     *c,
              const char *sql,
              GError    **error)
{
  if (!batch_pending (c))
    return TRUE;
  if (!names_table (sql, "transactions") && !names_table (sql, "postings") && !names_table (sql, "idempotency")
      && !names_table (sql, "cards") && !names_table (sql, "card_spend"))
    return TRUE;
  return batch_flush (c, error);
}

/* Whether a row of @card_no of @merchant waits among the rows of @k. */
static gboolean
batch_holds_card (PgConn     *c,
                  BatchKind   k,
                  const char *merchant,
                  const char *card_no)
{
  for (guint i = 0; i < c->batched[k]->len; i++)
    {
      Deferred *d = c->batched[k]->pdata[i];

      if (g_strcmp0 (d->values[0], card_no) == 0 && g_strcmp0 (d->values[2], merchant) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Holds a row of @k back for the statement of many (outside a
 * transaction, it goes at once). */
static gboolean
batch_later (PgConn        *c,
             BatchKind      k,
             const Params  *p,
             const char    *what,
             GError       **error)
{
  const Batch *b = &batches[k];
  const char *name;

  g_assert (p->n == b->n);
  if (!c->in_tx)
    return run_later (c, b->one, p, what, error);
  if ((name = prepared_name (c, b->one, p, what, error)) == NULL)
    return FALSE;
  /* A card's second row goes in a statement after its first. */
  if (b->a_card && batch_holds_card (c, k, p->v[2], p->v[0]) && !batch_flush_kinds (c, 1u << k, error))
    return FALSE;
  c->writes++;
  g_ptr_array_add (c->batched[k], deferred_new (b->one, name, what, p));
  return TRUE;
}

/* Whether the answer of @key on @till_id waits among the rows held back:
 * a claim of it reads it. */
static gboolean
batch_holds_key (PgConn     *c,
                 int64_t     till_id,
                 const char *key)
{
  g_autofree char *till = g_strdup_printf ("%" G_GINT64_FORMAT, till_id);

  for (guint i = 0; i < c->batched[BATCH_KEY]->len; i++)
    {
      Deferred *d = c->batched[BATCH_KEY]->pdata[i];

      if (g_strcmp0 (d->values[0], till) == 0 && g_strcmp0 (d->values[1], key) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Drops the rows held back: at the end of the transaction, and at a
 * rollback to the savepoint they all came after. */
static void
batch_clear (PgConn *c)
{
  for (guint k = 0; k < N_BATCH; k++)
    g_ptr_array_set_size (c->batched[k], 0);
}

/* Runs @sql and counts the rows it changed or returned. */
static gboolean
run_count (PgConn        *c,
           const char    *sql,
           const Params  *p,
           const char    *what,
           int64_t       *out_rows,
           GError       **error)
{
  PGresult *res = run (c, sql, p, what, error);

  if (res == NULL)
    return FALSE;
  if (PQresultStatus (res) == PGRES_TUPLES_OK)
    *out_rows = PQntuples (res);
  else
    *out_rows = g_ascii_strtoll (PQcmdTuples (res), NULL, 10);
  PQclear (res);
  return TRUE;
}

/* A statement without parameters nor preparation (transaction control,
 * schema); with commands deferred, one command. */
static gboolean
exec_simple (PgConn      *c,
             const char  *sql,
             GError     **error)
{
  PGresult *res;
  ExecStatusType st;
  gboolean ok;

  g_clear_pointer (&c->card_after, PQclear);
  if (!batch_before (c, sql, error))
    return FALSE;
  if (c->credits->len > 0 && sql_on_slots (sql))
    credits_flush (c);
  if (c->deferred->len > 0)
    {
      Stmt one = { NULL, sql, NULL };

      g_assert (strchr (sql, ';') == NULL);
      if (!exec_pipeline (c, &one, 1, &res, sql, error))
        return FALSE;
    }
  else
    res = PQexec (c->pg, sql);
  st = PQresultStatus (res);
  ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok)
    pg_fail (c, res, sql, error);
  else if (g_str_equal (sql, "COMMIT") && !g_str_equal (PQcmdStatus (res), "COMMIT"))
    {
      /* PostgreSQL answers the COMMIT of a transaction that a failed
       * statement aborted with "ROLLBACK" and no error. A caller that
       * logged a failure and carried on (an audit row, a PIN guard) must
       * not take that for a commit: nothing of the transaction stands,
       * and it may run again. */
      c->writes++;
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_RETRY,
                   "%s: the database rolled the transaction back (%s): one of its statements had failed",
                   c->store->where, PQcmdStatus (res));
      ok = FALSE;
    }
  PQclear (res);
  return ok;
}

/* Drops what the claim read ahead: at the end of the transaction, and
 * when the transaction writes what it read. */
static void
prefetch_clear (PgConn *c)
{
  g_clear_pointer (&c->pre_settings, PQclear);
  g_clear_pointer (&c->pre_levels, PQclear);
  g_clear_pointer (&c->pre_connectors, PQclear);
  g_clear_pointer (&c->pre_key, PQclear);
  g_clear_pointer (&c->pre_key_name, g_free);
}

/* Drops the merchant's reads kept for the transaction's later claims: at
 * its end, and when it writes one of them. */
static void
tx_reads_clear (PgConn *c)
{
  g_clear_pointer (&c->tx_settings, PQclear);
  g_clear_pointer (&c->tx_levels, PQclear);
  g_clear_pointer (&c->tx_connectors, PQclear);
}

/* Drops the till and the shift kept for the transaction's later claims:
 * at its end, and when it writes their tables. */
static void
tx_till_clear (PgConn *c)
{
  g_clear_pointer (&c->tx_till_row, PQclear);
  g_clear_pointer (&c->tx_shift, PQclear);
  g_clear_pointer (&c->tx_shift_store, g_free);
  g_clear_pointer (&c->tx_shift_till, g_free);
}

/* A write of @sql to tills or shifts: what the transaction's claims kept
 * of them is old. */
static void
till_writes (PgConn     *c,
             const char *sql)
{
  if (names_table (sql, "tills") || names_table (sql, "shifts"))
    tx_till_clear (c);
}

/* A copy of a result kept for the transaction, for a call to take. */
static PGresult *
kept_copy (PGresult *kept)
{
  return PQcopyResult (kept, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
}

/* Takes the result read ahead in @slot for @merchant, if there is one. */
static PGresult *
prefetch_take (PgConn    *c,
               PGresult **slot,
               int64_t    merchant)
{
  if (*slot == NULL || c->pre_merchant != merchant)
    return NULL;
  return g_steal_pointer (slot);
}

/* Forgets the card held locked: its row changed in a way the copy does
 * not follow, or the transaction ended or rolled back to a savepoint. */
static void
locked_clear (PgConn *c)
{
  ct_store_card_clear (&c->locked);
  c->has_locked = FALSE;
  c->has_spend = FALSE;
}

/* Whether @card_no of the call's merchant is the card held locked. */
static gboolean
locked_is (PgConn     *c,
           CtStore    *base,
           const char *card_no)
{
  return c->has_locked && c->locked_merchant == base->merchant && g_str_equal (c->locked.card_no, card_no);
}

static void
card_copy (CtStoreCard       *dst,
           const CtStoreCard *src)
{
  *dst = *src;
  dst->card_no = g_strdup (src->card_no);
  dst->status = g_strdup (src->status);
  dst->level = g_strdup (src->level);
  dst->name = g_strdup (src->name);
  dst->phone = g_strdup (src->phone);
  dst->replaced_by = g_strdup (src->replaced_by);
}

/* Drops what was named or read ahead, and the card held, at the end of a
 * transaction. */
static void
ahead_clear (PgConn *c)
{
  c->ahead_till = FALSE;
  g_clear_pointer (&c->ahead_card_no, g_free);
  g_clear_pointer (&c->ahead_shift_store, g_free);
  g_clear_pointer (&c->ahead_shift_till, g_free);
  g_clear_pointer (&c->pre_till_row, PQclear);
  g_clear_pointer (&c->pre_shift, PQclear);
  c->next_tx_id = 0;
  locked_clear (c);
}

static void
conn_free (PgConn *c)
{
  if (c == NULL)
    return;
  g_hash_table_destroy (c->prepared);
  g_ptr_array_unref (c->deferred);
  g_array_unref (c->credits);
  for (guint k = 0; k < N_BATCH; k++)
    {
      g_ptr_array_unref (c->batched[k]);
      for (guint r = 0; r <= BATCH_ROWS; r++)
        g_free (c->batch_names[k][r]);
    }
  g_clear_pointer (&c->card_after, PQclear);
  prefetch_clear (c);
  tx_reads_clear (c);
  ahead_clear (c);
  PQfinish (c->pg);
  g_free (c);
}

static void
notice_quiet (void       *arg,
              const char *message)
{
  /* Notices ("relation exists, skipping") are not for the till's log. */
}

/* How long a statement waits for a row lock that another connection (an
 * admin command, a stuck transaction) holds before the request fails. */
static gboolean
conn_set_lock_timeout (PgConn   *c,
                       guint     ms,
                       GError  **error)
{
  g_autofree char *sql = g_strdup_printf ("SET lock_timeout = %u", ms);

  return exec_simple (c, sql, error);
}

/* Each connection credits its own slot of the split accounts. The slot is
 * a session-level advisory lock, taken from the first free one, so no two
 * connections of any process share a slot while there are at most SLOTS of
 * them (a slot row shared by two connections makes each wait for the
 * other's commit); the lock ends with the session, also when the process
 * is killed. Past SLOTS connections, the backend's pid picks one. */
static gboolean
conn_claim_slot (PgConn   *c,
                 GError  **error)
{
  PGresult *res = PQexec (c->pg, "SELECT coalesce ((SELECT s FROM generate_series (0, " G_STRINGIFY (SLOTS) " - 1) s"
                                 " WHERE pg_try_advisory_lock (" G_STRINGIFY (SLOT_LOCK) ", s) LIMIT 1),"
                                 " pg_backend_pid () % " G_STRINGIFY (SLOTS) ")");

  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      pg_fail (c, res, "connect", error);
      PQclear (res);
      return FALSE;
    }
  c->slot = (int) col_int (res, 0, 0);
  PQclear (res);
  return TRUE;
}

static PgConn *
conn_open (CtPgStore  *store,
           GError    **error)
{
  PgConn *c = g_new0 (PgConn, 1);

  c->store = store;
  c->prepared = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  c->deferred = g_ptr_array_new_with_free_func ((GDestroyNotify) deferred_free);
  c->credits = g_array_new (FALSE, FALSE, sizeof (Credit));
  for (guint k = 0; k < N_BATCH; k++)
    c->batched[k] = g_ptr_array_new_with_free_func ((GDestroyNotify) deferred_free);
  c->pg = PQconnectdb (store->uri);
  if (PQstatus (c->pg) != CONNECTION_OK)
    {
      g_autofree char *why = one_line (PQerrorMessage (c->pg));

      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "cannot connect to %s: %s",
                   store->where, why);
      conn_free (c);
      return NULL;
    }
  PQsetNoticeProcessor (c->pg, notice_quiet, NULL);
  if (!conn_set_lock_timeout (c, store->lock_timeout_ms, error))
    {
      conn_free (c);
      return NULL;
    }
  if (!conn_claim_slot (c, error))
    {
      conn_free (c);
      return NULL;
    }
  return c;
}

/* The connection for one call: the one this thread holds inside a
 * transaction, or an idle one from the pool. */
static PgConn *
conn_take (CtPgStore *store)
{
  PgConn *c = g_private_get (&current_conn);

  if (c != NULL && c->store == store)
    return c;
  return g_async_queue_pop (store->idle);
}

static void
conn_give (CtPgStore *store,
           PgConn    *c)
{
  if (c->in_tx)
    return;
  /* A connection lost (a restart, a failover) is reopened before it goes
   * back; its prepared statements went with it. */
  if (PQstatus (c->pg) != CONNECTION_OK)
    {
      PQreset (c->pg);
      g_hash_table_remove_all (c->prepared);
      if (PQstatus (c->pg) == CONNECTION_OK && conn_set_lock_timeout (c, store->lock_timeout_ms, NULL))
        conn_claim_slot (c, NULL);
    }
  g_async_queue_push (store->idle, c);
}

/* Opening */

static void pg_free (CtStore *base);

static CtPgStore *
store_new (const char  *uri,
           GError     **error)
{
  CtPgStore *store;
  char *errmsg = NULL;
  PQconninfoOption *opts = PQconninfoParse (uri, &errmsg);

  if (opts == NULL)
    {
      g_autofree char *why = one_line (errmsg ? errmsg : "not a connection URI");

      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                   "--db: this is not a PostgreSQL URI libpq understands (%s); the form is "
                   "postgresql://USER@HOST:PORT/DATABASE or postgresql:///DATABASE?host=/run/postgresql", why);
      PQfreemem (errmsg);
      return NULL;
    }
  PQconninfoFree (opts);
  store = g_new0 (CtPgStore, 1);
  store->parent.backend = &pg_backend;
  store->parent.root = &store->parent;
  store->parent.merchant = CT_STORE_FIRST_MERCHANT;
  store->uri = g_strdup (uri);
  store->where = describe_uri (uri);
  store->idle = g_async_queue_new ();
  store->lock_timeout_ms = CT_STORE_BUSY_TIMEOUT_MS;
  return store;
}

static gboolean
store_add_conns (CtPgStore  *store,
                 guint       n,
                 GError    **error)
{
  for (guint i = 0; i < n; i++)
    {
      PgConn *c = conn_open (store, error);

      if (c == NULL)
        return FALSE;
      g_async_queue_push (store->idle, c);
      store->n_conns++;
    }
  return TRUE;
}

static void
pg_store_destroy (CtPgStore *store)
{
  pg_free (&store->parent);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtPgStore, pg_store_destroy)

/* The schema version of the database, 0 when it has no cardtill schema. */
static gboolean
schema_version (PgConn   *c,
                int      *out,
                GError  **error)
{
  PGresult *res = PQexec (c->pg, "SELECT to_regclass ('schema_version') IS NOT NULL");
  gboolean exists;

  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      pg_fail (c, res, "schema version", error);
      PQclear (res);
      return FALSE;
    }
  exists = col_bool (res, 0, 0);
  PQclear (res);
  *out = 0;
  if (!exists)
    return TRUE;
  res = PQexec (c->pg, "SELECT max (version) FROM schema_version");
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      pg_fail (c, res, "schema version", error);
      PQclear (res);
      return FALSE;
    }
  *out = (int) col_int (res, 0, 0);
  PQclear (res);
  return TRUE;
}

static gboolean
apply_migrations (PgConn   *c,
                  int       from,
                  GError  **error)
{
  g_autofree char *sql = g_strdup_printf ("DELETE FROM schema_version;"
                                          " INSERT INTO schema_version VALUES (%d)", LATEST_VERSION);

  for (int v = from; v < LATEST_VERSION; v++)
    if (!exec_simple (c, migrations[v], error))
      return FALSE;
  return exec_simple (c, sql, error);
}

static gboolean merchant_put (PgConn *c, int64_t merchant, const CtStoreMerchant *m, GError **error);
static gboolean merchant_get (PgConn *c, int64_t merchant, CtStoreMerchant *out, GError **error);
static gboolean first_merchant_put (PgConn *c, const CtStoreMerchant *m, GError **error);

CtStore *
ct_store_pg_create (const char             *uri,
                    const CtStoreMerchant  *merchant,
                    GError                **error)
{
  g_autoptr(CtPgStore) store = store_new (uri, error);
  PgConn *c;
  PGresult *res;
  int64_t n_relations;

  if (store == NULL || !store_add_conns (store, 1, error))
    return NULL;
  c = g_async_queue_pop (store->idle);
  g_async_queue_push (store->idle, c);
  /* The lock makes two inits racing on one database take turns; the
   * second then finds the first one's tables. */
  if (!exec_simple (c, "BEGIN; SELECT pg_advisory_xact_lock (7243);", error))
    return NULL;
  res = PQexec (c->pg, "SELECT count (*) FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace"
                       " WHERE n.nspname = current_schema ()");
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      pg_fail (c, res, "init", error);
      PQclear (res);
      exec_simple (c, "ROLLBACK", NULL);
      return NULL;
    }
  n_relations = col_int (res, 0, 0);
  PQclear (res);
  if (n_relations > 0)
    {
      exec_simple (c, "ROLLBACK", NULL);
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_ALREADY_INITIALIZED,
                   "%s is not empty (%" G_GINT64_FORMAT " tables, sequences or indexes); init needs an "
                   "empty database and never overwrites one", store->where, n_relations);
      return NULL;
    }
  if (!apply_migrations (c, 0, error) || !first_merchant_put (c, merchant, error)
      || !exec_simple (c, "COMMIT", error))
    {
      exec_simple (c, "ROLLBACK", NULL);
      return NULL;
    }
  return (CtStore *) g_steal_pointer (&store);
}

CtStore *
ct_store_pg_open (const char  *uri,
                  guint        connections,
                  GError     **error)
{
  g_autoptr(CtPgStore) store = store_new (uri, error);
  g_auto(CtStoreMerchant) m = { 0 };
  PgConn *c;
  int version = 0;

  if (store == NULL || !store_add_conns (store, 1, error))
    return NULL;
  c = g_async_queue_pop (store->idle);
  g_async_queue_push (store->idle, c);
  if (!schema_version (c, &version, error))
    return NULL;
  if (version == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED,
                   "%s has no cardtill schema (run `cardtill-service init --db URI` first)", store->where);
      return NULL;
    }
  if (version < SCHEMA_VERSION)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                   "%s has schema version %d and this cardtill-service needs %d: run "
                   "`cardtill-service upgrade --db URI` first", store->where, version, SCHEMA_VERSION);
      return NULL;
    }
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                   "%s has schema version %d, newer than this cardtill-service knows (%d): install the "
                   "cardtill-service that upgraded it", store->where, version, SCHEMA_VERSION);
      return NULL;
    }
  if (!merchant_get (c, CT_STORE_FIRST_MERCHANT, &m, error))
    return NULL;
  if (connections > 1 && !store_add_conns (store, connections - 1, error))
    return NULL;
  return (CtStore *) g_steal_pointer (&store);
}

/**
 * ct_store_pg_upgrade:
 * Brings the schema of the database at @uri to this version, in one
 * transaction; @out_from and @out_to tell what it did.
 */
/* The phones step of `upgrade`: every stored phone in the phone rule's
 * form (ct_store_phone_upgrade()). */
static gboolean
normalize_phones (PgConn              *c,
                  CtStorePhoneReport  *report,
                  GError             **error)
{
  PGresult *res = run (c, "SELECT m.code, c.merchant_id, c.card_no, c.phone FROM cards c"
                          " JOIN merchants m ON m.id = c.merchant_id"
                          " WHERE c.phone IS NOT NULL ORDER BY c.merchant_id, c.card_no", NULL, "phones", error);
  gboolean ok = res != NULL;

  for (int i = 0; ok && i < PQntuples (res); i++)
    {
      g_autofree char *digits = ct_store_phone_upgrade (report, PQgetvalue (res, i, 0), PQgetvalue (res, i, 2),
                                                        PQgetvalue (res, i, 3));
      Params p = { 0 };

      if (digits == NULL)
        continue;
      p_int (&p, col_int (res, i, 1));
      p_text (&p, PQgetvalue (res, i, 2));
      p_text (&p, digits);
      ok = run_done (c, "UPDATE cards SET phone = $3 WHERE merchant_id = $1 AND card_no = $2", &p, "phone", error);
    }
  PQclear (res);
  return ok;
}

gboolean
ct_store_pg_upgrade (const char          *uri,
                     int                 *out_from,
                     int                 *out_to,
                     CtStorePhoneReport  *out_phones,
                     GError             **error)
{
  g_autoptr(CtPgStore) store = store_new (uri, error);
  PgConn *c;
  int version = 0;

  if (store == NULL || !store_add_conns (store, 1, error))
    return FALSE;
  c = g_async_queue_pop (store->idle);
  g_async_queue_push (store->idle, c);
  if (!exec_simple (c, "BEGIN; SELECT pg_advisory_xact_lock (7243);", error))
    return FALSE;
  if (!schema_version (c, &version, error))
    goto fail;
  *out_from = version;
  *out_to = MAX (version, SCHEMA_VERSION);
  if (version == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED,
                   "%s has no cardtill schema to upgrade (run `cardtill-service init --db URI`)", store->where);
      goto fail;
    }
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                   "%s has schema version %d, newer than this cardtill-service knows (%d)",
                   store->where, version, SCHEMA_VERSION);
      goto fail;
    }
  /* Phones stored before the one phone rule take its form, in the same
   * transaction; a phone it does not take stays as it is and is reported. */
  if (!apply_migrations (c, version, error) || !normalize_phones (c, out_phones, error)
      || !exec_simple (c, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  exec_simple (c, "ROLLBACK", NULL);
  return FALSE;
}

static void
pg_free (CtStore *base)
{
  CtPgStore *store = (CtPgStore *) base->root;

  if (store == NULL)
    return;
  for (guint i = 0; i < store->n_conns; i++)
    conn_free (g_async_queue_pop (store->idle));
  g_async_queue_unref (store->idle);
  g_free (store->uri);
  g_free (store->where);
  g_free (store);
}

static void
pg_set_busy_timeout (CtStore *base,
                     guint    ms)
{
  CtPgStore *store = (CtPgStore *) base->root;
  g_autoptr(GPtrArray) conns = g_ptr_array_new ();

  /* Called before the store is shared: every connection is idle. */
  store->lock_timeout_ms = ms;
  for (guint i = 0; i < store->n_conns; i++)
    g_ptr_array_add (conns, g_async_queue_pop (store->idle));
  for (guint i = 0; i < conns->len; i++)
    {
      conn_set_lock_timeout (conns->pdata[i], ms, NULL);
      g_async_queue_push (store->idle, conns->pdata[i]);
    }
}

/* Transactions */

static gboolean
pg_begin (CtStore  *base,
          GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = g_async_queue_pop (store->idle);

  /* A BEGIN that fails shows with the first statement. */
  defer (c, "BEGIN");
  c->in_tx = TRUE;
  c->retry = FALSE;
  g_private_set (&current_conn, c);
  return TRUE;
}

static void
end_tx (CtPgStore *store,
        PgConn    *c)
{
  c->in_tx = FALSE;
  g_ptr_array_set_size (c->deferred, 0);
  g_array_set_size (c->credits, 0);
  batch_clear (c);
  g_clear_pointer (&c->card_after, PQclear);
  prefetch_clear (c);
  tx_reads_clear (c);
  tx_till_clear (c);
  ahead_clear (c);
  g_private_set (&current_conn, NULL);
  conn_give (store, c);
}

static void
pg_rollback (CtStore *base)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = g_private_get (&current_conn);

  if (c == NULL || c->store != store)
    return;
  /* A transaction whose BEGIN is still deferred never reached the server. */
  batch_clear (c);
  if (deferred_is (c, 0, "BEGIN"))
    g_ptr_array_set_size (c->deferred, 0);
  else
    {
      g_ptr_array_set_size (c->deferred, 0);
      exec_simple (c, "ROLLBACK", NULL);
    }
  end_tx (store, c);
}

static gboolean
pg_commit (CtStore  *base,
           GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = g_private_get (&current_conn);
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (c != NULL && c->store == store, FALSE);
  if (c->retry)
    {
      /* A statement of this transaction lost a deadlock or a
       * serialization race: nothing of it may stand. */
      pg_rollback (base);
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_RETRY,
                   "the transaction lost a lock race and was rolled back");
      return FALSE;
    }
  credits_flush (c);
  if (!batch_flush (c, &local) || !exec_simple (c, "COMMIT", &local))
    {
      exec_simple (c, "ROLLBACK", NULL);
      end_tx (store, c);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  end_tx (store, c);
  return TRUE;
}

static PgConn *
tx_conn (CtPgStore *store)
{
  PgConn *c = g_private_get (&current_conn);

  g_assert (c != NULL && c->store == store);
  return c;
}

/* The statements of the transaction that wrote or failed so far: a
 * request in a group that was refused after it changed something makes
 * the group run again (ct_store_write_count()). -1 outside a transaction. */
static gint64
pg_write_count (CtStore *base)
{
  PgConn *c = g_private_get (&current_conn);

  if (c == NULL || c->store != (CtPgStore *) base->root)
    return -1;
  return c->writes;
}

static gboolean
pg_savepoint (CtStore  *base,
              GError  **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);

  /* The credits and rows before the savepoint stay whatever happens
   * after it. */
  credits_flush (c);
  if (!batch_flush (c, error))
    return FALSE;
  defer (c, "SAVEPOINT request");
  return TRUE;
}

static void
pg_rollback_savepoint (CtStore *base)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);

  gboolean held = batch_pending (c);

  /* The credits and rows held back came after the savepoint. */
  g_array_set_size (c->credits, 0);
  batch_clear (c);
  /* Nothing ran since the savepoint: there is nothing to undo; but a
   * card's row held back changed the copy of the card, which goes. */
  if (c->deferred->len > 0 && deferred_is (c, c->deferred->len - 1, "SAVEPOINT request"))
    {
      if (held)
        locked_clear (c);
      return;
    }
  /* The card's row goes back to what it was at the savepoint, which the
   * copy no longer says; the lock taken before it stays. */
  locked_clear (c);
  c->next_tx_id = 0;
  exec_simple (c, "ROLLBACK TO SAVEPOINT request", NULL);
}

static gboolean
pg_release_savepoint (CtStore  *base,
                      GError  **error)
{
  defer (tx_conn ((CtPgStore *) base->root), "RELEASE SAVEPOINT request");
  return TRUE;
}

#define CARD_COLUMNS "card_no, status, level, name, phone, balance, points, created_at, updated_at"
#define CARD_READ_COLUMNS CARD_COLUMNS ", replaced_by"

/* The reads a request makes first, which the claim of its key sends in
 * its own round trip (pg_claim_key()). */
static const char SETTINGS_SQL[] = "SELECT key, value FROM merchant_settings WHERE merchant_id = $1"
                                   " UNION ALL SELECT '', code FROM merchants WHERE id = $1";
static const char KEY_SQL[] = "SELECT hash, status, body FROM idempotency WHERE till_id = $1 AND key = $2";
#define LEVEL_COLUMNS "id, name, min_spend, points_multiplier_bp, discount_bp, topup_bonus_bp"
static const char LEVELS_SQL[] = "SELECT " LEVEL_COLUMNS " FROM levels WHERE merchant_id = $1 ORDER BY min_spend, id";
static const char TILL_BY_HASH_SQL[] = "SELECT id, store, name, revoked, merchant_id FROM tills WHERE token_hash = $1";
static const char SHIFT_AT_SQL[] = "SELECT id FROM shifts WHERE merchant_id = $4 AND store = $1 AND till = $2"
                                   " AND opened_at <= $3 AND (closed_at IS NULL OR closed_at > $3)"
                                   " ORDER BY opened_at DESC LIMIT 1";
/* The path's card, locked, read ahead with the claim: only when the claim
 * got its key's lock (the lock is taken again, which holds it once more),
 * so a request that answers 409 request_in_progress never waits for the
 * card. Then its spend, read after the card's lock is held, and an id for
 * the transaction the request may record. */
static const char CARD_AHEAD_SQL[] = "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = $2 AND card_no = $1"
                                     " AND pg_try_advisory_xact_lock (hashtextextended ($3, 0)) FOR NO KEY UPDATE";
static const char SPEND_SQL[] = "SELECT spend FROM card_spend WHERE merchant_id = $2 AND card_no = $1";
/* The sequence by name (bigserial's, which the copy between stores names
 * too): looking it up by its column cost a catalog search each call. */
static const char NEXT_TX_SQL[] = "SELECT nextval ('transactions_id_seq')";
static const char CONNECTORS_SQL[] = "SELECT id, merchant, kind, app_id, serial_no, private_key, public_key,"
                                     " template_id, gateway FROM wallet_connectors WHERE $1 = 0 OR merchant_id = $1"
                                     " ORDER BY id";

/* Merchant and packages */

static gboolean
merchant_put (PgConn                 *c,
              int64_t                 merchant,
              const CtStoreMerchant  *m,
              GError                **error)
{
  g_auto(GStrv) settings = ct_store_merchant_to_settings (m);

  prefetch_clear (c);
  tx_reads_clear (c);
  for (guint i = 0; settings[i] != NULL; i += 2)
    {
      Params p = { 0 };

      p_int (&p, merchant);
      p_text (&p, settings[i]);
      p_text (&p, settings[i + 1]);
      if (!run_done (c, "INSERT INTO merchant_settings (merchant_id, key, value) VALUES ($1, $2, $3)"
                        " ON CONFLICT (merchant_id, key) DO UPDATE SET value = excluded.value",
                     &p, "settings", error))
        return FALSE;
    }
  return TRUE;
}

/* The first merchant's id (when init names one) and settings. */
static gboolean
first_merchant_put (PgConn                 *c,
                    const CtStoreMerchant  *m,
                    GError                **error)
{
  Params p = { 0 };

  p_text (&p, m->code);
  return (m->code == NULL
          || run_done (c, "UPDATE merchants SET code = $1 WHERE id = 1", &p, "merchant", error))
         && merchant_put (c, CT_STORE_FIRST_MERCHANT, m, error);
}

static gboolean
merchant_get (PgConn           *c,
              int64_t           merchant,
              CtStoreMerchant  *out,
              GError          **error)
{
  Params p = { 0 };
  PGresult *res;

  memset (out, 0, sizeof *out);
  p_int (&p, merchant);
  if ((res = prefetch_take (c, &c->pre_settings, merchant)) == NULL
      && (res = run (c, SETTINGS_SQL, &p, "settings", error)) == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    {
      if (*PQgetvalue (res, i, 0) == '\0')
        out->code = g_strdup (PQgetvalue (res, i, 1));
      else
        ct_store_merchant_set_field (out, PQgetvalue (res, i, 0), PQgetvalue (res, i, 1));
    }
  PQclear (res);
  return ct_store_merchant_complete (out, error);
}

static gboolean
pg_get_merchant (CtStore          *base,
                 CtStoreMerchant  *out,
                 GError          **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  gboolean ok = merchant_get (c, base->merchant, out, error);

  conn_give (store, c);
  return ok;
}

static gboolean
pg_set_merchant (CtStore                *base,
                 const CtStoreMerchant  *m,
                 GError                **error)
{
  return merchant_put (tx_conn ((CtPgStore *) base->root), base->merchant, m, error);
}

static gboolean
pg_merchant_add (CtStore                *base,
                 const CtStoreMerchant  *m,
                 int64_t                *out_id,
                 GError                **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;
  int64_t id;

  p_text (&p, m->code);
  res = run (c, "INSERT INTO merchants (code) VALUES ($1) ON CONFLICT (code) DO NOTHING RETURNING id", &p,
             "merchant", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) != 1)
    {
      PQclear (res);
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "merchant %s already exists", m->code);
      return FALSE;
    }
  id = col_int (res, 0, 0);
  PQclear (res);
  memset (&p, 0, sizeof p);
  p_int (&p, id);
  if (!run_done (c, MERCHANT_ACCOUNTS_SQL, &p, "merchant accounts", error) || !merchant_put (c, id, m, error))
    return FALSE;
  *out_id = id;
  return TRUE;
}

static gboolean
pg_merchant_find (CtStore     *base,
                  const char  *code,
                  int64_t     *out_id,
                  GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  p_text (&p, code);
  res = run (c, "SELECT id FROM merchants WHERE code = $1", &p, "merchant", error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        *out_id = col_int (res, 0, 0);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "there is no merchant %s", code);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

/* Fills the item of a list from row @i of @res. */
typedef void (*RowFunc) (PGresult *res,
                         int       i,
                         gpointer  item);

/* Each row of @res an item of @size bytes that @from_row fills; @res is
 * cleared.
 *
 * Returns: (transfer full) (nullable): the items (freed with @free_item),
 *   or %NULL when @res is (the query failed and said so). */
static GPtrArray *
take_rows (PGresult       *res,
           gsize           size,
           RowFunc         from_row,
           GDestroyNotify  free_item)
{
  GPtrArray *list;

  if (res == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func (free_item);
  for (int i = 0; i < PQntuples (res); i++)
    {
      gpointer item = g_malloc0 (size);

      from_row (res, i, item);
      g_ptr_array_add (list, item);
    }
  PQclear (res);
  return list;
}

static void
merchant_ref_from_row (PGresult           *res,
                       int                 i,
                       CtStoreMerchantRef *ref)
{
  ref->id = col_int (res, i, 0);
  ref->code = col_text (res, i, 1);
}

static GPtrArray *
pg_merchant_list (CtStore  *base,
                  GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  PGresult *res = run (c, "SELECT id, code FROM merchants ORDER BY id", NULL, "merchants", error);
  GPtrArray *list = take_rows (res, sizeof (CtStoreMerchantRef), (RowFunc) merchant_ref_from_row,
                               (GDestroyNotify) ct_store_merchant_ref_free);

  conn_give (store, c);
  return list;
}

static void
package_from_row (PGresult       *res,
                  int             i,
                  CtStorePackage *p)
{
  p->id = col_text (res, i, 0);
  p->amount = col_int (res, i, 1);
  p->bonus = col_int (res, i, 2);
  p->bonus_bp = col_int (res, i, 3);
}

static GPtrArray *
pg_list_packages (CtStore  *base,
                  GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params q = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_merchant (&q, base);
  res = run (c, "SELECT id, amount, bonus, bonus_bp FROM packages WHERE merchant_id = $1 ORDER BY position, id",
             &q, "packages", error);
  list = take_rows (res, sizeof (CtStorePackage), (RowFunc) package_from_row,
                    (GDestroyNotify) ct_store_package_free);
  conn_give (store, c);
  return list;
}

static gboolean
pg_get_package (CtStore         *base,
                const char      *id,
                CtStorePackage  *out,
                GError         **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  p_text (&p, id);
  p_merchant (&p, base);
  res = run (c, "SELECT id, amount, bonus, bonus_bp FROM packages WHERE merchant_id = $2 AND id = $1", &p,
             "package", error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        package_from_row (res, 0, out);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no package \"%s\"", id);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
pg_put_package (CtStore               *base,
                const CtStorePackage  *pkg,
                GError               **error)
{
  Params p = { 0 };

  p_text (&p, pkg->id);
  p_int (&p, pkg->amount);
  p_int (&p, pkg->bonus);
  p_int (&p, pkg->bonus_bp);
  p_merchant (&p, base);
  return run_done (tx_conn ((CtPgStore *) base->root),
                   "INSERT INTO packages (merchant_id, id, amount, bonus, bonus_bp, position)"
                   " VALUES ($5, $1, $2, $3, $4, (SELECT coalesce (max (position), 0) + 1 FROM packages"
                   " WHERE merchant_id = $5))"
                   " ON CONFLICT (merchant_id, id) DO UPDATE SET amount = excluded.amount, bonus = excluded.bonus,"
                   " bonus_bp = excluded.bonus_bp", &p, "package", error);
}

/* Runs a statement that must change one row; NOT_FOUND names @what. */
static gboolean
change_one (PgConn        *c,
            const char    *sql,
            const Params  *p,
            const char    *what,
            const char    *name,
            GError       **error)
{
  int64_t n = 0;

  if (!run_count (c, sql, p, what, &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no %s \"%s\"", what, name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_remove_package (CtStore     *base,
                   const char  *id,
                   GError     **error)
{
  Params p = { 0 };

  p_text (&p, id);
  p_merchant (&p, base);
  return change_one (tx_conn ((CtPgStore *) base->root), "DELETE FROM packages WHERE merchant_id = $2 AND id = $1", &p,
                     "package", id, error);
}

/* Tills and managers */

static gboolean
pg_till_put (CtStore       *base,
             const char    *store_name,
             const char    *name,
             const guint8   token_hash[32],
             gboolean       must_be_new,
             GError       **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  g_autofree char *label = g_strdup_printf ("%s/%s", store_name, name);
  Params p = { 0 };
  int64_t n = 0;

  p_text (&p, store_name);
  p_text (&p, name);
  p_hash (&p, token_hash);
  p_merchant (&p, base);
  if (!must_be_new)
    return change_one (c, "UPDATE tills SET token_hash = $3, revoked = false WHERE merchant_id = $4"
                          " AND store = $1 AND name = $2", &p, "till", label, error);
  if (!run_count (c, "INSERT INTO tills (merchant_id, store, name, token_hash) VALUES ($4, $1, $2, $3)"
                     " ON CONFLICT (merchant_id, store, name) DO NOTHING", &p, "till", &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "till %s already exists", label);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_till_revoke (CtStore     *base,
                const char  *store_name,
                const char  *name,
                GError     **error)
{
  g_autofree char *label = g_strdup_printf ("%s/%s", store_name, name);
  Params p = { 0 };

  p_text (&p, store_name);
  p_text (&p, name);
  p_merchant (&p, base);
  return change_one (tx_conn ((CtPgStore *) base->root),
                     "UPDATE tills SET revoked = true WHERE merchant_id = $3 AND store = $1 AND name = $2",
                     &p, "till", label, error);
}

/* The one row of @res, a SELECT of id, store, name, revoked, merchant_id,
 * into @out; CT_STORE_ERROR_NOT_FOUND without one. */
static gboolean
till_from_result (PGresult     *res,
                  const char   *not_found,
                  CtStoreTill  *out,
                  GError      **error)
{
  if (PQntuples (res) != 1)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "%s", not_found);
      return FALSE;
    }
  out->id = col_int (res, 0, 0);
  out->store = col_text (res, 0, 1);
  out->name = col_text (res, 0, 2);
  out->revoked = col_bool (res, 0, 3);
  out->merchant = col_int (res, 0, 4);
  return TRUE;
}

/* Runs @sql, a SELECT of id, store, name, revoked, merchant_id, into @out. */
static gboolean
till_select (CtPgStore    *store,
             const char   *sql,
             Params       *p,
             const char   *not_found,
             CtStoreTill  *out,
             GError      **error)
{
  PgConn *c = conn_take (store);
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  res = run (c, sql, p, "till", error);
  if (res != NULL)
    {
      ok = till_from_result (res, not_found, out, error);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
pg_till_by_token (CtStore       *base,
                  const guint8   token_hash[32],
                  CtStoreTill   *out,
                  GError       **error)
{
  Params p = { 0 };

  p_hash (&p, token_hash);
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = g_private_get (&current_conn);

  /* Read again with the claim of the write's key (pg_read_ahead()). */
  if (c != NULL && c->store == store && c->pre_till_row != NULL
      && memcmp (c->ahead_till_hash, token_hash, 32) == 0)
    {
      PGresult *res = g_steal_pointer (&c->pre_till_row);
      gboolean ok;

      memset (out, 0, sizeof *out);
      ok = till_from_result (res, "unknown token", out, error);
      PQclear (res);
      return ok;
    }
  return till_select (store, TILL_BY_HASH_SQL, &p, "unknown token", out, error);
}

static gboolean
pg_till_get (CtStore       *base,
             const char    *store_name,
             const char    *name,
             CtStoreTill   *out,
             GError       **error)
{
  g_autofree char *not_found = g_strdup_printf ("there is no till %s/%s", store_name, name);
  Params p = { 0 };

  p_text (&p, store_name);
  p_text (&p, name);
  p_merchant (&p, base);
  return till_select ((CtPgStore *) base->root,
                      "SELECT id, store, name, revoked, merchant_id FROM tills WHERE merchant_id = $3"
                      " AND store = $1 AND name = $2",
                      &p, not_found, out, error);
}

static gboolean
pg_manager_put (CtStore     *base,
                const char  *id,
                const char  *pin_hash,
                int          must_be_new,
                GError     **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  int64_t n = 0;

  p_text (&p, id);
  p_text (&p, pin_hash);
  p_merchant (&p, base);
  if (!must_be_new)
    return change_one (c, "UPDATE managers SET pin_hash = $2 WHERE merchant_id = $3 AND id = $1",
                       &p, "manager", id, error);
  if (!run_count (c, "INSERT INTO managers (merchant_id, id, pin_hash) VALUES ($3, $1, $2)"
                     " ON CONFLICT (merchant_id, id) DO NOTHING",
                  &p, "manager", &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "manager %s already exists", id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_manager_remove (CtStore     *base,
                   const char  *id,
                   GError     **error)
{
  Params p = { 0 };

  p_text (&p, id);
  p_merchant (&p, base);
  return change_one (tx_conn ((CtPgStore *) base->root), "DELETE FROM managers WHERE merchant_id = $2 AND id = $1", &p,
                     "manager", id, error);
}

static gboolean
pg_manager_get (CtStore         *base,
                const char      *id,
                CtStoreManager  *out,
                GError         **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  p_text (&p, id);
  p_merchant (&p, base);
  res = run (c, "SELECT id, pin_hash FROM managers WHERE merchant_id = $2 AND id = $1", &p, "manager", error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        {
          out->id = col_text (res, 0, 0);
          out->pin_hash = col_text (res, 0, 1);
        }
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no manager \"%s\"", id);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

#define GUARD_COLUMNS "failures, lockouts, last_failure_at, locked_until, pin_short"

static void
guard_from_row (PGresult        *res,
                int              row,
                int              first,
                CtStorePinGuard *g)
{
  g->failures = (int) col_int (res, row, first);
  g->lockouts = (int) col_int (res, row, first + 1);
  g->last_failure_at = col_int (res, row, first + 2);
  g->locked_until = col_int (res, row, first + 3);
  g->pin_short = PQgetisnull (res, row, first + 4) ? -1 : (int) col_int (res, row, first + 4);
}

static gboolean
pg_pin_guard_get (CtStore          *base,
                  const char       *id,
                  CtStorePinGuard  *out,
                  GError          **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res = NULL;
  gboolean ok = TRUE;

  *out = (CtStorePinGuard) { .pin_short = -1 };
  p_text (&p, id);
  p_merchant (&p, base);
  /* Inside a request the row is made and locked until the commit, so wrong
   * PINs sent to several processes at once are all counted. */
  if (c->in_tx)
    ok = run_done (c, "INSERT INTO pin_guard (merchant_id, manager_id) VALUES ($2, $1) ON CONFLICT DO NOTHING",
                   &p, "PIN guard", error)
         && (res = run (c, "SELECT " GUARD_COLUMNS " FROM pin_guard WHERE merchant_id = $2 AND manager_id = $1"
                           " FOR UPDATE", &p, "PIN guard", error)) != NULL;
  else
    ok = (res = run (c, "SELECT " GUARD_COLUMNS " FROM pin_guard WHERE merchant_id = $2 AND manager_id = $1",
                     &p, "PIN guard", error)) != NULL;
  if (ok && PQntuples (res) == 1)
    guard_from_row (res, 0, 0, out);
  PQclear (res);
  conn_give (store, c);
  return ok;
}

static gboolean
pg_pin_guard_put (CtStore               *base,
                  const char            *id,
                  const CtStorePinGuard *g,
                  GError               **error)
{
  Params p = { 0 };

  p_text (&p, id);
  p_int (&p, g->failures);
  p_int (&p, g->lockouts);
  p_int (&p, g->last_failure_at);
  p_int (&p, g->locked_until);
  p_int (&p, g->pin_short);
  p_merchant (&p, base);
  return run_done (tx_conn ((CtPgStore *) base->root),
                   "INSERT INTO pin_guard (merchant_id, manager_id, " GUARD_COLUMNS ")"
                   " VALUES ($7, $1, $2, $3, $4, $5, $6)"
                   " ON CONFLICT (merchant_id, manager_id) DO UPDATE SET failures = $2, lockouts = $3, last_failure_at = $4,"
                   " locked_until = $5, pin_short = $6", &p, "PIN guard", error);
}

static void
manager_info_from_row (PGresult           *res,
                       int                 i,
                       CtStoreManagerInfo *info)
{
  info->id = col_text (res, i, 0);
  guard_from_row (res, i, 1, &info->guard);
}

static GPtrArray *
pg_manager_list (CtStore  *base,
                 GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_merchant (&p, base);
  res = run (c, "SELECT m.id, coalesce (g.failures, 0), coalesce (g.lockouts, 0),"
                " coalesce (g.last_failure_at, 0), coalesce (g.locked_until, 0), g.pin_short"
                " FROM managers m LEFT JOIN pin_guard g ON g.merchant_id = m.merchant_id AND g.manager_id = m.id"
                " WHERE m.merchant_id = $1 ORDER BY m.id", &p, "managers", error);
  list = take_rows (res, sizeof (CtStoreManagerInfo), (RowFunc) manager_info_from_row,
                    (GDestroyNotify) ct_store_manager_info_free);
  conn_give (store, c);
  return list;
}

static gboolean
pg_cashier_put (CtStore     *base,
                const char  *id,
                const char  *name,
                const char  *pin_hash,
                gboolean     must_be_new,
                GError     **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  int64_t n = 0;

  p_text (&p, id);
  p_text (&p, name);
  p_text (&p, pin_hash);
  p_merchant (&p, base);
  if (!must_be_new)
    return change_one (c, "UPDATE cashiers SET name = $2, pin_hash = $3 WHERE merchant_id = $4 AND id = $1",
                       &p, "cashier", id, error);
  p_int (&p, ct_store_now_ms ());
  if (!run_count (c, "INSERT INTO cashiers (merchant_id, id, name, pin_hash, created_at)"
                     " VALUES ($4, $1, $2, $3, $5) ON CONFLICT (merchant_id, id) DO NOTHING", &p, "cashier", &n,
                  error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "cashier %s already exists", id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_cashier_remove (CtStore     *base,
                   const char  *id,
                   GError     **error)
{
  Params p = { 0 };

  p_text (&p, id);
  p_merchant (&p, base);
  return change_one (tx_conn ((CtPgStore *) base->root), "DELETE FROM cashiers WHERE merchant_id = $2 AND id = $1", &p,
                     "cashier", id, error);
}

static gboolean
pg_cashier_get (CtStore         *base,
                const char      *id,
                CtStoreCashier  *out,
                GError         **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  p_text (&p, id);
  p_merchant (&p, base);
  res = run (c, "SELECT id, name, pin_hash FROM cashiers WHERE merchant_id = $2 AND id = $1", &p, "cashier", error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        {
          out->id = col_text (res, 0, 0);
          out->name = col_text (res, 0, 1);
          out->pin_hash = col_text (res, 0, 2);
        }
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no cashier \"%s\"", id);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static void
cashier_from_row (PGresult       *res,
                  int             i,
                  CtStoreCashier *k)
{
  k->id = col_text (res, i, 0);
  k->name = col_text (res, i, 1);
  guard_from_row (res, i, 2, &k->guard);
}

static GPtrArray *
pg_cashier_list (CtStore  *base,
                 GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_merchant (&p, base);
  res = run (c, "SELECT k.id, k.name, coalesce (g.failures, 0), coalesce (g.lockouts, 0),"
                " coalesce (g.last_failure_at, 0), coalesce (g.locked_until, 0), g.pin_short"
                " FROM cashiers k LEFT JOIN pin_guard g ON g.merchant_id = k.merchant_id"
                " AND g.manager_id = '" CT_STORE_CASHIER_GUARD_PREFIX "' || k.id"
                " WHERE k.merchant_id = $1 ORDER BY k.id", &p, "cashiers", error);
  list = take_rows (res, sizeof (CtStoreCashier), (RowFunc) cashier_from_row,
                    (GDestroyNotify) ct_store_cashier_free);
  conn_give (store, c);
  return list;
}

static gboolean
pg_audit_add (CtStore       *base,
              CtStoreAudit  *a,
              GError       **error)
{
  Params p = { 0 };
  PGresult *res;

  p_int (&p, a->created_at);
  p_text (&p, a->store);
  p_text (&p, a->till);
  p_text (&p, a->manager);
  p_text (&p, a->action);
  p_text (&p, a->card_no);
  p_text (&p, a->detail);
  p_merchant (&p, base);
  res = run (tx_conn ((CtPgStore *) base->root),
             "INSERT INTO audit (merchant_id, created_at, store, till, manager, action, card_no, detail)"
             " VALUES ($8, $1, $2, $3, $4, $5, $6, $7) RETURNING id", &p, "audit", error);
  if (res == NULL)
    return FALSE;
  a->id = col_int (res, 0, 0);
  PQclear (res);
  return TRUE;
}

static void
audit_from_row (PGresult     *res,
                int           i,
                CtStoreAudit *a)
{
  a->id = col_int (res, i, 0);
  a->created_at = col_int (res, i, 1);
  a->store = col_text (res, i, 2);
  a->till = col_text (res, i, 3);
  a->manager = col_text (res, i, 4);
  a->action = col_text (res, i, 5);
  a->card_no = col_text (res, i, 6);
  a->detail = col_text (res, i, 7);
}

static GPtrArray *
pg_audit_list (CtStore  *base,
               int64_t   since_ms,
               GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_int (&p, since_ms);
  p_merchant (&p, base);
  res = run (c, "SELECT id, created_at, store, till, manager, action, card_no, detail"
                " FROM audit WHERE merchant_id = $2 AND created_at >= $1 ORDER BY id", &p, "audit", error);
  list = take_rows (res, sizeof (CtStoreAudit), (RowFunc) audit_from_row, (GDestroyNotify) ct_store_audit_free);
  conn_give (store, c);
  return list;
}

/* Cards */

/* What a card is read with: its columns and the card that replaced it. */

static void
card_from_row (PGresult    *res,
               int          i,
               CtStoreCard *c)
{
  c->card_no = col_text (res, i, 0);
  c->status = col_text (res, i, 1);
  c->level = col_text (res, i, 2);
  c->name = col_text (res, i, 3);
  c->phone = col_text (res, i, 4);
  c->balance = col_int (res, i, 5);
  c->points = col_int (res, i, 6);
  c->created_at = col_int (res, i, 7);
  c->updated_at = col_int (res, i, 8);
  c->replaced_by = col_text (res, i, 9);
}

static gboolean
pg_card_get (CtStore      *base,
             const char   *card_no,
             CtStoreCard  *out,
             GError      **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  if (c->in_tx && locked_is (c, base, card_no))
    {
      card_copy (out, &c->locked);
      conn_give (store, c);
      return TRUE;
    }
  if (c->card_after != NULL && c->card_after_merchant == base->merchant
      && g_str_equal (PQgetvalue (c->card_after, 0, 0), card_no))
    {
      card_from_row (c->card_after, 0, out);
      g_clear_pointer (&c->card_after, PQclear);
      conn_give (store, c);
      return TRUE;
    }
  p_text (&p, card_no);
  p_merchant (&p, base);
  /* Inside a write, the card read is the card locked: what the request
   * decides from it (closed or not, its points, its level) still holds
   * when it writes, so a replacement, a change or a refund on the same
   * card in another process waits for it instead of writing over it. A
   * request locks one card, before any account slot. */
  res = run (c, c->in_tx ? "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = $2 AND card_no = $1"
                           " FOR NO KEY UPDATE"
                         : "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = $2 AND card_no = $1",
             &p, "card", error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        card_from_row (res, 0, out);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no card %s", card_no);
      if (ok && c->in_tx)
        {
          /* Locked now: the transaction's writes to it keep the copy. */
          locked_clear (c);
          card_copy (&c->locked, out);
          c->has_locked = TRUE;
          c->locked_merchant = base->merchant;
        }
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
pg_card_insert (CtStore            *base,
                const CtStoreCard  *card,
                GError            **error)
{
  Params p = { 0 };
  int64_t n = 0;

  p_text (&p, card->card_no);
  p_text (&p, card->status);
  p_text (&p, card->level);
  p_text (&p, card->name);
  p_text (&p, card->phone);
  p_int (&p, card->points);
  p_int (&p, card->created_at);
  p_merchant (&p, base);
  /* DO NOTHING rather than a unique violation: a violation would abort the
   * request, and a number drawn twice just draws again. */
  if (!run_count (tx_conn ((CtPgStore *) base->root),
                  "INSERT INTO cards (merchant_id, " CARD_COLUMNS ") VALUES ($8, $1, $2, $3, $4, $5, 0, $6, $7, $7)"
                  " ON CONFLICT (merchant_id, card_no) DO NOTHING", &p, "card", &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "card %s exists", card->card_no);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_card_update (CtStore            *base,
                const CtStoreCard  *card,
                GError            **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  CtStoreCard kept;

  p_text (&p, card->card_no);
  p_text (&p, card->status);
  p_text (&p, card->level);
  p_text (&p, card->name);
  p_text (&p, card->phone);
  p_int (&p, card->updated_at);
  p_merchant (&p, base);
  if (!locked_is (c, base, card->card_no))
    return change_one (c, "UPDATE cards SET status = $2, level = $3, name = $4, phone = $5, updated_at = $6"
                          " WHERE merchant_id = $7 AND card_no = $1", &p, "card", card->card_no, error);
  /* The card held locked (a payment that moved it up a level): its row
   * is there until the commit, and the copy takes the new fields. */
  if (!run_later (c, "UPDATE cards SET status = $2, level = $3, name = $4, phone = $5, updated_at = $6"
                     " WHERE merchant_id = $7 AND card_no = $1", &p, "card", error))
    return FALSE;
  card_copy (&kept, card);
  kept.balance = c->locked.balance;
  kept.points = c->locked.points;
  kept.created_at = c->locked.created_at;
  g_free (kept.replaced_by);
  kept.replaced_by = g_strdup (c->locked.replaced_by);
  ct_store_card_clear (&c->locked);
  c->locked = kept;
  return TRUE;
}

/* Closes the old card, ends its member link and moves the member's PIN
 * and spend to the new one. The update of the old card's row holds it until the commit,
 * so of two replacements of one card in two processes the second finds
 * it closed. */
static gboolean
pg_card_replace (CtStore     *base,
                 const char  *old_no,
                 const char  *new_no,
                 int64_t      now_ms,
                 GError     **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  static const char *const moves[] = {
    /* The lost card's page link and payment-code secret stop; the
     * replacement gives the new card its own (ct_member_link_new). */
    "DELETE FROM member_links WHERE merchant_id = $3 AND card_no = $1 AND $2::text IS NOT NULL",
    "UPDATE member_pins SET card_no = $2 WHERE merchant_id = $3 AND card_no = $1",
    "INSERT INTO card_spend (merchant_id, card_no, spend) SELECT $3, $2, spend FROM card_spend"
    "  WHERE merchant_id = $3 AND card_no = $1 ON CONFLICT (merchant_id, card_no)"
    "  DO UPDATE SET spend = card_spend.spend + excluded.spend",
    "DELETE FROM card_spend WHERE merchant_id = $3 AND card_no = $1 AND $2::text IS NOT NULL",
  };
  Params p = { 0 };
  int64_t n = 0;

  p_text (&p, old_no);
  p_text (&p, new_no);
  p_int (&p, now_ms);
  p_merchant (&p, base);
  locked_clear (c);
  if (!run_count (c, "UPDATE cards SET status = 'closed', replaced_by = $2, updated_at = $3"
                     " WHERE merchant_id = $4 AND card_no = $1 AND status <> 'closed'", &p, "card", &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "card %s is closed", old_no);
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (moves); i++)
    {
      Params q = { 0 };

      p_text (&q, old_no);
      p_text (&q, new_no);
      p_merchant (&q, base);
      if (!run_done (c, moves[i], &q, "card", error))
        return FALSE;
    }
  return TRUE;
}

/* No lock taken: a request locks one card (the one it books on), and a
 * card's replaced_by, once set, never changes. */
static gboolean
pg_card_replaced_into (CtStore     *base,
                       const char  *card_no,
                       const char  *holder,
                       gboolean    *out_replaced,
                       GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  *out_replaced = FALSE;
  p_text (&p, card_no);
  p_text (&p, holder);
  p_merchant (&p, base);
  /* UNION, not UNION ALL: a chain that came round again would end. */
  res = run (c, "WITH RECURSIVE later (card_no) AS ("
                " SELECT replaced_by FROM cards WHERE merchant_id = $3 AND card_no = $1"
                " UNION SELECT cards.replaced_by FROM cards JOIN later"
                "  ON cards.merchant_id = $3 AND cards.card_no = later.card_no)"
                " SELECT 1 FROM later WHERE card_no = $2", &p, "card", error);
  if (res != NULL)
    {
      *out_replaced = PQntuples (res) > 0;
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

static gboolean
pg_card_add_points (CtStore     *base,
                    const char  *card_no,
                    int64_t      delta,
                    int64_t     *out_points,
                    GError     **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;
  gboolean ok;

  p_text (&p, card_no);
  p_int (&p, delta);
  p_merchant (&p, base);
  if (locked_is (c, base, card_no))
    {
      /* The row is locked and the copy is what it holds: the answer is
       * known, and the write goes with the next round trip. The floor
       * stays the database's (CHECK points >= 0). */
      if (c->locked.points + delta < 0)
        {
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT, "points of %s would go below zero",
                       card_no);
          return FALSE;
        }
      if (!run_later (c, "UPDATE cards SET points = points + $2 WHERE merchant_id = $3 AND card_no = $1", &p,
                      "points", error))
        return FALSE;
      c->locked.points += delta;
      if (out_points != NULL)
        *out_points = c->locked.points;
      return TRUE;
    }
  res = run (c, "UPDATE cards SET points = points + $2 WHERE merchant_id = $3 AND card_no = $1"
                " AND points + $2 >= 0"
                " RETURNING points", &p, "points", error);
  if (res == NULL)
    return FALSE;
  ok = PQntuples (res) == 1;
  if (ok && out_points != NULL)
    *out_points = col_int (res, 0, 0);
  PQclear (res);
  if (!ok)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT, "points of %s would go below zero", card_no);
  return ok;
}

static gboolean
pg_card_event (CtStore     *base,
               const char  *card_no,
               const char  *kind,
               const char  *detail,
               const char  *store_name,
               const char  *till,
               const char  *operator_name,
               const char  *manager,
               GError     **error)
{
  Params p = { 0 };

  p_text (&p, card_no);
  p_text (&p, kind);
  p_text (&p, detail);
  p_text (&p, store_name);
  p_text (&p, till);
  p_text (&p, operator_name);
  p_text (&p, manager);
  p_int (&p, ct_store_now_ms ());
  p_merchant (&p, base);
  return run_done (tx_conn ((CtPgStore *) base->root),
                   "INSERT INTO card_events (merchant_id, card_no, kind, detail, store, till, operator, manager,"
                   " created_at) VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8)", &p, "card event", error);
}

/* Ledger */

static gboolean
post_one (PgConn                *c,
          CtStore               *base,
          const CtStorePosting  *posting,
          PGresult             **out_card,
          GError               **error)
{
  Params p = { 0 };
  PGresult *res;
  gboolean ok;

  p_text (&p, posting->account);
  p_int (&p, posting->amount);
  p_merchant (&p, base);
  if (posting->account[0] != '@' && locked_is (c, base, posting->account))
    {
      /* The card is locked and the copy is its row: whether the balance
       * may go there is known here, and the update goes with the next
       * round trip. The database still refuses an overdraft (CHECK balance
       * >= 0): the commit would fail rather than take a card below zero. */
      int64_t now = ct_store_now_ms ();

      if (c->locked.balance + posting->amount < 0)
        {
          g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT, "account %s cannot go below zero",
                       posting->account);
          return FALSE;
        }
      p_int (&p, now);
      if (!batch_later (c, BATCH_CARD, &p, "posting", error))
        return FALSE;
      c->locked.balance += posting->amount;
      c->locked.updated_at = now;
      return TRUE;
    }
  if (posting->account[0] != '@')
    {
      /* The floor is part of the update itself, so the database refuses an
       * overdraft whatever the application thought the balance was. The
       * row it leaves answers the card read that follows a posting. */
      p_int (&p, ct_store_now_ms ());
      res = run (c, "UPDATE cards SET balance = balance + $2, updated_at = $4 WHERE merchant_id = $3"
                    " AND card_no = $1 AND balance + $2 >= 0 RETURNING " CARD_READ_COLUMNS, &p, "posting", error);
      if (res == NULL)
        return FALSE;
      ok = PQntuples (res) == 1;
      if (ok && out_card != NULL)
        {
          g_clear_pointer (out_card, PQclear);
          *out_card = res;
        }
      else
        PQclear (res);
    }
  else if (posting->amount > 0 || strcmp (posting->account, CT_ACCOUNT_POOL) != 0)
    {
      /* A credit cannot be refused, nor can a debit of an account without
       * a floor (every split account but the pool: a top-up's tender, a
       * bonus's promotion): it needs no answer, and waits for the commit
       * beside the transaction's other credits. Sent at once, it took the
       * connection's pool slot with the credits held before it, so a
       * group held that slot until its commit while a refund alone,
       * holding a later card of the group, waited for every slot. */
      if (credits_add (c, base->merchant, posting->account, posting->amount))
        return TRUE;
      p_int (&p, c->slot);
      return run_later (c, CREDIT_SQL, &p, "posting", error);
    }
  else
    {
      p_int (&p, c->slot);
      res = run (c, CREDIT_SQL, &p, "posting", error);
      if (res == NULL)
        return FALSE;
      ok = col_bool (res, 0, 0);
      PQclear (res);
    }
  if (!ok)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT,
                 "account %s cannot go below zero", posting->account);
  return ok;
}

static gboolean
pg_post (CtStore               *base,
         const CtStorePosting  *postings,
         guint                  n_postings,
         GError               **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  PGresult *card = NULL;

  /* Cards first, then the split accounts: every transaction takes its row
   * locks in this one order, so a payment (card, then a pool slot) and a
   * refund (all pool slots, then the card) cannot wait for each other. */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < n_postings; i++)
      {
        const CtStorePosting *posting = &postings[i];

        if (posting->amount == 0 || (posting->account[0] == '@') != (pass == 1))
          continue;
        if (!post_one (c, base, posting, &card, error))
          {
            g_clear_pointer (&card, PQclear);
            return FALSE;
          }
      }
  /* A posting's caller reads its card next (balance after, points): the
   * row the update returned is that card as this transaction sees it,
   * until another statement runs. */
  g_clear_pointer (&c->card_after, PQclear);
  c->card_after = card;
  c->card_after_merchant = base->merchant;
  return TRUE;
}

/* Postings as two array literals for one INSERT … unnest. */
static gboolean
insert_postings (PgConn                *c,
                 CtStore               *base,
                 int64_t                tx_id,
                 const CtStorePosting  *postings,
                 guint                  n_postings,
                 GError               **error)
{
  g_autoptr(GString) accounts = g_string_new ("{");
  g_autoptr(GString) amounts = g_string_new ("{");
  Params p = { 0 };
  guint n = 0;

  for (guint i = 0; i < n_postings; i++)
    {
      if (postings[i].amount == 0)
        continue;
      if (n++ > 0)
        {
          g_string_append_c (accounts, ',');
          g_string_append_c (amounts, ',');
        }
      /* Card numbers and account names are letters, digits and '@'. */
      g_string_append_printf (accounts, "\"%s\"", postings[i].account);
      g_string_append_printf (amounts, "%" G_GINT64_FORMAT, postings[i].amount);
    }
  if (n == 0)
    return TRUE;
  g_string_append_c (accounts, '}');
  g_string_append_c (amounts, '}');
  p_int (&p, tx_id);
  p_text (&p, accounts->str);
  p_text (&p, amounts->str);
  p_merchant (&p, base);
  return batch_later (c, BATCH_POSTINGS, &p, "postings", error);
}

static gboolean
pg_tx_insert (CtStore               *base,
              CtStoreTx             *tx,
              const CtStorePosting  *postings,
              guint                  n_postings,
              GError               **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;
  int64_t sum = 0;

  for (guint i = 0; i < n_postings; i++)
    sum += postings[i].amount;
  g_assert (sum == 0);

  p_text (&p, tx->card_no);
  p_text (&p, tx->kind);
  p_int (&p, tx->delta);
  p_int (&p, tx->bonus);
  p_int (&p, tx->balance_after);
  p_int (&p, tx->points_delta);
  p_int (&p, tx->points_after);
  p_text (&p, tx->store);
  p_text (&p, tx->till);
  p_text (&p, tx->operator_name);
  p_text (&p, tx->manager);
  p_text (&p, tx->reason);
  p_text (&p, tx->order_ref);
  if (tx->refund_of > 0)
    p_int (&p, tx->refund_of);
  else
    p_text (&p, NULL);
  p_int (&p, tx->created_at);
  p_text (&p, tx->tender);
  if (tx->shift_id > 0)
    p_int (&p, tx->shift_id);
  else
    p_text (&p, NULL);
  p_int (&p, tx->taken_at != 0 ? tx->taken_at : tx->created_at);
  if (tx->rest > 0)
    p_int (&p, tx->rest);
  else
    p_text (&p, NULL);
  p_text (&p, tx->rest > 0 ? tx->rest_tender : NULL);
  p_text (&p, tx->level_up);
  p_merchant (&p, base);
  if (c->next_tx_id > 0)
    {
      /* The id was drawn with the claim: nothing waits for this insert's
       * answer, so it goes with the next round trip. */
      tx->id = c->next_tx_id;
      c->next_tx_id = 0;
      p_int (&p, tx->id);
      if (!batch_later (c, BATCH_TX, &p, "transaction", error))
        return FALSE;
      return insert_postings (c, base, tx->id, postings, n_postings, error);
    }
  res = run (c, "INSERT INTO transactions (merchant_id, card_no, kind, delta, bonus, balance_after, points_delta,"
                " points_after, store, till, operator, manager, reason, order_ref, refund_of, created_at,"
                " tender, shift_id, taken_at, rest, rest_tender, level_up)"
                " VALUES ($22, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
                " $19, $20, $21)"
                " RETURNING id",
             &p, "transaction", error);
  if (res == NULL)
    return FALSE;
  tx->id = col_int (res, 0, 0);
  PQclear (res);
  return insert_postings (c, base, tx->id, postings, n_postings, error);
}

#define TX_COLUMNS "id, card_no, kind, delta, bonus, balance_after, points_delta, points_after, " \
                   "store, till, operator, manager, reason, order_ref, refund_of, created_at, " \
                   "tender, shift_id, taken_at, " \
                   "(SELECT b.level FROM tx_benefits b WHERE b.tx_id = transactions.id), " \
                   "coalesce ((SELECT b.discount FROM tx_benefits b WHERE b.tx_id = transactions.id), 0), " \
                   "coalesce ((SELECT b.topup_bonus FROM tx_benefits b WHERE b.tx_id = transactions.id), 0), " \
                   "coalesce ((SELECT r.points FROM redemptions r WHERE r.tx_id = transactions.id), 0), " \
                   "coalesce ((SELECT r.value FROM redemptions r WHERE r.tx_id = transactions.id), 0), " \
                   "coalesce (rest, 0), rest_tender, " \
                   "coalesce ((SELECT f.refunded FROM refund_totals f WHERE f.tx_id = transactions.id), 0), " \
                   "level_up"

static void
tx_from_row (PGresult  *res,
             int        i,
             CtStoreTx *t)
{
  t->id = col_int (res, i, 0);
  t->card_no = col_text (res, i, 1);
  t->kind = col_text (res, i, 2);
  t->delta = col_int (res, i, 3);
  t->bonus = col_int (res, i, 4);
  t->balance_after = col_int (res, i, 5);
  t->points_delta = col_int (res, i, 6);
  t->points_after = col_int (res, i, 7);
  t->store = col_text (res, i, 8);
  t->till = col_text (res, i, 9);
  t->operator_name = col_text (res, i, 10);
  t->manager = col_text (res, i, 11);
  t->reason = col_text (res, i, 12);
  t->order_ref = col_text (res, i, 13);
  t->refund_of = col_int (res, i, 14);
  t->created_at = col_int (res, i, 15);
  t->tender = col_text (res, i, 16);
  t->shift_id = col_int (res, i, 17);
  t->taken_at = col_int (res, i, 18);
  t->level = col_text (res, i, 19);
  t->discount = col_int (res, i, 20);
  t->level_bonus = col_int (res, i, 21);
  t->redeemed_points = col_int (res, i, 22);
  t->redeemed_value = col_int (res, i, 23);
  t->rest = col_int (res, i, 24);
  t->rest_tender = col_text (res, i, 25);
  t->refunded = col_int (res, i, 26);
  t->level_up = col_text (res, i, 27);
}

static gboolean
pg_tx_get (CtStore    *base,
           int64_t     id,
           CtStoreTx  *out,
           GError    **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  p_int (&p, id);
  p_merchant (&p, base);
  res = run (c, "SELECT " TX_COLUMNS " FROM transactions WHERE merchant_id = $2 AND id = $1", &p, "transaction",
             error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        tx_from_row (res, 0, out);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no transaction %" G_GINT64_FORMAT, id);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
pg_tx_refunded (CtStore  *base,
                int64_t   id,
                int64_t  *out_refunded,
                GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  *out_refunded = 0;
  p_int (&p, id);
  res = run (c, "SELECT refunded FROM refund_totals WHERE tx_id = $1", &p, "refunded", error);
  if (res != NULL)
    {
      if (PQntuples (res) == 1)
        *out_refunded = col_int (res, 0, 0);
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

/* One conditional upsert: the row's total is the limit, whoever wrote it
 * first, and a refund racing another of the same transaction waits for
 * its row and then sees what it gave back. No row back means the refund
 * would pass the total. */
static gboolean
pg_refund_claim (CtStore  *base,
                 int64_t   tx_id,
                 int64_t   total,
                 int64_t   amount,
                 int64_t  *out_before,
                 GError  **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;
  gboolean claimed;

  *out_before = 0;
  p_int (&p, tx_id);
  p_int (&p, total);
  p_int (&p, amount);
  res = run (c, "INSERT INTO refund_totals AS f (tx_id, total, refunded) VALUES ($1, $2, $3)"
                " ON CONFLICT (tx_id) DO UPDATE SET refunded = f.refunded + excluded.refunded"
                " WHERE f.refunded + excluded.refunded <= f.total RETURNING f.refunded",
             &p, "refund", error);
  if (res == NULL)
    return FALSE;
  claimed = PQntuples (res) == 1;
  if (claimed)
    *out_before = col_int (res, 0, 0) - amount;
  PQclear (res);
  if (claimed)
    return TRUE;
  if (!pg_tx_refunded (base, tx_id, out_before, error))
    return FALSE;
  g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT,
               "transaction %" G_GINT64_FORMAT " has %" G_GINT64_FORMAT " left to refund", tx_id,
               total - *out_before);
  return FALSE;
}

static int64_t
pg_account_balance (CtStore     *base,
                    const char  *account,
                    GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  int64_t v = -1;

  p_text (&p, account);
  p_merchant (&p, base);
  if (account[0] == '@')
    res = run (c, "SELECT sum (balance) FROM account_slots WHERE merchant_id = $2 AND name = $1", &p, "balance",
               error);
  else
    res = run (c, "SELECT balance FROM cards WHERE merchant_id = $2 AND card_no = $1", &p, "balance", error);
  if (res != NULL)
    {
      if (PQntuples (res) == 1 && !PQgetisnull (res, 0, 0))
        v = col_int (res, 0, 0);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no account %s", account);
      PQclear (res);
    }
  conn_give (store, c);
  return v;
}

/* Idempotency */

static void card_from_row (PGresult *res, int i, CtStoreCard *c);

/* Remembers what the write reads after its claim; pg_claim_key() reads it. */
static void
pg_read_ahead (CtStore            *base,
               const CtStoreAhead *ahead)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);

  ahead_clear (c);
  c->ahead_till = ahead->till_hash != NULL;
  if (c->ahead_till)
    memcpy (c->ahead_till_hash, ahead->till_hash, 32);
  c->ahead_card_no = g_strdup (ahead->card_no);
  if (ahead->shift_store != NULL && ahead->shift_till != NULL)
    {
      c->ahead_shift_store = g_strdup (ahead->shift_store);
      c->ahead_shift_till = g_strdup (ahead->shift_till);
      c->ahead_shift_at = ahead->shift_at;
    }
}

/* The statements of a claim: its lock, then what the request reads first. */
enum
{
  CLAIM_LOCK,
  CLAIM_KEY,
  CLAIM_SETTINGS,
  CLAIM_LEVELS,
  CLAIM_CONNECTORS,
  CLAIM_TILL,
  CLAIM_CARD,
  CLAIM_SPEND,
  CLAIM_TX_ID,
  CLAIM_SHIFT,
  N_CLAIM
};

/* Keeps the shift @res a claim read for the transaction's later claims
 * of the same till at the same moment. */
static void
tx_shift_keep (PgConn   *c,
               CtStore  *base,
               PGresult *res)
{
  g_clear_pointer (&c->tx_shift, PQclear);
  g_free (c->tx_shift_store);
  g_free (c->tx_shift_till);
  c->tx_shift = kept_copy (res);
  c->tx_shift_merchant = base->merchant;
  c->tx_shift_store = g_strdup (c->ahead_shift_store);
  c->tx_shift_till = g_strdup (c->ahead_shift_till);
  c->tx_shift_at = c->ahead_shift_at;
}

/* Keeps what the claim read ahead for the calls that ask for it. */
static void
claim_keep_ahead (PgConn    *c,
                  CtStore   *base,
                  PGresult **res)
{
  c->pre_till_row = g_steal_pointer (&res[CLAIM_TILL]);
  c->pre_shift = g_steal_pointer (&res[CLAIM_SHIFT]);
  if (res[CLAIM_CARD] != NULL && PQntuples (res[CLAIM_CARD]) == 1)
    {
      card_from_row (res[CLAIM_CARD], 0, &c->locked);
      c->has_locked = TRUE;
      c->locked_merchant = base->merchant;
      c->has_spend = res[CLAIM_SPEND] != NULL;
      c->spend = c->has_spend && PQntuples (res[CLAIM_SPEND]) == 1 ? col_int (res[CLAIM_SPEND], 0, 0) : 0;
    }
  if (res[CLAIM_TX_ID] != NULL)
    c->next_tx_id = col_int (res[CLAIM_TX_ID], 0, 0);
}

static gboolean
pg_claim_key (CtStore     *base,
              int64_t      till_id,
              const char  *key,
              GError     **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", till_id, key);
  /* A transaction-level lock: it ends with the commit or the rollback,
   * and with the connection of a process that died. */
  static const char * const sqls[N_CLAIM] = {
    [CLAIM_LOCK] = "SELECT pg_try_advisory_xact_lock (hashtextextended ($1, 0))",
    [CLAIM_KEY] = KEY_SQL,
    [CLAIM_SETTINGS] = SETTINGS_SQL,
    [CLAIM_LEVELS] = LEVELS_SQL,
    [CLAIM_CONNECTORS] = CONNECTORS_SQL,
    [CLAIM_TILL] = TILL_BY_HASH_SQL,
    [CLAIM_CARD] = CARD_AHEAD_SQL,
    [CLAIM_SPEND] = SPEND_SQL,
    [CLAIM_TX_ID] = NEXT_TX_SQL,
    [CLAIM_SHIFT] = SHIFT_AT_SQL,
  };
  Params lock = { 0 }, kp = { 0 }, mp = { 0 }, tp = { 0 }, cp = { 0 }, sp = { 0 }, shp = { 0 };
  const Params *ps[N_CLAIM] = { &lock, &kp, &mp, &mp, &mp, &tp, &cp, &sp, NULL, &shp };
  /* A later claim of the transaction for the same merchant reads again
   * neither its settings, nor its levels, nor its connectors. */
  gboolean kept = c->tx_settings != NULL && c->tx_merchant == base->merchant;
  /* Nor the till or the shift an earlier claim read, when they are the
   * same. */
  gboolean till_kept = c->ahead_till && c->tx_till_row != NULL && memcmp (c->tx_till_hash, c->ahead_till_hash, 32) == 0;
  gboolean shift_kept = c->ahead_shift_store != NULL && c->tx_shift != NULL && c->tx_shift_merchant == base->merchant
                        && c->tx_shift_at == c->ahead_shift_at && g_str_equal (c->tx_shift_store, c->ahead_shift_store)
                        && g_str_equal (c->tx_shift_till, c->ahead_shift_till);
  gboolean wanted[N_CLAIM] = { TRUE, TRUE, !kept, !kept, !kept, c->ahead_till && !till_kept, c->ahead_card_no != NULL,
                               c->ahead_card_no != NULL, c->ahead_card_no != NULL,
                               c->ahead_shift_store != NULL && !shift_kept };
  Stmt stmts[N_CLAIM];
  PGresult *got[N_CLAIM], *res[N_CLAIM] = { NULL };
  guint n = 0;
  gboolean ok;

  p_text (&lock, name);
  p_int (&kp, till_id);
  p_text (&kp, key);
  p_merchant (&mp, base);
  if (c->ahead_till)
    p_hash (&tp, c->ahead_till_hash);
  p_text (&cp, c->ahead_card_no);
  p_merchant (&cp, base);
  p_text (&cp, name);
  p_text (&sp, c->ahead_card_no);
  p_merchant (&sp, base);
  p_text (&shp, c->ahead_shift_store);
  p_text (&shp, c->ahead_shift_till);
  p_int (&shp, c->ahead_shift_at);
  p_merchant (&shp, base);
  for (guint i = 0; i < N_CLAIM; i++)
    if (wanted[i])
      {
        stmts[n] = (Stmt) { prepared_name (c, sqls[i], ps[i], "idempotency claim", error), NULL, ps[i] };
        if (stmts[n++].name == NULL)
          return FALSE;
      }
  /* Behind the lock, in the same round trip, what the request reads first:
   * its key's stored answer (read after the lock is held, so a request
   * that held it before has committed), its merchant's settings, levels
   * and wallet connectors, and what the write named ahead. */
  g_clear_pointer (&c->card_after, PQclear);
  /* A key claimed again in its group reads the answer the group wrote, a
   * card the row and spend the group left. */
  if (batch_holds_key (c, till_id, key) && !batch_flush (c, error))
    return FALSE;
  if (c->ahead_card_no != NULL
      && (batch_holds_card (c, BATCH_CARD, mp.v[0], c->ahead_card_no)
          || batch_holds_card (c, BATCH_SPEND, mp.v[0], c->ahead_card_no))
      && !batch_flush_kinds (c, CARD_KINDS, error))
    return FALSE;
  if (!exec_pipeline (c, stmts, n, got, "idempotency claim", error))
    return FALSE;
  n = 0;
  for (guint i = 0; i < N_CLAIM; i++)
    if (wanted[i])
      res[i] = got[n++];
  ok = TRUE;
  for (guint i = 0; ok && i < N_CLAIM; i++)
    if (res[i] != NULL && PQresultStatus (res[i]) != PGRES_TUPLES_OK)
      ok = pg_fail (c, res[i], "idempotency claim", error);
  if (ok && !col_bool (res[CLAIM_LOCK], 0, 0))
    {
      ok = FALSE;
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_IN_PROGRESS,
                   "key %s of till %" G_GINT64_FORMAT " is in progress", key, till_id);
    }
  prefetch_clear (c);
  if (ok)
    {
      c->pre_till = till_id;
      c->pre_key_name = g_strdup (key);
      c->pre_key = g_steal_pointer (&res[CLAIM_KEY]);
      c->pre_merchant = base->merchant;
      if (!kept)
        {
          tx_reads_clear (c);
          c->tx_merchant = base->merchant;
          c->tx_settings = g_steal_pointer (&res[CLAIM_SETTINGS]);
          c->tx_levels = g_steal_pointer (&res[CLAIM_LEVELS]);
          c->tx_connectors = g_steal_pointer (&res[CLAIM_CONNECTORS]);
        }
      c->pre_settings = kept_copy (c->tx_settings);
      c->pre_levels = kept_copy (c->tx_levels);
      c->pre_connectors = kept_copy (c->tx_connectors);
      if (till_kept)
        res[CLAIM_TILL] = kept_copy (c->tx_till_row);
      else if (res[CLAIM_TILL] != NULL)
        {
          g_clear_pointer (&c->tx_till_row, PQclear);
          c->tx_till_row = kept_copy (res[CLAIM_TILL]);
          memcpy (c->tx_till_hash, c->ahead_till_hash, 32);
        }
      if (shift_kept)
        res[CLAIM_SHIFT] = kept_copy (c->tx_shift);
      else if (res[CLAIM_SHIFT] != NULL)
        tx_shift_keep (c, base, res[CLAIM_SHIFT]);
      claim_keep_ahead (c, base, res);
    }
  for (guint i = 0; i < N_CLAIM; i++)
    g_clear_pointer (&res[i], PQclear);
  return ok;
}

static void
pg_unclaim_key (CtStore     *base,
                int64_t      till_id,
                const char  *key)
{
  /* The claim ends with its transaction. */
}

static gboolean
pg_key_get (CtStore          *base,
            int64_t           till_id,
            const char       *key,
            CtStoreKeyState  *out_state,
            guint8            out_hash[32],
            guint            *out_status,
            char            **out_body,
            GError          **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;

  *out_state = CT_STORE_KEY_NEW;
  p_int (&p, till_id);
  p_text (&p, key);
  if (c->pre_key != NULL && c->pre_till == till_id && g_str_equal (c->pre_key_name, key))
    {
      res = g_steal_pointer (&c->pre_key);
      g_clear_pointer (&c->pre_key_name, g_free);
    }
  else if ((res = run (c, KEY_SQL, &p, "idempotency", error)) == NULL)
    return FALSE;
  if (PQntuples (res) == 1)
    {
      *out_state = CT_STORE_KEY_DONE;
      hash_from_text (PQgetvalue (res, 0, 0), out_hash);
      *out_status = (guint) col_int (res, 0, 1);
      *out_body = col_text (res, 0, 2);
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_key_put (CtStore       *base,
            int64_t        till_id,
            const char    *key,
            const guint8   hash[32],
            guint          status,
            const char    *body,
            GError       **error)
{
  Params p = { 0 };

  p_int (&p, till_id);
  p_text (&p, key);
  p_hash (&p, hash);
  p_int (&p, status);
  p_text (&p, body);
  p_int (&p, ct_store_now_ms ());
  PgConn *c = tx_conn ((CtPgStore *) base->root);

  /* Nothing reads it back in this transaction: it goes with the commit. */
  prefetch_clear (c);
  return batch_later (c, BATCH_KEY, &p, "idempotency", error);
}

static gboolean
pg_key_expire (CtStore  *base,
               int64_t   older_than_ms,
               GError  **error)
{
  Params p = { 0 };

  PgConn *c = tx_conn ((CtPgStore *) base->root);

  prefetch_clear (c);
  p_int (&p, older_than_ms);
  return run_done (c, "DELETE FROM idempotency WHERE created_at < $1", &p, "idempotency", error);
}

/* Reads */

static GPtrArray *
pg_find_cards (CtStore     *base,
               const char  *phone,
               const char  *name,
               guint        limit,
               GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_text (&p, phone != NULL ? phone : name);
  p_int (&p, limit);
  p_merchant (&p, base);
  if (phone != NULL)
    res = run (c, "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = $3 AND (phone = $1"
                  " OR (length ($1) = 4 AND right (phone, 4) = $1)) ORDER BY created_at, card_no LIMIT $2",
               &p, "cards", error);
  else
    res = run (c, "SELECT " CARD_READ_COLUMNS " FROM cards WHERE merchant_id = $3"
                  " AND strpos (lower (name), lower ($1)) > 0 ORDER BY created_at, card_no LIMIT $2", &p, "cards",
               error);
  list = take_rows (res, sizeof (CtStoreCard), (RowFunc) card_from_row, (GDestroyNotify) ct_store_card_free);
  conn_give (store, c);
  return list;
}

static GPtrArray *
pg_card_history (CtStore     *base,
                 const char  *card_no,
                 int64_t      from_ms,
                 int64_t      to_ms,
                 int64_t      before_id,
                 guint        limit,
                 GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_text (&p, card_no);
  p_int (&p, before_id > 0 ? before_id : G_MAXINT64);
  p_int (&p, from_ms);
  p_int (&p, to_ms);
  p_int (&p, limit);
  p_merchant (&p, base);
  res = run (c, "SELECT " TX_COLUMNS " FROM transactions WHERE merchant_id = $6 AND card_no = $1 AND id < $2"
                " AND taken_at >= $3 AND taken_at < $4 ORDER BY id DESC LIMIT $5", &p, "transactions", error);
  list = take_rows (res, sizeof (CtStoreTx), (RowFunc) tx_from_row, (GDestroyNotify) ct_store_tx_free);
  conn_give (store, c);
  return list;
}

static GPtrArray *
pg_store_day (CtStore     *base,
              const char  *store_name,
              const char  *till,
              int64_t      from_ms,
              int64_t      to_ms,
              int64_t      after_id,
              guint        limit,
              GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_int (&p, from_ms);
  p_int (&p, to_ms);
  p_text (&p, store_name);
  p_text (&p, till);
  p_int (&p, after_id);
  p_int (&p, limit);
  p_merchant (&p, base);
  res = run (c, "SELECT " TX_COLUMNS " FROM transactions WHERE merchant_id = $7 AND taken_at >= $1 AND taken_at < $2"
                " AND store = $3 AND ($4::text IS NULL OR till = $4) AND id > $5 ORDER BY id LIMIT $6",
             &p, "transactions", error);
  list = take_rows (res, sizeof (CtStoreTx), (RowFunc) tx_from_row, (GDestroyNotify) ct_store_tx_free);
  conn_give (store, c);
  return list;
}

static void
totals_from_row (PGresult         *res,
                 int               row,
                 int               first,
                 CtStoreDayTotals *t)
{
  int64_t *fields[CT_STORE_DAY_TOTALS_N];
  guint n = ct_store_day_totals_fields (t, fields);

  for (guint i = 0; i < n; i++)
    *fields[i] = col_int (res, row, first + (int) i);
}

/* A store's or till's totals: its store and till, then the totals. */
static void
place_totals_from_row (PGresult         *res,
                       int               i,
                       CtStoreDayTotals *t)
{
  t->store = col_text (res, i, 0);
  t->till = col_text (res, i, 1);
  totals_from_row (res, i, 2, t);
}

static GPtrArray *
pg_day_totals (CtStore     *base,
               const char  *store_name,
               const char  *till,
               int64_t      from_ms,
               int64_t      to_ms,
               gboolean     by_till,
               GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_int (&p, from_ms);
  p_int (&p, to_ms);
  p_text (&p, store_name);
  p_text (&p, till);
  p_merchant (&p, base);
  if (by_till)
    res = run (c, "SELECT store, till," CT_STORE_DAY_TOTALS_SQL " FROM transactions WHERE merchant_id = $5"
                  " AND taken_at >= $1 AND taken_at < $2 AND ($3::text IS NULL OR store = $3)"
                  " AND ($4::text IS NULL OR till = $4) GROUP BY store, till ORDER BY store, till", &p,
               "day totals", error);
  else
    res = run (c, "SELECT $3::text, $4::text," CT_STORE_DAY_TOTALS_SQL " FROM transactions WHERE merchant_id = $5"
                  " AND taken_at >= $1 AND taken_at < $2 AND store = $3 AND ($4::text IS NULL OR till = $4)", &p,
               "day totals", error);
  list = take_rows (res, sizeof (CtStoreDayTotals), (RowFunc) place_totals_from_row,
                    (GDestroyNotify) ct_store_day_totals_free);
  conn_give (store, c);
  return list;
}

static gboolean
pg_ledger_check (CtStore             *base,
                 CtStoreLedgerCheck  *out,
                 GError             **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  PGresult *res = NULL;
  Params p = { 0 };
  gboolean ok = FALSE;
  gboolean own_tx = !c->in_tx;

  memset (out, 0, sizeof *out);
  /* One snapshot for every figure. */
  if (own_tx && !exec_simple (c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", error))
    goto out;
  p_merchant (&p, base);
  res = run (c, "WITH acct AS (SELECT name, sum (balance) AS balance FROM account_slots WHERE merchant_id = $1"
                "   GROUP BY name),"
                " posted AS (SELECT account, sum (amount) AS s FROM postings WHERE merchant_id = $1 GROUP BY account),"
                " mcards AS (SELECT card_no, balance FROM cards WHERE merchant_id = $1)"
                " SELECT (SELECT coalesce (sum (balance), 0) FROM mcards),"
                "  (SELECT balance FROM acct WHERE name = '@pool'),"
                "  (SELECT balance FROM acct WHERE name = '@cash'),"
                "  (SELECT balance FROM acct WHERE name = '@promo'),"
                "  (SELECT balance FROM acct WHERE name = '@legacy'),"
                "  (SELECT coalesce (sum (s), 0) FROM posted),"
                "  (SELECT balance FROM acct WHERE name = '@wechat'),"
                "  (SELECT balance FROM acct WHERE name = '@alipay'),"
                "  (SELECT balance FROM acct WHERE name = '@bank_card'),"
                "  (SELECT balance FROM acct WHERE name = '@other'),"
                "  (SELECT count (*) FROM posted p LEFT JOIN mcards k ON k.card_no = p.account"
                "     LEFT JOIN acct a ON a.name = p.account"
                "     WHERE coalesce (k.balance, a.balance) IS DISTINCT FROM p.s)"
                "  + (SELECT count (*) FROM mcards k WHERE balance <> 0"
                "     AND NOT EXISTS (SELECT 1 FROM posted p WHERE p.account = k.card_no))"
                "  + (SELECT count (*) FROM acct a WHERE balance <> 0"
                "     AND NOT EXISTS (SELECT 1 FROM posted p WHERE p.account = a.name))",
             &p, "ledger check", error);
  if (res != NULL)
    {
      out->cards = col_int (res, 0, 0);
      out->pool = col_int (res, 0, 1);
      out->cash = col_int (res, 0, 2);
      out->promo = col_int (res, 0, 3);
      out->legacy = col_int (res, 0, 4);
      out->postings_sum = col_int (res, 0, 5);
      out->tenders[CT_TENDER_WECHAT] = col_int (res, 0, 6);
      out->tenders[CT_TENDER_ALIPAY] = col_int (res, 0, 7);
      out->tenders[CT_TENDER_BANK_CARD] = col_int (res, 0, 8);
      out->tenders[CT_TENDER_OTHER] = col_int (res, 0, 9);
      out->balances_match = col_int (res, 0, 10) == 0;
      out->tenders[CT_TENDER_CASH] = out->cash;
      out->sum = out->cards + out->pool + out->promo + out->legacy;
      for (guint i = 0; i < CT_N_TENDERS; i++)
        out->sum += out->tenders[i];
      PQclear (res);
      ok = TRUE;
    }
  if (own_tx)
    exec_simple (c, "COMMIT", NULL);
out:
  conn_give (store, c);
  return ok;
}

/* Shifts */

#define SHIFT_COLUMNS "id, store, till, operator, float_amount, opened_at, closed_at, closed_by, counted_cash"

static void
shift_from_row (PGresult     *res,
                int           i,
                CtStoreShift *s)
{
  s->id = col_int (res, i, 0);
  s->store = col_text (res, i, 1);
  s->till = col_text (res, i, 2);
  s->operator_name = col_text (res, i, 3);
  s->float_amount = col_int (res, i, 4);
  s->opened_at = col_int (res, i, 5);
  s->closed_at = col_int (res, i, 6);
  s->closed_by = col_text (res, i, 7);
  s->counted_cash = col_int (res, i, 8);
}

static gboolean
pg_shift_open (CtStore       *base,
               CtStoreShift  *shift,
               GError       **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;

  g_clear_pointer (&c->pre_shift, PQclear); /* what the claim read of shifts is old now */
  p_text (&p, shift->store);
  p_text (&p, shift->till);
  p_text (&p, shift->operator_name);
  p_int (&p, shift->float_amount);
  p_int (&p, shift->opened_at);
  p_merchant (&p, base);
  res = run (c, "INSERT INTO shifts (merchant_id, store, till, operator, float_amount, opened_at)"
                " VALUES ($6, $1, $2, $3, $4, $5) RETURNING id", &p, "shift", error);
  if (res == NULL)
    return FALSE;
  shift->id = col_int (res, 0, 0);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_shift_close (CtStore             *base,
                const CtStoreShift  *shift,
                GError             **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  int64_t n = 0;

  g_clear_pointer (&c->pre_shift, PQclear); /* what the claim read of shifts is old now */
  p_int (&p, shift->id);
  p_int (&p, shift->closed_at);
  p_text (&p, shift->closed_by);
  p_int (&p, shift->counted_cash);
  p_merchant (&p, base);
  if (!run_count (c, "UPDATE shifts SET closed_at = $2, closed_by = $3, counted_cash = $4"
                     " WHERE merchant_id = $5 AND id = $1 AND closed_at IS NULL", &p, "shift", &n, error))
    return FALSE;
  if (n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS,
                   "shift %" G_GINT64_FORMAT " is closed already", shift->id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_shift_outcome_cash (CtStore  *base,
                       int64_t   shift_id,
                       int64_t   amount,
                       int64_t   audit_id,
                       int64_t   at_ms,
                       GError  **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  int64_t n = 0;

  p_int (&p, shift_id);
  p_int (&p, amount);
  if (audit_id > 0)
    p_int (&p, audit_id);
  else
    p_text (&p, NULL);
  p_int (&p, at_ms);
  p_merchant (&p, base);
  return run_count (c, "INSERT INTO outcome_cash (merchant_id, shift_id, amount, audit_id, created_at)"
                       " VALUES ($5, $1, $2, $3, $4)", &p, "outcome cash", &n, error);
}

static gboolean
pg_shift_get (CtStore       *base,
              int64_t        id,
              CtStoreShift  *out,
              GError       **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  p_int (&p, id);
  p_merchant (&p, base);
  /* Inside a request, the row is locked: two closes of one shift queue
   * behind each other and the second finds it closed. */
  res = run (c, c->in_tx ? "SELECT " SHIFT_COLUMNS " FROM shifts WHERE merchant_id = $2 AND id = $1 FOR UPDATE"
                         : "SELECT " SHIFT_COLUMNS " FROM shifts WHERE merchant_id = $2 AND id = $1", &p, "shift",
             error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        shift_from_row (res, 0, out);
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no shift %" G_GINT64_FORMAT, id);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static int64_t
pg_shift_at (CtStore     *base,
             const char  *store_name,
             const char  *till,
             int64_t      at_ms,
             GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  int64_t id = -1;

  p_text (&p, store_name);
  p_text (&p, till);
  p_int (&p, at_ms);
  p_merchant (&p, base);
  if (c->in_tx && c->pre_shift != NULL && c->ahead_shift_at == at_ms && c->pre_merchant == base->merchant
      && g_strcmp0 (c->ahead_shift_store, store_name) == 0 && g_strcmp0 (c->ahead_shift_till, till) == 0)
    res = g_steal_pointer (&c->pre_shift); /* read with the claim */
  else
    res = run (c, SHIFT_AT_SQL, &p, "shift", error);
  if (res != NULL)
    {
      id = PQntuples (res) == 1 ? col_int (res, 0, 0) : 0;
      PQclear (res);
    }
  conn_give (store, c);
  return id;
}

static GPtrArray *
pg_shift_list (CtStore     *base,
               const char  *store_name,
               const char  *till,
               int64_t      from_ms,
               int64_t      to_ms,
               GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_int (&p, from_ms);
  p_int (&p, to_ms);
  p_text (&p, store_name);
  p_text (&p, till);
  p_merchant (&p, base);
  res = run (c, "SELECT " SHIFT_COLUMNS " FROM shifts WHERE merchant_id = $5 AND opened_at >= $1 AND opened_at < $2"
                " AND ($3::text IS NULL OR store = $3) AND ($4::text IS NULL OR till = $4)"
                " ORDER BY opened_at, id", &p, "shifts", error);
  list = take_rows (res, sizeof (CtStoreShift), (RowFunc) shift_from_row, (GDestroyNotify) ct_store_shift_free);
  conn_give (store, c);
  return list;
}

static gboolean
pg_shift_totals (CtStore           *base,
                 int64_t            shift_id,
                 CtStoreDayTotals  *out,
                 GError           **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  p_int (&p, shift_id);
  p_merchant (&p, base);
  res = run (c, "SELECT" CT_STORE_DAY_TOTALS_SQL ","
                " (SELECT coalesce (sum (amount), 0) FROM outcome_cash WHERE merchant_id = $2 AND shift_id = $1)"
                " FROM transactions WHERE merchant_id = $2 AND shift_id = $1", &p, "shift totals", error);
  if (res != NULL)
    {
      int64_t *fields[CT_STORE_DAY_TOTALS_N];

      totals_from_row (res, 0, 0, out);
      out->outcome_cash = col_int (res, 0, (int) ct_store_day_totals_fields (out, fields));
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

/* Imports */

static gboolean
pg_import_row (CtStore                 *base,
               const CtStoreTx         *origin,
               const CtStoreImportRow  *row,
               CtStoreImportOutcome    *out_outcome,
               char                   **out_other_batch,
               GError                 **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;
  int64_t n = 0, tx_id;
  CtStorePosting postings[2] = { { CT_ACCOUNT_LEGACY, -row->balance }, { row->card_no, row->balance } };

  *out_other_batch = NULL;
  p_text (&p, row->card_no);
  p_text (&p, row->level);
  p_text (&p, row->name);
  p_text (&p, row->phone);
  p_int (&p, row->balance);
  p_int (&p, row->points);
  p_int (&p, origin->created_at);
  p_merchant (&p, base);
  if (!run_count (c, "INSERT INTO cards (merchant_id, " CARD_COLUMNS ")"
                     " VALUES ($8, $1, 'active', $2, $3, $4, $5, $6, $7, $7)"
                     " ON CONFLICT (merchant_id, card_no) DO NOTHING", &p, "import card", &n, error))
    return FALSE;
  if (n == 0)
    {
      Params q = { 0 };

      p_text (&q, row->card_no);
      p_merchant (&q, base);
      res = run (c, "SELECT order_ref FROM transactions WHERE merchant_id = $2 AND card_no = $1 AND kind = 'import'"
                    " ORDER BY id LIMIT 1", &q, "import lookup", error);
      if (res == NULL)
        return FALSE;
      if (PQntuples (res) == 1)
        *out_other_batch = col_text (res, 0, 0);
      PQclear (res);
      if (g_strcmp0 (*out_other_batch, origin->order_ref) == 0)
        {
          g_clear_pointer (out_other_batch, g_free);
          *out_outcome = CT_STORE_IMPORT_ALREADY_IN_BATCH;
        }
      else
        *out_outcome = CT_STORE_IMPORT_CARD_EXISTS;
      return TRUE;
    }

  memset (&p, 0, sizeof p);
  p_text (&p, row->card_no);
  p_int (&p, row->balance);
  p_int (&p, row->points);
  p_text (&p, origin->store);
  p_text (&p, origin->till);
  p_text (&p, origin->operator_name);
  p_text (&p, origin->manager);
  p_text (&p, origin->order_ref);
  p_int (&p, origin->created_at);
  p_merchant (&p, base);
  res = run (c, "INSERT INTO transactions (merchant_id, card_no, kind, delta, bonus, balance_after, points_delta,"
                " points_after, store, till, operator, manager, reason, order_ref, refund_of, created_at,"
                " taken_at)"
                " VALUES ($10, $1, 'import', $2, 0, $2, $3, $3, $4, $5, $6, $7, NULL, $8, NULL, $9, $9) RETURNING id",
             &p, "import transaction", error);
  if (res == NULL)
    return FALSE;
  tx_id = col_int (res, 0, 0);
  PQclear (res);
  if (!insert_postings (c, base, tx_id, postings, 2, error))
    return FALSE;
  *out_outcome = CT_STORE_IMPORT_INSERTED;
  return TRUE;
}

static gboolean
pg_import_finish (CtStore                   *base,
                  const char                *batch_id,
                  const CtStoreImportBatch  *counts,
                  GError                   **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  CtStorePosting legacy = { CT_ACCOUNT_LEGACY, -counts->total_balance };
  Params p = { 0 };

  /* @legacy has no floor: it holds minus every opening balance. */
  if (counts->total_balance != 0 && !post_one (c, base, &legacy, NULL, error))
    return FALSE;
  p_text (&p, batch_id);
  p_int (&p, counts->rows_accepted);
  p_int (&p, counts->rows_rejected);
  p_int (&p, counts->total_balance);
  p_int (&p, counts->total_points);
  p_int (&p, ct_store_now_ms ());
  p_merchant (&p, base);
  return run_done (c, "INSERT INTO import_batches (merchant_id, batch_id, rows_accepted, rows_rejected,"
                      " total_balance, total_points, created_at, updated_at) VALUES ($7, $1, $2, $3, $4, $5, $6, $6)"
                      " ON CONFLICT (merchant_id, batch_id) DO UPDATE SET"
                      " rows_accepted = import_batches.rows_accepted + excluded.rows_accepted,"
                      " rows_rejected = import_batches.rows_rejected + excluded.rows_rejected,"
                      " total_balance = import_batches.total_balance + excluded.total_balance,"
                      " total_points = import_batches.total_points + excluded.total_points,"
                      " updated_at = excluded.updated_at", &p, "import batch", error);
}

static gboolean
pg_import_batch_get (CtStore             *base,
                     const char          *batch_id,
                     CtStoreImportBatch  *out,
                     GError             **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  memset (out, 0, sizeof *out);
  p_text (&p, batch_id);
  p_merchant (&p, base);
  res = run (c, "SELECT rows_accepted, rows_rejected, total_balance, total_points FROM import_batches"
                " WHERE merchant_id = $2 AND batch_id = $1", &p, "import batch", error);
  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        {
          out->rows_accepted = col_int (res, 0, 0);
          out->rows_rejected = col_int (res, 0, 1);
          out->total_balance = col_int (res, 0, 2);
          out->total_points = col_int (res, 0, 3);
        }
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no import batch %s", batch_id);
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

/* Wallet connectors and their outbox. The delivery worker settles
 * messages outside any request, so these run on the request's connection
 * inside a transaction and on a pooled one (autocommit) otherwise. */

static gboolean
pg_wallet_connector_put (CtStore            *base,
                         CtWalletConnector  *wc,
                         GError            **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  prefetch_clear (c);
  tx_reads_clear (c);
  p_text (&p, wc->merchant);
  p_text (&p, ct_wallet_kind_to_string (wc->kind));
  p_text (&p, wc->app_id);
  p_text (&p, wc->serial_no);
  p_text (&p, wc->private_key);
  p_text (&p, wc->public_key);
  p_text (&p, wc->template_id);
  p_text (&p, wc->gateway);
  p_merchant (&p, base);
  res = run (c, "INSERT INTO wallet_connectors (merchant_id, merchant, kind, app_id, serial_no, private_key,"
                " public_key, template_id, gateway) VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (merchant, kind) DO UPDATE SET app_id = excluded.app_id,"
                " serial_no = excluded.serial_no, private_key = excluded.private_key,"
                " public_key = excluded.public_key, template_id = excluded.template_id,"
                " gateway = excluded.gateway RETURNING id", &p, "wallet connector", error);
  if (res != NULL)
    {
      wc->id = col_int (res, 0, 0);
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

static gboolean
pg_wallet_connector_remove (CtStore       *base,
                            const char    *merchant,
                            CtWalletKind   kind,
                            GError       **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  int64_t n = 0;

  prefetch_clear (c);
  tx_reads_clear (c);
  p_text (&p, merchant);
  p_text (&p, ct_wallet_kind_to_string (kind));
  p_merchant (&p, base);
  /* Delivered and refused messages stay as history; the undelivered ones
   * and the card links go with the connector, in one statement. */
  res = run (c, "WITH gone AS (DELETE FROM wallet_connectors WHERE merchant_id = $3 AND merchant = $1"
                " AND kind = $2 RETURNING id),"
                " o AS (DELETE FROM wallet_outbox WHERE state = 'pending' AND connector_id IN (SELECT id FROM gone)),"
                " k AS (DELETE FROM wallet_cards WHERE connector_id IN (SELECT id FROM gone))"
                " SELECT count (*) FROM gone", &p, "wallet connector", error);
  if (res != NULL)
    {
      n = col_int (res, 0, 0);
      PQclear (res);
      if (n == 0)
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "merchant %s has no %s connector",
                     merchant, ct_wallet_kind_to_string (kind));
    }
  conn_give (store, c);
  return n > 0;
}

static GPtrArray *
pg_wallet_connectors (CtStore  *base,
                      GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_merchant (&p, base);
  if ((res = prefetch_take (c, &c->pre_connectors, base->merchant)) == NULL)
    res = run (c, CONNECTORS_SQL, &p, "wallet connectors", error);

  if (res != NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_connector_free);
      for (int i = 0; i < PQntuples (res); i++)
        {
          CtWalletConnector *wc = g_new0 (CtWalletConnector, 1);

          if (!ct_wallet_kind_from_string (PQgetvalue (res, i, 2), &wc->kind))
            {
              ct_wallet_connector_free (wc);
              continue;
            }
          wc->id = col_int (res, i, 0);
          wc->merchant = col_text (res, i, 1);
          wc->app_id = col_text (res, i, 3);
          wc->serial_no = col_text (res, i, 4);
          wc->private_key = col_text (res, i, 5);
          wc->public_key = col_text (res, i, 6);
          wc->template_id = col_text (res, i, 7);
          wc->gateway = col_text (res, i, 8);
          g_ptr_array_add (list, wc);
        }
      PQclear (res);
    }
  conn_give (store, c);
  return list;
}

static gboolean
pg_wallet_enqueue (CtStore          *base,
                   CtWalletMessage  *msg,
                   int64_t           now_ms,
                   GError          **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  p_int (&p, msg->connector_id);
  p_text (&p, msg->card_no);
  p_text (&p, msg->method);
  p_text (&p, msg->request_no);
  p_text (&p, msg->payload);
  p_int (&p, now_ms);
  res = run (c, "INSERT INTO wallet_outbox (connector_id, card_no, method, request_no, payload, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", &p, "wallet outbox", error);
  if (res != NULL)
    {
      msg->id = col_int (res, 0, 0);
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

static GPtrArray *
pg_wallet_due (CtStore  *base,
               int64_t   now_ms,
               guint     limit,
               int64_t   lease_until_ms,
               GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_int (&p, now_ms);
  p_int (&p, limit);
  p_int (&p, lease_until_ms);
  /* The head of each card's queue, and only when it is due: a message
   * waiting for its retry holds back the later ones of its card. Taking
   * them moves their next attempt to the lease's end, so the worker of
   * another service process passes them by (the outer next_at test is
   * checked again on a row another process just claimed). */
  res = run (c, "UPDATE wallet_outbox SET next_at = $3 WHERE next_at <= $1 AND state = 'pending' AND id IN"
                " (SELECT o.id FROM wallet_outbox o WHERE o.state = 'pending' AND o.next_at <= $1"
                "  AND o.id = (SELECT min (q.id) FROM wallet_outbox q WHERE q.state = 'pending'"
                "    AND q.connector_id = o.connector_id AND q.card_no = o.card_no)"
                "  ORDER BY o.id LIMIT $2)"
                " RETURNING id, connector_id, card_no, method, request_no, payload, attempts",
             &p, "wallet outbox", error);
  if (res != NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_message_free);
      for (int i = 0; i < PQntuples (res); i++)
        {
          CtWalletMessage *m = g_new0 (CtWalletMessage, 1);

          m->id = col_int (res, i, 0);
          m->connector_id = col_int (res, i, 1);
          m->card_no = col_text (res, i, 2);
          m->method = col_text (res, i, 3);
          m->request_no = col_text (res, i, 4);
          m->payload = col_text (res, i, 5);
          m->attempts = (guint) col_int (res, i, 6);
          g_ptr_array_add (list, m);
        }
      PQclear (res);
      g_ptr_array_sort (list, ct_wallet_message_compare);
    }
  conn_give (store, c);
  return list;
}

static gboolean
pg_wallet_link_get (CtStore     *base,
                    int64_t      connector_id,
                    const char  *card_no,
                    char       **out,
                    GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  *out = NULL;
  p_int (&p, connector_id);
  p_text (&p, card_no);
  res = run (c, "SELECT biz_card_no FROM wallet_cards WHERE connector_id = $1 AND card_no = $2", &p,
             "wallet cards", error);
  if (res != NULL)
    {
      if (PQntuples (res) == 1)
        *out = col_text (res, 0, 0);
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

static gboolean
pg_wallet_link_put (CtStore     *base,
                    int64_t      connector_id,
                    const char  *card_no,
                    const char  *biz_card_no,
                    GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  gboolean ok;

  p_int (&p, connector_id);
  p_text (&p, card_no);
  p_text (&p, biz_card_no);
  ok = run_done (c, "INSERT INTO wallet_cards (connector_id, card_no, biz_card_no) VALUES ($1, $2, $3)"
                    " ON CONFLICT (connector_id, card_no) DO UPDATE SET biz_card_no = excluded.biz_card_no",
                 &p, "wallet cards", error);
  conn_give (store, c);
  return ok;
}

static gboolean
pg_wallet_settle (CtStore          *base,
                  int64_t           id,
                  CtWalletOutcome   outcome,
                  int64_t           next_at_ms,
                  const char       *reason,
                  int64_t           now_ms,
                  GError          **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  gboolean ok = FALSE;

  p_int (&p, id);
  p_int (&p, now_ms);
  switch (outcome)
    {
    case CT_WALLET_DELIVERED:
      ok = run_done (c, "UPDATE wallet_outbox SET state = 'delivered', attempts = attempts + 1,"
                        " last_error = NULL, settled_at = $2 WHERE id = $1", &p, "wallet outbox", error);
      break;
    case CT_WALLET_REFUSED:
      p_text (&p, reason);
      ok = run_done (c, "UPDATE wallet_outbox SET state = 'refused', attempts = attempts + 1,"
                        " last_error = $3, settled_at = $2 WHERE id = $1", &p, "wallet outbox", error);
      break;
    case CT_WALLET_RETRY:
      /* The settling time has no column of its own here. */
      p.n = 1;
      p_text (&p, reason);
      p_int (&p, next_at_ms);
      ok = run_done (c, "UPDATE wallet_outbox SET attempts = attempts + 1, last_error = $2, next_at = $3"
                        " WHERE id = $1 AND state = 'pending'", &p, "wallet outbox", error);
      break;
    default:
      g_assert_not_reached ();
    }
  conn_give (store, c);
  return ok;
}

static gboolean
pg_wallet_status (CtStore              *base,
                  int64_t               connector_id,
                  int64_t               since_ms,
                  CtStoreWalletStatus  *out,
                  GError              **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  gboolean ok = FALSE;

  p_int (&p, connector_id);
  p_int (&p, since_ms);
  res = run (c, "SELECT count (*), coalesce (min (created_at), 0),"
                " (SELECT last_error FROM wallet_outbox WHERE connector_id = $1 AND state = 'pending'"
                "  AND last_error IS NOT NULL ORDER BY next_at DESC LIMIT 1),"
                " (SELECT count (*) FROM wallet_outbox WHERE connector_id = $1 AND state = 'delivered'"
                "  AND settled_at >= $2),"
                " (SELECT count (*) FROM wallet_outbox WHERE connector_id = $1 AND state = 'refused')"
                " FROM wallet_outbox WHERE connector_id = $1 AND state = 'pending'", &p, "wallet status", error);
  if (res != NULL)
    {
      out->pending = col_int (res, 0, 0);
      out->oldest_pending_ms = col_int (res, 0, 1);
      out->last_error = col_text (res, 0, 2);
      out->delivered_since = col_int (res, 0, 3);
      out->refused = col_int (res, 0, 4);
      PQclear (res);
      p.n = 1;
      res = run (c, "SELECT card_no, method, request_no, last_error, settled_at FROM wallet_outbox"
                    " WHERE connector_id = $1 AND state = 'refused' ORDER BY settled_at DESC, id DESC LIMIT 20",
                 &p, "wallet status", error);
      if (res != NULL)
        {
          for (int i = 0; i < PQntuples (res); i++)
            {
              CtStoreWalletRefusal *r = g_new0 (CtStoreWalletRefusal, 1);

              r->card_no = col_text (res, i, 0);
              r->method = col_text (res, i, 1);
              r->request_no = col_text (res, i, 2);
              r->reason = col_text (res, i, 3);
              r->settled_at = col_int (res, i, 4);
              g_ptr_array_add (out->refusals, r);
            }
          PQclear (res);
          ok = TRUE;
        }
    }
  conn_give (store, c);
  return ok;
}

/* Member links and payment codes */

static gboolean
pg_member_link_put (CtStore       *base,
                    const char    *card_no,
                    const guint8   token_hash[32],
                    const guint8  *secret,
                    gsize          secret_len,
                    int64_t        now_ms,
                    GError       **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  g_autofree char *secret_hex = bytea_hex (secret, secret_len);
  Params p = { 0 };
  gboolean ok;

  p_text (&p, card_no);
  p_hash (&p, token_hash);
  p_text (&p, secret_hex);
  p_int (&p, now_ms);
  p_merchant (&p, base);
  ok = run_done (c, "INSERT INTO member_links (merchant_id, card_no, token_hash, secret, code_step, created_at)"
                    " VALUES ($5, $1, $2, $3, 0, $4) ON CONFLICT (merchant_id, card_no) DO UPDATE SET"
                    " token_hash = excluded.token_hash, created_at = excluded.created_at",
                 &p, "member link", error);
  conn_give (store, c);
  return ok;
}

static gboolean
member_link_select (CtPgStore     *store,
                    const char    *sql,
                    const Params  *p,
                    int64_t       *out_merchant,
                    char         **out_card_no,
                    GBytes       **out_secret,
                    GError       **error)
{
  PgConn *c = conn_take (store);
  PGresult *res = run (c, sql, p, "member link", error);
  gboolean ok = FALSE;

  if (res != NULL)
    {
      ok = PQntuples (res) == 1;
      if (ok)
        {
          if (out_card_no != NULL)
            *out_card_no = col_text (res, 0, 0);
          if (out_merchant != NULL)
            *out_merchant = col_int (res, 0, 2);
          if (out_secret != NULL)
            {
              size_t len = 0;
              unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, 0, 1), &len);

              *out_secret = g_bytes_new (raw, len);
              PQfreemem (raw);
            }
        }
      else
        g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND, "no member link");
      PQclear (res);
    }
  conn_give (store, c);
  return ok;
}

static gboolean
pg_member_link_get (CtStore       *base,
                    const guint8   token_hash[32],
                    int64_t       *out_merchant,
                    char         **out_card_no,
                    GBytes       **out_secret,
                    GError       **error)
{
  Params p = { 0 };

  p_hash (&p, token_hash);
  return member_link_select ((CtPgStore *) base->root,
                             "SELECT card_no, secret, merchant_id FROM member_links WHERE token_hash = $1",
                             &p, out_merchant, out_card_no, out_secret, error);
}

static gboolean
pg_member_secret_get (CtStore     *base,
                      const char  *card_no,
                      GBytes     **out_secret,
                      GError     **error)
{
  Params p = { 0 };

  p_text (&p, card_no);
  p_merchant (&p, base);
  return member_link_select ((CtPgStore *) base->root,
                             "SELECT card_no, secret, merchant_id FROM member_links WHERE merchant_id = $2"
                             " AND card_no = $1", &p, NULL, NULL, out_secret, error);
}

static gboolean
pg_member_code_take (CtStore     *base,
                     const char  *card_no,
                     int64_t      step,
                     GError     **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  int64_t n = 0;
  gboolean ok;

  p_text (&p, card_no);
  p_int (&p, step);
  p_merchant (&p, base);
  /* A conditional update: two processes given one code, one of them wins. */
  ok = run_count (c, "UPDATE member_links SET code_step = $2 WHERE merchant_id = $3 AND card_no = $1"
                     " AND code_step < $2", &p,
                  "member code", &n, error);
  conn_give (store, c);
  if (ok && n == 0)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS, "this payment code of %s was used", card_no);
      return FALSE;
    }
  return ok;
}

/* Member PINs */

static gboolean
pg_member_pin_get (CtStore          *base,
                   const char       *card_no,
                   char            **out_hash,
                   CtStorePinGuard  *out_guard,
                   GError          **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  *out_hash = NULL;
  *out_guard = (CtStorePinGuard) { .pin_short = -1 };
  p_text (&p, card_no);
  p_merchant (&p, base);
  /* Inside a request the row stays locked until the commit, so wrong PINs
   * sent to several processes at once are all counted. */
  res = run (c, c->in_tx ? "SELECT pin_hash, failures, lockouts, last_failure_at, locked_until FROM member_pins"
                           " WHERE merchant_id = $2 AND card_no = $1 FOR UPDATE"
                         : "SELECT pin_hash, failures, lockouts, last_failure_at, locked_until FROM member_pins"
                           " WHERE merchant_id = $2 AND card_no = $1",
             &p, "member PIN", error);
  if (res != NULL && PQntuples (res) == 1)
    {
      *out_hash = col_text (res, 0, 0);
      out_guard->failures = (int) col_int (res, 0, 1);
      out_guard->lockouts = (int) col_int (res, 0, 2);
      out_guard->last_failure_at = col_int (res, 0, 3);
      out_guard->locked_until = col_int (res, 0, 4);
    }
  PQclear (res);
  conn_give (store, c);
  return res != NULL;
}

static gboolean
pg_member_pin_put (CtStore     *base,
                   const char  *card_no,
                   const char  *pin_hash,
                   int64_t      now_ms,
                   GError     **error)
{
  Params p = { 0 };

  p_text (&p, card_no);
  p_text (&p, pin_hash);
  p_int (&p, now_ms);
  p_merchant (&p, base);
  return run_done (tx_conn ((CtPgStore *) base->root),
                   "INSERT INTO member_pins (merchant_id, card_no, pin_hash, updated_at) VALUES ($4, $1, $2, $3)"
                   " ON CONFLICT (merchant_id, card_no) DO UPDATE SET pin_hash = $2, failures = 0, lockouts = 0,"
                   " last_failure_at = 0, locked_until = 0, updated_at = $3", &p, "member PIN", error);
}

static gboolean
pg_member_pin_guard_put (CtStore               *base,
                         const char            *card_no,
                         const CtStorePinGuard *g,
                         GError               **error)
{
  Params p = { 0 };

  p_text (&p, card_no);
  p_int (&p, g->failures);
  p_int (&p, g->lockouts);
  p_int (&p, g->last_failure_at);
  p_int (&p, g->locked_until);
  p_merchant (&p, base);
  return run_done (tx_conn ((CtPgStore *) base->root),
                   "UPDATE member_pins SET failures = $2, lockouts = $3, last_failure_at = $4, locked_until = $5"
                   " WHERE merchant_id = $6 AND card_no = $1", &p, "member PIN", error);
}

/* Points redeemed by a payment */

static gboolean
pg_redemption_put (CtStore  *base,
                   int64_t   tx_id,
                   int64_t   points,
                   int64_t   value,
                   GError  **error)
{
  Params p = { 0 };

  p_int (&p, tx_id);
  p_int (&p, points);
  p_int (&p, value);
  return run_done (tx_conn ((CtPgStore *) base->root), "INSERT INTO redemptions (tx_id, points, value) VALUES ($1, $2, $3)",
                   &p, "redemption", error);
}

static gboolean
pg_redemption_get (CtStore  *base,
                   int64_t   tx_id,
                   int64_t  *out_points,
                   int64_t  *out_value,
                   GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;

  *out_points = *out_value = 0;
  p_int (&p, tx_id);
  res = run (c, "SELECT points, value FROM redemptions WHERE tx_id = $1", &p, "redemption", error);
  if (res != NULL)
    {
      if (PQntuples (res) == 1)
        {
          *out_points = col_int (res, 0, 0);
          *out_value = col_int (res, 0, 1);
        }
      PQclear (res);
    }
  conn_give (store, c);
  return res != NULL;
}

/* Levels */


static void
level_from_row (PGresult     *res,
                int           i,
                CtStoreLevel *level)
{
  level->id = col_text (res, i, 0);
  level->name = col_text (res, i, 1);
  level->min_spend = col_int (res, i, 2);
  level->points_multiplier_bp = col_int (res, i, 3);
  level->discount_bp = col_int (res, i, 4);
  level->topup_bonus_bp = col_int (res, i, 5);
}

static GPtrArray *
pg_level_list (CtStore  *base,
               GError  **error)
{
  CtPgStore *store = (CtPgStore *) base->root;
  PgConn *c = conn_take (store);
  Params p = { 0 };
  PGresult *res;
  GPtrArray *list = NULL;

  p_merchant (&p, base);
  if ((res = prefetch_take (c, &c->pre_levels, base->merchant)) == NULL)
    res = run (c, LEVELS_SQL, &p, "levels", error);
  list = take_rows (res, sizeof (CtStoreLevel), (RowFunc) level_from_row, (GDestroyNotify) ct_store_level_free);
  conn_give (store, c);
  return list;
}

static gboolean
pg_level_put (CtStore             *base,
              const CtStoreLevel  *level,
              GError             **error)
{
  Params p = { 0 };

  p_text (&p, level->id);
  p_text (&p, level->name);
  p_int (&p, level->min_spend);
  p_int (&p, level->points_multiplier_bp);
  p_int (&p, level->discount_bp);
  p_int (&p, level->topup_bonus_bp);
  PgConn *c = tx_conn ((CtPgStore *) base->root);

  prefetch_clear (c);
  tx_reads_clear (c);
  p_merchant (&p, base);
  return run_done (c,
                   "INSERT INTO levels (merchant_id, " LEVEL_COLUMNS ") VALUES ($7, $1, $2, $3, $4, $5, $6)"
                   " ON CONFLICT (merchant_id, id) DO UPDATE SET name = excluded.name,"
                   " min_spend = excluded.min_spend, points_multiplier_bp = excluded.points_multiplier_bp,"
                   " discount_bp = excluded.discount_bp, topup_bonus_bp = excluded.topup_bonus_bp",
                   &p, "level", error);
}

static gboolean
pg_level_remove (CtStore     *base,
                 const char  *id,
                 GError     **error)
{
  Params p = { 0 };

  PgConn *c = tx_conn ((CtPgStore *) base->root);

  prefetch_clear (c);
  tx_reads_clear (c);
  p_text (&p, id);
  p_merchant (&p, base);
  return change_one (c, "DELETE FROM levels WHERE merchant_id = $2 AND id = $1", &p, "level", id, error);
}

static gboolean
pg_card_add_spend (CtStore     *base,
                   const char  *card_no,
                   int64_t      delta,
                   int64_t     *out_spend,
                   GError     **error)
{
  PgConn *c = tx_conn ((CtPgStore *) base->root);
  Params p = { 0 };
  PGresult *res;

  if (locked_is (c, base, card_no) && c->has_spend)
    {
      /* Read with the card's lock held: every write of a card's spend
       * holds its card, so the sum is known here, and written as it is. */
      c->spend = MAX (c->spend + delta, 0);
      p_text (&p, card_no);
      p_int (&p, c->spend);
      p_merchant (&p, base);
      if (!batch_later (c, BATCH_SPEND, &p, "spend", error))
        return FALSE;
      *out_spend = c->spend;
      return TRUE;
    }
  p_text (&p, card_no);
  p_int (&p, delta);
  p_merchant (&p, base);
  res = run (c,
             "INSERT INTO card_spend (merchant_id, card_no, spend) VALUES ($3, $1, greatest ($2::bigint, 0))"
             " ON CONFLICT (merchant_id, card_no) DO UPDATE SET spend = greatest (card_spend.spend + $2::bigint, 0)"
             " RETURNING spend", &p, "spend", error);
  if (res == NULL)
    return FALSE;
  *out_spend = col_int (res, 0, 0);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_benefit_put (CtStore               *base,
                int64_t                tx_id,
                const CtStoreBenefit  *b,
                GError               **error)
{
  Params p = { 0 };

  p_int (&p, tx_id);
  p_text (&p, b->level);
  p_int (&p, b->order_amount);
  p_int (&p, b->discount);
  p_int (&p, b->points_multiplier_bp);
  p_int (&p, b->topup_bonus);
  return run_done (tx_conn ((CtPgStore *) base->root),
                   "INSERT INTO tx_benefits (tx_id, level, order_amount, discount, points_multiplier_bp, topup_bonus)"
                   " VALUES ($1, $2, $3, $4, $5, $6)", &p, "benefit", error);
}

static const CtStoreBackend pg_backend = {
  .name = "postgresql",
  .batches_writes = FALSE,
  .write_count = pg_write_count,
  .free = pg_free,
  .set_busy_timeout = pg_set_busy_timeout,
  .begin = pg_begin,
  .commit = pg_commit,
  .rollback = pg_rollback,
  .savepoint = pg_savepoint,
  .rollback_savepoint = pg_rollback_savepoint,
  .release_savepoint = pg_release_savepoint,
  .merchant_add = pg_merchant_add,
  .merchant_find = pg_merchant_find,
  .merchant_list = pg_merchant_list,
  .get_merchant = pg_get_merchant,
  .set_merchant = pg_set_merchant,
  .list_packages = pg_list_packages,
  .get_package = pg_get_package,
  .put_package = pg_put_package,
  .remove_package = pg_remove_package,
  .till_put = pg_till_put,
  .till_revoke = pg_till_revoke,
  .till_by_token = pg_till_by_token,
  .till_get = pg_till_get,
  .manager_put = pg_manager_put,
  .manager_remove = pg_manager_remove,
  .manager_get = pg_manager_get,
  .pin_guard_get = pg_pin_guard_get,
  .cashier_put = pg_cashier_put,
  .cashier_remove = pg_cashier_remove,
  .cashier_get = pg_cashier_get,
  .cashier_list = pg_cashier_list,
  .pin_guard_put = pg_pin_guard_put,
  .manager_list = pg_manager_list,
  .audit_add = pg_audit_add,
  .audit_list = pg_audit_list,
  .card_get = pg_card_get,
  .card_insert = pg_card_insert,
  .card_update = pg_card_update,
  .card_replace = pg_card_replace,
  .card_replaced_into = pg_card_replaced_into,
  .card_add_points = pg_card_add_points,
  .card_event = pg_card_event,
  .post = pg_post,
  .tx_insert = pg_tx_insert,
  .tx_get = pg_tx_get,
  .tx_refunded = pg_tx_refunded,
  .refund_claim = pg_refund_claim,
  .account_balance = pg_account_balance,
  .claim_key = pg_claim_key,
  .unclaim_key = pg_unclaim_key,
  .read_ahead = pg_read_ahead,
  .key_get = pg_key_get,
  .key_put = pg_key_put,
  .key_expire = pg_key_expire,
  .find_cards = pg_find_cards,
  .card_history = pg_card_history,
  .store_day = pg_store_day,
  .day_totals = pg_day_totals,
  .ledger_check = pg_ledger_check,
  .shift_open = pg_shift_open,
  .shift_close = pg_shift_close,
  .shift_get = pg_shift_get,
  .shift_at = pg_shift_at,
  .shift_list = pg_shift_list,
  .shift_totals = pg_shift_totals,
  .shift_outcome_cash = pg_shift_outcome_cash,
  .import_row = pg_import_row,
  .import_finish = pg_import_finish,
  .import_batch_get = pg_import_batch_get,
  .wallet_connector_put = pg_wallet_connector_put,
  .wallet_connector_remove = pg_wallet_connector_remove,
  .wallet_connectors = pg_wallet_connectors,
  .wallet_enqueue = pg_wallet_enqueue,
  .wallet_due = pg_wallet_due,
  .wallet_link_get = pg_wallet_link_get,
  .wallet_link_put = pg_wallet_link_put,
  .wallet_settle = pg_wallet_settle,
  .wallet_status = pg_wallet_status,
  .member_link_put = pg_member_link_put,
  .member_link_get = pg_member_link_get,
  .member_secret_get = pg_member_secret_get,
  .member_code_take = pg_member_code_take,
  .member_pin_get = pg_member_pin_get,
  .member_pin_put = pg_member_pin_put,
  .member_pin_guard_put = pg_member_pin_guard_put,
  .redemption_put = pg_redemption_put,
  .redemption_get = pg_redemption_get,
  .level_list = pg_level_list,
  .level_put = pg_level_put,
  .level_remove = pg_level_remove,
  .card_add_spend = pg_card_add_spend,
  .benefit_put = pg_benefit_put,
};
