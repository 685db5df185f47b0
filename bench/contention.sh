#!/usr/bin/env bash
# Send jitter under contention: bench/run.sh's hold and refhold steps (CALLS
# calls with audio both ways against Voxgate, then against SIPp's own UAS
# streaming the same audio) twice: the gateway and the load generators
# sharing every CPU, then pinned apart (the gateway on GW_CPUS, SIPp, dumpcap
# and the app on LOAD_CPUS; defaults 1 and 0). Prints, for each, the
# receiver's send-interval jitter (bench/rtpstat), the gateway's own view of
# how late its send bursts began (/metrics voxgate_rtp_send_late_seconds),
# its threads' run-queue wait, SIPp's jitter and the ratio.
#
#   bench/contention.sh                  # CALLS=2000, about 4 minutes
#   CALLS=500 HOLD_SECONDS=10 bench/contention.sh
#
# Other knobs are bench/run.sh's; each run's full report is kept in the
# directory printed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d /tmp/voxgate-contention.XXXXXX)
GW_CPUS_PINNED=${GW_CPUS_PINNED:-1}
LOAD_CPUS_PINNED=${LOAD_CPUS_PINNED:-0}

STEPS="hold refhold" GW_CPUS= LOAD_CPUS= "$ROOT/bench/run.sh" >"$OUT/shared.txt"
STEPS="hold refhold" GW_CPUS=$GW_CPUS_PINNED LOAD_CPUS=$LOAD_CPUS_PINNED "$ROOT/bench/run.sh" >"$OUT/pinned.txt"

rows='send-interval jitter|send bursts|run-queue wait|CPU per 100 calls|concurrent calls held|calls held|RTP loss'
for run in shared pinned; do
	printf '\n%s: %s\n' "$run" "$(sed -n 's/^gateway niceness [0-9-]*; //p' "$OUT/$run.txt")"
	sed -n 's/^machine: /machine: /p' "$OUT/$run.txt"
	grep -E "$rows" "$OUT/$run.txt" || true
done
printf '\nreports: %s\n' "$OUT"
