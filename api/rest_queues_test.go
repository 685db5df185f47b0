package api

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// queueList is the Queues.json page.
type queueList struct {
	Queues      []queueJSON `json:"queues"`
	NextPageURI *string     `json:"next_page_uri"`
}

// memberList is the Members.json page.
type memberList struct {
	Members     []memberJSON `json:"queue_members"`
	NextPageURI *string      `json:"next_page_uri"`
}

func (e *env) createQueue(name string) queueJSON {
	e.t.Helper()
	var q queueJSON
	decode(e.t, e.do(http.MethodPost, "Queues.json", url.Values{"FriendlyName": {name}}), http.StatusCreated, &q)
	return q
}

func TestQueueCRUD(t *testing.T) {
	e := newEnv(t)
	q := e.createQueue("support")
	if !sid.Valid(sid.Queue, q.SID) || q.FriendlyName != "support" || q.MaxSize != 1000 || q.CurrentSize != 0 ||
		q.AccountSID != testAccount || q.URI != base+"/Queues/"+q.SID+".json" || q.DateCreated == nil ||
		q.SubresourceURIs["members"] != base+"/Queues/"+q.SID+"/Members.json" {
		t.Errorf("created queue %+v", q)
	}
	var sales queueJSON
	decode(t, e.do(http.MethodPost, "Queues.json", url.Values{"FriendlyName": {"sales"}, "MaxSize": {"5000"}}), http.StatusCreated, &sales)
	if sales.MaxSize != 5000 {
		t.Errorf("MaxSize %d", sales.MaxSize)
	}

	bad := []struct {
		name string
		form url.Values
		code int
	}{
		{"no name", url.Values{"MaxSize": {"10"}}, 20002},
		{"long name", url.Values{"FriendlyName": {strings.Repeat("q", 65)}}, 20002},
		{"duplicate", url.Values{"FriendlyName": {"support"}}, 20002},
		{"MaxSize too big", url.Values{"FriendlyName": {"x"}, "MaxSize": {"5001"}}, 20001},
		{"MaxSize zero", url.Values{"FriendlyName": {"x"}, "MaxSize": {"0"}}, 20001},
		{"MaxSize text", url.Values{"FriendlyName": {"x"}, "MaxSize": {"big"}}, 20001},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			expectError(t, e.do(http.MethodPost, "Queues.json", c.form), 400, c.code)
		})
	}
	decode(t, e.do(http.MethodPost, "Queues.json", url.Values{"FriendlyName": {strings.Repeat("é", 64)}}), http.StatusCreated, nil)

	e.queues.add(q.SID, Member{CallSID: sid.New(sid.Call)}, Member{CallSID: sid.New(sid.Call)})
	e.queues.avg[q.SID] = 41600 * time.Millisecond
	var got queueJSON
	decode(t, e.do(http.MethodGet, "Queues/"+q.SID+".json", nil), http.StatusOK, &got)
	if got.CurrentSize != 2 || got.AverageWaitTime != 42 || got.FriendlyName != "support" {
		t.Errorf("fetched queue %+v", got)
	}

	decode(t, e.do(http.MethodPost, "Queues/"+q.SID+".json", url.Values{"FriendlyName": {"help"}, "MaxSize": {"10"}}), http.StatusOK, &got)
	if got.FriendlyName != "help" || got.MaxSize != 10 {
		t.Errorf("updated queue %+v", got)
	}
	decode(t, e.do(http.MethodPost, "Queues/"+q.SID+".json", url.Values{"MaxSize": {"20"}}), http.StatusOK, &got)
	if got.FriendlyName != "help" || got.MaxSize != 20 {
		t.Errorf("MaxSize-only update %+v", got)
	}
	expectError(t, e.do(http.MethodPost, "Queues/"+q.SID+".json", url.Values{"FriendlyName": {"sales"}}), 400, 20002)
	expectError(t, e.do(http.MethodPost, "Queues/"+q.SID+".json", url.Values{"MaxSize": {"6000"}}), 400, 20001)

	var l queueList
	decode(t, e.do(http.MethodGet, "Queues.json?PageSize=20", nil), http.StatusOK, &l)
	if len(l.Queues) != 3 || l.NextPageURI != nil {
		t.Errorf("list: %d queues, next %v", len(l.Queues), l.NextPageURI)
	}

	expectError(t, e.do(http.MethodDelete, "Queues/"+q.SID+".json", nil), 400, 20409)
	e.queues.members[q.SID] = nil
	if resp := e.do(http.MethodDelete, "Queues/"+q.SID+".json", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	expectError(t, e.do(http.MethodGet, "Queues/"+q.SID+".json", nil), 404, 20404)
	expectError(t, e.do(http.MethodDelete, "Queues/"+q.SID+".json", nil), 404, 20404)
	expectError(t, e.do(http.MethodGet, "Queues/QU123.json", nil), 404, 20404)
}

func TestQueueWithoutQueueControl(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Queues = nil })
	q := e.createQueue("support")
	if q.CurrentSize != 0 || q.AverageWaitTime != 0 {
		t.Errorf("queue %+v", q)
	}
	expectError(t, e.do(http.MethodGet, "Queues/"+q.SID+"/Members.json", nil), 501, 20503)
	expectError(t, e.do(http.MethodGet, "Queues/"+q.SID+"/Members/Front.json", nil), 501, 20503)
	expectError(t, e.do(http.MethodPost, "Queues/"+q.SID+"/Members/Front.json", url.Values{"Url": {"https://a/b"}}), 501, 20503)
	// An unknown queue is still a 404.
	expectError(t, e.do(http.MethodGet, "Queues/"+sid.New(sid.Queue)+"/Members.json", nil), 404, 20404)
	if resp := e.do(http.MethodDelete, "Queues/"+q.SID+".json", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d", resp.StatusCode)
	}
}

func TestQueueMembers(t *testing.T) {
	e := newEnv(t)
	q := e.createQueue("support")
	empty := e.createQueue("empty")
	enq := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var calls []string
	for i := range 5 {
		c := sid.New(sid.Call)
		calls = append(calls, c)
		e.queues.add(q.SID, Member{CallSID: c, DateEnqueued: enq.Add(time.Duration(i) * time.Second), WaitTime: time.Duration(50-i) * time.Second})
	}

	// Walk the list two at a time.
	var got []memberJSON
	next := base + "/Queues/" + q.SID + "/Members.json?PageSize=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		var l memberList
		decode(t, e.do(http.MethodGet, next, nil), 200, &l)
		got = append(got, l.Members...)
		next = ""
		if l.NextPageURI != nil {
			next = *l.NextPageURI
		}
	}
	if len(got) != 5 {
		t.Fatalf("walked %d members, want 5", len(got))
	}
	for i, m := range got {
		want := memberJSON{CallSID: calls[i], QueueSID: q.SID, DateEnqueued: rfc2822(enq.Add(time.Duration(i) * time.Second)),
			Position: i + 1, WaitTime: 50 - i, URI: base + "/Queues/" + q.SID + "/Members/" + calls[i] + ".json"}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("member %d: %+v, want %+v", i, m, want)
		}
	}

	var m memberJSON
	decode(t, e.do(http.MethodGet, "Queues/"+q.SID+"/Members/Front.json", nil), 200, &m)
	if m.CallSID != calls[0] || m.Position != 1 {
		t.Errorf("Front %+v", m)
	}
	decode(t, e.do(http.MethodGet, "Queues/"+q.SID+"/Members/"+calls[2]+".json", nil), 200, &m)
	if m.CallSID != calls[2] || m.Position != 3 {
		t.Errorf("member 3 %+v", m)
	}
	expectError(t, e.do(http.MethodGet, "Queues/"+q.SID+"/Members/"+sid.New(sid.Call)+".json", nil), 404, 20404)
	expectError(t, e.do(http.MethodGet, "Queues/"+q.SID+"/Members/Back.json", nil), 404, 20404)
	expectError(t, e.do(http.MethodGet, "Queues/"+empty.SID+"/Members/Front.json", nil), 404, 20404)

	// Dequeue.
	bad := []struct {
		form url.Values
		code int
	}{
		{url.Values{}, 21205},
		{url.Values{"Url": {"/relative"}}, 21205},
		{url.Values{"Url": {"https://a/b"}, "Method": {"PUT"}}, 21209},
	}
	for _, c := range bad {
		expectError(t, e.do(http.MethodPost, "Queues/"+q.SID+"/Members/Front.json", c.form), 400, c.code)
	}
	decode(t, e.do(http.MethodPost, "Queues/"+q.SID+"/Members/Front.json", url.Values{"Url": {"https://app.example/agent"}}), 200, &m)
	if m.CallSID != calls[0] || m.Position != 1 || m.QueueSID != q.SID {
		t.Errorf("dequeued Front %+v", m)
	}
	decode(t, e.do(http.MethodPost, "Queues/"+q.SID+"/Members/"+calls[3]+".json", url.Values{"Url": {"https://app.example/x"}, "Method": {"GET"}}), 200, &m)
	if m.CallSID != calls[3] || m.Position != 3 {
		t.Errorf("dequeued %+v", m)
	}
	wantDeq := []string{
		q.SID + " " + calls[0] + " https://app.example/agent POST",
		q.SID + " " + calls[3] + " https://app.example/x GET",
	}
	if !reflect.DeepEqual(e.queues.dequeued, wantDeq) {
		t.Errorf("dequeued %q, want %q", e.queues.dequeued, wantDeq)
	}
	expectError(t, e.do(http.MethodPost, "Queues/"+empty.SID+"/Members/Front.json", url.Values{"Url": {"https://a/b"}}), 404, 20404)
	expectError(t, e.do(http.MethodPost, "Queues/"+q.SID+"/Members/"+calls[0]+".json", url.Values{"Url": {"https://a/b"}}), 404, 20404)
}
