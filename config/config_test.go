package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const validYAML = `
sip:
  listen: [udp:127.0.0.1:5060]
account:
  sid: AC0123456789abcdef0123456789abcdef
  auth_token: 0123456789abcdef0123456789abcdef
numbers:
  - number: "+15550001000"
    voice_url: https://app.example/voice
    status_callback_events: [initiated, completed]
default_app:
  voice_url: /demo/welcome.xml
`

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "voxgate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaultsAndFile(t *testing.T) {
	cfg, err := Load(write(t, validYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Media.RTPPorts != "20000-30000" || cfg.Media.RTPTimeout.D() != 30*time.Second || cfg.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("defaults not applied: %+v", cfg.Media)
	}
	if cfg.HTTP.PublicURL != "http://127.0.0.1:8080" {
		t.Errorf("public_url default %q", cfg.HTTP.PublicURL)
	}
	if len(cfg.SIP.Listen) != 1 {
		t.Errorf("file value did not replace the default list: %v", cfg.SIP.Listen)
	}
}

func TestEnvOverrides(t *testing.T) {
	env := []string{
		"VOXGATE_SIP_LISTEN=udp:127.0.0.1:5070, tcp:127.0.0.1:5070",
		"VOXGATE_SIP_PUBLIC_IP=127.0.0.2",
		"VOXGATE_MEDIA_RTP_TIMEOUT=45s",
		"VOXGATE_ACCOUNT_AUTH_TOKEN=ffffffffffffffffffffffffffffffff",
		"VOXGATE_TTS_RATE=170",
		"VOXGATE_DEFAULT_APP_VOICE_URL=https://other.example/x",
		"OTHER=ignored",
	}
	cfg, err := Load(write(t, validYAML), env)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.SIP.Listen, ","); got != "udp:127.0.0.1:5070,tcp:127.0.0.1:5070" {
		t.Errorf("sip.listen = %q", got)
	}
	if cfg.SIP.PublicIP != "127.0.0.2" || cfg.Media.RTPTimeout.D() != 45*time.Second || cfg.TTS.Rate != 170 ||
		cfg.Account.AuthToken != "ffffffffffffffffffffffffffffffff" || cfg.DefaultApp.VoiceURL != "https://other.example/x" {
		t.Errorf("env not applied: %+v", cfg)
	}
}

func TestValidationNamesTheKey(t *testing.T) {
	cases := map[string]string{
		"account.sid":                       strings.Replace(validYAML, "AC0123456789abcdef0123456789abcdef", "AC123", 1),
		"account.auth_token":                strings.Replace(validYAML, "auth_token: 0123456789abcdef0123456789abcdef", "auth_token: not-hex!", 1),
		"sip.listen":                        strings.Replace(validYAML, "udp:127.0.0.1:5060", "sctp:127.0.0.1:5060", 1),
		"numbers[0].voice_url":              strings.Replace(validYAML, "https://app.example/voice", "ftp://x", 1),
		"numbers[0].status_callback_events": strings.Replace(validYAML, "[initiated, completed]", "[bogus]", 1),
		"media.rtp_ports":                   validYAML + "media:\n  rtp_ports: 5-4\n",
		"debug.pprof_listen":                validYAML + "debug:\n  pprof_listen: localhost\n",
		"sip.t1":                            strings.Replace(validYAML, "sip:\n", "sip:\n  t1: 5s\n", 1),
		"sip.min_se":                        strings.Replace(validYAML, "sip:\n", "sip:\n  min_se: 500ms\n", 1),
		"sip.session_expires":               strings.Replace(validYAML, "sip:\n", "sip:\n  min_se: 120s\n  session_expires: 100s\n", 1),
		"field unknown_key not found":       validYAML + "unknown_key: 1\n",
		"sip.tls_cert":                      strings.Replace(validYAML, "udp:127.0.0.1:5060", "tls:127.0.0.1:5061", 1),
		"users[0].password":                 validYAML + "users:\n  - username: phone1\n    password: short\n",
		"users[0].srtp":                     validYAML + "users:\n  - username: phone1\n    password: long-enough\n    srtp: maybe\n",
		"trunks[0].srtp":                    validYAML + "trunks:\n  - name: t\n    host: 127.0.0.1:5070\n    srtp: maybe\n",
		"trunks[0].register":                validYAML + "trunks:\n  - name: t\n    register: true\n",
		"sip.codecs":                        strings.Replace(validYAML, "sip:\n", "sip:\n  codecs: [G722, G729]\n", 1),
		"trunks[0].codecs":                  validYAML + "trunks:\n  - name: t\n    host: 127.0.0.1:5070\n    codecs: [pcmu, PCMU]\n",
	}
	for key, body := range cases {
		_, err := Load(write(t, body), nil)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error for bad %s = %v; want it named", key, err)
		}
	}
	if _, err := Load(write(t, validYAML), []string{"VOXGATE_MEDIA_RTP_TIMEOUT=soon"}); err == nil || !strings.Contains(err.Error(), "VOXGATE_MEDIA_RTP_TIMEOUT") {
		t.Errorf("bad env duration: %v", err)
	}
}

func TestAppFor(t *testing.T) {
	cfg, err := Load(write(t, validYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, dialled := range []string{"+15550001000", "15550001000", "1-555-000-1000"} {
		if app, ok := cfg.AppFor(dialled); !ok || app.VoiceURL != "https://app.example/voice" {
			t.Errorf("AppFor(%q) = %v, %v", dialled, app.VoiceURL, ok)
		}
	}
	if app, ok := cfg.AppFor("999"); !ok || app.VoiceURL != "/demo/welcome.xml" {
		t.Errorf("unlisted number: %v %v, want the default app", app.VoiceURL, ok)
	}
	cfg.DefaultApp = App{}
	if _, ok := cfg.AppFor("999"); ok {
		t.Errorf("unlisted number without default app matched")
	}
}

func TestShippedConfigLoads(t *testing.T) {
	if _, err := Load("../configs/voxgate.yaml", nil); err != nil {
		t.Fatalf("configs/voxgate.yaml: %v", err)
	}
}

func TestFunctionsConfig(t *testing.T) {
	cfg, err := Load(write(t, validYAML), []string{"VOXGATE_FUNCTIONS_WORKERS=4", "VOXGATE_FUNCTIONS_TIMEOUT=5s"})
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Functions
	if f.RuntimeDir != "functions/runtime" || f.Node != "node" || f.NPM != "npm" || f.Workers != 4 || f.MemoryMB != 256 || f.Timeout.D() != 5*time.Second {
		t.Errorf("functions config %+v", f)
	}
	for key, body := range map[string]string{
		"functions.workers":   validYAML + "functions:\n  workers: 0\n",
		"functions.memory_mb": validYAML + "functions:\n  memory_mb: 8\n",
		"functions.timeout":   validYAML + "functions:\n  timeout: 0s\n",
	} {
		if _, err := Load(write(t, body), nil); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s: %v", key, err)
		}
	}
}

func TestConsoleConfig(t *testing.T) {
	cfg, err := Load(write(t, validYAML), []string{"VOXGATE_CONSOLE_SESSION_TTL=2h"})
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Console; c.SessionTTL.D() != 2*time.Hour || c.ServiceLevel.D() != 20*time.Second {
		t.Errorf("console config %+v", c)
	}
	for key, body := range map[string]string{
		"console.session_ttl":   validYAML + "console:\n  session_ttl: 10s\n",
		"console.service_level": validYAML + "console:\n  service_level: 0s\n",
	} {
		if _, err := Load(write(t, body), nil); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("bad %s: %v", key, err)
		}
	}
}

func TestCodecsAccepted(t *testing.T) {
	body := strings.Replace(validYAML, "sip:\n", "sip:\n  codecs: [g722, PCMU]\n", 1) +
		"trunks:\n  - name: t\n    host: 127.0.0.1:5070\n    codecs: [PCMA]\n"
	c, err := Load(write(t, body), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if strings.Join(c.SIP.Codecs, ",") != "g722,PCMU" || strings.Join(c.Trunks[0].Codecs, ",") != "PCMA" {
		t.Errorf("codecs %v and %v", c.SIP.Codecs, c.Trunks[0].Codecs)
	}
}
