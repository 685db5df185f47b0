package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

// TestPutCallConcurrentWritersAllLand stores calls from many goroutines at
// once and reads every one back as last written.
func TestPutCallConcurrentWritersAllLand(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	const writers, perWriter = 16, 25
	var wg sync.WaitGroup
	sids := make([][]string, writers)
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for range perWriter {
				c := sampleCall()
				c.SID = sid.New(sid.Call)
				c.Status = CallInProgress
				got, err := s.PutCall(ctx, c)
				if err != nil {
					errs <- err
					return
				}
				if got.SID != c.SID || got.Status != CallInProgress {
					errs <- errors.New("PutCall returned another row: " + got.SID)
					return
				}
				c.Status = CallCompleted
				if _, err := s.PutCall(ctx, c); err != nil {
					errs <- err
					return
				}
				sids[w] = append(sids[w], c.SID)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := 0
	for _, list := range sids {
		for _, id := range list {
			c, err := s.GetCall(ctx, id)
			if err != nil {
				t.Fatalf("GetCall(%s): %v", id, err)
			}
			if c.Status != CallCompleted {
				t.Errorf("call %s status %s, want completed (the later write)", id, c.Status)
			}
			n++
		}
	}
	if n != writers*perWriter {
		t.Fatalf("%d calls stored, want %d", n, writers*perWriter)
	}
}

// TestPutCallAfterClose fails instead of hanging.
func TestPutCallAfterClose(t *testing.T) {
	s, err := openReal(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutCall(context.Background(), sampleCall()); err == nil {
		t.Fatal("PutCall after Close succeeded")
	}
}

// BenchmarkPutCallParallel stores calls from GOMAXPROCS*8 goroutines, as
// a busy gateway's calls report progress.
func BenchmarkPutCallParallel(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		c := sampleCall()
		for pb.Next() {
			c.SID = sid.New(sid.Call)
			if _, err := s.PutCall(ctx, c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
