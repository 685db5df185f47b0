// Package dtmf turns DTMF key presses into telephone-event packets and
// tones, and back again. It holds pure functions and small state machines
// only: no sockets, no goroutines, no clocks. The RTP leg in package media
// drives it.
//
// Receiving:
//   - [Receiver] turns RFC 4733 telephone-event payloads into key presses,
//     each reported once, even when events arrive on another SSRC than the
//     audio, timestamps go backwards between presses (SIPp's pcaps), start
//     packets are lost, or packets are retransmitted and reordered.
//   - [Detector] finds in-band DTMF in 8 kHz int16 audio with Goertzel
//     filters and the ITU-T Q.24 style checks (frequency deviation, twist,
//     level, dominance, second harmonic, minimum duration).
//
// Sending:
//   - [Sender] plans the telephone-event packets for a digit string, one
//     call per 20 ms tick.
//   - [AppendTone] and [ToneSource] produce dual-tone audio for peers that
//     did not negotiate telephone-event.
//
// Keys are the bytes '0'-'9', '*', '#' and 'A'-'D'. Digit strings for
// sending may also hold 'w' (0.5 s pause) and 'W' (1 s pause).
//
// All per-packet and per-frame methods allocate nothing. A Receiver,
// Detector, Sender or ToneSource is not safe for concurrent use; give each
// goroutine its own.
package dtmf
