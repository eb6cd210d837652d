package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// notesPageQuery is the peer benchmark's request: the 20 newest live notes
// of the caller's organization, with their authors.
const notesPageQuery = `{"query":"{ notes(first: 20) { edges { node { id title body tags createdAt author { email } } } } }"}`

// BenchmarkNotesFirst20 measures one authorized notes(first: 20) request
// through the whole handler (authn, authz from the database, RLS
// transaction, author loader) on real PostgreSQL.
func BenchmarkNotesFirst20(b *testing.B) {
	e := newEnv(b, nil)
	u := e.signUp("bench@example.com", policy.PlatformUser)
	e.createOrg(u, "Bench")
	body := strings.Repeat("lorem ipsum ", 43) // about 512 bytes, like the peers' rows
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
}
