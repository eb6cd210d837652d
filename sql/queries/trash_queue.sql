-- name: ListDueTrashOwners :many
-- The purge job's discovery, outside any organization (see the policy in
-- 00011): which (organization, author) pairs have notes trashed before
-- cutoff. No lock: the purge itself locks, inside the organization.
SELECT DISTINCT org_id, author_id
FROM trash_queue
WHERE deleted_at < @cutoff
LIMIT @lim;

-- name: LockDueTrash :many
-- Claims due queue rows of one organization and author; rows another
-- purger holds are skipped, so replicas never purge the same note twice.
SELECT note_id
FROM trash_queue
WHERE org_id = @org_id
  AND author_id = @author_id
  AND deleted_at < @cutoff
ORDER BY deleted_at, note_id
LIMIT @lim
FOR UPDATE SKIP LOCKED;

-- name: PurgeNotes :many
-- Deletes the claimed notes that are still trashed and old; revisions and
-- queue rows cascade.
DELETE FROM notes
WHERE org_id = @org_id
  AND id = ANY(@ids::uuid[])
  AND deleted_at IS NOT NULL
  AND deleted_at < @cutoff::timestamptz
RETURNING id;

-- name: DeleteTrashQueue :exec
DELETE FROM trash_queue
WHERE org_id = @org_id
  AND note_id = ANY(@ids::uuid[]);
