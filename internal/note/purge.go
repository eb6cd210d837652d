package note

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/store"
)

// purgeBatch is how many notes one purge transaction claims.
const purgeBatch = 100

// Purge deletes, for good, the notes trashed more than retention ago (their
// revisions go with them) and records a "note.purge" event for each in its
// organization, with no actor. It returns how many notes it purged.
//
// Several replicas may run it at once: each note is claimed with FOR UPDATE
// SKIP LOCKED in its organization's transaction, so exactly one purger
// deletes it and the others skip it. Row-level security lets no query list
// organizations, so the trash_queue table (kept by a trigger on
// notes.deleted_at, migration 00011) says which organizations and authors
// have due notes; the purge then runs as that author in that organization,
// the only principal RLS shows a PRIVATE note to.
func (s *Service) Purge(ctx context.Context, retention time.Duration) (int, error) {
	cutoff := s.Now().Add(-retention)
	purged := 0
	for {
		var owners []store.ListDueTrashOwnersRow
		err := s.Store.InTx(ctx, func(q *store.Queries) error {
			var err error
			owners, err = q.ListDueTrashOwners(ctx, store.ListDueTrashOwnersParams{Cutoff: cutoff, Lim: purgeBatch})
			return err
		})
		if err != nil {
			return purged, fmt.Errorf("find due trash: %w", err)
		}
		claimed := 0
		for _, o := range owners {
			c, n, err := s.purgeOwner(ctx, o.OrgID, o.AuthorID, cutoff)
			if err != nil {
				return purged, err
			}
			claimed += c
			purged += n
		}
		// Nothing claimed: no due notes left, or another purger holds the
		// rest and will finish them.
		if claimed == 0 {
			return purged, nil
		}
	}
}

// purgeOwner purges up to purgeBatch due notes of one author in one
// organization; it returns how many queue rows it claimed and how many notes
// it deleted.
func (s *Service) purgeOwner(ctx context.Context, org, author uuid.UUID, cutoff time.Time) (int, int, error) {
	var claimed, purged int
	err := s.Store.InOrgTx(ctx, org, author, func(q *store.Queries) error {
		ids, err := q.LockDueTrash(ctx, store.LockDueTrashParams{OrgID: org, AuthorID: author, Cutoff: cutoff, Lim: purgeBatch})
		if err != nil || len(ids) == 0 {
			return err
		}
		claimed = len(ids)
		// Re-checked in the DELETE: a note restored (and trashed again)
		// since is not old enough any more.
		gone, err := q.PurgeNotes(ctx, store.PurgeNotesParams{OrgID: org, Ids: ids, Cutoff: cutoff})
		if err != nil {
			return err
		}
		// The queue rows of purged notes cascaded; this clears any other.
		if err := q.DeleteTrashQueue(ctx, store.DeleteTrashQueueParams{OrgID: org, Ids: ids}); err != nil {
			return err
		}
		for _, id := range gone {
			if err := audit.RecordSystem(ctx, q, org, audit.Event{Action: "note.purge", TargetType: "note", TargetID: id}); err != nil {
				return err
			}
		}
		purged = len(gone)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("purge trash of org %s: %w", org, err)
	}
	return claimed, purged, nil
}

// RunPurge purges once now and then every interval until ctx ends. A failed
// run is logged and retried at the next tick.
func (s *Service) RunPurge(ctx context.Context, retention, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.Purge(ctx, retention)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("trash purge failed", "purged", n, "err", err)
		case n > 0:
			logger.Info("trash purged", "purged", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
