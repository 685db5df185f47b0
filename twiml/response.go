package twiml

// Response is a parsed TwiML document: the verbs of <Response> in order.
type Response struct {
	Verbs []Verb
}

// Verb is one instruction of a document. The concrete type is a pointer to
// one of the verb structs of this package (*Say, *Play, *Gather, ...).
type Verb interface {
	// Name returns the element name, e.g. "Gather".
	Name() string
	// Line returns the 1-based source line of the element's start tag.
	Line() int
}

// Noun is an element nested in a verb that is not itself a verb: the
// targets of <Dial> (*Number, *Client, *Sip, *Conference, *Queue,
// *Application, *Element for WhatsApp/Sim), the session of <Connect>, the
// features of <Start>/<Stop> (*Stream, *Element).
type Noun interface {
	Name() string
	Line() int
}

// Pos records where an element starts; it provides the Line method of
// [Verb] and [Noun].
type Pos struct {
	// LineNo is the 1-based line of the element's start tag.
	LineNo int
}

// Line returns the 1-based source line of the element.
func (p Pos) Line() int { return p.LineNo }

// Parameter is a <Parameter name="..." value="..."/> custom parameter.
type Parameter struct {
	Name  string
	Value string
}

// Parse parses a TwiML voice document. A non-nil error is an [*Error]: the
// document must not run, and the engine takes the application-error path
// with its Code. Warnings are problems Twilio only warns about (unknown
// attributes, invalid attribute values replaced by their defaults); they
// are returned with the error too. When the error is nil the Response holds
// at least an empty verb list.
func Parse(data []byte) (*Response, []Warning, error) {
	resp, problems := parse(data)
	var warnings []Warning
	var first *Problem
	for i := range problems {
		p := &problems[i]
		if p.Severity == SeverityWarning {
			warnings = append(warnings, p.asWarning())
		} else if first == nil {
			first = p
		}
	}
	if first != nil {
		return nil, warnings, first.asError()
	}
	return resp, warnings, nil
}

// Check returns every problem of a document, errors and warnings, in line
// order, without stopping at the first. A document is runnable when no
// problem has SeverityError. Well-formedness failures (11750, 12100) end
// the check, since nothing after them can be read reliably.
func Check(data []byte) []Problem {
	_, problems := parse(data)
	return problems
}

func parse(data []byte) (*Response, []Problem) {
	root, p := decodeTree(data)
	if p != nil {
		return nil, []Problem{*p}
	}
	c := &converter{}
	resp := c.response(root)
	return resp, c.sortedProblems()
}
