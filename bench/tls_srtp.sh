#!/bin/sh
# SIP over TLS call setup rate, SRTP's cost per packet and G.722's
# against PCMU (issue #17).
# Go benchmarks; each runs a few seconds at most. Usage: bench/tls_srtp.sh
set -eu
cd "$(dirname "$0")/.."
uptime
echo "Call setup rate per transport from a hand-written UAC: udp, tcp, tls on one connection (reused),"
echo "tls with a new verified connection and full handshake per call (per-call); the handshake alone;"
echo "BenchmarkTLSCallSetup: gateway to gateway through a tls trunk with SRTP, one connection:"
bin=$(mktemp -d)/sip.test
go test -c -o "$bin" ./sip
# sipgo's own WARN lines (TCP ref counts of closed connections) go to stderr.
(cd sip && "$bin" -test.run '^$' -test.bench 'BenchmarkCallSetup|BenchmarkTLSHandshake|BenchmarkTLSCallSetup' \
	-test.benchtime "${CALLS:-500}x" -test.count "${COUNT:-3}" 2>/dev/null) | grep Benchmark
rm -rf "$(dirname "$bin")"
echo "SRTP per packet against plain RTP (172-byte PCMU packets):"
go test -run '^$' -bench 'SRTPCost|RTPSendTick(SRTP)?$' -benchtime 20000x -benchmem ./media | grep Benchmark
echo "G.722 against PCMU per 20 ms packet (encode: 8 -> 16 kHz and SB-ADPCM; decode: SB-ADPCM and 16 -> 8 kHz):"
go test -run '^$' -bench 'CodecPerPacket|RTPSendTickG722|RTPReceivePacketG722' -benchtime 20000x -benchmem ./media | grep Benchmark
echo "G.722 alone per 20 ms packet at 8 kHz (a tone; the test signal: chirp, square burst, noise):"
go test -run '^$' -bench 'Narrow' -benchtime 20000x -benchmem ./media/g722 | grep Benchmark
