#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# PostgreSQL side by side: pgbench's TPC-B at 32 clients, then durable
# cardtill payments through 2 service processes sharing one port, 32
# connections (wrk), on the same throwaway cluster (fsync on). Prints both
# rates and their ratio, then checks the ledger sums to 0 and that every
# acknowledged payment is in it.
#
#   tests/bench/bench-pg.sh BUILDDIR [SECONDS]
#
# Run it as is: it starts and stops its own cluster (tests/ct-pg-run.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CT_TEST_PG:-}" ]; then
  CT_PG_DURABLE=1 CT_PG_SETTINGS="-c shared_preload_libraries=pg_stat_statements" \
    exec "$here/../ct-pg-run.sh" "$0" "$@"
fi

build=$(cd "${1:?usage: bench-pg.sh BUILDDIR [SECONDS]}" && pwd)
secs=${2:-20}
svc="$build/src/service/cardtill-service"
pgbin=${CT_PG_BIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/ct-bench-XXXXXX")
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# CT_TEST_PG is postgresql:///postgres?host=DIR&port=P&user=U
query=${CT_TEST_PG#*\?}
uri() { echo "postgresql:///$1?$query"; }
psql_do() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$(uri "$1")" -c "$2"; }

# CPU time (clock ticks) of processes: their own (@own) or that of the
# children they reaped (@reaped), read from /proc/PID/stat.
ticks() {
  field=$1; shift
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && sed 's/^.*) //' "/proc/$p/stat"
  done | awk -v f="$field" '{ if (f == "own") t += $12 + $13; else t += $14 + $15 } END { print t + 0 }'
}
hz=$(getconf CLK_TCK)
# The cluster's postmaster reaps pgbench's backends when they end: its
# children's CPU time over pgbench's run is the database's work for it.
pgdir=$(echo "$CT_TEST_PG" | sed -n 's/.*host=\([^&]*\).*/\1/p')
postmaster=$(head -n 1 "$pgdir/data/postmaster.pid")
per_tx_us() { python3 -c "print('%.0f' % ($1 * 1e6 / $hz / max ($2, 1)))"; }

# What the machine does meanwhile: the figures swing with it.
echo "load average before: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "== pgbench TPC-B, 32 clients, ${secs} s"
psql_do postgres "CREATE DATABASE pgb"
"$pgbin/pgbench" -q -i -s 32 "$(uri pgb)" >/dev/null 2>&1
pm0=$(ticks reaped "$postmaster")
"$pgbin/pgbench" -n -c 32 -j 2 -T "$secs" "$(uri pgb)" > "$work/pgbench.txt" 2>/dev/null
pm1=$(ticks reaped "$postmaster")
pgb_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.txt" | head -n 1)
pgb_n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.txt")
echo "pgbench: $pgb_tps transactions/s"
echo "pgbench: database CPU per transaction: $(per_tx_us $((pm1 - pm0)) "$pgb_n") µs"

echo "== cardtill payments, 2 processes, 32 connections, ${secs} s"
psql_do postgres "CREATE DATABASE cards"
db=$(uri cards)
"$svc" init --db "$db" --merchant-name Bench --topup-mode any >/dev/null
token=$("$svc" till add --db "$db" --store s1 --name t1 | tail -n 1)
echo 246813 > "$work/pin"
"$svc" manager add --db "$db" --id m1 --pin-file "$work/pin" >/dev/null
# 2000 cards with 10000.00 each, imported in one go.
python3 - "$work/import.json" <<'PY'
import json, sys
rows = [{"line": i + 1, "card_no": "6%011d" % i, "name": "B%d" % i, "balance": 1000000} for i in range(2000)]
json.dump({"batch_id": "bench", "rows": rows, "manager": {"id": "m1", "pin": "246813"}}, open(sys.argv[1], "w"))
PY

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for i in 1 2; do
  "$svc" serve --db "$db" --listen "127.0.0.1:$port" --insecure-http --reuse-port --rate-limit 0 \
    ${CT_BENCH_SERVE_ARGS:-} > "$work/serve$i.log" 2>&1 &
  pids="$pids $!"
done
for i in $(seq 1 100); do
  grep -q listening "$work/serve1.log" 2>/dev/null && grep -q listening "$work/serve2.log" 2>/dev/null && break
  sleep 0.1
done
base="http://127.0.0.1:$port"
curl -sf -o /dev/null -H "Authorization: Bearer $token" -H "Idempotency-Key: import-bench" \
  --data-binary "@$work/import.json" "$base/v1/imports"

cat > "$work/pay.lua" <<LUA
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  ok = 0
  bad = 0
end
function request()
  counter = counter + 1
  local card = string.format("6%011d", (counter * 7 + id * 1000) % 2000)
  local headers = {}
  headers["Authorization"] = "Bearer $token"
  headers["Idempotency-Key"] = string.format("b-%d-%d", id, counter)
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/v1/cards/" .. card .. "/payments", headers,
                    '{"amount":1,"operator":"bench"}')
end
function response(status, headers, body)
  if status == 201 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local total_ok, total_bad = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_bad = total_bad + t:get("bad")
  end
  io.write(string.format("acknowledged %d refused %d\n", total_ok, total_bad))
  io.write(string.format("latency p50 %.1f ms p99 %.1f ms\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
end
LUA
# Statements and server transactions per payment, counted by the server
# over the window (pg_stat_statements counts each top-level statement).
stats=0
if psql_do cards "CREATE EXTENSION pg_stat_statements" 2>/dev/null; then
  stats=1
  psql_do cards "SELECT pg_stat_statements_reset ()" >/dev/null
fi
commits0=$("$pgbin/psql" -X -At "$db" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'cards'")
# libpq sends each round trip with one send(); libmicrohttpd answers with
# sendmsg(): the service processes' sendto calls over the window count
# their round trips to the database (perf from linux-perf, when it may
# trace).
perf_pid=""
if command -v perf >/dev/null 2>&1; then
  perf stat -x, -e syscalls:sys_enter_sendto -p "$(echo $pids | tr ' ' ',')" -o "$work/perf.txt" \
    -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
fi
# The service processes' connections stay open: their backends' CPU time
# and the processes' own, over the window.
backends=$("$pgbin/psql" -X -At "$db" -c "SELECT pid FROM pg_stat_activity WHERE datname = 'cards' AND pid <> pg_backend_pid ()")
svc0=$(ticks own $pids)
db0=$(ticks own $backends)
wrk -t 2 -c 32 -d "${secs}s" -s "$work/pay.lua" "$base" > "$work/wrk.txt" 2>&1
svc1=$(ticks own $pids)
db1=$(ticks own $backends)
cat "$work/wrk.txt" | grep -E 'acknowledged|latency p|Requests/sec'
acked=$(sed -n 's/^acknowledged \([0-9]*\).*/\1/p' "$work/wrk.txt")
bad=$(sed -n 's/^acknowledged [0-9]* refused \([0-9]*\)/\1/p' "$work/wrk.txt")
echo "load average after: $(cut -d ' ' -f 1-3 /proc/loadavg)"
sends=""
if [ -n "$perf_pid" ] && wait "$perf_pid"; then
  sends=$(sed -n 's/^\([0-9]*\),.*sys_enter_sendto.*/\1/p' "$work/perf.txt")
fi
for p in $pids; do kill "$p"; done
for p in $pids; do wait "$p" || true; done
pids=""
if [ -n "$sends" ]; then
  echo "round trips to the database per payment: $(python3 -c "print('%.1f' % ($sends / max ($acked, 1)))")" \
       "(the service processes' sendto calls over the window, token lookup included)"
fi
in_window=$("$pgbin/psql" -X -At "$db" -c "SELECT count (*) FROM transactions WHERE kind = 'payment'")
commits=$("$pgbin/psql" -X -At "$db" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'cards'")
echo "server transactions per payment (the token lookup is one): $(python3 -c "print('%.2f' % (($commits - $commits0) / max ($in_window, 1)))")"
if [ "$stats" = 1 ]; then
  per=$("$pgbin/psql" -X -At "$db" -c "SELECT round (sum (s.calls)::numeric / greatest ($in_window, 1), 1)
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'cards'")
  echo "statements per payment: $per (with the token lookup; BEGIN, SAVEPOINT, RELEASE and writes" \
       "whose answer nobody reads travel in the round trip of the statement after them)"
fi
if [ "$stats" = 1 ]; then
  echo "per statement (per payment: calls, database time in µs, rows):"
  "$pgbin/psql" -X -At -F ' ' "$db" -c "SELECT round (s.calls::numeric / greatest ($in_window, 1), 2),
      round ((s.total_exec_time * 1000 / greatest ($in_window, 1))::numeric, 1),
      round (s.rows::numeric / greatest ($in_window, 1), 2), left (regexp_replace (s.query, '\s+', ' ', 'g'), 90)
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'cards'
      ORDER BY s.total_exec_time DESC LIMIT 14" | sed 's/^/  /'
fi
# An update that finds room on its row's page writes no index entry (HOT).
echo "updates (all, HOT) by table: $("$pgbin/psql" -X -At -F ' ' "$db" -c "SELECT string_agg (relname || ' '
    || n_tup_upd || ' ' || n_tup_hot_upd, ', ' ORDER BY relname) FROM pg_stat_user_tables WHERE n_tup_upd > 0")"

in_ledger=$("$pgbin/psql" -X -At "$db" -c "SELECT count (*) FROM transactions WHERE kind = 'payment'")
ct_rate=$(python3 -c "print('%.0f' % ($acked / $secs))")
echo "cardtill: $ct_rate payments/s ($acked acknowledged in $secs s, $bad not 201)"
echo "cardtill: CPU per payment: service $(per_tx_us $((svc1 - svc0)) "$acked") µs," \
     "database $(per_tx_us $((db1 - db0)) "$acked") µs"
echo "ratio cardtill / pgbench: $(python3 -c "print('%.2f' % ($ct_rate / $pgb_tps))")"
"$svc" ledger check --db "$db" | grep -E '^sum|balanced'
if [ "$in_ledger" -lt "$acked" ]; then
  echo "MISSING: $acked payments acknowledged, $in_ledger in the ledger" >&2
  exit 1
fi
echo "acknowledged payments in the ledger: $acked of $acked ($in_ledger payments recorded)"
