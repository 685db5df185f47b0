package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"

	"github.com/voxgate/voxgate/twiml"
)

// dialTarget is one party a <Dial> rings.
type dialTarget struct {
	to                 string
	username, password string
	headers            map[string]string
	sendDigits         string
	leg                twiml.LegOptions
}

// dialTargets lists the parties of a <Dial>.
func dialTargets(d *twiml.Dial) ([]dialTarget, error) {
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

// hangupLeg hangs up a dialled party, even after the call's context ended.
func hangupLeg(s *session, c Call) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), 5*time.Second)
	defer cancel()
	_ = c.Hangup(ctx)
}

// whisper runs a target's url TwiML on the answered child leg before the
// bridge (twiml-voice.md §2.6, restricted to Play, Say, Pause, Gather,
// Hangup, Redirect). It reports whether to go on and bridge.
func whisper(s *session, child Call, childSID string, t dialTarget) bool {
	info := CallInfo{SID: childSID, ParentSID: s.info.SID, From: s.info.From, To: t.to, Direction: OutboundDial}
	w := s.nested(info, child, twiml.Whisper, s.ctx)
	url, err := webhook.ResolveURL(s.docURL, t.leg.URL)
	if err != nil {
		w.log.Warn("ivr: whisper URL", "error", err)
		return false
	}
	method := t.leg.Method
	if method == "" {
		method = http.MethodPost
	}
	cur := &webhook.Request{URL: url, Method: method}
	for cur != nil {
		req := *cur
		req.Params = w.params(nil)
		nxt, err := w.runNested(req)
		if err != nil {
			if !errors.Is(err, errHangup) && !errors.Is(err, errInterrupted) {
				w.log.Error("ivr: whisper document failed", "error_code", errorCode(err), "error", err)
			}
			return false // failed, hung up (screened out), or the call ended
		}
		cur = nxt.req
	}
	return !s.over()
}

// childStatus sends a Dial target's status callback (statusCallback on
// Number, Sip, Client) and reports the leg's progress.
func childStatus(s *session, childSID string, t dialTarget, event, status string, talk time.Duration) {
	info := CallInfo{SID: childSID, ParentSID: s.info.SID, From: s.info.From, To: t.to, Direction: OutboundDial}
	if s.cfg.Events != nil {
		s.cfg.Events(Event{Info: info, Status: status, At: s.now(), Duration: talk})
	}
	events := t.leg.StatusCallbackEvents
	if len(events) == 0 {
		events = []string{"completed"}
	}
	if t.leg.StatusCallback == "" || !slices.Contains(events, event) {
		return
	}
	target, err := s.resolve(t.leg.StatusCallback)
	if err != nil {
		return
	}
	p := standardParams(s.cfg.AccountSID, info, status)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("Timestamp", s.now().UTC().Format(time.RFC1123Z))
	if event == "completed" {
		p.Set("CallDuration", strconv.Itoa(int(talk.Round(time.Second)/time.Second)))
	}
	s.e.sendCallback(s.web, webhook.Request{URL: target, Method: t.leg.StatusCallbackMethod, Params: p})
}
