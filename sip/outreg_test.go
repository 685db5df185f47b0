package sip

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestTrunkRegistrationSIPp: a trunk with Register registers with a SIPp
// registrar that checks its digest and grants 2 s; the gateway stays
// registered by refreshing every second, and unregisters at shutdown
// (SIPp exits once it has seen Expires: 0).
func TestTrunkRegistrationSIPp(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uas_registrar.xml")
	if err != nil {
		t.Fatal(err)
	}
	port := freeUDPPort(t)
	sipp := startSIPp(t, port, "-sf", scenario)
	trunk := Trunk{Name: "carrier", Host: "127.0.0.1:" + strconv.Itoa(port), Username: "trunkuser", Password: "trunk-secret", Register: true}
	srv, stop := startServer(t, Config{Trunks: []Trunk{trunk}, RegisterRetry: 200 * time.Millisecond}, nil)
	registered := func() bool {
		st := srv.Registrations()
		return len(st) == 1 && st[0].Registered
	}
	waitFor(t, 5*time.Second, "the trunk to register", registered)
	time.Sleep(2500 * time.Millisecond) // past the 2 s granted: only refreshes keep it
	if st := srv.Registrations(); !registered() || st[0].Failures != 0 {
		t.Fatalf("after 2.5 s: %+v; want registered, no failures (refreshed)", st)
	}
	stop()
	select {
	case err := <-sipp:
		if err != nil {
			t.Fatalf("sipp (registrar) failed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sipp saw no unregistration")
	}
}

// A registrar that refuses the credentials: the state says so and the
// gateway retries with back-off.
func TestTrunkRegistrationFailure(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uas_registrar.xml")
	if err != nil {
		t.Fatal(err)
	}
	port := freeUDPPort(t)
	startSIPp(t, port, "-sf", scenario)
	trunk := Trunk{Name: "carrier", Host: "127.0.0.1:" + strconv.Itoa(port), Username: "trunkuser", Password: "wrong-secret", Register: true}
	srv, _ := startServer(t, Config{Trunks: []Trunk{trunk}, RegisterRetry: time.Hour}, nil)
	waitFor(t, 5*time.Second, "the registration to fail", func() bool {
		st := srv.Registrations()
		return len(st) == 1 && st[0].Failures == 1
	})
	if st := srv.Registrations()[0]; st.Registered || st.LastError == "" {
		t.Errorf("state %+v; want not registered with the error", st)
	}
}
