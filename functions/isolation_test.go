package functions

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMisbehavingFunctions checks that a function that fails, throws,
// rejects, never calls back, loops, exits or leaks memory ends only its
// own request, with Twilio's error code in the log, while the other
// functions of the same deployment keep answering.
func TestMisbehavingFunctions(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, func(o *Options) {
		o.Timeout = 4 * time.Second // the leak needs a moment to reach its cap on a busy machine
		o.MemoryMB = 48
		o.Workers = 2 // a spare for the neighbouring request
	})
	g.deploy(t, "bad", "project")
	healthy := func(t *testing.T) {
		t.Helper()
		if r := g.get(t, "/fn/bad/text"); r.status != 200 || r.body != "hello world" {
			t.Fatalf("a healthy function failed afterwards: %d %q\n%s", r.status, r.body, g.logs)
		}
	}
	for _, c := range []struct {
		path    string
		status  int
		body    string // substring
		logLine string // a line of the gateway's log has this (and the function's SID)
	}{
		{"fail", 500, `"message":"the database is down"`, "the database is down"},
		{"throws", 500, "thrown synchronously", "thrown synchronously"},
		{"huge", 500, "Function response larger than 6 MB", "larger than the 6 MB limit"},
		{"rejects", 500, "async failure", "async failure"},
		{"escapes", 500, "thrown from a timer", "thrown from a timer"},
		{"never", 504, "Runtime Application Timed Out", `msg="functions: runtime application timed out"`},
		{"loop", 504, "Runtime Application Timed Out", "blocks its event loop); killing it"},
		{"exit", 502, "worker ended", `msg="functions: the function's worker failed"`},
		{"leak", 502, "worker ended", `msg="functions: the function's worker failed"`},
		{"bufleak", 502, "worker ended", `msg="functions: the function's worker failed"`},
	} {
		t.Run(c.path, func(t *testing.T) {
			// With its spare worker up, a well-behaved request in flight at
			// the same time is not disturbed.
			waitWorkers(t, g, "bad", 2)
			var (
				wg    sync.WaitGroup
				other response
			)
			wg.Add(1)
			go func() {
				defer wg.Done()
				other = g.get(t, "/fn/bad/text?name=neighbour")
			}()
			r := g.get(t, "/fn/bad/"+c.path)
			wg.Wait()
			if r.status != c.status || !strings.Contains(r.body, c.body) {
				t.Errorf("status %d body %q; want %d with %q", r.status, r.body, c.status, c.body)
			}
			if other.status != 200 {
				t.Errorf("the neighbouring request got %d", other.status)
			}
			line := waitLog(t, g, c.logLine, "path=/"+c.path+" ")
			if !strings.Contains(line, "function_sid=ZH") || !strings.Contains(line, "request_sid=RQ") {
				t.Errorf("log line without the function's and request's SIDs: %s", line)
			}
			if c.status >= 500 && !strings.Contains(g.logs.String(), "path=/"+c.path+" ") {
				t.Errorf("no log line names /%s", c.path)
			}
			if c.status >= 500 && !hasLine(g.logs.String(), "path=/"+c.path+" ", "code=82002") {
				t.Errorf("no log line for /%s has Twilio's code 82002", c.path)
			}
			healthy(t)
		})
	}
	if !strings.Contains(g.logs.String(), `exit="signal: aborted"`) {
		t.Errorf("the leaking worker did not end at its heap cap")
	}
	if !hasLine(g.logs.String(), "passed its memory limit; killing it", "limit_mb=224") {
		t.Errorf("the worker leaking Buffers was not killed at its resident memory limit")
	}
	if r := g.get(t, "/fn/bad/voice/menu"); r.status != http.StatusOK {
		t.Errorf("after all that: %d", r.status)
	}
}

// waitLog waits for a line of the gateway's log that contains s and
// returns it.
func waitLog(t *testing.T, g *gateway, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(g.logs.String(), "\n") {
			if hasLine(line, parts...) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line of the log has %q:\n%s", parts, g.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasLine reports whether one line of logs has every part.
func hasLine(logs string, parts ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		line += " " // so "key=value " also matches the last attribute
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// waitWorkers waits until service's live deployment has n workers up.
func waitWorkers(t *testing.T, g *gateway, service string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := g.m.lookup(service)
		up := 0
		if l != nil {
			l.pool.mu.Lock()
			for _, w := range l.pool.workers {
				if !w.dead.Load() {
					up++
				}
			}
			l.pool.mu.Unlock()
		}
		if up >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d workers up, want %d", service, up, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
