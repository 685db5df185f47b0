package store

import (
	"context"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

// BenchmarkPutCallInsert stores a new call per iteration.
func BenchmarkPutCallInsert(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	c := sampleCall()
	b.ReportAllocs()
	for b.Loop() {
		c.SID = sid.New(sid.Call)
		if _, err := s.PutCall(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutCallUpdate reports progress on one call per iteration.
func BenchmarkPutCallUpdate(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	c := sampleCall()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.PutCall(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// seedCalls stores n calls, every tenth to "+2" and completed.
func seedCalls(b *testing.B, s *DB, n int) {
	b.Helper()
	for i := range n {
		c := sampleCall()
		c.SID = sid.New(sid.Call)
		c.To = "+1"
		if i%10 == 0 {
			c.To = "+2"
		}
		if _, err := s.PutCall(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
	if s.dialect == postgresDialect { // what autovacuum does a minute later
		if _, err := s.w.Exec(`ANALYZE calls`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListCalls fetches the first page of 50 of 10,000 calls.
func BenchmarkListCalls(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	seedCalls(b, s, 10000)
	b.ReportAllocs()
	for b.Loop() {
		calls, _, err := s.ListCalls(ctx, CallFilter{AccountSID: testAccount}, Page{})
		if err != nil || len(calls) != DefaultPageSize {
			b.Fatal(len(calls), err)
		}
	}
}

// BenchmarkListCallsDeepPageFiltered fetches a page of 50 from the middle
// of the "+2" calls among 10,000, by token.
func BenchmarkListCallsDeepPageFiltered(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	seedCalls(b, s, 10000)
	f := CallFilter{To: "+2"}
	_, token, err := s.ListCalls(ctx, f, Page{Size: 500})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		calls, _, err := s.ListCalls(ctx, f, Page{Token: token})
		if err != nil || len(calls) != DefaultPageSize {
			b.Fatal(len(calls), err)
		}
	}
}

// BenchmarkGetCall fetches one call by SID.
func BenchmarkGetCall(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	c, err := s.PutCall(ctx, sampleCall())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetCall(ctx, c.SID); err != nil {
			b.Fatal(err)
		}
	}
}
