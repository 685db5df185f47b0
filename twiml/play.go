package twiml

import "strings"

// Play plays an audio file, or sends DTMF tones when Digits is set.
type Play struct {
	Pos
	// URL is the media URL (the element text, trimmed), absolute or relative
	// to the document URL. "" when Digits is set.
	URL string
	// Loop is how many times to play: default 1; loop="0" (until hangup)
	// and anything larger than MaxLoop become MaxLoop.
	Loop int
	// Digits are DTMF keys to send instead of playing a file: 0-9 A-D * #,
	// plus w (0.5 s pause) and W (1 s pause). a-d are upper-cased; other
	// characters are dropped with a warning.
	Digits string
}

// Name returns "Play".
func (*Play) Name() string { return "Play" }

// Pause stays silent.
type Pause struct {
	Pos
	// Length is the silence in seconds: a whole number > 0, default 1.
	Length int
}

// Name returns "Pause".
func (*Pause) Name() string { return "Pause" }

// play converts <Play>. parent is "Gather" or "Prompt" when nested, else "".
func (c *converter) play(n *node, parent string) *Play {
	e := c.elem(n)
	p := &Play{Pos: Pos{LineNo: n.line}, Loop: e.loop(CodePlayLoop)}
	digits, hasDigits := e.raw("digits")
	e.done()
	for _, k := range n.kids {
		if !k.isText() {
			c.misplaced(k, "Play", CodeSchema)
		}
	}
	p.URL = n.textContent()
	if hasDigits {
		if parent == "Gather" {
			c.errorf(n, "Gather", CodeGatherNested, "Gather: Invalid nested verb <Play digits> (DTMF cannot be sent inside <Gather>)")
		}
		p.Digits = c.dtmf(n, "Play", "Play", CodeSchema, digits)
		if p.URL != "" {
			c.warnf(n, "Play", CodeSchema, "Schema validation warning: <Play> has both digits and a URL; the URL is ignored")
			p.URL = ""
		}
		if p.Digits == "" {
			c.warnf(n, "Play", CodeSchema, "Schema validation warning: <Play digits> has no valid digits and will be skipped")
		}
		return p
	}
	if p.URL == "" {
		c.warnf(n, "Play", CodeSchema, "Schema validation warning: <Play> has no media URL and will be skipped")
	}
	return p
}

// dtmf validates a DTMF string (Play digits, Number sendDigits): keeps
// 0-9 A-D * # w W, upper-cases a-d, drops anything else with a warning.
func (c *converter) dtmf(n *node, verb, label string, code int, s string) string {
	var b strings.Builder
	var bad []rune
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'D', r == '*', r == '#', r == 'w', r == 'W':
			b.WriteRune(r)
		case r >= 'a' && r <= 'd':
			b.WriteRune(r - 'a' + 'A')
		default:
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		c.warnf(n, verb, code, "%s: Invalid digits %q: characters %q dropped (allowed: 0-9 A-D * # w W)", label, s, string(bad))
	}
	return b.String()
}

// pause converts <Pause>.
func (c *converter) pause(n *node) *Pause {
	e := c.elem(n)
	p := &Pause{Length: e.integer("length", 1, 1, maxInt, CodePauseLength)}
	p.Pos = c.simple(n, "Pause", false)
	return p
}
