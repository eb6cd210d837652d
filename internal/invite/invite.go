// Package invite is invitations: asking someone by email to join an
// organization with given roles, and their answer.
package invite

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Status is where an invitation stands. EXPIRED is never stored: a PENDING
// invitation past its expiry reads as EXPIRED.
type Status string

// Invitation statuses.
const (
	Pending  Status = "PENDING"
	Accepted Status = "ACCEPTED"
	Declined Status = "DECLINED"
	Revoked  Status = "REVOKED"
	Expired  Status = "EXPIRED"
)

// MarshalGQL writes the status as a GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Status(str) {
	case Pending, Accepted, Declined, Revoked, Expired:
		*s = Status(str)
		return nil
	}
	return fmt.Errorf("%q is not an InvitationStatus", str)
}

// Invitation is an invitation as its organization's inviters and its
// addressee see it.
type Invitation struct {
	ID          uuid.UUID
	OrgID       uuid.UUID
	Email       string
	RoleIDs     []uuid.UUID
	Status      Status
	InvitedByID *uuid.UUID
	ExpiresAt   time.Time
}

// Input is what inviteMember takes.
type Input struct {
	Email   string
	RoleIDs []uuid.UUID
}
