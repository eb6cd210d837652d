package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/policy"
)

const noteEventsOp = `subscription { noteEvents { kind note { id title visibility version } } }`

// wsMsg is one graphql-transport-ws message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// eventOut is a noteEvents payload.
type eventOut struct {
	Kind string
	Note *struct {
		ID, Title, Visibility string
		Version               int
	}
}

// wsClient speaks graphql-transport-ws to a test server, as a browser
// client would.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
}

// serve starts a real listener for the env's handler.
func (e *env) serve() string {
	e.t.Helper()
	srv := httptest.NewServer(e.handler)
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// dialWS opens /graphql at base and sends connection_init with payload. It
// returns the client and the first message the server answers with, or
// the error reading it (a close).
func dialWS(t testing.TB, base string, payload map[string]any) (*wsClient, wsMsg, error) {
	t.Helper()
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	p, _ := json.Marshal(payload)
	c.write(wsMsg{Type: "connection_init", Payload: p})
	m, err := c.read(5 * time.Second)
	return c, m, err
}

// subscribeAs connects as c (token and organization in connection_init)
// and subscribes to noteEvents with operation id "1".
func subscribeAs(t testing.TB, base string, c caller) *wsClient {
	t.Helper()
	payload := map[string]any{"Authorization": "Bearer " + c.token}
	if c.org != "" {
		payload["X-Organization-Id"] = c.org
	}
	ws, ack, err := dialWS(t, base, payload)
	if err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v, %v", ack, err)
	}
	ws.subscribe("1")
	return ws
}

func (c *wsClient) subscribe(id string) {
	p, _ := json.Marshal(map[string]any{"query": noteEventsOp})
	c.write(wsMsg{ID: id, Type: "subscribe", Payload: p})
}

func (c *wsClient) write(m wsMsg) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	if err := c.conn.Write(c.t.Context(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write %s: %v", m.Type, err)
	}
}

// read returns the next message other than the server's pings (which it
// answers), waiting at most d. A timeout closes the socket (coder/websocket
// does so on a cancelled read), so tests read only what must arrive.
func (c *wsClient) read(d time.Duration) (wsMsg, error) {
	ctx, cancel := context.WithTimeout(c.t.Context(), d)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMsg{}, err
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			return wsMsg{}, err
		}
		if m.Type == "ping" {
			c.write(wsMsg{Type: "pong"})
			continue
		}
		return m, nil
	}
}

// next returns the next event of the subscription, failing on anything else.
func (c *wsClient) next() eventOut {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("no message within 5s: %v", err)
	}
	var p struct {
		Data   struct{ NoteEvents eventOut }
		Errors []gqlError
	}
	if err := json.Unmarshal(m.Payload, &p); m.Type != "next" || err != nil || len(p.Errors) > 0 {
		c.t.Fatalf("want an event, got %s %s", m.Type, m.Payload)
	}
	return p.Data.NoteEvents
}

// ended waits (at most 5 s) for the subscription to end with an error and
// returns its extensions.code.
func (c *wsClient) ended() string {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("the subscription did not end within 5s: %v", err)
	}
	var errs []gqlError
	if m.Type == "next" { // errors in a result, as when subscribing is refused
		var p struct{ Errors []gqlError }
		_ = json.Unmarshal(m.Payload, &p)
		errs = p.Errors
	} else if m.Type == "error" {
		_ = json.Unmarshal(m.Payload, &errs)
	}
	if len(errs) != 1 {
		c.t.Fatalf("want one error, got %s %s", m.Type, m.Payload)
	}
	code, _ := errs[0].Extensions["code"].(string)
	return code
}

// quiet checks that nothing else is pending for the client: a ping is
// answered by the pong only after anything already sent.
func (c *wsClient) quiet() {
	c.t.Helper()
	c.write(wsMsg{Type: "ping"})
	for {
		m, err := c.read(5 * time.Second)
		if err != nil {
			c.t.Fatalf("no pong: %v", err)
		}
		switch m.Type {
		case "pong":
			return
		case "complete":
			continue
		}
		c.t.Fatalf("want nothing more, got %s %s", m.Type, m.Payload)
	}
}

// waitSubscribed blocks until org has n subscribers on e's server, so a
// change made next is delivered.
func (e *env) waitSubscribed(org string, n int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 5*time.Second)
	defer cancel()
	if err := e.app.live.WaitSubscribers(ctx, uuid.MustParse(org), n); err != nil {
		e.t.Fatal(err)
	}
}

const (
	updateNoteOp  = `mutation($id: ID!, $v: Int!, $in: UpdateNoteInput!) { updateNote(id: $id, expectedVersion: $v, input: $in) { id version } }`
	deleteNoteOp  = `mutation($id: ID!) { deleteNote(id: $id) { id } }`
	restoreNoteOp = `mutation($id: ID!) { restoreNote(id: $id) { id } }`
)

func TestNoteEventsDeliverTheOrgsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	member := e.signUp("member@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	other := e.createOrg(owner, "Other")
	e.addMember(acme, member, "editor")
	base := e.serve()
	ws := subscribeAs(t, base, owner.in(acme))
	e.waitSubscribed(acme, 1)

	// The note comes as the subscriber may see it at delivery, so each
	// change is awaited before the next.
	n := e.createNote(owner.in(acme), "Plan", nil)
	changes := []struct {
		kind, title string
		version     int
		change      func()
	}{
		{"CREATED", "Plan", 1, func() {}},
		{"UPDATED", "Plan v2", 2, func() {
			e.post(owner.in(acme), updateNoteOp, map[string]any{"id": n.ID, "v": 1, "in": map[string]any{"title": "Plan v2"}}).ok(t)
		}},
		{"DELETED", "Plan v2", 2, func() { e.post(owner.in(acme), deleteNoteOp, map[string]any{"id": n.ID}).ok(t) }},
		{"RESTORED", "Plan v2", 2, func() { e.post(owner.in(acme), restoreNoteOp, map[string]any{"id": n.ID}).ok(t) }},
	}
	for _, want := range changes {
		want.change()
		got := ws.next()
		if got.Kind != want.kind || got.Note == nil || got.Note.ID != n.ID || got.Note.Title != want.title || got.Note.Version != want.version {
			t.Errorf("got %+v (note %+v), want %s %q v%d", got, got.Note, want.kind, want.title, want.version)
		}
	}

	// None of these may reach the subscriber: another organization's note,
	// another member's PRIVATE note, an update refused as stale (its
	// transaction rolled back). The next change is what arrives next, in
	// commit order.
	e.createNote(owner.in(other), "Elsewhere", nil)
	e.createNote(member.in(acme), "Diary", map[string]any{"visibility": "PRIVATE"})
	r := e.post(owner.in(acme), updateNoteOp, map[string]any{"id": n.ID, "v": 1, "in": map[string]any{"title": "stale"}})
	if code := r.code(t); code != "CONFLICT" {
		t.Fatalf("stale update: %s, want CONFLICT", code)
	}
	visible := e.createNote(member.in(acme), "Shared", nil)
	if got := ws.next(); got.Kind != "CREATED" || got.Note.ID != visible.ID {
		t.Errorf("got %+v %+v, want only the member's shared note", got, got.Note)
	}
	// The author sees their own PRIVATE note's events.
	mine := subscribeAs(t, base, member.in(acme))
	e.waitSubscribed(acme, 2)
	diary := e.createNote(member.in(acme), "Diary 2", map[string]any{"visibility": "PRIVATE"})
	if got := mine.next(); got.Note.ID != diary.ID || got.Note.Visibility != "PRIVATE" {
		t.Errorf("author got %+v %+v, want their PRIVATE note", got, got.Note)
	}
	ws.quiet()
}

// TestNoteEventsEndWhenReadingIsRevoked: losing notes:read in any way ends
// the subscription with an error within 5 seconds (at the next event if
// one comes first), and nothing is delivered after it.
func TestNoteEventsEndWhenReadingIsRevoked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// poke: a change follows the revocation at once, so the very next
		// event must be refused; otherwise the periodic check ends it.
		poke   bool
		code   string
		revoke func(e *env, admin, owner, member user, org string)
	}{
		{"removed", true, "FORBIDDEN", func(e *env, _, owner, member user, org string) {
			e.post(owner.in(org), removeMemberOp, map[string]any{"u": member.id}).ok(e.t)
		}},
		{"role without notes:read", false, "FORBIDDEN", func(e *env, _, owner, member user, org string) {
			var role struct{ ID string }
			e.post(owner.in(org), `mutation($in: CreateRoleInput!) { createRole(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"key": "directory", "name": "Directory", "permissions": []string{"members:read"}}}).
				ok(e.t).decode(e.t, "createRole", &role)
			e.post(owner.in(org), setMemberRolesOp, setRolesVars(member.id, role.ID)).ok(e.t)
		}},
		{"notes module disabled", false, "FORBIDDEN", func(e *env, admin, _, _ user, org string) {
			e.post(admin.bare(), setModulesOp, map[string]any{"id": org, "m": []string{"core"}}).ok(e.t)
		}},
		{"deactivated", false, "UNAUTHENTICATED", func(e *env, admin, _, member user, _ string) {
			e.post(admin.bare(), deactivateOp, map[string]any{"id": member.id, "why": "left"}).ok(e.t)
		}},
		{"signed out", true, "UNAUTHENTICATED", func(e *env, _, _, member user, _ string) {
			e.post(member.bare(), `mutation { signOut }`, nil).ok(e.t)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			admin := e.signUp("admin@example.com", policy.PlatformAdmin)
			owner := e.signUp("owner@example.com", policy.PlatformUser)
			member := e.signUp("member@example.com", policy.PlatformUser)
			org := e.createOrg(owner, "Acme")
			e.addMember(org, member, "editor")
			base := e.serve()
			ws := subscribeAs(t, base, member.in(org))
			e.waitSubscribed(org, 1)
			e.createNote(owner.in(org), "Before", nil)
			if got := ws.next(); got.Note.Title != "Before" {
				t.Fatalf("got %+v", got)
			}

			tc.revoke(e, admin, owner, member, org)
			if tc.poke {
				e.createNote(owner.in(org), "Right after", nil)
			}
			start := time.Now()
			if code := ws.ended(); code != tc.code {
				t.Errorf("ended with %s, want %s", code, tc.code)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("ended after %s, want within 5s", d)
			}
			// A witness on the same organization receives a later change;
			// the ended subscriber receives nothing, even once the module is
			// back.
			e.post(admin.bare(), setModulesOp, map[string]any{"id": org, "m": []string{"core", "notes"}}).ok(t)
			witness := subscribeAs(t, base, owner.in(org))
			e.waitSubscribed(org, 1)
			e.createNote(owner.in(org), "After", nil)
			if got := witness.next(); got.Note.Title != "After" {
				t.Errorf("witness got %+v", got)
			}
			ws.quiet()
		})
	}
}

func TestNoteEventsRefuseBadCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	base := e.serve()
	cases := []struct {
		name    string
		payload map[string]any
	}{
		{"no payload", nil},
		{"no token", map[string]any{"X-Organization-Id": acme}},
		{"tampered token", map[string]any{"Authorization": "Bearer " + tamper(t, owner.token)}},
		{"unknown API key", map[string]any{"authorization": "Bearer qk_" + uuid.NewString() + "_nope"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, m, err := dialWS(t, base, tc.payload)
			if got := websocket.CloseStatus(err); got != 4403 {
				t.Errorf("got message %+v, close %v (%d), want close 4403", m, err, got)
			}
		})
	}
	// Keys are matched regardless of case, and an API key works as on HTTP.
	_, key := e.createKey(owner.in(acme), "live", "notes:read")
	ws, ack, err := dialWS(t, base, map[string]any{"AUTHORIZATION": "Bearer " + key.token, "x-organization-id": acme})
	if err != nil || ack.Type != "connection_ack" {
		t.Fatalf("API key: %+v %v", ack, err)
	}
	ws.subscribe("k")
	e.waitSubscribed(acme, 1)
	e.createNote(owner.in(acme), "For the key", nil)
	if got := ws.next(); got.Note.Title != "For the key" {
		t.Errorf("key got %+v", got)
	}
}

// TestNoteEventsNeedAWebsocketAndPermission: subscribing over POST, or
// without notes:read, answers an error and completes.
func TestNoteEventsNeedAWebsocketAndPermission(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	outsider := e.signUp("outsider@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	e.addMember(acme, outsider, "viewer")
	var role struct{ ID string }
	e.post(owner.in(acme), `mutation($in: CreateRoleInput!) { createRole(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"key": "directory", "name": "Directory", "permissions": []string{"members:read"}}}).
		ok(t).decode(t, "createRole", &role)
	e.post(owner.in(acme), setMemberRolesOp, setRolesVars(outsider.id, role.ID)).ok(t)
	if code := e.post(owner.in(acme), noteEventsOp, nil).code(t); code != "BAD_USER_INPUT" {
		t.Errorf("over POST: %s, want BAD_USER_INPUT", code)
	}
	ws := subscribeAs(t, e.serve(), outsider.in(acme))
	if code := ws.ended(); code != "FORBIDDEN" {
		t.Errorf("without notes:read: %s, want FORBIDDEN", code)
	}
}

func TestNoteEventsSubscriptionLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"QUIRE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2", "QUIRE_MAX_SUBSCRIPTIONS_PER_USER": "3"})
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	base := e.serve()
	ws := subscribeAs(t, base, owner.in(acme))
	ws.subscribe("2")
	e.waitSubscribed(acme, 2)
	ws.subscribe("3")
	if code := ws.ended(); code != "RATE_LIMITED" {
		t.Errorf("third on one connection: %s, want RATE_LIMITED", code)
	}
	other := subscribeAs(t, base, owner.in(acme))
	e.waitSubscribed(acme, 3)
	other.subscribe("2")
	if code := other.ended(); code != "RATE_LIMITED" {
		t.Errorf("fourth for the user: %s, want RATE_LIMITED", code)
	}
}

// TestNoteEventsAcrossServers: two server processes on one database, each
// with its own listener, deliver each other's changes.
func TestNoteEventsAcrossServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	second := e.secondServer()
	ws1 := subscribeAs(t, e.serve(), owner.in(acme))
	ws2 := subscribeAs(t, second.serve(), owner.in(acme))
	e.waitSubscribed(acme, 1)
	second.waitSubscribed(acme, 1)

	a := e.createNote(owner.in(acme), "On server one", nil)
	b := second.createNote(owner.in(acme), "On server two", nil)
	for name, ws := range map[string]*wsClient{"one": ws1, "two": ws2} {
		var got []string
		for range 2 {
			got = append(got, ws.next().Note.ID)
		}
		if !slices.Equal(got, []string{a.ID, b.ID}) {
			t.Errorf("server %s delivered %v, want %v", name, got, []string{a.ID, b.ID})
		}
	}
}

// secondServer is another Quire process on e's database: its own pool,
// hub and listening connection.
func (e *env) secondServer() *env {
	e.t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": e.db.AppURL, "DATABASE_MIGRATE_URL": e.db.OwnerURL,
			"QUIRE_RATE_LIMIT": "0", "QUIRE_KEY_RATE_LIMIT": "0", "QUIRE_PUBLIC_URL": "http://quire.test"}[k]
	})
	if err != nil {
		e.t.Fatal(err)
	}
	two := &env{t: e.t, db: e.db, mails: &mailbox{}, log: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(two.log, nil))
	two.app, err = newApp(e.t.Context(), cfg, logger, e.db.AppURL, testSecret,
		deps{Now: time.Now, Mailer: two.mails, RetryDelays: []time.Duration{0}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(two.app.Close)
	two.handler, two.store = two.app.handler, two.app.store
	return two
}

// BenchmarkNoteEventDelay measures, over at least 1,000 events, the time
// from sending updateNote to the subscriber receiving its event: the
// mutation's own handling (and its commit) plus NOTIFY → listener → hub →
// re-authorisation and load → websocket. Reported as p50-ms and p99-ms.
func BenchmarkNoteEventDelay(b *testing.B) {
	e := newEnv(b, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	n := e.createNote(owner.in(acme), "Bench", nil)
	ws := subscribeAs(b, e.serve(), owner.in(acme))
	e.waitSubscribed(acme, 1)
	events := max(b.N, 1000)
	delays := make([]time.Duration, 0, events)
	b.ResetTimer()
	for i := range events {
		start := time.Now()
		e.post(owner.in(acme), updateNoteOp, map[string]any{"id": n.ID, "v": i + 1, "in": map[string]any{"body": "v"}}).ok(b)
		if got := ws.next(); got.Note.Version != i+2 {
			b.Fatalf("event %d: version %d", i, got.Note.Version)
		}
		delays = append(delays, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(delays)
	ms := func(q float64) float64 {
		return float64(delays[int(q*float64(len(delays)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(float64(len(delays)), "events")
}

// TestNodeExampleReceivesAnEvent runs examples/live-notes/subscribe.mjs
// (the README's example for browser apps, with the npm graphql-ws client)
// against a real listener and makes a change for it to receive.
func TestNodeExampleReceivesAnEvent(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the Node example needs %s, which is not installed: %v", tool, err)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "subscribe.mjs"} {
		b, err := os.ReadFile(filepath.Join("../../examples/live-notes", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ci := exec.CommandContext(t.Context(), "npm", "ci", "--no-audit", "--no-fund")
	ci.Dir = dir
	if out, err := ci.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}

	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	base := e.serve()
	cmd := exec.CommandContext(t.Context(), "node", "subscribe.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "QUIRE_URL="+base, "QUIRE_TOKEN="+owner.token, "QUIRE_ORG="+acme,
		"NO_PROXY=*", "no_proxy=*")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := e.app.live.WaitSubscribers(ctx, uuid.MustParse(acme), 1); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	n := e.createNote(owner.in(acme), "Seen from Node", nil)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node subscribe.mjs: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("node subscribe.mjs did not exit\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
	var got eventOut
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got.Kind != "CREATED" || got.Note == nil || got.Note.ID != n.ID {
		t.Errorf("the script printed %q (%v), want the CREATED event of %s", stdout.String(), err, n.ID)
	}
}
