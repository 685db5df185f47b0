package api

import (
	"errors"
	"strings"
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

// FuzzCheckTo: checkTo never panics, and whatever it accepts is one of the
// three kinds of target the gateway can call.
func FuzzCheckTo(f *testing.F) {
	for _, s := range []string{"+15550001000", "+1 (555) 000-1000", "sip:bob@127.0.0.1:5070;transport=tcp", "client:ada",
		"bob", "sip:", "sip:@h", "client:", "tel:+1", "+", "*98#", "SIP:a@b?X=1", "\x00", "sip:a@;x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, to string) {
		err := checkTo(to)
		if err != nil {
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Code != 21211 {
				t.Fatalf("checkTo(%q) = %v, want nil or 21211", to, err)
			}
			return
		}
		lower := strings.ToLower(to)
		if !strings.HasPrefix(lower, "sip:") && !strings.HasPrefix(lower, "client:") && !phoneNumber(to) {
			t.Fatalf("checkTo accepted %q", to)
		}
		if strings.HasPrefix(lower, "sip:") && strings.ContainsAny(to, " \t\r\n") {
			t.Fatalf("checkTo accepted a SIP URI with spaces: %q", to)
		}
	})
}
