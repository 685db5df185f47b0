package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store/pgtest"
)

// clusterQueueYAML: alice answers the named queue sales.
const clusterQueueYAML = `agents:
  - id: alice
    name: Alice
    secret: alice-secret-1
    queues: [sales]
queues:
  offer_timeout: 10s
  wrap_up: 1s
`

// startClusterPair starts PostgreSQL and two gateways on it: B first (it
// leads the cluster's TaskRouter), then A (a follower).
func startClusterPair(t *testing.T, voiceURL, yaml string) (db *sql.DB, nodeA, nodeB *gateway) {
	t.Helper()
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	srv := pgtest.Start(t)
	dbURL := srv.NewDatabase(t)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	env := func(node string) []string {
		return []string{"VOXGATE_STORAGE_DRIVER=postgres", "VOXGATE_STORAGE_URL=" + dbURL, "VOXGATE_CLUSTER_NODE_ID=" + node}
	}
	nodeB = startGateway(t, gatewayOpts{voiceURL: voiceURL, extraYAML: yaml, env: env("gw-b")})
	waitLog(t, nodeB, "this node leads the cluster's TaskRouter", 1, 10*time.Second)
	nodeA = startGateway(t, gatewayOpts{voiceURL: voiceURL, extraYAML: yaml, env: env("gw-a")})
	if strings.Contains(nodeA.Logs(), "this node leads") {
		t.Fatalf("node A leads although B does\n%s", nodeA.Logs())
	}
	return db, nodeA, nodeB
}

type restQueue struct {
	Sid          string `json:"sid"`
	FriendlyName string `json:"friendly_name"`
	CurrentSize  int    `json:"current_size"`
}

type restMembers struct {
	Members []struct {
		CallSid  string `json:"call_sid"`
		Position int    `json:"position"`
	} `json:"queue_members"`
}

// TestClusterNamedQueueAcrossNodes: a classic <Enqueue>sales</Enqueue>
// on a cluster of two gateways on PostgreSQL. A SIPp caller on A waits
// (nobody signed in): the REST Queues and Members of both nodes show it,
// and its waitUrl gets the QueueSid, its position and the queue's size. A REST dequeue through B moves it to
// another document (the action hears QueueResult=redirected). Then alice signs in on B (headless Chromium),
// a caller on A enqueues, alice accepts the offer on her desktop, A rings
// her over the internal SIP leg to B, and they talk (a 1 kHz tone from
// the caller, alice's 440 Hz microphone heard by the caller); the action
// gets QueueResult=bridged with the queue's SID.
func TestClusterNamedQueueAcrossNodes(t *testing.T) {
	app := newApp(t)
	app.twiml("/voice", `<Response><Enqueue action="/after" waitUrl="/wait">sales</Enqueue></Response>`)
	app.twiml("/wait", `<Response><Pause length="2"/></Response>`)
	app.twiml("/after", `<Response><Hangup/></Response>`)
	app.twiml("/moved", `<Response><Pause length="20"/></Response>`)
	db, nodeA, nodeB := startClusterPair(t, app.url("/voice"), ttsVoices+clusterQueueYAML)

	// A caller on A waits: both nodes' REST show it in sales.
	caller := callerHangsUpAfter(t, nodeA, 8000)
	accountPath := "/2010-04-01/Accounts/" + testAccountSID
	var sales restQueue
	deadline := time.Now().Add(10 * time.Second)
	for sales.CurrentSize != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no caller in sales through B: %+v\n%s", sales, nodeA.Logs())
		}
		time.Sleep(200 * time.Millisecond)
		var list struct {
			Queues []restQueue `json:"queues"`
		}
		getJSON(t, nodeB.httpURL+accountPath+"/Queues.json", &list)
		for _, q := range list.Queues {
			if q.FriendlyName == "sales" {
				sales = q
			}
		}
	}
	var onA, onB restMembers
	getJSON(t, nodeA.httpURL+accountPath+"/Queues/"+sales.Sid+"/Members.json", &onA)
	getJSON(t, nodeB.httpURL+accountPath+"/Queues/"+sales.Sid+"/Members.json", &onB)
	if len(onA.Members) != 1 || len(onB.Members) != 1 || !strings.HasPrefix(onB.Members[0].CallSid, "CA") ||
		onA.Members[0].CallSid != onB.Members[0].CallSid || onB.Members[0].Position != 1 {
		t.Fatalf("members through A %+v, through B %+v", onA, onB)
	}
	waits := app.waitRequests(t, "/wait", 1, 10*time.Second)
	if f := waits[0].Form; f.Get("QueueSid") != sales.Sid || f.Get("QueuePosition") != "1" || f.Get("CurrentQueueSize") != "1" || f.Get("MaxQueueSize") != "1000" {
		t.Errorf("waitUrl parameters %v, want QueueSid %s, position and size 1, max 1000", f, sales.Sid)
	}
	// A REST dequeue through B moves the caller on A to another document.
	var moved struct {
		CallSid string `json:"call_sid"`
	}
	if code := nodeB.restJSON(t, http.MethodPost, "/Queues/"+sales.Sid+"/Members/Front.json", url.Values{"Url": {app.url("/moved")}}, &moved); code != http.StatusOK || moved.CallSid != onB.Members[0].CallSid {
		t.Fatalf("dequeue through B: %d %+v", code, moved)
	}
	if got := app.waitRequests(t, "/moved", 1, 10*time.Second); got[0].Form.Get("CallSid") != moved.CallSid {
		t.Errorf("the moved call's document: %v", got[0].Form)
	}
	after := app.waitRequests(t, "/after", 1, 10*time.Second)
	if f := after[0].Form; f.Get("QueueResult") != "redirected" || f.Get("QueueSid") != sales.Sid || f.Get("CallSid") != onB.Members[0].CallSid {
		t.Errorf("action after the REST dequeue: %v", f)
	}
	getJSON(t, nodeA.httpURL+accountPath+"/Queues/"+sales.Sid+"/Members.json", &onA)
	if len(onA.Members) != 0 {
		t.Errorf("members after the dequeue: %+v", onA)
	}
	if msg := <-caller; msg != "" {
		t.Fatal(msg)
	}

	// alice's desktop on B, the caller on A: bridged over the internal leg.
	agentCallAcrossNodes(t, db, nodeA, nodeB, "gw-b")
	after = app.waitRequests(t, "/after", 2, 10*time.Second)
	if f := after[1].Form; f.Get("QueueResult") != "bridged" || f.Get("QueueSid") != sales.Sid {
		t.Errorf("action after the bridge: %v", f)
	}
	if !strings.Contains(nodeA.Logs(), "ivr: the named queue's caller becomes a TaskRouter task") {
		t.Error("the caller did not go through TaskRouter")
	}
}

// chatAcrossNodes runs agent_chat.js with the visitor on visitorNode's
// /webchat and alice's desktop on agentNode, and checks each saw the
// other's message and the task, made on the leader, ended completed.
func chatAcrossNodes(t *testing.T, visitorNode, agentNode, leader *gateway, ws string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "agent_chat.js")
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "BASE="+agentNode.httpURL, "VISITOR_BASE="+visitorNode.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1")
	var stderr syncBuilder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("agent_chat.js: %v\n%s\n%s\nvisitor's node:\n%s\nagent's node:\n%s", err, out, stderr.String(), visitorNode.Logs(), agentNode.Logs())
	}
	_, line, ok := strings.Cut(string(out), "RESULT ")
	if !ok {
		t.Fatalf("no RESULT in %q (stderr %s)", out, stderr.String())
	}
	var res struct{ TaskSid, CardTitle, AgentSaw, VisitorSaw, VisitorStatus, AgentAfter string }
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.TaskSid, "WT") || !strings.Contains(res.CardTitle, "Vera") ||
		!strings.Contains(res.AgentSaw, "Hello, my parcel is late") || !strings.Contains(res.VisitorSaw, "Sorry about that, checking now") ||
		!strings.Contains(res.VisitorStatus, "ended") || !strings.Contains(res.AgentAfter, "No tasks") {
		t.Errorf("chat, visitor on %s, alice on %s: %+v", visitorNode.httpURL, agentNode.httpURL, res)
	} else {
		t.Logf("visitor on %s, alice on %s: alice saw %q, the visitor saw %q", visitorNode.httpURL, agentNode.httpURL, res.AgentSaw, res.VisitorSaw)
	}
	var task struct {
		AssignmentStatus string `json:"assignment_status"`
		Channel          string `json:"task_channel_unique_name"`
		Attributes       string `json:"attributes"`
	}
	getJSON(t, leader.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+res.TaskSid, &task)
	if task.AssignmentStatus != "completed" || task.Channel != "chat" || !strings.Contains(task.Attributes, `"voxgate_node_url":"`+visitorNode.httpURL+`"`) {
		t.Errorf("the chat's task on the leader: %+v", task)
	}
}

// TestClusterWebChatAcrossNodes: web chats on a cluster of two gateways
// on PostgreSQL, the visitor on one node and alice's desktop (headless
// Chromium) on the other. The conversation lives on the visitor's node;
// alice's node reads it from there and sends her reply there. First the
// visitor on A (a follower) and alice on B (the leader), then the
// visitor on B and alice on A. Each side sees the other's message, and
// the visitor sees the chat end when alice completes the task.
func TestClusterWebChatAcrossNodes(t *testing.T) {
	app := newApp(t)
	app.twiml("/voice", `<Response><Hangup/></Response>`)
	_, nodeA, nodeB := startClusterPair(t, app.url("/voice"), agentYAML+chatYAML)
	var list struct {
		Workspaces []struct {
			Sid string `json:"sid"`
		} `json:"workspaces"`
	}
	getJSON(t, nodeA.httpURL+"/v1/Workspaces?FriendlyName=Voxgate", &list)
	if len(list.Workspaces) != 1 {
		t.Fatalf("workspaces through A: %+v", list)
	}
	ws := list.Workspaces[0].Sid
	chatAcrossNodes(t, nodeA, nodeB, nodeB, ws)
	chatAcrossNodes(t, nodeB, nodeA, nodeB, ws)
}

// TestClusterDialQueueAcrossNodes: a caller waits in the named queue
// sales on A (<Enqueue>, a task on the leader B); a second call, on B,
// runs <Dial><Queue url>sales</Queue></Dial>: B takes the front caller
// from the leader, A runs the url's document on the caller (with the
// dequeuer's SID), dials B for it (sip:vxq-<token>), and the two talk (a
// 1 kHz tone from the caller, 440 Hz from the dequeuer, each heard by
// the other) until the caller hangs up; the caller's action gets
// QueueResult=bridged, the Dial's action DialCallStatus=completed with
// the caller's SID.
func TestClusterDialQueueAcrossNodes(t *testing.T) {
	app := newApp(t)
	app.handle("/voice", func(r webhookRequest) (int, string, string) {
		if strings.HasSuffix(r.Form.Get("To"), "2000") {
			return 200, "text/xml", `<Response><Dial action="/dialed" timeout="10"><Queue url="/announce">sales</Queue></Dial></Response>`
		}
		return 200, "text/xml", `<Response><Enqueue action="/after">sales</Enqueue></Response>`
	})
	app.twiml("/after", `<Response><Hangup/></Response>`)
	app.twiml("/dialed", `<Response><Hangup/></Response>`)
	app.twiml("/announce", `<Response><Pause length="1"/></Response>`)
	_, nodeA, nodeB := startClusterPair(t, app.url("/voice"), ttsVoices+clusterQueueYAML+"default_app:\n  voice_url: "+app.url("/voice")+"\n")

	callerPeer := newRTPPeer(t)
	callerPeer.talkTone(1000, 5000, 20*time.Second)
	caller := make(chan string, 1)
	go func() {
		code, out := nodeA.sipp(t, "udp", "uac_hangup.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(callerPeer.port()), "pause_ms": "9000"}, 40*time.Second)
		if code != 0 {
			caller <- fmt.Sprintf("caller: sipp exit %d\n%s", code, out)
			return
		}
		caller <- ""
	}()
	waitLog(t, nodeA, "ivr: the named queue's caller becomes a TaskRouter task", 1, 10*time.Second)
	time.Sleep(500 * time.Millisecond)

	dequeuerPeer := newRTPPeer(t)
	dequeuerPeer.talkTone(440, 5000, 20*time.Second)
	dequeuer := make(chan string, 1)
	go func() {
		code, out := nodeB.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550002000", "mport": fmt.Sprint(dequeuerPeer.port()), "pts": "0"}, 40*time.Second)
		if code != 0 {
			dequeuer <- fmt.Sprintf("dequeuer: sipp exit %d\n%s", code, out)
			return
		}
		dequeuer <- ""
	}()
	waitLog(t, nodeB, "cluster: a taken queue caller bridged to its <Dial><Queue> here", 1, 15*time.Second)
	bridged := time.Now()
	for _, ch := range []chan string{caller, dequeuer} {
		if msg := <-ch; msg != "" {
			t.Fatalf("%s\nnode A:\n%s\nnode B:\n%s", msg, nodeA.Logs(), nodeB.Logs())
		}
	}
	after := app.waitRequests(t, "/after", 1, 10*time.Second)
	dialed := app.waitRequests(t, "/dialed", 1, 10*time.Second)
	if f := after[0].Form; f.Get("QueueResult") != "bridged" || !strings.HasPrefix(f.Get("QueueSid"), "QU") {
		t.Errorf("the caller's action: %v", f)
	}
	if f := dialed[0].Form; f.Get("DialCallStatus") != "completed" || f.Get("DialCallSid") != after[0].Form.Get("CallSid") {
		t.Errorf("the dequeuer's action: %v (the caller is %s)", f, after[0].Form.Get("CallSid"))
	}
	// The <Queue url> document ran on the caller, on A.
	if ann := app.requests("/announce"); len(ann) != 1 || ann[0].Form.Get("CallSid") != after[0].Form.Get("CallSid") ||
		ann[0].Form.Get("DequeingCallSid") != dialed[0].Form.Get("CallSid") || ann[0].Form.Get("QueueSid") != after[0].Form.Get("QueueSid") {
		t.Errorf("the announcement's requests: %+v", ann)
	}
	for _, c := range []struct {
		who  string
		peer *rtpPeer
		hz   float64
	}{{"the caller", callerPeer, 440}, {"the dequeuer", dequeuerPeer, 1000}} {
		var during []rtpPacket
		for _, p := range c.peer.packets() {
			if p.At.After(bridged.Add(500*time.Millisecond)) && p.At.Before(bridged.Add(6*time.Second)) {
				during = append(during, p)
			}
		}
		if frac := dominantFraction(decode(during, 0), c.hz); len(during) < 100 || frac < 0.5 {
			t.Errorf("%s heard %d packets while bridged; %.0f Hz share %.2f", c.who, len(during), c.hz, frac)
		} else {
			t.Logf("%s heard %d packets across the nodes, %.0f Hz share %.2f", c.who, len(during), c.hz, frac)
		}
	}
}
