package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadYAML(t *testing.T, text string) (Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "voxgate.yaml")
	base := "account:\n  sid: AC11111111111111111111111111111111\n  auth_token: 22222222222222222222222222222222\n"
	if err := os.WriteFile(p, []byte(base+text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p, nil)
}

func TestMessagingConfig(t *testing.T) {
	cfg, err := loadYAML(t, `numbers:
  - number: "+15557654321"
    sms_url: https://app.test/sms
    sms_method: GET
  - number: "+15550001000"
    voice_url: https://app.test/voice
trunks:
  - name: carrier
    messaging: smpp
    smpp: {host: "127.0.0.1:2775", system_id: voxgate, password: secret, bind: transmitter_receiver}
  - name: gw
    host: 127.0.0.1:5070
    messaging: sip
`)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Messaging.OptOut || cfg.Messaging.Workers != 32 || cfg.Messaging.ReassemblyTimeout.D().Seconds() != 60 {
		t.Errorf("messaging defaults %+v", cfg.Messaging)
	}
	if app, ok := cfg.MessagingAppFor("15557654321"); !ok || app.SMSURL != "https://app.test/sms" || app.SMSMethod != "GET" {
		t.Errorf("MessagingAppFor = %+v, %v", app, ok)
	}
	if _, ok := cfg.MessagingAppFor("+15550001000"); ok {
		t.Error("a voice-only number handles messages")
	}
	if _, ok := cfg.AppFor("+15557654321"); ok {
		t.Error("a messaging-only number takes calls")
	}
}

func TestMessagingConfigErrors(t *testing.T) {
	_, err := loadYAML(t, `numbers:
  - number: "+15557654321"
    sms_url: ftp://nope
    sms_method: PUT
trunks:
  - name: a
    messaging: smpp
    smpp: {bind: both}
  - name: b
    messaging: carrier-pigeon
  - name: c
    messaging: sip
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"numbers[0].sms_url", "numbers[0].sms_method", "trunks[0].smpp.host", "trunks[0].smpp.system_id",
		"trunks[0].smpp.bind", "trunks[1].messaging", "trunks[2].host"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
}
