package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/store"
)

// openStore opens the database storage.driver names: SQLite in
// storage.dir, or PostgreSQL at storage.url.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.OpenDB(ctx, store.Options{Driver: cfg.Storage.Driver, Dir: cfg.Storage.Dir, URL: cfg.Storage.URL,
		NodeID: cfg.Cluster.NodeID})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	log.Info("storage open", "driver", db.Driver(), "node", cfg.Cluster.NodeID)
	return db, nil
}

// clusterLogger names the node on every line of a gateway that shares its
// database with others (storage.driver: postgres), so that their logs can
// be told apart once gathered.
func clusterLogger(cfg config.Config, log *slog.Logger) *slog.Logger {
	if cfg.Storage.Driver != store.DriverPostgres {
		return log
	}
	return log.With("node", cfg.Cluster.NodeID)
}
