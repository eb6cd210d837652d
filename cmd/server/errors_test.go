package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/quirehq/quire/internal/policy"
)

// TestBadInputChangesNothing sends invalid input of every kind this slice
// accepts: each answers its code, and no note is written.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("careful@example.com", policy.PlatformUser)
	e.createOrg(u, "Careful")
	n := e.createNote(u.bare(), "existing", nil)
	create := `mutation($in: CreateNoteInput!) { createNote(input: $in) { id } }`
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		code  string
	}{
		{"malformed id", `{ note(id: "not-a-uuid") { id } }`, nil, "BAD_USER_INPUT"},
		{"malformed id variable", `query($id: ID!) { note(id: $id) { id } }`, map[string]any{"id": "1234"}, "BAD_USER_INPUT"},
		{"unknown id", `query($id: ID!) { note(id: $id) { id } }`, map[string]any{"id": "01a20588-0000-7000-8000-000000000000"}, "NOT_FOUND"},
		{"title too long", create, map[string]any{"in": map[string]any{"title": strings.Repeat("t", 201), "body": ""}}, "BAD_USER_INPUT"},
		{"blank title", create, map[string]any{"in": map[string]any{"title": "  ", "body": ""}}, "BAD_USER_INPUT"},
		{"body too large", create, map[string]any{"in": map[string]any{"title": "t", "body": strings.Repeat("b", 102401)}}, "BAD_USER_INPUT"},
		{"too many tags", create, map[string]any{"in": map[string]any{"title": "t", "body": "", "tags": strings.Fields("a b c d e f g h i j k l m n o p q r s t u")}}, "BAD_USER_INPUT"},
		{"bad enum", create, map[string]any{"in": map[string]any{"title": "t", "body": "", "visibility": "SECRET"}}, "BAD_USER_INPUT"},
		{"wrong variable type", create, map[string]any{"in": map[string]any{"title": map[string]any{"a": 1}, "body": ""}}, "BAD_USER_INPUT"},
		{"first too large", `{ notes(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"first zero", `{ notes(first: 0) { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"garbage cursor", `{ notes(after: "garbage") { totalCount } }`, nil, "BAD_USER_INPUT"},
		{"unknown field", `{ notes { nope } }`, nil, "BAD_USER_INPUT"},
		{"syntax error", `{ notes { `, nil, "BAD_USER_INPUT"},
		{"unknown action", `{ can(action: "notes:fly") { allowed } }`, nil, "BAD_USER_INPUT"},
		{"stale version", `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 9, input: {title: "x"}) { id } }`, map[string]any{"id": n.ID}, "CONFLICT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(u.bare(), tc.query, tc.vars)
			if got := r.code(t); got != tc.code {
				t.Errorf("code %s (%q), want %s", got, r.Errors[0].Message, tc.code)
			}
		})
	}
	var list struct{ TotalCount int }
	e.post(u.bare(), `{ notes { totalCount } }`, nil).ok(t).decode(t, "notes", &list)
	if list.TotalCount != 1 {
		t.Errorf("%d notes after only bad input, want the 1 that existed", list.TotalCount)
	}
}

// TestUnauthenticated covers every way a credential can be wrong.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("someone@example.com", policy.PlatformUser)
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": u.id.String(), "sid": "01a20588-0000-7000-8000-000000000000", "iss": "quire",
			"aud": "quire-api", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}
		mut(c)
		return c
	}
	sign := func(c jwt.MapClaims, key []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(func(jwt.MapClaims) {})).SignedString(jwt.UnsafeAllowNoneSignatureType)
	cases := []struct{ name, token string }{
		{"no token", ""},
		{"garbage", "garbage"},
		{"alg none", none},
		{"wrong key", sign(claims(func(jwt.MapClaims) {}), []byte("another-secret-another-secret-xx"))},
		{"expired", sign(claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), testSecret)},
		{"no exp", sign(claims(func(c jwt.MapClaims) { delete(c, "exp") }), testSecret)},
		{"wrong audience", sign(claims(func(c jwt.MapClaims) { c["aud"] = "elsewhere" }), testSecret)},
		{"wrong issuer", sign(claims(func(c jwt.MapClaims) { c["iss"] = "elsewhere" }), testSecret)},
		{"unknown session", sign(claims(func(jwt.MapClaims) {}), testSecret)},
		{"not yet valid", sign(claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), testSecret)},
		{"issued in the future", sign(claims(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() }), testSecret)},
		{"tampered payload", tamper(t, u.token)},
		{"API key before keys exist", "qk_0123_abcdef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.post(caller{token: tc.token}, `{ me { id } }`, nil).code(t); got != "UNAUTHENTICATED" {
				t.Errorf("code %s, want UNAUTHENTICATED", got)
			}
		})
	}
	t.Run("login link of a deactivated user", func(t *testing.T) {
		_, link, err := e.app.accounts.CreateWithLink(t.Context(), "gone@example.com", nil, policy.PlatformUser)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.App(t).Exec(t.Context(), `UPDATE users SET status = 'DEACTIVATED' WHERE email = 'gone@example.com'`); err != nil {
			t.Fatal(err)
		}
		r := e.post(caller{}, `mutation($t: String!) { signInWithLink(token: $t) { accessToken } }`, map[string]any{"t": tokenOf(t, link)})
		if got := r.code(t); got != "UNAUTHENTICATED" {
			t.Errorf("code %s, want UNAUTHENTICATED", got)
		}
	})
	t.Run("public fields work with a stale token attached", func(t *testing.T) {
		e.post(caller{token: "stale"}, `mutation { requestLoginLink(email: "x@example.com") }`, nil).ok(t)
	})
	t.Run("deactivated user is refused on the next request", func(t *testing.T) {
		e.post(u.bare(), `{ me { id } }`, nil).ok(t)
		if _, err := e.db.App(t).Exec(t.Context(), `UPDATE users SET status = 'DEACTIVATED' WHERE id = $1`, u.id); err != nil {
			t.Fatal(err)
		}
		if got := e.post(u.bare(), `{ me { id } }`, nil).code(t); got != "UNAUTHENTICATED" {
			t.Errorf("code %s, want UNAUTHENTICATED", got)
		}
	})
}

// tamper swaps the subject of a signed token for another user's id and
// keeps the signature.
func tamper(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	c["sub"] = "01a20588-0000-7000-8000-00000000beef"
	forged, _ := json.Marshal(c)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
}

// TestLimits: every limit of API.md answers QUERY_TOO_COMPLEX naming it,
// and runs nothing.
func TestLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("limits@example.com", policy.PlatformUser)
	e.createOrg(u, "Limits")
	aliases := "{"
	for i := range 16 {
		aliases += fmt.Sprintf(" a%d: me { id }", i)
	}
	aliases += " }"
	cases := []struct{ name, query, limit string }{
		{"aliases", aliases, "aliases"},
		{"tokens", "{ me { " + strings.Repeat("id ", 1000) + "} }", "tokens"},
		{"cost", `{ notes(first: 100) { edges { node { revisions { editedBy { id } } } } } }`, "cost"},
		{"depth", `{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { name } } } } } } } } } } } }`, "depth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(u.bare(), tc.query, nil)
			if got := r.code(t); got != "QUERY_TOO_COMPLEX" || r.Errors[0].Extensions["limit"] != tc.limit {
				t.Errorf("errors %+v, want QUERY_TOO_COMPLEX with limit %s", r.Errors, tc.limit)
			}
			if r.Data != nil {
				t.Errorf("data %v: nothing should have run", r.Data)
			}
		})
	}
	t.Run("mutations are not run", func(t *testing.T) {
		q := "mutation {"
		for i := range 16 {
			q += fmt.Sprintf(` n%d: createNote(input: {title: "t", body: "b"}) { id }`, i)
		}
		e.post(u.bare(), q+" }", nil).code(t)
		var list struct{ TotalCount int }
		e.post(u.bare(), `{ notes { totalCount } }`, nil).ok(t).decode(t, "notes", &list)
		if list.TotalCount != 0 {
			t.Errorf("%d notes written by a refused operation", list.TotalCount)
		}
	})
}

// TestHTTPErrorsBeforeGraphQL: what fails before GraphQL runs keeps the
// {"errors":[…]} shape with a code.
func TestHTTPErrorsBeforeGraphQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cases := []struct {
		name   string
		method string
		body   string
		ctype  string
		status int
		code   string
	}{
		{"not JSON", http.MethodPost, "{not json", "application/json", 400, "BAD_USER_INPUT"},
		{"too large", http.MethodPost, `{"query":"` + strings.Repeat("x", 1<<20) + `"}`, "application/json", 413, "QUERY_TOO_COMPLEX"},
		{"bad method", http.MethodDelete, "", "", 405, "BAD_USER_INPUT"},
		{"wrong content type", http.MethodPost, `{"query":"{ __typename }"}`, "text/plain", 415, "BAD_USER_INPUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), tc.method, "/graphql", bytes.NewBufferString(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			r := e.send(req, caller{})
			if r.Status != tc.status || r.code(t) != tc.code {
				t.Errorf("status %d code %s, want %d %s", r.Status, r.code(t), tc.status, tc.code)
			}
		})
	}
}

// TestIntrospectionAndPersistedQueries: GraphiQL's introspection passes the
// limits in development and is refused in production; an automatic
// persisted query runs over GET by its hash once registered.
func TestIntrospectionAndPersistedQueries(t *testing.T) {
	t.Parallel()
	dev := newEnv(t, nil)
	r := dev.post(caller{}, introspectionQuery, nil).ok(t)
	if !strings.Contains(string(r.Data["__schema"]), `"createNote"`) {
		t.Errorf("introspection does not show the schema")
	}

	prod := newEnv(t, map[string]string{"QUIRE_ENV": "production", "QUIRE_JWT_SECRET": string(testSecret)})
	if got := prod.post(caller{}, `{ __schema { types { name } } }`, nil).code(t); got != "BAD_USER_INPUT" {
		t.Errorf("production introspection: code %s, want BAD_USER_INPUT", got)
	}

	query := `{ permissionCatalog { code } }`
	u := dev.signUp("apq@example.com", policy.PlatformUser)
	sum := sha256.Sum256([]byte(query))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	get := func(withQuery bool) gqlResponse {
		v := url.Values{"extensions": {ext}}
		if withQuery {
			v.Set("query", query)
		}
		return dev.send(httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/graphql?"+v.Encode(), nil), u.bare())
	}
	if r := get(false); len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unregistered hash: %+v, want PersistedQueryNotFound", r.Errors)
	}
	get(true).ok(t)
	r = get(false).ok(t)
	var catalog []struct{ Code string }
	r.decode(t, "permissionCatalog", &catalog)
	if len(catalog) != len(policy.Catalog()) {
		t.Errorf("permissionCatalog has %d entries, want %d", len(catalog), len(policy.Catalog()))
	}
}
