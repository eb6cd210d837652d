package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/store"
)

// twoTenants is two organizations, A and B, each with its owner, a second
// member, ORG and PRIVATE notes and a row in every tenant table, plus one
// audit event outside any organization.
type twoTenants struct {
	*fixture
	a, b                 uuid.UUID // organizations
	userA, userA2, userB uuid.UUID
	notesA, notesB       []uuid.UUID // ORG notes
	privateA             uuid.UUID   // userA's PRIVATE note in A
}

func newTwoTenants(t *testing.T) *twoTenants {
	t.Helper()
	f := newFixture(t)
	w := &twoTenants{fixture: f, userA: f.user(t, "alice"), userA2: f.user(t, "anna"), userB: f.user(t, "bob")}
	w.a, w.b = f.org(t, w.userA, "Org A"), f.org(t, w.userB, "Org B")
	f.member(t, w.a, w.userA2, "editor")
	seedTenant(t, f, w.a, w.userA)
	seedTenant(t, f, w.b, w.userB)
	for range 3 {
		w.notesA = append(w.notesA, f.note(t, w.a, w.userA, note.VisibilityOrg))
		w.notesB = append(w.notesB, f.note(t, w.b, w.userB, note.VisibilityOrg))
	}
	w.privateA = f.note(t, w.a, w.userA, note.VisibilityPrivate)
	err := f.st.InTx(t.Context(), func(q *store.Queries) error {
		return audit.RecordGlobal(t.Context(), q, w.userA, audit.Event{Action: "session.create"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// tenantTables counts, per tenant table, the rows that belong to some
// organization (built-in roles and their permissions have org_id NULL and are
// meant to be read by all).
var tenantTables = []struct {
	name string
	sql  string
}{
	{"organizations", `SELECT count(*) FROM organizations`},
	{"organization_modules", `SELECT count(*) FROM organization_modules`},
	{"roles", `SELECT count(*) FROM roles WHERE org_id IS NOT NULL`},
	{"role_permissions", `SELECT count(*) FROM role_permissions WHERE org_id IS NOT NULL`},
	{"memberships", `SELECT count(*) FROM memberships`},
	{"membership_roles", `SELECT count(*) FROM membership_roles`},
	{"invitations", `SELECT count(*) FROM invitations`},
	{"api_keys", `SELECT count(*) FROM api_keys`},
	{"notes", `SELECT count(*) FROM notes`},
	{"note_revisions", `SELECT count(*) FROM note_revisions`},
	{"audit_events", `SELECT count(*) FROM audit_events`},
}

// TestWall2OrgTxSeesOnlyItsOrg runs SELECTs with no org filter, as a buggy
// query would, inside A's transaction: RLS alone must keep B out.
func TestWall2OrgTxSeesOnlyItsOrg(t *testing.T) {
	t.Parallel()
	w := newTwoTenants(t)
	err := inTenant(t, w.db.App(t), w.a, w.userA, func(tx pgx.Tx) error {
		got := queryIDs(t, tx, `SELECT id FROM notes`)
		want := sortedIDs(append(slices.Clone(w.notesA), w.privateA)...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SELECT id FROM notes in A's transaction (-want +got):\n%s", diff)
		}
		// Every tenant table: nothing of B, nor of no organization.
		for _, tc := range []struct{ name, sql string }{
			{"organizations", `SELECT count(*) FROM organizations WHERE id <> $1`},
			{"organization_modules", `SELECT count(*) FROM organization_modules WHERE org_id <> $1`},
			{"roles", `SELECT count(*) FROM roles WHERE org_id <> $1`},
			{"role_permissions", `SELECT count(*) FROM role_permissions WHERE org_id <> $1`},
			{"memberships", `SELECT count(*) FROM memberships WHERE org_id <> $1`},
			{"membership_roles", `SELECT count(*) FROM membership_roles WHERE org_id <> $1`},
			{"invitations", `SELECT count(*) FROM invitations WHERE org_id <> $1`},
			{"api_keys", `SELECT count(*) FROM api_keys WHERE org_id <> $1`},
			{"notes", `SELECT count(*) FROM notes WHERE org_id <> $1`},
			{"note_revisions", `SELECT count(*) FROM note_revisions WHERE org_id <> $1`},
			{"audit_events", `SELECT count(*) FROM audit_events WHERE org_id IS DISTINCT FROM $1`},
		} {
			var n int
			if err := tx.QueryRow(t.Context(), tc.sql, w.a).Scan(&n); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if n != 0 {
				t.Errorf("%s: A's transaction sees %d rows of other organizations", tc.name, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWall2NoSettingsNoRows proves that a tenant query outside InOrgTx sees
// nothing, on a fresh connection and on one a tenant transaction has used
// (settings are transaction-local, which keeps PgBouncer's transaction mode
// safe). Each table is first shown to hold rows, so zero means hidden.
func TestWall2NoSettingsNoRows(t *testing.T) {
	t.Parallel()
	w := newTwoTenants(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, w.db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	count := func(t *testing.T, q pgx.Tx, sql string) int {
		t.Helper()
		var n int
		if err := q.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	countConn := func(t *testing.T, sql string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range tenantTables {
		t.Run(tc.name, func(t *testing.T) {
			if n := countConn(t, tc.sql); n != 0 {
				t.Errorf("fresh connection, no settings: %d rows, want 0", n)
			}
			// The same connection inside A's transaction: the rows exist.
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)`,
					w.a.String(), w.userA.String()); err != nil {
					return err
				}
				if n := count(t, tx, tc.sql); n == 0 {
					t.Errorf("inside A's transaction: 0 rows, want some (the test would prove nothing)")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := countConn(t, tc.sql); n != 0 {
				t.Errorf("after a committed tenant transaction on this connection: %d rows, want 0", n)
			}
		})
	}
}

// TestWall2PrivateNoteHiddenInItsOrg: another member of the note's own
// organization does not see it, nor its revisions, even with no SQL filter.
func TestWall2PrivateNoteHiddenInItsOrg(t *testing.T) {
	t.Parallel()
	w := newTwoTenants(t)
	for _, tc := range []struct {
		name string
		user uuid.UUID
		want int
	}{
		{"author sees it", w.userA, 1},
		{"other member does not", w.userA2, 0},
		{"no user does not", uuid.Nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := inTenant(t, w.db.App(t), w.a, tc.user, func(tx pgx.Tx) error {
				var notes, revisions int
				if err := tx.QueryRow(t.Context(), `SELECT count(*) FROM notes WHERE id = $1`, w.privateA).Scan(&notes); err != nil {
					return err
				}
				if err := tx.QueryRow(t.Context(), `SELECT count(*) FROM note_revisions WHERE note_id = $1`, w.privateA).Scan(&revisions); err != nil {
					return err
				}
				if notes != tc.want || revisions != tc.want {
					t.Errorf("private note: %d notes and %d revisions visible, want %d of each", notes, revisions, tc.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWall2RefusesWritesAcross: rows of B cannot be written from A's
// transaction, and the audit log cannot be changed at all.
func TestWall2RefusesWritesAcross(t *testing.T) {
	t.Parallel()
	w := newTwoTenants(t)
	for _, tc := range []struct {
		name    string
		sql     string
		args    func() []any
		wantMsg string // in the PostgreSQL error, whose code is 42501
	}{
		{
			name: "insert note into B",
			sql: `INSERT INTO notes (id, org_id, author_id, title, body)
			      VALUES ($1, $2, $3, 'planted', 'planted')`,
			args:    func() []any { return []any{uuid.Must(uuid.NewV7()), w.b, w.userA} },
			wantMsg: "row-level security",
		},
		{
			name:    "insert membership into B",
			sql:     `INSERT INTO memberships (id, org_id, user_id) VALUES ($1, $2, $3)`,
			args:    func() []any { return []any{uuid.Must(uuid.NewV7()), w.b, w.userA} },
			wantMsg: "row-level security",
		},
		{
			name:    "insert audit event into B",
			sql:     `INSERT INTO audit_events (id, org_id, action, decision) VALUES ($1, $2, 'note.create', 'ALLOWED')`,
			args:    func() []any { return []any{uuid.Must(uuid.NewV7()), w.b} },
			wantMsg: "row-level security",
		},
		{
			name:    "move own note to B",
			sql:     `UPDATE notes SET org_id = $1 WHERE id = $2`,
			args:    func() []any { return []any{w.b, w.notesA[0]} },
			wantMsg: "row-level security",
		},
		{
			name:    "update audit events",
			sql:     `UPDATE audit_events SET action = 'forged'`,
			args:    func() []any { return nil },
			wantMsg: "permission denied for table audit_events",
		},
		{
			name:    "delete audit events",
			sql:     `DELETE FROM audit_events`,
			args:    func() []any { return nil },
			wantMsg: "permission denied for table audit_events",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := inTenant(t, w.db.App(t), w.a, w.userA, func(tx pgx.Tx) error {
				_, err := tx.Exec(t.Context(), tc.sql, tc.args()...)
				return err
			})
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, tc.wantMsg) {
				t.Fatalf("got %v, want insufficient_privilege (42501) saying %q", err, tc.wantMsg)
			}
		})
	}
	// An UPDATE aimed at B's note from A's transaction finds no row.
	err := inTenant(t, w.db.App(t), w.a, w.userA, func(tx pgx.Tx) error {
		tag, err := tx.Exec(t.Context(), `UPDATE notes SET title = 'defaced' WHERE id = $1`, w.notesB[0])
		if err == nil && tag.RowsAffected() != 0 {
			t.Errorf("UPDATE of B's note from A's transaction changed %d rows, want 0", tag.RowsAffected())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing above reached B.
	err = inTenant(t, w.db.App(t), w.b, w.userB, func(tx pgx.Tx) error {
		got := queryIDs(t, tx, `SELECT id FROM notes WHERE title <> 'defaced'`)
		if diff := cmp.Diff(sortedIDs(w.notesB...), got); diff != "" {
			t.Errorf("B's notes after A's attempts (-want +got):\n%s", diff)
		}
		var n int
		if err := tx.QueryRow(t.Context(), `SELECT count(*) FROM memberships WHERE user_id = $1`, w.userA).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("B has %d memberships of A's user, want 0", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ownerOnly are tenant tables the app role cannot touch: note_search is read
// by app_search_notes as the owner, so that full-text search can use its
// index (row-level security forbids that to non-leakproof operators).
var ownerOnly = map[string]bool{"note_search": true}

// TestTenantTablesForceRLS finds every table in schema public with an org_id
// column, so a tenant table added later cannot forget ENABLE + FORCE ROW
// LEVEL SECURITY or its policy.
func TestTenantTablesForceRLS(t *testing.T) {
	t.Parallel()
	db := newFixture(t).db
	rows, err := db.App(t).Query(t.Context(), `
		SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
		       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
		FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace
		  AND c.relkind IN ('r', 'p')
		  AND (c.relname = 'organizations' OR EXISTS (
		    SELECT 1 FROM pg_attribute a
		    WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped))
		ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	type table struct {
		Name                     string
		Enabled, Forced, HasPlcy bool
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[table])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range got {
		names = append(names, tb.Name)
		if ownerOnly[tb.Name] {
			// Read only through the owner's functions (migration 00013):
			// the app role must hold no privilege on it at all.
			var any bool
			err := db.App(t).QueryRow(t.Context(), `SELECT has_table_privilege(current_user, $1, 'SELECT')
				OR has_table_privilege(current_user, $1, 'INSERT') OR has_table_privilege(current_user, $1, 'UPDATE')
				OR has_table_privilege(current_user, $1, 'DELETE')`, tb.Name).Scan(&any)
			if err != nil || any || !tb.Enabled {
				t.Errorf("owner-only table %s: the app role has a privilege (%v, %v) or row security is off (%v)", tb.Name, any, err, tb.Enabled)
			}
			continue
		}
		if !tb.Enabled || !tb.Forced || !tb.HasPlcy {
			t.Errorf("table %s: row security enabled %v, forced %v, has a policy %v; want all true",
				tb.Name, tb.Enabled, tb.Forced, tb.HasPlcy)
		}
	}
	// The query must at least find DESIGN.md's tenant tables, or it proves
	// nothing.
	for _, tc := range tenantTables {
		if !slices.Contains(names, tc.name) {
			t.Errorf("tenant table %s not found among %v", tc.name, names)
		}
	}
}
