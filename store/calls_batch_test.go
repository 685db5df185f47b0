package store

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// PutCalls writes every call of the batch, inserting new ones and updating
// those already stored, as PutCall would one by one.
func TestPutCallsWritesAll(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	old := sampleCall()
	if _, err := s.PutCall(ctx, old); err != nil {
		t.Fatal(err)
	}
	old.Status = CallCompleted
	old.Duration = 7
	batch := []Call{old}
	for range 5 {
		c := sampleCall()
		c.SID = sid.New(sid.Call)
		c.Status = CallRinging
		batch = append(batch, c)
	}
	if err := s.PutCalls(ctx, batch); err != nil {
		t.Fatalf("PutCalls: %v", err)
	}
	for _, want := range batch {
		got, err := s.GetCall(ctx, want.SID)
		if err != nil {
			t.Fatalf("GetCall %s: %v", want.SID, err)
		}
		if got.Status != want.Status || got.Duration != want.Duration || got.From != want.From {
			t.Errorf("call %s = %s %ds %s, want %s %ds %s", want.SID, got.Status, got.Duration, got.From,
				want.Status, want.Duration, want.From)
		}
	}
}

// A batch with an invalid call writes nothing.
func TestPutCallsInvalidWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	good := sampleCall()
	bad := sampleCall()
	bad.SID = sid.New(sid.Call)
	bad.Status = "bogus"
	if err := s.PutCalls(ctx, []Call{good, bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("PutCalls with an invalid call: err = %v, want ErrInvalid", err)
	}
	if _, err := s.GetCall(ctx, good.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the valid call of a refused batch was written: err = %v", err)
	}
}

// BenchmarkPutCalls reports the cost of one call's record written in
// batches of n (as the CDR writer's group commit does under load) against
// BenchmarkPutCallUpdate's one transaction per record.
func BenchmarkPutCalls(b *testing.B) {
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, _ := newTestStore(b)
			batch := make([]Call, n)
			for i := range batch {
				batch[i] = sampleCall()
				batch[i].SID = sid.New(sid.Call)
			}
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			records := 0
			for b.Loop() {
				if err := s.PutCalls(ctx, batch); err != nil {
					b.Fatal(err)
				}
				records += n
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(records), "cpu-ns/record")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine a better measure of work than elapsed time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPutCallCPU is BenchmarkPutCallUpdate with the CPU time per
// record, to compare with BenchmarkPutCalls on a busy machine.
func BenchmarkPutCallCPU(b *testing.B) {
	ctx := context.Background()
	s, _ := newTestStore(b)
	c := sampleCall()
	cpu0 := cpuTime(b)
	n := 0
	for b.Loop() {
		if _, err := s.PutCall(ctx, c); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(n), "cpu-ns/record")
}
