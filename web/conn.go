package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/voxgate/voxgate/media/webrtc"
	"github.com/voxgate/voxgate/queue"
)

// Connection limits and timeouts.
const (
	readLimit          = 64 << 10 // an SDP offer is a few kB
	writeTimeout       = 5 * time.Second
	pingInterval       = 20 * time.Second
	pingTimeout        = 10 * time.Second
	maxSignInFailures  = 5
	signInFailureDelay = 500 * time.Millisecond
)

// agentConn is one page's WebSocket: before sign-in it accepts only
// "signin"; afterwards it relays the agent's session and runs its calls.
type agentConn struct {
	h   *handler
	ws  *websocket.Conn
	ctx context.Context // ends with the connection
	log *slog.Logger
	src netip.Addr // the page's address, for the sign-in throttle

	// Owned by the read loop (and read by run after it ends).
	session  *queue.AgentSession
	desk     DeskSession // nil without a TaskRouter desk
	failures int

	tasks sync.WaitGroup // the event relay and the accept goroutines

	mu    sync.Mutex  // guards the fields below
	offer queue.Offer // the last offer made to the agent
	call  *call       // the agent's call being set up or in progress
}

// serveWebSocket runs one agent connection until it closes.
func (h *handler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		h.log.Info("agent websocket refused", "remote", r.RemoteAddr, "err", err)
		return // Accept wrote the response
	}
	ws.SetReadLimit(readLimit)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &agentConn{h: h, ws: ws, ctx: ctx, log: h.log.With("remote", r.RemoteAddr), src: remoteAddr(r)}
	c.run(cancel)
}

// run reads the page's messages until the socket closes, then signs the
// agent out, hangs up its call and waits for its goroutines.
func (c *agentConn) run(cancel context.CancelFunc) {
	c.tasks.Go(c.keepAlive)
	err := c.readLoop()
	status := websocket.CloseStatus(err)
	if status == -1 && !errors.Is(err, context.Canceled) {
		c.log.Info("agent websocket closed", "err", err)
	}
	cancel()
	c.hangUp("page closed")
	if c.session != nil {
		c.session.SignOut()
		c.log.Info("agent signed out")
	}
	c.tasks.Wait()
	if c.desk != nil {
		_ = c.desk.Do("activity", "", "", "Offline") // a closed page takes no work
		c.desk.Close()
	}
	c.ws.CloseNow()
}

// keepAlive pings the page so a vanished browser is noticed.
func (c *agentConn) keepAlive() {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, pingTimeout)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			c.ws.Close(websocket.StatusGoingAway, "ping timeout")
			return
		}
	}
}

// readLoop handles messages until the socket fails or closes.
func (c *agentConn) readLoop() error {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return err
		}
		var msg clientMessage
		if typ != websocket.MessageText || json.Unmarshal(data, &msg) != nil || msg.Type == "" {
			c.sendError("", "", "messages must be JSON objects with a type")
			continue
		}
		if err := c.handle(msg); err != nil {
			return err
		}
	}
}

// handle dispatches one message. An error closes the connection.
func (c *agentConn) handle(msg clientMessage) error {
	if msg.Type == msgSignIn {
		return c.signIn(msg.ID, msg.Secret)
	}
	if c.session == nil {
		c.sendError(msg.Type, msg.OfferID, "sign in first")
		return nil
	}
	switch msg.Type {
	case msgAvailable:
		c.session.SetAvailable(msg.Value)
		c.deskPresence(msg.Value)
		v := msg.Value
		c.send(okMessage{Type: "ok", For: msgAvailable, Value: &v})
	case msgAccept:
		c.startAccept(msg.OfferID, msg.SDP)
	case msgReject:
		c.reject(msg.OfferID)
	case msgHangup:
		c.hangUp("hangup")
	case msgDTMF:
		c.dtmf(msg.Digit)
	case msgTask:
		c.deskAction(msg)
	default:
		c.sendError(msg.Type, "", "unknown message type "+msg.Type)
	}
	return nil
}

// signIn checks the credentials and starts the agent's session.
func (c *agentConn) signIn(id, secret string) error {
	if c.session != nil {
		c.sendError(msgSignIn, "", "already signed in")
		return nil
	}
	if ok, wait := c.h.guard.attempt(c.src, id); !ok {
		if c.h.onThrottled != nil {
			c.h.onThrottled()
		}
		c.log.Warn("agent sign-in throttled", "agent", id, "retry_in", wait.Round(time.Second))
		c.sendError(msgSignIn, "", fmt.Sprintf("too many failed sign-ins; try again in %d s", int(wait.Seconds())+1))
		return nil
	}
	acct, ok := c.h.authenticate(id, secret)
	if !ok {
		c.failures++
		c.log.Warn("agent sign-in failed", "agent", id, "failures", c.failures)
		select {
		case <-time.After(signInFailureDelay):
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
		if c.failures >= maxSignInFailures {
			c.sendError(msgSignIn, "", "too many failed sign-ins; reload the page to try again")
			c.ws.Close(websocket.StatusPolicyViolation, "too many failed sign-ins")
			return errors.New("web: too many failed sign-ins")
		}
		c.sendError(msgSignIn, "", "unknown agent or wrong secret")
		return nil
	}
	session, err := c.h.mgr.SignIn(queue.Agent{ID: acct.ID, Name: acct.Name, Queues: acct.Queues})
	if err != nil {
		c.log.Error("agent sign-in: queue manager refused", "agent", id, "err", err)
		c.sendError(msgSignIn, "", "the gateway cannot take agents right now")
		return nil
	}
	c.h.guard.succeeded(c.src, acct.ID)
	c.session = session
	c.log = c.log.With("agent", acct.ID)
	c.log.Info("agent signed in", "queues", acct.Queues)
	c.send(okMessage{Type: "ok", For: msgSignIn, Agent: &agentView{ID: acct.ID, Name: acct.Name, Queues: acct.Queues}})
	c.tasks.Go(func() { c.relayEvents(session) })
	if c.h.desk != nil {
		ds, err := c.h.desk.Open(acct.ID)
		if err != nil {
			c.log.Info("agent has no TaskRouter desktop", "err", err)
		} else {
			c.desk = ds
			c.tasks.Go(func() { c.relayDesk(ds) })
		}
	}
	return nil
}

// relayEvents forwards the session's events to the page until the
// session ends. When the Manager ended it (the agent signed in elsewhere,
// shutdown), the page is told and the socket closed.
func (c *agentConn) relayEvents(s *queue.AgentSession) {
	for ev := range s.Events() {
		switch ev.Kind {
		case queue.OfferMade:
			c.mu.Lock()
			c.offer = ev.Offer
			c.mu.Unlock()
			c.send(newOfferMessage(ev.Offer, time.Now()))
		case queue.OfferWithdrawn:
			c.offerGone(ev.Offer.ID)
			c.send(offerEndMessage{Type: "withdrawn", OfferID: ev.Offer.ID})
		case queue.OfferExpired:
			c.offerGone(ev.Offer.ID)
			c.send(offerEndMessage{Type: "expired", OfferID: ev.Offer.ID})
		case queue.CallEnded:
			c.hangUp("call ended")
		case queue.QueuesChanged:
			c.send(newQueuesMessage(ev.Queues))
		}
	}
	if c.ctx.Err() == nil {
		c.log.Info("agent session ended by the gateway")
		c.hangUp("signed out")
		c.send(signedOutMessage{Type: "signedout", Reason: "your session ended: signed in on another page, or the gateway is shutting down"})
		c.ws.Close(websocket.StatusNormalClosure, "session ended")
	}
}

// send writes one message, giving up after writeTimeout; failures are
// left to the read loop, which sees the broken socket.
func (c *agentConn) send(v any) {
	ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
	defer cancel()
	if err := wsjson.Write(ctx, c.ws, v); err != nil && c.ctx.Err() == nil {
		c.log.Debug("agent websocket write failed", "err", err)
	}
}

// sendError reports a failed request to the page.
func (c *agentConn) sendError(forType, offerID, message string) {
	c.send(errorMessage{Type: "error", For: forType, OfferID: offerID, Message: message})
}

// legConfig is the WebRTC configuration of the agent's legs.
func (c *agentConn) legConfig(offerID string) webrtc.Config {
	return webrtc.Config{Logger: c.log.With("offer", offerID), PublicIP: c.h.publicIP}
}

// remoteAddr is the IP address of the request's peer (invalid when
// unknown). Behind a reverse proxy, that is the proxy.
func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
