package web

import (
	"time"

	"github.com/voxgate/voxgate/queue"
)

// Message types, page to gateway.
const (
	msgSignIn    = "signin"
	msgAvailable = "available"
	msgAccept    = "accept"
	msgReject    = "reject"
	msgHangup    = "hangup"
	msgDTMF      = "dtmf"
	msgTask      = "task"
)

// clientMessage is any message from the page; Type says which fields
// matter.
type clientMessage struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Secret  string `json:"secret,omitempty"`
	Value   bool   `json:"value,omitempty"`
	OfferID string `json:"offerId,omitempty"`
	SDP     string `json:"sdp,omitempty"`
	Digit   string `json:"digit,omitempty"`
	// task (TaskRouter desktop)
	Action         string `json:"action,omitempty"`
	ReservationSID string `json:"reservationSid,omitempty"`
	Body           string `json:"body,omitempty"`
	Activity       string `json:"activity,omitempty"`
	// task: a call action's call (its task SID) and destination
	TaskSID string `json:"taskSid,omitempty"`
	Target  string `json:"target,omitempty"`
}

// okMessage acknowledges a request.
type okMessage struct {
	Type  string     `json:"type"` // "ok"
	For   string     `json:"for"`
	Agent *agentView `json:"agent,omitempty"` // signin
	Value *bool      `json:"value,omitempty"` // available
}

// errorMessage reports a failed request or a problem.
type errorMessage struct {
	Type    string `json:"type"` // "error"
	For     string `json:"for,omitempty"`
	OfferID string `json:"offerId,omitempty"`
	Message string `json:"message"`
}

// agentView is the signed-in agent.
type agentView struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Queues []string `json:"queues"`
}

// queuesMessage lists the agent's queues.
type queuesMessage struct {
	Type   string      `json:"type"` // "queues"
	Queues []queueView `json:"queues"`
}

// queueView is one row of the page's queue table.
type queueView struct {
	Name        string  `json:"name"`
	Size        int     `json:"size"`
	AverageWait float64 `json:"averageWait"` // seconds
}

// offerMessage rings the agent.
type offerMessage struct {
	Type  string    `json:"type"` // "offer"
	Offer offerView `json:"offer"`
}

// offerView is a caller offered to the agent.
type offerView struct {
	ID            string         `json:"id"`
	CallSID       string         `json:"callSid"`
	From          string         `json:"from"`
	To            string         `json:"to"`
	Queue         string         `json:"queue"`
	WaitedSeconds float64        `json:"waitedSeconds"`
	Attributes    map[string]any `json:"attributes"`
	ExpiresIn     float64        `json:"expiresIn"` // seconds
}

// offerEndMessage is "withdrawn" or "expired".
type offerEndMessage struct {
	Type    string `json:"type"`
	OfferID string `json:"offerId"`
}

// answerMessage carries the gateway's SDP answer.
type answerMessage struct {
	Type    string `json:"type"` // "answer"
	OfferID string `json:"offerId"`
	SDP     string `json:"sdp"`
}

// acceptedMessage says the agent is bridged to the caller.
type acceptedMessage struct {
	Type    string `json:"type"` // "accepted"
	OfferID string `json:"offerId"`
	CallSID string `json:"callSid"`
}

// endedMessage says the call is over.
type endedMessage struct {
	Type   string `json:"type"` // "ended"
	Reason string `json:"reason"`
}

// signedOutMessage says the session ended on the gateway's side.
type signedOutMessage struct {
	Type   string `json:"type"` // "signedout"
	Reason string `json:"reason"`
}

// newQueuesMessage converts the Manager's queue descriptions.
func newQueuesMessage(infos []queue.QueueInfo) queuesMessage {
	views := make([]queueView, 0, len(infos))
	for _, q := range infos {
		views = append(views, queueView{Name: q.Name, Size: q.Size, AverageWait: q.AverageWait.Seconds()})
	}
	return queuesMessage{Type: "queues", Queues: views}
}

// newOfferMessage converts an offer as of now.
func newOfferMessage(o queue.Offer, now time.Time) offerMessage {
	attrs := o.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return offerMessage{Type: "offer", Offer: offerView{
		ID:            o.ID,
		CallSID:       o.CallSID,
		From:          o.From,
		To:            o.To,
		Queue:         o.Queue,
		WaitedSeconds: o.Waited.Seconds(),
		Attributes:    attrs,
		ExpiresIn:     max(0, o.Expires.Sub(now).Seconds()),
	}}
}
