// Package sip is Voxgate's SIP signalling, built on github.com/emiago/sipgo.
//
// Inbound, the Server answers INVITEs (UAS), negotiates SDP, opens an RTP
// leg per call and hands each call to a Handler that runs it. When trunks
// restrict inbound calls (Trunk.AllowedIPs, Trunk.InboundUsername), INVITEs
// from elsewhere get 403 and credentials are checked with a 401 digest
// challenge.
//
// Outbound, Server.Dial places a call (UAC): to a SIP URI as given
// ("sip:alice@host:port;transport=tcp?X-Header=v") or to a number through
// a configured Trunk. It offers PCMU, PCMA and telephone-event, answers
// digest challenges, starts the RTP leg on early media (183 with SDP) and
// returns an answered *OutboundCall, or a *DialError whose Status is the
// Twilio DialCallStatus (busy, no-answer, failed, canceled). Outbound
// requests leave from the first UDP listener's socket (UDP) or a new TCP
// connection (TCP); Dial waits until Serve is serving.
//
// Every call, inbound or outbound, ends with the Server: when Serve
// returns, all calls have been hung up. While Serve runs, the RTP of all
// calls is sent from one shared media.Scheduler (a goroutine per CPU, not
// one per call), and Config.MediaEnded hears each call's RTP statistics
// when it ends.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/sid"
)

// Config configures a Server.
type Config struct {
	// Listen holds "transport:host:port" addresses, e.g. "udp:127.0.0.1:5060".
	// Transports: udp, tcp.
	Listen []string
	// PublicIP is the address put in Contact headers and SDP. When invalid,
	// the address of the first listener is used.
	PublicIP netip.Addr
	// Ports hands out RTP sockets.
	Ports *media.PortPool
	// RTPTimeout hangs up calls that receive no RTP for this long (default 30 s).
	RTPTimeout time.Duration
	// UserAgent is sent in the User-Agent and Server headers.
	UserAgent string
	// T1 is RFC 3261's T1 (default 500ms); every SIP timer derives from it.
	// sipgo keeps its timers in package variables, so a non-zero T1 applies
	// to the whole process: set it once, before any call.
	T1 time.Duration
	// Trunks are the SIP trunks: where Dial sends numbers, and which
	// peers may call in (see Trunk).
	Trunks []Trunk
	Logger *slog.Logger
	// MediaEnded, when set, is called once per call (inbound or
	// outbound) when it is over, with the final statistics of its RTP leg
	// (for metrics). It runs on the call's goroutine: it must not block.
	MediaEnded func(callSID string, stats media.RTPStats)
	// PacingLate, when set, hears how late the RTP scheduler began each
	// burst of sends (media.SchedulerOptions.Late), about a thousand
	// times a second per CPU while calls are up: it must be quick.
	PacingLate func(time.Duration)
	// Limits shed floods: INVITEs beyond them get 503, TCP connections
	// beyond them are closed (see Limits; zero: no limits).
	Limits Limits
	// Refused, when set, hears of everything refused or dropped to protect
	// the server, for metrics: kind "invite" (reason: the Limits field
	// exceeded), "tcp" (a connection refused or closed idle), "message"
	// ("unparseable": dropped unanswered; "malformed": a request refused
	// by RFC 3261's parsing rules and answered 400/416/505/513, see
	// wire.go). It must be quick.
	Refused func(kind, reason string)
	// Draining, when set and true, makes OPTIONS (a balancer's health
	// probe) answer 503 so that new calls go to another node.
	Draining func() bool
	// TLSCert and TLSKey name the PEM certificate chain and key that
	// "tls:" listeners present.
	TLSCert, TLSKey string
	// RegisterRetry is the first wait after a failed trunk registration
	// (doubling up to 10 minutes; default 30 s).
	RegisterRetry time.Duration
	// MinSE is our RFC 4028 Min-SE: INVITEs asking for a shorter
	// Session-Expires get 422 (default DefaultMinSE, 90 s).
	MinSE time.Duration
	// SessionExpires is the session interval (RFC 4028) our INVITEs ask
	// for, and the one callers that support timer without asking get
	// (default DefaultSessionExpires, 30 min; raised to MinSE; negative:
	// no session timers but those a caller asks for).
	SessionExpires time.Duration
	// Users are the phones that may REGISTER (see onRegister); they are
	// reached by dialling sip:USER@<our address>, and their calls are
	// admitted with their credentials.
	Users []User
	// Codecs is the codec preference of calls from or through no trunk
	// with codecs of its own (Trunk.Codecs): offers are answered with the
	// first of these the offer has (none: 488), and our offers list them
	// in order. Nil: the offerer's first G.711 codec, else G.722; our
	// offers PCMU and PCMA.
	Codecs []media.Codec
}

// Handler runs one inbound call. The server calls it in a goroutine of its
// own for each new INVITE; when it returns, the call is hung up if it is
// still up. ctx is cancelled when the server shuts down.
type Handler func(ctx context.Context, call *InboundCall)

// Listener is one address the server accepts SIP on.
type Listener struct {
	Transport string // "udp" or "tcp"
	Addr      netip.AddrPort
}

// String returns the listener as "transport:host:port".
func (l Listener) String() string { return l.Transport + ":" + l.Addr.String() }

// Server is a SIP user agent: it answers calls (UAS) and places them
// (UAC, see Dial).
type Server struct {
	cfg      Config
	handler  Handler
	log      *slog.Logger
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	dialogUA *sipgo.DialogUA
	auth     inboundAuth
	reg      *registrar
	regMu    sync.Mutex
	regState map[string]RegistrationState // outbound registrations, by trunk
	load     *admission
	shedLog  logLimiter
	// sched sends the RTP of every call from a few shared goroutines; it
	// runs while Serve does.
	sched *media.Scheduler

	// ctx ends when Serve is told to stop: ringing Dials are cancelled.
	ctx    context.Context
	cancel context.CancelFunc
	ready  chan struct{} // closed once Serve serves every listener

	mu        sync.Mutex
	calls     map[string]*session // by dialog ID
	closing   bool                // Serve is shutting down: no new calls
	listeners []Listener
	udpLocal  string // local address of the first UDP listener's socket, "" when none
	closers   []func() error
	serves    []func() error // start serving a bound listener

	callWG sync.WaitGroup // one per inbound call, dialling attempt and outbound call
}

// NewServer binds every configured listener and prepares the server. Calls
// are accepted once Serve runs; Dial works from then on too.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Ports == nil {
		return nil, errors.New("sip: config has no RTP port pool")
	}
	if cfg.RTPTimeout <= 0 {
		cfg.RTPTimeout = 30 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Voxgate"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.Listen) == 0 {
		return nil, errors.New("sip: no listen addresses configured (sip.listen)")
	}
	if err := validateTrunks(cfg.Trunks); err != nil {
		return nil, err
	}
	for _, u := range cfg.Users {
		switch u.SRTP {
		case "", SRTPOff, SRTPOptional, SRTPRequired:
		default:
			return nil, fmt.Errorf("sip: user %q: srtp %q: want required, optional or off", u.Username, u.SRTP)
		}
	}
	cfg.Trunks = slices.Clone(cfg.Trunks)
	if cfg.T1 > 0 && cfg.T1 != sipmsg.T1 {
		sipmsg.SetTimers(cfg.T1, sipmsg.T2, sipmsg.T4)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, calls: map[string]*session{}, ready: make(chan struct{}), regState: map[string]RegistrationState{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.auth = newInboundAuth(cfg.Trunks, cfg.Users)
	s.reg = newRegistrar(cfg.Users)
	s.load, s.shedLog = newAdmission(cfg.Limits), logLimiter{interval: 5 * time.Second}

	clientTLS, err := clientTLSConfig(cfg.Trunks)
	if err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(append([]sipgo.UserAgentOption{sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgenTLSConfig(clientTLS)}, s.sipgoLogOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("sip: create user agent: %w", err)
	}
	s.ua = ua
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(cfg.Logger)); err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: create server: %w", err)
	}
	for _, spec := range cfg.Listen {
		if err := s.bind(spec); err != nil {
			s.closeListeners()
			ua.Close()
			return nil, err
		}
	}
	if !s.cfg.PublicIP.IsValid() {
		s.cfg.PublicIP = s.listeners[0].Addr.Addr()
	}
	first := s.listeners[0]
	// Requests we send carry the UDP listener's port in Via when there is
	// one: UDP requests leave from that socket (see Dial).
	viaPort := first.Addr.Port()
	for _, l := range s.listeners {
		if l.Transport == "udp" {
			viaPort = l.Addr.Port()
			break
		}
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(s.cfg.PublicIP.String()), sipgo.WithClientPort(int(viaPort))); err != nil {
		s.closeListeners()
		ua.Close()
		return nil, fmt.Errorf("sip: create client: %w", err)
	}
	s.dialogUA = &sipgo.DialogUA{
		Client:         s.client,
		ContactHDR:     s.contact(first.Transport, first.Addr.Port()),
		RewriteContact: true, // requests in the dialog go back where the INVITE came from
	}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnInfo(s.onInfo)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnCancel(s.onCancel)
	s.srv.OnRegister(s.onRegister)
	s.srv.OnUpdate(s.onUpdate)
	s.srv.OnPrack(s.onPrack)
	s.srv.OnNoRoute(s.onUnsupported)
	return s, nil
}

// Listeners returns the bound addresses (ports resolved when 0 was asked for).
func (s *Server) Listeners() []Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Listener(nil), s.listeners...)
}

func (s *Server) bind(spec string) error {
	transport, hostport, ok := strings.Cut(spec, ":")
	if !ok {
		return fmt.Errorf("sip: listen address %q: want transport:host:port, e.g. udp:127.0.0.1:5060", spec)
	}
	transport = strings.ToLower(transport)
	switch transport {
	case "udp":
		conn, err := net.ListenPacket("udp", hostport)
		if err != nil {
			return fmt.Errorf("sip: listen %s: %w", spec, err)
		}
		ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
		s.listeners = append(s.listeners, Listener{Transport: "udp", Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())})
		if s.udpLocal == "" {
			s.udpLocal = conn.LocalAddr().String()
		}
		s.closers = append(s.closers, conn.Close)
		checked := newCheckedPacketConn(conn, s.wireCheck())
		s.serves = append(s.serves, func() error { return s.srv.ServeUDP(checked) })
	case "tcp":
		l, err := net.Listen("tcp", hostport)
		if err != nil {
			return fmt.Errorf("sip: listen %s: %w", spec, err)
		}
		ap := l.Addr().(*net.TCPAddr).AddrPort()
		s.listeners = append(s.listeners, Listener{Transport: "tcp", Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())})
		s.closers = append(s.closers, l.Close)
		limited := s.limitTCP(l)
		s.serves = append(s.serves, func() error { return s.srv.ServeTCP(limited) })
	case "tls":
		conf, err := s.serverTLSConfig()
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", hostport)
		if err != nil {
			return fmt.Errorf("sip: listen %s: %w", spec, err)
		}
		ap := l.Addr().(*net.TCPAddr).AddrPort()
		s.listeners = append(s.listeners, Listener{Transport: "tls", Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())})
		s.closers = append(s.closers, l.Close)
		// The limits and the message checks see the decrypted stream.
		limited := s.limitTCP(tls.NewListener(l, conf))
		s.serves = append(s.serves, func() error { return s.srv.ServeTLS(limited) })
	default:
		return fmt.Errorf("sip: listen address %q: unsupported transport %q (use udp, tcp or tls)", spec, transport)
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, c := range s.closers {
		_ = c()
	}
	s.closers = nil
}

func (s *Server) contact(transport string, port uint16) sipmsg.ContactHeader {
	c := sipmsg.ContactHeader{Address: sipmsg.Uri{User: "voxgate", Host: s.cfg.PublicIP.String(), Port: int(port)}}
	if transport != "udp" {
		c.Address.UriParams = sipmsg.NewParams()
		c.Address.UriParams.Add("transport", transport)
	}
	return c
}

// contactFor returns the Contact to use in answers to req: the listener
// the request arrived on.
func (s *Server) contactFor(req *sipmsg.Request) sipmsg.ContactHeader {
	transport := strings.ToLower(req.Transport())
	for _, l := range s.Listeners() {
		if l.Transport == transport {
			return s.contact(transport, l.Addr.Port())
		}
	}
	return s.dialogUA.ContactHDR
}

// Serve accepts SIP until ctx is cancelled, running handler for every
// inbound call, then cancels ringing Dials, hangs up every call (inbound
// and outbound), waits for their handlers and owners to finish and closes
// the listeners. Call it once.
func (s *Server) Serve(ctx context.Context, handler Handler) error {
	s.handler = handler // before any listener is served
	s.sched = media.NewSchedulerOptions(media.SchedulerOptions{Late: s.cfg.PacingLate})
	defer s.sched.Close() // after every call has ended (callWG.Wait below)
	var serving sync.WaitGroup
	for _, serve := range s.serves {
		serving.Add(1)
		go func() {
			defer serving.Done()
			_ = serve() // returns when its listener is closed
		}()
	}
	defer serving.Wait()
	s.awaitListeners(ctx)
	close(s.ready)
	var registering sync.WaitGroup
	s.registerTrunks(ctx, func() { registering.Add(1) }, registering.Done)
	<-ctx.Done()
	registering.Wait() // they unregister (2 s at most) before the listeners close
	s.mu.Lock()
	s.closing = true
	active := make([]*session, 0, len(s.calls))
	for _, c := range s.calls {
		active = append(active, c)
	}
	s.mu.Unlock()
	s.cancel()
	for _, c := range active {
		c.stop("shutdown")
	}
	s.callWG.Wait()
	s.closeListeners()
	s.client.Close()
	s.srv.Close()
	s.ua.Close()
	return nil
}

// awaitListeners waits (briefly) until sipgo serves the UDP listener
// outbound requests are sent from, so that Dial finds its socket.
func (s *Server) awaitListeners(ctx context.Context) {
	if s.udpLocal == "" {
		return
	}
	tl := s.srv.TransportLayer()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c, err := tl.GetConnection("udp", s.udpLocal); err == nil {
			_, _ = c.TryClose() // GetConnection took a reference
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.log.Warn("sip: UDP listener not ready; outbound calls may leave from another port", "addr", s.udpLocal)
}

// track counts a new call (or dialling attempt) in callWG unless Serve is
// shutting down. The caller calls s.callWG.Done when it is over.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.callWG.Add(1)
	return true
}

func (s *Server) register(c *session) {
	s.mu.Lock()
	s.calls[c.dialogID] = c
	s.mu.Unlock()
}

func (s *Server) unregister(c *session) {
	s.mu.Lock()
	if s.calls[c.dialogID] == c {
		delete(s.calls, c.dialogID)
	}
	s.mu.Unlock()
}

// ActiveCalls returns the number of calls in progress, inbound and
// outbound.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// lookup finds the call an in-dialog request belongs to: an inbound call
// (we are the UAS of its dialog) or an outbound one (we are the UAC).
func (s *Server) lookup(req *sipmsg.Request) *session {
	uas, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	uac, err := sipmsg.DialogIDFromRequestUAC(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[uas]; c != nil {
		return c
	}
	return s.calls[uac]
}

func (s *Server) respond(req *sipmsg.Request, tx sipmsg.ServerTransaction, code int, reason string, hdrs ...sipmsg.Header) {
	res := sipmsg.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond failed", "code", code, "method", req.Method, "error", err)
	}
}

const allowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK, REGISTER"

func (s *Server) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	release, ok := s.admitLoad(req, tx)
	if !ok {
		return
	}
	defer release()
	log := s.log.With("sip_call_id", callID(req))
	trunk, ok := s.admit(req, tx, log)
	if !ok {
		return
	}
	s.respond(req, tx, 100, "Trying")

	if req.Contact() == nil {
		s.respond(req, tx, 400, "Bad Request: missing Contact")
		return
	}
	offer, late, ok := s.readOffer(req, tx, trunk, log)
	if !ok {
		return
	}
	if err := checkSRTPPolicy(offer, s.srtpPolicy(trunk)); err != nil && !late {
		log.Warn("sip: INVITE rejected", "code", 488, "error", err)
		s.respond(req, tx, 488, "Not Acceptable Here", sipmsg.NewHeader("Warning", fmt.Sprintf("399 voxgate %q", err.Error())))
		return
	}
	timer, ok := s.negotiateTimer(req, tx)
	if !ok {
		return
	}
	var localCrypto *SDESCrypto
	if offer.Crypto != nil {
		c := newLocalCrypto(offer.Crypto.Tag, offer.Crypto.Suite)
		localCrypto = &c
	}
	if late {
		localCrypto, offer.Crypto = s.lateOfferCrypto(trunk) // SRTP offered in the 200 when required
	}
	conn, err := s.cfg.Ports.Listen()
	if err != nil {
		log.Error("sip: no RTP port for INVITE", "error", err)
		s.respond(req, tx, 503, "Service Unavailable")
		return
	}
	callSID := sid.New(sid.Call)
	log = log.With("call_sid", callSID)
	leg := media.NewRTPLeg(media.RTPConfig{
		Conn:              conn,
		Remote:            offer.Remote,
		SignalingAddr:     sourceAddr(req),
		Codec:             offer.Codec,
		EventPayloadType:  offer.EventPayloadType,
		InactivityTimeout: s.cfg.RTPTimeout,
		Logger:            log,
		Scheduler:         s.sched,
		SRTP:              srtpKeys(localCrypto, offer.Crypto),
	})
	dlg, err := s.dialogUA.ReadInvite(req, tx)
	if err != nil {
		leg.Close("dialog setup failed")
		log.Warn("sip: INVITE rejected", "code", 400, "error", err)
		s.respond(req, tx, 400, "Bad Request")
		return
	}
	if !s.track() {
		leg.Close("shutting down")
		s.respond(req, tx, 503, "Service Unavailable")
		return
	}
	defer s.callWG.Done()
	call := newInboundCall(s, callSID, req, tx, dlg, leg, offer, trunk, log)
	call.awaitingAnswer = late
	call.localCrypto = localCrypto
	call.timer = timer
	s.register(&call.session)
	defer s.unregister(&call.session)
	call.run(s.handler)
}

// readOffer reads the SDP offer of a new INVITE. An INVITE without a body
// is a late offer (RFC 3261 §13.2.1, RFC 3264): we offer in our 200 and
// the answer comes in the ACK; late is true and offer holds what we offer
// until then. When ok is false the INVITE has been answered with an error.
func (s *Server) readOffer(req *sipmsg.Request, tx sipmsg.ServerTransaction, trunk string, log *slog.Logger) (offer Offer, late, ok bool) {
	body := req.Body()
	if len(body) == 0 {
		return Offer{Codec: media.PCMU, EventPayloadType: OfferedEventPayloadType, Direction: SendRecv}, true, true
	}
	if ct := req.ContentType(); ct != nil && !strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") {
		s.respond(req, tx, 415, "Unsupported Media Type", sipmsg.NewHeader("Accept", "application/sdp"))
		return Offer{}, false, false
	}
	offer, err := ParseOffer(body)
	if err == nil {
		err = checkOfferFamily(offer, s.cfg.PublicIP)
	}
	if err == nil {
		err = offer.Choose(s.codecPrefs(trunk))
	}
	if err != nil {
		code, reason := 400, "Bad Request"
		if errors.Is(err, ErrNoCommonCodec) || errors.Is(err, ErrMediaFamily) {
			code, reason = 488, "Not Acceptable Here"
		}
		log.Warn("sip: INVITE rejected", "code", code, "error", err)
		s.respond(req, tx, code, reason, sipmsg.NewHeader("Warning", fmt.Sprintf("399 voxgate %q", err.Error())))
		return Offer{}, false, false
	}
	return offer, false, true
}

func (s *Server) onReInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	call := s.lookup(req)
	if call == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	call.reInvite(req, tx)
}

// onAck ends the wait for the ACK of one of our 2xx responses (to the
// dialog's INVITE or a re-INVITE; see timers.go). ACKs of error responses
// never get here: sipgo's INVITE server transaction absorbs them.
//
// sipgo's DialogServerSession.ReadAck is not called: it would set the
// dialog's state to confirmed even after a BYE processed just before (each
// request is handled on a goroutine of its own), and then a BYE would be
// sent in a dialog that has ended.
func (s *Server) onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if call := s.lookup(req); call != nil {
		call.ackAnswer(req)
		call.ackReceived(req)
	}
}

func (s *Server) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	call := s.lookup(req)
	if call == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	call.remoteBye(req, tx)
}

func (s *Server) onCancel(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	// CANCELs that match a pending INVITE are answered (200, then 487 to the
	// INVITE) by sipgo's transaction layer before reaching here.
	s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

func (s *Server) onInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	call := s.lookup(req)
	if call == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	call.info(req, tx)
}

func (s *Server) onOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if s.cfg.Draining != nil && s.cfg.Draining() {
		s.respond(req, tx, 503, "Service Unavailable", sipmsg.NewHeader("Allow", allowedMethods))
		return
	}
	s.respond(req, tx, 200, "OK",
		sipmsg.NewHeader("Allow", allowedMethods),
		sipmsg.NewHeader("Accept", "application/sdp"),
	)
}

func (s *Server) onUnsupported(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	switch req.Method {
	case sipmsg.SUBSCRIBE, sipmsg.NOTIFY, sipmsg.MESSAGE, sipmsg.PUBLISH, sipmsg.REFER:
		s.respond(req, tx, 405, "Method Not Allowed", sipmsg.NewHeader("Allow", allowedMethods))
	default:
		s.respond(req, tx, 501, "Not Implemented", sipmsg.NewHeader("Allow", allowedMethods))
	}
}

func callID(req *sipmsg.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
