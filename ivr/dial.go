package ivr

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/twiml"
)

func init() { registerVerb(newDial) }

// dialNouns are the nouns that take a whole <Dial> over (<Queue>, and
// <Conference> once it is built): a verb of their own instead of ringing
// parties. Filled by the init functions of their files, read afterwards.
var dialNouns = map[reflect.Type]func(*twiml.Dial, twiml.Noun) verb{}

// registerDialNoun makes build run every <Dial> that holds a noun of type
// T (say, *twiml.Conference): adding such a noun is adding a file.
func registerDialNoun[T twiml.Noun](build func(*twiml.Dial, T) verb) {
	dialNouns[reflect.TypeFor[T]()] = func(d *twiml.Dial, n twiml.Noun) verb { return build(d, n.(T)) }
}

// newDial makes the verb for a <Dial>: its first noun that takes the Dial
// over, else ringing its parties.
func newDial(d *twiml.Dial) verb {
	for _, n := range d.Nouns {
		if build, ok := dialNouns[reflect.TypeOf(n)]; ok {
			return build(d, n)
		}
	}
	return &dialVerb{d: d}
}

// dialVerb runs <Dial> to parties (twiml-voice.md §2.6): ring every target
// at once, bridge the first to answer, hang up the rest.
type dialVerb struct {
	d        *twiml.Dial
	results  chan dialResult // the attempts' outcomes
	pending  int             // attempts whose outcome has not been taken
	stopRing func()          // stops the caller's ringback and waits for it
	early    *earlyLegs      // the parties' early media, relayed to an unanswered caller; nil when not
}

// dialResult is how one dialled target ended.
type dialResult struct {
	call   Call
	err    error
	target dialTarget
	sid    string
}

func (v *dialVerb) run(s *session) (next, error) {
	d := v.d
	targets, err := dialTargets(d)
	if err != nil {
		return next{}, err
	}
	if s.cfg.Dialer == nil {
		return next{}, &verbError{code: 12400, err: errors.New("<Dial>: this gateway has no dialer configured")}
	}
	if d.Record == twiml.DialRecordFromRinging || d.Record == twiml.DialRecordFromRingingDual {
		s.log.Warn("ivr: <Dial record=record-from-ringing>: recording starts at the answer", "record", d.Record)
	}
	if s.answered || s.startEarlyMedia() {
		// The caller hears the parties' early media (answerOnBridge: as
		// early media of its own, after a 183), else the ringback tone.
		v.early = newEarlyLegs(len(targets))
	}
	v.stopRing = v.ringback(s)
	defer v.stopRing()
	dialCtx, cancelDial := context.WithCancel(s.ctx)
	defer cancelDial()
	started := s.now()
	v.ringAll(s, dialCtx, targets)
	winner, status := v.firstAnswer(s)
	cancelDial() // the losers are cancelled; late answers are hung up
	defer v.drain(s)
	if winner == nil {
		return dialAction(s, d, status, "", 0, false, nil)
	}
	log := s.log.With("child_sid", winner.sid)
	log.Info("ivr: dial answered", "to", winner.target.to, "after", s.now().Sub(started).Round(time.Millisecond).String())
	return v.connect(s, winner, log)
}

// ringback plays the ringback tone to the caller while the targets ring,
// and the first called party's own early media instead once it starts. A
// caller still unanswered (answerOnBridge) hears them as early media; one
// that cannot have early media hears the SIP 180. It returns the function
// that stops it.
func (v *dialVerb) ringback(s *session) func() {
	ringCtx, stop := context.WithCancel(s.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if v.early != nil {
			playEarly(ringCtx, s.leg(), ringback(v.d.RingTone), v.early)
		}
	}()
	return sync.OnceFunc(func() { stop(); <-done })
}

// ringAll starts one outbound call per target.
func (v *dialVerb) ringAll(s *session, ctx context.Context, targets []dialTarget) {
	from := v.d.CallerID
	if from == "" {
		from = s.info.From
	}
	v.results = make(chan dialResult, len(targets))
	v.pending = len(targets)
	var onEarly func(media.Leg)
	if v.early != nil {
		onEarly = v.early.offer
	}
	for _, t := range targets {
		childSID := sid.New(sid.Call)
		childStatus(s, childSID, t, "initiated", "initiated", 0)
		go func() {
			c, err := s.cfg.Dialer.Dial(ctx, DialRequest{
				CallSID: childSID, ParentSID: s.info.SID, To: t.to, From: from,
				Username: t.username, Password: t.password, Headers: t.headers,
				Timeout:      time.Duration(v.d.Timeout) * time.Second,
				OnRinging:    func(bool) { childStatus(s, childSID, t, "ringing", "ringing", 0) },
				OnEarlyMedia: onEarly,
			})
			v.results <- dialResult{call: c, err: err, target: t, sid: childSID}
		}()
	}
}

// firstAnswer waits for the first target to answer. Without one it
// returns the DialCallStatus: why none answered, or canceled when the
// document ended meanwhile.
func (v *dialVerb) firstAnswer(s *session) (*dialResult, string) {
	var failures []string
	for v.pending > 0 {
		select {
		case r := <-v.results:
			v.pending--
			if r.err == nil {
				return &r, ""
			}
			st := dialStatus(r.err)
			s.log.Info("ivr: dial leg not answered", "to", r.target.to, "status", st, "child_sid", r.sid, "error", r.err)
			childStatus(s, r.sid, r.target, "completed", st, 0)
			failures = append(failures, st)
		case <-s.ctx.Done():
			return nil, "canceled"
		}
	}
	return nil, combineStatus(failures)
}

// drain waits for the dial attempts still out (already cancelled) and
// hangs up any that answered meanwhile.
func (v *dialVerb) drain(s *session) {
	for ; v.pending > 0; v.pending-- {
		r := <-v.results
		if r.err == nil {
			hangupLeg(s, r.call)
			childStatus(s, r.sid, r.target, "completed", "canceled", 0)
		} else {
			childStatus(s, r.sid, r.target, "completed", dialStatus(r.err), 0)
		}
	}
}

// connect bridges the caller to the party that answered, after its
// sendDigits and whisper, until either hangs up; then the action.
func (v *dialVerb) connect(s *session, w *dialResult, log *slog.Logger) (next, error) {
	v.stopRing()
	answeredAt := s.now()
	childStatus(s, w.sid, w.target, "answered", "in-progress", 0)
	if !s.answered {
		if err := s.answer(); err != nil { // answerOnBridge: answer now
			hangupLeg(s, w.call)
			return next{}, err
		}
	}
	if w.target.sendDigits != "" {
		if err := w.call.Leg().SendDTMF(s.ctx, w.target.sendDigits); err != nil {
			log.Warn("ivr: sendDigits failed", "error", err)
		}
	}
	if w.target.leg.URL != "" && !whisper(s, w.call, w.sid, w.target) {
		hangupLeg(s, w.call)
		childStatus(s, w.sid, w.target, "completed", "completed", 0)
		return dialAction(s, v.d, "no-answer", w.sid, 0, false, nil)
	}
	rec := v.startRecording(s, log)
	res, err := v.bridge(s, w.call, rec, log)
	if err != nil {
		log.Warn("ivr: bridge error", "error", err)
	}
	hangupLeg(s, w.call)
	talk := s.now().Sub(answeredAt)
	log.Info("ivr: dial bridge ended", "ended_by", res.Ended, "duration", talk.Round(time.Second).String())
	childStatus(s, w.sid, w.target, "completed", "completed", talk)
	extra := v.finishRecording(s, rec, log)
	return dialAction(s, v.d, "completed", w.sid, talk, true, extra)
}

// startRecording starts the <Dial record> recording, if asked for: both
// parties in one channel, or, for the -dual values, the caller on the
// left and the called party on the right.
func (v *dialVerb) startRecording(s *session, log *slog.Logger) *recording.Mixed {
	if v.d.Record == "" || v.d.Record == twiml.DialDoNotRecord {
		return nil
	}
	channels := 1
	if v.d.Record == twiml.DialRecordFromAnswerDual || v.d.Record == twiml.DialRecordFromRingingDual {
		channels = 2
	}
	if s.recorder() == nil {
		log.Error("ivr: <Dial record>: cannot record", "error", recording.ErrNoDir)
		return nil
	}
	rec, err := s.recorder().StartMixed(s.info.SID, channels)
	if err != nil {
		log.Error("ivr: <Dial record>: cannot record", "error", err)
		return nil
	}
	return rec
}

// finishRecording saves the <Dial record> recording, sends its status
// callback and returns the action's Recording* parameters.
func (v *dialVerb) finishRecording(s *session, m *recording.Mixed, log *slog.Logger) map[string]string {
	if m == nil {
		return nil
	}
	rec, err := m.Finish(v.d.Trim == twiml.TrimSilence)
	if err != nil {
		log.Error("ivr: <Dial record>: saving the recording failed", "error", err)
		return nil
	}
	log.Info("ivr: dial recording saved", "recording_sid", rec.SID, "duration", rec.Duration.String(), "channels", rec.Channels)
	if v.d.RecordingStatusCallback != "" && recording.Subscribed(v.d.RecordingStatusCallbackEvents, recording.StatusCompleted) {
		if target, err := s.resolve(v.d.RecordingStatusCallback); err == nil {
			p := s.recorder().Params(rec, recording.StatusCompleted)
			s.e.sendCallback(s.web, webhook.Request{URL: target, Method: v.d.RecordingStatusCallbackMethod, Params: p})
		}
	}
	return map[string]string{
		"RecordingUrl":      s.recorder().URL(rec.SID),
		"RecordingSid":      rec.SID,
		"RecordingDuration": strconv.Itoa(recording.Seconds(rec.Duration)),
	}
}

// bridge connects the caller and the called party until either hangs up,
// timeLimit passes, or the caller presses * (hangupOnStar).
func (v *dialVerb) bridge(s *session, child Call, rec *recording.Mixed, log *slog.Logger) (media.BridgeResult, error) {
	ctx, stop := context.WithTimeout(s.ctx, time.Duration(v.d.TimeLimit)*time.Second)
	defer stop()
	if v.d.HangupOnStar {
		starDone := make(chan struct{})
		go func() {
			defer close(starDone)
			for {
				select {
				case dg := <-s.leg().DTMF():
					if dg.Key == '*' {
						log.Info("ivr: caller pressed * (hangupOnStar)")
						stop()
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		defer func() { stop(); <-starDone }()
	}
	opts := &media.BridgeOptions{}
	if rec != nil {
		opts.TapA, opts.TapB = rec.Taps()
	}
	return media.Bridge(ctx, s.leg(), child.Leg(), opts)
}

// dialAction requests the Dial action with the outcome, or goes on with
// the next verb when there is no action (or the caller is gone).
func dialAction(s *session, d *twiml.Dial, status, childSID string, talk time.Duration, bridged bool, more map[string]string) (next, error) {
	s.log.Info("ivr: dial done", "dial_call_status", status)
	if d.Action == "" {
		return s.goOn()
	}
	extra := map[string]string{
		"DialCallStatus": status,
		"DialBridged":    strconv.FormatBool(bridged),
	}
	if childSID != "" {
		extra["DialCallSid"] = childSID
		extra["DialCallDuration"] = strconv.Itoa(int(talk.Round(time.Second) / time.Second))
	}
	for k, val := range more {
		extra[k] = val
	}
	return s.action(d.Action, d.Method, extra)
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
