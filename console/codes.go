package console

import "fmt"

// codeMeanings are Twilio's short descriptions of the error and warning
// codes this gateway reports (twilio.com/docs/errors/CODE).
var codeMeanings = map[int]string{
	11100: "Invalid URL format",
	11200: "HTTP retrieval failure",
	11201: "TCP connection timed out",
	11202: "TCP connection refused",
	11203: "HTTP communication total time out triggered",
	11205: "HTTP connection failure",
	11210: "HTTP bad host name",
	11215: "HTTP too many redirects",
	11220: "SSL/TLS handshake error",
	11235: "Certificate host name mismatch",
	11236: "Certificate expired",
	11237: "Certificate signed by an unknown authority",
	11750: "TwiML response body too large",
	12100: "Document parse failure",
	12200: "Schema validation warning",
	12300: "Invalid Content-Type",
	12400: "Internal failure",
	13201: "Dial: Cannot Dial out from a Dial Call Segment",
	13212: "Dial: Invalid callerId value",
	13214: "Dial: Invalid callerId value",
	13223: "Dial: Invalid phone number format",
	13224: "Dial: Invalid phone number",
	13320: "Gather: Invalid nested verb",
	13322: "Gather: Invalid nested element",
	13511: "Say: Invalid voice or language",
	13520: "Say: Invalid text",
	13610: "Record: Invalid finishOnKey",
	13612: "Record: Invalid transcribe attribute",
	13910: "Queue: Invalid Queue name",
	21220: "Invalid call state",
	82002: "Error on Twilio Function response",
	82005: "Error from Function Execution",
}

// ErrorMeaning is Twilio's description of code, or a pointer to its page.
func ErrorMeaning(code int) string {
	if m, ok := codeMeanings[code]; ok {
		return m
	}
	return fmt.Sprintf("see https://www.twilio.com/docs/errors/%d", code)
}
