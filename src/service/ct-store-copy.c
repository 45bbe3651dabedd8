/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-store-copy"
#include "config.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>

#include "ct-store-private.h"
#include "ct-store.h"

/* Moving a shop that grew: a SQLite ledger copied into an empty PostgreSQL
 * database, table by table in one PostgreSQL transaction (COPY), from one
 * read snapshot of the SQLite file, then both sides compared. This file
 * knows both stores' tables; it is part of the store, like the backends. */

typedef enum
{
  COL_TEXT,
  COL_INT,
  COL_BOOL,
  COL_BLOB,
} ColType;

typedef struct
{
  const char *table;
  const char *columns;     /* the same names on both sides */
  ColType     types[24];
} Table;

#define T COL_TEXT
#define I COL_INT
#define B COL_BOOL
#define X COL_BLOB

static const Table tables[] = {
  { "merchants", "id, code", { I, T } },
  { "merchant_settings", "merchant_id, key, value", { I, T, T } },
  { "packages", "merchant_id, id, amount, bonus, bonus_bp, position", { I, T, I, I, I, I } },
  { "tills", "id, merchant_id, store, name, token_hash, revoked", { I, I, T, T, X, B } },
  { "managers", "merchant_id, id, pin_hash, failures, locked_until", { I, T, T, I, I } },
  { "cashiers", "merchant_id, id, name, pin_hash, created_at", { I, T, T, T, I } },
  { "cards", "merchant_id, card_no, status, level, name, phone, balance, points, created_at, updated_at,"
            " replaced_by",
    { I, T, T, T, T, T, I, I, I, I, T } },
  { "transactions", "id, merchant_id, card_no, kind, delta, bonus, balance_after, points_delta, points_after,"
                    " store, till, operator, manager, reason, order_ref, refund_of, created_at, tender, shift_id,"
                    " taken_at, rest, rest_tender, level_up",
    { I, I, T, T, I, I, I, I, I, T, T, T, T, T, T, I, I, T, I, I, I, T, T } },
  { "shifts", "id, merchant_id, store, till, operator, float_amount, opened_at, closed_at, closed_by, counted_cash",
    { I, I, T, T, T, I, I, I, T, I } },
  { "postings", "merchant_id, tx_id, account, amount", { I, I, T, I } },
  { "idempotency", "till_id, key, hash, status, body, created_at", { I, T, X, I, T, I } },
  { "card_events", "id, merchant_id, card_no, kind, detail, store, till, operator, manager, created_at",
    { I, I, T, T, T, T, T, T, T, I } },
  { "import_batches", "merchant_id, batch_id, rows_accepted, rows_rejected, total_balance, total_points,"
                      " created_at, updated_at",
    { I, T, I, I, I, I, I, I } },
  { "wallet_connectors", "id, merchant_id, merchant, kind, app_id, serial_no, private_key, public_key, template_id,"
                         " gateway",
    { I, I, T, T, T, T, T, T, T, T } },
  { "wallet_outbox", "id, connector_id, card_no, method, request_no, payload, state, attempts, next_at,"
                     " last_error, created_at, settled_at",
    { I, I, T, T, T, T, T, I, I, T, I, I } },
  { "wallet_cards", "connector_id, card_no, biz_card_no", { I, T, T } },
  { "member_links", "merchant_id, card_no, token_hash, secret, code_step, created_at", { I, T, X, X, I, I } },
  { "member_pins", "merchant_id, card_no, pin_hash, failures, lockouts, last_failure_at, locked_until, updated_at",
    { I, T, T, I, I, I, I, I } },
  { "redemptions", "tx_id, points, value", { I, I, I } },
  { "refund_totals", "tx_id, total, refunded", { I, I, I } },
  { "levels", "merchant_id, id, name, min_spend, points_multiplier_bp, discount_bp, topup_bonus_bp",
    { I, T, T, I, I, I, I } },
  { "card_spend", "merchant_id, card_no, spend", { I, T, I } },
  { "tx_benefits", "tx_id, level, order_amount, discount, points_multiplier_bp, topup_bonus", { I, T, I, I, I, I } },
  { "outcome_cash", "id, merchant_id, shift_id, amount, audit_id, created_at", { I, I, I, I, I, I } },
  { "audit", "id, merchant_id, created_at, store, till, manager, action, card_no, detail",
    { I, I, I, T, T, T, T, T, T } },
  { "pin_guard", "merchant_id, manager_id, failures, lockouts, last_failure_at, locked_until, pin_short",
    { I, T, I, I, I, I, I } },
};

/* The source's tables and columns that are not copied row by row, and
 * why (a NULL column: the whole table). Any other table or column the copy
 * does not name stops it before anything is written
 * (check_source_coverage), so a table or column added to the schema later
 * cannot be left behind in silence. */
static const struct
{
  const char *table;
  const char *column;
  const char *why;
} not_copied[] = {
  { "accounts", NULL, "its balances go into each account's first slot" },
  { "settings", NULL, "it holds the schema version alone; the target has its own" },
  { "idempotency", "id", "SQLite's insertion order for expiry; PostgreSQL keys the table by till and key" },
};

/* Sequences to move past the copied ids. */
static const char *const sequences[][2] = {
  { "merchants", "merchants_id_seq" },
  { "tills", "tills_id_seq" },
  { "transactions", "transactions_id_seq" },
  { "shifts", "shifts_id_seq" },
  { "outcome_cash", "outcome_cash_id_seq" },
  { "card_events", "card_events_id_seq" },
  { "wallet_connectors", "wallet_connectors_id_seq" },
  { "wallet_outbox", "wallet_outbox_id_seq" },
  { "audit", "audit_id_seq" },
};

static gboolean
lite_fail (sqlite3     *db,
           const char  *what,
           GError     **error)
{
  g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "%s: %s", what, sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
pg_fail (PGconn      *pg,
         const char  *what,
         GError     **error)
{
  g_autofree char *msg = g_strstrip (g_strdup (PQerrorMessage (pg)));

  g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "%s: %s", what, msg);
  return FALSE;
}

static gboolean
pg_exec (PGconn      *pg,
         const char  *sql,
         GError     **error)
{
  PGresult *res = PQexec (pg, sql);
  ExecStatusType st = PQresultStatus (res);

  PQclear (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    return pg_fail (pg, sql, error);
  return TRUE;
}

/* One value in COPY's text format. */
static void
append_value (GString       *line,
              sqlite3_stmt  *st,
              int            col,
              ColType        type)
{
  if (sqlite3_column_type (st, col) == SQLITE_NULL)
    {
      g_string_append (line, "\\N");
      return;
    }
  switch (type)
    {
    case COL_INT:
      g_string_append_printf (line, "%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, col));
      break;
    case COL_BOOL:
      g_string_append_c (line, sqlite3_column_int64 (st, col) != 0 ? 't' : 'f');
      break;
    case COL_BLOB:
      {
        const guint8 *b = sqlite3_column_blob (st, col);
        int n = sqlite3_column_bytes (st, col);

        /* bytea's hex input, its backslash escaped for COPY. */
        g_string_append (line, "\\\\x");
        for (int i = 0; i < n; i++)
          g_string_append_printf (line, "%02x", b[i]);
      }
      break;
    case COL_TEXT:
      for (const char *p = (const char *) sqlite3_column_text (st, col); *p; p++)
        switch (*p)
          {
          case '\\': g_string_append (line, "\\\\"); break;
          case '\t': g_string_append (line, "\\t"); break;
          case '\n': g_string_append (line, "\\n"); break;
          case '\r': g_string_append (line, "\\r"); break;
          default: g_string_append_c (line, *p);
          }
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
copy_table (sqlite3      *lite,
            PGconn       *pg,
            const Table  *t,
            guint64      *out_rows,
            GError      **error)
{
  g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s", t->columns, t->table);
  g_autofree char *copy = g_strdup_printf ("COPY %s (%s) FROM STDIN", t->table, t->columns);
  g_autoptr(GString) line = g_string_new (NULL);
  sqlite3_stmt *st = NULL;
  PGresult *res;
  int rc, n_cols;

  *out_rows = 0;
  if (sqlite3_prepare_v2 (lite, select, -1, &st, NULL) != SQLITE_OK)
    return lite_fail (lite, select, error);
  n_cols = sqlite3_column_count (st);
  res = PQexec (pg, copy);
  if (PQresultStatus (res) != PGRES_COPY_IN)
    {
      PQclear (res);
      sqlite3_finalize (st);
      return pg_fail (pg, copy, error);
    }
  PQclear (res);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_string_truncate (line, 0);
      for (int i = 0; i < n_cols; i++)
        {
          if (i > 0)
            g_string_append_c (line, '\t');
          append_value (line, st, i, t->types[i]);
        }
      g_string_append_c (line, '\n');
      if (PQputCopyData (pg, line->str, (int) line->len) != 1)
        break;
      (*out_rows)++;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      PQputCopyEnd (pg, "the source could not be read");
      PQclear (PQgetResult (pg));
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "reading %s failed", t->table);
      return FALSE;
    }
  if (PQputCopyEnd (pg, NULL) != 1)
    return pg_fail (pg, copy, error);
  res = PQgetResult (pg);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      PQclear (res);
      return pg_fail (pg, copy, error);
    }
  PQclear (res);
  return TRUE;
}

static const Table *
find_table (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    if (g_str_equal (tables[i].table, name))
      return &tables[i];
  return NULL;
}

static gboolean
is_not_copied (const char *table,
               const char *column)
{
  for (gsize i = 0; i < G_N_ELEMENTS (not_copied); i++)
    if (g_str_equal (not_copied[i].table, table)
        && (not_copied[i].column == NULL || g_strcmp0 (not_copied[i].column, column) == 0))
      return TRUE;
  return FALSE;
}

/* Whether @column is one of the comma-separated names in @columns. */
static gboolean
names_column (const char *columns,
              const char *column)
{
  g_auto(GStrv) names = g_strsplit (columns, ",", -1);

  for (char **n = names; *n != NULL; n++)
    if (g_str_equal (g_strstrip (*n), column))
      return TRUE;
  return FALSE;
}

static gboolean
coverage_fail (const char  *side,
               const char  *table,
               const char  *column,
               GError     **error)
{
  if (column == NULL)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                 "the %s has a table %s that this copy does not carry; nothing was copied", side, table);
  else
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_SCHEMA,
                 "the %s has a column %s.%s that this copy does not carry; nothing was copied", side, table,
                 column);
  return FALSE;
}

/* Every table and column of the source is either copied or named in
 * not_copied. */
static gboolean
check_source_coverage (sqlite3  *lite,
                       GError  **error)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2 (lite, "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info (m.name) p"
                                " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, p.cid",
                          -1, &st, NULL) != SQLITE_OK)
    return lite_fail (lite, "the source's tables", error);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *table = (const char *) sqlite3_column_text (st, 0);
      const char *column = (const char *) sqlite3_column_text (st, 1);
      const Table *t = find_table (table);

      if (t == NULL && !is_not_copied (table, NULL))
        {
          coverage_fail ("source", table, NULL, error);
          sqlite3_finalize (st);
          return FALSE;
        }
      if (t != NULL && !names_column (t->columns, column) && !is_not_copied (table, column))
        {
          coverage_fail ("source", table, column, error);
          sqlite3_finalize (st);
          return FALSE;
        }
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return lite_fail (lite, "the source's tables", error);
  return TRUE;
}

/* Every column of a copied table on the target is one the copy fills: a
 * column left out would take its default without a word. */
static gboolean
check_target_coverage (PGconn  *pg,
                       GError **error)
{
  PGresult *res;

  res = PQexec (pg, "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema () ORDER BY 1, ordinal_position");
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      PQclear (res);
      return pg_fail (pg, "the target's tables", error);
    }
  for (int row = 0; row < PQntuples (res); row++)
    {
      const Table *t = find_table (PQgetvalue (res, row, 0));

      if (t != NULL && !names_column (t->columns, PQgetvalue (res, row, 1)))
        {
          coverage_fail ("target", t->table, PQgetvalue (res, row, 1), error);
          PQclear (res);
          return FALSE;
        }
    }
  PQclear (res);
  return TRUE;
}

/* The figures both sides must agree on, as lines of text: first those
 * each engine writes in its own SQL, then those both write alike. */
static const char *const lite_checks[] = {
  "SELECT 'merchants', group_concat (id || '=' || code, ',') FROM (SELECT id, code FROM merchants ORDER BY id)",
  "SELECT 'settings', group_concat (merchant_id || ':' || key || '=' || value, ',') FROM"
  "  (SELECT merchant_id, key, value FROM merchant_settings ORDER BY merchant_id, key)",
  "SELECT 'accounts', group_concat (merchant_id || ':' || name || '=' || balance, ',') FROM"
  "  (SELECT merchant_id, name, balance FROM accounts ORDER BY merchant_id, name)",
};

static const char *const pg_checks[] = {
  "SELECT 'merchants', string_agg (id || '=' || code, ',' ORDER BY id) FROM merchants",
  "SELECT 'settings', string_agg (merchant_id || ':' || key || '=' || value, ',' ORDER BY merchant_id, key)"
  "  FROM merchant_settings",
  "SELECT 'accounts', string_agg (merchant_id || ':' || name || '=' || balance, ',' ORDER BY merchant_id, name)"
  "  FROM (SELECT merchant_id, name, sum (balance) AS balance FROM account_slots GROUP BY merchant_id, name) a",
};

static const char *const shared_checks[] = {
  "SELECT 'cards', count (*), coalesce (sum (balance), 0), coalesce (sum (points), 0) FROM cards",
  "SELECT 'transactions', count (*), coalesce (sum (delta), 0), coalesce (max (id), 0) FROM transactions",
  "SELECT 'postings', count (*), coalesce (sum (amount), 0), coalesce (sum (abs (amount)), 0) FROM postings",
  "SELECT 'idempotency', count (*) FROM idempotency",
  "SELECT 'tills', count (*), coalesce (max (id), 0) FROM tills",
  "SELECT 'managers', count (*) FROM managers",
  "SELECT 'cashiers', count (*) FROM cashiers",
  "SELECT 'member_pins', count (*) FROM member_pins",
  "SELECT 'import_batches', count (*), coalesce (sum (total_balance), 0) FROM import_batches",
};

G_STATIC_ASSERT (G_N_ELEMENTS (lite_checks) == G_N_ELEMENTS (pg_checks));

static char *
lite_figure (sqlite3     *lite,
             const char  *sql,
             GError     **error)
{
  sqlite3_stmt *st = NULL;
  GString *out = g_string_new (NULL);

  if (sqlite3_prepare_v2 (lite, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step (st) != SQLITE_ROW)
    {
      lite_fail (lite, sql, error);
      sqlite3_finalize (st);
      g_string_free (out, TRUE);
      return NULL;
    }
  for (int i = 0; i < sqlite3_column_count (st); i++)
    g_string_append_printf (out, "%s%s", i ? " " : "",
                            sqlite3_column_text (st, i) ? (const char *) sqlite3_column_text (st, i) : "");
  sqlite3_finalize (st);
  return g_string_free (out, FALSE);
}

static char *
pg_figure (PGconn      *pg,
           const char  *sql,
           GError     **error)
{
  PGresult *res = PQexec (pg, sql);
  GString *out;

  if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1)
    {
      PQclear (res);
      pg_fail (pg, sql, error);
      return NULL;
    }
  out = g_string_new (NULL);
  for (int i = 0; i < PQnfields (res); i++)
    g_string_append_printf (out, "%s%s", i ? " " : "", PQgetvalue (res, 0, i));
  PQclear (res);
  return g_string_free (out, FALSE);
}

/* One figure on both sides: "same" or "DIFFERENT" (which clears @equal)
 * goes to @report. */
static gboolean
compare_figure (sqlite3     *lite,
                PGconn      *pg,
                const char  *lite_sql,
                const char  *pg_sql,
                GString     *report,
                gboolean    *equal,
                GError     **error)
{
  g_autofree char *a = lite_figure (lite, lite_sql, error);
  g_autofree char *b = a ? pg_figure (pg, pg_sql, error) : NULL;

  if (b == NULL)
    return FALSE;
  if (g_str_equal (a, b))
    g_string_append_printf (report, "same: %s\n", a);
  else
    {
      g_string_append_printf (report, "DIFFERENT: %s  |  %s\n", a, b);
      *equal = FALSE;
    }
  return TRUE;
}

/* Compares the two ledgers, then the rows of every copied table counted
 * on both sides; each figure goes to @report. */
static gboolean
compare (sqlite3   *lite,
         PGconn    *pg,
         GString   *report,
         gboolean  *out_equal,
         GError   **error)
{
  *out_equal = TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (lite_checks); i++)
    if (!compare_figure (lite, pg, lite_checks[i], pg_checks[i], report, out_equal, error))
      return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (shared_checks); i++)
    if (!compare_figure (lite, pg, shared_checks[i], shared_checks[i], report, out_equal, error))
      return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT 'rows of %s', count (*) FROM %s", tables[i].table,
                                              tables[i].table);

      if (!compare_figure (lite, pg, sql, sql, report, out_equal, error))
        return FALSE;
    }
  return TRUE;
}

/* The ledger check of each merchant, on both sides; clears @equal when
 * they differ or the copy does not balance. */
static gboolean
compare_ledger_checks (CtStore   *source,
                       CtStore   *target,
                       GString   *report,
                       gboolean  *equal,
                       GError   **error)
{
  g_autoptr(GPtrArray) merchants = ct_store_merchant_list (source, error);

  if (merchants == NULL)
    return FALSE;
  for (guint i = 0; i < merchants->len; i++)
    {
      const CtStoreMerchantRef *ref = merchants->pdata[i];
      g_autoptr(CtStore) from_view = ct_store_for_merchant (source, ref->id);
      g_autoptr(CtStore) to_view = ct_store_for_merchant (target, ref->id);
      CtStoreLedgerCheck from, to;

      if (!ct_store_ledger_check (from_view, &from, error) || !ct_store_ledger_check (to_view, &to, error))
        return FALSE;
      g_string_append_printf (report, "ledger check of %s: sum %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                              ", %s and %s\n", ref->code, from.sum, to.sum,
                              from.balances_match ? "balanced" : "NOT BALANCED",
                              to.balances_match ? "balanced" : "NOT BALANCED");
      *equal = *equal && to.sum == 0 && to.postings_sum == 0 && to.balances_match && from.cards == to.cards
               && from.pool == to.pool && from.cash == to.cash && from.promo == to.promo
               && from.legacy == to.legacy;
    }
  return TRUE;
}

/**
 * ct_store_copy:
 * Copies the SQLite ledger at @from into the empty PostgreSQL database at
 * @to, then compares both sides (every account's balance, the count and sum
 * of postings, transactions, cards, settings) and the ledger checks of
 * both. @report gets one line per figure. FALSE with
 * CT_STORE_ERROR_ALREADY_INITIALIZED for a non-empty target, and with
 * CT_STORE_ERROR_FAILED when the two sides differ.
 */
gboolean
ct_store_copy (const char  *from,
               const char  *to,
               GString     *report,
               GError     **error)
{
  g_autoptr(CtStore) source = NULL;
  g_autoptr(CtStore) target = NULL;
  g_auto(CtStoreMerchant) merchant = { 0 };
  sqlite3 *lite = NULL;
  PGconn *pg = NULL;
  gboolean ok = FALSE, equal = FALSE;

  g_return_val_if_fail (from != NULL && to != NULL && report != NULL, FALSE);

  if (ct_store_location_is_uri (from) || !ct_store_location_is_uri (to))
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                   "copy goes from a SQLite file (--from FILE) to PostgreSQL (--to postgresql://…)");
      return FALSE;
    }
  /* Opening the source checks its schema and brings its tables up to
   * date; the target is created empty with the source's merchant. */
  source = ct_store_open (from, 0, error);
  if (source == NULL || !ct_store_get_merchant (source, &merchant, error))
    return FALSE;
  g_clear_pointer (&source, ct_store_free);
  if (sqlite3_open_v2 (from, &lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      lite_fail (lite, "open", error);
      goto out;
    }
  sqlite3_busy_timeout (lite, CT_STORE_BUSY_TIMEOUT_MS);
  if (!check_source_coverage (lite, error))
    goto out;
  target = ct_store_create (to, &merchant, error);
  if (target == NULL)
    goto out;
  g_clear_pointer (&target, ct_store_free);

  pg = PQconnectdb (to);
  if (PQstatus (pg) != CONNECTION_OK)
    {
      pg_fail (pg, "connect", error);
      goto out;
    }
  /* One read snapshot of the source (a service may still be writing it,
   * though a move stops the tills first), one transaction on the target. */
  if (sqlite3_exec (lite, "BEGIN; SELECT count (*) FROM settings;", NULL, NULL, NULL) != SQLITE_OK)
    {
      lite_fail (lite, "snapshot", error);
      goto out;
    }
  if (!check_target_coverage (pg, error))
    goto out;
  /* The target's first merchant, made by create, is replaced by the
   * source's merchants; each gets its split accounts. */
  if (!pg_exec (pg, "BEGIN; DELETE FROM merchant_settings; DELETE FROM account_slots; DELETE FROM merchants",
                error))
    goto out;
  for (gsize i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      guint64 n = 0;

      if (!copy_table (lite, pg, &tables[i], &n, error))
        goto rollback;
      g_string_append_printf (report, "copied %s: %" G_GUINT64_FORMAT " rows\n", tables[i].table, n);
    }
  if (!pg_exec (pg, "INSERT INTO account_slots (merchant_id, name, slot, balance, floor_zero)"
                    " SELECT m.id, a.name, s, 0, a.name = '@pool' FROM merchants m, (VALUES ('@pool'), ('@cash'),"
                    "  ('@promo'), ('@legacy'), ('@wechat'), ('@alipay'), ('@bank_card'), ('@other')) a (name),"
                    "  generate_series (0, 63) s", error))
    goto rollback;
  /* A balance of SQLite's one account row goes into the account's first
   * slot. */
  {
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2 (lite, "SELECT merchant_id, name, balance FROM accounts", -1, &st, NULL) != SQLITE_OK)
      {
        lite_fail (lite, "accounts", error);
        goto rollback;
      }
    while (sqlite3_step (st) == SQLITE_ROW)
      {
        g_autofree char *sql = NULL;
        char *name = PQescapeLiteral (pg, (const char *) sqlite3_column_text (st, 1), (size_t) -1 >> 1);

        sql = g_strdup_printf ("UPDATE account_slots SET balance = CASE WHEN slot = 0 THEN %" G_GINT64_FORMAT
                               " ELSE 0 END WHERE merchant_id = %" G_GINT64_FORMAT " AND name = %s",
                               (gint64) sqlite3_column_int64 (st, 2), (gint64) sqlite3_column_int64 (st, 0), name);
        PQfreemem (name);
        if (!pg_exec (pg, sql, error))
          {
            sqlite3_finalize (st);
            goto rollback;
          }
      }
    sqlite3_finalize (st);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (sequences); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT setval ('%s', coalesce ((SELECT max (id) FROM %s), 0) + 1,"
                                              " false)", sequences[i][1], sequences[i][0]);

      if (!pg_exec (pg, sql, error))
        goto rollback;
    }
  if (!pg_exec (pg, "COMMIT", error))
    goto rollback;

  /* Both sides, figure by figure, from the same source snapshot. */
  if (!compare (lite, pg, report, &equal, error))
    goto out;
  source = ct_store_open (from, 0, error);
  target = source ? ct_store_open (to, 0, error) : NULL;
  if (target == NULL || !compare_ledger_checks (source, target, report, &equal, error))
    goto out;
  if (!equal)
    g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
                 "the copy does not match its source (see the lines marked DIFFERENT)");
  ok = equal;
  goto out;

rollback:
  pg_exec (pg, "ROLLBACK", NULL);
out:
  if (lite != NULL)
    {
      sqlite3_exec (lite, "COMMIT", NULL, NULL, NULL);
      sqlite3_close (lite);
    }
  if (pg != NULL)
    PQfinish (pg);
  return ok;
}
