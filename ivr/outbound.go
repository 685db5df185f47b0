package ivr

import (
	"context"
	"time"
)

// OutboundCall describes a call the REST API asked for (Calls.create).
type OutboundCall struct {
	Info       CallInfo // SID, From, To; Direction is set to outbound-api
	App        App      // what runs once answered (VoiceURL or Twiml)
	Timeout    time.Duration
	SendDigits string // DTMF sent once answered, before the TwiML runs
	// Record, when set, records the whole call from the answer (REST
	// Record=true; its Source defaults to OutboundAPI).
	Record *CallRecordingOptions
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
	dialCtx, cancelDial := context.WithCancel(ctx)
	defer cancelDial()
	s.callCtx = dialCtx
	s.cancelRinging = cancelDial
	e.live.add(s)
	defer e.live.remove(info.SID)

	s.status = "initiated"
	s.notifyStatus("initiated")
	s.emit("initiated", 0)
	if e.cfg.Dialer == nil {
		s.final = "failed"
		s.log.Error("ivr: outbound call: this gateway has no dialer configured")
		s.end()
		return
	}
	call, err := e.cfg.Dialer.Dial(dialCtx, DialRequest{
		CallSID: info.SID, To: info.To, From: info.From, Timeout: oc.Timeout,
		OnRinging: func(bool) { s.ringingOnce() },
	})
	if err != nil {
		s.final = dialStatus(err)
		s.log.Info("ivr: outbound call not answered", "status", s.final, "error", err)
		s.end()
		return
	}
	tap := newTapCall(call)
	tap.answer()
	s.mu.Lock()
	s.call, s.tap, s.cancelRinging = tap, tap, nil
	s.mu.Unlock()
	s.answered, s.answeredAt, s.status = true, e.cfg.Clock.Now(), "in-progress"
	s.log.Info("ivr: outbound call answered", "to", info.To)
	s.notifyStatus("answered")

	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-call.Done():
			cancel()
		case <-callCtx.Done():
		}
	}()
	s.callCtx = callCtx
	if oc.Record != nil {
		o := *oc.Record
		if o.Source == "" {
			o.Source = SourceOutboundAPI
		}
		if _, err := s.startCallRecording(o); err != nil {
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
