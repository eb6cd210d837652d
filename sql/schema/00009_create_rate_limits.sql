-- +goose Up
-- Fixed-window counters shared by every replica: requestLoginLink is
-- limited per email (hashed: unknown addresses are not kept) and per client
-- IP, so nobody can flood an inbox or probe at speed.
CREATE TABLE rate_limits (
  key          text NOT NULL,
  window_start timestamptz NOT NULL,
  hits         int NOT NULL DEFAULT 1,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);

GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO quire_app;

-- Prefix search of users by email for platform administration.
CREATE INDEX users_email_prefix_idx ON users (email text_pattern_ops);
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- +goose Down
DROP INDEX users_created_idx;
DROP INDEX users_email_prefix_idx;
DROP TABLE rate_limits;
