package ivr

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/mediastream"
	"github.com/voxgate/voxgate/twiml"
)

// MediaStreams is the gateway's media stream service, for Config.Services:
// the registry of live calls' streams (<Stop><Stream> and the REST API
// find them there) and the settings every stream starts from (limits,
// counters, the auth token that signs the handshake).
type MediaStreams struct {
	Registry *mediastream.Registry
	// Base is copied into every stream's configuration; the verb fills in
	// the URL, name, track, parameters, the call's SIDs and callbacks.
	Base mediastream.Config
}

// callStreams is a call's media streams (one per call, see perCall): it
// registers the call with the registry so streams can be forked from the
// REST API, and stops them all when the call ends.
type callStreams struct {
	svc     *MediaStreams
	s       *session // the call's main session: its tap, webhook client and SIDs
	callSID string

	mu    sync.Mutex
	stops []func() error // the taps of forks still running
	wg    sync.WaitGroup // the goroutines that end forks' taps
}

// streamsOf returns the call's streams, nil when the gateway has no media
// stream service.
func streamsOf(s *session) *callStreams {
	svc, ok := service[*MediaStreams](s)
	if !ok || svc.Registry == nil {
		return nil
	}
	return perCall(s, func() *callStreams {
		c := &callStreams{svc: svc, s: s, callSID: s.info.SID}
		svc.Registry.CallStarted(c.callSID, c.fork)
		return c
	})
}

// answeredStreams makes an answered call's streams known to the
// registry, so the REST API can fork it even before any stream verb.
func (s *session) answeredStreams() {
	if s.within == twiml.Main {
		streamsOf(s)
	}
}

// callEnded stops the call's streams.
func (c *callStreams) callEnded() {
	c.svc.Registry.CallEnded(c.callSID)
	c.wg.Wait()
}

// config makes a stream's configuration from its TwiML (or REST) form.
func (c *callStreams) config(s *session, st *twiml.Stream, bidi bool) (mediastream.Config, error) {
	cfg := c.svc.Base
	target := st.URL
	if !strings.HasPrefix(target, "ws://") && !strings.HasPrefix(target, "wss://") {
		// Relative, or http(s): resolved against the document, then
		// https becomes wss and http ws.
		abs, err := s.resolve(st.URL)
		if err != nil {
			return cfg, &mediastream.Error{Code: mediastream.CodeMalformedURL, Err: err}
		}
		target = abs
	}
	cfg.URL = mediastream.WebSocketURL("", target)
	var err error
	cfg.Name, cfg.Track, cfg.Parameters, cfg.Bidirectional = st.StreamName, st.Track, st.Parameters, bidi
	cfg.AccountSID, cfg.CallSID, cfg.Logger = s.cfg.AccountSID, c.callSID, s.e.log // the stream adds call_sid
	if st.StatusCallback != "" {
		if cfg.StatusCallback, err = s.resolve(st.StatusCallback); err != nil {
			return cfg, fmt.Errorf("stream statusCallback: %w", err)
		}
		cfg.StatusCallbackMethod = st.StatusCallbackMethod
	}
	cfg.OnEvent = c.callbacks(cfg.StatusCallback, cfg.StatusCallbackMethod)
	return cfg, nil
}

// callbacks returns an OnEvent that sends the stream's status callbacks,
// in order.
func (c *callStreams) callbacks(target, method string) func(mediastream.Event) {
	if target == "" {
		return nil
	}
	var prev <-chan struct{}
	return func(ev mediastream.Event) {
		p := ev.Params()
		p.Set("AccountSid", c.s.cfg.AccountSID)
		p.Set("CallSid", c.callSID)
		prev = c.s.e.sendCallbackAfter(c.s.web, webhook.Request{URL: target, Method: method, Params: p}, prev)
	}
}

// fork starts a one-way stream on the call's tap (the registry's
// ForkFunc: <Start><Stream> and the REST API).
func (c *callStreams) fork(cfg mediastream.Config) (*mediastream.Stream, error) {
	if cfg.OnEvent == nil {
		cfg.OnEvent = c.callbacks(cfg.StatusCallback, cfg.StatusCallbackMethod)
	}
	if cfg.Logger == nil {
		cfg.Logger = c.s.e.log
	}
	cfg.AccountSID, cfg.CallSID, cfg.Bidirectional = c.s.cfg.AccountSID, c.callSID, false
	st, err := mediastream.Start(c.s.callCtx, cfg)
	if err != nil {
		return nil, err
	}
	stop, err := c.s.fork(st.InboundSink(), st.OutboundSink())
	if err != nil {
		st.Stop()
		return nil, fmt.Errorf("media stream: %w", err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		<-st.Done()
		_ = stop()
	}()
	return st, nil
}

// streamError logs a stream that failed with its Twilio code.
func streamError(s *session, verb string, err error) {
	var e *mediastream.Error
	if errors.As(err, &e) {
		s.log.Error("ivr: media stream failed", "verb", verb, "error_code", e.Code, "error", e.Err)
		return
	}
	s.log.Error("ivr: media stream failed", "verb", verb, "error", err)
}
