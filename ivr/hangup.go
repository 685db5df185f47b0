package ivr

import "github.com/voxgate/voxgate/twiml"

func init() { registerVerb(func(*twiml.Hangup) verb { return hangupVerb{} }) }

// hangupVerb runs <Hangup>: the call ends.
type hangupVerb struct{}

func (hangupVerb) run(s *session) (next, error) {
	s.hangup()
	return next{}, errHangup
}
