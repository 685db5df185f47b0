package sid

import "testing"

func TestNewIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := New(Call)
		if !Valid(Call, s) {
			t.Fatalf("New(Call) = %q: not a valid call SID", s)
		}
		if seen[s] {
			t.Fatalf("duplicate SID %q", s)
		}
		seen[s] = true
	}
}

func TestValid(t *testing.T) {
	cases := []struct {
		prefix, s string
		want      bool
	}{
		{Call, "CA0123456789abcdef0123456789ABCDEF", true},
		{Call, "RE0123456789abcdef0123456789abcdef", false},
		{Call, "CA0123456789abcdef0123456789abcde", false},
		{Call, "CA0123456789abcdef0123456789abcdeg", false},
		{Account, "", false},
	}
	for _, c := range cases {
		if got := Valid(c.prefix, c.s); got != c.want {
			t.Errorf("Valid(%q, %q) = %v, want %v", c.prefix, c.s, got, c.want)
		}
	}
}
