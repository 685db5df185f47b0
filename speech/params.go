package speech

import (
	"net/url"
	"strconv"
)

// ActionParams are what a <Gather> that heard speech adds to its action
// request: SpeechResult, and Confidence when the recognizer gave one.
func ActionParams(r Result) url.Values {
	v := url.Values{}
	v.Set("SpeechResult", r.Text)
	if r.HasConfidence {
		v.Set("Confidence", strconv.FormatFloat(r.Confidence, 'f', -1, 64))
	}
	return v
}

// PartialParams are a partialResultCallback request's own parameters;
// seq counts the partials of one <Gather> from 1.
func PartialParams(p Partial, seq int) url.Values {
	v := url.Values{}
	v.Set("UnstableSpeechResult", p.Text)
	v.Set("Stability", strconv.FormatFloat(p.Stability, 'f', -1, 64))
	v.Set("SequenceNumber", strconv.Itoa(seq))
	return v
}
