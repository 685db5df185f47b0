package main

import (
	"context"
	"time"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/voxgate/voxgate/api"
	"io"
	"os"
	"path/filepath"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/ivr/studio"
)

// loadFlows reads every flow file the config names, validates it and
// returns the flows by file with their SIDs. A flow with errors stops the
// gateway, listing them.
func loadFlows(cfg config.Config, flows *studio.MemoryFlows) (map[string]string, error) {
	sids := map[string]string{}
	apps := []config.App{cfg.DefaultApp}
	for _, n := range cfg.Numbers {
		apps = append(apps, n.App)
	}
	for _, a := range apps {
		if a.Flow == "" || sids[a.Flow] != "" {
			continue
		}
		problems, err := studio.ValidateFile(a.Flow)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", a.Flow, err)
		}
		if studio.HasErrors(problems) {
			var errs []error
			for _, p := range problems {
				errs = append(errs, fmt.Errorf("flow %s: %s", a.Flow, p))
			}
			return nil, errors.Join(errs...)
		}
		data, err := os.ReadFile(a.Flow)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", a.Flow, err)
		}
		f, err := studio.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", a.Flow, err)
		}
		// A stable SID per file, so executions and logs keep naming it.
		abs, _ := filepath.Abs(a.Flow)
		sum := sha256.Sum256([]byte(abs))
		flowSID := "FW" + hex.EncodeToString(sum[:16])
		flows.Put(flowSID, f)
		sids[a.Flow] = flowSID
	}
	return sids, nil
}

// validateFlows checks flow files for `voxgate flow validate`.
func validateFlows(files []string, stdout, stderr io.Writer) int {
	status := 0
	for _, file := range files {
		problems, err := studio.ValidateFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			status = 1
			continue
		}
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s: %s\n", file, p)
		}
		if studio.HasErrors(problems) {
			status = 1
		} else {
			fmt.Fprintf(stdout, "%s: ok\n", file)
		}
	}
	return status
}

// chainedFlows finds a flow among the config's flow files first, then
// among the flows created through /v2/Flows.
type chainedFlows struct {
	mem *studio.MemoryFlows
	sql *studio.SQLFlows
}

// Flow implements studio.FlowSource.
func (c chainedFlows) Flow(ctx context.Context, sid string) (*studio.Flow, error) {
	if f, err := c.mem.Flow(ctx, sid); err == nil {
		return f, nil
	}
	return c.sql.Flow(ctx, sid)
}

// FlowRevision implements studio.RevisionSource.
func (c chainedFlows) FlowRevision(ctx context.Context, sid string, rev int) (*studio.Flow, error) {
	if f, err := c.mem.FlowRevision(ctx, sid, rev); err == nil {
		return f, nil
	}
	return c.sql.FlowRevision(ctx, sid, rev)
}

// flowCaller places the outbound call of a REST-started execution; the
// flow's URL is its TwiML, status callback and fallback, so the execution
// ends even when the call is never answered.
type flowCaller struct{ c *callControl }

// StartCall implements api.FlowCaller.
func (f flowCaller) StartCall(ctx context.Context, to, from, voiceURL string) (string, error) {
	call, err := f.c.Create(ctx, api.CreateCallParams{
		To: to, From: from, URL: voiceURL, Method: "POST",
		StatusCallback: voiceURL, StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"completed"},
		FallbackURL: voiceURL, FallbackMethod: "POST", Timeout: 60 * time.Second,
	})
	return call.SID, err
}
