// Package audit writes the audit log. A service records an event with the
// same queries, so inside the same transaction, as the change it describes:
// both commit or neither does.
package audit

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/requestid"
	"github.com/quirehq/quire/internal/store"
)

// Event is one audited act. Action is "<noun>.<verb>", e.g. "note.update".
type Event struct {
	Action     string
	TargetType string
	TargetID   uuid.UUID
	// Denied marks an audited refusal; Reason says why and Permission
	// names what was missing.
	Denied     bool
	Reason     string
	Permission string
}

// Record writes e as done by p in p's organization. A SUPERADMIN acting
// outside their memberships is recorded as an override.
func Record(ctx context.Context, q *store.Queries, p policy.Principal, e Event) error {
	org, actor := uuid.UUID(p.OrgID), uuid.UUID(p.UserID)
	var key *uuid.UUID
	if p.APIKeyID != (policy.ID{}) {
		k := uuid.UUID(p.APIKeyID)
		key = &k
	}
	return write(ctx, q, &org, &actor, key, p.Override, e)
}

// RecordGlobal writes e outside any organization (sign-in, platform
// administration). actor may be uuid.Nil for an act nobody signed in did.
func RecordGlobal(ctx context.Context, q *store.Queries, actor uuid.UUID, e Event) error {
	var a *uuid.UUID
	if actor != uuid.Nil {
		a = &actor
	}
	return write(ctx, q, nil, a, nil, false, e)
}

func write(ctx context.Context, q *store.Queries, org, actor, key *uuid.UUID, override bool, e Event) error {
	decision := "ALLOWED"
	if e.Denied {
		decision = "DENIED"
	}
	params := store.CreateAuditEventParams{
		ID:       uuid.Must(uuid.NewV7()),
		OrgID:    org,
		ActorID:  actor,
		ApiKeyID: key,
		Action:   e.Action,
		Decision: decision,
		Override: override,
	}
	if e.Reason != "" {
		params.Reason = &e.Reason
	}
	if e.Permission != "" {
		params.Permission = &e.Permission
	}
	if e.TargetType != "" {
		params.TargetType = &e.TargetType
		params.TargetID = &e.TargetID
	}
	if id := requestid.FromContext(ctx); id != "" {
		params.RequestID = &id
	}
	if err := q.CreateAuditEvent(ctx, params); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}
