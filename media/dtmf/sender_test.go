package dtmf

import (
	"fmt"
	"strings"
	"testing"
)

// tick is one planned 20 ms tick.
type tick struct {
	pkt  Packet
	send bool
	done bool
}

// plan runs s to completion (with a safety limit) and returns every tick.
func plan(t *testing.T, s *Sender) []tick {
	t.Helper()
	var ticks []tick
	for range 100000 {
		pkt, send, done := s.Next()
		ticks = append(ticks, tick{pkt, send, done})
		if done {
			return ticks
		}
	}
	t.Fatal("Sender never finished")
	return nil
}

func TestSenderPlan1wPound(t *testing.T) {
	s, err := NewSender("1w#")
	if err != nil {
		t.Fatal(err)
	}
	ticks := plan(t, s)

	// Expected: '1' tone ticks 0-4, end x3 ticks 5-7, gap 8-12, pause
	// 13-37 (0.5 s), '#' tone 38-42, end x3 43-45 (the last tick).
	want := make([]tick, 0, 46)
	key := func(code uint8, last bool) {
		for i := range toneTicks {
			want = append(want, tick{pkt: Packet{
				Event:  Event{Code: code, Volume: 10, Duration: uint16(160 * (i + 1))},
				Marker: i == 0, NewTimestamp: i == 0,
			}, send: true})
		}
		for range endTicks {
			want = append(want, tick{pkt: Packet{Event: Event{Code: code, End: true, Volume: 10, Duration: 800}}, send: true})
		}
		if last {
			want[len(want)-1].done = true
		}
	}
	silent := func(n int) {
		for range n {
			want = append(want, tick{})
		}
	}
	key(1, false)
	silent(5)  // gap before the next key
	silent(25) // w
	key(11, true)

	if len(ticks) != len(want) {
		t.Fatalf("plan has %d ticks (%d ms), want %d", len(ticks), 20*len(ticks), len(want))
	}
	for i := range want {
		if ticks[i] != want[i] {
			t.Errorf("tick %d (%d ms): got %+v, want %+v", i, 20*i, ticks[i], want[i])
		}
	}
	// Once done, it stays done.
	for range 3 {
		if pkt, send, done := s.Next(); send || !done || pkt != (Packet{}) {
			t.Errorf("after done: %+v %v %v", pkt, send, done)
		}
	}
}

func TestSenderTiming(t *testing.T) {
	tests := []struct {
		digits    string
		ticks     int // total 20 ms ticks
		packets   int
		markers   int
		endPkts   int
		firstTone []int // tick of each marker
	}{
		{"", 1, 0, 0, 0, nil},
		{"5", 8, 8, 1, 3, []int{0}},
		{"55", 21, 16, 2, 6, []int{0, 13}},
		{"w", 25, 0, 0, 0, nil},
		{"W", 50, 0, 0, 0, nil},
		{"1W2", 13 + 50 + 8, 16, 2, 6, []int{0, 63}},
		{"123*#ABCD0w", 10*13 + 25, 80, 10, 30, []int{0, 13, 26, 39, 52, 65, 78, 91, 104, 117}},
	}
	for _, tt := range tests {
		t.Run(tt.digits, func(t *testing.T) {
			s, err := NewSender(tt.digits)
			if err != nil {
				t.Fatal(err)
			}
			ticks := plan(t, s)
			if tt.digits == "" {
				if len(ticks) != 1 || ticks[0].send {
					t.Fatalf("empty string: %+v", ticks)
				}
				return
			}
			var packets, markers, ends int
			var markerTicks []int
			for i, tk := range ticks {
				if !tk.send {
					continue
				}
				packets++
				if tk.pkt.Marker {
					markers++
					markerTicks = append(markerTicks, i)
					if !tk.pkt.NewTimestamp {
						t.Errorf("tick %d: marker without NewTimestamp", i)
					}
				}
				if tk.pkt.Event.End {
					ends++
				}
			}
			if len(ticks) != tt.ticks || packets != tt.packets || markers != tt.markers || ends != tt.endPkts {
				t.Errorf("ticks %d packets %d markers %d ends %d; want %d %d %d %d",
					len(ticks), packets, markers, ends, tt.ticks, tt.packets, tt.markers, tt.endPkts)
			}
			if fmt.Sprint(markerTicks) != fmt.Sprint(tt.firstTone) {
				t.Errorf("markers at ticks %v, want %v", markerTicks, tt.firstTone)
			}
		})
	}
}

func TestSenderInvalid(t *testing.T) {
	tests := []struct{ digits, wantInErr string }{
		{"12x", `'x'`},
		{"1 2", `' '`},
		{"E", `'E'`},
		{"9é", `'é'`},
		{",", `','`},
	}
	for _, tt := range tests {
		s, err := NewSender(tt.digits)
		if err == nil {
			t.Errorf("NewSender(%q) = %v, nil; want an error", tt.digits, s)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantInErr) {
			t.Errorf("NewSender(%q) error %q does not name %s", tt.digits, err, tt.wantInErr)
		}
	}
}

func TestSenderToReceiver(t *testing.T) {
	// What the leg does: take a fresh timestamp on NewTimestamp (its audio
	// clock), send each planned packet; the far end's Receiver must see
	// every key, repeated keys included.
	const digits = "0123456789*#ABCD11w##W1"
	s, err := NewSender(digits)
	if err != nil {
		t.Fatal(err)
	}
	var r Receiver
	var clock, eventTS uint32 = 5000, 0
	var got []byte
	for _, tk := range plan(t, s) {
		if tk.send {
			if tk.pkt.NewTimestamp {
				eventTS = clock
			}
			payload := tk.pkt.Event.AppendTo(nil)
			if k, ok := r.Packet(42, eventTS, tk.pkt.Marker, payload); ok {
				got = append(got, k)
			}
		}
		clock += 160
	}
	if want := strings.NewReplacer("w", "", "W", "").Replace(digits); string(got) != want {
		t.Errorf("received %q, want %q", got, want)
	}
}

func TestSenderNextNoAlloc(t *testing.T) {
	s, err := NewSender("123w#")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() { s.Next() })
	if allocs != 0 {
		t.Errorf("Next allocates %.2f times per tick", allocs)
	}
}
