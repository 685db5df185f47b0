// Package webrtc is the audio leg of a browser agent: a media.Leg over one
// pion PeerConnection with a single audio transceiver.
//
// The leg negotiates PCMU (G.711 μ-law, 8 kHz) and nothing else, plus
// telephone-event/8000 for RFC 4733 digits, so the browser encodes μ-law
// itself and the gateway only converts μ-law to and from linear PCM, which
// is lossless for μ-law. The browser is always the offerer: the agent page
// creates the offer, the gateway answers with Leg.Answer, which waits for
// ICE gathering to finish so the answer carries every candidate and no
// trickle ICE is needed. Only host candidates are gathered (loopback
// included, no STUN or TURN); Config.PublicIP adds the address of a 1:1 NAT.
//
// Usage:
//
//	leg, err := webrtc.NewLeg(webrtc.Config{Logger: log})
//	answer, err := leg.Answer(ctx, offerSDP) // send answer to the browser
//	<-leg.Connected()                        // or leg.Done()
//	// use leg as a media.Leg (Play, Record, DTMF ...), then
//	leg.Close("hangup")
//
// The leg mirrors media.RTPLeg: its send loop is a 20 ms clock started
// when the PeerConnection connects, sending one packet per tick (a
// telephone-event packet while SendDTMF runs, else the running Play's
// frame, else silence); its receive loop reads the browser's track into
// one reused buffer, decodes μ-law into 20 ms frames for the Record sinks,
// and feeds telephone-event packets to an RFC 4733 receiver. Play, Record
// and SendDTMF hand jobs to those loops under small mutexes, exactly as
// on the RTP leg. Digits pressed on the page's keypad arrive over the
// signalling channel and enter the leg through InjectDigit. Neither loop
// allocates per frame.
package webrtc
