package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/functions"
	"github.com/voxgate/voxgate/store"
)

// startFunctions starts hosted Twilio Functions (nil when the runtime is
// not installed: the gateway runs without them and says why) and mounts
// the Serverless API (/v1/Services, behind the REST API's credentials)
// and the functions themselves (/fn/) on mux.
func startFunctions(ctx context.Context, cfg config.Config, db store.ServerlessStore, mux *http.ServeMux, log *slog.Logger) (*functions.Manager, error) {
	fc := cfg.Functions
	disabled := func(reason string) {
		log.Warn("functions: disabled: "+reason, "runtime_dir", fc.RuntimeDir)
		off := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Functions are not available on this gateway: "+reason, http.StatusServiceUnavailable)
		})
		mux.Handle("/v1/Services", off)
		mux.Handle("/v1/Services/", off)
		mux.Handle("/fn/", off)
	}
	if _, err := exec.LookPath(fc.Node); err != nil {
		disabled(fmt.Sprintf("node (%s) not found; run make deps", fc.Node))
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(fc.RuntimeDir, "node_modules", "twilio")); err != nil {
		disabled("the runtime's node_modules are missing; run make deps")
		return nil, nil
	}
	m, err := functions.New(ctx, functions.Options{
		AccountSID: cfg.Account.SID, AuthToken: cfg.Account.AuthToken, PublicURL: cfg.HTTP.PublicURL,
		Dir: filepath.Join(cfg.Storage.Dir, "functions"), Store: db, Node: fc.Node, NPM: fc.NPM,
		RuntimeDir: fc.RuntimeDir, Workers: fc.Workers, MemoryMB: fc.MemoryMB, Timeout: fc.Timeout.D(), Logger: log,
	})
	if err != nil {
		return nil, err
	}
	serverless := api.RequireAuth(cfg.Account.SID, cfg.Account.AuthToken, m.APIHandler())
	mux.Handle("/v1/Services", serverless)
	mux.Handle("/v1/Services/", serverless)
	mux.Handle("/fn/", m.Handler())
	return m, nil
}

// functionsCommand runs `voxgate functions deploy --config FILE --service
// NAME DIR`: it deploys a Twilio Serverless project through the running
// gateway the config describes and prints the service's base URL.
func functionsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "deploy" {
		fmt.Fprintln(stderr, "usage: voxgate functions deploy [--config FILE] --service NAME DIR")
		return 2
	}
	fs := flag.NewFlagSet("functions deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/voxgate.yaml", "configuration of the running gateway (its http.public_url and account)")
	service := fs.String("service", "", "the service's unique name (created if missing)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *service == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: voxgate functions deploy [--config FILE] --service NAME DIR")
		return 2
	}
	cfg, err := config.Load(*cfgPath, os.Environ())
	if err != nil {
		fmt.Fprintln(stderr, "voxgate:", err)
		return 1
	}
	res, err := functions.Deploy(context.Background(), functions.DeployOptions{BaseURL: cfg.HTTP.PublicURL,
		AccountSID: cfg.Account.SID, AuthToken: cfg.Account.AuthToken, Service: *service, Dir: fs.Arg(0)})
	if err != nil {
		var hint string
		if errors.Is(err, os.ErrNotExist) {
			hint = " (is DIR a Twilio Serverless project?)"
		}
		fmt.Fprintf(stderr, "voxgate: deploy %s: %v%s\n", fs.Arg(0), err, hint)
		return 1
	}
	fmt.Fprintf(stderr, "deployed service %s (environment %s, build %s)\n", res.ServiceSID, res.EnvironmentSID, res.BuildSID)
	fmt.Fprintln(stdout, res.URL)
	return 0
}

// functionURLs resolves Studio run-function widgets' function SIDs once
// the functions manager exists.
type functionURLs struct{ m *functions.Manager }

func (f *functionURLs) url(serviceSID, functionSID string) (string, bool) {
	if f.m == nil {
		return "", false
	}
	return f.m.FunctionURL(serviceSID, functionSID)
}
