#!/usr/bin/env bash
# Voxgate load test: builds the gateway, runs it against SIPp on this
# machine (127.0.0.1 only) and prints a table.
#
#   bench/run.sh               # the full run: about 6 minutes
#   QUICK=1 bench/run.sh       # 200 calls, short steps: about 2 minutes
#
# Steps:
#   1. scenarios   every SIPp scenario in bench/scenarios once (SCENARIO_CALLS calls each)
#   2. concurrency CALLS calls of uac_hold.xml ramped at RAMP_RATE, each streaming audio
#                  in while Voxgate plays audio out; held HOLD_SECONDS at the plateau.
#                  dumpcap records the gateway's SIP and the RTP of every
#                  CAPTURE_EVERY-th call; bench/rtpstat measures the send
#                  intervals at the plateau, loss, and first RTP / first audio after
#                  each 200 OK
#   2b. refhold    the same CALLS calls of uac_hold.xml against SIPp's own UAS streaming
#                  the same hold audio with its paced RTP sender (rtp_stream,
#                  uas_stream_hold.xml): the send-jitter reference, captured and measured
#                  the same way
#   3. call rate   uac_say_hangup.xml at rising rates (RATES, STEP_SECONDS each), first
#                  against SIPp's own UAS answering and hanging up without audio (the
#                  ceiling of this machine and this SIPp), then against SIPp's UAS
#                  streaming the same prompt by pcap play (the reference doing the same
#                  media work), then against Voxgate (app: <Say>, <Hangup>); a rate
#                  passes with 0 failed calls and >= 95% of it achieved
#   5. bridge      BRIDGE_CALLS calls of uac_hold.xml to a <Dial> that Voxgate bridges to
#                  SIPp's UAS (uas_stream_hold.xml), audio both ways; then rtpengine
#                  (userspace forwarding, no kernel module) relaying as many calls for
#                  bench/ngrelay; each relay's CPU per relayed packet over the plateau
#
# Figures of a reference are printed beside Voxgate's with the ratio Voxgate/reference.
# STEPS (default "scenarios hold refhold rate bridge") chooses the steps;
# bench/contention.sh runs hold and refhold with the gateway pinned apart and shared.
#
# Knobs (environment): CALLS RAMP_RATE HOLD_SECONDS RATES STEP_SECONDS SCENARIO_CALLS
# BRIDGE_CALLS STEPS CAPTURE_EVERY (1, 2, 4 or 8) NICE (the gateway's niceness, default 0) KEEP=1 (keep the
# work directory) PROFILE=1 (CPU-profile the gateway for 5 s at the plateau, at the bridged
# calls' plateau and during the Voxgate call-rate step at PROFILE_RATE, default 1000; prints the top functions and keeps the
# profiles for `go tool pprof`) GW_CPUS, LOAD_CPUS (taskset CPU lists: pin the gateway, and
# SIPp, dumpcap and the web app, to separate CPUs; the gateway then gets GOMAXPROCS = its CPUs,
# or GW_GOMAXPROCS). Ports: SIP 15060, HTTP 18080, app 18090, SIPp 15070/15080/15090,
# RTP 20000-27999; references: SIPp UAS 15100, its media 28000, rtpengine ng 22222 and
# RTP 30000-39999; they must be free. Needs go, sipp, dumpcap (root or capture
# capabilities), sox, espeak-ng, curl; root for SIPp's pcap play (a raw socket); rtpengine
# for the bridge step (scripts/install-deps.sh bench). Every wait is bounded; the script cleans up
# after itself on exit, error or Ctrl-C.
set -euo pipefail

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
	CALLS=${CALLS:-200} RAMP_RATE=${RAMP_RATE:-50} HOLD_SECONDS=${HOLD_SECONDS:-8}
	RATES=${RATES:-"50 100 200 400"} STEP_SECONDS=${STEP_SECONDS:-4} SCENARIO_CALLS=${SCENARIO_CALLS:-3}
	CAPTURE_EVERY=${CAPTURE_EVERY:-1} BRIDGE_CALLS=${BRIDGE_CALLS:-100}
fi
CALLS=${CALLS:-2000}
RAMP_RATE=${RAMP_RATE:-100}
HOLD_SECONDS=${HOLD_SECONDS:-15}
RATES=${RATES:-"100 200 400 600 800 1000 1500 2000 3000 4000"}
STEP_SECONDS=${STEP_SECONDS:-8}
SCENARIO_CALLS=${SCENARIO_CALLS:-10}
CAPTURE_EVERY=${CAPTURE_EVERY:-4}
BRIDGE_CALLS=${BRIDGE_CALLS:-1000}
STEPS=${STEPS:-"scenarios hold refhold rate bridge"}
NICE=${NICE:-0}
KEEP=${KEEP:-0}
PROFILE=${PROFILE:-0}
PROFILE_RATE=${PROFILE_RATE:-1000}
PPROF_PORT=16060
GW_CPUS=${GW_CPUS:-}
LOAD_CPUS=${LOAD_CPUS:-}
# ON_LOAD prefixes the load generators' commands: taskset when LOAD_CPUS is set
# (an exec, so the PID started is the command's).
ON_LOAD=()
[[ -n $LOAD_CPUS ]] && ON_LOAD=(taskset -c "$LOAD_CPUS")

SIP_PORT=15060 HTTP_PORT=18080 APP_PORT=18090 UAC_PORT=15070 UAS_PORT=15080 HOLD_PORT=15090
REF_PORT=15100 REF_MEDIA_PORT=28000 NG_PORT=22222 RTPENGINE_LO=30000 RTPENGINE_HI=39999
RTP_LO=20000 RTP_HI=27999
IP=127.0.0.1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCEN=$ROOT/bench/scenarios
W=$(mktemp -d /tmp/voxgate-bench.XXXXXX)
PIDS=()

# step NAME: whether STEPS holds NAME.
step() { [[ " $STEPS " == *" $1 "* ]]; }
# ratio A B prints A/B with two decimals ("-" when either is missing).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-"}'; }

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
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
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
}

# cpu_ticks PID prints PID's CPU time in clock ticks (0 once it has gone).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
healthz() { curl -sf --max-time 2 "http://$IP:$HTTP_PORT/healthz" || true; }
json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
# udp_drops LO HI sums the receive drops of the UDP sockets bound to ports
# LO-HI (the drops column of /proc/net/udp: datagrams the kernel threw
# away because the socket's buffer was full).
udp_drops() {
	awk -v lo="$1" -v hi="$2" '
		function hex(s,   i, n) { n = 0; for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1; return n }
		NR > 1 { split($2, a, ":"); p = hex(a[2]); if (p >= lo && p <= hi) d += $NF }
		END { print d + 0 }' /proc/net/udp
}
# late_buckets prints the gateway's voxgate_rtp_send_late_seconds buckets
# from /metrics, one "le count" pair per line.
late_buckets() {
	curl -sf --max-time 2 "http://$IP:$HTTP_PORT/metrics" |
		sed -n 's/^voxgate_rtp_send_late_seconds_bucket{le="\([^"]*\)"} \([0-9.e+]*\)$/\1 \2/p' || true
}
# late_quantiles BEFORE AFTER prints the p50 and p99 (bucket upper bounds,
# in µs) of the bursts between two late_buckets readings.
late_quantiles() {
	awk 'function us(x) { return x == "+Inf" ? "> 51200" : sprintf("%.0f", x * 1e6) }
		NR == FNR {b[$1] = $2; next}
		{le[++n] = $1; c[n] = $2 - b[$1]}
		END {
			total = c[n]
			if (total <= 0) {print "n/a"; exit}
			for (i = 1; i <= n; i++) {
				if (p50 == "" && c[i] >= total * 0.5) p50 = le[i]
				if (p99 == "" && c[i] >= total * 0.99) p99 = le[i]
			}
			printf "p50 <= %s µs, p99 <= %s µs (%d bursts)", us(p50), us(p99), total
		}' <(echo "$1") <(echo "$2")
}
# rq_wait_ns PID prints how long PID's threads have waited for a CPU while
# runnable, in ns (the second field of each thread's schedstat).
rq_wait_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {printf "%.0f", s}'; }

# --- preflight ---------------------------------------------------------------
for tool in go sipp dumpcap sox espeak-ng curl awk ss; do
	command -v "$tool" >/dev/null || die "$tool not found (Debian: sip-tester, wireshark-common, sox, espeak-ng, curl)"
done
if step rate; then
	[[ $(id -u) == 0 ]] || die "SIPp's pcap play (the call-rate reference) needs root: it sends from a raw socket"
fi
if step bridge; then
	command -v rtpengine >/dev/null || die "rtpengine not found (the bridge step's reference): scripts/install-deps.sh bench, or STEPS without bridge"
fi
for port in $SIP_PORT $HTTP_PORT $APP_PORT $UAC_PORT $UAS_PORT $HOLD_PORT $REF_PORT $NG_PORT; do
	if ss -Hlnu "sport = :$port" | grep -q . || ss -Hlnt "sport = :$port" | grep -q .; then
		die "port $port is in use"
	fi
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4 * CALLS + 1000 )) || die "open file limit $(ulimit -n) is too low for $CALLS calls"
case $CAPTURE_EVERY in 1) MASK=1 ;; 2) MASK=3 ;; 4) MASK=7 ;; 8) MASK=15 ;; *) die "CAPTURE_EVERY must be 1, 2, 4 or 8" ;; esac
CPUS=$(nproc)
CLK=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# busy lists the processes using 5% of a CPU or more now (the second of
# two top samples, one second apart).
busy() { top -b -n 2 -d 1 | awk '/^top -/ {n++} n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 5 {printf "%s %s%%, ", $12, $9}' | head -c 300; }
OTHERS=$(busy)

# --- build and prepare -------------------------------------------------------
log "building voxgate, the bench app and rtpstat in $W"
(cd "$ROOT" && go build -o "$W/voxgate" ./cmd/voxgate && go build -o "$W/webapp" ./bench/webapp && go build -o "$W/rtpstat" ./bench/rtpstat &&
	go build -o "$W/mkpcap" ./bench/mkpcap && go build -o "$W/ngrelay" ./bench/ngrelay)
cd "$W"
sox -n -r 8000 -c 1 -b 16 audio.wav synth 4 sine 300-3000 vol 0.5          # what Voxgate plays (/hold)
espeak-ng -w speech.wav "This is a caller talking to the Voxgate benchmark. One, two, three, four, five."
sox speech.wav -r 8000 -c 1 -e u-law -t raw caller.ulaw                    # what callers stream (rtp_stream)
espeak-ng -s 150 -w hello.wav "Hello from Voxgate."
SAY_MS=$(sox --i -D hello.wav | awk '{printf "%d", $1 * 1000}')           # how long the UAS stays up
# The references' audio: the same prompt as an RTP capture for SIPp's pcap play, and
# the hold audio for its rtp_stream.
sox hello.wav -r 8000 -c 1 -e u-law -t raw hello.ulaw && ./mkpcap hello.ulaw hello.pcap
sox audio.wav -r 8000 -c 1 -e u-law -t raw hold.ulaw
ln -s /usr/share/sip-tester/dtmf_2833_1.pcap . 2>/dev/null || die "SIPp's dtmf_2833_1.pcap not found in /usr/share/sip-tester"
cat >voxgate.yaml <<EOF
sip:
  listen: [udp:$IP:$SIP_PORT]
  public_ip: $IP
  limits: {max_calls: 0, calls_per_second: 0, source_max_calls: 0, source_calls_per_second: 0}  # the bench finds the ceiling itself
media:
  rtp_ports: $RTP_LO-$RTP_HI
  rtp_timeout: 60s
http:
  listen: $IP:$HTTP_PORT
account:
  sid: AC0123456789abcdef0123456789abcdef
  auth_token: 0123456789abcdef0123456789abcdef
storage:
  dir: $W/var
log:
  level: warn
webhook_timeout: 10s
outbound_http:
  allow: [$IP/32]             # the bench's web app
$( [[ $PROFILE == 1 ]] && printf 'debug:\n  pprof_listen: %s:%s\n' "$IP" "$PPROF_PORT" )
numbers:
  - {number: "1001", voice_url: "http://$IP:$APP_PORT/say-hangup"}
  - {number: "1002", voice_url: "http://$IP:$APP_PORT/hold"}
  - {number: "1003", voice_url: "http://$IP:$APP_PORT/ivr"}
  - {number: "1004", voice_url: "http://$IP:$APP_PORT/record"}
  - {number: "1005", voice_url: "http://$IP:$APP_PORT/enqueue"}
  - {number: "1006", voice_url: "http://$IP:$APP_PORT/dial?to=sip:bridge@$IP:$REF_PORT"}
EOF
start webapp "${ON_LOAD[@]}" ./webapp -listen "$IP:$APP_PORT" -audio audio.wav
APP=$LAST
GW_PROCS=${GW_GOMAXPROCS:-}
[[ -n $GW_CPUS && -z $GW_PROCS ]] && GW_PROCS=$(taskset -c "$GW_CPUS" nproc)
start voxgate env ${GW_PROCS:+GOMAXPROCS=$GW_PROCS} nice -n "$NICE" taskset -c "${GW_CPUS:-0-$(($(nproc --all) - 1))}" ./voxgate serve --config voxgate.yaml
GW=$LAST
for _ in $(seq 100); do [[ -n $(healthz) ]] && break; sleep 0.1; done
[[ -n $(healthz) ]] || die "voxgate did not start: $(tail -5 voxgate.log)"
log "voxgate running (pid $GW), app (pid $APP)"

# sipp_run NAME ARGS... runs one SIPp client against the gateway (or
# another target given in ARGS) in the foreground, bounded by its -timeout
# and by timeout(1); its statistics go to NAME.csv every 200 ms.
sipp_run() {
	local name=$1; shift
	local rc=0
	"${ON_LOAD[@]}" timeout 600 sipp "$@" -i $IP -mi $IP -p $UAC_PORT -nostdin -trace_err -error_file "$name.err" \
		-trace_stat -stf "$name.csv" -fd 200ms >"$name.out" 2>&1 || rc=$?
	echo $rc
}
# sippstat NAME COLUMN prints a counter from the last line of NAME.csv
# (12 OutgoingCall(C), 16 SuccessfulCall(C), 18 FailedCall(C), 58 Retransmissions(C)).
sippstat() { tail -1 "$1.csv" | awk -F';' -v c="$2" '{print $c + 0}'; }
# created_rate NAME CALLS prints the rate at which SIPp created the calls:
# CALLS over the time until the statistics show them all created.
created_rate() {
	awk -F';' -v m="$2" 'NR > 1 && $12 + 0 >= m {
		split($1, s, "\t"); split($3, c, "\t"); d = c[3] - s[3]
		printf "%.0f", (d > 0 ? m / d : 0); found = 1; exit }
		END { if (!found) print 0 }' "$1.csv"
}

# profile NAME DELAY takes a 5 s CPU profile of the gateway after DELAY
# seconds, in the background, into NAME.pprof.
profile() {
	start "profile-$1" sh -c "sleep $2; curl -sf --max-time 20 -o $1.pprof http://$IP:$PPROF_PORT/debug/pprof/profile?seconds=5 &&
		curl -sf --max-time 20 -o $1.allocs http://$IP:$PPROF_PORT/debug/pprof/allocs"
}

# --- 1. scenarios ------------------------------------------------------------
SCEN_RESULTS=()
step scenarios && for spec in "say-hangup uac_say_hangup.xml 1001 0" "ivr-dtmf uac_ivr_dtmf.xml 1003 0" \
	"record uac_record.xml 1004 0" "enqueue uac_enqueue.xml 1005 3000" "hold uac_hold.xml 1002 3000"; do
	read -r name file number hold <<<"$spec"
	log "scenario $name: $SCENARIO_CALLS calls"
	rc=$(sipp_run "scen-$name" "$IP:$SIP_PORT" -sf "$SCEN/$file" -s "$number" -d "$hold" \
		-m "$SCENARIO_CALLS" -r 5 -timeout 120s)
	SCEN_RESULTS+=("$name $(sippstat "scen-$name" 16)/$SCENARIO_CALLS ok, $(sippstat "scen-$name" 18) failed (sipp exit $rc)")
done

# --- 2. concurrency ----------------------------------------------------------
# rs FILE KEY prints a value of an rtpstat report; r KEY, of the gateway's.
rs() { awk -v k="$2" '$1 == k {print $2}' "$1" 2>/dev/null; }
r() { rs rtpstat.txt "$1"; }
RAMP=$(((CALLS + RAMP_RATE - 1) / RAMP_RATE))
HOLD_MS=$(((RAMP + HOLD_SECONDS + 3) * 1000))
HOLD_ROWS= GW_JITTER_P99= PLATEAU_BUSY= LOAD_PLATEAU=-
if step hold; then
	IDLE_RSS=$(rss_kb "$GW")
	IDLE_GOROUTINES=$(healthz | json_field goroutines)
	IDLE_HEAP=$(healthz | json_field heap_bytes)
	log "concurrency: $CALLS calls at $RAMP_RATE/s, each up $((HOLD_MS / 1000)) s"
	start dumpcap-sip "${ON_LOAD[@]}" dumpcap -i lo -P -q -f "udp and src port $SIP_PORT" -w sip.pcap
	CAP_SIP=$LAST
	start dumpcap-rtp "${ON_LOAD[@]}" dumpcap -i lo -P -q -s 96 -B 256 \
		-f "udp and src portrange $RTP_LO-$RTP_HI and (udp[0:2] & $MASK) = 0" -w rtp.pcap
	CAP_RTP=$LAST
	sleep 1
	start sipp-hold "${ON_LOAD[@]}" sipp "$IP:$SIP_PORT" -sf "$SCEN/uac_hold.xml" -s 1002 \
		-r "$RAMP_RATE" -m "$CALLS" -l "$CALLS" -d "$HOLD_MS" -i $IP -mi $IP -p $HOLD_PORT -nostdin \
		-trace_err -error_file hold.err -trace_stat -stf hold.csv -fd 1 -timeout $((HOLD_MS / 1000 + 60))s
	HOLD_SIPP=$LAST
	ACTIVE=0
	for _ in $(seq $(((RAMP + 30) * 5))); do
		ACTIVE=$(healthz | json_field active_calls)
		((ACTIVE >= CALLS)) && break
		kill -0 "$HOLD_SIPP" 2>/dev/null || break
		sleep 0.2
	done
	PLATEAU_FROM=$(date +%s.%N)
	sleep 1
	T0=$(cpu_ticks "$GW") U0=$(cpu_ticks "$HOLD_SIPP") Q0=$(rq_wait_ns "$GW") L0=$(late_buckets) S0=$(date +%s.%N)
	[[ $PROFILE == 1 ]] && profile plateau 0
	PLATEAU_BUSY=$(busy)
	sleep $((HOLD_SECONDS - 3))
	T1=$(cpu_ticks "$GW") U1=$(cpu_ticks "$HOLD_SIPP") Q1=$(rq_wait_ns "$GW") L1=$(late_buckets) S1=$(date +%s.%N)
	H=$(healthz)
	ACTIVE=$(json_field active_calls <<<"$H")
	PLATEAU_GOROUTINES=$(json_field goroutines <<<"$H")
	PLATEAU_HEAP=$(json_field heap_bytes <<<"$H")
	GW_DROPS=$(udp_drops $RTP_LO $RTP_HI)
	PLATEAU_RSS=$(rss_kb "$GW")
	LOAD_PLATEAU=$(cut -d' ' -f1-3 /proc/loadavg)
	stop "$CAP_RTP"
	stop "$CAP_SIP"
	log "plateau measured ($ACTIVE calls up); waiting for the calls to end"
	for _ in $(seq $(((HOLD_MS / 1000 + 30) * 5))); do kill -0 "$HOLD_SIPP" 2>/dev/null || break; sleep 0.2; done
	if kill -0 "$HOLD_SIPP" 2>/dev/null; then
		log "SIPp has not finished its calls: ending it"
		kill -USR1 "$HOLD_SIPP" 2>/dev/null || true # soft exit: writes its statistics
		sleep 5
		stop "$HOLD_SIPP"
	fi
	HOLD_OK=$(sippstat hold 16) HOLD_FAILED=$(sippstat hold 18)
	HOLD_UNFINISHED=$((CALLS - HOLD_OK - HOLD_FAILED))
	for _ in $(seq 150); do [[ $(healthz | json_field active_calls) == 0 ]] && break; sleep 0.2; done
	sleep 2
	AFTER_GOROUTINES=$(healthz | json_field goroutines)
	./rtpstat -sip-port $SIP_PORT -rtp-ports $RTP_LO-$RTP_HI -jitter-from "$PLATEAU_FROM" sip.pcap rtp.pcap >rtpstat.txt
	METRICS_LOST=$(curl -sf --max-time 2 "http://$IP:$HTTP_PORT/metrics" | awk '$1 == "voxgate_rtp_packets_lost_total" {print $2}' || true)

	pct() { awk -v t="$1" -v clk="$CLK" -v a="$S0" -v b="$S1" 'BEGIN {printf "%.0f", t / clk / (b - a) * 100}'; }
	GW_CPU_PCT=$(pct $((T1 - T0)))
	SIPP_CPU=$(pct $((U1 - U0)))
	per100() { awk -v v="$1" -v n="$ACTIVE" 'BEGIN {if (n > 0) printf "%.1f", v / (n / 100); else print "-"}'; }

	HOLD_ROWS=$(cat <<-EOF
	| concurrent calls held, audio both ways | $ACTIVE of $CALLS up at the plateau; $HOLD_OK ok, $HOLD_FAILED failed, $HOLD_UNFINISHED unfinished by SIPp |
	| RTP send-interval jitter p50 / p99 / p99.9 / max | $(r jitter_p50_us) / $(r jitter_p99_us) / $(r jitter_p999_us) / $(r jitter_max_us) µs ($(r jitter_samples) intervals, $(r streams) streams) |
	| RTP loss, gateway → callers (capture) | $(r seq_lost) missing sequence numbers, $(r skipped_frames) skipped frames |
	| RTP loss, callers → gateway | gateway sockets' kernel drops $GW_DROPS at the plateau; lost by the gateway's count (/metrics): ${METRICS_LOST:-n/a} |
	| send bursts' lateness at the plateau, the gateway's own view (/metrics) | $(late_quantiles "$L0" "$L1") |
	| gateway threads' run-queue wait at the plateau (runnable, no CPU free) | $(awk -v q=$((Q1 - Q0)) -v a="$S0" -v b="$S1" 'BEGIN {printf "%.0f", q / 1e6 / (b - a)}') ms per second |
	| CPU per 100 calls (at the plateau) | $(per100 "$GW_CPU_PCT")% of one CPU (gateway total $GW_CPU_PCT%; SIPp ${SIPP_CPU}%) |
	| RSS per 100 calls | $(per100 $(((PLATEAU_RSS - IDLE_RSS) / 1024))) MB (idle $((IDLE_RSS / 1024)) MB, plateau $((PLATEAU_RSS / 1024)) MB); Go heap $(per100 $(((PLATEAU_HEAP - IDLE_HEAP) / 1048576))) MB per 100 calls |
	| goroutines idle / plateau / after | $IDLE_GOROUTINES / $PLATEAU_GOROUTINES / $AFTER_GOROUTINES |
	| first RTP after 200 OK p50 / p99 / max | $(r first_rtp_p50_ms) / $(r first_rtp_p99_ms) / $(r first_rtp_max_ms) ms ($(r answers) answers) |
	| first audio after 200 OK p50 / p99 / max | $(r first_audio_p50_ms) / $(r first_audio_p99_ms) / $(r first_audio_max_ms) ms |
	EOF
	)
	GW_JITTER_P99=$(r jitter_p99_us)
fi

# --- 2b. the jitter reference: SIPp's UAS streaming the hold audio -----------
# Called the same way (uac_hold.xml, CALLS calls), captured the same way. SIPp
# sends every call's stream from one port (REF_MEDIA_PORT) to one port, each
# with its own SSRC (numbered from 0xca110000), so every CAPTURE_EVERY-th call
# is picked by its SSRC. (Its pcap play cannot serve here: it sends every
# call the same SSRC and sequence numbers, so a capture cannot tell the
# calls apart; it is the call-rate reference.)
REF_ROWS= REF_JITTER_P99=
if step refhold; then
	log "jitter reference: $CALLS calls held against SIPp's UAS streaming (rtp_stream)"
	start sipp-refuas "${ON_LOAD[@]}" sipp -sf "$SCEN/uas_stream_hold.xml" -i $IP -mi $IP -p $REF_PORT -mp $REF_MEDIA_PORT \
		-nostdin -timeout $((HOLD_MS / 1000 + 120))s
	REF_UAS=$LAST
	sleep 0.5
	kill -0 "$REF_UAS" 2>/dev/null || die "SIPp's UAS did not start: $(tail -3 sipp-refuas.log)"
	start dumpcap-refsip "${ON_LOAD[@]}" dumpcap -i lo -P -q -f "udp and src port $REF_PORT" -w refsip.pcap
	CAP_SIP=$LAST
	start dumpcap-refrtp "${ON_LOAD[@]}" dumpcap -i lo -P -q -s 96 -B 256 \
		-f "udp and src port $REF_MEDIA_PORT and (udp[16:4] & $MASK) = 0" -w refrtp.pcap
	CAP_RTP=$LAST
	sleep 1
	start sipp-refhold "${ON_LOAD[@]}" sipp "$IP:$REF_PORT" -sf "$SCEN/uac_hold.xml" -s 1002 \
		-r "$RAMP_RATE" -m "$CALLS" -l "$CALLS" -d "$HOLD_MS" -i $IP -mi $IP -p $HOLD_PORT -nostdin \
		-trace_err -error_file refhold.err -trace_stat -stf refhold.csv -fd 1 -timeout $((HOLD_MS / 1000 + 60))s
	REF_UAC=$LAST
	sleep $((RAMP + 1))
	REF_FROM=$(date +%s.%N)
	sleep 1
	T0=$(cpu_ticks "$REF_UAS") S0=$(date +%s.%N)
	sleep $((HOLD_SECONDS - 3))
	T1=$(cpu_ticks "$REF_UAS") S1=$(date +%s.%N)
	REF_ACTIVE=$(tail -1 refhold.csv | awk -F';' '{print $13 + 0}') # CurrentCall
	stop "$CAP_RTP"
	stop "$CAP_SIP"
	for _ in $(seq $(((HOLD_MS / 1000 + 30) * 5))); do kill -0 "$REF_UAC" 2>/dev/null || break; sleep 0.2; done
	if kill -0 "$REF_UAC" 2>/dev/null; then
		kill -USR1 "$REF_UAC" 2>/dev/null || true
		sleep 5
		stop "$REF_UAC"
	fi
	stop "$REF_UAS"
	./rtpstat -sip-port $REF_PORT -rtp-ports $REF_MEDIA_PORT-$REF_MEDIA_PORT -jitter-from "$REF_FROM" refsip.pcap refrtp.pcap >refrtpstat.txt
	rr() { rs refrtpstat.txt "$1"; }
	REF_JITTER_P99=$(rr jitter_p99_us)
	REF_ROWS=$(cat <<EOF
| reference: SIPp UAS streaming (rtp_stream), calls held | $REF_ACTIVE up at the plateau; $(sippstat refhold 16) ok, $(sippstat refhold 18) failed |
| reference: send-interval jitter p50 / p99 / p99.9 / max | $(rr jitter_p50_us) / $(rr jitter_p99_us) / $(rr jitter_p999_us) / $(rr jitter_max_us) µs ($(rr jitter_samples) intervals, $(rr streams) streams); Voxgate/SIPp p99: $(ratio "$GW_JITTER_P99" "$REF_JITTER_P99") |
| reference: RTP loss (capture) | $(rr seq_lost) missing sequence numbers |
| reference: SIPp UAS CPU at the plateau | $(awk -v t=$((T1 - T0)) -v clk="$CLK" -v a="$S0" -v b="$S1" 'BEGIN {printf "%.0f", t / clk / (b - a) * 100}')% of one CPU |
EOF
)
fi

# --- 3. call rate ------------------------------------------------------------
# rate_steps LABEL HOSTPORT PID: runs RATES in order until one fails; sets
# BEST (highest passing rate, achieved), BEST_CPU (target CPU seconds per
# 100 calls at that step) and STEP_LINES (a line per step).
rate_steps() {
	local label=$1 target=$2 pid=$3 rate calls rc ok failed retrans achieved t0 t1
	BEST=0 BEST_CPU=- STEP_LINES=""
	for rate in $RATES; do
		calls=$((rate * STEP_SECONDS))
		t0=$(cpu_ticks "$pid")
		[[ $PROFILE == 1 && $label == voxgate && $rate == "$PROFILE_RATE" ]] && profile "rate-$rate" 2
		rc=$(sipp_run "rate-$label-$rate" "$target" -sf "$SCEN/uac_say_hangup.xml" -s 1001 \
			-r "$rate" -m "$calls" -l $((rate * 10)) -timeout $((STEP_SECONDS + 60))s)
		t1=$(cpu_ticks "$pid")
		ok=$(sippstat "rate-$label-$rate" 16) failed=$(sippstat "rate-$label-$rate" 18) retrans=$(sippstat "rate-$label-$rate" 58)
		achieved=$(created_rate "rate-$label-$rate" "$calls")
		STEP_LINES+="    $label $rate/s: $ok/$calls ok, $failed failed, $retrans retransmissions, created at $achieved/s (sipp exit $rc)"$'\n'
		log "call rate $label $rate/s: $ok/$calls ok, $failed failed, created at $achieved/s"
		if [[ $rc != 0 || $failed != 0 || $ok != "$calls" ]] || ((achieved * 100 < rate * 95)); then
			break
		fi
		BEST=$achieved
		BEST_CPU=$(awk -v t=$((t1 - t0)) -v clk="$CLK" -v n="$calls" 'BEGIN {printf "%.2f", t / clk / n * 100}')
		sleep 2 # let the last calls' transactions end
	done
}
RATE_ROWS= UAS_STEPS= PCAP_STEPS= GW_STEPS=
if step rate; then
	log "call rate: SIPp UAS (answers, stays up ${SAY_MS} ms, hangs up)"
	start sipp-uas "${ON_LOAD[@]}" sipp -sf "$SCEN/uas_answer_hangup.xml" -i $IP -mi $IP -p $UAS_PORT -d "$SAY_MS" -nostdin -timeout 1800s
	UAS=$LAST
	sleep 0.5
	rate_steps sipp-uas "$IP:$UAS_PORT" "$UAS"
	UAS_BEST=$BEST UAS_STEPS=$STEP_LINES
	stop "$UAS"
	log "call rate: SIPp UAS streaming the prompt by pcap play (the reference)"
	start sipp-pcapuas "${ON_LOAD[@]}" sipp -sf "$SCEN/uas_play_hangup.xml" -i $IP -mi $IP -p $UAS_PORT -mp $REF_MEDIA_PORT \
		-d "$SAY_MS" -nostdin -timeout 1800s
	UAS=$LAST
	sleep 0.5
	kill -0 "$UAS" 2>/dev/null || die "SIPp's pcap-play UAS did not start: $(tail -3 sipp-pcapuas.log)"
	rate_steps sipp-pcap "$IP:$UAS_PORT" "$UAS"
	PCAP_BEST=$BEST PCAP_CPU=$BEST_CPU PCAP_STEPS=$STEP_LINES
	stop "$UAS"
	log "call rate: Voxgate (answer, <Say>, <Hangup>)"
	rate_steps voxgate "$IP:$SIP_PORT" "$GW"
	GW_BEST=$BEST GW_CPU_PER_100_SETUPS=$BEST_CPU GW_STEPS=$STEP_LINES
	for _ in $(seq 150); do [[ $(healthz | json_field active_calls) == 0 ]] && break; sleep 0.2; done
	RATE_ROWS=$(cat <<EOF
| call rate with 0 failures, SIPp UAS without audio (ceiling) | $UAS_BEST calls/s |
| call rate with 0 failures, SIPp UAS streaming the prompt by pcap play (reference) | $PCAP_BEST calls/s |
| call rate with 0 failures, Voxgate (answer, Say, hang up) | $GW_BEST calls/s; Voxgate/reference $(ratio "$GW_BEST" "$PCAP_BEST"), $(awk -v a="$GW_BEST" -v b="$UAS_BEST" 'BEGIN {if (b > 0) printf "%.0f", a / b * 100; else print "-"}')% of the ceiling |
| CPU per 100 calls set up and torn down, Voxgate / reference | $GW_CPU_PER_100_SETUPS / $PCAP_CPU CPU-seconds; Voxgate/reference $(ratio "$GW_CPU_PER_100_SETUPS" "$PCAP_CPU") |
EOF
)
fi

# --- 5. bridged calls: Voxgate's <Dial> against rtpengine --------------------
# Voxgate bridges BRIDGE_CALLS calls (SIPp caller -> <Dial> -> SIPp's UAS, both
# streaming); then rtpengine relays as many calls for bench/ngrelay. Each
# relay's CPU over the plateau is divided by the packets it relayed: 50 a
# second each way per call (loss is reported beside it).
BRIDGE_ROWS=
if step bridge; then
	BRAMP=$(((BRIDGE_CALLS + RAMP_RATE - 1) / RAMP_RATE))
	BHOLD_MS=$(((BRAMP + HOLD_SECONDS + 10) * 1000)) # outlasts the wait below and the window
	log "bridge: $BRIDGE_CALLS calls bridged by Voxgate's <Dial>"
	start sipp-bridgeuas "${ON_LOAD[@]}" sipp -sf "$SCEN/uas_stream_hold.xml" -i $IP -mi $IP -p $REF_PORT -mp $REF_MEDIA_PORT \
		-nostdin -timeout $((BHOLD_MS / 1000 + 120))s
	BUAS=$LAST
	sleep 0.5
	kill -0 "$BUAS" 2>/dev/null || die "SIPp's UAS did not start: $(tail -3 sipp-bridgeuas.log)"
	LOST0=$(curl -sf --max-time 2 "http://$IP:$HTTP_PORT/metrics" | awk '$1 == "voxgate_rtp_packets_lost_total" {print $2}' || true)
	start sipp-bridge "${ON_LOAD[@]}" sipp "$IP:$SIP_PORT" -sf "$SCEN/uac_hold.xml" -s 1006 \
		-r "$RAMP_RATE" -m "$BRIDGE_CALLS" -l "$BRIDGE_CALLS" -d "$BHOLD_MS" -i $IP -mi $IP -p $HOLD_PORT -nostdin \
		-trace_err -error_file bridge.err -trace_stat -stf bridge.csv -fd 1 -timeout $((BHOLD_MS / 1000 + 60))s
	BUAC=$LAST
	# Until every call is up (two legs each), or the ramp is over: a call that
	# failed never comes, and the plateau must be measured while the others last.
	for _ in $(seq $(((BRAMP + 5) * 5))); do
		(($(healthz | json_field active_calls) >= 2 * BRIDGE_CALLS)) && break
		kill -0 "$BUAC" 2>/dev/null || break
		sleep 0.2
	done
	sleep 2
	A0=$(healthz | json_field active_calls) A0=${A0:-0}
	T0=$(cpu_ticks "$GW") S0=$(date +%s.%N)
	[[ $PROFILE == 1 ]] && profile bridge 0
	sleep $((HOLD_SECONDS - 3))
	T1=$(cpu_ticks "$GW") S1=$(date +%s.%N)
	BRIDGE_ACTIVE=$(healthz | json_field active_calls) BRIDGE_ACTIVE=${BRIDGE_ACTIVE:-0}
	# Packets relayed: 100 a second per bridged call (50 each way) that was up
	# through the window (the fewer legs of its start and end, two per call).
	BRIDGED=$(((A0 < BRIDGE_ACTIVE ? A0 : BRIDGE_ACTIVE) / 2))
	GW_BRIDGE_CPU_PCT=$(awk -v t=$((T1 - T0)) -v clk="$CLK" -v a="$S0" -v b="$S1" 'BEGIN {printf "%.1f", t / clk / (b - a) * 100}')
	GW_US_PER_PKT=$(awk -v t=$((T1 - T0)) -v clk="$CLK" -v a="$S0" -v b="$S1" -v n="$BRIDGED" \
		'BEGIN {if (n > 0) printf "%.2f", t / clk * 1e6 / (n * 100 * (b - a)); else print "-"}')
	for _ in $(seq $(((BHOLD_MS / 1000 + 30) * 5))); do kill -0 "$BUAC" 2>/dev/null || break; sleep 0.2; done
	stop "$BUAC"
	stop "$BUAS"
	for _ in $(seq 150); do [[ $(healthz | json_field active_calls) == 0 ]] && break; sleep 0.2; done
	LOST1=$(curl -sf --max-time 2 "http://$IP:$HTTP_PORT/metrics" | awk '$1 == "voxgate_rtp_packets_lost_total" {print $2}' || true)

	log "bridge: $BRIDGE_CALLS calls relayed by rtpengine (userspace)"
	start rtpengine taskset -c "${GW_CPUS:-0-$(($(nproc --all) - 1))}" \
		rtpengine --foreground --log-stderr --log-level=4 --table=-1 --interface=$IP --listen-ng=$IP:$NG_PORT \
		--port-min=$RTPENGINE_LO --port-max=$RTPENGINE_HI
	RTPE=$LAST
	sleep 1
	kill -0 "$RTPE" 2>/dev/null || die "rtpengine did not start: $(tail -5 rtpengine.log)"
	"${ON_LOAD[@]}" ./ngrelay -ng $IP:$NG_PORT -pid "$RTPE" -calls "$BRIDGE_CALLS" -rate "$RAMP_RATE" \
		-settle 2s -measure $((HOLD_SECONDS - 3))s >ngrelay.txt || die "ngrelay failed: $(cat ngrelay.txt)"
	stop "$RTPE"
	ng() { rs ngrelay.txt "$1"; }
	BRIDGE_ROWS=$(cat <<EOF
| bridged calls, Voxgate <Dial> | $A0 / $BRIDGE_ACTIVE legs up at the plateau's start / end ($BRIDGE_CALLS calls); $(sippstat bridge 16) ok, $(sippstat bridge 18) failed; lost by /metrics: $(awk -v a="${LOST0:-0}" -v b="${LOST1:-0}" 'BEGIN {print b - a}') |
| CPU per relayed packet, Voxgate <Dial> | $GW_US_PER_PKT µs (gateway $GW_BRIDGE_CPU_PCT% of one CPU; $BRIDGED calls up throughout × 100 packets/s) |
| CPU per relayed packet, rtpengine userspace (reference) | $(ng relay_cpu_us_per_packet) µs (rtpengine $(ng relay_cpu_pct)% of one CPU; $(ng packets_relayed) packets in $(ng window_seconds) s; run: $(ng run_packets_sent) sent, $(ng run_packets_received) received) |
| Voxgate/rtpengine, CPU per relayed packet | $(ratio "$GW_US_PER_PKT" "$(ng relay_cpu_us_per_packet)") |
EOF
)
fi


# --- report ------------------------------------------------------------------
cat <<EOF

Voxgate load test, $(date -u '+%Y-%m-%d %H:%M UTC'), $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)
machine: $CPUS CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo); load average before $LOAD_BEFORE, at the plateau $LOAD_PLATEAU
busy processes at the start: ${OTHERS:-none}
busy processes at the plateau: ${PLATEAU_BUSY:-none}
gateway niceness $NICE; $(if [[ -n $GW_CPUS ]]; then echo "gateway pinned to CPUs $GW_CPUS (GOMAXPROCS $GW_PROCS), SIPp, dumpcap and the app to ${LOAD_CPUS:-any}"; else echo "SIPp, dumpcap and the gateway share the machine${GW_PROCS:+ (gateway GOMAXPROCS $GW_PROCS)}"; fi)

scenarios ($SCENARIO_CALLS calls each)
$(printf '    %s\n' "${SCEN_RESULTS[@]}")

call rate, uac_say_hangup.xml, $STEP_SECONDS s per step (rates: $RATES)
$UAS_STEPS$PCAP_STEPS$GW_STEPS
| measure | result |
|---|---|
$(printf '%s\n' "$RATE_ROWS" "$HOLD_ROWS" "$REF_ROWS" "$BRIDGE_ROWS" | sed '/^$/d')
EOF
if [[ $PROFILE == 1 ]]; then
	sleep 6 # the last profile
	P=$(mktemp -d /tmp/voxgate-profile.XXXXXX)
	cp voxgate ./*.pprof ./*.allocs "$P"/ 2>/dev/null || true
	for f in "$P"/*.pprof; do
		[[ -s $f ]] || continue
		printf '\nCPU profile %s (go tool pprof -top %s/voxgate %s):\n' "$(basename "$f" .pprof)" "$P" "$f"
		go tool pprof -top -nodecount=20 "$P/voxgate" "$f" 2>/dev/null | sed -n '4,30p'
	done
	for f in "$P"/*.allocs; do # allocations since the gateway started, by where they are made
		[[ -s $f ]] || continue
		printf '\nallocations up to the end of profile %s (go tool pprof -sample_index=alloc_space -top %s/voxgate %s):\n' \
			"$(basename "$f" .allocs)" "$P" "$f"
		go tool pprof -sample_index=alloc_space -top -nodecount=25 "$P/voxgate" "$f" 2>/dev/null | sed -n '4,35p'
	done
fi
