package messaging

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/voxgate/voxgate/store"
)

// Message directions.
const (
	DirectionInbound       = "inbound"
	DirectionOutboundAPI   = "outbound-api"
	DirectionOutboundReply = "outbound-reply"
	DirectionOutboundCall  = "outbound-call"
)

// Limits (messaging.md §1.3).
const (
	MaxBodyChars = 1600
	MaxMedia     = 10
)

// SendRequest is one outbound message to create.
type SendRequest struct {
	From, To string
	Body     string
	Media    []string
	// StatusCallback (absolute URL) hears status changes; Method is GET
	// or POST (default POST).
	StatusCallback, StatusCallbackMethod string
	// Direction is outbound-api (default), outbound-reply or outbound-call.
	Direction string
	// Trunk, when set, names the transport (a reply goes back the way the
	// message came); otherwise Options.Route picks one.
	Trunk string
}

// Send validates a message, stores it as queued and queues it for its
// transport. A refusal is an *Error with Twilio's REST code (21211, 21602,
// 21606, 21610, 21617, 21620 …); nothing is stored then.
func (s *Service) Send(ctx context.Context, r SendRequest) (store.Message, error) {
	r.To, r.From = normalise(r.To), normalise(r.From)
	if r.Direction == "" {
		r.Direction = DirectionOutboundAPI
	}
	if err := s.validate(ctx, r); err != nil {
		return store.Message{}, err
	}
	trunk := s.first
	if _, ok := s.tr[r.Trunk]; ok {
		trunk = r.Trunk
	} else if s.opts.Route != nil {
		if t := s.opts.Route(r.To); t != "" {
			trunk = t
		}
	}
	ob := s.tr[trunk]
	if ob == nil {
		return store.Message{}, &Error{Status: 400, Code: 21612, Message: "The 'To' phone number is not currently reachable: no messaging trunk is configured"}
	}
	m := store.Message{
		SID: newSID(), AccountSID: s.opts.AccountSID, Direction: r.Direction, From: r.From, To: r.To, Body: r.Body,
		MediaURLs: strings.Join(r.Media, "\n"), Status: store.MessageQueued, NumSegments: segments(r.Body, r.Media),
		StatusCallback: r.StatusCallback, StatusCallbackMethod: r.StatusCallbackMethod, Trunk: trunk,
	}
	m, err := s.store.CreateMessage(ctx, m)
	if err != nil {
		return store.Message{}, err
	}
	s.log.Debug("messaging: queued", "message_sid", m.SID, "to", m.To, "trunk", trunk, "segments", m.NumSegments)
	s.enqueue(m)
	return m, nil
}

// segments is num_segments: media-only or MMS count as 1.
func segments(body string, media []string) int {
	if len(media) > 0 {
		return 1
	}
	return NumSegments(body)
}

// validate checks a request as Twilio's Messages create does.
func (s *Service) validate(ctx context.Context, r SendRequest) error {
	switch {
	case r.To == "":
		return badRequest(CodeNoTo, "A 'To' phone number is required.")
	case !validAddress(r.To):
		return badRequest(CodeInvalidToNumber, "The 'To' number %s is not a valid phone number.", r.To)
	case r.From == "":
		return badRequest(CodeNoFrom, "A 'From' phone number is required.")
	case !validSender(r.From) || (validAddress(r.From) && !s.opts.Ours(r.From)):
		return badRequest(CodeFromNotOurs, "The 'From' number %s is not a valid message-capable phone number for this account.", r.From)
	case r.Body == "" && len(r.Media) == 0:
		return badRequest(CodeNoBody, "Message body is required.")
	case utf8.RuneCountInString(r.Body) > MaxBodyChars:
		return badRequest(CodeBodyTooLong, "The concatenated message body exceeds the %d character limit.", MaxBodyChars)
	case len(r.Media) > MaxMedia:
		return badRequest(CodeInvalidMediaURL, "At most %d media URLs are allowed.", MaxMedia)
	}
	for _, u := range r.Media {
		if !absoluteHTTP(u) {
			return badRequest(CodeInvalidMediaURL, "Media urls: %s is not a valid URL.", u)
		}
	}
	if r.StatusCallback != "" && !absoluteHTTP(r.StatusCallback) {
		return badRequest(21609, "The StatusCallback URL %s is not a valid URL.", r.StatusCallback)
	}
	out, err := s.store.OptedOut(ctx, r.From, r.To)
	if err != nil {
		return err
	}
	if out {
		return badRequest(CodeOptedOut, "Attempt to send to unsubscribed recipient")
	}
	return nil
}

func absoluteHTTP(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// outbox is one transport's queue of messages to send (unbounded: the
// messages are stored; the queue only orders them).
type outbox struct {
	t      Transport
	mu     sync.Mutex
	q      []store.Message
	signal chan struct{}
	done   chan struct{}
	once   sync.Once
}

func newOutbox(t Transport) *outbox {
	return &outbox{t: t, signal: make(chan struct{}, 1), done: make(chan struct{})}
}

func (o *outbox) push(m store.Message) {
	o.mu.Lock()
	o.q = append(o.q, m)
	o.mu.Unlock()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

// pop waits for a message; false when the outbox is closed.
func (o *outbox) pop() (store.Message, bool) {
	for {
		o.mu.Lock()
		if len(o.q) > 0 {
			m := o.q[0]
			o.q[0] = store.Message{}
			o.q = o.q[1:]
			more := len(o.q) > 0
			o.mu.Unlock()
			if more { // wake another worker
				select {
				case o.signal <- struct{}{}:
				default:
				}
			}
			return m, true
		}
		o.mu.Unlock()
		select {
		case <-o.signal:
		case <-o.done:
			return store.Message{}, false
		}
	}
}

func (o *outbox) close() { o.once.Do(func() { close(o.done) }) }

// enqueue queues a stored message for its transport.
func (s *Service) enqueue(m store.Message) {
	ob := s.tr[m.Trunk]
	if ob == nil {
		ob = s.tr[s.first]
	}
	if ob == nil {
		s.log.Error("messaging: no transport for a queued message", "message_sid", m.SID, "trunk", m.Trunk)
		return
	}
	ob.push(m)
}

// work sends queued messages until the outbox closes.
func (s *Service) work(ctx context.Context, ob *outbox) {
	for {
		m, ok := ob.pop()
		if !ok {
			return
		}
		s.sendOne(ctx, ob, m)
	}
}

// sendOne hands one message to the transport and records the outcome.
func (s *Service) sendOne(ctx context.Context, ob *outbox, m store.Message) {
	log := s.log.With("message_sid", m.SID, "trunk", ob.t.Name())
	if time.Since(m.DateCreated) > s.opts.Validity {
		s.finish(ctx, m, store.MessageFailed, CodeQueueOverflow)
		return
	}
	// The sending mark is not waited for: it only informs (a message
	// found queued or sending at start is sent again either way), and the
	// status rank keeps it from overwriting sent if it lands late.
	s.goRun(func(ctx context.Context) {
		if err := s.store.MarkMessageSending(ctx, m.SID); err != nil && !isNotFound(err) && ctx.Err() == nil {
			log.Debug("messaging: marking sending failed", "error", err)
		}
	})
	m.Attempts++
	var media []string
	if m.MediaURLs != "" {
		media = strings.Split(m.MediaURLs, "\n")
	}
	ids, err := ob.t.Send(ctx, Outgoing{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Media: media})
	if err != nil {
		var se *SendError
		if errors.As(err, &se) && !se.Retry {
			log.Warn("messaging: the carrier refused the message", "code", se.Code, "detail", se.Detail)
			s.finish(ctx, m, store.MessageFailed, se.Code)
			return
		}
		if ctx.Err() != nil {
			return // shutting down: the message stays sending and is re-sent at the next start
		}
		s.retry(ctx, ob, m, err)
		return
	}
	changed, err := s.store.MessageSent(ctx, m.SID, ids)
	if err != nil {
		log.Error("messaging: recording the sent message failed; its receipts will not match", "error", err)
		return
	}
	log.Debug("messaging: sent", "segments", len(ids), "carrier_ids", ids)
	if changed {
		m.Status = store.MessageSent
		s.changed(m)
	}
}

// retry puts a message back after a transient failure, with back-off.
func (s *Service) retry(ctx context.Context, ob *outbox, m store.Message, cause error) {
	delay := s.opts.RetryDelay << min(m.Attempts-1, 5)
	delay = min(delay, 30*time.Second)
	s.log.Warn("messaging: send failed; retrying", "message_sid", m.SID, "error", cause, "attempt", m.Attempts, "in", delay)
	if err := s.store.RequeueMessage(ctx, m.SID); err != nil && !isNotFound(err) {
		s.log.Error("messaging: requeue failed", "message_sid", m.SID, "error", err)
	}
	s.goRun(func(ctx context.Context) {
		select {
		case <-time.After(delay):
			ob.push(m)
		case <-ctx.Done():
		}
	})
}

// finish moves a message to a final failure status with code.
func (s *Service) finish(ctx context.Context, m store.Message, status string, code int) {
	s.advance(ctx, m, status, code, "")
}

// advance records a status change and, when it is one, posts the status
// callback.
func (s *Service) advance(ctx context.Context, m store.Message, status string, code int, raw string) {
	msg := ""
	if code != 0 {
		msg = ErrorText(code)
	}
	changed, err := s.store.AdvanceMessage(ctx, m.SID, status, code, msg, raw)
	if err != nil {
		s.log.Error("messaging: status update failed", "message_sid", m.SID, "status", status, "error", err)
		return
	}
	if !changed {
		return
	}
	m.Status, m.ErrorCode, m.ErrorMessage = status, code, msg
	if raw != "" {
		m.RawDlrDoneDate = raw
	}
	s.changed(m)
}

// changed reports a stored status change: log, status callback, hooks.
func (s *Service) changed(m store.Message) {
	status := m.Status
	s.log.Info("messaging: status", "message_sid", m.SID, "status", status, "error_code", m.ErrorCode)
	s.statusCallback(m)
	if s.opts.Observe != nil && store.MessageStatusRank(status) == 4 {
		s.opts.Observe(m)
	}
	if s.opts.Failed != nil && (status == store.MessageFailed || status == store.MessageUndelivered) {
		s.goRun(func(ctx context.Context) { s.opts.Failed(ctx, m) })
	}
}

// Receipt implements Sink: it records a segment's receipt and, once every
// segment is delivered (or one is not), the message's status, in one
// transaction. A receipt for a message whose segments are not stored yet
// (it overtook the submit_sm_resp bookkeeping) is tried again a few times.
func (s *Service) Receipt(ctx context.Context, r Receipt) error {
	found, err := s.applyReceipt(ctx, r)
	if err != nil {
		return err
	}
	if !found {
		s.goRun(func(ctx context.Context) { s.retryReceipt(ctx, r) })
	}
	return nil
}

func (s *Service) retryReceipt(ctx context.Context, r Receipt) {
	for range 10 {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		found, err := s.applyReceipt(ctx, r)
		if err != nil {
			s.log.Error("messaging: recording a receipt failed", "error", err)
			return
		}
		if found {
			return
		}
	}
	s.log.Warn("messaging: a delivery receipt matches no message", "ids", r.IDs, "receipt", r.Raw)
}

// applyReceipt records a receipt; found is false when no segment matches.
func (s *Service) applyReceipt(ctx context.Context, r Receipt) (found bool, err error) {
	status, code := store.MessageDelivered, 0
	if !r.Delivered {
		status, code = store.MessageUndelivered, r.ErrorCode
		if code == 0 {
			code = CodeUnknownError
		}
	}
	sid, changed, err := s.store.SegmentReceipt(ctx, r.IDs, status, code, ErrorText(code), r.DoneDate)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil || !changed {
		return err == nil, err
	}
	m, err := s.store.GetMessage(ctx, sid)
	if err != nil {
		return true, err
	}
	s.changed(m)
	return true, nil
}
