package ivr

import "github.com/voxgate/voxgate/twiml"

func init() { registerVerb(func(*twiml.Leave) verb { return leaveVerb{} }) }

// leaveVerb runs <Leave>: in an <Enqueue> wait document the caller leaves
// the queue (the Enqueue verb sees errLeave); elsewhere it does nothing.
type leaveVerb struct{}

func (leaveVerb) run(s *session) (next, error) {
	if s.within == twiml.EnqueueWait {
		return next{}, errLeave
	}
	s.log.Warn("ivr: <Leave> outside a queue's wait document does nothing")
	return next{}, nil
}
