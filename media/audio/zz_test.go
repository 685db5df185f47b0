package audio

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestZZSlow(t *testing.T) {
	files, _ := filepath.Glob("/root/.cache/go-build/fuzz/github.com/voxgate/voxgate/media/audio/FuzzDecode/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		lines := strings.Split(string(b), "\n")
		d, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2], "string("), ")"))
		start := time.Now()
		pcm, err := Decode([]byte(d), ct)
		if el := time.Since(start); el > 50*time.Millisecond {
			t.Logf("%s: %v len %d ct %q -> %d samples, %v; head %q", filepath.Base(f), el, len(d), ct, len(pcm), err, d[:min(len(d), 48)])
		}
	}
}
