package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sippMu keeps SIPp runs one at a time: each opens a control socket and
// media ports of its own, and the machine is small.
var sippMu = make(chan struct{}, 1)

// startSIPp runs sipp as a UAS on 127.0.0.1:port with args and returns a
// channel that receives its exit error. It waits until sipp listens.
func startSIPp(t *testing.T, port int, args ...string) <-chan error {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("sipp not installed (Debian package sip-tester)")
	}
	sippMu <- struct{}{}
	t.Cleanup(func() { <-sippMu })
	dir := t.TempDir()
	base := []string{"-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1", "-nostdin",
		"-cp", strconv.Itoa(freeUDPPort(t)), "-timeout", "40s", "-timeout_error", "-trace_err", "-trace_msg"}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sipp", append(base, args...)...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		done <- cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, b)
			}
			t.Logf("sipp output:\n%s\nerror logs: %v", out.String(), logs)
		}
	})
	// sipp listens once binding its port fails for us.
	waitFor(t, 5*time.Second, "sipp to listen", func() bool {
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.EADDRINUSE)
	})
	return done
}

func TestDialSIPpBuiltinUAS(t *testing.T) {
	port := freeUDPPort(t)
	sipp := startSIPp(t, port, "-sn", "uas")
	srv, _ := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{To: fmt.Sprintf("sip:1000@127.0.0.1:%d", port), From: "+15550001111", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial SIPp: %v", err)
	}
	call.mu.Lock()
	codec, remote := call.remote.Codec, call.remote.Remote
	call.mu.Unlock()
	if codec.Name != "PCMU" || remote.Port() == 0 {
		t.Errorf("answered media %s at %v; SIPp's uas answers PCMU", codec.Name, remote)
	}
	if st := call.RTPLeg().Stats(); st.Remote != remote {
		t.Errorf("leg sends to %v, want %v", st.Remote, remote)
	}
	time.Sleep(300 * time.Millisecond)
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	select {
	case err := <-sipp:
		if err != nil {
			t.Errorf("sipp failed: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("sipp did not finish after our BYE")
	}
}

func TestDialSIPpPCMAPcapAndRemoteBye(t *testing.T) {
	port := freeUDPPort(t)
	scenario, err := filepath.Abs("testdata/uas_pcma_pcap_bye.xml")
	if err != nil {
		t.Fatal(err)
	}
	sipp := startSIPp(t, port, "-sf", scenario)
	srv, _ := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{To: fmt.Sprintf("sip:1000@127.0.0.1:%d", port), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial SIPp: %v", err)
	}
	call.mu.Lock()
	codec, eventPT := call.remote.Codec, call.remote.EventPayloadType
	call.mu.Unlock()
	if codec.Name != "PCMA" || eventPT != 101 {
		t.Errorf("answered %s / telephone-event %d; want PCMA / 101", codec.Name, eventPT)
	}
	if got := call.XHeaders()["x-sipp-answer"]; got != "pcma" {
		t.Errorf("X-Sipp-Answer = %q", got)
	}
	var rec frameCounter
	recDone := make(chan error, 1)
	go func() { recDone <- call.Leg().Record(ctx, &rec) }()
	select {
	case <-call.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("SIPp's BYE did not end the call")
	}
	if r := call.EndReason(); r != "remote-bye" {
		t.Errorf("EndReason = %q, want remote-bye", r)
	}
	<-recDone
	frames, loud := rec.counts()
	// g711a.pcap holds about 7.05 s of speech: 352 frames of 20 ms.
	if frames < 320 || frames > 380 || loud < 150 {
		t.Errorf("received %d frames (%.2f s), %d loud; want about 352 (7.05 s) of speech", frames, float64(frames)*0.02, loud)
	}
	t.Logf("received %d frames (%.2f s) of PCMA audio, %d with speech", frames, float64(frames)*0.02, loud)
	select {
	case err := <-sipp:
		if err != nil {
			t.Errorf("sipp failed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("sipp did not finish")
	}
}
