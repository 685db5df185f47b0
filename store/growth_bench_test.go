package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// BenchmarkDBGrowthPerCall stores b.N calls as the gateway does (queued,
// ringing, in-progress, completed) and reports how much the database
// grows per call, and how big the write-ahead log got meanwhile:
//
//	go test ./store -run '^$' -bench DBGrowthPerCall -benchtime 20000x
func BenchmarkDBGrowthPerCall(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	size := func(name string) int64 {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	if err := s.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	before := size(FileName)
	var walMax int64
	c := sampleCall()
	b.ResetTimer()
	for i := range b.N {
		c.SID = sid.New(sid.Call)
		c.StartTime, c.EndTime = time.Time{}, time.Time{}
		for _, st := range []CallStatus{CallQueued, CallRinging, CallInProgress, CallCompleted} {
			c.Status = st
			if st == CallInProgress {
				c.StartTime = time.Now()
			}
			if st == CallCompleted {
				c.EndTime, c.Duration = time.Now(), 42
			}
			if _, err := s.PutCall(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		if i%100 == 0 {
			walMax = max(walMax, size(WALFileName))
		}
	}
	b.StopTimer()
	if err := s.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size(FileName)-before)/float64(b.N), "db-bytes/call")
	b.ReportMetric(float64(walMax), "wal-max-bytes")
}
