package functions

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// rssLimitMB is the resident memory a worker may use when its JavaScript
// heap is capped at heapMB: the heap, V8's own overhead and memory outside
// the heap (Buffers, typed arrays) together.
func rssLimitMB(heapMB int) int { return 2*heapMB + 128 }

// memoryCheckEvery is how often workers' resident memory is read.
const memoryCheckEvery = 250 * time.Millisecond

// residentMB reads a process's resident set size from /proc.
func residentMB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, err
	}
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0, fmt.Errorf("statm: %q", b)
	}
	pages, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return 0, fmt.Errorf("statm: %w", err)
	}
	return pages * os.Getpagesize() >> 20, nil
}

// watchMemory kills any worker of the pool whose resident memory passes
// the limit (V8's heap cap does not see Buffers), until the pool closes.
func (p *pool) watchMemory() {
	defer p.wg.Done()
	limit := rssLimitMB(p.spec.memoryMB)
	t := time.NewTicker(memoryCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		workers := append([]*worker(nil), p.workers...)
		p.mu.Unlock()
		for _, w := range workers {
			if w.dead.Load() {
				continue
			}
			mb, err := residentMB(w.cmd.Process.Pid)
			if err != nil || mb <= limit {
				continue
			}
			p.log.Error("functions: a worker passed its memory limit; killing it", "pid", w.cmd.Process.Pid, "resident_mb", mb, "limit_mb", limit, "code", codeFunctionError)
			w.kill()
		}
	}
}
