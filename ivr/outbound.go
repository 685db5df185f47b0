package ivr

import (
	"context"
	"time"

	"github.com/voxgate/voxgate/recording"
)

// OutboundCall describes a call the REST API asked for (Calls.create).
type OutboundCall struct {
	Info       CallInfo // SID, From, To; Direction is set to outbound-api
	App        App      // what runs once answered (VoiceURL or Twiml)
	Timeout    time.Duration
	SendDigits string // DTMF sent once answered, before the TwiML runs
	// Record, when set, records the whole call from the answer (REST
	// Record=true; its Source defaults to OutboundAPI).
	Record *recording.Options
}

// RunOutbound dials an outbound-api call, then runs its app once it is
// answered. It reports initiated/ringing/answered/completed like Twilio
// (busy, no-answer, failed or canceled when it is not answered) and
// returns when the call is over. While it rings, Hangup cancels it.
func (e *Engine) RunOutbound(ctx context.Context, oc OutboundCall) {
	info := oc.Info
	info.Direction = OutboundAPI
	s := e.newSession(info, nil, oc.App)
	s.answered, s.status = false, "queued"
	e.live.add(s)
	defer e.live.remove(info.SID)
	dialCtx, cancelDial := context.WithCancel(ctx)
	defer cancelDial()
	call := s.dialOut(dialCtx, cancelDial, oc.Timeout)
	if call == nil {
		s.end()
		return
	}
	callCtx, cancel := untilDone(ctx, call)
	defer cancel()
	s.callCtx = callCtx
	if oc.Record != nil {
		o := *oc.Record
		if o.Source == "" {
			o.Source = recording.SourceOutboundAPI
		}
		if _, err := s.e.StartCallRecording(s.info.SID, o); err != nil {
			s.log.Error("ivr: Record=true: the call cannot be recorded", "error", err)
		}
	}
	if oc.SendDigits != "" {
		if err := call.Leg().SendDTMF(callCtx, oc.SendDigits); err != nil {
			s.log.Warn("ivr: SendDigits failed", "error", err)
		}
	}
	s.run()
}

// dialOut rings the outbound call's party and returns the answered call,
// attached to the session, or nil with the final status set. While it
// rings, the engine's Hangup cancels dialCtx.
func (s *session) dialOut(dialCtx context.Context, cancelDial context.CancelFunc, timeout time.Duration) Call {
	s.callCtx = dialCtx
	s.mu.Lock()
	s.cancelRinging = cancelDial
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancelRinging = nil
		s.mu.Unlock()
	}()
	s.status = "initiated"
	s.notifyStatus("initiated")
	s.emit("initiated", 0)
	if s.cfg.Dialer == nil {
		s.final = "failed"
		s.log.Error("ivr: outbound call: this gateway has no dialer configured")
		return nil
	}
	call, err := s.cfg.Dialer.Dial(dialCtx, DialRequest{
		CallSID: s.info.SID, To: s.info.To, From: s.info.From, Timeout: timeout,
		OnRinging: func(bool) { s.ringingOnce() },
	})
	if err != nil {
		s.final = dialStatus(err)
		s.log.Info("ivr: outbound call not answered", "status", s.final, "error", err)
		return nil
	}
	s.attach(call)
	s.answeredRecordings()
	s.answered, s.answeredAt, s.status = true, s.now(), "in-progress"
	s.log.Info("ivr: outbound call answered", "to", s.info.To)
	s.notifyStatus("answered")
	return call
}

// ringingOnce reports the ringing event the first time the far end rings.
// It runs on the dialer's goroutine, so it only touches what it owns.
func (s *session) ringingOnce() {
	s.mu.Lock()
	first := !s.rang
	s.rang = true
	s.mu.Unlock()
	if first {
		s.notifyRinging()
	}
}
