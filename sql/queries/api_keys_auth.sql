-- name: GetAPIKeyForAuth :one
-- The key a presented token names, with its creator's status, looked up
-- inside the key's own organization.
SELECT k.id, k.secret_hash, k.permissions, k.created_by, k.expires_at, k.revoked_at, u.status AS creator_status
FROM api_keys k
JOIN users u ON u.id = k.created_by
WHERE k.org_id = @org_id
  AND k.prefix = @prefix;

-- name: TouchAPIKey :exec
UPDATE api_keys
SET last_used_at = @now::timestamptz
WHERE org_id = @org_id
  AND id = @id;
