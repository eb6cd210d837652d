package store_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/store"
)

// TestOrgEpochTriggers: every change that can alter a decision in an
// organization bumps its authz_epoch, by trigger; a change that cannot does
// not. The cases run in order on one organization.
func TestOrgEpochTriggers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner, bob := f.user(t, "owner"), f.user(t, "bob")
	orgID := f.org(t, owner, "Acme")
	// DEFAULT 1: creating the organization, its modules and its owner's
	// membership already bumped it.
	if e := f.epoch(t, orgID, owner); e <= 1 {
		t.Errorf("authz_epoch after creating the organization = %d, want > 1", e)
	}
	membership := f.member(t, orgID, bob) // no roles yet

	tenantExec := func(sql string, args ...any) func(t *testing.T) {
		return func(t *testing.T) {
			err := inTenant(t, f.db.App(t), orgID, owner, func(tx pgx.Tx) error {
				tag, err := tx.Exec(t.Context(), sql, args...)
				if err == nil && tag.RowsAffected() != 1 {
					t.Fatalf("%s changed %d rows, want 1", sql, tag.RowsAffected())
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
		bump   bool
	}{
		{
			name: "add membership role",
			change: func(t *testing.T) {
				err := f.st.InOrgTx(t.Context(), orgID, owner, func(q *store.Queries) error {
					return f.addRole(t.Context(), q, orgID, membership, "editor")
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			bump: true,
		},
		{
			name: "remove membership role",
			change: tenantExec(`DELETE FROM membership_roles WHERE membership_id = $1
			                    AND role_id = (SELECT id FROM roles WHERE org_id IS NULL AND key = 'editor')`, membership),
			bump: true,
		},
		{
			name:   "disable module",
			change: tenantExec(`DELETE FROM organization_modules WHERE org_id = $1 AND module = 'audit'`, orgID),
			bump:   true,
		},
		{
			name: "enable module",
			change: func(t *testing.T) {
				err := f.st.InOrgTx(t.Context(), orgID, owner, func(q *store.Queries) error {
					return q.EnableModules(t.Context(), store.EnableModulesParams{OrgID: orgID, Modules: []string{"audit"}})
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			bump: true,
		},
		{
			name:   "remove member",
			change: tenantExec(`UPDATE memberships SET removed_at = now(), removed_by = $2 WHERE id = $1`, membership, owner),
			bump:   true,
		},
		{
			name:   "write a note",
			change: func(t *testing.T) { f.note(t, orgID, owner, note.VisibilityOrg) },
			bump:   false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.epoch(t, orgID, owner)
			tc.change(t)
			after := f.epoch(t, orgID, owner)
			if got := after > before; got != tc.bump || after < before {
				t.Errorf("authz_epoch went from %d to %d; want bumped = %v", before, after, tc.bump)
			}
		})
	}
}

// TestUserEpochTrigger: status and platform role changes bump the user's
// authz_epoch; a display name change does not.
func TestUserEpochTrigger(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	readEpoch := func(t *testing.T, id uuid.UUID) int64 {
		t.Helper()
		var u store.User
		err := f.st.InTx(t.Context(), func(q *store.Queries) error {
			var err error
			u, err = q.GetUser(t.Context(), id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return u.AuthzEpoch
	}
	for _, tc := range []struct {
		name string
		sql  string
		bump bool
	}{
		{"deactivate", `UPDATE users SET status = 'DEACTIVATED' WHERE id = $1`, true},
		{"promote to ADMIN", `UPDATE users SET platform_role = 'ADMIN' WHERE id = $1`, true},
		{"rename", `UPDATE users SET display_name = 'Someone Else' WHERE id = $1`, false},
		{"same status again", `UPDATE users SET status = 'ACTIVE' WHERE id = $1`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := f.user(t, "u"+uuid.NewString()[:8])
			before := readEpoch(t, id)
			tag, err := f.db.App(t).Exec(t.Context(), tc.sql, id)
			if err != nil {
				t.Fatal(err)
			}
			if tag.RowsAffected() != 1 {
				t.Fatalf("%s changed %d rows, want 1", tc.sql, tag.RowsAffected())
			}
			after := readEpoch(t, id)
			if got := after > before; got != tc.bump || after < before {
				t.Errorf("authz_epoch went from %d to %d; want bumped = %v", before, after, tc.bump)
			}
		})
	}
}
