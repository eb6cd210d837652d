package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	createNoteOp = `mutation($in: CreateNoteInput!) { createNote(input: $in) { ` + noteFields + ` } }`
	updateNoteOp = `mutation($id: ID!, $v: Int!, $in: UpdateNoteInput!) { updateNote(id: $id, expectedVersion: $v, input: $in) { ` + noteFields + ` } }`
	noteOp       = `query($id: ID!) { note(id: $id) { ` + noteFields + ` } }`
	notesOp      = `query($first: Int, $after: String, $filter: NoteFilter) {
  notes(first: $first, after: $after, filter: $filter) { edges { node { ` + noteFields + ` } } pageInfo { hasNextPage endCursor } } }`
)

var (
	tagPool = []string{"alpha", "beta", "gamma", "delta", "plan", "ops"}
	words   = strings.Fields(`soak load fault restart postgres tenant note quire version write read
		verify acknowledged deadline pool goroutine memory subscription listen notify backoff replica`)
)

func randomText(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rand.IntN(len(words))])
	}
	return b.String()
}

func randomTags() []string {
	var tags []string
	for _, t := range tagPool {
		if rand.IntN(3) == 0 {
			tags = append(tags, t)
		}
	}
	return tags
}

var serial atomic.Int64

func newNoteInput(private bool) map[string]any {
	vis := "ORG"
	if private {
		vis = "PRIVATE"
	}
	return map[string]any{
		"title":      fmt.Sprintf("soak %d %s", serial.Add(1), randomText(3)),
		"body":       randomText(10 + rand.IntN(60)),
		"tags":       randomTags(),
		"visibility": vis,
	}
}

// traffic is the mixed load: workers pick an organization and an
// operation at random, in the proportions the issue asks for.
type traffic struct {
	c       *client
	l       *ledger
	tenants []*tenant
	stop    atomic.Bool
	// gate is held for reading by every operation under way; pause takes
	// it for writing, so the server can be sampled with nothing in flight.
	gate sync.RWMutex
}

// run drives n workers until stop is set; requests under way then finish.
func (tr *traffic) run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for !tr.stop.Load() && ctx.Err() == nil {
				tr.gate.RLock()
				tr.one(ctx)
				tr.gate.RUnlock()
			}
		})
	}
	wg.Wait()
}

// pause waits for the operations under way to finish and holds new ones
// until the returned function is called.
func (tr *traffic) pause() (resume func()) {
	tr.gate.Lock()
	return tr.gate.Unlock
}

func (tr *traffic) one(ctx context.Context) {
	t := tr.tenants[rand.IntN(len(tr.tenants))]
	switch p := rand.IntN(100); {
	// 70 % reads
	case p < 45:
		tr.list(ctx, t)
	case p < 67:
		tr.read(ctx, t)
	case p < 70:
		tr.probe(ctx, t)
	// 20 % note writes
	case p < 78:
		tr.create(ctx, t)
	case p < 90:
		tr.update(ctx, t)
	// 10 % member, role and key changes
	case p < 94:
		tr.keyLifecycle(ctx, t)
	case p < 97:
		tr.moveEditor(ctx, t)
	default:
		tr.roleLifecycle(ctx, t)
	}
}

func pickMember(ms []*member) *member { return ms[rand.IntN(len(ms))] }

// reader picks who reads: any member, or (one time in six) the
// organization's API key, which reads as the owner who made it.
func (tr *traffic) reader(ctx context.Context, t *tenant) (creds, string) {
	if rand.IntN(6) == 0 {
		return creds{token: t.readKey}, t.owner.id
	}
	m := pickMember(t.members())
	return m.creds(ctx, tr.c, t.id), m.id
}

type notesPage struct {
	Edges []struct {
		Node noteOut `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

// list reads a page of notes, plain or filtered, sometimes the next page
// too, and checks every note on it.
func (tr *traffic) list(ctx context.Context, t *tenant) {
	who, user := tr.reader(ctx, t)
	vars := map[string]any{"first": 20}
	switch rand.IntN(5) {
	case 0:
		vars["filter"] = map[string]any{"visibility": "PRIVATE"}
	case 1:
		vars["filter"] = map[string]any{"tags": []string{tagPool[rand.IntN(len(tagPool))]}}
	case 2:
		vars["filter"] = map[string]any{"search": words[rand.IntN(len(words))]}
	}
	for page := 0; page < 2; page++ {
		r := tr.c.post(ctx, "notes", who, notesOp, vars)
		var p notesPage
		if !r.ok() || r.decode("notes", &p) != nil {
			return
		}
		for _, e := range p.Edges {
			tr.l.shown("notes", t.id, user, e.Node, r.start)
		}
		if !p.PageInfo.HasNextPage || rand.IntN(3) != 0 {
			return
		}
		vars["after"] = p.PageInfo.EndCursor
	}
}

// read reads one note the caller may see.
func (tr *traffic) read(ctx context.Context, t *tenant) {
	who, user := tr.reader(ctx, t)
	n := tr.l.pick(t.id, func(n *note) bool { return n.visibility == "ORG" || n.author == user })
	if n == nil {
		return
	}
	tr.readOne(ctx, "note", t, who, user, n.id)
}

func (tr *traffic) readOne(ctx context.Context, op string, t *tenant, who creds, user, id string) {
	r := tr.c.post(ctx, op, who, noteOp, map[string]any{"id": id})
	var got *noteOut
	if !r.ok() || r.decode("note", &got) != nil {
		return
	}
	if got == nil || got.ID != id {
		tr.l.mu.Lock()
		tr.l.violation("note(%s) as %s answered %+v", id, user, got)
		tr.l.mu.Unlock()
		return
	}
	tr.l.shown(op, t.id, user, *got, r.start)
}

// probe asks for a note the caller must not see: another organization's,
// or another member's PRIVATE note. The answer must be NOT_FOUND.
func (tr *traffic) probe(ctx context.Context, t *tenant) {
	m := pickMember(t.members())
	var n *note
	if rand.IntN(2) == 0 {
		other := tr.tenants[rand.IntN(len(tr.tenants))]
		if other == t {
			return
		}
		n = tr.l.pick(other.id, func(*note) bool { return true })
	} else {
		n = tr.l.pick(t.id, func(n *note) bool { return n.visibility == "PRIVATE" && n.author != m.id })
	}
	if n == nil {
		return
	}
	r := tr.c.post(ctx, "note:probe", m.creds(ctx, tr.c, t.id), noteOp, map[string]any{"id": n.id}, "NOT_FOUND")
	if r.ok() {
		tr.l.mu.Lock()
		tr.l.violation("member %s of %s read note %s (org %s, author %s, %s): want NOT_FOUND",
			m.id, t.id, n.id, n.org, n.author, n.visibility)
		tr.l.mu.Unlock()
	}
}

// create writes a new note as an owner or editor.
func (tr *traffic) create(ctx context.Context, t *tenant) {
	w := pickMember(t.writers())
	r := tr.c.post(ctx, "createNote", w.creds(ctx, tr.c, t.id), createNoteOp, map[string]any{"in": newNoteInput(rand.IntN(5) == 0)})
	var n noteOut
	switch {
	case r.ok() && r.decode("createNote", &n) == nil:
		tr.l.created(t.id, w.id, n, r.end)
	case unsure(r):
		tr.l.unsureCreate()
	}
}

// update changes a note the writer may change, expecting the newest
// version the soak has seen. CONFLICT (another worker got there first) is
// expected; the note is then read again to learn its version.
func (tr *traffic) update(ctx context.Context, t *tenant) {
	w := pickMember(t.writers())
	n := tr.l.pick(t.id, func(n *note) bool {
		if w.role == "owner" { // notes:manage: anyone's note it can see
			return n.visibility == "ORG" || n.author == w.id
		}
		return n.author == w.id
	})
	if n == nil {
		return
	}
	from := tr.l.snapshot(n)
	in := map[string]any{"title": fmt.Sprintf("soak %d %s", serial.Add(1), randomText(3))}
	if rand.IntN(2) == 0 {
		in["body"] = randomText(10 + rand.IntN(60))
	}
	if rand.IntN(2) == 0 {
		in["tags"] = randomTags()
	}
	who := w.creds(ctx, tr.c, t.id)
	r := tr.c.post(ctx, "updateNote", who, updateNoteOp, map[string]any{"id": n.id, "v": from, "in": in}, "CONFLICT")
	var got noteOut
	switch {
	case r.ok() && r.decode("updateNote", &got) == nil:
		tr.l.updated(t.id, from, got, r.end)
	case r.code == "CONFLICT":
		tr.readOne(ctx, "note:refresh", t, who, w.id, n.id)
	case unsure(r):
		tr.l.unsureUpdate(n.id)
	}
}

// unsure reports whether a failed write may nonetheless have committed:
// the server failed inside (INTERNAL, 5xx) or the answer never came.
func unsure(r result) bool {
	switch r.code {
	case "INTERNAL", codeTransport, codeHang, codeBadBody:
		return true
	}
	return strings.HasPrefix(r.code, "HTTP_5")
}

// keyLifecycle: the owner creates an API key, reads with it, revokes it,
// and the very next request with it is refused.
func (tr *traffic) keyLifecycle(ctx context.Context, t *tenant) {
	owner := t.owner.creds(ctx, tr.c, t.id)
	r := tr.c.post(ctx, "createApiKey", owner, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id } } }`,
		map[string]any{"in": map[string]any{"name": fmt.Sprintf("soak temp %d", serial.Add(1)), "permissions": []string{"notes:read"}}})
	var k struct {
		Secret string `json:"secret"`
		APIKey struct {
			ID string `json:"id"`
		} `json:"apiKey"`
	}
	if !r.ok() || r.decode("createApiKey", &k) != nil {
		return
	}
	key := creds{token: k.Secret}
	r = tr.c.post(ctx, "notes:newKey", key, notesOp, map[string]any{"first": 5})
	var p notesPage
	if r.ok() && r.decode("notes", &p) == nil {
		for _, e := range p.Edges {
			tr.l.shown("notes:newKey", t.id, t.owner.id, e.Node, r.start)
		}
	}
	if r = tr.c.post(ctx, "revokeApiKey", owner, `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`,
		map[string]any{"id": k.APIKey.ID}); !r.ok() {
		return
	}
	r = tr.c.post(ctx, "notes:revokedKey", key, notesOp, map[string]any{"first": 5}, "UNAUTHENTICATED")
	if r.ok() {
		tr.l.mu.Lock()
		tr.l.violation("API key %s of %s still read notes after revokeApiKey was acknowledged", k.APIKey.ID, t.id)
		tr.l.mu.Unlock()
	}
}

// moveEditor moves an editor between the built-in editor role and the
// custom writer role, which hold the same permissions.
func (tr *traffic) moveEditor(ctx context.Context, t *tenant) {
	e := pickMember(t.editors)
	role := t.editorRole
	if rand.IntN(2) == 0 {
		role = t.writerRole
	}
	tr.c.post(ctx, "setMemberRoles", t.owner.creds(ctx, tr.c, t.id),
		`mutation($u: ID!, $r: [ID!]!) { setMemberRoles(userId: $u, roleIds: $r) { user { id } roles { key } } }`,
		map[string]any{"u": e.id, "r": []string{role}})
}

// roleLifecycle creates a custom role and deletes it.
func (tr *traffic) roleLifecycle(ctx context.Context, t *tenant) {
	owner := t.owner.creds(ctx, tr.c, t.id)
	r := tr.c.post(ctx, "createRole", owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"key": fmt.Sprintf("temp-%d", serial.Add(1)), "name": "Temporary",
			"permissions": []string{"notes:read", "members:read"}}})
	var role struct{ ID string }
	if !r.ok() || r.decode("createRole", &role) != nil {
		return
	}
	tr.c.post(ctx, "deleteRole", owner, `mutation($id: ID!) { deleteRole(id: $id) }`, map[string]any{"id": role.ID})
}

// seconds is d in seconds, to the millisecond, for the report.
func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
