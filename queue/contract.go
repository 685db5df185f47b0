// Package queue holds callers waiting in named queues and the browser
// agents who answer them: routing (priority, then FIFO), offers to the
// longest-idle available agent with a timeout, and the hand-over of an
// accepted caller to an agent's audio leg. It owns no network: the call
// engine plays hold music and bridges audio, package web speaks to
// browsers. All state sits behind one Manager.
//
// The call engine, for <Enqueue>: Enqueue, then wait on Entry.Outcome
// while playing the wait experience (Entry.Info and QueueBySID give
// QueuePosition, QueueTime, AvgQueueTime, CurrentQueueSize,
// MaxQueueSize). Call Entry.Leave when the caller leaves by itself (hang
// up, <Leave>, <Hangup>, call redirect). On Bridged, bridge to
// Outcome.Leg and call Entry.Finished when the bridge ends; on Dequeued,
// run Outcome.URL; on TimedOut, continue after <Enqueue>.
//
// <Dial><Queue> uses TakeFront (or TakeFrontWait to wait up to the Dial
// timeout); <Dial><Client> uses Ring and waits on the entry's Outcome
// (Bridged, or TimedOut for no-answer), calling Leave when it gives up.
//
// The web layer, per browser agent: SignIn, then read Events until it is
// closed; SetAvailable from the presence switch; on OfferMade ring the
// browser, and once its WebRTC leg is up call Accept with it (or Reject);
// on OfferWithdrawn or OfferExpired stop ringing; on CallEnded hang up the
// agent's leg if it is still up. Call SignOut when the page or socket
// goes away.
//
// The REST API reads Queues, QueueBySID and Members and moves members with
// Redirect.
package queue

import (
	"errors"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Errors returned by the Manager.
var (
	ErrQueueFull = errors.New("queue: full")
	ErrNoCaller  = errors.New("queue: no such caller waiting")
	ErrOfferGone = errors.New("queue: the offer is no longer valid")
	ErrNoAgent   = errors.New("queue: no such agent signed in")
)

// Caller is a call entering a queue.
type Caller struct {
	CallSID  string
	From, To string
	// Priority orders the queue: higher first, then first come first
	// served (<Task> priority; default 0).
	Priority int
	// Timeout, when positive, ends the wait (<Task> timeout): the entry's
	// Outcome says TimedOut.
	Timeout time.Duration
	// Attributes are the <Task> JSON attributes, shown to agents.
	Attributes map[string]any
}

// OutcomeKind says how a caller's wait ended.
type OutcomeKind int

// How a wait ends.
const (
	// Bridged: an agent (or a <Dial><Queue> caller) took the call; bridge
	// the caller to Outcome.Leg.
	Bridged OutcomeKind = iota + 1
	// Dequeued: REST moved the caller to Outcome.URL (Members update).
	Dequeued
	// TimedOut: the caller's Timeout passed; for a Ring entry also a
	// reject, an offer that rang out, or the agent signing out
	// (no-answer).
	TimedOut
)

// Outcome is delivered once on Entry.Outcome.
type Outcome struct {
	Kind        OutcomeKind
	Leg         media.Leg // Bridged: the other party's audio
	AgentID     string    // Bridged by an agent ("" for <Dial><Queue>)
	DequeuerSID string    // Bridged by <Dial><Queue>: the dialling call's SID
	URL, Method string    // Dequeued
}

// QueueInfo describes a queue now.
type QueueInfo struct {
	SID, Name   string
	Size        int
	MaxSize     int
	AverageWait time.Duration // of the callers waiting now
}

// MemberInfo describes a waiting caller.
type MemberInfo struct {
	CallSID    string
	QueueSID   string // "" for a Ring entry
	From       string
	Position   int // 1-based
	Enqueued   time.Time
	Wait       time.Duration
	Priority   int
	Attributes map[string]any
	OfferedTo  string // agent ID holding an offer for it, "" if none
}

// Agent identifies a signed-in browser agent.
type Agent struct {
	ID     string   // the identity (client:ID)
	Name   string   // display name
	Queues []string // queue names the agent serves
}

// Offer is a waiting caller offered to one agent, who may accept or
// reject it before it times out.
type Offer struct {
	ID         string
	CallSID    string
	From, To   string
	Queue      string // "" for a direct <Dial><Client>
	Waited     time.Duration
	Attributes map[string]any
	Expires    time.Time
}

// AgentEventKind says what happened to an agent.
type AgentEventKind int

// What an agent is told.
const (
	OfferMade      AgentEventKind = iota + 1 // a new offer (Event.Offer)
	OfferWithdrawn                           // the caller hung up or was taken elsewhere
	OfferExpired                             // the offer timed out; the agent was set unavailable
	CallEnded                                // the bridged call is over (Event.Offer names it); wrap-up starts
	QueuesChanged                            // a queue the agent serves changed (Event.Queues)
)

// AgentEvent is delivered on AgentSession.Events.
type AgentEvent struct {
	Kind   AgentEventKind
	Offer  Offer
	Queues []QueueInfo
}
