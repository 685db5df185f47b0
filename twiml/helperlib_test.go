package twiml

import "testing"

// Documents exactly as twilio-node's VoiceResponse and twilio-go's
// twiml.Voice serialise them (testing-with-real-peers.md §5.2, §5.3), and
// examples from Twilio's TwiML pages.

func TestTwilioNodeGatherMenu(t *testing.T) {
	src := `<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf" numDigits="1" timeout="5" action="/menu" method="POST"><Say voice="alice" language="en-US">Press 1 for sales</Say><Play loop="1">http://127.0.0.1:9000/beep.wav</Play></Gather><Say>We did not get your choice</Say><Redirect method="POST">/voice</Redirect></Response>`
	r, w := mustParse(t, []byte(src))
	wantCodes(t, w)
	g := gatherDefaults()
	g.Action, g.NumDigits = "/menu", 1
	g.Children = []Verb{
		&Say{Pos: Pos{1}, Text: "Press 1 for sales", Segments: []SaySegment{{Text: "Press 1 for sales"}}, Voice: "alice", Language: "en-US", Loop: 1},
		&Play{Pos: Pos{1}, URL: "http://127.0.0.1:9000/beep.wav", Loop: 1},
	}
	wantEqual(t, r.Verbs, []Verb{
		g,
		&Say{Pos: Pos{1}, Text: "We did not get your choice", Segments: []SaySegment{{Text: "We did not get your choice"}}, Voice: "man", Loop: 1},
		&Redirect{Pos: Pos{1}, URL: "/voice", Method: "POST"},
	})
}

func TestTwilioNodeEnqueue(t *testing.T) {
	r, w := mustParse(t, []byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue waitUrl="/hold" action="/after-queue" method="POST">support</Enqueue></Response>`))
	wantCodes(t, w)
	wantEqual(t, r.Verbs, []Verb{&Enqueue{Pos: Pos{1}, QueueName: "support", Action: "/after-queue", Method: "POST",
		WaitURL: "/hold", HasWaitURL: true, WaitURLMethod: "POST"}})
}

func TestTwilioNodeDialQueueRecordPauseHangup(t *testing.T) {
	src := `<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+15550001111" timeout="20" action="/dial-done" record="record-from-answer"><Queue url="/whisper">support</Queue></Dial><Record maxLength="30" playBeep="true" action="/rec" recordingStatusCallback="/rec-status"/><Pause length="2"/><Hangup/></Response>`
	r, w := mustParse(t, []byte(src))
	wantCodes(t, w)
	d := dialDefaults()
	d.CallerID, d.Timeout, d.Action, d.Record = "+15550001111", 20, "/dial-done", DialRecordFromAnswer
	d.Nouns = []Noun{&Queue{Pos: Pos{1}, QueueName: "support", URL: "/whisper", Method: "POST"}}
	rec := recordDefaults()
	rec.MaxLength, rec.Action, rec.RecordingStatusCallback = 30, "/rec", "/rec-status"
	wantEqual(t, r.Verbs, []Verb{d, rec, &Pause{Pos: Pos{1}, Length: 2}, &Hangup{Pos: Pos{1}}})
}

func TestTwilioNodeSipReject(t *testing.T) {
	r, w := mustParse(t, []byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip>sip:agent@127.0.0.1:5080</Sip></Dial><Reject reason="busy"/></Response>`))
	wantCodes(t, w)
	d := dialDefaults()
	d.Nouns = []Noun{&Sip{Pos: Pos{1}, URI: "sip:agent@127.0.0.1:5080", LegOptions: legDefaults(), AMD: amdDefaults()}}
	wantEqual(t, r.Verbs, []Verb{d, &Reject{Pos: Pos{1}, Reason: RejectBusy}})
}

func TestTwilioGoSayHangup(t *testing.T) {
	r, w := mustParse(t, []byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Goodbye</Say><Hangup/></Response>`))
	wantCodes(t, w)
	wantEqual(t, r.Verbs, []Verb{
		&Say{Pos: Pos{1}, Text: "Goodbye", Segments: []SaySegment{{Text: "Goodbye"}}, Voice: "alice", Loop: 1},
		&Hangup{Pos: Pos{1}},
	})
}

// Pretty-printed documents in the style of Twilio's documentation pages.
func TestTwilioDocsExamples(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		verbs []string
	}{
		{"voicemail", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Say>
        Please leave a message at the beep.
        Press the star key when finished.
    </Say>
    <Record
        action="http://foo.edu/handleRecording.php"
        method="GET"
        maxLength="20"
        finishOnKey="*"
        />
    <Say>I did not receive a recording</Say>
</Response>`, []string{"Say", "Record", "Say"}},
		{"gather speech", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather input="speech dtmf" timeout="3" numDigits="1" speechTimeout="auto" hints="sales, support">
    <Say>Please press 1 or say sales for sales.</Say>
  </Gather>
</Response>`, []string{"Gather"}},
		{"dial numbers in parallel", `<Response>
    <Dial>
        <Number sendDigits="wwww1928">
            415-123-4567
        </Number>
        <Number>415-321-7654</Number>
        <Client>jenny</Client>
    </Dial>
</Response>`, []string{"Dial"}},
		{"moderated conference", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Dial>
    <Conference startConferenceOnEnter="true" endConferenceOnExit="true" waitUrl="http://twimlets.com/holdmusic?Bucket=com.twilio.music.ambient">
      moderated-conference-room
    </Conference>
  </Dial>
</Response>`, []string{"Dial"}},
		{"stream", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Start>
    <Stream name="Example Audio Stream" url="wss://example.com/audiostream" />
  </Start>
  <Say>The stream has started.</Say>
  <Connect action="/after">
    <Stream url="wss://example.com/bidi">
      <Parameter name="FirstName" value="Jane" />
    </Stream>
  </Connect>
</Response>`, []string{"Start", "Say", "Connect"}},
		{"refer", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Refer action="/handleRefer" method="POST">
    <Sip>sip:alice@example.com?User-to-User=123456789%3Bencoding%3Dhex&amp;X-Name=Bob</Sip>
  </Refer>
</Response>`, []string{"Refer"}},
		{"enqueue with task", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Enqueue workflowSid="WW0123456789abcdef0123456789abcdef">
    <Task>{"selected_language": "es"}</Task>
  </Enqueue>
</Response>`, []string{"Enqueue"}},
		{"ssml", `<Response>
  <Say voice="Polly.Joanna">
    Hi
    <break strength="x-weak" time="100ms"/>
    <emphasis level="moderate">Words to emphasize</emphasis>
    <p>Words to speak</p>
    <phoneme alphabet="x-sampa" ph="pɪˈkɑːn">Words to speak</phoneme>
    <prosody pitch="-10%" rate="85%" volume="-6dB">Words to speak</prosody>
    <s>Words to speak</s>
    <say-as interpret-as="spell-out">Words to speak</say-as>
    <sub alias="alias">Words to be substituted</sub>
    <w role="amazon:VBD">Words to speak</w>
  </Say>
</Response>`, []string{"Say"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := mustParse(t, []byte(tt.src))
			wantCodes(t, w)
			var names []string
			for _, v := range r.Verbs {
				names = append(names, v.Name())
			}
			wantEqual(t, names, tt.verbs)
		})
	}
}

func TestDocsDialNumbersDetail(t *testing.T) {
	r, _ := mustParse(t, []byte("<Response>\n<Dial>\n<Number sendDigits=\"wwww1928\">\n  415-123-4567\n</Number>\n</Dial>\n</Response>"))
	n := r.Verbs[0].(*Dial).Nouns[0].(*Number)
	if n.Number != "415-123-4567" || n.SendDigits != "wwww1928" || n.Line() != 3 {
		t.Errorf("got %s", dump(n))
	}
}
