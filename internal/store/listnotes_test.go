package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/store"
)

// TestListNotesIntoMatchesListNotes holds the hand-written ListNotesInto to
// the generated ListNotes it copies: the same rows, field for field, and
// appended after what the slice already held, without growing it when it
// has room.
func TestListNotesIntoMatchesListNotes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner, other := f.user(t, "owner"), f.user(t, "other")
	org := f.org(t, owner, "Acme")
	f.member(t, org, other, "editor")
	for range 3 {
		f.note(t, org, owner, note.VisibilityOrg)
		f.note(t, org, other, note.VisibilityOrg)
	}
	f.note(t, org, owner, note.VisibilityPrivate)
	f.note(t, org, other, note.VisibilityPrivate) // not owner's to read

	params := store.ListNotesParams{
		OrgID: org, UserID: owner, AfterCreatedAt: page.Newest.Time, AfterID: page.Newest.ID, Lim: 20,
	}
	var want, got []store.ListNotesRow
	prefix := store.ListNotesRow{Title: "already there"}
	err := f.st.InOrgTx(t.Context(), org, owner, func(q *store.Queries) error {
		var err error
		if want, err = q.ListNotes(t.Context(), params); err != nil {
			return err
		}
		buf := make([]store.ListNotesRow, 1, 1+len(want))
		buf[0] = prefix
		got, err = q.ListNotesInto(t.Context(), params, buf)
		if err == nil && &got[0] != &buf[0] {
			t.Error("ListNotesInto grew a slice that had room for the page")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 7 {
		t.Fatalf("ListNotes returned %d rows, want 7 (6 ORG notes and owner's PRIVATE one)", len(want))
	}
	if diff := cmp.Diff(append([]store.ListNotesRow{prefix}, want...), got); diff != "" {
		t.Errorf("ListNotesInto differs from ListNotes (-ListNotes +ListNotesInto):\n%s", diff)
	}
}
