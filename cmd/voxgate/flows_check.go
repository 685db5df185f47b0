package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/studio"
)

// callPathMissing describes why a flow cannot take a call: its trigger
// has no incomingCall transition that leads to a widget ("" when it has
// one). A call to a number running such a flow is hung up at once.
func callPathMissing(f *studio.Flow) string {
	trigger := f.State(f.InitialState)
	if trigger == nil || trigger.Type != "trigger" {
		return "" // Validate reports that as an error already
	}
	for _, t := range trigger.Transitions {
		if t.Event == "incomingCall" {
			if t.Next == "" {
				return fmt.Sprintf("state %q (trigger): transition \"incomingCall\" leads nowhere", trigger.Name)
			}
			return ""
		}
	}
	return fmt.Sprintf("state %q (trigger): no \"incomingCall\" transition", trigger.Name)
}

// callPathWarning is callPathMissing for the flow file at path ("" when
// the flow takes calls or cannot be read: other checks report that).
func callPathWarning(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	f, err := studio.Parse(data)
	if err != nil {
		return ""
	}
	return callPathMissing(f)
}

// numbersWithFlows lists the config's numbers (and "default_app") whose
// app is a flow, with the flow file.
func numbersWithFlows(cfg config.Config) [][2]string {
	var out [][2]string
	for _, n := range cfg.Numbers {
		if n.Flow != "" {
			out = append(out, [2]string{"number " + n.Number, n.Flow})
		}
	}
	if cfg.DefaultApp.Flow != "" {
		out = append(out, [2]string{"default_app", cfg.DefaultApp.Flow})
	}
	return out
}

// warnCalllessFlows logs, at start-up, each number whose flow cannot take
// calls (the flow may be there for messages; calls to it end at once).
func warnCalllessFlows(cfg config.Config, log *slog.Logger) {
	for _, nf := range numbersWithFlows(cfg) {
		if w := callPathWarning(nf[1]); w != "" {
			log.Warn("flow: calls to this number will be hung up at once: the flow has no incomingCall path",
				"number", nf[0], "flow", nf[1], "problem", w)
		}
	}
}

// validateConfigFlows is `voxgate flow validate --config FILE`: every flow
// the config attaches to a number is validated, and one that gives calls
// nowhere to go is an error naming the number.
func validateConfigFlows(cfgPath string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		fmt.Fprintln(stderr, "voxgate:", err)
		return 1
	}
	status := 0
	seen := map[string]bool{}
	for _, nf := range numbersWithFlows(cfg) {
		if !seen[nf[1]] {
			seen[nf[1]] = true
			if validateFlows([]string{nf[1]}, stdout, stderr) != 0 {
				status = 1
			}
		}
		if w := callPathWarning(nf[1]); w != "" {
			fmt.Fprintf(stdout, "%s: error: %s runs this flow, but %s: its calls would be hung up at once\n", nf[1], nf[0], w)
			status = 1
		}
	}
	if len(seen) == 0 {
		fmt.Fprintf(stdout, "%s: no number runs a flow\n", cfgPath)
	}
	return status
}
