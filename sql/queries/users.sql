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
