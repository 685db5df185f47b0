package dtmf

import "io"

// In-band timing used by ToneSource, in samples at 8 kHz.
const (
	toneSamples   = 800  // 100 ms of tone per key
	gapSamples    = 800  // 100 ms of silence after each key
	shortPause    = 4000 // 'w': 0.5 s
	longPause     = 8000 // 'W': 1 s
	toneAmplitude = 0.2  // per tone, about -14 dBFS (-11 dBm0)
)

// ToneSource plays a digit string as in-band DTMF tones, for peers that did
// not negotiate telephone-event. Each key is 100 ms of tone followed by
// 100 ms of silence; 'w' adds 0.5 s and 'W' 1 s of silence. Its ReadFrame
// method satisfies the media.Source interface.
type ToneSource struct {
	digits string
	next   int // index in digits of the item being played
	done   int // samples of that item already played
}

// NewToneSource returns a ToneSource for digits (0-9 * # A-D w W). It
// returns an error naming the first character that is neither a key nor a
// pause.
func NewToneSource(digits string) (*ToneSource, error) {
	if err := validateDigits(digits); err != nil {
		return nil, err
	}
	return &ToneSource{digits: digits}, nil
}

// ReadFrame fills p with the next samples and returns how many it wrote. It
// returns io.EOF, with n == 0, once every digit has been played. It does not
// allocate.
func (s *ToneSource) ReadFrame(p []int16) (n int, err error) {
	for n < len(p) && s.next < len(s.digits) {
		c := s.digits[s.next]
		length := itemSamples(c)
		take := min(len(p)-n, length-s.done)
		out := p[n : n+take]
		clear(out)
		if s.done < toneSamples && c != 'w' && c != 'W' {
			row, col, _ := keyPosition(c)
			appendDualTone(out[:0], row, col, s.done, min(take, toneSamples-s.done), toneAmplitude)
		}
		n += take
		s.done += take
		if s.done == length {
			s.next++
			s.done = 0
		}
	}
	if n == 0 && s.next >= len(s.digits) {
		return 0, io.EOF
	}
	return n, nil
}

// itemSamples is how many samples the digit-string character c lasts.
func itemSamples(c byte) int {
	switch c {
	case 'w':
		return shortPause
	case 'W':
		return longPause
	}
	return toneSamples + gapSamples
}
