package main

import (
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestCanExplains: can() answers what the API would, with a reason a UI can
// show: the granting role, the object rule, the disabled module.
func TestCanExplains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Explained")
	editor := e.signUp("editor@example.com", policy.PlatformUser)
	e.addMember(org, editor, "editor")
	ownersNote := e.createNote(owner.bare(), "owner's", nil)
	mine := e.createNote(editor.bare(), "mine", nil)
	diary := e.createNote(owner.bare(), "diary", map[string]any{"visibility": "PRIVATE"})

	type decision struct {
		Allowed bool
		Reason  string
	}
	ask := func(action string, resource *string) decision {
		vars := map[string]any{"a": action}
		if resource != nil {
			vars["r"] = *resource
		}
		var d decision
		e.post(editor.bare(), `query($a: String!, $r: ID) { can(action: $a, resourceId: $r) { allowed reason } }`, vars).ok(t).decode(t, "can", &d)
		return d
	}
	cases := []struct {
		name     string
		action   string
		resource *string
		want     decision
	}{
		{"granted by a role", "notes:create", nil, decision{true, "granted by role editor"}},
		{"own note", "notes:update", &mine.ID, decision{true, "granted by role editor"}},
		{"another's note", "notes:update", &ownersNote.ID, decision{false, "changing another member's note requires notes:manage"}},
		{"missing permission", "org:delete", nil, decision{false, "none of your roles grants org:delete"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ask(tc.action, tc.resource); got != tc.want {
				t.Errorf("can(%s) = %+v, want %+v", tc.action, got, tc.want)
			}
		})
	}
	t.Run("private note of another is not found", func(t *testing.T) {
		r := e.post(editor.bare(), `query($r: ID) { can(action: "notes:read", resourceId: $r) { allowed } }`, map[string]any{"r": diary.ID})
		if got := r.code(t); got != "NOT_FOUND" {
			t.Errorf("code %s, want NOT_FOUND", got)
		}
	})
	t.Run("module disabled, on the very next request", func(t *testing.T) {
		tx, err := e.db.App(t).Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(t.Context())
		if _, err := tx.Exec(t.Context(), `SELECT set_config('app.org_id', $1, true)`, org); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(t.Context(), `DELETE FROM organization_modules WHERE org_id = $1 AND module = 'notes'`, org); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		want := decision{false, "the notes module is not enabled for this organization"}
		if got := ask("notes:create", nil); got != want {
			t.Errorf("can(notes:create) = %+v, want %+v", got, want)
		}
		r := e.post(editor.bare(), `{ notes { totalCount } }`, nil)
		if r.code(t) != "FORBIDDEN" || r.Errors[0].Extensions["reason"] != want.Reason || r.Errors[0].Extensions["permission"] != "notes:read" {
			t.Errorf("notes with the module off: %+v", r.Errors)
		}
	})
}
