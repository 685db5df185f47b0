package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequireAuth(t *testing.T) {
	const sid, token = "AC11111111111111111111111111111111", "22222222222222222222222222222222"
	h := RequireAuth(sid, token, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	for _, c := range []struct {
		user, pass string
		want       int
	}{{sid, token, http.StatusTeapot}, {sid, "wrong", 401}, {"", "", 401}} {
		r := httptest.NewRequest(http.MethodGet, "/v1/Services", nil)
		if c.user != "" {
			r.SetBasicAuth(c.user, c.pass)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s:%s → %d, want %d", c.user, c.pass, w.Code, c.want)
		}
		if w.Code == 401 && (!strings.Contains(w.Body.String(), `"code":20003`) || w.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("401 without Twilio's error: %s %v", w.Body, w.Header())
		}
	}
}
