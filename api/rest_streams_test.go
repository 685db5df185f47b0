package api

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store"
)

// fakeStreams records the streams started and stopped.
type fakeStreams struct {
	mu      sync.Mutex
	started []StreamParams
	streams map[string]StreamInfo // by SID
}

func (f *fakeStreams) StartStream(ctx context.Context, callSID string, p StreamParams) (StreamInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.URL == "wss://unreachable.test/" {
		return StreamInfo{}, &StreamError{Code: 31920, Message: "Stream - WebSocket - Handshake Error"}
	}
	f.started = append(f.started, p)
	s := StreamInfo{SID: "MZ0123456789abcdef0123456789abcdef", CallSID: callSID, Name: p.Name, Status: "in-progress", Updated: time.Unix(1700000000, 0)}
	if f.streams == nil {
		f.streams = map[string]StreamInfo{}
	}
	f.streams[s.SID] = s
	return s, nil
}

func (f *fakeStreams) StopStream(ctx context.Context, callSID, sidOrName string) (StreamInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for sid, s := range f.streams {
		if sid == sidOrName || s.Name == sidOrName {
			if s.Name == "bot" {
				return StreamInfo{}, &StreamError{Message: "a <Connect> stream cannot be stopped through the API"}
			}
			s.Status = "stopped"
			delete(f.streams, sid)
			return s, nil
		}
	}
	return StreamInfo{}, ErrNoStream
}

func TestStreamsCreateAndStop(t *testing.T) {
	fs := &fakeStreams{}
	e := newEnv(t, func(o *Options) { o.Streams = fs })
	c := e.putCall(store.Call{})
	form := url.Values{"Url": {"wss://app.test/media"}, "Name": {"fork1"}, "Track": {"both_tracks"},
		"StatusCallback": {"https://app.test/status"}, "StatusCallbackMethod": {"GET"},
		"Parameter1.Name": {"a"}, "Parameter1.Value": {"1"}, "Parameter2.Name": {"b"}, "Parameter2.Value": {"2"}}
	var got streamJSON
	decode(t, e.do(http.MethodPost, "Calls/"+c.SID+"/Streams.json", form), http.StatusCreated, &got)
	if got.SID != "MZ0123456789abcdef0123456789abcdef" || got.CallSID != c.SID || got.AccountSID != testAccount ||
		got.Name == nil || *got.Name != "fork1" || got.Status != "in-progress" || got.DateUpdated == nil ||
		got.URI != base+"/Calls/"+c.SID+"/Streams/"+got.SID+".json" {
		t.Errorf("created %+v", got)
	}
	p := fs.started[0]
	if p.Track != "both_tracks" || p.StatusCallbackMethod != "GET" || len(p.Parameters) != 2 || p.Parameters[1] != (StreamParameter{"b", "2"}) {
		t.Errorf("params %+v", p)
	}
	decode(t, e.do(http.MethodPost, "Calls/"+c.SID+"/Streams/fork1.json", url.Values{"Status": {"stopped"}}), http.StatusOK, &got)
	if got.Status != "stopped" {
		t.Errorf("stopped %+v", got)
	}
	expectError(t, e.do(http.MethodPost, "Calls/"+c.SID+"/Streams/fork1.json", url.Values{"Status": {"stopped"}}), http.StatusNotFound, 20404)
}

func TestStreamsErrors(t *testing.T) {
	fs := &fakeStreams{}
	e := newEnv(t, func(o *Options) { o.Streams = fs })
	live := e.putCall(store.Call{})
	ended := e.putCall(store.Call{Status: store.CallCompleted})
	path := "Calls/" + live.SID + "/Streams.json"
	expectError(t, e.do(http.MethodPost, path, url.Values{}), http.StatusBadRequest, codeUnsupportedParam)
	expectError(t, e.do(http.MethodPost, path, url.Values{"Url": {"ftp://x.test/"}}), http.StatusBadRequest, 31922)
	expectError(t, e.do(http.MethodPost, path, url.Values{"Url": {"wss://x.test/"}, "Track": {"left"}}), http.StatusBadRequest, 31941)
	expectError(t, e.do(http.MethodPost, path, url.Values{"Url": {"wss://unreachable.test/"}}), http.StatusBadRequest, 31920)
	expectError(t, e.do(http.MethodPost, "Calls/"+ended.SID+"/Streams.json", url.Values{"Url": {"wss://x.test/"}}), http.StatusBadRequest, codeNotInProgress)
	expectError(t, e.do(http.MethodPost, "Calls/CA00000000000000000000000000000000/Streams.json", url.Values{"Url": {"wss://x.test/"}}), http.StatusNotFound, 20404)
	expectError(t, e.do(http.MethodPost, "Calls/"+live.SID+"/Streams/x.json", url.Values{"Status": {"paused"}}), http.StatusBadRequest, codeUnsupportedParam)
	decode(t, e.do(http.MethodPost, path, url.Values{"Url": {"wss://x.test/"}, "Name": {"bot"}}), http.StatusCreated, nil)
	expectError(t, e.do(http.MethodPost, "Calls/"+live.SID+"/Streams/bot.json", url.Values{"Status": {"stopped"}}), http.StatusBadRequest, codeUnsupportedParam)

	none := newEnv(t)
	c := none.putCall(store.Call{})
	expectError(t, none.do(http.MethodPost, "Calls/"+c.SID+"/Streams.json", url.Values{"Url": {"wss://x.test/"}}), http.StatusNotImplemented, 20503)
}
