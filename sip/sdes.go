package sip

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/voxgate/voxgate/media"
)

// SRTP policies of a trunk (Trunk.SRTP).
const (
	SRTPOff      = "off"      // plain RTP only: an offer of RTP/SAVP gets 488
	SRTPOptional = "optional" // SRTP when the far end offers it
	SRTPRequired = "required" // an offer of plain RTP gets 488; Dial offers RTP/SAVP
)

// ErrSRTPPolicy is returned for an offer the trunk's SRTP policy refuses.
var ErrSRTPPolicy = errors.New("sdp: offer does not meet the trunk's SRTP policy")

// SDESCrypto is one a=crypto attribute (RFC 4568 §9.1) with its key.
type SDESCrypto struct {
	Tag   int
	Suite media.SRTPSuite
	Key   []byte // master key || master salt (media.SRTPKeyLen bytes)
}

// String renders the attribute's value: "TAG SUITE inline:KEY".
func (c SDESCrypto) String() string {
	return strconv.Itoa(c.Tag) + " " + string(c.Suite) + " inline:" + base64.StdEncoding.EncodeToString(c.Key)
}

// parseCrypto reads an a=crypto value. Key lifetimes are accepted and
// ignored; MKIs and several keys per line are not supported.
func parseCrypto(v string) (SDESCrypto, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return SDESCrypto{}, errors.New("sdp: crypto attribute too short")
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return SDESCrypto{}, errors.New("sdp: crypto tag is not a number")
	}
	suite := media.SRTPSuite(f[1])
	if !suite.Supported() {
		return SDESCrypto{}, fmt.Errorf("sdp: crypto suite %q not supported", f[1])
	}
	params, ok := strings.CutPrefix(f[2], "inline:")
	if !ok || strings.Contains(params, ";") {
		return SDESCrypto{}, errors.New("sdp: crypto key params must be one inline key")
	}
	keyText, lifetimeMKI, _ := strings.Cut(params, "|")
	if strings.Count(lifetimeMKI, ":") > 0 {
		return SDESCrypto{}, errors.New("sdp: crypto MKI not supported")
	}
	key, err := base64.StdEncoding.DecodeString(keyText)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(keyText)
	}
	if err != nil || len(key) != media.SRTPKeyLen {
		return SDESCrypto{}, errors.New("sdp: crypto key is not 30 bytes of base64")
	}
	return SDESCrypto{Tag: tag, Suite: suite, Key: key}, nil
}

// pickCrypto returns the first a=crypto of md we support.
func pickCrypto(md *sdp.MediaDescription) (SDESCrypto, bool) {
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		if c, err := parseCrypto(a.Value); err == nil {
			return c, true
		}
	}
	return SDESCrypto{}, false
}

// newLocalCrypto returns our side of a crypto attribute: tag and suite
// as given, a fresh random key.
func newLocalCrypto(tag int, suite media.SRTPSuite) SDESCrypto {
	key := make([]byte, media.SRTPKeyLen)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	return SDESCrypto{Tag: tag, Suite: suite, Key: key}
}

// srtpKeys pairs our crypto with the far end's for a leg.
func srtpKeys(local, remote *SDESCrypto) *media.SRTPKeys {
	if local == nil || remote == nil {
		return nil
	}
	return &media.SRTPKeys{Suite: remote.Suite, Local: local.Key, Remote: remote.Key}
}

// checkSRTPPolicy applies a trunk's SRTP policy to an offer.
func checkSRTPPolicy(o Offer, policy string) error {
	switch {
	case policy == SRTPRequired && o.Crypto == nil:
		return fmt.Errorf("%w: RTP/SAVP required", ErrSRTPPolicy)
	case policy == SRTPOff && o.Crypto != nil:
		return fmt.Errorf("%w: SRTP is off", ErrSRTPPolicy)
	}
	return nil
}
