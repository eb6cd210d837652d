package account

import (
	"context"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/store"
)

// IssueFor opens a session for an active user and returns its first access
// and refresh tokens, exactly as a sign-in would, but without a sign-in
// link or an audit event. It is for seeding (`quire admin seed --tokens`)
// and tests, never for a request path: it proves nothing about the caller.
func (s *Service) IssueFor(ctx context.Context, userID uuid.UUID) (*AuthPayload, error) {
	var payload *AuthPayload
	err := s.Store.InTx(ctx, func(q *store.Queries) error {
		var err error
		payload, err = s.openSession(ctx, q, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return payload, nil
}
