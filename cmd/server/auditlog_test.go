package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
)

// The app role's inability to UPDATE or DELETE audit events is proven in
// internal/store (TestWall2RefusesWritesAcross, "update audit events" and
// "delete audit events"): the grants allow INSERT and SELECT only.

const auditOp = `query($first: Int, $after: String, $f: AuditFilter) { auditEvents(first: $first, after: $after, filter: $f) {
	totalCount edges { cursor node { id action decision reason permission actor { id email } apiKeyId targetType targetId
	createdAt requestId platformOverride } } pageInfo { hasNextPage endCursor } } }`

type auditEventOut struct {
	ID         string
	Action     string
	Decision   string
	Reason     *string
	Permission *string
	Actor      *struct{ ID, Email string }
	TargetType *string
	TargetID   *string
	RequestID  *string
	Override   bool `json:"platformOverride"`
}

type auditPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   auditEventOut
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

// auditLog reads every page of c's organization's audit log, size events at
// a time, and checks totalCount on each page.
func (e *env) auditLog(c caller, size int, filter map[string]any) []auditEventOut {
	e.t.Helper()
	var out []auditEventOut
	vars := map[string]any{"first": size, "f": filter}
	for pages := 0; ; pages++ {
		if pages > 100 {
			e.t.Fatal("audit log pagination does not end")
		}
		var p auditPage
		e.post(c, auditOp, vars).ok(e.t).decode(e.t, "auditEvents", &p)
		for _, edge := range p.Edges {
			out = append(out, edge.Node)
		}
		if p.TotalCount < len(out) {
			e.t.Fatalf("totalCount %d, but %d events read", p.TotalCount, len(out))
		}
		if !p.PageInfo.HasNextPage {
			if p.TotalCount != len(out) {
				e.t.Fatalf("totalCount %d, but %d events over all pages", p.TotalCount, len(out))
			}
			return out
		}
		vars["after"] = *p.PageInfo.EndCursor
	}
}

func actions(evs []auditEventOut) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Action
	}
	return out
}

// TestAuditEventsPagination: the log is the organization's events, newest
// first in (created_at, id) order, the same over any page size, with
// totalCount over all pages; bad paging arguments are BAD_USER_INPUT.
func TestAuditEventsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Logged")
	for i := range 5 {
		e.createNote(owner.bare(), fmt.Sprintf("note %d", i), nil)
	}
	rows, err := e.db.Super(t).Query(t.Context(),
		`SELECT id::text FROM audit_events WHERE org_id = $1 ORDER BY created_at DESC, id DESC`, org)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if rows.Err() != nil || len(want) != 6 {
		t.Fatalf("fixture: %d events (%v), want 6", len(want), rows.Err())
	}
	for _, size := range []int{1, 2, 4, 6, 100} {
		evs := e.auditLog(owner.bare(), size, nil)
		got := make([]string, len(evs))
		for i, ev := range evs {
			got[i] = ev.ID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", size, diff)
		}
	}
	all := e.auditLog(owner.bare(), 20, nil)
	first := all[len(all)-1]
	if first.Action != "organization.create" || first.Actor == nil || first.Actor.ID != owner.id.String() ||
		first.TargetID == nil || *first.TargetID != org || first.RequestID == nil || first.Decision != "ALLOWED" {
		t.Errorf("oldest event = %+v, want organization.create by the owner", first)
	}
	for name, vars := range map[string]map[string]any{
		"first 0":   {"first": 0},
		"first 101": {"first": 101},
		"bad after": {"after": "not-a-cursor"},
	} {
		wantCode(t, name, e.post(owner.bare(), auditOp, vars), "BAD_USER_INPUT")
	}
}

// TestAuditEventsFilters: action, actor and decision narrow the log and its
// totalCount; a decision other than ALLOWED or DENIED is BAD_USER_INPUT; an
// event without an actor shows actor null.
func TestAuditEventsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner, editor := e.signUp("owner@example.com", policy.PlatformUser), e.signUp("editor@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Filtered")
	e.addMember(org, editor, "editor")
	e.createNote(owner.bare(), "owner's", nil)
	e.createNote(editor.bare(), "editor's 1", nil)
	e.createNote(editor.bare(), "editor's 2", nil)
	wantCode(t, "editor deletes the organization", e.post(editor.bare(), deleteOrgOp, nil), "FORBIDDEN")
	if _, err := e.db.Super(t).Exec(t.Context(), `INSERT INTO audit_events (id, org_id, action, decision)
		VALUES ($1, $2, 'system.maintenance', 'ALLOWED')`, uuid.Must(uuid.NewV7()), org); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		filter map[string]any
		want   []string
	}{
		{"action", map[string]any{"action": "note.create"}, []string{"note.create", "note.create", "note.create"}},
		{"actor", map[string]any{"actorId": editor.id.String()}, []string{"mutation.deleteOrganization", "note.create", "note.create"}},
		{"decision", map[string]any{"decision": "DENIED"}, []string{"mutation.deleteOrganization"}},
		{"all three", map[string]any{"action": "note.create", "actorId": editor.id.String(), "decision": "ALLOWED"}, []string{"note.create", "note.create"}},
		{"no match", map[string]any{"action": "note.create", "decision": "DENIED"}, []string{}},
		{"none", nil, []string{"system.maintenance", "mutation.deleteOrganization", "note.create", "note.create", "note.create", "organization.create"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := e.auditLog(owner.bare(), 2, tc.filter)
			if diff := cmp.Diff(tc.want, actions(evs)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
	nobody := e.auditLog(owner.bare(), 1, map[string]any{"action": "system.maintenance"})
	if len(nobody) != 1 || nobody[0].Actor != nil {
		t.Errorf("event without actor = %+v, want actor null", nobody)
	}
	for _, d := range []string{"MAYBE", "allowed", ""} {
		r := wantCode(t, "decision "+d, e.post(owner.bare(), auditOp, map[string]any{"f": map[string]any{"decision": d}}), "BAD_USER_INPUT")
		if r.Errors[0].Extensions["field"] != "filter.decision" {
			t.Errorf("decision %q: field %v, want filter.decision", d, r.Errors[0].Extensions["field"])
		}
	}
}

// TestAuditEventsAreTheOrgsOwn: each organization sees only its own
// events, never org-less ones (sign-ins, platform acts); another tenant's
// id is NOT_FOUND; reading needs audit:read and the audit module.
func TestAuditEventsAreTheOrgsOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice, bob := e.signUp("alice@example.com", policy.PlatformUser), e.signUp("bob@example.com", policy.PlatformUser)
	staff := e.signUp("staff@example.com", policy.PlatformAdmin)
	orgA, orgB := e.createOrg(alice, "A"), e.createOrg(bob, "B")
	e.createNote(bob.bare(), "bob's", nil)
	viewer := e.signUp("viewer@example.com", policy.PlatformUser)
	e.addMember(orgA, viewer, "viewer")

	if got := actions(e.auditLog(alice.bare(), 10, nil)); !slices.Equal(got, []string{"organization.create"}) {
		t.Errorf("A's log = %v, want only its creation", got)
	}
	if got := actions(e.auditLog(bob.bare(), 10, nil)); !slices.Equal(got, []string{"note.create", "organization.create"}) {
		t.Errorf("B's log = %v", got)
	}
	wantCode(t, "another tenant's log", e.post(alice.in(orgB), auditOp, nil), "NOT_FOUND")
	r := wantCode(t, "viewer", e.post(viewer.bare(), auditOp, nil), "FORBIDDEN")
	if r.Errors[0].Extensions["permission"] != "audit:read" {
		t.Errorf("viewer's FORBIDDEN names %v, want audit:read", r.Errors[0].Extensions["permission"])
	}

	e.post(staff.bare(), setModulesOp, map[string]any{"id": orgA, "m": []string{"core", "notes"}}).ok(t)
	r = wantCode(t, "audit module off", e.post(alice.bare(), auditOp, nil), "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "the audit module is not enabled for this organization" {
		t.Errorf("reason %v, want the audit module's", r.Errors[0].Extensions["reason"])
	}
	var denied int
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE decision = 'DENIED'`).Scan(&denied); err != nil {
		t.Fatal(err)
	}
	if denied != 0 {
		t.Errorf("%d DENIED events: refused queries are not attempts to change anything, want none", denied)
	}
}

// TestDeniedMutationsAreAudited: a mutation refused with FORBIDDEN, by a
// directive or by a service after its transaction rolled back, leaves a
// DENIED event with the permission and reason the client was given, in the
// organization it was aimed at; a refused platform mutation leaves an
// org-less one. Refusals of other kinds and refused queries leave none.
func TestDeniedMutationsAreAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner, admin := e.signUp("owner@example.com", policy.PlatformUser), e.signUp("admin@example.com", policy.PlatformUser)
	viewer, editor := e.signUp("viewer@example.com", policy.PlatformUser), e.signUp("editor@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Watched")
	e.addMember(org, admin, "admin")
	e.addMember(org, viewer, "viewer")
	e.addMember(org, editor, "editor")
	owners := e.createNote(owner.bare(), "owner's", nil)

	attempts := []struct {
		who        user
		op         string
		vars       map[string]any
		action     string
		permission string
	}{
		{viewer, `mutation { createNote(input: {title: "t", body: "b"}) { id } }`, nil, "mutation.createNote", "notes:create"},
		{admin, deleteOrgOp, nil, "mutation.deleteOrganization", "org:delete"},
		{editor, `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {title: "mine"}) { id } }`,
			map[string]any{"id": owners.ID}, "mutation.updateNote", "notes:manage"},
	}
	var want []auditEventOut
	for _, a := range attempts {
		r := wantCode(t, a.action, e.post(a.who.bare(), a.op, a.vars), "FORBIDDEN")
		reason, _ := r.Errors[0].Extensions["reason"].(string)
		perm := a.permission
		want = append([]auditEventOut{{Action: a.action, Decision: "DENIED", Reason: &reason, Permission: &perm,
			Actor: &struct{ ID, Email string }{a.who.id.String(), a.who.email}}}, want...)
	}
	// Neither a refusal of another kind nor a refused query is recorded.
	wantCode(t, "bad input", e.post(owner.bare(), `mutation { createNote(input: {title: "", body: ""}) { id } }`, nil), "BAD_USER_INPUT")
	wantCode(t, "refused query", e.post(viewer.bare(), auditOp, nil), "FORBIDDEN")

	got := e.auditLog(owner.bare(), 10, map[string]any{"decision": "DENIED"})
	for i := range got {
		if got[i].RequestID == nil || got[i].Override {
			t.Errorf("denied event %+v: want a request id and no override", got[i])
		}
		got[i].ID, got[i].RequestID = "", nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("denied events (-want +got):\n%s", diff)
	}
	if n := len(e.auditLog(owner.bare(), 10, map[string]any{"action": "note.update"})); n != 0 {
		t.Errorf("the refused update left %d note.update events", n)
	}

	wantCode(t, "platform mutation", e.post(owner.bare(), setModulesOp, map[string]any{"id": org, "m": []string{"core"}}), "FORBIDDEN")
	wantOrgless := []eventRow{{Actor: owner.id.String(), Decision: "DENIED", Reason: "requires the ADMIN platform role"}}
	if diff := cmp.Diff(wantOrgless, e.orgEvents("", "mutation.setOrganizationModules")); diff != "" {
		t.Errorf("org-less denied event (-want +got):\n%s", diff)
	}
}
