-- name: NotifyNoteEvent :exec
-- Sends a note event to every server's listener when the transaction
-- commits (and never if it rolls back). Ids only: the listener loads the
-- note as each subscriber, so the payload never carries a body.
SELECT pg_notify('quire_note_events', json_build_object(
         'org_id', @org_id::uuid,
         'note_id', @note_id::uuid,
         'kind', @kind::text)::text);
