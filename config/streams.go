package config

import (
	"fmt"
	"net/url"
	"time"
)

// Streams configures media streams (<Connect><Stream>, <Start><Stream>,
// Calls/{Sid}/Streams).
type Streams struct {
	// MaxPerCall bounds one-way streams running on one call (default 4).
	MaxPerCall int `yaml:"max_per_call"`
	// QueueFrames bounds the audio frames waiting to be written to one
	// stream's server (default 250 = 5 s); beyond it frames are dropped
	// and counted.
	QueueFrames int `yaml:"queue_frames"`
	// DialTimeout bounds connecting to a stream's server (default 10s).
	DialTimeout Duration `yaml:"dial_timeout"`
	// WriteTimeout is how long a write to a stream's server may hang
	// before the server is taken for dead (default 5s, error 31901).
	WriteTimeout Duration `yaml:"write_timeout"`
}

// Speech configures speech recognition for <Gather input="speech">.
type Speech struct {
	// Recognizer is "pocketsphinx" (default, offline) or "websocket".
	Recognizer string `yaml:"recognizer"`
	// PocketsphinxModel is the model directory (default Debian's
	// /usr/share/pocketsphinx/model/en-us).
	PocketsphinxModel string `yaml:"pocketsphinx_model"`
	// Workers bounds concurrent PocketSphinx decodes (default: CPUs).
	Workers int `yaml:"workers"`
	// WebsocketURL is the external recognition server (ws:// or wss://),
	// required with recognizer: websocket.
	WebsocketURL string `yaml:"websocket_url"`
}

func defaultStreams() Streams {
	return Streams{MaxPerCall: 4, QueueFrames: 250, DialTimeout: Duration(10 * time.Second), WriteTimeout: Duration(5 * time.Second)}
}

func defaultSpeech() Speech {
	return Speech{Recognizer: "pocketsphinx", PocketsphinxModel: "/usr/share/pocketsphinx/model/en-us"}
}

// validateStreams checks the streams and speech keys.
func (c Config) validateStreams() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Streams.MaxPerCall < 1 {
		bad("streams.max_per_call", "must be at least 1")
	}
	if c.Streams.QueueFrames < 10 {
		bad("streams.queue_frames", "must be at least 10")
	}
	if c.Streams.DialTimeout.D() <= 0 {
		bad("streams.dial_timeout", "must be positive")
	}
	if c.Streams.WriteTimeout.D() <= 0 {
		bad("streams.write_timeout", "must be positive")
	}
	if c.Speech.Workers < 0 {
		bad("speech.workers", "must not be negative")
	}
	switch c.Speech.Recognizer {
	case "pocketsphinx":
	case "websocket":
		u, err := url.Parse(c.Speech.WebsocketURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			bad("speech.websocket_url", "%q: want a ws:// or wss:// URL", c.Speech.WebsocketURL)
		}
	default:
		bad("speech.recognizer", "%q: want pocketsphinx or websocket", c.Speech.Recognizer)
	}
	return errs
}
