package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// localClient points twilio-go at the gateway: the SDK builds
// https://api.twilio.com/... URLs and this rewrites scheme and host only
// (testing-with-real-peers.md §5.2).
type localClient struct {
	*client.Client
	base *url.URL
}

func (c *localClient) SendRequest(method, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = c.base.Scheme, c.base.Host
	return c.Client.SendRequest(method, u.String(), data, headers, body...)
}

func twilioGo(t *testing.T, base string) *twilio.RestClient {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	inner := &client.Client{Credentials: client.NewCredentials(testAccountSID, testAuthToken), HTTPClient: http.DefaultClient}
	inner.SetAccountSid(testAccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Username: testAccountSID, Password: testAuthToken, Client: &localClient{inner, u}})
}

func waitCallStatus(t *testing.T, rc *twilio.RestClient, sid string, want string, within time.Duration) *openapi.ApiV2010Call {
	t.Helper()
	deadline := time.Now().Add(within)
	var c *openapi.ApiV2010Call
	for time.Now().Before(deadline) {
		var err error
		if c, err = rc.Api.FetchCall(sid, &openapi.FetchCallParams{}); err != nil {
			t.Fatalf("FetchCall: %v", err)
		}
		if c.Status != nil && *c.Status == want {
			return c
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := "<nil>"
	if c != nil && c.Status != nil {
		got = *c.Status
	}
	t.Fatalf("call %s status %s, want %s", sid, got, want)
	return nil
}

// TestTwilioGoSDK: an app written with twilio-go works against the gateway
// by changing the base URL: create a call to a SIPp UAS, redirect it live
// with new TwiML, hang it up, list calls, queues and recordings; after a
// restart the call records are still there.
func TestTwilioGoSDK(t *testing.T) {
	uas := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	a := newApp(t)
	a.twiml("/outbound", `<Response><Say>Hello from the SDK test.</Say><Pause length="30"/></Response>`)
	storage := t.TempDir()
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/unused"), extraYAML: ttsVoices, storageDir: storage})
	rc := twilioGo(t, g.httpURL)

	p := &openapi.CreateCallParams{}
	p.SetTo(fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)).SetFrom("+15550001111").SetUrl(a.url("/outbound"))
	created, err := rc.Api.CreateCall(p)
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	if created.Sid == nil || created.Status == nil || *created.Status != "queued" || *created.Direction != "outbound-api" {
		t.Fatalf("created call %+v", created)
	}
	sid := *created.Sid
	waitCallStatus(t, rc, sid, "in-progress", 15*time.Second)
	init := a.waitRequests(t, "/outbound", 1, 5*time.Second)[0].Form
	if init.Get("CallStatus") != "in-progress" || init.Get("Direction") != "outbound-api" || init.Get("CallSid") != sid {
		t.Errorf("outbound call's webhook params %v", init)
	}

	a.twiml("/redirected", `<Response><Say>Redirected.</Say><Pause length="30"/></Response>`)
	up := &openapi.UpdateCallParams{}
	up.SetUrl(a.url("/redirected"))
	if _, err := rc.Api.UpdateCall(sid, up); err != nil {
		t.Fatalf("UpdateCall Url: %v", err)
	}
	a.waitRequests(t, "/redirected", 1, 5*time.Second)
	tw := &openapi.UpdateCallParams{}
	tw.SetTwiml(`<Response><Say>Inline TwiML.</Say><Pause length="30"/></Response>`)
	if _, err := rc.Api.UpdateCall(sid, tw); err != nil {
		t.Fatalf("UpdateCall Twiml: %v", err)
	}
	time.Sleep(time.Second)
	end := &openapi.UpdateCallParams{}
	end.SetStatus("completed")
	if _, err := rc.Api.UpdateCall(sid, end); err != nil {
		t.Fatalf("UpdateCall Status=completed: %v", err)
	}
	done := waitCallStatus(t, rc, sid, "completed", 10*time.Second)
	if done.Duration == nil || *done.Duration == "" {
		t.Errorf("completed call has no duration: %+v", done)
	}
	// Updating an ended call is Twilio's 21220.
	if _, err := rc.Api.UpdateCall(sid, up); err == nil {
		t.Errorf("redirecting an ended call succeeded")
	}

	calls, err := rc.Api.ListCall(&openapi.ListCallParams{})
	if err != nil {
		t.Fatalf("ListCall: %v", err)
	}
	if !containsCall(calls, sid) {
		t.Errorf("ListCall does not include %s", sid)
	}
	qp := &openapi.CreateQueueParams{}
	qp.SetFriendlyName("support").SetMaxSize(20)
	q, err := rc.Api.CreateQueue(qp)
	if err != nil || q.Sid == nil || *q.FriendlyName != "support" {
		t.Fatalf("CreateQueue: %v %+v", err, q)
	}
	queues, err := rc.Api.ListQueue(&openapi.ListQueueParams{})
	if err != nil || len(queues) != 1 {
		t.Fatalf("ListQueue: %v, %d queues", err, len(queues))
	}
	if _, err := rc.Api.ListRecording(&openapi.ListRecordingParams{}); err != nil {
		t.Fatalf("ListRecording: %v", err)
	}

	// Restart on the same storage: the records survive.
	g.stop(t)
	g2 := startGateway(t, gatewayOpts{voiceURL: a.url("/unused"), storageDir: storage})
	rc2 := twilioGo(t, g2.httpURL)
	again, err := rc2.Api.FetchCall(sid, &openapi.FetchCallParams{})
	if err != nil || *again.Status != "completed" {
		t.Fatalf("after restart FetchCall: %v %+v", err, again)
	}
	if qs, err := rc2.Api.ListQueue(&openapi.ListQueueParams{}); err != nil || len(qs) != 1 {
		t.Errorf("after restart ListQueue: %v %d", err, len(qs))
	}
}

func containsCall(calls []openapi.ApiV2010Call, sid string) bool {
	for _, c := range calls {
		if c.Sid != nil && *c.Sid == sid {
			return true
		}
	}
	return false
}

// TestTwilioNodeSDK runs e2e/sdk/twilio_node.js (the twilio npm package,
// unchanged) against the gateway and a SIPp UAS.
func TestTwilioNodeSDK(t *testing.T) {
	if _, err := os.Stat(filepath.Join("sdk", "node_modules", "twilio", "package.json")); err != nil {
		t.Fatalf("the twilio npm package is not installed: run `make deps-test` (npm --prefix e2e/sdk install)")
	}
	callee, _ := baresipCallee(t, 600)
	a := newApp(t)
	a.twiml("/outbound", `<Response><Say>Hello from Node.</Say><Pause length="30"/></Response>`)
	a.twiml("/voice", `<Response><Enqueue waitUrl="/wait">nodeq</Enqueue></Response>`)
	a.twiml("/wait", `<Response><Say>Please hold.</Say></Response>`)
	a.twiml("/dequeued", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	// A caller waits in the queue the script dequeues.
	peer := newRTPPeer(t)
	sippDone := g.waitingCaller(t, peer, "queued caller: ", 60*time.Second)
	a.waitRequests(t, "/wait", 1, 10*time.Second)
	cmd := exec.Command("node", "twilio_node.js")
	cmd.Dir = "sdk"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "SID="+testAccountSID, "TOKEN="+testAuthToken,
		fmt.Sprintf("TO=sip:judge@127.0.0.1:%d", callee), "URL="+a.url("/outbound"), "QUEUE=nodeq", "DEQ_URL="+a.url("/dequeued"))
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("twilio_node.js: %v\n%s\n%s", err, out, stderr)
	}
	var res struct {
		Created struct{ Sid, Status, Direction, To string }
		Live    string
		Ended   struct{ Status, Duration string }
		Listed  bool
		Queue   struct {
			Sid         string
			MaxSize     int
			CurrentSize int
		}
		Queues  bool
		Members struct {
			Count, Position int
			Front, Dequeued string
		}
		Recordings int
		NotFound   struct{ Status, Code int }
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res.Created.Status != "queued" || res.Created.Direction != "outbound-api" || res.Live != "in-progress" ||
		res.Ended.Status != "completed" || !res.Listed || res.Queue.MaxSize != 20 || !res.Queues ||
		res.NotFound.Status != 404 || res.NotFound.Code != 20404 ||
		res.Members.Count != 1 || res.Members.Position != 1 || res.Members.Front == "" || res.Members.Dequeued != res.Members.Front {
		t.Errorf("twilio-node saw %+v", res)
	}
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	if r := a.waitRequests(t, "/dequeued", 1, 5*time.Second)[0]; r.Form.Get("CallSid") != res.Members.Front {
		t.Errorf("dequeue URL requested for %q, want %q", r.Form.Get("CallSid"), res.Members.Front)
	}
}

// TestTwilioGoQueueMembers: a SIPp caller waits in a queue; twilio-go sees
// it as a member, fetches the Front and dequeues it into new TwiML. Then a
// call is created to baresip (auto-answer) and hung up.
func TestTwilioGoQueueMembers(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Enqueue waitUrl="/wait">support</Enqueue></Response>`)
	a.twiml("/wait", `<Response><Say>Please hold.</Say></Response>`)
	a.twiml("/dequeued", `<Response><Say>You were taken from the queue.</Say><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	rc := twilioGo(t, g.httpURL)
	peer := newRTPPeer(t)
	sippDone := g.waitingCaller(t, peer, "", 40*time.Second)

	var qsid string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && qsid == "" {
		qs, err := rc.Api.ListQueue(&openapi.ListQueueParams{})
		if err != nil {
			t.Fatalf("ListQueue: %v", err)
		}
		for _, q := range qs {
			if q.FriendlyName != nil && *q.FriendlyName == "support" && q.CurrentSize == 1 {
				qsid = *q.Sid
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if qsid == "" {
		t.Fatal("queue support never showed one caller")
	}
	members, err := rc.Api.ListMember(qsid, &openapi.ListMemberParams{})
	if err != nil || len(members) != 1 || members[0].CallSid == nil || members[0].Position != 1 {
		t.Fatalf("ListMember: %v %+v", err, members)
	}
	front, err := rc.Api.FetchMember(qsid, "Front", &openapi.FetchMemberParams{})
	if err != nil || *front.CallSid != *members[0].CallSid {
		t.Fatalf("FetchMember Front: %v %+v", err, front)
	}
	up := &openapi.UpdateMemberParams{}
	up.SetUrl(a.url("/dequeued")).SetMethod("POST")
	if _, err := rc.Api.UpdateMember(qsid, "Front", up); err != nil {
		t.Fatalf("UpdateMember Front: %v", err)
	}
	r := a.waitRequests(t, "/dequeued", 1, 5*time.Second)[0]
	if r.Form.Get("CallSid") != *front.CallSid {
		t.Errorf("the dequeue URL was requested for %q, want %q", r.Form.Get("CallSid"), *front.CallSid)
	}
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}

	// A call created through the API to a real softphone.
	port, _ := baresipCallee(t, 600)
	p := &openapi.CreateCallParams{}
	p.SetTo(fmt.Sprintf("sip:judge@127.0.0.1:%d", port)).SetFrom("+15550001111").SetTwiml(`<Response><Say>Hello baresip.</Say><Pause length="20"/></Response>`)
	c, err := rc.Api.CreateCall(p)
	if err != nil {
		t.Fatalf("CreateCall to baresip: %v", err)
	}
	waitCallStatus(t, rc, *c.Sid, "in-progress", 15*time.Second)
	end := &openapi.UpdateCallParams{}
	end.SetStatus("completed")
	if _, err := rc.Api.UpdateCall(*c.Sid, end); err != nil {
		t.Fatalf("hang up: %v", err)
	}
	waitCallStatus(t, rc, *c.Sid, "completed", 10*time.Second)
}
