package ivr

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/voxgate/voxgate/media"
)

// forkAudio hands the call's audio to listeners until stop: what the
// caller sends to in (a Record on the call's leg), what the gateway plays
// to the caller to out (the leg's tee, see tapLeg); either may be nil.
// Neither may block. It fails for out before the call has a tapped leg.
func forkAudio(s *session, in, out media.Sink) (stop func() error, err error) {
	var tl *tapLeg
	if out != nil {
		t := s.tapped()
		if t == nil {
			return nil, errors.New("ivr: the call has no audio to fork yet")
		}
		tl = &t.leg
		tl.addSink(out)
	}
	ctx, cancel := context.WithCancel(s.callCtx)
	var wg sync.WaitGroup
	if in != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.leg().Record(ctx, in)
		}()
	}
	var once sync.Once
	return func() error {
		once.Do(func() {
			cancel()
			wg.Wait()
			if tl != nil {
				tl.removeSink(out)
			}
		})
		return nil
	}, nil
}

// addSink makes sink hear what is played to the caller.
func (l *tapLeg) addSink(sink media.Sink) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var next []media.Sink
	if cur := l.sinks.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, sink)
	l.sinks.Store(&next)
}

// removeSink undoes addSink.
func (l *tapLeg) removeSink(sink media.Sink) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.sinks.Load()
	if cur == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*cur), func(x media.Sink) bool { return x == sink })
	l.sinks.Store(&next)
}
