package pgtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirehq/quire/internal/pgtest"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) }) // t.Context is done by now
	return c
}

// TestBouncerSharesOneServerConnection: two clients of a one-connection
// Bouncer run on the same PostgreSQL backend, one transaction at a time,
// which is what the replica tests need it to be.
func TestBouncerSharesOneServerConnection(t *testing.T) {
	t.Parallel()
	b := pgtest.New(t).Bouncer(t, pgtest.BouncerOptions{})
	one, two := connect(t, b.AppURL), connect(t, b.AppURL)
	var user string
	var pid1, pid2 int
	if err := one.QueryRow(t.Context(), "SELECT current_user, pg_backend_pid()").Scan(&user, &pid1); err != nil {
		t.Fatal(err)
	}
	if err := two.QueryRow(t.Context(), "SELECT pg_backend_pid() WHERE $1::int = 1", 1).Scan(&pid2); err != nil {
		t.Fatal(err)
	}
	if user != "quire_app" || pid1 != pid2 {
		t.Errorf("clients ran as %s on backends %d and %d, want quire_app on one backend", user, pid1, pid2)
	}
}

// TestBouncerPoolsTransactions: the Bouncer is in transaction mode, so what
// a session keeps on the server connection reaches the next client, and
// what a transaction keeps does not. Both halves are checked, so the test
// would notice a Bouncer in session mode as well as a leak.
func TestBouncerPoolsTransactions(t *testing.T) {
	t.Parallel()
	b := pgtest.New(t).Bouncer(t, pgtest.BouncerOptions{})

	t.Run("named prepared statements break", func(t *testing.T) {
		// pgx's default mode prepares a statement named after its SQL; the
		// second client finds the first one's on the shared connection.
		one, two := connect(t, b.URL("")), connect(t, b.URL(""))
		const q = "SELECT $1::int + 41"
		var n int
		if err := one.QueryRow(t.Context(), q, 1).Scan(&n); err != nil {
			t.Fatalf("first client: %v", err)
		}
		err := two.QueryRow(t.Context(), q, 1).Scan(&n)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P05" { // duplicate_prepared_statement
			t.Errorf("second client preparing the same statement: %v, want SQLSTATE 42P05", err)
		}
	})

	t.Run("exec mode "+pgtest.BouncerExecMode+" works", func(t *testing.T) {
		one, two := connect(t, b.AppURL), connect(t, b.AppURL)
		for i, c := range []*pgx.Conn{one, two, one, two} {
			var n int
			if err := c.QueryRow(t.Context(), "SELECT $1::int + 41", i).Scan(&n); err != nil || n != 41+i {
				t.Errorf("query %d: %d, %v", i, n, err)
			}
		}
	})

	t.Run("transaction-local settings end with the transaction", func(t *testing.T) {
		one, two := connect(t, b.AppURL), connect(t, b.AppURL)
		tx, err := one.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(t.Context(), "SELECT set_config('app.org_id', 'tenant-one', true)"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := setting(t, two); got != "" {
			t.Errorf("the next client sees app.org_id = %q, want it unset", got)
		}
	})

	t.Run("session settings reach the next client", func(t *testing.T) {
		one, two := connect(t, b.AppURL), connect(t, b.AppURL)
		if _, err := one.Exec(t.Context(), "SELECT set_config('app.org_id', 'tenant-one', false)"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = one.Exec(context.Background(), "RESET app.org_id") })
		if got := setting(t, two); got != "tenant-one" {
			t.Errorf("the next client sees app.org_id = %q, want the session's %q (is the Bouncer in transaction mode?)", got, "tenant-one")
		}
	})
}

func setting(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var v *string
	if err := c.QueryRow(t.Context(), "SELECT current_setting('app.org_id', true)").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return ""
	}
	return *v
}
