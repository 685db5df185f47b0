package tts

import "context"

// flight is one render in progress, shared by every caller asking for the
// same prompt meanwhile.
type flight struct {
	done    chan struct{} // closed when pcm and err are set
	pcm     []int16
	err     error
	waiters int                // callers still waiting; guarded by Engine.mu
	cancel  context.CancelFunc // stops the render when every waiter has left
}

// shared runs fn once per key at a time: concurrent callers with the same
// key wait for the same result. fn runs with a context that ends only when
// all waiting callers' contexts have ended; the last caller to give up
// waits for fn to return, so no espeak-ng process outlives its callers.
func (e *Engine) shared(ctx context.Context, key string, fn func(context.Context) ([]int16, error)) ([]int16, error) {
	e.mu.Lock()
	f, ok := e.flights[key]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		e.flights[key] = f
		go func() {
			defer close(f.done)
			defer cancel()
			f.pcm, f.err = fn(fctx)
			e.mu.Lock()
			if e.flights[key] == f {
				delete(e.flights, key)
			}
			e.mu.Unlock()
		}()
	}
	f.waiters++
	e.mu.Unlock()

	select {
	case <-f.done:
		return f.pcm, f.err
	case <-ctx.Done():
	}
	e.mu.Lock()
	f.waiters--
	last := f.waiters == 0
	if last {
		f.cancel()
		if e.flights[key] == f {
			delete(e.flights, key) // later callers start afresh
		}
	}
	e.mu.Unlock()
	if last {
		<-f.done
	}
	return nil, ctx.Err()
}
