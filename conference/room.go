package conference

import (
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Room is one conference. Its state belongs to its owner goroutine (own):
// everything that reads or changes it runs there, through do.
type Room struct {
	m                  *Manager
	sid, account, name string
	log                *slog.Logger
	ops                chan func()
	done               chan struct{} // closed when the owner has ended
	notify             *notifier
	created            time.Time
	infoMu             sync.Mutex
	info               Info // a copy of the state for readers, kept by the owner
	mixer                   // the owner's state
}

func newRoom(m *Manager, sid, account, name string) *Room {
	now := time.Now()
	r := &Room{
		m: m, sid: sid, account: account, name: name,
		log:     m.log.With("conference_sid", sid, "friendly_name", name),
		ops:     make(chan func()),
		done:    make(chan struct{}),
		created: now,
		info:    Info{SID: sid, AccountSID: account, FriendlyName: name, Status: StatusInit, Created: now, Updated: now},
	}
	r.beepAt = len(beepTone) // no beep yet
	r.notify = newNotifier(r)
	return r
}

// SID is the room's conference SID.
func (r *Room) SID() string { return r.sid }

// Info returns the room's state.
func (r *Room) Info() Info {
	r.infoMu.Lock()
	defer r.infoMu.Unlock()
	return r.info
}

// Done is closed when the room has ended.
func (r *Room) Done() <-chan struct{} { return r.done }

// setInfo changes the readers' copy (owner only).
func (r *Room) setInfo(f func(*Info)) {
	r.infoMu.Lock()
	f(&r.info)
	r.info.Updated = time.Now()
	info := r.info
	r.infoMu.Unlock()
	r.notify.save(info)
}

// do runs f on the owner goroutine and waits for it; ErrEnded when the
// room has ended.
func (r *Room) do(f func()) error {
	ran := make(chan struct{})
	select {
	case r.ops <- func() { f(); close(ran) }:
		<-ran
		return nil
	case <-r.done:
		return ErrEnded
	}
}

// own is the owner goroutine: it mixes a frame every 20 ms (catching up
// after a late tick) and runs the room's changes between frames, until
// the room ends.
func (r *Room) own() {
	defer close(r.done)
	defer r.m.roomEnded(r)
	defer r.notify.close()
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	start := time.Now()
	var mixed int64
	r.log.Info("conference: created")
	for !r.over {
		select {
		case op := <-r.ops:
			op()
		case now := <-tick.C:
			due := int64(now.Sub(start) / media.FrameDuration)
			if due-mixed > maxCatchUp {
				mixed = due - maxCatchUp // too late to catch up: skip
				r.late++
			}
			for ; mixed < due; mixed++ {
				r.mix()
				r.speechEvents()
				r.announcementEvents()
			}
		}
	}
	r.log.Info("conference: ended", "reason", r.reason)
}

// maxCatchUp is the most frames the owner mixes at once after a late
// tick.
const maxCatchUp = 5

// join adds a participant (any goroutine).
func (r *Room) join(o JoinOptions) (*Participant, error) {
	p := newParticipant(r, o)
	var err error
	if derr := r.do(func() { err = r.add(p) }); derr != nil {
		return nil, derr
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// add puts p in the room (owner only).
func (r *Room) add(p *Participant) error {
	if r.ending {
		return ErrEnded
	}
	limit := p.opts.MaxParticipants
	if len(r.parts) == 0 && limit > 0 {
		r.max = min(limit, MaxParticipants)
	}
	if r.max == 0 {
		r.max = MaxParticipants
	}
	if len(r.parts) >= r.max {
		return ErrFull
	}
	if len(r.parts) == 0 {
		r.callback = p.opts.Callback // the first participant's settings
		r.speakerEvents = r.callback.URL != "" && slices.Contains(r.callback.Events, "speaker")
	}
	r.parts = append(r.parts, p)
	if p.opts.Record && !r.recorded && r.recPending == nil {
		// The first participant's record-from-start, or a participant
		// joining with record a room never recorded (the Participants
		// API's ConferenceRecord): recorded from the start, or now. A
		// recording stopped through the API stays stopped.
		o := p.opts.recordOptions()
		r.recPending, r.recAsker = &o, p
		if r.started {
			r.startPending()
		}
	}
	r.log.Info("conference: participant joined", "call_sid", p.callSID, "label", p.label, "participants", len(r.parts))
	r.event("participant-join", p)
	if !r.started && p.opts.StartConferenceOnEnter {
		r.start()
	}
	if r.started && p.beepOnEnter() {
		r.beep()
	}
	return nil
}

// startPending starts the recording a participant asked for (owner only).
func (r *Room) startPending() {
	o := r.recPending
	if o == nil {
		return
	}
	asker := r.recAsker
	r.recPending, r.recAsker = nil, nil
	if _, err := r.record(*o, asker); err != nil {
		r.log.Error("conference: cannot record", "error", err)
	}
}

// announcementEvents sends announcement-end for the announcements that
// ended in the last frame (owner only).
func (r *Room) announcementEvents() {
	if !r.announced {
		return
	}
	r.announced = false
	if r.roomAnnounced {
		r.roomAnnounced = false
		r.event("announcement-end", nil)
	}
	for _, p := range r.parts {
		if p.announced {
			p.announced = false
			r.event("announcement-end", p)
		}
	}
}

// speechEvents sends the speaker events of the last frame (owner only).
func (r *Room) speechEvents() {
	if !r.speakerEvents {
		return
	}
	for _, p := range r.parts {
		if p.speechChanged {
			p.speechChanged = false
			r.event(map[bool]string{true: "participant-speech-start", false: "participant-speech-stop"}[p.speaking], p)
		}
	}
}

// start begins the conference: the waiting stop hearing music and hear
// each other.
func (r *Room) start() {
	r.started = true
	r.startPending()
	r.setInfo(func(i *Info) { i.Status = StatusInProgress })
	r.event("conference-start", nil)
	r.log.Info("conference: started")
}

// remove takes p out (owner only), ending the room when it was the last
// one or had endConferenceOnExit.
func (r *Room) remove(p *Participant) {
	i := slices.Index(r.parts, p)
	if i < 0 {
		return
	}
	r.parts = slices.Delete(r.parts, i, i+1)
	r.rec.forget(p)
	if r.recAsker == p {
		r.recAsker = nil
	}
	p.kick()
	r.log.Info("conference: participant left", "call_sid", p.callSID, "participants", len(r.parts))
	r.event("participant-leave", p)
	if r.ending {
		if len(r.parts) == 0 {
			r.finish()
		}
		return
	}
	switch {
	case p.opts.EndConferenceOnExit && r.started:
		r.endNow("Participant with End Conference On Exit left", p.callSID)
	case len(r.parts) == 0:
		r.endNow("Last participant left", p.callSID)
	default:
		if r.started && p.beepOnExit() {
			r.beep()
		}
	}
}

// End ends the room (the REST API's Status=completed): every participant
// leaves.
func (r *Room) End(reason, callSID string) error {
	return r.do(func() { r.endNow(reason, callSID) })
}

// endNow starts ending the room (owner only): every participant is
// kicked; the room is over once they have all left.
func (r *Room) endNow(reason, callSID string) {
	if r.ending {
		return
	}
	r.ending, r.reason, r.endingSID = true, reason, callSID
	r.m.forgetLive(r) // a join from now on makes a new room
	if len(r.parts) == 0 {
		r.finish()
		return
	}
	for _, p := range r.parts {
		p.kick()
	}
}

// finish marks the room completed (owner only); the owner loop then ends.
func (r *Room) finish() {
	r.over = true
	r.stopRecording()
	r.setInfo(func(i *Info) {
		i.Status, i.ReasonEnded, i.CallSIDEnding = StatusCompleted, r.reason, r.endingSID
	})
	r.event("conference-end", nil)
}

// leave takes p out (any goroutine); a room already over has nothing to do.
func (r *Room) leave(p *Participant) {
	if err := r.do(func() { r.remove(p) }); err != nil && !errors.Is(err, ErrEnded) {
		r.log.Warn("conference: leave", "error", err)
	}
}

// LateTicks is how many times the room's owner fell more than 100 ms
// behind and skipped frames (a sign of an overloaded machine).
func (r *Room) LateTicks() int {
	var n int
	if r.do(func() { n = r.late }) != nil {
		return 0
	}
	return n
}
