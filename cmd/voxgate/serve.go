package main

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/configs"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/tts"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sip"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/web"
)

// serve runs the gateway until ctx is cancelled.
func serve(ctx context.Context, cfgPath string, env []string, stdout io.Writer) error {
	cfg, err := config.Load(cfgPath, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, os.Stderr)
	if err := os.MkdirAll(cfg.Storage.Dir, 0o755); err != nil {
		return fmt.Errorf("storage.dir: %w", err)
	}
	cacheDir := filepath.Join(cfg.Storage.Dir, "cache")
	recordingsDir := filepath.Join(cfg.Storage.Dir, "recordings")
	if err := os.MkdirAll(recordingsDir, 0o755); err != nil {
		return fmt.Errorf("storage.dir: %w", err)
	}

	db, err := store.Open(ctx, cfg.Storage.Dir)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer db.Close()
	cdr := newCDRWriter(db, cfg.Account.SID, log)
	flows := studio.NewMemoryFlows()
	flowSIDs, err := loadFlows(cfg, flows)
	if err != nil {
		return err
	}
	studioCalls := &flowCalls{} // set up once the engine exists
	// record-call widgets record through the engine, set once it exists.
	studioRecorder := &flowRecorder{accountSID: cfg.Account.SID}
	studioFunctions := &functionURLs{} // run-function widgets naming a hosted function by SID
	policy, err := outboundPolicy(cfg) // where webhooks, media and Studio HTTP widgets may connect
	if err != nil {
		return err
	}
	studioExec := studio.NewExecutor(studio.Options{
		Flows:      chainedFlows{mem: flows, sql: studio.NewSQLFlows(db)}, // config files, then flows made with /v2/Flows
		Store:      studio.NewSQLStore(db),
		Calls:      studioCalls,
		Recordings: studioRecorder,
		HTTPClient: policy.Client(0),
		PublicURL:  cfg.HTTP.PublicURL, AuthToken: cfg.Account.AuthToken, ErrorMessage: cfg.ErrorMessage, Logger: log,
		FunctionURL: studioFunctions.url,
	})
	cdrAndFlows := func(ev ivr.Event) {
		cdr.event(ev)
		if ev.Info.Direction != ivr.OutboundDial && store.CallStatus(ev.Status).Ended() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = studioExec.EndCall(ctx, ev.Info.SID, ev.Status) // no execution: nothing to end
		}
	}

	speaker, err := tts.New(tts.Options{Binary: cfg.TTS.Binary, CacheDir: cacheDir, Rate: cfg.TTS.Rate, Voices: cfg.TTS.Voices, Logger: log})
	if err != nil {
		return err
	}
	audioCache, err := ivr.NewAudioCache(policy.Client(30*time.Second), filepath.Join(cacheDir, "audio"), 0)
	if err != nil {
		return err
	}
	queues := queue.NewManager(queue.Config{
		OfferTimeout: cfg.Queues.OfferTimeout.D(),
		WrapUp:       cfg.Queues.WrapUp.D(),
		Resolve:      queueResolver(db, cfg.Account.SID),
		Logger:       log,
	})
	defer queues.Close()
	gm := newGatewayMetrics(queues, log)
	protection := newProtectionMetrics(gm.m.Registry())
	events := gm.callEvents(cdrAndFlows)
	dialer := &sipDialer{queues: queues} // its server is set once the SIP server exists
	engine := ivr.NewEngine(ivr.Config{
		AccountSID:     cfg.Account.SID,
		AuthToken:      cfg.Account.AuthToken,
		Speaker:        speaker,
		Audio:          audioCache,
		ErrorMessage:   cfg.ErrorMessage,
		WebhookTimeout: cfg.WebhookTimeout.D(),
		UserAgent:      "Voxgate/" + version,
		Logger:         log,
		RecordingsDir:  recordingsDir,
		PublicURL:      cfg.HTTP.PublicURL,
		Events:         events,
		RecordingSaved: cdr.recording,
		Dialer:         dialer,
		Queues:         queues,
		WebhookObserve: gm.webhookDone,
		HTTPClient:     policy.Client(0),
	})
	defer engine.Close()
	studioRecorder.engine = engine

	rtpIP, publicIP, err := mediaAddresses(cfg)
	if err != nil {
		return err
	}
	lo, hi, _ := cfg.Media.PortRange()
	ports, err := media.NewPortPool(rtpIP, lo, hi)
	if err != nil {
		return fmt.Errorf("media.rtp_ports: %w", err)
	}
	handler := func(ctx context.Context, call *sip.InboundCall) {
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
			u := studioExec.VoiceURL(flowSIDs[app.Flow])
			run.VoiceURL, run.VoiceMethod, run.FallbackURL, run.FallbackMethod = u, "POST", u, "POST"
		}
		engine.Run(ctx, info, call, run)
	}
	trunks, err := sipTrunks(cfg.Trunks)
	if err != nil {
		return err
	}
	sipSrv, err := sip.NewServer(sip.Config{
		Trunks:     trunks,
		MediaEnded: gm.mediaEnded,
		PacingLate: gm.m.PacingLate,
		Listen:     cfg.SIP.Listen,
		PublicIP:   publicIP,
		Ports:      ports,
		RTPTimeout: cfg.Media.RTPTimeout.D(),
		UserAgent:  cfg.SIP.UserAgent,
		T1:         cfg.SIP.T1.D(),
		Logger:     log,
		Limits:     sipLimits(cfg.SIP.Limits),
		Refused:    protection.sipRefusedHook,
		TLSCert:    cfg.SIP.TLSCert,
		TLSKey:     cfg.SIP.TLSKey,
		Users:      sipUsers(cfg.Users),
	}, handler)
	if err != nil {
		return err
	}
	dialer.srv = sipSrv
	gm.serving(sipSrv)

	httpLn, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	calls := &callControl{ctx: ctx, engine: engine, store: db, accountSID: cfg.Account.SID, log: log}
	defer calls.wait()
	studioCalls.c = calls
	defer studioExec.Close() // before calls.wait: no flow places a call after it
	apiHandler := api.NewHandler(api.Options{
		AuthToken:     cfg.Account.AuthToken,
		Store:         db,
		Calls:         calls,
		Queues:        queueControl{queues},
		Flows:         &api.FlowControl{Store: db, Executor: studioExec},
		PublicURL:     cfg.HTTP.PublicURL,
		Demo:          configs.Demo,
		ActiveCalls:   sipSrv.ActiveCalls,
		Version:       version,
		Logger:        log,
		AccountSID:    cfg.Account.SID,
		RecordingsDir: recordingsDir,
	})
	agents := make([]web.AgentAccount, 0, len(cfg.Agents))
	for _, a := range cfg.Agents {
		agents = append(agents, web.AgentAccount{ID: a.ID, Name: a.Name, Secret: a.Secret, Queues: a.Queues})
	}
	mux := http.NewServeMux()
	agentPage := web.NewHandler(web.Options{Manager: queues, Agents: agents, PublicIP: publicIP, Logger: log, SignInThrottled: protection.throttled.Inc})
	mux.Handle("/agent", agentPage)
	mux.Handle("/agent/", agentPage)
	mux.Handle("/studio/", studioExec.Handler())
	fns, err := startFunctions(ctx, cfg, db, mux, log)
	if err != nil {
		return err
	}
	if fns != nil {
		defer fns.Close()
		studioFunctions.m = fns
	}
	mux.Handle("/", gm.handler(apiHandler)) // GET /metrics, then the API
	httpSrv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	pprofCtx, stopPprof := context.WithCancel(ctx)
	waitPprof, err := pprofServer(pprofCtx, cfg.Debug.PprofListen, log)
	if err != nil {
		stopPprof()
		return err
	}
	defer waitPprof()
	defer stopPprof()
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Serve(httpLn) }()

	for _, l := range sipSrv.Listeners() {
		fmt.Fprintf(stdout, "voxgate %s: SIP on %s — call sip:1000@%s%s\n", version, l, hostPort(publicIP, l.Addr.Port()), transportParam(l.Transport))
	}
	fmt.Fprintf(stdout, "voxgate: HTTP on http://%s (health: /healthz, demo app: %s/demo/welcome.xml, agents: %s/agent)\n", httpLn.Addr(), cfg.HTTP.PublicURL, cfg.HTTP.PublicURL)
	log.Info("voxgate started", "version", version, "sip", cfg.SIP.Listen, "http", httpLn.Addr().String(), "rtp_ports", cfg.Media.RTPPorts)

	sipErr := make(chan error, 1)
	go func() { sipErr <- sipSrv.Serve(ctx) }()
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("voxgate stopping: hanging up calls")
	err = <-sipErr
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(shutdownCtx)
	if e := <-httpDone; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	log.Info("voxgate stopped")
	return err
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
