package ivr

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
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

// record runs <Record> (twiml-voice.md §2.5).
func (s *session) record(r *twiml.Record) (next, error) {
	dir := s.e.cfg.RecordingsDir
	if dir == "" {
		return next{}, &verbError{code: 12400, err: errors.New("<Record>: no recordings directory configured")}
	}
	if r.Transcribe {
		s.log.Warn(`ivr: <Record transcribe="true">: transcription is not supported; recording without it`)
	}
	digitsCh := s.call.Leg().DTMF()
drain:
	for {
		select {
		case <-digitsCh:
		default:
			break drain
		}
	}
	if r.PlayBeep {
		if err := s.call.Leg().Play(s.ctx, beep()); err != nil {
			return next{}, s.mediaErr(err)
		}
	}

	recSID := sid.New(sid.Recording)
	tmp, err := os.CreateTemp(dir, ".rec-"+recSID+"-*.wav")
	if err != nil {
		return next{}, &verbError{code: 12400, err: fmt.Errorf("<Record>: %w", err)}
	}
	defer os.Remove(tmp.Name()) // gone once renamed; cleans up on failure
	sink, err := newRecordSink(tmp, r.Timeout)
	if err != nil {
		tmp.Close()
		return next{}, &verbError{code: 12400, err: err}
	}
	start := s.e.cfg.Clock.Now()
	s.recordingStatus(r, recSID, "in-progress", 0, start)

	recCtx, stopRec := context.WithCancel(s.ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- s.call.Leg().Record(recCtx, sink) }()

	digits := ""
	maxLen := s.e.cfg.Clock.After(time.Duration(r.MaxLength) * time.Second)
	hungUp := false
wait:
	for {
		select {
		case <-s.ctx.Done():
			if !s.over() {
				// A live redirect abandons the recording without its action.
				stopRec()
				<-recDone
				_, _, _ = sink.finish()
				return next{}, errInterrupted
			}
			hungUp, digits = true, "hangup"
			break wait
		case <-maxLen:
			break wait
		case <-sink.silence:
			break wait
		case d := <-digitsCh:
			if strings.IndexByte(r.FinishOnKey, d.Key) >= 0 {
				digits = string(d.Key)
				break wait
			}
		}
	}
	stopRec()
	<-recDone
	frames, voiced, err := sink.finish()
	if err != nil {
		return next{}, &verbError{code: 12400, err: fmt.Errorf("<Record>: write %s: %w", tmp.Name(), err)}
	}
	if frames == 0 {
		// Nothing was received at all: fall through to the next verb (the
		// classic "I did not receive a recording" <Say>).
		s.log.Info("ivr: record: no audio received", "recording_sid", recSID)
		s.recordingStatus(r, recSID, "absent", 0, start)
		if hungUp {
			return next{}, errHangup
		}
		return next{}, nil
	}
	duration := time.Duration(frames) * media.FrameDuration
	final := filepath.Join(dir, recSID+".wav")
	if r.Trim == twiml.TrimSilence && voiced.last >= voiced.first && voiced.first >= 0 {
		err = trimWAV(tmp.Name(), final, voiced.first, voiced.last+1)
	} else {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		return next{}, &verbError{code: 12400, err: fmt.Errorf("<Record>: save: %w", err)}
	}
	trimmed := duration
	if r.Trim == twiml.TrimSilence && voiced.first >= 0 {
		trimmed = time.Duration(voiced.last+1-voiced.first) * media.FrameDuration
	}
	s.log.Info("ivr: recording saved", "recording_sid", recSID, "duration", duration.String(), "digits", digits, "path", final)
	if s.e.cfg.RecordingSaved != nil {
		s.e.cfg.RecordingSaved(Recording{SID: recSID, CallSID: s.info.SID, Path: final, Duration: trimmed, StartTime: start, Source: "RecordVerb", Channels: 1})
	}
	s.recordingStatus(r, recSID, "completed", trimmed, start)

	extra := map[string]string{
		"RecordingUrl":      s.recordingURL(recSID),
		"RecordingDuration": strconv.Itoa(int(duration.Round(time.Second) / time.Second)),
		"RecordingSid":      recSID,
		"Digits":            digits,
	}
	if hungUp {
		// The action is still requested (CallStatus=completed); its TwiML is ignored.
		s.status = "completed"
		req, err := s.actionRequest(r.Action, r.Method, extra)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), s.e.cfg.WebhookTimeout)
			defer cancel()
			if _, err := s.web.Fetch(ctx, *req); err != nil {
				s.log.Warn("ivr: record action after hangup failed", "error_code", errorCode(err), "error", err)
			}
		}
		return next{}, errHangup
	}
	req, err := s.actionRequest(r.Action, r.Method, extra)
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// recordingURL is where the recording is served (no extension = WAV).
func (s *session) recordingURL(recSID string) string {
	return fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s", strings.TrimRight(s.e.cfg.PublicURL, "/"), s.e.cfg.AccountSID, recSID)
}

// recordingStatus sends recordingStatusCallback for event when subscribed.
func (s *session) recordingStatus(r *twiml.Record, recSID, event string, dur time.Duration, start time.Time) {
	if r.RecordingStatusCallback == "" {
		return
	}
	subscribed := false
	for _, e := range r.RecordingStatusCallbackEvents {
		if e == event {
			subscribed = true
		}
	}
	if !subscribed {
		return
	}
	target, err := s.resolve(r.RecordingStatusCallback)
	if err != nil {
		s.log.Warn("ivr: recordingStatusCallback URL", "error", err)
		return
	}
	p := s.recordingParams(Recording{SID: recSID, Duration: dur, StartTime: start, Source: "RecordVerb"}, event)
	s.e.sendCallback(s.web, webhook.Request{URL: target, Method: r.RecordingStatusCallbackMethod, Params: p})
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
	p.Set("AccountSid", s.e.cfg.AccountSID)
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
