package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// mediaServer is an app's Media Streams WebSocket server: it records every
// message with its arrival time, and runs script on each connection (to
// send audio, marks, close).
type mediaServer struct {
	t      *testing.T
	srv    *httptest.Server
	script func(c *websocket.Conn, streamSid string, s *mediaServer)
	mu     sync.Mutex
	msgs   []streamMsg
	hdr    http.Header
	closed chan struct{} // closed when a connection ends
}

type streamMsg struct {
	m  map[string]any
	at time.Time
}

func newMediaServer(t *testing.T, script func(c *websocket.Conn, streamSid string, s *mediaServer)) *mediaServer {
	s := &mediaServer{t: t, script: script, closed: make(chan struct{}, 8)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *mediaServer) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/media" }

func (s *mediaServer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { s.closed <- struct{}{} }()
	c.SetReadLimit(1 << 20)
	s.mu.Lock()
	s.hdr = r.Header.Clone()
	s.mu.Unlock()
	started := false
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			s.t.Errorf("stream message is not JSON: %q", data)
			continue
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, streamMsg{m, time.Now()})
		s.mu.Unlock()
		if m["event"] == "start" && !started && s.script != nil {
			started = true
			go s.script(c, m["streamSid"].(string), s)
		}
	}
}

// events returns the messages of one kind (all with "").
func (s *mediaServer) events(kind string) []streamMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []streamMsg
	for _, m := range s.msgs {
		if kind == "" || m.m["event"] == kind {
			out = append(out, m)
		}
	}
	return out
}

// track decodes the media of one track ("inbound", "outbound") to audio.
func (s *mediaServer) track(name string) []float64 {
	var out []float64
	for _, m := range s.events("media") {
		media := m.m["media"].(map[string]any)
		if media["track"] != name {
			continue
		}
		b, _ := base64.StdEncoding.DecodeString(media["payload"].(string))
		for _, c := range b {
			out = append(out, float64(g711.DecodeUlawFrame(c))/32768)
		}
	}
	return out
}

func wsSend(c *websocket.Conn, v any) error {
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}

// ulaw encodes audio as μ-law.
func ulaw(x []float64) []byte {
	out := make([]byte, len(x))
	for i, v := range x {
		out[i] = g711.EncodeUlawFrame(int16(max(-32768, min(32767, v*32768))))
	}
	return out
}

// speak sends pcm to wherever the gateway's RTP comes from, as PCMU, once
// it comes, after delay; silence before and after, until stop closes.
// timedKey is a key the caller presses (RFC 4733, payload type 101) at
// a time after its RTP starts.
type timedKey struct {
	at  time.Duration
	key byte
}

func (p *rtpPeer) speak(t *testing.T, pcm []float64, delay time.Duration, stop <-chan struct{}, keys ...timedKey) {
	t.Helper()
	go func() {
		var dst *net.UDPAddr
		for range 500 {
			if dst = p.source(); dst != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if dst == nil {
			return
		}
		silence := int(delay / (20 * time.Millisecond))
		seq, ts := uint16(1), uint32(0)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		keyAt := map[int]byte{}
		for _, k := range keys {
			keyAt[int(k.at/(20*time.Millisecond))] = k.key
		}
		event, eventTS, eventLeft := byte(0), uint32(0), 0
		for i := 0; ; i++ {
			if k, ok := keyAt[i]; ok {
				event, eventTS, eventLeft = byte(strings.IndexByte("0123456789*#", k)), ts, 6
			}
			if eventLeft > 0 {
				// 6 packets of one 120 ms event, the last three with the
				// end bit (RFC 4733's retransmitted end).
				n := 6 - eventLeft + 1
				flags := byte(10) // volume
				if n >= 4 {
					flags |= 0x80
				}
				dur := uint16(160 * min(n, 4))
				pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: eventTS, SSRC: 0x5eed, Marker: n == 1},
					Payload: []byte{event, flags, byte(dur >> 8), byte(dur)}}
				raw, _ := pkt.Marshal()
				if _, err := p.conn.WriteToUDP(raw, dst); err != nil {
					return
				}
				eventLeft--
				seq++
				ts += 160
				select {
				case <-tick.C:
				case <-stop:
					return
				}
				continue
			}
			payload := make([]byte, 160)
			for j := range payload {
				k := (i-silence)*160 + j
				v := 0.0
				if k >= 0 && k < len(pcm) {
					v = pcm[k]
				}
				payload[j] = g711.EncodeUlawFrame(int16(v * 32767))
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 0x5eed}, Payload: payload}
			raw, _ := pkt.Marshal()
			if _, err := p.conn.WriteToUDP(raw, dst); err != nil {
				return
			}
			seq++
			ts += 160
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
}

// TestMediaStreamConnect: <Connect><Stream> on a SIPp call. The app's
// server hears what the caller says (compared with what was sent), sends a
// spoken reply that the caller hears (compared with espeak-ng's
// rendering), gets its mark back once the reply has played, then closes
// the stream; <Connect action> runs next and hangs up.
func TestMediaStreamConnect(t *testing.T) {
	callerSays := reference(t, "en-us", "I would like to speak to somebody about my order")
	reply := reference(t, "en-us", "Sure, I can help you with your order today")
	var markSent time.Time
	ms := newMediaServer(t, func(c *websocket.Conn, sid string, s *mediaServer) {
		audio := ulaw(reply)
		for _, cut := range [][2]int{{0, 1000}, {1000, 4333}, {4333, len(audio)}} {
			if err := wsSend(c, map[string]any{"event": "media", "streamSid": sid, "media": map[string]any{"payload": base64.StdEncoding.EncodeToString(audio[cut[0]:cut[1]])}}); err != nil {
				return
			}
		}
		markSent = time.Now()
		wsSend(c, map[string]any{"event": "mark", "streamSid": sid, "mark": map[string]any{"name": "reply-done"}})
		// Hang on until the caller has finished speaking, then end the stream.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && (len(s.events("mark")) == 0 || len(s.events("dtmf")) == 0 || len(s.track("inbound")) < len(callerSays)+16000) {
			time.Sleep(50 * time.Millisecond)
		}
		c.Close(websocket.StatusNormalClosure, "done")
	})
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Connect action="/after"><Stream url=%q><Parameter name="who" value="e2e"/></Stream></Connect><Say>not reached</Say></Response>`, ms.url()))
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	stop := make(chan struct{})
	defer close(stop)
	// The caller speaks, then presses 5 (RFC 4733: telephone-event is
	// offered).
	peer.speak(t, callerSays, 500*time.Millisecond, stop, timedKey{at: 500*time.Millisecond + time.Duration(len(callerSays))*time.Second/8000 + 300*time.Millisecond, key: '5'})
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0 101"}, 60*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}

	voice := a.requests("/voice")
	if len(voice) != 1 {
		t.Fatalf("voice requests: %d", len(voice))
	}
	starts := ms.events("start")
	if len(starts) != 1 {
		t.Fatalf("start messages: %d", len(starts))
	}
	start := starts[0].m["start"].(map[string]any)
	if start["callSid"] != voice[0].Form.Get("CallSid") || fmt.Sprint(start["customParameters"]) != "map[who:e2e]" || fmt.Sprint(start["tracks"]) != "[inbound]" {
		t.Errorf("start = %v", start)
	}
	if corr, _ := xcorrPeak(ms.track("inbound"), callerSays); corr < 0.9 {
		t.Errorf("the server's inbound audio correlates %.3f with what the caller said, want >= 0.9", corr)
	}
	heard := decode(peer.packets(), 0)
	if corr, _ := xcorrPeak(heard, reply); corr < 0.9 {
		t.Errorf("the caller's audio correlates %.3f with the server's reply, want >= 0.9", corr)
	}
	marks := ms.events("mark")
	if len(marks) != 1 || marks[0].m["mark"].(map[string]any)["name"] != "reply-done" {
		t.Fatalf("mark echoes: %v", marks)
	}
	playTime := time.Duration(len(reply)) * time.Second / 8000
	if waited := marks[0].at.Sub(markSent); waited < playTime-200*time.Millisecond {
		t.Errorf("the mark came back %v after it was sent, before its %v of audio could have played", waited, playTime)
	}
	dtmf := ms.events("dtmf")
	if len(dtmf) != 1 || fmt.Sprint(dtmf[0].m["dtmf"]) != "map[digit:5 track:inbound_track]" {
		t.Errorf("dtmf messages %v, want one for 5", dtmf)
	}
	a.waitRequests(t, "/after", 1, 5*time.Second)
	if got := a.requests("/after")[0].Form.Get("CallSid"); got != voice[0].Form.Get("CallSid") {
		t.Errorf("Connect action CallSid %q", got)
	}
}

// TestGatherSpeech: <Gather input="speech" hints> hears a caller say one of
// the hints (espeak-ng speech sent as PCMU) and posts SpeechResult.
func TestGatherSpeech(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Gather input="speech" hints="sales, support, billing" speechTimeout="auto" timeout="6" action="/heard"><Say>Which department would you like?</Say></Gather><Say>We did not hear you.</Say></Response>`)
	a.twiml("/heard", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	stop := make(chan struct{})
	defer close(stop)
	peer.speak(t, reference(t, "en-us", "billing"), 2500*time.Millisecond, stop)
	if msg := <-g.waitingCaller(t, peer, "caller: ", 60*time.Second); msg != "" {
		t.Fatal(msg)
	}
	heard := a.waitRequests(t, "/heard", 1, 5*time.Second)
	if got := heard[0].Form.Get("SpeechResult"); got != "billing" {
		t.Errorf("SpeechResult = %q, want billing (form %v)", got, heard[0].Form)
	}
}

// TestStartStreamForksBothTracks: <Start><Stream track="both_tracks">
// forks the call while <Say> plays; the server gets the caller on the
// inbound track and the Say on the outbound one; <Stop><Stream> stops it
// with a stop message, and the status callbacks report it.
func TestStartStreamForksBothTracks(t *testing.T) {
	said := "This call is being streamed to a robot"
	ms := newMediaServer(t, nil)
	a := newApp(t)
	a.handle("/streamstatus", func(webhookRequest) (int, string, string) { return 204, "text/plain", "" })
	a.twiml("/voice", fmt.Sprintf(`<Response><Start><Stream name="fork" url=%q track="both_tracks" statusCallback="/streamstatus"/></Start><Say>%s</Say><Stop><Stream name="fork"/></Stop><Pause length="1"/><Hangup/></Response>`, ms.url(), said))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	stop := make(chan struct{})
	defer close(stop)
	callerSays := reference(t, "en-us", "hello hello")
	peer.speak(t, callerSays, 300*time.Millisecond, stop)
	if msg := <-g.waitingCaller(t, peer, "caller: ", 60*time.Second); msg != "" {
		t.Fatal(msg)
	}
	select {
	case <-ms.closed:
	case <-time.After(10 * time.Second):
		t.Fatalf("the stream never connected or never ended (%d messages)", len(ms.events("")))
	}
	if corr, _ := xcorrPeak(ms.track("outbound"), reference(t, "en-us", said)); corr < 0.9 {
		t.Errorf("the outbound track correlates %.3f with the Say, want >= 0.9", corr)
	}
	if corr, _ := xcorrPeak(ms.track("inbound"), callerSays); corr < 0.9 {
		t.Errorf("the inbound track correlates %.3f with the caller, want >= 0.9", corr)
	}
	all := ms.events("")
	if last := all[len(all)-1].m; last["event"] != "stop" {
		t.Errorf("the last message is %v, want stop", last["event"])
	}
	cbs := a.waitRequests(t, "/streamstatus", 2, 5*time.Second)
	if cbs[0].Form.Get("StreamEvent") != "stream-started" || cbs[1].Form.Get("StreamEvent") != "stream-stopped" || cbs[0].Form.Get("StreamName") != "fork" {
		t.Errorf("stream callbacks: %v / %v", cbs[0].Form, cbs[1].Form)
	}
}

// TestStudioGatherSpeech: a Studio flow's gather-input-on-call takes its
// speech transition when the caller says one of its hints; the HTTP widget
// after it gets widgets.menu.SpeechResult.
func TestStudioGatherSpeech(t *testing.T) {
	a := newApp(t)
	a.handle("/heard", func(webhookRequest) (int, string, string) { return 200, "application/json", `{}` })
	flow := fmt.Sprintf(`{"description": "speech menu", "flags": {"allow_concurrent_calls": true}, "initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingMessage"}, {"event": "incomingCall", "next": "menu"}, {"event": "incomingRequest"}]},
	  {"name": "menu", "type": "gather-input-on-call", "properties": {"say": "Which department would you like?", "hints": "sales, support, billing", "speech_timeout": "auto", "timeout": 6},
	   "transitions": [{"event": "keypress", "next": "bye"}, {"event": "speech", "next": "tell"}, {"event": "timeout", "next": "bye"}]},
	  {"name": "tell", "type": "make-http-request", "properties": {"method": "GET", "content_type": "application/x-www-form-urlencoded;charset=utf-8", "url": "%s/heard?said={{widgets.menu.SpeechResult | url_encode}}"},
	   "transitions": [{"event": "success", "next": "bye"}, {"event": "failed", "next": "bye"}]},
	  {"name": "bye", "type": "say-play", "properties": {"say": "Goodbye."}, "transitions": [{"event": "audioComplete"}]}]}`, a.url(""))
	path := filepath.Join(t.TempDir(), "speech.json")
	if err := os.WriteFile(path, []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, gatewayOpts{flow: path, extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	stop := make(chan struct{})
	defer close(stop)
	peer.speak(t, reference(t, "en-us", "support"), 2500*time.Millisecond, stop)
	if msg := <-g.waitingCaller(t, peer, "caller: ", 60*time.Second); msg != "" {
		t.Fatal(msg)
	}
	heard := a.waitRequests(t, "/heard", 1, 5*time.Second)
	if got := heard[0].Form.Get("said"); got != "support" {
		t.Errorf("the flow's HTTP widget got said=%q, want support", got)
	}
}

// TestMediaStreamUnreachableAndREST: a <Connect><Stream> to a closed port
// fails (31902 in the log) and the call goes on with the next verb; while
// that verb plays, the REST API forks the call to a server by
// Calls/{Sid}/Streams.json and stops it by name.
func TestMediaStreamUnreachableAndREST(t *testing.T) {
	closed := freePort(t)
	ms := newMediaServer(t, nil)
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Connect><Stream url="ws://127.0.0.1:%d/x"/></Connect><Say>The robot is away, please hold on.</Say><Pause length="6"/><Hangup/></Response>`, closed))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	stop := make(chan struct{})
	defer close(stop)
	peer.speak(t, reference(t, "en-us", "hello, is anybody there"), 0, stop) // then silence: RTP all along
	done := g.waitingCaller(t, peer, "caller: ", 60*time.Second)
	callSid := a.waitRequests(t, "/voice", 1, 10*time.Second)[0].Form.Get("CallSid")
	// Wait for the call's audio: the call is answered and in progress.
	for i := 0; i < 100 && peer.source() == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	base := "Calls/" + callSid + "/Streams"
	code, created := restPost(t, g, base+".json", url.Values{"Url": {ms.url()}, "Name": {"rest"}, "Parameter1.Name": {"via"}, "Parameter1.Value": {"rest"}})
	if code != http.StatusCreated || created["name"] != "rest" || created["status"] != "in-progress" || created["call_sid"] != callSid {
		t.Fatalf("create: %d %v", code, created)
	}
	waitFor(t, "media from the REST stream", func() bool { return len(ms.events("media")) >= 25 })
	code, stopped := restPost(t, g, base+"/rest.json", url.Values{"Status": {"stopped"}})
	if code != http.StatusOK || stopped["status"] != "stopped" || stopped["sid"] != created["sid"] {
		t.Errorf("stop: %d %v", code, stopped)
	}
	waitFor(t, "stop", func() bool { return len(ms.events("stop")) == 1 })
	if p := ms.events("start")[0].m["start"].(map[string]any)["customParameters"]; fmt.Sprint(p) != "map[via:rest]" {
		t.Errorf("customParameters %v", p)
	}
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	if !strings.Contains(g.Logs(), "error_code=31902") {
		t.Errorf("the log does not name error 31902 for the closed port")
	}
	if corr, _ := xcorrPeak(decode(peer.packets(), 0), reference(t, "en-us", "The robot is away, please hold on.")); corr < 0.9 {
		t.Errorf("after the failed stream the caller heard something else than the next <Say> (correlation %.3f)", corr)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
