package twiml

import "fmt"

// Severity says whether a problem stops the document from running.
type Severity int

// The two severities. A document with any SeverityError problem must not run.
const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Problem is one finding of [Check]: an error or a warning, with the Twilio
// error code, the 1-based source line (0 when it concerns the whole body),
// the element it concerns (without angle brackets; "" for document-level
// problems) and a human-readable message that starts with Twilio's name for
// the code.
type Problem struct {
	Severity Severity
	Code     int
	Line     int
	Verb     string
	Message  string
}

// String formats the problem like "line 3: <Gather>: warning 13313 Gather: Invalid timeout value ...".
func (p Problem) String() string {
	return p.Severity.String() + " " + formatProblem(p.Code, p.Line, p.Verb, p.Message)
}

// Error is the error returned by [Parse] and [Response.Allowed]: the document
// must not run, and the engine takes the application-error path with Code.
type Error struct {
	Code    int
	Line    int
	Verb    string
	Message string
}

// TwilioCode returns Code: Twilio's error code for the problem.
func (e *Error) TwilioCode() int { return e.Code }

// Error formats the error like "line 3: <Gather>: 13320 Gather: Invalid nested verb <Dial>".
func (e *Error) Error() string {
	return formatProblem(e.Code, e.Line, e.Verb, e.Message)
}

// Warning is a problem Twilio only warns about; the document still runs,
// with the attribute's default in place of the bad value.
type Warning struct {
	Code    int
	Line    int
	Verb    string
	Message string
}

// String formats the warning like [Error.Error] does.
func (w Warning) String() string {
	return formatProblem(w.Code, w.Line, w.Verb, w.Message)
}

func formatProblem(code, line int, verb, msg string) string {
	s := ""
	if line > 0 {
		s = fmt.Sprintf("line %d: ", line)
	}
	if verb != "" {
		s += "<" + verb + ">: "
	}
	return s + fmt.Sprintf("%d %s", code, msg)
}

func (p Problem) asError() *Error {
	return &Error{Code: p.Code, Line: p.Line, Verb: p.Verb, Message: p.Message}
}

func (p Problem) asWarning() Warning {
	return Warning{Code: p.Code, Line: p.Line, Verb: p.Verb, Message: p.Message}
}
