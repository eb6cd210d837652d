package main

import (
	"slices"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestCachedAuthorizationFollowsChanges: a query answers from the session
// and permissions the server cached, and the database checks them in the
// query's own round trip. Every change that alters a decision, made between
// two reads of a warm caller, shows on the very next read: none is served
// from a stale cache.
func TestCachedAuthorizationFollowsChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	orgA := e.createOrg(owner, "Acme")
	e.createNote(owner.in(orgA), "in acme", nil)
	m := e.signUp("member@example.com", policy.PlatformUser)
	e.addMember(orgA, m, "editor")
	roles := e.roleIDsByKey(owner.in(orgA))

	// warm reads the notes twice as c and returns the titles: the second
	// read answers from the caches the first filled.
	warm := func(c caller) []string {
		t.Helper()
		e.noteTitles(c)
		return e.noteTitles(c)
	}
	if got := warm(m.bare()); !slices.Equal(got, []string{"in acme"}) {
		t.Fatalf("member's only organization: notes %v", got)
	}

	// Losing the permission (only a role without notes:read left): the
	// next read is refused.
	var reader struct{ ID string }
	e.post(owner.in(orgA), `mutation { createRole(input: {key: "directory", name: "Directory", permissions: ["members:read"]}) { id } }`,
		nil).ok(t).decode(t, "createRole", &reader)
	e.post(owner.in(orgA), `mutation($u: ID!, $r: [ID!]!) { setMemberRoles(userId: $u, roleIds: $r) { user { id } } }`,
		map[string]any{"u": m.id, "r": []string{reader.ID}}).ok(t)
	if code := e.post(m.bare(), notesFirstOp, nil).code(t); code != "FORBIDDEN" {
		t.Fatalf("after losing every role: %s, want FORBIDDEN", code)
	}
	e.post(owner.in(orgA), `mutation($u: ID!, $r: [ID!]!) { setMemberRoles(userId: $u, roleIds: $r) { user { id } } }`,
		map[string]any{"u": m.id, "r": []string{roles["editor"]}}).ok(t)
	if got := warm(m.bare()); !slices.Equal(got, []string{"in acme"}) {
		t.Fatalf("after regaining editor: notes %v", got)
	}

	// A second organization: "the only one" no longer resolves.
	orgB := e.createOrg(owner, "Beta")
	e.createNote(owner.in(orgB), "in beta", nil)
	e.addMember(orgB, m, "editor")
	if code := e.post(m.bare(), notesFirstOp, nil).code(t); code != "ORG_REQUIRED" {
		t.Fatalf("with two organizations and none active: %s, want ORG_REQUIRED", code)
	}

	// Switching the session's organization: the next read is in it.
	if got := warm(m.in(orgA)); !slices.Equal(got, []string{"in acme"}) {
		t.Fatalf("header to Acme: notes %v", got)
	}
	e.post(m.bare(), `mutation($o: ID!) { switchOrganization(organizationId: $o) { organization { id } } }`,
		map[string]any{"o": orgB}).ok(t)
	if got := warm(m.bare()); !slices.Equal(got, []string{"in beta"}) {
		t.Fatalf("after switching to Beta: notes %v", got)
	}

	// Removed from the active organization: back to the only one left.
	e.post(owner.in(orgB), `mutation($u: ID!) { removeMember(userId: $u) }`, map[string]any{"u": m.id}).ok(t)
	if got := e.noteTitles(m.bare()); !slices.Equal(got, []string{"in acme"}) {
		t.Fatalf("after removal from the active organization: notes %v", got)
	}

	// Deactivated by an administrator, or signed out: refused.
	e.post(admin.bare(), `mutation($u: ID!) { deactivateUser(userId: $u) { id } }`, map[string]any{"u": m.id}).ok(t)
	if code := e.post(m.in(orgA), notesFirstOp, nil).code(t); code != "UNAUTHENTICATED" {
		t.Fatalf("after deactivation: %s, want UNAUTHENTICATED", code)
	}
	warm(owner.in(orgA))
	e.post(owner.bare(), `mutation { signOut }`, nil).ok(t)
	if code := e.post(owner.in(orgA), notesFirstOp, nil).code(t); code != "UNAUTHENTICATED" {
		t.Fatalf("after signing out: %s, want UNAUTHENTICATED", code)
	}
}
