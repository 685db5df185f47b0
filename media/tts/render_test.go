package tts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestNewWithoutEspeak(t *testing.T) {
	_, err := New(Options{Binary: "espeak-ng-not-installed-here"})
	if err == nil || !strings.Contains(err.Error(), "install it with apt-get install espeak-ng") {
		t.Fatalf("New error %v, want a hint to install espeak-ng", err)
	}
}

func TestRenderHello(t *testing.T) {
	e := newTestEngine(t, Options{})
	pcm, warn, err := e.Render(t.Context(), "Hello", "", "")
	if err != nil || warn != "" {
		t.Fatalf("Render: %v, warning %q", err, warn)
	}
	// "Hello" at 150 words per minute lasts well under a second.
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 200*time.Millisecond || d > 2*time.Second {
		t.Fatalf("%v of audio (%d samples at 8 kHz)", d, len(pcm))
	}
	frames := frameRMS(pcm)
	loud, peak := 0, 0.0
	for _, r := range frames {
		if r > 0.01 { // -40 dBFS
			loud++
		}
		peak = math.Max(peak, r)
	}
	if loud < 5 || peak < 0.05 {
		t.Fatalf("no speech energy: %d of %d frames above -40 dBFS, loudest %.3f", loud, len(frames), peak)
	}
	if loud == len(frames) {
		t.Fatalf("no quiet frame at all: not speech-like")
	}
	if e.processes.Load() != 1 {
		t.Fatalf("%d espeak-ng processes, want 1", e.processes.Load())
	}
}

func TestRenderMatchesReference(t *testing.T) {
	e := newTestEngine(t, Options{})
	tests := []struct {
		voice, language, text string
	}{
		{"", "", "Hello, thank you for calling Voxgate. Please press one for sales."},
		{"woman", "", "Your call is important to us."},
		{"Polly.Amy", "", "Please hold."},
		{"alice", "fr-FR", "Bonjour, merci de votre appel."},
		{"man", "es-MX", "Gracias por llamar."},
		{"", "", `She said "don't" -- twice.` + "\nThen 'left'; $HOME `date` \\n & <b>bold</b>"},
		{"", "", "-v en-gb --help should be spoken, not parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			pcm, _, err := e.Render(t.Context(), tt.text, tt.voice, tt.language)
			if err != nil {
				t.Fatal(err)
			}
			voice, _ := e.VoiceFor(tt.voice, tt.language)
			ref := reference(t, voice, tt.text)
			if diff := len(pcm) - len(ref); diff < -80 || diff > 80 {
				t.Errorf("%d samples, reference %d", len(pcm), len(ref))
			}
			c := peakCorrelation(pcm, ref, 40)
			t.Logf("voice %s: %d samples, correlation with espeak-ng + sox %.4f", voice, len(pcm), c)
			if c < 0.9 {
				t.Errorf("correlation %.3f with the reference, want > 0.9", c)
			}
		})
	}
}

func TestRenderCaches(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, Options{CacheDir: dir})
	first, _, err := e.Render(t.Context(), "Press one for sales.", "woman", "en-US")
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := e.Render(t.Context(), "Press one for sales.", "alice", "en-us") // same espeak-ng voice
	if err != nil {
		t.Fatal(err)
	}
	if n := e.processes.Load(); n != 1 {
		t.Fatalf("%d espeak-ng processes for the same prompt twice, want 1", n)
	}
	if !slices.Equal(first, second) {
		t.Fatal("cached render differs")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "tts", "*.wav"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	key := cacheKey("en-us+f3", 150, "Press one for sales.")
	if want := filepath.Join(dir, "tts", key+".wav"); files[0] != want {
		t.Fatalf("cache file %s, want %s", files[0], want)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "tts", ".tmp-*")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}

	// Another voice, rate or text is another prompt.
	e.Render(t.Context(), "Press one for sales.", "man", "")
	e.Render(t.Context(), "Press two for support.", "woman", "")
	if n := e.processes.Load(); n != 3 {
		t.Fatalf("%d processes, want 3", n)
	}

	// A new Engine (a restart) finds the prompt on disk.
	restarted := newTestEngine(t, Options{CacheDir: dir})
	again, _, err := restarted.Render(t.Context(), "Press one for sales.", "woman", "")
	if err != nil {
		t.Fatal(err)
	}
	if n := restarted.processes.Load(); n != 0 {
		t.Fatalf("restarted engine ran espeak-ng %d times, want 0 (disk cache)", n)
	}
	if !slices.Equal(first, again) {
		t.Fatal("disk cache returned different audio")
	}
	faster := newTestEngine(t, Options{CacheDir: dir, Rate: 200})
	fast, _, _ := faster.Render(t.Context(), "Press one for sales.", "woman", "")
	if faster.processes.Load() != 1 || len(fast) >= len(first) {
		t.Fatalf("rate 200: %d processes, %d samples (150 wpm: %d)", faster.processes.Load(), len(fast), len(first))
	}
}

func TestCorruptCacheFileIsRerendered(t *testing.T) {
	dir := t.TempDir()
	e := newTestEngine(t, Options{CacheDir: dir})
	key := cacheKey("en-us+m3", 150, "Goodbye.")
	if err := os.WriteFile(filepath.Join(dir, "tts", key+".wav"), []byte("RIFF garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	pcm, _, err := e.Render(t.Context(), "Goodbye.", "", "")
	if err != nil || len(pcm) == 0 || e.processes.Load() != 1 {
		t.Fatalf("Render over a corrupt cache file: %d samples, %v, %d processes", len(pcm), err, e.processes.Load())
	}
	restarted := newTestEngine(t, Options{CacheDir: dir})
	if _, _, err := restarted.Render(t.Context(), "Goodbye.", "", ""); err != nil || restarted.processes.Load() != 0 {
		t.Fatalf("the re-render was not cached: %v, %d processes", err, restarted.processes.Load())
	}
}

func TestMemoryOnly(t *testing.T) {
	e, err := New(Options{}) // no CacheDir
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := e.Render(t.Context(), "Memory only.", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.processes.Load(); n != 1 {
		t.Fatalf("%d processes, want 1", n)
	}
}

func TestConcurrentRendersShareOneProcess(t *testing.T) {
	e := newTestEngine(t, Options{})
	const n = 8
	results := make([][]int16, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			pcm, _, err := e.Render(t.Context(), "All of our agents are busy.", "", "")
			if err != nil {
				t.Error(err)
			}
			results[i] = pcm
		})
	}
	wg.Wait()
	if p := e.processes.Load(); p != 1 {
		t.Fatalf("%d espeak-ng processes for %d concurrent renders, want 1", p, n)
	}
	for i := range results {
		if len(results[i]) == 0 || !slices.Equal(results[i], results[0]) {
			t.Fatalf("result %d differs", i)
		}
	}
}

// longText takes espeak-ng many seconds to render.
var longText = strings.Repeat("This sentence is here to keep espeak busy for a long while. ", 1000)

func TestCancelKillsProcess(t *testing.T) {
	e := newTestEngine(t, Options{})
	pids := make(chan int, 1)
	e.onStart = func(pid int) { pids <- pid }
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := e.Render(ctx, longText, "", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Render error %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Render returned %v after start, long after its deadline", d)
	}
	pid := <-pids
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("espeak-ng (pid %d) still exists after Render returned: kill -0 = %v", pid, err)
	}
	if files, _ := os.ReadDir(e.dir); len(files) != 0 {
		t.Fatalf("cancelled render left files: %v", files)
	}
}

func TestRenderWarnings(t *testing.T) {
	e := newTestEngine(t, Options{})
	pcm, warn, err := e.Render(t.Context(), "Hello", "Polly.Nobody", "")
	if err != nil || len(pcm) == 0 || !strings.HasPrefix(warn, "13511") {
		t.Fatalf("unknown voice: %d samples, warning %q, %v", len(pcm), warn, err)
	}
	pcm, warn, err = e.Render(t.Context(), "  \n ", "", "")
	if err != nil || pcm != nil || !strings.HasPrefix(warn, "13520") {
		t.Fatalf("empty text: %v samples, warning %q, %v", pcm, warn, err)
	}
}

func TestNewRejectsMissingConfiguredVoice(t *testing.T) {
	_, err := New(Options{CacheDir: t.TempDir(), Voices: map[string]string{"de": "zz-nonexistent"}})
	if err == nil || !strings.Contains(err.Error(), "zz-nonexistent") {
		t.Fatalf("New error %v, want one naming the voice", err)
	}
}

func TestMemCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newMemCache(100) // bytes: 50 samples
	pcm := func(n int) []int16 { return make([]int16, n) }
	c.put("a", pcm(20))
	c.put("b", pcm(20))
	c.get("a") // a is now more recent than b
	c.put("c", pcm(20))
	for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if _, ok := c.get(key); ok != want {
			t.Errorf("after eviction, %q cached = %v, want %v", key, ok, want)
		}
	}
	c.put("huge", pcm(51))
	if _, ok := c.get("huge"); ok {
		t.Error("an entry larger than the limit was cached")
	}
	c.put("a", pcm(40)) // replaces a, evicts c
	if c.used > c.limit || c.used != 80 {
		t.Errorf("used %d bytes, limit %d", c.used, c.limit)
	}
	if _, ok := c.get("c"); ok {
		t.Error("c should have been evicted")
	}
	off := newMemCache(0)
	off.put("x", pcm(1))
	if _, ok := off.get("x"); ok {
		t.Error("a zero limit must disable the cache")
	}
}

func BenchmarkRenderCached(b *testing.B) {
	e, err := New(Options{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := e.Render(ctx, "Thank you for calling.", "Polly.Joanna", ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Render(ctx, "Thank you for calling.", "Polly.Joanna", ""); err != nil {
			b.Fatal(err)
		}
	}
	if e.processes.Load() != 1 {
		b.Fatal(fmt.Sprint(e.processes.Load(), " processes"))
	}
}
