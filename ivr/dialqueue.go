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
	from        string // the dequeuing call's From
	url, method string
	once        sync.Once
	released    chan struct{}
}

// Release tells the lender the bridge is over.
func (l *sharedLeg) Release() { l.once.Do(func() { close(l.released) }) }

// Dequeuer is the dequeuing call's From (client:ID for a browser agent).
func (l *sharedLeg) Dequeuer() string { return l.from }

// Announcement is the <Queue url> document for the dequeued caller.
func (l *sharedLeg) Announcement() (url, method string) { return l.url, l.method }

func init() {
	registerDialNoun(func(d *twiml.Dial, q *twiml.Queue) verb { return &dialQueueVerb{d: d, q: q} })
}

// dialQueueVerb runs <Dial><Queue>: take the front caller of the queue
// (waiting up to the Dial timeout for one) and stay connected to it until
// either side hangs up.
type dialQueueVerb struct {
	d *twiml.Dial
	q *twiml.Queue
}

func (v *dialQueueVerb) run(s *session) (next, error) {
	if s.cfg.Queues == nil {
		return next{}, &verbError{code: 12400, err: errors.New("<Dial><Queue>: this gateway has no queues configured")}
	}
	lent := &sharedLeg{Leg: s.leg(), from: s.info.From, method: v.q.Method, released: make(chan struct{})}
	if v.q.URL != "" {
		u, err := s.resolve(v.q.URL)
		if err != nil {
			return next{}, err
		}
		lent.url = u
		if lent.method == "" {
			lent.method = http.MethodPost
		}
	}
	member, status := v.take(s, lent)
	if status != "" {
		return dialAction(s, v.d, status, "", 0, false, nil)
	}
	s.log.Info("ivr: dequeued a caller", "queue", v.q.QueueName, "member_sid", member.CallSID, "waited", member.Wait.Round(time.Second).String())
	start := s.now()
	select {
	case <-lent.released:
	case <-s.ctx.Done():
	}
	return dialAction(s, v.d, "completed", member.CallSID, s.now().Sub(start), true, nil)
}

// take dequeues the queue's front caller, lending it lent, waiting up to
// the Dial timeout for one. Without one it returns the DialCallStatus.
func (v *dialQueueVerb) take(s *session, lent *sharedLeg) (queue.MemberInfo, string) {
	deadline := s.after(time.Duration(v.d.Timeout) * time.Second)
	for {
		m, err := s.cfg.Queues.TakeFront(v.q.QueueName, s.info.SID, lent)
		if err == nil {
			return m, ""
		}
		if !errors.Is(err, queue.ErrNoCaller) {
			s.log.Warn("ivr: <Dial><Queue> failed", "queue", v.q.QueueName, "error", err)
			return m, "failed"
		}
		select {
		case <-s.after(500 * time.Millisecond):
		case <-deadline:
			return m, "no-answer"
		case <-s.ctx.Done():
			return m, "canceled"
		}
	}
}
