package note_test

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/store"
)

// env is a test's own database, a store on it as the app role and a note
// service on a test clock.
type env struct {
	db    *pgtest.DB
	st    *store.Store
	clock *clock
	svc   *note.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	c := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), every: 1}
	return &env{db: db, st: st, clock: c, svc: &note.Service{Store: st, Now: c.Now}}
}

// clock is the service's Now: it starts at a fixed instant and moves one
// second every `every` calls, so that several notes may share a timestamp
// and the lists must break ties by id.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	every int
	calls int
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls%c.every == 0 {
		c.t = c.t.Add(time.Second)
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (e *env) user(t testing.TB, name string) uuid.UUID {
	t.Helper()
	var u store.User
	err := e.st.InTx(t.Context(), func(q *store.Queries) error {
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

// org creates an organization through the real service, owner as its owner,
// and returns owner's principal in it.
func (e *env) org(t testing.TB, owner uuid.UUID, name string) policy.Principal {
	t.Helper()
	o, err := (&org.Service{Store: e.st}).Create(t.Context(), owner, org.CreateInput{Name: name})
	if err != nil {
		t.Fatalf("create organization %s: %v", name, err)
	}
	return principal(o.ID, owner, "owner")
}

// member makes user a member of orgID with the built-in roles keys, and
// returns their principal.
func (e *env) member(t testing.TB, orgID policy.ID, user uuid.UUID, keys ...string) policy.Principal {
	t.Helper()
	o := uuid.UUID(orgID)
	err := e.st.InOrgTx(t.Context(), o, user, func(q *store.Queries) error {
		m, err := q.CreateMembership(t.Context(), store.CreateMembershipParams{ID: uuid.Must(uuid.NewV7()), OrgID: o, UserID: user})
		if err != nil {
			return err
		}
		for _, k := range keys {
			r, err := q.GetBuiltInRole(t.Context(), k)
			if err != nil {
				return err
			}
			if err := q.AddMembershipRole(t.Context(), store.AddMembershipRoleParams{MembershipID: m, RoleID: r.ID, OrgID: o}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add member: %v", err)
	}
	return principal(o, user, keys...)
}

// principal is what authz would build for a member holding the built-in
// roles keys in an organization with every module enabled.
func principal(orgID, user uuid.UUID, keys ...string) policy.Principal {
	var granted policy.Set
	for _, r := range policy.BuiltInRoles() {
		if slices.Contains(keys, r.Key) {
			granted |= r.Permissions
		}
	}
	return policy.Principal{UserID: policy.ID(user), OrgID: policy.ID(orgID), Granted: granted, Modules: policy.AllModules}
}

// create writes a note as p, failing the test on error.
func (e *env) create(t testing.TB, p policy.Principal, title string, vis note.Visibility) *note.Note {
	t.Helper()
	n, err := e.svc.Create(t.Context(), p, note.CreateInput{Title: title, Body: "body of " + title, Tags: []string{"t"}, Visibility: &vis})
	if err != nil {
		t.Fatalf("create note %q: %v", title, err)
	}
	return n
}

// auditEvent is the part of an audit_events row the services decide.
type auditEvent struct {
	Action   string
	ActorID  uuid.UUID
	TargetID uuid.UUID
	Decision string
}

// auditEvents reads p's organization's audit log, oldest first, in a
// transaction set up as store.InOrgTx sets it up (sqlc has no list query
// for it yet).
func (e *env) auditEvents(t testing.TB, p policy.Principal) []auditEvent {
	t.Helper()
	var out []auditEvent
	e.inTenant(t, p, func(tx pgx.Tx) {
		rows, err := tx.Query(t.Context(), `
			SELECT action, actor_id, COALESCE(target_id, '00000000-0000-0000-0000-000000000000'), decision
			FROM audit_events
			ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[auditEvent])
		if err != nil {
			t.Fatal(err)
		}
	})
	return out
}

// rowCounts counts, as p sees them, the rows a note write touches.
func (e *env) rowCounts(t testing.TB, p policy.Principal) map[string]int {
	t.Helper()
	out := map[string]int{}
	e.inTenant(t, p, func(tx pgx.Tx) {
		for _, table := range []string{"notes", "note_revisions", "audit_events"} {
			var n int
			if err := tx.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
	})
	return out
}

func (e *env) inTenant(t testing.TB, p policy.Principal, fn func(tx pgx.Tx)) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), e.db.App(t), func(tx pgx.Tx) error {
		_, err := tx.Exec(t.Context(), `SELECT set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)`,
			uuid.UUID(p.OrgID).String(), uuid.UUID(p.UserID).String())
		if err != nil {
			return err
		}
		fn(tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sortByID(ns []*note.Note) []*note.Note {
	out := slices.Clone(ns)
	slices.SortFunc(out, func(a, b *note.Note) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// collect follows the cursors of a list to its end, failing on a page
// loop.
func collect(t testing.TB, size int, list func(first *int, after *string) (*note.Page, error)) []*note.Note {
	t.Helper()
	var all []*note.Note
	var after *string
	for range 1000 {
		pg, err := list(&size, after)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(pg.Notes) > size {
			t.Fatalf("page of %d notes, asked for %d", len(pg.Notes), size)
		}
		all = append(all, pg.Notes...)
		if !pg.HasNext {
			return all
		}
		if len(pg.Notes) == 0 {
			t.Fatal("empty page with HasNext")
		}
		c := pg.Cursor(len(pg.Notes) - 1)
		after = &c
	}
	t.Fatal("list did not end after 1000 pages")
	return nil
}

// checkOrder requires notes strictly newest first by (key, id) — the
// keyset order — which also rules out duplicates.
func checkOrder(t testing.TB, notes []*note.Note, key func(*note.Note) time.Time) {
	t.Helper()
	for i := 1; i < len(notes); i++ {
		a, b := notes[i-1], notes[i]
		ka, kb := key(a), key(b)
		if ka.Before(kb) || ka.Equal(kb) && bytes.Compare(a.ID[:], b.ID[:]) <= 0 {
			t.Errorf("notes %d and %d out of order or repeated: (%s, %s) then (%s, %s)", i-1, i, ka, a.ID, kb, b.ID)
		}
	}
}

func createdAt(n *note.Note) time.Time { return n.CreatedAt }
func deletedAt(n *note.Note) time.Time { return *n.DeletedAt }
