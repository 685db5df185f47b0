package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/store"
)

// StreamControl starts and stops one-way media streams on live calls
// (the Calls/{Sid}/Streams resource); the media stream registry
// implements it.
type StreamControl interface {
	// StartStream forks the live call's audio to p.URL. ErrNotLive when
	// the call is not in progress here; a *StreamError when the stream
	// cannot start (unreachable URL, too many streams, name in use).
	StartStream(ctx context.Context, callSID string, p StreamParams) (StreamInfo, error)
	// StopStream stops the call's stream with this SID or name.
	// ErrNotLive, ErrNoStream, or a *StreamError (a <Connect> stream
	// cannot be stopped this way).
	StopStream(ctx context.Context, callSID, sidOrName string) (StreamInfo, error)
}

// StreamParams are POST Calls/{Sid}/Streams.json's parameters.
type StreamParams struct {
	URL                  string // absolute ws(s):// (or http(s)://, mapped)
	Name                 string
	Track                string // inbound_track (default), outbound_track, both_tracks
	StatusCallback       string
	StatusCallbackMethod string
	Parameters           []StreamParameter // Parameter1…Parameter99, in order
}

// StreamParameter is one custom parameter (start.customParameters).
type StreamParameter struct{ Name, Value string }

// StreamInfo describes a stream for the REST body.
type StreamInfo struct {
	SID, CallSID, Name string
	Status             string // in-progress or stopped
	Updated            time.Time
}

// ErrNoStream is StreamControl's answer for an unknown stream (20404).
var ErrNoStream = errors.New("api: no such stream")

// StreamError is a stream that could not be started or stopped, with
// Twilio's code (319xx) or 0 for a plain 400.
type StreamError struct {
	Code    int
	Message string
}

func (e *StreamError) Error() string { return e.Message }

// maxStreamParameters is Twilio's Parameter1…Parameter99.
const maxStreamParameters = 99

type streamJSON struct {
	SID         string  `json:"sid"`
	AccountSID  string  `json:"account_sid"`
	CallSID     string  `json:"call_sid"`
	Name        *string `json:"name"`
	Status      string  `json:"status"`
	DateUpdated *string `json:"date_updated"`
	URI         string  `json:"uri"`
}

func (a *restAPI) streamJSON(s StreamInfo) streamJSON {
	return streamJSON{SID: s.SID, AccountSID: a.opts.AccountSID, CallSID: s.CallSID, Name: nullable(s.Name),
		Status: s.Status, DateUpdated: rfc2822(s.Updated),
		URI: "/" + apiVersion + "/Accounts/" + a.opts.AccountSID + "/Calls/" + s.CallSID + "/Streams/" + s.SID + ".json"}
}

// parseStreamParams reads and checks the create parameters.
func parseStreamParams(form url.Values) (StreamParams, error) {
	p := StreamParams{URL: form.Get("Url"), Name: form.Get("Name"), Track: form.Get("Track"), StatusCallback: form.Get("StatusCallback")}
	if p.URL == "" {
		return p, badRequest(codeUnsupportedParam, "Url is required")
	}
	u, err := url.Parse(p.URL)
	if err != nil || u.Host == "" {
		return p, badRequest(codeInvalidURL, "Url is not a valid WebSocket URL: %s", p.URL)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return p, badRequest(31922, "Url must be wss:// or ws://, not %s", p.URL)
	}
	switch p.Track {
	case "":
		p.Track = "inbound_track"
	case "inbound_track", "outbound_track", "both_tracks":
	default:
		return p, badRequest(31941, "Track must be inbound_track, outbound_track or both_tracks, not %q", p.Track)
	}
	if p.StatusCallback != "" {
		if err := absoluteURL("StatusCallback", p.StatusCallback); err != nil {
			return p, err
		}
	}
	if p.StatusCallbackMethod, err = httpMethod("StatusCallbackMethod", form.Get("StatusCallbackMethod")); err != nil {
		return p, err
	}
	for i := 1; i <= maxStreamParameters; i++ {
		name := form.Get("Parameter" + strconv.Itoa(i) + ".Name")
		if name == "" {
			continue
		}
		p.Parameters = append(p.Parameters, StreamParameter{Name: name, Value: form.Get("Parameter" + strconv.Itoa(i) + ".Value")})
	}
	return p, nil
}

// liveStreamCall loads the call of a Streams request: 404 for an unknown
// call, 21220 for one not in progress, 501 without a stream controller.
func (a *restAPI) liveStreamCall(r *http.Request, callSID string) (store.Call, error) {
	c, err := a.getCall(r, callSID)
	if err != nil {
		return c, err
	}
	if a.opts.Streams == nil {
		return c, errUnavailable("media streams")
	}
	if c.Status != store.CallInProgress {
		return c, streamNotInProgress(c.SID)
	}
	return c, nil
}

func streamNotInProgress(callSID string) *Error {
	return badRequest(codeNotInProgress, "Call is not in-progress. Cannot start or stop a stream on call %s.", callSID)
}

// streamFailure maps a StreamControl error.
func streamFailure(r *http.Request, callSID string, err error) error {
	var se *StreamError
	switch {
	case errors.Is(err, ErrNotLive):
		return streamNotInProgress(callSID)
	case errors.Is(err, ErrNoStream):
		return notFound(r)
	case errors.As(err, &se):
		code := se.Code
		if code == 0 {
			code = codeUnsupportedParam
		}
		return badRequest(code, "%s", se.Message)
	}
	return fmt.Errorf("stream on call %s: %w", callSID, err)
}

// createStream serves POST Calls/{Sid}/Streams.json: fork the live call's
// audio to a WebSocket (201, status in-progress).
func (a *restAPI) createStream(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p, err := parseStreamParams(form)
	if err != nil {
		return err
	}
	c, err := a.liveStreamCall(r, ids[0])
	if err != nil {
		return err
	}
	s, err := a.opts.Streams.StartStream(r.Context(), c.SID, p)
	if err != nil {
		return streamFailure(r, c.SID, err)
	}
	writeJSON(w, http.StatusCreated, a.streamJSON(s))
	return nil
}

// updateStream serves POST Calls/{Sid}/Streams/{Sid or Name}.json with
// Status=stopped.
func (a *restAPI) updateStream(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if st := form.Get("Status"); st != "stopped" {
		return badRequest(codeUnsupportedParam, "Status must be stopped, not %q", st)
	}
	c, err := a.liveStreamCall(r, ids[0])
	if err != nil {
		return err
	}
	s, err := a.opts.Streams.StopStream(r.Context(), c.SID, ids[1])
	if err != nil {
		return streamFailure(r, c.SID, err)
	}
	writeJSON(w, http.StatusOK, a.streamJSON(s))
	return nil
}
