package twiml

import (
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time; it is time.Duration, named here so the
// verb structs read clearly.
type Duration = time.Duration

// ssmlElements are the SSML elements allowed in <Say> (and in each other).
var ssmlElements = []string{"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w",
	"amazon:effect", "amazon:domain"}

// Pause lengths for <break strength>, and the cap on any one break (the
// Polly limit).
var breakStrengths = map[string]time.Duration{
	"none":     0,
	"x-weak":   100 * time.Millisecond,
	"weak":     250 * time.Millisecond,
	"medium":   500 * time.Millisecond,
	"strong":   750 * time.Millisecond,
	"x-strong": time.Second,
}

const maxBreak = 10 * time.Second

// ssmlWalker flattens the content of <Say> into text segments split at breaks.
type ssmlWalker struct {
	c        *converter
	cur      strings.Builder
	segments []SaySegment
	sawSSML  bool
}

func (w *ssmlWalker) walk(n *node) {
	for _, k := range n.kids {
		if k.isText() {
			w.cur.WriteString(k.text)
			continue
		}
		if !contains(ssmlElements, k.name) {
			w.c.misplaced(k, "Say", CodeSchema)
			continue
		}
		w.sawSSML = true
		switch k.name {
		case "break":
			w.pause(w.breakLength(k))
			if k.hasElements() {
				w.c.misplaced(firstElement(k), "break", CodeSchema)
			}
		case "sub":
			if alias, ok := k.get("alias"); ok && strings.TrimSpace(alias) != "" {
				w.cur.WriteString(" " + alias + " ")
				continue
			}
			w.walk(k)
		case "p", "s":
			w.cur.WriteByte(' ')
			w.walk(k)
			w.cur.WriteByte(' ')
		default:
			w.walk(k)
		}
	}
}

func firstElement(n *node) *node {
	for _, k := range n.kids {
		if !k.isText() {
			return k
		}
	}
	return n
}

// breakLength returns the pause of a <break>: time ("2s", "500ms") wins
// over strength; neither means medium.
func (w *ssmlWalker) breakLength(n *node) time.Duration {
	if t, ok := n.get("time"); ok {
		if d, ok := parseBreakTime(t); ok {
			return min(d, maxBreak)
		}
		w.c.warnf(n, "Say", CodeSchema, "Schema validation warning: invalid <break> time %q (use e.g. 2s or 500ms); using a medium pause", t)
		return breakStrengths["medium"]
	}
	if s, ok := n.get("strength"); ok {
		if d, ok := breakStrengths[strings.ToLower(strings.TrimSpace(s))]; ok {
			return d
		}
		w.c.warnf(n, "Say", CodeSchema, "Schema validation warning: invalid <break> strength %q; using medium", s)
	}
	return breakStrengths["medium"]
}

func parseBreakTime(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	unit := time.Second
	switch {
	case strings.HasSuffix(s, "ms"):
		s, unit = s[:len(s)-2], time.Millisecond
	case strings.HasSuffix(s, "s"):
		s = s[:len(s)-1]
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 1e6 || f != f {
		return 0, false
	}
	return time.Duration(f * float64(unit)), true
}

// pause ends the current segment with a silence of d.
func (w *ssmlWalker) pause(d time.Duration) {
	text := collapseSpace(w.cur.String())
	w.cur.Reset()
	if text == "" && len(w.segments) > 0 {
		last := &w.segments[len(w.segments)-1]
		last.Pause = min(last.Pause+d, maxBreak)
		return
	}
	w.segments = append(w.segments, SaySegment{Text: text, Pause: d})
}

// finish returns the segments, including trailing text.
func (w *ssmlWalker) finish() []SaySegment {
	if text := collapseSpace(w.cur.String()); text != "" {
		w.segments = append(w.segments, SaySegment{Text: text})
	}
	w.cur.Reset()
	return w.segments
}

// collapseSpace trims s and replaces each whitespace run by one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// writeSSMLContent serialises the children of n as XML.
func writeSSMLContent(b *strings.Builder, n *node) {
	for _, k := range n.kids {
		if k.isText() {
			escapeXML(b, k.text, false)
			continue
		}
		if !contains(ssmlElements, k.name) {
			continue // already reported as an error
		}
		b.WriteByte('<')
		b.WriteString(k.name)
		for _, a := range k.attrs {
			b.WriteByte(' ')
			b.WriteString(a.name)
			b.WriteString(`="`)
			escapeXML(b, a.value, true)
			b.WriteByte('"')
		}
		if len(k.kids) == 0 {
			b.WriteString("/>")
			continue
		}
		b.WriteByte('>')
		writeSSMLContent(b, k)
		b.WriteString("</")
		b.WriteString(k.name)
		b.WriteByte('>')
	}
}

func escapeXML(b *strings.Builder, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case (r == '\n' || r == '\t' || r == '\r') && attr:
			b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		default:
			b.WriteRune(r)
		}
	}
}
