-- name: ListAuditEvents :many
-- Newest first, keyset-paginated on (created_at, id), the first page after
-- page.Newest, the cursor written as in ListNotes; nil filters do not filter.
SELECT *
FROM audit_events
WHERE org_id = @org_id::uuid
  AND (created_at, id) < (@after_created_at::timestamptz, @after_id::uuid)
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)::text)
  AND (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id)::uuid)
  AND (sqlc.narg(decision)::text IS NULL OR decision = sqlc.narg(decision)::text)
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: CountAuditEvents :one
SELECT count(*)
FROM audit_events
WHERE org_id = @org_id::uuid
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)::text)
  AND (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id)::uuid)
  AND (sqlc.narg(decision)::text IS NULL OR decision = sqlc.narg(decision)::text);
