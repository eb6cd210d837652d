-- name: CreateAPIKey :one
-- The secret itself is never written: only its SHA-256.
INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, permissions, created_by, created_at, expires_at)
VALUES (@id, @org_id, @name, @prefix, @secret_hash, @permissions, @created_by, @now, sqlc.narg(expires_at))
RETURNING *;

-- name: ListAPIKeys :many
-- Newest first, revoked and expired keys included: they tell what ran when.
SELECT *
FROM api_keys
WHERE org_id = @org_id
ORDER BY created_at DESC, id DESC;

-- name: LockAPIKey :one
-- Locked so that concurrent revocations of one key record one event.
SELECT *
FROM api_keys
WHERE org_id = @org_id
  AND id = @id
FOR UPDATE;

-- name: RevokeAPIKey :one
UPDATE api_keys
SET revoked_at = @now::timestamptz
WHERE org_id = @org_id
  AND id = @id
  AND revoked_at IS NULL
RETURNING *;
