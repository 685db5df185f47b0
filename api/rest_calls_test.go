package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// validCall is a minimal valid POST Calls.json.
func validCall() url.Values {
	return url.Values{"To": {"+15551230002"}, "From": {"+15551230001"}, "Url": {"http://app.example/voice"}}
}

// with returns v with k set to val ("" deletes k).
func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

func TestCreateCallValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		form url.Values
		code int
	}{
		{"no To", with(validCall(), "To", ""), 21201},
		{"blank To", with(validCall(), "To", "  "), 21201},
		{"no From", with(validCall(), "From", ""), 21213},
		{"no Url or Twiml", with(validCall(), "Url", ""), 21205},
		{"relative Url", with(validCall(), "Url", "/voice"), 21205},
		{"ftp Url", with(validCall(), "Url", "ftp://x/y"), 21205},
		{"Url and Twiml", with(validCall(), "Twiml", "<Response/>"), 21200},
		{"Twiml too long", with(validCall(), "Url", "", "Twiml", "<Response><Say>"+strings.Repeat("a", 4000)+"</Say></Response>"), 32018},
		{"bad Method", with(validCall(), "Method", "PUT"), 21209},
		{"bad FallbackMethod", with(validCall(), "FallbackMethod", "DELETE"), 21209},
		{"bad StatusCallbackMethod", with(validCall(), "StatusCallbackMethod", "x"), 21209},
		{"bad FallbackUrl", with(validCall(), "FallbackUrl", "nope"), 21205},
		{"bad StatusCallback", with(validCall(), "StatusCallback", "/cb"), 21205},
		{"Timeout not a number", with(validCall(), "Timeout", "soon"), 21208},
		{"Timeout zero", with(validCall(), "Timeout", "0"), 21208},
		{"SendDigits bad char", with(validCall(), "SendDigits", "12x"), 21206},
		{"SendDigits too long", with(validCall(), "SendDigits", strings.Repeat("1", 33)), 21206},
		{"bad StatusCallbackEvent", with(validCall(), "StatusCallbackEvent", "answered hungup"), 21200},
		{"bad Record", with(validCall(), "Record", "yes"), 20001},
		{"ApplicationSid", with(validCall(), "Url", "", "ApplicationSid", "AP0123456789abcdef0123456789abcdef"), 20001},
		{"MachineDetection", with(validCall(), "MachineDetection", "Enable"), 20001},
		{"TimeLimit", with(validCall(), "TimeLimit", "30"), 20001},
		{"RecordingConfigurationId", with(validCall(), "RecordingConfigurationId", "x"), 20001},
		{"bad RecordingChannels", with(validCall(), "Record", "true", "RecordingChannels", "stereo"), 21200},
		{"bad RecordingTrack", with(validCall(), "Record", "true", "RecordingTrack", "sideways"), 21200},
		{"bad Trim", with(validCall(), "Record", "true", "Trim", "yes"), 21200},
		{"relative RecordingStatusCallback", with(validCall(), "Record", "true", "RecordingStatusCallback", "/rec"), 21205},
		{"bad RecordingStatusCallbackMethod", with(validCall(), "Record", "true", "RecordingStatusCallbackMethod", "PUT"), 21209},
		{"bad RecordingStatusCallbackEvent", with(validCall(), "Record", "true", "RecordingStatusCallbackEvent", "completed paused"), 21200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectError(t, e.do(http.MethodPost, "Calls.json", c.form), http.StatusBadRequest, c.code)
		})
	}
	if len(e.calls.created) != 0 {
		t.Errorf("controller called for invalid requests: %+v", e.calls.created)
	}
}

// TestCreateCallRecord: Record=true and the Recording* parameters reach
// the controller, with Twilio's defaults (mono, both tracks, trim-silence,
// the completed event).
func TestCreateCallRecord(t *testing.T) {
	e := newEnv(t)
	decode(t, e.do(http.MethodPost, "Calls.json", with(validCall(), "Record", "true")), http.StatusCreated, nil)
	form := with(validCall(), "Record", "true", "RecordingChannels", "dual", "RecordingTrack", "inbound", "Trim", "do-not-trim",
		"RecordingStatusCallback", "https://app.example/rec", "RecordingStatusCallbackMethod", "GET")
	form.Add("RecordingStatusCallbackEvent", "in-progress completed")
	form.Add("RecordingStatusCallbackEvent", "absent,completed")
	decode(t, e.do(http.MethodPost, "Calls.json", form), http.StatusCreated, nil)
	if len(e.calls.created) != 2 {
		t.Fatalf("%d calls placed, want 2", len(e.calls.created))
	}
	def := RecordingParams{Channels: 1, Track: "both", Trim: true, StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"completed"}}
	if p := e.calls.created[0]; !p.Record || !reflect.DeepEqual(p.Recording, def) {
		t.Errorf("defaults: Record=%v %+v, want %+v", p.Record, p.Recording, def)
	}
	want := RecordingParams{Channels: 2, Track: "inbound", Trim: false, StatusCallback: "https://app.example/rec",
		StatusCallbackMethod: "GET", StatusCallbackEvents: []string{"in-progress", "completed", "absent"}}
	if p := e.calls.created[1]; !p.Record || !reflect.DeepEqual(p.Recording, want) {
		t.Errorf("given: %+v, want %+v", p.Recording, want)
	}
}

func TestCreateCall(t *testing.T) {
	e := newEnv(t)
	form := validCall()
	form.Set("Method", "get")
	form.Set("StatusCallback", "https://app.example/status")
	form.Add("StatusCallbackEvent", "initiated")
	form.Add("StatusCallbackEvent", "ringing answered")
	form.Add("StatusCallbackEvent", "ringing")
	form.Set("Timeout", "900")
	form.Set("SendDigits", "1w2W#*AD")
	form.Set("Record", "false")
	form.Set("FallbackUrl", "https://app.example/fallback")
	form.Set("Unrelated", "ignored as Twilio ignores unknown parameters")
	var got callJSON
	decode(t, e.do(http.MethodPost, "Calls.json", form), http.StatusCreated, &got)

	want := CreateCallParams{
		AccountSID: testAccount, To: "+15551230002", From: "+15551230001",
		URL: "http://app.example/voice", Method: "GET",
		FallbackURL: "https://app.example/fallback", FallbackMethod: "POST",
		StatusCallback: "https://app.example/status", StatusCallbackMethod: "POST",
		StatusCallbackEvents: []string{"initiated", "ringing", "answered"},
		Timeout:              600 * time.Second, SendDigits: "1w2W#*AD", Record: false,
		Recording: RecordingParams{Channels: 1, Track: "both", Trim: true, StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"completed"}},
	}
	if len(e.calls.created) != 1 || !reflect.DeepEqual(e.calls.created[0], want) {
		t.Fatalf("controller got %+v\nwant %+v", e.calls.created, want)
	}
	if !sid.Valid(sid.Call, got.SID) || got.Status != "queued" || got.Direction != "outbound-api" ||
		got.To != "+15551230002" || got.From != "+15551230001" || got.AccountSID != testAccount ||
		got.APIVersion != "2010-04-01" || got.PriceUnit != "USD" || got.QueueTime != "0" {
		t.Errorf("call JSON %+v", got)
	}
	if got.Duration != nil || got.Price != nil || got.StartTime != nil || got.EndTime != nil || got.ParentCallSID != nil {
		t.Errorf("unset fields not null: %+v", got)
	}
	if got.URI != base+"/Calls/"+got.SID+".json" || got.SubresourceURIs["recordings"] != base+"/Calls/"+got.SID+"/Recordings.json" {
		t.Errorf("uris %q %v", got.URI, got.SubresourceURIs)
	}
	if got.DateCreated == nil {
		t.Fatal("date_created null")
	}
	if _, err := time.Parse(time.RFC1123Z, *got.DateCreated); err != nil || !strings.HasSuffix(*got.DateCreated, "+0000") {
		t.Errorf("date_created %q is not RFC 2822 UTC: %v", *got.DateCreated, err)
	}
}

func TestCreateCallDefaultsAndTwiml(t *testing.T) {
	e := newEnv(t)
	form := with(validCall(), "Url", "", "Twiml", "<Response><Say>héllo</Say></Response>")
	decode(t, e.do(http.MethodPost, "Calls.json", form), http.StatusCreated, nil)
	p := e.calls.created[0]
	if p.TwiML != "<Response><Say>héllo</Say></Response>" || p.URL != "" || p.Method != "POST" ||
		p.Timeout != 60*time.Second || p.Record || !reflect.DeepEqual(p.StatusCallbackEvents, []string{"completed"}) {
		t.Errorf("defaults %+v", p)
	}
	// 4000 characters (not bytes) is allowed.
	doc := "<Response><Say>" + strings.Repeat("é", 4000-len("<Response><Say></Say></Response>")) + "</Say></Response>"
	decode(t, e.do(http.MethodPost, "Calls.json", with(validCall(), "Url", "", "Twiml", doc)), http.StatusCreated, nil)
}

func TestCreateCallControllerErrors(t *testing.T) {
	e := newEnv(t)
	e.calls.createErr = fmt.Errorf("route: %w", &Error{Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number"})
	got := expectError(t, e.do(http.MethodPost, "Calls.json", validCall()), http.StatusBadRequest, 21211)
	if got.Message != "Invalid 'To' Phone Number" {
		t.Errorf("message %q", got.Message)
	}
	e.calls.createErr = errors.New("sip trunk down")
	got = expectError(t, e.do(http.MethodPost, "Calls.json", validCall()), http.StatusInternalServerError, 20500)
	if strings.Contains(got.Message, "trunk") {
		t.Errorf("internal error leaked: %q", got.Message)
	}

	noCalls := newEnv(t, func(o *Options) { o.Calls = nil })
	expectError(t, noCalls.do(http.MethodPost, "Calls.json", validCall()), http.StatusNotImplemented, 20503)
}

func TestFetchCall(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	c := e.putCall(store.Call{From: "+1555", To: "sip:1000@127.0.0.1", Status: store.CallCompleted,
		StartTime: start, EndTime: start.Add(42 * time.Second), Duration: 42, ParentCallSID: "CA00000000000000000000000000000000",
		QueueTime: 1500, AnsweredBy: "human"})
	var got callJSON
	decode(t, e.do(http.MethodGet, "Calls/"+c.SID+".json", nil), http.StatusOK, &got)
	if got.SID != c.SID || got.Status != "completed" || got.Duration == nil || *got.Duration != "42" ||
		*got.StartTime != "Sat, 01 Mar 2025 10:00:00 +0000" || *got.EndTime != "Sat, 01 Mar 2025 10:00:42 +0000" ||
		got.QueueTime != "1500" || *got.AnsweredBy != "human" || *got.ParentCallSID != "CA00000000000000000000000000000000" ||
		got.ToFormatted != "sip:1000@127.0.0.1" {
		t.Errorf("call JSON %+v", got)
	}

	missing := "CA" + strings.Repeat("0", 32)
	resp := e.do(http.MethodGet, "Calls/"+missing+".json", nil)
	msg := expectError(t, resp, http.StatusNotFound, 20404).Message
	if msg != "The requested resource "+base+"/Calls/"+missing+".json was not found" {
		t.Errorf("404 message %q", msg)
	}
	other := e.putCall(store.Call{AccountSID: otherAcct, From: "a", To: "b"})
	expectError(t, e.do(http.MethodGet, "Calls/"+other.SID+".json", nil), http.StatusNotFound, 20404)
}

func TestUpdateCall(t *testing.T) {
	e := newEnv(t)
	live := e.putCall(store.Call{From: "a", To: "b", Status: store.CallInProgress})
	ringing := e.putCall(store.Call{From: "a", To: "b", Status: store.CallRinging})
	ended := e.putCall(store.Call{From: "a", To: "b", Status: store.CallCompleted})
	path := func(c store.Call) string { return "Calls/" + c.SID + ".json" }

	var got callJSON
	decode(t, e.do(http.MethodPost, path(live), url.Values{"Twiml": {"<Response><Hangup/></Response>"}}), http.StatusOK, &got)
	decode(t, e.do(http.MethodPost, path(live), url.Values{"Url": {"https://app.example/next"}, "Method": {"GET"}}), http.StatusOK, &got)
	decode(t, e.do(http.MethodPost, path(live), url.Values{"Url": {"https://app.example/post"}}), http.StatusOK, &got)
	wantRedirects := []string{"twiml:<Response><Hangup/></Response>", "https://app.example/next GET", "https://app.example/post POST"}
	if !reflect.DeepEqual(e.calls.redirects, wantRedirects) {
		t.Errorf("redirects %q, want %q", e.calls.redirects, wantRedirects)
	}

	errCases := []struct {
		name   string
		call   store.Call
		form   url.Values
		status int
		code   int
	}{
		{"cancel answered call", live, url.Values{"Status": {"canceled"}}, 400, 21220},
		{"redirect ended call", ended, url.Values{"Url": {"https://app.example/x"}}, 400, 21220},
		{"twiml on ended call", ended, url.Values{"Twiml": {"<Response/>"}}, 400, 21220},
		{"hang up ended call", ended, url.Values{"Status": {"completed"}}, 400, 21220},
		{"bad status", live, url.Values{"Status": {"busy"}}, 400, 21200},
		{"url and twiml", live, url.Values{"Url": {"https://a/b"}, "Twiml": {"<Response/>"}}, 400, 21200},
		{"relative url", live, url.Values{"Url": {"/next"}}, 400, 21205},
		{"bad method", live, url.Values{"Url": {"https://a/b"}, "Method": {"PUT"}}, 400, 21209},
		{"twiml too long", live, url.Values{"Twiml": {strings.Repeat("x", 4001)}}, 400, 32018},
		{"unsupported FallbackUrl", live, url.Values{"Url": {"https://a/b"}, "FallbackUrl": {"https://a/c"}}, 400, 20001},
		{"unsupported TimeLimit", live, url.Values{"TimeLimit": {"10"}}, 400, 20001},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			expectError(t, e.do(http.MethodPost, path(c.call), c.form), c.status, c.code)
		})
	}

	// No parameters: the call, unchanged.
	decode(t, e.do(http.MethodPost, path(ended), nil), http.StatusOK, &got)
	if got.SID != ended.SID || got.Status != "completed" {
		t.Errorf("no-op update %+v", got)
	}

	decode(t, e.do(http.MethodPost, path(ringing), url.Values{"Status": {"canceled"}}), http.StatusOK, &got)
	if got.Status != "canceled" {
		t.Errorf("canceled ringing call: status %q", got.Status)
	}
	decode(t, e.do(http.MethodPost, path(live), url.Values{"Status": {"completed"}}), http.StatusOK, &got)
	if got.Status != "completed" || got.Duration == nil {
		t.Errorf("hung up call: %+v", got)
	}
	wantHangups := []string{ringing.SID + " canceled", live.SID + " completed"}
	if !reflect.DeepEqual(e.calls.hangups, wantHangups) {
		t.Errorf("hangups %q, want %q", e.calls.hangups, wantHangups)
	}

	// The store says live but the engine does not have it.
	other := e.putCall(store.Call{From: "a", To: "b", Status: store.CallInProgress})
	e.calls.notLive = true
	expectError(t, e.do(http.MethodPost, path(other), url.Values{"Url": {"https://a/b"}}), 400, 21220)
	expectError(t, e.do(http.MethodPost, "Calls/CA"+strings.Repeat("1", 32)+".json", url.Values{"Url": {"https://a/b"}}), 404, 20404)

	noCalls := newEnv(t, func(o *Options) { o.Calls = nil })
	c := noCalls.putCall(store.Call{From: "a", To: "b"})
	expectError(t, noCalls.do(http.MethodPost, "Calls/"+c.SID+".json", url.Values{"Status": {"completed"}}), 501, 20503)
}

func TestDeleteCall(t *testing.T) {
	e := newEnv(t)
	live := e.putCall(store.Call{From: "a", To: "b", Status: store.CallInProgress})
	ended := e.putCall(store.Call{From: "a", To: "b", Status: store.CallNoAnswer})
	expectError(t, e.do(http.MethodDelete, "Calls/"+live.SID+".json", nil), 400, 21220)
	resp := e.do(http.MethodDelete, "Calls/"+ended.SID+".json", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := e.store.GetCall(context.Background(), ended.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("call still stored: %v", err)
	}
	expectError(t, e.do(http.MethodDelete, "Calls/"+ended.SID+".json", nil), 404, 20404)
}

// callList is the Calls.json page.
type callList struct {
	Calls           []callJSON `json:"calls"`
	URI             string     `json:"uri"`
	FirstPageURI    string     `json:"first_page_uri"`
	NextPageURI     *string    `json:"next_page_uri"`
	PreviousPageURI *string    `json:"previous_page_uri"`
	Page            int        `json:"page"`
	PageSize        int        `json:"page_size"`
	Start           int        `json:"start"`
	End             int        `json:"end"`
}

func TestListCallsPagingWalk(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	var want []string // newest first
	for i := range 20 {
		c := e.putCall(store.Call{From: "+1000", To: "+2000", DateCreated: t0.Add(time.Duration(i) * time.Minute)})
		want = append([]string{c.SID}, want...)
	}
	e.putCall(store.Call{From: "+1000", To: "+9999"}) // filtered out by To
	e.putCall(store.Call{AccountSID: otherAcct, From: "+1000", To: "+2000"})

	var got []string
	next := base + "/Calls.json?To=%2B2000&PageSize=7"
	for page := 0; ; page++ {
		var l callList
		decode(t, e.do(http.MethodGet, next, nil), http.StatusOK, &l)
		if l.Page != page || l.PageSize != 7 || l.Start != page*7 || l.End != page*7+len(l.Calls)-1 {
			t.Errorf("page %d envelope: page %d size %d start %d end %d (%d calls)", page, l.Page, l.PageSize, l.Start, l.End, len(l.Calls))
		}
		if l.FirstPageURI != base+"/Calls.json?Page=0&PageSize=7&To=%2B2000" {
			t.Errorf("first_page_uri %q", l.FirstPageURI)
		}
		if !strings.HasPrefix(l.URI, base+"/Calls.json?") || !strings.Contains(l.URI, "To=%2B2000") {
			t.Errorf("uri %q", l.URI)
		}
		// Keyset tokens run forwards only: page 1 links back to the first
		// page, later pages have no previous link.
		if page == 1 && (l.PreviousPageURI == nil || *l.PreviousPageURI != l.FirstPageURI) ||
			page != 1 && l.PreviousPageURI != nil {
			t.Errorf("page %d previous_page_uri %v", page, l.PreviousPageURI)
		}
		for _, c := range l.Calls {
			got = append(got, c.SID)
		}
		if l.NextPageURI == nil {
			if page != 2 {
				t.Errorf("last page is %d, want 2", page)
			}
			break
		}
		if !strings.Contains(*l.NextPageURI, "To=%2B2000") || !strings.Contains(*l.NextPageURI, "PageToken=PA") {
			t.Errorf("next_page_uri %q lost the filter or token", *l.NextPageURI)
		}
		next = *l.NextPageURI
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("walked %d calls %v\nwant %d %v", len(got), got, len(want), want)
	}
}

func TestListCallsFilters(t *testing.T) {
	e := newEnv(t)
	day := func(d, h int) time.Time { return time.Date(2025, 3, d, h, 0, 0, 0, time.UTC) }
	parent := e.putCall(store.Call{From: "+1", To: "+2", Status: store.CallCompleted, StartTime: day(1, 9), EndTime: day(1, 10)})
	child := e.putCall(store.Call{From: "+1", To: "+3", Status: store.CallCompleted, ParentCallSID: parent.SID, StartTime: day(2, 9), EndTime: day(2, 10)})
	busy := e.putCall(store.Call{From: "+4", To: "+2", Status: store.CallBusy, StartTime: day(3, 23), EndTime: day(4, 0)})
	ringing := e.putCall(store.Call{From: "+4", To: "+5", Status: store.CallRinging})

	cases := []struct {
		query string
		want  []store.Call // any order
	}{
		{"", []store.Call{parent, child, busy, ringing}},
		{"To=%2B2", []store.Call{parent, busy}},
		{"From=%2B4", []store.Call{busy, ringing}},
		{"ParentCallSid=" + parent.SID, []store.Call{child}},
		{"Status=busy", []store.Call{busy}},
		{"Status=ringing&From=%2B4", []store.Call{ringing}},
		{"StartTime=2025-03-02", []store.Call{child}},
		{"StartTime>=2025-03-02", []store.Call{child, busy}},
		{"StartTime%3E=2025-03-02", []store.Call{child, busy}},
		{"StartTime<=2025-03-02", []store.Call{parent, child}},
		{"StartTime%3C=2025-03-02", []store.Call{parent, child}},
		{"StartTime>=2025-03-02&StartTime<=2025-03-02", []store.Call{child}},
		{"StartTime%3E=2025-03-01T12:00:00Z", []store.Call{child, busy}},
		{"StartTime%3C=2025-03-01T09:00:00Z", []store.Call{parent}},
		{"EndTime=2025-03-04", []store.Call{busy}},
		{"EndTime>=2025-03-02", []store.Call{child, busy}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var l callList
			decode(t, e.do(http.MethodGet, base+"/Calls.json?"+c.query, nil), http.StatusOK, &l)
			got := map[string]bool{}
			for _, x := range l.Calls {
				got[x.SID] = true
			}
			want := map[string]bool{}
			for _, x := range c.want {
				want[x.SID] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	bad := []string{"Status=initiated", "StartTime=yesterday", "EndTime<=2025-13-01", "PageSize=x", "PageSize=0", "Page=-1", "PageToken=bogus"}
	for _, q := range bad {
		resp := e.do(http.MethodGet, base+"/Calls.json?"+q, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
	var l callList
	decode(t, e.do(http.MethodGet, base+"/Calls.json?PageSize=5000", nil), http.StatusOK, &l)
	if l.PageSize != 1000 {
		t.Errorf("PageSize=5000 gave page_size %d, want 1000", l.PageSize)
	}
}
