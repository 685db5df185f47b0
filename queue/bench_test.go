package queue

import (
	"github.com/voxgate/voxgate/media/mediatest"
	"strconv"
	"testing"
)

// BenchmarkEnqueueLeaveBusyQueue measures a caller joining and leaving a
// queue of 500 callers while every agent is busy (the usual peak state).
func BenchmarkEnqueueLeaveBusyQueue(b *testing.B) {
	m := NewManager(Config{Clock: newFakeClock()})
	defer m.Close()
	for i := range 500 {
		if _, err := m.Enqueue("q", Caller{CallSID: strconv.Itoa(i)}, 0); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 20 {
		s, _ := m.SignIn(Agent{ID: strconv.Itoa(i), Queues: []string{"q"}})
		s.SetAvailable(true) // each takes an offer and stays ringing
	}
	c := Caller{CallSID: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		e, err := m.Enqueue("q", c, 0)
		if err != nil {
			b.Fatal(err)
		}
		e.Leave()
	}
}

// BenchmarkOfferAcceptFinish measures one caller routed to an agent,
// accepted and finished.
func BenchmarkOfferAcceptFinish(b *testing.B) {
	m := NewManager(Config{Clock: newFakeClock(), WrapUp: -1})
	defer m.Close()
	s, _ := m.SignIn(Agent{ID: "ann", Queues: []string{"q"}})
	s.SetAvailable(true)
	leg := mediatest.NewLeg()
	c := Caller{CallSID: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		e, err := m.Enqueue("q", c, 0)
		if err != nil {
			b.Fatal(err)
		}
		var offerID string
		for offerID == "" {
			if ev := <-s.Events(); ev.Kind == OfferMade {
				offerID = ev.Offer.ID
			}
		}
		if err := s.Accept(offerID, leg); err != nil {
			b.Fatal(err)
		}
		<-e.Outcome()
		e.Finished()
		<-s.Events() // CallEnded
	}
}
