// Package pgcluster runs the embedded development database: a private
// PostgreSQL cluster under a data directory, created on first use, started
// when it is not running, stopped by the process that started it.
//
// When the process runs as root, every PostgreSQL program runs as the postgres
// OS user (PostgreSQL refuses root), so the data directory and every directory
// above it must be enterable by that user. The cluster listens on 127.0.0.1
// (password authentication) and on a unix socket in the data directory, a
// directory only its owner can enter, where the postgres superuser is trusted.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Options configures Open.
type Options struct {
	// Dir holds the cluster (Dir/pgdata), its log (Dir/postgres.log), the
	// unix socket and credentials.json. It is created mode 0700 if missing.
	Dir string
	// Fsync keeps PostgreSQL's durability settings. Throwaway clusters (tests)
	// turn it off for speed: a crash may then lose or corrupt data.
	Fsync bool
	// Logger receives start and stop events; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running PostgreSQL cluster opened by Open.
type Cluster struct {
	bin     string // directory of initdb, pg_ctl, postgres
	dir     string // Options.Dir, absolute
	pgdata  string
	sockDir string
	port    int
	fsync   bool
	user    *serverUser
	log     *slog.Logger

	mu      sync.Mutex
	started bool // this process started the postmaster
	stopped bool
}

// Open creates the cluster in o.Dir if it does not exist and starts it if it
// is not running. The caller that got Started() == true must call Stop before
// exiting (on SIGINT/SIGTERM too): the postmaster runs in its own process
// group, so a terminal's Ctrl-C reaches only the caller, which then stops it
// in order.
func Open(ctx context.Context, o Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("open cluster: %w", err)
	}
	u, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, u); err != nil {
		return nil, err
	}
	sock, err := socketDir(dir, u)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{bin: bin, dir: dir, pgdata: filepath.Join(dir, "pgdata"), sockDir: sock, fsync: o.Fsync, user: u, log: logger}
	if err := c.ensureInitialized(ctx); err != nil {
		return nil, err
	}
	if err := c.ensureRunning(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// prepareDir creates dir as a directory only its owner can enter; when we are
// root that owner is the postgres user, who must also reach it.
func prepareDir(dir string, u *serverUser) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := u.checkCanEnter(dir); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create data directory: %w", err)
	}
	// Mkdir is subject to the umask, and the directory may predate us.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	return u.chown(dir)
}

// Started reports whether this process started the cluster (and so must stop
// it).
func (c *Cluster) Started() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

// Port is the TCP port the cluster listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Stop stops the cluster with a fast shutdown if this process started it, and
// does nothing otherwise. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started || c.stopped {
		return nil
	}
	out, err := c.pgCtl(context.Background(), "stop", "-m", "fast", "-w", "-t", "60", "-D", c.pgdata).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop cluster: %w: %s", err, out)
	}
	c.stopped = true
	c.log.Debug("postgres stopped", "dir", c.dir)
	return nil
}

// SuperuserURL is a pgx URL for dbname as the postgres superuser over the
// unix socket, where it is trusted without a password.
func (c *Cluster) SuperuserURL(dbname string) string {
	host := strings.ReplaceAll(url.QueryEscape(c.sockDir), "%2F", "/")
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", url.PathEscape(dbname), host, c.port)
}

// waitReady polls until a cluster another process runs accepts connections:
// one it is still starting has an incomplete postmaster.pid or no socket yet.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		err := c.readPIDFile()
		if err == nil {
			var conn *pgconn.PgConn
			if conn, err = pgconn.Connect(ctx, c.SuperuserURL("postgres")); err == nil {
				return conn.Close(ctx)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for cluster in %s: %w", c.dir, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
