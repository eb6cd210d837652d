-- name: CreateAuditEvent :exec
INSERT INTO audit_events (id, org_id, actor_id, api_key_id, action, decision, reason, permission,
                          target_type, target_id, request_id, override)
VALUES (@id, sqlc.narg(org_id), sqlc.narg(actor_id), sqlc.narg(api_key_id), @action, @decision,
        sqlc.narg(reason), sqlc.narg(permission), sqlc.narg(target_type), sqlc.narg(target_id),
        sqlc.narg(request_id), @override);
