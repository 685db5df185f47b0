package twiml

import "testing"

// ivrDocument is a typical IVR menu: greeting, a Gather with prompts, a
// fallback, and a transfer.
const ivrDocument = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="Polly.Joanna" language="en-US">Thank you for calling Example Corporation.</Say>
  <Gather input="dtmf speech" numDigits="1" timeout="5" action="/ivr/menu" method="POST" speechTimeout="auto" hints="sales, support, billing">
    <Say voice="Polly.Joanna">For sales, press 1 or say sales.<break time="500ms"/>For support, press 2.</Say>
    <Say voice="Polly.Joanna">For billing, press 3. To repeat this menu, press 9.</Say>
    <Play>https://example.com/audio/menu-music.mp3</Play>
    <Pause length="2"/>
  </Gather>
  <Say>We did not receive your selection.</Say>
  <Dial timeout="20" action="/ivr/dial-status" callerId="+15550001111" record="record-from-answer">
    <Number statusCallback="/ivr/leg-status" statusCallbackEvent="ringing answered completed">+15550002222</Number>
    <Client>operator</Client>
  </Dial>
  <Redirect method="POST">/ivr/start</Redirect>
</Response>
`

func TestIVRDocumentIsClean(t *testing.T) {
	r, w := mustParse(t, []byte(ivrDocument))
	wantCodes(t, w)
	if len(r.Verbs) != 5 {
		t.Fatalf("got %d verbs", len(r.Verbs))
	}
}

func BenchmarkParseIVR(b *testing.B) {
	data := []byte(ivrDocument)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckIVR(b *testing.B) {
	data := []byte(ivrDocument)
	b.ReportAllocs()
	for b.Loop() {
		if p := Check(data); len(p) != 0 {
			b.Fatal(p)
		}
	}
}
