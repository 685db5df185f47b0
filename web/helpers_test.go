package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
)

// testLogger discards logs unless VOXGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("VOXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testAgents are the accounts of every test server.
var testAgents = []AgentAccount{
	{ID: "alice", Name: "Alice Martin", Secret: "s3cret-alice", Queues: []string{"support", "sales"}},
	{ID: "bob", Name: "Bob", Secret: "bob-pw", Queues: []string{"sales"}},
}

// newServer starts the handler over a fresh Manager.
func newServer(t *testing.T, cfg queue.Config) (*httptest.Server, *queue.Manager) {
	t.Helper()
	cfg.Logger = testLogger()
	mgr := queue.NewManager(cfg)
	srv := httptest.NewServer(NewHandler(Options{Manager: mgr, Agents: testAgents, Logger: testLogger()}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		mgr.Close()
	})
	return srv, mgr
}

// message is any message from the gateway, decoded loosely.
type message map[string]any

func (m message) str(key string) string { s, _ := m[key].(string); return s }

// page is a test client standing in for the agent page: the WebSocket, and
// a pion PeerConnection standing in for the browser's WebRTC.
type page struct {
	t       *testing.T
	ws      *websocket.Conn
	msgs    chan message
	stashed []message
	pc      *pion.PeerConnection
	mic     *pion.TrackLocalStaticRTP
	rtp     chan *rtp.Packet
}

// openPage connects a page to srv; it is closed at cleanup.
func openPage(t *testing.T, srv *httptest.Server) *page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/agent/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	p := &page{t: t, ws: ws, msgs: make(chan message, 100)}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(p.msgs)
		for {
			var m message
			if err := wsjson.Read(context.Background(), ws, &m); err != nil {
				return
			}
			p.msgs <- m
		}
	})
	t.Cleanup(func() {
		ws.CloseNow()
		wg.Wait()
		if p.pc != nil {
			p.pc.Close()
		}
	})
	return p
}

// send writes a message to the gateway.
func (p *page) send(v any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, p.ws, v); err != nil {
		p.t.Fatalf("send %v: %v", v, err)
	}
}

// expect returns the first message of type typ for which match (if any)
// holds, waiting up to 10 s. Other messages are kept for later expects.
func (p *page) expect(typ string, match func(message) bool) message {
	p.t.Helper()
	for i, m := range p.stashed {
		if m.str("type") == typ && (match == nil || match(m)) {
			p.stashed = append(p.stashed[:i], p.stashed[i+1:]...)
			return m
		}
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-p.msgs:
			if !ok {
				p.t.Fatalf("socket closed while waiting for %q (stashed %v)", typ, p.stashed)
			}
			if m.str("type") == typ && (match == nil || match(m)) {
				return m
			}
			p.stashed = append(p.stashed, m)
		case <-timeout:
			p.t.Fatalf("no %q message within 10 s (got %v)", typ, p.stashed)
		}
	}
}

// signIn signs in as alice and makes her available.
func (p *page) signIn(id, secret string) message {
	p.t.Helper()
	p.send(map[string]any{"type": "signin", "id": id, "secret": secret})
	return p.expect("ok", func(m message) bool { return m.str("for") == "signin" })
}

// newPeer creates the page's PeerConnection with a PCMU microphone track,
// offering Opus first as browsers do, and returns its offer with all
// candidates.
func (p *page) newPeer() string {
	t := p.t
	t.Helper()
	m := &pion.MediaEngine{}
	for _, c := range []pion.RTPCodecParameters{
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
	} {
		if err := m.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var s pion.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	pc, err := pion.NewAPI(pion.WithMediaEngine(m), pion.WithSettingEngine(s)).NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p.pc = pc
	p.mic, err = pion.NewTrackLocalStaticRTP(pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, "mic", "page")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(p.mic); err != nil {
		t.Fatal(err)
	}
	p.rtp = make(chan *rtp.Packet, 2000)
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case p.rtp <- pkt:
			default:
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := pion.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// accept takes the offer: sends the page's SDP, applies the answer and
// waits for "accepted".
func (p *page) accept(offerID string) message {
	p.t.Helper()
	p.send(map[string]any{"type": "accept", "offerId": offerID, "sdp": p.newPeer()})
	answer := p.expect("answer", nil)
	if answer.str("offerId") != offerID {
		p.t.Errorf("answer for %q, want %q", answer.str("offerId"), offerID)
	}
	if err := p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer.str("sdp")}); err != nil {
		p.t.Fatalf("set answer: %v", err)
	}
	return p.expect("accepted", nil)
}

// speak sends pcm from the page's microphone as 20 ms PCMU packets in real
// time.
func (p *page) speak(pcm []int16) {
	p.t.Helper()
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		pkt := &rtp.Packet{
			Header:  rtp.Header{Version: 2, SequenceNumber: uint16(i / media.FrameSamples), Timestamp: uint32(i), Marker: i == 0},
			Payload: media.PCMU.Encode(nil, pcm[i:i+media.FrameSamples]),
		}
		if err := p.mic.WriteRTP(pkt); err != nil {
			p.t.Fatalf("page send: %v", err)
		}
		<-tick.C
	}
}

// tone is d of a sine at freq hertz.
func tone(freq float64, d time.Duration, amplitude float64) []int16 {
	n := int(d.Seconds() * media.SampleRate)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amplitude * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate))
	}
	return out
}

// toneShare is the fraction of the energy of pcm found at freq (Goertzel):
// near 1 for a pure tone at freq, near 0 for silence or other tones.
func toneShare(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/media.SampleRate)
	var s1, s2, energy float64
	for _, v := range pcm {
		x := float64(v)
		s1, s2 = x+coeff*s1-s2, s1
		energy += x * x
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(pcm)) * energy)
}

// jsonString renders v for failure messages.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkNoLeaks fails the test if, once cleanup runs, the goroutine count
// does not come back to what it was when checkNoLeaks was called. Call it
// first: cleanups run last in first out.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after cleanup\n%s", before, runtime.NumGoroutine(), buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
