package sip

import (
	"sync"
	"time"
)

// nonceWindow is how many nonce counts below the highest one seen are
// remembered, so that requests a client sent at the same time may arrive
// out of order.
const nonceWindow = 64

// maxTrackedNonces bounds the record of used nonces. Only requests with a
// correct digest response add to it, and entries go when their nonce
// expires.
const maxTrackedNonces = 100_000

// nonceCounts remembers which nonce counts (RFC 7616 nc) each nonce has
// been used with, so a captured Authorization header cannot be sent
// again: each (nonce, nc) is accepted once.
type nonceCounts struct {
	mu        sync.Mutex
	nonces    map[string]*nonceUse
	lastSweep time.Time
}

// nonceUse is one nonce's used counts: the highest, and a bitmap of the
// nonceWindow counts below it (bit i: highest-1-i was used).
type nonceUse struct {
	highest uint64
	below   uint64
	expires time.Time
}

func newNonceCounts() *nonceCounts {
	return &nonceCounts{nonces: map[string]*nonceUse{}}
}

// use records nonce count nc of nonce (good until expires) and reports
// whether it was new. A count more than nonceWindow below the highest one
// seen is refused.
func (c *nonceCounts) use(nonce string, nc uint64, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.nonces[nonce]
	if u == nil {
		if now.Sub(c.lastSweep) >= time.Minute {
			c.sweep(now)
		}
		if len(c.nonces) >= maxTrackedNonces {
			c.sweep(now)
			if len(c.nonces) >= maxTrackedNonces {
				return false // a fresh challenge gives a new nonce once old ones expire
			}
		}
		c.nonces[nonce] = &nonceUse{highest: nc, expires: expires}
		return true
	}
	switch {
	case nc > u.highest:
		shift := nc - u.highest
		if shift > nonceWindow {
			u.below = 0
		} else {
			u.below = u.below<<shift | 1<<(shift-1)
		}
		u.highest = nc
		return true
	case nc == u.highest || u.highest-nc > nonceWindow:
		return false
	}
	bit := uint64(1) << (u.highest - nc - 1)
	if u.below&bit != 0 {
		return false
	}
	u.below |= bit
	return true
}

// sweep forgets expired nonces.
func (c *nonceCounts) sweep(now time.Time) {
	c.lastSweep = now
	for n, u := range c.nonces {
		if !now.Before(u.expires) {
			delete(c.nonces, n)
		}
	}
}
