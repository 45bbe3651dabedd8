#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a test program against a throwaway PostgreSQL cluster: initdb and
# pg_ctl in a temporary directory (as the postgres user when run as root,
# since PostgreSQL refuses to run as root), listening only on a socket in
# that directory. The program finds the cluster through CT_TEST_PG, a URI
# of its maintenance database; it creates a database of its own per
# service. The cluster and the directory are gone when this exits.
set -eu

pgbin=${CT_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$pgbin/initdb" ]; then
  echo "ct-pg-run: no PostgreSQL 15 at $pgbin (build-aux/setup installs postgresql-15)" >&2
  exit 77
fi

if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "ct-pg-run: running as root needs the postgres user (postgresql-15 makes it)" >&2
  exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ct-pg-XXXXXX")
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
fi

stop() {
  as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U cardtill -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}
# Only a socket in the private directory: no port to collide on. The
# cluster is thrown away, so it need not survive a power cut (fsync off);
# the service's own durability is tested on SQLite and by kill -9 of
# service processes, which PostgreSQL survives either way.
# CT_PG_DURABLE=1 (the benchmark) keeps fsync on; CT_PG_SETTINGS adds
# server settings ("-c name=value ...").
settings="-c max_connections=300 ${CT_PG_SETTINGS:-}"
if [ -z "${CT_PG_DURABLE:-}" ]; then
  settings="$settings -c fsync=off -c full_page_writes=off"
else
  settings="$settings -c shared_buffers=256MB -c max_wal_size=4GB"
fi
as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-k $dir -p 5432 -c listen_addresses= $settings" \
  start >/dev/null || {
  cat "$dir/server.log" >&2
  exit 1
}

CT_TEST_PG="postgresql:///postgres?host=$dir&port=5432&user=cardtill"
export CT_TEST_PG
status=0
"$@" || status=$?
exit $status
