// Package authn says who the caller is: a user with an access JWT, or an API
// key. It never says what they may do; that is authz's job, from the database.
package authn

import (
	"context"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
)

// Kind tells a user token from an API key.
type Kind uint8

// Caller kinds.
const (
	KindUser Kind = iota + 1
	KindAPIKey
)

// Identity is an authenticated caller. For a user token, SessionID is the
// session the token belongs to; for an API key, APIKeyID and KeyOrgID are set
// and UserID is the key's creator, for whom it acts.
type Identity struct {
	Kind      Kind
	UserID    uuid.UUID
	SessionID uuid.UUID
	APIKeyID  uuid.UUID
	KeyOrgID  uuid.UUID
	// KeyScopes are an API key's permissions, to intersect with its
	// creator's.
	KeyScopes policy.Set
}

type (
	identityKey struct{}
	failureKey  struct{}
	orgKey      struct{}
)

// NewContext returns ctx carrying the caller's identity.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the caller's identity, if the request authenticated.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// NewFailureContext returns ctx recording why the presented credential was
// refused. The request goes on without an identity, so @public fields (such
// as refreshSession with a stale access token still attached) keep working,
// and @authenticated ones answer UNAUTHENTICATED with this error.
func NewFailureContext(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, failureKey{}, err)
}

// FailureFromContext returns the error recorded by NewFailureContext, or nil.
func FailureFromContext(ctx context.Context) error {
	err, _ := ctx.Value(failureKey{}).(error)
	return err
}

// WithRequestedOrg returns ctx carrying the organization the caller asked
// for (X-Organization-Id, or its websocket equivalent).
func WithRequestedOrg(ctx context.Context, org uuid.UUID) context.Context {
	return context.WithValue(ctx, orgKey{}, org)
}

// RequestedOrg returns the organization the caller asked for, if any.
func RequestedOrg(ctx context.Context) (uuid.UUID, bool) {
	org, ok := ctx.Value(orgKey{}).(uuid.UUID)
	return org, ok
}
