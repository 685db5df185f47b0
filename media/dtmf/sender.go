package dtmf

// Sender timing, in 20 ms ticks, and the event volume.
const (
	tickDuration  = 160 // RTP timestamp units (8 kHz) per 20 ms tick
	toneTicks     = 5   // 100 ms of tone per key
	endTicks      = 3   // the end packet is sent three times
	gapTicks      = 5   // 100 ms of silence before the next key
	shortPauseTks = 25  // 'w': 0.5 s
	longPauseTks  = 50  // 'W': 1 s
	sendVolume    = 10  // -10 dBm0, as SIPp and most phones send
)

// Packet is one telephone-event packet the RTP leg should send.
type Packet struct {
	Event  Event // the payload; append it with Event.AppendTo
	Marker bool  // set the RTP marker bit (first packet of an event)
	// NewTimestamp marks the start of a new event: the leg takes a fresh
	// RTP timestamp (its audio clock now) and uses it for every packet of
	// the event, until the next packet with NewTimestamp.
	NewTimestamp bool
}

// Sender plans the RFC 4733 telephone-event packets for a digit string.
// The RTP leg calls Next once per 20 ms tick and sends what it is told.
//
// For each key it sends a marker packet (duration 160), an update every
// 20 ms whose duration grows by 160, for 100 ms of tone (final duration
// 800), then the end packet three times with that final duration, then
// stays silent for 100 ms before the next key. 'w' is a 0.5 s pause and 'W'
// a 1 s pause. Nothing follows the last key's end packets.
type Sender struct {
	digits string
	next   int // index in digits of the item being planned
	tick   int // ticks of that item already planned
}

// NewSender returns a Sender for digits (0-9 * # A-D, a-d, w W). It returns
// an error naming the first character that is neither a key nor a pause.
func NewSender(digits string) (*Sender, error) {
	if err := validateDigits(digits); err != nil {
		return nil, err
	}
	return &Sender{digits: digits}, nil
}

// Next plans the current 20 ms tick. send reports whether pkt is to be sent
// now (it is false during gaps and pauses). done reports that this was the
// last tick: the leg sends pkt if send is set and then stops calling. Once
// done, Next keeps returning done with nothing to send. Next allocates
// nothing.
func (s *Sender) Next() (pkt Packet, send bool, done bool) {
	if s.next >= len(s.digits) {
		return Packet{}, false, true
	}
	c := s.digits[s.next]
	t := s.tick
	code, isKey := KeyToCode(c)
	if isKey && t < toneTicks+endTicks {
		duration := uint16(min(t+1, toneTicks) * tickDuration)
		pkt = Packet{
			Event:        Event{Code: code, End: t >= toneTicks, Volume: sendVolume, Duration: duration},
			Marker:       t == 0,
			NewTimestamp: t == 0,
		}
		send = true
	}
	s.tick++
	if s.tick == s.ticks(s.next) {
		s.next++
		s.tick = 0
	}
	return pkt, send, s.next >= len(s.digits)
}

// ticks is how many ticks the item at index i of the digit string lasts.
func (s *Sender) ticks(i int) int {
	switch s.digits[i] {
	case 'w':
		return shortPauseTks
	case 'W':
		return longPauseTks
	}
	if i == len(s.digits)-1 {
		return toneTicks + endTicks
	}
	return toneTicks + endTicks + gapTicks
}
