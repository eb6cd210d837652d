package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/store"
)

// TestListNotesEachMatchesListNotes holds the hand-written ListNotesEach to
// the generated ListNotes it copies: the same rows, field for field, in the
// same order.
func TestListNotesEachMatchesListNotes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner, other := f.user(t, "owner"), f.user(t, "other")
	org := f.org(t, owner, "Acme")
	f.member(t, org, other, "editor")
	// Tags differ from note to note, and only some notes have any, so a
	// row that kept the previous row's slice would show.
	write := func(author uuid.UUID, vis note.Visibility, tags ...string) {
		t.Helper()
		p := policy.Principal{UserID: policy.ID(author), OrgID: policy.ID(org), Granted: policy.All, Modules: policy.AllModules}
		in := note.CreateInput{Title: "note " + fmt.Sprint(tags), Body: "body", Tags: tags, Visibility: &vis}
		if _, err := (&note.Service{Store: f.st, Now: time.Now}).Create(t.Context(), p, in); err != nil {
			t.Fatalf("create note: %v", err)
		}
	}
	write(owner, note.VisibilityOrg, "a", "b")
	write(other, note.VisibilityOrg)
	write(owner, note.VisibilityOrg, "c")
	write(other, note.VisibilityOrg, "d", "e", "f")
	write(owner, note.VisibilityOrg)
	write(other, note.VisibilityOrg, "g")
	write(owner, note.VisibilityPrivate, "h")
	write(other, note.VisibilityPrivate, "i") // not owner's to read

	params := store.ListNotesParams{
		OrgID: org, UserID: owner, AfterCreatedAt: page.Newest.Time, AfterID: page.Newest.ID, Lim: 20,
	}
	var want, got []store.ListNotesRow
	err := f.st.InOrgTx(t.Context(), org, owner, func(q *store.Queries) error {
		var err error
		if want, err = q.ListNotes(t.Context(), params); err != nil {
			return err
		}
		return q.ListNotesEach(t.Context(), params, func(r *store.ListNotesRow) { got = append(got, *r) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 7 {
		t.Fatalf("ListNotes returned %d rows, want 7 (6 ORG notes and owner's PRIVATE one)", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListNotesEach differs from ListNotes (-ListNotes +ListNotesEach):\n%s", diff)
	}
}
