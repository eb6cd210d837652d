package httpserver_test

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FuzzPrecheck: a POST to /graphql is checked before GraphQL sees it. The
// front door never answers 500; it hands on exactly the requests a plain
// statement of the rule admits (application/json, at most 1 MB, one JSON
// object, UTF-8, an X-Organization-Id that is a UUID if present) with the
// body unchanged, and answers every other one with the GraphQL error shape
// and a code.
func FuzzPrecheck(f *testing.F) {
	fx := newFixture(f, nil)
	f.Add(`{"query":"{ me { id } }"}`, "application/json", "")
	f.Fuzz(func(t *testing.T, body, contentType, org string) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if org != "" {
			r.Header.Set("X-Organization-Id", org)
		}
		before := fx.calls.Load()
		w := fx.do(r)
		if w.Code >= 500 {
			t.Fatalf("status %d for body %q, type %q, org %q", w.Code, body, contentType, org)
		}
		admitted := admits(body, contentType, org)
		if reached := fx.calls.Load() != before; reached != admitted {
			t.Fatalf("body %q, type %q, org %q: handed on %v, the rule says %v (status %d: %s)",
				body, contentType, org, reached, admitted, w.Code, w.Body)
		}
		if !admitted {
			e := decodeError(t, w)
			if code := e.Extensions["code"]; code != "BAD_USER_INPUT" && code != "QUERY_TOO_COMPLEX" {
				t.Fatalf("refusal with code %v", code)
			}
			return
		}
		if s := decodeSeen(t, w); s.Body != body || (org != "" && s.Org != uuid.MustParse(org).String()) {
			t.Fatalf("GraphQL saw body %q, org %q; sent %q, %q", s.Body, s.Org, body, org)
		}
	})
}

// admits is precheck's rule for a POST, stated plainly.
func admits(body, contentType, org string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" || len(body) > 1<<20 {
		return false
	}
	trimmed := bytes.TrimLeft([]byte(body), " \t\r\n")
	if !json.Valid([]byte(body)) || !utf8.ValidString(body) || trimmed[0] != '{' {
		return false
	}
	if org != "" {
		if _, err := uuid.Parse(org); err != nil {
			return false
		}
	}
	return true
}
