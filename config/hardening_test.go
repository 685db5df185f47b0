package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHardeningDefaultsAndOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.yaml")
	yaml := "account:\n  sid: AC0123456789abcdef0123456789abcdef\n  auth_token: 0123456789abcdef0123456789abcdef\n" +
		"outbound_http:\n  allow: [127.0.0.1/32, 10.0.0.0/8]\n  deny: [203.0.113.7]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, []string{"VOXGATE_SIP_LIMITS_CALLS_PER_SECOND=5", "VOXGATE_SIP_LIMITS_TCP_IDLE_TIMEOUT=2s"})
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.SIP.Limits
	if l.MaxCalls != 2000 || l.CallsPerSecond != 5 || l.SourceMaxCalls != 1000 || l.SourceCallsPerSecond != 100 ||
		l.TCPMaxConnections != 4096 || l.TCPSourceMaxConnections != 64 || l.TCPIdleTimeout.D() != 2*time.Second || l.FDReserve != 1024 {
		t.Errorf("limits %+v", l)
	}
	if p, err := ParsePrefixes(cfg.OutboundHTTP.Deny); err != nil || len(p) != 1 || p[0].String() != "203.0.113.7/32" {
		t.Errorf("deny %v %v", p, err)
	}
	bad := strings.Replace(yaml, "10.0.0.0/8", "not-a-net", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, []string{"VOXGATE_SIP_LIMITS_MAX_CALLS=-1"}); err == nil ||
		!strings.Contains(err.Error(), "outbound_http.allow") || !strings.Contains(err.Error(), "sip.limits.max_calls") {
		t.Errorf("bad values: %v", err)
	}
}
