-- +goose Up
CREATE TABLE notes (
  id         uuid PRIMARY KEY,
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  author_id  uuid NOT NULL REFERENCES users,
  title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  body       text NOT NULL CHECK (octet_length(body) <= 102400),
  tags       text[] NOT NULL DEFAULT '{}',
  visibility text NOT NULL DEFAULT 'ORG' CHECK (visibility IN ('ORG', 'PRIVATE')),
  version    int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  deleted_by uuid REFERENCES users
);
-- Keyset pagination, newest first, for the live list and for the trash.
CREATE INDEX notes_org_live_idx ON notes (org_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notes_org_trash_idx ON notes (org_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
-- Full-text search over an expression index rather than a stored column, so
-- rows stay lean; queries must spell the expression exactly as here.
CREATE INDEX notes_search_idx ON notes USING gin (
  (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')));
CREATE INDEX notes_tags_idx ON notes USING gin (tags);

-- One row per version: version 1 at creation, one more per update.
CREATE TABLE note_revisions (
  id         uuid PRIMARY KEY,
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  note_id    uuid NOT NULL REFERENCES notes ON DELETE CASCADE,
  version    int NOT NULL,
  title      text NOT NULL,
  body       text NOT NULL,
  tags       text[] NOT NULL,
  visibility text NOT NULL,
  edited_by  uuid NOT NULL REFERENCES users,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (note_id, version)
);
CREATE INDEX note_revisions_org_note_idx ON note_revisions (org_id, note_id, version DESC);

-- Wall 2 repeats the policy's object rule: a PRIVATE note exists only for its
-- author, and a revision only where its note is visible.
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_org ON notes
  USING (org_id = app_org_id() AND (visibility = 'ORG' OR author_id = app_user_id()))
  WITH CHECK (org_id = app_org_id() AND (visibility = 'ORG' OR author_id = app_user_id()));

ALTER TABLE note_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE note_revisions FORCE ROW LEVEL SECURITY;
CREATE POLICY note_revisions_org ON note_revisions
  USING (org_id = app_org_id() AND EXISTS (SELECT 1 FROM notes n WHERE n.id = note_id))
  WITH CHECK (org_id = app_org_id());

GRANT SELECT, INSERT, UPDATE ON notes TO quire_app;
GRANT SELECT, INSERT ON note_revisions TO quire_app;

-- +goose Down
DROP TABLE note_revisions;
DROP TABLE notes;
