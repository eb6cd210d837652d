package org

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

func roleFrom(id uuid.UUID, orgID *uuid.UUID, key, name string, perms []string) *Role {
	return &Role{ID: id, Key: key, Name: name, BuiltIn: orgID == nil, Permissions: perms}
}

// ListRoles returns the built-in roles and org's custom roles, built-in
// first. It runs on q, inside the caller's transaction in org's wall.
func ListRoles(ctx context.Context, q *store.Queries, org uuid.UUID) ([]*Role, error) {
	rows, err := q.ListRoles(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	out := make([]*Role, len(rows))
	for i, r := range rows {
		out[i] = roleFrom(r.ID, r.OrgID, r.Key, r.Name, r.Permissions)
	}
	return out, nil
}

// LoadRoles returns the roles with ids in the order given, and the union of
// their permissions. An id that is no role of org (another organization's
// included) is NOT_FOUND naming it; a repeated id is BAD_USER_INPUT.
func LoadRoles(ctx context.Context, q *store.Queries, org uuid.UUID, ids []uuid.UUID) ([]*Role, policy.Set, error) {
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return nil, 0, qerr.Invalid("roleIds", "role %s is listed twice", id)
		}
		seen[id] = true
	}
	rows, err := q.GetRolesByIDs(ctx, store.GetRolesByIDsParams{OrgID: org, Ids: ids})
	if err != nil {
		return nil, 0, fmt.Errorf("load roles: %w", err)
	}
	byID := make(map[uuid.UUID]*Role, len(rows))
	var union policy.Set
	for _, r := range rows {
		byID[r.ID] = roleFrom(r.ID, r.OrgID, r.Key, r.Name, r.Permissions)
		set, _, _ := policy.ParseSet(r.Permissions) // the permissions table admits only catalog codes
		union |= set
	}
	out := make([]*Role, len(ids))
	for i, id := range ids {
		if out[i] = byID[id]; out[i] == nil {
			return nil, 0, qerr.New(qerr.NotFound, "role %s not found", id)
		}
	}
	return out, union, nil
}

// AddMember makes user an active member of org holding roleIDs (already
// checked by the caller) and returns the membership's id. A user who is
// already an active member is a CONFLICT; a custom role deleted meanwhile
// is a NOT_FOUND (the roles are locked against deleteRole first). It runs
// on q, inside the caller's transaction in org's wall.
func AddMember(ctx context.Context, q *store.Queries, org, user uuid.UUID, roleIDs []uuid.UUID) (uuid.UUID, error) {
	if err := lockCustomRoles(ctx, q, org, roleIDs); err != nil {
		return uuid.Nil, err
	}
	m, err := q.CreateMembership(ctx, store.CreateMembershipParams{ID: uuid.Must(uuid.NewV7()), OrgID: org, UserID: user})
	if err != nil {
		if store.IsUniqueViolation(err) {
			return uuid.Nil, qerr.New(qerr.Conflict, "already a member of this organization")
		}
		return uuid.Nil, fmt.Errorf("add member: %w", err)
	}
	for _, r := range roleIDs {
		if err := q.AddMembershipRole(ctx, store.AddMembershipRoleParams{MembershipID: m, RoleID: r, OrgID: org}); err != nil {
			return uuid.Nil, fmt.Errorf("grant role %s: %w", r, err)
		}
	}
	return m, nil
}

// lockCustomRoles locks the custom roles among ids against deleteRole until
// the transaction ends, then checks that every id is still a role of org: a
// concurrent deleteRole either waits for this transaction (and then sees the
// role held) or won (and the role is NOT_FOUND here). Built-in roles are
// never deleted.
func lockCustomRoles(ctx context.Context, q *store.Queries, org uuid.UUID, ids []uuid.UUID) error {
	if _, err := q.LockRolesForGrant(ctx, store.LockRolesForGrantParams{OrgID: org, Ids: ids}); err != nil {
		return fmt.Errorf("lock roles: %w", err)
	}
	rows, err := q.GetRolesByIDs(ctx, store.GetRolesByIDsParams{OrgID: org, Ids: ids})
	if err != nil {
		return fmt.Errorf("check roles: %w", err)
	}
	if len(rows) != len(ids) {
		return qerr.New(qerr.NotFound, "role not found: it was just deleted")
	}
	return nil
}
