package api

import (
	"errors"
	"testing"
)

func TestCheckTo(t *testing.T) {
	for _, to := range []string{"+15550001000", "+1 (555) 000-1000", "1000", "+1666", "*98#",
		"sip:bob@127.0.0.1:5070", "sip:bob@example.com;transport=tcp", "SIP:alice@host?X-Id=1", "sip:example.com", "client:ada"} {
		if err := checkTo(to); err != nil {
			t.Errorf("checkTo(%q) = %v, want accepted", to, err)
		}
	}
	for _, to := range []string{"bob", "alice@example.com", "+1555abc", "+", "sip:", "sip:@host", "sip:bob@", "sip:bob smith@host",
		"client:", "tel:+15550001000", "mailto:x@y", "()-"} {
		err := checkTo(to)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Code != 21211 || apiErr.Status != 400 {
			t.Errorf("checkTo(%q) = %v, want 400 with code 21211", to, err)
		}
	}
}
