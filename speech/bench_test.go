package speech

import (
	"context"
	"testing"
)

// BenchmarkPocketsphinxWord is the wait after the caller stops speaking:
// decoding a one-word utterance constrained to hints (a decoder process,
// its model load included).
func BenchmarkPocketsphinxWord(b *testing.B) {
	pcm := say(b, "support")
	rec := &Pocketsphinx{}
	for b.Loop() {
		sess, err := rec.Start(context.Background(), Options{Hints: hints})
		if err != nil {
			b.Fatal(err)
		}
		sess.Write(pcm)
		if res, err := sess.Finish(context.Background()); err != nil || res.Text != "support" {
			b.Fatalf("%q %v", res.Text, err)
		}
	}
}

// BenchmarkListenerFrame is the endpointer on the media path: one 20 ms
// frame through the voice-activity detector into a session.
func BenchmarkListenerFrame(b *testing.B) {
	sess, _ := (&Pocketsphinx{}).Start(context.Background(), Options{})
	l := NewListener(sess, ListenerConfig{MaxSpeechTime: 1 << 62})
	frame := make([]int16, frameSamples)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.WriteFrame(frame)
	}
}
