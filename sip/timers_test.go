package sip

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The timer tests run in a synctest bubble: time is fake and advances only
// when every goroutine of the test is blocked, so the schedules below are
// exact, whatever the load of the machine.

const (
	testT1 = 500 * time.Millisecond
	testT2 = 4 * time.Second
)

// sendLog records when something was sent, as offsets from its start.
type sendLog struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func newSendLog() *sendLog { return &sendLog{start: time.Now()} }

func (l *sendLog) record() {
	l.mu.Lock()
	l.at = append(l.at, time.Since(l.start))
	l.mu.Unlock()
}

func (l *sendLog) times() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at)
}

func seconds(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, s := range v {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}

// The 2xx is retransmitted after T1, then at intervals doubling up to T2,
// and given up 64·T1 after it was first sent (RFC 3261 §13.3.1.4).
func TestRetransmit2xxScheduleWithoutAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newSendLog()
		out := retransmit2xx(nil, nil, testT1, testT2, func() error { log.record(); return nil })
		if out != ackTimedOut {
			t.Fatalf("outcome %v, want timed out", out)
		}
		if waited := time.Since(log.start); waited != 64*testT1 {
			t.Errorf("gave up after %v, want 64·T1 = %v", waited, 64*testT1)
		}
		want := seconds(0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)
		if got := log.times(); !slices.Equal(got, want) {
			t.Errorf("retransmissions at %v, want %v", got, want)
		}
	})
}

func TestRetransmit2xxStopsAtAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newSendLog()
		acked := make(chan struct{})
		go func() {
			time.Sleep(2 * time.Second) // after the retransmissions at 0.5 and 1.5 s
			close(acked)
		}()
		out := retransmit2xx(acked, nil, testT1, testT2, func() error { log.record(); return nil })
		if out != ackReceived {
			t.Fatalf("outcome %v, want acked", out)
		}
		if got, want := log.times(), seconds(0.5, 1.5); !slices.Equal(got, want) {
			t.Errorf("retransmissions at %v, want %v", got, want)
		}
		if d := time.Since(log.start); d != 2*time.Second {
			t.Errorf("returned %v after the start, want at the ACK (2s)", d)
		}
	})
}

func TestRetransmit2xxAbortedWhenDialogEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		aborted := make(chan struct{})
		time.AfterFunc(time.Second, func() { close(aborted) })
		start := time.Now()
		out := retransmit2xx(nil, aborted, testT1, testT2, func() error { return nil })
		if out != ackWaitAborted || time.Since(start) != time.Second {
			t.Errorf("outcome %v after %v, want aborted after 1s", out, time.Since(start))
		}
	})
}

// A failed send (a transient transport error, the transaction gone)
// does not change the schedule: the retransmissions and the ACK wait go on.
func TestRetransmit2xxSendFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newSendLog()
		out := retransmit2xx(nil, nil, testT1, testT2, func() error {
			log.record()
			return errors.New("sendto: operation not permitted")
		})
		if out != ackTimedOut || time.Since(log.start) != 64*testT1 {
			t.Errorf("outcome %v after %v, want timed out after 64·T1", out, time.Since(log.start))
		}
		if got := log.times(); len(got) != 10 {
			t.Errorf("sent at %v, want the 10 retransmissions of the schedule", got)
		}
	})
}

func TestRetransmit2xxScaledT1(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newSendLog()
		t1 := 100 * time.Millisecond
		retransmit2xx(nil, nil, t1, testT2, func() error { log.record(); return nil })
		got := log.times()
		// Intervals 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s: all under T2; 64·T1 = 6.4 s.
		want := seconds(0.1, 0.3, 0.7, 1.5, 3.1, 6.3)
		if len(got) != len(want) || !slices.Equal(got, want) {
			t.Errorf("retransmissions at %v, want %v", got, want)
		}
	})
}

// fakeConn is a sipgo Connection that records when messages are written.
type fakeConn struct {
	log  *sendLog
	mu   sync.Mutex
	msgs []sipmsg.Message
}

func (c *fakeConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060} }
func (c *fakeConn) WriteMsg(m sipmsg.Message) error {
	c.log.record()
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	return nil
}
func (c *fakeConn) Ref(int) int              { return 1 }
func (c *fakeConn) TryClose() (int, error)   { return 0, nil }
func (c *fakeConn) Close() error             { return nil }
func discardLogger() *slog.Logger            { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (c *fakeConn) written() []time.Duration { return c.log.times() }

func testRequest(t *testing.T, method sipmsg.RequestMethod, transport string) *sipmsg.Request {
	t.Helper()
	req := sipmsg.NewRequest(method, sipmsg.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: 5070})
	via := &sipmsg.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport, Host: "127.0.0.1", Port: 5060, Params: sipmsg.NewParams()}
	via.Params.Add("branch", sipmsg.GenerateBranch())
	req.AppendHeader(via)
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1"}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", "a1")
	req.AppendHeader(from)
	req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}, Params: sipmsg.NewParams()})
	cid := sipmsg.CallIDHeader("timers-test")
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: method})
	req.SetTransport(transport)
	return req
}

// clientTxLife runs a client transaction that is never answered and
// returns when it wrote its request and how long it lived.
func clientTxLife(t *testing.T, method sipmsg.RequestMethod, transport string) (sent []time.Duration, life time.Duration, err error) {
	conn := &fakeConn{log: newSendLog()}
	req := testRequest(t, method, transport)
	key, kerr := sipmsg.ClientTxKeyMake(req)
	if kerr != nil {
		t.Fatal(kerr)
	}
	tx := sipmsg.NewClientTx(key, req, conn, discardLogger())
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	<-tx.Done()
	return conn.written(), time.Since(conn.log.start), tx.Err()
}

// The transaction timers the gateway takes from sipgo, checked against
// RFC 3261 §17 (the README's timer table): a sipgo upgrade that changes
// them fails here.
func TestSipgoClientTransactionTimers(t *testing.T) {
	cases := []struct {
		name      string
		method    sipmsg.RequestMethod
		transport string
		sent      []time.Duration
	}{
		// Timer A: T1, doubling without cap; Timer B: 64·T1.
		{"INVITE over UDP (Timers A, B)", sipmsg.INVITE, "UDP", seconds(0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)},
		// Timer E: T1 doubling up to T2; Timer F: 64·T1. BYE, CANCEL,
		// INFO and OPTIONS we send all run this machine.
		{"BYE over UDP (Timers E, F)", sipmsg.BYE, "UDP", seconds(0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)},
		{"CANCEL over UDP (Timers E, F)", sipmsg.CANCEL, "UDP", seconds(0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)},
		// Reliable transports: no retransmission, Timers B and F still apply.
		{"INVITE over TCP (Timer B)", sipmsg.INVITE, "TCP", seconds(0)},
		{"BYE over TCP (Timer F)", sipmsg.BYE, "TCP", seconds(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sent, life, err := clientTxLife(t, c.method, c.transport)
				if !slices.Equal(sent, c.sent) {
					t.Errorf("sent at %v, want %v", sent, c.sent)
				}
				if life != 64*testT1 {
					t.Errorf("transaction timed out after %v, want 64·T1 = %v", life, 64*testT1)
				}
				if !errors.Is(err, sipmsg.ErrTransactionTimeout) {
					t.Errorf("error %v, want a transaction timeout", err)
				}
			})
		})
	}
}

// A BYE answered with 1xx keeps being retransmitted, at T2 intervals
// (RFC 3261 §17.1.2.2), until Timer F.
func TestSipgoNonInviteProceedingRetransmitsAtT2(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := &fakeConn{log: newSendLog()}
		req := testRequest(t, sipmsg.BYE, "UDP")
		key, _ := sipmsg.ClientTxKeyMake(req)
		tx := sipmsg.NewClientTx(key, req, conn, discardLogger())
		if err := tx.Init(); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				select {
				case <-tx.Responses():
				case <-tx.Done():
					return
				}
			}
		}()
		time.Sleep(time.Second) // after the retransmission at 0.5 s
		tx.Receive(sipmsg.NewResponseFromRequest(req, 100, "Trying", nil))
		<-tx.Done()
		// The retransmission due at 1.5 s stays; the next ones come every T2.
		want := seconds(0, 0.5, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5)
		if got := conn.written(); !slices.Equal(got, want) {
			t.Errorf("sent at %v, want %v", got, want)
		}
	})
}

// Error responses to an INVITE are retransmitted by the server
// transaction on Timer G (T1 doubling up to T2) until the ACK, or Timer H
// (64·T1); over TCP only Timer H runs.
func TestSipgoServerInviteErrorTimers(t *testing.T) {
	for _, c := range []struct {
		transport string
		sent      []time.Duration
	}{
		{"UDP", seconds(0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)},
		{"TCP", seconds(0)},
	} {
		t.Run(c.transport, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				conn := &fakeConn{log: newSendLog()}
				req := testRequest(t, sipmsg.INVITE, c.transport)
				key, _ := sipmsg.ServerTxKeyMake(req)
				tx := sipmsg.NewServerTx(key, req, conn, discardLogger())
				if err := tx.Init(); err != nil {
					t.Fatal(err)
				}
				if err := tx.Respond(sipmsg.NewResponseFromRequest(req, 486, "Busy Here", nil)); err != nil {
					t.Fatal(err)
				}
				<-tx.Done()
				if got := conn.written(); !slices.Equal(got, c.sent) {
					t.Errorf("486 sent at %v, want %v", got, c.sent)
				}
				if life := time.Since(conn.log.start); life != 64*testT1 {
					t.Errorf("transaction ended after %v, want Timer H = 64·T1", life)
				}
			})
		})
	}
}

// After a 2xx the INVITE server transaction waits in "Accepted" (RFC
// 6026) for Timer L = 64·T1, passing the 2xx retransmissions we make to
// the transport; a retransmitted INVITE is absorbed.
func TestSipgoServerInviteAcceptedTimerL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := &fakeConn{log: newSendLog()}
		req := testRequest(t, sipmsg.INVITE, "UDP")
		key, _ := sipmsg.ServerTxKeyMake(req)
		tx := sipmsg.NewServerTx(key, req, conn, discardLogger())
		if err := tx.Init(); err != nil {
			t.Fatal(err)
		}
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
		if err := tx.Respond(res); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := tx.Receive(req); err != nil { // the caller's retransmitted INVITE
			t.Fatal(err)
		}
		if err := tx.Respond(res); err != nil { // our retransmission
			t.Fatal(err)
		}
		<-tx.Done()
		if got, want := conn.written(), seconds(0, 1); !slices.Equal(got, want) {
			t.Errorf("sent at %v, want %v (2xx, its retransmission; the INVITE absorbed)", got, want)
		}
		if life := time.Since(conn.log.start); life != 64*testT1 {
			t.Errorf("Accepted lasted %v, want Timer L = 64·T1", life)
		}
		if err := tx.Respond(res); err == nil {
			t.Error("2xx accepted after Timer L")
		}
	})
}

// A non-INVITE server transaction keeps its final response for
// retransmitted requests for Timer J (64·T1 over UDP, 0 over TCP).
func TestSipgoServerNonInviteTimerJ(t *testing.T) {
	for _, c := range []struct {
		transport string
		life      time.Duration
	}{{"UDP", 64 * testT1}, {"TCP", 0}} {
		t.Run(c.transport, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				conn := &fakeConn{log: newSendLog()}
				req := testRequest(t, sipmsg.BYE, c.transport)
				key, _ := sipmsg.ServerTxKeyMake(req)
				tx := sipmsg.NewServerTx(key, req, conn, discardLogger())
				if err := tx.Init(); err != nil {
					t.Fatal(err)
				}
				if err := tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil)); err != nil {
					t.Fatal(err)
				}
				<-tx.Done()
				if life := time.Since(conn.log.start); life != c.life {
					t.Errorf("transaction lived %v, want Timer J = %v", life, c.life)
				}
			})
		})
	}
}
