package messaging

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/messaging/smpp"
)

// SMPPTransport sends and receives SMS through an SMSC with SMPP 3.4.
type SMPPTransport struct {
	name   string
	client *smpp.Client
	cfg    smpp.Config
	log    *slog.Logger
	reasm  *reassembler

	mu   sync.Mutex
	sink Sink
}

// NewSMPPTransport returns the transport of trunk name; cfg.OnDeliver is
// set by the transport. reassembly bounds the wait for the parts of a
// concatenated inbound message.
func NewSMPPTransport(name string, cfg smpp.Config, reassembly time.Duration) *SMPPTransport {
	t := &SMPPTransport{name: name, cfg: cfg, log: cfg.Logger}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.log = t.log.With("trunk", name)
	t.reasm = newReassembler(reassembly)
	t.cfg.OnDeliver = t.onDeliver
	t.client = smpp.NewClient(t.cfg)
	return t
}

// Name implements Transport.
func (t *SMPPTransport) Name() string { return t.name }

// Bound reports whether the SMPP client is bound.
func (t *SMPPTransport) Bound() bool { return t.client.Bound() }

// Run implements Transport.
func (t *SMPPTransport) Run(ctx context.Context, sink Sink) error {
	t.mu.Lock()
	t.sink = sink
	t.mu.Unlock()
	return t.client.Run(ctx)
}

// address maps a number to SMPP's TON/NPI and digits (messaging.md §5.4).
func address(n string) (ton, npi byte, addr string) {
	switch {
	case strings.HasPrefix(n, "+"):
		return 1, 1, n[1:]
	case allDigits(n) && len(n) <= 8:
		return 3, 0, n // short code
	case allDigits(n):
		return 1, 1, n
	}
	return 5, 0, n // alphanumeric
}

// Send implements Transport: the body is cut into segments (GSM-7 or
// UCS-2, 8-bit reference UDH when concatenated), each submitted with a
// request for a final delivery receipt.
func (t *SMPPTransport) Send(ctx context.Context, m Outgoing) ([]string, error) {
	if len(m.Media) > 0 {
		if m.Body == "" {
			return nil, &SendError{Code: CodeUnknownError, Detail: "SMPP cannot carry media"}
		}
		t.log.Warn("messaging: SMPP cannot carry media; sending the text only", "message_sid", m.SID, "media", len(m.Media))
	}
	enc, parts := Split(m.Body)
	sTON, sNPI, src := address(m.From)
	dTON, dNPI, dst := address(m.To)
	var ref [1]byte
	_, _ = rand.Read(ref[:])
	ids := make([]string, 0, len(parts))
	for i, p := range parts {
		sm := &smpp.ShortMessage{SourceTON: sTON, SourceNPI: sNPI, Source: src, DestTON: dTON, DestNPI: dNPI, Dest: dst,
			RegisteredDelivery: 1}
		var text []byte
		if enc == GSM7 {
			text = EncodeGSM7(p)
		} else {
			sm.DataCoding = 8
			text = EncodeUCS2(p)
		}
		if len(parts) > 1 {
			sm.EsmClass |= smpp.EsmUDHI
			sm.Message = append([]byte{5, 0, 3, ref[0], byte(len(parts)), byte(i + 1)}, text...)
		} else {
			sm.Message = text
		}
		id, err := t.client.Submit(ctx, sm)
		if err != nil {
			return nil, submitError(err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// submitError maps a submit_sm failure (messaging.md §5.7).
func submitError(err error) error {
	var se *smpp.StatusError
	if !errors.As(err, &se) {
		return &SendError{Retry: true, Detail: err.Error()}
	}
	switch se.Status {
	case smpp.ESME_RINVDSTADR, 0x50, 0x51:
		return &SendError{Code: CodeUnknownHandset, Detail: err.Error()}
	case smpp.ESME_RINVSRCADR, 0x48, 0x49:
		return &SendError{Code: CodeFromNotOurs, Detail: err.Error()}
	case smpp.ESME_RSYSERR, smpp.ESME_RX_T_APPN:
		return &SendError{Retry: true, Detail: err.Error()}
	}
	return &SendError{Code: CodeUnknownError, Detail: err.Error()}
}

// onDeliver handles a deliver_sm: a receipt or a message (or part of
// one). It returns the status to acknowledge with: ESME_ROK only once
// what it carried is stored.
func (t *SMPPTransport) onDeliver(ctx context.Context, sm *smpp.ShortMessage) uint32 {
	t.mu.Lock()
	sink := t.sink
	t.mu.Unlock()
	if sink == nil {
		return smpp.ESME_RX_T_APPN
	}
	if sm.EsmClass&smpp.EsmTypeMask == smpp.EsmTypeReceipt || sm.EsmClass&smpp.EsmTypeMask == 0x08 {
		r, ok := parseReceipt(sm)
		if !ok {
			t.log.Warn("messaging: unreadable delivery receipt", "text", string(sm.Message))
			return smpp.ESME_ROK
		}
		if err := sink.Receipt(ctx, r); err != nil {
			t.log.Error("messaging: recording a receipt failed; asking the SMSC to redeliver", "error", err)
			return smpp.ESME_RX_T_APPN
		}
		return smpp.ESME_ROK
	}
	from, to := inboundAddr(sm.SourceTON, sm.Source), inboundAddr(sm.DestTON, sm.Dest)
	payload := sm.Message
	if p, ok := sm.TLV(smpp.TagMessagePayload); ok && len(payload) == 0 {
		payload = p
	}
	ref, total, seq, body, concat := concatInfo(sm, payload)
	text := decodeText(sm.DataCoding, body)
	if !concat || total <= 1 {
		if err := sink.Receive(ctx, Incoming{From: from, To: to, Body: text, NumSegments: 1, Trunk: t.name}); err != nil {
			t.log.Error("messaging: storing an inbound message failed; not acknowledged", "error", err)
			return smpp.ESME_RX_T_APPN
		}
		return smpp.ESME_ROK
	}
	key := fmt.Sprintf("%s|%s|%d|%d", from, to, ref, total)
	err := t.reasm.add(ctx, key, total, seq, text, func(whole string, got int) error {
		in := Incoming{From: from, To: to, Body: whole, NumSegments: total, Trunk: t.name}
		if got < total {
			t.log.Warn("messaging: parts of a concatenated message never arrived (30009)", "from", from, "got", got, "total", total)
			in.ErrorCode = CodeMissingSegment
		}
		return sink.Receive(ctx, in)
	})
	if err != nil {
		t.log.Error("messaging: storing a concatenated message failed; not acknowledged", "error", err)
		return smpp.ESME_RX_T_APPN
	}
	return smpp.ESME_ROK
}

// inboundAddr renders an SMPP address: international numbers get "+".
func inboundAddr(ton byte, addr string) string {
	if ton == 1 && allDigits(addr) {
		return "+" + addr
	}
	return normalise(addr)
}

// concatInfo finds concatenation information in a UDH (IEI 0x00 8-bit or
// 0x08 16-bit reference) or the SAR TLVs, and returns the text without
// the UDH.
func concatInfo(sm *smpp.ShortMessage, payload []byte) (ref, total, seq int, body []byte, ok bool) {
	body = payload
	if sm.EsmClass&smpp.EsmUDHI != 0 && len(payload) > 0 {
		udhl := int(payload[0])
		if udhl+1 <= len(payload) {
			udh := payload[1 : udhl+1]
			body = payload[udhl+1:]
			for i := 0; i+2 <= len(udh); {
				iei, l := udh[i], int(udh[i+1])
				if i+2+l > len(udh) {
					break
				}
				v := udh[i+2 : i+2+l]
				switch {
				case iei == 0x00 && l == 3:
					ref, total, seq, ok = int(v[0]), int(v[1]), int(v[2]), true
				case iei == 0x08 && l == 4:
					ref, total, seq, ok = int(v[0])<<8|int(v[1]), int(v[2]), int(v[3]), true
				}
				i += 2 + l
			}
		}
	}
	if r, has := sm.TLV(smpp.TagSarMsgRefNum); has && len(r) == 2 {
		tt, _ := sm.TLV(smpp.TagSarTotalSegments)
		sq, _ := sm.TLV(smpp.TagSarSegmentSeqnum)
		if len(tt) == 1 && len(sq) == 1 {
			ref, total, seq, ok = int(r[0])<<8|int(r[1]), int(tt[0]), int(sq[0]), true
		}
	}
	if ok && (total == 0 || seq == 0 || seq > total) {
		ok = false
	}
	return ref, total, seq, body, ok
}

// decodeText decodes a short message by data_coding (messaging.md §5.4):
// 0 and 1 as GSM-7 (unpacked; node-smpp sends ASCII as 1), 3 Latin-1, 8
// UCS-2; anything else as GSM-7.
func decodeText(dcs byte, b []byte) string {
	switch dcs & 0x0F {
	case 8:
		return DecodeUCS2(b)
	case 3:
		return DecodeLatin1(b)
	}
	if dcs&0xF0 == 0x10 && dcs&0x0C == 0x08 { // UCS-2 with a message class
		return DecodeUCS2(b)
	}
	return DecodeGSM7(b)
}

var receiptPattern = regexp.MustCompile(`(?i)id:\s*(\S+).*?stat:\s*(\w+)(?:.*?err:\s*(\w+))?`)
var donePattern = regexp.MustCompile(`(?i)done date:\s*(\d{10})`)

// parseReceipt reads a delivery receipt: the receipted_message_id and
// message_state TLVs when present, else the text (SMPP 3.4 appendix B).
func parseReceipt(sm *smpp.ShortMessage) (Receipt, bool) {
	text := string(sm.Message)
	r := Receipt{Raw: text}
	var id, stat, errCode string
	if mm := receiptPattern.FindStringSubmatch(text); mm != nil {
		id, stat, errCode = mm[1], strings.ToUpper(mm[2]), mm[3]
	}
	if v, ok := sm.TLV(smpp.TagReceiptedMessageID); ok {
		id = strings.TrimRight(string(v), "\x00")
	}
	if v, ok := sm.TLV(smpp.TagMessageState); ok && len(v) == 1 {
		stat = map[byte]string{1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}[v[0]]
	}
	if id == "" {
		return Receipt{}, false
	}
	if mm := donePattern.FindStringSubmatch(text); mm != nil {
		r.DoneDate = mm[1]
	}
	r.IDs = receiptIDs(id)
	switch stat {
	case "DELIVRD":
		r.Delivered = true
	case "ENROUTE", "ACCEPTD":
		return Receipt{}, false // intermediate: nothing changes
	case "EXPIRED":
		r.ErrorCode = CodeUnreachable
	case "REJECTD":
		r.ErrorCode = CodeCarrierFiltered
	case "UNDELIV":
		switch strings.TrimLeft(errCode, "0") {
		case "1":
			r.ErrorCode = CodeUnreachable
		case "5":
			r.ErrorCode = CodeUnknownHandset
		default:
			r.ErrorCode = CodeUnknownError
		}
	default:
		r.ErrorCode = CodeUnknownError
	}
	return r, true
}

// receiptIDs lists the forms a receipt's id may have had in
// submit_sm_resp: as is, without leading zeros, and the hex/decimal
// conversions (SMSCs disagree, messaging.md §5.6).
func receiptIDs(id string) []string {
	out := []string{id}
	add := func(s string) {
		for _, x := range out {
			if x == s {
				return
			}
		}
		out = append(out, s)
	}
	add(strings.ToLower(id))
	if t := strings.TrimLeft(id, "0"); t != "" {
		add(t)
		add(strings.ToLower(t))
	}
	if n, err := strconv.ParseUint(id, 10, 64); err == nil {
		add(strconv.FormatUint(n, 16))
	}
	if n, err := strconv.ParseUint(id, 16, 64); err == nil {
		add(strconv.FormatUint(n, 10))
	}
	return out
}

// reassembler joins the parts of concatenated messages. Each part's
// deliver_sm waits (unacknowledged) until the whole message is stored.
type reassembler struct {
	timeout time.Duration
	mu      sync.Mutex
	pending map[string]*partial
}

type partial struct {
	parts map[int]string
	total int
	done  chan struct{}
	err   error
	timer *time.Timer
	store func(whole string, got int) error
}

func newReassembler(timeout time.Duration) *reassembler {
	return &reassembler{timeout: timeout, pending: map[string]*partial{}}
}

// add records one part and waits until the message it belongs to is
// complete and stored (or the wait timed out and what arrived is stored).
func (r *reassembler) add(ctx context.Context, key string, total, seq int, text string, store func(string, int) error) error {
	r.mu.Lock()
	p := r.pending[key]
	if p == nil {
		p = &partial{parts: map[int]string{}, total: total, done: make(chan struct{}), store: store}
		r.pending[key] = p
		p.timer = time.AfterFunc(r.timeout, func() { r.complete(key, p) })
	}
	p.parts[seq] = text
	full := len(p.parts) == p.total
	r.mu.Unlock()
	if full {
		r.complete(key, p)
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// complete stores what arrived of a message, once.
func (r *reassembler) complete(key string, p *partial) {
	r.mu.Lock()
	if r.pending[key] != p {
		r.mu.Unlock()
		return
	}
	delete(r.pending, key)
	p.timer.Stop()
	var b strings.Builder
	for i := 1; i <= p.total; i++ {
		b.WriteString(p.parts[i])
	}
	got := len(p.parts)
	r.mu.Unlock()
	p.err = p.store(b.String(), got)
	close(p.done)
}
