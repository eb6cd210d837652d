package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Built-in role ids, as the migration seeds them.
var (
	editorRole = uuid.MustParse("00000000-0000-7000-8000-000000000003")
	viewerRole = uuid.MustParse("00000000-0000-7000-8000-000000000004")
)

type orgFixture struct {
	svc        *authz.Service
	st         *store.Store
	db         *pgtest.DB
	org        uuid.UUID
	owner, bob uuid.UUID // bob is an editor
}

func newOrgFixture(t testing.TB) orgFixture {
	t.Helper()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	f := orgFixture{st: st, db: db, owner: uuid.Must(uuid.NewV7()), bob: uuid.Must(uuid.NewV7())}
	f.svc = &authz.Service{Store: st, Now: time.Now, Cache: authz.NewCache(100)}
	err = st.InTx(t.Context(), func(q *store.Queries) error {
		for _, u := range []uuid.UUID{f.owner, f.bob} {
			if _, err := q.CreateUser(t.Context(), store.CreateUserParams{ID: u, Email: u.String() + "@example.com", PlatformRole: "USER"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := (&org.Service{Store: st}).Create(t.Context(), f.owner, org.CreateInput{Name: "Cached"})
	if err != nil {
		t.Fatal(err)
	}
	f.org = o.ID
	f.inOrg(t, func(q *store.Queries) error {
		_, err := org.AddMember(t.Context(), q, f.org, f.bob, []uuid.UUID{editorRole})
		return err
	})
	return f
}

func (f orgFixture) inOrg(t testing.TB, fn func(q *store.Queries) error) {
	t.Helper()
	if err := f.st.InOrgTx(t.Context(), f.org, f.owner, fn); err != nil {
		t.Fatal(err)
	}
}

func (f orgFixture) exec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	// As the app role inside the organization's wall, so triggers fire as
	// they do for the server's own writes.
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `SELECT set_config('app.org_id', $1, true)`, f.org.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (f orgFixture) effective(t testing.TB, user uuid.UUID) ([]string, error) {
	t.Helper()
	p, err := f.svc.Principal(t.Context(), authz.Caller{UserID: user, PlatformRole: policy.PlatformUser}, f.org)
	return p.Effective().Codes(), err
}

// TestCacheSeesEveryChangeOnTheNextRequest: warm the cache, change what a
// decision depends on, and the very next resolution reflects it.
func TestCacheSeesEveryChangeOnTheNextRequest(t *testing.T) {
	t.Parallel()
	editor := []string{"members:read", "notes:create", "notes:delete", "notes:read", "notes:update"}
	cases := []struct {
		name   string
		change string   // $1 is bob's id
		want   []string // nil: NOT_FOUND
	}{
		{"role replaced", `UPDATE membership_roles SET role_id = '` + viewerRole.String() + `' WHERE role_id = '` + editorRole.String() + `' AND $1::uuid IS NOT NULL`, []string{"members:read", "notes:read"}},
		{"role removed", `DELETE FROM membership_roles WHERE role_id = '` + editorRole.String() + `' AND $1::uuid IS NOT NULL`, []string{}},
		{"custom role's permissions changed", `WITH r AS (INSERT INTO roles (id, org_id, key, name) SELECT gen_random_uuid(), app_org_id(), 'auditor', 'Auditor' RETURNING id, org_id),
			p AS (INSERT INTO role_permissions (role_id, permission, org_id) SELECT id, 'audit:read', org_id FROM r)
			INSERT INTO membership_roles (membership_id, role_id, org_id)
			SELECT m.id, r.id, r.org_id FROM r, memberships m WHERE m.user_id = $1`, []string{"audit:read", "members:read", "notes:create", "notes:delete", "notes:read", "notes:update"}},
		{"module disabled", `DELETE FROM organization_modules WHERE module = 'notes' AND $1::uuid IS NOT NULL`, []string{"members:read"}},
		{"member removed", `UPDATE memberships SET removed_at = now() WHERE user_id = $1`, nil},
		{"organization deleted", `UPDATE organizations SET deleted_at = now() WHERE $1::uuid IS NOT NULL`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newOrgFixture(t)
			for range 2 { // the second resolution comes from the cache
				got, err := f.effective(t, f.bob)
				if err != nil || cmp.Diff(editor, got) != "" {
					t.Fatalf("before: %v, %v", got, err)
				}
			}
			f.exec(t, f.db.App(t), tc.change, f.bob)
			got, err := f.effective(t, f.bob)
			if tc.want == nil {
				if qerr.CodeOf(err) != qerr.NotFound {
					t.Errorf("after: %v, %v; want NOT_FOUND", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCacheIsUsedAndEpochsInvalidateIt: a change that bumps no epoch (made
// with triggers off, as only a superuser can) is not seen — proof the cache
// answers — until an epoch moves.
func TestCacheIsUsedAndEpochsInvalidateIt(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	if _, err := f.effective(t, f.bob); err != nil {
		t.Fatal(err)
	}
	if f.svc.Cache.Len() != 1 {
		t.Fatalf("cache holds %d entries, want 1", f.svc.Cache.Len())
	}
	super := f.db.Super(t)
	conn, err := super.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), `SET session_replication_role = replica;
		DELETE FROM membership_roles WHERE role_id = '`+editorRole.String()+`';
		SET session_replication_role = DEFAULT`); err != nil {
		t.Fatal(err)
	}
	got, _ := f.effective(t, f.bob)
	if len(got) == 0 {
		t.Fatalf("an epoch-less change was seen: the cache was not used")
	}
	if _, err := conn.Exec(t.Context(), `UPDATE users SET platform_role = 'ADMIN' WHERE id = $1`, f.bob); err != nil {
		t.Fatal(err) // bumps the user's epoch
	}
	if got, err := f.effective(t, f.bob); err != nil || len(got) != 0 {
		t.Errorf("after the user's epoch moved: %v, %v; want no permissions", got, err)
	}
}

// BenchmarkPrincipal compares resolving permissions from the cache (warm)
// and from the database every time (cold). Both read the epochs in the
// tenant transaction; warm skips the permission query.
func BenchmarkPrincipal(b *testing.B) {
	for _, warm := range []bool{false, true} {
		name := map[bool]string{false: "cold", true: "warm"}[warm]
		b.Run(name, func(b *testing.B) {
			f := newOrgFixture(b)
			if !warm {
				f.svc.Cache = nil
			}
			c := authz.Caller{UserID: f.bob, PlatformRole: policy.PlatformUser}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.svc.Principal(b.Context(), c, f.org); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
