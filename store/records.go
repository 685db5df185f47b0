package store

import "time"

// CallStatus is a call's state as the REST API reports it.
type CallStatus string

// Call statuses (Twilio's REST values; "initiated" exists only in callbacks).
const (
	CallQueued     CallStatus = "queued"
	CallRinging    CallStatus = "ringing"
	CallInProgress CallStatus = "in-progress"
	CallCompleted  CallStatus = "completed"
	CallBusy       CallStatus = "busy"
	CallFailed     CallStatus = "failed"
	CallNoAnswer   CallStatus = "no-answer"
	CallCanceled   CallStatus = "canceled"
)

// Valid reports whether s is one of the call statuses above.
func (s CallStatus) Valid() bool {
	switch s {
	case CallQueued, CallRinging, CallInProgress, CallCompleted,
		CallBusy, CallFailed, CallNoAnswer, CallCanceled:
		return true
	}
	return false
}

// Ended reports whether a call with status s is over.
func (s CallStatus) Ended() bool {
	switch s {
	case CallCompleted, CallBusy, CallFailed, CallNoAnswer, CallCanceled:
		return true
	}
	return false
}

// Call is a call detail record. Empty strings and zero times stand for the
// REST API's nulls.
type Call struct {
	SID           string // CA…
	AccountSID    string // AC…, fixed at insert
	ParentCallSID string // the call whose <Dial> made this one
	From          string
	To            string
	FromFormatted string
	ToFormatted   string
	Direction     string // inbound, outbound-api, outbound-dial
	Status        CallStatus
	StartTime     time.Time // answered (or started)
	EndTime       time.Time
	Duration      int    // seconds, once ended
	AnsweredBy    string // human, machine_start, … (AMD), or ""
	ForwardedFrom string
	CallerName    string
	QueueTime     int    // milliseconds the call waited before dialling (Twilio's queue_time unit)
	TrunkSID      string // the SIP trunk the call used
	SIPCallID     string // Call-ID of the call's SIP dialog
	// NodeID names the gateway that carries the call (cluster.node_id),
	// set by the store that first writes it; "" for calls written before
	// nodes were recorded.
	NodeID      string
	DateCreated time.Time
	DateUpdated time.Time
}

// RecordingStatus is a recording's state as the REST API reports it.
type RecordingStatus string

// Recording statuses.
const (
	RecordingInProgress RecordingStatus = "in-progress"
	RecordingPaused     RecordingStatus = "paused"
	RecordingStopped    RecordingStatus = "stopped"
	RecordingProcessing RecordingStatus = "processing"
	RecordingCompleted  RecordingStatus = "completed"
	RecordingAbsent     RecordingStatus = "absent"
	RecordingDeleted    RecordingStatus = "deleted"
)

// Valid reports whether s is one of the recording statuses above.
func (s RecordingStatus) Valid() bool {
	switch s {
	case RecordingInProgress, RecordingPaused, RecordingStopped, RecordingProcessing,
		RecordingCompleted, RecordingAbsent, RecordingDeleted:
		return true
	}
	return false
}

// Recording is a recording's metadata.
type Recording struct {
	SID           string // RE…
	AccountSID    string // fixed at insert
	CallSID       string
	ConferenceSID string
	Status        RecordingStatus
	Source        string // RecordVerb, DialVerb, Conference, OutboundAPI, StartCallRecordingAPI, …
	Channels      int    // 1 or 2; 0 on write means 1
	Duration      int    // seconds
	StartTime     time.Time
	ErrorCode     int    // Twilio error code, 0 for none
	Path          string // the audio file on disk
	NodeID        string // the gateway whose disk holds Path, set like Call.NodeID
	DateCreated   time.Time
	DateUpdated   time.Time
	Deleted       bool // set only by DeleteRecording
}

// DefaultQueueMaxSize is the MaxSize of a queue created without one.
const DefaultQueueMaxSize = 1000

// Queue is a named call queue. Who is waiting in it right now is live state
// kept by the queue package; the store keeps the queue and its history.
type Queue struct {
	SID          string // QU…
	AccountSID   string
	FriendlyName string // unique within the account
	MaxSize      int
	DateCreated  time.Time
	DateUpdated  time.Time
}

// QueueMember is one stay of a call in a queue.
type QueueMember struct {
	QueueSID     string
	CallSID      string
	DateEnqueued time.Time
	DateLeft     time.Time // zero while the call waits
	Result       string    // Twilio's QueueResult once left: bridged, hangup, leave, redirected, error, queue-full, system-shutdown
	WaitTime     int       // seconds waited
}
