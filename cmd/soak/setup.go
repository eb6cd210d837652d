package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// member is a signed-in user of one organization.
type member struct {
	id, email, role string // role: owner, editor, viewer

	mu      sync.Mutex
	token   string
	refresh string
	issued  time.Time
}

// tenant is one organization and its members, made through the API.
type tenant struct {
	id, name string
	owner    *member
	editors  []*member
	viewers  []*member
	// editorRole and writerRole hold the same permissions: moving an editor
	// between them changes the authorization data (and bumps the epochs)
	// without changing what the editor may do, so the traffic's writes
	// stay allowed.
	editorRole, writerRole string
	readKey                string // an API key of the owner's with notes:read
}

func (t *tenant) writers() []*member { return append([]*member{t.owner}, t.editors...) }

func (t *tenant) members() []*member {
	return append(append([]*member{t.owner}, t.editors...), t.viewers...)
}

const authFields = `accessToken refreshToken user { id }`

type authPayload struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID string `json:"id"`
	} `json:"user"`
}

// tokenAge is when a member's access token (valid 15 minutes) is renewed
// with its refresh token, so soaks longer than that keep going.
const tokenAge = 10 * time.Minute

// creds returns m's credentials in org, renewing the access token first if
// it is getting old.
func (m *member) creds(ctx context.Context, c *client, org string) creds {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.issued) > tokenAge {
		r := c.post(ctx, "refreshSession", creds{}, `mutation($t: String!) { refreshSession(refreshToken: $t) { `+authFields+` } }`,
			map[string]any{"t": m.refresh})
		var p authPayload
		if r.ok() && r.decode("refreshSession", &p) == nil {
			m.token, m.refresh, m.issued = p.AccessToken, p.RefreshToken, time.Now()
		}
	}
	return creds{token: m.token, org: org}
}

func (m *member) signedIn(p authPayload) {
	m.id, m.token, m.refresh, m.issued = p.User.ID, p.AccessToken, p.RefreshToken, time.Now()
}

// setup makes n organizations through the API, as people would: each
// owner is created with `quire admin create-user` and signs in with the
// link; they create the organization, a custom role, a read-only API key,
// and invite the editors and viewers, who accept from the mailed link.
// Then every writer creates notesEach notes, a fifth of them PRIVATE.
func setup(ctx context.Context, s *server, c *client, l *ledger, o options) ([]*tenant, error) {
	mail := &mailbox{dir: s.mailDir, seen: map[string]mailFile{}}
	tenants := make([]*tenant, o.orgs)
	errs := make(chan error, o.orgs)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range tenants {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t, err := makeTenant(ctx, s, c, l, mail, o, i+1)
			if err != nil {
				errs <- fmt.Errorf("organization %d: %w", i+1, err)
				return
			}
			tenants[i] = t
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return tenants, nil
}

func makeTenant(ctx context.Context, s *server, c *client, l *ledger, mail *mailbox, o options, i int) (*tenant, error) {
	t := &tenant{name: fmt.Sprintf("Soak org %d", i)}
	domain := fmt.Sprintf("org%d.soak.example", i)
	t.owner = &member{email: "owner@" + domain, role: "owner"}
	out, err := s.admin(ctx, "create-user", "--email", t.owner.email)
	if err != nil {
		return nil, err
	}
	link, err := url.Parse(strings.TrimSpace(out))
	if err != nil || link.Query().Get("token") == "" {
		return nil, fmt.Errorf("create-user printed %q, not a sign-in link", out)
	}
	var p authPayload
	if err := must(c.post(ctx, "signInWithLink", creds{}, `mutation($t: String!) { signInWithLink(token: $t) { `+authFields+` } }`,
		map[string]any{"t": link.Query().Get("token")}), "signInWithLink", &p); err != nil {
		return nil, err
	}
	t.owner.signedIn(p)
	var org struct{ ID string }
	if err := must(c.post(ctx, "createOrganization", creds{token: t.owner.token}, `mutation($n: String!) { createOrganization(input: {name: $n}) { id } }`,
		map[string]any{"n": t.name}), "createOrganization", &org); err != nil {
		return nil, err
	}
	t.id = org.ID
	owner := t.owner.creds(ctx, c, t.id)

	var roles []struct {
		ID          string   `json:"id"`
		Key         string   `json:"key"`
		Permissions []string `json:"permissions"`
	}
	if err := must(c.post(ctx, "roles", owner, `{ roles { id key permissions } }`, nil), "roles", &roles); err != nil {
		return nil, err
	}
	var viewerRole string
	var editorPerms []string
	for _, r := range roles {
		switch r.Key {
		case "editor":
			t.editorRole, editorPerms = r.ID, r.Permissions
		case "viewer":
			viewerRole = r.ID
		}
	}
	if t.editorRole == "" || viewerRole == "" {
		return nil, fmt.Errorf("roles: no built-in editor or viewer in %+v", roles)
	}
	var writer struct{ ID string }
	if err := must(c.post(ctx, "createRole", owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"key": "writer", "name": "Writer", "permissions": editorPerms}}), "createRole", &writer); err != nil {
		return nil, err
	}
	t.writerRole = writer.ID

	invite := func(role, roleID string, j int) (*member, error) {
		m := &member{email: fmt.Sprintf("%s%d@%s", role, j, domain), role: role}
		if err := must(c.post(ctx, "inviteMember", owner, `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"email": m.email, "roleIds": []string{roleID}}}), "inviteMember", nil); err != nil {
			return nil, err
		}
		token, err := mail.token(ctx, m.email, "invitation")
		if err != nil {
			return nil, err
		}
		var p authPayload
		if err := must(c.post(ctx, "acceptInvitation", creds{}, `mutation($t: String!) { acceptInvitation(token: $t) { `+authFields+` } }`,
			map[string]any{"t": token}), "acceptInvitation", &p); err != nil {
			return nil, err
		}
		m.signedIn(p)
		return m, nil
	}
	for j := range o.editors {
		m, err := invite("editor", t.editorRole, j+1)
		if err != nil {
			return nil, err
		}
		t.editors = append(t.editors, m)
	}
	for j := range o.viewers {
		m, err := invite("viewer", viewerRole, j+1)
		if err != nil {
			return nil, err
		}
		t.viewers = append(t.viewers, m)
	}

	var key struct {
		Secret string `json:"secret"`
	}
	if err := must(c.post(ctx, "createApiKey", owner, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
		map[string]any{"in": map[string]any{"name": "soak reader", "permissions": []string{"notes:read"}}}), "createApiKey", &key); err != nil {
		return nil, err
	}
	t.readKey = key.Secret

	for _, w := range t.writers() {
		for range o.notes {
			r := c.post(ctx, "createNote", w.creds(ctx, c, t.id), createNoteOp, map[string]any{"in": newNoteInput(rand.IntN(5) == 0)})
			var n noteOut
			if err := must(r, "createNote", &n); err != nil {
				return nil, err
			}
			l.created(t.id, w.id, n, r.end)
		}
	}
	return t, nil
}

// must turns a failed answer into an error and decodes data[field] into v
// (if v is not nil).
func must(r result, field string, v any) error {
	if !r.ok() {
		return fmt.Errorf("%s: %s %s", r.op, r.code, r.detail)
	}
	if v == nil {
		return nil
	}
	return r.decode(field, v)
}

// mailbox reads QUIRE_MAIL_DIR, where the server writes each mail as one
// JSON file.
type mailbox struct {
	dir  string
	mu   sync.Mutex
	seen map[string]mailFile
}

type mailFile struct {
	To   string `json:"to"`
	Kind string `json:"kind"`
	Link string `json:"link"`
}

// token waits (up to 30 s: mail goes out after the request) for the mail
// of kind to address and returns the token of its link.
func (m *mailbox) token(ctx context.Context, to, kind string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if link := m.find(to, kind); link != "" {
			u, err := url.Parse(link)
			if err != nil || u.Query().Get("token") == "" {
				return "", fmt.Errorf("mail to %s: link %q has no token", to, link)
			}
			return u.Query().Get("token"), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no %s mail to %s within 30s", kind, to)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (m *mailbox) find(to, kind string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	entries, _ := os.ReadDir(m.dir)
	for _, e := range entries {
		name := e.Name()
		if _, done := m.seen[name]; done || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(m.dir, name))
		if err != nil {
			continue
		}
		var f mailFile
		if json.Unmarshal(b, &f) == nil {
			m.seen[name] = f
		}
	}
	for _, f := range m.seen {
		if strings.EqualFold(f.To, to) && f.Kind == kind {
			return f.Link
		}
	}
	return ""
}
