// Command mkpcap writes an RTP stream as a classic pcap file, for SIPp's
// play_pcap_audio: 20 ms PCMU packets (payload type 0) of a raw 8 kHz
// mu-law file, looped until the stream lasts -seconds (0: the file once).
// SIPp replays the packets with the capture's timing, rewriting addresses
// and ports; bench/run.sh uses it to have SIPp's UAS stream the same
// audio Voxgate plays, as the reference for the call rate.
//
//	sox hello.wav -r 8000 -c 1 -e u-law -t raw hello.ulaw
//	go run ./bench/mkpcap -seconds 0 hello.ulaw hello.pcap
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
)

const (
	frameBytes = 160 // 20 ms of 8 kHz mu-law
	frameUsec  = 20000
)

func main() {
	seconds := flag.Float64("seconds", 0, "loop the audio until the stream lasts this long (0: once)")
	ssrc := flag.Uint("ssrc", 0x5eed0001, "the stream's SSRC")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkpcap [-seconds N] in.ulaw out.pcap")
		os.Exit(2)
	}
	audio, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	if len(audio) < frameBytes {
		fail(fmt.Errorf("%s: less than one 20 ms frame of audio", flag.Arg(0)))
	}
	frames := len(audio) / frameBytes
	if *seconds > 0 {
		frames = int(*seconds * 50)
	}
	out, err := os.Create(flag.Arg(1))
	if err != nil {
		fail(err)
	}
	if err := write(out, audio, frames, uint32(*ssrc)); err != nil {
		fail(err)
	}
	if err := out.Close(); err != nil {
		fail(err)
	}
}

// write writes the pcap: a global header, then one Ethernet/IPv4/UDP/RTP
// packet per frame, 20 ms apart.
func write(f *os.File, audio []byte, frames int, ssrc uint32) error {
	le := binary.LittleEndian
	be := binary.BigEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond timestamps
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	if _, err := f.Write(hdr); err != nil {
		return err
	}
	const udpLen = 8 + 12 + frameBytes
	const ipLen = 20 + udpLen
	const capLen = 14 + ipLen
	pkt := make([]byte, 16+capLen)
	for i := range frames {
		usec := int64(i) * frameUsec
		le.PutUint32(pkt[0:], uint32(usec/1e6))
		le.PutUint32(pkt[4:], uint32(usec%1e6))
		le.PutUint32(pkt[8:], capLen)
		le.PutUint32(pkt[12:], capLen)
		eth := pkt[16:]
		clear(eth[:12])
		be.PutUint16(eth[12:], 0x0800)
		ip := eth[14:]
		ip[0], ip[1] = 0x45, 0
		be.PutUint16(ip[2:], ipLen)
		be.PutUint16(ip[4:], uint16(i))
		be.PutUint16(ip[6:], 0)
		ip[8], ip[9] = 64, 17
		be.PutUint16(ip[10:], 0)
		copy(ip[12:], []byte{127, 0, 0, 1, 127, 0, 0, 1})
		be.PutUint16(ip[10:], ipChecksum(ip[:20]))
		udp := ip[20:]
		be.PutUint16(udp[0:], 6000)
		be.PutUint16(udp[2:], 6002)
		be.PutUint16(udp[4:], udpLen)
		be.PutUint16(udp[6:], 0) // no checksum (SIPp recomputes what it needs)
		rtp := udp[8:]
		rtp[0], rtp[1] = 0x80, 0
		if i == 0 {
			rtp[1] |= 0x80 // marker: a talkspurt starts
		}
		be.PutUint16(rtp[2:], uint16(i))
		be.PutUint32(rtp[4:], uint32(i*frameBytes))
		be.PutUint32(rtp[8:], ssrc)
		off := (i % (len(audio) / frameBytes)) * frameBytes
		copy(rtp[12:], audio[off:off+frameBytes])
		if _, err := f.Write(pkt); err != nil {
			return err
		}
	}
	return nil
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkpcap:", err)
	os.Exit(1)
}
