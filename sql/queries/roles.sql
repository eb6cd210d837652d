-- name: ListRoles :many
-- The built-in roles and the organization's custom roles, each with its
-- permissions.
SELECT r.id, r.org_id, r.key, r.name,
       COALESCE(array_agg(rp.permission ORDER BY rp.permission) FILTER (WHERE rp.permission IS NOT NULL), '{}')::text[] AS permissions
FROM roles r
LEFT JOIN role_permissions rp ON rp.role_id = r.id AND (rp.org_id IS NULL OR rp.org_id = @org_id::uuid)
WHERE r.org_id IS NULL OR r.org_id = @org_id::uuid
GROUP BY r.id
ORDER BY r.org_id NULLS FIRST, r.key;

-- name: GetRolesByIDs :many
SELECT r.id, r.org_id, r.key, r.name,
       COALESCE(array_agg(rp.permission ORDER BY rp.permission) FILTER (WHERE rp.permission IS NOT NULL), '{}')::text[] AS permissions
FROM roles r
LEFT JOIN role_permissions rp ON rp.role_id = r.id AND (rp.org_id IS NULL OR rp.org_id = @org_id::uuid)
WHERE r.id = ANY(@ids::uuid[])
  AND (r.org_id IS NULL OR r.org_id = @org_id::uuid)
GROUP BY r.id;
