package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Files the gateway keeps in its storage directory for recovery.
const (
	// LockFileName is held (flock) by the running gateway: a second
	// gateway on the same directory must not take the first one's live
	// calls for leftovers.
	LockFileName = "voxgate.lock"
	// AliveFileName's modification time is when the gateway was last seen
	// running: it is touched every AliveEvery. After a crash it bounds
	// when the calls that were live ended.
	AliveFileName = "voxgate.alive"
	// AliveEvery is how often the alive file is touched.
	AliveEvery = time.Second
)

// ErrLocked is returned by Lock when another process holds the directory.
var ErrLocked = errors.New("recovery: the storage directory is in use by another process")

// Lock takes the storage directory dir for this process until unlock is
// called (or the process ends, however it ends). It returns ErrLocked when
// another process has it.
func Lock(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("recovery: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("recovery: lock: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// LastAlive returns when the process that used dir before was last seen
// running (zero when unknown).
func LastAlive(dir string) time.Time {
	fi, err := os.Stat(filepath.Join(dir, AliveFileName))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime().UTC()
}

// KeepAlive touches dir's alive file now and every AliveEvery until ctx
// ends; it returns then. Run it in a goroutine the caller waits for.
func KeepAlive(ctx context.Context, dir string) {
	path := filepath.Join(dir, AliveFileName)
	touch := func() {
		now := time.Now()
		if err := os.Chtimes(path, now, now); errors.Is(err, os.ErrNotExist) {
			if f, err := os.Create(path); err == nil {
				f.Close()
			}
		}
	}
	touch()
	t := time.NewTicker(AliveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			touch()
		}
	}
}
