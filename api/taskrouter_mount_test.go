package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTaskRouterMountedBehindCredentials: /v1/Workspaces reaches the
// TaskRouter handler only with the account's Basic credentials.
func TestTaskRouterMountedBehindCredentials(t *testing.T) {
	var reached []string
	tr := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	srv := httptest.NewServer(NewHandler(Options{AccountSID: testAccount, AuthToken: testToken, TaskRouter: tr}))
	defer srv.Close()
	for _, c := range []struct {
		path       string
		user, pass string
		want       int
	}{
		{"/v1/Workspaces", testAccount, testToken, http.StatusTeapot},
		{"/v1/Workspaces/WS1/Tasks", testAccount, testToken, http.StatusTeapot},
		{"/v1/Workspaces", testAccount, "wrong", http.StatusUnauthorized},
		{"/v1/Workspaces/WS1", "", "", http.StatusUnauthorized},
		{"/v1/Other", testAccount, testToken, http.StatusNotFound},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, c.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s as %q: %d, want %d", c.path, c.user, resp.StatusCode, c.want)
		}
	}
	if len(reached) != 2 {
		t.Errorf("TaskRouter handler reached for %v", reached)
	}
}
