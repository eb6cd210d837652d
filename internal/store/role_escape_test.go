package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/store"
)

// extraRole creates a login role with attrs, runs grants (each with %s for
// its name) as the superuser, and returns a URL connecting as it to db. The
// role is dropped when the test ends.
func extraRole(t *testing.T, db *pgtest.DB, attrs string, grants ...string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "quire_check_" + hex.EncodeToString(b)
	super := db.Super(t)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := super.Exec(t.Context(), "CREATE ROLE "+ident+" LOGIN PASSWORD 'x' "+attrs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Roles are cluster-wide: other tests' databases must not keep it.
		if _, err := super.Exec(ctx, "DROP OWNED BY "+ident); err != nil {
			t.Errorf("drop owned by %s: %v", name, err)
		}
		if _, err := super.Exec(ctx, "DROP ROLE "+ident); err != nil {
			t.Errorf("drop role %s: %v", name, err)
		}
	})
	for _, g := range grants {
		if _, err := super.Exec(t.Context(), strings.ReplaceAll(g, "%s", ident)); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(name, "x")
	return u.String()
}

// TestCheckRoleRefusesEscapes: roles that could switch row-level security
// off, beyond the table owner and the superuser.
func TestCheckRoleRefusesEscapes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, tc := range []struct {
		name    string
		attrs   string
		grants  []string
		wantErr string
	}{
		{"BYPASSRLS", "BYPASSRLS", nil, "BYPASSRLS"},
		{"inheriting member of the owner role", "INHERIT", []string{"GRANT quire_owner TO %s"}, "owns tables"},
		// A NOINHERIT member of the owner role (quire_app itself is created
		// NOINHERIT) may still SET ROLE quire_owner and ALTER TABLE … NO FORCE
		// ROW LEVEL SECURITY: membership, not USAGE, is what counts.
		{"NOINHERIT member of the owner role", "NOINHERIT", []string{"GRANT quire_owner TO %s"}, "owns tables"},
		{"NOINHERIT member of a superuser", "NOINHERIT", []string{"DO $$ BEGIN EXECUTE 'GRANT ' || quote_ident(current_user) || ' TO %s'; END $$"}, "can SET ROLE to superuser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roleURL := extraRole(t, db, tc.attrs, tc.grants...)
			st, err := store.Open(t.Context(), roleURL, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.CheckRole(t.Context()); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("CheckRole: %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
}
