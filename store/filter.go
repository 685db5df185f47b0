package store

import "time"

// TimeRange selects times t with From <= t < Before; a zero bound is open.
// A record whose time is not set never matches a non-empty range.
type TimeRange struct {
	From   time.Time // inclusive
	Before time.Time // exclusive
}

// IsZero reports whether r has no bounds, i.e. filters nothing.
func (r TimeRange) IsZero() bool { return r.From.IsZero() && r.Before.IsZero() }

// Contains reports whether t is in r. The zero time is in no bounded range.
func (r TimeRange) Contains(t time.Time) bool {
	if r.IsZero() {
		return true
	}
	if t.IsZero() {
		return false
	}
	return (r.From.IsZero() || !t.Before(r.From)) && (r.Before.IsZero() || t.Before(r.Before))
}

// And returns the times in both r and o.
func (r TimeRange) And(o TimeRange) TimeRange {
	if o.From.After(r.From) {
		r.From = o.From
	}
	if !o.Before.IsZero() && (r.Before.IsZero() || o.Before.Before(r.Before)) {
		r.Before = o.Before
	}
	return r
}

// startOfDay returns midnight UTC of the UTC day holding t.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// OnDay is the UTC day holding day: Twilio's "StartTime=YYYY-MM-DD".
func OnDay(day time.Time) TimeRange {
	from := startOfDay(day)
	return TimeRange{From: from, Before: from.AddDate(0, 0, 1)}
}

// OnOrAfterDay is that UTC day and everything later: Twilio's
// "StartTime>=YYYY-MM-DD" (and "StartTime>").
func OnOrAfterDay(day time.Time) TimeRange {
	return TimeRange{From: startOfDay(day)}
}

// OnOrBeforeDay is that UTC day and everything earlier: Twilio's
// "StartTime<=YYYY-MM-DD" (and "StartTime<").
func OnOrBeforeDay(day time.Time) TimeRange {
	return TimeRange{Before: startOfDay(day).AddDate(0, 0, 1)}
}

// CallFilter selects calls; empty fields select everything.
type CallFilter struct {
	AccountSID    string
	To            string
	From          string
	ParentCallSID string
	Status        CallStatus
	StartTime     TimeRange
	EndTime       TimeRange
}

// RecordingFilter selects recordings; empty fields select everything except
// deleted recordings.
type RecordingFilter struct {
	AccountSID     string
	CallSID        string
	ConferenceSID  string
	DateCreated    TimeRange
	IncludeDeleted bool // Twilio's IncludeSoftDeleted
}

// QueueFilter selects queues; empty fields select everything.
type QueueFilter struct {
	AccountSID string
}

// QueueMemberFilter selects queue-member history; empty fields select
// everything.
type QueueMemberFilter struct {
	QueueSID string
	CallSID  string
	Waiting  bool // only entries that have not left (DateLeft zero)
}
