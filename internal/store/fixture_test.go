package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/store"
)

// fixture is a test's own database and a store on it as the app role.
type fixture struct {
	db *pgtest.DB
	st *store.Store
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return &fixture{db: db, st: st}
}

// user creates a user; users are global, so no organization is needed.
func (f *fixture) user(t testing.TB, name string) uuid.UUID {
	t.Helper()
	var u store.User
	err := f.st.InTx(t.Context(), func(q *store.Queries) error {
		var err error
		u, err = q.CreateUser(t.Context(), store.CreateUserParams{
			ID: uuid.Must(uuid.NewV7()), Email: name + "@example.com", DisplayName: &name, PlatformRole: "USER",
		})
		return err
	})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u.ID
}

// org creates an organization through the real service: owner becomes its
// owner, every module is enabled.
func (f *fixture) org(t testing.TB, owner uuid.UUID, name string) uuid.UUID {
	t.Helper()
	o, err := (&org.Service{Store: f.st}).Create(t.Context(), owner, org.CreateInput{Name: name})
	if err != nil {
		t.Fatalf("create organization %s: %v", name, err)
	}
	return o.ID
}

// member makes user a member of orgID holding the built-in roles keys and
// returns the membership id.
func (f *fixture) member(t testing.TB, orgID, user uuid.UUID, keys ...string) uuid.UUID {
	t.Helper()
	var m uuid.UUID
	err := f.st.InOrgTx(t.Context(), orgID, user, func(q *store.Queries) error {
		var err error
		m, err = q.CreateMembership(t.Context(), store.CreateMembershipParams{ID: uuid.Must(uuid.NewV7()), OrgID: orgID, UserID: user})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := f.addRole(t.Context(), q, orgID, m, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add member: %v", err)
	}
	return m
}

func (f *fixture) addRole(ctx context.Context, q *store.Queries, orgID, membership uuid.UUID, key string) error {
	r, err := q.GetBuiltInRole(ctx, key)
	if err != nil {
		return fmt.Errorf("find role %s: %w", key, err)
	}
	return q.AddMembershipRole(ctx, store.AddMembershipRoleParams{MembershipID: membership, RoleID: r.ID, OrgID: orgID})
}

// note writes a note through the real service as author, who holds every
// permission.
func (f *fixture) note(t testing.TB, orgID, author uuid.UUID, vis note.Visibility) uuid.UUID {
	t.Helper()
	p := policy.Principal{UserID: policy.ID(author), OrgID: policy.ID(orgID), Granted: policy.All, Modules: policy.AllModules}
	n, err := (&note.Service{Store: f.st, Now: time.Now}).Create(t.Context(), p, note.CreateInput{Title: "a note", Body: "body", Visibility: &vis})
	if err != nil {
		t.Fatalf("create note: %v", err)
	}
	return n.ID
}

// epoch reads the organization's authz_epoch as its member user.
func (f *fixture) epoch(t testing.TB, orgID, user uuid.UUID) int64 {
	t.Helper()
	var o store.Organization
	err := f.st.InOrgTx(t.Context(), orgID, user, func(q *store.Queries) error {
		var err error
		o, err = q.GetOrganization(t.Context(), orgID)
		return err
	})
	if err != nil {
		t.Fatalf("read epoch: %v", err)
	}
	return o.AuthzEpoch
}

// inTenant runs fn in a transaction on pool with app.org_id and app.user_id
// set the way store.InOrgTx sets them, for statements no sqlc query makes.
// uuid.Nil leaves a setting empty, as InOrgTx does.
func inTenant(t testing.TB, pool *pgxpool.Pool, orgID, user uuid.UUID, fn func(tx pgx.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)`,
			setting(orgID), setting(user)); err != nil {
			return err
		}
		return fn(tx)
	})
}

func setting(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// seedTenant puts at least one row of orgID into every tenant table that the
// services do not fill yet: a custom role with a permission, an invitation
// and an API key. user must be orgID's member.
func seedTenant(t testing.TB, f *fixture, orgID, user uuid.UUID) {
	t.Helper()
	hash := func(s string) []byte { h := sha256.Sum256([]byte(orgID.String() + s)); return h[:] }
	err := inTenant(t, f.db.App(t), orgID, user, func(tx pgx.Tx) error {
		ctx := t.Context()
		role := uuid.Must(uuid.NewV7())
		stmts := []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO roles (id, org_id, key, name) VALUES ($1, $2, 'custom', 'Custom')`, []any{role, orgID}},
			{`INSERT INTO role_permissions (role_id, permission, org_id) VALUES ($1, 'notes:read', $2)`, []any{role, orgID}},
			{`INSERT INTO invitations (id, org_id, email, role_ids, token_hash, invited_by, expires_at)
			  VALUES ($1, $2, 'invitee@example.com', $3, $4, $5, now() + interval '1 day')`,
				[]any{uuid.Must(uuid.NewV7()), orgID, []uuid.UUID{role}, hash("invitation"), user}},
			{`INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, permissions, created_by)
			  VALUES ($1, $2, 'script', $3, $4, '{notes:read}', $5)`,
				[]any{uuid.Must(uuid.NewV7()), orgID, "qk_" + orgID.String(), hash("key"), user}},
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.sql, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed tenant tables: %v", err)
	}
}

// queryIDs runs sql in tx and returns the ids it selects, sorted.
func queryIDs(t testing.TB, tx pgx.Tx, sql string, args ...any) []uuid.UUID {
	t.Helper()
	rows, err := tx.Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatal(err)
	}
	return sortedIDs(ids...)
}

func sortedIDs(ids ...uuid.UUID) []uuid.UUID {
	out := append([]uuid.UUID{}, ids...)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out
}
