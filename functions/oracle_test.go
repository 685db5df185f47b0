package functions

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// emulator is Twilio's local emulator serving a project.
type emulator struct {
	url string
}

// startEmulator serves project (under testdata) with Twilio's published
// emulator, @twilio/runtime-handler (functions/oracle, installed by make
// deps-test), in its in-process mode.
func startEmulator(t testing.TB, project string, env map[string]string) *emulator {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("testdata", project))
	p, err := ReadProject(dir)
	if err != nil {
		t.Fatal(err)
	}
	type route struct {
		Name     string `json:"name"`
		Path     string `json:"path"`
		Access   string `json:"access"`
		FilePath string `json:"filePath"`
		Content  string `json:"content"`
	}
	routes := func(files []ProjectFile) []route {
		out := []route{}
		for _, f := range files {
			out = append(out, route{Name: f.Path, Path: f.Path, Access: f.Visibility, FilePath: f.File})
		}
		return out
	}
	for k, v := range p.Variables {
		env[k] = v
	}
	in, _ := json.Marshal(map[string]any{"baseDir": dir, "env": env, "functions": routes(p.Functions), "assets": routes(p.Assets)})
	cmd := exec.Command("node", "oracle/serve.js")
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("the emulator (make deps-test installs it): %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case line <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-line:
		var ready struct{ Port int }
		if err := json.Unmarshal([]byte(l), &ready); err != nil || ready.Port == 0 {
			t.Fatalf("the emulator said %q", l)
		}
		return &emulator{url: fmt.Sprintf("http://127.0.0.1:%d", ready.Port)}
	case <-time.After(20 * time.Second):
		t.Fatal("the emulator did not start")
	}
	return nil
}

// TestAgainstTwilioEmulator sends the same requests to Voxgate's runner
// and to Twilio's own emulator and compares what matters: status,
// content type, body and the headers a function set. Known emulator gaps
// (protected/private not enforced, an async rejection killing it, no
// time limit, undefined SIDs, no process.env in-process, "/" not falling
// back to /index.html) are left out.
func TestAgainstTwilioEmulator(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	g.deploy(t, "oracle", "project")
	emu := startEmulator(t, "project", map[string]string{"ACCOUNT_SID": testAccount, "AUTH_TOKEN": testToken})

	type req struct {
		method, path, body, ctype string
		headers                   []string // compared when the function sets them
		noBody                    bool     // bodies differ by design (stack traces name files)
	}
	form := "application/x-www-form-urlencoded"
	for _, c := range []req{
		{method: "GET", path: "/text?name=ada"},
		{method: "POST", path: "/text", body: "name=form", ctype: form},
		{method: "POST", path: "/voice/menu", body: "CallSid=CA1&From=%2B15550001111", ctype: form},
		{method: "GET", path: "/response?name=x", headers: []string{"X-Multi", "Set-Cookie"}},
		{method: "GET", path: "/empty"},
		{method: "GET", path: "/router?caller=%2B15550004242"},
		{method: "POST", path: "/router", body: `{"caller":"+15550000000"}`, ctype: "application/json"},
		{method: "GET", path: "/tone.wav"},
		{method: "GET", path: "/index.html"},
		{method: "OPTIONS", path: "/text", headers: []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"}},
		{method: "GET", path: "/nothing-here"},
		{method: "GET", path: "/fail", noBody: true},
		{method: "GET", path: "/throws", noBody: true},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			send := func(base string) response {
				r, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
				if c.ctype != "" {
					r.Header.Set("Content-Type", c.ctype)
				}
				return do(t, r)
			}
			ours, theirs := send(g.srv.URL+"/fn/oracle"), send(emu.url)
			if ours.status != theirs.status {
				t.Errorf("status %d, emulator %d", ours.status, theirs.status)
			}
			if theirs.status == 404 {
				return // bodies of a miss differ by design
			}
			if a, b := mediaType(ours.header), mediaType(theirs.header); a != b {
				t.Errorf("content type %q, emulator %q", a, b)
			}
			if !c.noBody && ours.body != theirs.body {
				t.Errorf("body differs:\nours     %q\nemulator %q", ours.body, theirs.body)
			}
			for _, h := range c.headers {
				if a, b := strings.Join(ours.header.Values(h), "|"), strings.Join(theirs.header.Values(h), "|"); !strings.EqualFold(a, b) {
					t.Errorf("%s: %q, emulator %q", h, a, b)
				}
			}
		})
	}

	// event and the Runtime globals, compared field by field (the hosts
	// and SIDs in context differ by design).
	t.Run("event", func(t *testing.T) {
		send := func(base string) map[string]any {
			r, _ := http.NewRequest("POST", base+"/echo?q=1&multi=a&multi=b", strings.NewReader(url.Values{"Body": {"hi"}, "q": {"2"}, "arr": {"1", "2"}, "Options[0]": {"x"}}.Encode()))
			r.Header.Set("Content-Type", form)
			r.Header.Set("Cookie", "session=abc")
			r.Header.Set("X-Forwarded-For", "10.0.0.9")
			r.Header.Set("X-Twilio-Signature", "sig")
			resp := do(t, r)
			var out map[string]any
			if err := json.Unmarshal([]byte(resp.body), &out); err != nil {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			ev := out["event"].(map[string]any)
			headers := ev["request"].(map[string]any)["headers"].(map[string]any)
			delete(headers, "host")
			delete(headers, "content-length")
			// process.env is left out: the in-process emulator does not set
			// it (production and its forked mode do).
			return map[string]any{"event": ev, "functions": out["functions"], "assets": out["assets"], "data": out["data"],
				"GREETING": out["context"].(map[string]any)["GREETING"], "PATH": out["context"].(map[string]any)["PATH"]}
		}
		ours, theirs := send(g.srv.URL+"/fn/oracle"), send(emu.url)
		if !equalJSON(ours, theirs) {
			a, _ := json.MarshalIndent(ours, "", " ")
			b, _ := json.MarshalIndent(theirs, "", " ")
			t.Errorf("ours:\n%s\nemulator:\n%s", a, b)
		}
	})
}

func mediaType(h http.Header) string {
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
