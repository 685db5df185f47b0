package sip

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// TestMediaEnded checks Config.MediaEnded hears each call once, when it is
// over, with its leg's final statistics: the packets the shared scheduler
// sent while the call was up.
func TestMediaEnded(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	var mu sync.Mutex
	got := map[string][]media.RTPStats{}
	srv, stop := startServer(t, Config{MediaEnded: func(sid string, st media.RTPStats) {
		mu.Lock()
		got[sid] = append(got[sid], st)
		mu.Unlock()
	}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{CallSID: "CA00000000000000000000000000000042", To: uas.uri("bob"), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // about 15 packets
	mu.Lock()
	if len(got) != 0 {
		t.Errorf("MediaEnded called while the call is up: %v", got)
	}
	mu.Unlock()
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	waitFor(t, 5*time.Second, "MediaEnded", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	stop() // every call owner has returned: no second report may follow
	mu.Lock()
	defer mu.Unlock()
	reports := got[call.SID()]
	if len(got) != 1 || len(reports) != 1 {
		t.Fatalf("MediaEnded reports = %v, want one for %s", got, call.SID())
	}
	if st := reports[0]; st.PacketsSent < 5 || st.PacketsSent > 40 || st.LocalSSRC == 0 {
		t.Errorf("stats = %+v, want about 15 packets sent in 300 ms", st)
	}
}
