package ivr

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/twiml"
)

// sharedLeg lends a call's leg to the dequeued caller's engine, which
// bridges to it and calls Release when the bridge is over.
type sharedLeg struct {
	media.Leg
	url, method string
	once        sync.Once
	released    chan struct{}
}

// Release tells the lender the bridge is over.
func (l *sharedLeg) Release() { l.once.Do(func() { close(l.released) }) }

// Announcement is the <Queue url> document for the dequeued caller.
func (l *sharedLeg) Announcement() (url, method string) { return l.url, l.method }

// dialQueue runs <Dial><Queue>: take the front caller of the queue
// (waiting up to the Dial timeout for one) and stay connected to it until
// either side hangs up.
func (s *session) dialQueue(d *twiml.Dial, q *twiml.Queue) (next, error) {
	if s.e.cfg.Queues == nil {
		return next{}, &verbError{code: 12400, err: errors.New("<Dial><Queue>: this gateway has no queues configured")}
	}
	lent := &sharedLeg{Leg: s.call.Leg(), method: q.Method, released: make(chan struct{})}
	if q.URL != "" {
		u, err := s.resolve(q.URL)
		if err != nil {
			return next{}, err
		}
		lent.url = u
		if lent.method == "" {
			lent.method = http.MethodPost
		}
	}
	deadline := s.e.cfg.Clock.After(time.Duration(d.Timeout) * time.Second)
	var member queue.MemberInfo
	for {
		m, err := s.e.cfg.Queues.TakeFront(q.QueueName, s.info.SID, lent)
		if err == nil {
			member = m
			break
		}
		if !errors.Is(err, queue.ErrNoCaller) {
			s.log.Warn("ivr: <Dial><Queue> failed", "queue", q.QueueName, "error", err)
			return s.dialDone(d, "failed", "", 0, false)
		}
		select {
		case <-s.e.cfg.Clock.After(500 * time.Millisecond):
		case <-deadline:
			return s.dialDone(d, "no-answer", "", 0, false)
		case <-s.ctx.Done():
			return s.dialDone(d, "canceled", "", 0, false)
		}
	}
	s.log.Info("ivr: dequeued a caller", "queue", q.QueueName, "member_sid", member.CallSID, "waited", member.Wait.Round(time.Second).String())
	start := s.e.cfg.Clock.Now()
	select {
	case <-lent.released:
	case <-s.ctx.Done():
	}
	talk := s.e.cfg.Clock.Now().Sub(start)
	return s.dialDone(d, "completed", member.CallSID, talk, true)
}
