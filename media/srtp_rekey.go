package media

import (
	"fmt"
	"time"
)

// SRTP re-keying
//
// A re-INVITE may carry new a=crypto keys (RFC 4568 §7.1.4). RekeySRTP
// hands the new contexts to the running loops through two atomic
// pointers; each loop adopts its own at its next packet, so the contexts
// stay owned by one goroutine each. The send loop switches at once (the
// rollover counter of our SSRC carries over, as the sequence numbers
// do). The receive loop keeps the old context beside the new one: the far
// end may send with its old key until our answer reaches it, and packets
// in flight arrive after that; a packet that does not authenticate with
// the new key is tried with the old one, until srtpOverlap after the
// first packet under the new key, and never longer than srtpOverlapMax.
// So a re-key loses nothing in either direction.

const (
	srtpOverlap    = 2 * time.Second  // old key still accepted after the new one is first used
	srtpOverlapMax = 32 * time.Second // old key dropped after this whatever happens (64·T1)
)

// srtpFallback is the receive loop's previous SRTP context.
type srtpFallback struct {
	old      *srtpState // nil: none
	newSeen  time.Time  // when a packet first authenticated with the new key
	deadline time.Time  // srtpOverlapMax after the switch
}

// RekeySRTP switches the leg to new SRTP keys (see the notes in
// srtp_rekey.go), while it runs or before it starts. A leg that had no
// SRTP becomes SRTP: its packets are protected from the next one, and
// plain packets are no longer accepted. It returns an error, and changes
// nothing, when the keys are unusable.
func (l *RTPLeg) RekeySRTP(k *SRTPKeys) error {
	if k == nil {
		return fmt.Errorf("media: RekeySRTP without keys")
	}
	tx, err := newSRTPState(k.Suite, k.Local)
	if err != nil {
		return err
	}
	rx, err := newSRTPState(k.Suite, k.Remote)
	if err != nil {
		return err
	}
	l.rekeyTx.Store(tx)
	l.rekeyRx.Store(rx)
	return nil
}

// adoptTxKey takes a pending send context, if any. The send loop calls
// it before protecting a packet.
func (l *RTPLeg) adoptTxKey() {
	if l.rekeyTx.Load() == nil {
		return
	}
	next := l.rekeyTx.Swap(nil)
	if next == nil {
		return
	}
	if old := l.tx.srtp; old != nil {
		if roc, ok := old.ctx.ROC(l.ssrc); ok {
			next.ctx.SetROC(l.ssrc, roc)
		}
	}
	l.tx.srtp = next
}

// adoptRxKey takes a pending receive context, if any, keeping the
// current one as the fallback. The receive loop calls it before reading
// a packet.
func (l *RTPLeg) adoptRxKey(now time.Time) {
	if l.rekeyRx.Load() == nil {
		return
	}
	next := l.rekeyRx.Swap(nil)
	if next == nil {
		return
	}
	rx := &l.rx
	if old := rx.srtp; old != nil {
		if ssrc := rx.hdr.SSRC; ssrc != 0 {
			if roc, ok := old.ctx.ROC(ssrc); ok {
				next.ctx.SetROC(ssrc, roc)
			}
		}
		rx.srtpOld = srtpFallback{old: old, deadline: now.Add(srtpOverlapMax)}
	}
	rx.srtp = next
}

// unprotectSRTP authenticates and decrypts b with the current receive
// context, or with the previous one during a re-key's overlap.
func (rx *rtpRecvState) unprotectSRTP(b []byte, now time.Time) ([]byte, error) {
	plain, err := rx.srtp.unprotect(b)
	fb := &rx.srtpOld
	if fb.old == nil {
		return plain, err
	}
	if err == nil {
		if fb.newSeen.IsZero() {
			fb.newSeen = now
		}
		return plain, nil
	}
	if now.After(fb.deadline) || !fb.newSeen.IsZero() && now.Sub(fb.newSeen) > srtpOverlap {
		*fb = srtpFallback{} // the overlap is over
		return nil, err
	}
	return fb.old.unprotect(b)
}
