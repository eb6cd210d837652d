package org

import (
	"context"
	"fmt"
	"regexp"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// roleKeyPattern is the roles table's CHECK on key, checked first so the
// client learns which input is wrong.
var roleKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// Roles returns the built-in roles and the organization's custom roles,
// built-in first. It needs members:read.
func (s *Service) Roles(ctx context.Context, p policy.Principal) ([]*Role, error) {
	if err := permit(p, policy.MembersRead); err != nil {
		return nil, err
	}
	var out []*Role
	err := s.tenantTx(ctx, p, func(q *store.Queries) error {
		var err error
		out, err = ListRoles(ctx, q, uuid.UUID(p.OrgID))
		return err
	})
	return out, err
}

// permissionSet reads a client's permission codes; duplicates collapse.
func permissionSet(codes []string) (policy.Set, error) {
	s, unknown, ok := policy.ParseSet(codes)
	if !ok {
		return 0, qerr.Invalid("permissions", "unknown permission %q", unknown)
	}
	return s, nil
}

// validRoleKey checks a new custom role's key: the table's pattern, and
// none of the built-in keys, which every organization already has.
func validRoleKey(key string) error {
	if !roleKeyPattern.MatchString(key) {
		return qerr.Invalid("key", "key must be 1 to 40 lowercase letters, digits, - or _, starting with a letter")
	}
	for _, r := range policy.BuiltInRoles() {
		if r.Key == key {
			return qerr.New(qerr.Conflict, "%q is the key of a built-in role", key)
		}
	}
	return nil
}

// CreateRole creates a custom role holding only permissions the caller may
// grant. Errors: BAD_USER_INPUT for a bad key or name or an unknown
// permission (named); FORBIDDEN naming a permission the caller cannot
// grant; CONFLICT for a key taken by a built-in or another custom role.
func (s *Service) CreateRole(ctx context.Context, p policy.Principal, in CreateRoleInput) (*Role, error) {
	if err := permit(p, policy.RolesManage); err != nil {
		return nil, err
	}
	if err := validRoleKey(in.Key); err != nil {
		return nil, err
	}
	name, err := validName(in.Name)
	if err != nil {
		return nil, err
	}
	set, err := permissionSet(in.Permissions)
	if err != nil {
		return nil, err
	}
	if err := decided(policy.CanGrant(p, set)); err != nil {
		return nil, err
	}
	org := uuid.UUID(p.OrgID)
	var out *Role
	err = s.tenantTx(ctx, p, func(q *store.Queries) error {
		row, err := q.CreateRole(ctx, store.CreateRoleParams{ID: uuid.Must(uuid.NewV7()), OrgID: org, Key: in.Key, Name: name})
		if err != nil {
			return fmt.Errorf("insert role %s: %w", in.Key, err)
		}
		if err := setRolePermissions(ctx, q, org, row.ID, set); err != nil {
			return err
		}
		out = roleFrom(row.ID, row.OrgID, row.Key, row.Name, set.Codes())
		return audit.Record(ctx, q, p, audit.Event{Action: "role.create", TargetType: "role", TargetID: row.ID})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setRolePermissions makes set the role's only permissions. Members holding
// the role gain or lose them on their next request: the table's trigger
// bumps the organization's epoch.
func setRolePermissions(ctx context.Context, q *store.Queries, org, role uuid.UUID, set policy.Set) error {
	if err := q.DeleteRolePermissions(ctx, store.DeleteRolePermissionsParams{OrgID: org, RoleID: role}); err != nil {
		return fmt.Errorf("clear permissions of role %s: %w", role, err)
	}
	err := q.AddRolePermissions(ctx, store.AddRolePermissionsParams{OrgID: org, RoleID: role, Permissions: set.Codes()})
	if err != nil {
		return fmt.Errorf("add permissions to role %s: %w", role, err)
	}
	return nil
}

// UpdateRole changes a custom role's name and/or permissions (nil fields
// stay). The role as it will be must hold only permissions the caller may
// grant. Errors: BAD_USER_INPUT for a bad name or an unknown permission;
// NOT_FOUND for a role that is not the organization's; FORBIDDEN for a
// built-in role or a permission the caller cannot grant.
func (s *Service) UpdateRole(ctx context.Context, p policy.Principal, id uuid.UUID, in UpdateRoleInput) (*Role, error) {
	if err := permit(p, policy.RolesManage); err != nil {
		return nil, err
	}
	var change roleChange
	if in.Name != nil {
		name, err := validName(*in.Name)
		if err != nil {
			return nil, err
		}
		change.name = &name
	}
	if in.Permissions != nil {
		set, err := permissionSet(in.Permissions)
		if err != nil {
			return nil, err
		}
		change.set = &set
	}
	var out *Role
	err := s.tenantTx(ctx, p, func(q *store.Queries) error {
		role, set, err := lockCustomRole(ctx, q, uuid.UUID(p.OrgID), id, false)
		if err != nil {
			return err
		}
		if change.set != nil {
			set = *change.set
		}
		// Only the role as it will be matters: dropping what one could not
		// grant is allowed, keeping it is not.
		if err := decided(policy.CanGrant(p, set)); err != nil {
			return err
		}
		if err := change.apply(ctx, q, uuid.UUID(p.OrgID), role); err != nil {
			return err
		}
		out = role
		return audit.Record(ctx, q, p, audit.Event{Action: "role.update", TargetType: "role", TargetID: id})
	})
	return out, err
}

// roleChange is a validated updateRole input; nil fields stay.
type roleChange struct {
	name *string
	set  *policy.Set
}

// apply writes c to org's role, and updates role to match.
func (c roleChange) apply(ctx context.Context, q *store.Queries, org uuid.UUID, role *Role) error {
	if c.name != nil {
		if err := q.RenameRole(ctx, store.RenameRoleParams{OrgID: org, ID: role.ID, Name: *c.name}); err != nil {
			return fmt.Errorf("rename role %s: %w", role.ID, err)
		}
		role.Name = *c.name
	}
	if c.set != nil {
		if err := setRolePermissions(ctx, q, org, role.ID, *c.set); err != nil {
			return err
		}
		role.Permissions = c.set.Codes()
	}
	return nil
}

// DeleteRole deletes a custom role no active member holds. Errors:
// NOT_FOUND for a role that is not the organization's; FORBIDDEN for a
// built-in role; CONFLICT while members hold it (change their roles first:
// a deletion never takes permissions from anyone).
func (s *Service) DeleteRole(ctx context.Context, p policy.Principal, id uuid.UUID) error {
	if err := permit(p, policy.RolesManage); err != nil {
		return err
	}
	org := uuid.UUID(p.OrgID)
	return s.tenantTx(ctx, p, func(q *store.Queries) error {
		if _, _, err := lockCustomRole(ctx, q, org, id, true); err != nil {
			return err
		}
		n, err := q.CountRoleHolders(ctx, store.CountRoleHoldersParams{OrgID: org, RoleID: id})
		if err != nil {
			return fmt.Errorf("count holders of role %s: %w", id, err)
		}
		if n > 0 {
			return qerr.New(qerr.Conflict, "role is held by %d %s: change their roles first", n, plural(n, "member", "members"))
		}
		if err := q.ForgetRemovedHolders(ctx, store.ForgetRemovedHoldersParams{OrgID: org, RoleID: id}); err != nil {
			return fmt.Errorf("forget removed holders of role %s: %w", id, err)
		}
		if err := q.DeleteRole(ctx, store.DeleteRoleParams{OrgID: org, ID: id}); err != nil {
			return fmt.Errorf("delete role %s: %w", id, err)
		}
		return audit.Record(ctx, q, p, audit.Event{Action: "role.delete", TargetType: "role", TargetID: id})
	})
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// lockCustomRole locks org's custom role id (for deletion, or for a change)
// and returns it with its permissions. A built-in role is FORBIDDEN; any
// other id, another organization's included, is NOT_FOUND.
func lockCustomRole(ctx context.Context, q *store.Queries, org, id uuid.UUID, forDelete bool) (*Role, policy.Set, error) {
	var err error
	if forDelete {
		_, err = q.LockCustomRole(ctx, store.LockCustomRoleParams{OrgID: org, ID: id})
	} else {
		_, err = q.LockCustomRoleForChange(ctx, store.LockCustomRoleForChangeParams{OrgID: org, ID: id})
	}
	if err != nil && err != store.ErrNoRows {
		return nil, 0, fmt.Errorf("lock role %s: %w", id, err)
	}
	// Read after the lock, so a change that committed meanwhile is seen.
	roles, _, lerr := LoadRoles(ctx, q, org, []uuid.UUID{id})
	if lerr != nil {
		return nil, 0, lerr
	}
	role := roles[0]
	switch {
	case role.BuiltIn: // shared and immutable: no row of org's to lock
		reason := policy.ReasonBuiltInChange
		if forDelete {
			reason = policy.ReasonBuiltInDelete
		}
		return nil, 0, qerr.Denied("", reason)
	case err == store.ErrNoRows:
		return nil, 0, qerr.New(qerr.NotFound, "role %s not found", id)
	}
	set, err := strictSet(role.Permissions)
	if err != nil {
		return nil, 0, err
	}
	return role, set, nil
}
