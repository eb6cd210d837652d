package main

// The abuse suite: what a hostile or broken client sends, end to end through
// the real handler, in production configuration. Every refusal has a
// client's code (BAD_USER_INPUT or QUERY_TOO_COMPLEX), never INTERNAL or a
// 500; a refused write changes nothing; and the server answers the next
// client normally.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/httpserver"
	"github.com/quirehq/quire/internal/policy"
)

// production is the configuration TestIntrospectionAndPersistedQueries
// serves production with.
var production = map[string]string{"QUIRE_ENV": "production", "QUIRE_JWT_SECRET": string(testSecret)}

// rawPost sends body byte for byte, so a test can send what json.Marshal
// would repair, such as invalid UTF-8.
func (e *env) rawPost(c caller, body []byte) gqlResponse {
	e.t.Helper()
	req := httptest.NewRequestWithContext(e.t.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.send(req, c)
}

// rawRequest is a GraphQL request body whose variables are JSON strings
// written by rawJSONString: bytes that are not UTF-8 stay as they are.
func rawRequest(query string, vars map[string]string) []byte {
	var b strings.Builder
	b.WriteString(`{"query":` + rawJSONString(query) + `,"variables":{`)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	slices.Sort(names)
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(rawJSONString(k) + ":" + rawJSONString(vars[k]))
	}
	b.WriteString("}}")
	return []byte(b.String())
}

// rawJSONString quotes s as a JSON string, escaping only what JSON requires.
func rawJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// refused fails unless r is one error with a client's code (not INTERNAL),
// and no data.
func refused(t testing.TB, r gqlResponse, codes ...string) {
	t.Helper()
	if len(codes) == 0 {
		codes = []string{"BAD_USER_INPUT"}
	}
	if r.Status >= 500 || len(r.Errors) == 0 {
		t.Fatalf("status %d, errors %+v: want a refusal with %v", r.Status, r.Errors, codes)
	}
	for _, ge := range r.Errors {
		if code := ge.Extensions["code"].(string); !slices.Contains(codes, code) {
			t.Fatalf("error %q with code %s, want one of %v", ge.Message, code, codes)
		}
	}
	for field, v := range r.Data {
		if string(v) != "null" {
			t.Fatalf("data.%s = %s: nothing should have run", field, v)
		}
	}
}

// noteCount is how many live notes c's organization has.
func (e *env) noteCount(c caller) int {
	e.t.Helper()
	var n struct{ TotalCount int }
	e.post(c, `{ notes { totalCount } }`, nil).ok(e.t).decode(e.t, "notes", &n)
	return n.TotalCount
}

// stillServes fails unless a normal request succeeds and nothing became an
// INTERNAL error along the way (the presenter logs every one).
func (e *env) stillServes(c caller) {
	e.t.Helper()
	e.post(c, `{ me { id } }`, nil).ok(e.t)
	if strings.Contains(e.log.String(), `"msg":"internal error"`) {
		e.t.Errorf("an INTERNAL error was logged:\n%s", e.log)
	}
}

// TestAbuseNoSuggestionsInProduction: "Did you mean …?" names the schema's
// fields, arguments, types and enum values, which production does not
// show (introspection is off: TestIntrospectionAndPersistedQueries). The
// same misspellings get suggestions in development, so each case can fail.
func TestAbuseNoSuggestionsInProduction(t *testing.T) {
	t.Parallel()
	dev, prod := newEnv(t, nil), newEnv(t, production)
	devUser, prodUser := dev.signUp("dev@example.com", policy.PlatformUser), prod.signUp("prod@example.com", policy.PlatformUser)
	dev.createOrg(devUser, "Dev")
	prod.createOrg(prodUser, "Prod")
	cases := []struct {
		name, query string
		vars        map[string]any
		hint        string // what a suggestion would reveal
	}{
		{"field", `{ notes { totalCont } }`, nil, `"totalCount"`},
		{"root field", `{ noets { totalCount } }`, nil, `"notes"`},
		{"argument", `{ notes(frist: 1) { totalCount } }`, nil, `"first"`},
		{"type", `{ me { ...F } } fragment F on Usr { id }`, nil, `"User"`},
		{"enum value", `mutation { createNote(input: {title: "t", body: "b", visibility: PRIVAT}) { id } }`, nil, `"PRIVATE"`},
		{"enum as string", `mutation { createNote(input: {title: "t", body: "b", visibility: "PRIVATE"}) { id } }`, nil, "Did you mean"},
		{"input field", `{ notes(filter: {serch: "x"}) { totalCount } }`, nil, `"search"`},
		{"selection missing", `{ notes }`, nil, "{ ... }"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := dev.post(devUser.bare(), tc.query, tc.vars); !strings.Contains(fmt.Sprint(r.Errors), "Did you mean") {
				t.Fatalf("development: %+v, want a suggestion (else this case proves nothing)", r.Errors)
			}
			r := prod.post(prodUser.bare(), tc.query, tc.vars)
			refused(t, r)
			for _, ge := range r.Errors {
				if strings.Contains(ge.Message, "Did you mean") || strings.Contains(ge.Message, tc.hint) {
					t.Errorf("production error %q suggests %s", ge.Message, tc.hint)
				}
			}
		})
	}
	if got := prod.post(prodUser.bare(), `{ __type(name: "Note") { name } }`, nil).code(t); got != "BAD_USER_INPUT" {
		t.Errorf("production __type: code %s, want BAD_USER_INPUT", got)
	}
	prod.stillServes(prodUser.bare())
}

// TestAbuseBatchesRefused: a JSON array body (several operations in one
// request) is refused whole, before GraphQL parses any of it, whatever its
// length: the limits of API.md bound one operation, and a batch would
// multiply them. Nothing in a refused batch runs.
func TestAbuseBatchesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production)
	u := e.signUp("batch@example.com", policy.PlatformUser)
	e.createOrg(u, "Batch")
	op := `{"query":"mutation { createNote(input: {title: \"batched\", body: \"\"}) { id } }"}`
	for _, n := range []int{1, 2, 10_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := e.rawPost(u.bare(), []byte("["+strings.TrimSuffix(strings.Repeat(op+",", n), ",")+"]"))
			refused(t, r)
			if r.Status != http.StatusBadRequest || r.Errors[0].Message != "batched requests are not supported" {
				t.Errorf("status %d, %+v: want 400 \"batched requests are not supported\"", r.Status, r.Errors)
			}
		})
	}
	if n := e.noteCount(u.bare()); n != 0 {
		t.Errorf("%d notes written by refused batches", n)
	}
	e.stillServes(u.bare())
}

// TestAbuseHugeAndDeepInput: oversized variables and deeply nested input
// (JSON variables and GraphQL literals) are refused with a client's code,
// and no note is written.
func TestAbuseHugeAndDeepInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production)
	u := e.signUp("huge@example.com", policy.PlatformUser)
	e.createOrg(u, "Huge")
	e.createNote(u.bare(), "existing", nil)
	create := `mutation($in: CreateNoteInput!) { createNote(input: $in) { id } }`
	manyTags := make([]string, 100_000)
	for i := range manyTags {
		manyTags[i] = fmt.Sprint("t", i)
	}
	nested := func(depth int, open, leaf, close string) string {
		return strings.Repeat(open, depth) + leaf + strings.Repeat(close, depth)
	}
	wrap := func(in string) []byte {
		return []byte(`{"query":"` + create + `","variables":{"in":` + in + `}}`)
	}
	cases := []struct {
		name  string
		send  func() gqlResponse
		codes []string
	}{
		{"900 KB title", func() gqlResponse {
			return e.post(u.bare(), create, map[string]any{"in": map[string]any{"title": strings.Repeat("t", 900_000), "body": ""}})
		}, nil},
		{"900 KB body", func() gqlResponse {
			return e.post(u.bare(), create, map[string]any{"in": map[string]any{"title": "t", "body": strings.Repeat("b", 900_000)}})
		}, nil},
		{"100,000 tags", func() gqlResponse {
			return e.post(u.bare(), create, map[string]any{"in": map[string]any{"title": "t", "body": "", "tags": manyTags}})
		}, nil},
		{"100,000 tags in a filter", func() gqlResponse {
			return e.post(u.bare(), `query($t: [String!]) { notes(filter: {tags: $t}) { totalCount } }`, map[string]any{"t": manyTags})
		}, nil},
		{"input object nested 10,000 deep", func() gqlResponse {
			return e.rawPost(u.bare(), wrap(nested(10_000, `{"title":`, `"t"`, `}`)))
		}, nil},
		{"input object nested 9,000 deep", func() gqlResponse {
			return e.rawPost(u.bare(), wrap(nested(9_000, `{"title":`, `"t"`, `}`)))
		}, nil},
		{"tag list nested 9,000 deep", func() gqlResponse {
			return e.rawPost(u.bare(), wrap(`{"title":"t","body":"","tags":`+nested(9_000, `[`, `"t"`, `]`)+`}`))
		}, nil},
		{"filter nested 9,000 deep", func() gqlResponse {
			body := `{"query":"query($f: NoteFilter) { notes(filter: $f) { totalCount } }","variables":{"f":` +
				nested(9_000, `{"search":`, `"x"`, `}`) + `}}`
			return e.rawPost(u.bare(), []byte(body))
		}, nil},
		{"list literal nested 400 deep", func() gqlResponse {
			return e.post(u.bare(), `mutation { createNote(input: {title: "t", body: "", tags: `+nested(400, "[", `"t"`, "]")+`}) { id } }`, nil)
		}, nil},
		{"list literal nested 10,000 deep", func() gqlResponse {
			return e.post(u.bare(), `mutation { createNote(input: {title: "t", body: "", tags: `+nested(10_000, "[", `"t"`, "]")+`}) { id } }`, nil)
		}, []string{"QUERY_TOO_COMPLEX"}},
		{"object literal nested 10,000 deep", func() gqlResponse {
			return e.post(u.bare(), `{ notes(filter: `+nested(10_000, "{search: ", `"x"`, "}")+`) { totalCount } }`, nil)
		}, []string{"QUERY_TOO_COMPLEX"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, tc.send(), tc.codes...)
		})
	}
	if n := e.noteCount(u.bare()); n != 1 {
		t.Errorf("%d notes after only refused writes, want the 1 that existed", n)
	}
	e.stillServes(u.bare())
}

// TestAbuseUnicode: each awkward string in each text a client sends is
// either stored and read back exactly or refused with BAD_USER_INPUT; NUL
// (which PostgreSQL's text cannot hold) and invalid UTF-8 (sent as raw
// bytes, which JSON forbids) are refused, and so are invisible characters
// in an email address, where they would make two addresses look alike.
func TestAbuseUnicode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	e.createOrg(admin, "Unicode")
	c := admin.bare()
	values := []struct {
		name, v      string
		stored       bool // in titles, bodies, tags, names, search
		storedInMail bool
	}{
		{"NUL", "a\x00b", false, false},
		{"invalid UTF-8", "caf\xe9", false, false},
		{"RTL override", "\u202etxt.exe", true, false},
		{"zero-width joiner", "\U0001F468\u200d\U0001F469\u200d\U0001F467", true, false},
		{"combining mark", "jose\u0301", true, true},
		{"4-byte emoji", "\U0001D11E\U0001F389", true, true},
	}
	type probe struct {
		field string
		query string
		vars  func(v string) map[string]string
		read  func(t *testing.T, r gqlResponse) string // the value as stored
	}
	noteField := func(name string) func(*testing.T, gqlResponse) string {
		return func(t *testing.T, r gqlResponse) string {
			var n noteOut
			r.decode(t, "createNote", &n)
			again := e.post(c, `query($id: ID!) { note(id: $id) { `+noteFields+` } }`, map[string]any{"id": n.ID}).ok(t)
			var m noteOut
			again.decode(t, "note", &m)
			got := map[string]string{"title": m.Title, "body": m.Body, "tags": strings.Join(m.Tags, ",")}[name]
			if want := map[string]string{"title": n.Title, "body": n.Body, "tags": strings.Join(n.Tags, ",")}[name]; got != want {
				t.Errorf("%s read back as %q, answered %q", name, got, want)
			}
			return got
		}
	}
	userField := func(name string) func(*testing.T, gqlResponse) string {
		return func(t *testing.T, r gqlResponse) string {
			var u userOut
			r.decode(t, "registerUser", &u)
			if name == "email" {
				return strings.TrimSuffix(u.Email, "@example.com")
			}
			return *u.DisplayName
		}
	}
	createNote := `mutation($t: String!, $b: String!, $g: String!) { createNote(input: {title: $t, body: $b, tags: [$g]}) { ` + noteFields + ` } }`
	probes := []probe{
		{"title", createNote, func(v string) map[string]string { return map[string]string{"t": v, "b": "", "g": "x"} }, noteField("title")},
		{"body", createNote, func(v string) map[string]string { return map[string]string{"t": "t", "b": v, "g": "x"} }, noteField("body")},
		{"tags", createNote, func(v string) map[string]string { return map[string]string{"t": "t", "b": "", "g": v} }, noteField("tags")},
		{"search", `query($s: String!) { notes(filter: {search: $s}) { totalCount } }`,
			func(v string) map[string]string { return map[string]string{"s": v} }, nil},
		{"email", `mutation($e: String!) { registerUser(email: $e) { ` + userFields + ` } }`,
			func(v string) map[string]string { return map[string]string{"e": v + "@example.com"} }, userField("email")},
		{"displayName", `mutation($e: String!, $n: String) { registerUser(email: $e, displayName: $n) { ` + userFields + ` } }`,
			func(v string) map[string]string {
				return map[string]string{"e": fmt.Sprintf("%x@example.com", v), "n": v}
			}, userField("displayName")},
	}
	for _, p := range probes {
		for _, val := range values {
			t.Run(p.field+"/"+val.name, func(t *testing.T) {
				before := e.noteCount(c)
				r := e.rawPost(c, rawRequest(p.query, p.vars(val.v)))
				stored := val.stored
				if p.field == "email" {
					stored = val.storedInMail
				}
				if !stored {
					refused(t, r)
					if after := e.noteCount(c); after != before {
						t.Errorf("%d notes after a refusal, want %d", after, before)
					}
					return
				}
				r.ok(t)
				if p.read != nil {
					if got := p.read(t, r); got != val.v {
						t.Errorf("stored %q, sent %q", got, val.v)
					}
				}
			})
		}
	}
	t.Run("NUL in a GraphQL literal", func(t *testing.T) {
		refused(t, e.post(c, `mutation { createNote(input: {title: "a\u0000b", body: ""}) { id } }`, nil))
	})
	t.Run("invalid UTF-8 in a GET query", func(t *testing.T) {
		q := url.Values{"query": {"{ notes(filter: {search: \"caf\xe9\"}) { totalCount } }"}}
		refused(t, e.send(httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/graphql?"+q.Encode(), nil), c))
	})
	e.stillServes(c)
}

// TestAbuseNULEverywhere: every other text a client can send with a NUL in
// it. Each of these answered INTERNAL before the validators refused NUL.
func TestAbuseNULEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production)
	admin := e.signUp("nul@example.com", policy.PlatformAdmin)
	other := e.signUp("other@example.com", policy.PlatformUser)
	e.createOrg(admin, "NUL")
	c := admin.bare()
	cases := []struct{ name, query string }{
		{"organization name", `mutation { createOrganization(input: {name: "a\u0000b"}) { id } }`},
		{"organization rename", `mutation { updateOrganization(input: {name: "a\u0000b"}) { id } }`},
		{"role name", `mutation { createRole(input: {key: "nul", name: "a\u0000b", permissions: ["notes:read"]}) { id } }`},
		{"API key name", `mutation { createApiKey(input: {name: "a\u0000b", permissions: ["notes:read"]}) { secret } }`},
		{"tag filter", `{ notes(filter: {tags: ["a\u0000b"]}) { totalCount } }`},
		{"audit action filter", `{ auditEvents(filter: {action: "a\u0000b"}) { totalCount } }`},
		{"user search", `{ users(query: "a\u0000b") { totalCount } }`},
		{"deactivation reason", `mutation { deactivateUser(userId: "` + other.id.String() + `", reason: "a\u0000b") { id } }`},
		{"email", `mutation { requestLoginLink(email: "a\u0000b@example.com") }`},
		{"invitation email", `mutation { inviteMember(input: {email: "a\u0000b@example.com", roleIds: []}) { id } }`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, e.post(c, tc.query, nil))
		})
	}
	e.stillServes(c)
}

// TestAbuseForgedCursors: cursors are opaque, but a client can forge one.
// A time PostgreSQL cannot hold and a rank ts_rank_cd never gives are
// BAD_USER_INPUT on every list, not INTERNAL.
func TestAbuseForgedCursors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production)
	admin := e.signUp("cursor@example.com", policy.PlatformAdmin)
	e.createOrg(admin, "Cursors")
	e.createNote(admin.bare(), "a note", nil)
	cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	id := "01a20588-0000-7000-8000-000000000000"
	lists := map[string]string{
		"notes":       `query($a: String) { notes(after: $a) { totalCount } }`,
		"trash":       `query($a: String) { trash(after: $a) { totalCount } }`,
		"members":     `query($a: String) { members(after: $a) { totalCount } }`,
		"auditEvents": `query($a: String) { auditEvents(after: $a) { totalCount } }`,
		"users":       `query($a: String) { users(after: $a) { totalCount } }`,
		"search":      `query($a: String) { notes(after: $a, filter: {search: "note"}) { totalCount } }`,
	}
	forged := map[string]string{
		"before 4713 BC":       cursor("-300000000000000000:" + id),
		"after 294276 AD":      cursor("300000000000000000:" + id),
		"smallest int64":       cursor("-9223372036854775808:" + id),
		"NaN rank":             cursor("1740830400000000:" + id + ":NaN"),
		"infinite rank":        cursor("1740830400000000:" + id + ":+Inf"),
		"rank past float32":    cursor("1740830400000000:" + id + ":1e39"),
		"not base64":           "garbage!",
		"timestamp not number": cursor("now:" + id),
	}
	for list, query := range lists {
		for name, after := range forged {
			t.Run(list+"/"+name, func(t *testing.T) {
				refused(t, e.post(admin.bare(), query, map[string]any{"a": after}))
			})
		}
	}
	e.stillServes(admin.bare())
}

// TestAbuseSlowClients: clients that trickle their request hold a
// connection each, on the real serve path (httpserver.ServeListener on a
// socket). The server keeps answering another client while they trickle,
// and cuts a client still sending headers at the header timeout, and one
// still sending its body at the read timeout (QUIRE_HTTP_READ_TIMEOUT; 2 s
// and 3 s here, to keep the test short).
func TestAbuseSlowClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production)
	u := e.signUp("slow@example.com", policy.PlatformUser)
	e.createOrg(u, "Slow")
	addr := serveOnSocket(t, e.handler)

	const slowHeaders, slowBodies = 20, 5
	var stops []func()
	cut := make(chan error, slowHeaders+slowBodies)
	for range slowHeaders {
		conn, stop := trickle(t, addr, "POST /graphql HTTP/1.1\r\nHost: quire.test\r\nX-Slow: ")
		stops = append(stops, stop)
		go func() { cut <- waitClosed(conn, 30*time.Second) }()
	}
	for range slowBodies {
		conn, stop := trickle(t, addr, "POST /graphql HTTP/1.1\r\nHost: quire.test\r\n"+
			"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"query\":\"")
		stops = append(stops, stop)
		go func() { cut <- waitClosed(conn, 30*time.Second) }()
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()

	// Every slow client has sent its first bytes: the server holds 25
	// connections in the middle of a request.
	meOverSocket(t, addr, u)
	for range slowHeaders + slowBodies {
		if err := <-cut; err != nil {
			t.Errorf("a client trickling its request: %v", err)
		}
	}
	meOverSocket(t, addr, u)
	e.stillServes(u.bare())
}

// serveOnSocket serves h as `quire serve` does, on a free local port, until
// the test ends, and returns the address.
func serveOnSocket(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpserver.ServeListener(ctx, ln, h, nil,
			httpserver.Timeouts{ReadHeader: 2 * time.Second, Read: 3 * time.Second})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// trickle opens a connection, sends start, and from then on one more byte
// every 50 ms until stop is called or the server closes the connection.
// It returns once start is written.
func trickle(t *testing.T, addr, start string) (net.Conn, func()) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, start); err != nil {
		t.Fatal(err)
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return // the server cut us
				}
			}
		}
	}()
	return conn, func() {
		close(quit)
		<-done
		conn.Close()
	}
}

// waitClosed reads conn until the server closes it, and fails if that takes
// longer than limit. The server answers nothing to a request it timed out.
func waitClosed(conn net.Conn, limit time.Duration) error {
	if err := conn.SetReadDeadline(time.Now().Add(limit)); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, conn)
	switch {
	case err == nil, errors.Is(err, syscall.ECONNRESET):
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("the server did not close the connection within %v", limit)
	}
	return err
}

// meOverSocket asks `{ me { id } }` over a fresh connection and fails
// unless u gets their id back.
func meOverSocket(t *testing.T, addr string, u user) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/graphql",
		strings.NewReader(`{"query":"{ me { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.token)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("a normal client beside slow ones: %v", err)
	}
	defer res.Body.Close()
	var r struct {
		Data struct{ Me struct{ ID string } }
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != http.StatusOK || r.Data.Me.ID != u.id.String() {
		t.Fatalf("a normal client beside slow ones: status %d, %+v, %v", res.StatusCode, r, err)
	}
}
