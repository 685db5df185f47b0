#!/bin/sh
# SIP over TLS call setup rate, SRTP's cost per packet and G.722's
# against PCMU (issue #17).
# Go benchmarks; each runs a few seconds at most. Usage: bench/tls_srtp.sh
set -eu
cd "$(dirname "$0")/.."
echo "TLS call setup (INVITE/200/ACK/BYE/200 over one verified TLS connection, SRTP keys, RTP ports):"
go test -run '^$' -bench BenchmarkTLSCallSetup -benchtime "${CALLS:-500}x" ./sip | grep Benchmark
echo "SRTP per packet against plain RTP (172-byte PCMU packets):"
go test -run '^$' -bench 'SRTPCost|RTPSendTick(SRTP)?$' -benchtime 20000x -benchmem ./media | grep Benchmark
echo "G.722 against PCMU per 20 ms packet (encode: 8 -> 16 kHz and SB-ADPCM; decode: SB-ADPCM and 16 -> 8 kHz):"
go test -run '^$' -bench 'CodecPerPacket|RTPSendTickG722|RTPReceivePacketG722' -benchtime 20000x -benchmem ./media | grep Benchmark
