package conference

import (
	"context"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/media/audio"
)

// Participants returns the room's participants, in the order they
// joined (none once the room has ended).
func (r *Room) Participants() []ParticipantInfo {
	var out []ParticipantInfo
	_ = r.do(func() {
		out = make([]ParticipantInfo, 0, len(r.parts))
		for _, p := range r.parts {
			out = append(out, p.info())
		}
	})
	return out
}

// find returns the participant with callSID or label id (owner only).
func (r *Room) find(id string) *Participant {
	for _, p := range r.parts {
		if p.callSID == id || (p.label != "" && p.label == id) {
			return p
		}
	}
	return nil
}

// Participant returns the participant whose CallSid or label is id.
func (r *Room) Participant(id string) (ParticipantInfo, error) {
	var (
		out   ParticipantInfo
		found bool
	)
	if err := r.do(func() {
		if p := r.find(id); p != nil {
			out, found = p.info(), true
		}
	}); err != nil {
		return out, ErrNotFound
	}
	if !found {
		return out, ErrNotFound
	}
	return out, nil
}

// Update is a change to a participant; nil fields stay as they are.
type Update struct {
	Muted, Hold, Coaching *bool
	CallSIDToCoach        *string
	BeepOnExit            *bool
	// HoldURL and AnnounceURL (with their methods) are resolved to audio
	// with Options.Resolve before the change is made.
	HoldURL, HoldMethod         string
	AnnounceURL, AnnounceMethod string
	// EndConferenceOnExit changes whether the room ends when the
	// participant leaves.
	EndConferenceOnExit *bool
	// WaitURL, when set, replaces what the participant hears until the
	// conference starts ("" = silence), fetched with WaitMethod.
	WaitURL    *string
	WaitMethod string
}

// UpdateParticipant changes the participant whose CallSid or label is id
// and returns its new state.
func (r *Room) UpdateParticipant(ctx context.Context, id string, u Update) (ParticipantInfo, error) {
	holdPCM, err := r.resolve(ctx, u.HoldURL, u.HoldMethod)
	if err != nil {
		return ParticipantInfo{}, err
	}
	announcePCM, err := r.resolve(ctx, u.AnnounceURL, u.AnnounceMethod)
	if err != nil {
		r.announceFailed(id)
		return ParticipantInfo{}, err
	}
	var waitPCM []int16
	if u.WaitURL != nil {
		if waitPCM, err = r.resolve(ctx, *u.WaitURL, u.WaitMethod); err != nil {
			return ParticipantInfo{}, err
		}
	}
	var (
		out   ParticipantInfo
		found bool
	)
	if err := r.do(func() {
		p := r.find(id)
		if p == nil {
			return
		}
		found = true
		if u.WaitURL != nil {
			p.wait = nil // silence
			if len(waitPCM) > 0 {
				p.wait = audio.NewPCMSource(waitPCM, 0)
			}
		}
		r.apply(p, u, holdPCM, announcePCM)
		out = p.info()
	}); err != nil || !found {
		return out, ErrNotFound
	}
	return out, nil
}

// apply makes the change u to p (owner only) and sends its events.
func (r *Room) apply(p *Participant, u Update, holdPCM, announcePCM []int16) {
	if holdPCM != nil {
		p.holdMusic = audio.NewPCMSource(holdPCM, 0)
	}
	if announcePCM != nil {
		p.announce = audio.NewPCMSource(announcePCM, 1)
	}
	if u.BeepOnExit != nil {
		p.opts.Beep = map[bool]string{true: "onExit", false: "false"}[*u.BeepOnExit]
	}
	if u.Muted != nil && *u.Muted != p.muted {
		p.muted = *u.Muted
		r.event(map[bool]string{true: "participant-mute", false: "participant-unmute"}[p.muted], p)
	}
	if u.Hold != nil && *u.Hold != p.hold {
		p.hold = *u.Hold
		if p.hold {
			if rw, ok := p.holdMusic.(interface{ Rewind() }); ok {
				rw.Rewind()
			}
		}
		r.event(map[bool]string{true: "participant-hold", false: "participant-unhold"}[p.hold], p)
	}
	modified := false
	if u.CallSIDToCoach != nil && *u.CallSIDToCoach != p.coachSID {
		p.coachSID, modified = *u.CallSIDToCoach, true
	}
	if u.Coaching != nil && *u.Coaching != p.coaching {
		p.coaching, modified = *u.Coaching, true
	}
	if u.EndConferenceOnExit != nil && *u.EndConferenceOnExit != p.opts.EndConferenceOnExit {
		p.opts.EndConferenceOnExit, modified = *u.EndConferenceOnExit, true
	}
	if p.coaching && p.coachSID == "" {
		p.coaching = false // coaching nobody is not coaching
	}
	p.updated = time.Now()
	if modified {
		r.event("participant-modify", p)
	}
}

// RemoveParticipant kicks the participant whose CallSid or label is id:
// its call goes on after its <Dial> (Twilio's DELETE).
func (r *Room) RemoveParticipant(id string) error {
	found := false
	if err := r.do(func() {
		if p := r.find(id); p != nil {
			found = true
			p.kick()
		}
	}); err != nil || !found {
		return ErrNotFound
	}
	return nil
}

// Announce plays the audio of url (TwiML or audio) to everyone in the
// room, once.
func (r *Room) Announce(ctx context.Context, url, method string) error {
	pcm, err := r.resolve(ctx, url, method)
	if err != nil {
		r.announceFailed("")
	}
	if err != nil || pcm == nil {
		return err
	}
	return r.do(func() { r.room = audio.NewPCMSource(pcm, 1) })
}

// resolve fetches url's audio; nil, nil when url is "".
func (r *Room) resolve(ctx context.Context, url, method string) ([]int16, error) {
	if url == "" {
		return nil, nil
	}
	if r.m.opts.Resolve == nil {
		return nil, fmt.Errorf("conference: cannot fetch %s: no resolver configured", url)
	}
	pcm, err := r.m.opts.Resolve(ctx, url, method)
	if err != nil {
		return nil, fmt.Errorf("conference: fetching %s: %w", url, err)
	}
	return pcm, nil
}

// announceFailed sends announcement-fail for the room's announcement (id
// "") or the participant's whose CallSid or label is id.
func (r *Room) announceFailed(id string) {
	_ = r.do(func() {
		var p *Participant
		if id != "" {
			if p = r.find(id); p == nil {
				return
			}
		}
		r.event("announcement-fail", p)
	})
}
