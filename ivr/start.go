package ivr

import (
	"fmt"

	"github.com/voxgate/voxgate/mediastream"
	"github.com/voxgate/voxgate/twiml"
)

func init() {
	registerVerb(func(v *twiml.Start) verb { return &startVerb{st: v} })
	registerVerb(func(v *twiml.Stop) verb { return &stopVerb{st: v} })
}

// startVerb runs <Start><Stream>: one-way forks of the call's audio that
// run beside the following verbs until <Stop>, the REST API or the end of
// the call. Other <Start> features (Siprec, Transcription, Recording) are
// logged and skipped.
type startVerb struct{ st *twiml.Start }

func (v *startVerb) run(s *session) (next, error) {
	if err := s.answer(); err != nil {
		return next{}, err
	}
	cs := streamsOf(s)
	for _, f := range v.st.Features {
		st, ok := f.(*twiml.Stream)
		if !ok {
			s.log.Warn("ivr: <Start> feature not supported; skipped", "error_code", 12200, "feature", f.Name())
			continue
		}
		if cs == nil {
			s.log.Warn("ivr: <Start><Stream>: media streams are not configured on this gateway; skipped", "error_code", 12200)
			continue
		}
		if err := startFork(s, cs, st); err != nil {
			streamError(s, "Start", err)
		}
	}
	return s.goOn()
}

func startFork(s *session, cs *callStreams, st *twiml.Stream) error {
	switch st.Track {
	case "", twiml.TrackInbound, twiml.TrackOutbound, twiml.TrackBoth:
	default:
		return &mediastream.Error{Code: mediastream.CodeInvalidTrack, Err: fmt.Errorf("track %q: want inbound_track, outbound_track or both_tracks", st.Track)}
	}
	cfg, err := cs.config(s, st, false)
	if err != nil {
		return err
	}
	stream, err := cs.svc.Registry.StartFork(cs.callSID, cfg)
	if err != nil {
		return err
	}
	s.log.Info("ivr: <Start><Stream> started", "stream_sid", stream.SID(), "name", stream.Name())
	return nil
}

// stopVerb runs <Stop><Stream name>: it stops the call's one-way stream of
// that name (all of them without a name).
type stopVerb struct{ st *twiml.Stop }

func (v *stopVerb) run(s *session) (next, error) {
	cs := streamsOf(s)
	for _, f := range v.st.Features {
		st, ok := f.(*twiml.Stream)
		if !ok || cs == nil {
			s.log.Warn("ivr: <Stop> feature not supported; skipped", "feature", f.Name())
			continue
		}
		cs.svc.Registry.StopForks(cs.callSID, st.StreamName)
	}
	return s.goOn()
}
