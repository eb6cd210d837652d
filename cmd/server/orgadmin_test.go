package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
)

const (
	switchOp = `mutation($id: ID!) { switchOrganization(organizationId: $id) {
		organization { id name modules } roles { key } permissions } }`
	updateOrgOp  = `mutation($in: UpdateOrganizationInput!) { updateOrganization(input: $in) { id name slug modules } }`
	deleteOrgOp  = `mutation { deleteOrganization }`
	setModulesOp = `mutation($id: ID!, $m: [String!]!) { setOrganizationModules(organizationId: $id, modules: $m) { id modules } }`
	activeOrgOp  = `{ organization { id name slug modules } myPermissions }`
	orgIDOp      = `{ organization { id } }`
)

type membershipOut struct {
	Organization struct {
		ID      string
		Name    string
		Modules []string
	}
	Roles       []struct{ Key string }
	Permissions []string
}

type orgOut struct {
	ID      string
	Name    string
	Slug    string
	Modules []string
}

// activeOrg returns the organization c acts in and c's permissions there,
// failing the test on any error.
func (e *env) activeOrg(c caller) (orgOut, []string) {
	e.t.Helper()
	r := e.post(c, activeOrgOp, nil).ok(e.t)
	var o orgOut
	var perms []string
	r.decode(e.t, "organization", &o)
	r.decode(e.t, "myPermissions", &perms)
	return o, perms
}

// wantCode fails unless r is the single error code, and returns r.
func wantCode(t testing.TB, what string, r gqlResponse, code string) gqlResponse {
	t.Helper()
	if got := r.code(t); got != code {
		t.Fatalf("%s: code %s, want %s (%+v)", what, got, code, r.Errors)
	}
	return r
}

// orgEvents reads org's audit events with action straight from the
// database, oldest first.
func (e *env) orgEvents(org, action string) []eventRow {
	e.t.Helper()
	rows, err := e.db.Super(e.t).Query(e.t.Context(), `
		SELECT coalesce(org_id::text, ''), coalesce(actor_id::text, ''), decision, coalesce(reason, ''),
		       coalesce(permission, ''), override
		FROM audit_events WHERE action = $1 AND coalesce(org_id::text, '') = $2 ORDER BY created_at, id`, action, org)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var ev eventRow
		if err := rows.Scan(&ev.Org, &ev.Actor, &ev.Decision, &ev.Reason, &ev.Permission, &ev.Override); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

type eventRow struct {
	Org, Actor, Decision, Reason, Permission string
	Override                                 bool
}

// TestSwitchOrganization: a member's switch is stored on the session and
// used by the next request without a header; another tenant's id or an
// unknown one is NOT_FOUND and changes nothing; a SUPERADMIN may switch
// anywhere, audited as an override.
func TestSwitchOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice, bob := e.signUp("alice@example.com", policy.PlatformUser), e.signUp("bob@example.com", policy.PlatformUser)
	orgA, orgB := e.createOrg(alice, "Alpha"), e.createOrg(alice, "Beta")
	orgC := e.createOrg(bob, "Gamma")
	wantCode(t, "two organizations, none active", e.post(alice.bare(), orgIDOp, nil), "ORG_REQUIRED")

	var m membershipOut
	e.post(alice.bare(), switchOp, map[string]any{"id": orgB}).ok(t).decode(t, "switchOrganization", &m)
	if m.Organization.ID != orgB || len(m.Roles) != 1 || m.Roles[0].Key != "owner" || !slices.Equal(m.Permissions, policy.All.Codes()) {
		t.Errorf("switch to B returned %+v, want B as owner with every permission", m)
	}
	if o, _ := e.activeOrg(alice.bare()); o.ID != orgB {
		t.Errorf("after switching to B the next request acts in %s", o.ID)
	}
	if o, _ := e.activeOrg(alice.in(orgA)); o.ID != orgA {
		t.Errorf("the header must win over the session: got %s, want A", o.ID)
	}
	e.post(alice.bare(), switchOp, map[string]any{"id": orgA}).ok(t)
	if o, _ := e.activeOrg(alice.bare()); o.ID != orgA {
		t.Errorf("after switching to A the next request acts in %s", o.ID)
	}

	for name, id := range map[string]string{"another tenant's": orgA, "unknown": uuid.NewString()} {
		wantCode(t, name+" organization", e.post(bob.bare(), switchOp, map[string]any{"id": id}), "NOT_FOUND")
	}
	if o, _ := e.activeOrg(bob.bare()); o.ID != orgC {
		t.Errorf("a refused switch moved bob to %s", o.ID)
	}

	root := e.signUp("root@example.com", policy.PlatformSuperadmin)
	e.post(root.bare(), switchOp, map[string]any{"id": orgC}).ok(t).decode(t, "switchOrganization", &m)
	if m.Organization.ID != orgC || len(m.Roles) != 0 || !slices.Equal(m.Permissions, policy.All.Codes()) {
		t.Errorf("SUPERADMIN switch returned %+v, want C with no roles and every permission", m)
	}
	if o, _ := e.activeOrg(root.bare()); o.ID != orgC {
		t.Errorf("SUPERADMIN's next request acts in %s, want C", o.ID)
	}
	want := []eventRow{{Org: orgC, Actor: root.id.String(), Decision: "ALLOWED", Override: true}}
	if diff := cmp.Diff(want, e.orgEvents(orgC, "organization.switch")); diff != "" {
		t.Errorf("override switch audit (-want +got):\n%s", diff)
	}
	if got := e.orgEvents(orgA, "organization.switch"); len(got) != 0 {
		t.Errorf("a member's switch is no change to audit, got %+v", got)
	}
}

// TestUpdateOrganization: name and slug are validated as at creation, a
// taken slug is CONFLICT, the permission is org:update, another tenant's
// organization is out of reach, and the change is audited.
func TestUpdateOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner, bob := e.signUp("owner@example.com", policy.PlatformUser), e.signUp("bob@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	e.post(bob.bare(), `mutation { createOrganization(input: {name: "Taken", slug: "taken"}) { id } }`, nil).ok(t)
	editor, admin := e.signUp("editor@example.com", policy.PlatformUser), e.signUp("admin@example.com", policy.PlatformUser)
	e.addMember(org, editor, "editor")
	e.addMember(org, admin, "admin")

	var o orgOut
	e.post(owner.bare(), updateOrgOp, map[string]any{"in": map[string]any{"name": "  Acme Corp ", "slug": "acme-corp"}}).ok(t).
		decode(t, "updateOrganization", &o)
	if o.ID != org || o.Name != "Acme Corp" || o.Slug != "acme-corp" || len(o.Modules) != 4 {
		t.Errorf("updateOrganization = %+v", o)
	}
	if got, _ := e.activeOrg(owner.bare()); got.Name != "Acme Corp" || got.Slug != "acme-corp" {
		t.Errorf("organization after update = %+v", got)
	}
	e.post(admin.in(org), updateOrgOp, map[string]any{"in": map[string]any{"name": "Renamed by admin"}}).ok(t)

	cases := []struct {
		name string
		c    caller
		in   map[string]any
		code string
	}{
		{"empty name", owner.bare(), map[string]any{"name": " "}, "BAD_USER_INPUT"},
		{"long name", owner.bare(), map[string]any{"name": strings.Repeat("n", 101)}, "BAD_USER_INPUT"},
		{"bad slug", owner.bare(), map[string]any{"slug": "Not A Slug"}, "BAD_USER_INPUT"},
		{"nothing to change", owner.bare(), map[string]any{}, "BAD_USER_INPUT"},
		{"slug taken", owner.bare(), map[string]any{"slug": "taken"}, "CONFLICT"},
		{"editor lacks org:update", editor.in(org), map[string]any{"name": "Mine"}, "FORBIDDEN"},
		{"another tenant", bob.in(org), map[string]any{"name": "Hijacked"}, "NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := wantCode(t, tc.name, e.post(tc.c, updateOrgOp, map[string]any{"in": tc.in}), tc.code)
			if tc.code == "FORBIDDEN" && r.Errors[0].Extensions["permission"] != "org:update" {
				t.Errorf("FORBIDDEN names %v, want org:update", r.Errors[0].Extensions["permission"])
			}
		})
	}
	if got, _ := e.activeOrg(owner.bare()); got.Name != "Renamed by admin" || got.Slug != "acme-corp" {
		t.Errorf("refused updates changed the organization: %+v", got)
	}
	events := e.orgEvents(org, "organization.update")
	if len(events) != 2 || events[0].Actor != owner.id.String() || events[1].Actor != admin.id.String() {
		t.Errorf("update audit events = %+v, want one by the owner then one by the admin", events)
	}
}

// TestDeleteOrganization: only org:delete deletes; afterwards nothing of
// the organization is reachable by anyone, its slug stays taken, and the
// deletion is audited.
func TestDeleteOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner, admin := e.signUp("owner@example.com", policy.PlatformUser), e.signUp("admin@example.com", policy.PlatformUser)
	viewer := e.signUp("viewer@example.com", policy.PlatformUser)
	org := e.post(owner.bare(), `mutation { createOrganization(input: {name: "Doomed", slug: "doomed"}) { id } }`, nil).ok(t)
	var created struct{ ID string }
	org.decode(t, "createOrganization", &created)
	orgID := created.ID
	other := e.createOrg(owner, "Survivor")
	e.addMember(orgID, admin, "admin")
	e.addMember(orgID, viewer, "viewer")
	note := e.createNote(owner.in(orgID), "in the doomed org", nil)
	e.post(owner.bare(), switchOp, map[string]any{"id": orgID}).ok(t)

	r := wantCode(t, "admin deletes", e.post(admin.bare(), deleteOrgOp, nil), "FORBIDDEN")
	if r.Errors[0].Extensions["permission"] != "org:delete" {
		t.Errorf("FORBIDDEN names %v, want org:delete", r.Errors[0].Extensions["permission"])
	}
	var ok bool
	e.post(owner.bare(), deleteOrgOp, nil).ok(t).decode(t, "deleteOrganization", &ok)
	if !ok {
		t.Fatal("deleteOrganization returned false")
	}

	unreachable := []struct {
		name, query string
		c           caller
		vars        map[string]any
		code        string
	}{
		{"by header", orgIDOp, owner.in(orgID), nil, "NOT_FOUND"},
		{"a note by id", `query($id: ID!) { note(id: $id) { id } }`, viewer.in(orgID), map[string]any{"id": note.ID}, "NOT_FOUND"},
		{"delete again", deleteOrgOp, owner.in(orgID), nil, "NOT_FOUND"},
		{"switch to it", switchOp, owner.bare(), map[string]any{"id": orgID}, "NOT_FOUND"},
		{"a member without a header", orgIDOp, viewer.bare(), nil, "ORG_REQUIRED"},
		{"its slug", `mutation { createOrganization(input: {name: "Again", slug: "doomed"}) { id } }`, admin.bare(), nil, "CONFLICT"},
	}
	for _, tc := range unreachable {
		wantCode(t, tc.name, e.post(tc.c, tc.query, tc.vars), tc.code)
	}
	// The session pointed at the deleted organization: the owner falls back
	// to their only remaining one.
	if o, _ := e.activeOrg(owner.bare()); o.ID != other {
		t.Errorf("owner acts in %s after the deletion, want their other organization", o.ID)
	}
	var mine []membershipOut
	e.post(owner.bare(), `{ myOrganizations { organization { id name modules } roles { key } permissions } }`, nil).ok(t).
		decode(t, "myOrganizations", &mine)
	if len(mine) != 1 || mine[0].Organization.ID != other {
		t.Errorf("myOrganizations after deletion = %+v, want only the survivor", mine)
	}
	want := []eventRow{{Org: orgID, Actor: owner.id.String(), Decision: "ALLOWED"}}
	if diff := cmp.Diff(want, e.orgEvents(orgID, "organization.delete")); diff != "" {
		t.Errorf("delete audit (-want +got):\n%s", diff)
	}
}

// TestSetOrganizationModules: a platform ADMIN switches modules of any
// organization without being a member; the very next request of a member
// sees the change in organization.modules, myPermissions and the notes
// module's denial, and re-enabling restores access. Bad input, unknown
// organizations and non-admins are refused.
func TestSetOrganizationModules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner, viewer := e.signUp("owner@example.com", policy.PlatformUser), e.signUp("viewer@example.com", policy.PlatformUser)
	staff := e.signUp("staff@example.com", policy.PlatformAdmin)
	org := e.createOrg(owner, "Tiered")
	e.addMember(org, viewer, "viewer")
	e.createNote(owner.bare(), "visible while notes is on", nil)
	set := func(c caller, modules ...string) gqlResponse {
		return e.post(c, setModulesOp, map[string]any{"id": org, "m": modules})
	}

	var o orgOut
	set(staff.bare(), "audit", "core", "core").ok(t).decode(t, "setOrganizationModules", &o)
	if o.ID != org || !slices.Equal(o.Modules, []string{"core", "audit"}) {
		t.Errorf("setOrganizationModules = %+v, want core and audit", o)
	}
	got, perms := e.activeOrg(viewer.bare())
	if !slices.Equal(got.Modules, []string{"core", "audit"}) || !slices.Equal(perms, []string{"members:read"}) {
		t.Errorf("viewer's next request: modules %v, permissions %v; want [core audit], [members:read]", got.Modules, perms)
	}
	r := wantCode(t, "notes with the module off", e.post(viewer.bare(), `{ notes { totalCount } }`, nil), "FORBIDDEN")
	ext := r.Errors[0].Extensions
	if reason, _ := ext["reason"].(string); ext["permission"] != "notes:read" || !strings.Contains(reason, "notes module") {
		t.Errorf("FORBIDDEN extensions %v, want notes:read and a reason naming the notes module", ext)
	}
	var mine []membershipOut
	e.post(owner.bare(), `{ myOrganizations { organization { id name modules } roles { key } permissions } }`, nil).ok(t).
		decode(t, "myOrganizations", &mine)
	if len(mine) != 1 || slices.ContainsFunc(mine[0].Permissions, func(p string) bool { return strings.HasPrefix(p, "notes:") }) {
		t.Errorf("owner's membership still lists notes permissions: %+v", mine)
	}

	set(staff.bare(), "core", "notes", "api_keys", "audit").ok(t)
	e.post(viewer.bare(), `{ notes { totalCount } }`, nil).ok(t)

	refused := []struct {
		name string
		r    gqlResponse
		code string
	}{
		{"unknown module", set(staff.bare(), "core", "billing"), "BAD_USER_INPUT"},
		{"unknown organization", e.post(staff.bare(), setModulesOp, map[string]any{"id": uuid.NewString(), "m": []string{"core"}}), "NOT_FOUND"},
		{"the owner is no platform admin", set(owner.bare(), "core"), "FORBIDDEN"},
		{"nor is a member", set(viewer.in(org), "core", "notes"), "FORBIDDEN"},
	}
	for _, tc := range refused {
		wantCode(t, tc.name, tc.r, tc.code)
	}
	if msg := refused[0].r.Errors[0].Message; !strings.Contains(msg, `"billing"`) {
		t.Errorf("unknown module message %q does not name it", msg)
	}
	if got, _ := e.activeOrg(owner.bare()); len(got.Modules) != 4 {
		t.Errorf("refused calls changed the modules: %v", got.Modules)
	}
	want := []eventRow{
		{Org: org, Actor: staff.id.String(), Decision: "ALLOWED", Reason: "enabled modules: core, audit", Override: true},
		{Org: org, Actor: staff.id.String(), Decision: "ALLOWED", Reason: "enabled modules: core, notes, api_keys, audit", Override: true},
	}
	if diff := cmp.Diff(want, e.orgEvents(org, "organization.set_modules")); diff != "" {
		t.Errorf("set_modules audit (-want +got):\n%s", diff)
	}
}

// TestSetModulesOfDeletedOrganization: a deleted organization is NOT_FOUND
// to platform administration too.
func TestSetModulesOfDeletedOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner, staff := e.signUp("owner@example.com", policy.PlatformUser), e.signUp("staff@example.com", policy.PlatformAdmin)
	org := e.createOrg(owner, "Gone")
	e.post(owner.bare(), deleteOrgOp, nil).ok(t)
	wantCode(t, "deleted organization", e.post(staff.bare(), setModulesOp, map[string]any{"id": org, "m": []string{"core"}}), "NOT_FOUND")
}
