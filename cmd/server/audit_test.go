package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/policy"
)

// TestAuditCommitsWithTheChange: each successful mutation leaves exactly its
// audit event, with actor, organization, target and request id; a refused
// or failed one leaves none.
func TestAuditCommitsWithTheChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("audited@example.com", policy.PlatformUser)
	org := e.createOrg(u, "Audited")
	n := e.createNote(u.bare(), "watched", nil)
	id := map[string]any{"id": n.ID}
	e.post(u.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {title: "v2"}) { id } }`, id).ok(t)
	e.post(u.bare(), `mutation($id: ID!) { updateNote(id: $id, expectedVersion: 1, input: {title: "stale"}) { id } }`, id).code(t)
	e.post(u.bare(), `mutation { createNote(input: {title: "", body: ""}) { id } }`, nil).code(t)
	e.post(u.bare(), `mutation($id: ID!) { deleteNote(id: $id) { id } }`, id).ok(t)
	e.post(u.bare(), `mutation($id: ID!) { deleteNote(id: $id) { id } }`, id).code(t)
	e.post(u.bare(), `mutation($id: ID!) { restoreNote(id: $id) { id } }`, id).ok(t)

	rows, err := e.db.Super(t).Query(t.Context(), `
		SELECT action, coalesce(org_id::text, ''), coalesce(actor_id::text, ''), coalesce(target_id::text, ''),
		       decision, request_id IS NOT NULL
		FROM audit_events ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	type event struct {
		Action, Org, Actor, Target, Decision string
		HasRequestID                         bool
	}
	var got []event
	for rows.Next() {
		var ev event
		if err := rows.Scan(&ev.Action, &ev.Org, &ev.Actor, &ev.Target, &ev.Decision, &ev.HasRequestID); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	me := u.id.String()
	want := []event{
		{"user.create_with_link", "", "", me, "ALLOWED", false}, // from the command line: no request
		{"session.sign_in", "", me, me, "ALLOWED", true},
		{"organization.create", org, me, org, "ALLOWED", true},
		{"note.create", org, me, n.ID, "ALLOWED", true},
		{"note.update", org, me, n.ID, "ALLOWED", true},
		{"note.trash", org, me, n.ID, "ALLOWED", true},
		{"note.restore", org, me, n.ID, "ALLOWED", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
}
