package recording

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/sid"
)

// silenceLevel is the frame RMS (of full scale 32768) under which a frame
// counts as silence for <Record timeout> and trim-silence: about -48 dBFS,
// well under speech and over line noise and G.711 idle patterns.
const silenceLevel = 130

// File is one recording being written: a WAV file under a temporary name
// in the Recorder's directory, fed frame by frame (it is a media.Sink),
// watched for the silence that ends a <Record>, then saved as SID.wav or
// discarded. WriteFrame may run on a leg's goroutine while the owner
// waits for Silence.
type File struct {
	SID   string
	Start time.Time // when it was created

	r        *Recorder
	channels int
	tmp      string

	mu      sync.Mutex
	file    *bufferedFile
	wav     *audio.WAVWriter
	frames  int
	voiced  span
	quiet   int // consecutive silent frames
	limit   int // silent frames that end the recording (0 = never)
	silence chan struct{}
	err     error
	closed  bool
}

// span is the first and last frame index with sound (-1: none).
type span struct{ first, last int }

// Create starts a recording of channels (1, or 2 interleaved) with a new
// SID. A silenceTimeout above zero makes Silence fire once that much
// silence has been written in a row.
func (r *Recorder) Create(channels int, silenceTimeout time.Duration) (*File, error) {
	if r.cfg.Dir == "" {
		return nil, ErrNoDir
	}
	recSID := sid.New(sid.Recording)
	f, err := os.CreateTemp(r.cfg.Dir, ".rec-"+recSID+"-*.wav")
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	buf := &bufferedFile{f: f, buf: bufio.NewWriterSize(f, 32<<10)}
	w, err := audio.NewWAVWriterChannels(buf, media.SampleRate, channels)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("recording: %w", err)
	}
	return &File{
		SID: recSID, Start: r.cfg.Clock.Now(),
		r: r, channels: channels, tmp: f.Name(), file: buf, wav: w,
		voiced:  span{first: -1, last: -1},
		limit:   int(silenceTimeout / media.FrameDuration),
		silence: make(chan struct{}, 1),
	}, nil
}

// WriteFrame implements media.Sink: it appends one frame (of every
// channel's samples, interleaved).
func (f *File) WriteFrame(p []int16) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil || f.closed {
		return f.err
	}
	if f.limit > 0 && f.quiet >= f.limit {
		return nil // the silence ended the recording; frames until it stops are dropped
	}
	if err := f.wav.WriteFrame(p); err != nil {
		f.err = err
		return err
	}
	if frameRMS(p) >= silenceLevel {
		if f.voiced.first < 0 {
			f.voiced.first = f.frames
		}
		f.voiced.last = f.frames
		f.quiet = 0
	} else {
		f.quiet++
		if f.limit > 0 && f.quiet >= f.limit {
			select {
			case f.silence <- struct{}{}:
			default:
			}
		}
	}
	f.frames++
	return nil
}

// Silence receives once the silence timeout has passed.
func (f *File) Silence() <-chan struct{} { return f.silence }

// Close completes the file; no frame is written after it. It returns how
// many frames were written.
func (f *File) Close() (frames int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		f.err = errors.Join(f.err, f.wav.Close(), f.file.Close())
	}
	return f.frames, f.err
}

// Save closes the file and keeps it as the recording SID.wav, with only
// the frames from the first to the last with sound when trim is set (all
// of them when none has sound). It returns the file's path and the
// duration it holds.
func (f *File) Save(trim bool) (path string, d time.Duration, err error) {
	defer os.Remove(f.tmp) // gone once renamed
	frames, err := f.Close()
	if err != nil {
		return "", 0, err
	}
	path = filepath.Join(f.r.cfg.Dir, f.SID+".wav")
	if trim && f.voiced.first >= 0 {
		frames = f.voiced.last + 1 - f.voiced.first
		err = audio.TrimWAVFile(f.tmp, path, f.voiced.first*media.FrameSamples, (f.voiced.last+1)*media.FrameSamples)
	} else {
		err = os.Rename(f.tmp, path)
	}
	if err != nil {
		return "", 0, fmt.Errorf("recording: save %s: %w", path, err)
	}
	return path, time.Duration(frames) * media.FrameDuration, nil
}

// Discard closes the file and removes it.
func (f *File) Discard() {
	_, _ = f.Close()
	os.Remove(f.tmp)
}

// bufferedFile lets the WAV writer write through a large buffer, so that
// the goroutines that feed a recording (a leg's receive loop, a pacer)
// seldom wait for a write to the disk, and still seek back to patch the
// header (flushing first).
type bufferedFile struct {
	f   *os.File
	buf *bufio.Writer
}

func (b *bufferedFile) Write(p []byte) (int, error) { return b.buf.Write(p) }

func (b *bufferedFile) Seek(offset int64, whence int) (int64, error) {
	if err := b.buf.Flush(); err != nil {
		return 0, err
	}
	return b.f.Seek(offset, whence)
}

// Close flushes the buffer and closes the file.
func (b *bufferedFile) Close() error { return errors.Join(b.buf.Flush(), b.f.Close()) }

// frameRMS is the root mean square of a frame's samples.
func frameRMS(p []int16) int {
	if len(p) == 0 {
		return 0
	}
	var sum int64
	for _, s := range p {
		sum += int64(s) * int64(s)
	}
	mean := sum / int64(len(p))
	// integer square root
	x := int64(0)
	for b := int64(1) << 30; b > 0; b >>= 2 {
		if x+b <= mean {
			mean -= x + b
			x = x>>1 + b
		} else {
			x >>= 1
		}
	}
	return int(x)
}
