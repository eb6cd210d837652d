package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/migrate"
	"github.com/quirehq/quire/internal/pgcluster"
)

// database is where Quire's data lives: URLs for the app role and the
// owner role, and the embedded cluster if this process manages one.
type database struct {
	AppURL     string
	MigrateURL string
	cluster    *pgcluster.Cluster
}

// openDatabase returns the configured database, or, with DATABASE_URL
// unset, the embedded development database: created on first use, started
// if it is not running.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*database, error) {
	if !cfg.Embedded() {
		return &database{AppURL: cfg.DatabaseURL, MigrateURL: cfg.MigrateURL}, nil
	}
	cluster, err := pgcluster.Open(ctx, pgcluster.Options{Dir: cfg.DataDir, Fsync: true, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	urls, err := cluster.EnsureDev(ctx)
	if err != nil {
		_ = cluster.Stop()
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	if cluster.Started() {
		logger.Info("embedded database started", "data_dir", cfg.DataDir, "port", cluster.Port())
	}
	return &database{AppURL: urls.App, MigrateURL: urls.Owner, cluster: cluster}, nil
}

// Close stops the embedded cluster if this process started it; a cluster
// another process started (a running `make run`) is left alone.
func (d *database) Close(logger *slog.Logger) {
	if d.cluster == nil || !d.cluster.Started() {
		return
	}
	if err := d.cluster.Stop(); err != nil {
		logger.Error("stop embedded database", "err", err)
		return
	}
	logger.Info("embedded database stopped")
}

// migrateUp applies pending migrations as the owner role.
func (d *database) migrateUp(ctx context.Context, logger *slog.Logger) error {
	if d.MigrateURL == "" {
		return fmt.Errorf("DATABASE_MIGRATE_URL is not set: migrations run as the owner role")
	}
	n, err := migrate.Up(ctx, d.MigrateURL)
	if err != nil {
		return err
	}
	logger.Info("migrations applied", "count", n)
	return nil
}
