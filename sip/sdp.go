package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/voxgate/voxgate/media"
)

// ErrNoCommonCodec means the offer has no audio stream Voxgate can speak
// (PCMU or PCMA over RTP/AVP). The INVITE gets 488 Not Acceptable Here.
var ErrNoCommonCodec = errors.New("sdp: no common codec (want PCMU or PCMA over RTP/AVP)")

// Direction is an SDP media direction attribute.
type Direction string

// SDP media directions.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// answerDirection is what we answer to an offered direction (RFC 3264 §6.1).
func (d Direction) answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Offer is what Voxgate takes from a remote SDP offer: where to send audio,
// in which codec, and how DTMF is carried.
type Offer struct {
	Remote           netip.AddrPort // RTP destination (address may be unspecified when on hold)
	Codec            media.Codec    // the first of the offerer's codecs we support
	EventPayloadType uint8          // telephone-event/8000 payload type; 0 when not offered
	PTime            int            // offered a=ptime in ms, 0 when absent
	Direction        Direction
	// Crypto is the far end's SDES key when the stream is RTP/SAVP
	// (RFC 4568); nil for plain RTP.
	Crypto *SDESCrypto
}

// OnHold reports whether the offer puts us on hold: sendonly/inactive, or
// the old RFC 2543 style c=0.0.0.0.
func (o Offer) OnHold() bool {
	return o.Direction == SendOnly || o.Direction == Inactive ||
		(o.Remote.Addr().IsValid() && o.Remote.Addr().IsUnspecified())
}

// ParseOffer reads the first usable audio stream of an SDP offer.
func ParseOffer(body []byte) (Offer, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(string(body)); err != nil {
		return Offer{}, fmt.Errorf("sdp: parse offer: %w", err)
	}
	sessionAddr := connectionAddr(desc.ConnectionInformation)
	sessionDir := directionOf(desc.Attributes, SendRecv)
	sawAudio := false
	for _, md := range desc.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		sawAudio = true
		secure := isSecureRTP(md.MediaName.Protos)
		if md.MediaName.Port.Value == 0 || !secure && !isPlainRTP(md.MediaName.Protos) {
			continue
		}
		var crypto *SDESCrypto
		if secure {
			c, ok := pickCrypto(md)
			if !ok {
				continue // RTP/SAVP without a key we can use (DTLS, MKI, other suites)
			}
			crypto = &c
		}
		addr := connectionAddr(md.ConnectionInformation)
		if !addr.IsValid() {
			addr = sessionAddr
		}
		if !addr.IsValid() {
			return Offer{}, errors.New("sdp: audio stream has no connection address (c=)")
		}
		codec, eventPT, ok := pickFormats(md)
		if !ok {
			continue
		}
		o := Offer{
			Remote:           netip.AddrPortFrom(addr, uint16(md.MediaName.Port.Value)),
			Codec:            codec,
			EventPayloadType: eventPT,
			Direction:        directionOf(md.Attributes, sessionDir),
			Crypto:           crypto,
		}
		if v, ok := md.Attribute("ptime"); ok {
			o.PTime, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		return o, nil
	}
	if !sawAudio {
		return Offer{}, fmt.Errorf("%w: the offer has no audio stream", ErrNoCommonCodec)
	}
	return Offer{}, ErrNoCommonCodec
}

func isPlainRTP(protos []string) bool {
	return strings.EqualFold(strings.Join(protos, "/"), "RTP/AVP")
}

func isSecureRTP(protos []string) bool {
	return strings.EqualFold(strings.Join(protos, "/"), "RTP/SAVP")
}

func connectionAddr(ci *sdp.ConnectionInformation) netip.Addr {
	if ci == nil || ci.Address == nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

func directionOf(attrs []sdp.Attribute, fallback Direction) Direction {
	for _, a := range attrs {
		switch Direction(a.Key) {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return Direction(a.Key)
		}
	}
	return fallback
}

// pickFormats chooses the audio codec in the offerer's order of preference
// and finds telephone-event/8000.
func pickFormats(md *sdp.MediaDescription) (media.Codec, uint8, bool) {
	rtpmap := map[string]string{} // payload type -> encoding/clock
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if ok {
			rtpmap[pt] = strings.ToLower(strings.TrimSpace(enc))
		}
	}
	// telephone-event counts only when offered on the m= line: an rtpmap
	// for a format the offer does not list offers nothing.
	var eventPT uint8
	for _, f := range md.MediaName.Formats {
		if strings.HasPrefix(rtpmap[f], "telephone-event/8000") {
			if n, err := strconv.Atoi(f); err == nil && n >= 96 && n <= 127 {
				eventPT = uint8(n)
				break
			}
		}
	}
	for _, f := range md.MediaName.Formats {
		enc, mapped := rtpmap[f]
		switch {
		case mapped && strings.HasPrefix(enc, "pcmu/8000"), !mapped && f == "0":
			return media.PCMU, eventPT, true
		case mapped && strings.HasPrefix(enc, "pcma/8000"), !mapped && f == "8":
			return media.PCMA, eventPT, true
		}
	}
	return media.Codec{}, 0, false
}

// Answer builds the SDP Voxgate sends: one audio stream on local with the
// chosen codec, telephone-event when the offer had it, ptime 20.
type Answer struct {
	SessionID        uint64
	Version          uint64 // incremented on every new answer in the dialog
	Local            netip.AddrPort
	Codec            media.Codec
	EventPayloadType uint8
	Direction        Direction
	// Crypto, when set, makes the stream RTP/SAVP with our SDES key.
	Crypto *SDESCrypto
}

// Marshal renders the answer as SDP text.
func (a Answer) Marshal() []byte {
	ipVer := "IP4"
	if a.Local.Addr().Is6() {
		ipVer = "IP6"
	}
	addr := a.Local.Addr().String()
	formats := strconv.Itoa(int(a.Codec.PayloadType))
	if a.EventPayloadType != 0 {
		formats += " " + strconv.Itoa(int(a.EventPayloadType))
	}
	dir := a.Direction
	if dir == "" {
		dir = SendRecv
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=voxgate %d %d IN %s %s\r\ns=voxgate\r\n", a.SessionID, a.Version, ipVer, addr)
	fmt.Fprintf(&b, "c=IN %s %s\r\nt=0 0\r\n", ipVer, addr)
	proto := "RTP/AVP"
	if a.Crypto != nil {
		proto = "RTP/SAVP"
	}
	fmt.Fprintf(&b, "m=audio %d %s %s\r\n", a.Local.Port(), proto, formats)
	if a.Crypto != nil {
		fmt.Fprintf(&b, "a=crypto:%s\r\n", a.Crypto)
	}
	fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", a.Codec.PayloadType, a.Codec.Name)
	if a.EventPayloadType != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", a.EventPayloadType, a.EventPayloadType)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", dir)
	return []byte(b.String())
}

// OfferedEventPayloadType is the telephone-event payload type Voxgate
// offers on outbound calls.
const OfferedEventPayloadType = 101

// LocalOffer builds the SDP offer of an outbound call: one audio stream on
// Local offering PCMU, PCMA and telephone-event/8000, ptime 20, sendrecv.
type LocalOffer struct {
	SessionID uint64
	Version   uint64
	Local     netip.AddrPort
	// Crypto, when set, makes the offer RTP/SAVP with our SDES key.
	Crypto *SDESCrypto
}

// Marshal renders the offer as SDP text.
func (o LocalOffer) Marshal() []byte {
	ipVer := "IP4"
	if o.Local.Addr().Is6() {
		ipVer = "IP6"
	}
	addr := o.Local.Addr().String()
	ev := OfferedEventPayloadType
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=voxgate %d %d IN %s %s\r\ns=voxgate\r\n", o.SessionID, o.Version, ipVer, addr)
	fmt.Fprintf(&b, "c=IN %s %s\r\nt=0 0\r\n", ipVer, addr)
	proto := "RTP/AVP"
	if o.Crypto != nil {
		proto = "RTP/SAVP"
	}
	fmt.Fprintf(&b, "m=audio %d %s %d %d %d\r\n", o.Local.Port(), proto, media.PCMU.PayloadType, media.PCMA.PayloadType, ev)
	if o.Crypto != nil {
		fmt.Fprintf(&b, "a=crypto:%s\r\n", o.Crypto)
	}
	fmt.Fprintf(&b, "a=rtpmap:%d PCMU/8000\r\na=rtpmap:%d PCMA/8000\r\n", media.PCMU.PayloadType, media.PCMA.PayloadType)
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", ev, ev)
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}
