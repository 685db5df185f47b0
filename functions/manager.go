package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// Defaults of Options.
const (
	DefaultWorkers      = 2
	DefaultMemoryMB     = 256
	DefaultTimeout      = 10 * time.Second
	DefaultBuildTimeout = 5 * time.Minute
)

// Options configure a Manager.
type Options struct {
	// AccountSID and AuthToken are the account's credentials: they guard
	// protected functions (X-Twilio-Signature) and are given to functions
	// of services with include_credentials.
	AccountSID, AuthToken string
	// PublicURL is the gateway's base URL ("http://127.0.0.1:8080"): the
	// base of the API's links and of the functions' URLs, and where
	// getTwilioClient() sends its REST requests.
	PublicURL string
	// Dir holds uploaded content, builds and the npm cache (required).
	Dir string
	// Store persists the resources; nil keeps them in memory only.
	Store store.ServerlessStore
	// Node and NPM are the programs run (default "node" and "npm").
	Node, NPM string
	// RuntimeDir holds the runtime's node_modules (twilio), used by
	// projects that do not bring their own (required).
	RuntimeDir string
	// Workers is the number of warm Node.js processes per deployment
	// (default DefaultWorkers).
	Workers int
	// MemoryMB caps each worker's JavaScript heap (default DefaultMemoryMB).
	MemoryMB int
	// Timeout limits one function execution (default DefaultTimeout, Twilio's 10 s).
	Timeout time.Duration
	// BuildTimeout limits installing a build's npm dependencies.
	BuildTimeout time.Duration
	// Logger receives the runtime's and the functions' logs.
	Logger *slog.Logger
}

// Manager hosts Twilio Serverless services: it keeps their resources,
// builds and deploys them, and serves deployed functions and assets.
type Manager struct {
	opts   Options
	log    *slog.Logger
	runner string // runner.js written under Dir

	mu          sync.RWMutex
	services    map[string]*Service
	envs        map[string]*Environment
	resources   map[string]*Resource
	versions    map[string]*Version
	builds      map[string]*Build
	deployments map[string]*Deployment
	variables   map[string]*Variable
	live        map[string]*liveEnv // by environment SID

	logMu sync.Mutex
	logs  map[string][]logEntry // by environment SID, oldest first

	deployMu sync.Mutex // one deployment (pool swap) at a time
	ctx      context.Context
	cancel   context.CancelFunc
	bg       sync.WaitGroup // builds and retiring pools
}

// liveEnv is an environment's running deployment.
type liveEnv struct {
	env   Environment
	svc   Service
	build Build
	files map[string]manifestFile // by path: functions and assets
	kinds map[string]string       // by path: kindFunction or kindAsset
	pool  *pool
	since time.Time
}

// New loads the stored resources and starts the deployed environments'
// workers (so the first request finds them warm).
func New(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Dir == "" || opts.RuntimeDir == "" {
		return nil, errors.New("functions: Dir and RuntimeDir are required")
	}
	if opts.Node == "" {
		opts.Node = "node"
	}
	if opts.NPM == "" {
		opts.NPM = "npm"
	}
	opts.Workers = orDefault(opts.Workers, DefaultWorkers)
	opts.MemoryMB = orDefault(opts.MemoryMB, DefaultMemoryMB)
	opts.Timeout = orDefault(opts.Timeout, DefaultTimeout)
	opts.BuildTimeout = orDefault(opts.BuildTimeout, DefaultBuildTimeout)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	abs, err := filepath.Abs(opts.RuntimeDir)
	if err != nil {
		return nil, fmt.Errorf("functions: runtime dir: %w", err)
	}
	opts.RuntimeDir = abs
	if _, err := os.Stat(filepath.Join(abs, "node_modules", "twilio")); err != nil {
		return nil, fmt.Errorf("functions: the runtime's node_modules are missing (run make deps, or npm --prefix %s install): %w", abs, err)
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, fmt.Errorf("functions: dir: %w", err)
	}
	for _, d := range []string{"content", "builds", "deps"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("functions: %w", err)
		}
	}
	runner := filepath.Join(opts.Dir, "runner.js")
	if err := os.WriteFile(runner, runnerJS, 0o644); err != nil {
		return nil, fmt.Errorf("functions: %w", err)
	}
	m := &Manager{opts: opts, log: opts.Logger, runner: runner,
		services: map[string]*Service{}, envs: map[string]*Environment{}, resources: map[string]*Resource{},
		versions: map[string]*Version{}, builds: map[string]*Build{}, deployments: map[string]*Deployment{},
		variables: map[string]*Variable{}, live: map[string]*liveEnv{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	m.warmAll(ctx)
	return m, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Close stops every worker and waits for builds in progress.
func (m *Manager) Close() {
	m.cancel()
	m.bg.Wait()
	m.mu.Lock()
	live := m.live
	m.live = map[string]*liveEnv{}
	m.mu.Unlock()
	for _, l := range live {
		l.pool.close(0)
	}
}

// load reads the stored resources.
func (m *Manager) load(ctx context.Context) error {
	st := m.opts.Store
	if st == nil {
		return nil
	}
	err := errors.Join(
		loadKind(ctx, st, kindService, m.services, func(v *Service) string { return v.SID }),
		loadKind(ctx, st, kindEnvironment, m.envs, func(v *Environment) string { return v.SID }),
		loadKind(ctx, st, kindFunction, m.resources, func(v *Resource) string { return v.SID }),
		loadKind(ctx, st, kindAsset, m.resources, func(v *Resource) string { return v.SID }),
		loadKind(ctx, st, kindVersion, m.versions, func(v *Version) string { return v.SID }),
		loadKind(ctx, st, kindBuild, m.builds, func(v *Build) string { return v.SID }),
		loadKind(ctx, st, kindDeployment, m.deployments, func(v *Deployment) string { return v.SID }),
		loadKind(ctx, st, kindVariable, m.variables, func(v *Variable) string { return v.SID }),
	)
	if err != nil {
		return err
	}
	// A build the gateway stopped in the middle of never finished.
	for _, b := range m.builds {
		if b.Status == buildBuilding {
			b.Status, b.Error = buildFailed, "the gateway stopped during the build"
			m.save(ctx, kindBuild, b.SID, b.ServiceSID, b)
		}
	}
	return nil
}

// loadKind decodes the stored records of kind into mp.
func loadKind[T any](ctx context.Context, st store.ServerlessStore, kind string, mp map[string]*T, sid func(*T) string) error {
	recs, err := st.ListServerless(ctx, kind)
	if err != nil {
		return err
	}
	for _, r := range recs {
		v := new(T)
		if err := json.Unmarshal(r.Body, v); err != nil {
			return fmt.Errorf("functions: stored %s %s: %w", kind, r.SID, err)
		}
		mp[sid(v)] = v
	}
	return nil
}

// save persists one resource; failures are logged (the memory copy stays
// authoritative until the next restart).
func (m *Manager) save(ctx context.Context, kind, sid, parent string, v any) {
	if m.opts.Store == nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		err = m.opts.Store.PutServerless(ctx, store.ServerlessRecord{SID: sid, Kind: kind, ParentSID: parent, Body: b})
	}
	if err != nil {
		m.log.Error("functions: saving failed", "sid", sid, "error", err)
	}
}

func (m *Manager) forget(ctx context.Context, sids ...string) {
	if m.opts.Store == nil || len(sids) == 0 {
		return
	}
	if err := m.opts.Store.DeleteServerless(ctx, sids...); err != nil {
		m.log.Error("functions: deleting failed", "sids", sids, "error", err)
	}
}

// warmAll starts the workers of every deployed environment.
func (m *Manager) warmAll(ctx context.Context) {
	m.mu.RLock()
	var envs []Environment
	for _, e := range m.envs {
		if e.BuildSID != "" {
			envs = append(envs, *e)
		}
	}
	m.mu.RUnlock()
	var wg sync.WaitGroup
	for _, e := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.activate(ctx, e.SID, e.BuildSID); err != nil {
				m.log.Error("functions: starting a deployed environment failed", "environment_sid", e.SID, "build_sid", e.BuildSID, "error", err)
			}
		}()
	}
	wg.Wait()
}

// activate starts warm workers for build in environment envSID and, once
// they are ready, makes them the environment's live deployment; the old
// one finishes its requests and stops. On error nothing changes.
func (m *Manager) activate(ctx context.Context, envSID, buildSID string) error {
	m.deployMu.Lock()
	defer m.deployMu.Unlock()
	svc, env, b, vars, err := m.deploymentParts(envSID, buildSID)
	if err != nil {
		return err
	}
	l, err := m.startLive(ctx, svc, env, b, vars)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.envs[envSID] == nil { // deleted meanwhile
		m.mu.Unlock()
		l.pool.close(0)
		return errors.New("functions: the environment was deleted during the deployment")
	}
	old := m.live[envSID]
	m.live[envSID] = l
	m.mu.Unlock()
	if old != nil {
		m.bg.Add(1)
		go func() {
			defer m.bg.Done()
			old.pool.close(m.opts.Timeout)
		}()
	}
	m.log.Info("functions: deployment live", "service_sid", svc.SID, "environment_sid", envSID, "build_sid", buildSID, "workers", m.opts.Workers)
	return nil
}

// deploymentParts copies what a deployment of build in envSID needs.
func (m *Manager) deploymentParts(envSID, buildSID string) (Service, Environment, Build, []Variable, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	env, b := m.envs[envSID], m.builds[buildSID]
	if env == nil || b == nil || m.services[env.ServiceSID] == nil {
		return Service{}, Environment{}, Build{}, nil, errors.New("functions: unknown environment or build")
	}
	if b.Status != buildCompleted {
		return Service{}, Environment{}, Build{}, nil, fmt.Errorf("functions: build %s is %s", buildSID, b.Status)
	}
	var vars []Variable
	for _, v := range m.variables {
		if v.EnvironmentSID == envSID {
			vars = append(vars, *v)
		}
	}
	return *m.services[env.ServiceSID], *env, *b, vars, nil
}

// startLive starts the workers of one build.
func (m *Manager) startLive(ctx context.Context, svc Service, env Environment, b Build, vars []Variable) (*liveEnv, error) {
	dir := m.buildDir(b.SID)
	l := &liveEnv{env: env, svc: svc, build: b, files: map[string]manifestFile{}, kinds: map[string]string{}, since: time.Now()}
	init := initMsg{Build: dir, APIBase: m.opts.PublicURL, RuntimeModules: filepath.Join(m.opts.RuntimeDir, "node_modules")}
	m.mu.RLock()
	for _, list := range []struct {
		sids []string
		kind string
	}{{b.FunctionVersions, kindFunction}, {b.AssetVersions, kindAsset}} {
		for _, vs := range list.sids {
			v := m.versions[vs]
			if v == nil {
				continue
			}
			f := manifestFile{Path: v.Path, Visibility: v.Visibility, File: filepath.Join(dir, builtName(v)), SID: v.ResourceSID, Version: v.SID}
			l.files[v.Path] = f
			l.kinds[v.Path] = list.kind
			if list.kind == kindFunction {
				init.Functions = append(init.Functions, f)
			} else {
				init.Assets = append(init.Assets, f)
			}
		}
	}
	m.mu.RUnlock()
	// process.env: the Variables and credentials (also context's), plus
	// what programs expect: PATH, and TZ=UTC as on Twilio.
	values := map[string]string{}
	for _, v := range vars {
		values[v.Key] = v.Value
	}
	if svc.IncludeCredentials {
		values["ACCOUNT_SID"], values["AUTH_TOKEN"] = m.opts.AccountSID, m.opts.AuthToken
	}
	env2 := []string{"TZ=UTC", "PATH=" + os.Getenv("PATH")}
	for k, v := range values {
		init.ContextKeys = append(init.ContextKeys, k)
		env2 = append(env2, k+"="+v)
	}
	slices.Sort(init.ContextKeys)
	log := m.log.With("service_sid", svc.SID, "environment_sid", env.SID, "build_sid", b.SID)
	spec := workerSpec{node: m.opts.Node, runner: m.runner, env: env2, memoryMB: m.opts.MemoryMB, init: init, startLimit: 30 * time.Second, log: log}
	p, err := newPool(ctx, spec, m.opts.Workers, m.opts.Timeout)
	if err != nil {
		return nil, err
	}
	l.pool = p
	return l, nil
}

// builtName is where a version lives inside its build's directory.
func builtName(v *Version) string {
	if v.Kind == kindFunction {
		return filepath.Join("functions", filepath.FromSlash(strings.TrimPrefix(v.Path, "/"))+".js")
	}
	return filepath.Join("assets", filepath.FromSlash(strings.TrimPrefix(v.Path, "/")))
}

func (m *Manager) buildDir(buildSID string) string {
	return filepath.Join(m.opts.Dir, "builds", buildSID)
}

func (m *Manager) contentPath(versionSID string) string {
	return filepath.Join(m.opts.Dir, "content", versionSID)
}

func newSID(prefix string) string { return sid.New(prefix) }

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// FunctionURL returns the URL of a deployed function given its SID (and
// optionally its service's SID or unique name), for Studio's run-function
// widget. False when no live deployment serves it.
func (m *Manager) FunctionURL(serviceSID, functionSID string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, l := range m.live {
		if serviceSID != "" && serviceSID != l.svc.SID && serviceSID != l.svc.UniqueName {
			continue
		}
		for p, f := range l.files {
			if f.SID == functionSID && l.kinds[p] == kindFunction {
				key := l.svc.UniqueName
				if l.env.DomainSuffix != "" {
					key += "-" + l.env.DomainSuffix
				}
				return m.opts.PublicURL + "/fn/" + key + p, true
			}
		}
	}
	return "", false
}
