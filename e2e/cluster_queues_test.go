package e2e

import (
	"database/sql"
	"os"
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
// and its waitUrl gets the QueueSid. It hangs up (the action hears
// QueueResult=hangup). Then alice signs in on B (headless Chromium),
// a caller on A enqueues, alice accepts the offer on her desktop, A rings
// her over the internal SIP leg to B, and they talk (a 1 kHz tone from
// the caller, alice's 440 Hz microphone heard by the caller); the action
// gets QueueResult=bridged with the queue's SID.
func TestClusterNamedQueueAcrossNodes(t *testing.T) {
	app := newApp(t)
	app.twiml("/voice", `<Response><Enqueue action="/after" waitUrl="/wait">sales</Enqueue></Response>`)
	app.twiml("/wait", `<Response><Pause length="2"/></Response>`)
	app.twiml("/after", `<Response><Hangup/></Response>`)
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
	if got := waits[0].Form.Get("QueueSid"); got != sales.Sid {
		t.Errorf("waitUrl QueueSid %q, want %q", got, sales.Sid)
	}
	if msg := <-caller; msg != "" {
		t.Fatal(msg)
	}
	after := app.waitRequests(t, "/after", 1, 10*time.Second)
	if f := after[0].Form; f.Get("QueueResult") != "hangup" || f.Get("QueueSid") != sales.Sid || f.Get("CallSid") != onB.Members[0].CallSid {
		t.Errorf("action after the hang-up: %v", f)
	}
	getJSON(t, nodeA.httpURL+accountPath+"/Queues/"+sales.Sid+"/Members.json", &onA)
	if len(onA.Members) != 0 {
		t.Errorf("members after the hang-up: %+v", onA)
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
