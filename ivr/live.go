package ivr

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/twiml"
)

// ErrNoSuchCall means the call is not running on this engine.
var ErrNoSuchCall = errors.New("ivr: no such live call")

// liveCalls are the sessions running now, by call SID.
type liveCalls struct {
	mu sync.Mutex
	m  map[string]*session
}

func (l *liveCalls) add(s *session) {
	l.mu.Lock()
	l.m[s.info.SID] = s
	l.mu.Unlock()
}

func (l *liveCalls) remove(sid string) {
	l.mu.Lock()
	delete(l.m, sid)
	l.mu.Unlock()
}

func (l *liveCalls) get(sid string) (*session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.m[sid]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchCall, sid)
	}
	return s, nil
}

// Live reports whether the call is running on this engine.
func (e *Engine) Live(callSID string) bool {
	_, err := e.live.get(callSID)
	return err == nil
}

// Redirect interrupts the call's current verb at once (stopping audio,
// abandoning a Gather or Record without its action) and runs the TwiML at
// url instead: REST `Calls/{Sid}` update with Url.
func (e *Engine) Redirect(callSID, url, method string) error {
	s, err := e.live.get(callSID)
	if err != nil {
		return err
	}
	if method == "" {
		method = http.MethodPost
	}
	s.interrupt(next{req: &webhook.Request{URL: url, Method: method}}) // params are added when it runs
	s.log.Info("ivr: live redirect", "url", url)
	return nil
}

// RedirectTwiML is Redirect with an inline document (REST Twiml).
func (e *Engine) RedirectTwiML(callSID, doc string) error {
	s, err := e.live.get(callSID)
	if err != nil {
		return err
	}
	parsed, _, err := twiml.Parse([]byte(doc))
	if err != nil {
		return err
	}
	s.interrupt(next{doc: parsed})
	s.log.Info("ivr: live redirect to inline TwiML")
	return nil
}

// Hangup ends a live call (REST Status=completed or canceled).
func (e *Engine) Hangup(callSID string) error {
	s, err := e.live.get(callSID)
	if err != nil {
		return err
	}
	s.log.Info("ivr: hang up requested")
	s.mu.Lock()
	cancelDial := s.cancelRinging
	s.mu.Unlock()
	if cancelDial != nil {
		cancelDial() // still ringing: cancel the outbound call
		return nil
	}
	s.interrupt(next{hangup: true})
	return nil
}
