package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/httpserver"
)

// setup is what every subcommand needs first: configuration, the logger,
// the database (started if embedded) and the signing secret.
func setup(ctx context.Context, getenv func(string) string) (config.Config, *slog.Logger, *database, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg, os.Stderr)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return cfg, logger, nil, err
	}
	return cfg, logger, db, nil
}

// secret returns QUIRE_JWT_SECRET, or in development one generated once
// into the data directory.
func secret(cfg config.Config) ([]byte, error) {
	if len(cfg.JWTSecret) > 0 {
		return cfg.JWTSecret, nil
	}
	if cfg.Production() {
		return nil, fmt.Errorf("QUIRE_JWT_SECRET is required in production")
	}
	return config.DevSecret(cfg.DataDir)
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start-up")
	if err := parseFlags(fs, args, stderr, "quire serve [--no-migrate]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, logger, db, err := setup(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close(logger)
	if !*noMigrate {
		if err := db.migrateUp(ctx, logger); err != nil {
			return err
		}
	}
	return serve(ctx, cfg, logger, db)
}

// timeouts are the HTTP server's deadlines from the configuration.
func timeouts(cfg config.Config) httpserver.Timeouts {
	return httpserver.Timeouts{
		Read: cfg.HTTPReadTimeout, Write: cfg.HTTPWriteTimeout,
		Idle: cfg.HTTPIdleTimeout, Shutdown: cfg.ShutdownTimeout,
	}
}

// purgeInterval is how often serve purges trashed notes past retention.
const purgeInterval = 10 * time.Minute

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, db *database) error {
	tuneGC(getenvGOGC())
	key, err := secret(cfg)
	if err != nil {
		return err
	}
	mailer, err := newMailer(cfg, logger)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, logger, db.AppURL, key, deps{Now: time.Now, Mailer: mailer})
	if err != nil {
		return err
	}
	defer a.Close()
	// The trash purge runs on every replica; claiming rows with SKIP
	// LOCKED makes that safe. It stops before the pool closes.
	purgeCtx, stopPurge := context.WithCancel(ctx)
	var purging sync.WaitGroup
	purging.Go(func() { a.notes.RunPurge(purgeCtx, cfg.TrashRetention, purgeInterval, logger) })
	defer purging.Wait()
	defer stopPurge()
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	logger.Info("quire is serving", "graphql", url+"/graphql", "env", string(cfg.Env), "version", buildVersion())
	if !cfg.Production() {
		logger.Info("open the playground", "url", url+"/")
	}
	err = httpserver.ServeListener(ctx, ln, a.handler, logger, timeouts(cfg))
	logger.Info("quire stopped")
	return err
}

// defaultGCPercent is the garbage collector's target when GOGC is unset.
// Go's default, 100, collects whenever the heap doubles; a server whose live
// heap is a few megabytes and which allocates some 40 KB per request then
// collects hundreds of times a second. Measured under the benchmark's load
// in alternating runs (docs/performance.md): 400 cut the server's CPU per
// request by about a quarter against 100; 800 cut another 4-9 % against 400
// (fewer collections, and fewer requests slowed by one); 1600 gained
// nothing more. The cost is memory: the heap may grow to nine times the
// live heap between collections: 72 MB resident at c=32 instead of 52.
// GOGC, and GOMEMLIMIT for a hard ceiling, still decide when set.
const defaultGCPercent = 800

// getenvGOGC is GOGC as the runtime read it at start.
func getenvGOGC() string { return os.Getenv("GOGC") }

// tuneGC sets defaultGCPercent unless the operator set GOGC.
func tuneGC(gogc string) {
	if gogc == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// servePprof serves Go's profiler on addr (loopback, QUIRE_PPROF_ADDR) until
// stop is called.
func servePprof(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on QUIRE_PPROF_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("profiler is serving", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = srv.Close() }, nil
}
