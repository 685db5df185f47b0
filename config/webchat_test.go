package config

import (
	"strings"
	"testing"
)

// TestWebChatFlowKey: webchat.flow takes a flow file or a FW SID; a
// malformed SID is refused naming the key.
func TestWebChatFlowKey(t *testing.T) {
	for _, ok := range []string{"flows/webchat.json", "FW0123456789abcdef0123456789abcdef"} {
		cfg, err := loadYAML(t, "webchat:\n  flow: "+ok+"\n")
		if err != nil || cfg.WebChat.Flow != ok {
			t.Errorf("webchat.flow %q: %v (%q)", ok, err, cfg.WebChat.Flow)
		}
	}
	_, err := loadYAML(t, "webchat:\n  flow: FW123\n")
	if err == nil || !strings.Contains(err.Error(), "webchat.flow") {
		t.Errorf("a malformed flow SID: %v", err)
	}
}
