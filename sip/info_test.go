package sip

import "testing"

func TestParseInfoDTMF(t *testing.T) {
	cases := []struct {
		ct, body string
		key      byte
		ok, err  bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true, false},
		{"application/dtmf-relay", "Signal= #\nDuration=100", '#', true, false},
		{"application/dtmf-relay", "signal=*", '*', true, false},
		{"application/dtmf-relay", "Signal=10\r\n", '*', true, false},
		{"application/dtmf-relay", "Signal=11\r\n", '#', true, false},
		{"Application/DTMF-Relay; charset=x", "Signal=a", 'A', true, false},
		{"application/dtmf", "9", '9', true, false},
		{"application/dtmf-relay", "Duration=160", 0, true, true},
		{"application/dtmf-relay", "Signal=55", 0, true, true},
		{"application/dtmf", "x", 0, true, true},
		{"application/sdp", "v=0", 0, false, false},
	}
	for _, c := range cases {
		key, ok, err := ParseInfoDTMF(c.ct, []byte(c.body))
		if key != c.key || ok != c.ok || (err != nil) != c.err {
			t.Errorf("ParseInfoDTMF(%q, %q) = %q, %v, %v; want %q, %v, err=%v", c.ct, c.body, key, ok, err, c.key, c.ok, c.err)
		}
	}
}
