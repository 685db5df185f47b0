package mediastream

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// DefaultMaxForksPerCall bounds the one-way streams running on one call.
const DefaultMaxForksPerCall = 4

// Errors of the Registry.
var (
	ErrCallNotLive   = errors.New("mediastream: the call is not in progress")
	ErrNoStream      = errors.New("mediastream: no such stream on this call")
	ErrBidirectional = errors.New("mediastream: a <Connect> stream is stopped only by its server or the call's end")
	ErrTooMany       = errors.New("mediastream: too many streams on this call")
	ErrNameInUse     = errors.New("mediastream: a stream of this call already has this name")
)

// ForkFunc starts a one-way stream on a live call; the engine provides it
// (typically Fork on the call's leg with the call's context, filling in
// the call's SIDs and an OnEvent that sends cfg.StatusCallback).
type ForkFunc func(cfg Config) (*Stream, error)

// Registry knows the streams of live calls, so <Stop><Stream> and the REST
// API can find them by SID or name. It is safe for concurrent use.
type Registry struct {
	// MaxForksPerCall bounds one-way streams per call; 0 means
	// DefaultMaxForksPerCall.
	MaxForksPerCall int

	mu    sync.Mutex
	calls map[string]*liveCall
}

type liveCall struct {
	fork    ForkFunc
	streams []*Stream
}

// CallStarted registers a live call that can be forked.
func (r *Registry) CallStarted(callSID string, fork ForkFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]*liveCall{}
	}
	r.calls[callSID] = &liveCall{fork: fork}
}

// CallEnded forgets the call and stops its streams.
func (r *Registry) CallEnded(callSID string) {
	r.mu.Lock()
	var streams []*Stream
	if c := r.calls[callSID]; c != nil {
		streams = slices.Clone(c.streams)
	}
	delete(r.calls, callSID)
	r.mu.Unlock()
	for _, s := range streams {
		s.Stop()
	}
}

// StartFork starts a one-way stream on a live call (the REST API and
// <Start><Stream>): ErrCallNotLive, ErrTooMany, ErrNameInUse, or the
// stream's *Error.
func (r *Registry) StartFork(callSID string, cfg Config) (*Stream, error) {
	r.mu.Lock()
	c := r.calls[callSID]
	var err error
	switch {
	case c == nil:
		err = ErrCallNotLive
	case r.forks(c) >= r.maxForks():
		err = fmt.Errorf("%w (at most %d)", ErrTooMany, r.maxForks())
	case cfg.Name != "" && find(c, cfg.Name) != nil:
		err = fmt.Errorf("%w: %q", ErrNameInUse, cfg.Name)
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s, err := c.fork(cfg)
	if err != nil {
		return nil, err
	}
	r.Add(callSID, s)
	return s, nil
}

// Add registers a running stream of a live call (a <Connect> stream, or a
// fork started without StartFork); it is forgotten when it ends.
func (r *Registry) Add(callSID string, s *Stream) {
	r.mu.Lock()
	c := r.calls[callSID]
	if c == nil {
		r.mu.Unlock()
		return
	}
	c.streams = append(c.streams, s)
	r.mu.Unlock()
	go func() {
		<-s.Done()
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range c.streams {
			if x == s {
				c.streams = slices.Delete(c.streams, i, i+1)
				break
			}
		}
	}()
}

// Stop stops the one-way stream with this SID or name and returns it:
// ErrCallNotLive, ErrNoStream, or ErrBidirectional for a <Connect> stream.
func (r *Registry) Stop(callSID, sidOrName string) (*Stream, error) {
	r.mu.Lock()
	c := r.calls[callSID]
	var s *Stream
	if c != nil {
		s = find(c, sidOrName)
	}
	r.mu.Unlock()
	switch {
	case c == nil:
		return nil, ErrCallNotLive
	case s == nil:
		return nil, ErrNoStream
	case s.Bidirectional():
		return nil, ErrBidirectional
	}
	s.Stop()
	return s, nil
}

// StopForks serves <Stop><Stream name>: it stops the call's one-way stream
// of that name, or all of them when name is "". An unknown name does
// nothing.
func (r *Registry) StopForks(callSID, name string) {
	r.mu.Lock()
	var stop []*Stream
	if c := r.calls[callSID]; c != nil {
		for _, s := range c.streams {
			if !s.Bidirectional() && (name == "" || s.Name() == name) {
				stop = append(stop, s)
			}
		}
	}
	r.mu.Unlock()
	for _, s := range stop {
		s.Stop()
	}
}

func (r *Registry) maxForks() int {
	if r.MaxForksPerCall > 0 {
		return r.MaxForksPerCall
	}
	return DefaultMaxForksPerCall
}

// forks counts a call's one-way streams; r.mu held.
func (r *Registry) forks(c *liveCall) int {
	n := 0
	for _, s := range c.streams {
		if !s.Bidirectional() {
			n++
		}
	}
	return n
}

// find returns the call's stream with this SID or name; r.mu held.
func find(c *liveCall, sidOrName string) *Stream {
	for _, s := range c.streams {
		if s.SID() == sidOrName || (s.Name() != "" && s.Name() == sidOrName) {
			return s
		}
	}
	return nil
}
