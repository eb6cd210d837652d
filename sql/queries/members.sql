-- name: ListMembers :many
-- Active members, longest-standing first, keyset-paginated on
-- (created_at, id) of the membership, the first page after page.Oldest, the cursor written as in ListNotes.
SELECT m.id, m.user_id, m.created_at
FROM memberships m
WHERE m.org_id = @org_id::uuid
  AND m.removed_at IS NULL
  AND (m.created_at, m.id) > (@after_created_at::timestamptz, @after_id::uuid)
ORDER BY m.created_at, m.id
LIMIT @lim;

-- name: CountMembers :one
SELECT count(*)
FROM memberships m
WHERE m.org_id = @org_id::uuid
  AND m.removed_at IS NULL;

-- name: ListMembershipRoles :many
-- The roles of several memberships, each with its permissions, built-in
-- first, then by key.
SELECT mr.membership_id, r.id, r.org_id, r.key, r.name,
       COALESCE(array_agg(rp.permission ORDER BY rp.permission) FILTER (WHERE rp.permission IS NOT NULL), '{}')::text[] AS permissions
FROM membership_roles mr
JOIN roles r ON r.id = mr.role_id AND (r.org_id IS NULL OR r.org_id = @org_id::uuid)
LEFT JOIN role_permissions rp ON rp.role_id = r.id AND (rp.org_id IS NULL OR rp.org_id = @org_id::uuid)
WHERE mr.org_id = @org_id::uuid
  AND mr.membership_id = ANY(@membership_ids::uuid[])
GROUP BY mr.membership_id, r.id
ORDER BY mr.membership_id, r.org_id NULLS FIRST, r.key;

-- name: LockActiveMembership :one
-- The user's active membership, locked until the transaction ends, so two
-- changes to one member serialise and a removed member is not changed.
SELECT m.id, m.user_id, m.created_at
FROM memberships m
WHERE m.org_id = @org_id::uuid
  AND m.user_id = @user_id
  AND m.removed_at IS NULL
FOR UPDATE;

-- name: DeleteMembershipRoles :exec
DELETE FROM membership_roles
WHERE org_id = @org_id::uuid
  AND membership_id = @membership_id;

-- name: DeleteMembershipRole :exec
DELETE FROM membership_roles
WHERE org_id = @org_id::uuid
  AND membership_id = @membership_id
  AND role_id = @role_id;

-- name: RemoveMembership :exec
-- A soft removal: the row stays, with its roles, so history keeps who the
-- member was; the partial unique index admits a new active membership.
UPDATE memberships
SET removed_at = now(),
    removed_by = @removed_by
WHERE org_id = @org_id::uuid
  AND id = @id
  AND removed_at IS NULL;

-- name: ClearMemberActiveOrg :exec
-- sessions is global: it has no org_id, only the organization a session
-- last switched to.
UPDATE sessions
SET active_org_id = NULL
WHERE user_id = @user_id
  AND active_org_id = @org_id::uuid;

-- name: LockRolesForGrant :many
-- Custom roles about to be given, locked against deleteRole until the
-- transaction ends. Built-in roles are never deleted and need no lock.
SELECT r.id
FROM roles r
WHERE r.org_id = @org_id::uuid
  AND r.id = ANY(@ids::uuid[])
FOR KEY SHARE;

-- name: CreateRole :one
INSERT INTO roles (id, org_id, key, name)
VALUES (@id, @org_id::uuid, @key, @name)
RETURNING id, org_id, key, name;

-- name: AddRolePermissions :exec
INSERT INTO role_permissions (role_id, permission, org_id)
SELECT @role_id, unnest(@permissions::text[]), @org_id::uuid;

-- name: DeleteRolePermissions :exec
DELETE FROM role_permissions
WHERE org_id = @org_id::uuid
  AND role_id = @role_id;

-- name: LockCustomRole :one
-- A custom role about to be deleted, locked so nobody can give it (their
-- FOR KEY SHARE waits) until the deletion commits or rolls back.
SELECT r.id
FROM roles r
WHERE r.org_id = @org_id::uuid
  AND r.id = @id
FOR UPDATE;

-- name: LockCustomRoleForChange :one
-- A custom role about to change: two changes serialise, while giving the
-- role to members (FOR KEY SHARE) goes on.
SELECT r.id
FROM roles r
WHERE r.org_id = @org_id::uuid
  AND r.id = @id
FOR NO KEY UPDATE;

-- name: RenameRole :exec
UPDATE roles
SET name = @name,
    updated_at = now()
WHERE org_id = @org_id::uuid
  AND id = @id;

-- name: CountRoleHolders :one
-- Active members holding the role.
SELECT count(*)
FROM membership_roles mr
JOIN memberships m ON m.id = mr.membership_id AND m.org_id = @org_id::uuid
WHERE mr.org_id = @org_id::uuid
  AND mr.role_id = @role_id
  AND m.removed_at IS NULL;

-- name: ForgetRemovedHolders :exec
-- Removed memberships keep their roles as history, but a role that is
-- deleted leaves that history: membership_roles refuses (RESTRICT) to lose
-- the role under it.
DELETE FROM membership_roles mr
USING memberships m
WHERE mr.org_id = @org_id::uuid
  AND mr.role_id = @role_id
  AND m.id = mr.membership_id
  AND m.org_id = @org_id::uuid
  AND m.removed_at IS NOT NULL;

-- name: DeleteRole :exec
-- role_permissions go with it (ON DELETE CASCADE).
DELETE FROM roles
WHERE org_id = @org_id::uuid
  AND id = @id;
