package sip

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Outbound registration (RFC 3261 §10.2) for trunks with Register: the
// gateway registers its Contact with the trunk under the trunk's
// username, answers the digest challenge with its password, refreshes at
// half the granted interval and, after a failure, retries after
// RegisterRetry, doubling up to 10 minutes.

const (
	registerRequestExpires = 3600
	defaultRegisterRetry   = 30 * time.Second
	maxRegisterRetry       = 10 * time.Minute
)

// RegistrationState is one trunk's outbound registration.
type RegistrationState struct {
	Trunk      string
	Registered bool
	Failures   int    // failed attempts in a row
	LastError  string // why the last attempt failed, "" after a success
}

// Registrations returns the state of every trunk that registers.
func (s *Server) Registrations() []RegistrationState {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	out := make([]RegistrationState, 0, len(s.regState))
	for _, t := range s.cfg.Trunks {
		if st, ok := s.regState[t.Name]; ok {
			out = append(out, st)
		}
	}
	return out
}

func (s *Server) setRegState(st RegistrationState) {
	s.regMu.Lock()
	s.regState[st.Trunk] = st
	s.regMu.Unlock()
}

// registerTrunks starts one registration loop per trunk with Register;
// they end when ctx does, after unregistering. done is called by each.
func (s *Server) registerTrunks(ctx context.Context, started func(), done func()) {
	for i := range s.cfg.Trunks {
		t := &s.cfg.Trunks[i]
		if !t.Register {
			continue
		}
		s.setRegState(RegistrationState{Trunk: t.Name})
		started()
		go func() {
			defer done()
			s.registerLoop(ctx, t)
		}()
	}
}

func (s *Server) registerLoop(ctx context.Context, t *Trunk) {
	log := s.log.With("trunk", t.Name)
	callID := sipmsg.GenerateTagN(32)
	var cseq uint32
	retry := s.cfg.RegisterRetry
	if retry <= 0 {
		retry = defaultRegisterRetry
	}
	backoff := retry
	st := RegistrationState{Trunk: t.Name}
	for {
		cseq++
		granted, err := s.registerOnce(ctx, t, callID, &cseq, registerRequestExpires)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			st.Registered, st.LastError = false, err.Error()
			st.Failures++
			wait, backoff = backoff, min(2*backoff, maxRegisterRetry)
			log.Warn("sip: trunk registration failed", "error", err, "retry_in", wait.String(), "failures", st.Failures)
		} else {
			if !st.Registered {
				log.Info("sip: trunk registered", "expires", granted)
			}
			st = RegistrationState{Trunk: t.Name, Registered: true}
			backoff = retry
			wait = time.Duration(granted) * time.Second / 2
		}
		s.setRegState(st)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	if st.Registered {
		uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		cseq++
		if _, err := s.registerOnce(uctx, t, callID, &cseq, 0); err != nil {
			log.Debug("sip: trunk unregistration failed", "error", err)
		}
		cancel()
		s.setRegState(RegistrationState{Trunk: t.Name})
	}
}

// registerOnce sends one REGISTER (and its answer to a challenge) and
// returns the interval the registrar granted.
func (s *Server) registerOnce(ctx context.Context, t *Trunk, callID string, cseq *uint32, expires int) (int, error) {
	host, port, err := splitHostPort(t.Host)
	if err != nil {
		return 0, err
	}
	transport, err := transportOf(t.Transport)
	if err != nil {
		return 0, err
	}
	req := s.newRegister(t, host, port, transport, callID, *cseq, expires)
	ctx, cancel := context.WithTimeout(ctx, 64*sipmsg.T1)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("REGISTER: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		*cseq++
		req = s.newRegister(t, host, port, transport, callID, *cseq, expires)
		res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: t.Username, Password: t.Password})
		if err != nil {
			return 0, fmt.Errorf("REGISTER with credentials: %w", err)
		}
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("REGISTER answered %d %s", res.StatusCode, res.Reason)
	}
	return grantedExpires(res, expires), nil
}

func (s *Server) newRegister(t *Trunk, host string, port int, transport, callID string, cseq uint32, expires int) *sipmsg.Request {
	uri := sipmsg.Uri{Scheme: "sip", Host: host, Port: port}
	if transport != "UDP" {
		uri.UriParams = sipmsg.NewParams()
		uri.UriParams.Add("transport", strings.ToLower(transport))
	}
	req := sipmsg.NewRequest(sipmsg.REGISTER, uri)
	req.SetTransport(transport)
	aor := sipmsg.Uri{Scheme: "sip", User: t.Username, Host: host}
	from := &sipmsg.FromHeader{Address: aor, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: aor})
	cid := sipmsg.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: cseq, MethodName: sipmsg.REGISTER})
	contact := s.contactForTransport(strings.ToLower(transport))
	contact.Address.User = t.Username
	req.AppendHeader(&contact)
	req.AppendHeader(sipmsg.NewHeader("Expires", strconv.Itoa(expires)))
	return req
}

// grantedExpires reads the interval a 2xx to REGISTER grants: our
// Contact's expires parameter, else Expires, else what we asked.
func grantedExpires(res *sipmsg.Response, asked int) int {
	if c := res.Contact(); c != nil && c.Params != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return n
		}
	}
	return max(asked, 1)
}
