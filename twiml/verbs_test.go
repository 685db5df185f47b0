package twiml

import (
	"strings"
	"testing"
	"time"
)

func TestSay(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		want  *Say
		codes []int
	}{
		{"defaults", "<Say>Hello world</Say>",
			&Say{Pos: Pos{1}, Text: "Hello world", Segments: []SaySegment{{Text: "Hello world"}}, Voice: "man", Loop: 1}, nil},
		{"explicit", `<Say voice="Polly.Joanna-Neural" language="en-GB" loop="3">Hi</Say>`,
			&Say{Pos: Pos{1}, Text: "Hi", Segments: []SaySegment{{Text: "Hi"}}, Voice: "Polly.Joanna-Neural", Language: "en-GB", Loop: 3}, nil},
		{"loop zero means until hangup", `<Say loop="0">Hi</Say>`,
			&Say{Pos: Pos{1}, Text: "Hi", Segments: []SaySegment{{Text: "Hi"}}, Voice: "man", Loop: MaxLoop}, nil},
		{"loop capped", `<Say loop="5000">Hi</Say>`,
			&Say{Pos: Pos{1}, Text: "Hi", Segments: []SaySegment{{Text: "Hi"}}, Voice: "man", Loop: MaxLoop}, nil},
		{"negative loop", `<Say loop="-1">Hi</Say>`,
			&Say{Pos: Pos{1}, Text: "Hi", Segments: []SaySegment{{Text: "Hi"}}, Voice: "man", Loop: 1}, []int{CodeSayLoop}},
		{"non-numeric loop", `<Say loop="twice">Hi</Say>`,
			&Say{Pos: Pos{1}, Text: "Hi", Segments: []SaySegment{{Text: "Hi"}}, Voice: "man", Loop: 1}, []int{CodeSayLoop}},
		{"whitespace collapsed", "<Say>\n    Thanks for calling.\n    Goodbye.\n  </Say>",
			&Say{Pos: Pos{1}, Text: "Thanks for calling. Goodbye.", Segments: []SaySegment{{Text: "Thanks for calling. Goodbye."}}, Voice: "man", Loop: 1}, nil},
		{"escaped text", "<Say>Tom &amp; Jerry &lt;3</Say>",
			&Say{Pos: Pos{1}, Text: "Tom & Jerry <3", Segments: []SaySegment{{Text: "Tom & Jerry <3"}}, Voice: "man", Loop: 1}, nil},
		{"empty", "<Say/>", &Say{Pos: Pos{1}, Voice: "man", Loop: 1}, []int{CodeSayText}},
		{"blank voice means default", `<Say voice=" ">x</Say>`,
			&Say{Pos: Pos{1}, Text: "x", Segments: []SaySegment{{Text: "x"}}, Voice: "man", Loop: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			wantEqual(t, v, tt.want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestSaySSML(t *testing.T) {
	v, w := only(t, `<Say voice="Polly.Amy">Hello <emphasis level="strong">there</emphasis>.<break time="1500ms"/>`+
		`Your code is <say-as interpret-as="digits">123</say-as>.<break strength="x-strong"/><break time="2s"/>`+
		`<sub alias="World Wide Web">WWW</sub><p>New paragraph</p><prosody rate="slow"><lang xml:lang="fr-FR">merci</lang></prosody> `+
		`<amazon:effect name="whispered">secret</amazon:effect></Say>`)
	wantCodes(t, w)
	s := v.(*Say)
	wantEqual(t, s.Segments, []SaySegment{
		{Text: "Hello there.", Pause: 1500 * time.Millisecond},
		{Text: "Your code is 123.", Pause: 3 * time.Second},
		{Text: "World Wide Web New paragraph merci secret"},
	})
	if want := "Hello there. Your code is 123. World Wide Web New paragraph merci secret"; s.Text != want {
		t.Errorf("Text = %q, want %q", s.Text, want)
	}
	for _, frag := range []string{`<speak>Hello <emphasis level="strong">there</emphasis>.<break time="1500ms"/>`,
		`<lang xml:lang="fr-FR">merci</lang>`, `<amazon:effect name="whispered">secret</amazon:effect></speak>`} {
		if !strings.Contains(s.SSML, frag) {
			t.Errorf("SSML %q lacks %q", s.SSML, frag)
		}
	}
	if _, _, err := Parse([]byte(s.SSML)); err == nil || err.(*Error).Code != CodeRootNotResponse {
		t.Errorf("SSML is not well-formed XML: %v", err)
	}
}

func TestSayBreaks(t *testing.T) {
	tests := []struct {
		verb  string
		want  []SaySegment
		codes []int
	}{
		{`<Say><break time="1s"/>Hi</Say>`, []SaySegment{{Pause: time.Second}, {Text: "Hi"}}, nil},
		{`<Say>Hi<break/></Say>`, []SaySegment{{Text: "Hi", Pause: 500 * time.Millisecond}}, nil},
		{`<Say>a<break strength="none"/>b</Say>`, []SaySegment{{Text: "a"}, {Text: "b"}}, nil},
		{`<Say>a<break time="60s"/>b</Say>`, []SaySegment{{Text: "a", Pause: 10 * time.Second}, {Text: "b"}}, nil},
		{`<Say>a<break time="soon"/>b</Say>`, []SaySegment{{Text: "a", Pause: 500 * time.Millisecond}, {Text: "b"}}, []int{CodeSchema}},
		{`<Say>a<break strength="huge"/>b</Say>`, []SaySegment{{Text: "a", Pause: 500 * time.Millisecond}, {Text: "b"}}, []int{CodeSchema}},
		{`<Say><break time="0.25s"/></Say>`, []SaySegment{{Pause: 250 * time.Millisecond}}, nil},
	}
	for _, tt := range tests {
		v, w := only(t, tt.verb)
		wantEqual(t, v.(*Say).Segments, tt.want)
		wantCodes(t, w, tt.codes...)
	}
}

func TestSayTextLength(t *testing.T) {
	tests := []struct {
		voice string
		n     int
		warn  bool
	}{
		{"man", 4096, false}, {"man", 4097, true},
		{"Polly.Joanna", 3000, false}, {"Polly.Joanna", 3001, true},
		{"Google.en-US-Standard-C", 5000, false}, {"Google.en-US-Standard-C", 5001, true},
	}
	for _, tt := range tests {
		_, w := only(t, `<Say voice="`+tt.voice+`">`+strings.Repeat("é", tt.n)+`</Say>`)
		if got := len(w) == 1 && w[0].Code == CodeSayTooLong; got != tt.warn {
			t.Errorf("%s with %d characters: warnings %v, want 13521: %t", tt.voice, tt.n, w, tt.warn)
		}
	}
}

func TestPlay(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		want  *Play
		codes []int
	}{
		{"defaults", "<Play>http://example.com/a.mp3</Play>", &Play{Pos: Pos{1}, URL: "http://example.com/a.mp3", Loop: 1}, nil},
		{"relative trimmed", "<Play>\n   /audio/hello.wav\n</Play>", &Play{Pos: Pos{1}, URL: "/audio/hello.wav", Loop: 1}, nil},
		{"loop", `<Play loop="10">a.wav</Play>`, &Play{Pos: Pos{1}, URL: "a.wav", Loop: 10}, nil},
		{"loop zero", `<Play loop="0">a.wav</Play>`, &Play{Pos: Pos{1}, URL: "a.wav", Loop: MaxLoop}, nil},
		{"bad loop", `<Play loop="1.5">a.wav</Play>`, &Play{Pos: Pos{1}, URL: "a.wav", Loop: 1}, []int{CodePlayLoop}},
		{"digits", `<Play digits="wwww3"/>`, &Play{Pos: Pos{1}, Loop: 1, Digits: "wwww3"}, nil},
		{"digits all keys", `<Play digits="0123456789ABCDabcd*#wW"></Play>`, &Play{Pos: Pos{1}, Loop: 1, Digits: "0123456789ABCDABCD*#wW"}, nil},
		{"bad digit dropped", `<Play digits="12x3"/>`, &Play{Pos: Pos{1}, Loop: 1, Digits: "123"}, []int{CodeSchema}},
		{"digits and url", `<Play digits="1">a.wav</Play>`, &Play{Pos: Pos{1}, Loop: 1, Digits: "1"}, []int{CodeSchema}},
		{"empty", `<Play/>`, &Play{Pos: Pos{1}, Loop: 1}, []int{CodeSchema}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			wantEqual(t, v, tt.want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestPause(t *testing.T) {
	tests := []struct {
		verb  string
		want  int
		codes []int
	}{
		{`<Pause/>`, 1, nil},
		{`<Pause length="10"/>`, 10, nil},
		{`<Pause length=" 3 "/>`, 3, nil},
		{`<Pause length="0"/>`, 1, []int{CodePauseLength}},
		{`<Pause length="-2"/>`, 1, []int{CodePauseLength}},
		{`<Pause length="2.5"/>`, 1, []int{CodePauseLength}},
		{`<Pause length=""/>`, 1, []int{CodePauseLength}},
	}
	for _, tt := range tests {
		v, w := only(t, tt.verb)
		wantEqual(t, v, &Pause{Pos: Pos{1}, Length: tt.want})
		wantCodes(t, w, tt.codes...)
	}
}

func gatherDefaults() *Gather {
	return &Gather{Pos: Pos{1}, Method: "POST", Timeout: 5, FinishOnKey: "#", Input: InputDTMF, SpeechTimeout: 5,
		MaxSpeechTime: 60, Language: "en-US", SpeechModel: "default", ProfanityFilter: true,
		PartialResultCallbackMethod: "POST", BargeIn: true}
}

func TestGatherDefaults(t *testing.T) {
	v, w := only(t, "<Gather/>")
	wantEqual(t, v, gatherDefaults())
	wantCodes(t, w)
}

func TestGatherExplicit(t *testing.T) {
	v, w := only(t, `<Gather action="/menu" method="get" timeout="7" finishOnKey="*" numDigits="4" input="dtmf speech"`+
		` actionOnEmptyResult="TRUE" speechTimeout="auto" maxSpeechTime="30" language="fr-FR" hints="billing, sales , support"`+
		` speechModel="phone_call" profanityFilter="false" partialResultCallback="/partial" partialResultCallbackMethod="GET"`+
		` enhanced="true" bargeIn="false" debug="true">`+
		`<Say>Press</Say><Play>a.wav</Play><Pause length="2"/></Gather>`)
	wantCodes(t, w)
	want := &Gather{Pos: Pos{1}, Action: "/menu", Method: "GET", Timeout: 7, FinishOnKey: "*", NumDigits: 4,
		Input: InputDTMF | InputSpeech, ActionOnEmptyResult: true, SpeechTimeout: 7, SpeechTimeoutAuto: true,
		MaxSpeechTime: 30, Language: "fr-FR", Hints: []string{"billing", "sales", "support"}, SpeechModel: "phone_call",
		ProfanityFilter: false, PartialResultCallback: "/partial", PartialResultCallbackMethod: "GET", Enhanced: true,
		BargeIn: false, Debug: true,
		Children: []Verb{
			&Say{Pos: Pos{1}, Text: "Press", Segments: []SaySegment{{Text: "Press"}}, Voice: "man", Loop: 1},
			&Play{Pos: Pos{1}, URL: "a.wav", Loop: 1},
			&Pause{Pos: Pos{1}, Length: 2},
		}}
	wantEqual(t, v, want)
}

func TestGatherAttributeValues(t *testing.T) {
	tests := []struct {
		name  string
		attrs string
		edit  func(*Gather)
		codes []int
	}{
		{"finishOnKey empty disables", `finishOnKey=""`, func(g *Gather) { g.FinishOnKey = "" }, nil},
		{"finishOnKey digit", `finishOnKey="0"`, func(g *Gather) { g.FinishOnKey = "0" }, nil},
		{"finishOnKey multi-char", `finishOnKey="#*"`, func(g *Gather) {}, []int{CodeGatherFinishOnKey}},
		{"finishOnKey letter", `finishOnKey="A"`, func(g *Gather) {}, []int{CodeGatherFinishOnKey}},
		{"finishOnKey space", `finishOnKey=" "`, func(g *Gather) {}, []int{CodeGatherFinishOnKey}},
		{"timeout zero", `timeout="0"`, func(g *Gather) {}, []int{CodeGatherTimeout}},
		{"timeout text", `timeout="five"`, func(g *Gather) {}, []int{CodeGatherTimeout}},
		{"timeout sets speechTimeout", `timeout="9"`, func(g *Gather) { g.Timeout, g.SpeechTimeout = 9, 9 }, nil},
		{"numDigits zero", `numDigits="0"`, func(g *Gather) {}, []int{CodeGatherNumDigits}},
		{"numDigits text", `numDigits="x"`, func(g *Gather) {}, []int{CodeGatherNumDigits}},
		{"method invalid", `method="PUT"`, func(g *Gather) {}, []int{CodeGatherMethod}},
		{"input speech", `input="speech"`, func(g *Gather) { g.Input = InputSpeech }, nil},
		{"input comma list", `input="speech,DTMF"`, func(g *Gather) { g.Input = InputDTMF | InputSpeech }, nil},
		{"input bogus", `input="voice"`, func(g *Gather) {}, []int{CodeSchema}},
		{"input partly bogus", `input="speech voice"`, func(g *Gather) { g.Input = InputSpeech }, []int{CodeSchema}},
		{"speechTimeout number", `speechTimeout="3"`, func(g *Gather) { g.SpeechTimeout = 3 }, nil},
		{"speechTimeout bad", `speechTimeout="0"`, func(g *Gather) {}, []int{CodeGatherSpeechTimeout}},
		{"maxSpeechTime bad", `maxSpeechTime="x"`, func(g *Gather) {}, []int{CodeGatherMaxSpeechTime}},
		{"boolean bad", `actionOnEmptyResult="yes"`, func(g *Gather) {}, []int{CodeGatherEmptyResult}},
		{"debug bad", `debug="1"`, func(g *Gather) {}, []int{CodeGatherDebug}},
		{"empty action is absent", `action=""`, func(g *Gather) {}, nil},
		{"hints too long", `hints="` + strings.Repeat("a", 101) + `"`, func(g *Gather) { g.Hints = []string{strings.Repeat("a", 101)} }, []int{CodeGatherHints}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, "<Gather "+tt.attrs+"/>")
			want := gatherDefaults()
			tt.edit(want)
			wantEqual(t, v, want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestGatherNestedLoopCode(t *testing.T) {
	_, w := only(t, `<Gather><Say loop="x">a</Say><Play loop="x">b.wav</Play></Gather>`)
	wantCodes(t, w, CodeGatherSayLoop, CodePlayLoop)
	if !strings.HasPrefix(w[0].Message, "Gather->Say: ") {
		t.Errorf("message %q, want the Gather->Say prefix", w[0].Message)
	}
}

func recordDefaults() *Record {
	return &Record{Pos: Pos{1}, Method: "POST", Timeout: 5, FinishOnKey: DefaultRecordFinishOnKey, MaxLength: 3600,
		PlayBeep: true, Trim: TrimSilence, RecordingStatusCallbackMethod: "POST",
		RecordingStatusCallbackEvents: []string{"completed"}}
}

func TestRecord(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		edit  func(*Record)
		codes []int
	}{
		{"defaults", "<Record/>", func(r *Record) {}, nil},
		{"explicit", `<Record action="/rec" method="GET" timeout="0" finishOnKey="#" maxLength="30" playBeep="false"` +
			` trim="do-not-trim" recordingStatusCallback="/rs" recordingStatusCallbackMethod="GET"` +
			` recordingStatusCallbackEvent="in-progress completed absent" transcribe="true" transcribeCallback="/tc"` +
			` recordingConfigurationId="x"/>`,
			func(r *Record) {
				*r = Record{Pos: Pos{1}, Action: "/rec", Method: "GET", Timeout: 0, FinishOnKey: "#", MaxLength: 30,
					PlayBeep: false, Trim: DoNotTrim, RecordingStatusCallback: "/rs", RecordingStatusCallbackMethod: "GET",
					RecordingStatusCallbackEvents: []string{"in-progress", "completed", "absent"}, Transcribe: true,
					TranscribeCallback: "/tc"}
			}, nil},
		{"transcribe default maxLength", `<Record transcribe="true"/>`, func(r *Record) { r.Transcribe, r.MaxLength = true, 120 }, nil},
		{"transcribe long", `<Record transcribe="true" maxLength="300"/>`, func(r *Record) { r.Transcribe, r.MaxLength = true, 300 }, []int{CodeRecordTranscribeLen}},
		{"finishOnKey set", `<Record finishOnKey="*#"/>`, func(r *Record) { r.FinishOnKey = "*#" }, nil},
		{"finishOnKey empty", `<Record finishOnKey=""/>`, func(r *Record) { r.FinishOnKey = "" }, nil},
		{"finishOnKey bad", `<Record finishOnKey="1a"/>`, func(r *Record) {}, []int{CodeRecordFinishOnKey}},
		{"timeout bad", `<Record timeout="-1"/>`, func(r *Record) {}, []int{CodeRecordTimeout}},
		{"maxLength zero", `<Record maxLength="0"/>`, func(r *Record) {}, []int{CodeRecordMaxLength}},
		{"maxLength text", `<Record maxLength="long"/>`, func(r *Record) {}, []int{CodeRecordMaxLength}},
		{"maxLength clamped", `<Record maxLength="100000"/>`, func(r *Record) { r.MaxLength = 86400 }, []int{CodeRecordMaxLength}},
		{"method bad", `<Record method="DELETE"/>`, func(r *Record) {}, []int{CodeRecordMethod}},
		{"playBeep bad", `<Record playBeep="no"/>`, func(r *Record) {}, []int{CodeRecordPlayBeep}},
		{"transcribe bad", `<Record transcribe="maybe"/>`, func(r *Record) {}, []int{CodeRecordTranscribe}},
		{"trim bad", `<Record trim="yes"/>`, func(r *Record) {}, []int{CodeSchema}},
		{"events bad", `<Record recordingStatusCallbackEvent="done"/>`, func(r *Record) {}, []int{CodeRecordStatusEvent}},
		{"events comma", `<Record recordingStatusCallbackEvent="completed,absent"/>`, func(r *Record) { r.RecordingStatusCallbackEvents = []string{"completed", "absent"} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			want := recordDefaults()
			tt.edit(want)
			wantEqual(t, v, want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func dialDefaults() *Dial {
	return &Dial{Pos: Pos{1}, Method: "POST", Timeout: 30, TimeLimit: 14400, Record: DialDoNotRecord,
		RecordingStatusCallbackMethod: "POST", RecordingStatusCallbackEvents: []string{"completed"},
		RecordingTrack: "both", Trim: DoNotTrim, ReferMethod: "POST"}
}

func TestDialAttributes(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		edit  func(*Dial)
		codes []int
	}{
		{"text number", "<Dial> 415-123-4567 </Dial>", func(d *Dial) { d.Number = "415-123-4567" }, nil},
		{"explicit", `<Dial action="/done" method="GET" timeout="20" timeLimit="600" callerId="+15550001111"` +
			` answerOnBridge="true" hangupOnStar="true" sequential="true" record="record-from-ringing-dual"` +
			` recordingStatusCallback="/rs" recordingStatusCallbackMethod="GET" recordingStatusCallbackEvent="in-progress"` +
			` recordingTrack="inbound" trim="trim-silence" ringTone="uk" referUrl="/refer" referMethod="GET"` +
			` callReason="x" events="call-progress-event" recordingConfigurationId="y">+15551234567</Dial>`,
			func(d *Dial) {
				*d = Dial{Pos: Pos{1}, Action: "/done", Method: "GET", Timeout: 20, TimeLimit: 600, CallerID: "+15550001111",
					AnswerOnBridge: true, HangupOnStar: true, Sequential: true, Record: DialRecordFromRingingDual,
					RecordingStatusCallback: "/rs", RecordingStatusCallbackMethod: "GET",
					RecordingStatusCallbackEvents: []string{"in-progress"}, RecordingTrack: "inbound", Trim: TrimSilence,
					RingTone: "uk", ReferURL: "/refer", ReferMethod: "GET", Number: "+15551234567"}
			}, nil},
		{"record true", `<Dial record="true">1</Dial>`, func(d *Dial) { d.Record, d.Number = DialRecordFromAnswer, "1" }, nil},
		{"record false", `<Dial record="FALSE">1</Dial>`, func(d *Dial) { d.Number = "1" }, nil},
		{"record bad", `<Dial record="always">1</Dial>`, func(d *Dial) { d.Number = "1" }, []int{CodeDialRecord}},
		{"timeout low clamped", `<Dial timeout="2">1</Dial>`, func(d *Dial) { d.Timeout, d.Number = 5, "1" }, []int{CodeDialTimeout}},
		{"timeout high clamped", `<Dial timeout="900">1</Dial>`, func(d *Dial) { d.Timeout, d.Number = 600, "1" }, []int{CodeDialTimeout}},
		{"timeout text", `<Dial timeout="soon">1</Dial>`, func(d *Dial) { d.Number = "1" }, []int{CodeDialTimeout}},
		{"timeLimit bad", `<Dial timeLimit="0">1</Dial>`, func(d *Dial) { d.Number = "1" }, []int{CodeDialTimeLimit}},
		{"method bad", `<Dial method="PATCH">1</Dial>`, func(d *Dial) { d.Number = "1" }, []int{CodeDialMethod}},
		{"hangupOnStar bad", `<Dial hangupOnStar="y">1</Dial>`, func(d *Dial) { d.Number = "1" }, []int{CodeDialHangupOnStar}},
		{"ringTone bad", `<Dial ringTone="xx">1</Dial>`, func(d *Dial) { d.Number = "1" }, []int{CodeSchema}},
		{"empty", `<Dial/>`, func(d *Dial) {}, []int{CodeNumberFormat}},
		{"bad number", `<Dial>call me</Dial>`, func(d *Dial) { d.Number = "call me" }, []int{CodeNumberFormat}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			want := dialDefaults()
			tt.edit(want)
			wantEqual(t, v, want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func amdDefaults() MachineDetection {
	return MachineDetection{Timeout: 30, SpeechThreshold: 2400, SpeechEndThreshold: 1200, SilenceTimeout: 5000, StatusCallbackMethod: "POST"}
}

func legDefaults() LegOptions { return LegOptions{Method: "POST", StatusCallbackMethod: "POST"} }

func TestDialNouns(t *testing.T) {
	tests := []struct {
		name  string
		noun  string
		want  Noun
		codes []int
	}{
		{"number defaults", "<Number>+15551234567</Number>",
			&Number{Pos: Pos{1}, Number: "+15551234567", LegOptions: legDefaults(), AMD: amdDefaults()}, nil},
		{"number explicit", `<Number sendDigits="ww1234#" url="/whisper" method="GET" statusCallback="/sc"` +
			` statusCallbackMethod="GET" statusCallbackEvent="initiated ringing answered completed" byoc="BY123"` +
			` machineDetection="DetectMessageEnd" machineDetectionTimeout="10" machineDetectionSpeechThreshold="3000"` +
			` machineDetectionSpeechEndThreshold="900" machineDetectionSilenceTimeout="4000" amdStatusCallback="/amd"` +
			` amdStatusCallbackMethod="GET">(415) 555-0100</Number>`,
			&Number{Pos: Pos{1}, Number: "(415) 555-0100", SendDigits: "ww1234#", BYOC: "BY123",
				LegOptions: LegOptions{URL: "/whisper", Method: "GET", StatusCallback: "/sc", StatusCallbackMethod: "GET",
					StatusCallbackEvents: []string{"initiated", "ringing", "answered", "completed"}},
				AMD: MachineDetection{Mode: "DetectMessageEnd", Timeout: 10, SpeechThreshold: 3000, SpeechEndThreshold: 900,
					SilenceTimeout: 4000, StatusCallback: "/amd", StatusCallbackMethod: "GET"}}, nil},
		{"number statusCallback default event", `<Number statusCallback="/sc">1</Number>`,
			&Number{Pos: Pos{1}, Number: "1", LegOptions: LegOptions{Method: "POST", StatusCallback: "/sc",
				StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"completed"}}, AMD: amdDefaults()}, nil},
		{"number bad sendDigits", `<Number sendDigits="12z">1</Number>`,
			&Number{Pos: Pos{1}, Number: "1", SendDigits: "12", LegOptions: legDefaults(), AMD: amdDefaults()}, []int{CodeNumberSendDigits}},
		{"number bad method", `<Number method="PUT">1</Number>`,
			&Number{Pos: Pos{1}, Number: "1", LegOptions: legDefaults(), AMD: amdDefaults()}, []int{CodeNumberMethod}},
		{"number AMD clamped", `<Number machineDetectionTimeout="100">1</Number>`,
			&Number{Pos: Pos{1}, Number: "1", LegOptions: legDefaults(), AMD: func() MachineDetection { m := amdDefaults(); m.Timeout = 60; return m }()}, []int{CodeSchema}},
		{"number empty", `<Number/>`, &Number{Pos: Pos{1}, LegOptions: legDefaults(), AMD: amdDefaults()}, []int{CodeNumberFormat}},
		{"number bad", `<Number>sip:x@y</Number>`, &Number{Pos: Pos{1}, Number: "sip:x@y", LegOptions: legDefaults(), AMD: amdDefaults()}, []int{CodeNumberFormat}},
		{"client text", `<Client>alice</Client>`, &Client{Pos: Pos{1}, Identity: "alice", LegOptions: legDefaults()}, nil},
		{"client identity and parameters", `<Client url="/w" statusCallbackEvent="ringing" clientNotificationUrl="/n">` +
			`<Identity>bob</Identity><Parameter name="CallerName" value="Ann"/><Parameter name="x" value=""/></Client>`,
			&Client{Pos: Pos{1}, Identity: "bob", ClientNotificationURL: "/n",
				Parameters: []Parameter{{"CallerName", "Ann"}, {"x", ""}},
				LegOptions: LegOptions{URL: "/w", Method: "POST", StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"ringing"}}}, nil},
		{"client empty", `<Client/>`, &Client{Pos: Pos{1}, LegOptions: legDefaults()}, []int{CodeSchema}},
		{"sip", `<Sip username="u" password="p" url="/w">sip:agent@127.0.0.1:5080;transport=tcp?X-Foo=bar</Sip>`,
			&Sip{Pos: Pos{1}, URI: "sip:agent@127.0.0.1:5080;transport=tcp?X-Foo=bar", Username: "u", Password: "p",
				LegOptions: LegOptions{URL: "/w", Method: "POST", StatusCallbackMethod: "POST"}, AMD: amdDefaults()}, nil},
		{"sip uri child and headers", `<Sip><Uri username="u">sips:a@b</Uri><Headers><Header name="X-A" value="1"/></Headers></Sip>`,
			&Sip{Pos: Pos{1}, URI: "sips:a@b", Username: "u", Headers: []Parameter{{"X-A", "1"}}, LegOptions: legDefaults(), AMD: amdDefaults()}, nil},
		{"sip bad scheme", `<Sip>agent@host</Sip>`, &Sip{Pos: Pos{1}, URI: "agent@host", LegOptions: legDefaults(), AMD: amdDefaults()}, []int{CodeSchema}},
		{"conference defaults", `<Conference>room1</Conference>`,
			&Conference{Pos: Pos{1}, Room: "room1", Beep: "true", StartConferenceOnEnter: true, WaitMethod: "POST",
				MaxParticipants: 250, Record: "do-not-record", Trim: TrimSilence, RecordingChannels: "mono", StatusCallbackMethod: "POST",
				RecordingStatusCallbackMethod: "POST", RecordingStatusCallbackEvents: []string{"completed"}}, nil},
		{"conference explicit", `<Conference muted="true" beep="onExit" startConferenceOnEnter="false" endConferenceOnExit="true"` +
			` waitUrl="" waitMethod="GET" maxParticipants="10" record="record-from-start" trim="false" recordingChannels="dual" region="ie1"` +
			` coach="CA1" participantLabel="agent" jitterBufferSize="small" eventCallbackUrl="/ev" statusCallback="/sc"` +
			` statusCallbackMethod="GET" statusCallbackEvent="start end join" recordingStatusCallback="/rs"` +
			` recordingStatusCallbackMethod="GET" recordingStatusCallbackEvent="absent">room2</Conference>`,
			&Conference{Pos: Pos{1}, Room: "room2", Muted: true, Beep: "onExit", StartConferenceOnEnter: false,
				EndConferenceOnExit: true, WaitURL: "", HasWaitURL: true, WaitMethod: "GET", MaxParticipants: 10,
				Record: "record-from-start", Trim: DoNotTrim, RecordingChannels: "dual", Region: "ie1", Coach: "CA1", ParticipantLabel: "agent",
				JitterBufferSize: "small", EventCallbackURL: "/ev", StatusCallback: "/sc", StatusCallbackMethod: "GET",
				StatusCallbackEvents: []string{"start", "end", "join"}, RecordingStatusCallback: "/rs",
				RecordingStatusCallbackMethod: "GET", RecordingStatusCallbackEvents: []string{"absent"}}, nil},
		{"conference bad values", `<Conference muted="x" beep="loud" startConferenceOnEnter="x" endConferenceOnExit="x" waitMethod="x" trim="x">r</Conference>`,
			&Conference{Pos: Pos{1}, Room: "r", Beep: "true", StartConferenceOnEnter: true, WaitMethod: "POST",
				MaxParticipants: 250, Record: "do-not-record", Trim: TrimSilence, RecordingChannels: "mono", StatusCallbackMethod: "POST",
				RecordingStatusCallbackMethod: "POST", RecordingStatusCallbackEvents: []string{"completed"}},
			[]int{CodeConfMuted, CodeConfBeep, CodeConfStartOnEnter, CodeConfEndOnExit, CodeConfWaitMethod, CodeConfTrim}},
		{"queue", `<Queue url="/about-to-connect" method="GET" reservationSid="WR1" postWorkActivitySid="WA1">support</Queue>`,
			&Queue{Pos: Pos{1}, QueueName: "support", URL: "/about-to-connect", Method: "GET", ReservationSID: "WR1", PostWorkActivitySID: "WA1"}, nil},
		{"queue defaults", `<Queue>support</Queue>`, &Queue{Pos: Pos{1}, QueueName: "support", Method: "POST"}, nil},
		{"application", `<Application customerId="c1" copyParentTo="true"><ApplicationSid>AP123</ApplicationSid><Parameter name="a" value="b"/></Application>`,
			&Application{Pos: Pos{1}, SID: "AP123", CustomerID: "c1", CopyParentTo: true, Parameters: []Parameter{{"a", "b"}}, LegOptions: legDefaults()}, nil},
		{"application text", `<Application>AP9</Application>`, &Application{Pos: Pos{1}, SID: "AP9", LegOptions: legDefaults()}, nil},
		{"whatsapp generic", `<WhatsApp url="/w">+15550001111</WhatsApp>`,
			&Element{Pos: Pos{1}, Tag: "WhatsApp", Attrs: []Parameter{{"url", "/w"}}, Text: "+15550001111"}, nil},
		{"sim generic", `<Sim>DE123</Sim>`, &Element{Pos: Pos{1}, Tag: "Sim", Text: "DE123"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, "<Dial>"+tt.noun+"</Dial>")
			d := v.(*Dial)
			if len(d.Nouns) != 1 || d.Number != "" {
				t.Fatalf("Dial nouns %s number %q", dump(d.Nouns), d.Number)
			}
			wantEqual(t, d.Nouns[0], tt.want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestDialNounCounts(t *testing.T) {
	nouns := func(tag string, n int) string {
		return strings.Repeat("<"+tag+">sip:1@x</"+tag+">", n)
	}
	tests := []struct {
		name    string
		content string
		nouns   int
		errCode int
	}{
		{"ten numbers", strings.Repeat("<Number>1</Number>", 10), 10, 0},
		{"eleven numbers", strings.Repeat("<Number>1</Number>", 11), 0, CodeDialNested},
		{"ten of each", strings.Repeat("<Number>1</Number>", 10) + strings.Repeat("<Client>a</Client>", 10) + nouns("Sip", 10), 30, 0},
		{"eleven sips", nouns("Sip", 11), 0, CodeDialNested},
		{"eleven clients", strings.Repeat("<Client>a</Client>", 11), 0, CodeDialNested},
		{"conference alone", "<Conference>r</Conference>", 1, 0},
		{"two conferences", "<Conference>r</Conference><Conference>s</Conference>", 0, CodeDialNested},
		{"conference and number", "<Number>1</Number><Conference>r</Conference>", 0, CodeDialNested},
		{"queue and client", "<Queue>q</Queue><Client>a</Client>", 0, CodeDialNested},
		{"mixed number client sip", "<Number>1</Number><Client>a</Client><Sip>sip:a@b</Sip>", 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := doc("<Dial>" + tt.content + "</Dial>")
			if tt.errCode != 0 {
				if e := parseError(t, data); e.Code != tt.errCode || e.Verb != "Dial" {
					t.Errorf("got %v, want %d", e, tt.errCode)
				}
				return
			}
			r, _ := mustParse(t, data)
			if got := len(r.Verbs[0].(*Dial).Nouns); got != tt.nouns {
				t.Errorf("got %d nouns, want %d", got, tt.nouns)
			}
		})
	}
}

func TestDialTextWithNouns(t *testing.T) {
	v, w := only(t, "<Dial>\n  <Number>1</Number>\n  oops\n</Dial>")
	if d := v.(*Dial); d.Number != "" || len(d.Nouns) != 1 {
		t.Errorf("got %s", dump(d))
	}
	wantCodes(t, w, CodeSchema)
}

func TestEnqueue(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		want  *Enqueue
		codes []int
	}{
		{"defaults", "<Enqueue>support</Enqueue>", &Enqueue{Pos: Pos{1}, QueueName: "support", Method: "POST", WaitURLMethod: "GET"}, nil},
		{"explicit", `<Enqueue action="/after" method="GET" waitUrl="/hold" waitUrlMethod="GET" maxQueueSize="50" workflowSid="WW1">sales</Enqueue>`,
			&Enqueue{Pos: Pos{1}, QueueName: "sales", Action: "/after", Method: "GET", WaitURL: "/hold", HasWaitURL: true,
				WaitURLMethod: "GET", MaxQueueSize: 50, WorkflowSID: "WW1"}, nil},
		{"waitUrl given defaults to POST", `<Enqueue waitUrl="/hold">q</Enqueue>`,
			&Enqueue{Pos: Pos{1}, QueueName: "q", Method: "POST", WaitURL: "/hold", HasWaitURL: true, WaitURLMethod: "POST"}, nil},
		{"empty waitUrl means silence", `<Enqueue waitUrl="">q</Enqueue>`,
			&Enqueue{Pos: Pos{1}, QueueName: "q", Method: "POST", HasWaitURL: true, WaitURLMethod: "GET"}, nil},
		{"task", `<Enqueue workflowSid="WW1"><Task priority="5" timeout="200">{"selected_product": "manager"}</Task></Enqueue>`,
			&Enqueue{Pos: Pos{1}, Method: "POST", WaitURLMethod: "GET", WorkflowSID: "WW1",
				Task: &Task{Pos: Pos{1}, JSON: `{"selected_product": "manager"}`, Priority: 5, Timeout: 200}}, nil},
		{"task bad json", `<Enqueue><Task>{oops</Task></Enqueue>`,
			&Enqueue{Pos: Pos{1}, Method: "POST", WaitURLMethod: "GET", Task: &Task{Pos: Pos{1}, JSON: "{oops"}}, []int{CodeSchema}},
		{"no name", `<Enqueue/>`, &Enqueue{Pos: Pos{1}, Method: "POST", WaitURLMethod: "GET"}, []int{CodeSchema}},
		{"long name", `<Enqueue>` + strings.Repeat("q", 65) + `</Enqueue>`,
			&Enqueue{Pos: Pos{1}, QueueName: strings.Repeat("q", 65), Method: "POST", WaitURLMethod: "GET"}, []int{CodeSchema}},
		{"bad maxQueueSize", `<Enqueue maxQueueSize="6000">q</Enqueue>`,
			&Enqueue{Pos: Pos{1}, QueueName: "q", Method: "POST", WaitURLMethod: "GET"}, []int{CodeSchema}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			wantEqual(t, v, tt.want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestSimpleVerbs(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		want  Verb
		codes []int
	}{
		{"leave", "<Leave/>", &Leave{Pos{1}}, nil},
		{"hangup", "<Hangup/>", &Hangup{Pos: Pos{1}}, nil},
		{"hangup parameters", `<Hangup><Parameter name="X-Reason" value="done"/></Hangup>`, &Hangup{Pos: Pos{1}, Parameters: []Parameter{{"X-Reason", "done"}}}, nil},
		{"echo", "<Echo/>", &Echo{Pos{1}}, nil},
		{"redirect default", "<Redirect>/next</Redirect>", &Redirect{Pos: Pos{1}, URL: "/next", Method: "POST"}, nil},
		{"redirect get", `<Redirect method="get"> http://x/y?a=1&amp;b=2 </Redirect>`, &Redirect{Pos: Pos{1}, URL: "http://x/y?a=1&b=2", Method: "GET"}, nil},
		{"redirect bad method", `<Redirect method="PUT">/n</Redirect>`, &Redirect{Pos: Pos{1}, URL: "/n", Method: "POST"}, []int{CodeRedirectMethod}},
		{"redirect empty", `<Redirect/>`, &Redirect{Pos: Pos{1}, Method: "POST"}, []int{CodeInvalidURL}},
		{"reject default", "<Reject/>", &Reject{Pos: Pos{1}, Reason: RejectRejected}, nil},
		{"reject busy", `<Reject reason="Busy"/>`, &Reject{Pos: Pos{1}, Reason: RejectBusy}, nil},
		{"reject bad", `<Reject reason="nope"/>`, &Reject{Pos: Pos{1}, Reason: RejectRejected}, []int{CodeSchema}},
		{"refer", `<Refer action="/r" method="GET"><Sip>sip:alice@example.com</Sip></Refer>`,
			&Refer{Pos: Pos{1}, Action: "/r", Method: "GET", Target: &ReferSip{Pos: Pos{1}, URI: "sip:alice@example.com"}}, nil},
		{"refer without sip", `<Refer/>`, &Refer{Pos: Pos{1}, Method: "POST"}, []int{CodeSchema}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			wantEqual(t, v, tt.want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestConnectStartStop(t *testing.T) {
	tests := []struct {
		name  string
		verb  string
		want  Verb
		codes []int
	}{
		{"connect stream", `<Connect action="/after"><Stream url="wss://example.com/media" name="s1" statusCallback="/sc">` +
			`<Parameter name="a" value="1"/></Stream></Connect>`,
			&Connect{Pos: Pos{1}, Action: "/after", Method: "POST", Target: &Stream{Pos: Pos{1}, URL: "wss://example.com/media",
				StreamName: "s1", Track: TrackInbound, StatusCallback: "/sc", StatusCallbackMethod: "POST", Parameters: []Parameter{{"a", "1"}}}}, nil},
		{"connect stream track forced", `<Connect><Stream url="wss://x" track="both_tracks"/></Connect>`,
			&Connect{Pos: Pos{1}, Method: "POST", Target: &Stream{Pos: Pos{1}, URL: "wss://x", Track: TrackInbound, StatusCallbackMethod: "POST"}}, []int{CodeSchema}},
		{"connect relay generic", `<Connect><ConversationRelay url="wss://ai" welcomeGreeting="Hi"><Language code="fr-FR"/></ConversationRelay></Connect>`,
			&Connect{Pos: Pos{1}, Method: "POST", Target: &Element{Pos: Pos{1}, Tag: "ConversationRelay",
				Attrs:    []Parameter{{"url", "wss://ai"}, {"welcomeGreeting", "Hi"}},
				Children: []*Element{{Pos: Pos{1}, Tag: "Language", Attrs: []Parameter{{"code", "fr-FR"}}}}}}, nil},
		{"connect room", `<Connect><Room participantIdentity="x">DailyStandup</Room></Connect>`,
			&Connect{Pos: Pos{1}, Method: "POST", Target: &Element{Pos: Pos{1}, Tag: "Room", Attrs: []Parameter{{"participantIdentity", "x"}}, Text: "DailyStandup"}}, nil},
		{"connect empty", `<Connect/>`, &Connect{Pos: Pos{1}, Method: "POST"}, []int{CodeSchema}},
		{"connect stream without url", `<Connect><Stream/></Connect>`,
			&Connect{Pos: Pos{1}, Method: "POST", Target: &Stream{Pos: Pos{1}, Track: TrackInbound, StatusCallbackMethod: "POST"}}, []int{CodeSchema}},
		{"connect stream http url", `<Connect><Stream url="http://x"/></Connect>`,
			&Connect{Pos: Pos{1}, Method: "POST", Target: &Stream{Pos: Pos{1}, URL: "http://x", Track: TrackInbound, StatusCallbackMethod: "POST"}}, []int{CodeSchema}},
		{"start stream and transcription", `<Start action="/a"><Stream url="wss://x" track="both_tracks"/><Transcription name="t" languageCode="en-US"/></Start>`,
			&Start{Pos: Pos{1}, Action: "/a", Method: "POST", Features: []Noun{
				&Stream{Pos: Pos{1}, URL: "wss://x", Track: TrackBoth, StatusCallbackMethod: "POST"},
				&Element{Pos: Pos{1}, Tag: "Transcription", Attrs: []Parameter{{"name", "t"}, {"languageCode", "en-US"}}}}}, nil},
		{"start recording and siprec", `<Start><Recording channels="dual"/><Siprec name="r" connectorName="c"><Parameter name="p" value="v"/></Siprec></Start>`,
			&Start{Pos: Pos{1}, Method: "POST", Features: []Noun{
				&Element{Pos: Pos{1}, Tag: "Recording", Attrs: []Parameter{{"channels", "dual"}}},
				&Element{Pos: Pos{1}, Tag: "Siprec", Attrs: []Parameter{{"name", "r"}, {"connectorName", "c"}},
					Children: []*Element{{Pos: Pos{1}, Tag: "Parameter", Attrs: []Parameter{{"name", "p"}, {"value", "v"}}}}}}}, nil},
		{"stop stream by name", `<Stop><Stream name="s1"/></Stop>`,
			&Stop{Pos: Pos{1}, Features: []Noun{&Stream{Pos: Pos{1}, StreamName: "s1", Track: TrackInbound, StatusCallbackMethod: "POST"}}}, nil},
		{"stop stream anonymous", `<Stop><Stream/></Stop>`,
			&Stop{Pos: Pos{1}, Features: []Noun{&Stream{Pos: Pos{1}, Track: TrackInbound, StatusCallbackMethod: "POST"}}}, []int{CodeSchema}},
		{"stop empty", `<Stop/>`, &Stop{Pos: Pos{1}}, []int{CodeSchema}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, w := only(t, tt.verb)
			wantEqual(t, v, tt.want)
			wantCodes(t, w, tt.codes...)
		})
	}
}

func TestPay(t *testing.T) {
	v, w := only(t, `<Pay chargeAmount="10.00" paymentConnector="Default" action="/paid" validCardTypes="visa amex">`+
		`<Prompt for="payment-card-number" attempt="1 2"><Say>Enter your card</Say><Pause/></Prompt>`+
		`<Parameter name="k" value="v"/></Pay>`)
	wantCodes(t, w)
	want := &Pay{Pos: Pos{1}, Action: "/paid", Method: "POST",
		Attrs: []Parameter{{"chargeAmount", "10.00"}, {"paymentConnector", "Default"}, {"action", "/paid"}, {"validCardTypes", "visa amex"}},
		Prompts: []*Prompt{{Pos: Pos{1}, For: "payment-card-number", Attrs: []Parameter{{"for", "payment-card-number"}, {"attempt", "1 2"}},
			Children: []Verb{&Say{Pos: Pos{1}, Text: "Enter your card", Segments: []SaySegment{{Text: "Enter your card"}}, Voice: "man", Loop: 1}, &Pause{Pos: Pos{1}, Length: 1}}}},
		Parameters: []Parameter{{"k", "v"}}}
	wantEqual(t, v, want)

	_, w = only(t, `<Pay bogus="1"><Prompt bad="2"/></Pay>`)
	wantCodes(t, w, CodeSchema, CodeSchema)
}

func TestMethodsAndBooleansCaseInsensitive(t *testing.T) {
	v, w := only(t, `<Gather method="post" actionOnEmptyResult="True" profanityFilter="FALSE"/>`)
	wantCodes(t, w)
	g := v.(*Gather)
	if g.Method != "POST" || !g.ActionOnEmptyResult || g.ProfanityFilter {
		t.Errorf("got %s", dump(g))
	}
}

func TestParameterWithoutName(t *testing.T) {
	_, w := only(t, `<Hangup><Parameter value="x"/></Hangup>`)
	wantCodes(t, w, CodeSchema)
}

func TestInputString(t *testing.T) {
	for in, want := range map[Input]string{InputDTMF: "dtmf", InputSpeech: "speech", InputDTMF | InputSpeech: "dtmf speech", 0: ""} {
		if got := in.String(); got != want {
			t.Errorf("Input(%d).String() = %q, want %q", in, got, want)
		}
	}
}

func TestVerbNames(t *testing.T) {
	r, _ := mustParse(t, doc(`<Say>a</Say><Play>b</Play><Pause/><Gather/><Record/><Dial>1</Dial><Enqueue>q</Enqueue>`+
		`<Leave/><Hangup/><Redirect>/x</Redirect><Reject/><Refer><Sip>sip:a@b</Sip></Refer><Connect><Stream url="wss://x"/></Connect>`+
		`<Start><Stream url="wss://x"/></Start><Stop><Stream name="n"/></Stop><Pay/><Echo/>`))
	var got []string
	for _, v := range r.Verbs {
		got = append(got, v.Name())
	}
	wantEqual(t, got, []string{"Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Hangup",
		"Redirect", "Reject", "Refer", "Connect", "Start", "Stop", "Pay", "Echo"})
}
