package store

import (
	"context"
	"fmt"
	"time"
)

// Conference is a conference room's record: made when its first
// participant joins, updated as it starts and ends.
type Conference struct {
	SID, AccountSID, FriendlyName string
	Status                        string // init, in-progress, completed
	// ReasonEnded and CallSIDEnding say why and by whom a completed
	// conference ended ("" otherwise).
	ReasonEnded, CallSIDEnding string
	DateCreated, DateUpdated   time.Time
}

// ConferenceFilter selects conferences; empty fields select everything.
type ConferenceFilter struct {
	AccountSID, FriendlyName, Status string
	DateCreated, DateUpdated         TimeRange
}

// ConferenceStore keeps conference records.
type ConferenceStore interface {
	// PutConference inserts c, or updates the conference with c.SID (its
	// status and end); DateCreated is kept from the first write (zero
	// means now), DateUpdated is c's (zero means now).
	PutConference(ctx context.Context, c Conference) (Conference, error)
	// GetConference returns the conference with sid, or an error matching
	// ErrNotFound.
	GetConference(ctx context.Context, sid string) (Conference, error)
	// ListConferences returns one page of the conferences matching f,
	// newest first, and the token of the next page.
	ListConferences(ctx context.Context, f ConferenceFilter, p Page) ([]Conference, PageToken, error)
}

const conferenceColumns = `sid, account_sid, friendly_name, status, reason_ended, call_sid_ending, date_created, date_updated`

// PutConference implements ConferenceStore.
func (s *SQLite) PutConference(ctx context.Context, c Conference) (Conference, error) {
	if c.SID == "" || c.AccountSID == "" || c.Status == "" {
		return Conference{}, fmt.Errorf("store: put conference %q: %w: SID, AccountSID and Status are required", c.SID, ErrInvalid)
	}
	now := s.now()
	if c.DateCreated.IsZero() {
		c.DateCreated = now
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = now
	}
	row := s.w.QueryRowContext(ctx, `INSERT INTO conferences (`+conferenceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET status = excluded.status, reason_ended = excluded.reason_ended,
			call_sid_ending = excluded.call_sid_ending, date_updated = excluded.date_updated
		RETURNING `+conferenceColumns,
		c.SID, c.AccountSID, c.FriendlyName, c.Status, c.ReasonEnded, c.CallSIDEnding, c.DateCreated.UnixNano(), c.DateUpdated.UnixNano())
	stored, err := scanConference(row)
	if err != nil {
		return Conference{}, fmt.Errorf("store: put conference %s: %w", c.SID, classify(err))
	}
	return stored, nil
}

// GetConference implements ConferenceStore.
func (s *SQLite) GetConference(ctx context.Context, sid string) (Conference, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+conferenceColumns+` FROM conferences WHERE sid = ?`, sid)
	c, err := scanConference(row)
	if err != nil {
		return Conference{}, fmt.Errorf("store: get conference %s: %w", sid, notFoundIfNoRows(err))
	}
	return c, nil
}

// ListConferences implements ConferenceStore.
func (s *SQLite) ListConferences(ctx context.Context, f ConferenceFilter, p Page) ([]Conference, PageToken, error) {
	if err := checkRange("DateCreated", f.DateCreated); err != nil {
		return nil, "", err
	}
	if err := checkRange("DateUpdated", f.DateUpdated); err != nil {
		return nil, "", err
	}
	q := listQuery{table: "conferences", columns: conferenceColumns, timeCol: "date_created", keyCols: []string{"sid"}, page: p}
	q.filter.eq("account_sid", f.AccountSID)
	q.filter.eq("friendly_name", f.FriendlyName)
	q.filter.eq("status", f.Status)
	q.filter.within("date_created", f.DateCreated)
	q.filter.within("date_updated", f.DateUpdated)
	out, next, err := list(ctx, s.r, q, scanConference, func(c Conference) cursor {
		return cursor{at: c.DateCreated.UnixNano(), keys: []string{c.SID}}
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list conferences: %w", err)
	}
	return out, next, nil
}

// scanConference reads the conferenceColumns of one row.
func scanConference(row rowScanner) (Conference, error) {
	var (
		c                Conference
		created, updated int64
	)
	if err := row.Scan(&c.SID, &c.AccountSID, &c.FriendlyName, &c.Status, &c.ReasonEnded, &c.CallSIDEnding, &created, &updated); err != nil {
		return Conference{}, err
	}
	c.DateCreated, c.DateUpdated = fromNanos(created), fromNanos(updated)
	return c, nil
}
