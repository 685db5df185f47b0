package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/store"
)

// smsOnlyFlow's trigger has no incomingCall transition.
const smsOnlyFlow = `{"description": "sms", "initial_state": "Trigger", "flags": {},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingMessage", "next": "hi"}]},
    {"name": "hi", "type": "set-variables", "properties": {"variables": [{"key": "a", "value": "1"}]}, "transitions": [{"event": "next"}]}
  ]}`

const callFlow = `{"description": "call", "initial_state": "Trigger", "flags": {},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingCall", "next": "hi"}]},
    {"name": "hi", "type": "say-play", "properties": {"say": "Hello"}, "transitions": [{"event": "audioComplete"}]}
  ]}`

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flow validate warns about a flow calls cannot run; with --config, a
// number running such a flow is an error naming the number.
func TestFlowValidateCallPath(t *testing.T) {
	dir := t.TempDir()
	sms := writeFile(t, dir, "sms.json", smsOnlyFlow)
	call := writeFile(t, dir, "call.json", callFlow)
	var out, errOut bytes.Buffer
	if code := run([]string{"flow", "validate", sms, call}, &out, &errOut); code != 0 {
		t.Fatalf("flow validate: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), sms+`: warning: state "Trigger" (trigger): no "incomingCall" transition`) {
		t.Errorf("no warning for the flow without incomingCall:\n%s", out.String())
	}
	if strings.Contains(out.String(), call+": warning") {
		t.Errorf("a warning for the flow that takes calls:\n%s", out.String())
	}

	cfg := writeFile(t, dir, "voxgate.yaml", `account:
  sid: AC11111111111111111111111111111111
  auth_token: "22222222222222222222222222222222"
numbers:
  - number: "+15550001000"
    flow: `+call+`
  - number: "+15550002000"
    flow: `+sms+`
`)
	out.Reset()
	errOut.Reset()
	if code := run([]string{"flow", "validate", "--config", cfg}, &out, &errOut); code != 1 {
		t.Errorf("flow validate --config: exit %d, want 1\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "error: number +15550002000 runs this flow") || strings.Contains(out.String(), "+15550001000 runs") {
		t.Errorf("flow validate --config output:\n%s%s", out.String(), errOut.String())
	}
}

// /v2/Flows sees the config's flows beside the API's, read-only.
func TestConfigFlowStore(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	made, err := db.CreateFlow(ctx, store.FlowRevision{AccountSID: testAccount, FriendlyName: "api flow", Status: store.FlowPublished, Definition: []byte(callFlow), Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, t.TempDir(), "call.json", callFlow)
	const fileSID = "FW0123456789abcdef0123456789abcdef"
	s, err := newConfigFlowStore(db, testAccount, map[string]string{file: fileSID})
	if err != nil {
		t.Fatal(err)
	}
	list, next, err := s.ListFlows(ctx, testAccount, store.Page{})
	if err != nil || next != "" || len(list) != 2 || list[0].FlowSID != fileSID || list[1].FlowSID != made.FlowSID {
		t.Fatalf("ListFlows: %+v %q %v", list, next, err)
	}
	fr, err := s.GetFlow(ctx, fileSID)
	if err != nil || fr.Status != store.FlowPublished || fr.Revision != 1 || string(fr.Definition) != callFlow || fr.FriendlyName != "call.json" {
		t.Errorf("GetFlow: %+v %v", fr, err)
	}
	if _, err := s.LatestFlowRevision(ctx, fileSID, store.FlowPublished); err != nil {
		t.Errorf("LatestFlowRevision: %v", err)
	}
	if err := s.DeleteFlow(ctx, fileSID); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), file) {
		t.Errorf("DeleteFlow of a config flow: %v, want ErrInvalid naming the file", err)
	}
	if _, err := s.UpdateFlow(ctx, store.FlowRevision{FlowSID: fileSID}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("UpdateFlow of a config flow: %v", err)
	}
	if _, err := s.GetFlow(ctx, made.FlowSID); err != nil {
		t.Errorf("GetFlow of the API's flow: %v", err)
	}
}
