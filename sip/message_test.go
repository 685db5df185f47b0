package sip

import (
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

func TestMessageText(t *testing.T) {
	mk := func(ct, body string) *sipmsg.Request {
		req := sipmsg.NewRequest(sipmsg.MESSAGE, sipmsg.Uri{Scheme: "sip", User: "+15557654321", Host: "127.0.0.1"})
		if ct != "" {
			req.AppendHeader(sipmsg.NewHeader("Content-Type", ct))
		}
		req.SetBody([]byte(body))
		return req
	}
	for _, tt := range []struct {
		ct, body, want string
		ok             bool
	}{
		{"text/plain;charset=UTF-8", "Hello ü€", "Hello ü€", true},
		{"", "no type", "no type", true},
		{"message/cpim", "From: <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\nContent-Type: text/plain\r\n\r\nwrapped text", "wrapped text", true},
		{"application/json", "{}", "", false},
		{"text/plain; broken=", "x", "", false},
	} {
		got, ok := messageText(mk(tt.ct, tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: %q %v, want %q %v", tt.ct, got, ok, tt.want, tt.ok)
		}
	}
}
