package graph

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/qerr"
)

// loaders batch the look-ups a page of results repeats (a note's author, a
// revision's editor). They are built per operation, so no cached value
// crosses users or organizations.
type loaders struct {
	users *dataloader.Loader[uuid.UUID, *account.User]
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
