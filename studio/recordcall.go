package studio

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CallRecorder starts and stops the recording of a live call for the
// record-call widget (Twilio's "start/stop recording" REST requests on
// the execution's call). The gateway implements it with its call engine.
type CallRecorder interface {
	// StartCallRecording starts recording the call and returns the
	// recording (status in-progress).
	StartCallRecording(ctx context.Context, callSid string, o RecordingOptions) (CallRecordingInfo, error)
	// StopCallRecording stops the call's current recording and returns it
	// (status stopped).
	StopCallRecording(ctx context.Context, callSid string) (CallRecordingInfo, error)
}

// RecordingOptions are a record-call widget's settings.
type RecordingOptions struct {
	Channels             int  // 1 (mono) or 2 (dual)
	Trim                 bool // trim-silence
	StatusCallback       string
	StatusCallbackMethod string   // GET or POST
	StatusCallbackEvents []string // in-progress, completed, absent (default completed)
}

// CallRecordingInfo is a recording as the record-call widget stores it
// under widgets.<name> (Twilio's Recording resource).
type CallRecordingInfo struct {
	AccountSid string
	Sid        string
	CallSid    string
	Status     string // in-progress, stopped, …
	Source     string // StartCallRecordingAPI
	Channels   int
	StartTime  time.Time
	Duration   time.Duration // once stopped
	Uri        string        // the REST resource, …/Recordings/RE….json
}

// recordCall runs record-call: record_call true starts recording the
// execution's call, false stops its current recording. It answers
// success, or failed when there is no live call, no recorder, or the
// recorder refuses.
func (r *runner) recordCall(st *State) (outcome, error) {
	b := r.bindings()
	_, cx := r.top()
	start := r.boolProp(st, "record_call", true, b)
	fail := func(why string, args ...any) (outcome, error) {
		msg := fmt.Sprintf(why, args...)
		r.log.Warn("studio: record-call failed", "widget", st.Name, "record_call", start, "reason", msg)
		setWidget(cx, st.Name, map[string]any{"ErrorMessage": msg})
		return finished(st, "failed"), nil
	}
	switch {
	case r.x.opts.Recordings == nil:
		return fail("this gateway has no call recorder configured")
	case r.ex.CallSid == "":
		return fail("the execution has no call")
	case r.hungUp:
		return fail("the call has ended")
	}
	var (
		rec CallRecordingInfo
		err error
	)
	if start {
		o := RecordingOptions{Channels: 1, StatusCallbackMethod: "POST"}
		switch ch := strings.TrimSpace(r.text(st, "recording_channels", b)); ch {
		case "", "mono":
		case "dual":
			o.Channels = 2
		default:
			return fail("recording_channels %q is not mono or dual", ch)
		}
		switch t := strings.TrimSpace(r.text(st, "trim", b)); t {
		case "", "do-not-trim", "false":
		case "trim-silence", "true":
			o.Trim = true
		default:
			return fail("trim %q is not trim-silence or do-not-trim", t)
		}
		o.StatusCallback = strings.TrimSpace(r.text(st, "recording_status_callback", b))
		if m := strings.ToUpper(strings.TrimSpace(r.text(st, "recording_status_callback_method", b))); m == "GET" {
			o.StatusCallbackMethod = m
		}
		o.StatusCallbackEvents = strings.FieldsFunc(r.text(st, "recording_status_callback_events", b),
			func(c rune) bool { return c == ' ' || c == ',' })
		rec, err = r.x.opts.Recordings.StartCallRecording(r.ctx, r.ex.CallSid, o)
	} else {
		rec, err = r.x.opts.Recordings.StopCallRecording(r.ctx, r.ex.CallSid)
	}
	if err != nil {
		return fail("%v", err)
	}
	r.log.Info("studio: record-call", "widget", st.Name, "record_call", start, "recording_sid", rec.Sid, "status", rec.Status)
	setWidget(cx, st.Name, recordingVariables(rec))
	return finished(st, "success"), nil
}

// recordingVariables are a recording's fields as Studio stores them.
func recordingVariables(rec CallRecordingInfo) map[string]any {
	duration := "-1" // still recording
	if rec.Status != "in-progress" && rec.Status != "paused" {
		duration = strconv.Itoa(int(rec.Duration.Round(time.Second) / time.Second))
	}
	start := ""
	if !rec.StartTime.IsZero() {
		start = rec.StartTime.UTC().Format(time.RFC1123Z)
	}
	return map[string]any{
		"AccountSid": rec.AccountSid,
		"ApiVersion": "2010-04-01",
		"Sid":        rec.Sid,
		"CallSid":    rec.CallSid,
		"Status":     rec.Status,
		"Source":     rec.Source,
		"Channels":   json.Number(strconv.Itoa(rec.Channels)),
		"StartTime":  start,
		"Duration":   duration,
		"Uri":        rec.Uri,
	}
}
