package queue

import (
	"log/slog"
	"time"

	"github.com/voxgate/voxgate/clock"
)

// Defaults applied by NewManager to zero Config fields.
const (
	DefaultOfferTimeout   = 20 * time.Second
	DefaultWrapUp         = 3 * time.Second
	DefaultMaxSize        = 1000
	DefaultNotifyInterval = 500 * time.Millisecond
)

// Config tunes a Manager. The zero value is usable.
type Config struct {
	// OfferTimeout is how long an agent may ring before the offer expires
	// (default 20 s).
	OfferTimeout time.Duration
	// WrapUp is how long an agent stays busy after a call before new
	// offers (default 3 s; negative: no wrap-up).
	WrapUp time.Duration
	// DefaultMaxSize is the size limit of queues the Manager creates
	// itself, and of resolved queues reporting no size (default 1000).
	DefaultMaxSize int
	// NotifyInterval coalesces QueuesChanged events: an agent gets at
	// most one per interval, carrying the latest sizes (default 500 ms).
	NotifyInterval time.Duration
	// Resolve maps a queue name to its SID and max size (the gateway
	// backs it with the store, creating queues on demand). It is called
	// on every Enqueue, without the Manager's lock held, so a size changed
	// through REST applies to the next caller. nil: SIDs are made with
	// sid.New(sid.Queue) and kept in memory.
	Resolve func(name string) (sid string, maxSize int, err error)
	// Clock is the time source (default: the wall clock).
	Clock clock.Clock
	// Logger receives debug records of offers and warnings (default:
	// discard).
	Logger *slog.Logger
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.OfferTimeout <= 0 {
		c.OfferTimeout = DefaultOfferTimeout
	}
	if c.WrapUp == 0 {
		c.WrapUp = DefaultWrapUp
	}
	if c.DefaultMaxSize <= 0 {
		c.DefaultMaxSize = DefaultMaxSize
	}
	if c.NotifyInterval <= 0 {
		c.NotifyInterval = DefaultNotifyInterval
	}
	if c.Clock == nil {
		c.Clock = clock.Real
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
