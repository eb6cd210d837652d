package note_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

// write creates a note with the given content as p.
func (tm *team) write(t *testing.T, p policy.Principal, title, body string, tags []string, vis note.Visibility) *note.Note {
	t.Helper()
	n, err := tm.svc.Create(t.Context(), p, note.CreateInput{Title: title, Body: body, Tags: tags, Visibility: &vis})
	if err != nil {
		t.Fatalf("create note %q: %v", title, err)
	}
	return n
}

func titles(ns []*note.Note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Title
	}
	return out
}

// TestSearchSyntax: websearch_to_tsquery reads a search as people type it.
func TestSearchSyntax(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	tm.write(t, p, "fox one", "the quick brown fox", nil, note.VisibilityOrg)
	tm.write(t, p, "fox two", "brown and quick fox", nil, note.VisibilityOrg)
	tm.write(t, p, "dog one", "a lazy dog", nil, note.VisibilityOrg)
	tm.write(t, p, "both", "fox meets dog", nil, note.VisibilityOrg)
	for _, tc := range []struct {
		search string
		want   []string
	}{
		{`"quick brown"`, []string{"fox one"}},
		{`fox -dog`, []string{"fox one", "fox two"}},
		{`lazy OR quick`, []string{"dog one", "fox one", "fox two"}},
		{`"brown fox" OR lazy`, []string{"dog one", "fox one"}},
		{`nothing`, []string{}},
	} {
		t.Run(tc.search, func(t *testing.T) {
			f := note.Filter{Search: &tc.search}
			got := titles(collect(t, 100, func(first *int, after *string) (*note.Page, error) {
				return tm.svc.List(t.Context(), p, first, after, f)
			}))
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			n, err := tm.svc.Count(t.Context(), p, f)
			if err != nil || n != len(tc.want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(tc.want))
			}
		})
	}
}

// TestSearchRankOrder: best match first, and paging through a search with
// two notes a page returns each match once, in the order one page gives.
func TestSearchRankOrder(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	// A title match weighs more than a body match; more occurrences more.
	tm.write(t, p, "body once", "about a kettle", nil, note.VisibilityOrg)
	tm.write(t, p, "kettle in the title", "nothing else", nil, note.VisibilityOrg)
	tm.write(t, p, "kettle kettle", "kettle kettle kettle", nil, note.VisibilityOrg)
	tm.write(t, p, "unrelated", "teapot", nil, note.VisibilityOrg)
	for i := range 6 { // ties of rank, broken by created_at then id
		tm.write(t, p, "tie", "a kettle "+string(rune('a'+i)), nil, note.VisibilityOrg)
	}
	search := "kettle"
	f := note.Filter{Search: &search}
	one, err := tm.svc.List(t.Context(), p, ptr(100), nil, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := titles(one.Notes[:2]); !slices.Equal(got, []string{"kettle kettle", "kettle in the title"}) {
		t.Errorf("best matches = %q, want the title matches first", got)
	}
	// The database's own order as the oracle: ranks must not rise.
	var want []uuid.UUID
	tm.inTenant(t, p, func(tx pgx.Tx) {
		rows, err := tx.Query(t.Context(), `
			SELECT id FROM notes
			WHERE (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B'))
			      @@ websearch_to_tsquery('english', 'kettle')
			ORDER BY ts_rank_cd(setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B'),
			                    websearch_to_tsquery('english', 'kettle')) DESC, created_at DESC, id DESC`)
		if err != nil {
			t.Fatal(err)
		}
		want, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			t.Fatal(err)
		}
	})
	paged := collect(t, 2, func(first *int, after *string) (*note.Page, error) {
		return tm.svc.List(t.Context(), p, first, after, f)
	})
	if len(want) != 9 {
		t.Fatalf("oracle found %d notes, want 9", len(want))
	}
	for name, got := range map[string][]*note.Note{"one page": one.Notes, "pages of 2": paged} {
		ids := make([]uuid.UUID, len(got))
		for i, n := range got {
			ids[i] = n.ID
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("%s: order (-want +got):\n%s", name, diff)
		}
	}
}

// TestSearchCursorsDoNotMix: a search cursor is refused without the search
// and a plain cursor with one, rather than silently skipping rows.
func TestSearchCursorsDoNotMix(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	for range 3 {
		tm.write(t, p, "kettle", "b", nil, note.VisibilityOrg)
	}
	search := "kettle"
	sp, err := tm.svc.List(t.Context(), p, ptr(1), nil, note.Filter{Search: &search})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := tm.svc.List(t.Context(), p, ptr(1), nil, note.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	sc, lc := sp.Cursor(0), lp.Cursor(0)
	_, err = tm.svc.List(t.Context(), p, ptr(1), &sc, note.Filter{})
	wantErr(t, err, qerr.BadUserInput, "")
	_, err = tm.svc.List(t.Context(), p, ptr(1), &lc, note.Filter{Search: &search})
	wantErr(t, err, qerr.BadUserInput, "")
}

// TestFilterCombinations: tags (all of them, normalised as a note's are),
// author and visibility narrow a search and each other.
func TestFilterCombinations(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	a, e := tm.author, tm.editor
	tm.write(t, a, "a work plan", "plan", []string{"Work", "q1"}, note.VisibilityOrg)
	tm.write(t, a, "a private plan", "plan", []string{"work"}, note.VisibilityPrivate)
	tm.write(t, a, "a home list", "list", []string{"home"}, note.VisibilityOrg)
	tm.write(t, e, "e work plan", "plan", []string{"work", "q1"}, note.VisibilityOrg)
	tm.write(t, e, "e private plan", "plan", []string{" WORK "}, note.VisibilityPrivate)
	authorID := uuid.UUID(a.UserID)
	private, org := note.VisibilityPrivate, note.VisibilityOrg
	plan := "plan"
	for _, tc := range []struct {
		name string
		f    note.Filter
		want []string // as the author sees them
	}{
		{"tag", note.Filter{Tags: []string{"work"}}, []string{"a private plan", "a work plan", "e work plan"}},
		{"tag as typed differently", note.Filter{Tags: []string{"  Work"}}, []string{"a private plan", "a work plan", "e work plan"}},
		{"all tags", note.Filter{Tags: []string{"work", "Q1"}}, []string{"a work plan", "e work plan"}},
		{"search and tags", note.Filter{Search: &plan, Tags: []string{"q1"}}, []string{"a work plan", "e work plan"}},
		{"search and author", note.Filter{Search: &plan, AuthorID: &authorID}, []string{"a private plan", "a work plan"}},
		{"search and visibility", note.Filter{Search: &plan, Visibility: &private}, []string{"a private plan"}},
		{"search, tags, author, visibility", note.Filter{Search: &plan, Tags: []string{"work"}, AuthorID: &authorID, Visibility: &org},
			[]string{"a work plan"}},
		{"tags and author without search", note.Filter{Tags: []string{"work"}, AuthorID: &authorID}, []string{"a private plan", "a work plan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := titles(collect(t, 2, func(first *int, after *string) (*note.Page, error) {
				return tm.svc.List(t.Context(), a, first, after, tc.f)
			}))
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			n, err := tm.svc.Count(t.Context(), a, tc.f)
			if err != nil || n != len(tc.want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(tc.want))
			}
		})
	}
	_, err := tm.svc.List(t.Context(), a, nil, nil, note.Filter{Tags: []string{strings.Repeat("x", note.MaxTagSize+1)}})
	wantErr(t, err, qerr.BadUserInput, "")
	if f := qerr.As(err).Field; f != "filter.tags" {
		t.Errorf("error names field %q, want filter.tags", f)
	}
}

// TestTagsNormalised: a note's tags are trimmed, lower-cased and
// de-duplicated, in first-seen order.
func TestTagsNormalised(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	n := tm.write(t, tm.author, "t", "b", []string{" Go ", "go", "SQL", "GO", "sql "}, note.VisibilityOrg)
	if diff := cmp.Diff([]string{"go", "sql"}, n.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}
