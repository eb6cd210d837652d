package note_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

const retention = 30 * 24 * time.Hour

func (tm *team) trash(t *testing.T, p policy.Principal, id uuid.UUID) {
	t.Helper()
	if _, err := tm.svc.Trash(t.Context(), p, id); err != nil {
		t.Fatalf("trash: %v", err)
	}
}

// purgeEvents returns the targets of the organization's note.purge events,
// failing on one that names an actor.
func (tm *team) purgeEvents(t *testing.T, p policy.Principal) map[uuid.UUID]int {
	t.Helper()
	out := map[uuid.UUID]int{}
	tm.inTenant(t, p, func(tx pgx.Tx) {
		rows, err := tx.Query(t.Context(), `SELECT target_id, actor_id IS NULL FROM audit_events WHERE action = 'note.purge'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id uuid.UUID
			var noActor bool
			if err := rows.Scan(&id, &noActor); err != nil {
				t.Fatal(err)
			}
			if !noActor {
				t.Errorf("purge of %s has an actor", id)
			}
			out[id]++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
	return out
}

// countAs counts rows of a note-related query as p sees them.
func (tm *team) countAs(t *testing.T, p policy.Principal, sql string, args ...any) int {
	t.Helper()
	var n int
	tm.inTenant(t, p, func(tx pgx.Tx) {
		if err := tx.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

// TestPurge: notes trashed longer ago than the retention go, with their
// revisions, each with an audit event; recent trash, live notes and
// restored notes stay.
func TestPurge(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	a := tm.author
	t0 := time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)
	tm.clock.Set(t0)
	old := tm.create(t, a, "old", note.VisibilityOrg)
	oldPrivate := tm.create(t, a, "old private", note.VisibilityPrivate)
	restored := tm.create(t, a, "restored", note.VisibilityOrg)
	live := tm.create(t, a, "live", note.VisibilityOrg)
	recent := tm.create(t, a, "recent", note.VisibilityOrg)
	if _, err := tm.svc.Update(t.Context(), a, old.ID, 1, note.UpdateInput{Body: ptr("v2")}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*note.Note{old, oldPrivate, restored} {
		tm.trash(t, a, n.ID)
	}
	if _, err := tm.svc.Restore(t.Context(), a, restored.ID); err != nil {
		t.Fatal(err)
	}
	if got := tm.countAs(t, a, `SELECT count(*) FROM trash_queue WHERE note_id = $1`, restored.ID); got != 0 {
		t.Errorf("restored note still queued for purge")
	}
	tm.clock.Set(t0.Add(retention - time.Hour))
	tm.trash(t, a, recent.ID)
	tm.clock.Set(t0.Add(retention + time.Hour))

	n, err := tm.svc.Purge(t.Context(), retention)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 notes purged", n, err)
	}
	for _, gone := range []*note.Note{old, oldPrivate} {
		if _, err := tm.svc.Get(t.Context(), a, gone.ID); qerr.CodeOf(err) != qerr.NotFound {
			t.Errorf("%s: Get = %v, want NOT_FOUND", gone.Title, err)
		}
		if got := tm.countAs(t, a, `SELECT count(*) FROM note_revisions WHERE note_id = $1`, gone.ID); got != 0 {
			t.Errorf("%s: %d revisions left", gone.Title, got)
		}
	}
	for _, kept := range []*note.Note{restored, live, recent} {
		tm.get(t, a, kept.ID)
	}
	events := tm.purgeEvents(t, a)
	if len(events) != 2 || events[old.ID] != 1 || events[oldPrivate.ID] != 1 {
		t.Errorf("purge events = %v, want one for each of %s and %s", events, old.ID, oldPrivate.ID)
	}
	if got := tm.countAs(t, a, `SELECT count(*) FROM trash_queue`); got != 1 {
		t.Errorf("%d notes queued after the purge, want 1 (recent)", got)
	}
	if n, err := tm.svc.Purge(t.Context(), retention); err != nil || n != 0 {
		t.Errorf("second Purge = %d, %v; want nothing", n, err)
	}
}

// TestPurgeConcurrent: two purgers at once (two replicas) purge each note
// exactly once, without errors.
func TestPurgeConcurrent(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	t0 := time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)
	tm.clock.Set(t0)
	var ids []uuid.UUID
	for i := range 120 {
		p := tm.author
		if i%2 == 1 {
			p = tm.editor
		}
		vis := note.VisibilityOrg
		if i%3 == 0 {
			vis = note.VisibilityPrivate
		}
		n := tm.create(t, p, "n", vis)
		tm.trash(t, p, n.ID)
		ids = append(ids, n.ID)
	}
	tm.clock.Set(t0.Add(retention + time.Hour))
	var (
		wg     sync.WaitGroup
		counts [2]int
		errs   [2]error
	)
	for i := range 2 {
		wg.Go(func() { counts[i], errs[i] = tm.svc.Purge(t.Context(), retention) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("purge errors: %v, %v", errs[0], errs[1])
	}
	if counts[0]+counts[1] != len(ids) {
		t.Errorf("purged %d + %d notes, want %d in all", counts[0], counts[1], len(ids))
	}
	events := tm.purgeEvents(t, tm.owner)
	for _, id := range ids {
		if events[id] != 1 {
			t.Errorf("note %s: %d purge events, want 1", id, events[id])
		}
	}
	if got := tm.countAs(t, tm.owner, `SELECT count(*) FROM notes`); got != 0 {
		t.Errorf("%d notes left", got)
	}
}
