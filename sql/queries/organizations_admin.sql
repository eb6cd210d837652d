-- name: SetSessionActiveOrg :execrows
-- Sessions are global: the caller's own live session remembers the
-- organization later requests without X-Organization-Id act in.
UPDATE sessions
SET active_org_id = @org_id
WHERE id = @session_id
  AND user_id = @user_id
  AND revoked_at IS NULL;

-- name: LockOrganization :one
-- Serialises changes to one organization's settings: the row lock is held
-- until the transaction ends.
SELECT id
FROM organizations
WHERE id = @org_id
  AND deleted_at IS NULL
FOR UPDATE;

-- name: UpdateOrganization :one
UPDATE organizations
SET name = coalesce(sqlc.narg(name)::text, name),
    slug = coalesce(sqlc.narg(slug)::text, slug),
    updated_at = now()
WHERE id = @org_id
  AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteOrganization :execrows
-- The row stays (and keeps its slug taken); every read filters
-- deleted_at IS NULL, so nothing of the organization is reachable.
UPDATE organizations
SET deleted_at = now(),
    updated_at = now()
WHERE id = @org_id
  AND deleted_at IS NULL;

-- name: DisableModulesExcept :exec
DELETE FROM organization_modules
WHERE org_id = @org_id
  AND module <> ALL(@keep::text[]);
