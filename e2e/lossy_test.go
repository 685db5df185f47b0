package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// lossyPlan is one run of TestLossyNetwork.
type lossyPlan struct {
	t1                    time.Duration // the gateway's sip.t1
	gwHangups, udpCallers int           // UDP calls the gateway ends / the caller ends
	tcpCallers            int           // TCP calls the caller ends
	outbound              int           // UDP calls the gateway places (REST) and hangs up
}

// lossyPlanFromEnv is the short CI run, or, with VOXGATE_LOSSY_CALLS=n
// (bench/lossy.sh), a long one with n calls of each kind and the default
// T1 of 500 ms.
func lossyPlanFromEnv(t *testing.T) lossyPlan {
	if v := os.Getenv("VOXGATE_LOSSY_CALLS"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("VOXGATE_LOSSY_CALLS=%q: want a positive number", v)
		}
		return lossyPlan{t1: 500 * time.Millisecond, gwHangups: n, udpCallers: n, tcpCallers: n, outbound: n}
	}
	// T1 = 250 ms keeps the 64·T1 ACK wait at 16 s: RFC 3261 §17.1.1.1
	// allows a smaller T1 on a closed network such as this one.
	return lossyPlan{t1: 250 * time.Millisecond, gwHangups: 3, udpCallers: 3, tcpCallers: 1, outbound: 2}
}

// The keys callers press: the app hangs up on lossyHangupKey and keeps the
// call up (the caller hangs up) on lossyStayKey.
const (
	lossyHangupKey = '5'
	lossyStayKey   = '7'
)

// TestLossyNetwork: calls over a network that loses 20 % of SIP (both
// ways, UDP and TCP), 10 % of RTP (both ways) and every ACK the caller
// sends over UDP, with 0–60 ms of jitter that reorders packets. The
// gateway runs in a network namespace of its own, SIPp in another, a
// relay between them (see netns_test.go). Every call must complete, every
// RFC 4733 digit arrive, every answered call end with a BYE — the
// gateway's after its 64·T1 wait for the lost ACK (RFC 3261 §13.3.1.4),
// or the caller's, answered 200 — no call may stay up on either side, and
// the call records and status callbacks must say completed.
func TestLossyNetwork(t *testing.T) {
	plan := lossyPlanFromEnv(t)
	n := newLossyNet(t, 60*time.Millisecond)

	ln, err := listenIn(n.gw, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := newAppOn(t, ln)
	a.twiml("/voice", `<Response><Gather numDigits="1" timeout="15" action="/digit"/><Hangup/></Response>`)
	a.handle("/digit", func(r webhookRequest) (int, string, string) {
		if r.Form.Get("Digits") == string(lossyHangupKey) {
			return 200, "text/xml", `<Response><Hangup/></Response>`
		}
		return 200, "text/xml", `<Response><Pause length="60"/></Response>`
	})
	a.twiml("/status", "")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", statusCallback: a.url("/status"),
		statusEvents: []string{"initiated", "ringing", "answered", "completed"},
		netns:        n.gw, sipIP: n.gwIP, sipExtra: fmt.Sprintf("  t1: %s\n", plan.t1)})
	n.setLoss(t, lossSpec{sip: 20, rtp: 10, dropACKs: true,
		gwSIP: g.sipPort, gwRTP: g.rtpRange, callerSIPs: "5070-5099", callerRTPs: "6000-29999"})

	ackWait := 64 * plan.t1
	started := time.Now()
	type group struct {
		name      string
		transport string
		calls     int
		key       byte
		ending    string
	}
	groups := []group{
		{"gateway hangs up (udp)", "udp", plan.gwHangups, lossyHangupKey, lossyAwaitBye(ackWait+30*time.Second, 16*plan.t1)},
		{"caller hangs up (udp)", "udp", plan.udpCallers, lossyStayKey, dtmfPause(2*time.Second) + lossyHangUp},
		// Over TCP the ACK arrives; the call outlives the INVITE
		// transaction's Timer L (64·T1), which must not end the dialog.
		{"caller hangs up (tcp)", "tcp", plan.tcpCallers, lossyStayKey, dtmfPause(ackWait+2*time.Second) + lossyHangUp},
	}
	var wg sync.WaitGroup
	outbound := lossyOutbound(t, n, g, a, plan, &wg)
	for i, gr := range groups {
		if gr.calls == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			steps := dtmfPause(gatherLead) + dtmfPressKeys(t, string(gr.key), time.Second)
			keys := dtmfKeys(dtmfOffer(t, 0, 101), map[string]string{
				"service": "+15550001000", "media_port": "[auto_media_port]", "steps": steps, "ending": gr.ending,
			})
			code, out := n.sipp(t, g, gr.transport, 5070+i, keys, gr.calls, ackWait+90*time.Second)
			if code != 0 {
				t.Errorf("%s: sipp exit %d\n%s", gr.name, code, out)
			} else if !strings.Contains(out, "Successful call") {
				t.Errorf("%s: sipp printed no statistics\n%s", gr.name, out)
			}
		}()
	}
	wg.Wait()
	total := plan.gwHangups + plan.udpCallers + plan.tcpCallers
	client := nsHTTPClient(n.gw)
	waitNoActiveCalls(t, client, g.httpURL, ackWait+30*time.Second)
	elapsed := time.Since(started)

	logs := g.Logs()
	calls := lossyCallsFromLogs(logs)
	if len(calls) != total {
		t.Errorf("gateway logged %d incoming calls, want %d", len(calls), total)
	}
	digits := a.requests("/digit")
	byKey := map[string]int{}
	for _, r := range digits {
		byKey[r.Form.Get("Digits")]++
	}
	if byKey[string(lossyHangupKey)] != plan.gwHangups || byKey[string(lossyStayKey)] != plan.udpCallers+plan.tcpCallers || len(digits) != total {
		t.Errorf("digits received %v, want %d×%c and %d×%c", byKey, plan.gwHangups, lossyHangupKey, plan.udpCallers+plan.tcpCallers, lossyStayKey)
	}
	gwByes, remoteByes, ackTimeouts := 0, 0, 0
	for sid, c := range calls {
		switch {
		case !c.ended:
			t.Errorf("%s: no \"call: ended\" in the gateway log", sid)
		case c.sentBye && c.remoteBye:
			t.Errorf("%s: both sides sent BYE", sid)
		case c.sentBye:
			gwByes++
		case c.remoteBye:
			remoteByes++
		default:
			t.Errorf("%s: ended without a BYE from either side (reason %q)", sid, c.reason)
		}
		if c.ackTimeout {
			ackTimeouts++
		}
	}
	if gwByes != plan.gwHangups || remoteByes != plan.udpCallers+plan.tcpCallers {
		t.Errorf("gateway sent %d BYEs and received %d, want %d and %d", gwByes, remoteByes, plan.gwHangups, plan.udpCallers+plan.tcpCallers)
	}
	if ackTimeouts < plan.gwHangups {
		t.Errorf("%d calls logged the 64·T1 ACK timeout, want at least the %d the gateway hung up (their ACKs are all dropped)", ackTimeouts, plan.gwHangups)
	}
	for _, bad := range []string{"BYE unanswered", "BYE refused", "hangup failed", "context deadline exceeded"} {
		if strings.Contains(logs, bad) {
			t.Errorf("gateway log has %q", bad)
		}
	}
	checkLossyRecords(t, client, g.httpURL, calls)
	checkLossyCallbacks(t, a, calls)
	outByes := checkLossyOutbound(t, client, g.httpURL, a, logs, outbound.sids())
	gwByes += outByes
	t.Logf("lossy: %d calls in, %d out (T1 %v, 20%% SIP loss, 10%% RTP loss, every UDP ACK to the gateway lost, 0-60 ms jitter) in %v: digits %d/%d, gateway BYEs %d, caller BYEs %d, ACK timeouts %d, frames relayed %d",
		total, plan.outbound, plan.t1, elapsed.Round(time.Second), len(digits), total, gwByes, remoteByes, ackTimeouts, n.relay.frames.Load())
	if testing.Verbose() || t.Failed() {
		t.Logf("loss rules:\n%s", n.lossCounters())
	}
}

// lossyAwaitBye ends uac_dtmf.xml by waiting up to d for the gateway's BYE,
// answering it and staying for timewait to answer its retransmissions
// should the 200 be lost.
func lossyAwaitBye(d, timewait time.Duration) string {
	return strings.Replace(dtmfAwaitBye(d), `<timewait milliseconds="200"/>`, fmt.Sprintf(`<timewait milliseconds="%d"/>`, timewait.Milliseconds()), 1)
}

// lossyHangUp ends uac_dtmf.xml with the caller's BYE (retransmitted by
// SIPp until answered).
var lossyHangUp = dtmfHangUp

// lossyCall is what the gateway's log says about one call.
type lossyCall struct {
	ended, sentBye, remoteBye, ackTimeout bool
	reason                                string
}

var callSIDField = regexp.MustCompile(`call_sid=(CA[0-9a-f]{32})`)

func lossyCallsFromLogs(logs string) map[string]*lossyCall {
	calls := map[string]*lossyCall{}
	for _, line := range strings.Split(logs, "\n") {
		m := callSIDField.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		c := calls[m[1]]
		if c == nil {
			if !strings.Contains(line, `msg="call: incoming"`) {
				continue
			}
			c = &lossyCall{}
			calls[m[1]] = c
		}
		switch {
		case strings.Contains(line, `msg="call: ended"`):
			c.ended, c.reason = true, logField(line, "reason")
		case strings.Contains(line, `msg="call: sent BYE"`):
			c.sentBye = true
		case strings.Contains(line, `msg="call: remote hung up"`):
			c.remoteBye = true
		case strings.Contains(line, "no ACK for 2xx within 64·T1"):
			c.ackTimeout = true
		}
	}
	return calls
}

// checkLossyRecords reads the call records through the REST API: every
// call completed.
func checkLossyRecords(t *testing.T, client *http.Client, base string, calls map[string]*lossyCall) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/2010-04-01/Accounts/"+testAccountSID+"/Calls.json?PageSize=1000", nil)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("list calls: %v", err)
	}
	defer resp.Body.Close()
	var page struct {
		Calls []struct {
			SID      string  `json:"sid"`
			Status   string  `json:"status"`
			Duration *string `json:"duration"`
		} `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("list calls: %v", err)
	}
	seen := 0
	for _, c := range page.Calls {
		if calls[c.SID] == nil {
			continue
		}
		seen++
		if c.Status != "completed" || c.Duration == nil {
			t.Errorf("record %s: status %q, duration %v; want completed with a duration", c.SID, c.Status, c.Duration)
		}
	}
	if seen != len(calls) {
		t.Errorf("%d call records, want %d", seen, len(calls))
	}
}

// checkLossyCallbacks: every call's status callbacks, in sequence,
// initiated, ringing, in-progress and completed.
func checkLossyCallbacks(t *testing.T, a *app, calls map[string]*lossyCall) {
	t.Helper()
	got := map[string][]string{}
	for _, r := range a.requests("/status") {
		sid := r.Form.Get("CallSid")
		got[sid] = append(got[sid], r.Form.Get("SequenceNumber")+":"+r.Form.Get("CallStatus"))
	}
	want := "0:initiated 1:ringing 2:in-progress 3:completed"
	for sid := range calls {
		sort.Strings(got[sid]) // callbacks may overtake each other: their SequenceNumber orders them
		if s := strings.Join(got[sid], " "); s != want {
			t.Errorf("%s: status callbacks %q, want %q", sid, s, want)
		}
	}
}

// waitNoActiveCalls waits until the gateway reports no call in progress.
func waitNoActiveCalls(t *testing.T, client *http.Client, base string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var h healthReport
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if err == nil && h.ActiveCalls == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway still has %d active calls after %v (error %v)", h.ActiveCalls, d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// nsHTTPClient dials from inside network namespace ns.
func nsHTTPClient(ns string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNetns(ns, func() (err error) {
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
}

// sipp runs SIPp in the caller's namespace: calls calls (all at once) of
// the e2e scenario uac_dtmf.xml with keys, from local SIP port port.
func (n *lossyNet) sipp(t *testing.T, g *gateway, transport string, port int, keys map[string]string, calls int, timeout time.Duration) (int, string) {
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "uac_dtmf.xml"))
	if err != nil {
		t.Error(err)
		return -1, ""
	}
	text := string(tmpl)
	for k, v := range keys {
		if k != "service" {
			text = strings.ReplaceAll(text, "["+k+"]", v)
		}
	}
	scenario := filepath.Join(dir, "uac_dtmf.xml")
	if err := os.WriteFile(scenario, []byte(text), 0o644); err != nil {
		t.Error(err)
		return -1, ""
	}
	args := []string{"netns", "exec", n.caller, "sipp", fmt.Sprintf("%s:%d", n.gwIP, g.sipPort), "-sf", scenario,
		"-s", keys["service"], "-i", n.callerIP, "-mi", n.callerIP, "-p", fmt.Sprint(port), "-cp", fmt.Sprint(port + 1000),
		"-mp", fmt.Sprint(20000 + (port-5070)*1000),
		"-m", fmt.Sprint(calls), "-l", fmt.Sprint(calls), "-r", "5", "-nostdin",
		// A provisional response overtaken by the 200 (jitter reorders)
		// arrives when the scenario no longer expects it: a real phone
		// ignores it, so SIPp must not abort the call (it still counts it
		// as unexpected; an unexpected BYE still fails the call).
		"-default_behaviors", "all,-abortunexp",
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-trace_err", "-trace_msg"}
	if transport == "tcp" {
		args = append(args, "-t", "t1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Errorf("sipp: %v", err)
			return -1, string(out)
		}
	}
	var b strings.Builder
	b.Write(out)
	if code != 0 {
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, l := range logs {
			data, _ := os.ReadFile(l)
			fmt.Fprintf(&b, "\n==== %s ====\n%s", filepath.Base(l), data)
		}
	}
	return code, b.String()
}

// lossyOutbounds are the calls the gateway placed.
type lossyOutbounds struct {
	mu   sync.Mutex
	list []string
}

func (o *lossyOutbounds) add(sid string) {
	o.mu.Lock()
	o.list = append(o.list, sid)
	o.mu.Unlock()
}

func (o *lossyOutbounds) sids() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.list...)
}

// lossyOutbound has the gateway place plan.outbound calls (REST API) to a
// SIPp UAS in the caller's namespace (uas_echo.xml: answers, waits for the
// BYE) and hang each up after 2 s: the gateway's INVITE, re-ACKs of
// retransmitted 200s and BYE cross the lossy network as UAC. It runs in
// the background (wg).
func lossyOutbound(t *testing.T, n *lossyNet, g *gateway, a *app, plan lossyPlan, wg *sync.WaitGroup) *lossyOutbounds {
	out := &lossyOutbounds{}
	if plan.outbound == 0 {
		return out
	}
	a.twiml("/ostatus", "")
	tmpl, err := os.ReadFile(filepath.Join("testdata", "uas_echo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	scenario := filepath.Join(dir, "uas_echo.xml")
	// Stay to answer retransmitted BYEs should our 200 be lost.
	text := strings.Replace(string(tmpl), `<timewait milliseconds="500"/>`, fmt.Sprintf(`<timewait milliseconds="%d"/>`, (16*plan.t1).Milliseconds()), 1)
	if err := os.WriteFile(scenario, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	const uasPort = 5090
	timeout := 64*plan.t1 + 60*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", n.caller, "sipp", "-sf", scenario, "-i", n.callerIP, "-mi", n.callerIP,
		"-p", fmt.Sprint(uasPort), "-cp", fmt.Sprint(uasPort+1000), "-mp", "6000", "-m", fmt.Sprint(plan.outbound), "-nostdin",
		"-default_behaviors", "all,-abortunexp", "-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-trace_err")
	cmd.Dir = dir
	var sippOut strings.Builder
	cmd.Stdout, cmd.Stderr = &sippOut, &sippOut
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let it bind
	client := nsHTTPClient(n.gw)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		for range plan.outbound {
			form := url.Values{"To": {fmt.Sprintf("sip:+15550002000@%s:%d", n.callerIP, uasPort)}, "From": {"+15550001000"},
				"Twiml": {`<Response><Pause length="2"/><Hangup/></Response>`}, "StatusCallback": {a.url("/ostatus")}}
			req, _ := http.NewRequest(http.MethodPost, g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/Calls.json", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(testAccountSID, testAuthToken)
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("create call: %v", err)
				continue
			}
			var c struct {
				SID string `json:"sid"`
			}
			err = json.NewDecoder(resp.Body).Decode(&c)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
				t.Errorf("create call: HTTP %d, %v", resp.StatusCode, err)
				continue
			}
			out.add(c.SID)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("outbound calls: SIPp UAS: %v\n%s", err, sippOut.String())
		}
	}()
	return out
}

// checkLossyOutbound: each placed call answered, hung up by the gateway
// with a BYE that was answered, its record and status callback completed.
// It returns the number of BYEs the gateway sent.
func checkLossyOutbound(t *testing.T, client *http.Client, base string, a *app, logs string, sids []string) int {
	t.Helper()
	byes := 0
	completed := map[string]bool{}
	for _, r := range a.requests("/ostatus") {
		if r.Form.Get("CallStatus") == "completed" {
			completed[r.Form.Get("CallSid")] = true
		}
	}
	for _, sid := range sids {
		var answered, bye, ended bool
		for _, line := range strings.Split(logs, "\n") {
			if !strings.Contains(line, "call_sid="+sid) {
				continue
			}
			answered = answered || strings.Contains(line, `msg="call: outbound answered"`)
			bye = bye || strings.Contains(line, `msg="call: sent BYE"`)
			ended = ended || strings.Contains(line, `msg="call: ended"`)
		}
		if !answered || !bye || !ended {
			t.Errorf("outbound %s: answered %v, sent BYE %v, ended %v; want all", sid, answered, bye, ended)
		}
		if bye {
			byes++
		}
		if !completed[sid] {
			t.Errorf("outbound %s: no completed status callback", sid)
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/2010-04-01/Accounts/"+testAccountSID+"/Calls/"+sid+".json", nil)
		req.SetBasicAuth(testAccountSID, testAuthToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("outbound %s: fetch record: %v", sid, err)
			continue
		}
		var c struct {
			Status string `json:"status"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if c.Status != "completed" {
			t.Errorf("outbound %s: record status %q, want completed", sid, c.Status)
		}
	}
	return byes
}
