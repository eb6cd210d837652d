package note

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Page is one page of a list: newest first, or best match first when
// searching.
type Page struct {
	Notes   []*Note
	HasNext bool
	// trash pages are keyed on deleted_at rather than created_at.
	trash bool
	// ranks holds each note's search rank on a search page, nil otherwise.
	ranks []float32
	// Authors holds each note's author as the list read them, in the order
	// of Notes (nil on a trash page), so showing them costs no statement.
	// A list reads the columns account.User shows, not every column.
	Authors []store.User
}

// Cursor returns the opaque cursor of the i-th note of the page.
func (pg *Page) Cursor(i int) string {
	n := pg.Notes[i]
	switch {
	case pg.trash:
		return page.Cursor{Time: *n.DeletedAt, ID: n.ID}.Encode()
	case pg.ranks != nil:
		return page.Cursor{Rank: &pg.ranks[i], Time: n.CreatedAt, ID: n.ID}.Encode()
	}
	return page.Cursor{Time: n.CreatedAt, ID: n.ID}.Encode()
}

// normalise validates f and returns it with its tags normalised as a note's
// are, so a filter on "Go " finds notes tagged "go".
func (f Filter) normalise() (Filter, error) {
	if f.Search != nil && (strings.TrimSpace(*f.Search) == "" || len(*f.Search) > 200) {
		return f, qerr.Invalid("filter.search", "search must be 1 to 200 characters")
	}
	if f.Search != nil && !storable(*f.Search) {
		return f, qerr.Invalid("filter.search", "search must be UTF-8 text without NUL characters")
	}
	if len(f.Tags) == 0 {
		f.Tags = nil
		return f, nil
	}
	tags, err := validTags(f.Tags)
	if err != nil {
		return f, qerr.Invalid("filter.tags", "%s", qerr.As(err).Message)
	}
	f.Tags = tags
	return f, nil
}

func (f Filter) visibility() *string {
	if f.Visibility == nil {
		return nil
	}
	v := string(*f.Visibility)
	return &v
}

// List returns a page of the live notes the principal may read: its
// organization's ORG notes and its own PRIVATE ones — the rows for which
// policy.Can(read) says yes, selected in SQL.
func (s *Service) List(ctx context.Context, p policy.Principal, first *int, after *string, f Filter) (*Page, error) {
	if err := check(p, policy.NotesRead, policy.InOrg(p.OrgID)); err != nil {
		return nil, err
	}
	size, cur, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	if f, err = f.normalise(); err != nil {
		return nil, err
	}
	if f.Search != nil {
		return s.search(ctx, p, size, cur, f)
	}
	if cur != nil && cur.Rank != nil {
		return nil, qerr.Invalid("after", "after is a search cursor; repeat the search to use it")
	}
	params := store.ListNotesParams{
		OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID), Lim: int32(size + 1),
		Tags: f.Tags, AuthorID: f.AuthorID, Visibility: f.visibility(),
	}
	start := cur.Or(page.Newest)
	params.AfterCreatedAt, params.AfterID = start.Time, start.ID
	// The page's notes and authors are arrays sized for it, filled as the
	// rows arrive: one allocation each, not one a note.
	notes := make([]Note, 0, size)
	authors := make([]store.User, 0, size)
	hasNext := false
	err = s.readOrg(ctx, p, func(q *store.Queries) error {
		notes, authors, hasNext = notes[:0], authors[:0], false
		return q.ListNotesEach(ctx, params, func(r *store.ListNotesRow) {
			if len(notes) == size {
				hasNext = true
				return
			}
			notes = append(notes, Note{
				ID: r.ID, OrgID: params.OrgID, AuthorID: r.AuthorID, Title: r.Title, Body: r.Body, Tags: r.Tags,
				Visibility: Visibility(r.Visibility), Version: int(r.Version), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			})
			authors = append(authors, store.User{
				ID: r.AuthorID, Email: r.AuthorEmail, DisplayName: r.AuthorDisplayName,
				PlatformRole: r.AuthorPlatformRole, Status: r.AuthorStatus, CreatedAt: r.AuthorCreatedAt,
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	pg := &Page{HasNext: hasNext, Notes: make([]*Note, len(notes)), Authors: authors}
	for i := range notes {
		pg.Notes[i] = &notes[i]
	}
	return pg, nil
}

// search is List with a search: best match first (ts_rank_cd), then newest,
// keyset-paginated on the rank too so pages stay stable.
func (s *Service) search(ctx context.Context, p policy.Principal, size int, cur *page.Cursor, f Filter) (*Page, error) {
	if cur != nil && cur.Rank == nil {
		return nil, qerr.Invalid("after", "after is not a cursor of a search; start the search without it")
	}
	params := store.SearchNotesParams{
		OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID), Lim: int32(size + 1), Search: *f.Search,
		Tags: f.Tags, AuthorID: f.AuthorID, Visibility: f.visibility(),
	}
	if cur != nil {
		params.AfterRank, params.AfterCreatedAt, params.AfterID = cur.Rank, &cur.Time, &cur.ID
	}
	var rows []store.SearchNotesRow
	err := s.readOrg(ctx, p, func(q *store.Queries) error {
		var err error
		rows, err = q.SearchNotes(ctx, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search notes: %w", err)
	}
	notes := make([]store.Note, len(rows))
	authors := make([]store.User, len(rows))
	ranks := make([]float32, len(rows))
	for i, r := range rows {
		notes[i], authors[i], ranks[i] = r.Note, r.User, r.Rank
	}
	pg := toPage(notes, size, false)
	pg.ranks = ranks[:len(pg.Notes)]
	pg.Authors = authors[:len(pg.Notes)]
	return pg, nil
}

// Count returns how many notes List would return over all pages.
func (s *Service) Count(ctx context.Context, p policy.Principal, f Filter) (int, error) {
	if err := check(p, policy.NotesRead, policy.InOrg(p.OrgID)); err != nil {
		return 0, err
	}
	f, err := f.normalise()
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.readOrg(ctx, p, func(q *store.Queries) error {
		var err error
		n, err = q.CountNotes(ctx, store.CountNotesParams{
			OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID),
			Search: f.Search, Tags: f.Tags, AuthorID: f.AuthorID, Visibility: f.visibility(),
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count notes: %w", err)
	}
	return int(n), nil
}

// ListTrash returns a page of the trashed notes the principal may read, most
// recently trashed first.
func (s *Service) ListTrash(ctx context.Context, p policy.Principal, first *int, after *string) (*Page, error) {
	if err := check(p, policy.NotesRead, policy.InOrg(p.OrgID)); err != nil {
		return nil, err
	}
	size, cur, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	params := store.ListTrashParams{OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID), Lim: int32(size + 1)}
	start := cur.Or(page.Newest)
	params.AfterDeletedAt, params.AfterID = start.Time, start.ID
	var rows []store.Note
	err = s.readOrg(ctx, p, func(q *store.Queries) error {
		rows, err = q.ListTrash(ctx, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list trash: %w", err)
	}
	return toPage(rows, size, true), nil
}

// CountTrash returns how many notes ListTrash would return over all pages.
func (s *Service) CountTrash(ctx context.Context, p policy.Principal) (int, error) {
	if err := check(p, policy.NotesRead, policy.InOrg(p.OrgID)); err != nil {
		return 0, err
	}
	var n int64
	err := s.readOrg(ctx, p, func(q *store.Queries) error {
		var err error
		n, err = q.CountTrash(ctx, store.CountTrashParams{OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID)})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count trash: %w", err)
	}
	return int(n), nil
}

func pageArgs(first *int, after *string) (int, *page.Cursor, error) {
	size, err := page.Size(first)
	if err != nil {
		return 0, nil, err
	}
	cur, err := page.Decode(after)
	return size, cur, err
}

// toPage keeps size rows; the extra one fetched tells whether there is more.
func toPage(rows []store.Note, size int, trash bool) *Page {
	pg := &Page{HasNext: len(rows) > size, trash: trash}
	if pg.HasNext {
		rows = rows[:size]
	}
	pg.Notes = make([]*Note, len(rows))
	for i, r := range rows {
		pg.Notes[i] = fromStore(r)
	}
	return pg
}
