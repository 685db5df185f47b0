package ivr

import (
	"errors"
	"reflect"
	"testing"

	"github.com/voxgate/voxgate/twiml"
)

// markVerb is a verb a test registers.
type markVerb struct{}

func (markVerb) run(*session) (next, error) { return next{}, nil }

// TestVerbRegistry: every TwiML verb type is found by its constructor, a
// variant registered with registerVerbWhen comes first for the verbs it
// matches, and a verb nobody registered is Twilio's 12200.
func TestVerbRegistry(t *testing.T) {
	if v, err := newVerb(&twiml.Say{Text: "hi"}); err != nil || reflect.TypeOf(v) != reflect.TypeFor[sayVerb]() {
		t.Errorf("Say made %T, %v", v, err)
	}
	registerVerbWhen(func(p *twiml.Pause) bool { return p.Length == 42 }, func(*twiml.Pause) verb { return markVerb{} })
	pause := reflect.TypeFor[*twiml.Pause]()
	t.Cleanup(func() { delete(verbs.cases, pause) })
	if v, _ := newVerb(&twiml.Pause{Length: 42}); reflect.TypeOf(v) != reflect.TypeFor[markVerb]() {
		t.Errorf("the variant's verb is %T, want markVerb", v)
	}
	if v, _ := newVerb(&twiml.Pause{Length: 1}); reflect.TypeOf(v) != reflect.TypeFor[pauseVerb]() {
		t.Errorf("a Pause the variant does not match made %T, want pauseVerb", v)
	}
	_, err := newVerb(&twiml.Pay{})
	var ve *verbError
	if !errors.As(err, &ve) || errorCode(err) != 12200 {
		t.Errorf("<Pay>: %v, want a 12200 verbError", err)
	}
}
