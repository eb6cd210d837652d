package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

const (
	memberFields = `user { id email } joinedAt roles { id key builtIn permissions }`
	membersOp    = `query($first: Int, $after: String) { members(first: $first, after: $after) {
		totalCount edges { cursor node { ` + memberFields + ` } } pageInfo { hasNextPage endCursor } } }`
	setMemberRolesOp = `mutation($u: ID!, $r: [ID!]!) { setMemberRoles(userId: $u, roleIds: $r) { ` + memberFields + ` } }`
	removeMemberOp   = `mutation($u: ID!) { removeMember(userId: $u) }`
	leaveOrgOp       = `mutation { leaveOrganization }`
	transferOp       = `mutation($u: ID!, $keep: Boolean) { transferOwnership(userId: $u, keepOwnerRole: $keep) { ` + memberFields + ` } }`
	myPermissionsOp  = `{ myPermissions }`
)

type memberOut struct {
	User     struct{ ID, Email string }
	JoinedAt string
	Roles    []struct {
		ID, Key     string
		BuiltIn     bool
		Permissions []string
	}
}

func (m memberOut) keys() []string {
	var out []string
	for _, r := range m.Roles {
		out = append(out, r.Key)
	}
	return out
}

// refusal is a request that must fail with code, naming permission and
// reason where they are set.
type refusal struct {
	name       string
	c          caller
	op         string
	vars       map[string]any
	code       string
	permission string
	reason     string
}

func (e *env) checkRefusals(t *testing.T, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(tc.c, tc.op, tc.vars)
			if got := r.code(t); got != tc.code {
				t.Fatalf("code %s, want %s (%+v)", got, tc.code, r.Errors)
			}
			ext := r.Errors[0].Extensions
			if got, _ := ext["permission"].(string); tc.permission != "" && got != tc.permission {
				t.Errorf("permission %q, want %q (%+v)", got, tc.permission, r.Errors)
			}
			if got, _ := ext["reason"].(string); tc.reason != "" && got != tc.reason {
				t.Errorf("reason %q, want %q", got, tc.reason)
			}
		})
	}
}

// membersSnapshot reads, straight from the database, every active member of
// org with their role keys: what a refused request must leave as it was.
func (e *env) membersSnapshot(org string) map[uuid.UUID]string {
	e.t.Helper()
	rows, err := e.db.Super(e.t).Query(e.t.Context(), `
		SELECT m.user_id, coalesce(string_agg(r.key, ',' ORDER BY r.key), '')
		FROM memberships m
		LEFT JOIN membership_roles mr ON mr.membership_id = m.id
		LEFT JOIN roles r ON r.id = mr.role_id
		WHERE m.org_id = $1 AND m.removed_at IS NULL
		GROUP BY m.user_id`, org)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[uuid.UUID]string{}
	for rows.Next() {
		var id uuid.UUID
		var keys string
		if err := rows.Scan(&id, &keys); err != nil {
			e.t.Fatal(err)
		}
		out[id] = keys
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// ownersOf returns the active members of org holding the built-in owner
// role, as the database says.
func (e *env) ownersOf(org string) []uuid.UUID {
	e.t.Helper()
	rows, err := e.db.Super(e.t).Query(e.t.Context(), `
		SELECT m.user_id
		FROM memberships m
		JOIN membership_roles mr ON mr.membership_id = m.id
		JOIN roles r ON r.id = mr.role_id AND r.org_id IS NULL AND r.key = 'owner'
		WHERE m.org_id = $1 AND m.removed_at IS NULL
		ORDER BY m.user_id`, org)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// auditCount counts the ALLOWED events with action in org.
func (e *env) auditCount(org, action string) int {
	e.t.Helper()
	var n int
	err := e.db.Super(e.t).QueryRow(e.t.Context(),
		`SELECT count(*) FROM audit_events WHERE org_id = $1 AND action = $2 AND decision = 'ALLOWED'`, org, action).Scan(&n)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// roleIDsByKey returns the ids of the roles c sees, by key.
func (e *env) roleIDsByKey(c caller) map[string]string {
	e.t.Helper()
	var roles []struct{ ID, Key string }
	e.post(c, `{ roles { id key } }`, nil).ok(e.t).decode(e.t, "roles", &roles)
	out := map[string]string{}
	for _, r := range roles {
		out[r.Key] = r.ID
	}
	return out
}

// permissionsOf returns what c may use now, as myPermissions says.
func (e *env) permissionsOf(c caller) []string {
	e.t.Helper()
	var perms []string
	e.post(c, myPermissionsOp, nil).ok(e.t).decode(e.t, "myPermissions", &perms)
	return perms
}

func builtInCodes(key string) []string {
	for _, r := range policy.BuiltInRoles() {
		if r.Key == key {
			return r.Permissions.Codes()
		}
	}
	panic("no built-in role " + key)
}

func setRolesVars(u uuid.UUID, roleIDs ...string) map[string]any {
	if roleIDs == nil {
		roleIDs = []string{}
	}
	return map[string]any{"u": u, "r": roleIDs}
}

// TestSetMemberRoles: roles are replaced by their union of the given ones;
// every way around the rules is refused and changes nothing.
func TestSetMemberRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, editor, viewer := e.signUp("admin@example.com", policy.PlatformUser),
		e.signUp("editor@example.com", policy.PlatformUser), e.signUp("viewer@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, editor, "editor")
	e.addMember(acme, viewer, "viewer")
	outsider := e.signUp("outsider@example.com", policy.PlatformUser)
	other := e.createOrg(outsider, "Other")
	var foreign struct{ ID string }
	e.post(outsider.in(other), createRoleOp, map[string]any{"in": map[string]any{"key": "spy", "name": "Spy", "permissions": []string{"notes:read"}}}).
		ok(t).decode(t, "createRole", &foreign)
	ids := e.roleIDsByKey(owner.in(acme))

	before := e.membersSnapshot(acme)
	e.checkRefusals(t, []refusal{
		{"no roles", admin.in(acme), setMemberRolesOp, setRolesVars(editor.id), "BAD_USER_INPUT", "", ""},
		{"a role twice", admin.in(acme), setMemberRolesOp, setRolesVars(editor.id, ids["viewer"], ids["viewer"]), "BAD_USER_INPUT", "", ""},
		{"own roles", admin.in(acme), setMemberRolesOp, setRolesVars(admin.id, ids["viewer"]), "FORBIDDEN", "", policy.ReasonOwnRoles},
		{"own roles, even an owner's", owner.in(acme), setMemberRolesOp, setRolesVars(owner.id, ids["owner"], ids["admin"]), "FORBIDDEN", "", policy.ReasonOwnRoles},
		{"admin demotes the owner", admin.in(acme), setMemberRolesOp, setRolesVars(owner.id, ids["viewer"]), "FORBIDDEN", "org:delete", ""},
		{"admin grants owner", admin.in(acme), setMemberRolesOp, setRolesVars(editor.id, ids["owner"]), "FORBIDDEN", "org:delete", ""},
		{"admin grants owner beside a role", admin.in(acme), setMemberRolesOp, setRolesVars(viewer.id, ids["viewer"], ids["owner"]), "FORBIDDEN", "org:delete", ""},
		{"editor lacks members:manage", editor.in(acme), setMemberRolesOp, setRolesVars(viewer.id, ids["editor"]), "FORBIDDEN", "members:manage", ""},
		{"user of another org", admin.in(acme), setMemberRolesOp, setRolesVars(outsider.id, ids["viewer"]), "NOT_FOUND", "", ""},
		{"unknown user", admin.in(acme), setMemberRolesOp, setRolesVars(uuid.Must(uuid.NewV7()), ids["viewer"]), "NOT_FOUND", "", ""},
		{"role of another org", admin.in(acme), setMemberRolesOp, setRolesVars(editor.id, foreign.ID), "NOT_FOUND", "", ""},
		{"outsider in acme", outsider.in(acme), setMemberRolesOp, setRolesVars(editor.id, ids["viewer"]), "NOT_FOUND", "", ""},
		{"acme's member in acme's role, from the other org", outsider.in(other), setMemberRolesOp, setRolesVars(editor.id, ids["viewer"]), "NOT_FOUND", "", ""},
	})
	if diff := cmp.Diff(before, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("refused changes changed members (-before +after):\n%s", diff)
	}

	// Several roles: the member uses their union from the next request on.
	var m memberOut
	e.post(admin.in(acme), setMemberRolesOp, setRolesVars(viewer.id, ids["viewer"], ids["editor"])).ok(t).decode(t, "setMemberRoles", &m)
	if diff := cmp.Diff([]string{"editor", "viewer"}, m.keys()); m.User.ID != viewer.id.String() || diff != "" {
		t.Errorf("setMemberRoles answered %+v (-want +got roles):\n%s", m, diff)
	}
	if diff := cmp.Diff(builtInCodes("editor"), e.permissionsOf(viewer.in(acme))); diff != "" {
		t.Errorf("viewer+editor uses (-want +got):\n%s", diff)
	}
	// A demotion bites on the very next request.
	e.post(admin.in(acme), setMemberRolesOp, setRolesVars(editor.id, ids["viewer"])).ok(t)
	if diff := cmp.Diff(builtInCodes("viewer"), e.permissionsOf(editor.in(acme))); diff != "" {
		t.Errorf("demoted editor uses (-want +got):\n%s", diff)
	}
	if got := e.post(editor.in(acme), `mutation { createNote(input: {title: "t", body: "b"}) { id } }`, nil).code(t); got != "FORBIDDEN" {
		t.Errorf("demoted editor creating a note: code %s, want FORBIDDEN", got)
	}
	if n := e.auditCount(acme, "member.set_roles"); n != 2 {
		t.Errorf("%d member.set_roles events, want 2", n)
	}
	if n := e.auditCount(other, "member.set_roles"); n != 0 {
		t.Errorf("%d member.set_roles events in the other org, want 0", n)
	}
}

// lastOwnerSetup is an organization whose only owner is owner, with root, a
// member whose custom role holds every permission: the policy lets root do
// anything to owner, so only the database keeps the last owner.
func lastOwnerSetup(t *testing.T, e *env) (acme string, owner, root user, ids map[string]string) {
	t.Helper()
	owner, root = e.signUp("owner@example.com", policy.PlatformUser), e.signUp("root@example.com", policy.PlatformUser)
	acme = e.createOrg(owner, "Acme")
	e.addMember(acme, root, "viewer")
	var role struct{ ID string }
	e.post(owner.in(acme), createRoleOp, map[string]any{"in": map[string]any{"key": "root", "name": "Root", "permissions": policy.All.Codes()}}).
		ok(t).decode(t, "createRole", &role)
	e.post(owner.in(acme), setMemberRolesOp, setRolesVars(root.id, role.ID)).ok(t)
	ids = e.roleIDsByKey(owner.in(acme))
	return acme, owner, root, ids
}

// TestLastOwnerIsKept: the last owner cannot be demoted, removed or leave,
// whoever asks, even a SUPERADMIN; a second owner makes each possible.
func TestLastOwnerIsKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acme, owner, root, ids := lastOwnerSetup(t, e)
	super := e.signUp("super@example.com", policy.PlatformSuperadmin)

	before := e.membersSnapshot(acme)
	e.checkRefusals(t, []refusal{
		{"demoted", root.in(acme), setMemberRolesOp, setRolesVars(owner.id, ids["admin"]), "CONFLICT", "", ""},
		{"removed", root.in(acme), removeMemberOp, map[string]any{"u": owner.id}, "CONFLICT", "", ""},
		{"removed by a SUPERADMIN", super.in(acme), removeMemberOp, map[string]any{"u": owner.id}, "CONFLICT", "", ""},
		{"demoted by a SUPERADMIN", super.in(acme), setMemberRolesOp, setRolesVars(owner.id, ids["viewer"]), "CONFLICT", "", ""},
		{"leaves", owner.in(acme), leaveOrgOp, nil, "CONFLICT", "", ""},
	})
	r := e.post(owner.in(acme), leaveOrgOp, nil)
	if r.code(t) != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "at least one owner") {
		t.Errorf("the last owner leaving: %+v, want CONFLICT saying why", r.Errors)
	}
	if diff := cmp.Diff(before, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("refusals changed members (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]uuid.UUID{owner.id}, e.ownersOf(acme)); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}

	// With a second owner, the first may go.
	e.post(owner.in(acme), setMemberRolesOp, setRolesVars(root.id, ids["owner"])).ok(t)
	e.post(root.in(acme), setMemberRolesOp, setRolesVars(owner.id, ids["admin"])).ok(t)
	e.post(owner.in(acme), leaveOrgOp, nil).ok(t)
	if diff := cmp.Diff([]uuid.UUID{root.id}, e.ownersOf(acme)); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
}

// TestConcurrentOwnerDemotions: two owners demote each other at once, many
// times: at most one demotion wins, and the organization always keeps an
// owner.
func TestConcurrentOwnerDemotions(t *testing.T) {
	t.Parallel()
	const rounds = 15
	t.Run("api", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		a, b := e.signUp("a@example.com", policy.PlatformUser), e.signUp("b@example.com", policy.PlatformUser)
		acme := e.createOrg(a, "Acme")
		e.addMember(acme, b, "owner")
		ids := e.roleIDsByKey(a.in(acme))
		pairs := [2][2]user{{a, b}, {b, a}}
		seen := map[string]int{}
		defer func() { t.Logf("outcomes over %d rounds: %v", rounds, seen) }()
		for round := range rounds {
			codes := race(func(i int) string {
				r := e.post(pairs[i][0].in(acme), setMemberRolesOp, setRolesVars(pairs[i][1].id, ids["admin"]))
				if len(r.Errors) == 0 {
					return "OK"
				}
				c, _ := r.Errors[0].Extensions["code"].(string)
				return c
			})
			seen[codes[0]]++
			seen[codes[1]]++
			owners := e.checkDemotionRace(t, round, acme, codes)
			// Put the loser back: the remaining owner makes them owner again.
			winner, loser := a, b
			if owners[0] == b.id {
				winner, loser = b, a
			}
			e.post(winner.in(acme), setMemberRolesOp, setRolesVars(loser.id, ids["owner"])).ok(t)
		}
	})
	// Both admitted as owners, as two requests that passed the door before
	// either committed are: only the database's check decides.
	t.Run("both-admitted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		a, b := e.signUp("a@example.com", policy.PlatformUser), e.signUp("b@example.com", policy.PlatformUser)
		acme := e.createOrg(a, "Acme")
		e.addMember(acme, b, "owner")
		ids := e.roleIDsByKey(a.in(acme))
		svc := &org.Service{Store: e.store}
		as := func(u user) policy.Principal {
			return policy.Principal{UserID: policy.ID(u.id), OrgID: policy.ID(uuid.MustParse(acme)), Granted: policy.All, Modules: policy.AllModules}
		}
		pairs := [2][2]user{{a, b}, {b, a}}
		for round := range rounds {
			codes := race(func(i int) string {
				_, err := svc.SetMemberRoles(t.Context(), as(pairs[i][0]), pairs[i][1].id, []uuid.UUID{uuid.MustParse(ids["admin"])})
				if err == nil {
					return "OK"
				}
				return string(qerr.CodeOf(err))
			})
			sorted := slices.Sorted(slices.Values(codes))
			if diff := cmp.Diff([]string{"CONFLICT", "OK"}, sorted); diff != "" {
				t.Errorf("round %d outcomes (-want +got):\n%s", round, diff)
			}
			owners := e.checkDemotionRace(t, round, acme, codes)
			winner, loser := a, b
			if owners[0] == b.id {
				winner, loser = b, a
			}
			if _, err := svc.SetMemberRoles(t.Context(), as(winner), loser.id, []uuid.UUID{uuid.MustParse(ids["owner"])}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// checkDemotionRace checks one round's outcomes and returns the owners left.
func (e *env) checkDemotionRace(t *testing.T, round int, acme string, codes []string) []uuid.UUID {
	t.Helper()
	won := 0
	for _, c := range codes {
		switch c {
		case "OK":
			won++
		case "CONFLICT", "FORBIDDEN":
		default:
			t.Errorf("round %d: unexpected outcome %q", round, c)
		}
	}
	owners := e.ownersOf(acme)
	if won > 1 || len(owners) < 1 || len(owners) != 2-won {
		t.Fatalf("round %d: outcomes %q left owners %v", round, codes, owners)
	}
	return owners
}

// TestRemoveMember: a removed member is refused on their very next request,
// history keeps the membership, and they can join again; every refused
// removal changes nothing.
func TestRemoveMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, editor, other := e.signUp("admin@example.com", policy.PlatformUser),
		e.signUp("editor@example.com", policy.PlatformUser), e.signUp("other-admin@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, editor, "editor")
	e.addMember(acme, other, "admin")
	outsider := e.signUp("outsider@example.com", policy.PlatformUser)
	e.createOrg(outsider, "Elsewhere")
	e.createNote(editor.in(acme), "editor's", nil)

	before := e.membersSnapshot(acme)
	e.checkRefusals(t, []refusal{
		{"oneself", admin.in(acme), removeMemberOp, map[string]any{"u": admin.id}, "FORBIDDEN", "", policy.ReasonRemoveSelf},
		{"admin removes the owner", admin.in(acme), removeMemberOp, map[string]any{"u": owner.id}, "FORBIDDEN", "org:delete", ""},
		{"editor lacks members:remove", editor.in(acme), removeMemberOp, map[string]any{"u": admin.id}, "FORBIDDEN", "members:remove", ""},
		{"user of another org", admin.in(acme), removeMemberOp, map[string]any{"u": outsider.id}, "NOT_FOUND", "", ""},
		{"outsider in acme", outsider.in(acme), removeMemberOp, map[string]any{"u": editor.id}, "NOT_FOUND", "", ""},
	})
	if diff := cmp.Diff(before, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("refused removals changed members (-before +after):\n%s", diff)
	}

	// An admin may remove another admin (nothing they lack).
	e.post(admin.in(acme), removeMemberOp, map[string]any{"u": other.id}).ok(t)
	e.post(admin.in(acme), `{ notes { totalCount } }`, nil).ok(t)

	var removed bool
	e.post(admin.in(acme), removeMemberOp, map[string]any{"u": editor.id}).ok(t).decode(t, "removeMember", &removed)
	if !removed {
		t.Errorf("removeMember answered false")
	}
	if got := e.post(editor.in(acme), `{ notes { totalCount } }`, nil).code(t); got != "NOT_FOUND" {
		t.Errorf("removed member's next request: code %s, want NOT_FOUND", got)
	}
	if got := e.post(admin.in(acme), removeMemberOp, map[string]any{"u": editor.id}).code(t); got != "NOT_FOUND" {
		t.Errorf("removing a removed member: code %s, want NOT_FOUND", got)
	}
	var removedAt, removedBy *string
	err := e.db.Super(t).QueryRow(t.Context(), `SELECT removed_at::text, removed_by::text FROM memberships WHERE org_id = $1 AND user_id = $2`,
		acme, editor.id).Scan(&removedAt, &removedBy)
	if err != nil || removedAt == nil || removedBy == nil || *removedBy != admin.id.String() {
		t.Errorf("history of the removal: removed_at %v, removed_by %v, err %v", removedAt, removedBy, err)
	}
	if n := e.auditCount(acme, "member.remove"); n != 2 {
		t.Errorf("%d member.remove events, want 2", n)
	}

	// They can join again; the old membership stays as history.
	e.addMember(acme, editor, "viewer")
	e.post(editor.in(acme), `{ notes { totalCount } }`, nil).ok(t)
	var rows int
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM memberships WHERE org_id = $1 AND user_id = $2`,
		acme, editor.id).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("%d membership rows for the re-added member (err %v), want 2", rows, err)
	}
	if diff := cmp.Diff(builtInCodes("viewer"), e.permissionsOf(editor.in(acme))); diff != "" {
		t.Errorf("re-added member holds only the new roles (-want +got):\n%s", diff)
	}
}

// TestLeaveOrganization: a member leaves and is refused on their next
// request there; their sessions forget the organization.
func TestLeaveOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	editor := e.signUp("editor@example.com", policy.PlatformUser)
	e.addMember(acme, editor, "editor")
	super := e.signUp("super@example.com", policy.PlatformSuperadmin)
	if _, err := e.db.Super(t).Exec(t.Context(), `UPDATE sessions SET active_org_id = $1 WHERE user_id = $2`, acme, editor.id); err != nil {
		t.Fatal(err)
	}

	if got := e.post(super.in(acme), leaveOrgOp, nil).code(t); got != "NOT_FOUND" {
		t.Errorf("a SUPERADMIN who is no member leaving: code %s, want NOT_FOUND", got)
	}
	var left bool
	e.post(editor.in(acme), leaveOrgOp, nil).ok(t).decode(t, "leaveOrganization", &left)
	if !left {
		t.Errorf("leaveOrganization answered false")
	}
	if got := e.post(editor.in(acme), `{ notes { totalCount } }`, nil).code(t); got != "NOT_FOUND" {
		t.Errorf("next request after leaving: code %s, want NOT_FOUND", got)
	}
	if got := e.post(editor.bare(), `{ organization { id } }`, nil).code(t); got != "ORG_REQUIRED" {
		t.Errorf("next request without a header after leaving: code %s, want ORG_REQUIRED", got)
	}
	var active int
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM sessions WHERE user_id = $1 AND active_org_id IS NOT NULL`,
		editor.id).Scan(&active); err != nil || active != 0 {
		t.Errorf("%d sessions still have the organization active (err %v)", active, err)
	}
	if got := e.post(editor.in(acme), leaveOrgOp, nil).code(t); got != "NOT_FOUND" {
		t.Errorf("leaving twice: code %s, want NOT_FOUND", got)
	}
	if n := e.auditCount(acme, "member.leave"); n != 1 {
		t.Errorf("%d member.leave events, want 1", n)
	}
	if diff := cmp.Diff(map[uuid.UUID]string{owner.id: "owner"}, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

// TestTransferOwnership: the new owner gains owner atomically; the old one
// keeps it or steps down to admin as asked; refusals change nothing.
func TestTransferOwnership(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, editor, viewer := e.signUp("admin@example.com", policy.PlatformUser),
		e.signUp("editor@example.com", policy.PlatformUser), e.signUp("viewer@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, editor, "editor")
	e.addMember(acme, viewer, "viewer")
	outsider := e.signUp("outsider@example.com", policy.PlatformUser)
	e.createOrg(outsider, "Elsewhere")

	before := e.membersSnapshot(acme)
	e.checkRefusals(t, []refusal{
		{"to oneself", owner.in(acme), transferOp, map[string]any{"u": owner.id}, "BAD_USER_INPUT", "", ""},
		{"admin lacks org:transfer", admin.in(acme), transferOp, map[string]any{"u": admin.id}, "FORBIDDEN", "org:transfer", ""},
		{"to a user of another org", owner.in(acme), transferOp, map[string]any{"u": outsider.id}, "NOT_FOUND", "", ""},
		{"to an unknown user", owner.in(acme), transferOp, map[string]any{"u": uuid.Must(uuid.NewV7())}, "NOT_FOUND", "", ""},
		{"outsider in acme", outsider.in(acme), transferOp, map[string]any{"u": outsider.id}, "NOT_FOUND", "", ""},
	})
	if diff := cmp.Diff(before, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("refused transfers changed members (-before +after):\n%s", diff)
	}

	// Without keepOwnerRole: the editor becomes owner, the owner admin.
	var m memberOut
	e.post(owner.in(acme), transferOp, map[string]any{"u": editor.id}).ok(t).decode(t, "transferOwnership", &m)
	if diff := cmp.Diff([]string{"editor", "owner"}, m.keys()); m.User.ID != editor.id.String() || diff != "" {
		t.Errorf("transferOwnership answered %+v (-want +got roles):\n%s", m, diff)
	}
	want := map[uuid.UUID]string{owner.id: "admin", admin.id: "admin", editor.id: "editor,owner", viewer.id: "viewer"}
	if diff := cmp.Diff(want, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("after transfer (-want +got):\n%s", diff)
	}
	if got := e.post(owner.in(acme), transferOp, map[string]any{"u": viewer.id}).code(t); got != "FORBIDDEN" {
		t.Errorf("the former owner transferring again: code %s, want FORBIDDEN", got)
	}

	// With keepOwnerRole: the new owner shares ownership with the viewer.
	e.post(editor.in(acme), transferOp, map[string]any{"u": viewer.id, "keep": true}).ok(t)
	want[viewer.id] = "owner,viewer"
	if diff := cmp.Diff(want, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("after transfer keeping owner (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(policy.All.Codes(), e.permissionsOf(viewer.in(acme))); diff != "" {
		t.Errorf("new owner's permissions on the next request (-want +got):\n%s", diff)
	}
	if n := e.auditCount(acme, "organization.transfer"); n != 2 {
		t.Errorf("%d organization.transfer events, want 2", n)
	}
}

// TestMembersPagination walks the members, longest-standing first, over
// several pages; removed members are not listed.
func TestMembersPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	want := []string{"owner@example.com"}
	var gone, reader user
	for i := range 7 {
		u := e.signUp(fmt.Sprintf("m%d@example.com", i), policy.PlatformUser)
		e.addMember(acme, u, "viewer")
		if i == 0 {
			reader = u // reads with members:read only
		}
		if i == 3 {
			gone = u
			continue
		}
		want = append(want, u.email)
	}
	e.post(owner.in(acme), removeMemberOp, map[string]any{"u": gone.id}).ok(t)
	outsider := e.signUp("outsider@example.com", policy.PlatformUser)
	e.createOrg(outsider, "Elsewhere")

	var got []string
	var joined []string
	after := ""
	for pages := 1; ; pages++ {
		vars := map[string]any{"first": 3}
		if after != "" {
			vars["after"] = after
		}
		var c struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   memberOut
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
		e.post(reader.in(acme), membersOp, vars).ok(t).decode(t, "members", &c)
		if c.TotalCount != len(want) {
			t.Errorf("totalCount %d, want %d", c.TotalCount, len(want))
		}
		for _, edge := range c.Edges {
			got = append(got, edge.Node.User.Email)
			joined = append(joined, edge.Node.JoinedAt)
			if len(edge.Node.Roles) != 1 || !edge.Node.Roles[0].BuiltIn || len(edge.Node.Roles[0].Permissions) == 0 {
				t.Errorf("member %s roles %+v", edge.Node.User.Email, edge.Node.Roles)
			}
		}
		if !c.PageInfo.HasNextPage {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		after = *c.PageInfo.EndCursor
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if !sort.StringsAreSorted(joined) {
		t.Errorf("joinedAt not ascending: %v", joined)
	}
	if got := e.post(owner.in(acme), membersOp, map[string]any{"after": "bogus"}).code(t); got != "BAD_USER_INPUT" {
		t.Errorf("bad cursor: code %s, want BAD_USER_INPUT", got)
	}
	if got := e.post(outsider.in(acme), membersOp, nil).code(t); got != "NOT_FOUND" {
		t.Errorf("members of another org: code %s, want NOT_FOUND", got)
	}
	var mine struct{ TotalCount int }
	e.post(outsider.bare(), membersOp, nil).ok(t).decode(t, "members", &mine)
	if mine.TotalCount != 1 {
		t.Errorf("the other org lists %d members, want 1", mine.TotalCount)
	}
}
