-- +goose Up
CREATE TABLE users (
  id                 uuid PRIMARY KEY,
  email              text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  display_name       text CHECK (length(display_name) <= 100),
  platform_role      text NOT NULL DEFAULT 'USER' CHECK (platform_role IN ('USER', 'ADMIN', 'SUPERADMIN')),
  status             text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DEACTIVATED')),
  deactivated_reason text,
  -- Bumped by trigger on any change that can alter a decision, so cached
  -- permissions are checked against it on every request.
  authz_epoch        bigint NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_display_name_idx ON users (lower(display_name) text_pattern_ops);

-- +goose StatementBegin
CREATE FUNCTION bump_user_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.platform_role IS DISTINCT FROM OLD.platform_role OR NEW.status IS DISTINCT FROM OLD.status THEN
    NEW.authz_epoch := OLD.authz_epoch + 1;
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER users_bump_epoch BEFORE UPDATE ON users
FOR EACH ROW EXECUTE FUNCTION bump_user_epoch();

-- A session is one sign-in: the family of refresh tokens rotated from it.
-- Access tokens name it (sid), so revoking it refuses them too.
CREATE TABLE sessions (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  active_org_id  uuid,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens, stored only as SHA-256 hashes. A used token stays, so
-- presenting it again is recognised as reuse and revokes its session.
CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  session_id uuid NOT NULL REFERENCES sessions ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Single-use sign-in links, stored only as SHA-256 hashes.
CREATE TABLE login_tokens (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id    uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX login_tokens_user_idx ON login_tokens (user_id);

-- The record of every outgoing mail. It never holds the link: links carry
-- secrets, and only hashes of secrets are stored.
CREATE TABLE mail_outbox (
  id         uuid PRIMARY KEY,
  to_email   text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('login', 'invitation')),
  subject    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz,
  attempts   int NOT NULL DEFAULT 0,
  last_error text
);

GRANT SELECT, INSERT, UPDATE ON users TO quire_app;
GRANT SELECT, INSERT, UPDATE ON sessions, refresh_tokens, login_tokens, mail_outbox TO quire_app;

-- +goose Down
DROP TABLE mail_outbox;
DROP TABLE login_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP FUNCTION bump_user_epoch();
