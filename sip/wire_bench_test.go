package sip

import "testing"

// benchInvite is the head of an INVITE as SIPp's bench scenarios send it.
const benchInvite = "INVITE sip:1001@127.0.0.1:15060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:15070;branch=z9hG4bK-12345-1-0\r\n" +
	"From: \"bench\" <sip:+15550009999@127.0.0.1:15070>;tag=12345SIPpTag001\r\n" +
	"To: <sip:1001@127.0.0.1:15060>\r\n" +
	"Call-ID: 1-12345@127.0.0.1\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:sipp@127.0.0.1:15070;transport=UDP>\r\n" +
	"Max-Forwards: 70\r\n" +
	"User-Agent: SIPp-bench\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 180"

// BenchmarkParseHead is the wire check's split of a request's header
// section, run for every SIP message received.
func BenchmarkParseHead(b *testing.B) {
	head := []byte(benchInvite)
	b.ReportAllocs()
	for b.Loop() {
		m, rej := parseHead(head)
		if rej != nil || len(m.headers) != 10 {
			b.Fatal(rej, len(m.headers))
		}
	}
}

// tightenParams skips the rebuild only where it would change nothing.
func FuzzTightenShortcut(f *testing.F) {
	for _, s := range []string{`"bench" <sip:a@b>;tag=1`, "SIP/2.0/UDP 127.0.0.1:5060 ; branch = z9", "<sip:a@b> ;lr",
		"a ,b", `"x ; y" <sip:a@b; lr>`, "SIP/2.0 /UDP h", "\t;\t", " ", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, v string, via bool) {
		if got, want := tightenParams(v, via), tighten(v, via); got != want {
			t.Errorf("tightenParams(%q, %v) = %q, the full rebuild gives %q", v, via, got, want)
		}
	})
}

func TestHeaderName(t *testing.T) {
	for in, want := range map[string]string{"Via": "via", "CALL-ID": "call-id", "x-custom": "x-custom", "X-Custom": "x-custom", "Call-ID": "call-id"} {
		if got := headerName(in); got != want {
			t.Errorf("headerName(%q) = %q, want %q", in, got, want)
		}
	}
}
