package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Link types rtpstat understands (the pcap LINKTYPE_ values).
const (
	linkEthernet  = 1   // lo and real NICs on Linux
	linkRaw       = 101 // raw IPv4/IPv6
	linkLinuxSLL  = 113 // "any" device
	linkLinuxSLL2 = 276
)

// pcapReader reads a classic pcap file (not pcapng: capture with
// `dumpcap -P`), microsecond or nanosecond timestamps, either byte order.
type pcapReader struct {
	r        *bufio.Reader
	order    binary.ByteOrder
	nanos    bool
	linkType uint32
	hdr      [16]byte
	buf      []byte
}

func newPcapReader(r io.Reader) (*pcapReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var gh [24]byte
	if _, err := io.ReadFull(br, gh[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	p := &pcapReader{r: br}
	switch {
	case binary.LittleEndian.Uint32(gh[:4]) == 0xa1b2c3d4:
		p.order = binary.LittleEndian
	case binary.BigEndian.Uint32(gh[:4]) == 0xa1b2c3d4:
		p.order = binary.BigEndian
	case binary.LittleEndian.Uint32(gh[:4]) == 0xa1b23c4d:
		p.order, p.nanos = binary.LittleEndian, true
	case binary.BigEndian.Uint32(gh[:4]) == 0xa1b23c4d:
		p.order, p.nanos = binary.BigEndian, true
	default:
		return nil, errors.New("not a pcap file (pcapng? capture with dumpcap -P)")
	}
	p.linkType = p.order.Uint32(gh[20:24]) & 0x0fffffff
	switch p.linkType {
	case linkEthernet, linkRaw, linkLinuxSLL, linkLinuxSLL2:
	default:
		return nil, fmt.Errorf("unsupported pcap link type %d", p.linkType)
	}
	return p, nil
}

// next returns the next record's capture time and captured bytes (valid
// until the following call), or io.EOF.
func (p *pcapReader) next() (time.Time, []byte, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return time.Time{}, nil, io.EOF // a capture cut short mid-record
		}
		return time.Time{}, nil, err
	}
	sec := int64(p.order.Uint32(p.hdr[0:4]))
	frac := int64(p.order.Uint32(p.hdr[4:8]))
	incl := p.order.Uint32(p.hdr[8:12])
	if incl > 1<<18 {
		return time.Time{}, nil, fmt.Errorf("pcap record of %d bytes: corrupt file", incl)
	}
	if cap(p.buf) < int(incl) {
		p.buf = make([]byte, incl)
	}
	data := p.buf[:incl]
	if _, err := io.ReadFull(p.r, data); err != nil {
		return time.Time{}, nil, io.EOF
	}
	if !p.nanos {
		frac *= 1000
	}
	return time.Unix(sec, frac), data, nil
}

// udpPacket is a UDP datagram found in a captured frame.
type udpPacket struct {
	srcPort, dstPort uint16
	payload          []byte // as captured (may be cut by the snap length)
}

// parseUDP finds the UDP datagram in a frame of the reader's link type.
func (p *pcapReader) parseUDP(frame []byte) (udpPacket, bool) {
	var ip []byte
	switch p.linkType {
	case linkEthernet:
		if len(frame) < 14 {
			return udpPacket{}, false
		}
		etherType := binary.BigEndian.Uint16(frame[12:14])
		ip = frame[14:]
		if etherType == 0x8100 && len(frame) >= 18 { // VLAN tag
			etherType = binary.BigEndian.Uint16(frame[16:18])
			ip = frame[18:]
		}
		if etherType != 0x0800 && etherType != 0x86dd {
			return udpPacket{}, false
		}
	case linkRaw:
		ip = frame
	case linkLinuxSLL:
		if len(frame) < 16 {
			return udpPacket{}, false
		}
		ip = frame[16:]
	case linkLinuxSLL2:
		if len(frame) < 20 {
			return udpPacket{}, false
		}
		ip = frame[20:]
	}
	if len(ip) < 1 {
		return udpPacket{}, false
	}
	var udp []byte
	switch ip[0] >> 4 {
	case 4:
		if len(ip) < 20 {
			return udpPacket{}, false
		}
		ihl := int(ip[0]&0x0f) * 4
		if ip[9] != 17 || len(ip) < ihl+8 || binary.BigEndian.Uint16(ip[6:8])&0x1fff != 0 {
			return udpPacket{}, false // not UDP, or a later fragment
		}
		udp = ip[ihl:]
	case 6:
		if len(ip) < 48 || ip[6] != 17 {
			return udpPacket{}, false // not UDP (extension headers are not followed)
		}
		udp = ip[40:]
	default:
		return udpPacket{}, false
	}
	return udpPacket{
		srcPort: binary.BigEndian.Uint16(udp[0:2]),
		dstPort: binary.BigEndian.Uint16(udp[2:4]),
		payload: udp[8:],
	}, true
}
