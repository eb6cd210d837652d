package main

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/policy"
)

// TestWalkingSkeleton follows the README's first session: sign in, create an
// organization, and write, page, edit, trash and restore notes.
func TestWalkingSkeleton(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	me := e.signUp("me@example.com", policy.PlatformSuperadmin)

	var who struct{ Email, PlatformRole, Status string }
	e.post(me.bare(), `{ me { email platformRole status } }`, nil).ok(t).decode(t, "me", &who)
	if diff := cmp.Diff(struct{ Email, PlatformRole, Status string }{"me@example.com", "SUPERADMIN", "ACTIVE"}, who); diff != "" {
		t.Errorf("me (-want +got):\n%s", diff)
	}
	if got := e.post(me.bare(), `{ organization { id } }`, nil).code(t); got != "ORG_REQUIRED" {
		t.Errorf("organization before any org: code %s, want ORG_REQUIRED", got)
	}

	org := e.createOrg(me, "Acme Corp")
	r := e.post(me.bare(), `{ organization { id name slug modules } myPermissions
		myOrganizations { organization { id } roles { key builtIn } permissions } }`, nil).ok(t)
	var o struct {
		ID, Name, Slug string
		Modules        []string
	}
	r.decode(t, "organization", &o)
	if o.ID != org || o.Name != "Acme Corp" || o.Slug != "acme-corp" {
		t.Errorf("organization = %+v", o)
	}
	if diff := cmp.Diff(policy.Modules(), o.Modules); diff != "" {
		t.Errorf("a new organization has every module (-want +got):\n%s", diff)
	}
	var perms []string
	r.decode(t, "myPermissions", &perms)
	if diff := cmp.Diff(policy.All.Codes(), perms); diff != "" {
		t.Errorf("the creator is owner (-want +got):\n%s", diff)
	}
	var mine []struct {
		Organization struct{ ID string }
		Roles        []struct {
			Key     string
			BuiltIn bool
		}
	}
	r.decode(t, "myOrganizations", &mine)
	if len(mine) != 1 || mine[0].Organization.ID != org || len(mine[0].Roles) != 1 || mine[0].Roles[0].Key != "owner" {
		t.Errorf("myOrganizations = %+v", mine)
	}

	n := e.createNote(me.bare(), "First", map[string]any{"tags": []string{"b", "a", "b"}})
	if n.Version != 1 || n.Author.Email != "me@example.com" || n.Visibility != "ORG" {
		t.Errorf("created note = %+v", n)
	}
	if diff := cmp.Diff([]string{"b", "a"}, n.Tags); diff != "" {
		t.Errorf("tags are de-duplicated in order (-want +got):\n%s", diff)
	}

	up := e.post(me.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {body: "changed"}) {
		version body revisions { version body editedBy { email } } } }`, map[string]any{"id": n.ID}).ok(t)
	var u struct {
		Version   int
		Body      string
		Revisions []struct {
			Version  int
			Body     string
			EditedBy struct{ Email string }
		}
	}
	up.decode(t, "updateNote", &u)
	if u.Version != 2 || u.Body != "changed" || len(u.Revisions) != 2 || u.Revisions[0].Version != 2 || u.Revisions[1].Body != "body of First" {
		t.Errorf("updated note = %+v", u)
	}

	stale := e.post(me.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {body: "lost"}) { version } }`,
		map[string]any{"id": n.ID})
	if got := stale.code(t); got != "CONFLICT" {
		t.Errorf("stale expectedVersion: code %s, want CONFLICT", got)
	}
	var after noteOut
	e.post(me.bare(), `query($id: ID!) { note(id: $id) { `+noteFields+` } }`, map[string]any{"id": n.ID}).ok(t).decode(t, "note", &after)
	if after.Body != "changed" || after.Version != 2 {
		t.Errorf("a stale update changed the note: %+v", after)
	}

	e.post(me.bare(), `mutation($id: ID!) { deleteNote(id: $id) { deletedAt } }`, map[string]any{"id": n.ID}).ok(t)
	lists := e.post(me.bare(), `{ notes { totalCount } trash { totalCount edges { node { id deletedAt } } } }`, nil).ok(t)
	if got := string(lists.Data["notes"]); got != `{"totalCount":0}` {
		t.Errorf("notes after delete = %s", got)
	}
	var trash struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				ID        string
				DeletedAt *string
			}
		}
	}
	lists.decode(t, "trash", &trash)
	if trash.TotalCount != 1 || trash.Edges[0].Node.ID != n.ID || trash.Edges[0].Node.DeletedAt == nil {
		t.Errorf("trash = %+v", trash)
	}
	var restored noteOut
	e.post(me.bare(), `mutation($id: ID!) { restoreNote(id: $id) { `+noteFields+` } }`, map[string]any{"id": n.ID}).ok(t).decode(t, "restoreNote", &restored)
	if restored.DeletedAt != nil {
		t.Errorf("restored note still trashed: %+v", restored)
	}
	if got := e.post(me.bare(), `mutation($id: ID!) { restoreNote(id: $id) { id } }`, map[string]any{"id": n.ID}).code(t); got != "CONFLICT" {
		t.Errorf("restoring a live note: code %s, want CONFLICT", got)
	}
}

// TestNotesPagination walks every page with cursors and checks that a note
// created mid-walk neither repeats nor shifts what follows.
func TestNotesPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	me := e.signUp("pager@example.com", policy.PlatformUser)
	e.createOrg(me, "Pages")
	var want []string
	for i := range 7 {
		want = append([]string{e.createNote(me.bare(), fmt.Sprintf("note %d", i), nil).ID}, want...) // newest first
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		vars := map[string]any{"first": 3}
		if after != "" {
			vars["after"] = after
		}
		var c struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   struct{ ID string }
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
		e.post(me.bare(), `query($first: Int, $after: String) { notes(first: $first, after: $after) {
			totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, vars).ok(t).decode(t, "notes", &c)
		for _, edge := range c.Edges {
			got = append(got, edge.Node.ID)
		}
		if page == 0 {
			e.createNote(me.bare(), "inserted while paging", nil) // newer than everything: must not appear later
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		after = *c.PageInfo.EndCursor
		if c.Edges[len(c.Edges)-1].Cursor != after {
			t.Fatalf("endCursor %q is not the last edge's cursor %q", after, c.Edges[len(c.Edges)-1].Cursor)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// TestTenantIsolation puts another organization's ids in every door: each
// answers NOT_FOUND, so existence does not leak, and nothing changes.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice, bob := e.signUp("alice@example.com", policy.PlatformUser), e.signUp("bob@example.com", policy.PlatformUser)
	orgA := e.createOrg(alice, "A")
	e.createOrg(bob, "B")
	secret := e.createNote(alice.bare(), "A's note", nil)
	vars := map[string]any{"id": secret.ID}

	cases := []struct {
		name  string
		c     caller
		query string
	}{
		{"read by id", bob.bare(), `query($id: ID!) { note(id: $id) { id } }`},
		{"update", bob.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {title: "x"}) { id } }`},
		{"delete", bob.bare(), `mutation($id: ID!) { deleteNote(id: $id) { id } }`},
		{"restore", bob.bare(), `mutation($id: ID!) { restoreNote(id: $id) { id } }`},
		{"explain", bob.bare(), `query($id: ID!) { can(action: "notes:read", resourceId: $id) { allowed } }`},
		{"other org header", bob.in(orgA), `query($id: ID!) { note(id: $id) { id } }`},
		{"other org header, lists", bob.in(orgA), `{ notes { totalCount } }`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.post(tc.c, tc.query, vars).code(t); got != "NOT_FOUND" {
				t.Errorf("code %s, want NOT_FOUND", got)
			}
		})
	}
	var n noteOut
	e.post(alice.bare(), `query($id: ID!) { note(id: $id) { `+noteFields+` } }`, vars).ok(t).decode(t, "note", &n)
	if n.Title != "A's note" || n.Version != 1 || n.DeletedAt != nil {
		t.Errorf("A's note changed: %+v", n)
	}
	var bobs struct{ TotalCount int }
	e.post(bob.bare(), `{ notes { totalCount } }`, nil).ok(t).decode(t, "notes", &bobs)
	if bobs.TotalCount != 0 {
		t.Errorf("bob sees %d notes in his empty org", bobs.TotalCount)
	}
}

// TestForbiddenExplainsItself checks FORBIDDEN names the missing permission
// and the policy's reason, the same reason can() gives, and that the object
// rules hold: editors change only their own notes, PRIVATE notes are the
// author's alone, even for the owner.
func TestForbiddenExplainsItself(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Gated")
	viewer, editor := e.signUp("viewer@example.com", policy.PlatformUser), e.signUp("editor@example.com", policy.PlatformUser)
	e.addMember(org, viewer, "viewer")
	e.addMember(org, editor, "editor")
	ownersNote := e.createNote(owner.bare(), "owner's", nil)
	private := e.createNote(editor.bare(), "diary", map[string]any{"visibility": "PRIVATE"})

	r := e.post(viewer.bare(), `mutation { createNote(input: {title: "t", body: "b"}) { id } }`, nil)
	if got := r.code(t); got != "FORBIDDEN" {
		t.Fatalf("viewer createNote: code %s, want FORBIDDEN", got)
	}
	ext := r.Errors[0].Extensions
	var d struct {
		Allowed bool
		Reason  string
	}
	e.post(viewer.bare(), `{ can(action: "notes:create") { allowed reason } }`, nil).ok(t).decode(t, "can", &d)
	if ext["permission"] != "notes:create" || ext["reason"] != d.Reason || d.Allowed || d.Reason == "" {
		t.Errorf("FORBIDDEN extensions %v, can() %+v: want permission notes:create and the same reason", ext, d)
	}

	r = e.post(editor.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {title: "mine now"}) { id } }`,
		map[string]any{"id": ownersNote.ID})
	if got := r.code(t); got != "FORBIDDEN" || r.Errors[0].Extensions["permission"] != "notes:manage" {
		t.Errorf("editor updating another's note: %+v, want FORBIDDEN naming notes:manage", r.Errors)
	}
	e.post(owner.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {title: "edited"}) { id } }`,
		map[string]any{"id": ownersNote.ID}).ok(t)

	for _, who := range []user{owner, viewer} {
		if got := e.post(who.bare(), `query($id: ID!) { note(id: $id) { id } }`, map[string]any{"id": private.ID}).code(t); got != "NOT_FOUND" {
			t.Errorf("%s reading another's PRIVATE note: code %s, want NOT_FOUND", who.email, got)
		}
	}
	var list struct{ TotalCount int }
	e.post(owner.bare(), `{ notes { totalCount } }`, nil).ok(t).decode(t, "notes", &list)
	if list.TotalCount != 1 {
		t.Errorf("owner's list counts %d notes, want 1 (the PRIVATE one is hidden)", list.TotalCount)
	}
	e.post(editor.bare(), `query($id: ID!) { note(id: $id) { id } }`, map[string]any{"id": private.ID}).ok(t)
}
