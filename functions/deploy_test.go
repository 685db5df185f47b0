package functions

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store"
)

// TestRedeployIsAtomic redeploys a service while requests keep arriving:
// every request is answered by the old or the new build, never fails, and
// the new build answers without a cold start once the deploy returns.
func TestRedeployIsAtomic(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	g.deploy(t, "hello", "hello-v1")
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		seen     = map[string]int{}
		failures []string
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r := g.get(t, "/fn/hello/hello")
				mu.Lock()
				if r.status != 200 {
					failures = append(failures, r.body)
				}
				seen[r.body]++
				mu.Unlock()
			}
		}()
	}
	g.deploy(t, "hello", "hello-v2")
	first := g.get(t, "/fn/hello/hello")
	stop.Store(true)
	wg.Wait()
	if first.body != "v2 world" {
		t.Errorf("after the deploy: %q", first.body)
	}
	if len(failures) > 0 || seen["v1"] == 0 {
		t.Errorf("during the deploy: failures %q, answers %v", failures, seen)
	}
	for body := range seen {
		// "v1 world": the deploy sets the new Variables before the new
		// build goes live, and Variables apply at once (as on Twilio).
		if body != "v1" && body != "v1 world" && body != "v2 world" {
			t.Errorf("unexpected answer %q", body)
		}
	}
	if r := g.get(t, "/fn/hello/note.txt"); r.status != 200 || r.body != "v2 asset\n" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("new asset: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// TestFailedBuildChangesNothing: a build that fails (two versions with
// one path) cannot be deployed and the live deployment keeps serving.
func TestFailedBuildChangesNothing(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	res := g.deploy(t, "hello", "hello-v1")
	svc := "/v1/Services/" + res.ServiceSID
	fn := g.api(t, "POST", svc+"/Functions", url.Values{"FriendlyName": {"dup"}}, 201)
	var versions []string
	for range 2 {
		v := g.api(t, "POST", svc+"/Functions/"+fn["sid"].(string)+"/Versions", url.Values{"Path": {"/hello"}, "Visibility": {"public"}, "Content": {"exports.handler=(c,e,cb)=>cb(null,'broken')"}}, 201)
		versions = append(versions, v["sid"].(string))
	}
	b := g.api(t, "POST", svc+"/Builds", url.Values{"FunctionVersions": versions}, 201)
	if b["status"] != "building" {
		t.Errorf("new build status %v", b["status"])
	}
	status := g.waitBuild(t, svc+"/Builds/"+b["sid"].(string))
	if status != "failed" {
		t.Fatalf("build status %s, want failed", status)
	}
	g.api(t, "POST", svc+"/Environments/"+res.EnvironmentSID+"/Deployments", url.Values{"BuildSid": {b["sid"].(string)}}, 400)
	env := g.api(t, "GET", svc+"/Environments/"+res.EnvironmentSID, nil, 200)
	if env["build_sid"] != res.BuildSID {
		t.Errorf("environment build %v, want %s", env["build_sid"], res.BuildSID)
	}
	if r := g.get(t, "/fn/hello/hello"); r.body != "v1" {
		t.Errorf("served %q", r.body)
	}
	if !strings.Contains(g.logs.String(), "two versions share the path /hello") || !strings.Contains(g.logs.String(), "code=20001") {
		t.Errorf("the build failure is not logged clearly:\n%s", g.logs)
	}
	// Bad parameters are refused with Twilio's errors.
	g.api(t, "POST", svc+"/Builds", url.Values{"Runtime": {"node4"}}, 400)
	g.api(t, "POST", svc+"/Builds", url.Values{"Dependencies": {`[{"name":"x","version":"file:../x"}]`}}, 400)
	g.api(t, "GET", "/v1/Services/ZS00000000000000000000000000000000", nil, 404)
}

// TestDeploymentsSurviveRestart: resources, builds and the live
// deployment come back from the database and the storage directory, warm.
func TestDeploymentsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := startGateway(t, dir+"/functions", db, nil)
	res := g.deploy(t, "hello", "hello-v2")
	g.close()

	g2 := startGateway(t, dir+"/functions", db, nil)
	if r := g2.get(t, "/fn/hello/hello"); r.status != 200 || r.body != "v2 world" {
		t.Fatalf("after the restart: %d %q\n%s", r.status, r.body, g2.logs)
	}
	env := g2.api(t, "GET", "/v1/Services/hello/Environments/"+res.EnvironmentSID, nil, 200)
	if env["build_sid"] != res.BuildSID {
		t.Errorf("environment %v", env)
	}
	vars := g2.api(t, "GET", "/v1/Services/"+res.ServiceSID+"/Environments/"+res.EnvironmentSID+"/Variables", nil, 200)
	if list := vars["variables"].([]any); len(list) != 1 || list[0].(map[string]any)["key"] != "WHO" {
		t.Errorf("variables %v", vars)
	}
	// Changing a variable restarts the environment's workers with it.
	v := vars["variables"].([]any)[0].(map[string]any)
	g2.api(t, "POST", strings.TrimPrefix(v["url"].(string), g2.srv.URL), url.Values{"Value": {"again"}}, 200)
	if r := g2.get(t, "/fn/hello/hello"); r.body != "v2 again" {
		t.Errorf("after the variable update: %q", r.body)
	}
}

// api makes a Serverless API request and checks the status.
func (g *gateway) api(t *testing.T, method, path string, form url.Values, want int) map[string]any {
	t.Helper()
	var req *http.Request
	if form != nil {
		req, _ = http.NewRequest(method, g.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, g.srv.URL+path, nil)
	}
	req.SetBasicAuth(testAccount, testToken)
	r := do(t, req)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	out := map[string]any{}
	if r.body != "" {
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

func (g *gateway) waitBuild(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st := g.api(t, "GET", path+"/Status", nil, 200)
		if s := st["status"].(string); s != "building" {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the build never finished")
	return ""
}

// TestBuildInstallsDependencies: the project's package.json dependencies
// (not devDependencies, not @twilio/runtime-handler) are installed with
// npm at build time and required by the function.
func TestBuildInstallsDependencies(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	res := g.deploy(t, "deps", "with-deps")
	if r := g.get(t, "/fn/deps/duration?d=1h"); r.status != 200 || r.body != `{"ms":3600000}` {
		t.Fatalf("%d %s\n%s", r.status, r.body, g.logs)
	}
	b := g.api(t, "GET", "/v1/Services/deps/Builds/"+res.BuildSID, nil, 200)
	if !equalJSON(b["dependencies"], []map[string]string{{"name": "@twilio/runtime-handler", "version": "2.1.0"}, {"name": "ms", "version": "2.1.3"}}) {
		t.Errorf("build dependencies %v", b["dependencies"])
	}
}

// TestProjectPinnedTwilio: a project that lists twilio gets that version
// as its Twilio global (installed at build time), not the runtime's.
func TestProjectPinnedTwilio(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	g.deploy(t, "pinned", "pinned-twilio")
	r := g.get(t, "/fn/pinned/version")
	var got struct {
		Version string
		Global  bool
		Twiml   string
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || got.Version != "5.0.0" || !got.Global || !strings.Contains(got.Twiml, "<Say>pinned</Say>") {
		t.Errorf("%d %s (%v)", r.status, r.body, err)
	}
}
