package config

import (
	"strings"
	"testing"
)

func TestStreamsAndSpeechKeys(t *testing.T) {
	base := []string{"VOXGATE_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef", "VOXGATE_ACCOUNT_AUTH_TOKEN=0123456789abcdef0123456789abcdef"}
	cfg, err := Load("", base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Streams.MaxPerCall != 4 || cfg.Streams.QueueFrames != 250 || cfg.Speech.Recognizer != "pocketsphinx" {
		t.Errorf("defaults: %+v %+v", cfg.Streams, cfg.Speech)
	}
	cfg, err = Load("", append(base, "VOXGATE_SPEECH_RECOGNIZER=websocket", "VOXGATE_SPEECH_WEBSOCKET_URL=ws://127.0.0.1:9000/asr", "VOXGATE_STREAMS_MAX_PER_CALL=2"))
	if err != nil || cfg.Speech.WebsocketURL != "ws://127.0.0.1:9000/asr" || cfg.Streams.MaxPerCall != 2 {
		t.Errorf("overrides: %v %+v %+v", err, cfg.Speech, cfg.Streams)
	}
	for env, key := range map[string]string{
		"VOXGATE_SPEECH_RECOGNIZER=websocket": "speech.websocket_url",
		"VOXGATE_SPEECH_RECOGNIZER=vosk":      "speech.recognizer",
		"VOXGATE_STREAMS_MAX_PER_CALL=0":      "streams.max_per_call",
		"VOXGATE_STREAMS_WRITE_TIMEOUT=0s":    "streams.write_timeout",
	} {
		if _, err := Load("", append(base, env)); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: err = %v, want one naming %s", env, err, key)
		}
	}
}
