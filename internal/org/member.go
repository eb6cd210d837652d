package org

import (
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/page"
)

// Member is a user's active membership as others see it.
type Member struct {
	UserID   uuid.UUID
	Roles    []*Role
	JoinedAt time.Time
	// membershipID keys the page cursor.
	membershipID uuid.UUID
}

// MemberPage is one page of members, longest-standing first.
type MemberPage struct {
	Members []*Member
	HasNext bool
}

// Cursor returns the opaque cursor of the i-th member of the page.
func (p *MemberPage) Cursor(i int) string {
	m := p.Members[i]
	return page.Cursor{Time: m.JoinedAt, ID: m.membershipID}.Encode()
}

// UpdateInput is what updateOrganization takes; nil fields stay.
type UpdateInput struct {
	Name *string
	Slug *string
}

// CreateRoleInput is what createRole takes.
type CreateRoleInput struct {
	Key         string
	Name        string
	Permissions []string
}

// UpdateRoleInput is what updateRole takes; nil fields stay.
type UpdateRoleInput struct {
	Name        *string
	Permissions []string
}
