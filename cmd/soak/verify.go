package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// verification is what reading the database after the run showed.
type verification struct {
	NotesInDB         int `json:"notes_in_db"`
	NotesAcked        int `json:"notes_acknowledged"`
	WritesAcked       int `json:"writes_acknowledged"`
	WritesVerified    int `json:"writes_verified"`
	LatestVerified    int `json:"latest_versions_verified"`
	CommittedUnacked  int `json:"updates_committed_without_answer"`
	UnknownNotes      int `json:"notes_created_without_answer"`
	SightingsVerified int `json:"notes_shown_verified"`
	problems          []string
	problemCount      int
}

func (v *verification) problem(format string, args ...any) {
	v.problemCount++
	if len(v.problems) < 50 {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

// verify reads, as the superuser (past row-level security), every note the
// soak wrote or was shown, and checks that:
//   - every acknowledged write is the revision of its version, exactly as
//     acknowledged (title, body, tags);
//   - each note is at its newest acknowledged version with that content,
//     unless an update whose answer was lost committed after it;
//   - every note a caller was shown belongs to the caller's organization,
//     and a PRIVATE one only ever to its author;
//   - the database holds no note the soak did not create, beyond creates
//     whose answers were lost.
func verify(ctx context.Context, url string, l *ledger) (*verification, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect as the superuser: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	l.mu.Lock()
	defer l.mu.Unlock()
	v := &verification{NotesAcked: len(l.notes)}

	type revKey struct {
		id      string
		version int
	}
	type rev struct {
		title, body string
		tags        []string
	}
	revs := map[revKey]rev{}
	rows, err := conn.Query(ctx, `SELECT note_id::text, version, title, body, tags FROM note_revisions`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k revKey
		var r rev
		if err := rows.Scan(&k.id, &k.version, &r.title, &r.body, &r.tags); err != nil {
			return nil, err
		}
		revs[k] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	type row struct {
		org, author, visibility string
		version                 int
		title, body             string
		tags                    []string
		deleted                 bool
	}
	db := map[string]row{}
	rows, err = conn.Query(ctx, `SELECT id::text, org_id::text, author_id::text, visibility, version, title, body, tags, deleted_at IS NOT NULL FROM notes`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.org, &r.author, &r.visibility, &r.version, &r.title, &r.body, &r.tags, &r.deleted); err != nil {
			return nil, err
		}
		db[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	v.NotesInDB = len(db)

	for id, n := range l.notes {
		got, ok := db[id]
		if !ok {
			v.problem("acknowledged note %s is not in the database", id)
			continue
		}
		if got.org != n.org || got.author != n.author || got.visibility != n.visibility {
			v.problem("note %s is in org %s by %s (%s), acknowledged in %s by %s (%s)",
				id, got.org, got.author, got.visibility, n.org, n.author, n.visibility)
		}
		if got.deleted {
			v.problem("note %s is in the trash; the soak never deleted it", id)
		}
		var latest ack
		for _, a := range n.acks {
			v.WritesAcked++
			r, ok := revs[revKey{id, a.Version}]
			switch {
			case !ok:
				v.problem("note %s: acknowledged version %d has no revision", id, a.Version)
			case r.title != a.Title || r.body != a.Body || !slices.Equal(r.tags, a.Tags):
				v.problem("note %s version %d is %q/%q/%v, acknowledged as %q/%q/%v",
					id, a.Version, r.title, r.body, r.tags, a.Title, a.Body, a.Tags)
			default:
				v.WritesVerified++
			}
			if a.Version > latest.Version {
				latest = a
			}
		}
		switch {
		case got.version == latest.Version:
			if got.title != latest.Title || got.body != latest.Body || !slices.Equal(got.tags, latest.Tags) {
				v.problem("note %s at version %d is %q/%q/%v, acknowledged as %q/%q/%v",
					id, got.version, got.title, got.body, got.tags, latest.Title, latest.Body, latest.Tags)
			} else {
				v.LatestVerified++
			}
		case got.version > latest.Version && n.unsure >= got.version-latest.Version:
			// Updates whose answers were lost (the outage) committed.
			v.CommittedUnacked += got.version - latest.Version
			v.LatestVerified++
		default:
			v.problem("note %s is at version %d; the newest acknowledged is %d and %d update(s) went unanswered",
				id, got.version, latest.Version, n.unsure)
		}
	}
	for id := range db {
		if l.notes[id] == nil {
			v.UnknownNotes++
		}
	}
	if v.UnknownNotes > l.unsureCreates {
		v.problem("the database holds %d notes the soak never heard of, but only %d creates went unanswered",
			v.UnknownNotes, l.unsureCreates)
	}

	for id, s := range l.seen {
		got, ok := db[id]
		if !ok {
			v.problem("note %s was shown to callers but is not in the database", id)
			continue
		}
		for org := range s.orgs {
			if org != got.org {
				v.problem("note %s of organization %s was shown to a member of %s", id, got.org, org)
			}
		}
		if got.visibility == "PRIVATE" {
			for u := range s.users {
				if u != got.author {
					v.problem("PRIVATE note %s of %s was shown to user %s", id, got.author, u)
				}
			}
		}
		v.SightingsVerified++
	}
	return v, nil
}
