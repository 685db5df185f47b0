package store

import (
	"testing"
	"time"
)

func TestTimeRanges(t *testing.T) {
	d := time.Date(2025, 6, 15, 17, 45, 0, 0, time.FixedZone("UTC-8", -8*3600)) // 2025-06-16 01:45 UTC
	midnight := time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)
	next := midnight.AddDate(0, 0, 1)
	cases := []struct {
		name string
		r    TimeRange
		in   []time.Time
		out  []time.Time
	}{
		{"OnDay uses the UTC day", OnDay(d), []time.Time{midnight, next.Add(-1)}, []time.Time{midnight.Add(-1), next, {}}},
		{"OnOrAfterDay", OnOrAfterDay(d), []time.Time{midnight, next.AddDate(5, 0, 0)}, []time.Time{midnight.Add(-1), {}}},
		{"OnOrBeforeDay includes the day", OnOrBeforeDay(d), []time.Time{next.Add(-1), midnight.AddDate(-5, 0, 0)}, []time.Time{next, {}}},
		{"And", OnOrAfterDay(midnight).And(OnOrBeforeDay(next)), []time.Time{midnight, next, next.AddDate(0, 0, 1).Add(-1)}, []time.Time{midnight.Add(-1), next.AddDate(0, 0, 1)}},
		{"And with an empty range", TimeRange{}.And(OnDay(d)), []time.Time{midnight}, []time.Time{next}},
		{"empty matches all", TimeRange{}, []time.Time{{}, midnight}, nil},
	}
	for _, c := range cases {
		for _, tm := range c.in {
			if !c.r.Contains(tm) {
				t.Errorf("%s: %v not contained in %+v", c.name, tm, c.r)
			}
		}
		for _, tm := range c.out {
			if c.r.Contains(tm) {
				t.Errorf("%s: %v contained in %+v", c.name, tm, c.r)
			}
		}
	}
}
