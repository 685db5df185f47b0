package twiml

// Twilio error codes this package reports (twiml-voice.md §3.9); the
// comments give Twilio's names. CodeSayVoice and CodeGatherSayVoice are
// never reported by the parser (voices are not validated here): they are
// for the TTS layer's "unknown voice, using a fallback" warning (§6.2).
const (
	CodeInvalidURL          = 11100 // Invalid URL format
	CodeBodyTooLarge        = 11750 // TwiML response body too large
	CodeParseFailure        = 12100 // Document parse failure
	CodeRootNotResponse     = 12102 // Root element must be Response
	CodeSchema              = 12200 // Schema validation warning
	CodeDialFromDial        = 13201 // Dial: Cannot Dial out from a Dial Call Segment
	CodeDialMethod          = 13210 // Dial: Invalid method value
	CodeDialTimeout         = 13212 // Dial: Invalid timeout value
	CodeDialHangupOnStar    = 13213 // Dial: Invalid hangupOnStar value
	CodeDialNested          = 13215 // Dial: Invalid nested element
	CodeDialTimeLimit       = 13216 // Dial: Invalid timeLimit value
	CodeDialRecord          = 13217 // Dial: Invalid record value
	CodeNumberMethod        = 13221 // Dial->Number: Invalid method value
	CodeNumberSendDigits    = 13222 // Dial->Number: Invalid sendDigits value
	CodeNumberFormat        = 13223 // Dial: Invalid phone number format
	CodeConfMuted           = 13230 // Dial->Conference: Invalid muted value
	CodeConfEndOnExit       = 13231 // Dial->Conference: Invalid endConferenceOnExit value
	CodeConfStartOnEnter    = 13232 // Dial->Conference: Invalid startConferenceOnEnter value
	CodeConfWaitMethod      = 13234 // Dial->Conference: Invalid waitMethod
	CodeConfBeep            = 13235 // Dial->Conference: Invalid beep value
	CodeConfWaitVerb        = 13238 // Dial->Conference: Invalid verb in waitUrl
	CodeConfTrim            = 13239 // Dial->Conference: Invalid trim value
	CodeGatherFinishOnKey   = 13310 // Gather: Invalid finishOnKey value
	CodeGatherMethod        = 13312 // Gather: Invalid method value
	CodeGatherTimeout       = 13313 // Gather: Invalid timeout value
	CodeGatherNumDigits     = 13314 // Gather: Invalid numDigits value
	CodeGatherNested        = 13320 // Gather: Invalid nested verb
	CodeGatherSayVoice      = 13321 // Gather->Say: Invalid voice value
	CodeGatherSayLoop       = 13322 // Gather->Say: Invalid loop value
	CodeGatherSpeechTimeout = 13327 // Gather: Invalid speechTimeout value
	CodeGatherMaxSpeechTime = 13328 // Gather: Invalid maxSpeechTime value
	CodeGatherHints         = 13330 // Gather: Invalid hints value
	CodeGatherDebug         = 13336 // Gather: Invalid debug value
	CodeGatherEmptyResult   = 13338 // Gather: Invalid actionOnEmptyResult value
	CodePlayLoop            = 13410 // Play: Invalid loop value
	CodeSayLoop             = 13510 // Say: Invalid loop value
	CodeSayVoice            = 13511 // Say: Invalid voice value
	CodeSayText             = 13520 // Say: Invalid text
	CodeSayTooLong          = 13521 // Say: Invalid text length
	CodeRecordMethod        = 13610 // Record: Invalid method value
	CodeRecordTimeout       = 13611 // Record: Invalid timeout value
	CodeRecordMaxLength     = 13612 // Record: Invalid maxLength value
	CodeRecordFinishOnKey   = 13613 // Record: Invalid finishOnKey value
	CodeRecordTranscribe    = 13614 // Record: Invalid transcribe value
	CodeRecordTranscribeLen = 13615 // Record: maxLength too high for transcription
	CodeRecordPlayBeep      = 13616 // Record: playBeep must be true or false
	CodeRecordStatusEvent   = 13621 // Invalid recordingStatusCallbackEvent
	CodeRedirectMethod      = 13710 // Redirect: Invalid method value
	CodePauseLength         = 13910 // Pause: Invalid length value
	CodeStartNoun           = 14300 // Start: Invalid nested noun value
)
