package invite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Mine returns the pending, unexpired invitations addressed to user's
// email, in every organization, newest first, each with its organization
// and roles. An invitation to an organization deleted since is left out.
func (s *Service) Mine(ctx context.Context, user uuid.UUID) ([]*Invitation, error) {
	now := s.Now()
	var orgs []uuid.UUID
	// No organization is active: the invitations_addressee policy is what
	// lets this read cross organizations, and only toward user's email.
	err := s.Store.InOrgTx(ctx, uuid.Nil, user, func(q *store.Queries) error {
		var err error
		orgs, err = q.ListAddressedInvitationOrgs(ctx, store.ListAddressedInvitationOrgsParams{UserID: user, Now: now})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list organizations inviting %s: %w", user, err)
	}
	var out []*Invitation
	for _, o := range orgs {
		invs, err := s.addressedIn(ctx, o, user, now)
		if err != nil {
			return nil, err
		}
		out = append(out, invs...)
	}
	slices.SortFunc(out, func(a, b *Invitation) int {
		if c := b.createdAt.Compare(a.createdAt); c != 0 {
			return c
		}
		return slices.Compare(b.ID[:], a.ID[:])
	})
	return out, nil
}

// addressedIn reads orgID's pending invitations addressed to user, with
// their organization and roles, inside orgID's wall. Being their addressee
// is what entitles user to read them there, and the query checks it again
// in this transaction: a read of the organization and its roles on
// anything else's behalf never happens here.
func (s *Service) addressedIn(ctx context.Context, orgID, user uuid.UUID, now time.Time) ([]*Invitation, error) {
	var out []*Invitation
	err := s.Store.InOrgTx(ctx, orgID, user, func(q *store.Queries) error {
		rows, err := q.ListAddressedInvitations(ctx, store.ListAddressedInvitationsParams{OrgID: orgID, UserID: user, Now: now})
		if err != nil {
			return fmt.Errorf("list invitations: %w", err)
		}
		for _, r := range rows {
			out = append(out, fromStore(r, now))
		}
		err = withDetails(ctx, q, orgID, out)
		if qerr.Is(err, qerr.NotFound) { // the organization is gone
			out = nil
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read invitations of %s: %w", orgID, err)
	}
	return out, nil
}
