package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrStale is what a transaction returns when its guard failed: something the
// request assumed about its caller (cached, not read) no longer holds. The
// transaction ran nothing else. The request's answer must be dropped and
// computed again from the database.
var ErrStale = errors.New("cached authorization is stale")

// Guard holds what a request assumed about its caller without asking the
// database: the session and user (CallerFacts) and the organization's epoch
// (OrgFacts). Every InOrgTx of the request whose user is the guarded user
// checks the assumptions in app_enter, in the round trip that opens the
// transaction, until one passes; a failure aborts that transaction and marks
// the guard broken.
//
// A Guard is safe for concurrent use: gqlgen resolves fields concurrently.
type Guard struct {
	mu      sync.Mutex
	version int // bumped by every Assume*
	checked int // the version the last passing check covered
	broken  bool

	hasCaller bool
	caller    CallerFacts
	hasOrg    bool
	org       OrgFacts
	hasSole   bool
	sole      SoleFacts
}

// CallerFacts are the assumptions about a signed-in caller.
type CallerFacts struct {
	SessionID uuid.UUID
	UserID    uuid.UUID
	// Now is the server's clock when the request started; the session must
	// be live then.
	Now       time.Time
	UserEpoch int64
	// ActiveOrg is the session's active organization as cached (uuid.Nil if
	// none).
	ActiveOrg uuid.UUID
}

// OrgFacts are the assumptions about the organization a principal was cached
// in: it still exists and is at Epoch.
type OrgFacts struct {
	OrgID uuid.UUID
	Epoch int64
}

// SoleFacts are the assumption that a user belongs to exactly one
// organization, which a request without an active organization falls back
// to.
type SoleFacts struct {
	UserID uuid.UUID
	OrgID  uuid.UUID
}

// AssumeSole records that the request took the caller's only organization
// from a cache.
func (g *Guard) AssumeSole(f SoleFacts) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hasSole, g.sole = true, f
	g.version++
}

// AssumeCaller records that the request took the caller from a cache.
func (g *Guard) AssumeCaller(f CallerFacts) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hasCaller, g.caller = true, f
	g.version++
}

// AssumeOrg records that the request took its principal in f.OrgID from a
// cache.
func (g *Guard) AssumeOrg(f OrgFacts) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hasOrg, g.org = true, f
	g.version++
}

// Assumed reports whether the request assumed anything.
func (g *Guard) Assumed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.version > 0
}

// Pending reports whether some assumption has not been checked yet.
func (g *Guard) Pending() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.broken && g.checked < g.version
}

// Broken reports whether a check failed.
func (g *Guard) Broken() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.broken
}

// enterArgs returns app_enter's arguments for a transaction in org as user,
// with the checks that are pending and apply to it, and the version they
// cover (0: none apply).
func (g *Guard) enterArgs(org, user uuid.UUID) ([]any, int) {
	args := []any{nullID(org), nullID(user), nil, nil, nil, nil, nil, nil}
	if g == nil {
		return args, 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken || g.checked >= g.version {
		return args, 0
	}
	if g.hasCaller && g.caller.UserID == user {
		c := g.caller
		args[2], args[3], args[4], args[5] = c.SessionID, c.Now, c.UserEpoch, nullID(c.ActiveOrg)
	}
	if g.hasOrg && g.org.OrgID == org && org != uuid.Nil {
		args[6] = g.org.Epoch
	}
	if g.hasSole && g.sole.UserID == user {
		args[7] = g.sole.OrgID
	}
	// A check that covers only part of what is pending (a transaction in
	// another organization, say) still fails on what it covers, but proves
	// nothing about the rest.
	if (g.hasCaller && args[2] == nil) || (g.hasOrg && args[6] == nil) || (g.hasSole && args[7] == nil) {
		return args, 0
	}
	return args, g.version
}

// passed records that a check covering version held.
func (g *Guard) passed(version int) {
	if g == nil || version <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.checked = max(g.checked, version)
}

// failed records that a check did not hold.
func (g *Guard) failed() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.broken = true
}

type guardKey struct{}

// WithGuard returns ctx whose transactions check g.
func WithGuard(ctx context.Context, g *Guard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

// GuardFrom returns the guard on ctx, or nil: a request that may not answer
// from caches (a mutation, a subscription) has none.
func GuardFrom(ctx context.Context) *Guard {
	g, _ := ctx.Value(guardKey{}).(*Guard)
	return g
}

func nullID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

// scope is the organization and user whose transaction would check all of
// g's assumptions.
func (g *Guard) scope() (org, user uuid.UUID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hasOrg {
		org = g.org.OrgID
	}
	if g.hasCaller {
		user = g.caller.UserID
	}
	if g.hasSole {
		user = g.sole.UserID
	}
	return org, user
}

// CheckGuard checks g's pending assumptions in one round trip, for a request
// whose transactions did not (it read nothing of the organization's, say).
// It returns ErrStale if they no longer hold.
func (s *Store) CheckGuard(ctx context.Context, g *Guard) error {
	if !g.Pending() {
		if g.Broken() {
			return ErrStale
		}
		return nil
	}
	args, version := g.enterArgs(g.scope())
	// One statement outside BEGIN is its own transaction: the settings
	// app_enter makes end with it.
	if _, err := s.pool.Exec(ctx, enterSQL, args...); err != nil {
		if isStale(err) {
			g.failed()
			return ErrStale
		}
		return mapError(fmt.Errorf("check cached authorization: %w", err))
	}
	g.passed(version)
	return nil
}

// isStale reports whether err is app_enter refusing a guard's assumptions.
func isStale(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "QA001"
}
