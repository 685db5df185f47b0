// Package smsctest starts the fake SMSC (messaging/smpp/testdata/smsc: the
// npm "smpp" package in server mode) for tests, and reads what it logged.
// Install it with `make deps-test`.
package smsctest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event is one JSON line the SMSC printed.
type Event map[string]any

// Str returns a string field ("" when absent).
func (e Event) Str(k string) string {
	switch v := e[k].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

// Int returns a numeric field (-1 when absent).
func (e Event) Int(k string) int {
	if v, ok := e[k].(float64); ok {
		return int(v)
	}
	return -1
}

// SMSC is a running fake SMSC.
type SMSC struct {
	Addr    string // SMPP host:port
	Control string // http://host:port
	cmd     *exec.Cmd
	mu      sync.Mutex
	events  []Event
	done    chan struct{}
}

// Dir is the directory of the script and its node_modules.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "smsc")
}

// Start runs the fake SMSC with extra environment (KEY=VALUE) and stops
// it when the test ends.
func Start(t testing.TB, env ...string) *SMSC {
	t.Helper()
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "smpp", "package.json")); err != nil {
		t.Fatalf("the smpp npm package is not installed: run `make deps-test` (npm --prefix %s install)", dir)
	}
	s := &SMSC{cmd: exec.Command("node", "fake-smsc.js"), done: make(chan struct{})}
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = os.Stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("fake SMSC: %v", err)
	}
	ready := make(chan Event, 1)
	go s.read(out, ready)
	t.Cleanup(s.Stop)
	select {
	case ev := <-ready:
		s.Addr = fmt.Sprintf("127.0.0.1:%d", ev.Int("smpp"))
		s.Control = fmt.Sprintf("http://127.0.0.1:%d", ev.Int("http"))
	case <-s.done:
		t.Fatal("fake SMSC exited at start")
	case <-time.After(10 * time.Second):
		t.Fatal("fake SMSC did not start")
	}
	return s
}

func (s *SMSC) read(r io.Reader, ready chan<- Event) {
	defer close(s.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Str("event") == "listening" {
			ready <- ev
		}
		s.mu.Lock()
		s.events = append(s.events, ev)
		s.mu.Unlock()
	}
}

// Stop kills the SMSC (a crash, as far as clients can tell) and waits for it.
func (s *SMSC) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
	_ = s.cmd.Wait()
}

// Events returns the logged events whose "pdu" is kind ("" = all).
func (s *SMSC) Events(kind string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if kind == "" || e.Str("pdu") == kind {
			out = append(out, e)
		}
	}
	return out
}

// WaitEvents waits until at least n events of kind were logged.
func (s *SMSC) WaitEvents(t testing.TB, kind string, n int, timeout time.Duration) []Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := s.Events(kind)
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake SMSC logged %d %s, want %d; all events: %v", len(evs), kind, n, s.Events(""))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MO sends a mobile-originated message (parts > 1: concatenated with UDH)
// and returns the deliver_sm_resp statuses, once all arrived.
func (s *SMSC) MO(t testing.TB, from, to, text string, parts int, ucs2 bool) []int {
	t.Helper()
	q := url.Values{"from": {from}, "to": {to}, "text": {text}, "parts": {fmt.Sprint(parts)}}
	if ucs2 {
		q.Set("coding", "ucs2")
	}
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Post(s.Control+"/mo?"+q.Encode(), "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatalf("fake SMSC /mo: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Statuses []int }
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("fake SMSC /mo: %d %s", resp.StatusCode, body)
	}
	return out.Statuses
}

// MOBurst sends count single-part MOs at rate per second (0: all at once)
// whose text is the time each was sent (milliseconds since the epoch) and
// returns how many were not acknowledged with status 0, once all were
// answered.
func (s *SMSC) MOBurst(t testing.TB, from, to string, count, rate int) int {
	t.Helper()
	q := url.Values{"from": {from}, "to": {to}, "count": {fmt.Sprint(count)}, "rate": {fmt.Sprint(rate)}}
	c := http.Client{Timeout: 5 * time.Minute}
	resp, err := c.Post(s.Control+"/mo?"+q.Encode(), "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatalf("fake SMSC /mo: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Statuses []int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Statuses) != 1 {
		t.Fatalf("fake SMSC /mo burst: %v", err)
	}
	return out.Statuses[0]
}

// Drop closes every SMPP connection abruptly.
func (s *SMSC) Drop(t testing.TB) {
	t.Helper()
	resp, err := http.Post(s.Control+"/drop", "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatalf("fake SMSC /drop: %v", err)
	}
	resp.Body.Close()
}

// Stats returns the SMSC's counters.
func (s *SMSC) Stats(t testing.TB) map[string]int {
	t.Helper()
	resp, err := http.Get(s.Control + "/stats")
	if err != nil {
		t.Fatalf("fake SMSC /stats: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]int{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
