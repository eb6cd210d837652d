// Package invite is invitations: asking someone by email to join an
// organization with given roles, and their answer.
package invite

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/store"
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

	createdAt time.Time
	// org and roles are read by the service that returns the invitation,
	// inside the invitation's organization and under the authority the
	// caller had to see it (a member who may invite, or the addressee).
	org   *org.Organization
	roles []*org.Role
}

// Organization returns the organization the invitation is to. Only an
// invitation returned by the Service has it; any other is an error, so
// nothing reads an organization without having been allowed to.
func (i *Invitation) Organization() (*org.Organization, error) {
	if i.org == nil {
		return nil, errors.New("invitation read without its organization")
	}
	return i.org, nil
}

// Roles returns the roles the invitation grants, in the order the inviter
// gave, leaving out any custom role deleted since. Like Organization, only
// an invitation returned by the Service has them.
func (i *Invitation) Roles() ([]*org.Role, error) {
	if i.org == nil {
		return nil, errors.New("invitation read without its roles")
	}
	return i.roles, nil
}

// fromStore reads a row as of now: a PENDING invitation past its expiry is
// EXPIRED.
func fromStore(r store.Invitation, now time.Time) *Invitation {
	st := Status(r.Status)
	if st == Pending && !r.ExpiresAt.After(now) {
		st = Expired
	}
	return &Invitation{
		ID: r.ID, OrgID: r.OrgID, Email: r.Email, RoleIDs: r.RoleIds, Status: st,
		InvitedByID: r.InvitedBy, ExpiresAt: r.ExpiresAt, createdAt: r.CreatedAt,
	}
}

// Input is what inviteMember takes.
type Input struct {
	Email   string
	RoleIDs []uuid.UUID
}
