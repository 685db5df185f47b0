package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBaresipRegistersOverTLSAndIsDialled: baresip, which has no TLS
// listener of its own, registers over TLS (verifying the gateway's
// certificate against the test CA); <Dial><Sip>sip:phone1@gateway</Sip>
// reaches it over the connection its REGISTER came on, and the caller
// hears its 600 Hz tone. With users[].srtp unset, a phone registered over
// TLS is dialled with SRTP (RTP/SAVP, SDES): baresip's account demands
// it (mediaenc=srtp-mand) and the gateway logs the leg as SRTP; with
// srtp: off, baresip without SRTP is dialled with plain RTP.
func TestBaresipRegistersOverTLSAndIsDialled(t *testing.T) {
	t.Run("srtp-default", func(t *testing.T) {
		dialRegisteredTLSPhone(t, "", "module srtp.so\n", ";mediaenc=srtp-mand", true)
	})
	t.Run("srtp-off", func(t *testing.T) {
		dialRegisteredTLSPhone(t, "    srtp: off\n", "", "", false)
	})
}

// dialRegisteredTLSPhone registers baresip over TLS as users[] phone1
// (userYAML adds to its entry; baresipExtra to baresip's config;
// accountParams to its account) and has a SIPp caller's app dial it; the
// caller must hear its tone, and the gateway's leg to it must be SRTP
// exactly when wantSRTP.
func dialRegisteredTLSPhone(t *testing.T, userYAML, baresipExtra, accountParams string, wantSRTP bool) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Dial action="/after" timeLimit="3"><Sip>sip:phone1@127.0.0.1</Sip></Dial></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	dir := t.TempDir()
	caFile, certFile, keyFile := testPKI(t, dir)
	tlsPort := freePort(t)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), tlsPort: tlsPort,
		sipExtra:  fmt.Sprintf("  tls_cert: %s\n  tls_key: %s\n", certFile, keyFile),
		extraYAML: "users:\n  - username: phone1\n    password: phone1-secret\n" + userYAML})

	src := filepath.Join(dir, "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", src, "synth", "60", "sine", "600", "vol", "0.4").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	rec := filepath.Join(dir, "rec")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	rtpLo := 44000 + port%50*20
	extra := fmt.Sprintf("sip_cafile %s\n%s", caFile, baresipExtra)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(baresipConfig(port, src, rtpLo, rtpLo+19, rec, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("<sip:phone1@127.0.0.1:%d;transport=tls>;auth_pass=phone1-secret;regint=600;answermode=auto;audio_codecs=PCMU%s\n", tlsPort, accountParams)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-t", "60")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(g.Logs(), "sip: registered") {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not register over TLS\n%s\ngateway:\n%s", out.String(), g.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}

	peer := newRTPPeer(t)
	code, sippOut := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, sippOut)
	}
	f := a.waitRequests(t, "/after", 1, 10*time.Second)[0].Form
	if f.Get("DialCallStatus") != "completed" || f.Get("DialBridged") != "true" {
		t.Errorf("Dial action: DialCallStatus=%q DialBridged=%q, want completed true\nbaresip:\n%s\ngateway:\n%s", f.Get("DialCallStatus"), f.Get("DialBridged"), out.String(), g.Logs())
	}
	if got := dominantFraction(decode(peer.packets(), 0), 600); got < 0.8 {
		t.Errorf("the caller did not hear the registered phone's 600 Hz tone (best fraction %.2f)", got)
	}
	answered := ""
	for _, line := range strings.Split(g.Logs(), "\n") {
		if strings.Contains(line, "call: outbound answered") {
			answered = line
		}
	}
	if want := fmt.Sprintf("srtp=%t", wantSRTP); !strings.Contains(answered, want) {
		t.Errorf("the gateway's leg to the phone: want %s in its answered log line %q\nbaresip:\n%s", want, answered, out.String())
	}
}
