package taskrouter

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestRESTShapes: Twilio's error JSON for 404, 405 and 400; paging with
// meta and next_page_url.
func TestRESTShapes(t *testing.T) {
	r, _ := newTestRouter(t, Options{AccountSID: "AC00000000000000000000000000000001"})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	do := func(method, path string, form url.Values) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp.Header
	}
	st, body, _ := do("POST", "/v1/Workspaces", url.Values{"FriendlyName": {"w"}})
	if st != 201 || body["account_sid"] != "AC00000000000000000000000000000001" || body["links"] == nil {
		t.Fatalf("create: %d %v", st, body)
	}
	ws := body["sid"].(string)
	for i := range 3 {
		do("POST", "/v1/Workspaces/"+ws+"/TaskQueues", url.Values{"FriendlyName": {string(rune('a' + i))}})
	}
	st, body, _ = do("GET", "/v1/Workspaces/"+ws+"/TaskQueues?PageSize=2", nil)
	meta, _ := body["meta"].(map[string]any)
	if st != 200 || len(body["task_queues"].([]any)) != 2 || meta["key"] != "task_queues" || meta["next_page_url"] == nil {
		t.Fatalf("page 0: %d %v", st, body)
	}
	next, _ := url.Parse(meta["next_page_url"].(string))
	st, body, _ = do("GET", next.RequestURI(), nil)
	if meta, _ := body["meta"].(map[string]any); st != 200 || len(body["task_queues"].([]any)) != 1 || meta["next_page_url"] != nil {
		t.Fatalf("page 1: %d %v", st, body)
	}
	st, body, _ = do("GET", "/v1/Workspaces/"+ws+"/Tasks/WT00000000000000000000000000000000", nil)
	if st != 404 || body["code"] != 20404.0 || body["status"] != 404.0 || body["more_info"] == nil {
		t.Errorf("404: %d %v", st, body)
	}
	st, body, hdr := do("PUT", "/v1/Workspaces/"+ws, nil)
	if st != 405 || body["code"] != 20004.0 || !strings.Contains(hdr.Get("Allow"), "GET") {
		t.Errorf("405: %d %v %v", st, body, hdr)
	}
	st, body, _ = do("POST", "/v1/Workspaces/"+ws+"/Tasks", url.Values{"Priority": {"high"}})
	if st != 400 || body["code"] != 20001.0 {
		t.Errorf("400: %d %v", st, body)
	}
	st, _, _ = do("GET", "/v1/Nothing", nil)
	if st != 404 {
		t.Errorf("unknown path: %d", st)
	}
}
