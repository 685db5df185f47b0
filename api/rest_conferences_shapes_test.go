package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conference"
)

// TestConferenceUpdateShapes checks the update parameters of the issue
// against Twilio's shapes: Conferences AnnounceUrl (POST by default),
// Participants HoldUrl (GET by default), AnnounceUrl, Coaching with
// CallSidToCoach, EndConferenceOnExit, and their status callback events
// (mute, hold, modify).
func TestConferenceUpdateShapes(t *testing.T) {
	var (
		mu      sync.Mutex
		fetched []string
		events  []string
	)
	var m *conference.Manager
	e := newEnv(t, func(o *Options) {
		m = conference.NewManager(conference.Options{
			Resolve: func(_ context.Context, target, method string) ([]int16, error) {
				mu.Lock()
				defer mu.Unlock()
				fetched = append(fetched, method+" "+target)
				if strings.HasSuffix(target, "/bad") {
					return nil, errors.New("404 from the app")
				}
				return make([]int16, 160), nil
			},
			Notify: func(_ context.Context, _, _ string, p url.Values) {
				mu.Lock()
				defer mu.Unlock()
				events = append(events, p.Get("StatusCallbackEvent"))
			},
		})
		o.Conferences = m
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); m.Close() })
	cb := conference.Callback{URL: "http://app/cb", Events: []string{"mute", "hold", "modify", "announcement"}}
	var room *conference.Room
	sids := map[string]string{}
	for _, who := range []string{"agent", "customer", "supervisor"} {
		sids[who] = "CA" + strings.Repeat("0", 25) + who[:1] + "123456"
		p, err := m.Join(testAccount, "shapes", conference.JoinOptions{Leg: stillLeg{}, CallSID: sids[who], Label: who,
			StartConferenceOnEnter: true, Callback: cb})
		if err != nil {
			t.Fatal(err)
		}
		room = p.Room()
		go p.Run(ctx)
	}
	path := "Conferences/" + room.SID()
	var c conferenceJSON
	decode(t, e.do(http.MethodPost, path+".json", url.Values{"AnnounceUrl": {"http://app/announce"}}), 200, &c)
	if c.Status != "in-progress" {
		t.Errorf("announced conference %+v", c)
	}
	expectError(t, e.do(http.MethodPost, path+".json", url.Values{"AnnounceUrl": {"/relative"}}), 400, codeInvalidURL)
	expectError(t, e.do(http.MethodPost, path+".json", url.Values{"AnnounceUrl": {"http://app/bad"}}), 400, codeInvalidURL)
	expectError(t, e.do(http.MethodPost, path+".json", url.Values{"Status": {"in-progress"}}), 400, codeUnsupportedParam)

	var p participantJSON
	decode(t, e.do(http.MethodPost, path+"/Participants/customer.json", url.Values{"Hold": {"true"}, "HoldUrl": {"http://app/hold"}}), 200, &p)
	if !p.Hold {
		t.Errorf("held %+v", p)
	}
	decode(t, e.do(http.MethodPost, path+"/Participants/customer.json", url.Values{"Hold": {"false"}, "AnnounceUrl": {"http://app/you"},
		"AnnounceMethod": {"GET"}, "Muted": {"true"}}), 200, &p)
	if p.Hold || !p.Muted {
		t.Errorf("unheld, muted %+v", p)
	}
	decode(t, e.do(http.MethodPost, path+"/Participants/supervisor.json", url.Values{"Coaching": {"true"}, "CallSidToCoach": {sids["agent"]}}), 200, &p)
	if !p.Coaching || p.CallSIDToCoach == nil || *p.CallSIDToCoach != sids["agent"] {
		t.Errorf("coaching %+v", p)
	}
	decode(t, e.do(http.MethodPost, path+"/Participants/supervisor.json", url.Values{"Coaching": {"false"}, "EndConferenceOnExit": {"true"}}), 200, &p)
	if p.Coaching || p.CallSIDToCoach != nil || !p.EndConferenceOnExit {
		t.Errorf("barging %+v", p)
	}
	expectError(t, e.do(http.MethodPost, path+"/Participants/customer.json", url.Values{"HoldMethod": {"PUT"}}), 400, codeInvalidMethod)

	ends := func() int {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(strings.Join(events, ","), "announcement-end")
	}
	for deadline := time.Now().Add(5 * time.Second); ends() < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // the mixer plays the announcements out
	}
	decode(t, e.do(http.MethodPost, path+".json", url.Values{"Status": {"completed"}}), 200, &c)
	if c.Status != "completed" || c.ReasonConferenceEnded == nil || *c.ReasonConferenceEnded != "conference-ended-via-api" {
		t.Errorf("ended %+v", c)
	}
	m.Close()
	mu.Lock()
	defer mu.Unlock()
	wantFetched := []string{"POST http://app/announce", "POST http://app/bad", "GET http://app/hold", "GET http://app/you"}
	if strings.Join(fetched, ",") != strings.Join(wantFetched, ",") {
		t.Errorf("fetched %v, want %v", fetched, wantFetched)
	}
	// The participant events in order; the announcements' end as the
	// mixer reaches it.
	var parts []string
	announced := map[string]int{}
	for _, ev := range events {
		if strings.HasPrefix(ev, "announcement-") {
			announced[ev]++
		} else {
			parts = append(parts, ev)
		}
	}
	wantEvents := []string{"participant-hold", "participant-mute", "participant-unhold", "participant-modify", "participant-modify"}
	if strings.Join(parts, ",") != strings.Join(wantEvents, ",") {
		t.Errorf("events %v, want %v", parts, wantEvents)
	}
	if announced["announcement-end"] != 2 || announced["announcement-fail"] != 1 {
		t.Errorf("announcement events %v, want 2 ends (the room's, the customer's) and 1 failure; all: %v", announced, events)
	}
}
