-- Bulk inserts for `quire admin seed` (development and benchmarks only):
-- one statement per table per organization, generated in the database.

-- name: SeedUsers :many
-- Creates one user per email, in the order given.
INSERT INTO users (id, email, display_name)
SELECT gen_random_uuid(), e.email, 'Seed user ' || e.ord
FROM unnest(@emails::text[]) WITH ORDINALITY AS e(email, ord)
ORDER BY e.ord
RETURNING id, email;

-- name: SeedNotes :execrows
-- Inserts @count notes into @org_id, newest first one second apart from
-- @newest, with ~512-byte bodies and two tags each; authors rotate through
-- @author_ids and every 20th note is in the trash.
INSERT INTO notes (id, org_id, author_id, title, body, tags, visibility, created_at, updated_at, deleted_at, deleted_by)
SELECT gen_random_uuid(), p.org_id, p.authors[1 + g % cardinality(p.authors)],
       'Seed note ' || g,
       rpad('Seed note ' || g || '. ', 512, 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '),
       ARRAY['seed', 'topic-' || (g % 10)],
       'ORG',
       p.newest - g * interval '1 second',
       p.newest - g * interval '1 second',
       CASE WHEN g % 20 = 0 THEN p.newest END,
       CASE WHEN g % 20 = 0 THEN p.authors[1 + g % cardinality(p.authors)] END
FROM (SELECT @org_id::uuid AS org_id, @author_ids::uuid[] AS authors, @newest::timestamptz AS newest) AS p,
     generate_series(1, @count::int) AS g;

-- name: SeedNoteRevisions :execrows
-- Gives every note of @org_id without one its version-1 revision.
INSERT INTO note_revisions (id, org_id, note_id, version, title, body, tags, visibility, edited_by, created_at)
SELECT gen_random_uuid(), n.org_id, n.id, 1, n.title, n.body, n.tags, n.visibility, n.author_id, n.created_at
FROM notes n
WHERE n.org_id = @org_id
  AND NOT EXISTS (SELECT 1 FROM note_revisions r WHERE r.org_id = @org_id AND r.note_id = n.id);
