package ivr

import (
	"reflect"
	"sync"
)

// callState holds what verbs keep for the rest of a call, beyond their own
// run: say, the media streams a <Start><Stream> forks, which a later
// <Stop><Stream> or the end of the call stops. A call's documents (and the
// documents nested in its verbs) share one.
type callState struct {
	mu     sync.Mutex
	values map[reflect.Type]any
	order  []any // in the order made, for ending them in reverse
}

// callEnder is a per-call value that wants to know when the call ends.
type callEnder interface {
	// callEnded runs once, as the call ends, before its final status is
	// reported.
	callEnded()
}

// perCall returns the call's value of type T, made by create the first
// time a verb asks for it. A T that has a callEnded method is told when the
// call ends.
func perCall[T any](s *session, create func() T) T {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	key := reflect.TypeFor[T]()
	if v, ok := st.values[key]; ok {
		return v.(T)
	}
	v := create()
	st.values[key] = v
	st.order = append(st.order, v)
	return v
}

// end tells the per-call values that the call is ending, newest first.
func (st *callState) end() {
	st.mu.Lock()
	order := st.order
	st.order = nil
	st.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		if e, ok := order[i].(callEnder); ok {
			e.callEnded()
		}
	}
}

func newCallState() *callState { return &callState{values: map[reflect.Type]any{}} }
