-- name: CreateNote :one
INSERT INTO notes (id, org_id, author_id, title, body, tags, visibility, created_at, updated_at)
VALUES (@id, @org_id, @author_id, @title, @body, @tags, @visibility, @now, @now)
RETURNING *;

-- name: CreateNoteRevision :exec
INSERT INTO note_revisions (id, org_id, note_id, version, title, body, tags, visibility, edited_by, created_at)
VALUES (@id, @org_id, @note_id, @version, @title, @body, @tags, @visibility, @edited_by, @created_at);

-- name: GetNote :one
-- Trashed notes are returned too: deleted_at tells.
SELECT *
FROM notes
WHERE org_id = @org_id
  AND id = @id
  AND (visibility = 'ORG' OR author_id = @user_id);

-- name: ListNotes :many
-- Newest first, keyset-paginated on (created_at, id); the first page starts
-- after page.Newest. The cursor is a plain row comparison, not "IS NULL OR"
-- (nor coalesce, which row-level security counts as leaky), so that the
-- generic plan (migration 00014) starts the index scan at the cursor instead
-- of filtering from the top. The visibility clause
-- repeats the policy's PRIVATE rule; a test holds the two together. Each
-- note's author comes along (a primary-key probe per row of the page), so a
-- page with authors is one statement. It is the hottest statement, so it
-- reads only the columns the API shows: the organization is the one asked
-- for and a live note has no deleted_at (8 of 21 columns fewer, about a
-- quarter of PostgreSQL's time per page in text form).
SELECT notes.id, notes.author_id, notes.title, notes.body, notes.tags, notes.visibility, notes.version,
       notes.created_at, notes.updated_at,
       users.email AS author_email, users.display_name AS author_display_name,
       users.platform_role AS author_platform_role, users.status AS author_status,
       users.created_at AS author_created_at
FROM notes
JOIN users ON users.id = notes.author_id
WHERE notes.org_id = @org_id
  AND notes.deleted_at IS NULL
  AND (notes.visibility = 'ORG' OR notes.author_id = @user_id)
  AND (notes.created_at, notes.id) < (@after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(tags)::text[] IS NULL OR notes.tags @> sqlc.narg(tags)::text[])
  AND (sqlc.narg(author_id)::uuid IS NULL OR notes.author_id = sqlc.narg(author_id)::uuid)
  AND (sqlc.narg(visibility)::text IS NULL OR notes.visibility = sqlc.narg(visibility)::text)
ORDER BY notes.created_at DESC, notes.id DESC
LIMIT @lim;

-- name: SearchNotes :many
-- Best match first: ts_rank_cd of the indexed expression, then newest, keyset-
-- paginated on (rank, created_at, id). The rank is a function of the row and
-- the query only, so a cursor's rank compares exactly on the next page. Each
-- note's author comes along, as in ListNotes. The matches come from
-- app_search_notes, which can use the search index (migration 00013).
SELECT sqlc.embed(notes), sqlc.embed(users),
       ts_rank_cd(setweight(to_tsvector('english', notes.title), 'A') || setweight(to_tsvector('english', notes.body), 'B'),
                  websearch_to_tsquery('english', @search::text))::real AS rank
FROM notes
JOIN users ON users.id = notes.author_id
WHERE notes.org_id = @org_id
  AND notes.deleted_at IS NULL
  AND (notes.visibility = 'ORG' OR notes.author_id = @user_id)
  AND notes.id IN (SELECT app_search_notes(websearch_to_tsquery('english', @search::text)))
  AND (sqlc.narg(after_rank)::real IS NULL
       OR (ts_rank_cd(setweight(to_tsvector('english', notes.title), 'A') || setweight(to_tsvector('english', notes.body), 'B'),
                      websearch_to_tsquery('english', @search::text))::real, notes.created_at, notes.id)
          < (sqlc.narg(after_rank)::real, sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
  AND (sqlc.narg(tags)::text[] IS NULL OR notes.tags @> sqlc.narg(tags)::text[])
  AND (sqlc.narg(author_id)::uuid IS NULL OR notes.author_id = sqlc.narg(author_id)::uuid)
  AND (sqlc.narg(visibility)::text IS NULL OR notes.visibility = sqlc.narg(visibility)::text)
ORDER BY rank DESC, notes.created_at DESC, notes.id DESC
LIMIT @lim;

-- name: CountNotes :one
SELECT count(*)
FROM notes
WHERE org_id = @org_id
  AND deleted_at IS NULL
  AND (visibility = 'ORG' OR author_id = @user_id)
  AND (sqlc.narg(search)::text IS NULL
       OR id IN (SELECT app_search_notes(websearch_to_tsquery('english', sqlc.narg(search)::text))))
  AND (sqlc.narg(tags)::text[] IS NULL OR tags @> sqlc.narg(tags)::text[])
  AND (sqlc.narg(author_id)::uuid IS NULL OR author_id = sqlc.narg(author_id)::uuid)
  AND (sqlc.narg(visibility)::text IS NULL OR visibility = sqlc.narg(visibility)::text);

-- name: ListTrash :many
-- Most recently trashed first, keyset-paginated on (deleted_at, id), the
-- cursor written as in ListNotes.
SELECT *
FROM notes
WHERE org_id = @org_id
  AND deleted_at IS NOT NULL
  AND (visibility = 'ORG' OR author_id = @user_id)
  AND (deleted_at, id) < (@after_deleted_at::timestamptz, @after_id::uuid)
ORDER BY deleted_at DESC, id DESC
LIMIT @lim;

-- name: CountTrash :one
SELECT count(*)
FROM notes
WHERE org_id = @org_id
  AND deleted_at IS NOT NULL
  AND (visibility = 'ORG' OR author_id = @user_id);

-- name: UpdateNote :one
-- No row back while the note exists means expected_version is stale.
UPDATE notes
SET title = @title,
    body = @body,
    tags = @tags,
    visibility = @visibility,
    version = version + 1,
    updated_at = @now
WHERE org_id = @org_id
  AND id = @id
  AND version = @expected_version
  AND deleted_at IS NULL
RETURNING *;

-- name: TrashNote :one
UPDATE notes
SET deleted_at = @now::timestamptz,
    deleted_by = @user_id::uuid
WHERE org_id = @org_id
  AND id = @id
  AND deleted_at IS NULL
RETURNING *;

-- name: RestoreNote :one
UPDATE notes
SET deleted_at = NULL,
    deleted_by = NULL
WHERE org_id = @org_id
  AND id = @id
  AND deleted_at IS NOT NULL
RETURNING *;

-- name: ListNoteRevisions :many
SELECT version, title, body, edited_by, created_at
FROM note_revisions
WHERE org_id = @org_id
  AND note_id = @note_id
ORDER BY version DESC;

-- name: ListRevisionsForNotes :many
-- Every version of the given notes in one statement, for the revisions
-- loader: by note, newest first. The join repeats the PRIVATE rule as the
-- lists do; RLS holds it too.
SELECT r.note_id, r.version, r.title, r.body, r.edited_by, r.created_at
FROM note_revisions r
JOIN notes n ON n.id = r.note_id AND n.org_id = r.org_id
WHERE r.org_id = @org_id
  AND r.note_id = ANY(@note_ids::uuid[])
  AND (n.visibility = 'ORG' OR n.author_id = @user_id)
ORDER BY r.note_id, r.version DESC;
