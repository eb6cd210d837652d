package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/pgtest"
)

// TestAdminSeed seeds a small set and checks it as the superuser sees it (row-level security binds the owner too),
// then sends the written body with every written token through the handler,
// as the benchmark does: each answers its own organization's 20 newest live
// notes with their authors.
func TestAdminSeed(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	vars := map[string]string{
		"DATABASE_URL": db.AppURL, "DATABASE_MIGRATE_URL": db.OwnerURL, "QUIRE_JWT_SECRET": string(testSecret),
		"QUIRE_RATE_LIMIT": "0", "QUIRE_KEY_RATE_LIMIT": "0", "QUIRE_PUBLIC_URL": "http://quire.test",
	}
	getenv := func(k string) string { return vars[k] }
	dir := t.TempDir()
	tokensFile, bodyFile := filepath.Join(dir, "tokens.txt"), filepath.Join(dir, "body.json")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"admin", "seed", "--orgs", "3", "--notes-per-org", "50", "--members-per-org", "3",
		"--tokens", tokensFile, "--body", bodyFile}, getenv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("seed: %v (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "seeded 3 orgs, 9 users, 150 notes (6 trashed)") {
		t.Errorf("summary missing from stderr %q", stderr.String())
	}

	rows, err := db.Super(t).Query(t.Context(), `
		SELECT o.id,
		       (SELECT count(*) FROM memberships m WHERE m.org_id = o.id),
		       (SELECT count(*) FROM notes n WHERE n.org_id = o.id),
		       (SELECT count(*) FROM notes n WHERE n.org_id = o.id AND n.deleted_at IS NOT NULL),
		       (SELECT count(*) FROM note_revisions r WHERE r.org_id = o.id AND r.version = 1),
		       (SELECT count(DISTINCT n.author_id) FROM notes n WHERE n.org_id = o.id)
		FROM organizations o`)
	if err != nil {
		t.Fatal(err)
	}
	orgs := map[uuid.UUID]bool{}
	for rows.Next() {
		var id uuid.UUID
		var members, notes, trashed, revisions, authors int
		if err := rows.Scan(&id, &members, &notes, &trashed, &revisions, &authors); err != nil {
			t.Fatal(err)
		}
		orgs[id] = true
		if members != 3 || notes != 50 || trashed != 2 || revisions != 50 || authors != 3 {
			t.Errorf("org %s: %d members, %d notes, %d trashed, %d revisions, %d authors; want 3, 50, 2, 50, 3",
				id, members, notes, trashed, revisions, authors)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 3 {
		t.Fatalf("%d organizations, want 3", len(orgs))
	}

	body, err := os.ReadFile(bodyFile)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := os.ReadFile(tokensFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(tokens)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d token lines, want 3", len(lines))
	}
	h := seedTestHandler(t, getenv, db)
	seen := map[string]bool{}
	for i, token := range lines {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var got struct {
			Data struct {
				Notes struct {
					Edges []struct {
						Node struct {
							ID     string
							Tags   []string
							Body   string
							Author struct{ Email string }
						}
					}
				}
			}
			Errors []gqlError
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK || len(got.Errors) > 0 {
			t.Fatalf("token %d: status %d, body %q", i+1, rec.Code, rec.Body.String())
		}
		edges := got.Data.Notes.Edges
		if len(edges) != 20 {
			t.Fatalf("token %d: %d notes, want 20", i+1, len(edges))
		}
		// The token is org i+1's owner; every author is a member of that org.
		org := fmt.Sprintf("@org%d.", i+1)
		for _, e := range edges {
			if !strings.Contains(e.Node.Author.Email, org) || len(e.Node.Tags) != 2 || len(e.Node.Body) != 512 {
				t.Errorf("token %d: note %s by %q with tags %v and a %d-byte body", i+1, e.Node.ID, e.Node.Author.Email, e.Node.Tags, len(e.Node.Body))
			}
			if seen[e.Node.ID] {
				t.Errorf("note %s answered for two tokens", e.Node.ID)
			}
			seen[e.Node.ID] = true
		}
	}
}

// seedTestHandler builds the app the way newEnvWith does, on db (newEnv
// makes a database of its own).
func seedTestHandler(t *testing.T, getenv func(string) string, db *pgtest.DB) http.Handler {
	t.Helper()
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(&syncBuffer{}, nil))
	a, err := newApp(t.Context(), cfg, logger, db.AppURL, testSecret, deps{Now: time.Now, Mailer: &mailbox{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a.handler
}

// TestAdminSeedRefusesProduction: seed writes throwaway data, so it stops
// before touching a production database, even one configured in full.
func TestAdminSeedRefusesProduction(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"bare", map[string]string{"QUIRE_ENV": "production"}},
		{"configured", map[string]string{
			"QUIRE_ENV": "Production", "DATABASE_URL": "postgres://quire_app@127.0.0.1:1/quire",
			"DATABASE_MIGRATE_URL": "postgres://quire@127.0.0.1:1/quire", "QUIRE_JWT_SECRET": string(testSecret),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"admin", "seed", "--orgs", "1"}, func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if code := exitCode(err, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "refuses to run in production") {
				t.Errorf("stderr %q: want the refusal", stderr.String())
			}
		})
	}
}
