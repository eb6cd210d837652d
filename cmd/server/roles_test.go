package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

const (
	roleFields   = `id key name builtIn permissions`
	createRoleOp = `mutation($in: CreateRoleInput!) { createRole(input: $in) { ` + roleFields + ` } }`
	updateRoleOp = `mutation($id: ID!, $in: UpdateRoleInput!) { updateRole(id: $id, input: $in) { ` + roleFields + ` } }`
	deleteRoleOp = `mutation($id: ID!) { deleteRole(id: $id) }`
	rolesOp      = `{ roles { ` + roleFields + ` } }`
)

type roleOut struct {
	ID, Key, Name string
	BuiltIn       bool
	Permissions   []string
}

func roleInput(key, name string, perms ...string) map[string]any {
	if perms == nil {
		perms = []string{}
	}
	return map[string]any{"in": map[string]any{"key": key, "name": name, "permissions": perms}}
}

// rolesSnapshot reads org's custom roles and their permissions straight
// from the database, by key.
func (e *env) rolesSnapshot(org string) map[string]string {
	e.t.Helper()
	rows, err := e.db.Super(e.t).Query(e.t.Context(), `
		SELECT r.key, r.name || ':' || coalesce(string_agg(rp.permission, ',' ORDER BY rp.permission), '')
		FROM roles r
		LEFT JOIN role_permissions rp ON rp.role_id = r.id
		WHERE r.org_id = $1
		GROUP BY r.id`, org)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var key, v string
		if err := rows.Scan(&key, &v); err != nil {
			e.t.Fatal(err)
		}
		out[key] = v
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestCustomRoleLifecycle: create a role, give it, and the member uses
// exactly its permissions on the next request; change it and they see the
// change; it cannot be deleted while held; once nobody holds it, it can.
func TestCustomRoleLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, member, former := e.signUp("admin@example.com", policy.PlatformUser),
		e.signUp("member@example.com", policy.PlatformUser), e.signUp("former@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, member, "viewer")
	e.addMember(acme, former, "viewer")

	var role roleOut
	e.post(admin.in(acme), createRoleOp, roleInput("reviewer", "Reviewer", "notes:read", "notes:create", "notes:read")).
		ok(t).decode(t, "createRole", &role)
	if diff := cmp.Diff(roleOut{ID: role.ID, Key: "reviewer", Name: "Reviewer", Permissions: []string{"notes:create", "notes:read"}}, role); diff != "" {
		t.Errorf("created role (-want +got):\n%s", diff)
	}
	var listed []roleOut
	e.post(member.in(acme), rolesOp, nil).ok(t).decode(t, "roles", &listed)
	if len(listed) != 5 || listed[4].ID != role.ID || !listed[0].BuiltIn || listed[4].BuiltIn {
		t.Errorf("roles = %+v, want the four built-in ones then reviewer", listed)
	}

	e.post(admin.in(acme), setMemberRolesOp, setRolesVars(member.id, role.ID)).ok(t)
	e.post(admin.in(acme), setMemberRolesOp, setRolesVars(former.id, role.ID)).ok(t)
	if diff := cmp.Diff([]string{"notes:create", "notes:read"}, e.permissionsOf(member.in(acme))); diff != "" {
		t.Errorf("member holding reviewer uses (-want +got):\n%s", diff)
	}

	var changed roleOut
	e.post(admin.in(acme), updateRoleOp, map[string]any{"id": role.ID, "in": map[string]any{"name": "Reader", "permissions": []string{"notes:read", "members:read"}}}).
		ok(t).decode(t, "updateRole", &changed)
	if changed.Name != "Reader" || changed.Key != "reviewer" {
		t.Errorf("updated role = %+v", changed)
	}
	if diff := cmp.Diff([]string{"members:read", "notes:read"}, e.permissionsOf(member.in(acme))); diff != "" {
		t.Errorf("after the update the member uses (-want +got):\n%s", diff)
	}
	e.post(admin.in(acme), updateRoleOp, map[string]any{"id": role.ID, "in": map[string]any{"name": "Reader again"}}).ok(t)
	if diff := cmp.Diff(map[string]string{"reviewer": "Reader again:members:read,notes:read"}, e.rolesSnapshot(acme)); diff != "" {
		t.Errorf("a rename kept the permissions (-want +got):\n%s", diff)
	}

	r := e.post(admin.in(acme), deleteRoleOp, map[string]any{"id": role.ID})
	if r.code(t) != "CONFLICT" || r.Errors[0].Message != "role is held by 2 members: change their roles first" {
		t.Errorf("deleting a held role: %+v, want CONFLICT", r.Errors)
	}
	e.post(admin.in(acme), setMemberRolesOp, setRolesVars(member.id, e.roleIDsByKey(admin.in(acme))["viewer"])).ok(t)
	r = e.post(admin.in(acme), deleteRoleOp, map[string]any{"id": role.ID})
	if r.code(t) != "CONFLICT" || r.Errors[0].Message != "role is held by 1 member: change their roles first" {
		t.Errorf("deleting a role still held once: %+v, want CONFLICT", r.Errors)
	}
	if len(e.rolesSnapshot(acme)) != 1 {
		t.Errorf("a refused deletion deleted the role")
	}
	// A removed member's roles are history: they do not hold the role back.
	e.post(admin.in(acme), removeMemberOp, map[string]any{"u": former.id}).ok(t)
	var deleted bool
	e.post(admin.in(acme), deleteRoleOp, map[string]any{"id": role.ID}).ok(t).decode(t, "deleteRole", &deleted)
	if !deleted || len(e.rolesSnapshot(acme)) != 0 {
		t.Errorf("deleteRole = %v, roles left %v", deleted, e.rolesSnapshot(acme))
	}
	if got := e.post(admin.in(acme), deleteRoleOp, map[string]any{"id": role.ID}).code(t); got != "NOT_FOUND" {
		t.Errorf("deleting a deleted role: code %s, want NOT_FOUND", got)
	}
	for action, want := range map[string]int{"role.create": 1, "role.update": 2, "role.delete": 1} {
		if n := e.auditCount(acme, action); n != want {
			t.Errorf("%d %s events, want %d", n, action, want)
		}
	}
}

// TestRoleRulesRefuse: escalation, bad input, built-in roles and other
// organizations' roles are refused and change nothing.
func TestRoleRulesRefuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, editor := e.signUp("admin@example.com", policy.PlatformUser), e.signUp("editor@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, editor, "editor")
	outsider := e.signUp("outsider@example.com", policy.PlatformUser)
	other := e.createOrg(outsider, "Other")

	var mild, strong, foreign roleOut
	e.post(owner.in(acme), createRoleOp, roleInput("mild", "Mild", "notes:read")).ok(t).decode(t, "createRole", &mild)
	e.post(owner.in(acme), createRoleOp, roleInput("strong", "Strong", "notes:read", "org:delete")).ok(t).decode(t, "createRole", &strong)
	e.post(outsider.in(other), createRoleOp, roleInput("theirs", "Theirs", "notes:read")).ok(t).decode(t, "createRole", &foreign)
	ids := e.roleIDsByKey(owner.in(acme))
	update := func(id string, perms ...string) map[string]any {
		return map[string]any{"id": id, "in": map[string]any{"permissions": perms}}
	}

	beforeRoles, beforeMembers, beforeOther := e.rolesSnapshot(acme), e.membersSnapshot(acme), e.rolesSnapshot(other)
	e.checkRefusals(t, []refusal{
		{"admin creates a role with org:delete", admin.in(acme), createRoleOp, roleInput("boss", "Boss", "notes:read", "org:delete"), "FORBIDDEN", "org:delete", ""},
		{"admin adds org:transfer to a role", admin.in(acme), updateRoleOp, update(mild.ID, "notes:read", "org:transfer"), "FORBIDDEN", "org:transfer", ""},
		{"admin renames a role holding org:delete", admin.in(acme), updateRoleOp, map[string]any{"id": strong.ID, "in": map[string]any{"name": "x"}}, "FORBIDDEN", "org:delete", ""},
		{"admin gives a role holding org:delete", admin.in(acme), setMemberRolesOp, setRolesVars(editor.id, strong.ID), "FORBIDDEN", "org:delete", ""},
		{"editor lacks roles:manage", editor.in(acme), createRoleOp, roleInput("mine", "Mine", "notes:read"), "FORBIDDEN", "roles:manage", ""},
		{"editor lacks roles:manage to delete", editor.in(acme), deleteRoleOp, map[string]any{"id": mild.ID}, "FORBIDDEN", "roles:manage", ""},
		{"unknown permission", owner.in(acme), createRoleOp, roleInput("odd", "Odd", "notes:read", "notes:fly"), "BAD_USER_INPUT", "", ""},
		{"unknown permission in an update", owner.in(acme), updateRoleOp, update(mild.ID, "notes:fly"), "BAD_USER_INPUT", "", ""},
		{"bad key", owner.in(acme), createRoleOp, roleInput("Not A Key", "Bad", "notes:read"), "BAD_USER_INPUT", "", ""},
		{"key too long", owner.in(acme), createRoleOp, roleInput("k"+strings.Repeat("x", 40), "Long", "notes:read"), "BAD_USER_INPUT", "", ""},
		{"empty name", owner.in(acme), createRoleOp, roleInput("nameless", "  ", "notes:read"), "BAD_USER_INPUT", "", ""},
		{"empty name in an update", owner.in(acme), updateRoleOp, map[string]any{"id": mild.ID, "in": map[string]any{"name": ""}}, "BAD_USER_INPUT", "", ""},
		{"a built-in key", owner.in(acme), createRoleOp, roleInput("owner", "Owner 2", "notes:read"), "CONFLICT", "", ""},
		{"a taken key", owner.in(acme), createRoleOp, roleInput("mild", "Mild 2"), "CONFLICT", "", ""},
		{"update a built-in role", owner.in(acme), updateRoleOp, update(ids["viewer"], "notes:read", "notes:create"), "FORBIDDEN", "", policy.ReasonBuiltInChange},
		{"delete a built-in role", owner.in(acme), deleteRoleOp, map[string]any{"id": ids["editor"]}, "FORBIDDEN", "", policy.ReasonBuiltInDelete},
		{"update another org's role", owner.in(acme), updateRoleOp, update(foreign.ID, "notes:read", "notes:create"), "NOT_FOUND", "", ""},
		{"delete another org's role", owner.in(acme), deleteRoleOp, map[string]any{"id": foreign.ID}, "NOT_FOUND", "", ""},
		{"give another org's role", owner.in(acme), setMemberRolesOp, setRolesVars(editor.id, foreign.ID), "NOT_FOUND", "", ""},
		{"delete an unknown role", owner.in(acme), deleteRoleOp, map[string]any{"id": uuid.Must(uuid.NewV7())}, "NOT_FOUND", "", ""},
		{"outsider in acme", outsider.in(acme), deleteRoleOp, map[string]any{"id": mild.ID}, "NOT_FOUND", "", ""},
		{"acme's role from the other org", outsider.in(other), deleteRoleOp, map[string]any{"id": mild.ID}, "NOT_FOUND", "", ""},
	})
	r := e.post(owner.in(acme), createRoleOp, roleInput("odd", "Odd", "notes:fly"))
	if r.code(t) != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "notes:fly") {
		t.Errorf("unknown permission: %+v, want BAD_USER_INPUT naming it", r.Errors)
	}
	if diff := cmp.Diff(beforeRoles, e.rolesSnapshot(acme)); diff != "" {
		t.Errorf("refusals changed acme's roles (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeMembers, e.membersSnapshot(acme)); diff != "" {
		t.Errorf("refusals changed acme's members (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeOther, e.rolesSnapshot(other)); diff != "" {
		t.Errorf("refusals changed the other org's roles (-before +after):\n%s", diff)
	}
	var builtIn []roleOut
	e.post(owner.in(acme), rolesOp, nil).ok(t).decode(t, "roles", &builtIn)
	for _, role := range builtIn[:4] {
		if diff := cmp.Diff(builtInCodes(role.Key), role.Permissions); diff != "" {
			t.Errorf("built-in %s changed (-want +got):\n%s", role.Key, diff)
		}
	}

	// Within what they hold, an admin manages roles freely, and a role may
	// hold nothing at all.
	var empty roleOut
	e.post(admin.in(acme), createRoleOp, roleInput("empty", "Empty")).ok(t).decode(t, "createRole", &empty)
	if len(empty.Permissions) != 0 {
		t.Errorf("empty role holds %v", empty.Permissions)
	}
	e.post(admin.in(acme), updateRoleOp, update(mild.ID, "notes:read", "audit:read")).ok(t)
	e.post(admin.in(acme), updateRoleOp, update(strong.ID, "notes:read")).ok(t) // only the new set matters
}

// TestDeleteRoleRacesGrant: deleting a custom role while it is being given
// never leaves a member holding a deleted role, nor fails obscurely: either
// the grant wins (the deletion is a CONFLICT) or the deletion does (the
// grant is NOT_FOUND).
func TestDeleteRoleRacesGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	member := e.signUp("member@example.com", policy.PlatformUser)
	e.addMember(acme, member, "viewer")
	svc := &org.Service{Store: e.store}
	p := policy.Principal{UserID: policy.ID(owner.id), OrgID: policy.ID(uuid.MustParse(acme)), Granted: policy.All, Modules: policy.AllModules}
	seen := map[string]int{}
	for round := range 15 {
		role, err := svc.CreateRole(t.Context(), p, org.CreateRoleInput{Key: fmt.Sprintf("r%d", round), Name: "R", Permissions: []string{"notes:read"}})
		if err != nil {
			t.Fatal(err)
		}
		codes := race(func(i int) string {
			var err error
			if i == 0 {
				_, err = svc.SetMemberRoles(t.Context(), p, member.id, []uuid.UUID{role.ID})
			} else {
				err = svc.DeleteRole(t.Context(), p, role.ID)
			}
			if err == nil {
				return "OK"
			}
			return string(qerr.CodeOf(err))
		})
		seen[strings.Join(codes, "/")]++
		switch strings.Join(codes, "/") {
		case "OK/CONFLICT", "NOT_FOUND/OK":
		default:
			t.Errorf("round %d: grant %s, delete %s", round, codes[0], codes[1])
		}
		var dangling int
		if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM membership_roles mr
			LEFT JOIN roles r ON r.id = mr.role_id WHERE mr.org_id = $1 AND r.id IS NULL`, acme).Scan(&dangling); err != nil || dangling != 0 {
			t.Fatalf("round %d: %d grants of a missing role (err %v)", round, dangling, err)
		}
	}
	t.Logf("grant/delete outcomes: %v", seen)
}
