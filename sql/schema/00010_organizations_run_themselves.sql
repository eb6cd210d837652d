-- +goose Up
-- Every live organization keeps at least one active member holding the
-- built-in owner role. Checked at commit (deferred), so a transfer may
-- grant before it revokes; the organization's row is locked first, so two
-- transactions demoting the last two owners serialise and the second sees
-- the first's commit.
-- +goose StatementBegin
CREATE FUNCTION check_org_has_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    org := OLD.org_id;
  ELSE
    org := NEW.org_id;
  END IF;
  PERFORM 1 FROM organizations o WHERE o.id = org AND o.deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL; -- deleted or gone: nothing to keep
  END IF;
  IF NOT EXISTS (
    SELECT 1
    FROM memberships m
    JOIN membership_roles mr ON mr.membership_id = m.id AND mr.org_id = org
    JOIN roles r ON r.id = mr.role_id AND r.org_id IS NULL AND r.key = 'owner'
    WHERE m.org_id = org AND m.removed_at IS NULL
  ) THEN
    RAISE EXCEPTION 'organization % would have no owner', org
      USING ERRCODE = 'check_violation', CONSTRAINT = 'organizations_owner_required';
  END IF;
  RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER membership_roles_owner_required
  AFTER UPDATE OR DELETE ON membership_roles
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_org_has_owner();
CREATE CONSTRAINT TRIGGER memberships_owner_required
  AFTER UPDATE OR DELETE ON memberships
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION check_org_has_owner();

-- An invitation's link carries its organization's id beside the secret, so
-- accepting it runs inside that organization's wall. Listing one's own
-- invitations crosses organizations: the addressee may read the invitations
-- sent to their own email, and nothing else of them.
CREATE POLICY invitations_addressee ON invitations FOR SELECT
  USING (email = (SELECT u.email FROM users u WHERE u.id = app_user_id()));

-- Audit decisions read as the API names them, and a refusal records the
-- permission it lacked. FORCE is lifted for the rewrite only: the owner is
-- held by row-level security like everyone else, and no policy lets anyone
-- update audit events.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_decision_check;
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
UPDATE audit_events SET decision = CASE decision WHEN 'ALLOW' THEN 'ALLOWED' ELSE 'DENIED' END;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_decision_check CHECK (decision IN ('ALLOWED', 'DENIED'));
ALTER TABLE audit_events ADD COLUMN permission text;
CREATE INDEX audit_events_org_action_idx ON audit_events (org_id, action, created_at DESC);

-- +goose Down
DROP INDEX audit_events_org_action_idx;
ALTER TABLE audit_events DROP COLUMN permission;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_decision_check;
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
UPDATE audit_events SET decision = CASE decision WHEN 'ALLOWED' THEN 'ALLOW' ELSE 'DENY' END;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_decision_check CHECK (decision IN ('ALLOW', 'DENY'));
DROP POLICY invitations_addressee ON invitations;
DROP TRIGGER memberships_owner_required ON memberships;
DROP TRIGGER membership_roles_owner_required ON membership_roles;
DROP FUNCTION check_org_has_owner();
