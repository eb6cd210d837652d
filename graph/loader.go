package graph

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/qerr"
)

// loaders batch the look-ups a page of results repeats (a note's author, a
// revision's editor). They are built per operation, so no cached value
// crosses users or organizations.
type loaders struct {
	users *dataloader.Loader[uuid.UUID, *account.User]

	// revisions is built on first use, from the resolver's note service;
	// revs holds what it fetched.
	revisionsOnce sync.Once
	revisions     *dataloader.Loader[uuid.UUID, []*note.Revision]
	revs          revisionCache
}

type loadersKey struct{}

// loaderWait is how long a loader gathers keys before it fetches. gqlgen
// resolves a list's fields concurrently, so the keys of one page arrive
// within microseconds; a batch also leaves as soon as it is full.
const loaderWait = 200 * time.Microsecond

func newLoaders(accounts *account.Service) *loaders {
	return &loaders{
		users: dataloader.NewBatchedLoader(func(ctx context.Context, ids []uuid.UUID) []*dataloader.Result[*account.User] {
			users, err := accounts.ByIDs(ctx, ids)
			out := make([]*dataloader.Result[*account.User], len(ids))
			for i := range ids {
				switch {
				case err != nil:
					out[i] = &dataloader.Result[*account.User]{Error: err}
				case users[i] == nil:
					out[i] = &dataloader.Result[*account.User]{Error: qerr.New(qerr.NotFound, "user not found")}
				default:
					out[i] = &dataloader.Result[*account.User]{Data: users[i]}
				}
			}
			return out
		}, dataloader.WithWait[uuid.UUID, *account.User](loaderWait), dataloader.WithBatchCapacity[uuid.UUID, *account.User](100)),
	}
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// loadUser returns the user with id through the operation's loader.
func loadUser(ctx context.Context, id uuid.UUID) (*account.User, error) {
	return loadersFrom(ctx).users.Load(ctx, id)()
}

// revisionCache makes the revisions of a page one statement however the
// loader's time window splits the page's keys: the connection registers its
// notes' ids before their fields resolve, the first batch fetches them all,
// and batches run one at a time, so a later batch finds its keys fetched.
type revisionCache struct {
	mu   sync.Mutex
	page []uuid.UUID
	got  map[uuid.UUID][]*note.Revision
}

// notePage tells the operation's loaders which notes a connection returns,
// and hands the user loader the authors the page read along.
func notePage(ctx context.Context, pg *note.Page) {
	l := loadersFrom(ctx)
	if l == nil {
		return
	}
	for _, u := range pg.Authors {
		l.users.Prime(ctx, u.ID, account.FromStore(u))
	}
	l.revs.mu.Lock()
	defer l.revs.mu.Unlock()
	for _, n := range pg.Notes {
		l.revs.page = append(l.revs.page, n.ID)
	}
}

// loadRevisions returns the revisions of the note with id through the
// operation's loader: one statement for all the notes of a page.
func loadRevisions(ctx context.Context, notes *note.Service, id uuid.UUID) ([]*note.Revision, error) {
	l := loadersFrom(ctx)
	l.revisionsOnce.Do(func() {
		l.revisions = dataloader.NewBatchedLoader(l.revs.batch(notes),
			dataloader.WithWait[uuid.UUID, []*note.Revision](loaderWait),
			dataloader.WithBatchCapacity[uuid.UUID, []*note.Revision](100))
	})
	return l.revisions.Load(ctx, id)()
}

func (c *revisionCache) batch(notes *note.Service) dataloader.BatchFunc[uuid.UUID, []*note.Revision] {
	return func(ctx context.Context, ids []uuid.UUID) []*dataloader.Result[[]*note.Revision] {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.got == nil {
			c.got = map[uuid.UUID][]*note.Revision{}
		}
		var want []uuid.UUID
		for _, id := range append(ids, c.page...) {
			if _, ok := c.got[id]; !ok && !slices.Contains(want, id) {
				want = append(want, id)
			}
		}
		var err error
		if len(want) > 0 {
			var revs [][]*note.Revision
			if revs, err = revisionsOf(ctx, notes, want); err == nil {
				for i, id := range want {
					c.got[id] = revs[i]
				}
			}
		}
		out := make([]*dataloader.Result[[]*note.Revision], len(ids))
		for i, id := range ids {
			if err != nil {
				out[i] = &dataloader.Result[[]*note.Revision]{Error: err}
			} else {
				out[i] = &dataloader.Result[[]*note.Revision]{Data: c.got[id]}
			}
		}
		return out
	}
}

func revisionsOf(ctx context.Context, notes *note.Service, ids []uuid.UUID) ([][]*note.Revision, error) {
	p, err := authz.MustFromContext(ctx)
	if err != nil {
		return nil, err
	}
	return notes.RevisionsOf(ctx, p, ids)
}
