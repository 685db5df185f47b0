package queue

import (
	"time"

	"github.com/voxgate/voxgate/sid"
)

// offerPrefix starts offer IDs, as Twilio's reservation SIDs do.
const offerPrefix = "WR"

// offer is one caller ringing one agent.
type offer struct {
	id      string
	entry   *Entry
	session *AgentSession
	expires time.Time
	stop    func() bool // the offer timer
}

// view describes the offer to the agent.
func (o *offer) view(now time.Time) Offer {
	return offerView(o.entry, o.id, o.expires, now)
}

// offerView describes e as an offer with that ID and expiry.
func offerView(e *Entry, id string, expires, now time.Time) Offer {
	end := now
	if e.state != waiting && !e.left.IsZero() {
		end = e.left
	}
	return Offer{
		ID:         id,
		CallSID:    e.caller.CallSID,
		From:       e.caller.From,
		To:         e.caller.To,
		Queue:      e.queueName,
		Waited:     end.Sub(e.enqueued),
		Attributes: e.caller.Attributes,
		Expires:    expires,
	}
}

// makeOffer rings s with e. It fails (and ends s) when s's event buffer is
// full, as its reader is stuck.
func (m *Manager) makeOffer(s *AgentSession, e *Entry) bool {
	if !s.hasRoom() {
		m.log.Warn("queue: agent's events are not being read; signing it out", "agent", s.agent.ID)
		m.endSession(s, false)
		return false
	}
	now := m.clock.Now()
	o := &offer{id: sid.New(offerPrefix), entry: e, session: s, expires: now.Add(m.cfg.OfferTimeout)}
	o.stop = m.clock.AfterFunc(m.cfg.OfferTimeout, func() { m.offerExpired(o) })
	e.offer, s.offer = o, o
	s.events <- AgentEvent{Kind: OfferMade, Offer: o.view(now)}
	m.log.Debug("queue: offer made", "offer", o.id, "agent", s.agent.ID, "call_sid", e.caller.CallSID, "queue", e.queueName)
	return true
}

// dropOffer detaches o from its caller and agent and stops its timer.
func (m *Manager) dropOffer(o *offer) {
	o.stop()
	if o.entry.offer == o {
		o.entry.offer = nil
	}
	if o.session.offer == o {
		o.session.offer = nil
	}
}

// offerExpired handles an agent that let an offer ring out: the agent is
// told (OfferExpired) and set unavailable, so that an absent agent does
// not ring again and again; it must SetAvailable(true) to get offers
// again. A queued caller is offered to someone else, keeping its place; a
// Ring caller gets Outcome TimedOut.
func (m *Manager) offerExpired(o *offer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || o.session.offer != o {
		return
	}
	s, e := o.session, o.entry
	m.log.Debug("queue: offer expired", "offer", o.id, "agent", s.agent.ID, "call_sid", e.caller.CallSID)
	m.dropOffer(o)
	s.available = false
	m.sendCritical(s, AgentEvent{Kind: OfferExpired, Offer: o.view(m.clock.Now())})
	if e.q == nil {
		m.finish(e, Outcome{Kind: TimedOut})
	}
	m.dispatch()
}
