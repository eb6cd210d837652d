package main

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/policy"
)

// lockNote holds a row lock on note id from a superuser transaction until
// the test ends, so that an update of it waits.
func (e *env) lockNote(id string) {
	e.t.Helper()
	tx, err := e.db.Super(e.t).Begin(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = tx.Rollback(e.t.Context()) })
	var one int
	if err := tx.QueryRow(e.t.Context(), `SELECT 1 FROM notes WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
		e.t.Fatal(err)
	}
}

// sibling is another Quire wired as `quire serve` wires it, on e's
// database and signing secret (so e's tokens work), with vars over e's
// configuration; it returns its handler.
func (e *env) sibling(vars map[string]string) http.Handler {
	e.t.Helper()
	getenv := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return map[string]string{
			"DATABASE_URL": e.db.AppURL, "DATABASE_MIGRATE_URL": e.db.OwnerURL,
			"QUIRE_RATE_LIMIT": "0", "QUIRE_KEY_RATE_LIMIT": "0", "QUIRE_DB_MAX_CONNS": "4", "QUIRE_PUBLIC_URL": "http://quire.test",
		}[k]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := newApp(e.t.Context(), cfg, slog.New(slog.DiscardHandler), e.db.AppURL, testSecret,
		deps{Now: time.Now, Mailer: e.mails, RetryDelays: []time.Duration{0, 0, 0}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(a.Close)
	return a.handler
}

// TestDeadlinesCutBlockedRequests: a request stuck behind a lock ends with
// INTERNAL instead of hanging, changes nothing, and the server answers the
// next request — whether the request's own deadline (QUIRE_REQUEST_TIMEOUT)
// or PostgreSQL's statement_timeout (QUIRE_DB_STATEMENT_TIMEOUT, set on
// every connection of the app's pool) fires first.
func TestDeadlinesCutBlockedRequests(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"request deadline", map[string]string{"QUIRE_REQUEST_TIMEOUT": "2s", "QUIRE_DB_STATEMENT_TIMEOUT": "1m"}},
		{"statement timeout", map[string]string{"QUIRE_REQUEST_TIMEOUT": "1m", "QUIRE_HTTP_WRITE_TIMEOUT": "2m",
			"QUIRE_DB_STATEMENT_TIMEOUT": "2s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			owner := e.signUp("owner@example.com", policy.PlatformUser)
			acme := e.createOrg(owner, "Acme")
			n := e.createNote(owner.in(acme), "Plan", nil)
			e.lockNote(n.ID)
			// A second server on the same database, with the short
			// deadline: the fixtures above were made without it, so a slow
			// machine cannot fail them.
			e.handler = e.sibling(tc.vars)

			start := time.Now()
			r := e.post(owner.in(acme), updateNoteOp, map[string]any{"id": n.ID, "v": n.Version, "in": map[string]any{"title": "Blocked"}})
			took := time.Since(start)
			if code := r.code(t); code != "INTERNAL" {
				t.Errorf("blocked update answered %s, want INTERNAL", code)
			}
			// Unbounded, it would wait for the lock until the test ends; the
			// other timeout is a minute.
			if took > 15*time.Second {
				t.Errorf("blocked update took %v to fail, want about 2s", took)
			}
			// The server goes on: a read answers at once, and shows the
			// note unchanged.
			var got noteOut
			e.post(owner.in(acme), `query($id: ID!) { note(id: $id) { `+noteFields+` } }`, map[string]any{"id": n.ID}).ok(t).decode(t, "note", &got)
			if got.Version != n.Version || got.Title != "Plan" {
				t.Errorf("after the failed update the note is v%d %q, want v%d %q", got.Version, got.Title, n.Version, "Plan")
			}
		})
	}
}
