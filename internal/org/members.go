package org

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// tenantTx runs fn inside p's organization's wall.
func (s *Service) tenantTx(ctx context.Context, p policy.Principal, fn func(q *store.Queries) error) error {
	return s.Store.InOrgTx(ctx, uuid.UUID(p.OrgID), uuid.UUID(p.UserID), fn)
}

// decided turns a policy deny into FORBIDDEN with its permission and reason.
func decided(d policy.Decision) error {
	switch {
	case d.Allowed:
		return nil
	case d.Reason == policy.ReasonUnknown:
		return qerr.Denied("", d.Reason)
	default:
		return qerr.Denied(d.Permission.String(), d.Reason)
	}
}

// permit repeats the directive's gate inside the service, so a caller that
// reaches it another way is held all the same.
func permit(p policy.Principal, a policy.Permission) error {
	return decided(policy.Can(p, a, policy.InOrg(p.OrgID)))
}

// strictSet reads the codes of a role held in the database. The permissions
// table admits catalog codes only, so an unknown one means the policy and
// the database disagree: fail closed.
func strictSet(codes []string) (policy.Set, error) {
	s, unknown, ok := policy.ParseSet(codes)
	if !ok {
		return 0, fmt.Errorf("read role permissions: unknown permission %q", unknown)
	}
	return s, nil
}

// Members returns a page of the organization's active members, longest-
// standing first, each with its roles. It needs members:read; a bad first or
// after is BAD_USER_INPUT.
func (s *Service) Members(ctx context.Context, p policy.Principal, first *int, after *string) (*MemberPage, error) {
	if err := permit(p, policy.MembersRead); err != nil {
		return nil, err
	}
	size, err := page.Size(first)
	if err != nil {
		return nil, err
	}
	cur, err := page.Decode(after)
	if err != nil {
		return nil, err
	}
	org := uuid.UUID(p.OrgID)
	params := store.ListMembersParams{OrgID: org, Lim: int32(size + 1)}
	start := cur.Or(page.Oldest)
	params.AfterCreatedAt, params.AfterID = start.Time, start.ID
	pg := &MemberPage{}
	err = s.tenantTx(ctx, p, func(q *store.Queries) error {
		rows, err := q.ListMembers(ctx, params)
		if err != nil {
			return fmt.Errorf("list members: %w", err)
		}
		if len(rows) > size {
			rows, pg.HasNext = rows[:size], true
		}
		for _, r := range rows {
			pg.Members = append(pg.Members, &Member{UserID: r.UserID, JoinedAt: r.CreatedAt, membershipID: r.ID})
		}
		_, err = withRoles(ctx, q, org, pg.Members)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pg, nil
}

// CountMembers returns how many active members the organization has. It
// needs members:read.
func (s *Service) CountMembers(ctx context.Context, p policy.Principal) (int, error) {
	if err := permit(p, policy.MembersRead); err != nil {
		return 0, err
	}
	var n int64
	err := s.tenantTx(ctx, p, func(q *store.Queries) error {
		var err error
		n, err = q.CountMembers(ctx, uuid.UUID(p.OrgID))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count members: %w", err)
	}
	return int(n), nil
}

// withRoles fills in the roles of members and returns, per membership, the
// union of their permissions as granted (modules not applied).
func withRoles(ctx context.Context, q *store.Queries, org uuid.UUID, members []*Member) (map[uuid.UUID]policy.Set, error) {
	ids := make([]uuid.UUID, len(members))
	byID := make(map[uuid.UUID]*Member, len(members))
	for i, m := range members {
		ids[i], byID[m.membershipID] = m.membershipID, m
		m.Roles = []*Role{}
	}
	rows, err := q.ListMembershipRoles(ctx, store.ListMembershipRolesParams{OrgID: org, MembershipIds: ids})
	if err != nil {
		return nil, fmt.Errorf("list member roles: %w", err)
	}
	granted := make(map[uuid.UUID]policy.Set, len(members))
	for _, r := range rows {
		set, err := strictSet(r.Permissions)
		if err != nil {
			return nil, err
		}
		m := byID[r.MembershipID]
		m.Roles = append(m.Roles, roleFrom(r.ID, r.OrgID, r.Key, r.Name, r.Permissions))
		granted[r.MembershipID] |= set
	}
	return granted, nil
}

// lockMember returns user's active membership in org, locked until the
// transaction ends, with its roles and their union. NOT_FOUND if user is no
// active member of org (another organization's included).
func lockMember(ctx context.Context, q *store.Queries, org, user uuid.UUID) (*Member, policy.Set, error) {
	row, err := q.LockActiveMembership(ctx, store.LockActiveMembershipParams{OrgID: org, UserID: user})
	if err == store.ErrNoRows {
		return nil, 0, qerr.New(qerr.NotFound, "member not found")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("lock membership of %s: %w", user, err)
	}
	m := &Member{UserID: row.UserID, JoinedAt: row.CreatedAt, membershipID: row.ID}
	granted, err := withRoles(ctx, q, org, []*Member{m})
	if err != nil {
		return nil, 0, err
	}
	return m, granted[m.membershipID], nil
}

// holds reports whether m holds the role with id.
func (m *Member) holds(id uuid.UUID) bool {
	for _, r := range m.Roles {
		if r.ID == id {
			return true
		}
	}
	return false
}

// SetMemberRoles replaces the roles of user, an active member, with
// roleIDs, and returns the member. Errors: BAD_USER_INPUT for no roles (to
// take every role away, remove the member) or a repeated one; FORBIDDEN for
// one's own roles, for a member holding a permission the caller lacks, or
// for roles granting one; NOT_FOUND for a user or role that is not in the
// organization; CONFLICT at commit if the organization would lose its last
// owner.
func (s *Service) SetMemberRoles(ctx context.Context, p policy.Principal, user uuid.UUID, roleIDs []uuid.UUID) (*Member, error) {
	if len(roleIDs) == 0 {
		return nil, qerr.Invalid("roleIds", "give at least one role: to take every role away, remove the member")
	}
	if err := permit(p, policy.MembersManage); err != nil {
		return nil, err
	}
	if user == uuid.UUID(p.UserID) {
		return nil, qerr.Denied("", policy.ReasonOwnRoles)
	}
	org := uuid.UUID(p.OrgID)
	var out *Member
	err := s.tenantTx(ctx, p, func(q *store.Queries) error {
		target, held, err := lockMember(ctx, q, org, user)
		if err != nil {
			return err
		}
		if err := decided(policy.CanManageMember(p, held)); err != nil {
			return err
		}
		roles, union, err := LoadRoles(ctx, q, org, roleIDs)
		if err != nil {
			return err
		}
		if err := decided(policy.CanGrant(p, union)); err != nil {
			return err
		}
		if err := replaceRoles(ctx, q, org, target.membershipID, roles); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, p, audit.Event{Action: "member.set_roles", TargetType: "user", TargetID: user}); err != nil {
			return err
		}
		out, _, err = lockMember(ctx, q, org, user)
		return err
	})
	return out, err
}

// replaceRoles makes roles the membership's only ones, the custom ones
// locked against deleteRole first (lockCustomRoles).
func replaceRoles(ctx context.Context, q *store.Queries, org, membership uuid.UUID, roles []*Role) error {
	ids := make([]uuid.UUID, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	if err := lockCustomRoles(ctx, q, org, ids); err != nil {
		return err
	}
	if err := q.DeleteMembershipRoles(ctx, store.DeleteMembershipRolesParams{OrgID: org, MembershipID: membership}); err != nil {
		return fmt.Errorf("clear roles: %w", err)
	}
	for _, r := range roles {
		if err := q.AddMembershipRole(ctx, store.AddMembershipRoleParams{MembershipID: membership, RoleID: r.ID, OrgID: org}); err != nil {
			return fmt.Errorf("grant role %s: %w", r.ID, err)
		}
	}
	return nil
}

// RemoveMember ends user's membership; their access ends on their next
// request. The membership row stays, removed, so history keeps who they
// were. Errors: FORBIDDEN for oneself (leaveOrganization is the way) or a
// member holding a permission the caller lacks; NOT_FOUND for a user who
// is no active member; CONFLICT at commit for the last owner.
func (s *Service) RemoveMember(ctx context.Context, p policy.Principal, user uuid.UUID) error {
	if err := permit(p, policy.MembersRemove); err != nil {
		return err
	}
	if user == uuid.UUID(p.UserID) {
		return qerr.Denied("", policy.ReasonRemoveSelf)
	}
	return s.tenantTx(ctx, p, func(q *store.Queries) error {
		target, held, err := lockMember(ctx, q, uuid.UUID(p.OrgID), user)
		if err != nil {
			return err
		}
		if err := decided(policy.CanManageMember(p, held)); err != nil {
			return err
		}
		if err := removeMembership(ctx, q, p, target); err != nil {
			return err
		}
		return audit.Record(ctx, q, p, audit.Event{Action: "member.remove", TargetType: "user", TargetID: user})
	})
}

// Leave ends the caller's own membership. Errors: FORBIDDEN for an API key;
// NOT_FOUND for a caller who is no member (a SUPERADMIN acting by
// override); CONFLICT at commit for the last owner, who must transfer
// ownership first.
func (s *Service) Leave(ctx context.Context, p policy.Principal) error {
	if err := decided(policy.CanLeave(p)); err != nil {
		return err
	}
	me := uuid.UUID(p.UserID)
	return s.tenantTx(ctx, p, func(q *store.Queries) error {
		m, _, err := lockMember(ctx, q, uuid.UUID(p.OrgID), me)
		if err != nil {
			return err
		}
		if err := removeMembership(ctx, q, p, m); err != nil {
			return err
		}
		return audit.Record(ctx, q, p, audit.Event{Action: "member.leave", TargetType: "user", TargetID: me})
	})
}

// removeMembership marks m removed by p's user. Its roles stay as history:
// every decision and the owner trigger read active memberships only. The
// sessions of the member that had this organization active forget it.
func removeMembership(ctx context.Context, q *store.Queries, p policy.Principal, m *Member) error {
	org, by := uuid.UUID(p.OrgID), uuid.UUID(p.UserID)
	if err := q.RemoveMembership(ctx, store.RemoveMembershipParams{OrgID: org, ID: m.membershipID, RemovedBy: &by}); err != nil {
		return fmt.Errorf("remove membership of %s: %w", m.UserID, err)
	}
	if err := q.ClearMemberActiveOrg(ctx, store.ClearMemberActiveOrgParams{OrgID: org, UserID: m.UserID}); err != nil {
		return fmt.Errorf("clear active organization of %s: %w", m.UserID, err)
	}
	return nil
}

// TransferOwnership makes user, an active member, an owner, atomically.
// Unless keepOwnerRole, the caller then drops owner and holds admin (a
// SUPERADMIN acting by override, being no member, keeps nothing). Errors:
// BAD_USER_INPUT for oneself; NOT_FOUND for a user who is no active member;
// FORBIDDEN if the caller could not grant owner (or admin to themselves).
func (s *Service) TransferOwnership(ctx context.Context, p policy.Principal, user uuid.UUID, keepOwnerRole bool) (*Member, error) {
	if err := permit(p, policy.OrgTransfer); err != nil {
		return nil, err
	}
	me := uuid.UUID(p.UserID)
	if user == me {
		return nil, qerr.Invalid("userId", "you cannot transfer ownership to yourself")
	}
	org := uuid.UUID(p.OrgID)
	var out *Member
	err := s.tenantTx(ctx, p, func(q *store.Queries) error {
		target, self, err := lockPair(ctx, q, org, user, me)
		if err != nil {
			return err
		}
		if err := giveBuiltIn(ctx, q, p, target, "owner"); err != nil {
			return err
		}
		if !keepOwnerRole && self != nil {
			if err := stepDown(ctx, q, p, self); err != nil {
				return err
			}
		}
		ev := audit.Event{Action: "organization.transfer", TargetType: "user", TargetID: user}
		if err := audit.Record(ctx, q, p, ev); err != nil {
			return err
		}
		out, _, err = lockMember(ctx, q, org, user)
		return err
	})
	return out, err
}

// lockPair locks the memberships of target and of the caller, in id order
// so that two transfers between the same two members cannot deadlock. self
// is nil for a caller who is no member.
func lockPair(ctx context.Context, q *store.Queries, org, target, caller uuid.UUID) (tm, self *Member, err error) {
	if bytes.Compare(caller[:], target[:]) < 0 {
		if self, _, err = lockMember(ctx, q, org, caller); err != nil && !qerr.Is(err, qerr.NotFound) {
			return nil, nil, err
		}
		tm, _, err = lockMember(ctx, q, org, target)
		return tm, self, err
	}
	if tm, _, err = lockMember(ctx, q, org, target); err != nil {
		return nil, nil, err
	}
	if self, _, err = lockMember(ctx, q, org, caller); err != nil && !qerr.Is(err, qerr.NotFound) {
		return nil, nil, err
	}
	return tm, self, nil
}

// giveBuiltIn adds the built-in role key to m unless m holds it; the
// caller must be able to grant it.
func giveBuiltIn(ctx context.Context, q *store.Queries, p policy.Principal, m *Member, key string) error {
	role, err := q.GetBuiltInRole(ctx, key)
	if err != nil {
		return fmt.Errorf("find role %s: %w", key, err)
	}
	if m.holds(role.ID) {
		return nil
	}
	if err := decided(policy.CanGrant(p, builtInSet(key))); err != nil {
		return err
	}
	err = q.AddMembershipRole(ctx, store.AddMembershipRoleParams{MembershipID: m.membershipID, RoleID: role.ID, OrgID: uuid.UUID(p.OrgID)})
	if err != nil {
		return fmt.Errorf("grant role %s: %w", key, err)
	}
	return nil
}

// stepDown gives the caller's membership admin and takes owner from it.
func stepDown(ctx context.Context, q *store.Queries, p policy.Principal, self *Member) error {
	if err := giveBuiltIn(ctx, q, p, self, "admin"); err != nil {
		return err
	}
	owner, err := q.GetBuiltInRole(ctx, "owner")
	if err != nil {
		return fmt.Errorf("find role owner: %w", err)
	}
	err = q.DeleteMembershipRole(ctx, store.DeleteMembershipRoleParams{OrgID: uuid.UUID(p.OrgID), MembershipID: self.membershipID, RoleID: owner.ID})
	if err != nil {
		return fmt.Errorf("drop role owner: %w", err)
	}
	return nil
}

// builtInSet returns the permissions of the built-in role key, as the
// policy states them; an unknown key holds everything, so granting it is
// refused unless the caller holds everything.
func builtInSet(key string) policy.Set {
	for _, r := range policy.BuiltInRoles() {
		if r.Key == key {
			return r.Permissions
		}
	}
	return policy.All
}
