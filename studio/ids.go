package studio

import voxsid "github.com/voxgate/voxgate/sid"

// newSid makes a random Twilio-style sid with prefix.
func newSid(prefix string) string { return voxsid.New(prefix) }
