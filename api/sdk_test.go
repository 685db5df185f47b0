package api

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// localClient points twilio-go at the test server: it keeps the path and
// query the library built for api.twilio.com and swaps scheme and host.
type localClient struct {
	*client.Client
	base *url.URL
	sent *[]string // paths and queries requested, in order
}

func (c *localClient) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = c.base.Scheme, c.base.Host
	if c.sent != nil {
		*c.sent = append(*c.sent, u.RequestURI())
	}
	return c.Client.SendRequest(method, u.String(), data, headers, body...)
}

// sdkClient is a twilio-go REST client for e's server.
func (e *env) sdkClient(token string) *twilio.RestClient {
	return e.sdkClientLogged(token, nil)
}

// sdkClientLogged is sdkClient that appends each request's URI to sent.
func (e *env) sdkClientLogged(token string, sent *[]string) *twilio.RestClient {
	e.t.Helper()
	base, err := url.Parse(e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	inner := &client.Client{Credentials: client.NewCredentials(testAccount, token), HTTPClient: e.srv.Client()}
	inner.SetAccountSid(testAccount)
	return twilio.NewRestClientWithParams(twilio.ClientParams{
		Username: testAccount, Password: token, Client: &localClient{Client: inner, base: base, sent: sent},
	})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestTwilioGoCalls(t *testing.T) {
	e := newEnv(t)
	rc := e.sdkClient(testToken)

	created, err := rc.Api.CreateCall(new(openapi.CreateCallParams).
		SetTo("+15551230002").SetFrom("+15551230001").
		SetTwiml(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say></Response>`).
		SetStatusCallback("https://app.example/status").
		SetStatusCallbackEvent([]string{"initiated", "answered"}).
		SetTimeout(30))
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	callSID := deref(created.Sid)
	if !sid.Valid(sid.Call, callSID) || deref(created.Status) != "queued" || deref(created.To) != "+15551230002" ||
		deref(created.Direction) != "outbound-api" || deref(created.AccountSid) != testAccount {
		t.Errorf("created call %+v", created)
	}
	p := e.calls.created[0]
	if p.TwiML == "" || p.Timeout != 30*time.Second || len(p.StatusCallbackEvents) != 2 || p.StatusCallbackEvents[1] != "answered" {
		t.Errorf("controller got %+v", p)
	}

	fetched, err := rc.Api.FetchCall(callSID, nil)
	if err != nil {
		t.Fatalf("FetchCall: %v", err)
	}
	if deref(fetched.Sid) != callSID || deref(fetched.ApiVersion) != "2010-04-01" || fetched.Duration != nil {
		t.Errorf("fetched call %+v", fetched)
	}

	// Answer it, then steer it.
	c, _ := e.store.GetCall(t.Context(), callSID)
	c.Status = store.CallInProgress
	c.StartTime = time.Now()
	e.putCall(c)
	if _, err := rc.Api.UpdateCall(callSID, new(openapi.UpdateCallParams).SetTwiml("<Response><Hangup/></Response>")); err != nil {
		t.Fatalf("UpdateCall Twiml: %v", err)
	}
	if len(e.calls.redirects) != 1 || e.calls.redirects[0] != "twiml:<Response><Hangup/></Response>" {
		t.Errorf("redirects %q", e.calls.redirects)
	}
	done, err := rc.Api.UpdateCall(callSID, new(openapi.UpdateCallParams).SetStatus("completed"))
	if err != nil {
		t.Fatalf("UpdateCall Status: %v", err)
	}
	if deref(done.Status) != "completed" || done.Duration == nil || done.EndTime == nil {
		t.Errorf("hung-up call %+v", done)
	}

	// Errors decode as TwilioRestError.
	_, err = rc.Api.UpdateCall(callSID, new(openapi.UpdateCallParams).SetUrl("https://app.example/late"))
	var restErr *client.TwilioRestError
	if !errors.As(err, &restErr) || restErr.Code != 21220 || restErr.Status != 400 {
		t.Errorf("redirect of ended call: %v", err)
	}
	_, err = rc.Api.FetchCall("CA"+"0123456789abcdef0123456789abcdef", nil)
	if !errors.As(err, &restErr) || restErr.Code != 20404 || restErr.Status != 404 {
		t.Errorf("fetch unknown call: %v", err)
	}
	_, err = e.sdkClient("ffffffffffffffffffffffffffffffff").Api.FetchCall(callSID, nil)
	if !errors.As(err, &restErr) || restErr.Code != 20003 || restErr.Status != 401 {
		t.Errorf("wrong token: %v", err)
	}
}

func TestTwilioGoListCallPaging(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	const n = 123
	want := map[string]bool{}
	for i := range n {
		c := e.putCall(store.Call{From: "+1000", To: "+2000", Status: store.CallCompleted, DateCreated: t0.Add(time.Duration(i) * time.Second)})
		want[c.SID] = true
	}
	e.putCall(store.Call{From: "+1000", To: "+3000"})

	var sent []string
	calls, err := e.sdkClientLogged(testToken, &sent).Api.ListCall(new(openapi.ListCallParams).SetTo("+2000"))
	if err != nil {
		t.Fatalf("ListCall: %v", err)
	}
	if len(sent) != 3 {
		t.Errorf("ListCall sent %d requests, want 3 pages of 50: %q", len(sent), sent)
	}
	if len(calls) != n {
		t.Fatalf("ListCall returned %d calls, want %d", len(calls), n)
	}
	var prev time.Time
	for i, c := range calls {
		if !want[deref(c.Sid)] {
			t.Fatalf("call %d: unexpected or repeated %s", i, deref(c.Sid))
		}
		delete(want, deref(c.Sid))
		created, err := time.Parse(time.RFC1123Z, deref(c.DateCreated))
		if err != nil {
			t.Fatalf("date_created %q: %v", deref(c.DateCreated), err)
		}
		if i > 0 && created.After(prev) {
			t.Errorf("call %d is newer than call %d", i, i-1)
		}
		prev = created
	}

	// A time filter as twilio-go sends it (RFC 3339).
	after, err := e.sdkClient(testToken).Api.ListCall(new(openapi.ListCallParams).
		SetTo("+2000").SetStartTimeAfter(t0).SetLimit(10))
	if err != nil {
		t.Fatalf("ListCall StartTime>: %v", err)
	}
	if len(after) != 0 {
		t.Errorf("calls with no start time matched StartTime>: %d", len(after))
	}
}

func TestTwilioGoQueuesAndRecordings(t *testing.T) {
	e := newEnv(t)
	rc := e.sdkClient(testToken)

	q, err := rc.Api.CreateQueue(new(openapi.CreateQueueParams).SetFriendlyName("support").SetMaxSize(50))
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if deref(q.FriendlyName) != "support" || q.MaxSize != 50 || !sid.Valid(sid.Queue, deref(q.Sid)) {
		t.Errorf("queue %+v", q)
	}
	caller := sid.New(sid.Call)
	e.queues.add(deref(q.Sid), Member{CallSID: caller, DateEnqueued: time.Now(), WaitTime: 3 * time.Second})
	queues, err := rc.Api.ListQueue(new(openapi.ListQueueParams).SetLimit(20))
	if err != nil {
		t.Fatalf("ListQueue: %v", err)
	}
	if len(queues) != 1 || deref(queues[0].Sid) != deref(q.Sid) || queues[0].CurrentSize != 1 {
		t.Errorf("queues %+v", queues)
	}
	m, err := rc.Api.UpdateMember(deref(q.Sid), "Front", new(openapi.UpdateMemberParams).SetUrl("https://app.example/agent").SetMethod("POST"))
	if err != nil {
		t.Fatalf("UpdateMember: %v", err)
	}
	if deref(m.CallSid) != caller || m.Position != 1 || m.WaitTime != 3 {
		t.Errorf("dequeued %+v", m)
	}

	callSID := sid.New(sid.Call)
	rec := e.putRecording(callSID, time.Now())
	e.putRecording(sid.New(sid.Call), time.Now())
	recs, err := rc.Api.ListRecording(new(openapi.ListRecordingParams).SetCallSid(callSID).SetLimit(5))
	if err != nil {
		t.Fatalf("ListRecording: %v", err)
	}
	if len(recs) != 1 || deref(recs[0].Sid) != rec.SID || deref(recs[0].CallSid) != callSID || deref(recs[0].Duration) != "7" {
		t.Errorf("recordings %+v", recs)
	}
	callRecs, err := rc.Api.ListCallRecording(callSID, nil)
	if err != nil {
		t.Fatalf("ListCallRecording: %v", err)
	}
	if len(callRecs) != 1 || deref(callRecs[0].Sid) != rec.SID {
		t.Errorf("call recordings %+v", callRecs)
	}
	got, err := rc.Api.FetchRecording(rec.SID, nil)
	if err != nil {
		t.Fatalf("FetchRecording: %v", err)
	}
	if deref(got.MediaUrl) != testPublic+base+"/Recordings/"+rec.SID || deref(got.Status) != "completed" || deref(got.Channels) != 1 {
		t.Errorf("recording %+v", got)
	}
	if err := rc.Api.DeleteRecording(rec.SID, nil); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if _, err := os.Stat(rec.Path); !os.IsNotExist(err) {
		t.Errorf("audio not removed: %v", err)
	}
	if recs, err = rc.Api.ListRecording(new(openapi.ListRecordingParams).SetCallSid(callSID)); err != nil || len(recs) != 0 {
		t.Errorf("after delete: %d recordings, %v", len(recs), err)
	}
}
