package conference

import (
	"math"

	"github.com/voxgate/voxgate/media"
)

const frame = media.FrameSamples

// mixer is a room's state, owned by its goroutine.
type mixer struct {
	parts     []*Participant
	started   bool // a startConferenceOnEnter participant has joined
	ending    bool // End was called: the participants are leaving
	over      bool // everyone has left: the owner stops
	reason    string
	endingSID string
	max       int
	callback  Callback // the first participant's status callback
	late      int      // ticks too late to catch up

	sum     [frame]int32
	coaches []*Participant // this frame's audible coaches
	beepAt  int            // next sample of the beep; len(beepTone) = none
	room    media.Source   // an announcement to everyone (AnnounceUrl), nil when none
	rec     *recorder      // the room's recording, nil when not recording
	// recPending is the recording a participant asked for before the
	// start (record-from-start), by recAsker (nil once it has left).
	recPending *RecordOptions
	recAsker   *Participant
	recorded   bool // a recording has started
	// speakerEvents is set when the room's callback asked for "speaker".
	speakerEvents bool
	// announced is set when an announcement ended in the last frame: the
	// room's (roomAnnounced) or a participant's (its announced).
	announced, roomAnnounced bool
}

// Speech detection for the speaker events: a participant starts speaking
// after speechOnFrames loud frames in a row and stops after
// speechOffFrames quiet ones; loud is a mean magnitude of speechLevel.
const (
	speechLevel     = 300 // about -40 dBFS
	speechOnFrames  = 3   // 60 ms
	speechOffFrames = 40  // 800 ms
)

// detectSpeech updates p's speaking state from this frame (owner only);
// speechChanged tells the owner to send the event.
func (p *Participant) detectSpeech() {
	var sum int
	for _, v := range p.got {
		sum += max(int(v), -int(v))
	}
	loud := p.audible && sum/len(p.got) >= speechLevel
	switch {
	case loud && !p.speaking:
		if p.run++; p.run >= speechOnFrames {
			p.speaking, p.speechChanged, p.run = true, true, 0
		}
	case !loud && p.speaking:
		if p.run++; p.run >= speechOffFrames {
			p.speaking, p.speechChanged, p.run = false, true, 0
		}
	default:
		p.run = 0
	}
}

// beep starts the enter/exit beep for everyone.
func (x *mixer) beep() { x.beepAt = 0 }

// mix makes one 20 ms frame for every participant: each hears the sum of
// everyone audible but itself, with its coaches, the beep and any
// announcement, saturated to 16 bits. It allocates nothing.
func (x *mixer) mix() {
	clear(x.sum[:])
	x.coaches = x.coaches[:0]
	for _, p := range x.parts {
		p.in.ReadFrame(p.got[:]) // never fails; silence when dry
		p.audible = x.started && !p.muted && !p.hold
		if x.speakerEvents {
			p.detectSpeech()
		}
		switch {
		case !p.audible:
		case p.coaching:
			x.coaches = append(x.coaches, p) // capacity kept across frames
		default:
			for i, v := range p.got {
				x.sum[i] += int32(v)
			}
		}
	}
	var extra [frame]int32 // the beep and the room's announcement
	x.addExtras(&extra)
	if x.rec != nil {
		x.rec.write(&x.sum, &extra)
	}
	for _, p := range x.parts {
		p.render(x, &extra)
	}
	if x.beepAt < len(beepTone) {
		x.beepAt += frame
	}
}

// addExtras adds the beep and the room's announcement to extra.
func (x *mixer) addExtras(extra *[frame]int32) {
	if x.beepAt < len(beepTone) {
		for i := 0; i < frame && x.beepAt+i < len(beepTone); i++ {
			extra[i] += int32(beepTone[x.beepAt+i])
		}
	}
	if x.room != nil {
		var buf [frame]int16
		n, err := x.room.ReadFrame(buf[:])
		for i := range n {
			extra[i] += int32(buf[i])
		}
		if err != nil || n == 0 {
			x.room = nil
			x.announced, x.roomAnnounced = true, true
		}
	}
}

// render makes p's frame and hands it to p's leg.
func (p *Participant) render(x *mixer, extra *[frame]int32) {
	out := &p.mixed
	switch {
	case p.hold:
		fill(p.holdMusic, out[:])
	case !x.started:
		fill(p.wait, out[:])
	default:
		var acc [frame]int32
		acc = x.sum
		if p.audible && !p.coaching {
			for i, v := range p.got {
				acc[i] -= int32(v)
			}
		}
		for _, c := range x.coaches {
			if c != p && c.coachSID == p.callSID {
				for i, v := range c.got {
					acc[i] += int32(v)
				}
			}
		}
		for i := range acc {
			acc[i] += extra[i]
		}
		if p.announce != nil {
			var buf [frame]int16
			n, err := p.announce.ReadFrame(buf[:])
			for i := range n {
				acc[i] += int32(buf[i])
			}
			if err != nil || n == 0 {
				p.announce = nil
				p.announced, x.announced = true, true
			}
		}
		saturate(&acc, out)
	}
	_ = p.out.WriteFrame(out[:]) // never fails
}

// fill reads one frame of src into out (silence when src is nil or
// short).
func fill(src media.Source, out []int16) {
	n := 0
	if src != nil {
		n, _ = src.ReadFrame(out)
	}
	clear(out[n:])
}

// saturate clamps acc into 16-bit samples.
func saturate(acc *[frame]int32, out *[frame]int16) {
	for i, v := range acc {
		out[i] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
}

// beepTone is the enter/exit beep: 0.25 s of a soft 880 Hz tone with
// short fades. Read only.
var beepTone = func() []int16 {
	n := media.SampleRate / 4
	t := make([]int16, n)
	fade := media.SampleRate / 100
	for i := range t {
		env := 1.0
		if i < fade {
			env = float64(i) / float64(fade)
		} else if n-i < fade {
			env = float64(n-i) / float64(fade)
		}
		t[i] = int16(6000 * env * math.Sin(2*math.Pi*880*float64(i)/media.SampleRate))
	}
	return t
}()
