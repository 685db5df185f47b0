package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/studio"
)

// loadFlows reads every flow file the config names, validates it and
// returns the flows by file with their SIDs. A flow with errors stops the
// gateway, listing them.
func loadFlows(cfg config.Config, flows *studio.MemoryFlows) (map[string]string, error) {
	sids := map[string]string{}
	apps := []config.App{cfg.DefaultApp}
	for _, n := range cfg.Numbers {
		apps = append(apps, n.App)
	}
	if f := cfg.WebChat.Flow; !isFlowSID(f) {
		apps = append(apps, config.App{Flow: f}) // the Webchat Flow file
	}
	for _, a := range apps {
		if a.Flow == "" || sids[a.Flow] != "" {
			continue
		}
		problems, err := studio.ValidateFile(a.Flow)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", a.Flow, err)
		}
		if studio.HasErrors(problems) {
			var errs []error
			for _, p := range problems {
				errs = append(errs, fmt.Errorf("flow %s: %s", a.Flow, p))
			}
			return nil, errors.Join(errs...)
		}
		data, err := os.ReadFile(a.Flow)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", a.Flow, err)
		}
		f, err := studio.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", a.Flow, err)
		}
		// A stable SID per file, so executions and logs keep naming it.
		abs, _ := filepath.Abs(a.Flow)
		sum := sha256.Sum256([]byte(abs))
		flowSID := "FW" + hex.EncodeToString(sum[:16])
		flows.Put(flowSID, f)
		sids[a.Flow] = flowSID
	}
	return sids, nil
}

// validateFlows checks flow files for `voxgate flow validate`.
func validateFlows(files []string, stdout, stderr io.Writer) int {
	status := 0
	for _, file := range files {
		problems, err := studio.ValidateFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			status = 1
			continue
		}
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s: %s\n", file, p)
		}
		if w := callPathWarning(file); w != "" {
			fmt.Fprintf(stdout, "%s: warning: %s: a call to a number running this flow would be hung up at once\n", file, w)
		}
		if studio.HasErrors(problems) {
			status = 1
		} else {
			fmt.Fprintf(stdout, "%s: ok\n", file)
		}
	}
	return status
}

// chainedFlows finds a flow among the config's flow files first, then
// among the flows created through /v2/Flows.
type chainedFlows struct {
	mem *studio.MemoryFlows
	sql *studio.SQLFlows
}

// Flow implements studio.FlowSource.
func (c chainedFlows) Flow(ctx context.Context, sid string) (*studio.Flow, error) {
	if f, err := c.mem.Flow(ctx, sid); err == nil {
		return f, nil
	}
	return c.sql.Flow(ctx, sid)
}

// FlowRevision implements studio.RevisionSource.
func (c chainedFlows) FlowRevision(ctx context.Context, sid string, rev int) (*studio.Flow, error) {
	if f, err := c.mem.FlowRevision(ctx, sid, rev); err == nil {
		return f, nil
	}
	return c.sql.FlowRevision(ctx, sid, rev)
}

// FlowForContact implements studio.ContactFlowSource: flows from config
// files have no test users.
func (c chainedFlows) FlowForContact(ctx context.Context, sid, contact string) (*studio.Flow, error) {
	if f, err := c.mem.Flow(ctx, sid); err == nil {
		return f, nil
	}
	return c.sql.FlowForContact(ctx, sid, contact)
}

// flowCalls places the calls of make-outgoing-call widgets and redirects
// calls back into flows (studio.CallControl) with the REST API's call
// machinery.
type flowCalls struct{ c *callControl }

// PlaceCall implements studio.CallControl: an outbound-api call with the
// SID the executor chose, whose answer URL and status callback are the
// flow's.
func (f *flowCalls) PlaceCall(ctx context.Context, oc studio.OutgoingCall) error {
	p := api.CreateCallParams{
		To: oc.To, From: oc.From, URL: oc.URL, Method: "POST",
		StatusCallback: oc.StatusCallback, StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"completed"},
		Timeout: oc.Timeout, SendDigits: oc.SendDigits,
	}
	if r := oc.Record; r != nil {
		p.Record = true
		p.Recording = api.RecordingParams{Channels: r.Channels, Trim: r.Trim,
			StatusCallback: r.StatusCallback, StatusCallbackMethod: r.StatusCallbackMethod, StatusCallbackEvents: r.StatusCallbackEvents}
	}
	_, err := f.c.create(ctx, oc.CallSid, p, false)
	return err
}

// RedirectCall implements studio.CallControl with the engine's live
// redirect (as the REST API's Calls update with Twiml).
func (f *flowCalls) RedirectCall(ctx context.Context, callSID string, doc []byte) error {
	return f.c.engine.RedirectTwiML(callSID, string(doc))
}

// flowRecorder runs the record-call widgets of flows with the call engine.
type flowRecorder struct {
	engine     *ivr.Engine
	accountSID string
}

// StartCallRecording implements studio.CallRecorder.
func (f *flowRecorder) StartCallRecording(ctx context.Context, callSID string, o studio.RecordingOptions) (studio.CallRecordingInfo, error) {
	// A flow may record before its first TwiML answers the call: OnAnswer.
	rec, err := f.engine.StartCallRecording(callSID, recording.Options{
		Channels: o.Channels, Trim: o.Trim, Source: recording.SourceStartCallRecordingAPI, OnAnswer: true,
		StatusCallback: o.StatusCallback, StatusCallbackMethod: o.StatusCallbackMethod, StatusCallbackEvents: o.StatusCallbackEvents,
	})
	if err != nil {
		return studio.CallRecordingInfo{}, fmt.Errorf("start recording call %s: %w", callSID, err)
	}
	return f.info(rec), nil
}

// StopCallRecording implements studio.CallRecorder.
func (f *flowRecorder) StopCallRecording(ctx context.Context, callSID string) (studio.CallRecordingInfo, error) {
	rec, err := f.engine.UpdateCallRecording(callSID, recording.Current, recording.StatusStopped, false)
	if err != nil {
		return studio.CallRecordingInfo{}, fmt.Errorf("stop recording call %s: %w", callSID, err)
	}
	return f.info(rec), nil
}

func (f *flowRecorder) info(r recording.State) studio.CallRecordingInfo {
	return studio.CallRecordingInfo{
		AccountSid: f.accountSID, Sid: r.SID, CallSid: r.CallSID, Status: r.Status, Source: r.Source,
		Channels: r.Channels, StartTime: r.StartTime, Duration: r.Duration,
		Uri: "/2010-04-01/Accounts/" + f.accountSID + "/Calls/" + r.CallSID + "/Recordings/" + r.SID + ".json",
	}
}
