-- +goose Up
-- The permission catalog, mirrored from internal/policy (the single source);
-- a test proves the two agree.
CREATE TABLE modules (
  name        text PRIMARY KEY,
  description text NOT NULL
);

CREATE TABLE permissions (
  code        text PRIMARY KEY,
  module      text NOT NULL REFERENCES modules,
  description text NOT NULL
);

INSERT INTO modules (name, description) VALUES
  ('core', 'Organization, members and roles'),
  ('notes', 'Notes'),
  ('api_keys', 'API keys for scripts'),
  ('audit', 'Audit log');

INSERT INTO permissions (code, module, description) VALUES
  ('org:update', 'core', 'Rename the organization and change its settings'),
  ('org:delete', 'core', 'Delete the organization and everything in it'),
  ('org:transfer', 'core', 'Transfer ownership of the organization'),
  ('members:read', 'core', 'See members and roles'),
  ('members:invite', 'core', 'Invite people and manage invitations'),
  ('members:manage', 'core', 'Change the roles of members'),
  ('members:remove', 'core', 'Remove members'),
  ('roles:manage', 'core', 'Create, change and delete custom roles'),
  ('notes:read', 'notes', 'Read notes'),
  ('notes:create', 'notes', 'Create notes'),
  ('notes:update', 'notes', 'Edit one''s own notes'),
  ('notes:delete', 'notes', 'Trash and restore one''s own notes'),
  ('notes:manage', 'notes', 'Edit, trash and restore anyone''s notes'),
  ('apikeys:read', 'api_keys', 'See API keys'),
  ('apikeys:manage', 'api_keys', 'Create and revoke API keys'),
  ('audit:read', 'audit', 'Read the audit log');

GRANT SELECT ON modules, permissions TO quire_app;

-- +goose Down
DROP TABLE permissions;
DROP TABLE modules;
