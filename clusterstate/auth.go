package clusterstate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// AuthHeader carries a node's proof on an internal HTTP request or SIP
// INVITE: "<unix seconds>.<hex HMAC-SHA256>" over what the request is.
const AuthHeader = "X-Voxgate-Cluster-Auth"

// maxSkew is how far a proof's time may be from ours (clock skew and
// transit): an older proof is refused, so a captured one cannot be
// replayed later.
const maxSkew = 60 * time.Second

// Signer makes and checks the proofs nodes put on what they send each
// other. The zero value is unusable; use NewSigner.
type Signer struct{ key []byte }

// NewSigner makes a Signer from the cluster's shared secret.
func NewSigner(secret string) Signer {
	k := sha256.Sum256([]byte("voxgate cluster v1\x00" + secret))
	return Signer{key: k[:]}
}

// Sign returns the proof for parts at time now.
func (s Signer) Sign(now time.Time, parts ...string) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + s.mac(ts, parts)
}

func (s Signer) mac(ts string, parts []string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(ts))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// ErrBadProof: a request between nodes without a valid, fresh proof.
var ErrBadProof = errors.New("clusterstate: missing, wrong or stale cluster proof")

// Verify checks a proof made by Sign over the same parts.
func (s Signer) Verify(now time.Time, proof string, parts ...string) error {
	ts, mac, ok := strings.Cut(proof, ".")
	if !ok {
		return ErrBadProof
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadProof
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return ErrBadProof
	}
	if !hmac.Equal([]byte(mac), []byte(s.mac(ts, parts))) {
		return ErrBadProof
	}
	return nil
}
