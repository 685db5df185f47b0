// Package speech turns what a caller says into text for <Gather
// input="speech">: a Recognizer interface, an offline default that runs
// CMU PocketSphinx (the Debian packages pocketsphinx and
// pocketsphinx-en-us), a recognizer that streams the audio to an external
// server over a WebSocket, and a Listener that finds where speech starts
// and ends in the call's audio (speechTimeout, maxSpeechTime) and feeds it
// to a recognizer.
//
// Audio is Voxgate's: 8 kHz mono 16-bit PCM in 20 ms frames.
package speech

import (
	"context"
	"errors"
)

// Options describe one recognition.
type Options struct {
	// Language is BCP-47, e.g. "en-US" (the default).
	Language string
	// Hints are phrases the caller is likely to say (<Gather hints>).
	// Recognizers that can, constrain recognition to them.
	Hints []string
	// Model is <Gather speechModel>, passed on to external recognizers.
	Model string
	// ProfanityFilter is <Gather profanityFilter>, passed on.
	ProfanityFilter bool
	// CallSID identifies the call, for logs and external recognizers.
	CallSID string
}

// Result is a final recognition.
type Result struct {
	// Text is what was said ("" when nothing was understood).
	Text string
	// Confidence is 0–1; HasConfidence says whether the recognizer gave
	// one (Twilio's Confidence parameter is optional too).
	Confidence    float64
	HasConfidence bool
	// DroppedFrames counts audio the recognizer could not take in time
	// (a slow external server).
	DroppedFrames int
}

// Partial is an interim result, for partialResultCallback.
type Partial struct {
	Text      string
	Stability float64
}

// Recognizer starts recognitions.
type Recognizer interface {
	// Start begins recognizing one utterance.
	Start(ctx context.Context, opts Options) (Session, error)
}

// Session is one utterance being recognized.
type Session interface {
	// Write adds one frame of audio. It never blocks: a recognizer that
	// cannot keep up drops audio (and says so in its result or log).
	Write(pcm []int16)
	// Partials delivers interim results; it is closed when the session
	// ends. Recognizers without interim results close it at once.
	Partials() <-chan Partial
	// Finish ends the audio and returns the final result.
	Finish(ctx context.Context) (Result, error)
	// Close abandons the session; it is safe after Finish.
	Close()
}

// ErrNoSpeech is the Listener's answer when the caller said nothing.
var ErrNoSpeech = errors.New("speech: no speech")

// closedPartials is a closed channel for recognizers without partials.
func closedPartials() <-chan Partial {
	c := make(chan Partial)
	close(c)
	return c
}
