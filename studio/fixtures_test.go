package studio

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixturesDir holds the shared Studio fixtures (../shared/fixtures/studio
// from the repository root).
const fixturesDir = "../../shared/fixtures/studio"

// fixtureOutcome is what loading a fixture must give.
type fixtureOutcome struct {
	// widget: the file is one state, wrapped into a minimal flow.
	widget bool
	// rejected: Parse fails with an error containing this text.
	rejected string
	// warnings: Validate gives no errors and exactly one warning
	// containing each of these texts.
	warnings []string
}

const (
	notSupported = "not supported by this gateway"
	messaging    = "messaging-only widget: not run on voice calls"
)

var fixtureTable = map[string]fixtureOutcome{
	"flex-template/LICENSE":                                {rejected: "invalid JSON at line 1"},
	"flex-template/template_example_assign_to_anyone.json": {rejected: "TaskRouter workflow configuration"},
	"flex-template/template_example_callback.json":         {rejected: "TaskRouter workflow configuration"},
	"flex-template/template_example_callback_flow.json":    {},
	"flex-template/template_example_schedule_flow.json":    {},

	"widgets/LICENSE":                                  {rejected: "invalid JSON at line 1"},
	"widgets/flowTrigger.json":                         {},
	"widgets/addTwimlRedirect.json":                    {widget: true},
	"widgets/addTwimlRedirectComplete.json":            {widget: true},
	"widgets/capturePayments.json":                     {widget: true, warnings: []string{notSupported + ": payments"}},
	"widgets/capturePaymentsComplete.json":             {widget: true, warnings: []string{notSupported + ": payments"}},
	"widgets/connectCallToClient.json":                 {widget: true},
	"widgets/connectCallToConference.json":             {widget: true, warnings: []string{"connecting to a conference is not supported"}},
	"widgets/connectCallToNumber.json":                 {widget: true},
	"widgets/connectCallToNumberMulti.json":            {widget: true},
	"widgets/connectCallToSIM.json":                    {widget: true, warnings: []string{"connecting to a sim is not supported"}},
	"widgets/connectCallToSIP.json":                    {widget: true},
	"widgets/connectCallToSIPComplete.json":            {widget: true},
	"widgets/connectVirtualAgent.json":                 {widget: true, warnings: []string{notSupported + ": virtual agents"}},
	"widgets/connectVirtualAgentComplete.json":         {widget: true, warnings: []string{notSupported + ": virtual agents"}},
	"widgets/enqueueCallComplete.json":                 {widget: true},
	"widgets/enqueueCallQueue.json":                    {widget: true},
	"widgets/enqueueCallTaskRouter.json":               {widget: true},
	"widgets/forkStream.json":                          {widget: true},
	"widgets/forkStreamComplete.json":                  {widget: true, warnings: []string{"SIPREC streams are " + notSupported}},
	"widgets/forkStreamStop.json":                      {widget: true},
	"widgets/gatherInputOnCallPlayMessage.json":        {widget: true},
	"widgets/gatherInputOnCallSayMessage.json":         {widget: true},
	"widgets/gatherInputOnCallSayMessageComplete.json": {widget: true},
	"widgets/makeHTTPRequest.json":                     {widget: true},
	"widgets/makeHTTPRequestComplete.json":             {widget: true},
	"widgets/makeOutgoingCall.json":                    {widget: true},
	"widgets/makeOutgoingCallComplete.json":            {widget: true},
	"widgets/recordCall.json":                          {widget: true},
	"widgets/recordCallComplete.json":                  {widget: true},
	"widgets/recordVoicemail.json":                     {widget: true},
	"widgets/recordVoicemailComplete.json":             {widget: true},
	"widgets/runFunction.json":                         {widget: true},
	"widgets/runFunctionComplete.json":                 {widget: true},
	"widgets/runSubflow.json":                          {widget: true},
	"widgets/runSubflowComplete.json":                  {widget: true},
	"widgets/sayPlayComplete.json":                     {widget: true},
	"widgets/sayPlayDigits.json":                       {widget: true},
	"widgets/sayPlayPlayMessage.json":                  {widget: true},
	"widgets/sayPlaySayMessage.json":                   {widget: true},
	"widgets/sendAndWaitForReply.json":                 {widget: true, warnings: []string{messaging}},
	"widgets/sendAndWaitForReplyComplete.json":         {widget: true, warnings: []string{messaging}},
	"widgets/sendMessage.json":                         {widget: true, warnings: []string{messaging}},
	"widgets/sendMessageComplete.json":                 {widget: true, warnings: []string{messaging}},
	"widgets/sendToAutopilot.json":                     {widget: true, warnings: []string{messaging}},
	"widgets/sendToAutopilotComplete.json":             {widget: true, warnings: []string{messaging}},
	"widgets/sendToFlex.json":                          {widget: true},
	"widgets/sendToFlexComplete.json":                  {widget: true},
	"widgets/setVariables.json":                        {widget: true},
	"widgets/setVariablesComplete.json":                {widget: true},
	"widgets/splitBasedOn.json":                        {widget: true},
	"widgets/splitBasedOnComplete.json":                {widget: true},
	"widgets/trigger.json":                             {widget: true},
	"widgets/triggerComplete.json":                     {widget: true},
}

// fixtureFiles lists every file under the fixtures directory.
func fixtureFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(fixturesDir); err != nil {
		t.Skipf("fixtures not available: %v", err)
	}
	var files []string
	err := filepath.WalkDir(fixturesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(fixturesDir, path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// wrapWidget builds a minimal flow around one exported state: a trigger
// whose incomingCall leads to it (or the state itself when it is the
// trigger), and a say-play stub for every state its transitions name.
// With stubs false, dangling transitions are left as they are.
func wrapWidget(t *testing.T, data []byte, stubs bool) []byte {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	name, _ := w["name"].(string)
	states := []any{w}
	initial := name
	if w["type"] != "trigger" {
		initial = "Trigger"
		states = append([]any{map[string]any{
			"name": "Trigger", "type": "trigger", "properties": map[string]any{},
			"transitions": []any{map[string]any{"event": "incomingCall", "next": name}},
		}}, states...)
	}
	if stubs {
		seen := map[string]bool{}
		trs, _ := w["transitions"].([]any)
		for _, tr := range trs {
			next, _ := tr.(map[string]any)["next"].(string)
			if next != "" && !seen[next] {
				seen[next] = true
				states = append(states, map[string]any{"name": next, "type": "say-play",
					"properties": map[string]any{"say": "stub"}, "transitions": []any{map[string]any{"event": "audioComplete"}}})
			}
		}
	}
	out, err := json.Marshal(map[string]any{"description": "wrapped", "initial_state": initial, "states": states,
		"flags": map[string]any{"allow_concurrent_calls": true}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryFixtureLoadsOrIsRejected(t *testing.T) {
	files := fixtureFiles(t)
	inTable := map[string]bool{}
	for _, f := range files {
		inTable[f] = true
		if _, ok := fixtureTable[f]; !ok {
			t.Errorf("fixture %s has no expected outcome in fixtureTable", f)
		}
	}
	for name := range fixtureTable {
		if !inTable[name] {
			t.Errorf("fixtureTable lists %s, which is not in %s", name, fixturesDir)
		}
	}
	for _, name := range files {
		want, ok := fixtureTable[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixturesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if want.widget {
				data = wrapWidget(t, data, true)
			}
			f, err := Parse(data)
			if want.rejected != "" {
				if err == nil {
					t.Fatalf("Parse succeeded; want an error containing %q", want.rejected)
				}
				if !strings.Contains(err.Error(), want.rejected) {
					t.Fatalf("Parse error %q; want it to contain %q", err, want.rejected)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkProblems(t, Validate(f), want.warnings)
		})
	}
}

// checkProblems wants no errors and exactly one warning per text.
func checkProblems(t *testing.T, problems []Problem, warnings []string) {
	t.Helper()
	used := make([]bool, len(warnings))
	for _, p := range problems {
		if p.Severity == SeverityError {
			t.Errorf("unexpected error: %s", p)
			continue
		}
		found := false
		for i, w := range warnings {
			if !used[i] && strings.Contains(p.String(), w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("unexpected warning: %s", p)
		}
	}
	for i, w := range warnings {
		if !used[i] {
			t.Errorf("missing warning containing %q (got %v)", w, problems)
		}
	}
}

func TestCompleteWidgetsWithoutTargetsNameTheDanglingTransitions(t *testing.T) {
	fixtureFiles(t)
	data, err := os.ReadFile(filepath.Join(fixturesDir, "widgets/gatherInputOnCallSayMessageComplete.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(wrapWidget(t, data, false))
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, p := range Validate(f) {
		if p.Severity == SeverityError {
			errs = append(errs, p.String())
		}
	}
	want := []string{
		`state "GatherInputOnCall" (gather-input-on-call): transition "keypress": next "keypress" does not exist`,
		`state "GatherInputOnCall" (gather-input-on-call): transition "speech": next "speech" does not exist`,
		`state "GatherInputOnCall" (gather-input-on-call): transition "timeout": next "timeout" does not exist`,
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
}

// TestFlowFixturesRoundTrip: parsing and writing a whole flow gives the
// same JSON (offsets, string and number forms included).
func TestFlowFixturesRoundTrip(t *testing.T) {
	fixtureFiles(t)
	for _, name := range []string{"flex-template/template_example_callback_flow.json", "flex-template/template_example_schedule_flow.json", "widgets/flowTrigger.json"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixturesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(data, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("round trip changed the flow:\n in: %s\nout: %s", data, out)
			}
		})
	}
}
