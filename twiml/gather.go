package twiml

import (
	"strings"
	"unicode/utf8"
)

// Input is the set of input kinds a <Gather> accepts.
type Input uint8

// Input kinds; a Gather may accept both.
const (
	InputDTMF Input = 1 << iota
	InputSpeech
)

// DTMF reports whether key presses are collected.
func (i Input) DTMF() bool { return i&InputDTMF != 0 }

// Speech reports whether speech is recognised.
func (i Input) Speech() bool { return i&InputSpeech != 0 }

// String returns the attribute form: "dtmf", "speech" or "dtmf speech".
func (i Input) String() string {
	switch i {
	case InputDTMF:
		return "dtmf"
	case InputSpeech:
		return "speech"
	case InputDTMF | InputSpeech:
		return "dtmf speech"
	}
	return ""
}

// Gather collects DTMF digits and/or speech while playing its nested
// prompts (twiml-voice.md §2.4 has the exact semantics).
type Gather struct {
	Pos
	// Action is the URL requested with the input. "" when absent: the
	// engine requests the current document URL.
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// Timeout is the seconds to wait for the first key after the prompts
	// end, and between keys: whole number > 0, default 5.
	Timeout int
	// FinishOnKey is the key that submits the input: one of 0-9 * #,
	// default "#". "" (given explicitly as finishOnKey="") disables it.
	FinishOnKey string
	// NumDigits submits as soon as this many digits are collected; 0 means
	// unlimited (the default).
	NumDigits int
	// Input is what to collect; default InputDTMF.
	Input Input
	// ActionOnEmptyResult requests Action even with no input; default false.
	ActionOnEmptyResult bool
	// SpeechTimeout is the seconds of silence after speech that end
	// recognition; default Timeout. Ignored when SpeechTimeoutAuto.
	SpeechTimeout int
	// SpeechTimeoutAuto is speechTimeout="auto": stop at the first natural pause.
	SpeechTimeoutAuto bool
	// MaxSpeechTime caps one utterance, in seconds; default 60.
	MaxSpeechTime int
	// Language for speech recognition (BCP-47); default "en-US".
	Language string
	// Hints are speech-recognition phrases (the comma-separated attribute).
	Hints []string
	// SpeechModel names the recogniser model; default "default".
	SpeechModel string
	// ProfanityFilter masks profanities in SpeechResult; default true.
	ProfanityFilter bool
	// PartialResultCallback receives interim speech results (async); "" = none.
	PartialResultCallback string
	// PartialResultCallbackMethod is "GET" or "POST", default POST.
	PartialResultCallbackMethod string
	// Enhanced selects Twilio's deprecated premium model; default false.
	Enhanced bool
	// BargeIn stops nested prompts when speech is detected; default true.
	BargeIn bool
	// Debug is accepted and otherwise ignored; default false.
	Debug bool
	// Children are the nested prompts, in order: *Say, *Play, *Pause.
	Children []Verb
}

// Name returns "Gather".
func (*Gather) Name() string { return "Gather" }

const (
	maxHints      = 500
	maxHintLength = 100
)

func (c *converter) gather(n *node) *Gather {
	e := c.elem(n)
	g := &Gather{
		Pos:                         Pos{LineNo: n.line},
		Action:                      e.str("action", ""),
		Method:                      e.method("method", CodeGatherMethod),
		Timeout:                     e.integer("timeout", 5, 1, maxInt, CodeGatherTimeout),
		FinishOnKey:                 gatherFinishOnKey(e),
		NumDigits:                   e.integer("numDigits", 0, 1, maxInt, CodeGatherNumDigits),
		Input:                       gatherInput(e),
		ActionOnEmptyResult:         e.boolean("actionOnEmptyResult", false, CodeGatherEmptyResult),
		MaxSpeechTime:               e.integer("maxSpeechTime", 60, 1, maxInt, CodeGatherMaxSpeechTime),
		Language:                    e.str("language", "en-US"),
		SpeechModel:                 e.str("speechModel", "default"),
		ProfanityFilter:             e.boolean("profanityFilter", true, CodeSchema),
		PartialResultCallback:       e.str("partialResultCallback", ""),
		PartialResultCallbackMethod: e.method("partialResultCallbackMethod", CodeGatherMethod),
		Enhanced:                    e.boolean("enhanced", false, CodeSchema),
		BargeIn:                     e.boolean("bargeIn", true, CodeSchema),
		Debug:                       e.boolean("debug", false, CodeGatherDebug),
	}
	g.SpeechTimeout, g.SpeechTimeoutAuto = gatherSpeechTimeout(e, g.Timeout)
	g.Hints = gatherHints(e)
	e.done()

	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, "Gather")
		case k.name == "Say":
			g.Children = append(g.Children, c.say(k, "Gather"))
		case k.name == "Play":
			g.Children = append(g.Children, c.play(k, "Gather"))
		case k.name == "Pause":
			g.Children = append(g.Children, c.pause(k))
		default:
			c.misplaced(k, "Gather", CodeGatherNested)
		}
	}
	return g
}

// gatherFinishOnKey: a single key of 0-9 * #, or "" to disable; anything
// else warns (13310) and uses "#" (§7 checklist).
func gatherFinishOnKey(e elem) string {
	v, ok := e.raw("finishOnKey")
	if !ok {
		return "#"
	}
	if v == "" || (len(v) == 1 && strings.ContainsRune("0123456789*#", rune(v[0]))) {
		return v
	}
	e.warn(CodeGatherFinishOnKey, "Invalid finishOnKey value %q (must be one of 0-9 * # or empty); using \"#\"", v)
	return "#"
}

func gatherInput(e elem) Input {
	var in Input
	for _, item := range e.list("input", []string{"dtmf"}, CodeSchema, "dtmf", "speech") {
		if item == "dtmf" {
			in |= InputDTMF
		} else {
			in |= InputSpeech
		}
	}
	return in
}

// gatherSpeechTimeout reads speechTimeout: "auto" or a whole number > 0;
// default (and fallback) is the Gather timeout.
func gatherSpeechTimeout(e elem, timeout int) (int, bool) {
	v, ok := e.raw("speechTimeout")
	if !ok {
		return timeout, false
	}
	if strings.EqualFold(strings.TrimSpace(v), "auto") {
		return timeout, true
	}
	return e.integerValue("speechTimeout", v, timeout, 1, CodeGatherSpeechTimeout), false
}

func gatherHints(e elem) []string {
	v, ok := e.raw("hints")
	if !ok {
		return nil
	}
	var hints []string
	tooLong := false
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if utf8.RuneCountInString(h) > maxHintLength {
			tooLong = true
		}
		hints = append(hints, h)
	}
	if len(hints) > maxHints || tooLong {
		e.warn(CodeGatherHints, "Invalid hints value: at most %d phrases of at most %d characters each", maxHints, maxHintLength)
	}
	return hints
}
