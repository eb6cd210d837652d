package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
)

// BenchmarkNotesFirst20Pooled is BenchmarkNotesFirst20 (one client, one
// request at a time) with the app pool straight on PostgreSQL in pgx's
// default exec mode, and through PgBouncer in transaction mode with the
// exec mode docs/deployment.md gives: what the pooler and cache_describe
// cost a request.
func BenchmarkNotesFirst20Pooled(b *testing.B) {
	for _, tc := range []struct {
		name    string
		bouncer bool
		mode    string
	}{
		{"direct/cache_statement", false, ""},
		{"direct/" + pgtest.BouncerExecMode, false, pgtest.BouncerExecMode},
		{"pgbouncer/" + pgtest.BouncerExecMode, true, pgtest.BouncerExecMode},
	} {
		b.Run(tc.name, func(b *testing.B) {
			db := pgtest.New(b)
			pgb := db.Bouncer(b, pgtest.BouncerOptions{PoolSize: 2})
			dbURL := pgb.URL(tc.mode)
			if !tc.bouncer {
				dbURL = withExecMode(b, db.AppURL, tc.mode)
			}
			e := newReplica(b, db, pgb, map[string]string{"DATABASE_URL": dbURL})
			u := e.signUp("bench@example.com", policy.PlatformUser)
			e.createOrg(u, "Bench")
			body := strings.Repeat("lorem ipsum ", 43)
			for i := range 100 {
				e.createNote(u.bare(), fmt.Sprintf("note %d", i), map[string]any{"body": body, "tags": []string{"a", "b"}})
			}
			do := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewBufferString(notesPageQuery))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+u.token)
				rec := httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				return rec
			}
			if rec := do(); rec.Code != 200 || strings.Contains(rec.Body.String(), `"errors"`) || strings.Count(rec.Body.String(), `"email"`) != 20 {
				b.Fatalf("warm-up request: %d %s", rec.Code, rec.Body.String())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if rec := do(); rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// withExecMode is raw with pgx's default_query_exec_mode set to mode ("" leaves
// pgx's default).
func withExecMode(tb testing.TB, raw, mode string) string {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	if mode != "" {
		q := u.Query()
		q.Set("default_query_exec_mode", mode)
		u.RawQuery = q.Encode()
	}
	return u.String()
}
