package audit

import (
	"context"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/store"
)

// RecordSystem writes e in org as done by Quire itself (a background job):
// an organization's event with no actor. q must run in org's transaction.
func RecordSystem(ctx context.Context, q *store.Queries, org uuid.UUID, e Event) error {
	return write(ctx, q, &org, nil, nil, false, e)
}
