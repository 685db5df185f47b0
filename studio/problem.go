package studio

import (
	"fmt"
	"strings"
)

// Severity says whether a problem stops a flow from running.
type Severity int

// Severities.
const (
	// SeverityError: the flow must not run (Studio's FlowValidate rejects it).
	SeverityError Severity = iota + 1
	// SeverityWarning: the flow runs, but something will not work as the
	// author may expect.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Problem is one finding of Validate.
type Problem struct {
	Severity Severity
	// State and Type name the widget concerned; both are "" for a problem
	// of the flow itself.
	State string
	Type  string
	// Property says what in the state (or flow) is wrong, e.g.
	// `property "timeout"`, `transition "keypress"`, `initial_state`.
	Property string
	Message  string
	// Path is the JSON pointer of the value, Twilio's property_path
	// (e.g. "#/states/3/properties/timeout").
	Path string
}

// String renders the problem as one line without its severity, e.g.
// `state "menu" (gather-input-on-call): transition "keypress": next "sales" does not exist`.
func (p Problem) String() string {
	var parts []string
	if p.State != "" || p.Type != "" {
		parts = append(parts, fmt.Sprintf("state %q (%s)", p.State, p.Type))
	}
	if p.Property != "" {
		parts = append(parts, p.Property)
	}
	parts = append(parts, p.Message)
	return strings.Join(parts, ": ")
}

// HasErrors reports whether problems holds an error (not only warnings).
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}
