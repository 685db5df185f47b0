package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Scenario endings for uac_record.xml.
const (
	// waitBye waits for the gateway to hang up, then answers its BYE.
	waitBye = `  <recv request="BYE" timeout="40000"/>
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
  <timewait milliseconds="200"/>`
	// sendBye hangs up from the caller's side.
	sendBye = `  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>`
	// sendInfoKey presses # by SIP INFO.
	sendInfoKey = `  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: 2 INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=#
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
`
)

func pause(ms int) string { return fmt.Sprintf("  <pause milliseconds=\"%d\"/>\n", ms) }

const spoken = "Hi, this is a message for the voicemail test. Please call me back tomorrow morning."

// speechStream makes the raw A-law file SIPp streams: silence, the
// sentence, then trailing silence.
func speechStream(t *testing.T, lead, tail float64) (path string, speech []float64) {
	t.Helper()
	dir := t.TempDir()
	speech = reference(t, "en-us", spoken)
	raw := filepath.Join(dir, "s.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, spoken).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	path = filepath.Join(dir, "stream.alaw")
	if out, err := exec.Command("sox", raw, "-r", "8000", "-c", "1", "-t", "al", path, "pad", fmt.Sprint(lead), fmt.Sprint(tail)).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return path, speech
}

func fetchRecording(t *testing.T, recordingURL string) []float64 {
	t.Helper()
	res, err := http.Get(recordingURL + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/x-wav" {
		t.Fatalf("GET %s.wav: %d %s", recordingURL, res.StatusCode, res.Header.Get("Content-Type"))
	}
	f := filepath.Join(t.TempDir(), "rec.wav")
	if err := os.WriteFile(f, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return loadWAV(t, f)
}

// TestRecord: <Record> saves what the caller said, and ends on silence,
// maxLength, a key, or the caller hanging up (the action still comes).
func TestRecord(t *testing.T) {
	cases := []struct {
		name         string
		attrs        string
		lead, tail   float64
		middle       string
		wantDigits   string
		wantStatus   string
		minDur, maxD int // RecordingDuration bounds, seconds
		wantFull     bool
	}{
		{"silence ends it", `timeout="2" playBeep="true"`, 0.5, 8, waitBye, "", "in-progress", 6, 9, true},
		{"maxLength ends it", `timeout="0" maxLength="3"`, 0.2, 8, waitBye, "", "in-progress", 3, 3, false},
		{"a key ends it", `timeout="0" finishOnKey="#*"`, 0.2, 15, pause(6500) + sendInfoKey + waitBye, "#", "in-progress", 5, 8, true},
		{"hang-up still delivers the action", `timeout="0"`, 0.2, 15, pause(6500) + sendBye, "hangup", "completed", 5, 8, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream, speech := speechStream(t, tc.lead, tc.tail)
			a := newApp(t)
			a.twiml("/voice", `<Response><Record action="/rec" `+tc.attrs+` recordingStatusCallback="/recstatus"/><Say>not reached</Say></Response>`)
			a.twiml("/rec", `<Response><Hangup/></Response>`)
			a.twiml("/recstatus", "")
			g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
			code, out := g.sipp(t, "udp", "uac_record.xml", map[string]string{"service": "+15550001000", "stream": stream, "middle": tc.middle}, 50*time.Second)
			if code != 0 {
				t.Fatalf("sipp exit %d\n%s", code, out)
			}
			rec := a.waitRequests(t, "/rec", 1, 5*time.Second)[0]
			f := rec.Form
			if f.Get("Digits") != tc.wantDigits || f.Get("CallStatus") != tc.wantStatus {
				t.Errorf("action Digits=%q CallStatus=%q, want %q %q", f.Get("Digits"), f.Get("CallStatus"), tc.wantDigits, tc.wantStatus)
			}
			dur, _ := strconv.Atoi(f.Get("RecordingDuration"))
			if dur < tc.minDur || dur > tc.maxD {
				t.Errorf("RecordingDuration %d, want %d..%d", dur, tc.minDur, tc.maxD)
			}
			recSID := f.Get("RecordingSid")
			if want := g.httpURL + "/2010-04-01/Accounts/" + testAccountSID + "/Recordings/" + recSID; f.Get("RecordingUrl") != want {
				t.Errorf("RecordingUrl %q, want %q", f.Get("RecordingUrl"), want)
			}
			got := fetchRecording(t, f.Get("RecordingUrl"))
			if tc.wantFull {
				if c, _ := xcorrPeak(got, speech); c < 0.9 {
					t.Errorf("saved recording correlates %.3f with the speech sent, want >= 0.9", c)
				}
			} else {
				// maxLength cut the speech: the recording is its start.
				if c, _ := xcorrPeak(speech, got); c < 0.9 {
					t.Errorf("saved recording correlates %.3f with the start of the speech sent, want >= 0.9", c)
				}
			}
			if len(a.requests("/recstatus")) == 0 {
				a.waitRequests(t, "/recstatus", 1, 3*time.Second)
			}
			st := a.requests("/recstatus")[0].Form
			if st.Get("RecordingStatus") != "completed" || st.Get("RecordingSid") != recSID {
				t.Errorf("recordingStatusCallback %v", st)
			}
		})
	}
}
