-- name: CreateUser :one
INSERT INTO users (id, email, display_name, platform_role)
VALUES (@id, @email, sqlc.narg(display_name), @platform_role)
RETURNING *;

-- name: UpsertUser :one
-- Creates the user, or sets the platform role (and a name, if given) of the
-- existing one with that email.
INSERT INTO users (id, email, display_name, platform_role)
VALUES (@id, @email, sqlc.narg(display_name), @platform_role)
ON CONFLICT (email) DO UPDATE
SET platform_role = EXCLUDED.platform_role,
    display_name = COALESCE(EXCLUDED.display_name, users.display_name),
    updated_at = now()
RETURNING *;

-- name: GetUser :one
SELECT *
FROM users
WHERE id = @id;

-- name: GetUserByEmail :one
SELECT *
FROM users
WHERE email = @email;

-- name: ListUsersByIDs :many
SELECT *
FROM users
WHERE id = ANY(@ids::uuid[]);

-- name: ListUsers :many
-- Newest first, keyset-paginated on (created_at, id); prefix is matched
-- against the email and the lowercased display name, LIKE wildcards escaped
-- by the caller.
SELECT *
FROM users
WHERE (sqlc.narg(prefix)::text IS NULL
       OR email LIKE sqlc.narg(prefix)::text || '%'
       OR lower(display_name) LIKE sqlc.narg(prefix)::text || '%')
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: CountUsers :one
SELECT count(*)
FROM users
WHERE (sqlc.narg(prefix)::text IS NULL
       OR email LIKE sqlc.narg(prefix)::text || '%'
       OR lower(display_name) LIKE sqlc.narg(prefix)::text || '%');

-- name: GetUserForUpdate :one
SELECT *
FROM users
WHERE id = @id
FOR UPDATE;

-- name: LockActiveSuperadmins :many
-- Locks every active SUPERADMIN, so two demotions or deactivations cannot
-- both see another SUPERADMIN left and leave none.
SELECT id
FROM users
WHERE platform_role = 'SUPERADMIN'
  AND status = 'ACTIVE'
ORDER BY id
FOR UPDATE;

-- name: SetPlatformRole :one
UPDATE users
SET platform_role = @platform_role,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SetUserStatus :one
UPDATE users
SET status = @status,
    deactivated_reason = sqlc.narg(reason),
    updated_at = now()
WHERE id = @id
RETURNING *;
