package dtmf

import "fmt"

// validateDigits checks that every character of digits is a key or a pause.
func validateDigits(digits string) error {
	for i, r := range digits {
		if r < 0x80 {
			c := byte(r)
			if _, ok := KeyToCode(c); ok || c == 'w' || c == 'W' {
				continue
			}
		}
		return fmt.Errorf("dtmf: invalid character %q at byte %d of %q (want 0-9 * # A-D w W)", r, i, digits)
	}
	return nil
}
