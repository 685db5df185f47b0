package conference

import (
	"context"
	"encoding/binary"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/recovery"
)

// savedRecs collects what a Manager tells RecordingSaved, in order.
type savedRecs struct {
	mu   sync.Mutex
	recs []Recording
	done chan Recording // each finished one (completed or absent)
}

func newSavedRecs() *savedRecs { return &savedRecs{done: make(chan Recording, 8)} }

func (s *savedRecs) save(_ context.Context, rec Recording) {
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
	if rec.Status == RecordingCompleted || rec.Status == RecordingAbsent {
		s.done <- rec
	}
}

func (s *savedRecs) statuses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.recs {
		out = append(out, r.Status)
	}
	return out
}

// readWAV reads a recording's samples (interleaved when dual): the
// canonical 44-byte header the recorder writes, then 16-bit samples.
func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audio.DecodeWAV(data); err != nil || len(data) < 44 {
		t.Fatalf("%s: not a WAV file: %v", path, err)
	}
	pcm := make([]int16, (len(data)-44)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(data[44+2*i:]))
	}
	return pcm
}

// mixFrames mixes n frames with each participant's level.
func mixFrames(r *Room, n int, levels map[*Participant]int16) {
	for range n {
		for p, l := range levels {
			feed(p, l)
		}
		r.mix()
		for p := range levels {
			var f [frame]int16
			_, _ = p.out.ReadFrame(f[:])
		}
	}
}

func TestRecordFromStart(t *testing.T) {
	saved := newSavedRecs()
	ev := &events{}
	_, r := testRoom(t, Options{RecordingsDir: t.TempDir(), RecordingSaved: saved.save, Notify: ev.notify,
		RecordingURL: func(s string) string { return "http://gw/Recordings/" + s }})
	cb := Callback{URL: "http://app/rec", Events: []string{"in-progress", "completed"}}
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Record: true, RecordingCallback: cb})
	b := addTest(t, r, "CAb", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	heard(r, map[*Participant]int16{a: 100, b: 200})
	r.finish()
	rec := <-saved.done
	pcm := readWAV(t, rec.Path)
	if rec.ConferenceSID != "CF0" || rec.CallSID != "CAa" || rec.Channels != 1 || rec.Source != SourceConference || len(pcm) != (outFrames+1)*frame {
		t.Fatalf("recording %+v with %d samples", rec, len(pcm))
	}
	if got := pcm[len(pcm)-1]; got != 300 {
		t.Errorf("the recording has %d, want everyone (300)", got)
	}
	r.notify.close() // drain: the callbacks have been sent
	r.m.wg.Wait()
	r.notify = newNotifier(r) // for the cleanup
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.got) != 2 || ev.got[0].Get("RecordingStatus") != "in-progress" || ev.got[1].Get("RecordingStatus") != "completed" ||
		ev.got[1].Get("RecordingChannels") != "1" || ev.got[1].Get("RecordingUrl") != "http://gw/Recordings/"+rec.SID ||
		ev.got[1].Get("CallSid") != "CAa" || ev.got[1].Get("RecordingSource") != "Conference" {
		t.Errorf("recording callbacks %v", ev.got)
	}
}

// TestRecordDual: channel 1 holds only what the participant who asked for
// the recording says, channel 2 everyone else (and the beep); muting it
// silences channel 1 only; once it leaves channel 1 stays silent.
func TestRecordDual(t *testing.T) {
	saved := newSavedRecs()
	_, r := testRoom(t, Options{RecordingsDir: t.TempDir(), RecordingSaved: saved.save})
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Record: true, RecordingChannels: 2})
	b := addTest(t, r, "CAb", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	c := addTest(t, r, "CAc", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	coach := addTest(t, r, "CAcoach", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Coach: "CAa"})
	levels := map[*Participant]int16{a: 1000, b: 2000, c: 4000, coach: 8000}
	mixFrames(r, 5, levels)
	a.muted = true
	mixFrames(r, 5, levels)
	r.remove(a)
	delete(levels, a)
	mixFrames(r, 5, levels)
	r.finish()
	rec := <-saved.done
	pcm := readWAV(t, rec.Path)
	if rec.Channels != 2 || rec.CallSID != "CAa" || len(pcm) != 2*15*frame {
		t.Fatalf("recording %+v with %d samples", rec, len(pcm))
	}
	// Each phase's last frame (the jitter buffers hold one frame).
	for i, want := range [][2]int16{{1000, 6000}, {0, 6000}, {0, 6000}} {
		at := 2 * ((i+1)*5*frame - 1)
		if got := [2]int16{pcm[at], pcm[at+1]}; got != want {
			t.Errorf("phase %d: channels %v, want %v", i, got, want)
		}
	}
}

// TestRecordPauseStopTrim drives a recording as the REST API does: pause
// with silence, pause with skip, resume, stop; then trim-silence.
func TestRecordPauseStopTrim(t *testing.T) {
	saved := newSavedRecs()
	_, r := testRoom(t, Options{RecordingsDir: t.TempDir(), RecordingSaved: saved.save})
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false"})
	rec, err := r.record(RecordOptions{Source: SourceAPI}, nil)
	if err != nil || rec.Status != RecordingInProgress || rec.CallSID != "CAa" {
		t.Fatalf("record: %+v %v", rec, err)
	}
	if _, err := r.record(RecordOptions{}, nil); err != ErrRecording {
		t.Fatalf("second recording: %v, want ErrRecording", err)
	}
	lv := map[*Participant]int16{a: 500}
	mixFrames(r, 2, lv)
	c, err := r.live(CurrentRecording)
	if err != nil {
		t.Fatal(err)
	}
	r.pauseRecording(c, true, false) // silence
	mixFrames(r, 3, lv)
	r.pauseRecording(c, true, true) // already paused: unchanged
	r.pauseRecording(c, false, false)
	r.pauseRecording(c, true, true) // skip
	mixFrames(r, 4, lv)
	r.pauseRecording(c, false, false)
	mixFrames(r, 1, lv)
	stopped, ok := r.stopRecording()
	if !ok || stopped.Status != RecordingStopped || stopped.Duration != 6*20e6 {
		t.Fatalf("stopped %+v", stopped)
	}
	done := <-saved.done
	pcm := readWAV(t, done.Path)
	if len(pcm) != 6*frame || done.Status != RecordingCompleted || done.Source != SourceAPI {
		t.Fatalf("recording %+v with %d samples, want 6 frames", done, len(pcm))
	}
	var quiet int
	for _, v := range pcm {
		if v == 0 {
			quiet++
		}
	}
	// 2 frames of sound (one still in the jitter buffer: silence), 3 of
	// silence, 1 of sound.
	if quiet < 3*frame || quiet > 4*frame {
		t.Errorf("%d silent samples, want 3-4 frames' worth", quiet)
	}
	want := []string{RecordingInProgress, RecordingPaused, RecordingInProgress, RecordingPaused, RecordingInProgress, RecordingCompleted}
	if got := saved.statuses(); len(got) != len(want) {
		t.Errorf("saved statuses %v, want %v", got, want)
	}

	// trim-silence: the silence before and after the sound is dropped.
	if _, err := r.record(RecordOptions{Trim: true}, nil); err != nil {
		t.Fatal(err)
	}
	mixFrames(r, 3, map[*Participant]int16{a: 0})
	mixFrames(r, 4, lv)
	mixFrames(r, 3, map[*Participant]int16{a: 0})
	r.stopRecording()
	done = <-saved.done
	if pcm := readWAV(t, done.Path); len(pcm) != 4*frame || done.Duration != 4*20e6 {
		t.Errorf("trimmed recording %+v has %d samples, want 4 frames", done, len(pcm))
	}

	// Nothing recorded: absent.
	if _, err := r.record(RecordOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	r.stopRecording()
	if done = <-saved.done; done.Status != RecordingAbsent || done.Path != "" {
		t.Errorf("empty recording %+v", done)
	}
}

// TestRecordLiveRoom runs rooms with their owners: a participant joining
// a running room with Record starts its recording; the REST-facing
// methods pause, stop and refuse.
func TestRecordLiveRoom(t *testing.T) {
	saved := newSavedRecs()
	m := NewManager(Options{RecordingsDir: t.TempDir(), RecordingSaved: saved.save})
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := m.Join("AC0", "live", JoinOptions{Leg: idleLeg{}, CallSID: "CAa", StartConferenceOnEnter: true})
	if err != nil {
		t.Fatal(err)
	}
	go a.Run(ctx)
	room := a.Room()
	if _, ok := room.LiveRecording(); ok {
		t.Fatal("recording before anyone asked")
	}
	if _, err := room.UpdateRecording(CurrentRecording, RecordingPaused, ""); err != ErrNoRecording {
		t.Fatalf("pausing nothing: %v", err)
	}
	b, err := m.Join("AC0", "live", JoinOptions{Leg: idleLeg{}, CallSID: "CAb", Record: true, RecordingChannels: 2})
	if err != nil {
		t.Fatal(err)
	}
	go b.Run(ctx)
	rec, ok := room.LiveRecording()
	if !ok || rec.CallSID != "CAb" || rec.Channels != 2 {
		t.Fatalf("live recording %+v %v", rec, ok)
	}
	if _, err := room.StartRecording(RecordOptions{}); err != ErrRecording {
		t.Fatalf("second start: %v", err)
	}
	if got, err := room.UpdateRecording(rec.SID, RecordingPaused, "skip"); err != nil || got.Status != RecordingPaused {
		t.Fatalf("pause: %+v %v", got, err)
	}
	if got, err := room.UpdateRecording(CurrentRecording, RecordingStopped, ""); err != nil || got.Status != RecordingStopped || got.SID != rec.SID {
		t.Fatalf("stop: %+v %v", got, err)
	}
	<-saved.done
	if _, ok := room.LiveRecording(); ok {
		t.Error("still recording after the stop")
	}
	c, err := m.Join("AC0", "live", JoinOptions{Leg: idleLeg{}, CallSID: "CAc", Record: true})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run(ctx)
	if rec, ok := room.LiveRecording(); ok {
		t.Errorf("a join with record restarted a recording the API stopped: %+v", rec)
	}
	started, err := room.StartRecording(RecordOptions{Channels: 2, ChannelOne: "CAb", Source: SourceAPI})
	if err != nil || started.CallSID != "CAb" || started.SID == rec.SID {
		t.Fatalf("start again: %+v %v", started, err)
	}
	if err := room.End("test", ""); err != nil {
		t.Fatal(err)
	}
	<-room.Done()
	if done := <-saved.done; done.SID != started.SID {
		t.Errorf("the room's end finished %+v", done)
	}
}

// BenchmarkMixRecord is BenchmarkMix with the room recorded, mono and
// dual: the recorder adds no allocation per mixed frame.
func BenchmarkMixRecord(b *testing.B) {
	for _, channels := range []int{1, 2} {
		b.Run(map[int]string{1: "mono", 2: "dual"}[channels], func(b *testing.B) {
			_, r := testRoom(b, Options{RecordingsDir: b.TempDir()})
			ps := make([]*Participant, MaxParticipants)
			for i := range ps {
				ps[i] = addTest(b, r, "CA", JoinOptions{StartConferenceOnEnter: true, Beep: "false",
					Record: i == 0, RecordingChannels: channels})
			}
			var f [frame]int16
			for i := range f {
				f[i] = int16(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for _, p := range ps {
					_ = p.in.WriteFrame(f[:])
				}
				r.mix()
				for _, p := range ps {
					_, _ = p.out.ReadFrame(f[:])
				}
			}
			b.StopTimer()
			if r.rec == nil || r.rec.fail != nil {
				b.Fatal("the room was not recorded")
			}
			r.stopRecording()
		})
	}
}

// TestRecordingRecoverable: a recording cut short by a crash (its file
// never closed) is left as the temporary file recovery finishes, with
// both channels of a dual recording.
func TestRecordingRecoverable(t *testing.T) {
	dir := t.TempDir()
	_, r := testRoom(t, Options{RecordingsDir: dir})
	a := addTest(t, r, "CAa", JoinOptions{StartConferenceOnEnter: true, Beep: "false", Record: true, RecordingChannels: 2})
	mixFrames(r, 100, map[*Participant]int16{a: 1000}) // 64 KB: past the write buffers, on the disk
	path, d, err := recovery.FinishRecording(dir, r.rec.rec.SID, 2)
	if err != nil {
		t.Fatalf("recovery: %v", err)
	}
	pcm := readWAV(t, path)
	if d <= 0 || len(pcm) != int(2*d/(125*time.Microsecond)) || len(pcm) > 2*100*frame {
		t.Fatalf("recovered %v with %d samples", d, len(pcm))
	}
	if got := [2]int16{pcm[len(pcm)-2], pcm[len(pcm)-1]}; got != [2]int16{1000, 0} {
		t.Errorf("the recovered recording ends with channels %v, want [1000 0]", got)
	}
	r.rec.file.Discard() // the crashed process's recorder is gone
	r.rec = nil
}
