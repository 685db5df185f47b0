package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media/audio"
)

// writeTestPKI writes a throw-away CA and a certificate for 127.0.0.1
// signed by it (made for each run; no key is committed).
func writeTestPKI(t testing.TB) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", keyDER)
}

func tone(seconds int) []int16 {
	s := make([]int16, 8000*seconds)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return s
}

// TestDialTLSTrunkSRTP: a gateway dials a number through a trunk with
// transport tls (its certificate verified against tls_ca_file) and srtp
// required; the far end (a second gateway with a tls: listener) answers
// SRTP and hears the tone sent. Without the CA file the certificate does
// not verify and the call fails.
func TestDialTLSTrunkSRTP(t *testing.T) {
	caFile, certFile, keyFile := writeTestPKI(t)
	type heard struct {
		srtp   bool
		loud   int
		source string
	}
	results := make(chan heard, 1)
	far, _ := startServer(t, Config{Listen: []string{"udp:127.0.0.1:0", "tls:127.0.0.1:0"}, TLSCert: certFile, TLSKey: keyFile},
		func(ctx context.Context, c *InboundCall) {
			if err := c.Answer(ctx); err != nil {
				return
			}
			var rec frameCounter
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_ = c.Leg().Record(rctx, &rec)
			_, loud := rec.counts()
			results <- heard{srtp: c.localCrypto != nil, loud: loud, source: c.invite.Transport()}
		})
	var tlsAddr string
	for _, l := range far.Listeners() {
		if l.Transport == "tls" {
			tlsAddr = l.Addr.String()
		}
	}
	trunk := Trunk{Name: "secure", Host: tlsAddr, Transport: "tls", SRTP: SRTPRequired, TLSCAFile: caFile}
	near, _ := startServer(t, Config{Trunks: []Trunk{trunk}}, nil)
	// The CA files of all trunks make one pool: a gateway without it.
	unverified, _ := startServer(t, Config{Trunks: []Trunk{{Name: "unverified", Host: tlsAddr, Transport: "tls", SRTP: SRTPRequired}}}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := unverified.Dial(ctx, DialRequest{To: "+15550001000", Trunk: "unverified", Timeout: 5 * time.Second}); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("Dial through a trunk whose certificate does not verify: %v; want a certificate error", err)
	}
	call, err := near.Dial(ctx, DialRequest{To: "+15550001000", Trunk: "secure", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial over TLS with SRTP: %v", err)
	}
	if call.localCrypto == nil {
		t.Error("the outbound call's media is not SRTP")
	}
	go func() { _ = call.Leg().Play(ctx, audio.NewPCMSource(tone(3), 1)) }()
	select {
	case h := <-results:
		if !h.srtp || h.source != "TLS" {
			t.Errorf("far end: srtp %v over %s; want SRTP over TLS", h.srtp, h.source)
		}
		if h.loud < 50 {
			t.Errorf("far end heard %d loud frames of the tone over SRTP; want most of 100", h.loud)
		}
		t.Logf("far end heard %d loud frames over SRTP", h.loud)
	case <-time.After(10 * time.Second):
		t.Fatal("far end's handler did not finish")
	}
	// The far end hangs up after 2 s: its BYE reaches us over TLS.
	select {
	case <-call.Done():
		if r := call.EndReason(); r != "remote-bye" {
			t.Errorf("call ended with %q, want remote-bye", r)
		}
	case <-time.After(10 * time.Second):
		t.Error("the far end's BYE did not arrive")
		_ = call.Hangup(ctx)
	}
}

// BenchmarkTLSCallSetup: calls set up and torn down through a TLS trunk
// with SRTP (INVITE, 200, ACK, BYE, 200 over one verified TLS
// connection; each call opens an RTP port pair and SRTP contexts). Run
// with -benchtime 200x: ns/op is one whole call.
func BenchmarkTLSCallSetup(b *testing.B) {
	caFile, certFile, keyFile := writeTestPKI(b)
	far, _ := startServer(b, Config{Listen: []string{"udp:127.0.0.1:0", "tls:127.0.0.1:0"}, TLSCert: certFile, TLSKey: keyFile}, nil)
	var tlsAddr string
	for _, l := range far.Listeners() {
		if l.Transport == "tls" {
			tlsAddr = l.Addr.String()
		}
	}
	near, _ := startServer(b, Config{Trunks: []Trunk{{Name: "secure", Host: tlsAddr, Transport: "tls", SRTP: SRTPRequired, TLSCAFile: caFile}}}, nil)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		call, err := near.Dial(ctx, DialRequest{To: "+15550001000", Trunk: "secure", Timeout: 5 * time.Second})
		if err != nil {
			b.Fatalf("Dial: %v", err)
		}
		if err := call.Hangup(ctx); err != nil {
			b.Fatalf("Hangup: %v", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
