-- +goose Up
-- Append-only: the app role may INSERT and SELECT, never change or delete.
-- Events outside any organization (sign-in, platform administration) have
-- org_id NULL and are readable by no tenant.
CREATE TABLE audit_events (
  id            uuid PRIMARY KEY,
  org_id        uuid REFERENCES organizations ON DELETE CASCADE,
  actor_id      uuid REFERENCES users,
  api_key_id    uuid,
  action        text NOT NULL,
  decision      text NOT NULL CHECK (decision IN ('ALLOW', 'DENY')),
  reason        text,
  target_type   text,
  target_id     uuid,
  request_id    text,
  override      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at DESC, id DESC);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_events_read ON audit_events FOR SELECT USING (org_id = app_org_id());
CREATE POLICY audit_events_insert ON audit_events FOR INSERT
  WITH CHECK (org_id IS NULL OR org_id = app_org_id());

GRANT SELECT, INSERT ON audit_events TO quire_app;

-- +goose Down
DROP TABLE audit_events;
