package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
)

// newTaskRouter starts TaskRouter on the gateway's database: its REST API
// is served under /v1/Workspaces.
func newTaskRouter(ctx context.Context, cfg config.Config, db *store.SQLite, log *slog.Logger) (*taskrouter.Router, error) {
	tr, err := taskrouter.New(ctx, taskrouter.Options{
		AccountSID: cfg.Account.SID,
		AuthToken:  cfg.Account.AuthToken,
		Store:      db,
		Logger:     log.With("component", "taskrouter"),
		PublicURL:  cfg.HTTP.PublicURL,
	})
	if err != nil {
		return nil, fmt.Errorf("taskrouter: %w", err)
	}
	return tr, nil
}
