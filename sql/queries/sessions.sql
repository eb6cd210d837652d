-- name: CreateLoginToken :exec
INSERT INTO login_tokens (token_hash, user_id, expires_at)
VALUES (@token_hash, @user_id, @expires_at);

-- name: ConsumeLoginToken :one
-- Single use: the UPDATE takes the row lock, so of two concurrent uses only
-- one sees used_at IS NULL and gets a row back.
UPDATE login_tokens
SET used_at = @now::timestamptz
WHERE token_hash = @token_hash
  AND used_at IS NULL
  AND expires_at > @now::timestamptz
RETURNING user_id;

-- name: CreateSession :exec
INSERT INTO sessions (id, user_id, expires_at)
VALUES (@id, @user_id, @expires_at);

-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
VALUES (@token_hash, @session_id, @expires_at);

-- name: GetCaller :one
-- The per-request identity check: the user as they are now, and the session
-- the access token names.
SELECT u.id, u.email, u.display_name, u.platform_role, u.status, u.authz_epoch, u.created_at,
       s.active_org_id, s.revoked_at, s.expires_at AS session_expires_at
FROM users u
JOIN sessions s ON s.user_id = u.id
WHERE u.id = @user_id
  AND s.id = @session_id;

-- name: CreateMail :exec
INSERT INTO mail_outbox (id, to_email, kind, subject)
VALUES (@id, @to_email, @kind, @subject);

-- name: MarkMailSent :exec
UPDATE mail_outbox
SET sent_at = now(), attempts = attempts + 1
WHERE id = @id;

-- name: MarkMailFailed :exec
UPDATE mail_outbox
SET attempts = attempts + 1, last_error = @last_error
WHERE id = @id;

-- name: GetRefreshToken :one
-- Locks the token's row: of two refreshes with the same token, the second
-- waits, then sees it used.
SELECT rt.session_id, rt.used_at, rt.expires_at, s.user_id, s.revoked_at, u.status
FROM refresh_tokens rt
JOIN sessions s ON s.id = rt.session_id
JOIN users u ON u.id = s.user_id
WHERE rt.token_hash = @token_hash
FOR UPDATE OF rt;

-- name: UseRefreshToken :exec
UPDATE refresh_tokens
SET used_at = @now::timestamptz
WHERE token_hash = @token_hash;

-- name: TouchSession :exec
-- Refresh tokens expire when idle: each use moves the session's end.
UPDATE sessions
SET last_used_at = @now::timestamptz,
    expires_at = @expires_at
WHERE id = @id;

-- name: RevokeSession :execrows
UPDATE sessions
SET revoked_at = @now::timestamptz,
    revoked_reason = @reason
WHERE id = @id
  AND user_id = @user_id
  AND revoked_at IS NULL;

-- name: RevokeUserSessions :execrows
UPDATE sessions
SET revoked_at = @now::timestamptz,
    revoked_reason = @reason
WHERE user_id = @user_id
  AND revoked_at IS NULL;

-- name: HitRateLimit :one
INSERT INTO rate_limits (key, window_start)
VALUES (@key, @window_start)
ON CONFLICT (key, window_start) DO UPDATE
SET hits = rate_limits.hits + 1
RETURNING hits;

-- name: PruneRateLimits :exec
DELETE FROM rate_limits
WHERE window_start < @before;

-- name: ExpireUserLoginTokens :exec
-- Spends every unused sign-in link of a user, so none outlives a
-- deactivation into a later reactivation.
UPDATE login_tokens
SET used_at = @now::timestamptz
WHERE user_id = @user_id
  AND used_at IS NULL;
