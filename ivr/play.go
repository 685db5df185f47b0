package ivr

import "github.com/voxgate/voxgate/twiml"

func init() {
	registerVerb(func(v *twiml.Play) verb { return playVerb{v} })
	registerVerb(func(v *decodedPlay) verb { return v })
}

// playVerb runs <Play>: media fetched by the engine's AudioFetcher, or
// DTMF digits.
type playVerb struct{ v *twiml.Play }

func (v playVerb) run(s *session) (next, error) { return next{}, s.play(s.ctx, v.v) }

// decodedPlay plays audio that is already decoded, an audio/* webhook
// response, then hangs up. It is both the document's TwiML verb and the
// verb value that runs it.
type decodedPlay struct{ pcm []int16 }

func (*decodedPlay) Name() string { return "Play" }
func (*decodedPlay) Line() int    { return 1 }

func (v *decodedPlay) run(s *session) (next, error) {
	if err := s.playPCM(s.ctx, v.pcm, 1); err != nil {
		return next{}, err
	}
	s.hangup()
	return next{}, errHangup
}
