package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
)

// The replica tests run two Quire apps on one database through one
// PgBouncer in transaction mode that may open a single server connection:
// every transaction of both apps, whichever tenant it is for, runs on the
// same PostgreSQL backend, one after another. That is the harshest pooling
// production could see; anything a transaction left on its connection would
// reach the next tenant.
//
// The apps are in-process, built by newApp as `quire serve` builds them and
// as every end-to-end test does, rather than two binaries: each has its own
// pgx pool (through PgBouncer, DATABASE_URL with the exec mode
// docs/deployment.md gives), its own LISTEN connection straight to
// PostgreSQL (QUIRE_LISTEN_DATABASE_URL), its own authorization cache, hub,
// rate limiters and mailbox, and Quire keeps no state at package level, so
// the two share nothing but the database, as two processes would. In
// process, the tests reuse the end-to-end helpers, run under the race
// detector and wait on the hub's subscriber count instead of on a clock.

// replicaVars is the configuration of a replica: the app role through
// PgBouncer, LISTEN past it.
func replicaVars(db *pgtest.DB, pgb *pgtest.Bouncer, vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return map[string]string{
			"DATABASE_URL": pgb.AppURL, "DATABASE_MIGRATE_URL": db.OwnerURL, "QUIRE_LISTEN_DATABASE_URL": db.AppURL,
			"QUIRE_RATE_LIMIT": "0", "QUIRE_KEY_RATE_LIMIT": "0", "QUIRE_DB_MAX_CONNS": "4", "QUIRE_PUBLIC_URL": "http://quire.test",
		}[k]
	}
}

// newReplicas returns two Quire apps on a fresh database behind a fresh
// one-connection PgBouncer; vars override their configuration.
func newReplicas(t *testing.T, vars map[string]string) (a, b *env, pgb *pgtest.Bouncer) {
	t.Helper()
	db := pgtest.New(t)
	pgb = db.Bouncer(t, pgtest.BouncerOptions{PoolSize: 1})
	return newReplica(t, db, pgb, vars), newReplica(t, db, pgb, vars), pgb
}

func newReplica(t testing.TB, db *pgtest.DB, pgb *pgtest.Bouncer, vars map[string]string) *env {
	t.Helper()
	cfg, err := config.Load(replicaVars(db, pgb, vars))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, mails: &mailbox{}, log: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.app, err = newApp(t.Context(), cfg, logger, cfg.DatabaseURL, testSecret,
		deps{Now: time.Now, Mailer: e.mails, RetryDelays: []time.Duration{0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.app.Close)
	e.handler, e.store = e.app.handler, e.app.store
	return e
}

// TestReplicasSmoke: the end-to-end suite's first session, with every step
// on the replica the previous one did not use: sign up and sign in, create
// an organization, invite a newcomer, write, list and search notes, and
// script with an API key.
func TestReplicasSmoke(t *testing.T) {
	t.Parallel()
	a, b, _ := newReplicas(t, nil)

	owner := a.signUp("owner@example.com", policy.PlatformUser)
	// A link requested on B signs in on A.
	b.post(caller{}, `mutation { requestLoginLink(email: "owner@example.com") }`, nil).ok(t)
	links := b.deliveredTo("owner@example.com")
	if len(links) != 1 || links[0].Kind != mail.KindLogin {
		t.Fatalf("mail after requestLoginLink on B: %+v, want one login link", links)
	}
	var signedIn struct{ AccessToken string }
	a.signInWithLink(links[0].Link).ok(t).decode(t, "signInWithLink", &signedIn)
	var me struct{ Email string }
	b.post(caller{token: signedIn.AccessToken}, `{ me { email } }`, nil).ok(t).decode(t, "me", &me)
	if me.Email != "owner@example.com" {
		t.Errorf("me on B with A's session = %q", me.Email)
	}

	org := b.createOrg(owner, "Acme")
	a.invite(owner.in(org), "newcomer@example.com", editorRole)
	var accepted acceptOut
	b.accept(caller{}, a.invitationToken("newcomer@example.com")).ok(t).decode(t, "acceptInvitation", &accepted)
	newcomer := caller{token: accepted.AccessToken, org: org}
	var perms []string
	a.post(newcomer, `{ myPermissions }`, nil).ok(t).decode(t, "myPermissions", &perms)
	if !slices.Contains(perms, "notes:create") || slices.Contains(perms, "members:remove") {
		t.Errorf("the invited editor holds %v on A", perms)
	}

	kettle := a.createNote(owner.in(org), "Descaling the kettle", map[string]any{"tags": []string{"kitchen"}})
	garden := b.createNote(newcomer, "Garden plan", nil)
	for name, e := range map[string]*env{"A": a, "B": b} {
		if got := noteTitleSet(t, e, owner.in(org), nil); !slices.Equal(got, []string{"Descaling the kettle", "Garden plan"}) {
			t.Errorf("notes on %s: %v", name, got)
		}
	}
	if got := noteTitleSet(t, b, newcomer, map[string]any{"search": "kettle"}); !slices.Equal(got, []string{kettle.Title}) {
		t.Errorf("search for kettle on B: %v", got)
	}
	b.post(owner.in(org), updateNoteOp, map[string]any{"id": garden.ID, "v": 1, "in": map[string]any{"title": "Garden plan v2"}}).ok(t)

	_, key := b.createKey(owner.in(org), "ci", "notes:read", "notes:create")
	a.post(key, scriptNoteOp, map[string]any{"t": "from ci"}).ok(t)
	if got := noteTitleSet(t, a, key, nil); !slices.Equal(got, []string{"Descaling the kettle", "Garden plan v2", "from ci"}) {
		t.Errorf("notes through the key on A: %v", got)
	}
	wantDenied(t, "a notes:read+create key deleting", b.post(key, deleteNoteOp, map[string]any{"id": kettle.ID}), "notes:delete", "")
}

// noteTitleSet lists every note c sees through e (matching filter f, if
// set), sorted by title.
func noteTitleSet(t *testing.T, e *env, c caller, f map[string]any) []string {
	t.Helper()
	var conn struct {
		Edges []struct{ Node struct{ Title string } }
	}
	vars := map[string]any{}
	if f != nil {
		vars["f"] = f
	}
	e.post(c, `query($f: NoteFilter) { notes(first: 100, filter: $f) { edges { node { title } } } }`, vars).ok(t).decode(t, "notes", &conn)
	titles := []string{}
	for _, edge := range conn.Edges {
		titles = append(titles, edge.Node.Title)
	}
	slices.Sort(titles)
	return titles
}

// TestReplicasKeepTenantsApart interleaves the requests of two
// organizations' members on both replicas, every transaction on the one
// server connection, and checks each answer against what its caller may
// see: the organization's notes only (app.org_id), and another member's
// PRIVATE note never (app.user_id). Then it looks at the connection itself.
func TestReplicasKeepTenantsApart(t *testing.T) {
	t.Parallel()
	a, b, pgb := newReplicas(t, nil)
	alice, carol, bob := a.signUp("alice@example.com", policy.PlatformUser),
		b.signUp("carol@example.com", policy.PlatformUser), a.signUp("bob@example.com", policy.PlatformUser)
	orgA, orgB := a.createOrg(alice, "Alpha"), b.createOrg(bob, "Beta")
	a.addMember(orgA, carol, "editor")
	a.createNote(alice.in(orgA), "alpha: plan", nil)
	a.createNote(alice.in(orgA), "alpha: alice's diary", map[string]any{"visibility": "PRIVATE"})
	b.createNote(carol.in(orgA), "alpha: carol's diary", map[string]any{"visibility": "PRIVATE"})
	b.createNote(bob.in(orgB), "beta: plan", nil)
	b.createNote(bob.in(orgB), "beta: bob's diary", map[string]any{"visibility": "PRIVATE"})

	type tenant struct {
		name, email, org, prefix string
		c                        caller
		private, othersPrivate   string
	}
	tenants := []tenant{
		{"alice", "alice@example.com", orgA, "alpha: ", alice.in(orgA), "alpha: alice's diary", "alpha: carol's diary"},
		{"carol", "carol@example.com", orgA, "alpha: ", carol.in(orgA), "alpha: carol's diary", "alpha: alice's diary"},
		{"bob", "bob@example.com", orgB, "beta: ", bob.in(orgB), "beta: bob's diary", ""},
	}
	const (
		workersPerTenant = 3
		rounds           = 20
	)
	const op = `mutation($t: String!) { createNote(input: {title: $t, body: "b"}) { title } }`
	const read = `{ me { email } organization { id } notes(first: 100) { edges { node { title } } } }`
	replicas := []*env{a, b}
	var (
		mu   sync.Mutex
		errs []error
	)
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	var wg sync.WaitGroup
	for _, tn := range tenants {
		for w := range workersPerTenant {
			wg.Go(func() {
				for i := range rounds {
					e := replicas[(w+i)%2]
					if i%4 == 0 {
						title := fmt.Sprintf("%s%s worker %d round %d", tn.prefix, tn.name, w, i)
						if _, err := tryPost(e, tn.c, op, map[string]any{"t": title}); err != nil {
							report(fmt.Errorf("%s creating a note: %w", tn.name, err))
						}
					}
					r, err := tryPost(e, tn.c, read, nil)
					if err != nil {
						report(fmt.Errorf("%s reading: %w", tn.name, err))
						continue
					}
					var got struct {
						Me           struct{ Email string }
						Organization struct{ ID string }
						Notes        struct {
							Edges []struct{ Node struct{ Title string } }
						}
					}
					for field, v := range map[string]any{"me": &got.Me, "organization": &got.Organization, "notes": &got.Notes} {
						if err := json.Unmarshal(r.Data[field], v); err != nil {
							report(fmt.Errorf("%s: %s in %s: %w", tn.name, field, r.Data[field], err))
						}
					}
					if got.Me.Email != tn.email || got.Organization.ID != tn.org {
						report(fmt.Errorf("%s was answered as %s in %s", tn.name, got.Me.Email, got.Organization.ID))
					}
					sawOwn := false
					for _, edge := range got.Notes.Edges {
						title := edge.Node.Title
						switch {
						case !strings.HasPrefix(title, tn.prefix):
							report(fmt.Errorf("%s (org %s) saw another organization's note %q", tn.name, tn.org, title))
						case title == tn.othersPrivate:
							report(fmt.Errorf("%s saw another member's PRIVATE note %q", tn.name, title))
						case title == tn.private:
							sawOwn = true
						}
					}
					if !sawOwn {
						report(fmt.Errorf("%s did not see their own PRIVATE note: %d notes", tn.name, len(got.Notes.Edges)))
					}
				}
			})
		}
	}
	wg.Wait()
	for i, err := range errs {
		if i == 10 {
			t.Errorf("… and %d more", len(errs)-10)
			break
		}
		t.Error(err)
	}

	// Every one of those transactions ran on one backend, and it holds no
	// tenant now: what the next client of the pool would get.
	servers := bouncerServers(t, pgb)
	if len(servers) != 1 {
		t.Fatalf("PgBouncer has %d server connections (%v), want the one all requests shared", len(servers), servers)
	}
	next := connectThrough(t, pgb)
	var pid int
	var orgID, userID *string
	err := next.QueryRow(t.Context(), `SELECT pg_backend_pid(), current_setting('app.org_id', true), current_setting('app.user_id', true)`).
		Scan(&pid, &orgID, &userID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pid) != servers[0]["remote_pid"] {
		t.Errorf("the next client runs on backend %d, not on the one shared connection %v", pid, servers[0])
	}
	if orgID != nil && *orgID != "" || userID != nil && *userID != "" {
		t.Errorf("the next client of the connection finds app.org_id = %q, app.user_id = %q; want both unset", deref(orgID), deref(userID))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// tryPost is env.post for goroutines: it returns what went wrong instead of
// failing the test.
func tryPost(e *env, c caller, query string, vars map[string]any) (gqlResponse, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequestWithContext(e.t.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.org != "" {
		req.Header.Set("X-Organization-Id", c.org)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	var r gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		return r, fmt.Errorf("status %d, not JSON: %q", rec.Code, rec.Body.String())
	}
	r.Status = rec.Code
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		return r, fmt.Errorf("status %d: %+v", r.Status, r.Errors)
	}
	return r, nil
}

// connectThrough is a client of pgb as the app role, closed when t ends.
func connectThrough(t *testing.T, pgb *pgtest.Bouncer) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), pgb.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// bouncerServers is PgBouncer's SHOW SERVERS: the server connections it
// holds, each as column → value.
func bouncerServers(t *testing.T, pgb *pgtest.Bouncer) []map[string]string {
	t.Helper()
	c, err := pgx.Connect(t.Context(), pgb.ConsoleURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	rows, err := c.Query(t.Context(), "SHOW SERVERS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = fmt.Sprint(vals[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReplicasRevokeEverywhere: whatever one replica revokes, the other
// refuses on the next request, though it has just served that credential
// (and whatever it caches about it).
func TestReplicasRevokeEverywhere(t *testing.T) {
	t.Parallel()
	a, b, _ := newReplicas(t, nil)
	admin := a.signUp("admin@example.com", policy.PlatformAdmin)
	owner := a.signUp("owner@example.com", policy.PlatformUser)
	org := a.createOrg(owner, "Acme")
	a.createNote(owner.in(org), "Plan", nil)
	const notesOp = `{ notes { totalCount } }`

	tests := []struct {
		name string
		// setup makes a credential and names what revoke, through A, takes
		// away: the user's or the key's id.
		setup  func(t *testing.T) (c caller, id string)
		revoke func(t *testing.T, c caller, id string)
		code   string
	}{
		{"sign out", func(t *testing.T) (caller, string) {
			u := a.signUp("leaver@example.com", policy.PlatformUser)
			a.addMember(org, u, "viewer")
			return u.in(org), ""
		}, func(t *testing.T, c caller, _ string) {
			a.post(c, `mutation { signOut }`, nil).ok(t)
		}, "UNAUTHENTICATED"},
		{"deactivate the user", func(t *testing.T) (caller, string) {
			u := a.signUp("deactivated@example.com", policy.PlatformUser)
			a.addMember(org, u, "viewer")
			return u.in(org), u.id.String()
		}, func(t *testing.T, _ caller, id string) {
			a.post(admin.bare(), deactivateOp, map[string]any{"id": id, "why": "left"}).ok(t)
		}, "UNAUTHENTICATED"},
		{"revoke the API key", func(t *testing.T) (caller, string) {
			k, key := a.createKey(owner.in(org), "ci", "notes:read")
			return key, k.ID
		}, func(t *testing.T, _ caller, id string) {
			a.post(owner.in(org), revokeKeyOp, map[string]any{"id": id}).ok(t)
		}, "UNAUTHENTICATED"},
		{"remove the member", func(t *testing.T) (caller, string) {
			u := a.signUp("removed@example.com", policy.PlatformUser)
			a.addMember(org, u, "editor")
			return u.in(org), u.id.String()
		}, func(t *testing.T, _ caller, id string) {
			a.post(owner.in(org), removeMemberOp, map[string]any{"u": id}).ok(t)
		}, "NOT_FOUND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, id := tc.setup(t)
			// B serves the credential first, so anything it keeps about it
			// is warm when A revokes it.
			for range 2 {
				b.post(c, notesOp, nil).ok(t)
			}
			tc.revoke(t, c, id)
			if got := b.post(c, notesOp, nil).code(t); got != tc.code {
				t.Errorf("B after A revoked: code %s, want %s", got, tc.code)
			}
		})
	}
	// Nothing else was revoked along the way.
	b.post(owner.in(org), notesOp, nil).ok(t)
}

// TestReplicasDeliverEachOthersNotes: a note written through one replica
// reaches a subscriber on the other, whose LISTEN connection bypasses
// PgBouncer.
func TestReplicasDeliverEachOthersNotes(t *testing.T) {
	t.Parallel()
	a, b, _ := newReplicas(t, nil)
	owner := a.signUp("owner@example.com", policy.PlatformUser)
	org := a.createOrg(owner, "Acme")
	onA := subscribeAs(t, a.serve(), owner.in(org))
	onB := subscribeAs(t, b.serve(), owner.in(org))
	a.waitSubscribed(org, 1)
	b.waitSubscribed(org, 1)

	fromB := b.createNote(owner.in(org), "Written through B", nil)
	if got := onA.next(); got.Kind != "CREATED" || got.Note == nil || got.Note.ID != fromB.ID {
		t.Errorf("subscriber on A got %+v (note %+v), want CREATED %s", got, got.Note, fromB.ID)
	}
	fromA := a.createNote(owner.in(org), "Written through A", nil)
	for name, ws := range map[string]*wsClient{"A": onA, "B": onB} {
		want := []string{fromB.ID, fromA.ID}
		if name == "A" {
			want = want[1:]
		}
		for _, id := range want {
			if got := ws.next(); got.Note == nil || got.Note.ID != id {
				t.Errorf("subscriber on %s got %+v, want note %s", name, got, id)
			}
		}
		ws.quiet()
	}
}

// postFrom sends query to e as c from the client address ip.
func postFrom(e *env, ip string, c caller, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequestWithContext(e.t.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = ip + ":40000"
	return e.send(req, c)
}

// TestReplicasShareTheLoginLinkLimit: requestLoginLink counts in
// PostgreSQL, so the limits per address and per client hold across
// replicas, whichever one each request reaches.
func TestReplicasShareTheLoginLinkLimit(t *testing.T) {
	t.Parallel()
	a, b, _ := newReplicas(t, nil)
	a.signUp("popular@example.com", policy.PlatformUser)
	replicas := []*env{a, b}
	const ask = `mutation($e: String!) { requestLoginLink(email: $e) }`
	for i := range 5 {
		postFrom(replicas[i%2], fmt.Sprintf("198.51.100.%d", i), caller{}, ask, map[string]any{"e": "popular@example.com"}).ok(t)
	}
	for name, e := range map[string]*env{"A": a, "B": b} {
		if got := postFrom(e, "198.51.100.99", caller{}, ask, map[string]any{"e": "popular@example.com"}).code(t); got != "RATE_LIMITED" {
			t.Errorf("6th link for one address, on %s: code %s, want RATE_LIMITED", name, got)
		}
	}
	if n := len(a.deliveredTo("popular@example.com")) + len(b.deliveredTo("popular@example.com")); n != 5 {
		t.Errorf("%d links mailed by both replicas together, want 5", n)
	}

	for i := range 30 {
		postFrom(replicas[i%2], "203.0.113.7", caller{}, ask, map[string]any{"e": fmt.Sprintf("someone%d@example.com", i)}).ok(t)
	}
	for name, e := range map[string]*env{"A": a, "B": b} {
		if got := postFrom(e, "203.0.113.7", caller{}, ask, map[string]any{"e": "one-more@example.com"}).code(t); got != "RATE_LIMITED" {
			t.Errorf("31st link from one client, on %s: code %s, want RATE_LIMITED", name, got)
		}
	}
}

// TestReplicasRateLimitPerReplica pins what docs/deployment.md states: the
// HTTP limits per client address and per API key are token buckets in each
// replica's memory, so N replicas admit N times the burst (and the rate).
// Should they move to shared state, this test fails and the documentation
// must change with it.
func TestReplicasRateLimitPerReplica(t *testing.T) {
	t.Parallel()
	const burst = 3
	tests := []struct {
		name string
		vars map[string]string
		// who sends the limited requests, set up on a.
		who func(t *testing.T, a *env) (ip string, c caller)
	}{
		{"per client address", map[string]string{"QUIRE_RATE_LIMIT": "0.001", "QUIRE_RATE_BURST": fmt.Sprint(burst)},
			func(t *testing.T, a *env) (string, caller) { return "198.51.100.7", caller{} }},
		{"per API key", map[string]string{"QUIRE_KEY_RATE_LIMIT": "0.001", "QUIRE_KEY_RATE_BURST": fmt.Sprint(burst)},
			func(t *testing.T, a *env) (string, caller) {
				owner := a.signUp("owner@example.com", policy.PlatformUser)
				org := a.createOrg(owner, "Acme")
				_, key := a.createKey(owner.in(org), "ci", "notes:read")
				return "198.51.100.8", key
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b, _ := newReplicas(t, tc.vars)
			ip, c := tc.who(t, a)
			for name, e := range map[string]*env{"A": a, "B": b} {
				for i := range burst {
					if r := postFrom(e, ip, c, `{ __typename }`, nil); r.Status != http.StatusOK {
						t.Fatalf("request %d on %s: status %d %+v, want 200", i+1, name, r.Status, r.Errors)
					}
				}
				if r := postFrom(e, ip, c, `{ __typename }`, nil); r.Status != http.StatusTooManyRequests || r.code(t) != "RATE_LIMITED" {
					t.Errorf("request %d on %s: status %d %+v, want 429 RATE_LIMITED", burst+1, name, r.Status, r.Errors)
				}
			}
		})
	}
}
