package tts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/voxgate/voxgate/internal/atomicfile"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// cacheFormat versions the cache key: change it when rendering changes.
const cacheFormat = "espeak-ng/8k/1"

// cacheKey names a prompt: sha256 of (format, espeak-ng voice, rate, text).
func cacheKey(espeakVoice string, rate int, text string) string {
	h := sha256.New()
	for _, part := range []string{cacheFormat, espeakVoice, strconv.Itoa(rate), text} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// diskPath is where a prompt is cached.
func (e *Engine) diskPath(key string) string {
	return filepath.Join(e.dir, key+".wav")
}

// loadDisk reads a cached prompt. A missing or unreadable file is a miss.
func (e *Engine) loadDisk(key string) ([]int16, bool) {
	if e.dir == "" {
		return nil, false
	}
	data, err := os.ReadFile(e.diskPath(key))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			e.log.Warn("tts: reading cached prompt", "path", e.diskPath(key), "error", err)
		}
		return nil, false
	}
	pcm, err := audio.DecodeWAV(data)
	if err != nil {
		e.log.Warn("tts: ignoring corrupt cached prompt", "path", e.diskPath(key), "error", err)
		return nil, false
	}
	return pcm, true
}

// storeDisk writes a prompt as an 8 kHz WAV: to a temporary file first,
// renamed into place, so readers never see half a file. Failures only
// cost a future re-render, so they are logged, not returned.
func (e *Engine) storeDisk(key string, pcm []int16) {
	if e.dir == "" {
		return
	}
	if err := atomicfile.Write(e.diskPath(key), audio.EncodeWAV(pcm, media.SampleRate)); err != nil {
		e.log.Warn("tts: caching prompt", "path", e.diskPath(key), "error", err)
	}
}
