package twiml

import (
	"strings"
	"unicode/utf8"
)

// MaxLoop is what loop="0" ("repeat until hangup") means for <Say> and
// <Play>: Twilio stops after 1000 iterations. Larger explicit loops are
// capped to it too.
const MaxLoop = 1000

// Say speaks text with text-to-speech.
type Say struct {
	Pos
	// Text is the plain text to speak: SSML elements stripped (a <sub>
	// contributes its alias), whitespace runs collapsed, trimmed.
	Text string
	// Segments is Text split at SSML <break>s: speak each segment's Text,
	// then stay silent for its Pause. A Say without breaks has one segment;
	// an empty Say has none.
	Segments []SaySegment
	// SSML is the content re-serialised as SSML ("<speak>...</speak>") when
	// the Say contains SSML elements, for engines that speak SSML; "" for
	// plain text.
	SSML string
	// Voice is the voice attribute; default "man". Names like
	// "Polly.Joanna-Neural" and "Google.en-US-Standard-C" are kept verbatim
	// for the TTS mapping (twiml-voice.md §6.2).
	Voice string
	// Language is the language attribute (BCP-47). "" when absent: the
	// locale is then implied by Voice, else en-US (§6.2).
	Language string
	// Loop is how many times to speak: default 1; loop="0" (until hangup)
	// and anything larger than MaxLoop become MaxLoop.
	Loop int
}

// Name returns "Say".
func (*Say) Name() string { return "Say" }

// SaySegment is a stretch of speech followed by a silence.
type SaySegment struct {
	Text  string   // plain text; may be "" when the Say starts with a break
	Pause Duration // silence after Text, from <break>; 0 when none
}

// Text length limits by voice family (13521).
const (
	maxSayBasic  = 4096
	maxSayPolly  = 3000
	maxSayGoogle = 5000
)

// say converts <Say>. parent is "Gather" or "Prompt" when nested, else "".
func (c *converter) say(n *node, parent string) *Say {
	e := c.elem(n)
	loopCode := CodeSayLoop
	if parent == "Gather" {
		e.label, loopCode = "Gather->Say", CodeGatherSayLoop
	}
	s := &Say{
		Pos:      Pos{LineNo: n.line},
		Voice:    e.str("voice", "man"),
		Language: e.str("language", ""),
		Loop:     e.loop(loopCode),
	}
	e.done()

	w := ssmlWalker{c: c}
	w.walk(n)
	s.Segments = w.finish()
	texts := make([]string, 0, len(s.Segments))
	for _, seg := range s.Segments {
		if seg.Text != "" {
			texts = append(texts, seg.Text)
		}
	}
	s.Text = strings.Join(texts, " ")
	if w.sawSSML {
		var b strings.Builder
		b.WriteString("<speak>")
		writeSSMLContent(&b, n)
		b.WriteString("</speak>")
		s.SSML = b.String()
	}

	if s.Text == "" && len(s.Segments) == 0 {
		c.warnf(n, "Say", CodeSayText, "Say: Invalid text: <Say> has nothing to speak and will be skipped")
	}
	limit := maxSayBasic
	switch {
	case strings.HasPrefix(s.Voice, "Polly."):
		limit = maxSayPolly
	case strings.HasPrefix(s.Voice, "Google."):
		limit = maxSayGoogle
	}
	if l := utf8.RuneCountInString(s.Text); l > limit {
		c.warnf(n, "Say", CodeSayTooLong, "Say: Invalid text length: %d characters, voice %q allows %d", l, s.Voice, limit)
	}
	return s
}

// loop reads a Say/Play loop attribute: whole number >= 0, default 1,
// 0 and values above MaxLoop mean MaxLoop.
func (e elem) loop(code int) int {
	n := e.integer("loop", 1, 0, maxInt, code)
	if n == 0 || n > MaxLoop {
		return MaxLoop
	}
	return n
}
