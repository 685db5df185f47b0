package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/voxgate/voxgate/media"
)

// ErrNoCommonCodec means the offer has no audio stream Voxgate can speak
// (PCMU, PCMA or G.722 over RTP/AVP, or those allowed by the codec
// preference). The INVITE gets 488 Not Acceptable Here.
var ErrNoCommonCodec = errors.New("sdp: no common codec (want PCMU, PCMA or G722 over RTP/AVP)")

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
	Remote netip.AddrPort // RTP destination (address may be unspecified when on hold)
	// Codec is the codec chosen: without a preference (see Choose), the
	// first G.711 codec in the offerer's order, else G.722.
	Codec media.Codec
	// Codecs are all the offered codecs Voxgate speaks, in the offerer's
	// order.
	Codecs           []media.Codec
	EventPayloadType uint8 // telephone-event/8000 payload type; 0 when not offered
	PTime            int   // offered a=ptime in ms, 0 when absent
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
		codecs, eventPT := pickFormats(md)
		if len(codecs) == 0 {
			continue
		}
		o := Offer{
			Remote:           netip.AddrPortFrom(addr, uint16(md.MediaName.Port.Value)),
			Codec:            defaultCodec(codecs),
			Codecs:           codecs,
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

// pickFormats lists the offered audio codecs we speak, in the offerer's
// order of preference, and finds telephone-event/8000.
func pickFormats(md *sdp.MediaDescription) ([]media.Codec, uint8) {
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
	var codecs []media.Codec
	for _, f := range md.MediaName.Formats {
		enc, mapped := rtpmap[f]
		var c media.Codec
		switch {
		case mapped && strings.HasPrefix(enc, "pcmu/8000"), !mapped && f == "0":
			c = media.PCMU
		case mapped && strings.HasPrefix(enc, "pcma/8000"), !mapped && f == "8":
			c = media.PCMA
		// G.722's RTP clock rate is 8000 although it samples at 16 kHz
		// (RFC 3551 §4.5.2); some peers write 16000 all the same. Only
		// on its static payload type 9: the leg sends and decodes G.722
		// as 9, so an answer on a dynamic type would not match.
		case f == "9" && (!mapped || strings.HasPrefix(enc, "g722/8000") || strings.HasPrefix(enc, "g722/16000")):
			c = media.G722
		default:
			continue
		}
		// A codec mapped twice (two payload types) is kept once, as the
		// fixed payload type we send is the static one.
		if !slices.ContainsFunc(codecs, func(x media.Codec) bool { return x.Name == c.Name }) {
			codecs = append(codecs, c)
		}
	}
	return codecs, eventPT
}

// defaultCodec is the codec chosen without a configured preference: the
// first G.711 codec the offerer lists (the engine runs at 8 kHz, so G.722
// brings no audio quality, only its coding cost), else the first.
func defaultCodec(codecs []media.Codec) media.Codec {
	for _, c := range codecs {
		if !c.Stateful() {
			return c
		}
	}
	return codecs[0]
}

// Choose picks the offer's codec by a configured order of preference:
// the first of prefs the offer has. No preference (nil) keeps the
// default choice. It returns ErrNoCommonCodec when the offer has none of
// prefs.
func (o *Offer) Choose(prefs []media.Codec) error {
	if len(prefs) == 0 {
		return nil
	}
	for _, p := range prefs {
		for _, c := range o.Codecs {
			if c.Name == p.Name {
				o.Codec = c
				return nil
			}
		}
	}
	return fmt.Errorf("%w: the configured codecs are %s", ErrNoCommonCodec, codecNames(prefs))
}

// codecNames joins the codecs' names with commas.
func codecNames(cs []media.Codec) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// ParseCodecs reads a codec preference list ("PCMU", "PCMA", "G722",
// case-insensitive); an empty list is no preference (nil).
func ParseCodecs(names []string) ([]media.Codec, error) {
	var out []media.Codec
	for _, n := range names {
		c, err := media.CodecByName(n)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(x media.Codec) bool { return x.Name == c.Name }) {
			out = append(out, c)
		}
	}
	return out, nil
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
	fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", a.Codec.PayloadType, a.Codec.Name) // G722/8000 too (RFC 3551)
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
// Local offering Codecs (default PCMU, PCMA) and telephone-event/8000,
// ptime 20, sendrecv.
type LocalOffer struct {
	SessionID uint64
	Version   uint64
	Local     netip.AddrPort
	// Codecs are the codecs offered, in our order of preference; nil
	// offers PCMU and PCMA.
	Codecs []media.Codec
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
	codecs := o.Codecs
	if len(codecs) == 0 {
		codecs = []media.Codec{media.PCMU, media.PCMA}
	}
	fmt.Fprintf(&b, "m=audio %d %s", o.Local.Port(), proto)
	for _, c := range codecs {
		fmt.Fprintf(&b, " %d", c.PayloadType)
	}
	fmt.Fprintf(&b, " %d\r\n", ev)
	if o.Crypto != nil {
		fmt.Fprintf(&b, "a=crypto:%s\r\n", o.Crypto)
	}
	for _, c := range codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.PayloadType, c.Name)
	}
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", ev, ev)
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}
