package ivr

import "github.com/voxgate/voxgate/twiml"

func init() { registerVerb(func(v *twiml.Say) verb { return sayVerb{v} }) }

// sayVerb runs <Say>: the text rendered by the engine's Speaker.
type sayVerb struct{ v *twiml.Say }

func (v sayVerb) run(s *session) (next, error) {
	return next{}, s.say(s.ctx, v.v.Text, v.v.Voice, v.v.Language, v.v.Loop)
}
