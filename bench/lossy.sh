#!/usr/bin/env bash
# Calls over a lossy network, the long version of the e2e test
# TestLossyNetwork (e2e/lossy_test.go): the gateway in a network namespace,
# SIPp in another, a relay between them adding 0-60 ms of jitter, nftables
# dropping 20 % of SIP, 10 % of RTP and every ACK the callers send over UDP.
# RFC 3261 timers at their defaults (T1 = 500 ms: the 64·T1 ACK wait is 32 s).
#
#   bench/lossy.sh              # CALLS=10 of each kind (30 calls): about 1.5 minutes
#   CALLS=30 bench/lossy.sh     # 90 calls
#
# Kinds: the app hangs up after a digit (UDP: its BYE waits for the lost
# ACK), the caller hangs up (UDP), the caller hangs up (TCP). Prints the
# test's summary (calls, digits, BYEs each way, ACK timeouts, time) and the
# packets each loss rule dropped. Needs root (network namespaces), go, sipp,
# nft and ip (scripts/install-deps.sh test). The namespaces are removed at
# the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench/lossy.sh: needs root (network namespaces)" >&2; exit 1; }
CALLS=${CALLS:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
if ! VOXGATE_LOSSY_CALLS=$CALLS go test ./e2e -run '^TestLossyNetwork$' -count=1 -v -timeout 20m >"$log" 2>&1; then
	grep -v '^\s*time=' "$log" | tail -100
	echo "bench/lossy.sh: FAILED" >&2
	exit 1
fi
echo "lossy network, $CALLS calls of each kind, $(( $(date +%s) - start )) s including the build:"
grep -o 'lossy: .*' "$log"
echo "dropped by the loss rules:"
grep -E '^\s*(vgl[0-9-]+[cg]:|.*counter packets)' "$log" | sed -E 's/^\s+/  /; s/ numgen random mod 100 </ lose/'
