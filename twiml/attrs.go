package twiml

import (
	"strconv"
	"strings"
)

// elem reads the attributes of one element, warning about bad values and
// falling back to defaults. Problems name the element (verb) and use label
// as the message prefix, Twilio style ("Gather", "Dial->Number").
type elem struct {
	c     *converter
	n     *node
	label string
}

func (c *converter) elem(n *node) elem {
	return elem{c: c, n: n, label: n.name}
}

func (e elem) warn(code int, format string, args ...any) {
	e.c.warnf(e.n, e.n.name, code, e.label+": "+format, args...)
}

// done warns about every attribute that was not read.
func (e elem) done() { e.c.unknownAttrs(e.n, e.n.name) }

// raw returns the untrimmed value and whether the attribute is present.
func (e elem) raw(name string) (string, bool) { return e.n.get(name) }

// str returns the trimmed value, or def when the attribute is absent or blank.
func (e elem) str(name, def string) string {
	v, ok := e.n.get(name)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return def
	}
	return v
}

// method reads a GET/POST attribute (case-insensitive); default POST.
func (e elem) method(name string, code int) string {
	return e.methodOr(name, "POST", code)
}

func (e elem) methodOr(name, def string, code int) string {
	v, ok := e.n.get(name)
	if !ok {
		return def
	}
	switch t := strings.TrimSpace(v); {
	case strings.EqualFold(t, "GET"):
		return "GET"
	case strings.EqualFold(t, "POST"):
		return "POST"
	}
	e.warn(code, "Invalid %s value %q (must be GET or POST); using %s", name, v, def)
	return def
}

// boolean reads true/false (case-insensitive).
func (e elem) boolean(name string, def bool, code int) bool {
	v, ok := e.n.get(name)
	if !ok {
		return def
	}
	switch t := strings.TrimSpace(v); {
	case strings.EqualFold(t, "true"):
		return true
	case strings.EqualFold(t, "false"):
		return false
	}
	e.warn(code, "Invalid %s value %q (must be true or false); using %t", name, v, def)
	return def
}

// integer reads a whole number in [min, max]; anything else warns and
// yields def.
func (e elem) integer(name string, def, lo, hi, code int) int {
	n, ok := e.parseInt(name, def, code)
	if !ok {
		return def
	}
	if n < lo || n > hi {
		e.warn(code, "Invalid %s value %d (must be %s); using %d", name, n, rangeText(lo, hi), def)
		return def
	}
	return n
}

// clamped reads a whole number; values outside [min, max] warn and are
// clamped, malformed values warn and yield def.
func (e elem) clamped(name string, def, lo, hi, code int) int {
	n, ok := e.parseInt(name, def, code)
	if !ok {
		return def
	}
	if n < lo || n > hi {
		c := n
		if c < lo {
			c = lo
		} else if c > hi {
			c = hi
		}
		e.warn(code, "Invalid %s value %d (must be %s); using %d", name, n, rangeText(lo, hi), c)
		return c
	}
	return n
}

func (e elem) parseInt(name string, def, code int) (int, bool) {
	v, present := e.n.get(name)
	if !present {
		return def, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		e.warn(code, "Invalid %s value %q (must be a whole number); using %d", name, v, def)
		return def, false
	}
	return n, true
}

func rangeText(lo, hi int) string {
	if hi == maxInt {
		return ">= " + strconv.Itoa(lo)
	}
	return strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
}

// maxInt is the "no upper bound" for integer and clamped.
const maxInt = int(^uint(0) >> 1)

// enum reads one of allowed (case-insensitive) and returns its canonical
// spelling; anything else warns and yields def.
func (e elem) enum(name, def string, code int, allowed ...string) string {
	v, ok := e.n.get(name)
	if !ok {
		return def
	}
	t := strings.TrimSpace(v)
	for _, a := range allowed {
		if strings.EqualFold(t, a) {
			return a
		}
	}
	e.warn(code, "Invalid %s value %q (must be one of %s); using %q", name, v, strings.Join(allowed, ", "), def)
	return def
}

// list reads a space- or comma-separated list of allowed values
// (case-insensitive, canonical spelling, duplicates dropped). Unknown items
// warn and are dropped; an absent attribute, or one with no valid item,
// yields def.
func (e elem) list(name string, def []string, code int, allowed ...string) []string {
	v, ok := e.n.get(name)
	if !ok {
		return def
	}
	var out, bad []string
	for _, item := range splitList(v) {
		found := ""
		for _, a := range allowed {
			if strings.EqualFold(item, a) {
				found = a
				break
			}
		}
		switch {
		case found == "":
			bad = append(bad, item)
		case !contains(out, found):
			out = append(out, found)
		}
	}
	if len(bad) > 0 || len(out) == 0 {
		e.warn(code, "Invalid %s value %q (allowed: %s)", name, v, strings.Join(allowed, " "))
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// splitList splits on spaces and commas, dropping empty items.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// integerValue parses an already-read value as a whole number >= lo;
// anything else warns and yields def.
func (e elem) integerValue(name, v string, def, lo, code int) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo {
		e.warn(code, "Invalid %s value %q (must be a whole number >= %d); using %d", name, v, lo, def)
		return def
	}
	return n
}
