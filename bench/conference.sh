#!/usr/bin/env bash
# Voxgate conference load test with real RTP peers: builds the gateway and
# the bench app, and for each step puts N SIPp callers (each streaming
# speech with rtp_stream, bench/scenarios/uac_conference.xml) into
# <Dial><Conference> rooms, then measures the gateway over a fixed window
# at the plateau and prints a table.
#
#   bench/conference.sh                               # default steps: about 3 minutes
#   STEPS="big:50 trio:30" WINDOW=5 bench/conference.sh
#
# A step is MODE:N:
#   big:N    N callers in rooms of BIG_ROOM (default 250, the room cap), so N <= 250 is one room
#   trio:N   N callers in 3-party rooms (N/3 rooms)
#   play:N   N callers on <Play loop="0"> (no conference): the same RTP both ways
#            without the mixer, the baseline the conference steps are compared with
#
# Per step: SIPp places N calls at RAMP_RATE/s, each up long enough for the
# measurement; once the gateway reports N active calls and the rooms are
# listed by the Conferences API (Status=in-progress), it waits SETTLE s and
# then measures over WINDOW s: the gateway's CPU (utime + stime from
# /proc/PID/stat), the kernel's receive drops on the gateway's RTP sockets
# (/proc/net/udp) and a capture of everything the gateway sends
# (bench/rtpstat: missing sequence numbers and skipped frames per stream).
# After the calls end, the RTP packets lost on the way in (the gateway's
# /metrics voxgate_rtp_packets_lost_total, counted as legs end). A step
# passes with 0 of all four; the script goes on to the next step either
# way.
#
# Knobs (environment): STEPS, BIG_ROOM, RAMP_RATE, SETTLE, WINDOW, GW_CPUS
# (taskset CPU list for the gateway, e.g. 1, with GOMAXPROCS = its CPUs:
# "one core"), LOAD_CPUS (for SIPp, dumpcap and the app), KEEP=1 (keep the
# work directory), KEEP_PCAP=1 (keep each step's capture in it), RTP_LO and
# RTP_HI (the gateway's RTP ports, default 28000-29999: below the kernel's
# ephemeral ports, so no other program's sockets land in the capture).
# Ports: SIP 15160, HTTP 18180, app 18190, SIPp 15170 and its media 26000
# (SIPP_MP); they must be free.
# Needs go, sipp, dumpcap (root or capture capabilities), sox, espeak-ng,
# curl. Every wait is bounded; the script cleans up after itself on exit,
# error or Ctrl-C.
set -euo pipefail

STEPS=${STEPS:-"play:60 big:60 trio:60 play:150 big:150 trio:150"}
BIG_ROOM=${BIG_ROOM:-250}
RAMP_RATE=${RAMP_RATE:-50}
SETTLE=${SETTLE:-2}
WINDOW=${WINDOW:-8}
KEEP=${KEEP:-0}
GW_CPUS=${GW_CPUS:-}
LOAD_CPUS=${LOAD_CPUS:-}
ON_LOAD=()
[[ -n $LOAD_CPUS ]] && ON_LOAD=(taskset -c "$LOAD_CPUS")

SIP_PORT=15160 HTTP_PORT=18180 APP_PORT=18190 UAC_PORT=15170
# SIPp's media ports (-mp): the capture keeps only what the gateway sends
# to them, so another program's sockets in the gateway's port range (other
# SIPp runs bind high ports too) stay out of the figures.
SIPP_MP=${SIPP_MP:-26000}
RTP_LO=${RTP_LO:-28000} RTP_HI=${RTP_HI:-29999}
IP=127.0.0.1
ACCOUNT=AC0123456789abcdef0123456789abcdef
TOKEN=0123456789abcdef0123456789abcdef

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCEN=$ROOT/bench/scenarios
# The gateway runs as $W/gw with gw.yaml under /tmp/confbench.*: on a box
# shared with other work, it is told apart from other runs of the gateway.
W=$(mktemp -d /tmp/confbench.XXXXXX)
PIDS=()

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ours PID: is PID still a child of this script? A PID remembered from a
# process that has ended may since belong to someone else's process (on a
# busy box PIDs wrap in minutes): never signal it then.
ours() { [[ $(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ') == "$$" ]]; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do ours "$pid" && kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done
		ours "$pid" && kill -9 "$pid" 2>/dev/null || true
	done
	if [[ $KEEP == 1 ]]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD... runs a command in the background, logs to $W/NAME.log
# and remembers its PID for cleanup; the PID is left in LAST.
LAST=
start() {
	local name=$1; shift
	"$@" >"$W/$name.log" 2>&1 &
	LAST=$!
	PIDS+=("$LAST")
}
# stop PID ends one process we started and waits for it (bounded).
stop() {
	ours "$1" || return 0
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do ours "$1" || return 0; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
healthz() { curl -sf --max-time 2 "http://$IP:$HTTP_PORT/healthz" || true; }
active_calls() { healthz | sed -n 's/.*"active_calls":\([0-9]*\).*/\1/p'; }
metric() { curl -sf --max-time 2 "http://$IP:$HTTP_PORT/metrics" | awk -v k="$1" '$1 == k {printf "%.0f", $2}'; }
# rooms_in_progress prints how many conferences the API lists as in-progress.
rooms_in_progress() {
	curl -sf --max-time 5 -u "$ACCOUNT:$TOKEN" \
		"http://$IP:$HTTP_PORT/2010-04-01/Accounts/$ACCOUNT/Conferences.json?Status=in-progress&PageSize=1000" |
		{ grep -o '"sid":"CF[0-9a-f]*"' || true; } | wc -l
}
# udp_drops PID sums the receive drops of PID's UDP sockets (the drops
# column of /proc/net/udp: datagrams the kernel threw away because the
# socket's buffer was full); sockets of other programs are left out.
udp_drops() {
	awk 'NR == FNR { ours[$1] = 1; next }
		FNR > 1 && ($10 in ours) { d += $NF }
		END { print d + 0 }' \
		<(find /proc/"$1"/fd -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n') /proc/net/udp
}

# --- preflight ---------------------------------------------------------------
for tool in go sipp dumpcap sox espeak-ng curl awk ss; do
	command -v "$tool" >/dev/null || die "$tool not found (Debian: sip-tester, wireshark-common, sox, espeak-ng, curl)"
done
for port in $SIP_PORT $HTTP_PORT $APP_PORT $UAC_PORT $SIPP_MP; do
	if ss -Hlnu "sport = :$port" | grep -q . || ss -Hlnt "sport = :$port" | grep -q .; then
		die "port $port is in use"
	fi
done
MAXN=0
for step in $STEPS; do
	n=${step#*:}
	[[ $step =~ ^(big|trio|play):[0-9]+$ ]] || die "bad step $step (want big:N, trio:N or play:N)"
	((n > MAXN)) && MAXN=$n
done
((BIG_ROOM >= 2 && BIG_ROOM <= 250)) || die "BIG_ROOM must be 2-250"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4 * MAXN + 1000 )) || die "open file limit $(ulimit -n) is too low for $MAXN calls"
CLK=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- build and prepare -------------------------------------------------------
REV=$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown) # what is built
log "building voxgate, the bench app and rtpstat in $W"
(cd "$ROOT" && go build -o "$W/gw" ./cmd/voxgate && go build -o "$W/webapp" ./bench/webapp && go build -o "$W/rtpstat" ./bench/rtpstat)
cd "$W"
sox -n -r 8000 -c 1 -b 16 audio.wav synth 4 sine 300-3000 vol 0.5
espeak-ng -w speech.wav "This is a caller talking in the Voxgate conference benchmark. One, two, three, four, five."
sox speech.wav -r 8000 -c 1 -e u-law -t raw caller.ulaw
cat >gw.yaml <<EOF
sip:
  listen: [udp:$IP:$SIP_PORT]
  public_ip: $IP
  limits: {max_calls: 0, calls_per_second: 0, source_max_calls: 0, source_calls_per_second: 0}
media:
  rtp_ports: $RTP_LO-$RTP_HI
  rtp_timeout: 60s
http:
  listen: $IP:$HTTP_PORT
account:
  sid: $ACCOUNT
  auth_token: $TOKEN
storage:
  dir: $W/var
log:
  level: warn
webhook_timeout: 10s
outbound_http:
  allow: [$IP/32]
numbers:
  - {number: "2000", voice_url: "http://$IP:$APP_PORT/hold"}
  - {number: "2001", voice_url: "http://$IP:$APP_PORT/conference?size=$BIG_ROOM"}
  - {number: "2003", voice_url: "http://$IP:$APP_PORT/conference?size=3"}
EOF
start webapp "${ON_LOAD[@]}" ./webapp -listen "$IP:$APP_PORT" -audio audio.wav
GW_PROCS=
[[ -n $GW_CPUS ]] && GW_PROCS=$(taskset -c "$GW_CPUS" nproc)
start gw env ${GW_PROCS:+GOMAXPROCS=$GW_PROCS} taskset -c "${GW_CPUS:-0-$(($(nproc --all) - 1))}" ./gw serve --config gw.yaml
GW=$LAST
for _ in $(seq 100); do [[ -n $(healthz) ]] && break; sleep 0.1; done
[[ -n $(healthz) ]] || die "voxgate did not start: $(tail -5 gw.log)"
log "voxgate running (pid $GW)"

# --- steps -------------------------------------------------------------------
ROWS=()
for step in $STEPS; do
	mode=${step%%:*} n=${step#*:}
	kill -0 "$GW" 2>/dev/null || die "the gateway has exited: $(tail -3 gw.log)"
	case $mode in
	play) number=2000 rooms=0 ;;
	big) number=2001 rooms=$(((n + BIG_ROOM - 1) / BIG_ROOM)) ;;
	trio) number=2003 rooms=$(((n + 2) / 3)) ;;
	esac
	ramp=$(((n + RAMP_RATE - 1) / RAMP_RATE))
	hold_ms=$(((ramp + SETTLE + WINDOW + 10) * 1000))
	log "step $step: $n calls at $RAMP_RATE/s, $rooms rooms, each call up $((hold_ms / 1000)) s"
	lost0=$(metric voxgate_rtp_packets_lost_total)
	start "sipp-$step" "${ON_LOAD[@]}" sipp "$IP:$SIP_PORT" -sf "$SCEN/uac_conference.xml" -s "$number" \
		-r "$RAMP_RATE" -m "$n" -l "$n" -d "$hold_ms" -i $IP -mi $IP -p $UAC_PORT -mp $SIPP_MP -nostdin \
		-trace_err -error_file "sipp-$step.err" -trace_stat -stf "sipp-$step.csv" -fd 1 -timeout $((hold_ms / 1000 + 60))s
	SIPP=$LAST
	up=0 listed=0
	for _ in $(seq $(((ramp + 30) * 5))); do
		up=$(active_calls)
		((${up:-0} >= n)) && break
		ours "$SIPP" || break
		sleep 0.2
	done
	for _ in $(seq 25); do
		listed=$(rooms_in_progress)
		((listed >= rooms)) && break
		sleep 0.2
	done
	sleep "$SETTLE"
	start "dumpcap-$step" "${ON_LOAD[@]}" dumpcap -i lo -P -q -s 96 -B 256 -f "udp and src portrange $RTP_LO-$RTP_HI and dst portrange $SIPP_MP-$((SIPP_MP + 99))" -w "rtp-$step.pcap"
	CAP=$LAST
	sleep 1
	t0=$(cpu_ticks "$GW") d0=$(udp_drops "$GW") s0=$(date +%s.%N)
	sleep "$WINDOW"
	t1=$(cpu_ticks "$GW") d1=$(udp_drops "$GW") s1=$(date +%s.%N)
	up_end=$(active_calls)
	kill -0 "$GW" 2>/dev/null || die "the gateway has exited during step $step: $(tail -3 gw.log)"
	load=$(cut -d' ' -f1 /proc/loadavg)
	stop "$CAP"
	log "step $step measured ($up_end calls up, $listed rooms listed); waiting for the calls to end"
	for _ in $(seq $(((hold_ms / 1000 + 60) * 5))); do ours "$SIPP" || break; sleep 0.2; done
	if ours "$SIPP"; then
		kill -USR1 "$SIPP" 2>/dev/null || true
		sleep 5
		stop "$SIPP"
	fi
	for _ in $(seq 150); do [[ $(active_calls) == 0 ]] && break; sleep 0.2; done
	sleep 1
	lost1=$(metric voxgate_rtp_packets_lost_total)
	ok=$(tail -1 "sipp-$step.csv" | awk -F';' '{print $16 + 0}')
	failed=$(tail -1 "sipp-$step.csv" | awk -F';' '{print $18 + 0}')
	./rtpstat -sip-port $SIP_PORT -rtp-ports $RTP_LO-$RTP_HI "rtp-$step.pcap" >"rtpstat-$step.txt" || true
	r() { awk -v k="$1" '$1 == k {print $2}' "rtpstat-$step.txt"; }
	cpu=$(awk -v t=$((t1 - t0)) -v clk="$CLK" -v a="$s0" -v b="$s1" 'BEGIN {printf "%.1f", t / clk / (b - a) * 100}')
	per=$(awk -v c="$cpu" -v n="$up_end" 'BEGIN {if (n > 0) printf "%.3f", c / n; else print "-"}')
	us=$(awk -v c="$cpu" -v n="$up_end" 'BEGIN {if (n > 0) printf "%.0f", c / 100 * 1e6 / n; else print "-"}')
	ROWS+=("$(printf '%-10s %6s %6s %7s %8s %8s %10s %9s %8s %7s %9s %7s %6s' \
		"$step" "$up_end" "$listed" "$cpu%" "$per%" "$us" "$(r streams)" "$(r seq_lost)" "$(r skipped_frames)" \
		$((d1 - d0)) $((${lost1:-0} - ${lost0:-0})) "$ok/$n" "$load")")
	log "${ROWS[-1]}"
	[[ -n ${KEEP_PCAP:-} ]] || rm -f "rtp-$step.pcap"
done

cat <<EOF

Voxgate conference load test, $(date -u '+%Y-%m-%d %H:%M UTC'), built at $REV
machine: $(nproc) CPUs; load average before $LOAD_BEFORE; $(if [[ -n $GW_CPUS ]]; then echo "gateway pinned to CPUs $GW_CPUS (GOMAXPROCS $GW_PROCS)"; else echo "SIPp, dumpcap and the gateway share the machine"; fi)
window $WINDOW s per step; big rooms hold up to $BIG_ROOM
step           calls  rooms     CPU  CPU/call  µs/call/s  streams  seq_lost  skipped  kdrops  lost_in   sipp ok   load
$(printf '%s\n' "${ROWS[@]}")
(calls: up at the end of the window; rooms: in-progress rooms listed by the API; CPU: the
gateway's, % of one core; streams/seq_lost/skipped: RTP the gateway sent, from the capture;
kdrops: kernel receive drops on the gateway's UDP sockets in the window; lost_in: RTP lost on
the way in by the gateway's /metrics over the whole step; sipp ok: calls SIPp completed)
EOF
