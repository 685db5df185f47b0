package ivr

import (
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/twiml"
)

func init() { registerVerb(func(v *twiml.Redirect) verb { return redirectVerb{v} }) }

// redirectVerb runs <Redirect>: the document at its URL replaces this one.
type redirectVerb struct{ v *twiml.Redirect }

func (v redirectVerb) run(s *session) (next, error) {
	target, err := s.resolve(v.v.URL)
	if err != nil {
		return next{}, err
	}
	return next{req: &webhook.Request{URL: target, Method: v.v.Method, Params: s.params(nil)}}, nil
}
