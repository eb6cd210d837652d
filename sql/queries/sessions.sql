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
