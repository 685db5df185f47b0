package ivr

import "github.com/voxgate/voxgate/twiml"

func init() { registerVerb(func(v *twiml.Reject) verb { return rejectVerb{v} }) }

// rejectVerb runs <Reject>: as the first verb of an unanswered call it
// refuses the call (busy or declined) without answering; later it just
// hangs up.
type rejectVerb struct{ v *twiml.Reject }

func (rejectVerb) run(s *session) (next, error) {
	s.hangup()
	return next{}, errHangup
}

func (v rejectVerb) runUnanswered(s *session, first bool) (next, error) {
	if !first {
		return v.run(s)
	}
	s.reject(v.v.Reason == "busy")
	return next{}, errHangup
}
