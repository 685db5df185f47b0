package recording

import (
	"github.com/voxgate/voxgate/media"
)

// Mixed is the recording of a bridge (<Dial record>): both parties mixed
// into one mono file, or into two channels with the bridge's leg a (the
// caller) on the left and leg b (the called party) on the right.
type Mixed struct {
	r       *Recorder
	callSID string
	file    *File
	mix     *Mixer
}

// StartMixed starts recording a bridge of call callSID in channels (1 or 2).
func (r *Recorder) StartMixed(callSID string, channels int) (*Mixed, error) {
	f, err := r.Create(channels, 0)
	if err != nil {
		return nil, err
	}
	return &Mixed{r: r, callSID: callSID, file: f, mix: NewMixer(f, channels == 2, nil)}, nil
}

// Taps are the sinks of the bridge's two directions (media.BridgeOptions'
// TapA and TapB).
func (m *Mixed) Taps() (a, b media.Sink) { return m.mix.Sides() }

// Finish saves the recording, trimmed of leading and trailing silence
// when trim is set, and tells the store.
func (m *Mixed) Finish(trim bool) (Recording, error) {
	if _, err := m.mix.Finish(false); err != nil {
		m.file.Discard()
		return Recording{}, err
	}
	path, d, err := m.file.Save(trim)
	if err != nil {
		return Recording{}, err
	}
	rec := Recording{SID: m.file.SID, CallSID: m.callSID, Path: path, Duration: d,
		StartTime: m.file.Start, Source: SourceDialVerb, Channels: m.file.channels}
	m.r.Report(rec)
	return rec, nil
}
