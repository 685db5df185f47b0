package smpp

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	pdus := []*PDU{
		{CommandID: BindTransceiver, Sequence: 1, Bind: &Bind{SystemID: "voxgate", Password: "secret", SystemType: "vg", InterfaceVersion: 0x34}},
		{CommandID: BindTransceiverResp, Sequence: 1, MessageID: "smsc", TLVs: []TLV{{Tag: TagScInterfaceVersion, Value: []byte{0x34}}}},
		{CommandID: SubmitSM, Sequence: 7, SM: &ShortMessage{SourceTON: 1, SourceNPI: 1, Source: "15557654321", DestTON: 1, DestNPI: 1,
			Dest: "15550001111", EsmClass: EsmUDHI, RegisteredDelivery: 1, DataCoding: 8, Message: []byte{5, 0, 3, 9, 2, 1, 0, 'a'},
			TLVs: []TLV{{Tag: TagSarMsgRefNum, Value: []byte{0, 9}}}}},
		{CommandID: SubmitSMResp, Sequence: 7, MessageID: "1a2b"},
		{CommandID: EnquireLink, Sequence: 9},
		{CommandID: GenericNack, Status: ESME_RINVCMDID, Sequence: 3},
	}
	for _, p := range pdus {
		b, err := p.Encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode % x: %v", b, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
		}
	}
}

// A bind_transceiver as node-smpp writes it, byte for byte (SMPP 3.4 §4.1.5).
func TestBindWireLayout(t *testing.T) {
	b, _ := (&PDU{CommandID: BindTransceiver, Sequence: 1, Bind: &Bind{SystemID: "ab", Password: "pw", InterfaceVersion: 0x34}}).Encode(nil)
	want, _ := hex.DecodeString("0000001b" + "00000009" + "00000000" + "00000001" + "616200" + "707700" + "00" + "34" + "00" + "00" + "00")
	if !bytes.Equal(b, want) {
		t.Errorf("got  % x\nwant % x", b, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, hexs := range map[string]string{
		"short":          "000000",
		"length differs": "0000001200000015000000000000000100",
		"unterminated":   "0000001a000000040000000000000001" + "61616161616161616161",
		"truncated tlv":  "00000015800000040000000000000001" + "00" + "0001" + "ff",
	} {
		b, _ := hex.DecodeString(hexs)
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	// A submit_sm_resp with an error status and no body is valid.
	b, _ := hex.DecodeString("80000004" + "00000058" + "00000002")
	b = append([]byte{0, 0, 0, 16}, b...)
	if p, err := Decode(b); err != nil || p.Status != ESME_RTHROTTLED {
		t.Errorf("empty submit_sm_resp: %+v %v", p, err)
	}
}

func FuzzDecode(f *testing.F) {
	seeds := []*PDU{
		{CommandID: SubmitSM, Sequence: 2, SM: &ShortMessage{Source: "1", Dest: "2", Message: []byte("hi"), TLVs: []TLV{{Tag: TagMessageState, Value: []byte{2}}}}},
		{CommandID: DeliverSM, Sequence: 3, SM: &ShortMessage{EsmClass: EsmTypeReceipt, Message: []byte("id:1 stat:DELIVRD")}},
		{CommandID: BindReceiver, Bind: &Bind{SystemID: "x"}},
		{CommandID: SubmitSMResp, MessageID: "abc"},
		{CommandID: Unbind},
	}
	for _, p := range seeds {
		b, _ := p.Encode(nil)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes re-encodes (when its strings fit) to something that
		// decodes to the same PDU.
		out, err := p.Encode(nil)
		if err != nil {
			return
		}
		q, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded PDU does not decode: %v\n% x", err, out)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("re-encoding changed the PDU:\n%+v\n%+v", p, q)
		}
	})
}
