package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/policy"
)

// statementCounter is a pgx tracer that counts the statements the app's pool
// runs while it is on, and the round trips they take: a batch (a pipeline)
// is one round trip however many statements it carries.
type statementCounter struct {
	mu    sync.Mutex
	on    bool
	n     int
	trips int
	sql   []string
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.n++
		c.trips++
		c.sql = append(c.sql, d.SQL)
	}
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.trips++
	}
	return ctx
}

func (c *statementCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.n++
		c.sql = append(c.sql, d.SQL)
	}
}

func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// count runs fn and returns how many statements it caused.
func (c *statementCounter) count(fn func()) (int, []string) {
	n, _, sql := c.countTrips(fn)
	return n, sql
}

// countTrips runs fn and returns how many statements and round trips it
// caused.
func (c *statementCounter) countTrips(fn func()) (statements, trips int, sql []string) {
	c.mu.Lock()
	c.on, c.n, c.trips, c.sql = true, 0, 0, nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.n, c.trips, c.sql
}

// TestWarmReadRoundTrips: a warm authorized read (the peer benchmark's
// request, by a signed-in member whose session and permissions the server
// has seen) takes one round trip and two statements: app_enter (the tenant
// settings and the check of what was cached) and the list with its authors,
// in one pipeline whose implicit transaction is the read's
// (store.InOrgRead).
func TestWarmReadRoundTrips(t *testing.T) {
	t.Parallel()
	tracer := &statementCounter{}
	e := newEnvWith(t, nil, deps{Tracer: tracer})
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	for i := range 3 {
		e.createNote(owner.in(org), fmt.Sprintf("note %d", i), nil)
	}
	const query = `{ notes(first: 20) { edges { node { id title body tags createdAt author { email } } } } }`
	// Bare: the caller's only organization; with the header: the one named.
	for _, c := range []caller{owner.bare(), owner.in(org)} {
		read := func() (int, int, []string) {
			return tracer.countTrips(func() {
				var got struct {
					Edges []struct {
						Node struct{ Author struct{ Email string } }
					}
				}
				e.post(c, query, nil).ok(t).decode(t, "notes", &got)
				if len(got.Edges) != 3 || got.Edges[0].Node.Author.Email != "owner@example.com" {
					t.Fatalf("notes: %+v", got)
				}
			})
		}
		read() // the server sees the session and the permissions
		n, trips, sql := read()
		// At least one of each: a read counted as none was not counted.
		if trips != 1 || n < 1 || n > 2 {
			for _, s := range sql {
				t.Logf("  %.100q", s)
			}
			t.Errorf("warm read (header %q): %d round trips, %d statements; want 1, and 1 or 2", c.org, trips, n)
		}
	}

	// With an API key, the key is looked up first: one more round trip
	// (app_enter and the lookup), and the list as for a session.
	_, key := e.createKey(owner.in(org), "reader", "notes:read")
	read := func() (int, int, []string) {
		return tracer.countTrips(func() {
			if got := e.post(key, query, nil).ok(t); !strings.Contains(string(got.Data["notes"]), "owner@example.com") {
				t.Fatalf("notes with the key: %s", got.Data["notes"])
			}
		})
	}
	read()
	if n, trips, sql := read(); trips != 2 || n < 2 || n > 4 {
		for _, s := range sql {
			t.Logf("  %.100q", s)
		}
		t.Errorf("warm read with an API key: %d round trips, %d statements; want 2, and 2 to 4", trips, n)
	}
}

// TestNotesPageIsNotNPlusOne: a page of notes with their authors, revisions
// and the revisions' editors costs the same number of statements for 5 notes
// as for 50: authors and editors come through the user loader, revisions
// through the revisions loader (one statement for the page).
func TestNotesPageIsNotNPlusOne(t *testing.T) {
	t.Parallel()
	tracer := &statementCounter{}
	e := newEnvWith(t, nil, deps{Tracer: tracer})
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	writer := e.signUp("writer@example.com", policy.PlatformUser)
	e.addMember(org, writer, "editor")
	for i := range 50 {
		u := owner
		if i%2 == 1 {
			u = writer
		}
		n := e.createNote(u.in(org), fmt.Sprintf("note %d", i), nil)
		e.post(u.in(org), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {body: "v2"}) { id } }`,
			map[string]any{"id": n.ID}).ok(t)
	}
	const query = `query($n: Int!) { notes(first: $n) { edges { node { author { email } revisions { editedBy { email } } } } } }`
	run := func(size int) int {
		var got struct {
			Edges []struct {
				Node struct {
					Revisions []struct{ EditedBy struct{ Email string } }
				}
			}
		}
		n, sql := tracer.count(func() {
			e.post(owner.in(org), query, map[string]any{"n": size}).ok(t).decode(t, "notes", &got)
		})
		if len(got.Edges) != size || len(got.Edges[0].Node.Revisions) != 2 || got.Edges[0].Node.Revisions[0].EditedBy.Email == "" {
			t.Fatalf("first: %d gave %d notes, first with revisions %+v", size, len(got.Edges), got.Edges[0].Node.Revisions)
		}
		t.Logf("first: %d: %d statements", size, n)
		if testing.Verbose() {
			for _, s := range sql {
				t.Logf("  %.80q", s)
			}
		}
		return n
	}
	// The user loader batches by time window, so a slow scheduler (-race)
	// may split a page's users in two batches; the least of three runs is
	// the count without that noise, while an N+1 would show in every run.
	least := func(size int) int {
		return min(run(size), run(size), run(size))
	}
	run(5) // warms the permissions cache, as any earlier request would
	small, large := least(5), least(50)
	t.Logf("statements per request: first: 5 → %d, first: 50 → %d", small, large)
	// app_enter, the list, app_enter and the revisions: fewer means the
	// tracer missed statements, and equal counts would prove nothing.
	if small < 4 {
		t.Errorf("first: 5 counted %d statements; the list and the revisions take at least 4", small)
	}
	if large != small {
		t.Errorf("first: 50 ran %d statements, first: 5 ran %d: the count grows with the page", large, small)
	}
}
