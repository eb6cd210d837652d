package invite

import (
	"context"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/store"
)

// withDetails reads, on q (a transaction in orgID's wall), the organization
// and the roles of invs, all of orgID: once for the lot, however many there
// are. A deleted organization is NOT_FOUND.
func withDetails(ctx context.Context, q *store.Queries, orgID uuid.UUID, invs []*Invitation) error {
	if len(invs) == 0 {
		return nil
	}
	o, err := org.Load(ctx, q, orgID)
	if err != nil {
		return err
	}
	roles, err := org.ListRoles(ctx, q, orgID)
	if err != nil {
		return err
	}
	byID := make(map[uuid.UUID]*org.Role, len(roles))
	for _, r := range roles {
		byID[r.ID] = r
	}
	for _, inv := range invs {
		inv.org, inv.roles = o, make([]*org.Role, 0, len(inv.RoleIDs))
		for _, id := range inv.RoleIDs {
			if r := byID[id]; r != nil { // a custom role deleted since is left out
				inv.roles = append(inv.roles, r)
			}
		}
	}
	return nil
}
