package store_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestWall2PrivateNoteHiddenFromSearch completes
// TestWall2PrivateNoteHiddenInItsOrg (which covers notes and revisions): a
// full-text search that forgets the visibility rule, as the app role in the
// note's own organization, finds a PRIVATE note for its author only.
func TestWall2PrivateNoteHiddenFromSearch(t *testing.T) {
	t.Parallel()
	w := newTwoTenants(t)
	for _, tc := range []struct {
		name string
		user uuid.UUID
		want int
	}{
		{"author finds it", w.userA, 1},
		{"other member does not", w.userA2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := inTenant(t, w.db.App(t), w.a, tc.user, func(tx pgx.Tx) error {
				var n int
				err := tx.QueryRow(t.Context(), `
					SELECT count(*) FROM notes
					WHERE id = $1
					  AND (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B'))
					      @@ websearch_to_tsquery('english', 'note')`, w.privateA).Scan(&n)
				if err != nil {
					return err
				}
				if n != tc.want {
					t.Errorf("search finds %d private notes, want %d", n, tc.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWall2TrashQueue: the purge queue shows every organization's ids only
// outside any organization (the purge job's discovery); inside one it shows
// that organization's rows, and nothing can write or delete across.
func TestWall2TrashQueue(t *testing.T) {
	t.Parallel()
	w := newTwoTenants(t)
	for _, n := range []struct{ org, user, id uuid.UUID }{{w.a, w.userA, w.notesA[0]}, {w.b, w.userB, w.notesB[0]}} {
		err := inTenant(t, w.db.App(t), n.org, n.user, func(tx pgx.Tx) error {
			_, err := tx.Exec(t.Context(), `UPDATE notes SET deleted_at = now() WHERE id = $1`, n.id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count := func(org uuid.UUID) int {
		var n int
		err := inTenant(t, w.db.App(t), org, uuid.Nil, func(tx pgx.Tx) error {
			return tx.QueryRow(t.Context(), `SELECT count(*) FROM trash_queue`).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(uuid.Nil); got != 2 {
		t.Errorf("outside any organization: %d queue rows, want 2", got)
	}
	if got := count(w.a); got != 1 {
		t.Errorf("in A: %d queue rows, want 1", got)
	}
	err := inTenant(t, w.db.App(t), w.a, w.userA, func(tx pgx.Tx) error {
		tag, err := tx.Exec(t.Context(), `DELETE FROM trash_queue WHERE org_id = $1`, w.b)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 0 {
			t.Errorf("A deleted %d of B's queue rows", tag.RowsAffected())
		}
		tag, err = tx.Exec(t.Context(), `DELETE FROM notes WHERE org_id = $1`, w.b)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 0 {
			t.Errorf("A deleted %d of B's notes", tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = inTenant(t, w.db.App(t), uuid.Nil, uuid.Nil, func(tx pgx.Tx) error {
		tag, err := tx.Exec(t.Context(), `DELETE FROM trash_queue`)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 0 {
			t.Errorf("outside any organization, %d queue rows deleted", tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = inTenant(t, w.db.App(t), w.a, w.userA, func(tx pgx.Tx) error {
		_, err := tx.Exec(t.Context(), `INSERT INTO trash_queue (note_id, org_id, author_id, deleted_at) VALUES ($1, $2, $3, now())`,
			w.notesB[1], w.b, w.userB)
		return err
	})
	if err == nil {
		t.Error("A inserted a queue row for B")
	}
	if got := count(uuid.Nil); got != 2 {
		t.Errorf("after the attempts: %d queue rows, want 2", got)
	}
}
