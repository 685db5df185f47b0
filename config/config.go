// Package config loads voxgate.yaml and applies environment overrides.
//
// Every key can be overridden by an environment variable named VOXGATE_
// followed by the key path in upper case with dots as underscores, e.g.
// sip.public_ip -> VOXGATE_SIP_PUBLIC_IP, account.auth_token ->
// VOXGATE_ACCOUNT_AUTH_TOKEN. Lists take comma-separated values
// (VOXGATE_SIP_LISTEN=udp:0.0.0.0:5060,tcp:0.0.0.0:5060).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole gateway configuration.
type Config struct {
	SIP     SIP     `yaml:"sip"`
	Media   Media   `yaml:"media"`
	HTTP    HTTP    `yaml:"http"`
	Account Account `yaml:"account"`
	Storage Storage `yaml:"storage"`
	TTS     TTS     `yaml:"tts"`
	Log     Log     `yaml:"log"`
	Debug   Debug   `yaml:"debug"`
	// ErrorMessage is spoken when an application fails with no fallback.
	ErrorMessage string `yaml:"error_message"`
	// WebhookTimeout bounds each TwiML request.
	WebhookTimeout Duration `yaml:"webhook_timeout"`
	// Trunks are the SIP trunks calls to numbers go out through, and that
	// may call in.
	Trunks []Trunk `yaml:"trunks"`
	// Users are SIP phones allowed to REGISTER (and call in with their
	// credentials); <Dial><Sip>sip:USER@gateway</Sip> and
	// <Dial><Client>USER</Client> reach a registered one.
	Users []User `yaml:"users"`
	// Agents may sign in to the softphone page at /agent.
	Agents []Agent `yaml:"agents"`
	// Queues holds defaults for queues.
	Queues Queues `yaml:"queues"`
	// Numbers map dialled numbers to applications.
	Numbers []Number `yaml:"numbers"`
	// DefaultApp runs calls to any number not listed.
	DefaultApp App `yaml:"default_app"`
	// Messaging configures SMS handling (see Messaging).
	Messaging Messaging `yaml:"messaging"`
	// OutboundHTTP limits where the gateway's HTTP requests may connect.
	OutboundHTTP OutboundHTTP `yaml:"outbound_http"`
	// Functions configures hosted Twilio Functions and Assets.
	Functions Functions `yaml:"functions"`
	// WebChat configures the chat widget at /webchat (TaskRouter).
	WebChat WebChat `yaml:"webchat"`
	// Streams and Speech configure media streams and speech recognition.
	Streams Streams `yaml:"streams"`
	Speech  Speech  `yaml:"speech"`
	// Console configures the web console at /console.
	Console Console `yaml:"console"`
	// Cluster names this node among gateways sharing one database.
	Cluster Cluster `yaml:"cluster"`
}

// Console configures the web console (package console).
type Console struct {
	SessionTTL   Duration `yaml:"session_ttl"`   // how long a sign-in lasts (default 8h)
	ServiceLevel Duration `yaml:"service_level"` // the live board's answer-within threshold (default 20s)
}

// Messaging configures SMS: opt-out keywords and the send queue.
type Messaging struct {
	// OptOut handles STOP/START/HELP and their synonyms per number
	// (default true).
	OptOut bool `yaml:"opt_out"`
	// OptOutReply, OptInReply and HelpReply are the automatic answers.
	OptOutReply string `yaml:"opt_out_reply"`
	OptInReply  string `yaml:"opt_in_reply"`
	HelpReply   string `yaml:"help_reply"`
	// Workers is how many messages each trunk sends at once (default 32).
	Workers int `yaml:"workers"`
	// ReassemblyTimeout is how long the parts of a concatenated inbound
	// message are awaited (default 60s).
	ReassemblyTimeout Duration `yaml:"reassembly_timeout"`
}

// SMPP is a trunk's SMSC connection (messaging: smpp).
type SMPP struct {
	Host       string `yaml:"host"` // host:port of the SMSC (port 2775 when absent)
	SystemID   string `yaml:"system_id"`
	Password   string `yaml:"password"`
	SystemType string `yaml:"system_type"`
	// Bind is transceiver (default) or transmitter_receiver (two binds).
	Bind string `yaml:"bind"`
	// Window is the most requests outstanding per bind (default 10).
	Window int `yaml:"window"`
	// EnquireLink is the keepalive interval (default 30s).
	EnquireLink Duration `yaml:"enquire_link"`
}

// Functions configures the Node.js runtime of hosted Twilio Serverless
// projects (package functions).
type Functions struct {
	// RuntimeDir holds the runtime's node_modules (twilio), installed by
	// make deps (default functions/runtime, relative to the working
	// directory). Missing: functions are disabled with a warning.
	RuntimeDir string   `yaml:"runtime_dir"`
	Node       string   `yaml:"node"`      // Node.js binary (default node)
	NPM        string   `yaml:"npm"`       // npm binary for build dependencies (default npm)
	Workers    int      `yaml:"workers"`   // warm processes per deployment (default 2)
	MemoryMB   int      `yaml:"memory_mb"` // heap cap per process (default 256)
	Timeout    Duration `yaml:"timeout"`   // per execution (default 10s, as Twilio)
}

// WebChat routes the /webchat widget's conversations into TaskRouter.
type WebChat struct {
	// Workflow is the WW SID chats are routed through; default: the
	// default workspace's "Voxgate queues" workflow.
	Workflow string `yaml:"workflow"`
	// Queue is set as the chat task's "queue" attribute, which the
	// default workflow routes on (default "": the Everyone queue).
	Queue string `yaml:"queue"`
	// Flow is the Studio "Webchat Flow" a new chat runs first: a flow
	// JSON file, or the FW SID of a flow made with /v2/Flows. Default ""
	// (chats go straight into Workflow).
	Flow string `yaml:"flow"`
}

// SIP configures signalling.
type SIP struct {
	Listen    []string `yaml:"listen"`
	PublicIP  string   `yaml:"public_ip"`
	UserAgent string   `yaml:"user_agent"`
	// T1 is RFC 3261's round-trip estimate that every SIP timer derives
	// from (retransmissions start at T1, transactions and the ACK wait last
	// 64·T1). Default 500ms; RFC 3261 §17.1.1.1 allows a smaller value only
	// on closed private networks (the lossy-network tests use one).
	T1     Duration  `yaml:"t1"`
	Limits SIPLimits `yaml:"limits"`
	// TLSCert and TLSKey name the PEM certificate chain and private key
	// of tls: listeners (required when sip.listen has one).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Codecs is the codec preference (PCMU, PCMA, G722) of calls from or
	// through no trunk with codecs of its own: offers are answered with
	// the first of these they have, our offers list them in order.
	// Empty: the offerer's first G.711 codec, else G.722; we offer PCMU
	// and PCMA.
	Codecs []string `yaml:"codecs"`
	// SessionExpires is the RFC 4028 session interval our INVITEs ask
	// for (and callers that support timer without asking get); unset:
	// 30m. MinSE is the shortest interval we accept (smaller get 422);
	// unset: 90s, RFC 4028's floor (lower values are for tests only).
	SessionExpires Duration `yaml:"session_expires"`
	MinSE          Duration `yaml:"min_se"`
}

// Media configures RTP.
type Media struct {
	RTPPorts   string   `yaml:"rtp_ports"`
	RTPTimeout Duration `yaml:"rtp_timeout"`
}

// HTTP configures the web server (REST API, demo app, agent page).
type HTTP struct {
	Listen string `yaml:"listen"`
	// PublicURL is how webhooks and users reach this server; it is the base
	// of URLs the gateway hands out (RecordingUrl, the demo app).
	PublicURL string `yaml:"public_url"`
}

// Debug configures diagnostics that are off by default.
type Debug struct {
	// PprofListen, when set (HOST:PORT), serves Go's profiler
	// (/debug/pprof/) there, on a listener of its own and without
	// authentication: keep it on a loopback address.
	PprofListen string `yaml:"pprof_listen"`
}

// Account holds the credentials of the (single) account.
type Account struct {
	SID       string `yaml:"sid"`
	AuthToken string `yaml:"auth_token"`
}

// Storage says where state lives.
type Storage struct {
	Dir string `yaml:"dir"`
	// Retention is how long call records (CDRs) are kept: ended calls
	// created longer ago are deleted, hourly. 0 keeps them until deleted
	// through the API.
	Retention Duration `yaml:"retention"`
	// Driver is the database records are kept in: "sqlite" (the default,
	// Dir/voxgate.db) or "postgres" (URL; every node of a cluster points
	// at the same database). Dir still holds recordings and caches.
	Driver string `yaml:"driver"`
	// URL is the PostgreSQL connection URL when Driver is "postgres",
	// e.g. postgres://voxgate:secret@db.example.com:5432/voxgate.
	URL string `yaml:"url"`
}

// TTS configures <Say>.
type TTS struct {
	Binary string `yaml:"binary"`
	Rate   int    `yaml:"rate"`
	// Voices maps a locale ("en-us") or locale/gender ("en-us/f") to an
	// espeak-ng voice.
	Voices map[string]string `yaml:"voices"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// App is the application run for a number.
type App struct {
	// Flow is a Studio flow JSON file (as exported from Twilio Studio) to
	// run instead of voice_url.
	Flow                 string   `yaml:"flow"`
	VoiceURL             string   `yaml:"voice_url"`
	VoiceMethod          string   `yaml:"voice_method"`
	VoiceFallbackURL     string   `yaml:"voice_fallback_url"`
	VoiceFallbackMethod  string   `yaml:"voice_fallback_method"`
	StatusCallback       string   `yaml:"status_callback"`
	StatusCallbackMethod string   `yaml:"status_callback_method"`
	StatusCallbackEvents []string `yaml:"status_callback_events"`
	// SMSURL receives inbound messages (Twilio's SmsUrl); SMSMethod is
	// GET or POST (default POST); SMSFallbackURL is requested when it
	// fails; SMSStatusCallback hears the status of replies it sends.
	SMSURL            string `yaml:"sms_url"`
	SMSMethod         string `yaml:"sms_method"`
	SMSFallbackURL    string `yaml:"sms_fallback_url"`
	SMSFallbackMethod string `yaml:"sms_fallback_method"`
	SMSStatusCallback string `yaml:"sms_status_callback"`
}

// HasMessaging reports whether the app handles messages (sms_url or flow).
func (a App) HasMessaging() bool { return a.SMSURL != "" || a.Flow != "" }

// Agent is a browser agent account.
type Agent struct {
	ID     string   `yaml:"id"`     // identity: <Dial><Client>ID</Client> rings this agent
	Name   string   `yaml:"name"`   // shown on the page
	Secret string   `yaml:"secret"` // the agent's password for /agent
	Queues []string `yaml:"queues"` // queue names the agent answers
	// Supervisor lets the agent monitor, coach and barge into live calls
	// from the desktop (a worker whose attributes' roles has "supervisor"
	// may too).
	Supervisor bool `yaml:"supervisor"`
}

// Queues configures queue behaviour.
type Queues struct {
	OfferTimeout Duration `yaml:"offer_timeout"` // how long an agent's offer rings (default 20s)
	WrapUp       Duration `yaml:"wrap_up"`       // agent pause after a call (default 3s)
}

// Trunk is a SIP trunk (see sip.Trunk).
type Trunk struct {
	Name         string `yaml:"name"`
	Host         string `yaml:"host"`      // outbound proxy or peer, host:port
	Transport    string `yaml:"transport"` // udp (default) or tcp
	Username     string `yaml:"username"`  // digest credentials for calls we send
	Password     string `yaml:"password"`
	CallerID     string `yaml:"caller_id"`     // From user when a call gives none
	NumberPrefix string `yaml:"number_prefix"` // prepended to dialled numbers
	// AllowedIPs are addresses or CIDR networks whose INVITEs belong to this
	// trunk. Once any trunk lists some, INVITEs from elsewhere get 403.
	AllowedIPs      []string `yaml:"allowed_ips"`
	InboundUsername string   `yaml:"inbound_username"` // digest credentials inbound INVITEs must present
	InboundPassword string   `yaml:"inbound_password"`
	// Messaging is the trunk's SMS transport: "" (none), "smpp" (the smpp
	// block) or "sip" (SIP MESSAGE to and from host).
	Messaging string `yaml:"messaging"`
	SMPP      SMPP   `yaml:"smpp"`
	// SRTP is the media encryption policy: required, optional (default)
	// or off.
	SRTP string `yaml:"srtp"`
	// TLSCAFile, for transport tls, names PEM CA certificates the trunk's
	// certificate may chain to besides the system's.
	TLSCAFile string `yaml:"tls_ca_file"`
	// Register makes the gateway REGISTER with Host as Username/Password.
	Register bool `yaml:"register"`
	// LateOffer sends calls through the trunk without SDP in the INVITE.
	LateOffer bool `yaml:"late_offer"`
	// Codecs is the trunk's codec preference, instead of sip.codecs.
	Codecs []string `yaml:"codecs"`
}

// User is a SIP phone that may register.
type User struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	CallerID string `yaml:"caller_id"` // From of its calls once authenticated; default its own user
	// SRTP is the phone's media encryption: required, optional or off;
	// unset, our calls to it use SRTP (required) when it registered over
	// TLS and plain RTP otherwise.
	SRTP string `yaml:"srtp"`
}

// AllowedPrefixes parses AllowedIPs (a bare address is a /32 or /128).
func (t Trunk) AllowedPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, a := range t.AllowedIPs {
		if p, err := netip.ParsePrefix(a); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR network", a)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// Number binds a dialled number to an App.
type Number struct {
	Number string `yaml:"number"`
	App    `yaml:",inline"`
}

// Duration is a time.Duration written as "30s", "1m30s".
type Duration time.Duration

// UnmarshalYAML reads a duration string or a number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	return d.parse(n.Value)
}

func (d *Duration) parse(s string) error {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 30s, 2m)", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns the configuration used for keys a file leaves out.
func Default() Config {
	return Config{
		SIP:            SIP{Listen: []string{"udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"}, UserAgent: "Voxgate", Limits: defaultSIPLimits()},
		Media:          Media{RTPPorts: "20000-30000", RTPTimeout: Duration(30 * time.Second)},
		HTTP:           HTTP{Listen: "127.0.0.1:8080"},
		Storage:        Storage{Dir: "./var"},
		TTS:            TTS{Binary: "espeak-ng", Rate: 150},
		Log:            Log{Level: "info", Format: "text"},
		WebhookTimeout: Duration(15 * time.Second),
		Queues:         Queues{OfferTimeout: Duration(20 * time.Second), WrapUp: Duration(3 * time.Second)},
		Messaging:      Messaging{OptOut: true, Workers: 32, ReassemblyTimeout: Duration(60 * time.Second)},
		Functions: Functions{RuntimeDir: "functions/runtime", Node: "node", NPM: "npm", Workers: 2, MemoryMB: 256,
			Timeout: Duration(10 * time.Second)},
		Streams: defaultStreams(),
		Speech:  defaultSpeech(),
		Console: Console{SessionTTL: Duration(8 * time.Hour), ServiceLevel: Duration(20 * time.Second)},
	}
}

// Load reads the file at path (if path is not empty) over the defaults,
// applies environment overrides from env (os.Environ() form), and
// validates the result.
func Load(path string, env []string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: empty file
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return Config{}, err
	}
	if cfg.HTTP.PublicURL == "" {
		cfg.HTTP.PublicURL = "http://" + cfg.HTTP.Listen
	}
	cfg.HTTP.PublicURL = strings.TrimRight(cfg.HTTP.PublicURL, "/")
	cfg.Cluster.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	authTokenPattern  = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
)

// Validate checks the configuration and says what is wrong, naming the key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.SIP.Listen) == 0 {
		bad("sip.listen", "at least one address is needed, e.g. udp:127.0.0.1:5060")
	}
	for _, l := range c.SIP.Listen {
		t, hp, ok := strings.Cut(l, ":")
		if !ok || (t != "udp" && t != "tcp" && t != "tls") {
			bad("sip.listen", "%q: want udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT", l)
			continue
		}
		if t == "tls" && (c.SIP.TLSCert == "" || c.SIP.TLSKey == "") {
			bad("sip.tls_cert", "a tls: listener needs sip.tls_cert and sip.tls_key (PEM files)")
		}
		if _, err := netip.ParseAddrPort(hp); err != nil {
			bad("sip.listen", "%q: %v", l, err)
		}
	}
	checkCodecs("sip.codecs", c.SIP.Codecs, bad)
	if t1 := c.SIP.T1.D(); t1 != 0 && (t1 < 10*time.Millisecond || t1 > 4*time.Second) {
		bad("sip.t1", "%v: want between 10ms and 4s (T2), or unset for 500ms", t1)
	}
	if m := c.SIP.MinSE.D(); m != 0 && (m < time.Second || m > 24*time.Hour) {
		bad("sip.min_se", "%v: want between 1s and 24h (RFC 4028 wants at least 90s; less is for tests), or unset for 90s", m)
	}
	minSE := c.SIP.MinSE.D()
	if minSE == 0 {
		minSE = 90 * time.Second
	}
	if se := c.SIP.SessionExpires.D(); se != 0 && (se < minSE || se > 24*time.Hour) {
		bad("sip.session_expires", "%v: want between sip.min_se (90s when unset) and 24h, or unset for 30m", se)
	}
	if c.SIP.PublicIP != "" {
		if _, err := netip.ParseAddr(c.SIP.PublicIP); err != nil {
			bad("sip.public_ip", "%q is not an IP address", c.SIP.PublicIP)
		}
	}
	if _, _, err := c.Media.PortRange(); err != nil {
		bad("media.rtp_ports", "%v", err)
	}
	if _, err := netip.ParseAddrPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "%q: want HOST:PORT (%v)", c.HTTP.Listen, err)
	}
	if c.Debug.PprofListen != "" {
		if _, err := netip.ParseAddrPort(c.Debug.PprofListen); err != nil {
			bad("debug.pprof_listen", "%q: want HOST:PORT (%v)", c.Debug.PprofListen, err)
		}
	}
	if !accountSIDPattern.MatchString(c.Account.SID) {
		bad("account.sid", "%q: want AC followed by 32 hex digits", c.Account.SID)
	}
	if !authTokenPattern.MatchString(c.Account.AuthToken) {
		bad("account.auth_token", "want 32 hex digits (Twilio's SDKs accept only letters and digits)")
	}
	if c.Functions.Workers < 1 || c.Functions.Workers > 64 {
		bad("functions.workers", "%d: want 1 to 64", c.Functions.Workers)
	}
	if c.Functions.MemoryMB < 32 {
		bad("functions.memory_mb", "%d: want at least 32", c.Functions.MemoryMB)
	}
	if c.Functions.Timeout <= 0 {
		bad("functions.timeout", "must be positive")
	}
	if c.Console.SessionTTL < Duration(time.Minute) {
		bad("console.session_ttl", "%v: want at least 1m", time.Duration(c.Console.SessionTTL))
	}
	if c.Console.ServiceLevel <= 0 {
		bad("console.service_level", "must be positive")
	}
	if c.Storage.Dir == "" {
		bad("storage.dir", "must not be empty")
	}
	if c.Storage.Retention < 0 {
		bad("storage.retention", "must not be negative (0 keeps call records)")
	}
	if c.Cluster.DrainTimeout < 0 {
		bad("cluster.drain_timeout", "must not be negative (0 hangs up at once on SIGTERM)")
	}
	if c.Cluster.Heartbeat < Duration(100*time.Millisecond) {
		bad("cluster.heartbeat", "must be at least 100ms")
	}
	if c.Cluster.DeadAfter < 2*c.Cluster.Heartbeat {
		bad("cluster.dead_after", "must be at least twice cluster.heartbeat (%v)", c.Cluster.Heartbeat.D())
	}
	if q := c.Cluster.NamedQueues; q != "" && q != "cluster" && q != "node" {
		bad("cluster.named_queues", "%q: want cluster or node", q)
	}
	for _, p := range c.Storage.problems() {
		bad(p.key, "%s", p.text)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	checkSMS := func(key string, a App) {
		for _, u := range []struct{ k, v string }{{"sms_url", a.SMSURL}, {"sms_fallback_url", a.SMSFallbackURL}, {"sms_status_callback", a.SMSStatusCallback}} {
			if u.v == "" || strings.HasPrefix(u.v, "/") {
				continue
			}
			p, err := url.Parse(u.v)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				bad(key+"."+u.k, "%q: want an absolute http(s) URL (or a /path on this gateway)", u.v)
			}
		}
		for _, m := range []struct{ k, v string }{{"sms_method", a.SMSMethod}, {"sms_fallback_method", a.SMSFallbackMethod}} {
			if m.v != "" && !strings.EqualFold(m.v, "GET") && !strings.EqualFold(m.v, "POST") {
				bad(key+"."+m.k, "%q: want GET or POST", m.v)
			}
		}
	}
	if c.Messaging.Workers < 1 {
		bad("messaging.workers", "must be at least 1")
	}
	checkApp := func(key string, a App, required bool) {
		if a.Flow != "" {
			if a.VoiceURL != "" {
				bad(key+".flow", "set either flow or voice_url, not both")
			}
			return
		}
		checkSMS(key, a)
		if a.VoiceURL == "" {
			if required && a.SMSURL == "" {
				bad(key+".voice_url", "is required (or flow, or sms_url)")
			}
			return
		}
		for _, u := range []struct{ k, v string }{{"voice_url", a.VoiceURL}, {"voice_fallback_url", a.VoiceFallbackURL}, {"status_callback", a.StatusCallback}} {
			if u.v == "" || (u.k != "status_callback" && strings.HasPrefix(u.v, "/")) {
				continue // a path means the gateway's own HTTP server
			}
			p, err := url.Parse(u.v)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				bad(key+"."+u.k, "%q: want an absolute http(s) URL (or a /path on this gateway)", u.v)
			}
		}
		for _, m := range []struct{ k, v string }{{"voice_method", a.VoiceMethod}, {"voice_fallback_method", a.VoiceFallbackMethod}, {"status_callback_method", a.StatusCallbackMethod}} {
			if m.v != "" && !strings.EqualFold(m.v, "GET") && !strings.EqualFold(m.v, "POST") {
				bad(key+"."+m.k, "%q: want GET or POST", m.v)
			}
		}
		for _, e := range a.StatusCallbackEvents {
			switch strings.ToLower(e) {
			case "initiated", "ringing", "answered", "completed":
			default:
				bad(key+".status_callback_events", "%q: want initiated, ringing, answered or completed", e)
			}
		}
	}
	names := map[string]bool{}
	for i, t := range c.Trunks {
		key := fmt.Sprintf("trunks[%d]", i)
		if t.Name == "" {
			bad(key+".name", "is required")
		} else if names[t.Name] {
			bad(key+".name", "%q is used twice", t.Name)
		}
		names[t.Name] = true
		if t.Host != "" {
			if _, _, err := net.SplitHostPort(t.Host); err != nil {
				if _, err2 := netip.ParseAddr(t.Host); err2 != nil && strings.Contains(t.Host, ":") {
					bad(key+".host", "%q: want host or host:port", t.Host)
				}
			}
		}
		if t.Transport != "" && t.Transport != "udp" && t.Transport != "tcp" && t.Transport != "tls" {
			bad(key+".transport", "%q: want udp, tcp or tls", t.Transport)
		}
		if t.Register && (t.Host == "" || t.Username == "") {
			bad(key+".register", "needs host and username")
		}
		if t.SRTP != "" && t.SRTP != "required" && t.SRTP != "optional" && t.SRTP != "off" {
			bad(key+".srtp", "%q: want required, optional or off", t.SRTP)
		}
		checkCodecs(key+".codecs", t.Codecs, bad)
		if _, err := t.AllowedPrefixes(); err != nil {
			bad(key+".allowed_ips", "%v", err)
		}
		if (t.InboundUsername == "") != (t.InboundPassword == "") {
			bad(key+".inbound_password", "inbound_username and inbound_password go together")
		}
		checkTrunkMessaging(key, t, bad)
	}
	if w := c.WebChat.Workflow; w != "" && !regexp.MustCompile(`^WW[0-9a-fA-F]{32}$`).MatchString(w) {
		bad("webchat.workflow", "%q is not a workflow SID (WW + 32 hex digits)", w)
	}
	if f := c.WebChat.Flow; strings.HasPrefix(f, "FW") && !regexp.MustCompile(`^FW[0-9a-fA-F]{32}$`).MatchString(f) {
		bad("webchat.flow", "%q is neither a flow file nor a flow SID (FW + 32 hex digits)", f)
	}
	ids := map[string]bool{}
	users := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Username == "" || strings.ContainsAny(u.Username, " \t@:;<>\""):
			bad(key+".username", "%q: want a SIP user name", u.Username)
		case users[u.Username]:
			bad(key+".username", "%q appears twice", u.Username)
		case len(u.Password) < 8:
			bad(key+".password", "want at least 8 characters")
		}
		if u.SRTP != "" && u.SRTP != "required" && u.SRTP != "optional" && u.SRTP != "off" {
			bad(key+".srtp", "%q: want required, optional or off", u.SRTP)
		}
		users[u.Username] = true
	}
	for i, a := range c.Agents {
		key := fmt.Sprintf("agents[%d]", i)
		switch {
		case a.ID == "":
			bad(key+".id", "is required")
		case ids[a.ID]:
			bad(key+".id", "%q is used twice", a.ID)
		}
		ids[a.ID] = true
		if len(a.Secret) < 8 {
			bad(key+".secret", "must be at least 8 characters")
		}
	}
	for i, n := range c.Numbers {
		key := fmt.Sprintf("numbers[%d]", i)
		if n.Number == "" {
			bad(key+".number", "is required")
		}
		checkApp(key, n.App, true)
	}
	checkApp("default_app", c.DefaultApp, false)
	c.validateHardening(bad)
	errs = append(errs, c.validateStreams()...)
	return errors.Join(errs...)
}

// checkTrunkMessaging validates a trunk's messaging and smpp keys.
func checkTrunkMessaging(key string, t Trunk, bad func(key, format string, args ...any)) {
	switch t.Messaging {
	case "":
	case "sip":
		if t.Host == "" {
			bad(key+".host", "is required for messaging: sip (MESSAGE requests go there)")
		}
	case "smpp":
		if t.SMPP.Host == "" {
			bad(key+".smpp.host", "is required for messaging: smpp")
		}
		if t.SMPP.SystemID == "" {
			bad(key+".smpp.system_id", "is required for messaging: smpp")
		}
		if len(t.SMPP.SystemID) > 15 || len(t.SMPP.Password) > 8 || len(t.SMPP.SystemType) > 12 {
			bad(key+".smpp", "system_id, password and system_type are limited to 15, 8 and 12 characters (SMPP 3.4)")
		}
		switch t.SMPP.Bind {
		case "", "transceiver", "transmitter_receiver":
		default:
			bad(key+".smpp.bind", "%q: want transceiver or transmitter_receiver", t.SMPP.Bind)
		}
	default:
		bad(key+".messaging", "%q: want smpp or sip", t.Messaging)
	}
}

// MessagingAppFor returns the app that handles messages to a number:
// a listed number with sms_url or flow (matched like AppFor), else the
// default app when it has one. ok is false otherwise.
func (c Config) MessagingAppFor(number string) (App, bool) {
	d := digits(number)
	for _, n := range c.Numbers {
		if n.Number == number || (d != "" && digits(n.Number) == d) {
			return n.App, n.HasMessaging()
		}
	}
	if c.DefaultApp.HasMessaging() {
		return c.DefaultApp, true
	}
	return App{}, false
}

// PortRange parses media.rtp_ports ("20000-30000").
func (m Media) PortRange() (lo, hi int, err error) {
	a, b, ok := strings.Cut(m.RTPPorts, "-")
	if ok {
		lo, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			hi, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || lo < 1024 || hi > 65535 || hi-lo < 3 {
		return 0, 0, fmt.Errorf("%q: want LOW-HIGH within 1024-65535, e.g. 20000-30000", m.RTPPorts)
	}
	return lo, hi, nil
}

// AppFor returns the application for a dialled number: a listed number
// (matched exactly, or by its digits so +15550001000 matches 15550001000),
// else the default app. ok is false when neither exists.
func (c Config) AppFor(dialled string) (App, bool) {
	voice := func(a App) bool { return a.VoiceURL != "" || a.Flow != "" } // a messaging-only number takes no calls
	for _, n := range c.Numbers {
		if n.Number == dialled {
			return n.App, voice(n.App)
		}
	}
	d := digits(dialled)
	if d != "" {
		for _, n := range c.Numbers {
			if digits(n.Number) == d {
				return n.App, voice(n.App)
			}
		}
	}
	if c.DefaultApp.VoiceURL != "" || c.DefaultApp.Flow != "" {
		return c.DefaultApp, true
	}
	return App{}, false
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// applyEnv sets scalar and list keys from VOXGATE_* variables.
func applyEnv(cfg *Config, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "VOXGATE_") {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	return walkEnv(reflect.ValueOf(cfg).Elem(), "VOXGATE", vars)
}

func walkEnv(v reflect.Value, prefix string, vars map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "numbers" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := walkEnv(fv, name, vars); err != nil {
				return err
			}
			continue
		}
		val, ok := vars[name]
		if !ok {
			continue
		}
		switch {
		case f.Type == reflect.TypeOf(Duration(0)):
			var d Duration
			if err := d.parse(val); err != nil {
				return fmt.Errorf("config: %s: %w", name, err)
			}
			fv.Set(reflect.ValueOf(d))
		case f.Type.Kind() == reflect.String:
			fv.SetString(val)
		case f.Type.Kind() == reflect.Int:
			n, err := strconv.Atoi(val)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not a number", name, val)
			}
			fv.SetInt(int64(n))
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			var items []string
			for _, s := range strings.Split(val, ",") {
				if s = strings.TrimSpace(s); s != "" {
					items = append(items, s)
				}
			}
			fv.Set(reflect.ValueOf(items))
		}
	}
	return nil
}

// checkCodecs reports names in a codec preference list that are not
// PCMU, PCMA or G722 (any case), or repeated.
func checkCodecs(key string, names []string, bad func(key, format string, args ...any)) {
	seen := map[string]bool{}
	for _, n := range names {
		u := strings.ToUpper(n)
		switch u {
		case "PCMU", "PCMA", "G722":
		default:
			bad(key, "%q: want PCMU, PCMA or G722", n)
			continue
		}
		if seen[u] {
			bad(key, "%q is listed twice", n)
		}
		seen[u] = true
	}
}
