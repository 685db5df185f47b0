package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voxgate/voxgate/messaging/smpp/smsctest"
)

const (
	smsNumber = "+15557654321" // the gateway's messaging number
	smsMobile = "+15550001111" // a handset behind the SMSC
)

// smppYAML configures smsNumber with sms_url and an SMPP trunk to smsc.
func smppYAML(smscAddr, smsURL, statusURL string) string {
	return fmt.Sprintf(`  - number: %q
    sms_url: %q
    sms_status_callback: %q
trunks:
  - name: carrier
    messaging: smpp
    smpp:
      host: %s
      system_id: voxgate
      password: secret
      system_type: vg
`, smsNumber, smsURL, statusURL, smscAddr)
}

// rest makes an authenticated REST request and decodes the JSON answer.
func (g *gateway) rest(t *testing.T, method, path string, form url.Values, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+path, strings.NewReader(form.Encode()))
	req.SetBasicAuth(testAccountSID, testAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

// waitMessageStatus polls the REST API until the message has status.
func (g *gateway) waitMessageStatus(t *testing.T, sid, status string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var m map[string]any
		g.rest(t, "GET", "/Messages/"+sid+".json", nil, &m)
		if m["status"] == status {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: %v, want status %s", sid, m, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMessagingSMPP: an MO from the SMSC reaches sms_url (signed, Twilio's
// parameters), the MessagingResponse twilio-node built is the reply, it goes
// out as submit_sm and its receipt makes it delivered; twilio-node creates,
// fetches, lists, redacts and deletes messages; STOP makes a send fail
// with 21610.
func TestMessagingSMPP(t *testing.T) {
	smsc := smsctest.Start(t)
	a := newApp(t)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: smppYAML(smsc.Addr, a.url("/sms"), a.url("/number-status"))})
	smsc.WaitEvents(t, "bind_transceiver", 1, 10*time.Second)

	// STOP from another handset first, so the SDK can see 21610.
	a.twiml("/sms", `<Response/>`)
	if st := smsc.MO(t, "15550002222", "15557654321", "STOP", 1, false); st[0] != 0 {
		t.Fatalf("deliver_sm_resp %v", st)
	}
	a.waitRequests(t, "/sms", 1, 10*time.Second)

	cmd := exec.Command("node", "twilio_messaging.js")
	cmd.Dir = "sdk"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "SID="+testAccountSID, "TOKEN="+testAuthToken, "FROM="+smsNumber,
		"TO="+smsMobile, "STATUS_URL="+a.url("/api-status"), "OPTED_OUT=+15550002222")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("twilio_messaging.js: %v\n%s\n%s", err, out, stderr)
	}
	var res struct {
		Created struct{ Sid, Status, Direction, NumSegments, To, From string }
		Fetched struct {
			Status, DateSent string
			ErrorCode        *int
		}
		Listed       []string
		ListedToday  bool
		RedactedBody string
		Cancel       int
		AfterDelete  int
		OptedOut     int
		Twiml        string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res.Created.Status != "queued" || res.Created.Direction != "outbound-api" || res.Created.NumSegments != "2" ||
		res.Fetched.Status != "delivered" || res.Fetched.DateSent == "" || len(res.Listed) == 0 || res.Listed[0] != res.Created.Sid ||
		!res.ListedToday || res.RedactedBody != "" || res.Cancel != 30409 || res.AfterDelete != 404 || res.OptedOut != 21610 {
		t.Errorf("twilio-node saw %+v", res)
	}
	apiStatus := a.waitRequests(t, "/api-status", 2, 10*time.Second)
	if got := apiStatus[len(apiStatus)-1].Form.Get("MessageStatus"); got != "delivered" && apiStatus[0].Form.Get("MessageStatus") != "delivered" {
		t.Errorf("status callbacks %v", apiStatus)
	}

	// The webhook answers with the document twilio-node's MessagingResponse built.
	a.twiml("/sms", res.Twiml)
	if st := smsc.MO(t, "15550001111", "15557654321", "hello ü", 1, false); st[0] != 0 {
		t.Fatalf("deliver_sm_resp %v", st)
	}
	in := a.waitRequests(t, "/sms", 2, 10*time.Second)[1]
	if in.Form.Get("Body") != "hello ü" || in.Form.Get("From") != smsMobile || in.Form.Get("To") != smsNumber ||
		in.Form.Get("NumSegments") != "1" || in.Form.Get("SmsStatus") != "received" {
		t.Errorf("webhook %v", in.Form)
	}
	if in.Signature != expectedSignature(testAuthToken, in.URL, in.Form, true) {
		t.Errorf("bad X-Twilio-Signature")
	}
	cbs := a.waitRequests(t, "/status", 2, 10*time.Second)
	replySid := cbs[0].Form.Get("MessageSid")
	m := g.waitMessageStatus(t, replySid, "delivered", 10*time.Second)
	if m["direction"] != "outbound-reply" || m["num_segments"] != "1" || m["body"] != "Hi back" {
		t.Errorf("reply %v", m)
	}
	var texts []string
	for _, e := range smsc.WaitEvents(t, "submit_sm", 4, 10*time.Second) {
		texts = append(texts, e.Str("text"))
	}
	if !strings.Contains(strings.Join(texts, "|"), "Hi back|Second") && !strings.Contains(strings.Join(texts, "|"), "Second|Hi back") {
		t.Errorf("submitted %q", texts)
	}
	var inbound map[string]any
	g.rest(t, "GET", "/Messages/"+in.Form.Get("MessageSid")+".json", nil, &inbound)
	if inbound["status"] != "received" || inbound["direction"] != "inbound" {
		t.Errorf("inbound %v", inbound)
	}
}

// TestMessagingSurvivesKill: messages created while the SMSC is down stay
// queued; the gateway is killed (SIGKILL) and restarted on the same
// storage, the SMSC comes back, and every message is delivered.
func TestMessagingSurvivesKill(t *testing.T) {
	port := freePort(t)
	smsc := smsctest.Start(t, fmt.Sprintf("SMPP_PORT=%d", port))
	a := newApp(t)
	storage := filepath.Join(t.TempDir(), "var")
	yaml := smppYAML(smsc.Addr, a.url("/sms"), a.url("/number-status"))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), storageDir: storage, extraYAML: yaml})
	smsc.WaitEvents(t, "bind_transceiver", 1, 10*time.Second)
	smsc.Stop()
	var sids []string
	for i := range 5 {
		var m map[string]any
		if code := g.rest(t, "POST", "/Messages.json", url.Values{"To": {smsMobile}, "From": {smsNumber}, "Body": {fmt.Sprint("queued ", i)}}, &m); code != 201 {
			t.Fatalf("create: %d %v", code, m)
		}
		sids = append(sids, m["sid"].(string))
	}
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.exited
	smsc2 := smsctest.Start(t, fmt.Sprintf("SMPP_PORT=%d", port))
	g2 := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), storageDir: storage, extraYAML: yaml})
	for _, sid := range sids {
		g2.waitMessageStatus(t, sid, "delivered", 20*time.Second)
	}
	if n := len(smsc2.Events("submit_sm")); n != len(sids) {
		t.Errorf("%d submit_sm after the restart, want %d", n, len(sids))
	}
}

// TestMessagingKilledMidSend: the SMSC holds its submit_sm_resp, the
// gateway is SIGKILLed while messages are in flight and restarted: every
// message is delivered, each submitted once or more (never lost).
func TestMessagingKilledMidSend(t *testing.T) {
	port := freePort(t)
	smsc := smsctest.Start(t, fmt.Sprintf("SMPP_PORT=%d", port), "RESP_DELAY_MS=3000")
	a := newApp(t)
	storage := filepath.Join(t.TempDir(), "var")
	yaml := smppYAML(smsc.Addr, a.url("/sms"), a.url("/number-status"))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), storageDir: storage, extraYAML: yaml})
	smsc.WaitEvents(t, "bind_transceiver", 1, 10*time.Second)
	bodies := map[string]string{}
	for i := range 5 {
		var m map[string]any
		body := fmt.Sprint("in flight ", i)
		if code := g.rest(t, "POST", "/Messages.json", url.Values{"To": {smsMobile}, "From": {smsNumber}, "Body": {body}}, &m); code != 201 {
			t.Fatalf("create: %d %v", code, m)
		}
		bodies[m["sid"].(string)] = body
	}
	smsc.WaitEvents(t, "submit_sm", 5, 10*time.Second) // all handed over, none answered
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.exited
	smsc.Stop()
	smsc2 := smsctest.Start(t, fmt.Sprintf("SMPP_PORT=%d", port))
	g2 := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), storageDir: storage, extraYAML: yaml})
	for sid := range bodies {
		g2.waitMessageStatus(t, sid, "delivered", 20*time.Second)
	}
	seen := map[string]int{}
	for _, e := range append(smsc.Events("submit_sm"), smsc2.Events("submit_sm")...) {
		seen[e.Str("text")]++
	}
	for sid, body := range bodies {
		if seen[body] < 1 {
			t.Errorf("%s (%q) never reached an SMSC", sid, body)
		}
	}
	// A message whose informational "sending" mark had not reached the
	// store before the kill is re-sent as queued rather than as
	// interrupted: either way it is sent again, never lost or doubled.
	if n := strings.Count(g2.Logs(), "re-sending a message whose send was interrupted"); n > len(bodies) {
		t.Errorf("%d interrupted sends reconciled, want at most %d", n, len(bodies))
	}
}

// TestMessagingSIP: a SIP MESSAGE from SIPp reaches sms_url; the reply goes
// out as a MESSAGE to the SIP messaging trunk (another SIPp) and is sent.
func TestMessagingSIP(t *testing.T) {
	a := newApp(t)
	a.twiml("/sms", `<Response><Message action="/status">Hi back ✓</Message></Response>`)
	trunkPort := freePort(t)
	yaml := fmt.Sprintf(`  - number: %q
    sms_url: %q
trunks:
  - name: sipsms
    host: 127.0.0.1:%d
    messaging: sip
`, smsNumber, a.url("/sms"), trunkPort)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: yaml})

	// The trunk side: a SIPp UAS waiting for the reply.
	dir := t.TempDir()
	uas := exec.Command("sipp", "-sf", filepath.Join(mustAbs(t, "testdata"), "uas_message.xml"), "-i", "127.0.0.1", "-p", fmt.Sprint(trunkPort),
		"-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error", "-trace_logs", "-log_file", filepath.Join(dir, "uas.log"))
	uas.Dir = dir
	uasOut := make(chan string, 1)
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := uas.Wait()
		data, _ := os.ReadFile(filepath.Join(dir, "uas.log"))
		uasOut <- fmt.Sprintf("%v\n%s", err, data)
	}()
	t.Cleanup(func() { _ = uas.Process.Kill() })

	code, out := g.sipp(t, "udp", "uac_message.xml", map[string]string{"service": smsNumber, "body": "hello from SIPp"}, 10*time.Second)
	if code != 0 {
		t.Fatalf("uac_message: exit %d\n%s", code, out)
	}
	in := a.waitRequests(t, "/sms", 1, 10*time.Second)[0]
	if strings.TrimSpace(in.Form.Get("Body")) != "hello from SIPp" || in.Form.Get("From") != smsMobile || in.Form.Get("To") != smsNumber {
		t.Errorf("webhook %v", in.Form)
	}
	select {
	case log := <-uasOut:
		if !strings.Contains(log, "GOT MESSAGE to=+15550001111 body=Hi back ✓") {
			t.Errorf("trunk log:\n%s", log)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the trunk got no MESSAGE")
	}
	cb := a.waitRequests(t, "/status", 1, 10*time.Second)[0]
	if cb.Form.Get("MessageStatus") != "sent" {
		t.Errorf("status callback %v", cb.Form)
	}
	g.waitMessageStatus(t, cb.Form.Get("MessageSid"), "sent", 5*time.Second)
}

func mustAbs(t *testing.T, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestMessagingStudioConversation: a Studio messaging flow on the number
// (send-and-wait-for-reply, split on the reply, send-message) holds a
// conversation over SMPP; a contact who never answers gets the timeout
// branch.
func TestMessagingStudioConversation(t *testing.T) {
	smsc := smsctest.Start(t)
	a := newApp(t)
	yaml := fmt.Sprintf(`  - number: %q
    flow: %q
trunks:
  - name: carrier
    messaging: smpp
    smpp:
      host: %s
      system_id: voxgate
      password: secret
`, smsNumber, mustAbs(t, "../studio/testdata/sms_flow.json"), smsc.Addr)
	startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: yaml})
	smsc.WaitEvents(t, "bind_transceiver", 1, 10*time.Second)
	textsTo := func(to string, n int) []string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			var out []string
			for _, e := range smsc.Events("submit_sm") {
				if e.Str("to") == to {
					out = append(out, e.Str("text"))
				}
			}
			if len(out) >= n {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("texts to %s: %q, want %d", to, out, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	smsc.MO(t, "15550001111", "15557654321", "Ann", 1, false)
	smsc.MO(t, "15550002222", "15557654321", "Bob", 1, false) // never answers
	if got := textsTo("15550001111", 1)[0]; got != "Hi Ann! Do you want a callback? Reply YES or NO." {
		t.Fatalf("question %q", got)
	}
	smsc.MO(t, "15550001111", "15557654321", "yes", 1, false)
	if got := textsTo("15550001111", 2)[1]; got != "Great, we will call +15550001111." {
		t.Errorf("answer to yes: %q", got)
	}
	if got := textsTo("15550002222", 2)[1]; got != "No answer, bye." {
		t.Errorf("timeout branch: %q", got)
	}
}
