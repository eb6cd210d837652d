-- +goose Up
-- The trash purge job must find due notes across organizations, but row-level
-- security lets nothing list tenant rows outside an organization. The queue
-- holds only what the job needs to pick an organization and an author (the
-- note's RLS admits a PRIVATE note to its author only) — no content.
-- A trigger keeps it in step with notes.deleted_at, so no code path can forget.
CREATE TABLE trash_queue (
  note_id    uuid PRIMARY KEY REFERENCES notes ON DELETE CASCADE,
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  author_id  uuid NOT NULL,
  deleted_at timestamptz NOT NULL
);
-- The retention is configuration, so the queue stores when the note was
-- trashed and the job compares with now - retention.
CREATE INDEX trash_queue_due_idx ON trash_queue (deleted_at);

ALTER TABLE trash_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE trash_queue FORCE ROW LEVEL SECURITY;
-- SELECT: inside an organization, its rows; outside any organization (the
-- purge job's discovery step, InTx) every row. That is the narrowest rule
-- that works: which rows are due depends on the configured retention, which
-- the database does not know, and what it exposes is ids and a time, never a
-- title or body. Everything else needs the row's organization: the job
-- locks, deletes and purges inside that organization's transaction.
CREATE POLICY trash_queue_select ON trash_queue FOR SELECT
  USING (app_org_id() IS NULL OR org_id = app_org_id());
CREATE POLICY trash_queue_insert ON trash_queue FOR INSERT
  WITH CHECK (org_id = app_org_id());
-- UPDATE serves the trigger's ON CONFLICT and the job's FOR UPDATE lock.
CREATE POLICY trash_queue_update ON trash_queue FOR UPDATE
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
CREATE POLICY trash_queue_delete ON trash_queue FOR DELETE
  USING (org_id = app_org_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON trash_queue TO quire_app;
-- Purging deletes notes (their revisions and queue row cascade); the notes
-- policy still confines it to the organization and visible rows.
GRANT DELETE ON notes TO quire_app;

-- +goose StatementBegin
CREATE FUNCTION notes_trash_queue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.deleted_at IS NULL THEN
    DELETE FROM trash_queue WHERE note_id = NEW.id;
  ELSE
    INSERT INTO trash_queue (note_id, org_id, author_id, deleted_at)
    VALUES (NEW.id, NEW.org_id, NEW.author_id, NEW.deleted_at)
    ON CONFLICT (note_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at;
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER notes_trash_queue_insert
  AFTER INSERT ON notes
  FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL)
  EXECUTE FUNCTION notes_trash_queue();
CREATE TRIGGER notes_trash_queue_update
  AFTER UPDATE OF deleted_at ON notes
  FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
  EXECUTE FUNCTION notes_trash_queue();

-- +goose Down
DROP TRIGGER notes_trash_queue_update ON notes;
DROP TRIGGER notes_trash_queue_insert ON notes;
DROP FUNCTION notes_trash_queue();
REVOKE DELETE ON notes FROM quire_app;
DROP TABLE trash_queue;
