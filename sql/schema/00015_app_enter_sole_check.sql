-- +goose Up
-- app_enter skips the sole-organization check without running a query when
-- the organization came from the API key, the X-Organization-Id header or
-- the session's active organization (p_sole_org is NULL), as it does for
-- most requests.
--
-- In 00014 the check was one condition, "p_sole_org IS NOT NULL AND
-- (SELECT ...) IS DISTINCT FROM ...". A condition with a subquery is not
-- one PL/pgSQL evaluates itself: it went to the executor on every call,
-- which then stopped at the NULL. Two nested IFs leave the outer test to
-- PL/pgSQL. In pgbench, as the app role, a call took about 10 µs less
-- (59 µs against 69 µs, with a round trip of 35 µs). Nothing else changes.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_enter(p_org uuid, p_user uuid, p_session uuid, p_now timestamptz,
                                     p_user_epoch bigint, p_active_org uuid, p_org_epoch bigint,
                                     p_sole_org uuid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  caller_ok boolean;
  org_ok boolean;
BEGIN
  PERFORM set_config('app.org_id', coalesce(p_org::text, ''), true),
          set_config('app.user_id', coalesce(p_user::text, ''), true),
          set_config('plan_cache_mode', 'force_generic_plan', true);
  SELECT p_session IS NULL OR EXISTS (
               SELECT FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.id = p_session
                 AND s.user_id = p_user
                 AND s.revoked_at IS NULL
                 AND s.expires_at > p_now
                 AND s.active_org_id IS NOT DISTINCT FROM p_active_org
                 AND u.status = 'ACTIVE'
                 AND u.authz_epoch = p_user_epoch),
         p_org_epoch IS NULL OR EXISTS (
               SELECT FROM organizations o
               WHERE o.id = p_org AND o.deleted_at IS NULL AND o.authz_epoch = p_org_epoch)
  INTO caller_ok, org_ok;
  IF NOT caller_ok THEN
    RAISE EXCEPTION 'the caller changed since the server cached it' USING ERRCODE = 'QA001';
  END IF;
  IF NOT org_ok THEN
    RAISE EXCEPTION 'the organization changed since the server cached it' USING ERRCODE = 'QA001';
  END IF;
  IF p_sole_org IS NOT NULL THEN
    IF (SELECT array_agg(m.org_id)
        FROM memberships m JOIN organizations o ON o.id = m.org_id
        WHERE m.user_id = p_user AND m.removed_at IS NULL AND o.deleted_at IS NULL
       ) IS DISTINCT FROM ARRAY[p_sole_org] THEN
      RAISE EXCEPTION 'the caller''s organizations changed since the server cached them' USING ERRCODE = 'QA001';
    END IF;
  END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_enter(p_org uuid, p_user uuid, p_session uuid, p_now timestamptz,
                                     p_user_epoch bigint, p_active_org uuid, p_org_epoch bigint,
                                     p_sole_org uuid)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  caller_ok boolean;
  org_ok boolean;
BEGIN
  PERFORM set_config('app.org_id', coalesce(p_org::text, ''), true),
          set_config('app.user_id', coalesce(p_user::text, ''), true),
          set_config('plan_cache_mode', 'force_generic_plan', true);
  SELECT p_session IS NULL OR EXISTS (
               SELECT FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.id = p_session
                 AND s.user_id = p_user
                 AND s.revoked_at IS NULL
                 AND s.expires_at > p_now
                 AND s.active_org_id IS NOT DISTINCT FROM p_active_org
                 AND u.status = 'ACTIVE'
                 AND u.authz_epoch = p_user_epoch),
         p_org_epoch IS NULL OR EXISTS (
               SELECT FROM organizations o
               WHERE o.id = p_org AND o.deleted_at IS NULL AND o.authz_epoch = p_org_epoch)
  INTO caller_ok, org_ok;
  IF NOT caller_ok THEN
    RAISE EXCEPTION 'the caller changed since the server cached it' USING ERRCODE = 'QA001';
  END IF;
  IF NOT org_ok THEN
    RAISE EXCEPTION 'the organization changed since the server cached it' USING ERRCODE = 'QA001';
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
