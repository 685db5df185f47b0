// Package sid makes Twilio-style resource identifiers: a two-letter prefix
// and 32 lowercase hex digits (128 random bits), unique across nodes.
package sid

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// Prefixes of the resources Voxgate names.
const (
	Account   = "AC"
	Call      = "CA"
	Queue     = "QU"
	Recording = "RE"
	Flow      = "FW"
	Execution = "FN"
	Step      = "FT"
)

// New returns prefix followed by 32 random hex digits.
func New(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}

var pattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)

// Valid reports whether s has prefix and the SID shape.
func Valid(prefix, s string) bool {
	return len(s) == 34 && s[:2] == prefix && pattern.MatchString(s)
}
