package ivr

import (
	"time"

	"github.com/voxgate/voxgate/twiml"
)

func init() { registerVerb(func(v *twiml.Pause) verb { return pauseVerb{v} }) }

// pauseVerb runs <Pause>: silence for its length. As a document's first
// verb on an unanswered call it delays the answer.
type pauseVerb struct{ v *twiml.Pause }

func (v pauseVerb) run(s *session) (next, error) {
	return next{}, s.wait(time.Duration(v.v.Length) * time.Second)
}

func (v pauseVerb) runUnanswered(s *session, _ bool) (next, error) {
	if err := s.wait(time.Duration(v.v.Length) * time.Second); err != nil {
		return next{}, err
	}
	return next{}, s.answer()
}
