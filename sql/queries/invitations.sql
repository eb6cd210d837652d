-- name: CreateInvitation :one
INSERT INTO invitations (id, org_id, email, role_ids, token_hash, invited_by, created_at, expires_at)
VALUES (@id, @org_id, @email, @role_ids::uuid[], @token_hash, @invited_by, @created_at, @expires_at)
RETURNING *;

-- name: LockInvitee :exec
-- Serialises invitations of one address to one organization for the rest of
-- the transaction, so two concurrent inviteMember calls cannot both find no
-- pending invitation and both create one. The key is a hash: a collision
-- only makes two unrelated invitations wait for each other.
SELECT pg_advisory_xact_lock(hashtextextended(CAST(sqlc.arg(org_id)::uuid AS text) || ' ' || sqlc.arg(email)::text, 0));

-- name: IsActiveMemberByEmail :one
SELECT EXISTS (
  SELECT 1
  FROM memberships m
  JOIN users u ON u.id = m.user_id
  WHERE m.org_id = @org_id
    AND m.removed_at IS NULL
    AND u.email = @email
)::boolean;

-- name: HasPendingInvitation :one
SELECT EXISTS (
  SELECT 1
  FROM invitations
  WHERE org_id = @org_id
    AND email = @email
    AND status = 'PENDING'
    AND expires_at > @now
)::boolean;

-- name: GetInvitationByTokenForUpdate :one
-- Locks the invitation: of two concurrent answers with one token, the
-- second waits, then reads the first one's outcome.
SELECT *
FROM invitations
WHERE org_id = @org_id
  AND token_hash = @token_hash
FOR UPDATE;

-- name: GetInvitationForUpdate :one
SELECT *
FROM invitations
WHERE org_id = @org_id
  AND id = @id
FOR UPDATE;

-- name: DecideInvitation :one
UPDATE invitations
SET status = @status,
    decided_at = @now::timestamptz,
    accepted_by = sqlc.narg(accepted_by)
WHERE org_id = @org_id
  AND id = @id
  AND status = 'PENDING'
RETURNING *;

-- name: RenewInvitation :one
-- A new token replaces the old one's hash, which is what kills the old link.
UPDATE invitations
SET token_hash = @token_hash,
    expires_at = @expires_at
WHERE org_id = @org_id
  AND id = @id
  AND status = 'PENDING'
RETURNING *;

-- name: ListInvitations :many
-- Newest first. EXPIRED is not stored: it is PENDING with expires_at passed,
-- so the caller asks for status PENDING with expired true (EXPIRED) or
-- false (PENDING); expired NULL does not look at the expiry.
SELECT *
FROM invitations
WHERE org_id = @org_id
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (sqlc.narg(expired)::boolean IS NULL OR (expires_at <= @now) = sqlc.narg(expired)::boolean)
ORDER BY created_at DESC, id DESC;

-- name: ListAddressedInvitationOrgs :many
-- The one read of invitations across organizations, run with no active
-- organization: the invitations_addressee policy admits only those sent to
-- the email of app.user_id, and this filters on the same email. It returns
-- only organization ids; each organization's invitations are then read
-- inside its own wall.
SELECT DISTINCT i.org_id
FROM invitations i
WHERE i.email = (SELECT u.email FROM users u WHERE u.id = @user_id)
  AND i.status = 'PENDING'
  AND i.expires_at > @now;

-- name: ListAddressedInvitations :many
-- The pending invitations of one organization addressed to user_id's email.
SELECT i.*
FROM invitations i
JOIN users u ON u.email = i.email
WHERE i.org_id = @org_id
  AND u.id = @user_id
  AND i.status = 'PENDING'
  AND i.expires_at > @now
ORDER BY i.created_at DESC, i.id DESC;
