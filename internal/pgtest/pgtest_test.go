package pgtest_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDatabasesAreSeparate(t *testing.T) {
	t.Parallel()
	a, b := pgtest.New(t), pgtest.New(t)
	if a.Name == b.Name {
		t.Fatalf("both databases are named %s", a.Name)
	}
	if _, err := a.Owner(t).Exec(t.Context(), "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	var got *string
	for _, tc := range []struct {
		db   *pgtest.DB
		want bool
	}{{a, true}, {b, false}} {
		if err := tc.db.Super(t).QueryRow(t.Context(), "SELECT to_regclass('only_in_a')::text").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if (got != nil) != tc.want {
			t.Errorf("table only_in_a in %s: exists = %v, want %v", tc.db.Name, got != nil, tc.want)
		}
	}
}

func TestAppRoleIsSubjectToRLS(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var user string
	var super, bypass bool
	err := db.App(t).QueryRow(t.Context(),
		"SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").Scan(&user, &super, &bypass)
	if err != nil {
		t.Fatal(err)
	}
	if user != "quire_app" || super || bypass {
		t.Errorf("App connects as %s (superuser %v, bypassrls %v), want quire_app, neither", user, super, bypass)
	}
}

func TestMigrated(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var owner string
	err := db.App(t).QueryRow(t.Context(),
		"SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'notes'").Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		t.Fatal("table notes does not exist")
	}
	if err != nil {
		t.Fatal(err)
	}
	if owner != "quire_owner" {
		t.Errorf("notes is owned by %s, want quire_owner", owner)
	}
	// Outside store.InOrgTx, app.org_id is unset and RLS shows no rows.
	var n int
	if err := db.App(t).QueryRow(t.Context(), "SELECT count(*) FROM notes").Scan(&n); err != nil {
		t.Fatalf("quire_app reads notes: %v", err)
	}
	if n != 0 {
		t.Errorf("quire_app sees %d notes outside a tenant transaction, want 0", n)
	}
}
