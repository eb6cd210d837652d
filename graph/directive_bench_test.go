package graph

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/store"
)

// BenchmarkDirectiveChain measures the directives of a field such as notes
// (@orgScoped @hasPermission(permission: "notes:read")) around a resolver
// that does nothing, with the caller's session and permissions warm in the
// server's cache:
//   - new-request: a fresh request (new memo, new guard), as every HTTP
//     query starts: the caller and principal come from the cache and the
//     guard records what its transaction must check;
//   - same-request: a further field of the same request (memo filled).
//
// Neither touches the database: the loop fails if a statement is sent.
func BenchmarkDirectiveChain(b *testing.B) {
	ctx := b.Context()
	db := pgtest.New(b)
	st, err := store.Open(ctx, db.AppURL, 2)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	user, session := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	err = st.InTx(ctx, func(q *store.Queries) error {
		if _, err := q.CreateUser(ctx, store.CreateUserParams{ID: user, Email: "bench@example.com", PlatformRole: "USER"}); err != nil {
			return err
		}
		return q.CreateSession(ctx, store.CreateSessionParams{ID: session, UserID: user, ExpiresAt: time.Now().Add(time.Hour)})
	})
	if err != nil {
		b.Fatal(err)
	}
	o, err := (&org.Service{Store: st}).Create(ctx, user, org.CreateInput{Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	d := directives{
		authz:  &authz.Service{Store: st, Now: time.Now, Cache: authz.NewCache(100)},
		logger: slog.New(slog.DiscardHandler),
	}
	base := authn.WithRequestedOrg(authn.NewContext(ctx, authn.Identity{Kind: authn.KindUser, UserID: user, SessionID: session}), o.ID)
	resolved := 0
	resolver := func(context.Context) (any, error) { resolved++; return nil, nil }
	chain := func(ctx context.Context) {
		_, err := d.hasPermission(ctx, nil, func(ctx context.Context) (any, error) {
			return d.orgScoped(ctx, nil, resolver)
		}, "notes:read")
		if err != nil {
			b.Fatal(err)
		}
	}
	request := func() context.Context {
		return store.WithGuard(authz.NewRequestContext(base), &store.Guard{})
	}
	chain(authz.NewRequestContext(base)) // the careful way once: fills the caches

	b.Run("new-request", func(b *testing.B) {
		before := st.Stats().RoundTrips()
		b.ReportAllocs()
		for b.Loop() {
			chain(request())
		}
		if n := st.Stats().RoundTrips() - before; n != 0 {
			b.Fatalf("the warm chain made %d round trips", n)
		}
	})
	b.Run("same-request", func(b *testing.B) {
		ctx := request()
		chain(ctx)
		before := st.Stats().RoundTrips()
		b.ReportAllocs()
		for b.Loop() {
			chain(ctx)
		}
		if n := st.Stats().RoundTrips() - before; n != 0 {
			b.Fatalf("the warm chain made %d round trips", n)
		}
	})
	if resolved == 0 {
		b.Fatal("the resolver never ran")
	}
}
