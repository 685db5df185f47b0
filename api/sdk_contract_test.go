package api

import (
	"errors"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/voxgate/voxgate/sid"
)

// Through twilio-go: a To that is no number, SIP URI or client is refused
// with 21211 before any call is made; a deleted recording is 404 (20404)
// unless IncludeSoftDeleted asks for its metadata.
func TestTwilioGoContract(t *testing.T) {
	e := newEnv(t)
	rc := e.sdkClient(testToken)
	_, err := rc.Api.CreateCall(new(openapi.CreateCallParams).SetTo("bob").SetFrom("+15551230001").
		SetTwiml(`<Response><Say>Hi</Say></Response>`))
	var restErr *client.TwilioRestError
	if !errors.As(err, &restErr) || restErr.Code != 21211 || restErr.Status != 400 {
		t.Errorf("CreateCall To=bob: %v, want 400 21211", err)
	}
	if calls, err := rc.Api.ListCall(&openapi.ListCallParams{}); err != nil || len(calls) != 0 {
		t.Errorf("calls after the refused create: %d, %v", len(calls), err)
	}

	rec := e.putRecording(sid.New(sid.Call), time.Now())
	if err := rc.Api.DeleteRecording(rec.SID, &openapi.DeleteRecordingParams{}); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	_, err = rc.Api.FetchRecording(rec.SID, &openapi.FetchRecordingParams{})
	if !errors.As(err, &restErr) || restErr.Code != 20404 || restErr.Status != 404 {
		t.Errorf("FetchRecording of a deleted recording: %v, want 404 20404", err)
	}
	soft, err := rc.Api.FetchRecording(rec.SID, new(openapi.FetchRecordingParams).SetIncludeSoftDeleted(true))
	if err != nil || deref(soft.Status) != "deleted" {
		t.Errorf("FetchRecording IncludeSoftDeleted: %v %+v", err, soft)
	}
}
