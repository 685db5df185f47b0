package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
)

// newTaskRouter starts TaskRouter on the gateway's database (its REST API
// is served under /v1/Workspaces) and mirrors the configured queues and
// agents into its default workspace.
func newTaskRouter(ctx context.Context, cfg config.Config, db *store.SQLite, log *slog.Logger) (*taskrouter.Router, taskrouter.DefaultIDs, error) {
	tr, err := taskrouter.New(ctx, taskrouter.Options{
		AccountSID: cfg.Account.SID,
		AuthToken:  cfg.Account.AuthToken,
		Store:      db,
		Logger:     log.With("component", "taskrouter"),
		PublicURL:  cfg.HTTP.PublicURL,
	})
	if err != nil {
		return nil, taskrouter.DefaultIDs{}, fmt.Errorf("taskrouter: %w", err)
	}
	defaults := taskrouter.Defaults{}
	for _, a := range cfg.Agents {
		defaults.Agents = append(defaults.Agents, taskrouter.DefaultAgent{ID: a.ID, Name: a.Name, Queues: a.Queues})
	}
	ids, err := tr.EnsureDefaults(defaults)
	if err != nil {
		tr.Close()
		return nil, ids, fmt.Errorf("taskrouter: default workspace: %w", err)
	}
	return tr, ids, nil
}
