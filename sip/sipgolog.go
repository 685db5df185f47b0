package sip

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// maxLoggedValue is how much of a string sipgo logs is kept: enough to
// recognize an error, never a whole message.
const maxLoggedValue = 160

// sipgoLog is the slog.Handler of the logger handed to sipgo's transport
// and transaction layers. sipgo logs every unparseable datagram at ERROR
// with its whole payload, and every idle TCP connection closed as a read
// error; a peer sending junk would fill the disk. This handler:
//
//   - counts unparseable messages (Config.Refused "message",
//     "unparseable") and logs them as one short WARN line at most every
//     interval, with the payload's size instead of the payload;
//   - logs a TCP connection closed for idleness at DEBUG (counted as
//     "tcp", "idle_timeout");
//   - lets other WARN and ERROR lines through at most once per interval
//     per message, strings cut to maxLoggedValue; DEBUG and INFO pass as
//     they are.
type sipgoLog struct {
	next  slog.Handler
	state *sipgoLogState
}

type sipgoLogState struct {
	interval time.Duration
	refused  func(kind, reason string)
	mu       sync.Mutex
	limiters map[string]*logLimiter // by message: sipgo's messages are constant strings
}

func newSipgoLog(next slog.Handler, interval time.Duration, refused func(kind, reason string)) *slog.Logger {
	return slog.New(&sipgoLog{next: next, state: &sipgoLogState{interval: interval, refused: refused, limiters: map[string]*logLimiter{}}})
}

func (h *sipgoLog) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn || h.next.Enabled(ctx, level)
}

func (h *sipgoLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sipgoLog{next: h.next.WithAttrs(attrs), state: h.state}
}

func (h *sipgoLog) WithGroup(name string) slog.Handler {
	return &sipgoLog{next: h.next.WithGroup(name), state: h.state}
}

func (h *sipgoLog) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case r.Message == "failed to parse":
		h.state.refused("message", "unparseable")
		return h.limited(ctx, slog.LevelWarn, "sip: unparseable message dropped", r)
	case r.Message == "Read error" && isTimeout(r):
		h.state.refused("tcp", "idle_timeout")
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		return h.next.Handle(ctx, shortened(slog.LevelDebug, "sip: idle TCP connection closed", r))
	case r.Level >= slog.LevelWarn:
		return h.limited(ctx, r.Level, r.Message, r)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// limited logs r as msg at level unless a line with r's message went out
// less than the interval ago.
func (h *sipgoLog) limited(ctx context.Context, level slog.Level, msg string, r slog.Record) error {
	st := h.state
	st.mu.Lock()
	l := st.limiters[r.Message]
	if l == nil {
		l = &logLimiter{interval: st.interval}
		st.limiters[r.Message] = l
	}
	st.mu.Unlock()
	held, ok := l.allow(time.Now())
	if !ok || !h.next.Enabled(ctx, level) {
		return nil
	}
	out := shortened(level, msg, r)
	if held > 0 {
		out.AddAttrs(slog.Int("similar_lines_suppressed", held))
	}
	return h.next.Handle(ctx, out)
}

// shortened copies r with a new level and message, its "data" attribute
// replaced by its length and other strings cut to maxLoggedValue.
func shortened(level slog.Level, msg string, r slog.Record) slog.Record {
	out := slog.NewRecord(r.Time, level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		switch {
		case a.Key == "data":
			out.AddAttrs(slog.Int("bytes", len(v.String())))
		case v.Kind() == slog.KindString || v.Kind() == slog.KindAny:
			out.AddAttrs(slog.String(a.Key, cut(v.String())))
		default:
			out.AddAttrs(a)
		}
		return true
	})
	return out
}

func cut(s string) string {
	if len(s) <= maxLoggedValue {
		return s
	}
	return s[:maxLoggedValue] + "…"
}

// isTimeout reports whether r's "error" attribute is a timeout.
func isTimeout(r slog.Record) bool {
	timeout := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			if err, ok := a.Value.Any().(error); ok {
				var ne net.Error
				timeout = errors.As(err, &ne) && ne.Timeout()
			}
			return false
		}
		return true
	})
	return timeout
}

// sipgoLogOptions hand sipgo's transport and transaction layers a logger
// that keeps hostile input out of the log (see sipgoLog).
func (s *Server) sipgoLogOptions() []sipgo.UserAgentOption {
	l := newSipgoLog(s.log.Handler(), 10*time.Second, s.refused)
	return []sipgo.UserAgentOption{
		sipgo.WithUserAgentTransportLayerOptions(sipmsg.WithTransportLayerLogger(l)),
		sipgo.WithUserAgentTransactionLayerOptions(sipmsg.WithTransactionLayerLogger(l)),
	}
}
