package messaging_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/messaging/smpp"
	"github.com/voxgate/voxgate/messaging/smpp/smsctest"
	"github.com/voxgate/voxgate/store"
)

const (
	account = "AC11111111111111111111111111111111"
	token   = "22222222222222222222222222222222"
	ours    = "+15557654321"
	mobile  = "+15550001111"
)

// app is a customer app that records requests and answers TwiML.
type app struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   map[string][]url.Values
	routes map[string]string
	t      *testing.T
}

func newApp(t *testing.T) *app {
	a := &app{reqs: map[string][]url.Values{}, routes: map[string]string{}, t: t}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		full := "http://" + r.Host + r.URL.RequestURI()
		if got, want := r.Header.Get("X-Twilio-Signature"), signature(full, form); got != want {
			t.Errorf("%s: X-Twilio-Signature %q, want %q", r.URL.Path, got, want)
		}
		a.mu.Lock()
		a.reqs[r.URL.Path] = append(a.reqs[r.URL.Path], form)
		doc, ok := a.routes[r.URL.Path]
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(204)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, doc)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// signature is X-Twilio-Signature computed independently.
func signature(full string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := full
	for _, k := range keys {
		for _, v := range form[k] {
			b += k + v
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (a *app) route(path, doc string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[path] = doc
}

func (a *app) wait(path string, n int) []url.Values {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		got := append([]url.Values(nil), a.reqs[path]...)
		a.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s requested %d times, want %d", path, len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type env struct {
	dir  string // the store's directory
	svc  *messaging.Service
	db   *store.SQLite
	smsc *smsctest.SMSC
	app  *app
	tr   *messaging.SMPPTransport
}

func start(t *testing.T, smscEnv ...string) *env {
	t.Helper()
	e := &env{smsc: smsctest.Start(t, smscEnv...), app: newApp(t), dir: t.TempDir()}
	var err error
	e.db, err = store.Open(context.Background(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.tr = messaging.NewSMPPTransport("carrier", smpp.Config{Addr: e.smsc.Addr, SystemID: "voxgate", Password: "secret",
		ReconnectMin: 50 * time.Millisecond, ThrottleMin: 20 * time.Millisecond, ThrottleMax: 100 * time.Millisecond}, 2*time.Second)
	e.svc = messaging.New(messaging.Options{AccountSID: account, AuthToken: token, Store: e.db, Transports: []messaging.Transport{e.tr},
		RetryDelay: 50 * time.Millisecond,
		Apps: func(n string) (messaging.App, bool) {
			return messaging.App{URL: e.app.srv.URL + "/sms", StatusCallback: e.app.srv.URL + "/number-status"}, n == ours
		},
		Ours: func(n string) bool { return n == ours }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !e.tr.Bound() {
		if time.Now().After(deadline) {
			t.Fatal("not bound")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

func (e *env) waitStatus(t *testing.T, sid, want string) store.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := e.db.GetMessage(context.Background(), sid)
		if err == nil && m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: %+v (%v), want status %s", sid, m, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An MO reaches the webhook with Twilio's parameters; the <Message> reply
// goes out as submit_sm and its receipt makes it delivered, with status
// callbacks to the action URL.
func TestInboundWebhookAndReply(t *testing.T) {
	e := start(t)
	e.app.route("/sms", `<Response><Message action="/status">Hi back</Message></Response>`)
	if st := e.smsc.MO(t, "15550001111", "15557654321", "hello", 1, false); st[0] != 0 {
		t.Fatalf("deliver_sm_resp %v", st)
	}
	in := e.app.wait("/sms", 1)[0]
	for k, want := range map[string]string{"From": mobile, "To": ours, "Body": "hello", "NumSegments": "1", "NumMedia": "0",
		"SmsStatus": "received", "AccountSid": account, "ApiVersion": "2010-04-01"} {
		if in.Get(k) != want {
			t.Errorf("webhook %s = %q, want %q", k, in.Get(k), want)
		}
	}
	if sid := in.Get("MessageSid"); !strings.HasPrefix(sid, "SM") || in.Get("SmsSid") != sid || in.Get("SmsMessageSid") != sid {
		t.Errorf("sids %v", in)
	}
	sub := e.smsc.WaitEvents(t, "submit_sm", 1, 5*time.Second)[0]
	if sub.Str("from") != "15557654321" || sub.Int("from_ton") != 1 || sub.Int("from_npi") != 1 || sub.Str("to") != "15550001111" ||
		sub.Int("data_coding") != 0 || sub.Int("registered_delivery") != 1 || sub.Str("text") != "Hi back" {
		t.Errorf("submit_sm %v", sub)
	}
	cbs := e.app.wait("/status", 2)
	statuses := map[string]bool{}
	for _, cb := range cbs {
		statuses[cb.Get("MessageStatus")] = true
		if cb.Get("SmsStatus") != cb.Get("MessageStatus") || cb.Get("From") != ours || cb.Get("To") != mobile {
			t.Errorf("callback %v", cb)
		}
	}
	if !statuses["sent"] || !statuses["delivered"] {
		t.Errorf("callbacks %v", cbs)
	}
	m := e.waitStatus(t, cbs[0].Get("MessageSid"), "delivered")
	if m.Direction != "outbound-reply" || m.NumSegments != 1 || len(m.RawDlrDoneDate) != 10 {
		t.Errorf("reply %+v", m)
	}
	inbound, _ := e.db.GetMessage(context.Background(), in.Get("MessageSid"))
	if inbound.Status != "received" || inbound.Direction != "inbound" {
		t.Errorf("inbound %+v", inbound)
	}
}

// A long UCS-2 message goes out in two UDH parts and is delivered once both
// receipts arrived; a long MO in two parts reaches the webhook whole.
func TestConcatenationBothWays(t *testing.T) {
	e := start(t)
	body := strings.Repeat("ж", 84)
	m, err := e.svc.Send(context.Background(), messaging.SendRequest{From: ours, To: mobile, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if m.NumSegments != 2 || m.Status != "queued" {
		t.Errorf("created %+v", m)
	}
	e.waitStatus(t, m.SID, "delivered")
	subs := e.smsc.Events("submit_sm")
	if len(subs) != 2 {
		t.Fatalf("%d submit_sm", len(subs))
	}
	for i, s := range subs {
		udh := s.Str("udh")
		if s.Int("data_coding") != 8 || len(udh) != 10 || !strings.HasPrefix(udh, "0003") || !strings.HasSuffix(udh, "020"+string(rune('1'+i))) {
			t.Errorf("part %d: %v", i+1, s)
		}
	}
	long := strings.Repeat("The quick brown fox. ", 12) // 252 characters
	e.app.route("/sms", `<Response/>`)
	if st := e.smsc.MO(t, "15550001111", "15557654321", long, 2, false); st[0] != 0 || st[1] != 0 {
		t.Fatalf("statuses %v", st)
	}
	in := e.app.wait("/sms", 1)[0]
	if in.Get("Body") != long || in.Get("NumSegments") != "2" {
		t.Errorf("reassembled %q (%s segments)", in.Get("Body"), in.Get("NumSegments"))
	}
	cyr := strings.Repeat("Привет, мир! ", 10) // 130 characters, UCS-2 in three parts
	if st := e.smsc.MO(t, "15550001111", "15557654321", cyr, 3, true); len(st) != 3 || st[0]+st[1]+st[2] != 0 {
		t.Fatalf("statuses %v", st)
	}
	in = e.app.wait("/sms", 2)[1]
	if in.Get("Body") != cyr || in.Get("NumSegments") != "3" {
		t.Errorf("reassembled UCS-2 %q (%s segments)", in.Get("Body"), in.Get("NumSegments"))
	}
}

// STOP opts the sender out (with Twilio's reply); a later send gets 21610;
// START opts back in.
func TestOptOutKeywords(t *testing.T) {
	e := start(t)
	e.smsc.MO(t, "15550001111", "15557654321", "stop", 1, false)
	if in := e.app.wait("/sms", 1)[0]; in.Get("OptOutType") != "STOP" { // still forwarded
		t.Errorf("OptOutType %q", in.Get("OptOutType"))
	}
	sub := e.smsc.WaitEvents(t, "submit_sm", 1, 5*time.Second)[0]
	if !strings.Contains(sub.Str("text"), "unsubscribed") {
		t.Errorf("opt-out reply %v", sub)
	}
	_, err := e.svc.Send(context.Background(), messaging.SendRequest{From: ours, To: mobile, Body: "promo"})
	var me *messaging.Error
	if !errors.As(err, &me) || me.Code != 21610 || me.Status != 400 {
		t.Fatalf("send to an opted-out contact: %v", err)
	}
	e.smsc.MO(t, "15550001111", "15557654321", "HELP", 1, false) // no help text while opted out
	e.app.wait("/sms", 2)
	e.smsc.MO(t, "15550001111", "15557654321", "START", 1, false)
	e.app.wait("/sms", 3)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err = e.svc.Send(context.Background(), messaging.SendRequest{From: ours, To: mobile, Body: "welcome back"}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after START: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var texts []string
	for _, e := range e.smsc.WaitEvents(t, "submit_sm", 3, 5*time.Second) {
		texts = append(texts, e.Str("text"))
	}
	time.Sleep(200 * time.Millisecond) // a help text, were one sent, would show up by now
	texts = texts[:0]
	for _, e := range e.smsc.Events("submit_sm") {
		texts = append(texts, e.Str("text"))
	}
	joined := strings.Join(texts, "|")
	if len(texts) != 3 || !strings.Contains(texts[0], "unsubscribed") || !strings.Contains(joined, "re-subscribed") || !strings.Contains(joined, "welcome back") {
		t.Errorf("sent %q (want the opt-out reply, the opt-in reply, then the message; no help text)", texts)
	}
}

// Throttling and a dropped connection lose nothing: every message ends
// delivered.
func TestThrottleAndDropLoseNothing(t *testing.T) {
	e := start(t, "THROTTLE_EVERY=4")
	var sids []string
	for i := range 30 {
		m, err := e.svc.Send(context.Background(), messaging.SendRequest{From: ours, To: mobile, Body: "n" + string(rune('a'+i%26))})
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, m.SID)
		if i == 10 {
			e.smsc.Drop(t)
		}
	}
	for _, sid := range sids {
		e.waitStatus(t, sid, "delivered")
	}
	if st := e.smsc.Stats(t); st["throttled"] == 0 || st["binds"] < 2 {
		t.Errorf("stats %v (want throttling and a rebind)", st)
	}
}

// Bad TwiML never crashes: the problem is logged and stored as an alert.
func TestInvalidTwiMLAlerts(t *testing.T) {
	e := start(t)
	e.app.route("/sms", `<Response><Say>hi</Say><Message to="x1">no</Message></Response>`)
	e.smsc.MO(t, "15550001111", "15557654321", "hello", 1, false)
	sid := e.app.wait("/sms", 1)[0].Get("MessageSid")
	deadline := time.Now().Add(5 * time.Second)
	for {
		alerts, _ := e.db.ListMessagingAlerts(context.Background(), sid)
		codes := map[int]bool{}
		for _, a := range alerts {
			codes[a.ErrorCode] = true
		}
		if codes[14110] && codes[14101] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts %+v", alerts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(e.smsc.Events("submit_sm")); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

// Receipts whose ids are the decimal form of the hex submit_sm_resp ids
// still match; an UNDELIV receipt makes the message undelivered with a
// status callback carrying ErrorCode.
func TestReceiptIDFormsAndUndelivered(t *testing.T) {
	e := start(t, "RECEIPT_ID=dec", "RECEIPT_STAT=UNDELIV")
	m, err := e.svc.Send(context.Background(), messaging.SendRequest{From: ours, To: mobile, Body: "hi", StatusCallback: e.app.srv.URL + "/cb"})
	if err != nil {
		t.Fatal(err)
	}
	got := e.waitStatus(t, m.SID, "undelivered")
	if got.ErrorCode != 30008 || got.ErrorMessage == "" {
		t.Errorf("undelivered %+v", got)
	}
	var final url.Values
	for _, cb := range e.app.wait("/cb", 2) {
		if cb.Get("MessageStatus") == "undelivered" {
			final = cb
		}
	}
	if final == nil || final.Get("ErrorCode") != "30008" || len(final.Get("RawDlrDoneDate")) != 10 {
		t.Errorf("callbacks %v", e.app.wait("/cb", 2))
	}
}

// A message another node of the cluster left queued when it died is
// claimed by this node's store and sent by its outbox (Adopt); claiming
// again finds nothing.
func TestAdoptSendsADeadNodesMessages(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	dead, err := store.OpenDB(ctx, store.Options{Dir: e.dir, NodeID: "gw-dead"})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	m := store.Message{SID: "SM" + strings.Repeat("7", 32), AccountSID: account, Direction: "outbound-api",
		From: ours, To: mobile, Body: "left behind", Status: store.MessageQueued, NumSegments: 1, Trunk: "carrier"}
	if _, err := dead.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	ms, err := e.db.ClaimMessages(ctx, "gw-dead")
	if err != nil || len(ms) != 1 || ms[0].SID != m.SID {
		t.Fatalf("ClaimMessages = %+v, %v", ms, err)
	}
	if err := e.svc.Adopt(ctx, ms); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, m.SID, "delivered") // sent, and its receipt came
	if again, _ := e.db.ClaimMessages(ctx, "gw-dead"); len(again) != 0 {
		t.Errorf("claimed again: %+v", again)
	}
}
