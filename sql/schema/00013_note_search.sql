-- +goose Up
-- Under row-level security the planner may use an index only through
-- leakproof operators, and the full-text match (@@) is not one: every
-- search read every row of notes, in every organization, computing its
-- tsvector. Marking the operator leakproof needs a superuser, which
-- migrations never are.
--
-- So searching finds its candidates in note_search instead: a note's
-- document, kept in step by trigger, read only by app_search_notes. That
-- function runs as the owner, for whom note_search's row-level security is
-- enabled but not forced, so the GIN index serves it; it returns the ids of
-- matching notes of the transaction's organization (app_org_id(), set by
-- app_enter) and nothing else. The search query then reads those notes
-- through the notes policy as always, so a PRIVATE note stays its author's.
-- The app role has no privilege on note_search itself.
CREATE TABLE note_search (
  note_id uuid PRIMARY KEY REFERENCES notes ON DELETE CASCADE,
  org_id  uuid NOT NULL,
  doc     tsvector NOT NULL
);
CREATE INDEX note_search_doc_idx ON note_search USING gin (doc);
ALTER TABLE note_search ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON note_search FROM PUBLIC;

-- +goose StatementBegin
CREATE FUNCTION notes_search_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO note_search (note_id, org_id, doc)
  VALUES (NEW.id, NEW.org_id,
          setweight(to_tsvector('english', NEW.title), 'A') || setweight(to_tsvector('english', NEW.body), 'B'))
  ON CONFLICT (note_id) DO UPDATE SET doc = EXCLUDED.doc;
  RETURN NULL;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION notes_search_sync() FROM PUBLIC;

CREATE TRIGGER notes_search_sync
  AFTER INSERT OR UPDATE OF title, body ON notes
  FOR EACH ROW EXECUTE FUNCTION notes_search_sync();

-- +goose StatementBegin
CREATE FUNCTION app_search_notes(q tsquery) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT note_id FROM note_search WHERE org_id = app_org_id() AND doc @@ q
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION app_search_notes(tsquery) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_search_notes(tsquery) TO quire_app;

-- The notes already there. The owner is held by FORCE ROW LEVEL SECURITY
-- too, so it lifts that for this one statement, inside the migration's
-- transaction.
ALTER TABLE notes NO FORCE ROW LEVEL SECURITY;
INSERT INTO note_search (note_id, org_id, doc)
SELECT id, org_id, setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
FROM notes;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;

-- No query under row-level security can use the old index.
DROP INDEX notes_search_idx;

-- +goose Down
CREATE INDEX notes_search_idx ON notes USING gin (
  (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')));
DROP FUNCTION app_search_notes(tsquery);
DROP TRIGGER notes_search_sync ON notes;
DROP FUNCTION notes_search_sync();
DROP TABLE note_search;
