package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/voxgate/voxgate/conference"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/cluster"
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/configs"
	"github.com/voxgate/voxgate/functions"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/tts"
	"github.com/voxgate/voxgate/netpolicy"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sip"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/taskrouter"
	"github.com/voxgate/voxgate/web"

	"github.com/voxgate/voxgate/recording"
)

// serve runs the gateway until ctx is cancelled.
func serve(ctx context.Context, cfgPath string, env []string, stdout io.Writer) error {
	cfg, err := config.Load(cfgPath, env)
	if err != nil {
		return err
	}
	log := clusterLogger(cfg, newLogger(cfg.Log, os.Stderr))
	ctx, drain := startDrainer(ctx, cfg.Cluster.DrainTimeout.D(), log) // cluster.drain_timeout
	dirs, err := makeStorageDirs(cfg.Storage.Dir)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, log) // storage.driver
	if err != nil {
		return err
	}
	defer db.Close()
	g, err := build(ctx, cfg, dirs, db, drain, log)
	if err != nil {
		return err
	}
	defer g.close()
	return g.run(ctx, stdout)
}

// storageDirs are the directories under storage.dir.
type storageDirs struct{ cache, recordings string }

func makeStorageDirs(root string) (storageDirs, error) {
	d := storageDirs{cache: filepath.Join(root, "cache"), recordings: filepath.Join(root, "recordings")}
	if err := os.MkdirAll(d.recordings, 0o755); err != nil {
		return d, fmt.Errorf("storage.dir: %w", err)
	}
	return d, nil
}

// gateway is Voxgate's parts, wired by build.
type gateway struct {
	cfg         config.Config
	log         *slog.Logger
	metrics     *gatewayMetrics
	sip         *sip.Server
	publicIP    netip.Addr
	engine      *ivr.Engine
	flows       *studio.Executor
	flowSIDs    map[string]string // flow file -> FlowSid
	apiFlows    store.FlowStore   // /v2/Flows: flows made with the API and the config's flows
	messages    *gatewayMessaging
	policy      *netpolicy.Policy // where webhooks, media and Studio HTTP widgets may connect
	protect     *protectionMetrics
	mux         *http.ServeMux
	http        http.Handler
	streams     *mediaStreams
	taskRouter  taskRouting
	cluster     *clusterWiring // shared live state with the other nodes (storage.driver: postgres); nil on one node
	console     *consoleWiring // /console and its call events
	trDefaults  taskrouter.DefaultIDs
	desk        deskParts           // the desktop's conversations: web chat and SMS handed to Flex
	conferences *conference.Manager // <Dial><Conference> rooms and the Conferences API
	agentRooms  *ivr.AgentRooms     // voice tasks' calls as conference rooms: the desktop's call controls
	drain       *drainer            // SIGTERM: refuse new calls, let live ones end (cluster.drain_timeout)
	members     *cluster.Membership // nodes sharing PostgreSQL: heartbeat, takeover, NodeDied (nil on SQLite)
	closers     []func()            // run last first by close
}

// build makes the gateway's parts in dependency order: each is made from
// parts made before it, and none is changed after it is made. The one
// link that points back is a subscription: Studio flows (made after the
// engine, since they place and record calls with it) follow the engine's
// call events to end their executions with the calls.
func build(ctx context.Context, cfg config.Config, dirs storageDirs, db *store.DB, drain *drainer, log *slog.Logger) (*gateway, error) {
	g := &gateway{cfg: cfg, log: log, mux: http.NewServeMux(), drain: drain}
	var err error
	if g.policy, err = outboundPolicy(cfg); err != nil {
		return nil, err
	}
	journal, err := newCallbackJournal(filepath.Join(cfg.Storage.Dir, "callbacks"), log)
	if err != nil {
		return nil, fmt.Errorf("storage.dir: %w", err)
	}
	if db.Driver() == store.DriverPostgres {
		journal.shared(db) // a survivor ends a dead node's calls: their callbacks must be in the database
	}
	cdr := newCDRWriter(db, cfg.Account.SID, log)
	cdr.journal = journal
	g.closers = append(g.closers, cdr.Close)
	queues := queue.NewManager(queue.Config{
		OfferTimeout: cfg.Queues.OfferTimeout.D(),
		WrapUp:       cfg.Queues.WrapUp.D(),
		Resolve:      queueResolver(db, cfg.Account.SID),
		Logger:       log,
	})
	g.closers = append(g.closers, queues.Close)
	tr, trDefaults, cluster, err := newTaskRouting(ctx, cfg, db, queues, log) // this node's TaskRouter, or the cluster's: wire_clusterstate.go
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { _ = tr.Close() })
	g.taskRouter, g.trDefaults, g.cluster = tr, trDefaults, cluster
	g.metrics = newGatewayMetrics(queues, log)
	g.cluster.registerMetrics(g.metrics.m.Registry())
	g.protect = newProtectionMetrics(g.metrics.m.Registry())
	if g.sip, g.publicIP, err = newSIPServer(cfg, g.metrics, g.protect, drain, log); err != nil {
		return nil, err
	}
	drain.watch(g.sip.ActiveCalls)
	g.metrics.serving(g.sip)
	g.streams = newMediaStreams(cfg, g.metrics.m) // media streams and speech recognition: wire_streams.go
	events := &callEvents{}
	events.subscribe(g.metrics.callEvent)
	events.subscribe(cdr.event)
	g.console = newConsoleWiring(ctx, db, log)
	g.closers = append(g.closers, g.console.Close)
	events.subscribe(g.console.status)
	var conferenceEngine *ivr.Engine // the conference rooms fetch hold music with it: set below
	conferences := newConferences(&cfg, "Voxgate/"+version, dirs.recordings, db, g.policy.Client(0), &conferenceEngine, log)
	g.closers = append(g.closers, conferences.Close)
	g.agentRooms = ivr.NewAgentRooms() // wire_agentcalls.go
	if g.engine, err = newEngine(cfg, dirs, log, engineParts{
		dialer: &sipDialer{srv: g.sip, queues: queues, cluster: g.cluster}, queues: g.cluster.ivrQueues(queues), events: events.publish,
		metrics: g.metrics, recordingSaved: cdr.recording, httpClient: g.policy,
		services: append([]any{tr, conferences, g.agentRooms, g.cluster.queueTasks()}, g.streams.services()...), // <Enqueue workflowSid>: TaskRouter; <Dial><Conference>; desk rooms; <Enqueue>name across a cluster; streams, speech
		console:  g.console,
	}); err != nil {
		return nil, err
	}
	g.closers = append(g.closers, g.engine.Close)
	conferenceEngine = g.engine
	calls := &callControl{ctx: ctx, engine: g.engine, store: db, cdr: cdr, journal: journal, accountSID: cfg.Account.SID, log: log}
	g.closers = append(g.closers, calls.wait)
	fns, err := startFunctions(ctx, cfg, db, g.mux, log)
	if err != nil {
		return nil, err
	}
	if fns != nil {
		g.closers = append(g.closers, fns.Close)
	}
	// Studio sends messages through the messaging engine, which runs
	// Studio's messaging flows: the executor is made first, the messenger
	// is given the engine once it exists.
	messenger := &flowMessenger{}
	g.desk = newDeskParts(tr, messenger, log)
	g.closers = append(g.closers, g.desk.sms.Close)
	if err := g.buildFlows(cfg, db, calls, messenger, fns); err != nil {
		return nil, err
	}
	g.closers = append(g.closers, g.flows.Close)                                                                            // before calls.wait: no flow places a call after it
	g.closers = append(g.closers, recoverAtStart(ctx, cfg, db, dirs.recordings, g.flows, journal, g.policy.Client(0), log)) // before any call is taken
	g.closers = append(g.closers, startRetention(cfg, db, log))                                                             // storage.retention
	events.subscribe(endFlowExecutions(g.flows, cdr))
	g.messages = newMessaging(cfg, db, g.flowSIDs, g.flows, g.desk.sms.Route(g.flows), messenger, g.policy.Client(0), log)
	g.messages.attachSIP(g.sip)
	g.closers = append(g.closers, g.messages.start(ctx))
	var leave func()
	g.members, leave = g.startCluster(ctx, cfg, clusterParts{db: db, journal: journal, messages: g.messages, client: g.policy.Client(0)}) // wire_cluster.go
	g.closers = append(g.closers, leave)
	g.cluster.forgetDeadNodes(g.members) // a dead node's agents leave the shared presence
	g.conferences = conferences
	g.http = g.httpHandler(db, calls, queues, dirs)
	return g, nil
}

// close stops the parts, the last made first.
func (g *gateway) close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
}

// newSIPServer binds the SIP listeners, with RTP ports from media.rtp_ports.
func newSIPServer(cfg config.Config, gm *gatewayMetrics, protect *protectionMetrics, drain *drainer, log *slog.Logger) (*sip.Server, netip.Addr, error) {
	rtpIP, publicIP, err := mediaAddresses(cfg)
	if err != nil {
		return nil, publicIP, err
	}
	lo, hi, _ := cfg.Media.PortRange()
	ports, err := media.NewPortPool(rtpIP, lo, hi)
	if err != nil {
		return nil, publicIP, fmt.Errorf("media.rtp_ports: %w", err)
	}
	trunks, err := sipTrunks(cfg.Trunks)
	if err != nil {
		return nil, publicIP, err
	}
	codecs, err := sip.ParseCodecs(cfg.SIP.Codecs)
	if err != nil {
		return nil, publicIP, fmt.Errorf("sip.codecs: %w", err)
	}
	srv, err := sip.NewServer(sip.Config{
		Codecs:     codecs,
		Trunks:     trunks,
		MediaEnded: gm.mediaEnded,
		PacingLate: gm.m.PacingLate,
		Listen:     cfg.SIP.Listen,
		PublicIP:   publicIP,
		Ports:      ports,
		RTPTimeout: cfg.Media.RTPTimeout.D(),
		UserAgent:  cfg.SIP.UserAgent,
		T1:         cfg.SIP.T1.D(),
		Limits:     sipLimits(cfg.SIP.Limits),
		Refused:    protect.sipRefusedHook,
		Draining:   drain.draining.Load,
		TLSCert:    cfg.SIP.TLSCert,
		TLSKey:     cfg.SIP.TLSKey,
		Users:      sipUsers(cfg.Users),
		Logger:     log,

		// RFC 4028 session timers (issue #17)
		MinSE: cfg.SIP.MinSE.D(), SessionExpires: cfg.SIP.SessionExpires.D(),
	})
	return srv, publicIP, err
}

// engineParts are the parts the call engine is made with.
type engineParts struct {
	dialer         ivr.Dialer
	queues         ivr.Queues
	events         func(ivr.Event)
	metrics        *gatewayMetrics
	recordingSaved func(recording.Recording)
	httpClient     *netpolicy.Policy
	services       []any          // ivr.Config.Services // the outbound HTTP policy for webhooks and media
	console        *consoleWiring // records call timelines from the engine's logger and webhooks
}

// newEngine makes the call engine with its services: speech, media
// fetching, recordings.
func newEngine(cfg config.Config, dirs storageDirs, log *slog.Logger, p engineParts) (*ivr.Engine, error) {
	speaker, err := tts.New(tts.Options{Binary: cfg.TTS.Binary, CacheDir: dirs.cache, Rate: cfg.TTS.Rate, Voices: cfg.TTS.Voices, Logger: log})
	if err != nil {
		return nil, err
	}
	audioCache, err := ivr.NewAudioCache(p.httpClient.Client(30*time.Second), filepath.Join(dirs.cache, "audio"), 0)
	if err != nil {
		return nil, err
	}
	return ivr.NewEngine(p.console.engine(ivr.Config{
		AccountSID:     cfg.Account.SID,
		AuthToken:      cfg.Account.AuthToken,
		Speaker:        speaker,
		Audio:          audioCache,
		ErrorMessage:   cfg.ErrorMessage,
		WebhookTimeout: cfg.WebhookTimeout.D(),
		UserAgent:      "Voxgate/" + version,
		Logger:         log,
		Recorder: recording.New(recording.Config{Dir: dirs.recordings, PublicURL: cfg.HTTP.PublicURL,
			AccountSID: cfg.Account.SID, Saved: p.recordingSaved}),
		Events:         p.events,
		Dialer:         p.dialer,
		Queues:         p.queues,
		WebhookObserve: p.metrics.webhookDone,
		HTTPClient:     p.httpClient.Client(0),
		Services:       p.services,
	})), nil
}

// buildFlows loads the config's flow files and makes the Studio executor,
// which places and records calls with calls, sends messages with
// messenger and runs hosted functions named by SID (fns may be nil).
func (g *gateway) buildFlows(cfg config.Config, db *store.SQLite, calls *callControl, messenger *flowMessenger, fns *functions.Manager) error {
	files := studio.NewMemoryFlows()
	sids, err := loadFlows(cfg, files)
	if err != nil {
		return err
	}
	warnCalllessFlows(cfg, g.log)
	if g.apiFlows, err = newConfigFlowStore(db, cfg.Account.SID, sids); err != nil { // /v2/Flows lists the config's flows too
		return err
	}
	g.flowSIDs = sids
	g.flows = studio.NewExecutor(studio.Options{
		Flows:       chainedFlows{mem: files, sql: studio.NewSQLFlows(db)}, // config files, then flows made with /v2/Flows
		Store:       studio.NewSQLStore(db),
		Calls:       &flowCalls{c: calls},
		Recordings:  &flowRecorder{engine: calls.engine, accountSID: cfg.Account.SID},
		Messages:    channelMessenger{sms: messenger, convs: g.desk.convs}, // SMS, or the web chat a Webchat Flow talks to
		Handoff:     g.desk.sms,                                            // send-to-flex in messaging flows and Webchat Flows
		HTTPClient:  g.policy.Client(0),
		FunctionURL: (&functionURLs{m: fns}).url,
		PublicURL:   cfg.HTTP.PublicURL, AuthToken: cfg.Account.AuthToken, ErrorMessage: cfg.ErrorMessage, Logger: g.log,
		SharedLocks: g.cluster.studioLocks(), // nodes sharing the database: one of them at a time on a contact's messaging execution
	})
	return nil
}

// endFlowExecutions ends a flow's execution when its call ends, through
// the CDR writer so that a store hiccup does not leave it running.
func endFlowExecutions(x *studio.Executor, cdr *cdrWriter) func(ivr.Event) {
	return func(ev ivr.Event) {
		if ev.Info.Direction == ivr.OutboundDial || !store.CallStatus(ev.Status).Ended() {
			return
		}
		cdr.endExecution(ev.Info.SID, func(ctx context.Context) error {
			return x.EndCall(ctx, ev.Info.SID, ev.Status) // no execution: nothing to end
		})
	}
}

// callEvents hands each of the engine's call events to its subscribers,
// in the order they subscribed. Subscriptions are made while the gateway
// is built, before any call.
type callEvents struct{ subs []func(ivr.Event) }

func (e *callEvents) subscribe(f func(ivr.Event)) { e.subs = append(e.subs, f) }

func (e *callEvents) publish(ev ivr.Event) {
	for _, f := range e.subs {
		f(ev)
	}
}

// httpHandler is the gateway's HTTP surface: the REST API, /metrics, the
// agents' page, Studio flows' TwiML and the demo app.
func (g *gateway) httpHandler(db *store.SQLite, calls *callControl, queues *queue.Manager, dirs storageDirs) http.Handler {
	cfg := g.cfg
	apiHandler := api.NewHandler(api.Options{
		Streams:       g.streams,
		AuthToken:     cfg.Account.AuthToken,
		Store:         db,
		Calls:         calls,
		Queues:        g.queueControl(queues), // the cluster's waiting callers on PostgreSQL: wire_clusterqueues.go
		Flows:         &api.FlowControl{Store: g.apiFlows, Executor: g.flows},
		Messages:      g.messages.svc,
		PublicURL:     cfg.HTTP.PublicURL,
		Demo:          configs.Demo,
		ActiveCalls:   g.sip.ActiveCalls,
		Version:       version,
		Logger:        g.log,
		AccountSID:    cfg.Account.SID,
		RecordingsDir: dirs.recordings,
		TaskRouter:    g.taskRouter.Handler(),
		Conferences:   g.conferences,
	})
	agents := make([]web.AgentAccount, 0, len(cfg.Agents))
	for _, a := range cfg.Agents {
		agents = append(agents, web.AgentAccount{ID: a.ID, Name: a.Name, Secret: a.Secret, Queues: a.Queues})
	}
	mux := g.mux
	g.cluster.mount(mux)
	chats, agentDesk := newDesk(g.taskRouter, g.trDefaults, g.desk.convs, cfg, g.webchatFlow(), agentCalls{g.agentRooms}, g.log)
	agentPage := web.NewHandler(web.Options{Manager: queues, Agents: agents, PublicIP: g.publicIP, Logger: g.log,
		SignInThrottled: g.protect.throttled.Inc, Desk: agentDesk})
	chatWidget := chats.Handler()
	mux.Handle("/webchat", chatWidget)
	mux.Handle("/webchat/", chatWidget)
	mux.Handle("/agent", agentPage)
	mux.Handle("/agent/", agentPage)
	mux.Handle("/studio/", g.flows.Handler())
	g.console.mount(mux, cfg, db, apiHandler, queues, g.log)
	mux.Handle("/", g.metrics.handler(apiHandler)) // GET /metrics, then the API
	mux.Handle("/healthz", g.drain.health(g.metrics.handler(apiHandler)))
	return mux
}

// inbound runs an inbound SIP call: the number's TwiML app or flow.
func (g *gateway) inbound(ctx context.Context, call *sip.InboundCall) {
	if g.cluster.internalLeg(ctx, call) { // another node rings an agent connected here
		return
	}
	cfg := g.cfg
	app, ok := cfg.AppFor(call.To())
	if !ok {
		call.Logger().Warn("call: no application for the dialled number; add it to numbers: or set default_app", "to", call.To())
		call.Refuse(404, "Not Found")
		return
	}
	info := ivr.CallInfo{
		SID:         call.SID(),
		From:        call.From(),
		To:          call.To(),
		Direction:   ivr.Inbound,
		SIPCallID:   call.SIPCallID(),
		SIPSourceIP: call.Source().Addr().String(),
		SIPHeaders:  call.XHeaders(),
	}
	run := ivr.App{
		VoiceURL:             expandLocal(app.VoiceURL, cfg.HTTP.PublicURL),
		VoiceMethod:          app.VoiceMethod,
		FallbackURL:          expandLocal(app.VoiceFallbackURL, cfg.HTTP.PublicURL),
		FallbackMethod:       app.VoiceFallbackMethod,
		StatusCallback:       app.StatusCallback,
		StatusCallbackMethod: app.StatusCallbackMethod,
		StatusCallbackEvents: app.StatusCallbackEvents,
	}
	if app.Flow != "" {
		// A Studio flow is a TwiML app this gateway serves itself.
		u := g.flows.VoiceURL(g.flowSIDs[app.Flow])
		run.VoiceURL, run.VoiceMethod, run.FallbackURL, run.FallbackMethod = u, "POST", u, "POST"
	}
	g.engine.Run(ctx, info, call, run)
}

// run serves SIP and HTTP until ctx is cancelled, then stops them.
func (g *gateway) run(ctx context.Context, stdout io.Writer) error {
	cfg := g.cfg
	httpLn, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	httpSrv := &http.Server{Handler: g.http, ReadHeaderTimeout: 10 * time.Second}
	pprofCtx, stopPprof := context.WithCancel(ctx)
	waitPprof, err := pprofServer(pprofCtx, cfg.Debug.PprofListen, g.log)
	if err != nil {
		stopPprof()
		return err
	}
	defer waitPprof()
	defer stopPprof()
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Serve(httpLn) }()
	g.announce(stdout, httpLn.Addr())
	sipErr := make(chan error, 1)
	go func() { sipErr <- g.sip.Serve(ctx, g.drain.handler(g.inbound)) }()
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		return fmt.Errorf("http server: %w", err)
	}
	g.log.Info("voxgate stopping: hanging up calls")
	err = <-sipErr
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shutdownCtx)
	if e := <-httpDone; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	g.log.Info("voxgate stopped")
	return err
}

// announce prints where the gateway listens.
func (g *gateway) announce(stdout io.Writer, httpAddr net.Addr) {
	cfg := g.cfg
	for _, l := range g.sip.Listeners() {
		fmt.Fprintf(stdout, "voxgate %s: SIP on %s — call sip:1000@%s%s\n", version, l, hostPort(g.publicIP, l.Addr.Port()), transportParam(l.Transport))
	}
	fmt.Fprintf(stdout, "voxgate: HTTP on http://%s (health: /healthz, demo app: %s/demo/welcome.xml, agents: %s/agent, console: %s/console)\n", httpAddr, cfg.HTTP.PublicURL, cfg.HTTP.PublicURL, cfg.HTTP.PublicURL)
	g.log.Info("voxgate started", "version", version, "sip", cfg.SIP.Listen, "http", httpAddr.String(), "rtp_ports", cfg.Media.RTPPorts)
}

// mediaAddresses picks the IP RTP sockets bind to (the first SIP listen
// host) and the IP announced in SDP and Contact (sip.public_ip, else the
// bind IP).
func mediaAddresses(cfg config.Config) (bind, public netip.Addr, err error) {
	_, hp, _ := strings.Cut(cfg.SIP.Listen[0], ":")
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		return bind, public, fmt.Errorf("sip.listen: %w", err)
	}
	bind = ap.Addr()
	public = bind
	if cfg.SIP.PublicIP != "" {
		public = netip.MustParseAddr(cfg.SIP.PublicIP)
	}
	if public.IsUnspecified() {
		return bind, public, errors.New("sip.public_ip must be set when sip.listen binds to all addresses (0.0.0.0 or ::): it is the address callers send media to")
	}
	return bind, public, nil
}

// expandLocal lets config URLs start with "/" to mean this gateway's own
// HTTP server (the demo app).
func expandLocal(u, publicURL string) string {
	if strings.HasPrefix(u, "/") {
		return publicURL + u
	}
	return u
}

func hostPort(ip netip.Addr, port uint16) string {
	return netip.AddrPortFrom(ip, port).String()
}

func transportParam(t string) string {
	if t == "udp" {
		return ""
	}
	return ";transport=" + t
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
