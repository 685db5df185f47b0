package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/dtmf"
)

// sippPcaps is where Debian's sip-tester package keeps SIPp's pcaps.
const sippPcaps = "/usr/share/sip-tester"

// digitGather answers every request with a one-key Gather whose action is
// /digit, so each key the caller presses produces one /digit request.
// finishOnKey="" makes # a key like any other (by default it ends the
// Gather and is not reported in Digits).
const digitGather = `<?xml version="1.0" encoding="UTF-8"?>
<Response><Gather numDigits="1" finishOnKey="" action="/digit" timeout="15"><Say>Press a key</Say></Gather></Response>`

// newDigitApp serves digitGather on /voice and /digit.
func newDigitApp(t *testing.T) *app {
	t.Helper()
	a := newApp(t)
	a.twiml("/voice", digitGather)
	a.twiml("/digit", digitGather)
	return a
}

// digitsOf concatenates the Digits of /digit requests, in the order they
// arrived, and checks each request carries exactly one key and no
// FinishedOnKey.
func digitsOf(t *testing.T, reqs []webhookRequest) string {
	t.Helper()
	var b strings.Builder
	for i, r := range reqs {
		d := r.Form.Get("Digits")
		if len(d) != 1 {
			t.Errorf("/digit request %d: Digits = %q, want one key", i+1, d)
		}
		if f := r.Form.Get("FinishedOnKey"); f != "" {
			t.Errorf("/digit request %d: FinishedOnKey = %q, want empty (numDigits ended the Gather)", i+1, f)
		}
		b.WriteString(d)
	}
	return b.String()
}

// Scenario pieces for uac_dtmf.xml.

// dtmfOffer returns the uac_dtmf.xml keys for an SDP offer of the payload
// types pts (0 PCMU, 8 PCMA, 101 telephone-event), in that order of
// preference: the m= line, an a=rtpmap line for each offered type only,
// and a regexp requiring the answer to keep the first codec and to carry
// telephone-event exactly when it was offered.
func dtmfOffer(t *testing.T, pts ...int) map[string]string {
	t.Helper()
	var list, maps []string
	codec, event := "", ""
	for _, pt := range pts {
		list = append(list, fmt.Sprint(pt))
		switch pt {
		case 0:
			maps = append(maps, "a=rtpmap:0 PCMU/8000")
		case 8:
			maps = append(maps, "a=rtpmap:8 PCMA/8000")
		case 101:
			maps = append(maps, "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16")
			event = " 101"
		default:
			t.Fatalf("dtmfOffer: payload type %d", pt)
		}
		if codec == "" && pt != 101 {
			codec = fmt.Sprint(pt)
		}
	}
	return map[string]string{
		"pts":       strings.Join(list, " "),
		"rtpmaps":   strings.Join(maps, "\n      "),
		"answer_re": "m=audio [0-9]+ RTP/AVP " + codec + event + "[^ 0-9]",
	}
}

// dtmfKeys merges scenario keys.
func dtmfKeys(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// dtmfPause is a SIPp pause step.
func dtmfPause(d time.Duration) string {
	return fmt.Sprintf("  <pause milliseconds=\"%d\"/>\n", d.Milliseconds())
}

// dtmfPlayPcap starts playing a pcap from the call's media port (it does
// not block: follow it with a pause).
func dtmfPlayPcap(path string) string {
	return fmt.Sprintf("  <nop><action><exec play_pcap_audio=%q/></action></nop>\n", path)
}

// dtmfKeyPcap is SIPp's RFC 2833 pcap for key.
func dtmfKeyPcap(t *testing.T, key byte) string {
	t.Helper()
	name := string(key)
	switch key {
	case '*':
		name = "star"
	case '#':
		name = "pound"
	default:
		if key < '0' || key > '9' {
			t.Fatalf("SIPp has no pcap for key %q", key)
		}
	}
	return filepath.Join(sippPcaps, "dtmf_2833_"+name+".pcap")
}

// dtmfPressKeys plays one RFC 2833 pcap per key, gap apart (start to start).
func dtmfPressKeys(t *testing.T, keys string, gap time.Duration) string {
	t.Helper()
	var b strings.Builder
	for i := range len(keys) {
		b.WriteString(dtmfPlayPcap(dtmfKeyPcap(t, keys[i])))
		b.WriteString(dtmfPause(gap))
	}
	return b.String()
}

// dtmfHangUp ends uac_dtmf.xml from the caller's side.
const dtmfHangUp = `  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <timewait milliseconds="200"/>`

// dtmfAwaitBye ends uac_dtmf.xml by waiting (up to d) for the gateway to
// hang up.
func dtmfAwaitBye(d time.Duration) string {
	return fmt.Sprintf(`  <recv request="BYE" timeout="%d"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <timewait milliseconds="200"/>`, d.Milliseconds())
}

// gatherLead is how long the callers wait after the ACK before the first
// key: the first Gather must be running by then, as keys pressed before a
// Gather starts do not count (no type-ahead, twiml-voice.md §2.4).
const gatherLead = 1500 * time.Millisecond

// cutPcap writes the first n packets of a pcap to a new classic-format pcap.
func cutPcap(t *testing.T, src string, n int) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "cut.pcap")
	if out, err := exec.Command("editcap", "-F", "pcap", "-r", src, dst, fmt.Sprintf("1-%d", n)).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, out)
	}
	return dst
}

// TestDTMFRFC4733AllDigits: SIPp presses every key with RFC 2833 packets
// replayed from its pcaps (one SSRC for all keys, different from the
// audio's; each key's own fixed timestamp, so timestamps go backwards), and
// every press reaches the app once, in order. The same key pressed twice
// (the same pcap replayed: identical SSRC, timestamp and sequence numbers)
// counts twice.
func TestDTMFRFC4733AllDigits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pts   []int
		audio bool // play 1.2 s of SIPp's PCMA speech before the keys
		keys  string
		gap   time.Duration
	}{
		{"every key after PCMA speech", []int{8, 101}, true, "1234567890*#", 800 * time.Millisecond},
		{"the same key twice over PCMU", []int{0, 101}, false, "55", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newDigitApp(t)
			g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
			var steps strings.Builder
			if tc.audio {
				steps.WriteString(dtmfPlayPcap(cutPcap(t, filepath.Join(sippPcaps, "g711a.pcap"), 40)))
			}
			steps.WriteString(dtmfPause(gatherLead))
			steps.WriteString(dtmfPressKeys(t, tc.keys, tc.gap))
			code, out := g.sipp(t, "udp", "uac_dtmf.xml", dtmfKeys(dtmfOffer(t, tc.pts...), map[string]string{
				"service": "+15550001000", "media_port": "[auto_media_port]",
				"steps": steps.String(), "ending": dtmfHangUp,
			}), 30*time.Second)
			if code != 0 {
				t.Fatalf("sipp exit %d\n%s", code, out)
			}
			a.waitRequests(t, "/digit", len(tc.keys), 3*time.Second)
			time.Sleep(300 * time.Millisecond) // any extra, duplicate digit would come now
			if got := digitsOf(t, a.requests("/digit")); got != tc.keys {
				t.Errorf("/digit requests carried %q, want %q", got, tc.keys)
			}
			checkDigitLogs(t, g.Logs(), tc.keys, media.ViaRFC4733)
		})
	}
}

// TestDTMFSIPInfo: keys sent as in-dialog SIP INFO, application/dtmf-relay
// and application/dtmf, each answered 200 and delivered in order.
func TestDTMFSIPInfo(t *testing.T) {
	a := newDigitApp(t)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_info_dtmf.xml", map[string]string{
		"service": "+15550001000", "mport": fmt.Sprint(peer.port()),
		"lead_ms": fmt.Sprint(gatherLead.Milliseconds()), "gap_ms": "800",
	}, 20*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want 200 to both INFOs and to the BYE)\n%s", code, out)
	}
	a.waitRequests(t, "/digit", 2, 3*time.Second)
	time.Sleep(300 * time.Millisecond)
	if got := digitsOf(t, a.requests("/digit")); got != "47" {
		t.Errorf("/digit requests carried %q, want %q", got, "47")
	}
	checkDigitLogs(t, g.Logs(), "47", media.ViaSIPInfo)
}

// checkDigitLogs checks that the RTP leg logged receiving exactly keys, in
// order, each by way of via: the leg logs every digit it delivers
// (msg="dtmf digit" key=K via=V), whether a Gather was listening or not.
func checkDigitLogs(t *testing.T, logs, keys string, via media.DigitVia) {
	t.Helper()
	var got []string
	wantVia := fmt.Sprint(via)
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `msg="dtmf digit"`) {
			continue
		}
		key, v := logField(line, "key"), logField(line, "via")
		got = append(got, key)
		if v != wantVia {
			t.Errorf("gateway received %q by way of %s, want %s (%s)", key, v, wantVia, line)
		}
	}
	if strings.Join(got, "") != keys {
		t.Errorf("gateway logged receiving digits %q, want %q", strings.Join(got, ""), keys)
	}
}

// logField returns the value of name=value in a slog text line (unquoted).
func logField(line, name string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return v
		}
	}
	return ""
}

// dtmfToneStream renders, with sox, raw μ-law audio of the keys as DTMF
// tones (tone and gap lengths given), after lead of silence and followed by
// tail of silence.
func dtmfToneStream(t *testing.T, keys string, lead, tone, gap, tail time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	secs := func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
	silence := func(name string, d time.Duration) string {
		path := filepath.Join(dir, name)
		if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", path, "trim", "0", secs(d)).CombinedOutput(); err != nil {
			t.Fatalf("sox: %v\n%s", err, out)
		}
		return path
	}
	parts := []string{silence("lead.wav", lead)}
	toneFreqs := map[byte][2]int{ // row and column frequency of each key
		'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477}, 'A': {697, 1633},
		'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477}, 'B': {770, 1633},
		'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477}, 'C': {852, 1633},
		'*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477}, 'D': {941, 1633},
	}
	for i := range len(keys) {
		f, ok := toneFreqs[keys[i]]
		if !ok {
			t.Fatalf("no DTMF tone for %q", keys[i])
		}
		path := filepath.Join(dir, fmt.Sprintf("key%d.wav", i))
		if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", path,
			"synth", secs(tone), "sine", fmt.Sprint(f[0]), "synth", secs(tone), "sine", "mix", fmt.Sprint(f[1]),
			"vol", "0.4", "pad", "0", secs(gap)).CombinedOutput(); err != nil {
			t.Fatalf("sox: %v\n%s", err, out)
		}
		parts = append(parts, path)
	}
	parts = append(parts, silence("tail.wav", tail))
	stream := filepath.Join(dir, "keys.ulaw")
	args := append(parts, "-r", "8000", "-c", "1", "-t", "ul", stream)
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return stream
}

// TestDTMFInBand: a caller that offers PCMU only (no telephone-event)
// sends the keys as tones in its audio; the gateway's detector finds them.
func TestDTMFInBand(t *testing.T) {
	t.Run("SIPp rtp_stream of sox tones", func(t *testing.T) {
		const keys = "38#"
		a := newDigitApp(t)
		g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
		lead, tone, gap, tail := gatherLead, 120*time.Millisecond, 900*time.Millisecond, time.Second
		stream := dtmfToneStream(t, keys, lead, tone, gap, tail)
		length := lead + time.Duration(len(keys))*(tone+gap) + tail
		steps := fmt.Sprintf("  <nop><action><exec rtp_stream=\"%s,1,0\"/></action></nop>\n", stream) + dtmfPause(length)
		code, out := g.sipp(t, "udp", "uac_dtmf.xml", dtmfKeys(dtmfOffer(t, 0), map[string]string{
			"service": "+15550001000", "media_port": "[rtpstream_audio_port]",
			"steps": steps, "ending": dtmfHangUp,
		}), 30*time.Second)
		if code != 0 {
			t.Fatalf("sipp exit %d\n%s", code, out)
		}
		a.waitRequests(t, "/digit", len(keys), 3*time.Second)
		time.Sleep(300 * time.Millisecond)
		if got := digitsOf(t, a.requests("/digit")); got != keys {
			t.Errorf("/digit requests carried %q, want %q", got, keys)
		}
		checkDigitLogs(t, g.Logs(), keys, media.ViaInBand)
	})
	t.Run("linphonec typed keys", func(t *testing.T) {
		const keys = "5#"
		a := newDigitApp(t)
		g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
		lp := startLinphonec(t)
		lp.command(t, "soundcard use files", "Using wav files")
		lp.command(t, "play "+silenceWAV(t, 30*time.Second), "")
		lp.command(t, fmt.Sprintf("call sip:+15550001000@127.0.0.1:%d", g.sipPort), "connected")
		time.Sleep(gatherLead)
		for i := range len(keys) {
			lp.command(t, keys[i:i+1], "")
			a.waitRequests(t, "/digit", i+1, 5*time.Second)
			time.Sleep(300 * time.Millisecond)
		}
		lp.command(t, "terminate", "ended")
		if got := digitsOf(t, a.requests("/digit")); got != keys {
			t.Errorf("/digit requests carried %q, want %q", got, keys)
		}
		checkDigitLogs(t, g.Logs(), keys, media.ViaInBand)
	})
}

// silenceWAV writes d of 8 kHz silence, for a softphone to send.
func silenceWAV(t *testing.T, d time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "silence.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", path, "trim", "0", fmt.Sprintf("%.1f", d.Seconds())).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return path
}

// TestDTMFSpeechNoDigits: speech (SIPp's PCMA pcap) into a Gather while the
// in-band detector listens (no telephone-event offered) is not taken for
// keys: the Gather times out empty and the call goes on to the next verbs.
func TestDTMFSpeechNoDigits(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather action="/digit" timeout="10" actionOnEmptyResult="false"><Say>Say something</Say></Gather>
  <Say>No keys</Say>
  <Hangup/>
</Response>`)
	a.twiml("/digit", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
	steps := dtmfPlayPcap(filepath.Join(sippPcaps, "g711a.pcap"))
	start := time.Now()
	// The answer must not carry telephone-event: the detector listens.
	code, out := g.sipp(t, "udp", "uac_dtmf.xml", dtmfKeys(dtmfOffer(t, 8), map[string]string{
		"service": "+15550001000", "media_port": "[auto_media_port]",
		"steps": steps, "ending": dtmfAwaitBye(25 * time.Second),
	}), 35*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want the gateway's BYE after the empty Gather)\n%s", code, out)
	}
	// The prompt, then 10 s of timeout, then the last Say: the speech
	// (7 s) was all heard while the Gather listened.
	if took := time.Since(start); took < 10*time.Second {
		t.Errorf("call lasted %v, want more than the Gather's 10 s timeout", took)
	}
	if n := len(a.requests("/digit")); n != 0 {
		t.Errorf("/digit requested %d times (Digits %q): speech was taken for keys", n, digitsOf(t, a.requests("/digit")))
	}
	logs := g.Logs()
	checkDigitLogs(t, logs, "", media.ViaInBand)
	if !strings.Contains(logs, `msg="ivr: gather done"`) {
		t.Errorf("gateway log has no 'gather done' line")
	}
}

// TestPlayDigits: <Play digits="1w2#"/> sends RFC 4733 events to the
// caller: per key a marker packet, growing durations, three end packets
// with the event's timestamp, codes 1, 2, 11, and the 'w' half-second
// between key 1 and key 2.
func TestPlayDigits(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Play digits="1w2#"/><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST"})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{
		"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0 101",
		"expect_pt": "0", "wait_ms": "15000",
	}, 20*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	pkts := peer.packets()
	// Events replace audio packets in one RTP stream: one SSRC, sequence
	// numbers without gaps.
	for i := 1; i < len(pkts); i++ {
		if pkts[i].Header.SSRC != pkts[0].Header.SSRC || pkts[i].Header.SequenceNumber != pkts[i-1].Header.SequenceNumber+1 {
			t.Fatalf("packet %d (PT %d): SSRC %x seq %d after seq %d: not one continuous stream", i,
				pkts[i].Header.PayloadType, pkts[i].Header.SSRC, pkts[i].Header.SequenceNumber, pkts[i-1].Header.SequenceNumber)
		}
	}
	events := playedEvents(t, pkts, 101)
	if len(events) != 3 {
		t.Fatalf("received %d telephone-events, want 3 (1, 2, #)", len(events))
	}
	for i, want := range []uint8{1, 2, 11} {
		ev := events[i]
		if ev.code != want {
			t.Errorf("event %d: code %d, want %d", i, ev.code, want)
		}
		if !ev.marker {
			t.Errorf("event %d (code %d): first packet has no marker bit", i, ev.code)
		}
		if ev.ends != 3 {
			t.Errorf("event %d (code %d): %d end packets, want 3", i, ev.code, ev.ends)
		}
		if !ev.growing {
			t.Errorf("event %d (code %d): durations %v do not grow before the end packets", i, ev.code, ev.durations)
		}
		if !ev.sameTS {
			t.Errorf("event %d (code %d): packets carry different timestamps", i, ev.code)
		}
	}
	// Key 1's end to key 2's start holds the 0.5 s 'w' pause on top of the
	// gap that separates any two keys (key 2's end to #'s start).
	pauseGap := events[1].first.Sub(events[0].last)
	plainGap := events[2].first.Sub(events[1].last)
	t.Logf("gaps: key 1 to key 2 %v, key 2 to # %v; durations %v %v %v", pauseGap, plainGap, events[0].durations, events[1].durations, events[2].durations)
	if w := pauseGap - plainGap; w < 400*time.Millisecond || w > 650*time.Millisecond {
		t.Errorf("key 1 end to key 2 start %v, key 2 end to # start %v: the 'w' pause is %v, want about 500 ms", pauseGap, plainGap, w)
	}
	if plainGap > 300*time.Millisecond {
		t.Errorf("key 2 end to # start %v, want a short gap", plainGap)
	}
	// In the media clock, too: 'w' adds 4000 timestamp units (0.5 s).
	tsPause := int64(events[1].ts - events[0].ts)
	tsPlain := int64(events[2].ts - events[1].ts)
	if w := tsPause - tsPlain; w < 4000-480 || w > 4000+480 {
		t.Errorf("event timestamps %d, %d, %d: the 'w' pause spans %d units, want about 4000", events[0].ts, events[1].ts, events[2].ts, w)
	}
}

// playedEvent summarises the packets of one telephone-event the caller
// received.
type playedEvent struct {
	code        uint8
	ts          uint32
	marker      bool // the first packet has the marker bit
	sameTS      bool
	growing     bool // durations strictly grow until the end packets, which repeat the final one
	ends        int  // end packets
	durations   []uint16
	first, last time.Time // arrival of the first and last packet
}

// playedEvents groups the caller's telephone-event packets (payload type
// pt) into events: a new event starts with a marker packet, or with a
// packet that is not an end packet after end packets.
func playedEvents(t *testing.T, pkts []rtpPacket, pt uint8) []playedEvent {
	t.Helper()
	var out []playedEvent
	for _, p := range pkts {
		if p.Header.PayloadType != pt {
			continue
		}
		ev, err := dtmf.ParseEvent(p.Payload)
		if err != nil {
			t.Fatalf("telephone-event packet: %v", err)
		}
		n := len(out)
		if n == 0 || (out[n-1].ends > 0 && !ev.End) || p.Header.Marker {
			out = append(out, playedEvent{code: ev.Code, ts: p.Header.Timestamp, marker: p.Header.Marker, sameTS: true, growing: true, first: p.At})
			n++
		}
		e := &out[n-1]
		if p.Header.Timestamp != e.ts {
			e.sameTS = false
		}
		if ev.Code != e.code {
			t.Errorf("event at timestamp %d changes code from %d to %d", e.ts, e.code, ev.Code)
		}
		var prev uint16
		if k := len(e.durations); k > 0 {
			prev = e.durations[k-1]
		}
		switch {
		case ev.End:
			// The first end packet may not shorten the event; the
			// repeats carry the same final duration.
			if (e.ends == 0 && ev.Duration < prev) || (e.ends > 0 && ev.Duration != prev) {
				e.growing = false
			}
			e.ends++
		case e.ends > 0 || (len(e.durations) > 0 && ev.Duration <= prev):
			e.growing = false // an update after the end, or a duration that does not grow
		}
		e.durations = append(e.durations, ev.Duration)
		e.last = p.At
	}
	return out
}

// linphonec is a running linphonec (testing-with-real-peers.md §2.2)
// driven through its stdin.
type linphonec struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
}

// startLinphonec starts linphonec on 127.0.0.1 with free ports. It offers
// no telephone-event (use_rfc2833=0) and sends no SIP INFO (use_info=0), so
// typed keys go in-band, as tones in its audio.
func startLinphonec(t *testing.T) *linphonec {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err) // without this directory the core never opens its SIP socket
	}
	rc := filepath.Join(dir, "rc")
	cfg := fmt.Sprintf(`[sip]
sip_port=%d
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
guess_hostname=0
contact=sip:linphone@127.0.0.1
use_rfc2833=0
use_info=0
[rtp]
audio_rtp_port=%d
bind_address=127.0.0.1
[net]
firewall_policy=0
ipv6=0
[sound]
echocancellation=0
[video]
capture=0
display=0
`, freePort(t), freePort(t))
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	lp := &linphonec{cmd: exec.Command("linphonec", "-c", rc, "-d", "0"), exited: make(chan struct{})}
	lp.cmd.Dir = dir
	lp.cmd.Env = append(os.Environ(), "HOME="+home)
	var err error
	if lp.stdin, err = lp.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out := writerFunc(func(p []byte) (int, error) {
		lp.mu.Lock()
		defer lp.mu.Unlock()
		return lp.out.Write(p)
	})
	lp.cmd.Stdout, lp.cmd.Stderr = out, out
	if err := lp.cmd.Start(); err != nil {
		t.Fatalf("linphonec: %v", err)
	}
	go func() {
		_ = lp.cmd.Wait()
		close(lp.exited)
	}()
	t.Cleanup(func() {
		_, _ = io.WriteString(lp.stdin, "quit\n")
		select {
		case <-lp.exited:
		case <-time.After(5 * time.Second):
			_ = lp.cmd.Process.Kill()
			<-lp.exited
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("linphonec output:\n%s", lp.output())
		}
	})
	return lp
}

func (lp *linphonec) output() string {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.out.String()
}

// command types line into linphonec and, unless want is empty, waits up
// to 10 s for want to appear in what it prints from then on.
func (lp *linphonec) command(t *testing.T, line, want string) {
	t.Helper()
	from := len(lp.output())
	if _, err := io.WriteString(lp.stdin, line+"\n"); err != nil {
		t.Fatalf("linphonec %q: %v", line, err)
	}
	if want == "" {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(lp.output()[from:], want) {
		select {
		case <-lp.exited:
			t.Fatalf("linphonec exited while waiting for %q after %q\n%s", want, line, lp.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("linphonec printed no %q within 10 s of %q\n%s", want, line, lp.output())
		}
	}
}
