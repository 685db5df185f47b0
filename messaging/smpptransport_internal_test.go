package messaging

import (
	"slices"
	"testing"

	"github.com/voxgate/voxgate/messaging/smpp"
)

func TestParseReceiptVariants(t *testing.T) {
	tests := []struct {
		text      string
		tlvs      []smpp.TLV
		id        string
		delivered bool
		code      int
		done      string
	}{
		{text: "id:1a2b sub:001 dlvrd:001 submit date:2612061200 done date:2612061201 stat:DELIVRD err:000 text:", id: "1a2b", delivered: true, done: "2612061201"},
		{text: "id:77 sub:001 dlvrd:000 submit date:261206120000 done date:261206120100 stat:UNDELIV err:005 Text:hello", id: "77", code: CodeUnknownHandset, done: "2612061201"},
		{text: "id:77 sub:001 dlvrd:000 submit date:2612061200 done date:2612061201 stat:UNDELIV err:001 text:", id: "77", code: CodeUnreachable},
		{text: "id:9 stat:EXPIRED", id: "9", code: CodeUnreachable},
		{text: "id:9 stat:REJECTD err:000", id: "9", code: CodeCarrierFiltered},
		// TLVs win over the text.
		{text: "garbage", tlvs: []smpp.TLV{{Tag: smpp.TagReceiptedMessageID, Value: []byte("abc\x00")}, {Tag: smpp.TagMessageState, Value: []byte{2}}}, id: "abc", delivered: true},
	}
	for _, tt := range tests {
		r, ok := parseReceipt(&smpp.ShortMessage{Message: []byte(tt.text), TLVs: tt.tlvs})
		if !ok || r.IDs[0] != tt.id || r.Delivered != tt.delivered || r.ErrorCode != tt.code || (tt.done != "" && r.DoneDate != tt.done) {
			t.Errorf("%q: %+v ok=%v", tt.text, r, ok)
		}
	}
	if _, ok := parseReceipt(&smpp.ShortMessage{Message: []byte("id:1 stat:ENROUTE")}); ok {
		t.Error("an intermediate receipt changes the status")
	}
}

func TestReceiptIDForms(t *testing.T) {
	ids := receiptIDs("0000012")
	for _, want := range []string{"0000012", "12", "c", "18"} {
		if !slices.Contains(ids, want) {
			t.Errorf("receiptIDs(0000012) = %v lacks %q", ids, want)
		}
	}
	if ids := receiptIDs("1A2B"); !slices.Contains(ids, "1a2b") || !slices.Contains(ids, "6699") {
		t.Errorf("receiptIDs(1A2B) = %v", ids)
	}
}

func TestConcatInfo(t *testing.T) {
	udh8 := &smpp.ShortMessage{EsmClass: smpp.EsmUDHI}
	ref, total, seq, body, ok := concatInfo(udh8, []byte{5, 0, 3, 0x42, 3, 2, 'h', 'i'})
	if !ok || ref != 0x42 || total != 3 || seq != 2 || string(body) != "hi" {
		t.Errorf("8-bit UDH: %d %d %d %q %v", ref, total, seq, body, ok)
	}
	ref, total, seq, body, ok = concatInfo(udh8, []byte{6, 8, 4, 0x12, 0x34, 2, 1, 'x'})
	if !ok || ref != 0x1234 || total != 2 || seq != 1 || string(body) != "x" {
		t.Errorf("16-bit UDH: %d %d %d %q %v", ref, total, seq, body, ok)
	}
	sar := &smpp.ShortMessage{TLVs: []smpp.TLV{{Tag: smpp.TagSarMsgRefNum, Value: []byte{0, 7}},
		{Tag: smpp.TagSarTotalSegments, Value: []byte{2}}, {Tag: smpp.TagSarSegmentSeqnum, Value: []byte{2}}}}
	ref, total, seq, body, ok = concatInfo(sar, []byte("tail"))
	if !ok || ref != 7 || total != 2 || seq != 2 || string(body) != "tail" {
		t.Errorf("SAR: %d %d %d %q %v", ref, total, seq, body, ok)
	}
	if _, _, _, _, ok := concatInfo(udh8, []byte{5, 0, 3, 1, 2, 3}); ok {
		t.Error("part 3 of 2 accepted")
	}
}

func TestDecodeText(t *testing.T) {
	for dcs, b := range map[byte][]byte{0: EncodeGSM7("héllo €"), 1: EncodeGSM7("héllo €"), 8: EncodeUCS2("héllo €"), 0x18: EncodeUCS2("héllo €")} {
		if got := decodeText(dcs, b); got != "héllo €" {
			t.Errorf("dcs %#x: %q", dcs, got)
		}
	}
	if got := decodeText(3, []byte{'h', 0xE9}); got != "hé" {
		t.Errorf("latin-1: %q", got)
	}
}

func TestClassifyKeyword(t *testing.T) {
	for body, want := range map[string]string{"STOP": KeywordStop, " stop ": KeywordStop, "Unsubscribe.": KeywordStop,
		"STOP PLEASE": KeywordNone, "start": KeywordStart, "YES": KeywordStart, "help": KeywordHelp, "info": KeywordHelp, "hello": KeywordNone} {
		if got := ClassifyKeyword(body); got != want {
			t.Errorf("%q: %q, want %q", body, got, want)
		}
	}
}
