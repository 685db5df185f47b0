package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const twimlBody = `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say></Response>`

func callParams() url.Values {
	return url.Values{
		"CallSid":    {"CA0123456789abcdef0123456789abcdef"},
		"From":       {"+15551230000"},
		"To":         {"+15559870000"},
		"CallStatus": {"ringing"},
		"Digits":     {"1#"},
	}
}

func TestFetchPOSTIsSignedFormWithTwilioHeaders(t *testing.T) {
	var seen *http.Request
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkSignature(t, r)
		seen = r
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, twimlBody)
	}))
	c := newClient(Options{})
	res, err := c.Fetch(context.Background(), Request{URL: srv.URL + "/voice?app=1", Params: callParams()})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Method != http.MethodPost {
		t.Errorf("method %s, want POST (the default)", seen.Method)
	}
	if got := seen.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded; charset=UTF-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got := seen.PostForm.Get("Digits"); got != "1#" {
		t.Errorf("Digits %q, want 1#", got)
	}
	if got := seen.URL.RawQuery; got != "app=1" {
		t.Errorf("query %q: POST must not append parameters", got)
	}
	if got := seen.Header.Get("Accept"); got != "*/*" {
		t.Errorf("Accept %q", got)
	}
	if ua := seen.Header.Get("User-Agent"); !regexp.MustCompile(`^Voxgate/\S+ \(TwilioProxy/1\.1 compatible\)$`).MatchString(ua) {
		t.Errorf("User-Agent %q", ua)
	}
	if seen.Header.Get("I-Twilio-Idempotency-Token") == "" {
		t.Error("no I-Twilio-Idempotency-Token")
	}
	if res.Kind != TwiML || string(res.Body) != twimlBody || res.StatusCode != 200 || res.ContentType != "text/xml" {
		t.Errorf("response %+v", res)
	}
	if res.URL != srv.URL+"/voice?app=1" {
		t.Errorf("URL %q", res.URL)
	}
}

func TestFetchGETAppendsParamsToQueryAndSignsThem(t *testing.T) {
	var seen *http.Request
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkSignature(t, r)
		seen = r
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, twimlBody)
	}))
	c := newClient(Options{UserAgent: "custom/1"})
	res, err := c.Fetch(context.Background(), Request{URL: srv.URL + "/voice.php?foo=1&bar=2", Method: "get", Params: callParams()})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Method != http.MethodGet || seen.ContentLength > 0 {
		t.Errorf("method %s, content length %d", seen.Method, seen.ContentLength)
	}
	if want := "foo=1&bar=2&" + callParams().Encode(); seen.URL.RawQuery != want {
		t.Errorf("query %q, want %q", seen.URL.RawQuery, want)
	}
	if got := seen.Header.Get("User-Agent"); got != "custom/1" {
		t.Errorf("User-Agent %q", got)
	}
	if res.URL != srv.URL+"/voice.php?foo=1&bar=2" {
		t.Errorf("Response.URL %q: want the document URL without the appended parameters", res.URL)
	}
}

func TestIdempotencyTokenIsFreshPerRequest(t *testing.T) {
	var mu sync.Mutex
	tokens := map[string]bool{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens[r.Header.Get("I-Twilio-Idempotency-Token")] = true
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	c := newClient(Options{})
	for range 5 {
		if err := c.Notify(context.Background(), Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if len(tokens) != 5 || tokens[""] {
		t.Fatalf("tokens %v: want 5 distinct non-empty", tokens)
	}
}

func TestCookiesKeptPerClient(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/"})
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	})
	mux.HandleFunc("/bounce", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
		http.Redirect(w, r, "/whoami", http.StatusFound)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name+"="+c.Value)
		}
		io.WriteString(w, strings.Join(names, ";"))
	})
	srv := newServer(t, mux)
	ctx := context.Background()
	fetch := func(c *Client, path string) string {
		t.Helper()
		res, err := c.Fetch(ctx, Request{URL: srv.URL + path})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Body)
	}
	call1, call2 := newClient(Options{}), newClient(Options{})
	fetch(call1, "/login")
	if got := fetch(call1, "/whoami"); got != "session=abc" {
		t.Errorf("call 1 sent cookies %q, want session=abc", got)
	}
	if got := fetch(call2, "/whoami"); got != "" {
		t.Errorf("call 2 sent cookies %q, want none (jars are per call)", got)
	}
	if got := fetch(call2, "/bounce"); got != "hop=1" {
		t.Errorf("cookie set by a redirect response: got %q, want hop=1", got)
	}
}

func TestRedirects(t *testing.T) {
	type hit struct {
		method, uri, body string
	}
	var mu sync.Mutex
	var hits []hit
	mux := http.NewServeMux()
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) {
		checkSignature(t, r) // parses the form
		mu.Lock()
		hits = append(hits, hit{r.Method, r.URL.RequestURI(), r.PostForm.Encode()})
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	})
	for _, code := range []int{301, 302, 303, 307, 308} {
		mux.HandleFunc(fmt.Sprintf("/r%d", code), func(w http.ResponseWriter, r *http.Request) {
			checkSignature(t, r)
			w.Header().Set("Location", "target?via="+fmt.Sprint(code)+"#frag")
			w.WriteHeader(code)
		})
	}
	srv := newServer(t, mux)
	form := url.Values{"Digits": {"42"}}
	tests := []struct {
		method string
		code   int
		want   hit
	}{
		{"POST", 301, hit{"GET", "/target?via=301", ""}},
		{"POST", 302, hit{"GET", "/target?via=302", ""}},
		{"POST", 303, hit{"GET", "/target?via=303", ""}},
		{"POST", 307, hit{"POST", "/target?via=307", "Digits=42"}},
		{"POST", 308, hit{"POST", "/target?via=308", "Digits=42"}},
		{"GET", 302, hit{"GET", "/target?via=302", ""}},
		{"GET", 307, hit{"GET", "/target?via=307", ""}},
	}
	c := newClient(Options{})
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.method, tt.code), func(t *testing.T) {
			mu.Lock()
			hits = nil
			mu.Unlock()
			res, err := c.Fetch(context.Background(), Request{URL: fmt.Sprintf("%s/r%d", srv.URL, tt.code), Method: tt.method, Params: form})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 1 || hits[0] != tt.want {
				t.Fatalf("target saw %+v, want %+v", hits, tt.want)
			}
			if want := srv.URL + tt.want.uri; res.URL != want {
				t.Errorf("Response.URL %q, want the final URL %q", res.URL, want)
			}
		})
	}
}

// chainServer redirects /chain/N to /chain/N-1 and answers /chain/0.
func chainServer(t *testing.T) string {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/chain/%d", &n)
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	}))
	return srv.URL
}

func TestRedirectLimit(t *testing.T) {
	base := chainServer(t)
	c := newClient(Options{})
	res, err := c.Fetch(context.Background(), Request{URL: base + "/chain/10"})
	if err != nil {
		t.Fatalf("10 redirects must be followed: %v", err)
	}
	if res.URL != base+"/chain/0" {
		t.Errorf("URL %q", res.URL)
	}
	_, err = c.Fetch(context.Background(), Request{URL: base + "/chain/11"})
	wantCode(t, err, CodeTooManyRedirects)
}

func TestFragmentIsNeverSentNorSigned(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkSignature(t, r) // computed by the server without any fragment
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	}))
	c := newClient(Options{})
	for _, method := range []string{"GET", "POST"} {
		res, err := c.Fetch(context.Background(), Request{URL: srv.URL + "/x?a=b#rt=2000&tt=3000&ct=1000&rc=1", Method: method, Params: callParams()})
		if err != nil {
			t.Fatal(err)
		}
		if res.URL != srv.URL+"/x?a=b" {
			t.Errorf("%s: Response.URL %q keeps the fragment", method, res.URL)
		}
	}
}

func TestContentKinds(t *testing.T) {
	tests := []struct {
		contentType string // "-" for no header at all
		body        string
		kind        Kind
		code        int
	}{
		{"text/xml", "<Response/>", TwiML, 0},
		{"text/xml; charset=utf-8", "<Response/>", TwiML, 0},
		{"application/xml", "<Response/>", TwiML, 0},
		{"Text/HTML", "<Response/>", TwiML, 0},
		{"audio/mpeg", "ID3...", Audio, 0},
		{"audio/x-wav", "RIFF", Audio, 0},
		{"text/plain; charset=utf-8", "Thanks for calling", PlainText, 0},
		{"text/plain", "<Response><Say>x</Say></Response>", PlainText, 0},
		{"-", "<Response/>", TwiML, 0},
		{"-", "\ufeff<?xml version=\"1.0\"?>\n<Response/>", TwiML, 0},
		{"-", "  <Response/>", TwiML, 0},
		{"-", "Hello there", 0, CodeInvalidContentType},
		{"-", "<?xml version=\"1.0\"?>", 0, CodeInvalidContentType},
		{"-", "", 0, CodeInvalidContentType},
		{"text/css", "<Response/>", 0, CodeInvalidContentType},
		{"application/json", "{}", 0, CodeInvalidContentType},
		{"application/octet-stream", "<Response/>", 0, CodeInvalidContentType},
	}
	for _, tt := range tests {
		t.Run(tt.contentType+" "+tt.body, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType == "-" {
					w.Header()["Content-Type"] = nil // no header, no sniffing by the server
				} else {
					w.Header().Set("Content-Type", tt.contentType)
				}
				io.WriteString(w, tt.body)
			}))
			res, err := newClient(Options{}).Fetch(context.Background(), Request{URL: srv.URL})
			if tt.code != 0 {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != tt.kind || string(res.Body) != tt.body {
				t.Fatalf("kind %v body %q, want %v %q", res.Kind, res.Body, tt.kind, tt.body)
			}
		})
	}
}

func TestBodySizeLimit(t *testing.T) {
	tests := []struct {
		name          string
		contentType   string
		size          int
		contentLength bool // announce the size up front
		code          int
	}{
		{"exactly 64 KB", "text/xml", 64 << 10, false, 0},
		{"64 KB + 1", "text/xml", 64<<10 + 1, false, CodeResponseTooLarge},
		{"65 KB streamed", "text/xml", 65 << 10, false, CodeResponseTooLarge},
		{"65 KB with Content-Length", "text/plain", 65 << 10, true, CodeResponseTooLarge},
		{"untyped 65 KB", "-", 65 << 10, false, CodeResponseTooLarge},
		{"audio may be larger", "audio/wav", 1 << 20, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "<" + strings.Repeat("x", tt.size-1)
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType == "-" {
					w.Header()["Content-Type"] = nil
				} else {
					w.Header().Set("Content-Type", tt.contentType)
				}
				if tt.contentLength {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				}
				io.WriteString(w, body)
			}))
			res, err := newClient(Options{}).Fetch(context.Background(), Request{URL: srv.URL})
			if tt.code != 0 {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Body) != tt.size {
				t.Fatalf("body %d bytes, want %d", len(res.Body), tt.size)
			}
		})
	}
}

func TestNotify(t *testing.T) {
	var attempts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		checkSignature(t, r)
		w.Header().Set("Content-Type", "application/json") // ignored: the body does not matter
		io.WriteString(w, `{"whatever": true}`)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := newServer(t, mux)
	var logs bytes.Buffer
	c := newClient(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := c.Notify(context.Background(), Request{URL: srv.URL + "/ok", Params: callParams()}); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	err := c.Notify(context.Background(), Request{URL: srv.URL + "/fail#rc=5&rp=5xx", Params: callParams()})
	we := wantCode(t, err, CodeRetrievalFailure)
	if we.StatusCode != 500 {
		t.Errorf("StatusCode %d", we.StatusCode)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want 2: a callback is retried at most once", n)
	}
	if !strings.Contains(logs.String(), "error_code=11200") {
		t.Errorf("failure not logged with its code: %q", logs.String())
	}
	if strings.Contains(logs.String(), "rc=5") {
		t.Errorf("log shows the fragment: %q", logs.String())
	}
}

func TestConcurrentUseOfOneClient(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checkSignature(t, r)
		http.SetCookie(w, &http.Cookie{Name: "n", Value: r.URL.Query().Get("n")})
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	}))
	c := newClient(Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			u := fmt.Sprintf("%s/?n=%d", srv.URL, i)
			if i%2 == 0 {
				if _, err := c.Fetch(context.Background(), Request{URL: u, Params: callParams()}); err != nil {
					t.Error(err)
				}
			} else if err := c.Notify(context.Background(), Request{URL: u, Params: callParams()}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestCallerCancellation(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sleepy(r, 5*time.Second) }))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := newClient(Options{}).Fetch(ctx, Request{URL: srv.URL})
	wantCode(t, err, CodeRetrievalFailure)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v after cancel", d)
	}
}
