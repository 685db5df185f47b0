package media

import (
	"fmt"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTPSuite names an SDES crypto suite (RFC 4568 §6.2).
type SRTPSuite string

// The crypto suites RTPLeg supports: both use a 128-bit AES key and a
// 112-bit salt (30 bytes of keying material) and differ in the length of
// the authentication tag.
const (
	AESCM128HMACSHA1_80 SRTPSuite = "AES_CM_128_HMAC_SHA1_80"
	AESCM128HMACSHA1_32 SRTPSuite = "AES_CM_128_HMAC_SHA1_32"
)

// SRTPKeyLen is the length of a master key and salt together for the
// supported suites.
const SRTPKeyLen = 30

// SRTPKeys protects a leg's RTP with SRTP (RFC 3711): Local encrypts what
// the leg sends, Remote decrypts what it receives (keys exchanged with
// SDES, RFC 4568).
type SRTPKeys struct {
	Suite  SRTPSuite
	Local  []byte // master key || master salt, SRTPKeyLen bytes
	Remote []byte
}

func (s SRTPSuite) profile() (srtp.ProtectionProfile, error) {
	switch s {
	case AESCM128HMACSHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case AESCM128HMACSHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	}
	return 0, fmt.Errorf("media: unsupported SRTP suite %q", s)
}

// Supported reports whether RTPLeg implements the suite.
func (s SRTPSuite) Supported() bool {
	_, err := s.profile()
	return err == nil
}

// srtpState holds one direction's SRTP context and buffers, owned by the
// send or the receive loop.
type srtpState struct {
	ctx *srtp.Context
	hdr rtp.Header
	buf [recvBufferSize + 16]byte // a packet, its tag, and room for received packets
}

func newSRTPState(suite SRTPSuite, key []byte) (*srtpState, error) {
	profile, err := suite.profile()
	if err != nil {
		return nil, err
	}
	if len(key) != SRTPKeyLen {
		return nil, fmt.Errorf("media: SRTP key is %d bytes, want %d", len(key), SRTPKeyLen)
	}
	// Replay protection (RFC 3711 §3.3.2, a 64-packet window) matters on
	// the receiving side; it costs the sending side nothing.
	ctx, err := srtp.CreateContext(key[:16], key[16:], profile, srtp.SRTPReplayProtection(64))
	if err != nil {
		return nil, fmt.Errorf("media: SRTP context: %w", err)
	}
	return &srtpState{ctx: ctx}, nil
}

// protect encrypts the RTP packet pkt and returns the SRTP packet, in s's
// buffer (valid until the next call).
func (s *srtpState) protect(pkt []byte) ([]byte, error) {
	if _, err := s.hdr.Unmarshal(pkt); err != nil {
		return nil, err
	}
	return s.ctx.EncryptRTP(s.buf[:0], pkt, &s.hdr)
}

// unprotect authenticates and decrypts the SRTP packet pkt and returns the
// RTP packet, in s's buffer (valid until the next call).
func (s *srtpState) unprotect(pkt []byte) ([]byte, error) {
	if len(pkt) > len(s.buf) {
		return nil, fmt.Errorf("media: SRTP packet of %d bytes too large", len(pkt))
	}
	return s.ctx.DecryptRTP(s.buf[:0], pkt, &s.hdr)
}

// Validate checks that the keys can protect a leg.
func (k *SRTPKeys) Validate() error {
	if _, err := newSRTPState(k.Suite, k.Local); err != nil {
		return err
	}
	_, err := newSRTPState(k.Suite, k.Remote)
	return err
}

// SetSRTP protects the leg with k from now on (an outbound call learns
// the far end's key from its answer). Call it before Start, from the
// goroutine that calls Start.
func (l *RTPLeg) SetSRTP(k *SRTPKeys) error {
	if l.started.Load() {
		return fmt.Errorf("media: SetSRTP after Start")
	}
	tx, err := newSRTPState(k.Suite, k.Local)
	if err != nil {
		return err
	}
	rx, err := newSRTPState(k.Suite, k.Remote)
	if err != nil {
		return err
	}
	l.tx.srtp, l.rx.srtp = tx, rx
	return nil
}
