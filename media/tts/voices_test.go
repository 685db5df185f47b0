package tts

import (
	"strings"
	"testing"
)

func TestVoiceFor(t *testing.T) {
	e := newTestEngine(t, Options{Voices: map[string]string{
		"it-IT/f": "it+f5",    // gender-specific override (key normalised)
		"nl":      "nl+klatt", // language-wide override
	}})
	tests := []struct {
		voice, language string
		want            string
		warn            bool
	}{
		{"", "", "en-us+m3", false},
		{"man", "", "en-us+m3", false},
		{"woman", "", "en-us+f3", false},
		{"alice", "", "en-us+f3", false},
		{"Alice", "en-GB", "en-gb+f3", false},
		{"man", "en-gb", "en-gb+m3", false},
		{"woman", "fr-FR", "fr-fr+f3", false},
		{"man", "de-DE", "de+m3", false},
		{"woman", "es-ES", "es+f3", false},
		{"woman", "es-MX", "es-419+f3", false},
		{"man", "es-US", "es-419+m3", false},
		{"alice", "pt-BR", "pt-br+f3", false},
		{"alice", "pt-PT", "pt+f3", false},
		{"alice", "ja-JP", "ja+f3", false},
		{"alice", "zh-CN", "cmn+f3", false},
		{"alice", "zh-HK", "yue+f3", false},
		{"alice", "nb_NO", "nb+f3", false},
		{"alice", "arb", "ar+f3", false},
		{"man", "en-ZA", "en-gb+m3", false}, // not in any table: the base language
		{"man", "sw-KE", "sw+m3", false},    // espeak-ng language code
		{"Polly.Joanna", "", "en-us+f3", false},
		{"Polly.Joanna-Neural", "", "en-us+f3", false},
		{"Polly.Matthew-Generative", "", "en-us+m3", false},
		{"Polly.Amy", "", "en-gb+f3", false},
		{"polly.brian", "", "en-gb+m3", false},
		{"Polly.Céline", "", "fr-fr+f3", false},
		{"Polly.Hans", "", "de+m3", false},
		{"Polly.Mia", "", "es-419+f3", false},
		{"Polly.Lupe", "", "es-419+f3", false},
		{"Polly.Camila", "", "pt-br+f3", false},
		{"Polly.Zhiyu", "", "cmn+f3", false},
		{"Polly.Zeina", "", "ar+f3", false},
		{"Polly.Geraint", "", "en-gb+m3", false},
		{"Polly.Joanna", "en-GB", "en-gb+f3", false}, // same language, another region
		{"Polly.Joanna", "fr-FR", "fr-fr+f3", true},  // mismatch: the language wins
		{"Google.en-GB-Wavenet-A", "", "en-gb+m3", false},
		{"Google.fr-CA-Neural2-B", "", "fr-fr+m3", false},
		{"Google.cmn-CN-Standard-A", "", "cmn+m3", false},
		{"Polly.Nobody", "", "en-us+m3", true},
		{"Polly.Nobody", "de-DE", "de+m3", true},
		{"Google.bogus", "", "en-us+m3", true},
		{"robot", "", "en-us+m3", true},
		{"woman", "xx-YY", "en-us+f3", true},
		{"man", "fil-PH", "en-us+m3", true},
		{"woman", "it-IT", "it+f5", false},
		{"man", "it-IT", "it+m3", false},
		{"man", "nl-BE", "nl+klatt", false},
		{"woman", "nl-NL", "nl+klatt", false},
	}
	for _, tt := range tests {
		got, warn := e.VoiceFor(tt.voice, tt.language)
		if got != tt.want {
			t.Errorf("VoiceFor(%q, %q) = %q, want %q", tt.voice, tt.language, got, tt.want)
		}
		if (warn != "") != tt.warn {
			t.Errorf("VoiceFor(%q, %q) warning %q, want warning: %v", tt.voice, tt.language, warn, tt.warn)
		}
		if warn != "" && !strings.HasPrefix(warn, "13511 ") {
			t.Errorf("warning %q does not start with 13511", warn)
		}
	}
}

// Every voice the built-in tables can produce must exist in espeak-ng.
func TestBuiltinVoicesExistInEspeak(t *testing.T) {
	e := newTestEngine(t, Options{})
	voices := map[string]bool{}
	for _, p := range pollyVoices {
		v, _ := e.VoiceFor("", p.locale)
		voices[v] = true
	}
	for locale, v := range localeVoices {
		if v != "" {
			got, _ := e.VoiceFor("woman", locale)
			voices[got] = true
		}
	}
	for lang := range espeakLanguages {
		voices[lang+male.variant()] = true
	}
	for v := range voices {
		if err := e.checkVoice(v); err != nil {
			t.Errorf("built-in voice: %v", err)
		}
	}
}
