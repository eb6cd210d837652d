-- +goose Up
CREATE TABLE organizations (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$'),
  -- Bumped by trigger whenever roles, memberships or modules change, so a
  -- revocation is seen on the very next request on every replica.
  authz_epoch bigint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE organization_modules (
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  module     text NOT NULL REFERENCES modules,
  enabled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, module)
);

-- Roles with org_id NULL are the built-in ones, shared by every organization
-- and immutable: the app role's write policy requires its own org_id.
CREATE TABLE roles (
  id         uuid PRIMARY KEY,
  org_id     uuid REFERENCES organizations ON DELETE CASCADE,
  key        text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_-]{0,39}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_org_key ON roles (org_id, key) WHERE org_id IS NOT NULL;
CREATE UNIQUE INDEX roles_builtin_key ON roles (key) WHERE org_id IS NULL;

CREATE TABLE role_permissions (
  role_id    uuid NOT NULL REFERENCES roles ON DELETE CASCADE,
  permission text NOT NULL REFERENCES permissions,
  org_id     uuid REFERENCES organizations ON DELETE CASCADE,
  PRIMARY KEY (role_id, permission)
);
CREATE INDEX role_permissions_org_idx ON role_permissions (org_id);

-- Removed memberships stay (removed_at) so history keeps who people were; the
-- partial unique index lets a removed member join again.
CREATE TABLE memberships (
  id         uuid PRIMARY KEY,
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users,
  created_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz,
  removed_by uuid REFERENCES users
);
CREATE UNIQUE INDEX memberships_active_key ON memberships (org_id, user_id) WHERE removed_at IS NULL;
CREATE INDEX memberships_user_idx ON memberships (user_id) WHERE removed_at IS NULL;
CREATE INDEX memberships_org_created_idx ON memberships (org_id, created_at, id);

CREATE TABLE membership_roles (
  membership_id uuid NOT NULL REFERENCES memberships ON DELETE CASCADE,
  role_id       uuid NOT NULL REFERENCES roles ON DELETE RESTRICT,
  org_id        uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  PRIMARY KEY (membership_id, role_id)
);
CREATE INDEX membership_roles_org_role_idx ON membership_roles (org_id, role_id);

CREATE TABLE invitations (
  id          uuid PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  email       text NOT NULL CHECK (email = lower(email)),
  role_ids    uuid[] NOT NULL,
  token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  status      text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED')),
  invited_by  uuid REFERENCES users,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  decided_at  timestamptz,
  accepted_by uuid REFERENCES users
);
CREATE INDEX invitations_org_idx ON invitations (org_id, created_at DESC);
CREATE INDEX invitations_email_idx ON invitations (email) WHERE status = 'PENDING';

-- Built-in roles, mirrored from internal/policy; a test proves they agree.
-- Inserted before row-level security is switched on, which would refuse rows
-- without an organization.
INSERT INTO roles (id, org_id, key, name) VALUES
  ('00000000-0000-7000-8000-000000000001', NULL, 'owner', 'Owner'),
  ('00000000-0000-7000-8000-000000000002', NULL, 'admin', 'Admin'),
  ('00000000-0000-7000-8000-000000000003', NULL, 'editor', 'Editor'),
  ('00000000-0000-7000-8000-000000000004', NULL, 'viewer', 'Viewer');
INSERT INTO role_permissions (role_id, permission, org_id)
SELECT '00000000-0000-7000-8000-000000000001', code, NULL FROM permissions;
INSERT INTO role_permissions (role_id, permission, org_id)
SELECT '00000000-0000-7000-8000-000000000002', code, NULL FROM permissions
WHERE code NOT IN ('org:delete', 'org:transfer');
INSERT INTO role_permissions (role_id, permission, org_id)
SELECT '00000000-0000-7000-8000-000000000003', code, NULL FROM permissions
WHERE code IN ('notes:read', 'notes:create', 'notes:update', 'notes:delete', 'members:read');
INSERT INTO role_permissions (role_id, permission, org_id)
SELECT '00000000-0000-7000-8000-000000000004', code, NULL FROM permissions
WHERE code IN ('notes:read', 'members:read');

-- Wall 2. Every tenant table: ENABLE + FORCE (so even the owner is held),
-- keyed on app_org_id(). Two exceptions let a user find their own
-- organizations before one is active: a member sees their own memberships, and
-- the organizations they belong to.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY organizations_read ON organizations FOR SELECT
  USING (id = app_org_id() OR id IN (
    SELECT m.org_id FROM memberships m WHERE m.user_id = app_user_id() AND m.removed_at IS NULL));
CREATE POLICY organizations_insert ON organizations FOR INSERT WITH CHECK (id = app_org_id());
CREATE POLICY organizations_update ON organizations FOR UPDATE
  USING (id = app_org_id()) WITH CHECK (id = app_org_id());
CREATE POLICY organizations_delete ON organizations FOR DELETE USING (id = app_org_id());

ALTER TABLE organization_modules ENABLE ROW LEVEL SECURITY;
ALTER TABLE organization_modules FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_modules_org ON organization_modules
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY roles_read ON roles FOR SELECT USING (org_id IS NULL OR org_id = app_org_id());
CREATE POLICY roles_write ON roles USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

ALTER TABLE role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE role_permissions FORCE ROW LEVEL SECURITY;
CREATE POLICY role_permissions_read ON role_permissions FOR SELECT
  USING (org_id IS NULL OR org_id = app_org_id());
CREATE POLICY role_permissions_write ON role_permissions
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_read ON memberships FOR SELECT
  USING (org_id = app_org_id() OR user_id = app_user_id());
CREATE POLICY memberships_write ON memberships
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

ALTER TABLE membership_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE membership_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY membership_roles_org ON membership_roles
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_org ON invitations
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

-- Epochs. Any change that can alter a decision bumps the organization's
-- epoch in the same transaction, so no code path can forget to.
-- +goose StatementBegin
CREATE FUNCTION bump_org_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    org := OLD.org_id;
  ELSE
    org := NEW.org_id;
  END IF;
  IF org IS NOT NULL THEN
    UPDATE organizations SET authz_epoch = authz_epoch + 1 WHERE id = org;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.org_id IS DISTINCT FROM NEW.org_id AND OLD.org_id IS NOT NULL THEN
    UPDATE organizations SET authz_epoch = authz_epoch + 1 WHERE id = OLD.org_id;
  END IF;
  RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION bump_own_org_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.deleted_at IS DISTINCT FROM OLD.deleted_at THEN
    NEW.authz_epoch := OLD.authz_epoch + 1;
  END IF;
  RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER organizations_bump_epoch BEFORE UPDATE ON organizations
  FOR EACH ROW EXECUTE FUNCTION bump_own_org_epoch();
CREATE TRIGGER organization_modules_bump_epoch AFTER INSERT OR UPDATE OR DELETE ON organization_modules
  FOR EACH ROW EXECUTE FUNCTION bump_org_epoch();
CREATE TRIGGER roles_bump_epoch AFTER UPDATE OR DELETE ON roles
  FOR EACH ROW EXECUTE FUNCTION bump_org_epoch();
CREATE TRIGGER role_permissions_bump_epoch AFTER INSERT OR UPDATE OR DELETE ON role_permissions
  FOR EACH ROW EXECUTE FUNCTION bump_org_epoch();
CREATE TRIGGER memberships_bump_epoch AFTER INSERT OR UPDATE OR DELETE ON memberships
  FOR EACH ROW EXECUTE FUNCTION bump_org_epoch();
CREATE TRIGGER membership_roles_bump_epoch AFTER INSERT OR UPDATE OR DELETE ON membership_roles
  FOR EACH ROW EXECUTE FUNCTION bump_org_epoch();

GRANT SELECT, INSERT, UPDATE, DELETE ON organizations, organization_modules, roles, role_permissions,
  memberships, membership_roles, invitations TO quire_app;

-- +goose Down
DROP TABLE invitations;
DROP TABLE membership_roles;
DROP TABLE memberships;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE organization_modules;
DROP TABLE organizations;
DROP FUNCTION bump_own_org_epoch();
DROP FUNCTION bump_org_epoch();
