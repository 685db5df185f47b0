package tts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Defaults of Options.
const (
	defaultBinary      = "espeak-ng"
	defaultRate        = 150      // words per minute
	defaultMemoryBytes = 32 << 20 // in-memory cache bound
)

// Options configure an Engine.
type Options struct {
	// Binary is the espeak-ng executable, looked up in PATH. Default "espeak-ng".
	Binary string
	// CacheDir holds rendered prompts in CacheDir/tts. Empty: memory only.
	CacheDir string
	// Rate is the speaking rate in words per minute. Default 150.
	Rate int
	// Voices overrides the voice table: keys are lowercase locales ("en-us"),
	// optionally with a gender ("en-us/f", "en-us/m"), or bare languages
	// ("de"); values are espeak-ng voices ("en-us+f2", "mb-us1"), used as is.
	Voices map[string]string
	// MemoryBytes bounds the in-memory cache of recent prompts (samples × 2).
	// Default 32 MiB; negative disables it.
	MemoryBytes int64
	// Logger receives cache problems. Default: discard.
	Logger *slog.Logger
}

// Engine renders text to speech. It is safe for concurrent use.
type Engine struct {
	binary string
	rate   int
	dir    string // "" when there is no disk cache
	voices map[string]string
	log    *slog.Logger
	mem    *memCache

	mu      sync.Mutex
	flights map[string]*flight // renders in progress, by cache key

	processes atomic.Int64  // espeak-ng processes started
	onStart   func(pid int) // test hook: called when a process starts
}

// New checks that espeak-ng is installed and prepares the cache directory.
func New(opts Options) (*Engine, error) {
	if opts.Binary == "" {
		opts.Binary = defaultBinary
	}
	binary, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("%s not found: install it with apt-get install espeak-ng: %w", opts.Binary, err)
	}
	e := &Engine{
		binary:  binary,
		rate:    opts.Rate,
		voices:  map[string]string{},
		log:     opts.Logger,
		flights: map[string]*flight{},
	}
	if e.rate <= 0 {
		e.rate = defaultRate
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	for k, v := range opts.Voices {
		if err := e.checkVoice(v); err != nil {
			return nil, fmt.Errorf("tts: configured voice %q for %q: %w", v, k, err)
		}
		e.voices[normalizeLocale(k)] = v
	}
	memBytes := opts.MemoryBytes
	if memBytes == 0 {
		memBytes = defaultMemoryBytes
	}
	e.mem = newMemCache(max(memBytes, 0))
	if opts.CacheDir != "" {
		e.dir = filepath.Join(opts.CacheDir, "tts")
		if err := os.MkdirAll(e.dir, 0o755); err != nil {
			return nil, fmt.Errorf("tts: cache directory: %w", err)
		}
	}
	return e, nil
}

// Render speaks text with the voice VoiceFor picks for (voice, language)
// and returns 8 kHz mono samples, from the cache when the same prompt was
// rendered before. warn is a Twilio-style warning (13511 voice fallback,
// 13520 empty text) for the caller to log; it is never an error. The
// samples are shared with the cache: do not modify them. Errors come from
// espeak-ng failing or ctx ending (the process is then killed).
func (e *Engine) Render(ctx context.Context, text, voice, language string) (pcm []int16, warn string, err error) {
	espeakVoice, warn := e.VoiceFor(voice, language)
	if strings.TrimSpace(text) == "" {
		return nil, joinWarnings(warn, "13520 Say: invalid text: nothing to say"), nil
	}
	pcm, err = e.render(ctx, espeakVoice, text)
	if err != nil {
		return nil, warn, err
	}
	return pcm, warn, nil
}

// render returns the samples of one prompt: memory, then disk, then a
// (shared) espeak-ng run.
func (e *Engine) render(ctx context.Context, espeakVoice, text string) ([]int16, error) {
	key := cacheKey(espeakVoice, e.rate, text)
	if pcm, ok := e.mem.get(key); ok {
		return pcm, nil
	}
	return e.shared(ctx, key, func(ctx context.Context) ([]int16, error) {
		if pcm, ok := e.mem.get(key); ok {
			return pcm, nil // finished by a flight that just ended
		}
		if pcm, ok := e.loadDisk(key); ok {
			e.mem.put(key, pcm)
			return pcm, nil
		}
		pcm, err := e.synthesize(ctx, espeakVoice, text)
		if err != nil {
			return nil, err
		}
		e.storeDisk(key, pcm)
		e.mem.put(key, pcm)
		return pcm, nil
	})
}

func joinWarnings(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
