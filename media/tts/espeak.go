package tts

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/media/audio"
)

// synthesize runs espeak-ng once and returns its speech at 8 kHz. The text
// is written to the process's standard input, never parsed as arguments.
func (e *Engine) synthesize(ctx context.Context, espeakVoice, text string) ([]int16, error) {
	cmd := exec.CommandContext(ctx, e.binary, "-v", espeakVoice, "-s", strconv.Itoa(e.rate), "--stdin", "--stdout")
	cmd.Stdin = strings.NewReader(text)
	var stdout bytes.Buffer
	var stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // after a kill, do not wait long for the pipes
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("tts: start %s: %w", e.binary, err)
	}
	e.processes.Add(1)
	if e.onStart != nil {
		e.onStart(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tts: espeak-ng -v %s: %w", espeakVoice, ctx.Err())
		}
		return nil, fmt.Errorf("tts: espeak-ng -v %s: %w: %s", espeakVoice, err, strings.TrimSpace(stderr.String()))
	}
	pcm, err := audio.DecodeWAV(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("tts: espeak-ng -v %s output: %w", espeakVoice, err)
	}
	return pcm, nil
}

// limitedBuffer keeps the first 4 KB written to it (espeak-ng's messages).
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// checkVoice asks espeak-ng to load a voice without producing sound, so a
// bad configured voice is reported at start-up rather than on a call.
func (e *Engine) checkVoice(espeakVoice string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, e.binary, "-q", "-v", espeakVoice, "x").CombinedOutput()
	if err != nil {
		return fmt.Errorf("espeak-ng cannot load voice %q: %w: %s", espeakVoice, err, bytes.TrimSpace(out))
	}
	return nil
}
