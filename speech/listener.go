package speech

import (
	"context"
	"sync"
	"time"
)

// frameDuration and frameSamples are Voxgate's audio frames.
const (
	frameDuration = 20 * time.Millisecond
	frameSamples  = 160
	// prerollFrames of audio (100 ms) before speech is detected are passed to the
	// recognizer too, so the first sound of a word is not cut.
	prerollFrames = 5
)

// ListenerConfig bounds one utterance.
type ListenerConfig struct {
	// SpeechTimeout is the pause after speech that ends it; 0 means
	// AutoSpeechTimeout (speechTimeout="auto").
	SpeechTimeout time.Duration
	// MaxSpeechTime caps the utterance; 0 means DefaultMaxSpeechTime.
	MaxSpeechTime time.Duration
}

// Listener watches a call's audio for one utterance: it finds where
// speech starts (for barge-in) and ends, and feeds it to a recognizer
// session. It is a media.Sink: give it to the leg's Record. A <Gather>'s
// own timeout (no speech at all) is the caller's to keep: when Started
// has not fired in time, the result is ErrNoSpeech.
type Listener struct {
	sess Session
	cfg  ListenerConfig
	det  *detector

	mu        sync.Mutex
	preroll   [prerollFrames][frameSamples]int16
	prerollN  int // frames held (up to prerollFrames), oldest at prerollAt
	prerollAt int
	speaking  bool
	ended     bool
	quiet     time.Duration // silence since the last speech
	spoken    time.Duration // length of the utterance so far
	// held is the quiet audio since the last speech, passed on only if
	// speech resumes: the pause that ends an utterance is not recognized
	// (decoders constrained to hints hear words in it).
	held []int16

	started chan struct{}
	end     chan struct{}
}

// NewListener listens for one utterance and feeds it to sess.
func NewListener(sess Session, cfg ListenerConfig) *Listener {
	if cfg.SpeechTimeout <= 0 {
		cfg.SpeechTimeout = AutoSpeechTimeout
	}
	if cfg.MaxSpeechTime <= 0 {
		cfg.MaxSpeechTime = DefaultMaxSpeechTime
	}
	heldMax := int(cfg.SpeechTimeout/frameDuration+1) * frameSamples
	return &Listener{sess: sess, cfg: cfg, det: newDetector(), held: make([]int16, 0, heldMax),
		started: make(chan struct{}), end: make(chan struct{})}
}

// Started is closed when the caller begins to speak.
func (l *Listener) Started() <-chan struct{} { return l.started }

// Ended is closed when the utterance is over: a pause of SpeechTimeout
// after speech, or MaxSpeechTime of it.
func (l *Listener) Ended() <-chan struct{} { return l.end }

// WriteFrame takes one frame of the caller's audio. It never blocks and
// never fails.
func (l *Listener) WriteFrame(p []int16) error {
	p = p[:min(len(p), frameSamples)]
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return nil
	}
	_, speaking := l.det.frame(p)
	if !l.speaking {
		if !speaking {
			l.keep(p)
			return nil
		}
		l.speaking = true
		close(l.started)
		for i := range l.prerollN {
			l.sess.Write(l.preroll[(l.prerollAt+i)%prerollFrames][:])
		}
		l.prerollN = 0
	}
	l.spoken += frameDuration
	if speaking {
		l.flushHeld()
		l.sess.Write(p)
		l.quiet = 0
	} else {
		if len(l.held)+len(p) > cap(l.held) {
			l.flushHeld()
		}
		l.held = append(l.held, p...)
		l.quiet += frameDuration
	}
	if l.quiet >= l.cfg.SpeechTimeout || l.spoken >= l.cfg.MaxSpeechTime {
		l.ended = true
		close(l.end)
	}
	return nil
}

// flushHeld passes the held pause on to the recognizer; l.mu held.
func (l *Listener) flushHeld() {
	for i := 0; i < len(l.held); i += frameSamples {
		l.sess.Write(l.held[i:min(len(l.held), i+frameSamples)])
	}
	l.held = l.held[:0]
}

// keep holds a frame of pre-roll; l.mu held.
func (l *Listener) keep(p []int16) {
	var slot *[frameSamples]int16
	if l.prerollN < prerollFrames {
		slot = &l.preroll[(l.prerollAt+l.prerollN)%prerollFrames]
		l.prerollN++
	} else {
		slot = &l.preroll[l.prerollAt]
		l.prerollAt = (l.prerollAt + 1) % prerollFrames
	}
	n := copy(slot[:], p)
	clear(slot[n:])
}

// Partials delivers the recognizer's interim results.
func (l *Listener) Partials() <-chan Partial { return l.sess.Partials() }

// Result ends listening and returns what was said: ErrNoSpeech when the
// caller never spoke. It may be called before Ended (the gather's
// timeout, a key pressed): whatever speech there was is recognized.
func (l *Listener) Result(ctx context.Context) (Result, error) {
	l.mu.Lock()
	spoke := l.speaking
	if !l.ended {
		l.ended = true
		close(l.end)
	}
	l.mu.Unlock()
	if !spoke {
		l.sess.Close()
		return Result{}, ErrNoSpeech
	}
	defer l.sess.Close()
	return l.sess.Finish(ctx)
}
