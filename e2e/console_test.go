package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// consoleFlow is the flow the console test draws and edits: the caller is
// recorded, hears a sentence, and (once the console has added and
// connected a second say-play) another.
const consoleFlow = `{
  "description": "console test", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
     "transitions": [{"event": "incomingMessage"}, {"event": "incomingCall", "next": "rec"}, {"event": "incomingRequest"}]},
    {"name": "rec", "type": "record-call", "properties": {"offset": {"x": 40, "y": 220}, "record_call": true, "trim": "do-not-trim"},
     "transitions": [{"event": "success", "next": "hello"}, {"event": "failed", "next": "sorry"}]},
    {"name": "hello", "type": "say-play", "properties": {"offset": {"x": -60, "y": 460}, "say": "Hello from the console test."},
     "transitions": [{"event": "audioComplete"}]},
    {"name": "sorry", "type": "say-play", "properties": {"offset": {"x": 320, "y": 460}, "say": "The recording failed."},
     "transitions": [{"event": "audioComplete"}]}
  ]}`

// TestConsoleInChromium: the console in headless Chromium against the
// real gateway. It signs in, draws a flow created with the v2 API (every
// widget and labelled arrow), moves a widget, adds and connects another,
// publishes (read back through the API), shows the path a SIPp call took
// through the new revision, lists a message and shows its page, plays
// the call's recording on the call page
// and shows the call's webhook exchanges in its timeline; the live board
// shows a SIPp caller waiting in a queue, offered to an agent signed in
// on the agent page. Screenshots of
// every page, at 1280×800 and 390×844, go to e2e/artifacts/console (or
// $CONSOLE_SCREENSHOTS), which it logs.
func TestConsoleInChromium(t *testing.T) {
	if _, err := os.Stat("../console/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in console/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	a := newApp(t)
	// Other numbers wait in the queue "support", which agent alice answers.
	a.handle("/queue", func(r webhookRequest) (int, string, string) {
		if r.Form.Get("To") == "+15550003000" { // this number's app is broken
			return 500, "text/plain", "boom"
		}
		return 200, "text/xml", `<Response><Enqueue>support</Enqueue></Response>`
	})
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + agentYAML + "default_app:\n  voice_url: " + a.url("/queue") + "\n" +
		fmt.Sprintf("trunks:\n  - name: sms\n    host: 127.0.0.1:%d\n    messaging: sip\n", freePort(t))})
	code, flow := v2(t, g, "POST", "Flows", url.Values{"FriendlyName": {"console test"}, "Status": {"published"}, "Definition": {consoleFlow}})
	if code != 201 {
		t.Fatalf("create flow: %d %v", code, flow)
	}
	flowSID := flow["sid"].(string)
	// The number's webhook hands the call to the flow.
	a.twiml("/voice", `<Response><Redirect>`+g.httpURL+`/studio/`+flowSID+`</Redirect></Response>`)

	// A message, for the Messages list (its SIP MESSAGE trunk has nobody listening).
	code, msg := restPost(t, g, "Messages.json", url.Values{"To": {"+15550009999"}, "From": {"+15550001000"}, "Body": {"Hello from the console test"}})
	if code != 201 {
		t.Fatalf("create message: %d %v", code, msg)
	}

	shots := os.Getenv("CONSOLE_SCREENSHOTS") // default e2e/artifacts/console (git-ignored), kept after the run
	if shots == "" {
		shots, _ = filepath.Abs(filepath.Join("artifacts", "console"))
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "console.js")
	cmd.Dir = "../console/e2e"
	cmd.Env = append(os.Environ(), "CONSOLE_URL="+g.httpURL+"/console", "ACCOUNT_SID="+testAccountSID, "AUTH_TOKEN="+testAuthToken,
		"FLOW_SID="+flowSID, "MOVE=hello", "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1", "SCREENSHOT_DIR="+shots)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuilder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	read := func(prefix string, v any) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("console.js ended before %q\n%s", prefix, stderr.String())
				}
				if rest, found := strings.CutPrefix(l, prefix); found {
					if v != nil {
						if err := json.Unmarshal([]byte(strings.TrimSpace(rest)), v); err != nil {
							t.Fatalf("%s: %v", prefix, err)
						}
					}
					return
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("no %q from console.js\n%s", prefix, stderr.String())
			}
		}
	}
	type canvas struct {
		Widgets, Labels, OnPath, ErrorWidgets []string
		Arrows, HotArrows                     int
		Saved, Flagged                        string
		Execution, StepContext                string
	}

	var drawn canvas
	read("CANVAS ", &drawn)
	slices.Sort(drawn.Widgets)
	slices.Sort(drawn.Labels)
	if !slices.Equal(drawn.Widgets, []string{"Trigger", "hello", "rec", "sorry"}) {
		t.Errorf("the canvas shows widgets %v, want Trigger, hello, rec, sorry", drawn.Widgets)
	}
	if drawn.Arrows != 3 || !slices.Equal(drawn.Labels, []string{"failed", "incomingCall", "success"}) {
		t.Errorf("the canvas shows %d arrows labelled %v, want 3: incomingCall, success, failed", drawn.Arrows, drawn.Labels)
	}

	var edited canvas
	read("PUBLISHED ", &edited)
	t.Logf("published: %+v", edited)
	if edited.Arrows != 4 || len(edited.ErrorWidgets) != 0 {
		t.Errorf("after connecting the new widget: %d arrows (want 4), widgets with errors %v", edited.Arrows, edited.ErrorWidgets)
	}
	if !strings.Contains(edited.Flagged, "plays nothing") {
		t.Errorf("the validator's problem with the widget emptied of its sentence was not shown: %q", edited.Flagged)
	}
	checkPublished(t, g, flowSID)

	// A call through the published revision.
	peer := newRTPPeer(t)
	peer.talk(t, 20*time.Second)
	if code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second); code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	waitExecutionEnded(t, g, flowSID)
	_, _ = io.WriteString(stdin, "called\n")

	var path canvas
	read("PATH ", &path)
	slices.Sort(path.OnPath)
	if !slices.Equal(path.OnPath, []string{"Trigger", "hello", "rec", "say_play_1"}) || path.HotArrows != 3 {
		t.Errorf("highlighted widgets %v and %d arrows; want Trigger, hello, rec, say_play_1 and 3 arrows", path.OnPath, path.HotArrows)
	}
	if !strings.Contains(path.StepContext, "widgets") && !strings.Contains(path.StepContext, "flow") {
		t.Errorf("step context not shown: %q", path.StepContext)
	}

	var rev1 canvas
	read("REVISION ", &rev1)
	slices.Sort(rev1.Widgets)
	if !slices.Equal(rev1.Widgets, []string{"Trigger", "hello", "rec", "sorry"}) || rev1.Arrows != 3 {
		t.Errorf("revision 1 drawn with widgets %v and %d arrows, want the original 4 and 3", rev1.Widgets, rev1.Arrows)
	}

	var message struct{ Body, Facts string }
	read("MESSAGE ", &message)
	if message.Body != "Hello from the console test" || !strings.Contains(message.Facts, "+15550009999") {
		t.Errorf("message page: %+v (created %v)", message, msg)
	}

	var played struct {
		CurrentTime, Duration float64
		Paused                bool
		Error                 *int
		Src, Path             string
		Timeline              []string
	}
	read("PLAYED ", &played)
	t.Logf("call page %s: audio %s played to %.2f s of %.2f s; timeline %q", played.Path, played.Src, played.CurrentTime, played.Duration, played.Timeline)
	if played.Error != nil || played.CurrentTime < 0.5 || played.Duration < 1 {
		t.Errorf("the recording did not play: %+v", played)
	}
	var webhooks, statuses int
	for _, l := range played.Timeline {
		if strings.HasPrefix(l, "ev ev-webhook") && strings.Contains(l, "200") {
			webhooks++
		}
		if strings.HasPrefix(l, "ev ev-status") {
			statuses++
		}
	}
	if webhooks < 2 || statuses < 2 {
		t.Errorf("timeline has %d answered webhooks and %d status changes, want ≥ 2 of each: %q", webhooks, statuses, played.Timeline)
	}
	read("AGENT_READY", nil)
	waiter := newRTPPeer(t)
	waited := make(chan string, 1)
	go func() {
		code, out := g.sipp(t, "udp", "uac_hangup.xml", map[string]string{"service": "+15550002000", "mport": fmt.Sprint(waiter.port()), "pause_ms": "6000"}, 30*time.Second)
		if code != 0 {
			out = fmt.Sprintf("sipp exit %d\n%s", code, out)
		} else {
			out = ""
		}
		waited <- out
	}()
	_, _ = io.WriteString(stdin, "enqueued\n")
	var board struct {
		Queue  string
		Agents []string
	}
	read("BOARD ", &board)
	t.Logf("board: %+v", board)
	if !strings.Contains(board.Queue, "1 waiting") || len(board.Agents) != 1 || !strings.Contains(board.Agents[0], "offered") || !strings.Contains(board.Agents[0], "CA") {
		t.Errorf("the board does not show the waiting caller offered to alice: %+v", board)
	}
	if msg := <-waited; msg != "" {
		t.Errorf("queued caller: %s", msg)
	}

	checkErrorTimeline(t, g)

	var narrow struct{ Overflow bool }
	read("NARROW ", &narrow)
	if narrow.Overflow {
		t.Errorf("the call page is wider than a 390 px screen")
	}
	read("DONE", nil)
}

// checkPublished reads the flow back through the v2 API: a new published
// revision with the moved widget, the new one and its connection.
func checkPublished(t *testing.T, g *gateway, flowSID string) {
	t.Helper()
	code, f := v2(t, g, "GET", "Flows/"+flowSID, nil)
	if code != 200 {
		t.Fatalf("fetch flow: %d %v", code, f)
	}
	if f["status"] != "published" || f["revision"].(float64) != 2 || f["commit_message"] != "moved and added in the console" {
		t.Errorf("flow after publishing: status %v revision %v commit %v", f["status"], f["revision"], f["commit_message"])
	}
	raw, _ := json.Marshal(f["definition"])
	var def struct {
		States []struct {
			Name        string
			Type        string
			Transitions []struct{ Event, Next string }
			Properties  struct {
				Offset struct{ X, Y float64 }
				Say    string
			}
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	var moved, added bool
	for _, s := range def.States {
		switch s.Name {
		case "hello":
			o := s.Properties.Offset
			moved = (o.X != -60 || o.Y != 460) && len(s.Transitions) == 1 && s.Transitions[0].Next == "say_play_1"
			if !moved {
				t.Errorf("hello after publishing: %+v", s)
			}
		case "say_play_1":
			added = s.Type == "say-play" && s.Properties.Say == "Goodbye from the console."
		}
	}
	if !moved || !added {
		t.Errorf("published definition: %s", raw)
	}
}

// waitExecutionEnded waits for the flow's execution to end.
func waitExecutionEnded(t *testing.T, g *gateway, flowSID string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, list := v2(t, g, "GET", "Flows/"+flowSID+"/Executions", nil)
		if ex, _ := list["executions"].([]any); len(ex) == 1 && ex[0].(map[string]any)["status"] == "ended" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the call's execution did not end")
}

// checkErrorTimeline calls a number whose webhook answers 500: the
// console's timeline of that call (read with HTTP Basic, as a script
// would) holds Twilio's error 11200 with its meaning.
func checkErrorTimeline(t *testing.T, g *gateway) {
	t.Helper()
	peer := newRTPPeer(t)
	if code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550003000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 30*time.Second); code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	get := func(path string, v any) {
		req, _ := http.NewRequest("GET", g.httpURL+path, nil)
		req.SetBasicAuth(testAccountSID, testAuthToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
	}
	var calls struct{ Calls []struct{ Sid string } }
	get("/console/api/rest/2010-04-01/Accounts/"+testAccountSID+"/Calls.json?To=%2B15550003000", &calls)
	if len(calls.Calls) != 1 {
		t.Fatalf("calls to the broken number: %+v", calls)
	}
	var timeline struct {
		Events []struct {
			Kind, Meaning string
			Code          int
			Detail        map[string]any
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		get("/console/api/calls/"+calls.Calls[0].Sid+"/events", &timeline)
		for _, e := range timeline.Events {
			if e.Kind == "error" && e.Code == 11200 && e.Meaning == "HTTP retrieval failure" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error 11200 in the timeline: %+v", timeline.Events)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
