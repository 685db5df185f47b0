// Package ivr is Voxgate's call engine: it fetches TwiML from the
// application's webhook and runs it, verb by verb, against a call's audio
// leg. It never touches SIP or sockets itself: a Call is an interface, so the
// engine runs the same against SIP/RTP, WebRTC, or an in-memory test leg.
package ivr

import (
	"context"

	"github.com/voxgate/voxgate/media"
)

// Call is what the engine drives: the audio leg and the signalling actions
// it needs. sip.InboundCall implements it.
type Call interface {
	// Leg is the call's audio.
	Leg() media.Leg
	// Ringing tells the caller the call is ringing (SIP 180).
	Ringing() error
	// Answer answers the call (SIP 200).
	Answer(ctx context.Context) error
	// Reject refuses an unanswered call: busy (486) or declined (603).
	Reject(ctx context.Context, busy bool) error
	// Hangup ends the call (BYE when answered).
	Hangup(ctx context.Context) error
	// Done is closed when the call has ended, whoever ended it.
	Done() <-chan struct{}
}

// Directions of a call, as Twilio names them.
const (
	Inbound      = "inbound"
	OutboundAPI  = "outbound-api"
	OutboundDial = "outbound-dial"
)

// CallInfo holds the facts about a call that webhooks receive.
type CallInfo struct {
	SID           string // CA…
	ParentSID     string // for child legs
	From, To      string
	Direction     string
	ForwardedFrom string
	SIPCallID     string
	SIPSourceIP   string
	SIPHeaders    map[string]string // X- headers of the INVITE, lowercased names
}

// App is the application a call runs: where its TwiML comes from and where
// its status goes.
type App struct {
	// Twiml, when set, is run instead of fetching VoiceURL (REST Twiml).
	Twiml                string
	VoiceURL             string
	VoiceMethod          string // GET or POST (default POST)
	FallbackURL          string
	FallbackMethod       string
	StatusCallback       string
	StatusCallbackMethod string
	// StatusCallbackEvents are the call progress events to report:
	// initiated, ringing, answered, completed (default: completed).
	StatusCallbackEvents []string
}
