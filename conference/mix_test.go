package conference

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// testRoom is a room without its owner goroutine: the test drives mix.
func testRoom(t testing.TB, opts Options) (*Manager, *Room) {
	t.Helper()
	m := NewManager(opts)
	r := newRoom(m, "CF0", "AC0", "room")
	t.Cleanup(func() { r.notify.close(); m.wg.Wait() })
	return m, r
}

// addTest adds a participant whose input is level on every sample.
func addTest(t testing.TB, r *Room, callSID string, o JoinOptions) *Participant {
	t.Helper()
	o.CallSID, o.JitterFrames = callSID, 1
	if o.Leg == nil {
		o.Leg = idleLeg{}
	}
	p := newParticipant(r, o)
	if err := r.add(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// feed gives p's input one frame of level.
func feed(p *Participant, level int16) {
	var f [frame]int16
	for i := range f {
		f[i] = level
	}
	_ = p.in.WriteFrame(f[:])
}

// heard mixes frames with each participant's level and returns what each
// participant heard in the last frame (after the output buffer's depth).
func heard(r *Room, levels map[*Participant]int16) map[*Participant][frame]int16 {
	out := map[*Participant][frame]int16{}
	for range outFrames + 1 {
		for p, l := range levels {
			feed(p, l)
		}
		r.mix()
	}
	for p := range levels {
		var f [frame]int16
		for range outFrames + 1 {
			_, _ = p.out.ReadFrame(f[:])
		}
		out[p] = f
	}
	return out
}

func TestEachHearsEveryoneButItself(t *testing.T) {
	_, r := testRoom(t, Options{})
	levels := map[*Participant]int16{}
	ps := make([]*Participant, 5)
	for i := range ps {
		ps[i] = addTest(t, r, "CA"+string(rune('a'+i)), JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
		levels[ps[i]] = int16(100 << i) // 100, 200, 400, 800, 1600
	}
	got := heard(r, levels)
	total := int16(100 + 200 + 400 + 800 + 1600)
	for _, p := range ps {
		want := total - levels[p]
		if f := got[p]; f[0] != want || f[frame-1] != want {
			t.Errorf("%s heard %d, want %d (everyone but itself)", p.callSID, f[0], want)
		}
	}
}

func TestMuteHoldCoach(t *testing.T) {
	_, r := testRoom(t, Options{HoldMusic: []int16{7}})
	o := JoinOptions{StartConferenceOnEnter: true, Beep: "false"}
	agent := addTest(t, r, "CAagent", o)
	caller := addTest(t, r, "CAcaller", o)
	muted := addTest(t, r, "CAmuted", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Muted: true})
	coach := addTest(t, r, "CAcoach", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Coach: "CAagent"})
	held := addTest(t, r, "CAheld", o)
	yes := true
	r.apply(held, Update{Hold: &yes}, nil, nil)
	got := heard(r, map[*Participant]int16{agent: 1, caller: 10, muted: 100, coach: 1000, held: 10000})
	want := map[*Participant]int16{
		agent:  10 + 1000, // the caller and its coach
		caller: 1,         // not the muted, the coach or the held
		muted:  1 + 10,
		coach:  1 + 10, // the coach hears the call
		held:   7,      // hold music only
	}
	for p, w := range want {
		if f := got[p]; f[0] != w {
			t.Errorf("%s heard %d, want %d", p.callSID, f[0], w)
		}
	}
}

func TestMixSaturates(t *testing.T) {
	_, r := testRoom(t, Options{})
	o := JoinOptions{StartConferenceOnEnter: true, Beep: "false"}
	a, b, c := addTest(t, r, "CAa", o), addTest(t, r, "CAb", o), addTest(t, r, "CAc", o)
	got := heard(r, map[*Participant]int16{a: 30000, b: 30000, c: -30000})
	if got[c][0] != 32767 || got[a][0] != 0 {
		t.Errorf("c heard %d (want 32767), a heard %d (want 0)", got[c][0], got[a][0])
	}
	got = heard(r, map[*Participant]int16{a: -30000, b: -30000, c: 0})
	if got[c][0] != -32768 {
		t.Errorf("c heard %d, want -32768", got[c][0])
	}
}

func TestWaitUntilModerator(t *testing.T) {
	_, r := testRoom(t, Options{})
	a := addTest(t, r, "CAa", JoinOptions{Wait: []int16{5}, Beep: "false"})
	b := addTest(t, r, "CAb", JoinOptions{Wait: []int16{5}, Beep: "false"})
	got := heard(r, map[*Participant]int16{a: 100, b: 200})
	if got[a][0] != 5 || got[b][0] != 5 {
		t.Fatalf("before the moderator: a heard %d, b %d, want the wait music (5)", got[a][0], got[b][0])
	}
	mod := addTest(t, r, "CAmod", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	got = heard(r, map[*Participant]int16{a: 100, b: 200, mod: 400})
	if got[a][0] != 600 || got[mod][0] != 300 {
		t.Errorf("after the moderator: a heard %d (want 600), mod %d (want 300)", got[a][0], got[mod][0])
	}
}

func TestBeepOnEnter(t *testing.T) {
	_, r := testRoom(t, Options{})
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	addTest(t, r, "CAb", JoinOptions{StartConferenceOnEnter: true})
	var energy float64
	for range 10 {
		feed(a, 0)
		r.mix()
		var f [frame]int16
		_, _ = a.out.ReadFrame(f[:])
		for _, v := range f {
			energy += float64(v) * float64(v)
		}
	}
	if energy == 0 {
		t.Error("no beep was heard when b joined")
	}
}

// idleLeg is a leg with no audio that lasts until its context ends.
type idleLeg struct{}

func (idleLeg) Play(ctx context.Context, _ media.Source) error { <-ctx.Done(); return nil }
func (idleLeg) Record(ctx context.Context, _ media.Sink) error { <-ctx.Done(); return nil }
func (idleLeg) DTMF() <-chan media.Digit                       { return nil }
func (idleLeg) SendDTMF(context.Context, string) error         { return nil }
func (idleLeg) Done() <-chan struct{}                          { return nil }
func (idleLeg) Close(string) error                             { return nil }

// events collects the status callbacks a Manager sends.
type events struct {
	mu  sync.Mutex
	got []url.Values
}

func (e *events) notify(_ context.Context, _, _ string, p url.Values) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, p)
}

func (e *events) kinds() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, p := range e.got {
		out = append(out, p.Get("StatusCallbackEvent"))
	}
	return out
}

// TestRoomLifecycle runs rooms with their owners: a full room refuses,
// endConferenceOnExit ends the room for everyone, and the callbacks come
// in order.
func TestRoomLifecycle(t *testing.T) {
	ev := &events{}
	m := NewManager(Options{Notify: ev.notify})
	defer m.Close()
	cb := Callback{URL: "http://app/cb", Events: []string{"start", "end", "join", "leave", "mute"}}
	mod, err := m.Join("AC0", "room", JoinOptions{Leg: idleLeg{}, CallSID: "CAmod", StartConferenceOnEnter: true, EndConferenceOnExit: true, MaxParticipants: 2, Callback: cb})
	if err != nil {
		t.Fatal(err)
	}
	other, err := m.Join("AC0", "room", JoinOptions{Leg: idleLeg{}, CallSID: "CAother", Label: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Join("AC0", "room", JoinOptions{Leg: idleLeg{}, CallSID: "CAthird"}); !errors.Is(err, ErrFull) {
		t.Fatalf("third join: %v, want ErrFull", err)
	}
	room := mod.Room()
	yes := true
	if _, err := room.UpdateParticipant(context.Background(), "customer", Update{Muted: &yes}); err != nil {
		t.Fatal(err)
	}
	if p, err := room.Participant("CAother"); err != nil || !p.Muted {
		t.Fatalf("participant: %+v %v", p, err)
	}
	ctx, stopMod := context.WithCancel(context.Background())
	otherDone := make(chan string, 1)
	go func() { otherDone <- other.Run(context.Background()) }()
	modDone := make(chan string, 1)
	go func() { modDone <- mod.Run(ctx) }()
	stopMod() // the moderator leaves
	if why := <-modDone; why != LeftStopped {
		t.Errorf("moderator left by %q", why)
	}
	select {
	case why := <-otherDone:
		if why != LeftKicked {
			t.Errorf("other left by %q, want kicked", why)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("endConferenceOnExit did not end the conference for the other participant")
	}
	<-room.Done()
	if info := room.Info(); info.Status != StatusCompleted || info.CallSIDEnding != "CAmod" {
		t.Errorf("room info %+v", info)
	}
	m.Close()
	want := []string{"participant-join", "conference-start", "participant-join", "participant-mute", "participant-leave", "participant-leave", "conference-end"}
	if got := ev.kinds(); len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("events %v, want %v", got, want)
			}
		}
	}
	// A new join with the name makes a new room.
	p, err := m.Join("AC0", "room", JoinOptions{Leg: idleLeg{}, CallSID: "CAnew"})
	if err != nil || p.Room().SID() == room.SID() {
		t.Fatalf("rejoin: %v, same room %v", err, err == nil && p.Room() == room)
	}
	go p.Run(context.Background()) // Close ends it
}

// BenchmarkMix mixes one 20 ms frame for a 250-participant room (the most a room takes): ns/op
// is the CPU per mixed frame (divide by 250 for one participant; 20 ms
// divided by ns/op is how many such rooms one core mixes in real time).
func BenchmarkMix(b *testing.B) {
	_, r := testRoom(b, Options{})
	ps := make([]*Participant, MaxParticipants)
	for i := range ps {
		ps[i] = addTest(b, r, "CA", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	}
	var f [frame]int16
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range ps {
			_ = p.in.WriteFrame(f[:])
		}
		r.mix()
		for _, p := range ps {
			_, _ = p.out.ReadFrame(f[:])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/MaxParticipants, "ns/participant")
}

// TestJoinWhileEnding: a join while a room is ending (its participants
// still leaving) makes a new room at once.
func TestJoinWhileEnding(t *testing.T) {
	m := NewManager(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); m.Close() }()
	old, err := m.Join("AC0", "r", JoinOptions{Leg: idleLeg{}, CallSID: "CAold", StartConferenceOnEnter: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Room().End("test", ""); err != nil { // old has not left yet: it never ran
		t.Fatal(err)
	}
	p, err := m.Join("AC0", "r", JoinOptions{Leg: idleLeg{}, CallSID: "CAnew"})
	if err != nil || p.Room() == old.Room() {
		t.Fatalf("join while ending: %v (same room: %v)", err, err == nil && p.Room() == old.Room())
	}
	go old.Run(ctx)
	go p.Run(ctx)
}
