package messaging

import "strings"

// OptOut configures Twilio's default keyword handling (messaging.md §8).
type OptOut struct {
	// Disabled turns keyword handling off.
	Disabled bool
	// Replies; empty fields take Twilio's defaults.
	OptOutReply, OptInReply, HelpReply string
}

// Default keyword replies.
const (
	DefaultOptOutReply = "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe."
	DefaultOptInReply  = "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
	DefaultHelpReply   = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)

func (o OptOut) withDefaults() OptOut {
	if o.OptOutReply == "" {
		o.OptOutReply = DefaultOptOutReply
	}
	if o.OptInReply == "" {
		o.OptInReply = DefaultOptInReply
	}
	if o.HelpReply == "" {
		o.HelpReply = DefaultHelpReply
	}
	return o
}

// Keyword classes.
const (
	KeywordNone  = ""
	KeywordStop  = "STOP"
	KeywordStart = "START"
	KeywordHelp  = "HELP"
)

// ClassifyKeyword returns the class of a body that is exactly one opt-out,
// opt-in or help keyword (case-insensitive, surrounding spaces and
// punctuation ignored; "STOP PLEASE" is not a keyword).
func ClassifyKeyword(body string) string {
	w := strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!?"))
	switch w {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return KeywordStop
	case "START", "YES", "UNSTOP":
		return KeywordStart
	case "HELP", "INFO":
		return KeywordHelp
	}
	return KeywordNone
}
