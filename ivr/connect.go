package ivr

import (
	"errors"
	"fmt"

	"github.com/voxgate/voxgate/mediastream"
	"github.com/voxgate/voxgate/twiml"
)

func init() { registerVerb(func(v *twiml.Connect) verb { return &connectVerb{c: v} }) }

// connectVerb runs <Connect><Stream>: a bidirectional media stream with
// the app's WebSocket server (media-streams.md) until the server closes it
// or the call ends; then Connect's action, or the next verb. Other
// <Connect> targets take the application-error path (12200).
type connectVerb struct{ c *twiml.Connect }

func (v *connectVerb) run(s *session) (next, error) {
	st, ok := v.c.Target.(*twiml.Stream)
	if !ok {
		name := "nothing"
		if v.c.Target != nil {
			name = "<" + v.c.Target.Name() + ">"
		}
		return next{}, &verbError{code: 12200, err: fmt.Errorf("<Connect> to %s is not supported by Voxgate yet", name)}
	}
	cs := streamsOf(s)
	if cs == nil {
		return next{}, &verbError{code: 12200, err: errors.New("<Connect><Stream>: media streams are not configured on this gateway")}
	}
	if err := s.answer(); err != nil {
		return next{}, err
	}
	if err := v.stream(s, cs, st); err != nil {
		return next{}, err
	}
	if s.ctx.Err() != nil {
		return next{}, s.stopped()
	}
	if v.c.Action != "" {
		return s.action(v.c.Action, v.c.Method, nil)
	}
	return s.goOn()
}

// stream runs the stream; a stream that cannot start is logged and the
// call goes on, as when the server closes it.
func (v *connectVerb) stream(s *session, cs *callStreams, st *twiml.Stream) error {
	switch {
	case st.ConnectorName != "":
		streamError(s, "Connect", &mediastream.Error{Code: mediastream.CodeInvalidConnector, Err: fmt.Errorf("connectorName %q: Stream Connectors are not available", st.ConnectorName)})
		return nil
	case st.Track != "" && st.Track != twiml.TrackInbound:
		streamError(s, "Connect", &mediastream.Error{Code: mediastream.CodeInvalidTrack, Err: fmt.Errorf("<Connect><Stream> takes only track=inbound_track, not %q", st.Track)})
		return nil
	}
	cfg, err := cs.config(s, st, true)
	if err != nil {
		streamError(s, "Connect", err)
		return nil
	}
	stream, err := mediastream.Start(s.ctx, cfg)
	if err != nil {
		streamError(s, "Connect", err)
		return nil
	}
	cs.svc.Registry.Add(cs.callSID, stream)
	if err := stream.Serve(s.ctx, s.leg()); err != nil {
		return s.mediaErr(err)
	}
	s.log.Info("ivr: <Connect><Stream> ended", "stream_sid", stream.SID(), "reason", stream.Err())
	return nil
}
