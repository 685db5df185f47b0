package recovery

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

const testAccount = "AC11111111111111111111111111111111"

// writeTemp writes a recording's temporary file as the gateway leaves it
// mid-recording: a header whose sizes are not final, then samples.
func writeTemp(t *testing.T, dir, recSID string, samples []int16, extra int) string {
	t.Helper()
	path := filepath.Join(dir, ".rec-"+recSID+"-123456.wav")
	b := make([]byte, wavHeaderLen, wavHeaderLen+2*len(samples)+extra)
	copy(b, "RIFF")
	copy(b[8:], "WAVEfmt ")
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	b = append(b, make([]byte, extra)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i%2000 - 1000)
	}
	return s
}

func TestFinishRecordingMono(t *testing.T) {
	dir := t.TempDir()
	recSID := sid.New(sid.Recording)
	samples := ramp(8000 * 3 / 2)         // 1.5 s
	writeTemp(t, dir, recSID, samples, 1) // and half a sample, cut off
	path, dur, err := FinishRecording(dir, recSID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, recSID+".wav") || dur != 1500*time.Millisecond {
		t.Errorf("FinishRecording = %s, %v", path, dur)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := audio.DecodeWAV(data) // the gateway's own reader accepts it
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(samples) || got[100] != samples[100] || got[len(got)-1] != samples[len(samples)-1] {
		t.Errorf("decoded %d samples, want %d equal ones", len(got), len(samples))
	}
	if m, _ := filepath.Glob(TempPattern(dir, recSID)); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestFinishRecordingDual(t *testing.T) {
	dir := t.TempDir()
	recSID := sid.New(sid.Recording)
	writeTemp(t, dir, recSID, ramp(2*8000), 2) // 1 s of two channels and half a frame
	path, dur, err := FinishRecording(dir, recSID, 2)
	if err != nil || dur != time.Second {
		t.Fatalf("FinishRecording = %v, %v", dur, err)
	}
	data, _ := os.ReadFile(path)
	le := binary.LittleEndian
	if ch, align, size := le.Uint16(data[22:]), le.Uint16(data[32:]), le.Uint32(data[40:]); ch != 2 || align != 4 || size != 32000 || len(data) != 44+32000 {
		t.Errorf("header: %d channels, block align %d, data %d bytes, file %d bytes", ch, align, size, len(data))
	}
}

func TestFinishRecordingNoAudio(t *testing.T) {
	dir := t.TempDir()
	recSID := sid.New(sid.Recording)
	if _, _, err := FinishRecording(dir, recSID, 1); !errors.Is(err, ErrNoAudio) {
		t.Errorf("no file: %v, want ErrNoAudio", err)
	}
	tmp := writeTemp(t, dir, recSID, nil, 0)
	if _, _, err := FinishRecording(dir, recSID, 1); !errors.Is(err, ErrNoAudio) {
		t.Errorf("header only: %v, want ErrNoAudio", err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the empty temporary file is still there: %v", err)
	}
}

// Run ends a crashed process's calls and recordings and reports each call.
func TestRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	answered := now.Add(-30 * time.Second)
	put := func(c store.Call) store.Call {
		c.AccountSID, c.SID = testAccount, sid.New(sid.Call)
		if _, err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	live := put(store.Call{Status: store.CallInProgress, StartTime: answered, Direction: "inbound"})
	ringing := put(store.Call{Status: store.CallRinging, Direction: "outbound-api"})
	done := put(store.Call{Status: store.CallCompleted, StartTime: answered, EndTime: now, Duration: 30})
	recDir := filepath.Join(dir, "recordings")
	os.MkdirAll(recDir, 0o755)
	withAudio := store.Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, CallSID: live.SID, Status: store.RecordingInProgress, Channels: 1, StartTime: answered}
	paused := store.Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, CallSID: live.SID, Status: store.RecordingPaused, Channels: 2}
	for _, r := range []store.Recording{withAudio, paused} {
		if _, err := db.PutRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	writeTemp(t, recDir, withAudio.SID, ramp(8000*2), 0)
	orphan := writeTemp(t, recDir, sid.New(sid.Recording), ramp(800), 0) // a <Record> cut short: no record
	stoppedAt := time.Now().UTC().Add(10 * time.Second)                  // after the records' last update

	ended := map[string]store.Call{}
	res, err := Run(ctx, Options{Store: db, RecordingsDir: recDir, StoppedAt: stoppedAt,
		CallEnded: func(_ context.Context, before, after store.Call) { ended[before.SID] = after }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 2 || res.RecordingsSaved != 1 || res.RecordingsAbsent != 1 || len(res.OrphanFiles) != 1 || res.OrphanFiles[0] != orphan {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(orphan); err != nil {
		t.Errorf("the orphan file was not kept: %v", err)
	}
	c, _ := db.GetCall(ctx, live.SID)
	wantDur := int(stoppedAt.Sub(answered).Round(time.Second) / time.Second)
	if c.Status != store.CallCompleted || c.Duration != wantDur || !c.EndTime.Equal(stoppedAt) {
		t.Errorf("answered call: %s, %d s, ended %v; want completed, %d s, %v", c.Status, c.Duration, c.EndTime, wantDur, stoppedAt)
	}
	c, _ = db.GetCall(ctx, ringing.SID)
	if c.Status != store.CallCanceled || c.Duration != 0 || c.EndTime.IsZero() {
		t.Errorf("ringing call: %+v; want canceled", c)
	}
	if c, _ := db.GetCall(ctx, done.SID); c.Status != store.CallCompleted || c.Duration != 30 {
		t.Errorf("a finished call was touched: %+v", c)
	}
	if len(ended) != 2 || ended[live.SID].Status != store.CallCompleted || ended[ringing.SID].Status != store.CallCanceled {
		t.Errorf("CallEnded told about %v", ended)
	}
	r, _ := db.GetRecording(ctx, withAudio.SID)
	if r.Status != store.RecordingCompleted || r.Duration != 2 || r.Path != filepath.Join(recDir, withAudio.SID+".wav") {
		t.Errorf("recording with audio: %+v", r)
	}
	if r, _ := db.GetRecording(ctx, paused.SID); r.Status != store.RecordingAbsent {
		t.Errorf("recording without audio: %+v", r)
	}
	// A second run finds nothing left but the orphan.
	os.Remove(orphan)
	if res, err := Run(ctx, Options{Store: db, RecordingsDir: recDir}); err != nil || res.Calls+res.RecordingsSaved+res.RecordingsAbsent+len(res.OrphanFiles) != 0 {
		t.Errorf("second run: %+v, %v", res, err)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("second Lock: %v, want ErrLocked", err)
	}
	unlock()
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func TestKeepAlive(t *testing.T) {
	dir := t.TempDir()
	if !LastAlive(dir).IsZero() {
		t.Fatal("LastAlive of a new directory is not zero")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { KeepAlive(ctx, dir); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for LastAlive(dir).IsZero() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if at := LastAlive(dir); at.IsZero() || time.Since(at) > time.Minute {
		t.Errorf("LastAlive = %v", at)
	}
}

// A recording a surviving node ended "absent" while this node was down
// (its audio was on this node's disk) is saved from its temporary file
// when this node starts again.
func TestRunSavesRecordingEndedByAnotherNode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recDir := filepath.Join(dir, "recordings")
	os.MkdirAll(recDir, 0o755)
	rec := store.Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, CallSID: sid.New(sid.Call), Status: store.RecordingAbsent, Channels: 1}
	if _, err := db.PutRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	writeTemp(t, recDir, rec.SID, ramp(8000*3), 0)
	res, err := Run(ctx, Options{Store: db, RecordingsDir: recDir})
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordingsSaved != 1 || len(res.OrphanFiles) != 0 {
		t.Fatalf("result %+v, want the recording saved and no orphan", res)
	}
	got, err := db.GetRecording(ctx, rec.SID)
	if err != nil || got.Status != store.RecordingCompleted || got.Duration != 3 || got.Path != filepath.Join(recDir, rec.SID+".wav") {
		t.Fatalf("recording after the restart: %+v, %v", got, err)
	}
}
