package store_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/policy"
)

// TestCatalogAgrees: the permissions and modules tables, which migrations
// mirror from internal/policy, hold exactly what policy says.
func TestCatalogAgrees(t *testing.T) {
	t.Parallel()
	app := newFixture(t).db.App(t)

	rows, err := app.Query(t.Context(), `SELECT code, module, description FROM permissions`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[policy.PermissionInfo])
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Catalog()
	byCode := func(a, b policy.PermissionInfo) int { return strings.Compare(a.Code, b.Code) }
	slices.SortFunc(got, byCode)
	slices.SortFunc(want, byCode)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("permissions table vs policy.Catalog() (-want +got):\n%s", diff)
	}

	rows, err = app.Query(t.Context(), `SELECT name FROM modules`)
	if err != nil {
		t.Fatal(err)
	}
	modules, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantModules := policy.Modules()
	slices.Sort(modules)
	slices.Sort(wantModules)
	if diff := cmp.Diff(wantModules, modules); diff != "" {
		t.Errorf("modules table vs policy.Modules() (-want +got):\n%s", diff)
	}
}

// TestBuiltInRolesAgree: the built-in roles (org_id NULL), as the app role
// reads them inside an organization's transaction, are policy.BuiltInRoles()
// with the same keys, names and permissions.
func TestBuiltInRolesAgree(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner := f.user(t, "owner")
	orgID := f.org(t, owner, "Acme")
	type role struct {
		Key, Name   string
		Permissions []string
	}
	var got []role
	err := inTenant(t, f.db.App(t), orgID, owner, func(tx pgx.Tx) error {
		rows, err := tx.Query(t.Context(), `
			SELECT r.key, r.name,
			       COALESCE(array_agg(rp.permission) FILTER (WHERE rp.permission IS NOT NULL), '{}')::text[]
			FROM roles r
			LEFT JOIN role_permissions rp ON rp.role_id = r.id
			WHERE r.org_id IS NULL
			GROUP BY r.id`)
		if err != nil {
			return err
		}
		got, err = pgx.CollectRows(rows, pgx.RowToStructByPos[role])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []role
	for _, r := range policy.BuiltInRoles() {
		want = append(want, role{Key: r.Key, Name: r.Name, Permissions: r.Permissions.Codes()})
	}
	for _, rs := range [][]role{got, want} {
		slices.SortFunc(rs, func(a, b role) int { return strings.Compare(a.Key, b.Key) })
		for _, r := range rs {
			slices.Sort(r.Permissions)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("built-in roles in the database vs policy.BuiltInRoles() (-want +got):\n%s", diff)
	}
	// Built-in role permissions carry no organization, or the read policy
	// (org_id IS NULL OR org_id = app_org_id()) would hide them elsewhere.
	err = inTenant(t, f.db.App(t), uuid.Must(uuid.NewV7()), uuid.Nil, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(t.Context(), `
			SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = rp.role_id WHERE r.org_id IS NULL`).Scan(&n); err != nil {
			return err
		}
		wantN := 0
		for _, r := range want {
			wantN += len(r.Permissions)
		}
		if n != wantN {
			t.Errorf("in an unrelated organization's transaction: %d built-in role permissions visible, want %d", n, wantN)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
