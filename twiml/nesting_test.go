package twiml

import (
	"strings"
	"testing"
)

// elementSnippets are minimal, valid-on-their-own forms of every element
// name the nesting tests place somewhere.
var elementSnippets = map[string]string{
	"Say": "<Say>x</Say>", "Play": "<Play>a.wav</Play>", "Pause": "<Pause/>", "Gather": "<Gather/>",
	"Record": "<Record/>", "Dial": "<Dial>1</Dial>", "Enqueue": "<Enqueue>q</Enqueue>", "Leave": "<Leave/>",
	"Hangup": "<Hangup/>", "Redirect": "<Redirect>/x</Redirect>", "Reject": "<Reject/>",
	"Refer": "<Refer><Sip>sip:a@b</Sip></Refer>", "Connect": `<Connect><Stream url="wss://x"/></Connect>`,
	"Start": `<Start><Stream url="wss://x"/></Start>`, "Stop": `<Stop><Stream name="n"/></Stop>`, "Pay": "<Pay/>",
	"Echo": "<Echo/>", "Sms": "<Sms>hi</Sms>", "Prompt": "<Prompt/>", "Foo": "<Foo/>", "say": "<say>x</say>",
	"Number": "<Number>1</Number>", "Client": "<Client>a</Client>", "Sip": "<Sip>sip:a@b</Sip>",
	"Conference": "<Conference>r</Conference>", "Queue": "<Queue>q</Queue>", "Application": "<Application>AP1</Application>",
	"WhatsApp": "<WhatsApp>+1555</WhatsApp>", "Sim": "<Sim>DE1</Sim>", "Task": "<Task>{}</Task>",
	"Stream": `<Stream url="wss://x" name="n"/>`, "Siprec": `<Siprec name="x"/>`, "Transcription": "<Transcription/>",
	"Recording": "<Recording/>", "Room": "<Room>r</Room>", "ConversationRelay": `<ConversationRelay url="wss://x"/>`,
	"VirtualAgent": "<VirtualAgent/>", "Conversation": "<Conversation/>", "Assistant": "<Assistant/>",
	"AiSession": "<AiSession/>", "Autopilot": "<Autopilot>x</Autopilot>", "Parameter": `<Parameter name="a" value="b"/>`,
	"Identity": "<Identity>a</Identity>", "break": `<break time="1s"/>`,
}

func TestNestingMatrix(t *testing.T) {
	tests := []struct {
		parent  string // reported as the problem's Verb
		wrap    string // CHILD is replaced by the child element
		allowed []string
		code    int // for everything not allowed
	}{
		{"Response", "CHILD", []string{"Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Hangup",
			"Redirect", "Reject", "Refer", "Connect", "Start", "Stop", "Pay", "Echo"}, CodeSchema},
		{"Gather", "<Gather>CHILD</Gather>", []string{"Say", "Play", "Pause"}, CodeGatherNested},
		{"Dial", "<Dial>CHILD</Dial>", []string{"Number", "Client", "Sip", "Conference", "Queue", "Application", "WhatsApp", "Sim"}, CodeDialNested},
		{"Enqueue", "<Enqueue>CHILD</Enqueue>", []string{"Task"}, CodeSchema},
		{"Refer", "<Refer>CHILD</Refer>", []string{"Sip"}, CodeSchema},
		{"Connect", "<Connect>CHILD</Connect>", []string{"Stream", "Room", "ConversationRelay", "VirtualAgent", "Conversation",
			"Assistant", "AiSession", "Autopilot"}, CodeSchema},
		{"Start", "<Start>CHILD</Start>", []string{"Stream", "Siprec", "Transcription", "Recording"}, CodeStartNoun},
		{"Stop", "<Stop>CHILD</Stop>", []string{"Stream", "Siprec", "Transcription"}, CodeStartNoun},
		{"Pay", "<Pay>CHILD</Pay>", []string{"Prompt", "Parameter"}, CodeSchema},
		{"Prompt", "<Pay><Prompt>CHILD</Prompt></Pay>", []string{"Say", "Play", "Pause"}, CodeSchema},
		{"Client", "<Dial><Client>a CHILD</Client></Dial>", []string{"Identity", "Parameter"}, CodeSchema},
		{"Application", "<Dial><Application>AP1 CHILD</Application></Dial>", []string{"Parameter"}, CodeSchema},
		{"Stream", `<Connect><Stream url="wss://x">CHILD</Stream></Connect>`, []string{"Parameter"}, CodeSchema},
		{"Hangup", "<Hangup>CHILD</Hangup>", []string{"Parameter"}, CodeSchema},
		{"Reject", "<Reject>CHILD</Reject>", []string{"Parameter"}, CodeSchema},
		{"Say", "<Say>hi CHILD</Say>", []string{"break"}, CodeSchema},
		{"Record", "<Record>CHILD</Record>", nil, CodeSchema},
		{"Pause", "<Pause>CHILD</Pause>", nil, CodeSchema},
		{"Leave", "<Leave>CHILD</Leave>", nil, CodeSchema},
		{"Redirect", "<Redirect>/x CHILD</Redirect>", nil, CodeSchema},
		{"Echo", "<Echo>CHILD</Echo>", nil, CodeSchema},
		{"Play", "<Play>a.wav CHILD</Play>", nil, CodeSchema},
		{"Number", "<Dial><Number>1 CHILD</Number></Dial>", nil, CodeSchema},
		{"Conference", "<Dial><Conference>r CHILD</Conference></Dial>", nil, CodeSchema},
		{"Queue", "<Dial><Queue>q CHILD</Queue></Dial>", nil, CodeSchema},
		{"Task", "<Enqueue><Task>{} CHILD</Task></Enqueue>", nil, CodeSchema},
		{"Parameter", "<Hangup><Parameter name=\"a\">CHILD</Parameter></Hangup>", nil, CodeSchema},
	}
	for _, tt := range tests {
		for child, snippet := range elementSnippets {
			allowed := contains(tt.allowed, child)
			t.Run(tt.parent+"/"+child, func(t *testing.T) {
				data := doc(strings.Replace(tt.wrap, "CHILD", snippet, 1))
				if allowed {
					mustParse(t, data)
					return
				}
				e := parseError(t, data)
				if e.Code != tt.code || e.Verb != tt.parent {
					t.Errorf("got %v (verb %q), want code %d on <%s>", e, e.Verb, tt.code, tt.parent)
				}
			})
		}
	}
}

func TestSSMLElementsNest(t *testing.T) {
	var b strings.Builder
	for _, el := range ssmlElements {
		if el != "break" {
			b.WriteString("<" + el + ` x="1">` + el + " ")
		}
	}
	b.WriteString(`<break time="1s"/>`)
	for i := len(ssmlElements) - 1; i >= 0; i-- {
		if ssmlElements[i] != "break" {
			b.WriteString("</" + ssmlElements[i] + ">")
		}
	}
	v, w := only(t, "<Say>"+b.String()+"</Say>")
	wantCodes(t, w)
	s := v.(*Say)
	if !strings.HasPrefix(s.Text, "emphasis lang p phoneme prosody s say-as") || s.SSML == "" || len(s.Segments) != 1 {
		t.Errorf("got %s", dump(s))
	}
}

func TestPlayDigitsInsideGather(t *testing.T) {
	e := parseError(t, doc(`<Gather><Play digits="123"/></Gather>`))
	if e.Code != CodeGatherNested || e.Verb != "Gather" {
		t.Errorf("got %v, want 13320", e)
	}
	// Play digits is fine at the top level and inside a Pay prompt.
	mustParse(t, doc(`<Play digits="123"/><Pay><Prompt><Play digits="1"/></Prompt></Pay>`))
}

func TestSecondNounIsAnError(t *testing.T) {
	for _, src := range []string{
		`<Connect><Stream url="wss://a"/><Stream url="wss://b"/></Connect>`,
		`<Refer><Sip>sip:a@b</Sip><Sip>sip:c@d</Sip></Refer>`,
		`<Enqueue><Task>{}</Task><Task>{}</Task></Enqueue>`,
	} {
		if e := parseError(t, doc(src)); e.Code != CodeSchema {
			t.Errorf("%s: got %v", src, e)
		}
	}
}

func TestBreakTakesNoChildren(t *testing.T) {
	if e := parseError(t, doc(`<Say><break><emphasis>x</emphasis></break></Say>`)); e.Code != CodeSchema || e.Verb != "break" {
		t.Errorf("got %v", e)
	}
}
