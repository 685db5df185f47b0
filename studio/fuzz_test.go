package studio

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts validates without
// panicking and survives a write/read round trip.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata", filepath.Join(fixturesDir, "flex-template"), filepath.Join(fixturesDir, "widgets")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"states": [{"name": "a", "type": "split-based-on", "transitions": [{"event": "match", "conditions": [{"type": "regex", "value": "("}]}], "properties": {"input": "{% if"}}]}`))
	f.Add([]byte(`{"states": [{"sid": "FF1", "type": "Gather", "name": "g", "transitions": [{"next": "FF1", "event": "timeout"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := Parse(data)
		if err != nil {
			return
		}
		Validate(fl)
		out, err := json.Marshal(fl)
		if err != nil {
			t.Fatalf("Marshal of a parsed flow: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-Parse of %s: %v", out, err)
		}
		if len(again.States) != len(fl.States) || again.InitialState != fl.InitialState {
			t.Fatalf("round trip changed the flow: %s", out)
		}
	})
}
