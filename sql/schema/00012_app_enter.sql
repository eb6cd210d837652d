-- +goose Up
-- app_enter opens a transaction's view of tenant data in one statement: it
-- sets the organization and the user row-level security keys on
-- (transaction-local, as the two set_config calls of store.InOrgTx did), and,
-- when the server answers from what it cached about the caller, checks that
-- what it cached still holds. store.InOrgTx sends it in the same round trip
-- as BEGIN and the transaction's first query, so checking costs no round trip
-- of its own.
--
-- The check (p_session given): the session is the user's, live at p_now (the
-- server's clock, which tests move) and still has the active organization
-- the server resolved the request with; the user is active and at the
-- authorization epoch cached. With p_org_epoch: the organization is not
-- deleted and at the epoch cached. With p_sole_org (the request fell back to
-- the caller's only organization, API.md): the user's live memberships are
-- exactly that one. Any change that can alter a decision bumps
-- one of the epochs (migrations 00002, 00004), so a pass means the cached
-- principal is the one the database would give now.
--
-- A failed check raises SQLSTATE QA001 and aborts the transaction before the
-- query runs: the server drops the answer and recomputes from the database.
-- +goose StatementBegin
CREATE FUNCTION app_enter(p_org uuid, p_user uuid, p_session uuid, p_now timestamptz,
                          p_user_epoch bigint, p_active_org uuid, p_org_epoch bigint,
                          p_sole_org uuid)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM set_config('app.org_id', coalesce(p_org::text, ''), true);
  PERFORM set_config('app.user_id', coalesce(p_user::text, ''), true);
  IF p_session IS NOT NULL THEN
    PERFORM FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = p_session
      AND s.user_id = p_user
      AND s.revoked_at IS NULL
      AND s.expires_at > p_now
      AND s.active_org_id IS NOT DISTINCT FROM p_active_org
      AND u.status = 'ACTIVE'
      AND u.authz_epoch = p_user_epoch;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the caller changed since the server cached it' USING ERRCODE = 'QA001';
    END IF;
  END IF;
  IF p_org_epoch IS NOT NULL THEN
    PERFORM FROM organizations o
    WHERE o.id = p_org AND o.deleted_at IS NULL AND o.authz_epoch = p_org_epoch;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the organization changed since the server cached it' USING ERRCODE = 'QA001';
    END IF;
  END IF;
  IF p_sole_org IS NOT NULL AND (
       SELECT array_agg(m.org_id)
       FROM memberships m JOIN organizations o ON o.id = m.org_id
       WHERE m.user_id = p_user AND m.removed_at IS NULL AND o.deleted_at IS NULL
     ) IS DISTINCT FROM ARRAY[p_sole_org] THEN
    RAISE EXCEPTION 'the caller''s organizations changed since the server cached them' USING ERRCODE = 'QA001';
  END IF;
END
$$;
-- +goose StatementEnd

GRANT EXECUTE ON FUNCTION app_enter(uuid, uuid, uuid, timestamptz, bigint, uuid, bigint, uuid) TO quire_app;

-- +goose Down
DROP FUNCTION app_enter(uuid, uuid, uuid, timestamptz, bigint, uuid, bigint, uuid);
