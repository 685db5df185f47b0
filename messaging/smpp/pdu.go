// Package smpp is a small SMPP 3.4 client (ESME) on the standard library:
// the PDU codec ([Decode], [PDU.Encode]) and a [Client] that binds to an
// SMSC as a transceiver or as a transmitter and receiver pair, keeps the
// session alive with enquire_link, limits outstanding requests to a
// window, backs off when the SMSC throttles (ESME_RTHROTTLED,
// ESME_RMSGQFUL) and reconnects with back-off when the connection drops.
//
// The package knows nothing about messages, encodings or receipts: the
// messaging package builds submit_sm bodies and reads deliver_sm ones.
package smpp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Command ids (SMPP 3.4 §5.1.2.1).
const (
	GenericNack         uint32 = 0x80000000
	BindReceiver        uint32 = 0x00000001
	BindTransmitter     uint32 = 0x00000002
	SubmitSM            uint32 = 0x00000004
	DeliverSM           uint32 = 0x00000005
	Unbind              uint32 = 0x00000006
	BindTransceiver     uint32 = 0x00000009
	EnquireLink         uint32 = 0x00000015
	respBit             uint32 = 0x80000000
	BindReceiverResp           = BindReceiver | respBit
	BindTransmitterResp        = BindTransmitter | respBit
	SubmitSMResp               = SubmitSM | respBit
	DeliverSMResp              = DeliverSM | respBit
	UnbindResp                 = Unbind | respBit
	BindTransceiverResp        = BindTransceiver | respBit
	EnquireLinkResp            = EnquireLink | respBit
)

// Command statuses used by this package (SMPP 3.4 §5.1.3).
const (
	ESME_ROK              uint32 = 0x00
	ESME_RINVMSGLEN       uint32 = 0x01
	ESME_RINVCMDLEN       uint32 = 0x02
	ESME_RINVCMDID        uint32 = 0x03
	ESME_RINVBNDSTS       uint32 = 0x04
	ESME_RALYBND          uint32 = 0x05
	ESME_RSYSERR          uint32 = 0x08
	ESME_RINVSRCADR       uint32 = 0x0A
	ESME_RINVDSTADR       uint32 = 0x0B
	ESME_RBINDFAIL        uint32 = 0x0D
	ESME_RINVPASWD        uint32 = 0x0E
	ESME_RINVSYSID        uint32 = 0x0F
	ESME_RMSGQFUL         uint32 = 0x14
	ESME_RX_T_APPN        uint32 = 0x64 // temporary application error: the SMSC should retry
	ESME_RTHROTTLED       uint32 = 0x58
	ESME_RDELIVERYFAILURE uint32 = 0xFE
)

// Optional parameter (TLV) tags used by Voxgate.
const (
	TagReceiptedMessageID uint16 = 0x001E
	TagSarMsgRefNum       uint16 = 0x020C
	TagSarTotalSegments   uint16 = 0x020E
	TagSarSegmentSeqnum   uint16 = 0x020F
	TagScInterfaceVersion uint16 = 0x0210
	TagNetworkErrorCode   uint16 = 0x0423
	TagMessagePayload     uint16 = 0x0424
	TagMessageState       uint16 = 0x0427
)

// esm_class bits.
const (
	EsmUDHI        byte = 0x40 // short_message starts with a user data header
	EsmTypeMask    byte = 0x3C
	EsmTypeReceipt byte = 0x04 // SMSC delivery receipt
)

// MaxPDULength bounds a PDU this package reads (a submit_sm with a
// 64 KiB message_payload fits).
const MaxPDULength = 70 * 1024

// headerLen is the fixed header: length, id, status, sequence.
const headerLen = 16

// TLV is one optional parameter.
type TLV struct {
	Tag   uint16
	Value []byte
}

// Bind is the body of bind_transmitter/receiver/transceiver.
type Bind struct {
	SystemID, Password, SystemType string
	InterfaceVersion               byte
	AddrTON, AddrNPI               byte
	AddressRange                   string
}

// ShortMessage is the body of submit_sm and deliver_sm (same layout).
type ShortMessage struct {
	ServiceType          string
	SourceTON, SourceNPI byte
	Source               string
	DestTON, DestNPI     byte
	Dest                 string
	EsmClass             byte
	ProtocolID           byte
	PriorityFlag         byte
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   byte
	ReplaceIfPresent     byte
	DataCoding           byte
	SMDefaultMsgID       byte
	Message              []byte // short_message, at most 254 octets
	TLVs                 []TLV
}

// TLV returns the value of the first TLV with tag.
func (m *ShortMessage) TLV(tag uint16) ([]byte, bool) {
	for _, t := range m.TLVs {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// PDU is one SMPP protocol data unit. Exactly one of the body fields is
// meaningful, depending on CommandID: Bind for bind requests,
// ShortMessage for submit_sm/deliver_sm, MessageID for submit_sm_resp and
// bind responses (the SMSC's system_id), nothing for the rest.
type PDU struct {
	CommandID uint32
	Status    uint32
	Sequence  uint32
	Bind      *Bind
	SM        *ShortMessage
	MessageID string // submit_sm_resp message_id, bind_*_resp system_id
	TLVs      []TLV  // of responses (sc_interface_version)
}

// IsResponse reports whether the PDU answers a request.
func (p *PDU) IsResponse() bool { return p.CommandID&respBit != 0 }

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("smpp: malformed PDU")

// Encode appends the PDU's wire form to dst.
func (p *PDU) Encode(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 0) // length, patched below
	dst = binary.BigEndian.AppendUint32(dst, p.CommandID)
	dst = binary.BigEndian.AppendUint32(dst, p.Status)
	dst = binary.BigEndian.AppendUint32(dst, p.Sequence)
	var err error
	switch p.CommandID {
	case BindReceiver, BindTransmitter, BindTransceiver:
		if p.Bind == nil {
			return nil, errors.New("smpp: bind PDU without a body")
		}
		b := p.Bind
		dst, err = appendCString(dst, b.SystemID, 16, "system_id")
		if err == nil {
			dst, err = appendCString(dst, b.Password, 9, "password")
		}
		if err == nil {
			dst, err = appendCString(dst, b.SystemType, 13, "system_type")
		}
		if err != nil {
			return nil, err
		}
		dst = append(dst, b.InterfaceVersion, b.AddrTON, b.AddrNPI)
		if dst, err = appendCString(dst, b.AddressRange, 41, "address_range"); err != nil {
			return nil, err
		}
	case BindReceiverResp, BindTransmitterResp, BindTransceiverResp, SubmitSMResp, DeliverSMResp:
		if dst, err = appendCString(dst, p.MessageID, 65, "message_id"); err != nil {
			return nil, err
		}
		dst = appendTLVs(dst, p.TLVs)
	case SubmitSM, DeliverSM:
		if p.SM == nil {
			return nil, errors.New("smpp: submit_sm/deliver_sm without a body")
		}
		if dst, err = appendShortMessage(dst, p.SM); err != nil {
			return nil, err
		}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}

func appendShortMessage(dst []byte, m *ShortMessage) ([]byte, error) {
	if len(m.Message) > 254 {
		return nil, fmt.Errorf("smpp: short_message of %d octets (limit 254)", len(m.Message))
	}
	var err error
	field := func(s string, max int, name string) {
		if err == nil {
			dst, err = appendCString(dst, s, max, name)
		}
	}
	field(m.ServiceType, 6, "service_type")
	dst = append(dst, m.SourceTON, m.SourceNPI)
	field(m.Source, 21, "source_addr")
	dst = append(dst, m.DestTON, m.DestNPI)
	field(m.Dest, 21, "destination_addr")
	dst = append(dst, m.EsmClass, m.ProtocolID, m.PriorityFlag)
	field(m.ScheduleDeliveryTime, 17, "schedule_delivery_time")
	field(m.ValidityPeriod, 17, "validity_period")
	if err != nil {
		return nil, err
	}
	dst = append(dst, m.RegisteredDelivery, m.ReplaceIfPresent, m.DataCoding, m.SMDefaultMsgID, byte(len(m.Message)))
	dst = append(dst, m.Message...)
	return appendTLVs(dst, m.TLVs), nil
}

func appendCString(dst []byte, s string, max int, name string) ([]byte, error) {
	if len(s) >= max {
		return nil, fmt.Errorf("smpp: %s %q is longer than %d octets", name, s, max-1)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, fmt.Errorf("smpp: %s contains a NUL", name)
		}
	}
	return append(append(dst, s...), 0), nil
}

func appendTLVs(dst []byte, tlvs []TLV) []byte {
	for _, t := range tlvs {
		dst = binary.BigEndian.AppendUint16(dst, t.Tag)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(t.Value)))
		dst = append(dst, t.Value...)
	}
	return dst
}

// Decode parses one whole PDU (b holds exactly command_length octets).
// Unknown command ids decode with their header only; unknown TLVs are kept.
func Decode(b []byte) (*PDU, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d octets, shorter than a header", ErrMalformed, len(b))
	}
	if n := binary.BigEndian.Uint32(b); int(n) != len(b) {
		return nil, fmt.Errorf("%w: command_length %d for %d octets", ErrMalformed, n, len(b))
	}
	p := &PDU{
		CommandID: binary.BigEndian.Uint32(b[4:]),
		Status:    binary.BigEndian.Uint32(b[8:]),
		Sequence:  binary.BigEndian.Uint32(b[12:]),
	}
	r := reader{b: b[headerLen:]}
	switch p.CommandID {
	case BindReceiver, BindTransmitter, BindTransceiver:
		bd := &Bind{}
		bd.SystemID = r.cstring(16)
		bd.Password = r.cstring(9)
		bd.SystemType = r.cstring(13)
		bd.InterfaceVersion = r.byte()
		bd.AddrTON = r.byte()
		bd.AddrNPI = r.byte()
		bd.AddressRange = r.cstring(41)
		p.Bind = bd
	case BindReceiverResp, BindTransmitterResp, BindTransceiverResp, SubmitSMResp, DeliverSMResp:
		// The body may be absent when the status is an error.
		if len(r.b) > 0 {
			p.MessageID = r.cstring(65)
			p.TLVs = r.tlvs()
		}
	case SubmitSM, DeliverSM:
		p.SM = r.shortMessage()
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: command 0x%08x: %v", ErrMalformed, p.CommandID, r.err)
	}
	return p, nil
}

// reader consumes a PDU body, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("body ends early")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// cstring reads a NUL-terminated string of at most max octets with its NUL.
func (r *reader) cstring(max int) string {
	for i := 0; i < len(r.b) && i < max; i++ {
		if r.b[i] == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	r.fail("C-octet string not terminated within %d octets", max)
	return ""
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.fail("body ends early (%d of %d octets)", len(r.b), n)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) tlvs() []TLV {
	var out []TLV
	for len(r.b) > 0 && r.err == nil {
		if len(r.b) < 4 {
			r.fail("truncated TLV header")
			return nil
		}
		tag := binary.BigEndian.Uint16(r.b)
		n := int(binary.BigEndian.Uint16(r.b[2:]))
		r.b = r.b[4:]
		v := r.bytes(n)
		out = append(out, TLV{Tag: tag, Value: append([]byte(nil), v...)})
	}
	return out
}

func (r *reader) shortMessage() *ShortMessage {
	m := &ShortMessage{}
	m.ServiceType = r.cstring(6)
	m.SourceTON, m.SourceNPI = r.byte(), r.byte()
	m.Source = r.cstring(21)
	m.DestTON, m.DestNPI = r.byte(), r.byte()
	m.Dest = r.cstring(21)
	m.EsmClass, m.ProtocolID, m.PriorityFlag = r.byte(), r.byte(), r.byte()
	m.ScheduleDeliveryTime = r.cstring(17)
	m.ValidityPeriod = r.cstring(17)
	m.RegisteredDelivery, m.ReplaceIfPresent, m.DataCoding, m.SMDefaultMsgID = r.byte(), r.byte(), r.byte(), r.byte()
	n := int(r.byte())
	m.Message = append([]byte(nil), r.bytes(n)...)
	m.TLVs = r.tlvs()
	return m
}

// StatusName names a command status for logs and error messages.
func StatusName(s uint32) string {
	names := map[uint32]string{
		ESME_ROK: "ESME_ROK", ESME_RINVMSGLEN: "ESME_RINVMSGLEN", ESME_RINVCMDLEN: "ESME_RINVCMDLEN",
		ESME_RINVCMDID: "ESME_RINVCMDID", ESME_RINVBNDSTS: "ESME_RINVBNDSTS", ESME_RALYBND: "ESME_RALYBND",
		ESME_RSYSERR: "ESME_RSYSERR", ESME_RINVSRCADR: "ESME_RINVSRCADR", ESME_RINVDSTADR: "ESME_RINVDSTADR",
		ESME_RBINDFAIL: "ESME_RBINDFAIL", ESME_RINVPASWD: "ESME_RINVPASWD", ESME_RINVSYSID: "ESME_RINVSYSID",
		ESME_RMSGQFUL: "ESME_RMSGQFUL", ESME_RTHROTTLED: "ESME_RTHROTTLED", ESME_RX_T_APPN: "ESME_RX_T_APPN",
		0x45: "ESME_RSUBMITFAIL", 0x43: "ESME_RINVESMCLASS", 0x48: "ESME_RINVSRCTON", 0x49: "ESME_RINVSRCNPI",
		0x50: "ESME_RINVDSTTON", 0x51: "ESME_RINVDSTNPI",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%08X", s)
}
