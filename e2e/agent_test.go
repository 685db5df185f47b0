package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/zaf/g711"
)

// pionAgent is a browser agent played by pion: it signs in on the real
// WebSocket, accepts an offer with a PCMU peer connection, sends a tone
// and keeps what it hears.
type pionAgent struct {
	t    *testing.T
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	mu   sync.Mutex
	got  []float64
	msgs chan map[string]any
}

func newPionAgent(t *testing.T, httpURL, id, secret string) *pionAgent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(httpURL, "http") + "/agent/ws"
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {httpURL}}})
	if err != nil {
		t.Fatalf("agent websocket: %v", err)
	}
	a := &pionAgent{t: t, ws: ws, msgs: make(chan map[string]any, 64)}
	go func() {
		defer close(a.msgs)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(data, &m) == nil {
				a.msgs <- m
			}
		}
	}()
	t.Cleanup(func() {
		ws.Close(websocket.StatusNormalClosure, "")
		if a.pc != nil {
			a.pc.Close()
		}
	})
	a.send(map[string]any{"type": "signin", "id": id, "secret": secret})
	a.expect("ok", 5*time.Second)
	a.send(map[string]any{"type": "available", "value": true})
	return a
}

func (a *pionAgent) send(m map[string]any) {
	data, _ := json.Marshal(m)
	if err := a.ws.Write(context.Background(), websocket.MessageText, data); err != nil {
		a.t.Fatalf("agent send: %v", err)
	}
}

// expect waits for a message of the given type (others are skipped).
func (a *pionAgent) expect(typ string, within time.Duration) map[string]any {
	a.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-a.msgs:
			if !ok {
				a.t.Fatalf("agent socket closed waiting for %q", typ)
			}
			if m["type"] == "error" {
				a.t.Fatalf("agent got an error: %v", m)
			}
			if m["type"] == typ {
				return m
			}
		case <-deadline:
			a.t.Fatalf("agent: no %q message", typ)
		}
	}
}

// accept answers the offer with a PCMU peer connection sending toneHz.
func (a *pionAgent) accept(offerID string, toneHz float64) {
	a.t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0}, webrtc.RTPCodecTypeAudio); err != nil {
		a.t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(0)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		a.t.Fatal(err)
	}
	a.pc = pc
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "audio", "agent")
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		a.t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			a.mu.Lock()
			for _, b := range pkt.Payload {
				a.got = append(a.got, float64(g711.DecodeUlawFrame(b))/32768)
			}
			a.mu.Unlock()
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		a.t.Fatal(err)
	}
	<-gathered
	a.send(map[string]any{"type": "accept", "offerId": offerID, "sdp": pc.LocalDescription().SDP})
	ans := a.expect("answer", 10*time.Second)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans["sdp"].(string)}); err != nil {
		a.t.Fatal(err)
	}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		n := 0
		for range 1500 {
			frame := make([]byte, 160)
			for j := range frame {
				frame[j] = g711.EncodeUlawFrame(int16(10000 * math.Sin(2*math.Pi*toneHz*float64(n)/8000)))
				n++
			}
			if err := track.WriteSample(pionmedia.Sample{Data: frame, Duration: 20 * time.Millisecond}); err != nil {
				return
			}
			<-tick.C
			if pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
				return
			}
		}
	}()
}

func (a *pionAgent) heard() []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]float64(nil), a.got...)
}

const agentYAML = `agents:
  - id: alice
    name: Alice
    secret: alice-secret-1
    queues: [support]
queues:
  offer_timeout: 10s
  wrap_up: 1s
`

// TestQueueToBrowserAgent: a SIPp caller enqueues and hears hold music; an
// agent (pion, over the real /agent WebSocket) accepts; audio flows both
// ways; the agent hangs up and the caller's action gets QueueResult=bridged.
func TestQueueToBrowserAgent(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Enqueue action="/after"><Task priority="5">{"reason":"billing"}</Task>support</Enqueue></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + agentYAML})
	peer := newRTPPeer(t)
	peer.talk(t, 20*time.Second) // the caller says 1 kHz
	sippDone := g.waitingCaller(t, peer, "", 40*time.Second)
	// Hold music first.
	time.Sleep(2 * time.Second)
	hold := decode(peer.packets(), 0)
	if rms(hold) < 0.01 {
		t.Errorf("the caller heard silence while queued (rms %.4f), want hold music", rms(hold))
	}
	agent := newPionAgent(t, g.httpURL, "alice", "alice-secret-1")
	offer := agent.expect("offer", 10*time.Second)["offer"].(map[string]any)
	if offer["from"] != "+15550001111" || offer["queue"] != "support" {
		t.Errorf("offer %v", offer)
	}
	if attrs, _ := offer["attributes"].(map[string]any); attrs["reason"] != "billing" {
		t.Errorf("offer attributes %v, want the <Task> JSON", offer["attributes"])
	}
	heldPackets := len(peer.packets())
	agent.accept(offer["id"].(string), 600)
	agent.expect("accepted", 15*time.Second)
	time.Sleep(3 * time.Second)
	if got := dominantFraction(agent.heard(), 1000); got < 0.8 {
		t.Errorf("the agent did not hear the caller's 1 kHz tone (best fraction %.2f, %d samples)", got, len(agent.heard()))
	}
	after := decode(peer.packets()[heldPackets:], 0)
	if got := dominantFraction(after, 600); got < 0.8 {
		t.Errorf("the caller did not hear the agent's 600 Hz tone (best fraction %.2f)", got)
	}
	agent.send(map[string]any{"type": "hangup"})
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("QueueResult") != "bridged" || f.Get("QueueSid") == "" {
		t.Errorf("Enqueue action %v, want QueueResult=bridged", f)
	}
}

// TestDialClientRingsBrowserAgent: <Dial><Client>alice</Client> rings the
// signed-in agent directly; she accepts, audio flows, she hangs up, and the
// Dial's action gets completed.
func TestDialClientRingsBrowserAgent(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Dial action="/after" timeout="15"><Client>alice</Client></Dial></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + agentYAML})
	agent := newPionAgent(t, g.httpURL, "alice", "alice-secret-1")
	peer := newRTPPeer(t)
	peer.talk(t, 20*time.Second)
	sippDone := g.waitingCaller(t, peer, "", 40*time.Second)
	offer := agent.expect("offer", 10*time.Second)["offer"].(map[string]any)
	if offer["queue"] != "" && offer["queue"] != nil {
		t.Errorf("a direct ring came with queue %v", offer["queue"])
	}
	agent.accept(offer["id"].(string), 600)
	agent.expect("accepted", 15*time.Second)
	time.Sleep(2 * time.Second)
	if got := dominantFraction(agent.heard(), 1000); got < 0.8 {
		t.Errorf("the agent did not hear the caller (best 1 kHz fraction %.2f)", got)
	}
	agent.send(map[string]any{"type": "hangup"})
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("DialCallStatus") != "completed" || f.Get("DialBridged") != "true" {
		t.Errorf("Dial action %v", f)
	}
}

// TestDialQueueBetweenSIPCallers: caller 1 waits in "support"; caller 2's
// <Dial><Queue url> takes it: caller 1 hears the url's announcement, then
// the two talk (caller 2's tone reaches caller 1) in a conference room
// named after caller 1 until caller 2 hangs up.
func TestDialQueueBetweenSIPCallers(t *testing.T) {
	a := newApp(t)
	var mu sync.Mutex
	n := 0
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			return 200, "text/xml", `<Response><Enqueue waitUrl="">support</Enqueue></Response>`
		}
		return 200, "text/xml", `<Response><Dial action="/dialed"><Queue url="/announce">support</Queue></Dial></Response>`
	})
	a.twiml("/announce", `<Response><Say>An agent is taking your call.</Say></Response>`)
	a.twiml("/dialed", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	waiter := newRTPPeer(t)
	done1 := g.waitingCaller(t, waiter, "waiting caller: ", 40*time.Second)
	a.waitRequests(t, "/voice", 1, 10*time.Second)
	time.Sleep(time.Second)
	dequeuer := newRTPPeer(t)
	dequeuer.talk(t, 15*time.Second)
	code, out := g.sipp(t, "udp", "uac_hangup.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(dequeuer.port()), "pause_ms": "8000"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("dequeuing caller: sipp exit %d\n%s", code, out)
	}
	if msg := <-done1; msg != "" {
		t.Fatal(msg)
	}
	ann := a.waitRequests(t, "/announce", 1, 5*time.Second)[0].Form
	if ann.Get("DequeingCallSid") == "" || ann.Get("QueueSid") == "" {
		t.Errorf("announcement request %v, want DequeingCallSid and QueueSid", ann)
	}
	rx := decode(waiter.packets(), 0)
	if c, _ := xcorrPeak(rx, reference(t, "en-us", "An agent is taking your call.")); c < 0.9 {
		t.Errorf("the waiting caller did not hear the announcement (correlation %.2f)", c)
	}
	if got := dominantFraction(rx, 1000); got < 0.8 {
		t.Errorf("the waiting caller did not hear the dequeuer (best 1 kHz fraction %.2f)", got)
	}
	if f := a.waitRequests(t, "/dialed", 1, 5*time.Second)[0].Form; f.Get("DialCallStatus") != "completed" {
		t.Errorf("Dial action %v", f)
	}
	if !strings.Contains(g.Logs(), "ivr: caller and agent in a conference") {
		t.Error("the dequeued caller and the dequeuer were not put in a conference room (the desktop's controls need one)")
	}
}
