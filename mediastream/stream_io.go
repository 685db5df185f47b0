package mediastream

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/coder/websocket"

	"github.com/voxgate/voxgate/media"
)

// resyncAfter is how far a track's timestamps may fall behind real time
// (the caller stopped sending RTP, frames were dropped) before the next
// frame's timestamp jumps to the real elapsed time.
const resyncAfter = 60 * time.Millisecond

// WriteInbound streams one frame (8 kHz PCM, 20 ms) of what the caller
// said. It never blocks: when the server is behind, the frame is dropped
// and counted. It does nothing when the inbound track is not streamed.
func (s *Stream) WriteInbound(pcm []int16) { s.writeTrack(s.in, pcm) }

// WriteOutbound streams one frame of what the gateway sent the caller.
func (s *Stream) WriteOutbound(pcm []int16) { s.writeTrack(s.outb, pcm) }

func (s *Stream) writeTrack(t *trackClock, pcm []int16) {
	if t == nil || s.ctx.Err() != nil {
		return
	}
	elapsed := uint64(time.Since(s.begin) / time.Millisecond)
	t.mu.Lock()
	t.chunk++
	if t.chunk == 1 || elapsed > t.ts+20+uint64(resyncAfter/time.Millisecond) {
		t.ts = elapsed
	} else {
		t.ts += 20
	}
	chunk, ts := t.chunk, t.ts
	ok := s.out.pushMedia(t.name, chunk, ts, pcm)
	t.mu.Unlock()
	if ok {
		return
	}
	s.stats.dropped()
	if !s.warned[warnOverflow].Swap(true) {
		s.log.Warn("media stream server is not keeping up: caller audio discarded", "code", CodeBufferOverflow)
	}
}

// DTMF sends a key the caller pressed (bidirectional streams only, as on
// Twilio).
func (s *Stream) DTMF(key byte) {
	if !s.cfg.Bidirectional || s.ctx.Err() != nil {
		return
	}
	s.pushControl(outMsg{kind: outDTMF, digit: key})
}

func (s *Stream) pushControl(m outMsg) {
	if !s.out.pushControl(m) {
		s.stats.dropped()
	}
}

// ReadFrame implements media.Source for a bidirectional stream: the next
// 20 ms of the server's audio (silence when it sent none), echoing the
// marks that audio reaches. It returns io.EOF once the stream has ended,
// and at once for a one-way stream.
func (s *Stream) ReadFrame(p []int16) (int, error) {
	if s.play == nil {
		return 0, io.EOF
	}
	select {
	case <-s.done:
		return 0, io.EOF
	default:
	}
	n := min(len(p), frameBytes)
	var names [maxMarksPerFrame]string
	k := s.play.take(s.playFrame[:n], &names)
	media.PCMU.Decode(p[:0], s.playFrame[:n])
	for _, name := range names[:k] {
		s.pushControl(outMsg{kind: outMark, name: name})
	}
	return n, nil
}

var _ media.Source = (*Stream)(nil)

// writeLoop owns writes after start: it numbers and sends queued
// messages, and on Stop sends stop and closes the socket.
func (s *Stream) writeLoop() {
	buf := make([]byte, 0, 512)
	var m outMsg
	seq := uint64(1) // start was 1
	for {
		select {
		case <-s.stopReq:
			s.sendStop(buf, seq+1)
			return
		case <-s.ctx.Done():
			return
		case <-s.out.notify:
		}
		for s.out.pop(&m) {
			select {
			case <-s.stopReq:
				s.sendStop(buf, seq+1)
				return
			default:
			}
			seq++
			buf = s.encode(buf[:0], &m, seq)
			if err := s.write(buf); err != nil {
				// The socket is closed or broken: the reader says which
				// (a close frame from the server, or an error).
				s.conn.CloseNow()
				return
			}
			if m.kind == outMedia {
				s.stats.sent()
			}
		}
	}
}

func (s *Stream) encode(b []byte, m *outMsg, seq uint64) []byte {
	switch m.kind {
	case outDTMF:
		return appendDTMF(b, seq, s.sid, m.digit)
	case outMark:
		return appendMark(b, seq, s.sid, m.name)
	}
	return appendMedia(b, seq, s.sid, m.track, m.chunk, m.ts, m.audio[:])
}

// write sends one text message. It passes no cancellable context (with
// one the library allocates a context.AfterFunc per message): watch
// closes the connection when a write takes longer than WriteTimeout, and
// the stream's end closes it too.
func (s *Stream) write(b []byte) error {
	s.writeStart.Store(time.Now().UnixNano())
	err := s.conn.Write(context.Background(), websocket.MessageText, b)
	s.writeStart.Store(0)
	return err
}

func (s *Stream) sendStop(buf []byte, seq uint64) {
	buf = appendStop(buf[:0], seq, s.sid, s.cfg.AccountSID, s.cfg.CallSID)
	if err := s.write(buf); err != nil {
		s.setErr(&Error{Code: CodeCloseError, Err: err})
		return
	}
	// Close waits for the server's close frame (the reader gets it).
	if err := s.conn.Close(websocket.StatusNormalClosure, ""); err != nil && s.ctx.Err() == nil {
		s.log.Debug("media stream close handshake", "err", err)
	}
	s.cancel()
}

// readLoop owns reads: the server's messages, and the end of the socket.
func (s *Stream) readLoop() {
	for {
		typ, data, err := s.conn.Read(s.ctx)
		if err != nil {
			s.readEnded(err)
			return
		}
		if typ != websocket.MessageText {
			s.warnOnce(warnBinary, CodeMalformedMessage, "media stream server sent a binary frame: ignored")
			continue
		}
		if !s.cfg.Bidirectional {
			s.warnOnce(warnOneWay, CodeProtocolError, "media stream server sent a message on a one-way stream: ignored")
			continue
		}
		s.handle(data)
	}
}

// handle applies one message from the server.
func (s *Stream) handle(data []byte) {
	m, audio, err := parseInbound(data, s.sid)
	if err != nil {
		s.warnOnce(warnInvalid, CodeInvalidMessage, "media stream server sent an invalid message: ignored", "err", err)
		return
	}
	switch m.Event {
	case "media":
		if lost := s.play.push(audio); lost > 0 {
			s.stats.discarded(lost)
			s.warnOnce(warnPlayout, CodeMediaDiscarded, "media stream server sent more audio than may be buffered: discarded", "bytes", lost)
		}
	case "mark":
		if s.play.mark(m.Mark.Name) {
			s.pushControl(outMsg{kind: outMark, name: m.Mark.Name})
		}
	case "clear":
		for _, name := range s.play.clear() {
			s.pushControl(outMsg{kind: outMark, name: name})
		}
	}
}

// readEnded classifies the end of the socket.
func (s *Stream) readEnded(err error) {
	select {
	case <-s.stopReq:
		s.cancel()
		return // we stopped it
	default:
	}
	if s.ctx.Err() != nil {
		return
	}
	switch status := websocket.CloseStatus(err); status {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		s.setErr(ErrServerClosed)
	case -1:
		s.setErr(&Error{Code: CodeCloseError, Err: errors.Join(errors.New("connection lost without a close frame"), err)})
	default:
		s.setErr(&Error{Code: CodeCloseError, Err: err})
	}
}

// watch stops the stream when the call's context ends, and fails it when
// a write to the server has hung for WriteTimeout.
func (s *Stream) watch(call context.Context) {
	tick := time.NewTicker(s.cfg.WriteTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-call.Done():
			s.stopOnce.Do(func() { close(s.stopReq) })
			return
		case now := <-tick.C:
			if began := s.writeStart.Load(); began != 0 && now.Sub(time.Unix(0, began)) > s.cfg.WriteTimeout {
				s.setErr(&Error{Code: CodeConnectionTimeout, Err: errors.New("the server stopped reading: a write hung for " + s.cfg.WriteTimeout.String())})
				s.conn.CloseNow() // unblocks the write
			}
		}
	}
}

// setErr records the first reason the stream ended and ends it.
func (s *Stream) setErr(err error) {
	s.errOnce.Do(func() { s.err = err })
	s.cancel()
}

// finish runs once both loops have returned.
func (s *Stream) finish() {
	s.errOnce.Do(func() {}) // seals s.err: a late setErr changes nothing
	s.cancel()
	s.conn.CloseNow()
	s.stats.ended()
	var e *Error
	if errors.As(s.err, &e) {
		s.stats.failed(e.Code)
		s.log.Error("media stream failed", "code", e.Code, "err", e.Err)
		s.event("stream-error", e)
	} else {
		s.log.Info("media stream stopped", "byServer", s.err != nil)
		s.event("stream-stopped", nil)
	}
	close(s.done)
}

func (s *Stream) event(name string, e *Error) {
	if s.cfg.OnEvent == nil {
		return
	}
	streamName := s.cfg.Name
	if streamName == "" {
		streamName = s.sid
	}
	s.cfg.OnEvent(Event{Name: name, StreamSID: s.sid, StreamName: streamName, Err: e, At: time.Now()})
}

// Warnings logged once per stream.
const (
	warnOverflow = iota
	warnBinary
	warnOneWay
	warnInvalid
	warnPlayout
	numWarnings
)

func (s *Stream) warnOnce(which int, code int, msg string, args ...any) {
	s.stats.warned(code)
	if s.warned[which].Swap(true) {
		return
	}
	s.log.Warn(msg, append([]any{"code", code}, args...)...)
}
