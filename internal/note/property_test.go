package note_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

type caller struct {
	name  string
	p     policy.Principal
	roles []string
}

// world is what TestListsAgreeWithCan generates: two organizations, members
// with random built-in roles, and notes in every state.
type world struct {
	users   []uuid.UUID
	callers []caller     // every (user, organization) membership
	notes   []*note.Note // every note, as it is now
}

// newWorld generates a world from a fixed seed, through the real services.
func newWorld(t *testing.T, e *env, seed uint64) *world {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	w := &world{}
	for i := range 6 {
		w.users = append(w.users, e.user(t, fmt.Sprintf("user%d", i)))
	}
	keys := []string{"owner", "admin", "editor", "viewer"}
	for o := range 2 {
		owner := e.org(t, w.users[o], fmt.Sprintf("Org %d", o))
		w.callers = append(w.callers, caller{fmt.Sprintf("user%d@org%d", o, o), owner, []string{"owner"}})
		for u := range w.users {
			if u == o || rng.IntN(4) == 0 {
				continue
			}
			roles := slices.Clone(keys)
			rng.Shuffle(len(roles), func(i, j int) { roles[i], roles[j] = roles[j], roles[i] })
			roles = roles[:1+rng.IntN(2)]
			p := e.member(t, owner.OrgID, w.users[u], roles...)
			w.callers = append(w.callers, caller{fmt.Sprintf("user%d@org%d", u, o), p, roles})
		}
	}
	var authors []caller
	for _, c := range w.callers {
		if c.p.Granted.Has(policy.NotesCreate) {
			authors = append(authors, c)
		}
	}
	words := []string{"alpha", "beta", "gamma"}
	tags := []string{"red", "blue", "green"}
	for i := range 40 {
		a := authors[rng.IntN(len(authors))]
		vis := note.VisibilityOrg
		if rng.IntN(3) == 0 {
			vis = note.VisibilityPrivate
		}
		var ts []string
		for _, tag := range tags {
			if rng.IntN(2) == 0 {
				ts = append(ts, tag)
			}
		}
		n, err := e.svc.Create(t.Context(), a.p, note.CreateInput{
			Title: fmt.Sprintf("note %d", i), Body: "about " + words[rng.IntN(len(words))], Tags: ts, Visibility: &vis,
		})
		if err != nil {
			t.Fatalf("create note %d as %s: %v", i, a.name, err)
		}
		switch rng.IntN(6) {
		case 0, 1: // trashed
			n = mustMove(t, e.svc.Trash, a.p, n.ID)
		case 2: // trashed and restored
			mustMove(t, e.svc.Trash, a.p, n.ID)
			n = mustMove(t, e.svc.Restore, a.p, n.ID)
		}
		w.notes = append(w.notes, n)
	}
	w.requireVariety(t)
	return w
}

func mustMove(t *testing.T, move func(ctx context.Context, p policy.Principal, id uuid.UUID) (*note.Note, error), p policy.Principal, id uuid.UUID) *note.Note {
	t.Helper()
	n, err := move(t.Context(), p, id)
	if err != nil {
		t.Fatalf("move note %s: %v", id, err)
	}
	return n
}

// requireVariety fails on a seed that would make the property trivial.
func (w *world) requireVariety(t *testing.T) {
	t.Helper()
	var hidden, trashed, trashedPrivate, multiRole, readOnly, inBoth int
	orgsOf := map[policy.ID]int{}
	for _, n := range w.notes {
		if n.DeletedAt != nil {
			trashed++
			if n.Visibility == note.VisibilityPrivate {
				trashedPrivate++
			}
		}
		for _, c := range w.callers {
			if d := policy.Can(c.p, policy.NotesRead, n.Resource()); d.Hidden && c.p.OrgID == policy.ID(n.OrgID) {
				hidden++
			}
		}
	}
	for _, c := range w.callers {
		if len(c.roles) > 1 {
			multiRole++
		}
		if !c.p.Granted.Has(policy.NotesCreate) {
			readOnly++
		}
		if orgsOf[c.p.UserID]++; orgsOf[c.p.UserID] == 2 {
			inBoth++
		}
	}
	stats := fmt.Sprintf("%d callers (%d with several roles, %d read-only, %d users in both organizations), "+
		"%d (member, note) pairs hidden, %d notes trashed (%d private)",
		len(w.callers), multiRole, readOnly, inBoth, hidden, trashed, trashedPrivate)
	if hidden == 0 || trashed == 0 || trashedPrivate == 0 || multiRole == 0 || readOnly == 0 || inBoth == 0 || len(w.callers) < 8 {
		t.Fatalf("seed too tame: %s", stats)
	}
	t.Log(stats)
}

// TestListsAgreeWithCan is DESIGN principle 8: for every member of every
// organization, what List, ListTrash, Count and CountTrash return is exactly
// the set of notes for which policy.Can(read) says yes, and Get answers
// NOT_FOUND exactly where Can hides the note.
func TestListsAgreeWithCan(t *testing.T) {
	t.Parallel()
	// Seeds checked by requireVariety to give a world worth testing.
	for _, seed := range []uint64{4, 5, 7} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			checkListsAgreeWithCan(t, seed)
		})
	}
}

func checkListsAgreeWithCan(t *testing.T, seed uint64) {
	e := newEnv(t)
	e.clock.every = 3 // notes share timestamps: the keyset must break ties by id
	w := newWorld(t, e, seed)
	private, orgVis := note.VisibilityPrivate, note.VisibilityOrg
	red := []string{"red"}
	redBlue := []string{"red", "blue"}
	search := "alpha"
	filters := []struct {
		name   string
		filter note.Filter
		match  func(*note.Note) bool
	}{
		{"no filter", note.Filter{}, func(*note.Note) bool { return true }},
		{"private", note.Filter{Visibility: &private}, func(n *note.Note) bool { return n.Visibility == private }},
		{"org", note.Filter{Visibility: &orgVis}, func(n *note.Note) bool { return n.Visibility == orgVis }},
		{"by user0", note.Filter{AuthorID: &w.users[0]}, func(n *note.Note) bool { return n.AuthorID == w.users[0] }},
		{"by user2", note.Filter{AuthorID: &w.users[2]}, func(n *note.Note) bool { return n.AuthorID == w.users[2] }},
		{"tag red", note.Filter{Tags: red}, func(n *note.Note) bool { return slices.Contains(n.Tags, "red") }},
		{"tags red+blue", note.Filter{Tags: redBlue}, func(n *note.Note) bool {
			return slices.Contains(n.Tags, "red") && slices.Contains(n.Tags, "blue")
		}},
		{"search alpha", note.Filter{Search: &search}, func(n *note.Note) bool { return strings.Contains(n.Body, "alpha") }},
	}
	const size = 7
	for _, c := range w.callers {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			readable := func(n *note.Note) bool { return policy.Can(c.p, policy.NotesRead, n.Resource()).Allowed }
			for _, f := range filters {
				got := collect(t, size, func(first *int, after *string) (*note.Page, error) {
					return e.svc.List(ctx, c.p, first, after, f.filter)
				})
				checkOrder(t, got, createdAt)
				var want []*note.Note
				for _, n := range w.notes {
					if n.DeletedAt == nil && readable(n) && f.match(n) {
						want = append(want, n)
					}
				}
				if diff := cmp.Diff(sortByID(want), sortByID(got)); diff != "" {
					t.Errorf("List(%s) vs Can(read) (-want +got):\n%s", f.name, diff)
				}
				count, err := e.svc.Count(ctx, c.p, f.filter)
				if err != nil || count != len(got) {
					t.Errorf("Count(%s) = %d, %v; List returned %d", f.name, count, err, len(got))
				}
			}

			got := collect(t, size, func(first *int, after *string) (*note.Page, error) {
				return e.svc.ListTrash(ctx, c.p, first, after)
			})
			checkOrder(t, got, deletedAt)
			var want []*note.Note
			for _, n := range w.notes {
				if n.DeletedAt != nil && readable(n) {
					want = append(want, n)
				}
			}
			if diff := cmp.Diff(sortByID(want), sortByID(got)); diff != "" {
				t.Errorf("ListTrash vs Can(read) (-want +got):\n%s", diff)
			}
			count, err := e.svc.CountTrash(ctx, c.p)
			if err != nil || count != len(got) {
				t.Errorf("CountTrash = %d, %v; ListTrash returned %d", count, err, len(got))
			}

			// Point checks, on every note of both organizations.
			for _, n := range w.notes {
				d := policy.Can(c.p, policy.NotesRead, n.Resource())
				got, err := e.svc.Get(ctx, c.p, n.ID)
				switch {
				case d.Allowed:
					if err != nil {
						t.Errorf("Get(%s): %v; Can allows it", n.Title, err)
					} else if diff := cmp.Diff(n, got); diff != "" {
						t.Errorf("Get(%s) (-want +got):\n%s", n.Title, diff)
					}
				case d.Hidden:
					if qerr.CodeOf(err) != qerr.NotFound {
						t.Errorf("Get(%s) = %v, %v; Can hides it (%s), want NOT_FOUND", n.Title, got, err, d.Reason)
					}
				default:
					t.Errorf("Can(read, %s) denies without hiding (%s): the members generated all hold notes:read", n.Title, d.Reason)
				}
			}
		})
	}
}
