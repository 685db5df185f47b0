package twiml

// Refer transfers a SIP call with a SIP REFER (blind transfer).
type Refer struct {
	Pos
	// Action is requested when the transfer finishes; "" = none (the next
	// verb runs instead).
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// Target is the <Sip> child: the Refer-To URI. nil when missing
	// (reported as a warning; the engine reports ReferCallStatus=failed).
	Target *ReferSip
}

// Name returns "Refer".
func (*Refer) Name() string { return "Refer" }

// ReferSip is the <Sip> noun of <Refer>.
type ReferSip struct {
	Pos
	// URI is the Refer-To SIP URI (element text, trimmed).
	URI string
}

// Name returns "Sip".
func (*ReferSip) Name() string { return "Sip" }

func (c *converter) refer(n *node) *Refer {
	e := c.elem(n)
	r := &Refer{
		Pos:    Pos{LineNo: n.line},
		Action: e.str("action", ""),
		Method: e.method("method", CodeSchema),
	}
	e.done()
	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, "Refer")
		case k.name == "Sip":
			if r.Target != nil {
				c.errorf(k, "Refer", CodeSchema, "Schema validation warning: <Refer> takes exactly one <Sip>")
				continue
			}
			c.simple(k, "Sip", true)
			r.Target = &ReferSip{Pos: Pos{LineNo: k.line}, URI: k.textContent()}
			c.checkSipURI(k, "Sip", r.Target.URI)
		default:
			c.misplaced(k, "Refer", CodeSchema)
		}
	}
	if r.Target == nil {
		c.warnf(n, "Refer", CodeSchema, "Schema validation warning: <Refer> has no <Sip> target")
	}
	return r
}
