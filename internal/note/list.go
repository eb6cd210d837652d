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

// Page is one page of a list, newest first.
type Page struct {
	Notes   []*Note
	HasNext bool
	// trash pages are keyed on deleted_at rather than created_at.
	trash bool
}

// Cursor returns the opaque cursor of the i-th note of the page.
func (pg *Page) Cursor(i int) string {
	n := pg.Notes[i]
	if pg.trash {
		return page.Cursor{Time: *n.DeletedAt, ID: n.ID}.Encode()
	}
	return page.Cursor{Time: n.CreatedAt, ID: n.ID}.Encode()
}

func (f Filter) validate() error {
	if f.Search != nil && (strings.TrimSpace(*f.Search) == "" || len(*f.Search) > 200) {
		return qerr.Invalid("filter.search", "search must be 1 to 200 characters")
	}
	if len(f.Tags) > MaxTags {
		return qerr.Invalid("filter.tags", "at most %d tags", MaxTags)
	}
	return nil
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
	if err := f.validate(); err != nil {
		return nil, err
	}
	params := store.ListNotesParams{
		OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID), Lim: int32(size + 1),
		Search: f.Search, Tags: f.Tags, AuthorID: f.AuthorID, Visibility: f.visibility(),
	}
	if cur != nil {
		params.AfterCreatedAt, params.AfterID = &cur.Time, &cur.ID
	}
	var rows []store.Note
	err = s.inOrg(ctx, p, func(q *store.Queries) error {
		rows, err = q.ListNotes(ctx, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return toPage(rows, size, false), nil
}

// Count returns how many notes List would return over all pages.
func (s *Service) Count(ctx context.Context, p policy.Principal, f Filter) (int, error) {
	if err := check(p, policy.NotesRead, policy.InOrg(p.OrgID)); err != nil {
		return 0, err
	}
	var n int64
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
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
	if cur != nil {
		params.AfterDeletedAt, params.AfterID = &cur.Time, &cur.ID
	}
	var rows []store.Note
	err = s.inOrg(ctx, p, func(q *store.Queries) error {
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
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
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
