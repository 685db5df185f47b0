package main

import (
	"context"
	"errors"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/mediastream"
	"github.com/voxgate/voxgate/metrics"
	"github.com/voxgate/voxgate/speech"
	"github.com/voxgate/voxgate/twiml"
)

// mediaStreams holds the gateway's media streams and speech recognition:
// counters shared by every stream (in /metrics), the registry of live
// calls' streams (for <Stop><Stream> and the REST API), and the
// recognizer <Gather input="speech"> uses. It is the REST API's
// StreamControl.
type mediaStreams struct {
	cfg        config.Streams
	authToken  string
	stats      *mediastream.Stats
	registry   *mediastream.Registry
	recognizer speech.Recognizer
}

func newMediaStreams(cfg config.Config, m *metrics.Metrics) *mediaStreams {
	s := &mediaStreams{
		cfg:       cfg.Streams,
		authToken: cfg.Account.AuthToken,
		stats:     &mediastream.Stats{},
		registry:  &mediastream.Registry{MaxForksPerCall: cfg.Streams.MaxPerCall},
	}
	m.RegisterStreams(s.stats)
	switch cfg.Speech.Recognizer {
	case "websocket":
		s.recognizer = &speech.WebSocket{URL: cfg.Speech.WebsocketURL}
	default:
		s.recognizer = &speech.Pocketsphinx{ModelDir: cfg.Speech.PocketsphinxModel, Workers: cfg.Speech.Workers}
	}
	return s
}

// streamConfig fills in the gateway's limits and credentials.
func (s *mediaStreams) streamConfig(c mediastream.Config) mediastream.Config {
	c.Stats, c.AuthToken = s.stats, s.authToken
	c.QueueFrames, c.DialTimeout, c.WriteTimeout = s.cfg.QueueFrames, s.cfg.DialTimeout.D(), s.cfg.WriteTimeout.D()
	return c
}

// StartStream implements api.StreamControl.
func (s *mediaStreams) StartStream(_ context.Context, callSID string, p api.StreamParams) (api.StreamInfo, error) {
	c := mediastream.Config{URL: mediastream.WebSocketURL("", p.URL), Name: p.Name, Track: p.Track,
		StatusCallback: p.StatusCallback, StatusCallbackMethod: p.StatusCallbackMethod}
	for _, kv := range p.Parameters {
		c.Parameters = append(c.Parameters, twiml.Parameter{Name: kv.Name, Value: kv.Value})
	}
	st, err := s.registry.StartFork(callSID, s.streamConfig(c))
	if err != nil {
		return api.StreamInfo{}, apiStreamError(err)
	}
	return api.StreamInfo{SID: st.SID(), CallSID: callSID, Name: st.Name(), Status: "in-progress", Updated: time.Now()}, nil
}

// StopStream implements api.StreamControl.
func (s *mediaStreams) StopStream(_ context.Context, callSID, sidOrName string) (api.StreamInfo, error) {
	st, err := s.registry.Stop(callSID, sidOrName)
	if err != nil {
		return api.StreamInfo{}, apiStreamError(err)
	}
	return api.StreamInfo{SID: st.SID(), CallSID: callSID, Name: st.Name(), Status: "stopped", Updated: time.Now()}, nil
}

// apiStreamError maps the registry's and the stream's errors to the API's.
func apiStreamError(err error) error {
	var se *mediastream.Error
	switch {
	case errors.Is(err, mediastream.ErrCallNotLive):
		return api.ErrNotLive
	case errors.Is(err, mediastream.ErrNoStream):
		return api.ErrNoStream
	case errors.As(err, &se):
		return &api.StreamError{Code: se.Code, Message: se.Error()}
	case errors.Is(err, mediastream.ErrBidirectional), errors.Is(err, mediastream.ErrTooMany), errors.Is(err, mediastream.ErrNameInUse):
		return &api.StreamError{Message: err.Error()}
	}
	return err
}

// services are the engine's services for the stream and speech verbs.
func (s *mediaStreams) services() []any {
	return []any{&ivr.MediaStreams{Registry: s.registry, Base: s.streamConfig(mediastream.Config{})}, s.recognizer}
}
