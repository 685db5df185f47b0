package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/voxgate/voxgate/store"
)

// BenchmarkFetchCall measures GET Calls/{Sid}.json in process: routing,
// auth, one store read and the JSON encoding. Not a per-packet path; the
// figures are for capacity planning.
func BenchmarkFetchCall(b *testing.B) {
	st, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, err := st.PutCall(context.Background(), store.Call{SID: "CA0123456789abcdef0123456789abcdef", AccountSID: testAccount,
		From: "+1555", To: "+1666", Direction: "inbound", Status: store.CallInProgress})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(Options{AccountSID: testAccount, AuthToken: testToken, Store: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	req := httptest.NewRequest(http.MethodGet, base+"/Calls/"+c.SID+".json", nil)
	req.SetBasicAuth(testAccount, testToken)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
