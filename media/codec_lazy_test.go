package media

import "testing"

// TestCodecStateG722Lazy checks that a G.711 stream carries no G.722 state
// and that G.722 state appears with the first G.722 frame.
func TestCodecStateG722Lazy(t *testing.T) {
	pcm := testSignal(FrameSamples)
	var enc, dec CodecState
	payload := enc.Encode(PCMU, nil, pcm)
	dec.Decode(PCMU, nil, payload)
	if enc.enc != nil || enc.dec != nil || dec.enc != nil || dec.dec != nil {
		t.Fatal("G.722 state made for a G.711 stream")
	}
	payload = enc.Encode(G722, nil, pcm)
	dec.Decode(G722, nil, payload)
	if enc.enc == nil || dec.dec == nil {
		t.Fatal("no G.722 state after a G.722 frame")
	}
}
