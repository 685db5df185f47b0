package functions

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestDeployWithTwilioNode deploys with twilio-node's serverless client
// (testdata/sdk/deploy.js), unchanged but for the base URL, and calls the
// deployed function.
func TestDeployWithTwilioNode(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	modules, _ := filepath.Abs("runtime/node_modules")
	cmd := exec.Command("node", "testdata/sdk/deploy.js")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "BASE="+g.srv.URL, "SID="+testAccount, "TOKEN="+testToken)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("deploy.js: %v\n%s\n%s", err, stderr, g.logs)
	}
	var got struct {
		Service struct {
			SID                string
			IncludeCredentials bool
			Links              []string
		}
		Environment struct{ SID, DomainSuffix, DomainName, BuildSid string }
		Build       struct {
			SID, Status      string
			FunctionVersions int
			Dependencies     []map[string]string
		}
		Deployment struct{ SID, BuildSid, EnvironmentSid string }
		Listed     struct {
			Services  int
			Functions []string
			Versions  [][]string
			Builds    int
		}
		Content  string
		NotFound struct{ Status, Code int }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	host := strings.TrimPrefix(g.srv.URL, "http://")
	if !got.Service.IncludeCredentials || strings.Join(got.Service.Links, ",") != "assets,builds,environments,functions" ||
		got.Environment.DomainSuffix != "stage" || got.Environment.DomainName != host+"/fn/sdk-app-stage" || got.Environment.BuildSid != got.Build.SID ||
		got.Build.Status != "completed" || got.Build.FunctionVersions != 1 || len(got.Build.Dependencies) != 1 ||
		got.Deployment.BuildSid != got.Build.SID || got.Deployment.EnvironmentSid != got.Environment.SID ||
		got.Listed.Services != 1 || strings.Join(got.Listed.Functions, ",") != "/hello" || len(got.Listed.Versions) != 1 || got.Listed.Versions[0][1] != "public" ||
		got.Content != "exports.handle" || got.NotFound.Status != 404 || got.NotFound.Code != 20404 {
		t.Errorf("twilio-node saw %+v", got)
	}
	r := g.post(t, "/fn/sdk-app-stage/hello", url.Values{}, false)
	if r.status != 200 || !strings.Contains(r.body, "<Say>Hi from the SDK</Say>") {
		t.Errorf("deployed function: %d %s", r.status, r.body)
	}
	if a := g.get(t, "/fn/sdk-app-stage/greeting.txt"); a.body != "hello asset" {
		t.Errorf("deployed asset: %q", a.body)
	}
	// The API needs the account's credentials.
	req, _ := http.NewRequest(http.MethodGet, g.srv.URL+"/v1/Services", nil)
	req.SetBasicAuth(testAccount, "wrong")
	if r := do(t, req); r.status != 401 || !strings.Contains(r.body, `"code":20003`) {
		t.Errorf("bad credentials: %d %s", r.status, r.body)
	}
}

// TestGetTwilioClientReachesTheGateway: context.getTwilioClient() sends
// REST requests to this gateway with the account's credentials.
func TestGetTwilioClientReachesTheGateway(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	var (
		mu   sync.Mutex
		seen url.Values
		user string
	)
	g.srv.Config.Handler.(*http.ServeMux).HandleFunc("POST /2010-04-01/Accounts/{sid}/Calls.json", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		seen, user = r.PostForm, r.PathValue("sid")
		if u, p, _ := r.BasicAuth(); u != testAccount || p != testToken {
			user = "bad credentials"
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"}`))
	})
	g.deploy(t, "caller", "project")
	r := g.post(t, "/fn/caller/call", url.Values{"To": {"sip:bob@127.0.0.1"}, "Url": {"http://example.test/twiml"}}, false)
	if r.status != 200 || r.body != `{"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"}` {
		t.Fatalf("%d %s\n%s", r.status, r.body, g.logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if user != testAccount || seen.Get("To") != "sip:bob@127.0.0.1" || seen.Get("Url") != "http://example.test/twiml" || seen.Get("From") != "+15550009999" {
		t.Errorf("the gateway saw account %q form %v", user, seen)
	}
	if !hasLine(g.logs.String(), "placed call CA0123456789abcdef0123456789abcdef", "path=/call") {
		t.Errorf("console.log of the async handler missing:\n%s", g.logs)
	}
}
