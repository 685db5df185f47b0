#!/usr/bin/env bash
# Runs the store's Go benchmarks on PostgreSQL: starts a throwaway server
# (Debian package postgresql, default durable settings), points the store's
# test backend at it, stops it at the end. Compare with SQLite by running
# the same benchmarks without the variable:
#   go test ./store -run '^$' -bench 'PutCall|GetCall|ListCalls' -benchtime 2000x
# Usage: bench/store-postgres.sh [benchmark regexp] (default PutCall|GetCall|ListCalls)
set -euo pipefail
bench="${1:-PutCall|GetCall|ListCalls}"
bin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")
dir=$(mktemp -d /tmp/voxgate-pgbench.XXXXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; as=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap '"${as[@]}" "$bin/pg_ctl" stop -m fast -D "$dir/data" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -U voxgate --auth=trust -E UTF8 --locale=C >/dev/null
"${as[@]}" "$bin/pg_ctl" start -w -D "$dir/data" -l "$dir/log" -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" >/dev/null
VOXGATE_STORE_TEST_POSTGRES="postgres://voxgate@127.0.0.1:$port/postgres?sslmode=disable" \
  go test ./store -run '^$' -bench "$bench" -benchtime 2000x -benchmem
