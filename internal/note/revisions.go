package note

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/store"
)

// RevisionsOf returns the revisions of each note in ids, newest first, in one
// statement: out[i] belongs to ids[i]. A note the principal may not read has
// none, as if it did not exist (the SQL repeats the PRIVATE rule, RLS holds
// it). It is what the revisions loader calls for a page of notes.
func (s *Service) RevisionsOf(ctx context.Context, p policy.Principal, ids []uuid.UUID) ([][]*Revision, error) {
	if err := check(p, policy.NotesRead, policy.InOrg(p.OrgID)); err != nil {
		return nil, err
	}
	var rows []store.ListRevisionsForNotesRow
	err := s.readOrg(ctx, p, func(q *store.Queries) error {
		var err error
		rows, err = q.ListRevisionsForNotes(ctx, store.ListRevisionsForNotesParams{
			OrgID: uuid.UUID(p.OrgID), UserID: uuid.UUID(p.UserID), NoteIds: ids,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list revisions of %d notes: %w", len(ids), err)
	}
	byNote := make(map[uuid.UUID][]*Revision, len(ids))
	for _, r := range rows {
		byNote[r.NoteID] = append(byNote[r.NoteID], &Revision{
			Version: int(r.Version), Title: r.Title, Body: r.Body, EditedBy: r.EditedBy, CreatedAt: r.CreatedAt,
		})
	}
	out := make([][]*Revision, len(ids))
	for i, id := range ids {
		out[i] = byNote[id]
		if out[i] == nil {
			out[i] = []*Revision{}
		}
	}
	return out, nil
}
