package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestChromiumAgentWarmTransfer: a warm transfer between two browser
// agents in headless Chromium (web/e2e/agent_warm_transfer.js), the
// caller never dropped. A SIPp caller (500 Hz) runs <Enqueue
// workflowSid> to support; alice (her browser's microphone: 900 Hz)
// accepts the task on her desktop, so the caller and she are in the
// task's conference room; she consults agent:bob (his microphone: 1500
// Hz), whose page rings and who accepts; then she leaves. What the
// caller receives, in the stages the script announces: alice only, then
// alice and bob, then bob only; the caller's call lasts throughout and
// ends only after bob hangs up (action QueueResult=bridged); alice's task
// is wrapping. Before the consult, supervisor sue (a page of bob's
// browser: his 1500 Hz microphone) monitors from her Live calls (her page
// answers the call itself; the caller does not hear her), then coaches
// (alice's page plays her 20 dB louder than while monitoring; the caller
// still does not hear her), then stops. At the end bob holds the caller
// and mutes himself with his page's buttons (the caller hears hold music)
// and resumes.
func TestChromiumAgentWarmTransfer(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	dir := t.TempDir()
	mic := func(name string, hz int) string {
		path := filepath.Join(dir, name)
		if out, err := exec.Command("sox", "-n", "-r", "48000", "-c", "1", "-b", "16", path, "synth", "60", "sine", fmt.Sprint(hz), "vol", "0.4").CombinedOutput(); err != nil {
			t.Fatalf("sox: %v\n%s", err, out)
		}
		return path
	}
	micA, micB := mic("alice.wav", 900), mic("bob.wav", 1500)

	a := newApp(t)
	var wf string
	deskEnqueueApp(t, a, &wf)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + deskAgentsYAML})
	ws, workflow := defaultWorkflow(t, g)
	wf = workflow

	waitLine, wait := pageScript(t, "agent_warm_transfer.js", "BASE="+g.httpURL, "MIC_A="+micA, "MIC_B="+micB, "STAGE_MS=3500")
	waitLine("READY")
	caller := newRTPPeer(t)
	caller.talkTone(500, 6000, 80*time.Second)
	done := g.waitingCaller(t, caller, "caller: ", 85*time.Second)
	stage := map[string]time.Time{}
	for _, s := range []string{"alice", "monitor", "coach", "both", "bob", "hold", "resumed"} {
		waitLine("STAGE " + s)
		stage[s] = time.Now()
	}
	resLine := waitLine("RESULT ")
	select {
	case msg := <-done:
		t.Fatalf("the caller's call ended during the transfer: %q", msg)
	default:
	}
	waitLine("ENDED")
	ended := time.Now()
	wait()
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}

	var res struct {
		BobOfferFrom         string
		PartiesDuringConsult []string
		BobParties           []string
		AliceTask            string
		BobStats             struct{ PacketsReceived, PacketsSent int }
		SueLevelMonitor      float64 // dB near 1500 Hz of what alice's page played
		SueLevelCoach        float64
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(resLine, "RESULT ")), &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("desktops: %+v", res)
	if res.SueLevelCoach-res.SueLevelMonitor < 20 {
		t.Errorf("alice's page played sue at %.1f dB while she coached, %.1f dB while she monitored: want the coach heard (20 dB more)",
			res.SueLevelCoach, res.SueLevelMonitor)
	}
	if !slices.Equal(res.PartiesDuringConsult, []string{"customer", "alice", "bob"}) || !slices.Equal(res.BobParties, []string{"customer", "bob"}) ||
		res.AliceTask != "wrapping" || !strings.Contains(res.BobOfferFrom, "+15550001111") || res.BobStats.PacketsReceived < 100 {
		t.Errorf("desktops: %+v", res)
	}

	// What the caller heard in each stage (from 0.7 s in: the page's
	// stage line comes as the change is made).
	const settle = 700 * time.Millisecond
	windows := []struct {
		name     string
		from, to time.Time
		hearsA   bool
		hearsB   bool
	}{
		{"alice on the call", stage["alice"].Add(settle), stage["monitor"], true, false},
		{"sue monitors (her microphone is bob's 1500 Hz)", stage["monitor"].Add(settle), stage["coach"], true, false},
		{"sue coaches alice", stage["coach"].Add(settle), stage["both"], true, false},
		{"consult: alice and bob", stage["both"].Add(settle), stage["bob"], true, true},
		{"alice left: bob", stage["bob"].Add(settle), stage["hold"], false, true},
		{"bob resumed the caller and unmuted", stage["resumed"].Add(settle), ended, false, true},
	}
	for _, w := range windows {
		sa, level := shareBetween(caller, w.from, w.to, 900)
		sb, _ := shareBetween(caller, w.from, w.to, 1500)
		n := 0
		for _, p := range caller.packets() {
			if p.At.After(w.from) && p.At.Before(w.to) {
				n++
			}
		}
		t.Logf("%s (%.1f s, %d packets, level %.3f): alice's 900 Hz share %.3f, bob's 1500 Hz share %.3f",
			w.name, w.to.Sub(w.from).Seconds(), n, level, sa, sb)
		if min := int(w.to.Sub(w.from)/(20*time.Millisecond)) * 8 / 10; n < min {
			t.Errorf("%s: the caller got %d packets, want at least %d (never dropped)", w.name, n, min)
		}
		check := func(who string, share float64, hears bool) {
			if hears && share < 0.15 || !hears && share > 0.05 {
				t.Errorf("%s: %s's share in what the caller heard is %.3f (want heard: %v)", w.name, who, share, hears)
			}
		}
		check("alice", sa, w.hearsA)
		check("bob", sb, w.hearsB)
		if w.hearsA && w.hearsB && !bothInOneWindow(caller, w.from, w.to, 900, 1500) {
			t.Errorf("%s: no half second of what the caller heard has both agents (share > 0.1 each)", w.name)
		}
	}
	// Bob's Hold caller and Mute me buttons: the caller hears hold music
	// (bell partials have a little energy near any tone: bob's tone,
	// heard, would be most of it).
	held, level := shareBetween(caller, stage["hold"].Add(settle), stage["resumed"], 1500)
	t.Logf("bob held the caller and muted: level %.3f, bob's share %.3f", level, held)
	if level < 0.01 || held > 0.3 {
		t.Errorf("held by bob, the caller heard level %.3f with bob's share %.3f: want hold music", level, held)
	}
	after := a.waitRequests(t, "/after", 1, 10*time.Second)
	if after[0].Form.Get("QueueResult") != "bridged" {
		t.Errorf("action %v", after[0].Form)
	}
	var tk struct {
		Status string `json:"assignment_status"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+after[0].Form.Get("TaskSid"), &tk)
	if tk.Status != "wrapping" {
		t.Errorf("alice's task is %s, want wrapping", tk.Status)
	}
}

// bothInOneWindow reports whether some 0.5 s window of what peer received
// between from and to has both frequencies, each above a 0.1 share.
func bothInOneWindow(peer *rtpPeer, from, to time.Time, f1, f2 float64) bool {
	var in []rtpPacket
	for _, p := range peer.packets() {
		if p.At.After(from) && p.At.Before(to) {
			in = append(in, p)
		}
	}
	x := decode(in, 0)
	for i := 0; i+4000 <= len(x); i += 2000 {
		if w := x[i : i+4000]; rms(w) > 0.005 && goertzelFraction(w, f1) > 0.1 && goertzelFraction(w, f2) > 0.1 {
			return true
		}
	}
	return false
}
