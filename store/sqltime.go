package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Times are stored as INTEGER Unix nanoseconds (NULL for the zero time),
// which sorts and compares correctly and round-trips exactly.

// Bounds of a time that fits in int64 nanoseconds.
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// checkTime rejects times Unix nanoseconds cannot hold.
func checkTime(name string, t time.Time) error {
	if t.IsZero() || (!t.Before(minTime) && !t.After(maxTime)) {
		return nil
	}
	return fmt.Errorf("%w: %s %v is out of range", ErrInvalid, name, t)
}

// nanos is t as stored, nil for the zero time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos is the UTC time of n Unix nanoseconds.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// fromNullNanos is fromNanos, or the zero time for NULL.
func fromNullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}
