#!/usr/bin/env bash
# One node against two behind Kamailio, on one PostgreSQL, on this box.
#
# For each case (1 node, then 2 nodes on 127.0.0.2 and 127.0.0.3) it makes a
# fresh database on a throwaway PostgreSQL (durable default settings, with
# pg_stat_statements), starts the nodes (storage.driver: postgres) and
# Kamailio with configs/kamailio/kamailio.cfg in front, places a few
# warm-up calls, then offers RATE calls a second for CALLS calls, each held
# HOLD ms by the caller (SIPp, e2e/testdata/cluster_call.xml, through
# Kamailio). It prints, per case: calls answered and failed, the call rate
# achieved, the peak of concurrent calls, SIPp's mean INVITE→200 time, the
# share of calls each node took, and PostgreSQL statements per call
# (pg_stat_statements; each one round trip). The ratio of the two cases is
# the cost of the shared store and the dispatcher when both nodes share
# the same two cores (on separate hosts the second node adds capacity).
#
# Usage: bench/cluster.sh            (RATE=40 CALLS=600 HOLD=4000 by default)
#        RATE=80 CALLS=1200 bench/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-40}
CALLS=${CALLS:-600}
HOLD=${HOLD:-4000}
scenario=$PWD/e2e/testdata/cluster_call.xml

for tool in sipp python3 psql; do command -v "$tool" >/dev/null || { echo "bench: $tool missing: scripts/install-deps.sh test" >&2; exit 1; }; done
kamailio=$(command -v kamailio || echo /usr/sbin/kamailio)
[ -x "$kamailio" ] || { echo "bench: kamailio missing: scripts/install-deps.sh test" >&2; exit 1; }
pgbin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")

work=$(mktemp -d /tmp/voxgate-cluster-bench.XXXXXX)
pids=()
as=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$work"; chmod 755 "$work"; as=(runuser -u postgres --); fi
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
apppid=""
cleanup() {
  stop_all
  [ -n "$apppid" ] && kill "$apppid" 2>/dev/null || true
  "${as[@]}" "$pgbin/pg_ctl" stop -m fast -D "$work/pg" >/dev/null 2>&1 || true
  [ -n "${BENCH_KEEP:-}" ] && echo "bench: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

echo "bench: building voxgate" >&2
go build -o "$work/voxgate" ./cmd/voxgate

pgport=$(freeport)
"${as[@]}" "$pgbin/initdb" -D "$work/pg" -U voxgate --auth=trust -E UTF8 --locale=C >/dev/null
"${as[@]}" "$pgbin/pg_ctl" start -w -D "$work/pg" -l "$work/pg.log" \
  -o "-c listen_addresses=127.0.0.1 -p $pgport -k $work -c max_connections=200 -c shared_preload_libraries=pg_stat_statements" >/dev/null
psqlc() { psql -X -q -t -A "postgres://voxgate@127.0.0.1:$pgport/$1?sslmode=disable" -c "$2"; }

# The application: every call is answered with a short <Say>, then a
# <Pause> longer than HOLD; the caller hangs up.
mkdir -p "$work/app"
echo '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello.</Say><Pause length="120"/></Response>' >"$work/app/voice.xml"
appport=$(freeport)
python3 -m http.server "$appport" --bind 127.0.0.1 --directory "$work/app" >/dev/null 2>&1 &
apppid=$!

# run_case N: N nodes behind Kamailio.
run_case() {
  local n=$1 db="bench$1" nodes=() list="" i
  psqlc postgres "CREATE DATABASE $db" >/dev/null
  psqlc "$db" "CREATE EXTENSION pg_stat_statements" >/dev/null
  local url="postgres://voxgate@127.0.0.1:$pgport/$db?sslmode=disable"
  for i in $(seq 1 "$n"); do
    local ip="127.0.0.$((i + 1))" sport hport dir="$work/case$n/node$i"
    sport=$(freeport)
    hport=$(freeport)
    mkdir -p "$dir"
    cat >"$dir/voxgate.yaml" <<EOF
sip:
  listen: [udp:$ip:$sport]
  public_ip: $ip
  limits: {max_calls: 5000, calls_per_second: 1000, source_max_calls: 5000, source_calls_per_second: 1000}
media:
  rtp_ports: $((20000 + i * 4000))-$((23998 + i * 4000))
http:
  listen: 127.0.0.1:$hport
account:
  sid: AC11111111111111111111111111111111
  auth_token: "22222222222222222222222222222222"
storage:
  dir: $dir/var
  driver: postgres
  url: "$url"
cluster:
  node_id: gw-$i
log:
  level: warn
outbound_http:
  allow: [127.0.0.1/32]
numbers:
  - number: "+15550001000"
    voice_url: http://127.0.0.1:$appport/voice.xml
    voice_method: GET
EOF
    "$work/voxgate" serve --config "$dir/voxgate.yaml" >"$dir/out.log" 2>"$dir/err.log" &
    pids+=($!)
    nodes+=("$hport")
    list+="1 sip:$ip:$sport 0 0"$'\n'
  done
  for h in "${nodes[@]}"; do
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$h/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  done
  local kport kdir="$work/case$n/kamailio"
  kport=$(freeport)
  mkdir -p "$kdir"
  printf '%s' "$list" >"$kdir/dispatcher.list"
  sed "s/^listen=udp:0.0.0.0:5060/listen=udp:127.0.0.1:$kport/" configs/kamailio/kamailio.cfg >"$kdir/kamailio.cfg"
  "$kamailio" -f "$kdir/kamailio.cfg" -DD -E -n 2 -m 128 -M 8 -Y "$kdir" -A "DISPATCHER_LIST=\"$kdir/dispatcher.list\"" -A PING_INTERVAL=1 \
    >"$kdir/log" 2>&1 &
  pids+=($!)
  sleep 1.5
  local sdir="$work/case$n/sipp"
  mkdir -p "$sdir"
  sipp_run() { # calls rate hold statsfile
    (cd "$sdir" && sipp "127.0.0.1:$kport" -sf "$scenario" -s +15550001000 -i 127.0.0.1 -mi 127.0.0.1 \
      -p "$(freeport)" -mp "$(freeport)" -cp "$(freeport)" -m "$1" -r "$2" -l "$(($1))" -d "$3" -nostdin -timeout 300s \
      -trace_stat -stf "$4" -fd 1 -trace_err >/dev/null 2>&1) || true
  }
  sipp_run 10 10 200 "$sdir/warm.csv"
  sleep 1
  psqlc "$db" "SELECT pg_stat_statements_reset()" >/dev/null
  local start end
  start=$(date +%s.%N)
  sipp_run "$CALLS" "$RATE" "$HOLD" "$sdir/run.csv"
  end=$(date +%s.%N)
  sleep 1
  local stmts beats per_node
  local mine="dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'"
  stmts=$(psqlc "$db" "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE $mine AND query NOT LIKE '%cluster_nodes%'")
  beats=$(psqlc "$db" "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE $mine AND query LIKE '%cluster_nodes%'")
  per_node=$(psqlc "$db" "SELECT string_agg(node_id || '=' || n, ' ' ORDER BY node_id) FROM (SELECT node_id, count(*) n FROM calls GROUP BY node_id) s")
  python3 - "$sdir/run.csv" "$n" "$start" "$end" "$stmts" "$per_node" "$HOLD" "$beats" <<'PY'
import csv, sys
path, n, start, end, stmts, per_node, hold, beats = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=';'))
head, last = rows[0], rows[-1]
col = lambda r, name: r[head.index(name)]
ok, failed = int(col(last, 'SuccessfulCall(C)')), int(col(last, 'FailedCall(C)'))
peak = max(int(col(r, 'CurrentCall')) for r in rows[1:])
rt = col(last, 'ResponseTime1(C)')
h, m, s, us = (int(x) for x in rt.split(':'))  # HH:MM:SS:microseconds
rt_ms = (h * 3600 + m * 60 + s) * 1000 + us / 1000
secs = float(end) - float(start) - int(hold) / 1000
print(f"{n} node(s): {ok} answered, {failed} failed, {ok / secs:.1f} calls/s over {secs:.1f} s, "
      f"peak {peak} concurrent, INVITE->200 mean {rt_ms:.1f} ms, per node: {per_node}, "
      f"PostgreSQL statements per call: {int(stmts) / max(ok, 1):.1f} (+ {beats} of cluster membership in {secs:.0f} s)")
PY
  stop_all
}

echo "bench: RATE=$RATE CALLS=$CALLS HOLD=${HOLD}ms; load before: $(uptime)"
run_case 1
run_case 2
echo "bench: load after: $(uptime)"
