package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/policy"
)

// TestDirectAnswersMatchGqlgen holds graph/direct.go to gqlgen: every
// operation of a corpus goes to a server that answers note lists directly
// and to one that sends everything through gqlgen (QUIRE_DIRECT_ANSWERS=off),
// on the same database, and the two answers must be the same bytes, status
// and content type. The corpus covers every field direct writes, aliases,
// fragments, @skip and @include, __typename, cursors, filters, the trash,
// text that needs escaping, and the operations it must leave to gqlgen:
// errors, a field it does not know, a second root field. Each case also
// says whether direct should have answered it, checked on its counter, so
// the test cannot pass by direct never answering.
func TestDirectAnswersMatchGqlgen(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"DATABASE_URL": e.db.AppURL, "DATABASE_MIGRATE_URL": e.db.OwnerURL,
			"QUIRE_RATE_LIMIT": "0", "QUIRE_KEY_RATE_LIMIT": "0", "QUIRE_DB_MAX_CONNS": "4",
			"QUIRE_PUBLIC_URL": "http://quire.test", "QUIRE_DIRECT_ANSWERS": "off",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DirectAnswers {
		t.Fatal("QUIRE_DIRECT_ANSWERS=off left direct answers on")
	}
	gq, err := newApp(t.Context(), cfg, slog.New(slog.DiscardHandler), e.db.AppURL, testSecret,
		deps{Now: time.Now, Mailer: e.mails, RetryDelays: []time.Duration{0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gq.Close)

	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	viewer := e.signUp("viewer@example.com", policy.PlatformUser)
	e.addMember(org, viewer, "viewer")
	writer := e.signUp("writer@example.com", policy.PlatformUser)
	e.addMember(org, writer, "editor")

	texts := []string{
		`quote " and backslash \ and <b>HTML</b> & ampersand`,
		"line\nbreak\ttab\rreturn",
		"unicode é 漢字 🙂 \u2028 separator",
		"plain",
		"control \x1b[1m and \x1f unit",
	}
	var trashed string
	for i := range 24 {
		title := texts[i%len(texts)]
		extra := map[string]any{"tags": []string{"t" + string(rune('a'+i%3)), []string{`q"\`, "é漢🙂", "<&>", "x"}[i%4]}}
		if i%5 == 0 {
			extra["tags"] = []string{}
		}
		c := owner.in(org)
		if i%4 == 1 {
			c = writer.in(org)
		}
		if i%6 == 2 {
			extra["visibility"] = "PRIVATE"
		}
		extra["body"] = "body " + texts[(i+1)%len(texts)]
		n := e.createNote(c, title, extra)
		if i == 3 {
			trashed = n.ID
		}
	}
	e.post(owner.in(org), `mutation($id: ID!) { deleteNote(id: $id) { id } }`, map[string]any{"id": trashed}).ok(t)

	type cvars = map[string]any
	full := `{ __typename totalCount pageInfo { __typename hasNextPage endCursor }
		edges { __typename cursor node { __typename id title body tags visibility version createdAt updatedAt deletedAt
			author { __typename id email displayName platformRole status createdAt } } } }`
	type directCase struct {
		name   string
		c      caller
		query  string
		vars   cvars
		direct bool // direct.go should answer it
		op     string
	}
	cases := []directCase{
		{"benchmark", owner.in(org), `{ notes(first: 20) { edges { node { id title body tags createdAt author { email } } } } }`, nil, true, ""},
		{"every field", owner.in(org), `{ notes(first: 7) ` + full + ` }`, nil, true, ""},
		{"sole organization", viewer.bare(), `{ notes(first: 7) ` + full + ` }`, nil, true, ""},
		{"private notes of the writer", writer.in(org), `{ notes ` + full + ` }`, nil, true, ""},
		{"aliases, fragments, skip and include", owner.in(org), `query($s: Boolean!, $f: Int) {
			list: notes(first: $f) {
				e1: edges { n: node { ...N } }
				e2: edges @include(if: $s) { c: cursor }
				pi: pageInfo { ... on PageInfo { endCursor more: hasNextPage } }
				count: totalCount @skip(if: $s)
			}
		}
		fragment N on Note { t: title ... on Note { id who: author { ... on User { email } } } body @skip(if: $s) }`,
			cvars{"s": true, "f": 3}, true, ""},
		{"the same, flags off", owner.in(org), `query($s: Boolean!, $f: Int) {
			list: notes(first: $f) { e1: edges { n: node { ...N } } e2: edges @include(if: $s) { c: cursor } count: totalCount @skip(if: $s) }
		}
		fragment N on Note { t: title body @skip(if: $s) }`, cvars{"s": false, "f": 2}, true, ""},
		{"tags filter", owner.in(org), `query($t: [String!]) { notes(filter: {tags: $t}) ` + full + ` }`, cvars{"t": []string{"tb"}}, true, ""},
		{"author and visibility filter", writer.in(org), `query($a: ID) { notes(filter: {authorId: $a, visibility: PRIVATE}) ` + full + ` }`, cvars{"a": writer.id.String()}, true, ""},
		{"search", owner.in(org), `{ notes(first: 5, filter: {search: "unicode"}) ` + full + ` }`, nil, true, ""},
		{"trash", owner.in(org), `{ trash ` + full + ` }`, nil, true, ""},
		{"operation chosen by name", owner.in(org), `query Other { me { id } } query Mine { notes(first: 2) { edges { node { id } } } }`, nil, true, "Mine"},
		{"the other operation", owner.in(org), `query Other { me { id } } query Mine { notes(first: 2) { edges { node { id } } } }`, nil, false, "Other"},
		{"empty page", owner.in(org), `{ notes(filter: {tags: ["nothing"]}) ` + full + ` }`, nil, true, ""},

		{"first out of range", owner.in(org), `{ notes(first: 0) { edges { node { id } } } }`, nil, false, ""},
		{"forged cursor", owner.in(org), `{ notes(after: "not-a-cursor") { edges { node { id } } } }`, nil, false, ""},
		{"not signed in", caller{}, `{ notes { edges { node { id } } } }`, nil, false, ""},
		{"no organization", e.signUp("loner@example.com", policy.PlatformUser).bare(), `{ notes { edges { node { id } } } }`, nil, false, ""},
		{"a field direct does not write", owner.in(org), `{ notes(first: 2) { edges { node { id revisions { version } } } } }`, nil, false, ""},
		{"two root fields", owner.in(org), `{ notes(first: 2) { edges { node { id } } } me { id } }`, nil, false, ""},
		{"another root field", owner.in(org), `{ note(id: "` + trashed + `") { id deletedAt } }`, nil, false, ""},
		{"a mutation", owner.in(org), `mutation { createNote(input: {title: "m", body: "b"}) { title } }`, nil, false, ""},
		{"invalid document", owner.in(org), `{ notes { edges { node { nope } } } }`, nil, false, ""},
	}
	// The cursor of the second page comes from the first.
	var first struct {
		Notes struct{ PageInfo struct{ EndCursor string } }
	}
	if err := json.Unmarshal(e.post(owner.in(org), `{ notes(first: 5) { pageInfo { endCursor } } }`, nil).ok(t).rawData(t), &first); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, directCase{"second page", owner.in(org), `query($a: String) { notes(first: 5, after: $a) ` + full + ` }`, cvars{"a": first.Notes.PageInfo.EndCursor}, true, ""})

	for _, tc := range cases {
		before := testutil.ToFloat64(e.app.direct)
		status, ctype, body := rawPost(t, e.handler, tc.c, tc.op, tc.query, tc.vars)
		answered := testutil.ToFloat64(e.app.direct) - before
		gStatus, gCtype, gBody := rawPost(t, gq.handler, tc.c, tc.op, tc.query, tc.vars)
		if status != gStatus || ctype != gCtype || !bytes.Equal(body, gBody) {
			t.Errorf("%s: direct answered\n%d %s %s\ngqlgen answered\n%d %s %s", tc.name, status, ctype, body, gStatus, gCtype, gBody)
		}
		if want := map[bool]float64{true: 1, false: 0}[tc.direct]; answered != want {
			t.Errorf("%s: direct answered %v times, want %v", tc.name, answered, want)
		}
		if tc.direct && (status != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) || !bytes.Contains(body, []byte(`"data":{"`))) {
			t.Errorf("%s: want a plain answer with data, got %d %s", tc.name, status, body)
		}
	}
	if testutil.ToFloat64(gq.direct) != 0 {
		t.Errorf("the server with direct answers off answered %v directly", testutil.ToFloat64(gq.direct))
	}
}

// rawPost sends a GraphQL POST to h and returns the answer as it is.
func rawPost(t *testing.T, h http.Handler, c caller, op, query string, vars map[string]any) (int, string, []byte) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars, "operationName": op})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.org != "" {
		req.Header.Set("X-Organization-Id", c.org)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Content-Type"), bytes.TrimSpace(rec.Body.Bytes())
}

// rawData returns the response's data object as JSON.
func (r gqlResponse) rawData(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
