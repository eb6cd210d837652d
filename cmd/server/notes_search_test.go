package main

import (
	"slices"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestNotesSearchThroughAPI: a search pages with first: 2 through every
// match exactly once, best match first; filters combine with it; tags are
// normalised; another member never finds a PRIVATE note.
func TestNotesSearchThroughAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	alice := e.signUp("alice@example.com", policy.PlatformUser)
	org := e.createOrg(alice, "Acme")
	bob := e.signUp("bob@example.com", policy.PlatformUser)
	e.addMember(org, bob, "editor")
	e.createNote(alice.in(org), "kettle kettle", map[string]any{"body": "kettle", "tags": []string{" Kitchen "}})
	e.createNote(alice.in(org), "kettle", map[string]any{"body": "steam"})
	for _, b := range []string{"a kettle", "the kettle boils", "kettle again", "no match"} {
		e.createNote(bob.in(org), "note", map[string]any{"body": b, "tags": []string{"kitchen"}})
	}
	secret := e.createNote(alice.in(org), "secret kettle", map[string]any{"visibility": "PRIVATE"})
	if !slices.Equal(e.createNote(alice.in(org), "t", map[string]any{"tags": []string{"A", "a "}}).Tags, []string{"a"}) {
		t.Error("tags are not normalised")
	}

	const q = `query($f: NoteFilter, $after: String) { notes(first: 2, after: $after, filter: $f) {
		totalCount edges { node { id title } } pageInfo { hasNextPage endCursor } } }`
	search := func(c caller, f map[string]any) []string {
		t.Helper()
		var ids []string
		var after any
		for range 20 {
			var conn struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Title string } }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
			}
			e.post(c, q, map[string]any{"f": f, "after": after}).ok(t).decode(t, "notes", &conn)
			for _, ed := range conn.Edges {
				ids = append(ids, ed.Node.Title+"/"+ed.Node.ID)
			}
			if !conn.PageInfo.HasNextPage {
				if conn.TotalCount != len(ids) {
					t.Errorf("totalCount %d, paged through %d", conn.TotalCount, len(ids))
				}
				return ids
			}
			after = conn.PageInfo.EndCursor
		}
		t.Fatal("no last page")
		return nil
	}
	got := search(alice.in(org), map[string]any{"search": "kettle"})
	if len(got) != 6 {
		t.Fatalf("alice found %d notes, want 6: %q", len(got), got)
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Errorf("%s returned twice", g)
		}
		seen[g] = true
	}
	if got[0][:len("kettle kettle/")] != "kettle kettle/" {
		t.Errorf("best match %q, want the note with kettle in its title twice", got[0])
	}
	for _, g := range search(bob.in(org), map[string]any{"search": "kettle"}) {
		if g == "secret kettle/"+secret.ID {
			t.Error("bob found alice's private note")
		}
	}
	if got := search(alice.in(org), map[string]any{"search": "kettle", "tags": []string{"KITCHEN"}}); len(got) != 4 {
		t.Errorf("kettle in kitchen: %q, want 4 notes", got)
	}
	if got := search(alice.in(org), map[string]any{"search": "kettle -boils", "authorId": bob.id.String()}); len(got) != 2 {
		t.Errorf("bob's kettle without boils: %q, want 2 notes", got)
	}
	if got := search(alice.in(org), map[string]any{"search": `"secret kettle" OR steam`, "visibility": "ORG"}); len(got) != 1 {
		t.Errorf("ORG notes matching secret kettle or steam: %q, want 1", got)
	}
}
