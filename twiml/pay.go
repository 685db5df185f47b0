package twiml

// Pay collects a card or bank payment (PCI). Voxgate parses it so documents
// validate, but the engine does not run it (twiml-voice.md §2.15).
type Pay struct {
	Pos
	// Action is requested with the result; "" = current document URL.
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// Attrs are all attributes as written (input, timeout, chargeAmount, ...).
	Attrs []Parameter
	// Prompts are the <Prompt> children.
	Prompts []*Prompt
	// Parameters are <Parameter> children (connector options).
	Parameters []Parameter
}

// Name returns "Pay".
func (*Pay) Name() string { return "Pay" }

// Prompt customises one step of <Pay>.
type Prompt struct {
	Pos
	// For is the payment step ("payment-card-number", "expiration-date", ...).
	For string
	// Attrs are all attributes as written (errorType, cardType, attempt, ...).
	Attrs []Parameter
	// Children are *Say, *Play and *Pause.
	Children []Verb
}

// Name returns "Prompt".
func (*Prompt) Name() string { return "Prompt" }

var (
	payAttrs = []string{"action", "method", "input", "statusCallback", "statusCallbackMethod", "timeout", "maxAttempts",
		"securityCode", "postalCode", "minPostalCodeLength", "paymentConnector", "paymentMethod", "bankAccountType",
		"chargeAmount", "currency", "description", "language", "tokenType", "validCardTypes"}
	promptAttrs = []string{"for", "errorType", "cardType", "attempt", "requireMatchingInputs"}
)

func (c *converter) pay(n *node) *Pay {
	e := c.elem(n)
	p := &Pay{
		Pos:    Pos{LineNo: n.line},
		Action: e.str("action", ""),
		Method: e.method("method", CodeSchema),
		Attrs:  knownAttrValues(n, payAttrs),
	}
	e.done()
	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, "Pay")
		case k.name == "Prompt":
			p.Prompts = append(p.Prompts, c.prompt(k))
		case k.name == "Parameter":
			p.Parameters = append(p.Parameters, c.parameter(k))
		default:
			c.misplaced(k, "Pay", CodeSchema)
		}
	}
	return p
}

func (c *converter) prompt(n *node) *Prompt {
	p := &Prompt{Pos: Pos{LineNo: n.line}, Attrs: knownAttrValues(n, promptAttrs)}
	p.For, _ = p.attr("for")
	c.unknownAttrs(n, "Prompt")
	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, "Prompt")
		case k.name == "Say":
			p.Children = append(p.Children, c.say(k, "Prompt"))
		case k.name == "Play":
			p.Children = append(p.Children, c.play(k, "Prompt"))
		case k.name == "Pause":
			p.Children = append(p.Children, c.pause(k))
		default:
			c.misplaced(k, "Prompt", CodeSchema)
		}
	}
	return p
}

func (p *Prompt) attr(name string) (string, bool) {
	for _, a := range p.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// knownAttrValues reads the listed attributes (marking them understood) and
// returns those present, in document order.
func knownAttrValues(n *node, known []string) []Parameter {
	var out []Parameter
	for _, name := range known {
		n.get(name)
	}
	for i, a := range n.attrs {
		if n.used != nil && n.used[i] {
			out = append(out, Parameter{Name: a.name, Value: a.value})
		}
	}
	return out
}
