package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/twiml"
)

// Dialer places outbound call legs (the SIP layer implements it).
type Dialer interface {
	// Dial rings req.To and returns the answered leg, or a *DialFailure
	// saying why it was not answered.
	Dial(ctx context.Context, req DialRequest) (Call, error)
}

// DialRequest describes an outbound leg.
type DialRequest struct {
	CallSID   string // the new leg's CA SID
	ParentSID string // the call that dials, for <Dial> legs
	// To is a SIP URI ("sip:alice@host"), a number (routed through a
	// trunk) or "client:NAME".
	To                 string
	From               string // caller ID
	Username, Password string // SIP digest credentials
	Headers            map[string]string
	Timeout            time.Duration // ring time
	// OnRinging is called when the far end rings (early: with early media).
	OnRinging func(early bool)
}

// DialFailure is why an outbound leg was not answered.
type DialFailure struct {
	Status string // busy, no-answer, failed, canceled
	Code   int    // SIP final response code, 0 if none
	Reason string
}

func (f *DialFailure) Error() string {
	return fmt.Sprintf("dial %s (SIP %d %s)", f.Status, f.Code, f.Reason)
}

// dialStatus is the Twilio status for a failed Dial error.
func dialStatus(err error) string {
	var f *DialFailure
	if errors.As(err, &f) {
		return f.Status
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return "failed"
}

// dialTarget is one party a <Dial> rings.
type dialTarget struct {
	to                 string
	username, password string
	headers            map[string]string
	sendDigits         string
	leg                twiml.LegOptions
}

// ringCadence is a country's ringback: tone frequencies and on/off steps.
type ringCadence struct {
	freqs []float64
	steps []time.Duration // on, off, on, off…
}

// ringCadences are the ringback tones <Dial ringTone> can ask for
// (ITU-T E.180 cadences); others fall back to the North American one.
var ringCadences = map[string]ringCadence{
	"us": {[]float64{440, 480}, []time.Duration{2 * time.Second, 4 * time.Second}},
	"uk": {[]float64{400, 450}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}},
	"au": {[]float64{400, 425}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}},
	"de": {[]float64{425}, []time.Duration{time.Second, 4 * time.Second}},
	"fr": {[]float64{440}, []time.Duration{1500 * time.Millisecond, 3500 * time.Millisecond}},
	"it": {[]float64{425}, []time.Duration{time.Second, 4 * time.Second}},
	"es": {[]float64{425}, []time.Duration{1500 * time.Millisecond, 3 * time.Second}},
	"nl": {[]float64{425}, []time.Duration{time.Second, 4 * time.Second}},
	"jp": {[]float64{400}, []time.Duration{time.Second, 2 * time.Second}},
	"in": {[]float64{400, 425}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}},
}

var ringbackCache sync.Map // country -> []int16

// ringback is the ringback tone for a <Dial ringTone> country code, played
// to a caller while a <Dial> rings.
func ringback(country string) []int16 {
	c, ok := ringCadences[strings.ToLower(country)]
	if !ok {
		country, c = "us", ringCadences["us"]
	}
	if pcm, ok := ringbackCache.Load(country); ok {
		return pcm.([]int16)
	}
	var parts []media.Source
	var total time.Duration
	for i, d := range c.steps {
		if i%2 == 0 {
			parts = append(parts, audio.NewTone(c.freqs, 0.2, d))
		} else {
			parts = append(parts, audio.NewSilence(d))
		}
		total += d
	}
	pcm, _ := audio.ReadAll(audio.Concat(parts...), total)
	ringbackCache.Store(country, pcm)
	return pcm
}

// dial runs <Dial> (twiml-voice.md §2.6): ring every target at once, bridge
// the first to answer, hang up the rest.
func (s *session) dial(d *twiml.Dial) (next, error) {
	for _, n := range d.Nouns {
		if q, ok := n.(*twiml.Queue); ok {
			return s.dialQueue(d, q)
		}
	}
	targets, err := s.dialTargets(d)
	if err != nil {
		return next{}, err
	}
	if s.e.cfg.Dialer == nil {
		return next{}, &verbError{code: 12400, err: errors.New("<Dial>: this gateway has no dialer configured")}
	}
	if d.Record == twiml.DialRecordFromRinging || d.Record == twiml.DialRecordFromRingingDual {
		s.log.Warn("ivr: <Dial record=record-from-ringing>: recording starts at the answer", "record", d.Record)
	}
	from := d.CallerID
	if from == "" {
		from = s.info.From
	}

	// Ringback to the caller while the targets ring (unless the caller is
	// still unanswered: then the SIP 180 rings for us).
	ringCtx, stopRing := context.WithCancel(s.ctx)
	ringDone := make(chan struct{})
	go func() {
		defer close(ringDone)
		if s.answered {
			_ = s.call.Leg().Play(ringCtx, audio.NewPCMSource(ringback(d.RingTone), 0))
		}
	}()
	defer func() { stopRing(); <-ringDone }()

	dialCtx, cancelDial := context.WithCancel(s.ctx)
	defer cancelDial()
	results := make(chan dialResult, len(targets))
	started := s.e.cfg.Clock.Now()
	for _, t := range targets {
		childSID := sid.New(sid.Call)
		s.childStatus(childSID, t, "initiated", "initiated", 0)
		go func() {
			c, err := s.e.cfg.Dialer.Dial(dialCtx, DialRequest{
				CallSID: childSID, ParentSID: s.info.SID, To: t.to, From: from,
				Username: t.username, Password: t.password, Headers: t.headers,
				Timeout:   time.Duration(d.Timeout) * time.Second,
				OnRinging: func(bool) { s.childStatus(childSID, t, "ringing", "ringing", 0) },
			})
			results <- dialResult{call: c, err: err, target: t, sid: childSID}
		}()
	}

	var winner *dialResult
	var failures []string
	pending := len(targets)
	for winner == nil && pending > 0 {
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				st := dialStatus(r.err)
				s.log.Info("ivr: dial leg not answered", "to", r.target.to, "status", st, "child_sid", r.sid, "error", r.err)
				s.childStatus(r.sid, r.target, "completed", st, 0)
				failures = append(failures, st)
				continue
			}
			winner = &r
		case <-s.ctx.Done():
			cancelDial()
			s.drain(results, pending)
			return s.dialDone(d, "canceled", "", 0, false)
		}
	}
	// The losers are cancelled; late answers are hung up.
	cancelDial()
	defer s.drain(results, pending)
	if winner == nil {
		return s.dialDone(d, combineStatus(failures), "", 0, false)
	}
	child := winner.call
	childLog := s.log.With("child_sid", winner.sid)
	childLog.Info("ivr: dial answered", "to", winner.target.to, "after", s.e.cfg.Clock.Now().Sub(started).Round(time.Millisecond).String())
	stopRing()
	<-ringDone
	answeredAt := s.e.cfg.Clock.Now()
	s.childStatus(winner.sid, winner.target, "answered", "in-progress", 0)
	hangupChild := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), 5*time.Second)
		defer cancel()
		_ = child.Hangup(ctx)
	}
	if !s.answered {
		if err := s.answer(); err != nil { // answerOnBridge: answer now
			hangupChild()
			return next{}, err
		}
	}
	if winner.target.sendDigits != "" {
		if err := child.Leg().SendDTMF(s.ctx, winner.target.sendDigits); err != nil {
			childLog.Warn("ivr: sendDigits failed", "error", err)
		}
	}
	if winner.target.leg.URL != "" {
		if ok := s.whisper(child, winner.sid, winner.target); !ok {
			hangupChild()
			s.childStatus(winner.sid, winner.target, "completed", "completed", 0)
			return s.dialDone(d, "no-answer", winner.sid, 0, false)
		}
	}

	// Bridge until either side hangs up, timeLimit, or * with hangupOnStar.
	bridgeCtx, stopBridge := context.WithTimeout(s.ctx, time.Duration(d.TimeLimit)*time.Second)
	defer stopBridge()
	starDone := make(chan struct{})
	if d.HangupOnStar {
		go func() {
			defer close(starDone)
			for {
				select {
				case dg := <-s.call.Leg().DTMF():
					if dg.Key == '*' {
						childLog.Info("ivr: caller pressed * (hangupOnStar)")
						stopBridge()
						return
					}
				case <-bridgeCtx.Done():
					return
				}
			}
		}()
	} else {
		close(starDone)
	}
	var rec *dialRecording
	opts := &media.BridgeOptions{}
	if d.Record != "" && d.Record != twiml.DialDoNotRecord {
		if rec, err = s.startDialRecording(dialRecordChannels(d.Record)); err != nil {
			childLog.Error("ivr: <Dial record>: cannot record", "error", err)
		} else {
			opts.TapA, opts.TapB = rec.mix.sides()
		}
	}
	res, err := media.Bridge(bridgeCtx, s.call.Leg(), child.Leg(), opts)
	stopBridge()
	<-starDone
	if err != nil {
		childLog.Warn("ivr: bridge error", "error", err)
	}
	hangupChild()
	talk := s.e.cfg.Clock.Now().Sub(answeredAt)
	childLog.Info("ivr: dial bridge ended", "ended_by", res.Ended, "duration", talk.Round(time.Second).String())
	s.childStatus(winner.sid, winner.target, "completed", "completed", talk)
	extra := map[string]string{}
	if rec != nil {
		if r, err := s.finishDialRecording(rec, d); err != nil {
			childLog.Error("ivr: <Dial record>: saving the recording failed", "error", err)
		} else {
			extra["RecordingUrl"] = s.recordingURL(r.SID)
			extra["RecordingSid"] = r.SID
			extra["RecordingDuration"] = strconv.Itoa(int(r.Duration.Round(time.Second) / time.Second))
		}
	}
	return s.dialDoneExtra(d, "completed", winner.sid, talk, true, extra)
}

// dialResult is how one dialled target ended.
type dialResult struct {
	call   Call
	err    error
	target dialTarget
	sid    string
}

// drain waits for the n dial attempts still out (already cancelled) and
// hangs up any that answered meanwhile.
func (s *session) drain(results <-chan dialResult, n int) {
	for range n {
		r := <-results
		if r.err == nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), 5*time.Second)
			_ = r.call.Hangup(ctx)
			cancel()
			s.childStatus(r.sid, r.target, "completed", "canceled", 0)
		} else {
			s.childStatus(r.sid, r.target, "completed", dialStatus(r.err), 0)
		}
	}
}

// dialDone requests the Dial action with the outcome, or goes on with the
// next verb when there is no action (or the caller is gone).
func (s *session) dialDone(d *twiml.Dial, status, childSID string, talk time.Duration, bridged bool) (next, error) {
	return s.dialDoneExtra(d, status, childSID, talk, bridged, nil)
}

// dialDoneExtra is dialDone with more action parameters (RecordingUrl…).
func (s *session) dialDoneExtra(d *twiml.Dial, status, childSID string, talk time.Duration, bridged bool, more map[string]string) (next, error) {
	s.log.Info("ivr: dial done", "dial_call_status", status)
	if d.Action == "" {
		if s.over() {
			return next{}, errHangup
		}
		if s.ctx.Err() != nil {
			return next{}, errInterrupted
		}
		return next{}, nil
	}
	extra := map[string]string{
		"DialCallStatus": status,
		"DialBridged":    strconv.FormatBool(bridged),
	}
	if childSID != "" {
		extra["DialCallSid"] = childSID
		extra["DialCallDuration"] = strconv.Itoa(int(talk.Round(time.Second) / time.Second))
	}
	for k, v := range more {
		extra[k] = v
	}
	if s.over() {
		// The caller hung up: the action is still told, its TwiML ignored.
		s.status = "completed"
		if req, err := s.actionRequest(d.Action, d.Method, extra); err == nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), s.e.cfg.WebhookTimeout)
			defer cancel()
			_, _ = s.web.Fetch(ctx, *req)
		}
		return next{}, errHangup
	}
	req, err := s.actionRequest(d.Action, d.Method, extra)
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// combineStatus picks the DialCallStatus when no target answered.
func combineStatus(failures []string) string {
	has := func(st string) bool {
		for _, f := range failures {
			if f == st {
				return true
			}
		}
		return false
	}
	switch {
	case len(failures) == 0:
		return "failed"
	case has("canceled"):
		return "canceled"
	case has("no-answer"):
		return "no-answer"
	case has("busy"):
		return "busy"
	}
	return "failed"
}

// dialTargets lists the parties of a <Dial>.
func (s *session) dialTargets(d *twiml.Dial) ([]dialTarget, error) {
	if n := strings.TrimSpace(d.Number); n != "" {
		return []dialTarget{{to: n}}, nil
	}
	var out []dialTarget
	for _, noun := range d.Nouns {
		switch n := noun.(type) {
		case *twiml.Number:
			out = append(out, dialTarget{to: n.Number, sendDigits: n.SendDigits, leg: n.LegOptions})
		case *twiml.Sip:
			hdrs := map[string]string{}
			for _, h := range n.Headers {
				hdrs[h.Name] = h.Value
			}
			out = append(out, dialTarget{to: n.URI, username: n.Username, password: n.Password, headers: hdrs, leg: n.LegOptions})
		case *twiml.Client:
			out = append(out, dialTarget{to: "client:" + n.Identity, leg: n.LegOptions})
		default:
			return nil, &verbError{code: 12200, err: fmt.Errorf("<Dial><%s> (line %d) is not supported by Voxgate yet", noun.Name(), noun.Line())}
		}
	}
	if len(out) == 0 {
		return nil, &verbError{code: 13223, err: errors.New("<Dial> has nothing to dial")}
	}
	return out, nil
}

// whisper runs a target's url TwiML on the answered child leg before the
// bridge (twiml-voice.md §2.6, restricted to Play, Say, Pause, Gather,
// Hangup, Redirect). It reports whether to go on and bridge.
func (s *session) whisper(child Call, childSID string, t dialTarget) bool {
	info := CallInfo{SID: childSID, ParentSID: s.info.SID, From: s.info.From, To: t.to, Direction: OutboundDial}
	w := s.e.newSession(info, child, App{VoiceURL: t.leg.URL, VoiceMethod: t.leg.Method})
	w.whisperMode = true
	w.callCtx = s.ctx
	w.beginDocument()
	url, err := webhook.ResolveURL(s.docURL, t.leg.URL)
	if err != nil {
		w.log.Warn("ivr: whisper URL", "error", err)
		return false
	}
	method := t.leg.Method
	if method == "" {
		method = http.MethodPost
	}
	cur := next{req: &webhook.Request{URL: url, Method: method, Params: w.params(nil)}}
	for cur.req != nil {
		doc, err := w.fetch(*cur.req)
		if err == nil {
			err = doc.Allowed(twiml.Whisper)
		}
		if err != nil {
			w.log.Error("ivr: whisper document failed", "error_code", errorCode(err), "error", err)
			return false
		}
		nxt, err := w.execute(doc)
		if err != nil {
			return false // hung up (screened out) or the call ended
		}
		cur = nxt
	}
	return !s.over()
}

// childStatus sends a Dial target's status callback (statusCallback on
// Number, Sip, Client) and reports the leg's progress.
func (s *session) childStatus(childSID string, t dialTarget, event, status string, talk time.Duration) {
	info := CallInfo{SID: childSID, ParentSID: s.info.SID, From: s.info.From, To: t.to, Direction: OutboundDial}
	if s.e.cfg.Events != nil {
		s.e.cfg.Events(Event{Info: info, Status: status, At: s.e.cfg.Clock.Now(), Duration: talk})
	}
	if t.leg.StatusCallback == "" {
		return
	}
	events := t.leg.StatusCallbackEvents
	if len(events) == 0 {
		events = []string{"completed"}
	}
	subscribed := false
	for _, e := range events {
		if e == event {
			subscribed = true
		}
	}
	if !subscribed {
		return
	}
	target, err := s.resolve(t.leg.StatusCallback)
	if err != nil {
		return
	}
	p := standardParams(s.e.cfg.AccountSID, info, status)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("Timestamp", s.e.cfg.Clock.Now().UTC().Format(time.RFC1123Z))
	if event == "completed" {
		p.Set("CallDuration", strconv.Itoa(int(talk.Round(time.Second)/time.Second)))
	}
	s.e.sendCallback(s.web, webhook.Request{URL: target, Method: t.leg.StatusCallbackMethod, Params: p})
}
