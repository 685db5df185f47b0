package conference

import (
	"context"
	"testing"

	"github.com/voxgate/voxgate/media/audio"
)

// TestUpdateEndOnExitAndWait: the Participants API's EndConferenceOnExit
// and WaitUrl change a participant; the change is a participant-modify
// event, and an empty WaitUrl means silence while waiting.
func TestUpdateEndOnExitAndWait(t *testing.T) {
	ev := &events{}
	m := NewManager(Options{Notify: ev.notify, Resolve: func(context.Context, string, string) ([]int16, error) {
		return []int16{1, 2, 3}, nil
	}})
	defer m.Close()
	cb := Callback{URL: "http://app/cb", Events: []string{"modify"}}
	p, err := m.Join("AC0", "w", JoinOptions{Leg: idleLeg{}, CallSID: "CAw", Wait: []int16{5}, Callback: cb})
	if err != nil {
		t.Fatal(err)
	}
	go p.Run(context.Background()) // the room's end ends it
	room := p.Room()
	yes, empty, music := true, "", "http://app/music"
	info, err := room.UpdateParticipant(context.Background(), "CAw", Update{EndConferenceOnExit: &yes, WaitURL: &empty})
	if err != nil || !info.EndConferenceOnExit {
		t.Fatalf("update: %+v %v", info, err)
	}
	var silent bool
	_ = room.do(func() { silent = room.parts[0].wait == nil })
	if !silent {
		t.Error("WaitUrl=\"\" left the wait music")
	}
	if _, err := room.UpdateParticipant(context.Background(), "CAw", Update{WaitURL: &music}); err != nil {
		t.Fatal(err)
	}
	_ = room.do(func() { silent = room.parts[0].wait == nil })
	if silent {
		t.Error("WaitUrl did not set the wait music")
	}
	_ = room.End("test", "")
	<-room.Done()
	m.Close()
	if got := ev.kinds(); len(got) != 1 || got[0] != "participant-modify" {
		t.Errorf("events %v", got)
	}
}

// drained waits until r's queued callbacks have been sent (the test room
// has no owner) and gives it a fresh notifier.
func drained(r *Room) {
	r.notify.close()
	r.m.wg.Wait()
	r.notify = newNotifier(r)
}

// TestSpeakerEvents: with "speaker" in the room's events, a participant
// talking sends participant-speech-start after 60 ms and, once quiet for
// 800 ms, participant-speech-stop; a muted one is never speaking.
func TestSpeakerEvents(t *testing.T) {
	ev := &events{}
	_, r := testRoom(t, Options{Notify: ev.notify})
	cb := Callback{URL: "http://app/cb", Events: []string{"speaker"}}
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Callback: cb})
	b := addTest(t, r, "CAb", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Muted: true})
	step := func(n int, la, lb int16) {
		for range n {
			feed(a, la)
			feed(b, lb)
			r.mix()
			r.speechEvents()
		}
	}
	step(2, 3000, 3000) // 40 ms: not yet
	drained(r)
	if got := ev.kinds(); len(got) != 0 {
		t.Fatalf("events after 40 ms of speech: %v", got)
	}
	step(3, 3000, 3000)
	step(speechOffFrames+2, 0, 3000)
	drained(r)
	got := ev.kinds()
	if len(got) != 2 || got[0] != "participant-speech-start" || got[1] != "participant-speech-stop" {
		t.Fatalf("events %v, want speech start then stop of a only", got)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, p := range ev.got {
		if p.Get("CallSid") != "CAa" {
			t.Errorf("a speaker event about %s", p.Get("CallSid"))
		}
	}
}

// TestAnnounceAndHoldURL: the room's announcement (Conferences update
// AnnounceUrl) is heard by everyone once; a participant's announcement
// only by it; a participant on hold hears its HoldUrl's audio. Each
// change that is an event sends it: mute, hold, modify.
func TestAnnounceAndHoldURL(t *testing.T) {
	ev := &events{}
	m := NewManager(Options{Notify: ev.notify, Resolve: func(_ context.Context, target, _ string) ([]int16, error) {
		level := map[string]int16{"http://app/room": 10, "http://app/one": 20, "http://app/hold": 30}[target]
		pcm := make([]int16, 6*frame) // longer than heard's 4 frames, shorter than 8
		for i := range pcm {
			pcm[i] = level
		}
		return pcm, nil
	}})
	r := newRoom(m, "CF1", "AC0", "room")
	t.Cleanup(func() { r.notify.close(); m.wg.Wait() })
	cb := Callback{URL: "http://app/cb", Events: []string{"mute", "hold", "modify", "announcement"}}
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Callback: cb})
	b := addTest(t, r, "CAb", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	c := addTest(t, r, "CAc", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	pcm, _ := r.resolve(context.Background(), "http://app/room", "POST")
	r.room = audio.NewPCMSource(pcm, 1)
	one, _ := r.resolve(context.Background(), "http://app/one", "POST")
	hold, _ := r.resolve(context.Background(), "http://app/hold", "GET")
	yes, no := true, false
	coachA := "CAa"
	r.apply(b, Update{}, nil, one)
	r.apply(c, Update{Hold: &yes, Muted: &yes}, hold, nil)
	got := heard(r, map[*Participant]int16{a: 0, b: 0, c: 0})
	if got[a][0] != 10 || got[b][0] != 30 || got[c][0] != 30 {
		// a: the room's announcement; b: the room's and its own; c: its hold audio.
		t.Errorf("heard a %d b %d c %d, want 10, 30, 30", got[a][0], got[b][0], got[c][0])
	}
	got = heard(r, map[*Participant]int16{a: 0, b: 0, c: 0})
	if got[a][0] != 0 || got[b][0] != 0 || got[c][0] != 30 {
		t.Errorf("after the announcements: a %d b %d c %d, want 0, 0, 30 (hold loops)", got[a][0], got[b][0], got[c][0])
	}
	r.announcementEvents() // the owner's, after the frame they ended in
	r.apply(c, Update{Hold: &no, Muted: &no, Coaching: &yes, CallSIDToCoach: &coachA}, nil, nil)
	drained(r)
	want := []string{"participant-mute", "participant-hold", "announcement-end", "announcement-end",
		"participant-unmute", "participant-unhold", "participant-modify"}
	if got := ev.kinds(); len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("events %v, want %v", got, want)
			}
		}
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if last := ev.got[len(ev.got)-1]; last.Get("Coaching") != "true" || last.Get("CallSidToCoach") != "CAa" || last.Get("CallSid") != "CAc" {
		t.Errorf("modify event %v", last)
	}
	if room, one := ev.got[2], ev.got[3]; room.Get("CallSid") != "" || one.Get("CallSid") != "CAb" {
		t.Errorf("announcement-end events: the room's %v, b's %v", room, one)
	}
}
