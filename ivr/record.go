package ivr

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/twiml"
)

// silenceLevel is the frame RMS (of full scale 32768) under which a frame
// counts as silence for <Record timeout> and trim-silence: about -48 dBFS,
// well under speech and over line noise and G.711 idle patterns.
const silenceLevel = 130

// Recording describes a finished recording, for the store and the REST API.
type Recording struct {
	SID       string
	CallSID   string
	Path      string // the WAV file
	Duration  time.Duration
	StartTime time.Time
	Source    string // RecordVerb, DialVerb, OutboundAPI, StartCallRecordingAPI, …
	Channels  int
	// Status is "" or "completed" for a finished recording; whole-call
	// recordings are also reported as they start ("in-progress"), pause
	// ("paused") and resume, and as "absent" when they heard nothing.
	Status string
}

// beep is the tone played before <Record>.
func beep() media.Source { return audio.NewTone([]float64{1000}, 0.5, 400*time.Millisecond) }

func init() { registerVerb(func(v *twiml.Record) verb { return &recordVerb{r: v} }) }

// recordVerb runs <Record> (twiml-voice.md §2.5): the caller's audio into
// a WAV file until silence, maxLength, a finishOnKey key or the hang-up,
// then the action with the recording.
type recordVerb struct {
	r      *twiml.Record
	sid    string
	tmp    string // the file being written, renamed when saved
	sink   *recordSink
	start  time.Time
	digits string // the key that ended the recording, or "hangup"
	hungUp bool
}

func (v *recordVerb) run(s *session) (next, error) {
	if err := v.begin(s); err != nil {
		return next{}, err
	}
	defer os.Remove(v.tmp) // gone once renamed; cleans up on failure
	if err := v.capture(s); err != nil {
		return next{}, err
	}
	frames, voiced, err := v.sink.finish()
	if err != nil {
		return next{}, &verbError{code: 12400, err: fmt.Errorf("<Record>: write %s: %w", v.tmp, err)}
	}
	if frames == 0 {
		// Nothing was received at all: fall through to the next verb (the
		// classic "I did not receive a recording" <Say>).
		s.log.Info("ivr: record: no audio received", "recording_sid", v.sid)
		v.status(s, "absent", 0)
		if v.hungUp {
			return next{}, errHangup
		}
		return next{}, nil
	}
	duration, err := v.save(s, frames, voiced)
	if err != nil {
		return next{}, err
	}
	extra := map[string]string{
		"RecordingUrl":      s.recordingURL(v.sid),
		"RecordingDuration": strconv.Itoa(int(duration.Round(time.Second) / time.Second)),
		"RecordingSid":      v.sid,
		"Digits":            v.digits,
	}
	if v.hungUp {
		// The action is still requested (CallStatus=completed); its TwiML is ignored.
		s.informAction(v.r.Action, v.r.Method, extra)
		return next{}, errHangup
	}
	req, err := s.actionRequest(v.r.Action, v.r.Method, extra)
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// begin plays the beep and opens the file.
func (v *recordVerb) begin(s *session) error {
	dir := s.cfg.RecordingsDir
	if dir == "" {
		return &verbError{code: 12400, err: errors.New("<Record>: no recordings directory configured")}
	}
	if v.r.Transcribe {
		s.log.Warn(`ivr: <Record transcribe="true">: transcription is not supported; recording without it`)
	}
	s.drainDigits()
	if v.r.PlayBeep {
		if err := s.leg().Play(s.ctx, beep()); err != nil {
			return s.mediaErr(err)
		}
	}
	v.sid = sid.New(sid.Recording)
	tmp, err := os.CreateTemp(dir, ".rec-"+v.sid+"-*.wav")
	if err != nil {
		return &verbError{code: 12400, err: fmt.Errorf("<Record>: %w", err)}
	}
	v.tmp = tmp.Name()
	if v.sink, err = newRecordSink(tmp, v.r.Timeout); err != nil {
		tmp.Close()
		os.Remove(v.tmp)
		return &verbError{code: 12400, err: err}
	}
	v.start = s.now()
	v.status(s, "in-progress", 0)
	return nil
}

// capture records until silence, maxLength, a finishOnKey key or the
// hang-up. A live redirect abandons the recording (errInterrupted).
func (v *recordVerb) capture(s *session) error {
	recCtx, stopRec := context.WithCancel(s.ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- s.leg().Record(recCtx, v.sink) }()
	stop := sync.OnceFunc(func() { stopRec(); <-recDone })
	defer stop()
	maxLen := s.after(time.Duration(v.r.MaxLength) * time.Second)
	for {
		select {
		case <-s.ctx.Done():
			if !s.over() {
				stop()
				_, _, _ = v.sink.finish()
				return errInterrupted
			}
			v.hungUp, v.digits = true, "hangup"
			return nil
		case <-maxLen:
			return nil
		case <-v.sink.silence:
			return nil
		case d := <-s.leg().DTMF():
			if strings.IndexByte(v.r.FinishOnKey, d.Key) >= 0 {
				v.digits = string(d.Key)
				return nil
			}
		}
	}
}

// save moves the finished file to its place (trimmed when asked) and
// reports it. It returns the recording's untrimmed duration.
func (v *recordVerb) save(s *session, frames int, voiced voicedSpan) (time.Duration, error) {
	duration := time.Duration(frames) * media.FrameDuration
	final := filepath.Join(s.cfg.RecordingsDir, v.sid+".wav")
	trim := v.r.Trim == twiml.TrimSilence && voiced.first >= 0
	var err error
	if trim && voiced.last >= voiced.first {
		err = trimWAV(v.tmp, final, voiced.first, voiced.last+1)
	} else {
		err = os.Rename(v.tmp, final)
	}
	if err != nil {
		return 0, &verbError{code: 12400, err: fmt.Errorf("<Record>: save: %w", err)}
	}
	trimmed := duration
	if trim {
		trimmed = time.Duration(voiced.last+1-voiced.first) * media.FrameDuration
	}
	s.log.Info("ivr: recording saved", "recording_sid", v.sid, "duration", duration.String(), "digits", v.digits, "path", final)
	if s.cfg.RecordingSaved != nil {
		s.cfg.RecordingSaved(Recording{SID: v.sid, CallSID: s.info.SID, Path: final, Duration: trimmed, StartTime: v.start, Source: "RecordVerb", Channels: 1})
	}
	v.status(s, "completed", trimmed)
	return duration, nil
}

// status sends recordingStatusCallback for event when subscribed.
func (v *recordVerb) status(s *session, event string, dur time.Duration) {
	r := v.r
	if r.RecordingStatusCallback == "" || !slices.Contains(r.RecordingStatusCallbackEvents, event) {
		return
	}
	target, err := s.resolve(r.RecordingStatusCallback)
	if err != nil {
		s.log.Warn("ivr: recordingStatusCallback URL", "error", err)
		return
	}
	p := s.recordingParams(Recording{SID: v.sid, Duration: dur, StartTime: v.start, Source: "RecordVerb"}, event)
	s.e.sendCallback(s.web, webhook.Request{URL: target, Method: r.RecordingStatusCallbackMethod, Params: p})
}

// recordingURL is where the recording is served (no extension = WAV).
func (s *session) recordingURL(recSID string) string {
	return fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s", strings.TrimRight(s.cfg.PublicURL, "/"), s.cfg.AccountSID, recSID)
}

// voicedSpan is the first and last frame index with sound (-1: none).
type voicedSpan struct{ first, last int }

// recordSink writes received frames to a WAV file and watches for the
// silence that ends a recording. WriteFrame runs on the leg's receive
// goroutine, so it only buffers and counts.
type recordSink struct {
	mu      sync.Mutex
	file    *os.File
	buf     *bufio.Writer
	wav     *audio.WAVWriter
	frames  int
	voiced  voicedSpan
	quiet   int // consecutive silent frames
	limit   int // silent frames that end the recording (0 = never)
	silence chan struct{}
	err     error
}

func newRecordSink(f *os.File, timeoutSeconds int) (*recordSink, error) {
	buf := bufio.NewWriterSize(f, 32<<10)
	w, err := audio.NewWAVWriter(&seekableBuffer{f: f, buf: buf}, media.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("<Record>: %w", err)
	}
	return &recordSink{
		file: f, buf: buf, wav: w,
		voiced:  voicedSpan{first: -1, last: -1},
		limit:   timeoutSeconds * int(time.Second/media.FrameDuration),
		silence: make(chan struct{}, 1),
	}, nil
}

// WriteFrame implements media.Sink.
func (r *recordSink) WriteFrame(p []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.limit > 0 && r.quiet >= r.limit {
		return nil // the silence ended the recording; frames until it stops are dropped
	}
	if err := r.wav.WriteFrame(p); err != nil {
		r.err = err
		return err
	}
	if frameRMS(p) >= silenceLevel {
		if r.voiced.first < 0 {
			r.voiced.first = r.frames
		}
		r.voiced.last = r.frames
		r.quiet = 0
	} else {
		r.quiet++
		if r.limit > 0 && r.quiet >= r.limit {
			select {
			case r.silence <- struct{}{}:
			default:
			}
		}
	}
	r.frames++
	return nil
}

// finish completes the file and reports what was recorded.
func (r *recordSink) finish() (frames int, voiced voicedSpan, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	err = r.err
	if e := r.wav.Close(); err == nil {
		err = e
	}
	if e := r.buf.Flush(); err == nil {
		err = e
	}
	if e := r.file.Close(); err == nil {
		err = e
	}
	return r.frames, r.voiced, err
}

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

// seekableBuffer lets the WAV writer write through a bufio.Writer and still
// seek back to patch the header (flushing first).
type seekableBuffer struct {
	f   *os.File
	buf *bufio.Writer
}

func (s *seekableBuffer) Write(p []byte) (int, error) { return s.buf.Write(p) }

func (s *seekableBuffer) Seek(offset int64, whence int) (int64, error) {
	if err := s.buf.Flush(); err != nil {
		return 0, err
	}
	return s.f.Seek(offset, whence)
}

// trimWAV writes frames [from, to) of the recording at src to dst.
func trimWAV(src, dst string, from, to int) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	pcm, err := audio.DecodeWAV(data)
	if err != nil {
		return err
	}
	lo, hi := from*media.FrameSamples, min(to*media.FrameSamples, len(pcm))
	if lo > hi {
		lo = hi
	}
	return writeFileAtomic(dst, audio.EncodeWAV(pcm[lo:hi], media.SampleRate))
}

// recordingParams are the parameters of a recordingStatusCallback.
func (s *session) recordingParams(r Recording, event string) url.Values {
	p := url.Values{}
	p.Set("AccountSid", s.cfg.AccountSID)
	p.Set("CallSid", s.info.SID)
	p.Set("RecordingSid", r.SID)
	p.Set("RecordingUrl", s.recordingURL(r.SID))
	p.Set("RecordingStatus", event)
	p.Set("RecordingDuration", strconv.Itoa(int(r.Duration.Round(time.Second)/time.Second)))
	p.Set("RecordingChannels", strconv.Itoa(max(1, r.Channels)))
	p.Set("RecordingStartTime", r.StartTime.UTC().Format(time.RFC1123Z))
	p.Set("RecordingSource", r.Source)
	if event == "absent" {
		p.Set("ErrorCode", "0")
	}
	return p
}
