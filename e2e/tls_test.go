package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testPKI writes a throw-away CA and a server certificate for 127.0.0.1
// signed by it (generated for each run; no key is committed) and returns
// the paths of the CA certificate, server certificate and server key.
func testPKI(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "voxgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", keyDER)
}

// TestBaresipTLSSRTPCallsDemo: baresip calls the demo IVR over SIP/TLS
// (verifying the gateway's certificate against the test CA) with
// mandatory SRTP (SDES, RTP/SAVP); it hears the greeting as espeak-ng
// renders it, and the gateway's log shows the call's media was SRTP.
func TestBaresipTLSSRTPCallsDemo(t *testing.T) {
	welcome, err := os.ReadFile("../configs/demo/welcome.xml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<Say[^>]*>([^<]+)</Say>`).FindSubmatch(welcome)
	if m == nil {
		t.Fatal("no <Say> in configs/demo/welcome.xml")
	}
	greetingText := string(m[1])

	dir := t.TempDir()
	caFile, certFile, keyFile := testPKI(t, dir)
	tlsPort := freePort(t)
	g := startGateway(t, gatewayOpts{voiceURL: "/demo/welcome.xml", voiceMethod: "POST", extraYAML: ttsVoices, tlsPort: tlsPort,
		sipExtra: fmt.Sprintf("  tls_cert: %s\n  tls_key: %s\n", certFile, keyFile)})

	silence := filepath.Join(dir, "silence.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", silence, "trim", "0", "40").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	rec := filepath.Join(dir, "rec")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t)
	rtpLo := 41200
	extra := fmt.Sprintf("call_local_timeout 120\nsip_cafile %s\nmodule srtp.so\n", caFile)
	config := baresipConfig(sipPort, silence, rtpLo, rtpLo+100, rec, extra)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("<sip:judge@127.0.0.1:%d;transport=tls>;regint=0;audio_codecs=PCMU;mediaenc=srtp-mand\n", sipPort)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-e", fmt.Sprintf("/dial sip:+15550001000@127.0.0.1:%d;transport=tls", tlsPort), "-t", "35")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("baresip did not finish: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "established") {
		t.Fatalf("baresip's call was not established\n%s\ngateway log:\n%s", out, g.Logs())
	}
	if !strings.Contains(g.Logs(), "srtp=true") {
		t.Errorf("the gateway did not log the call's media as SRTP\n%s", g.Logs())
	}
	dumps, _ := filepath.Glob(filepath.Join(rec, "*-dec.wav"))
	if len(dumps) == 0 {
		t.Fatalf("baresip wrote no decoded-audio dump\n%s", out)
	}
	rx := loadWAV(t, dumps[0])
	ref := reference(t, "en-us", greetingText)
	corr, lag := xcorrPeak(rx, ref)
	t.Logf("baresip (TLS, SRTP) heard %.1f s; greeting correlation %.3f at %.2f s", float64(len(rx))/8000, corr, float64(lag)/8000)
	if corr < 0.9 {
		t.Errorf("the audio baresip received over SRTP correlates %.3f with the greeting, want >= 0.9\n%s", corr, out)
	}
}
