package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// noteOut is a note as the API returns it; every operation asks for these
// fields.
type noteOut struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Body       string   `json:"body"`
	Tags       []string `json:"tags"`
	Visibility string   `json:"visibility"`
	Version    int      `json:"version"`
	Author     struct {
		ID string `json:"id"`
	} `json:"author"`
}

const noteFields = `id title body tags visibility version author { id }`

// ack is one write the server acknowledged: the note as its answer showed
// it, which the database must hold at that version.
type ack struct {
	Version int
	Title   string
	Body    string
	Tags    []string
	At      time.Time // when the answer arrived
}

// note is what the soak knows of one note.
type note struct {
	id, org, author, visibility string
	cur                         int // the newest version any answer showed: the next expectedVersion
	acks                        []ack
	// unsure counts updates that failed without saying nothing changed
	// (INTERNAL, a lost connection): they may have committed.
	unsure int
}

// ackedBefore is the newest version acknowledged before t: a read that
// started at t must show at least this.
func (n *note) ackedBefore(t time.Time) int {
	v := 0
	for _, a := range n.acks {
		if a.At.Before(t) {
			v = max(v, a.Version)
		}
	}
	return v
}

// ledger records every acknowledged write and every note every caller was
// shown, and checks each answer as it arrives.
type ledger struct {
	mu    sync.Mutex
	notes map[string]*note
	byOrg map[string][]*note
	// unsureCreates counts creates that failed without saying nothing was
	// written: the database may hold notes the soak never heard of.
	unsureCreates int
	// seen: for each note id, the organizations and users it was shown to
	// (lists, single reads, events); checked against the database at the end.
	seen       map[string]*sighting
	violations []string
	nViolation int
	reads      int // notes checked in answers
}

type sighting struct {
	orgs  map[string]bool
	users map[string]bool
}

func newLedger() *ledger {
	return &ledger{notes: map[string]*note{}, byOrg: map[string][]*note{}, seen: map[string]*sighting{}}
}

// violation records a broken promise; the first 50 are kept verbatim.
func (l *ledger) violation(format string, args ...any) {
	l.nViolation++
	if len(l.violations) < 50 {
		l.violations = append(l.violations, fmt.Sprintf(format, args...))
	}
}

// created records an acknowledged createNote by author in org.
func (l *ledger) created(org, author string, n noteOut, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n.Author.ID != author || n.Version != 1 {
		l.violation("createNote in %s answered author %s version %d, want %s version 1", org, n.Author.ID, n.Version, author)
	}
	rec := &note{id: n.ID, org: org, author: author, visibility: n.Visibility, cur: n.Version,
		acks: []ack{{Version: n.Version, Title: n.Title, Body: n.Body, Tags: n.Tags, At: at}}}
	if _, dup := l.notes[n.ID]; dup {
		l.violation("createNote answered an id already in use: %s", n.ID)
		return
	}
	l.notes[n.ID] = rec
	l.byOrg[org] = append(l.byOrg[org], rec)
}

// updated records an acknowledged updateNote that expected version from.
func (l *ledger) updated(org string, from int, n noteOut, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := l.notes[n.ID]
	if rec == nil || rec.org != org {
		l.violation("updateNote in %s answered note %s, which the soak never created there", org, n.ID)
		return
	}
	if n.Version != from+1 {
		l.violation("updateNote of %s expected version %d and answered version %d, want %d", n.ID, from, n.Version, from+1)
	}
	rec.acks = append(rec.acks, ack{Version: n.Version, Title: n.Title, Body: n.Body, Tags: n.Tags, At: at})
	rec.cur = max(rec.cur, n.Version)
}

// unsureUpdate records an update whose outcome is unknown.
func (l *ledger) unsureUpdate(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec := l.notes[id]; rec != nil {
		rec.unsure++
	}
}

func (l *ledger) unsureCreate() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unsureCreates++
}

// shown checks a note an answer showed to user (a member of org) for a
// request that started at start: it must belong to org, be readable by
// user (not another member's PRIVATE note) and be no older than a version
// acknowledged before the request began.
func (l *ledger) shown(where, org, user string, n noteOut, start time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	s := l.seen[n.ID]
	if s == nil {
		s = &sighting{orgs: map[string]bool{}, users: map[string]bool{}}
		l.seen[n.ID] = s
	}
	s.orgs[org], s.users[user] = true, true
	if n.Visibility == "PRIVATE" && n.Author.ID != user {
		l.violation("%s showed user %s another member's PRIVATE note %s (author %s)", where, user, n.ID, n.Author.ID)
	}
	rec := l.notes[n.ID]
	if rec == nil {
		return // written by a request whose answer was lost; checked against the database at the end
	}
	if rec.org != org {
		l.violation("%s showed a member of %s note %s of organization %s", where, org, n.ID, rec.org)
	}
	if rec.author != n.Author.ID || rec.visibility != n.Visibility {
		l.violation("%s showed note %s by %s (%s), written by %s (%s)", where, n.ID, n.Author.ID, n.Visibility, rec.author, rec.visibility)
	}
	if want := rec.ackedBefore(start); n.Version < want {
		l.violation("%s showed note %s at version %d, after version %d was acknowledged", where, n.ID, n.Version, want)
	}
	rec.cur = max(rec.cur, n.Version)
}

// pick returns a random note of org that ok accepts, or nil.
func (l *ledger) pick(org string, ok func(*note) bool) *note {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := l.byOrg[org]
	for range 20 {
		if len(list) == 0 {
			return nil
		}
		if n := list[rand.IntN(len(list))]; ok(n) {
			return n
		}
	}
	return nil
}

// snapshot returns the version n's next update should expect.
func (l *ledger) snapshot(n *note) (cur int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return n.cur
}

// writes counts acknowledged writes.
func (l *ledger) writes() (notes, acks int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.notes {
		acks += len(n.acks)
	}
	return len(l.notes), acks
}
