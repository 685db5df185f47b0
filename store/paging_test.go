package store

import (
	"context"
	"errors"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

// putCalls stores n calls, created one clock step apart, and returns their
// SIDs oldest first.
func putCalls(t testing.TB, s *DB, n int) []string {
	t.Helper()
	sids := make([]string, n)
	for i := range sids {
		c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallQueued}
		if _, err := s.PutCall(context.Background(), c); err != nil {
			t.Fatalf("PutCall: %v", err)
		}
		sids[i] = c.SID
	}
	return sids
}

// pageAll lists every call with pages of size, calling between after each
// page but the last; it returns the SIDs in order and the page lengths.
func pageAll(t *testing.T, s *DB, size int, between func(page int)) ([]Call, []int) {
	t.Helper()
	var (
		all   []Call
		sizes []int
		token PageToken
	)
	for page := 0; ; page++ {
		calls, next, err := s.ListCalls(context.Background(), CallFilter{}, Page{Size: size, Token: token})
		if err != nil {
			t.Fatalf("ListCalls page %d: %v", page, err)
		}
		all = append(all, calls...)
		sizes = append(sizes, len(calls))
		if next == "" {
			return all, sizes
		}
		if page > 100 {
			t.Fatal("paging does not end")
		}
		if between != nil {
			between(page)
		}
		token = next
	}
}

// checkNewestFirst verifies got is exactly want reversed (want is oldest
// first): no duplicates, no gaps, newest first.
func checkNewestFirst(t *testing.T, got []Call, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("listed %d calls, want %d", len(got), len(want))
	}
	for i, c := range got {
		if w := want[len(want)-1-i]; c.SID != w {
			t.Fatalf("position %d: %s, want %s", i, c.SID, w)
		}
		if i > 0 && !c.DateCreated.Before(got[i-1].DateCreated) {
			t.Fatalf("position %d not older than the one before: %v >= %v", i, c.DateCreated, got[i-1].DateCreated)
		}
	}
}

func TestPagingThroughCalls(t *testing.T) {
	s, _ := newTestStore(t)
	sids := putCalls(t, s, 250)
	got, sizes := pageAll(t, s, 100, nil)
	checkNewestFirst(t, got, sids)
	if want := []int{100, 100, 50}; len(sizes) != 3 || sizes[0] != want[0] || sizes[1] != want[1] || sizes[2] != want[2] {
		t.Errorf("page sizes %v, want %v", sizes, want)
	}
}

func TestPagingStableUnderInsertsAndUpdates(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	sids := putCalls(t, s, 250)
	got, _ := pageAll(t, s, 100, func(page int) {
		putCalls(t, s, 7) // newer than everything being paged
		// Progress reports on calls already listed and still to come.
		for _, i := range []int{10, 120, 240} {
			c, err := s.GetCall(ctx, sids[i])
			if err != nil {
				t.Fatalf("GetCall: %v", err)
			}
			c.Status = CallRinging
			if _, err := s.PutCall(ctx, c); err != nil {
				t.Fatalf("PutCall: %v", err)
			}
		}
	})
	checkNewestFirst(t, got, sids)
}

func TestPagingExactMultipleHasNoEmptyLastPage(t *testing.T) {
	s, _ := newTestStore(t)
	sids := putCalls(t, s, 200)
	got, sizes := pageAll(t, s, 100, nil)
	checkNewestFirst(t, got, sids)
	if len(sizes) != 2 {
		t.Errorf("page sizes %v, want two full pages and no empty third", sizes)
	}
}

func TestPageSizeDefaultsAndCap(t *testing.T) {
	s, _ := newTestStore(t)
	// Bulk insert in one statement: PutCall a thousand times is slow under -race.
	_, err := s.w.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO calls (sid, account_sid, status, date_created, date_updated)
		SELECT 'CA' || (100000 + i), ?, 'queued', i, i FROM n`, MaxPageSize+5, testAccount)
	if err != nil {
		t.Fatalf("bulk insert: %v", err)
	}
	for _, tc := range []struct{ size, want int }{
		{0, DefaultPageSize}, {-3, DefaultPageSize}, {7, 7}, {5000, MaxPageSize},
	} {
		calls, next, err := s.ListCalls(context.Background(), CallFilter{}, Page{Size: tc.size})
		if err != nil {
			t.Fatalf("ListCalls: %v", err)
		}
		if len(calls) != tc.want || next == "" {
			t.Errorf("Size %d: %d calls (next %q), want %d and a next page", tc.size, len(calls), next, tc.want)
		}
	}
}

func TestPagingWithFilter(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	var want []string
	for i := range 30 {
		c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallCompleted, To: "+1"}
		if i%3 == 0 {
			c.To = "+2"
			want = append(want, c.SID)
		}
		if _, err := s.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var got []Call
	var token PageToken
	for {
		calls, next, err := s.ListCalls(ctx, CallFilter{To: "+2"}, Page{Size: 3, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, calls...)
		if next == "" {
			break
		}
		token = next
	}
	checkNewestFirst(t, got, want)
}

func TestBadPageToken(t *testing.T) {
	s, _ := newTestStore(t)
	for _, tok := range []PageToken{"nope", "PA!!!", "PA" + "MTIz", "PAYWJjOkNB"} {
		if _, _, err := s.ListCalls(context.Background(), CallFilter{}, Page{Token: tok}); !errors.Is(err, ErrInvalid) {
			t.Errorf("token %q: err = %v, want ErrInvalid", tok, err)
		}
	}
}

func TestCursorTokenRoundTrip(t *testing.T) {
	for _, c := range []cursor{
		{at: 0, keys: []string{"CA1"}},
		{at: -5, keys: []string{"a:b", "c%d", ""}},
		{at: 1 << 62, keys: []string{"QU123", "CA456"}},
	} {
		tok := c.token()
		if tok[:2] != "PA" {
			t.Errorf("token %q lacks the PA prefix", tok)
		}
		got, err := parseCursor(tok, len(c.keys))
		if err != nil {
			t.Fatalf("parseCursor(%q): %v", tok, err)
		}
		if got.at != c.at || len(got.keys) != len(c.keys) {
			t.Fatalf("round trip %+v -> %+v", c, got)
		}
		for i := range c.keys {
			if got.keys[i] != c.keys[i] {
				t.Errorf("key %d: %q, want %q", i, got.keys[i], c.keys[i])
			}
		}
		if _, err := parseCursor(tok, len(c.keys)+1); !errors.Is(err, ErrInvalid) {
			t.Errorf("wrong key count accepted: %v", err)
		}
	}
}

func TestPagingThroughTiedTimes(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	created := day(2025, 1, 1)
	seen := map[string]bool{}
	for range 25 {
		c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallQueued, DateCreated: created}
		if _, err := s.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		seen[c.SID] = false
	}
	var token PageToken
	prev := ""
	for {
		calls, next, err := s.ListCalls(ctx, CallFilter{}, Page{Size: 10, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if done, ok := seen[c.SID]; !ok || done {
				t.Fatalf("call %s unknown or listed twice", c.SID)
			}
			if prev != "" && c.SID >= prev {
				t.Fatalf("tied calls not in descending SID order: %s after %s", c.SID, prev)
			}
			seen[c.SID], prev = true, c.SID
		}
		if next == "" {
			break
		}
		token = next
	}
	for sid, done := range seen {
		if !done {
			t.Errorf("call %s never listed", sid)
		}
	}
}
