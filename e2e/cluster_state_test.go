package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/voxgate/voxgate/store/pgtest"
)

const chatYAML = "webchat:\n  queue: support\n"

// chatOnNode runs agent_chat.js (a visitor on /webchat and alice on
// her desktop, both on g) and checks each saw the other and the task,
// made on the leader, ended completed there.
func chatOnNode(t *testing.T, g, leader *gateway, ws string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "agent_chat.js")
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1")
	var stderr syncBuilder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("agent_chat.js: %v\n%s\n%s\n%s", err, out, stderr.String(), g.Logs())
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
		t.Errorf("chat on %s: %+v", g.httpURL, res)
	} else {
		t.Logf("web chat on the follower: alice saw %q, the visitor saw %q", res.AgentSaw, res.VisitorSaw)
	}
	var task struct {
		AssignmentStatus string `json:"assignment_status"`
		Channel          string `json:"task_channel_unique_name"`
	}
	getJSON(t, leader.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+res.TaskSid, &task)
	if task.AssignmentStatus != "completed" || task.Channel != "chat" {
		t.Errorf("the chat's task on the leader: %+v", task)
	}
}

// waitLog waits until g's log holds want n times.
func waitLog(t *testing.T, g *gateway, want string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(g.Logs(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q (×%d) in the log within %s\n%s", want, n, timeout, g.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterCallerOnOneNodeAgentOnAnother runs two gateways on one
// PostgreSQL database. Node B starts first and leads the cluster's
// TaskRouter; node A follows. A SIPp caller on A runs <Enqueue
// workflowSid>; the task is made on B (the leader), reserved to alice,
// whose desktop (headless Chromium) is connected to B; alice accepts, A
// rings client:alice through an internal SIP leg to B, which rings her
// page, and the caller and alice talk (a 1 kHz tone from the caller, a
// 440 Hz one from alice's microphone, checked at each end). The task made
// by A's caller is in B's TaskRouter REST and in A's (forwarded). Then B
// is killed (kill -9): A takes the lead, loads TaskRouter from the
// database, and the task of a caller waiting on A at the kill keeps its
// place: A reserves it to a SIP worker (baresip) and bridges the caller.
// In between, the roles swap: alice's desktop on A (which follows B's
// TaskRouter through B) takes a caller on B, then a web chat whose
// visitor is on A too.
func TestClusterCallerOnOneNodeAgentOnAnother(t *testing.T) {
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
	defer db.Close()

	app := newApp(t)
	var doc atomic.Value
	app.handle("/voice", func(webhookRequest) (int, string, string) { return 200, "text/xml", doc.Load().(string) })
	app.twiml("/after", `<Response><Hangup/></Response>`)
	env := func(node string) []string {
		return []string{"VOXGATE_STORAGE_DRIVER=postgres", "VOXGATE_STORAGE_URL=" + dbURL, "VOXGATE_CLUSTER_NODE_ID=" + node}
	}
	nodeB := startGateway(t, gatewayOpts{voiceURL: app.url("/voice"), extraYAML: ttsVoices + agentYAML + chatYAML, env: env("gw-b")})
	waitLog(t, nodeB, "this node leads the cluster's TaskRouter", 1, 10*time.Second)
	nodeA := startGateway(t, gatewayOpts{voiceURL: app.url("/voice"), extraYAML: ttsVoices + agentYAML + chatYAML, env: env("gw-a")})
	if strings.Contains(nodeA.Logs(), "this node leads") {
		t.Fatalf("node A leads although B does\n%s", nodeA.Logs())
	}
	for g, want := range map[*gateway]string{nodeB: "voxgate_cluster_taskrouter_leader 1", nodeA: "voxgate_cluster_taskrouter_leader 0"} {
		if m := metricsText(t, g.httpURL); !strings.Contains(m, want+"\n") {
			t.Errorf("no %q in /metrics", want)
		}
	}

	// The default workflow, read through A (forwarded to B).
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
	var wfs struct {
		Workflows []struct {
			Sid string `json:"sid"`
		} `json:"workflows"`
	}
	getJSON(t, nodeA.httpURL+"/v1/Workspaces/"+ws+"/Workflows?FriendlyName=Voxgate+queues", &wfs)
	doc.Store(`<Response><Enqueue workflowSid="` + wfs.Workflows[0].Sid + `" action="/after"><Task>{"queue":"support","type":"inbound"}</Task></Enqueue></Response>`)

	// alice's desktop on B (the leader); the caller on A.
	agentCallAcrossNodes(t, db, nodeA, nodeB, "gw-b")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The task A's caller made is B's, seen alike from both nodes.
	var onB, onA struct {
		Tasks []trTask `json:"tasks"`
	}
	getJSON(t, nodeB.httpURL+"/v1/Workspaces/"+ws+"/Tasks", &onB)
	getJSON(t, nodeA.httpURL+"/v1/Workspaces/"+ws+"/Tasks", &onA)
	if len(onB.Tasks) != 1 || !strings.Contains(onB.Tasks[0].Attributes, `"call_sid":"CA`) || len(onA.Tasks) != 1 || onA.Tasks[0].Sid != onB.Tasks[0].Sid {
		t.Errorf("tasks on B %+v, on A %+v", onB.Tasks, onA.Tasks)
	}
	if onB.Tasks[0].AssignmentStatus != "completed" {
		t.Errorf("task after alice completed it: %s", onB.Tasks[0].AssignmentStatus)
	}

	// Now alice's desktop on A, which follows the leader's (B's)
	// TaskRouter through B, and the caller on B.
	agentCallAcrossNodes(t, db, nodeB, nodeA, "gw-a")

	// A web chat on A, the follower: the visitor and alice both on A,
	// the task on B (the leader), the conversation on A.
	chatOnNode(t, nodeA, nodeB, ws)

	// Failover. A workspace with a SIP worker, made through A (so on B);
	// a caller on A waits in it when B dies, and its task is reserved
	// (on B) and written to the database (TaskRouter writes behind).
	ws2, wf2 := sipWorkerWorkspace(t, nodeA)
	doc.Store(`<Response><Enqueue workflowSid="` + wf2 + `" action="/after"><Task>{"type":"support"}</Task></Enqueue></Response>`)
	caller2 := callerHangsUpAfter(t, nodeA, 12000)
	var tasks struct {
		Tasks []trTask `json:"tasks"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(tasks.Tasks) == 0 || tasks.Tasks[0].AssignmentStatus != "reserved" {
		if time.Now().After(deadline) {
			t.Fatalf("no reserved task on B: %+v\n%s", tasks, nodeA.Logs())
		}
		time.Sleep(100 * time.Millisecond)
		getJSON(t, nodeA.httpURL+"/v1/Workspaces/"+ws2+"/Tasks", &tasks)
	}
	waiting := tasks.Tasks[0].Sid
	for {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM taskrouter_records WHERE sid = $1`, waiting).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the waiting caller's task is not in the database")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := nodeB.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-nodeB.exited
	killed := time.Now()
	waitLog(t, nodeA, "this node leads the cluster's TaskRouter", 1, 15*time.Second)
	t.Logf("node A took the lead %s after B was killed", time.Since(killed).Round(10*time.Millisecond))
	// The waiting caller kept its task: A (the new leader) reserves the
	// same task to the SIP worker again, and it is delivered.
	deadline = time.Now().Add(15 * time.Second)
	tasks.Tasks = nil
	for len(tasks.Tasks) == 0 || tasks.Tasks[0].AssignmentStatus != "reserved" {
		if time.Now().After(deadline) {
			t.Fatalf("no reserved task on the new leader: %+v\n%s", tasks, nodeA.Logs())
		}
		time.Sleep(100 * time.Millisecond)
		getJSON(t, nodeA.httpURL+"/v1/Workspaces/"+ws2+"/Tasks", &tasks)
	}
	if len(tasks.Tasks) != 1 || tasks.Tasks[0].Sid != waiting {
		t.Fatalf("tasks on the new leader %+v, want the waiting caller's %s", tasks.Tasks, waiting)
	}
	var resv struct {
		Reservations []struct {
			Sid    string `json:"sid"`
			Status string `json:"reservation_status"`
		} `json:"reservations"`
	}
	getJSON(t, nodeA.httpURL+"/v1/Workspaces/"+ws2+"/Tasks/"+waiting+"/Reservations?ReservationStatus=pending", &resv)
	if len(resv.Reservations) != 1 {
		t.Fatalf("pending reservations %+v", resv)
	}
	trPost(t, nodeA, "/"+ws2+"/Tasks/"+waiting+"/Reservations/"+resv.Reservations[0].Sid, map[string][]string{"Instruction": {"dequeue"}})
	waitLog(t, nodeA, "ivr: caller bridged to the worker", 2, 15*time.Second)
	t.Logf("the caller waiting on A when B was killed was bridged %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	if msg := <-caller2; msg != "" {
		t.Fatal(msg)
	}
	// The worker's leg is hung up before the test ends (and the SIP
	// worker with it): a BYE to a phone already gone takes 32 s.
	waitLog(t, nodeA, "ivr: the agent's conference ended for the caller", 2, 10*time.Second) // the task's room, see ivr/agentroom.go
}

// agentCallAcrossNodes signs alice in on agentNode (headless Chromium,
// Available), places a SIPp caller on callerNode whose <Enqueue
// workflowSid> task alice accepts on her desktop, and checks the call
// crossed to agentNode over an internal leg with audio both ways: a 1 kHz
// tone from the caller, alice's 440 Hz microphone heard by the caller.
func agentCallAcrossNodes(t *testing.T, db *sql.DB, callerNode, agentNode *gateway, agentNodeID string) {
	t.Helper()
	// alice's microphone: a 440 Hz tone (Chromium loops the file).
	mic := filepath.Join(t.TempDir(), "mic.wav")
	if out, err := exec.Command("sox", "-n", "-r", "48000", "-c", "1", "-b", "16", mic, "synth", "10", "sine", "440", "vol", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "agent_task_call.js")
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "BASE="+agentNode.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1", "MIC_WAV="+mic, "LISTEN_MS=4000")
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuilder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("agent_task_call.js ended before %q\n%s\nnode A:\n%s", prefix, stderr.String(), callerNode.Logs())
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-time.After(45 * time.Second):
				t.Fatalf("no %q from agent_task_call.js\n%s\nnode A:\n%s", prefix, stderr.String(), callerNode.Logs())
			}
		}
	}
	waitLine("READY")
	var node string
	if err := db.QueryRowContext(ctx, `SELECT node_id FROM agent_presence WHERE agent_id = 'alice'`).Scan(&node); err != nil || node != agentNodeID {
		t.Fatalf("alice's presence: %q %v", node, err)
	}
	peer := newRTPPeer(t)
	peer.talk(t, 30*time.Second) // 1 kHz from the caller
	callerDone := callerNode.waitingCaller(t, peer, "caller: ", 60*time.Second)
	waitLine("CONNECTED")
	bridged := time.Now()
	resLine := waitLine("RESULT ")
	heard := len(peer.packets())
	waitLine("ENDED")
	_ = cmd.Wait()
	if msg := <-callerDone; msg != "" {
		t.Fatal(msg)
	}
	var res struct {
		VoiceTitle string
		Stats      struct {
			PacketsReceived, PacketsSent int
			TotalAudioEnergy             float64
		}
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(resLine, "RESULT ")), &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("alice (on %s): %+v", agentNodeID, res)
	if !strings.Contains(res.VoiceTitle, "+15550001111") || res.Stats.PacketsReceived < 100 || res.Stats.PacketsSent < 100 || res.Stats.TotalAudioEnergy <= 0 {
		t.Errorf("alice's desktop: %+v", res)
	}
	// What the caller on A heard while bridged: alice's 440 Hz.
	var during []rtpPacket
	for i, p := range peer.packets() {
		if p.At.After(bridged.Add(500*time.Millisecond)) && i < heard {
			during = append(during, p)
		}
	}
	if frac := dominantFraction(decode(during, 0), 440); len(during) < 100 || frac < 0.5 {
		t.Errorf("the caller heard %d packets while bridged; 440 Hz share %.2f", len(during), frac)
	} else {
		t.Logf("the caller heard %d packets from alice (on %s), 440 Hz share %.2f", len(during), agentNodeID, frac)
	}
	if !strings.Contains(agentNode.Logs(), "cluster: internal leg rings the agent here") || !strings.Contains(callerNode.Logs(), "ivr: caller bridged to the worker") {
		t.Errorf("the call did not reach %s over an internal leg", agentNodeID)
	}
}
