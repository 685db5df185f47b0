package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/store"
)

// CallControl is what the REST API needs of the call engine: placing
// outbound-api calls and steering live ones. The gateway implements it with
// the engine and SIP.
type CallControl interface {
	// Create starts an outbound-api call and returns its record as stored
	// (status "queued"). It writes the record itself; the API only reads it.
	Create(ctx context.Context, p CreateCallParams) (store.Call, error)
	// Redirect makes the live call fetch url with method ("GET"/"POST") and
	// run that TwiML instead of its current document. ErrNotLive when the
	// call is not running here.
	Redirect(ctx context.Context, callSID, url, method string) error
	// RedirectTwiML makes the live call run twiml now. ErrNotLive when the
	// call is not running here.
	RedirectTwiML(ctx context.Context, callSID, twiml string) error
	// Hangup ends the call: status "completed" hangs up whatever the state,
	// "canceled" ends a call that has not been answered. ErrNotLive when the
	// call is not running here.
	Hangup(ctx context.Context, callSID, status string) error
	// StartRecording starts recording the live call (POST
	// Calls/{Sid}/Recordings.json) and returns the recording, status
	// "in-progress". It has told the store about it (the recording lists
	// show it) before it returns. ErrNotLive when the call is not in
	// progress here.
	StartRecording(ctx context.Context, callSID string, p RecordingParams) (CallRecording, error)
	// UpdateRecording pauses (status "paused"), resumes ("in-progress")
	// or stops ("stopped") a recording of the live call; recSID may be
	// CurrentRecording. PauseBehavior ("skip" or "silence") applies to a
	// pause. ErrNotLive when the call is not in progress here,
	// ErrNoRecording when it has no such recording, ErrRecordingEnded
	// when the recording is over.
	UpdateRecording(ctx context.Context, callSID, recSID, status, pauseBehavior string) (CallRecording, error)
}

// RecordingParams configures a whole-call recording: Calls.create
// Record=true, or POST Calls/{Sid}/Recordings.json.
type RecordingParams struct {
	Channels             int    // 1 (mono: both parties mixed) or 2 (dual: caller left, gateway right)
	Track                string // both, inbound (what the caller sends) or outbound (what the gateway sends)
	Trim                 bool   // trim leading and trailing silence
	StatusCallback       string // absolute URL, or ""
	StatusCallbackMethod string // GET or POST (default POST)
	// StatusCallbackEvents are of in-progress, completed, absent; default
	// [completed].
	StatusCallbackEvents []string
}

// CallRecording is a whole-call recording as a CallControl reports it.
type CallRecording struct {
	SID       string
	CallSID   string
	Status    string // in-progress, paused, stopped, completed, absent
	Source    string // OutboundAPI, StartCallRecordingAPI, …
	Channels  int
	StartTime time.Time
	Duration  time.Duration // once ended
}

// CurrentRecording is the recording SID that names a call's most recently
// started recording that is still going (Twilio.CURRENT).
const CurrentRecording = "Twilio.CURRENT"

var (
	// ErrNoRecording is returned by CallControl.UpdateRecording when the
	// call has no such recording; the API answers 404 with code 20404.
	ErrNoRecording = errors.New("api: no such recording")
	// ErrRecordingEnded is returned by CallControl.UpdateRecording when
	// the recording is over; the API answers 400 with code 21220.
	ErrRecordingEnded = errors.New("api: the recording has ended")
)

// CreateCallParams is a validated POST Calls.json. Exactly one of URL and
// TwiML is set; methods are "GET" or "POST" (defaults applied).
type CreateCallParams struct {
	AccountSID           string
	To                   string
	From                 string
	URL                  string
	Method               string // for URL; default POST
	TwiML                string // at most 4000 characters
	FallbackURL          string
	FallbackMethod       string // default POST
	StatusCallback       string
	StatusCallbackMethod string   // default POST
	StatusCallbackEvents []string // of initiated, ringing, answered, completed; default [completed]
	Timeout              time.Duration
	SendDigits           string // 0-9 A-D # * w W, at most 32
	// Record records the whole call from the answer, as Recording says
	// (Twilio's Record, RecordingChannels, RecordingTrack, Trim (default
	// trim-silence here) and RecordingStatusCallback*).
	Record    bool
	Recording RecordingParams
}

// ErrNotLive is returned by CallControl when the call is not in progress on
// this gateway; the API answers 400 with code 21220.
var ErrNotLive = errors.New("api: call is not in progress")

// QueueControl is the live side of queues (who is waiting now), kept by the
// queue package. The store keeps queues and their history.
type QueueControl interface {
	// Size returns how many calls wait in the queue now and their average
	// wait; zeros for a queue with nobody waiting or unknown to it.
	Size(queueSID string) (current int, avgWait time.Duration)
	// Members returns the calls waiting in the queue, front first.
	Members(queueSID string) []Member
	// Dequeue takes callSID (or the front call when callSID is "Front") out
	// of the queue and makes it run the TwiML at url, fetched with method.
	// ErrNoMember when the call is not waiting there (or the queue is
	// empty).
	Dequeue(ctx context.Context, queueSID, callSID, url, method string) (Member, error)
}

// Member is a call waiting in a queue.
type Member struct {
	CallSID      string
	DateEnqueued time.Time
	Position     int // 1-based; 1 is the front
	WaitTime     time.Duration
}

// ErrNoMember is returned by QueueControl.Dequeue when the call is not in
// the queue; the API answers 404 with code 20404.
var ErrNoMember = errors.New("api: no such queue member")

// FrontMember is the reserved member name for the head of a queue.
const FrontMember = "Front"

// Error is a Twilio REST error. Controllers return one (possibly wrapped)
// to choose what the client sees, for example
// &Error{Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number"};
// any other error becomes 500 with code 20500.
type Error struct {
	Status  int    // HTTP status
	Code    int    // Twilio error code
	Message string // human-readable
}

// TwilioCode returns Code.
func (e *Error) TwilioCode() int { return e.Code }

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("twilio error %d (HTTP %d): %s", e.Code, e.Status, e.Message)
}
