package ivr

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/recording"
)

// fakeDialer answers or fails by the To value: "busy", "noanswer",
// "fail", anything else answers (after delay when To starts with "slow").
type fakeDialer struct {
	mu    sync.Mutex
	calls map[string]*fakeCall
	reqs  []DialRequest
	// answered, if set, sees each answering call before Dial returns it.
	answered func(to string, c *fakeCall)
}

func (d *fakeDialer) Dial(ctx context.Context, req DialRequest) (Call, error) {
	d.mu.Lock()
	d.reqs = append(d.reqs, req)
	d.mu.Unlock()
	if req.OnRinging != nil {
		req.OnRinging(false)
	}
	switch req.To {
	case "busy":
		return nil, &DialFailure{Status: "busy", Code: 486}
	case "fail":
		return nil, &DialFailure{Status: "failed", Code: 404}
	case "noanswer":
		<-ctx.Done()
		return nil, &DialFailure{Status: "canceled"}
	}
	if req.To == "slow" {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return nil, &DialFailure{Status: "canceled"}
		}
	}
	c := newFakeCall()
	if d.answered != nil {
		d.answered(req.To, c)
	}
	d.mu.Lock()
	if d.calls == nil {
		d.calls = map[string]*fakeCall{}
	}
	d.calls[req.To] = c
	d.mu.Unlock()
	return c, nil
}

func (d *fakeDialer) call(to string) *fakeCall {
	for range 500 {
		d.mu.Lock()
		c := d.calls[to]
		d.mu.Unlock()
		if c != nil {
			return c
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func dialHarness(t *testing.T, doc string) (*harness, *fakeDialer) {
	h := newHarness(t, nil)
	d := &fakeDialer{}
	h.eng.cfg.Dialer = d
	h.app.set("/voice", doc)
	h.app.set("/after", `<Response><Hangup/></Response>`)
	return h, d
}

func TestDialBridgesAndReportsToAction(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after" callerId="+15550009999"><Number sendDigits="12">+15551230000</Number></Dial><Say>never</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("+15551230000")
	if child == nil {
		t.Fatal("never dialled")
	}
	time.Sleep(100 * time.Millisecond)
	child.leg.Close("remote-bye") // the called party hangs up
	h.wait(t)
	a := h.app.requests("/after")
	if len(a) != 1 {
		t.Fatalf("action requested %d times", len(a))
	}
	f := a[0].form
	if f.Get("DialCallStatus") != "completed" || f.Get("DialBridged") != "true" || len(f.Get("DialCallSid")) != 34 || f.Get("DialCallDuration") == "" {
		t.Errorf("action params %v", f)
	}
	if d.reqs[0].From != "+15550009999" || d.reqs[0].ParentSID != "CA00000000000000000000000000000001" {
		t.Errorf("dial request %+v", d.reqs[0])
	}
	sent := child.leg.Sent()
	if len(sent) != 1 || sent[0] != "12" {
		t.Errorf("sendDigits on the child: %v", sent)
	}
}

func TestDialParallelFirstAnswerWins(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after"><Sip>busy</Sip><Sip>slow</Sip><Sip>noanswer</Sip></Dial></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("slow")
	if child == nil {
		t.Fatal("slow target never answered")
	}
	time.Sleep(50 * time.Millisecond)
	child.leg.Close("remote-bye")
	h.wait(t)
	if f := h.app.requests("/after")[0].form; f.Get("DialCallStatus") != "completed" {
		t.Errorf("DialCallStatus %q", f.Get("DialCallStatus"))
	}
}

func TestDialNotAnswered(t *testing.T) {
	for _, c := range []struct{ to, want string }{{"busy", "busy"}, {"fail", "failed"}} {
		h, _ := dialHarness(t, `<Response><Dial action="/after">`+c.to+`</Dial></Response>`)
		h.start(App{VoiceURL: h.app.url("/voice")})
		h.wait(t)
		a := h.app.requests("/after")
		if len(a) != 1 || a[0].form.Get("DialCallStatus") != c.want || a[0].form.Get("DialCallSid") != "" {
			t.Errorf("%s: action %v", c.to, a)
		}
	}
}

func TestDialWithoutActionGoesOn(t *testing.T) {
	h, _ := dialHarness(t, `<Response><Dial>busy</Dial><Say>after</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	// Ringback (one Play), then the Say after the Dial.
	plays := h.call.leg.Plays()
	if len(plays) < 1 || plays[len(plays)-1] != 400 {
		t.Errorf("plays %v: want the <Say> after the failed Dial last", plays)
	}
}

func TestDialCallerHangsUpDuringBridge(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after">+1555</Dial></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("+1555")
	if child == nil {
		t.Fatal("never dialled")
	}
	time.Sleep(50 * time.Millisecond)
	h.call.leg.Close("remote-bye")
	h.wait(t)
	if got := child.history(); len(got) == 0 || got[len(got)-1] != "hangup" {
		t.Errorf("child leg events %v, want it hung up", got)
	}
	a := h.app.requests("/after")
	if len(a) != 1 || a[0].form.Get("CallStatus") != "completed" {
		t.Errorf("action after the caller hung up: %v", a)
	}
}

func TestDialRecordFromAnswer(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after" record="record-from-answer" recordingStatusCallback="/recst">+1555</Dial></Response>`)
	dir := t.TempDir()
	var saved []recording.Recording
	var mu sync.Mutex
	h.recordTo(dir, func(r recording.Recording) { mu.Lock(); saved = append(saved, r); mu.Unlock() })
	h.app.set("/recst", `<Response/>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("+1555")
	if child == nil {
		t.Fatal("never dialled")
	}
	time.Sleep(300 * time.Millisecond)
	child.leg.Close("remote-bye")
	h.wait(t)
	f := h.app.requests("/after")[0].form
	sid := f.Get("RecordingSid")
	if sid == "" || f.Get("RecordingUrl") == "" {
		t.Fatalf("Dial action lacks the recording: %v", f)
	}
	if _, err := os.Stat(filepath.Join(dir, sid+".wav")); err != nil {
		t.Errorf("recording file: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(saved) != 1 || saved[0].Source != "DialVerb" {
		t.Errorf("RecordingSaved: %+v", saved)
	}
}

func TestDialWhisperRunsOnCalledParty(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after"><Number url="/whisper">+1555</Number></Dial></Response>`)
	h.app.set("/whisper", `<Response><Say>call for you</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("+1555")
	if child == nil {
		t.Fatal("never dialled")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.app.requests("/whisper")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	child.leg.Close("remote-bye")
	h.wait(t)
	w := h.app.requests("/whisper")
	if len(w) != 1 || w[0].form.Get("Direction") != "outbound-dial" || w[0].form.Get("ParentCallSid") != "CA00000000000000000000000000000001" {
		t.Fatalf("whisper requests %v", w)
	}
	if got := child.leg.Plays(); len(got) == 0 || got[0] != 80*len("call for you") {
		t.Errorf("child plays %v: want the whisper first", got)
	}
	if f := h.app.requests("/after")[0].form; f.Get("DialCallStatus") != "completed" {
		t.Errorf("DialCallStatus %q", f.Get("DialCallStatus"))
	}
}

func TestDialWhisperHangupScreensOut(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after"><Number url="/whisper">+1555</Number></Dial></Response>`)
	h.app.set("/whisper", `<Response><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	if f := h.app.requests("/after")[0].form; f.Get("DialCallStatus") != "no-answer" || f.Get("DialBridged") != "false" {
		t.Errorf("screened-out call: %v", f)
	}
	if c := d.call("+1555"); c == nil || !contains(c.history(), "hangup") {
		t.Errorf("the screened-out leg was not hung up")
	}
}

func TestDialHangupOnStar(t *testing.T) {
	h, d := dialHarness(t, `<Response><Dial action="/after" hangupOnStar="true">+1555</Dial></Response>`)
	h.app.set("/after", `<Response><Say>back</Say><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("+1555")
	if child == nil {
		t.Fatal("never dialled")
	}
	time.Sleep(100 * time.Millisecond)
	h.call.leg.Press("1*")
	h.wait(t)
	if !contains(child.history(), "hangup") {
		t.Errorf("* did not hang up the called party: %v", child.history())
	}
	if f := h.app.requests("/after")[0].form; f.Get("DialCallStatus") != "completed" {
		t.Errorf("DialCallStatus %q", f.Get("DialCallStatus"))
	}
	if !contains(h.call.history(), "hangup") {
		t.Errorf("caller did not continue to the action document")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
