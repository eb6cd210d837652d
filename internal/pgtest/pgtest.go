// Package pgtest lends each test its own migrated PostgreSQL database, in the
// way net/http/httptest lends it a server.
//
// A package opts in with
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and each test calls New. Main uses the server named by
// QUIRE_TEST_DATABASE_URL (a superuser URL; pgtestrun sets it so that all
// packages share one cluster) or starts a throwaway cluster of its own. The
// schema is migrated once per server into a template database that New
// copies, so a test costs one CREATE DATABASE. A missing PostgreSQL fails the
// run: a skipped data test passes silently.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quirehq/quire/internal/migrate"
	"github.com/quirehq/quire/internal/pgcluster"
	"github.com/quirehq/quire/sql/schema"
)

// EnvURL names the variable holding the superuser URL of a server to use
// instead of a throwaway cluster.
const EnvURL = "QUIRE_TEST_DATABASE_URL"

// The test roles' passwords. They only guard throwaway servers.
const (
	ownerPassword = "quire_owner"
	appPassword   = "quire_app"
)

// templateLock is the advisory lock key under which a test binary checks for,
// or builds, the template; binaries of several packages run at once.
const templateLock int64 = 0x717569726502 // "quire" 02

// server is set by Main before any test runs.
var server struct {
	superURL string
	template string
	admin    *pgxpool.Pool // superuser, on superURL's database: creates and drops test databases
}

// Main runs the tests of a package against PostgreSQL and exits with their
// status. It starts a throwaway cluster unless QUIRE_TEST_DATABASE_URL is set,
// and stops and removes it afterwards, whatever the tests did.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	superURL := os.Getenv(EnvURL)
	if superURL == "" {
		c, err := StartCluster(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n(or set %s to the URL of a PostgreSQL superuser)\n", err, EnvURL)
			return 1
		}
		defer func() {
			if err := c.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			}
		}()
		superURL = c.SuperuserURL()
	}
	if err := setup(ctx, superURL); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	defer server.admin.Close()
	return m.Run()
}

func setup(ctx context.Context, superURL string) error {
	if !strings.HasPrefix(superURL, "postgres://") && !strings.HasPrefix(superURL, "postgresql://") {
		return fmt.Errorf("%s must be a postgres:// URL", EnvURL)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	tpl, err := templateName()
	if err != nil {
		return err
	}
	if err := ensureTemplate(ctx, superURL, tpl); err != nil {
		return err
	}
	admin, err := pgxpool.New(context.Background(), superURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	server.superURL, server.template, server.admin = superURL, tpl, admin
	return nil
}

// templateName is quire_tpl_ and a hash of the migrations, so a changed
// migration gets a new template and an unchanged one is reused.
func templateName() (string, error) {
	names, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	h := sha256.New()
	for _, name := range names {
		b, err := fs.ReadFile(schema.FS, name)
		if err != nil {
			return "", fmt.Errorf("hash migrations: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	return "quire_tpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ensureTemplate builds the template database unless it exists.
func ensureTemplate(ctx context.Context, superURL, tpl string) error {
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	// Closing the session also releases the advisory lock.
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	if err := pgcluster.EnsureRolesOn(ctx, conn, ownerPassword, appPassword); err != nil {
		return err
	}
	var done bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", tpl).Scan(&done)
	switch {
	case err == nil && done:
		return nil
	case err == nil: // left half-built by a binary that died
		if _, err := conn.Exec(ctx, "DROP DATABASE "+ident(tpl)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop unfinished template: %w", err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("look up template: %w", err)
	}
	return buildTemplate(ctx, conn, superURL, tpl)
}

// buildTemplate creates and migrates tpl and marks it a template, the last
// step, so that datistemplate means "complete".
func buildTemplate(ctx context.Context, conn *pgx.Conn, superURL, tpl string) error {
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(tpl)+" OWNER "+ident(pgcluster.OwnerRole)); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	ownerURL, err := roleURL(superURL, pgcluster.OwnerRole, ownerPassword, tpl)
	if err != nil {
		return err
	}
	if _, err := migrate.Up(ctx, ownerURL); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
	// template: refuse new connections and end any that linger.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(tpl)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	_, err = conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", tpl)
	if err != nil {
		return fmt.Errorf("disconnect template: %w", err)
	}
	return nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
