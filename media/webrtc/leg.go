package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/sdp/v3"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
)

// digitBuffer is the capacity of the DTMF channel.
const digitBuffer = 32

// Config describes a WebRTC leg.
type Config struct {
	// Logger receives the leg's logs; it should carry the call SID or the
	// agent. Nil means slog.Default().
	Logger *slog.Logger
	// PublicIP, when valid, is the address of a 1:1 NAT in front of the
	// gateway: a host candidate with it is advertised next to the local
	// ones (which include loopback).
	PublicIP netip.Addr
	// PortMin and PortMax, when set, limit the UDP ports ICE listens on.
	PortMin, PortMax uint16
}

// Leg is a media.Leg over a WebRTC PeerConnection with one PCMU audio
// track each way. See the package documentation. Create it with NewLeg,
// then call Answer with the browser's offer.
type Leg struct {
	log    *slog.Logger
	pc     *pion.PeerConnection
	track  *audioTrack
	sender *pion.RTPSender
	tsBase uint32 // RTP timestamp of frame 0

	answered    atomic.Bool
	connectOnce sync.Once
	connected   chan struct{}
	ending      media.LegEnd
	digits      media.DigitQueue

	jobs media.LegJobs // Play, SendDTMF and Record, handed to the loops

	tx sendState // owned by the send loop
	rx recvState // owned by the receive loop
}

// NewLeg creates the PeerConnection with its audio transceiver. Nothing is
// sent before Answer and the connection.
func NewLeg(cfg Config) (*Leg, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	api, err := newAPI(cfg)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("webrtc: new peer connection: %w", err)
	}
	l := &Leg{
		log:       log,
		pc:        pc,
		track:     &audioTrack{id: "audio", streamID: "voxgate"},
		tsBase:    rand.Uint32(),
		connected: make(chan struct{}),
	}
	l.ending.Init()
	l.digits.Init(digitBuffer, log)
	l.jobs.Init(l.ending.Done(), "webrtc")
	l.tx.seq = uint16(rand.Uint32())
	l.tx.marker = true
	tr, err := pc.AddTransceiverFromTrack(l.track, pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendrecv})
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("webrtc: add audio transceiver: %w", err)
	}
	l.sender = tr.Sender()
	pc.OnConnectionStateChange(l.connectionStateChanged)
	pc.OnTrack(l.trackArrived)
	return l, nil
}

// Answer applies the browser's offer and returns the answer SDP, complete
// with all ICE candidates (it waits for gathering to finish, bounded by
// ctx). The offer must have an audio section offering PCMU. Answer may be
// called once.
func (l *Leg) Answer(ctx context.Context, offerSDP string) (string, error) {
	if l.closed() {
		return "", media.ErrLegClosed
	}
	if !l.answered.CompareAndSwap(false, true) {
		return "", errors.New("webrtc: answer: already answered")
	}
	if err := checkOffer(offerSDP); err != nil {
		return "", err
	}
	if err := l.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offerSDP}); err != nil {
		return "", fmt.Errorf("webrtc: set offer: %w", err)
	}
	answer, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create answer: %w", err)
	}
	gathered := pion.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("webrtc: set answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gather ice candidates: %w", ctx.Err())
	case <-l.ending.Done():
		return "", media.ErrLegClosed
	}
	desc := l.pc.LocalDescription()
	if desc == nil {
		return "", errors.New("webrtc: answer: no local description")
	}
	return desc.SDP, nil
}

// checkOffer returns an error unless sdpText has an active audio section
// that offers PCMU.
func checkOffer(sdpText string) error {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(sdpText); err != nil {
		return fmt.Errorf("webrtc: parse offer: %w", err)
	}
	audio := false
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		audio = true
		for _, f := range m.MediaName.Formats {
			if f == "0" {
				return nil
			}
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToUpper(a.Value), " PCMU/8000") {
				return nil
			}
		}
	}
	if !audio {
		return errors.New("webrtc: offer has no audio")
	}
	return errors.New("webrtc: offer does not include PCMU audio")
}

// connectionStateChanged starts sending once connected and ends the leg
// when the connection fails or closes. Pion calls it on its own goroutine.
func (l *Leg) connectionStateChanged(state pion.PeerConnectionState) {
	l.log.Debug("webrtc connection state", "state", state.String())
	switch state {
	case pion.PeerConnectionStateConnected:
		l.connectOnce.Do(func() {
			if l.closed() {
				return
			}
			close(l.connected)
			l.startLoop(l.sendLoop)
			l.startLoop(l.readRTCP)
			l.log.Info("webrtc leg connected")
		})
	case pion.PeerConnectionStateFailed:
		l.end("ice-failed", false)
	case pion.PeerConnectionStateClosed:
		l.end("peer-closed", false)
	}
}

// startLoop runs loop on its own goroutine unless the leg has ended.
// Every loop returns once the leg ends (done closed, PeerConnection
// closed).
func (l *Leg) startLoop(loop func()) {
	if !l.closed() {
		go loop()
	}
}

// Connected is closed once the PeerConnection is connected (ICE and DTLS
// up); from then on audio flows. It stays open if the leg ends first:
// select on Done as well.
func (l *Leg) Connected() <-chan struct{} { return l.connected }

// Done is closed when the leg ends: Close, the browser closing its
// PeerConnection, or ICE failing. Reason then says which.
func (l *Leg) Done() <-chan struct{} { return l.ending.Done() }

// Reason says why the leg ended: "closed: <reason given to Close>",
// "peer-closed" or "ice-failed". It is empty while the leg runs.
func (l *Leg) Reason() string { return l.ending.Reason() }

// Close ends the leg: the PeerConnection is closed (the browser sees its
// connection close), running Play, Record and SendDTMF calls return
// media.ErrLegClosed, and the leg's goroutines end. Only the first call
// has an effect; it returns the error from closing the PeerConnection, if
// any.
func (l *Leg) Close(reason string) error {
	return l.end("closed: "+reason, true)
}

// end ends the leg once, for any reason. graceful also waits for pion's
// goroutines; it is false when called from a pion callback.
func (l *Leg) end(reason string, graceful bool) error {
	var err error
	l.ending.End(reason, func() {
		if graceful {
			err = l.pc.GracefulClose()
		} else {
			err = l.pc.Close()
		}
		if err != nil {
			err = fmt.Errorf("webrtc: close peer connection: %w", err)
		}
		l.log.Info("webrtc leg ended", "reason", reason)
	})
	return err
}

// closed reports whether the leg has ended.
func (l *Leg) closed() bool { return l.ending.Ended() }

// Interface check.
var _ media.Leg = (*Leg)(nil)
