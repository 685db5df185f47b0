package smpp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrConnectionLost is returned for a request whose connection closed
// before its response arrived: the SMSC may or may not have acted on it.
var ErrConnectionLost = errors.New("smpp: connection lost before the response")

// ErrResponseTimeout is returned when a response does not arrive in time.
var ErrResponseTimeout = errors.New("smpp: no response in time")

// StatusError is an SMSC's answer with a non-zero command_status.
type StatusError struct {
	Command uint32
	Status  uint32
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("smpp: command 0x%08x answered %s", e.Command, StatusName(e.Status))
}

// session is one bound TCP connection.
type session struct {
	conn    net.Conn
	log     *slog.Logger
	seq     *atomic.Uint32
	window  chan struct{} // one token per outstanding request
	timeout time.Duration

	wmu sync.Mutex // serialises writes
	bw  *bufio.Writer

	mu      sync.Mutex
	pending map[uint32]chan *PDU
	closed  bool
	done    chan struct{} // closed when the read loop ends

	lastRead atomic.Int64 // unix nanoseconds of the last PDU read
	err      error        // why the read loop ended; read after done
}

func newSession(conn net.Conn, log *slog.Logger, seq *atomic.Uint32, window int, timeout time.Duration) *session {
	s := &session{conn: conn, log: log, seq: seq, window: make(chan struct{}, window), timeout: timeout,
		bw: bufio.NewWriter(conn), pending: map[uint32]chan *PDU{}, done: make(chan struct{})}
	s.lastRead.Store(time.Now().UnixNano())
	return s
}

// nextSeq returns the next sequence number (1…0x7FFFFFFF, wrapping).
func nextSeq(seq *atomic.Uint32) uint32 {
	for {
		n := seq.Add(1)
		if n&0x7FFFFFFF != 0 {
			return n & 0x7FFFFFFF
		}
	}
}

// write sends one PDU.
func (s *session) write(p *PDU) error {
	buf, err := p.Encode(make([]byte, 0, 64))
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.bw.Write(buf); err != nil {
		return err
	}
	return s.bw.Flush()
}

// request sends p with a fresh sequence number within the window and
// waits for its response.
func (s *session) request(ctx context.Context, p *PDU) (*PDU, error) {
	select {
	case s.window <- struct{}{}:
	case <-s.done:
		return nil, ErrConnectionLost
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.window }()
	p.Sequence = nextSeq(s.seq)
	ch := make(chan *PDU, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrConnectionLost
	}
	s.pending[p.Sequence] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, p.Sequence)
		s.mu.Unlock()
	}()
	if err := s.write(p); err != nil {
		s.close()
		return nil, fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case resp := <-ch:
		if resp == nil {
			return nil, ErrConnectionLost
		}
		if resp.CommandID == GenericNack || resp.Status != ESME_ROK {
			return resp, &StatusError{Command: p.CommandID, Status: resp.Status}
		}
		return resp, nil
	case <-t.C:
		return nil, ErrResponseTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close closes the connection; pending requests fail with
// ErrConnectionLost once the read loop ends.
func (s *session) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = s.conn.Close()
}

// readLoop reads PDUs until the connection fails; responses go to their
// waiting requests, requests to handle (which must not block for long:
// deliver_sm handling runs on goroutines it starts). It closes done and
// fails every pending request when it returns.
func (s *session) readLoop(handle func(*PDU)) {
	s.err = s.read(handle)
	close(s.done)
}

func (s *session) read(handle func(*PDU)) error {
	defer func() {
		s.close()
		s.mu.Lock()
		for seq, ch := range s.pending {
			close(ch)
			delete(s.pending, seq)
		}
		s.mu.Unlock()
	}()
	br := bufio.NewReaderSize(s.conn, 16<<10)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n < headerLen || n > MaxPDULength {
			_ = s.write(&PDU{CommandID: GenericNack, Status: ESME_RINVCMDLEN})
			return fmt.Errorf("%w: command_length %d", ErrMalformed, n)
		}
		buf := make([]byte, n)
		copy(buf, hdr[:])
		if _, err := io.ReadFull(br, buf[4:]); err != nil {
			return err
		}
		s.lastRead.Store(time.Now().UnixNano())
		p, err := Decode(buf)
		if err != nil {
			seq := binary.BigEndian.Uint32(buf[12:])
			s.log.Warn("smpp: undecodable PDU answered with generic_nack", "error", err, "sequence", seq)
			_ = s.write(&PDU{CommandID: GenericNack, Status: ESME_RINVMSGLEN, Sequence: seq})
			continue
		}
		if p.IsResponse() {
			s.mu.Lock()
			ch := s.pending[p.Sequence]
			delete(s.pending, p.Sequence)
			s.mu.Unlock()
			if ch != nil {
				ch <- p
			} else {
				s.log.Debug("smpp: response to no outstanding request", "command", fmt.Sprintf("0x%08x", p.CommandID), "sequence", p.Sequence)
			}
			continue
		}
		handle(p)
	}
}
