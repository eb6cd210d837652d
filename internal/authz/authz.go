// Package authz knows what a caller holds right now: their user and session
// as the database says, the active organization, and their effective
// permissions there. It states facts; policy.Can gives verdicts.
//
// Every request loads these from the database (once per request, memoised
// in the context); a cache checked against authz epochs may replace the
// loading later without changing what it answers.
package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Caller is an authenticated, active user, as the database says now.
type Caller struct {
	UserID       uuid.UUID
	SessionID    uuid.UUID
	APIKeyID     uuid.UUID
	KeyOrgID     uuid.UUID
	PlatformRole policy.PlatformRole
	// ActiveOrg is the organization the session last switched to, if any.
	ActiveOrg uuid.UUID
	// KeyScopes are an API key's permissions; the key may use those of its
	// creator's that are among them.
	KeyScopes policy.Set

	// userEpoch is the user's authorization epoch as loaded (0 for a key).
	userEpoch int64
	// expiresAt is when the session expires.
	expiresAt time.Time
	// soleOrg is, in a cached caller, the organization found to be the
	// caller's only one (uuid.Nil: not looked up).
	soleOrg uuid.UUID
}

// IsAPIKey reports whether the caller is an API key rather than a user.
func (c Caller) IsAPIKey() bool { return c.APIKeyID != uuid.Nil }

// Service loads callers and principals.
type Service struct {
	Store *store.Store
	Now   func() time.Time
	// Cache keeps principals between requests, checked against epochs on
	// every use; nil loads them from the database every time.
	Cache *Cache
}

// Caller checks that the identity's user is active and its session neither
// revoked nor expired. Any failure is UNAUTHENTICATED: fail closed.
func (s *Service) Caller(ctx context.Context, id authn.Identity) (Caller, error) {
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.callerDone {
			return m.caller, m.callerErr
		}
		m.caller, m.callerErr = s.loadCaller(ctx, id)
		m.callerDone = true
		return m.caller, m.callerErr
	}
	return s.loadCaller(ctx, id)
}

func (s *Service) loadCaller(ctx context.Context, id authn.Identity) (Caller, error) {
	switch id.Kind {
	case authn.KindAPIKey:
		// The key's check, in this request, found it live and its creator
		// active. A key has no platform role: it acts in its organization.
		return Caller{UserID: id.UserID, APIKeyID: id.APIKeyID, KeyOrgID: id.KeyOrgID,
			KeyScopes: id.KeyScopes, PlatformRole: policy.PlatformUser}, nil
	case authn.KindUser:
	default:
		return Caller{}, qerr.New(qerr.Unauthenticated, "unsupported credential")
	}
	// A request that may answer from caches (store.Guard on ctx) takes a
	// cached session and has its transactions check it still holds.
	g := store.GuardFrom(ctx)
	if g != nil {
		now := s.Now()
		if c, ok := s.Cache.caller(id.SessionID); ok && c.UserID == id.UserID && c.expiresAt.After(now) {
			g.AssumeCaller(store.CallerFacts{SessionID: c.SessionID, UserID: c.UserID, Now: now,
				UserEpoch: c.userEpoch, ActiveOrg: c.ActiveOrg})
			return c, nil
		}
	}
	row, err := s.Store.Global().GetCaller(ctx, store.GetCallerParams{UserID: id.UserID, SessionID: id.SessionID})
	switch {
	case err == store.ErrNoRows:
		return Caller{}, qerr.New(qerr.Unauthenticated, "session not found: sign in again")
	case err != nil:
		return Caller{}, fmt.Errorf("load caller: %w", err)
	case row.Status != "ACTIVE":
		return Caller{}, qerr.New(qerr.Unauthenticated, "this account is deactivated")
	case row.RevokedAt != nil:
		return Caller{}, qerr.New(qerr.Unauthenticated, "session revoked: sign in again")
	case !row.SessionExpiresAt.After(s.Now()):
		return Caller{}, qerr.New(qerr.Unauthenticated, "session expired: sign in again")
	}
	role, ok := policy.ParsePlatformRole(row.PlatformRole)
	if !ok {
		return Caller{}, fmt.Errorf("load caller: unknown platform role %q", row.PlatformRole)
	}
	c := Caller{UserID: row.ID, SessionID: id.SessionID, PlatformRole: role,
		userEpoch: row.AuthzEpoch, expiresAt: row.SessionExpiresAt}
	if row.ActiveOrgID != nil {
		c.ActiveOrg = *row.ActiveOrgID
	}
	s.Cache.putCaller(c)
	return c, nil
}

// Principal resolves the active organization for c and what c holds there.
// The organization is, in order: the API key's own; requested (the
// X-Organization-Id header, uuid.Nil if absent); the session's active one;
// the caller's only one. Otherwise ORG_REQUIRED. An organization the caller
// is not a member of answers NOT_FOUND, unless the caller is a SUPERADMIN,
// who acts there as a platform override.
func (s *Service) Principal(ctx context.Context, c Caller, requested uuid.UUID) (policy.Principal, error) {
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.principalDone && m.requested == requested {
			return m.principal, m.principalErr
		}
		m.principal, m.principalErr = s.loadPrincipal(ctx, c, requested)
		m.principalDone, m.requested = true, requested
		return m.principal, m.principalErr
	}
	return s.loadPrincipal(ctx, c, requested)
}

func (s *Service) loadPrincipal(ctx context.Context, c Caller, requested uuid.UUID) (policy.Principal, error) {
	switch {
	case c.KeyOrgID != uuid.Nil:
		if requested != uuid.Nil && requested != c.KeyOrgID {
			return policy.Principal{}, qerr.New(qerr.NotFound, "organization not found")
		}
		p, err := s.principalIn(ctx, c, c.KeyOrgID)
		if qerr.Is(err, qerr.NotFound) {
			return p, qerr.New(qerr.Unauthenticated, "invalid API key: its creator no longer belongs to its organization")
		}
		return p, err
	case requested != uuid.Nil:
		return s.principalIn(ctx, c, requested)
	case c.ActiveOrg != uuid.Nil:
		p, err := s.principalIn(ctx, c, c.ActiveOrg)
		if !qerr.Is(err, qerr.NotFound) {
			return p, err
		}
		// The session's organization is gone or the caller left it: fall
		// through to their only organization, as if none were active.
	}
	if g := store.GuardFrom(ctx); g != nil && c.soleOrg != uuid.Nil {
		g.AssumeSole(store.SoleFacts{UserID: c.UserID, OrgID: c.soleOrg})
		return s.principalIn(ctx, c, c.soleOrg)
	}
	org, err := s.soleOrg(ctx, c.UserID)
	if err != nil {
		return policy.Principal{}, err
	}
	s.Cache.noteSole(c, org)
	return s.principalIn(ctx, c, org)
}

func (s *Service) soleOrg(ctx context.Context, user uuid.UUID) (uuid.UUID, error) {
	var orgs []store.Organization
	err := s.Store.InOrgTx(ctx, uuid.Nil, user, func(q *store.Queries) error {
		var err error
		orgs, err = q.ListMyOrganizations(ctx, user)
		return err
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("list organizations: %w", err)
	}
	if len(orgs) != 1 {
		return uuid.Nil, qerr.New(qerr.OrgRequired,
			"no active organization: send X-Organization-Id or call switchOrganization")
	}
	return orgs[0].ID, nil
}

func (s *Service) principalIn(ctx context.Context, c Caller, org uuid.UUID) (policy.Principal, error) {
	f, err := s.facts(ctx, c, org)
	if qerr.Is(err, qerr.NotFound) {
		return policy.Principal{}, qerr.New(qerr.NotFound, "organization not found")
	}
	if err != nil {
		return policy.Principal{}, fmt.Errorf("load principal: %w", err)
	}
	p := policy.Principal{
		UserID:       policy.ID(c.UserID),
		APIKeyID:     policy.ID(c.APIKeyID),
		OrgID:        policy.ID(org),
		PlatformRole: c.PlatformRole,
		Modules:      f.modules,
	}
	if m := memoFrom(ctx); m != nil {
		m.grantedBy = f.grantedBy
	}
	switch {
	case f.member && c.IsAPIKey():
		p.Granted = f.granted & c.KeyScopes
	case f.member:
		p.Granted = f.granted
	case c.PlatformRole == policy.PlatformSuperadmin && c.APIKeyID == uuid.Nil:
		p.Granted, p.Override = policy.All, true
	default:
		return policy.Principal{}, qerr.New(qerr.NotFound, "organization not found")
	}
	return p, nil
}

// facts reads what c's user holds in org: from the cache when the epochs
// read now match the entry's, else from the database. The epochs are read
// first, in the same transaction, so a change committed in between can only
// make the stored entry newer than its epochs (and reloaded next time), never
// older.
//
// A request that may answer from caches (store.Guard on ctx) takes a cached
// entry without reading the epochs; the guard has the request's transactions
// check the organization's, and the caller's session check covers the
// user's.
func (s *Service) facts(ctx context.Context, c Caller, org uuid.UUID) (facts, error) {
	user := c.UserID
	key := cacheKey{user: user, org: org}
	if g := store.GuardFrom(ctx); g != nil {
		if f, ok := s.Cache.peek(key); ok && (c.IsAPIKey() || f.userEpoch == c.userEpoch) {
			g.AssumeOrg(store.OrgFacts{OrgID: org, Epoch: f.orgEpoch})
			return f, nil
		}
	}
	var f facts
	err := s.Store.InOrgTx(ctx, org, user, func(q *store.Queries) error {
		ep, err := q.GetEpochs(ctx, store.GetEpochsParams{OrgID: org, UserID: user})
		if err != nil {
			return err
		}
		if cached, ok := s.Cache.get(key, ep.OrgEpoch, ep.UserEpoch); ok {
			f = cached
			return nil
		}
		row, err := q.GetPrincipal(ctx, store.GetPrincipalParams{OrgID: org, UserID: user})
		if err != nil {
			return err
		}
		if f, err = factsFrom(row); err != nil {
			return err
		}
		f.orgEpoch, f.userEpoch = ep.OrgEpoch, ep.UserEpoch
		s.Cache.put(key, f)
		return nil
	})
	return f, err
}

func factsFrom(row store.GetPrincipalRow) (facts, error) {
	f := facts{member: row.Member}
	granted, unknown, ok := policy.ParseSet(row.Permissions)
	if !ok {
		// Fail closed: the database holds a code the policy does not know.
		return facts{}, fmt.Errorf("unknown permission %q", unknown)
	}
	if f.member {
		f.granted = granted
		f.grantedBy = make(map[policy.Permission]string, len(row.Grants))
		for _, g := range row.Grants {
			code, key, _ := strings.Cut(g, " ")
			if p, ok := policy.ParsePermission(code); ok && f.grantedBy[p] == "" {
				f.grantedBy[p] = key
			}
		}
	}
	for _, name := range row.Modules {
		m, ok := policy.ParseModule(name)
		if !ok {
			return facts{}, fmt.Errorf("unknown module %q", name)
		}
		f.modules |= policy.ModulesOf(m)
	}
	return f, nil
}

type (
	memoKey      struct{}
	principalKey struct{}
	callerKey    struct{}
)

// memo holds one request's caller and principal, so several fields of one
// operation load them once. It never outlives the request.
type memo struct {
	mu            sync.Mutex
	callerDone    bool
	caller        Caller
	callerErr     error
	principalDone bool
	requested     uuid.UUID
	principal     policy.Principal
	principalErr  error
	grantedBy     map[policy.Permission]string
}

// NewRequestContext returns ctx with an empty per-request memo.
func NewRequestContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{})
}

func memoFrom(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// Explain words an allowing decision for a person: which of the caller's
// roles grants the permission, or that a platform override does. Denials
// keep the policy's reason.
func Explain(ctx context.Context, p policy.Principal, d policy.Decision) string {
	if !d.Allowed {
		return d.Reason
	}
	if p.Override {
		return "allowed as a platform SUPERADMIN override"
	}
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		role := m.grantedBy[d.Permission]
		m.mu.Unlock()
		if role != "" {
			return "granted by role " + role
		}
	}
	return d.Reason
}

// NewContext returns ctx carrying p, the principal of the active organization.
func NewContext(ctx context.Context, p policy.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal put on ctx by @orgScoped.
func FromContext(ctx context.Context) (policy.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(policy.Principal)
	return p, ok
}

// NewCallerContext returns ctx carrying c, the authenticated caller.
func NewCallerContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFromContext returns the caller put on ctx by @authenticated,
// @platformRole or @orgScoped, or an INTERNAL error: a service reached
// without them is a wiring bug, and fails closed.
func CallerFromContext(ctx context.Context) (Caller, error) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	if !ok {
		return Caller{}, errors.New("no caller in context: field lacks an access directive")
	}
	return c, nil
}

// MustFromContext returns the principal on ctx, or an INTERNAL error: a
// service reached without @orgScoped is a wiring bug, and fails closed.
func MustFromContext(ctx context.Context) (policy.Principal, error) {
	p, ok := FromContext(ctx)
	if !ok {
		return policy.Principal{}, errors.New("no principal in context: field lacks @orgScoped")
	}
	return p, nil
}
