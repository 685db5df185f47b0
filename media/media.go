// Package media moves call audio: RTP legs, G.711, 20 ms pacing, DTMF,
// audio sources and sinks. Everything above it (the call engine, queues)
// sees a call's audio only through the Leg interface.
package media

import (
	"context"
	"errors"
	"time"
)

// Audio inside Voxgate is 8 kHz, mono, signed 16-bit linear PCM, moved in
// 20 ms frames of 160 samples.
const (
	SampleRate    = 8000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate * int(FrameDuration) / int(time.Second)
)

// ErrLegClosed is returned by Leg methods once the leg has been closed or
// the far end has hung up.
var ErrLegClosed = errors.New("media: leg closed")

// Source produces 8 kHz mono audio. ReadFrame fills p (normally FrameSamples
// long) and returns how many samples it wrote. It returns io.EOF, with n == 0,
// once the audio is finished. A short frame (0 < n < len(p)) is padded with
// silence by the caller.
type Source interface {
	ReadFrame(p []int16) (n int, err error)
}

// Sink consumes 8 kHz mono audio received from the far end, one frame per
// call. It must not keep p after returning.
type Sink interface {
	WriteFrame(p []int16) error
}

// DigitVia says how a DTMF digit reached the gateway.
type DigitVia uint8

// The ways a digit can arrive.
const (
	ViaRFC4733 DigitVia = iota + 1 // telephone-event RTP packets
	ViaSIPInfo                     // SIP INFO (application/dtmf-relay, application/dtmf)
	ViaInBand                      // tones in the audio, found by the Goertzel detector
)

// Digit is one DTMF key pressed by the far end.
type Digit struct {
	Key byte // one of 0-9 * # A-D
	Via DigitVia
	At  time.Time // when the key press began
}

// Leg is one direction-agnostic audio endpoint of a call. SIP/RTP legs and
// WebRTC legs both implement it, so the engine and the queue never care
// which kind they drive.
type Leg interface {
	// Play sends src to the far end, paced in real time, and blocks until
	// src is exhausted (nil), ctx is cancelled (ctx.Err(): barge-in), or
	// the leg closes (ErrLegClosed). Only one Play runs at a time; when
	// nothing plays the leg sends silence.
	Play(ctx context.Context, src Source) error
	// Record delivers every received frame to sink until ctx is cancelled
	// (returns nil) or the leg closes (returns ErrLegClosed).
	Record(ctx context.Context, sink Sink) error
	// DTMF delivers digits pressed by the far end, each exactly once.
	DTMF() <-chan Digit
	// SendDTMF sends digits (0-9 * # A-D; w = 0.5 s pause, W = 1 s) and
	// blocks until they are sent.
	SendDTMF(ctx context.Context, digits string) error
	// Done is closed when the leg ends for any reason.
	Done() <-chan struct{}
	// Close ends the leg's media. It is safe to call more than once.
	Close(reason string) error
}
