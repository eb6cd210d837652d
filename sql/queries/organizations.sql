-- name: CreateOrganization :one
INSERT INTO organizations (id, name, slug)
VALUES (@org_id, @name, @slug)
RETURNING *;

-- name: GetOrganization :one
SELECT *
FROM organizations
WHERE id = @org_id::uuid
  AND deleted_at IS NULL;

-- name: EnableModules :exec
INSERT INTO organization_modules (org_id, module)
SELECT @org_id, unnest(@modules::text[])
ON CONFLICT DO NOTHING;

-- name: ListModules :many
SELECT module
FROM organization_modules
WHERE org_id = @org_id::uuid
ORDER BY module;

-- name: ListMyOrganizations :many
-- The one read across organizations: a user's own memberships, which the
-- memberships policy lets them see without an active organization.
SELECT o.*
FROM memberships m
JOIN organizations o ON o.id = m.org_id
WHERE m.user_id = @user_id
  AND m.removed_at IS NULL
  AND o.deleted_at IS NULL
ORDER BY m.created_at, o.id;

-- name: CreateMembership :one
INSERT INTO memberships (id, org_id, user_id)
VALUES (@id, @org_id, @user_id)
RETURNING id;

-- name: AddMembershipRole :exec
INSERT INTO membership_roles (membership_id, role_id, org_id)
VALUES (@membership_id, @role_id, @org_id::uuid);

-- name: GetBuiltInRole :one
SELECT id, key, name
FROM roles
WHERE org_id IS NULL
  AND key = @key;

-- name: ListMemberRoles :many
SELECT r.id, r.org_id, r.key, r.name,
       COALESCE(array_agg(rp.permission ORDER BY rp.permission) FILTER (WHERE rp.permission IS NOT NULL), '{}')::text[] AS permissions
FROM memberships m
JOIN membership_roles mr ON mr.membership_id = m.id AND mr.org_id = @org_id::uuid
JOIN roles r ON r.id = mr.role_id AND (r.org_id IS NULL OR r.org_id = @org_id::uuid)
LEFT JOIN role_permissions rp ON rp.role_id = r.id AND (rp.org_id IS NULL OR rp.org_id = @org_id::uuid)
WHERE m.org_id = @org_id::uuid
  AND m.user_id = @user_id
  AND m.removed_at IS NULL
GROUP BY r.id
ORDER BY r.key;

-- name: GetPrincipal :one
-- Everything a decision in org_id needs about user_id, in one round trip:
-- the organization's epoch, whether the user is an active member, the union
-- of their roles' permissions, which role grants each ("permission key"
-- pairs, to explain decisions) and the enabled modules.
SELECT o.authz_epoch,
       (m.id IS NOT NULL)::boolean AS member,
       COALESCE((
         SELECT array_agg(DISTINCT rp.permission)
         FROM membership_roles mr
         JOIN role_permissions rp ON rp.role_id = mr.role_id AND (rp.org_id IS NULL OR rp.org_id = @org_id::uuid)
         WHERE mr.org_id = @org_id::uuid
           AND mr.membership_id = m.id
       ), '{}')::text[] AS permissions,
       COALESCE((
         SELECT array_agg(rp.permission || ' ' || r.key ORDER BY rp.permission, r.key)
         FROM membership_roles mr
         JOIN roles r ON r.id = mr.role_id AND (r.org_id IS NULL OR r.org_id = @org_id::uuid)
         JOIN role_permissions rp ON rp.role_id = mr.role_id AND (rp.org_id IS NULL OR rp.org_id = @org_id::uuid)
         WHERE mr.org_id = @org_id::uuid
           AND mr.membership_id = m.id
       ), '{}')::text[] AS grants,
       COALESCE((
         SELECT array_agg(om.module)
         FROM organization_modules om
         WHERE om.org_id = @org_id::uuid
       ), '{}')::text[] AS modules
FROM organizations o
LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = @user_id AND m.removed_at IS NULL
WHERE o.id = @org_id::uuid
  AND o.deleted_at IS NULL;

-- name: GetEpochs :one
-- The two counters a cached principal is valid under: any change to roles,
-- memberships or modules bumps the organization's, any change to the user's
-- status or platform role bumps the user's.
SELECT o.authz_epoch AS org_epoch, u.authz_epoch AS user_epoch
FROM organizations o, users u
WHERE o.id = @org_id
  AND o.deleted_at IS NULL
  AND u.id = @user_id;
