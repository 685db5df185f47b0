package conference

import (
	"context"
	"testing"
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
