package ivr

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/twiml"
)

// <Dial><Conference> (twiml-voice.md §2.6): the call joins a room of the
// conference.Manager the composition root passes in Config.Services.
func init() {
	registerDialNoun(func(d *twiml.Dial, c *twiml.Conference) verb { return &conferenceVerb{d: d, c: c} })
}

// conferenceVerb runs <Dial><Conference>: the call stays in the room
// until it hangs up, is removed, the room ends, timeLimit passes or the
// caller presses * (hangupOnStar); then the Dial's action.
type conferenceVerb struct {
	d *twiml.Dial
	c *twiml.Conference
}

func (v *conferenceVerb) run(s *session) (next, error) {
	rooms, ok := service[*conference.Manager](s)
	if !ok {
		return next{}, &verbError{code: 12400, err: errors.New("<Dial><Conference>: this gateway has no conferences configured")}
	}
	if err := s.answer(); err != nil {
		return next{}, err
	}
	c := v.c
	v.logIgnored(s)
	wait, err := v.waitAudio(s)
	if err != nil {
		if s.ctx.Err() != nil {
			return next{}, s.stopped()
		}
		s.log.Warn("ivr: <Conference waitUrl> failed: waiting in silence", "error_code", errorCode(err), "error", err)
	}
	cb := conference.Callback{Method: c.StatusCallbackMethod, Events: c.StatusCallbackEvents}
	if c.StatusCallback != "" {
		if cb.URL, err = s.resolve(c.StatusCallback); err != nil {
			return next{}, err
		}
	}
	recCB := conference.Callback{Method: c.RecordingStatusCallbackMethod, Events: c.RecordingStatusCallbackEvents}
	if c.RecordingStatusCallback != "" {
		if recCB.URL, err = s.resolve(c.RecordingStatusCallback); err != nil {
			return next{}, err
		}
	}
	p, err := rooms.Join(s.cfg.AccountSID, c.Room, conference.JoinOptions{
		Leg: s.leg(), CallSID: s.info.SID, Label: c.ParticipantLabel, Muted: c.Muted, Beep: c.Beep,
		StartConferenceOnEnter: c.StartConferenceOnEnter, EndConferenceOnExit: c.EndConferenceOnExit,
		Coach: c.Coach, MaxParticipants: c.MaxParticipants, Wait: wait, Callback: cb,
		Record: c.Record == "record-from-start", RecordingCallback: recCB,
		RecordingChannels: map[bool]int{true: 2, false: 1}[c.RecordingChannels == "dual"],
		RecordingTrim:     c.Trim == twiml.TrimSilence,
	})
	if err != nil {
		s.log.Warn("ivr: <Dial><Conference>: cannot join", "room", c.Room, "error", err)
		return dialAction(s, v.d, "failed", "", 0, false, nil)
	}
	confSID := p.Room().SID()
	log := s.log.With("conference_sid", confSID)
	log.Info("ivr: joined the conference", "room", c.Room)
	ctx, stop := context.WithTimeout(s.ctx, time.Duration(v.d.TimeLimit)*time.Second)
	defer stop()
	if v.d.HangupOnStar {
		starDone := make(chan struct{})
		defer func() { stop(); <-starDone }()
		go func() {
			defer close(starDone)
			for {
				select {
				case dg := <-s.leg().DTMF():
					if dg.Key == '*' {
						stop()
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	start := s.now()
	why := p.Run(ctx)
	log.Info("ivr: left the conference", "why", why, "duration", s.now().Sub(start).Round(time.Second).String())
	return dialAction(s, v.d, "answered", "", 0, true, map[string]string{"ConferenceSid": confSID})
}

// waitAudio renders the waitUrl: Voxgate's hold music when absent (or
// Twilio's default), silence when empty.
func (v *conferenceVerb) waitAudio(s *session) ([]int16, error) {
	if !v.c.HasWaitURL {
		return holdMusic(), nil
	}
	if v.c.WaitURL == "" {
		return nil, nil
	}
	target, err := s.resolve(v.c.WaitURL)
	if err != nil {
		return nil, err
	}
	method := v.c.WaitMethod
	if method == "" {
		method = http.MethodPost
	}
	return s.e.renderAudioDoc(s.ctx, s.web, target, method, s.params(nil))
}

// logIgnored says which attributes this gateway does not act on.
func (v *conferenceVerb) logIgnored(s *session) {
	c := v.c
	if c.JitterBufferSize != "" {
		s.log.Info("ivr: <Conference jitterBufferSize> ignored: Voxgate sizes its jitter buffers itself", "jitter_buffer_size", c.JitterBufferSize)
	}
	if c.EventCallbackURL != "" || c.Region != "" {
		s.log.Info("ivr: <Conference eventCallbackUrl/region> ignored", "region", c.Region)
	}
}
