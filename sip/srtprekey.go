package sip

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/voxgate/voxgate/media"
)

// SDES beyond the first offer
//
// A re-INVITE whose a=crypto carries a new key (RFC 4568 §7.1.4)
// re-keys the call's leg (media.RTPLeg.RekeySRTP: no packet is lost
// while the far end switches). Our own key stays unless the suite
// changes; the answer carries it with the offer's tag. A re-INVITE may
// not turn SRTP on or off: 488.
//
// A late offer (INVITE without SDP) on a trunk whose srtp is required
// gets an RTP/SAVP offer with our key in the 200; until the ACK's answer
// brings the far end's key the leg accepts no packet at all (its receive
// key is a random one nobody has), and an answer without a matching
// a=crypto ends the call.

// errSRTPChange refuses a re-INVITE that turns SRTP on or off.
var errSRTPChange = errors.New("sdp: a re-INVITE cannot turn SRTP on or off")

// rekeyLocked applies the crypto of a re-INVITE's offer: it checks it
// against the call's SRTP state, re-keys the leg when the far end's key
// (or the suite) changed, and updates our crypto for the answer. The
// caller holds s.mu and applies the offer after.
func (s *session) rekeyLocked(o Offer) error {
	switch {
	case (o.Crypto != nil) != (s.localCrypto != nil):
		return fmt.Errorf("%w (%w)", errSRTPChange, ErrSRTPPolicy)
	case o.Crypto == nil:
		return nil
	}
	local := *s.localCrypto
	local.Tag = o.Crypto.Tag
	if o.Crypto.Suite != local.Suite {
		local = newLocalCrypto(o.Crypto.Tag, o.Crypto.Suite)
	}
	old := s.remote.Crypto
	if old == nil || old.Suite != o.Crypto.Suite || !bytes.Equal(old.Key, o.Crypto.Key) || !bytes.Equal(local.Key, s.localCrypto.Key) {
		if err := s.leg.RekeySRTP(srtpKeys(&local, o.Crypto)); err != nil {
			return err
		}
		s.log.Info("call: SRTP re-keyed by re-INVITE", "suite", string(o.Crypto.Suite))
	}
	s.localCrypto = &local
	return nil
}

// lateOfferCrypto is the SRTP of a late-offer INVITE from trunk: when
// its policy requires SRTP, our key for the 200's offer and a stand-in
// for the far end's (random, known to nobody) that keys the leg until
// the ACK's answer brings the real one; else nil, nil.
func (s *Server) lateOfferCrypto(trunk string) (local, remote *SDESCrypto) {
	if s.srtpPolicy(trunk) != SRTPRequired {
		return nil, nil
	}
	l := newLocalCrypto(1, media.AESCM128HMACSHA1_80)
	r := SDESCrypto{Tag: 1, Suite: media.AESCM128HMACSHA1_80, Key: make([]byte, media.SRTPKeyLen)}
	_, _ = rand.Read(r.Key)
	return &l, &r
}

// answerCryptoLocked checks the crypto of the answer to our offer (the
// ACK of a late offer) against the offer and re-keys the leg with the
// far end's key. The caller holds s.mu.
func (s *session) answerCryptoLocked(a Offer) error {
	switch {
	case s.localCrypto == nil && a.Crypto != nil:
		return errors.New("sdp: answer is RTP/SAVP to a plain RTP offer")
	case s.localCrypto == nil:
		return nil
	case a.Crypto == nil:
		return fmt.Errorf("%w: answer without SRTP", ErrSRTPPolicy)
	case a.Crypto.Suite != s.localCrypto.Suite || a.Crypto.Tag != s.localCrypto.Tag:
		return fmt.Errorf("sdp: answer's crypto %d %s is not the one offered", a.Crypto.Tag, a.Crypto.Suite)
	}
	return s.leg.RekeySRTP(srtpKeys(s.localCrypto, a.Crypto))
}

// lateOfferCrypto applies the route's SRTP policy to the offer in the
// 2xx of our late-offer INVITE, and keys the leg, before it starts, with
// our fresh key and the far end's: the ACK's answer carries ours. It
// returns our crypto, nil for plain RTP.
func (a *dialAttempt) lateOfferCrypto(o Offer, policy string) (*SDESCrypto, error) {
	if err := checkSRTPPolicy(o, policy); err != nil {
		return nil, err
	}
	if o.Crypto == nil {
		return nil, nil
	}
	local := newLocalCrypto(o.Crypto.Tag, o.Crypto.Suite)
	if err := a.leg.SetSRTP(srtpKeys(&local, o.Crypto)); err != nil {
		return nil, err
	}
	return &local, nil
}
