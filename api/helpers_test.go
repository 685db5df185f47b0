package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// Test credentials: 32 hex characters, as twilio-go insists on
// alphanumeric tokens.
const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "00112233445566778899aabbccddeeff"
	otherAcct   = "ACffffffffffffffffffffffffffffffff"
	testPublic  = "https://voice.example.test"
)

// env is an httptest server running the handler over a real store.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	store  *store.SQLite
	calls  *fakeCalls
	queues *fakeQueues
	recDir string
}

// newEnv starts a server; change adjusts the options before it starts.
func newEnv(t *testing.T, change ...func(*Options)) *env {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, calls: &fakeCalls{store: st}, queues: newFakeQueues(), recDir: t.TempDir()}
	opts := Options{
		AccountSID:    testAccount,
		AuthToken:     testToken,
		Store:         st,
		Calls:         e.calls,
		Queues:        e.queues,
		PublicURL:     testPublic,
		RecordingsDir: e.recDir,
		Version:       "test",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, c := range change {
		c(&opts)
	}
	e.srv = httptest.NewServer(NewHandler(opts))
	t.Cleanup(e.srv.Close)
	return e
}

// base is the account's REST path.
const base = "/2010-04-01/Accounts/" + testAccount

// request sends method to path (relative paths are under the account)
// with form as the body of POSTs and the query of other methods, with the
// test credentials unless auth is false.
func (e *env) request(method, path string, form url.Values, auth bool) *http.Response {
	e.t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = base + "/" + path
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + form.Encode()
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth {
		req.SetBasicAuth(testAccount, testToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// do is an authenticated request.
func (e *env) do(method, path string, form url.Values) *http.Response {
	e.t.Helper()
	return e.request(method, path, form, true)
}

// decode expects status and decodes the JSON body into v (if not nil).
func decode(t *testing.T, resp *http.Response, status int, v any) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	if v == nil {
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// twilioErr is Twilio's error JSON.
type twilioErr struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// expectError checks resp is Twilio's error JSON with status and code, and
// returns it.
func expectError(t *testing.T, resp *http.Response, status, code int) twilioErr {
	t.Helper()
	var got twilioErr
	decode(t, resp, status, &got)
	if got.Code != code || got.Status != status || got.Message == "" ||
		got.MoreInfo != "https://www.twilio.com/docs/errors/"+strconv.Itoa(code) {
		t.Errorf("error body %+v, want code %d status %d with message and more_info", got, code, status)
	}
	return got
}

// putCall stores a call of the test account (or c.AccountSID if set).
func (e *env) putCall(c store.Call) store.Call {
	e.t.Helper()
	if c.SID == "" {
		c.SID = sid.New(sid.Call)
	}
	if c.AccountSID == "" {
		c.AccountSID = testAccount
	}
	if c.Status == "" {
		c.Status = store.CallInProgress
	}
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	got, err := e.store.PutCall(context.Background(), c)
	if err != nil {
		e.t.Fatalf("PutCall: %v", err)
	}
	return got
}

// fakeCalls is a CallControl over the store: Create writes a queued call,
// Hangup ends it, redirects are recorded. Calls whose stored status has
// ended are not live.
type fakeCalls struct {
	store *store.SQLite

	mu        sync.Mutex
	created   []CreateCallParams
	redirects []string // "url method" or "twiml:<doc>"
	hangups   []string // "CA… status"
	createErr error
	notLive   bool // every live operation answers ErrNotLive

	recParams  []RecordingParams // StartRecording calls
	recUpdates []string          // "RE… status pauseBehavior"
}

func (f *fakeCalls) Create(ctx context.Context, p CreateCallParams) (store.Call, error) {
	f.mu.Lock()
	f.created = append(f.created, p)
	err := f.createErr
	f.mu.Unlock()
	if err != nil {
		return store.Call{}, err
	}
	return f.store.PutCall(ctx, store.Call{SID: sid.New(sid.Call), AccountSID: p.AccountSID,
		To: p.To, From: p.From, Direction: "outbound-api", Status: store.CallQueued})
}

func (f *fakeCalls) live(ctx context.Context, callSID string) (store.Call, error) {
	c, err := f.store.GetCall(ctx, callSID)
	if err != nil {
		return c, err
	}
	f.mu.Lock()
	notLive := f.notLive
	f.mu.Unlock()
	if notLive || c.Status.Ended() {
		return c, ErrNotLive
	}
	return c, nil
}

func (f *fakeCalls) Redirect(ctx context.Context, callSID, url, method string) error {
	if _, err := f.live(ctx, callSID); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redirects = append(f.redirects, url+" "+method)
	return nil
}

func (f *fakeCalls) RedirectTwiML(ctx context.Context, callSID, twiml string) error {
	if _, err := f.live(ctx, callSID); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redirects = append(f.redirects, "twiml:"+twiml)
	return nil
}

func (f *fakeCalls) Hangup(ctx context.Context, callSID, status string) error {
	c, err := f.live(ctx, callSID)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.hangups = append(f.hangups, callSID+" "+status)
	f.mu.Unlock()
	c.Status = store.CallStatus(status)
	c.EndTime = time.Now()
	_, err = f.store.PutCall(ctx, c)
	return err
}

// StartRecording stores an in-progress recording of the live call, as the
// gateway's controller does.
func (f *fakeCalls) StartRecording(ctx context.Context, callSID string, p RecordingParams) (CallRecording, error) {
	if _, err := f.live(ctx, callSID); err != nil {
		return CallRecording{}, err
	}
	f.mu.Lock()
	f.recParams = append(f.recParams, p)
	f.mu.Unlock()
	rec := CallRecording{SID: sid.New(sid.Recording), CallSID: callSID, Status: "in-progress", Source: "StartCallRecordingAPI",
		Channels: p.Channels, StartTime: time.Now()}
	_, err := f.store.PutRecording(ctx, store.Recording{SID: rec.SID, AccountSID: testAccount, CallSID: callSID,
		Status: store.RecordingInProgress, Source: rec.Source, Channels: rec.Channels, StartTime: rec.StartTime})
	return rec, err
}

// UpdateRecording changes a stored recording of the live call: stopped
// completes it with a 3 s duration.
func (f *fakeCalls) UpdateRecording(ctx context.Context, callSID, recSID, status, pauseBehavior string) (CallRecording, error) {
	if _, err := f.live(ctx, callSID); err != nil {
		return CallRecording{}, err
	}
	f.mu.Lock()
	f.recUpdates = append(f.recUpdates, recSID+" "+status+" "+pauseBehavior)
	f.mu.Unlock()
	if recSID == CurrentRecording {
		recs, _, err := f.store.ListRecordings(ctx, store.RecordingFilter{AccountSID: testAccount, CallSID: callSID}, store.Page{Size: 50})
		if err != nil {
			return CallRecording{}, err
		}
		for _, r := range recs {
			if r.Status == store.RecordingInProgress || r.Status == store.RecordingPaused {
				recSID = r.SID
			}
		}
	}
	r, err := f.store.GetRecording(ctx, recSID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.CallSID != callSID) {
		return CallRecording{}, ErrNoRecording
	}
	if err != nil {
		return CallRecording{}, err
	}
	if r.Status != store.RecordingInProgress && r.Status != store.RecordingPaused {
		return CallRecording{Status: string(r.Status)}, ErrRecordingEnded
	}
	r.Status = store.RecordingStatus(status)
	dur := time.Duration(0)
	if status == "stopped" {
		r.Status, r.Duration, dur = store.RecordingCompleted, 3, 3*time.Second
	}
	if _, err := f.store.PutRecording(ctx, r); err != nil {
		return CallRecording{}, err
	}
	return CallRecording{SID: r.SID, CallSID: callSID, Status: status, Source: r.Source, Channels: r.Channels,
		StartTime: r.StartTime, Duration: dur}, nil
}

// fakeQueues is a QueueControl over in-memory member lists.
type fakeQueues struct {
	mu       sync.Mutex
	members  map[string][]Member
	avg      map[string]time.Duration
	dequeued []string // "QU… CA… url method"
}

func newFakeQueues() *fakeQueues {
	return &fakeQueues{members: map[string][]Member{}, avg: map[string]time.Duration{}}
}

func (f *fakeQueues) add(queueSID string, m ...Member) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[queueSID] = append(f.members[queueSID], m...)
}

func (f *fakeQueues) Size(queueSID string) (int, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.members[queueSID]), f.avg[queueSID]
}

func (f *fakeQueues) Members(queueSID string) []Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.members[queueSID])
}

func (f *fakeQueues) Dequeue(_ context.Context, queueSID, callSID, url, method string) (Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ms := f.members[queueSID]
	for i, m := range ms {
		if callSID == FrontMember || m.CallSID == callSID {
			f.members[queueSID] = slices.Delete(ms, i, i+1)
			f.dequeued = append(f.dequeued, queueSID+" "+m.CallSID+" "+url+" "+method)
			m.Position = i + 1
			return m, nil
		}
	}
	return Member{}, ErrNoMember
}
