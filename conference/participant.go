package conference

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// JoinOptions are a participant's <Conference> attributes (or the REST
// API's participant parameters).
type JoinOptions struct {
	Leg     media.Leg // the participant's audio
	CallSID string
	Label   string // participantLabel; "" = none
	Muted   bool
	// Beep is "true" (the default when ""), "false", "onEnter" or
	// "onExit": whether everyone hears a beep as this one joins / leaves.
	Beep                   string
	StartConferenceOnEnter bool
	EndConferenceOnExit    bool
	// Coach is the CallSid this participant coaches: only that
	// participant hears it. "" = not coaching.
	Coach string
	// MaxParticipants caps the room when this is its first participant
	// (0 or above MaxParticipants = MaxParticipants).
	MaxParticipants int
	// Wait is played, looped, until the conference starts; nil = silence.
	Wait []int16
	// Callback receives the room's events when this is its first
	// participant.
	Callback Callback
	// Record records the room from its start (record-from-start) when
	// this is its first participant, or from this join when the room has
	// started and nobody records it; RecordingCallback is its
	// recordingStatusCallback (events: in-progress completed absent).
	Record            bool
	RecordingCallback Callback
	// RecordingChannels is 1 (mono, the default) or 2 (dual, with this
	// participant on channel 1), RecordingTrim trims the recording's
	// leading and trailing silence (trim-silence).
	RecordingChannels int
	RecordingTrim     bool
	// JitterFrames is the depth of the leg's input buffer in 20 ms frames
	// (0 = media.DefaultJitterFrames).
	JitterFrames int
}

// Callback is where a room's events go: Twilio's statusCallback,
// statusCallbackMethod and statusCallbackEvent.
type Callback struct {
	URL, Method string
	Events      []string // start end join leave mute hold modify (none = none)
}

// outFrames is the depth of each participant's output buffer: the mixer
// and the leg's pacer run on different clocks.
const outFrames = 3

// Participant is one leg in a room. Its mixing state belongs to the
// room's owner.
type Participant struct {
	room    *Room
	opts    JoinOptions
	callSID string
	label   string
	joined  time.Time
	in, out *media.JitterBuffer

	kicked   chan struct{} // closed when the room lets the participant go
	kickOnce sync.Once

	// Owner-only state.
	muted, hold, coaching bool
	coachSID              string
	holdMusic, wait       media.Source
	announce              media.Source
	announced             bool // its announcement ended in the last frame
	audible               bool
	speaking              bool // speech detected (speaker events)
	speechChanged         bool // speaking changed this frame: send the event
	run                   int  // frames in a row against the speaking state
	got, mixed            [frame]int16
	updated               time.Time
}

func newParticipant(r *Room, o JoinOptions) *Participant {
	now := time.Now()
	p := &Participant{
		room: r, opts: o, callSID: o.CallSID, label: o.Label, joined: now, updated: now,
		in:       media.NewJitterBuffer(o.JitterFrames),
		out:      media.NewJitterBuffer(outFrames),
		kicked:   make(chan struct{}),
		muted:    o.Muted,
		coaching: o.Coach != "",
		coachSID: o.Coach,
	}
	if len(o.Wait) > 0 {
		p.wait = audio.NewPCMSource(o.Wait, 0)
	}
	if len(r.m.opts.HoldMusic) > 0 {
		p.holdMusic = audio.NewPCMSource(r.m.opts.HoldMusic, 0)
	}
	return p
}

// Room is the participant's room.
func (p *Participant) Room() *Room { return p.room }

// CallSID is the participant's call.
func (p *Participant) CallSID() string { return p.callSID }

func (p *Participant) beepOnEnter() bool {
	return p.opts.Beep == "" || p.opts.Beep == "true" || p.opts.Beep == "onEnter"
}
func (p *Participant) beepOnExit() bool {
	return p.opts.Beep == "" || p.opts.Beep == "true" || p.opts.Beep == "onExit"
}

// kick lets the participant go: Run returns.
func (p *Participant) kick() { p.kickOnce.Do(func() { close(p.kicked) }) }

// ReadFrame is what the participant's leg plays: the room's mix for it.
// It never ends (silence while the mixer is behind).
func (p *Participant) ReadFrame(buf []int16) (int, error) { return p.out.ReadFrame(buf) }

// Why Run returned.
const (
	LeftHungUp  = "hangup"  // the leg ended
	LeftKicked  = "kicked"  // removed by the API or the room ended
	LeftStopped = "stopped" // ctx ended
)

// Run connects the participant's leg to the room until the leg ends, ctx
// ends, or the participant is removed (or the room ends); then the
// participant leaves. It says which of those happened. Every goroutine it
// starts has ended when it returns.
func (p *Participant) Run(ctx context.Context) string {
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- p.opts.Leg.Record(runCtx, p.in) })
	wg.Go(func() { errs <- p.opts.Leg.Play(runCtx, p) })
	why := LeftStopped
	select {
	case <-ctx.Done():
	case <-p.kicked:
		why = LeftKicked
	case <-p.opts.Leg.Done():
		why = LeftHungUp
	case err := <-errs:
		why = LeftHungUp
		if err != nil && !errors.Is(err, media.ErrLegClosed) && ctx.Err() == nil {
			p.room.log.Warn("conference: participant media failed", "call_sid", p.callSID, "error", err)
		}
	}
	cancel()
	wg.Wait()
	p.room.leave(p)
	return why
}

// ParticipantInfo is a participant's state for the API.
type ParticipantInfo struct {
	CallSID, ConferenceSID, Label string
	Muted, Hold, Coaching         bool
	CallSIDToCoach                string
	StartConferenceOnEnter        bool
	EndConferenceOnExit           bool
	Created, Updated              time.Time
}

// info is p's state (owner only).
func (p *Participant) info() ParticipantInfo {
	return ParticipantInfo{
		CallSID: p.callSID, ConferenceSID: p.room.sid, Label: p.label,
		Muted: p.muted, Hold: p.hold, Coaching: p.coaching, CallSIDToCoach: p.coachSID,
		StartConferenceOnEnter: p.opts.StartConferenceOnEnter, EndConferenceOnExit: p.opts.EndConferenceOnExit,
		Created: p.joined, Updated: p.updated,
	}
}

// Stats are the participant's jitter buffers' counters: in holds what its
// leg received, out what the mixer made for it.
func (p *Participant) Stats() (in, out media.JitterStats) { return p.in.Stats(), p.out.Stats() }
