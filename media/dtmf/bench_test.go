package dtmf

import "testing"

func BenchmarkReceiverPacket(b *testing.B) {
	pkts := concat(sippDigit(b, '1'), sippDigit(b, '#'), baresipDigit(b, 7, 1000, '5'))
	var r Receiver
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pkts[i%len(pkts)]
		// Shift timestamps each round so new presses keep arriving.
		r.Packet(p.ssrc, p.timestamp+uint32(i/len(pkts)), p.marker, p.payload)
		i++
	}
}

func BenchmarkDetectorFrame(b *testing.B) {
	inputs := map[string][]int16{
		"tone":    AppendTone(nil, '#', 1600, 0.2),
		"silence": make([]int16, 1600),
		"noise":   noise(1600, 5000),
	}
	for name, pcm := range inputs {
		b.Run(name, func(b *testing.B) {
			d := NewDetector()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				off := (i * blockSamples) % len(pcm)
				d.Frame(pcm[off : off+blockSamples])
				i++
			}
		})
	}
}

// noise returns deterministic pseudo-random samples within ±amplitude.
func noise(n, amplitude int) []int16 {
	pcm := make([]int16, n)
	state := uint32(1)
	for i := range pcm {
		state = state*1664525 + 1013904223
		pcm[i] = int16(int(state>>16)%(2*amplitude+1) - amplitude)
	}
	return pcm
}

func BenchmarkSenderNext(b *testing.B) {
	b.ReportAllocs()
	s, err := NewSender("0123456789*#ABCDw")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, done := s.Next(); done {
			*s = Sender{digits: s.digits}
		}
	}
}
