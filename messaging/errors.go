package messaging

import "fmt"

// Error is a refusal with Twilio's error code, as the REST API answers it
// (HTTP Status, Code, Message).
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

func badRequest(code int, format string, args ...any) *Error {
	return &Error{Status: 400, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Twilio error codes used by the messaging engine (messaging.md §1.5, §3.6).
const (
	CodeRetrievalFailure   = 11200
	CodeParseFailure       = 12100
	CodeSchema             = 12200
	CodeInvalidContentType = 12300
	CodeInvalidTo          = 14101
	CodeInvalidFrom        = 14102
	CodeInvalidBody        = 14103
	CodeInvalidCallbackURL = 14105
	CodeTooManyDocuments   = 14106
	CodeReplyLoop          = 14107
	CodeTooManyReplies     = 14109
	CodeInvalidVerb        = 14110
	CodeNotFound           = 20404
	CodeNotDeletable       = 20009
	CodeInvalidToNumber    = 21211
	CodeNoBody             = 21602
	CodeNoFrom             = 21603
	CodeNoTo               = 21604
	CodeFromNotOurs        = 21606
	CodeOptedOut           = 21610
	CodeBodyTooLong        = 21617
	CodeInvalidMediaURL    = 21620
	CodeQueueOverflow      = 30001
	CodeUnreachable        = 30003
	CodeUnknownHandset     = 30005
	CodeCarrierFiltered    = 30007
	CodeUnknownError       = 30008
	CodeMissingSegment     = 30009
	CodeNotCancelable      = 30409
)

// errorText is the error_message stored with a delivery error code.
var errorText = map[int]string{
	CodeQueueOverflow:   "Queue overflow",
	CodeUnreachable:     "Unreachable destination handset",
	CodeUnknownHandset:  "Unknown destination handset",
	CodeCarrierFiltered: "Message filtered",
	CodeUnknownError:    "Unknown error",
	CodeFromNotOurs:     "The 'From' phone number provided is not a valid message-capable phone number for this destination.",
	CodeOptedOut:        "Attempt to send to unsubscribed recipient",
}

// ErrorText returns Twilio's short text for a delivery error code.
func ErrorText(code int) string {
	if t, ok := errorText[code]; ok {
		return t
	}
	return fmt.Sprintf("Error %d", code)
}

// SendError is a transport's failure to send. Retry says the failure is
// transient (the message goes back to the queue); otherwise the message
// fails with Code.
type SendError struct {
	Code   int
	Detail string
	Retry  bool
}

func (e *SendError) Error() string {
	if e.Retry {
		return "transient: " + e.Detail
	}
	return fmt.Sprintf("%d: %s", e.Code, e.Detail)
}
