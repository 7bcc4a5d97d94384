#!/usr/bin/env bash
# The test PostgreSQL: a cluster of Debian's postgresql package listening on 127.0.0.1:5432,
# trust authentication on loopback only, a "test" database; started when stopped, then waited
# for. Idempotent. Root only.
set -euo pipefail
command -v pg_lsclusters >/dev/null || { echo "test-postgres: postgresql-common is not installed" >&2; exit 1; }
version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
[ -n "$version" ] || { echo "test-postgres: no PostgreSQL server in /usr/lib/postgresql" >&2; exit 1; }
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
  pg_createcluster --port 5432 "$version" main >/dev/null
fi
conf=/etc/postgresql/$version/main
# Loopback-only trust for the tests: our lines first, so they win over the packaged defaults.
marker='# fleetstat test setup'
if ! grep -qF "$marker" "$conf/pg_hba.conf"; then
  {
    echo "$marker: loopback trust"
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'
    cat "$conf/pg_hba.conf"
  } > "$conf/pg_hba.conf.new"
  mv "$conf/pg_hba.conf.new" "$conf/pg_hba.conf"
  restart=1
fi
mkdir -p "$conf/conf.d"
printf "listen_addresses = '127.0.0.1'\nport = 5432\nmax_connections = 300\n" > "$conf/conf.d/fleetstat-test.conf"
if [ "${restart:-0}" = 1 ] && pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done
psql -h 127.0.0.1 -U postgres -d postgres -qAtc "select 1" >/dev/null
if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -qAtc "select 1 from pg_database where datname = 'test'")" != 1 ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "create database test"
fi
