package twiml

import "strings"

// Values of the trim attribute (Record, Dial, Conference).
const (
	TrimSilence = "trim-silence"
	DoNotTrim   = "do-not-trim"
)

// Record records the caller (voicemail); twiml-voice.md §2.5.
type Record struct {
	Pos
	// Action is requested when the recording ends. "" when absent: the
	// engine requests the current document URL.
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// Timeout is the seconds of silence that end the recording: whole
	// number >= 0, default 5; 0 disables the silence end.
	Timeout int
	// FinishOnKey is the set of keys that end the recording: any of 0-9 * #,
	// default "1234567890*#" (any key); "" means no key ends it.
	FinishOnKey string
	// MaxLength is the longest recording in seconds: default 3600, or 120
	// when Transcribe is set and maxLength is absent; at most 86400.
	MaxLength int
	// PlayBeep plays a beep before recording; default true.
	PlayBeep bool
	// Trim is TrimSilence (default) or DoNotTrim.
	Trim string
	// RecordingStatusCallback is requested when the file is ready; "" = none.
	RecordingStatusCallback string
	// RecordingStatusCallbackMethod is "GET" or "POST", default POST.
	RecordingStatusCallbackMethod string
	// RecordingStatusCallbackEvents: "in-progress", "completed", "absent";
	// default ["completed"].
	RecordingStatusCallbackEvents []string
	// Transcribe requests a transcription; default false.
	Transcribe bool
	// TranscribeCallback receives the transcription; "" = none.
	TranscribeCallback string
}

// Name returns "Record".
func (*Record) Name() string { return "Record" }

// DefaultRecordFinishOnKey is Record's default finishOnKey: any key.
const DefaultRecordFinishOnKey = "1234567890*#"

const (
	maxRecordLength       = 86400
	maxTranscribedLength  = 120
	defaultRecordLength   = 3600
	recordingEventDefault = "completed"
)

func (c *converter) record(n *node) *Record {
	e := c.elem(n)
	r := &Record{
		Pos:                           Pos{LineNo: n.line},
		Action:                        e.str("action", ""),
		Method:                        e.method("method", CodeRecordMethod),
		Timeout:                       e.integer("timeout", 5, 0, maxInt, CodeRecordTimeout),
		FinishOnKey:                   recordFinishOnKey(e),
		PlayBeep:                      e.boolean("playBeep", true, CodeRecordPlayBeep),
		Trim:                          e.enum("trim", TrimSilence, CodeSchema, TrimSilence, DoNotTrim),
		RecordingStatusCallback:       e.str("recordingStatusCallback", ""),
		RecordingStatusCallbackMethod: e.method("recordingStatusCallbackMethod", CodeRecordMethod),
		RecordingStatusCallbackEvents: recordingEvents(e),
		Transcribe:                    e.boolean("transcribe", false, CodeRecordTranscribe),
		TranscribeCallback:            e.str("transcribeCallback", ""),
	}
	e.raw("recordingConfigurationId") // accepted, ignored
	def := defaultRecordLength
	if r.Transcribe {
		def = maxTranscribedLength
	}
	r.MaxLength = e.clampedPositive("maxLength", def, maxRecordLength, CodeRecordMaxLength)
	if r.Transcribe && r.MaxLength > maxTranscribedLength {
		e.warn(CodeRecordTranscribeLen, "maxLength too high for transcription: %d s (transcription only covers recordings up to %d s)", r.MaxLength, maxTranscribedLength)
	}
	r.Pos = c.simple(n, "Record", false)
	return r
}

// clampedPositive reads a whole number >= 1; malformed or < 1 warns and
// yields def, values above hi warn and are clamped to hi.
func (e elem) clampedPositive(name string, def, hi, code int) int {
	n, ok := e.parseInt(name, def, code)
	if !ok {
		return def
	}
	switch {
	case n < 1:
		e.warn(code, "Invalid %s value %d (must be >= 1); using %d", name, n, def)
		return def
	case n > hi:
		e.warn(code, "Invalid %s value %d (at most %d); using %d", name, n, hi, hi)
		return hi
	}
	return n
}

// recordFinishOnKey: any set of 0-9 * #, or "" for none; anything else
// warns (13613) and uses the default.
func recordFinishOnKey(e elem) string {
	v, ok := e.raw("finishOnKey")
	if !ok {
		return DefaultRecordFinishOnKey
	}
	for _, r := range v {
		if !strings.ContainsRune("0123456789*#", r) {
			e.warn(CodeRecordFinishOnKey, "Invalid finishOnKey value %q (keys must be 0-9 * #); using %q", v, DefaultRecordFinishOnKey)
			return DefaultRecordFinishOnKey
		}
	}
	return v
}

// recordingEvents reads recordingStatusCallbackEvent (Record, Dial, Conference).
func recordingEvents(e elem) []string {
	return e.list("recordingStatusCallbackEvent", []string{recordingEventDefault}, CodeRecordStatusEvent,
		"in-progress", "completed", "absent")
}
