package mediastream

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Track names as they appear in messages: "inbound" is the audio the
// gateway receives from the caller, "outbound" the audio it sends them.
const (
	trackInbound  = "inbound"
	trackOutbound = "outbound"
)

// frameBytes is one 20 ms frame of 8 kHz μ-law.
const frameBytes = 160

// appendConnected appends the first message of every stream.
func appendConnected(b []byte) []byte {
	return append(b, `{"event":"connected","protocol":"Call","version":"1.0.0"}`...)
}

// startInfo is the body of the start message.
type startInfo struct {
	AccountSID       string            `json:"accountSid"`
	StreamSID        string            `json:"streamSid"`
	CallSID          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	MediaFormat      mediaFormat       `json:"mediaFormat"`
	CustomParameters map[string]string `json:"customParameters"`
}

type mediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

// marshalStart returns the start message (sequence number 1).
func marshalStart(s startInfo) ([]byte, error) {
	if s.CustomParameters == nil {
		s.CustomParameters = map[string]string{}
	}
	msg := struct {
		Event          string    `json:"event"`
		SequenceNumber string    `json:"sequenceNumber"`
		Start          startInfo `json:"start"`
		StreamSID      string    `json:"streamSid"`
	}{"start", "1", s, s.StreamSID}
	return json.Marshal(msg)
}

// appendMedia appends a media message; it allocates nothing when b has
// room (about 330 bytes).
func appendMedia(b []byte, seq uint64, streamSID, track string, chunk uint64, timestampMS uint64, payload []byte) []byte {
	b = append(b, `{"event":"media","sequenceNumber":"`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `","media":{"track":"`...)
	b = append(b, track...)
	b = append(b, `","chunk":"`...)
	b = strconv.AppendUint(b, chunk, 10)
	b = append(b, `","timestamp":"`...)
	b = strconv.AppendUint(b, timestampMS, 10)
	b = append(b, `","payload":"`...)
	b = base64.StdEncoding.AppendEncode(b, payload)
	b = append(b, `"},"streamSid":"`...)
	b = append(b, streamSID...)
	return append(b, `"}`...)
}

// appendDTMF appends a dtmf message (bidirectional streams only).
func appendDTMF(b []byte, seq uint64, streamSID string, digit byte) []byte {
	b = append(b, `{"event":"dtmf","streamSid":"`...)
	b = append(b, streamSID...)
	b = append(b, `","sequenceNumber":"`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `","dtmf":{"track":"inbound_track","digit":"`...)
	b = append(b, digit)
	return append(b, `"}}`...)
}

// appendMark appends the echo of a mark the server sent.
func appendMark(b []byte, seq uint64, streamSID, name string) []byte {
	b = append(b, `{"event":"mark","sequenceNumber":"`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `","streamSid":"`...)
	b = append(b, streamSID...)
	b = append(b, `","mark":{"name":`...)
	b = appendJSONString(b, name)
	return append(b, `}}`...)
}

// appendStop appends the last message of a stream.
func appendStop(b []byte, seq uint64, streamSID, accountSID, callSID string) []byte {
	b = append(b, `{"event":"stop","sequenceNumber":"`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `","stop":{"accountSid":"`...)
	b = append(b, accountSID...)
	b = append(b, `","callSid":"`...)
	b = append(b, callSID...)
	b = append(b, `"},"streamSid":"`...)
	b = append(b, streamSID...)
	return append(b, `"}`...)
}

// appendJSONString appends s as a JSON string. Mark names come from the
// server, so they are escaped properly (json.Marshal of a string cannot
// fail).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// inbound is a message from the server, decoded strictly: unknown fields
// are errors (31951).
type inbound struct {
	Event     string `json:"event"`
	StreamSID string `json:"streamSid"`
	Media     *struct {
		Payload string `json:"payload"`
	} `json:"media,omitempty"`
	Mark *struct {
		Name string `json:"name"`
	} `json:"mark,omitempty"`
}

// errInvalidMessage is wrapped by parse errors: Twilio's 31951.
var errInvalidMessage = errors.New("invalid message")

// parseInbound decodes and validates one text message from the server.
// It returns the audio of a media message decoded from base64.
func parseInbound(data []byte, streamSID string) (inbound, []byte, error) {
	var m inbound
	if err := strictUnmarshal(data, &m); err != nil {
		return m, nil, fmt.Errorf("%w: %v", errInvalidMessage, err)
	}
	if m.StreamSID != streamSID {
		return m, nil, fmt.Errorf("%w: streamSid %q is not this stream's", errInvalidMessage, m.StreamSID)
	}
	switch m.Event {
	case "media":
		if m.Media == nil || m.Mark != nil {
			return m, nil, fmt.Errorf("%w: media needs a media object and nothing else", errInvalidMessage)
		}
		audio, err := base64.StdEncoding.DecodeString(m.Media.Payload)
		if err != nil {
			return m, nil, fmt.Errorf("%w: media payload is not base64: %v", errInvalidMessage, err)
		}
		return m, audio, nil
	case "mark":
		if m.Mark == nil || m.Media != nil {
			return m, nil, fmt.Errorf("%w: mark needs a mark object and nothing else", errInvalidMessage)
		}
	case "clear":
		if m.Mark != nil || m.Media != nil {
			return m, nil, fmt.Errorf("%w: clear takes no object", errInvalidMessage)
		}
	default:
		return m, nil, fmt.Errorf("%w: unknown event %q", errInvalidMessage, m.Event)
	}
	return m, nil, nil
}
