package note

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Service manages notes. Every method takes the principal put on the
// context by @orgScoped and works inside its organization's wall.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

func (s *Service) inOrg(ctx context.Context, p policy.Principal, fn func(q *store.Queries) error) error {
	return s.Store.InOrgTx(ctx, uuid.UUID(p.OrgID), uuid.UUID(p.UserID), fn)
}

// readOrg is inOrg for a read of one statement, in one round trip
// (store.InOrgRead).
func (s *Service) readOrg(ctx context.Context, p policy.Principal, fn func(q *store.Queries) error) error {
	return s.Store.InOrgRead(ctx, uuid.UUID(p.OrgID), uuid.UUID(p.UserID), fn)
}

// check turns a deny into its error: NOT_FOUND when the note must not be
// known to exist, FORBIDDEN with the permission and reason otherwise.
func check(p policy.Principal, a policy.Permission, r policy.Resource) error {
	d := policy.Can(p, a, r)
	switch {
	case d.Allowed:
		return nil
	case d.Hidden:
		return qerr.New(qerr.NotFound, "note not found")
	default:
		return qerr.Denied(d.Permission.String(), d.Reason)
	}
}

// load reads a note the principal can see; NOT_FOUND otherwise.
func load(ctx context.Context, q *store.Queries, p policy.Principal, id uuid.UUID) (*Note, error) {
	row, err := q.GetNote(ctx, store.GetNoteParams{OrgID: uuid.UUID(p.OrgID), ID: id, UserID: uuid.UUID(p.UserID)})
	if err == store.ErrNoRows {
		return nil, qerr.New(qerr.NotFound, "note not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get note %s: %w", id, err)
	}
	n := fromStore(row)
	if err := check(p, policy.NotesRead, n.Resource()); err != nil {
		return nil, err
	}
	return n, nil
}

// Get returns the note with id, trashed or not. NOT_FOUND if it is in
// another organization or is another member's PRIVATE note.
func (s *Service) Get(ctx context.Context, p policy.Principal, id uuid.UUID) (*Note, error) {
	var n *Note
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		var err error
		n, err = load(ctx, q, p, id)
		return err
	})
	return n, err
}

// Create writes a note authored by the principal, with its first revision.
func (s *Service) Create(ctx context.Context, p policy.Principal, in CreateInput) (*Note, error) {
	title, err := validTitle(in.Title)
	if err != nil {
		return nil, err
	}
	if err := validBody(in.Body); err != nil {
		return nil, err
	}
	tags, err := validTags(in.Tags)
	if err != nil {
		return nil, err
	}
	vis := VisibilityOrg
	if in.Visibility != nil {
		vis = *in.Visibility
	}
	if err := check(p, policy.NotesCreate, policy.InOrg(p.OrgID)); err != nil {
		return nil, err
	}
	var n *Note
	err = s.inOrg(ctx, p, func(q *store.Queries) error {
		row, err := q.CreateNote(ctx, store.CreateNoteParams{
			ID: uuid.Must(uuid.NewV7()), OrgID: uuid.UUID(p.OrgID), AuthorID: uuid.UUID(p.UserID),
			Title: title, Body: in.Body, Tags: tags, Visibility: string(vis), Now: s.Now(),
		})
		if err != nil {
			return fmt.Errorf("insert note: %w", err)
		}
		n = fromStore(row)
		if err := writeRevision(ctx, q, p, n); err != nil {
			return err
		}
		if err := notify(ctx, q, n, EventCreated); err != nil {
			return err
		}
		return audit.Record(ctx, q, p, audit.Event{Action: "note.create", TargetType: "note", TargetID: n.ID})
	})
	return n, err
}

func writeRevision(ctx context.Context, q *store.Queries, p policy.Principal, n *Note) error {
	err := q.CreateNoteRevision(ctx, store.CreateNoteRevisionParams{
		ID: uuid.Must(uuid.NewV7()), OrgID: n.OrgID, NoteID: n.ID, Version: int32(n.Version),
		Title: n.Title, Body: n.Body, Tags: n.Tags, Visibility: string(n.Visibility),
		EditedBy: uuid.UUID(p.UserID), CreatedAt: n.UpdatedAt,
	})
	if err != nil {
		return fmt.Errorf("write revision %d of note %s: %w", n.Version, n.ID, err)
	}
	return nil
}

// Update changes a note if it is still at expectedVersion: a stale version
// answers CONFLICT and changes nothing. The author needs notes:update;
// anyone else also needs notes:manage. A trashed note is a CONFLICT too.
func (s *Service) Update(ctx context.Context, p policy.Principal, id uuid.UUID, expectedVersion int, in UpdateInput) (*Note, error) {
	var n *Note
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		cur, err := load(ctx, q, p, id)
		if err != nil {
			return err
		}
		if err := check(p, policy.NotesUpdate, cur.Resource()); err != nil {
			return err
		}
		params, err := applyUpdate(p, cur, in)
		if err != nil {
			return err
		}
		if cur.DeletedAt != nil {
			return qerr.New(qerr.Conflict, "the note is in the trash: restore it first")
		}
		if cur.Version != expectedVersion {
			return staleVersion(cur.Version, expectedVersion)
		}
		params.ExpectedVersion, params.Now = int32(expectedVersion), s.Now()
		row, err := q.UpdateNote(ctx, params)
		if err == store.ErrNoRows { // a concurrent update won the race
			return staleVersion(cur.Version+1, expectedVersion)
		}
		if err != nil {
			return fmt.Errorf("update note %s: %w", id, err)
		}
		n = fromStore(row)
		if err := writeRevision(ctx, q, p, n); err != nil {
			return err
		}
		if err := notify(ctx, q, n, EventUpdated); err != nil {
			return err
		}
		return audit.Record(ctx, q, p, audit.Event{Action: "note.update", TargetType: "note", TargetID: n.ID})
	})
	return n, err
}

func staleVersion(current, expected int) error {
	return qerr.New(qerr.Conflict,
		"the note changed since version %d (it is at version %d or later): reload it and apply your change again", expected, current)
}

// applyUpdate validates in and merges it over cur.
func applyUpdate(p policy.Principal, cur *Note, in UpdateInput) (store.UpdateNoteParams, error) {
	out := store.UpdateNoteParams{
		OrgID: cur.OrgID, ID: cur.ID, Title: cur.Title, Body: cur.Body, Tags: cur.Tags, Visibility: string(cur.Visibility),
	}
	var err error
	if in.Title != nil {
		if out.Title, err = validTitle(*in.Title); err != nil {
			return out, err
		}
	}
	if in.Body != nil {
		if err = validBody(*in.Body); err != nil {
			return out, err
		}
		out.Body = *in.Body
	}
	if in.Tags != nil {
		if out.Tags, err = validTags(in.Tags); err != nil {
			return out, err
		}
	}
	if in.Visibility != nil && *in.Visibility != cur.Visibility {
		if d := policy.CanSetVisibility(p, cur.Resource()); !d.Allowed {
			return out, qerr.Denied("", d.Reason)
		}
		out.Visibility = string(*in.Visibility)
	}
	return out, nil
}

// Trash moves a note to the trash. The author needs notes:delete; anyone
// else also notes:manage. Trashing a trashed note is a CONFLICT.
func (s *Service) Trash(ctx context.Context, p policy.Principal, id uuid.UUID) (*Note, error) {
	return s.move(ctx, p, id, "note.trash", EventDeleted, func(q *store.Queries) (store.Note, error) {
		return q.TrashNote(ctx, store.TrashNoteParams{OrgID: uuid.UUID(p.OrgID), ID: id, UserID: uuid.UUID(p.UserID), Now: s.Now()})
	})
}

// Restore takes a note out of the trash, under the same rules as Trash.
func (s *Service) Restore(ctx context.Context, p policy.Principal, id uuid.UUID) (*Note, error) {
	return s.move(ctx, p, id, "note.restore", EventRestored, func(q *store.Queries) (store.Note, error) {
		return q.RestoreNote(ctx, store.RestoreNoteParams{OrgID: uuid.UUID(p.OrgID), ID: id})
	})
}

func (s *Service) move(ctx context.Context, p policy.Principal, id uuid.UUID, action, kind string, write func(*store.Queries) (store.Note, error)) (*Note, error) {
	var n *Note
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		cur, err := load(ctx, q, p, id)
		if err != nil {
			return err
		}
		if err := check(p, policy.NotesDelete, cur.Resource()); err != nil {
			return err
		}
		row, err := write(q)
		if err == store.ErrNoRows {
			if cur.DeletedAt != nil {
				return qerr.New(qerr.Conflict, "the note is already in the trash")
			}
			return qerr.New(qerr.Conflict, "the note is not in the trash")
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", action, id, err)
		}
		n = fromStore(row)
		if err := notify(ctx, q, n, kind); err != nil {
			return err
		}
		return audit.Record(ctx, q, p, audit.Event{Action: action, TargetType: "note", TargetID: id})
	})
	return n, err
}

// Revisions returns every version of a visible note, newest first.
func (s *Service) Revisions(ctx context.Context, p policy.Principal, id uuid.UUID) ([]*Revision, error) {
	var out []*Revision
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		if _, err := load(ctx, q, p, id); err != nil {
			return err
		}
		rows, err := q.ListNoteRevisions(ctx, store.ListNoteRevisionsParams{OrgID: uuid.UUID(p.OrgID), NoteID: id})
		if err != nil {
			return fmt.Errorf("list revisions of %s: %w", id, err)
		}
		for _, r := range rows {
			out = append(out, &Revision{Version: int(r.Version), Title: r.Title, Body: r.Body, EditedBy: r.EditedBy, CreatedAt: r.CreatedAt})
		}
		return nil
	})
	return out, err
}

// Event kinds, as Event.Kind and the noteEvents subscription give them.
const (
	EventCreated  = "CREATED"
	EventUpdated  = "UPDATED"
	EventDeleted  = "DELETED"
	EventRestored = "RESTORED"
)

// notify sends the change to live subscribers (package live) when the
// transaction commits, and never if it rolls back: PostgreSQL delivers a
// NOTIFY only on commit. The payload is ids and the kind, never content.
func notify(ctx context.Context, q *store.Queries, n *Note, kind string) error {
	err := q.NotifyNoteEvent(ctx, store.NotifyNoteEventParams{OrgID: n.OrgID, NoteID: n.ID, Kind: kind})
	if err != nil {
		return fmt.Errorf("notify %s of note %s: %w", kind, n.ID, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// Explain answers what policy.Can says about action a on the note with id,
// for the can query. A note the principal cannot see is NOT_FOUND, as
// everywhere else.
func (s *Service) Explain(ctx context.Context, p policy.Principal, a policy.Permission, id uuid.UUID) (policy.Decision, error) {
	n, err := s.Get(ctx, p, id)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.Can(p, a, n.Resource()), nil
}
