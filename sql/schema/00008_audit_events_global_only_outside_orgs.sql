-- +goose Up
-- An event without an organization (sign-in, platform administration) may
-- only be written outside any organization's transaction, so a tenant
-- transaction cannot forge one that looks platform-wide.
DROP POLICY audit_events_insert ON audit_events;
CREATE POLICY audit_events_insert ON audit_events FOR INSERT
  WITH CHECK (org_id = app_org_id() OR (org_id IS NULL AND app_org_id() IS NULL));

-- +goose Down
DROP POLICY audit_events_insert ON audit_events;
CREATE POLICY audit_events_insert ON audit_events FOR INSERT
  WITH CHECK (org_id IS NULL OR org_id = app_org_id());
