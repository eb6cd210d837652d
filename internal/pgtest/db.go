package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quirehq/quire/internal/pgcluster"
)

// DB is a test's own database, a copy of the migrated template.
type DB struct {
	Name     string
	AppURL   string // as quire_app, the role the server uses and RLS applies to
	OwnerURL string // as quire_owner, which owns the tables
	SuperURL string // as the superuser

	mu    sync.Mutex
	pools map[string]*pgxpool.Pool // by URL
}

// New creates a database for t from the template and drops it when t ends.
// Tests that own their database may call t.Parallel.
func New(t testing.TB) *DB {
	t.Helper()
	if server.admin == nil {
		t.Fatal("pgtest.New: the package's TestMain must call pgtest.Main")
	}
	name := "quire_test_" + randomHex(8)
	if err := createDatabase(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	db := &DB{Name: name, pools: map[string]*pgxpool.Pool{}}
	t.Cleanup(func() { db.drop(t) })
	var err error
	if db.AppURL, err = roleURL(server.superURL, pgcluster.AppRole, appPassword, name); err != nil {
		t.Fatal(err)
	}
	if db.OwnerURL, err = roleURL(server.superURL, pgcluster.OwnerRole, ownerPassword, name); err != nil {
		t.Fatal(err)
	}
	if db.SuperURL, err = withDatabase(server.superURL, name); err != nil {
		t.Fatal(err)
	}
	return db
}

// createDatabase copies the template. CREATE DATABASE waits a few seconds for
// other sessions on the template to go, then fails with object_in_use; one
// that is still going is then retried.
func createDatabase(ctx context.Context, name string) error {
	stmt := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER %s", ident(name), ident(server.template), ident(pgcluster.OwnerRole))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := server.admin.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("create test database: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create test database: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// drop closes the pools and drops the database, forcing out any connection a
// test leaked.
func (db *DB) drop(t testing.TB) {
	db.mu.Lock()
	for _, p := range db.pools {
		p.Close()
	}
	db.pools = nil
	db.mu.Unlock()
	// t.Context is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := server.admin.Exec(ctx, "DROP DATABASE "+ident(db.Name)+" WITH (FORCE)"); err != nil {
		t.Errorf("drop test database %s: %v", db.Name, err)
	}
}

// App is a pool connected as quire_app, the role row-level security applies
// to. It is created on first use and closed when the test that called New
// ends.
func (db *DB) App(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return db.pool(t, db.AppURL)
}

// Owner is a pool connected as quire_owner, which owns the tables.
func (db *DB) Owner(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return db.pool(t, db.OwnerURL)
}

// Super is a pool connected as the superuser.
func (db *DB) Super(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return db.pool(t, db.SuperURL)
}

func (db *DB) pool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pools == nil {
		t.Fatalf("pgtest: database %s is already dropped", db.Name)
	}
	if p := db.pools[url]; p != nil {
		return p
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	// Parallel tests in parallel packages share max_connections = 100.
	cfg.MaxConns = 4
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err == nil {
		err = p.Ping(t.Context())
	}
	if err != nil {
		t.Fatalf("connect to %s as %s: %v", db.Name, cfg.ConnConfig.User, err)
	}
	db.pools[url] = p
	return p
}

// roleURL is a password URL for user on dbname at the server of superURL.
// Over the unix socket our clusters trust everyone, so a socket URL becomes
// TCP on 127.0.0.1, where passwords are checked, as in production.
func roleURL(superURL, user, password, dbname string) (string, error) {
	cfg, err := pgconn.ParseConfig(superURL)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvURL, err)
	}
	su, err := url.Parse(superURL)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvURL, err)
	}
	host, sslmode := cfg.Host, su.Query().Get("sslmode")
	if strings.HasPrefix(host, "/") {
		host, sslmode = "127.0.0.1", "disable"
	}
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(user, password),
		Host:   net.JoinHostPort(host, strconv.Itoa(int(cfg.Port))),
		Path:   "/" + dbname,
	}
	if sslmode != "" {
		u.RawQuery = "sslmode=" + url.QueryEscape(sslmode)
	}
	return u.String(), nil
}

// withDatabase is superURL naming dbname instead.
func withDatabase(superURL, dbname string) (string, error) {
	u, err := url.Parse(superURL)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvURL, err)
	}
	u.Path, u.RawPath = "/"+dbname, ""
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}
