#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# What the ledger's layout costs SQLite for an import, with nothing around
# it: bench-import's 1,000,000 rows inserted by one INSERT ... SELECT per
# table (cards, transactions, postings) into the service's own schema (a
# fresh `cardtill-service init` database, WAL, synchronous=FULL, the
# service's cache size), one transaction, next to the sqlite3 shell's
# .import of the same rows as CSV in the same run. Prints the CPU time
# (user + system) of each step, which swings less with the machine's load
# than the wall time (docs/performance.md, "The layout's floor").
#
#   tests/bench/import-floor.sh BUILDDIR [VARIANT...]
#
# VARIANT: full (the default), no_phone, no_card_day, no_taken (without
# that index), one_posting (the card's posting alone).
set -eu

build=$(cd "${1:?usage: import-floor.sh BUILDDIR [VARIANT...]}" && pwd)
shift
[ $# -gt 0 ] || set -- full
dir=$(mktemp -d "${TMPDIR:-/tmp}/ct-import-floor-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

"$build/src/service/cardtill-service" init --merchant-name Floor --db "$dir/fresh.db" >/dev/null
sqlite3 gen.db >/dev/null <<'SQL'
CREATE TABLE members AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
  SELECT printf('M%07d', i) AS card_no, 'Member ' || i AS name, printf('138%08d', i) AS phone,
         printf('%d.%02d', ((i * 7919) % 100000) / 100, ((i * 7919) % 100000) % 100) AS balance,
         i % 50 AS points, 'gold' AS level FROM n;
.headers on
.mode csv
.once members.csv
SELECT * FROM members;
SQL
rm -f gen.db

for v in "$@"; do
  drop=""
  case $v in
    full|one_posting) ;;
    no_phone) drop="DROP INDEX cards_phone;" ;;
    no_card_day) drop="DROP INDEX transactions_card_day;" ;;
    no_taken) drop="DROP INDEX transactions_taken;" ;;
    *) echo "import-floor: unknown variant $v" >&2; exit 2 ;;
  esac
  post="INSERT INTO postings (merchant_id, tx_id, account, amount)
          SELECT 1, id, '@legacy', -delta FROM transactions WHERE delta <> 0
          UNION ALL SELECT 1, id, card_no, delta FROM transactions WHERE delta <> 0;"
  [ "$v" = one_posting ] && post="INSERT INTO postings (merchant_id, tx_id, account, amount)
          SELECT 1, id, card_no, delta FROM transactions WHERE delta <> 0;"

  rm -f y.db
  /usr/bin/time -f "%U %S" -o import.time sqlite3 y.db \
    "CREATE TABLE members (card_no TEXT, name TEXT, phone TEXT, balance TEXT, points TEXT, level TEXT)" \
    ".import --csv --skip 1 members.csv members"
  rm -f y.db

  rm -f f.db f.db-wal f.db-shm
  cp fresh.db f.db
  sqlite3 f.db > steps.out <<SQL
PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-32768;
$drop
CREATE TEMP TABLE src AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
  SELECT printf('M%07d', i) AS card_no, 'Member ' || i AS name, printf('138%08d', i) AS phone,
         (i * 7919) % 100000 AS balance, i % 50 AS points FROM n;
.timer on
BEGIN;
INSERT INTO cards (merchant_id, card_no, status, level, name, phone, balance, points, created_at, updated_at)
  SELECT 1, card_no, 'active', 'gold', name, phone, balance, points, 1700000000000, 1700000000000 FROM src;
INSERT INTO transactions (merchant_id, card_no, kind, delta, bonus, balance_after, points_delta, points_after,
                          store, till, operator, manager, reason, order_ref, refund_of, created_at, taken_at)
  SELECT 1, card_no, 'import', balance, 0, balance, points, points, 'store1', 'till1', NULL, 'mgr', NULL,
         'b95cb122d3b6d450e3a032f7d87e3d06ce81cf601d407e1b6846bccc3231d79b', NULL, 1700000000000, 1700000000000
  FROM src;
$post
COMMIT;
SQL
  steps=$(grep "Run Time" steps.out | tail -4 | awk '{ printf "%.2f ", $6 + $8 }')
  sum=$(grep "Run Time" steps.out | tail -4 | awk '{ s += $6 + $8 } END { printf "%.2f", s }')
  imp=$(awk '{ printf "%.2f", $1 + $2 }' import.time)
  echo "$v (load $(cut -d' ' -f1 /proc/loadavg)): CPU s: sqlite3 .import $imp;" \
       "cards, transactions, postings, commit: $steps= $sum ($(echo "$sum $imp" | awk '{ printf "%.1f", $1 / $2 }')x)"
  rm -f f.db f.db-wal f.db-shm steps.out import.time
done
