-- +goose Up
-- Tenant transactions run their statements on generic plans.
--
-- The list and search statements take optional filters as
-- "(@x IS NULL OR column = @x)". PostgreSQL's default (plan_cache_mode =
-- auto) compares a generic plan with custom ones, and for such statements
-- it estimates the generic plan at one row: it keeps planning each
-- execution afresh. Measured under load, planning the notes list cost
-- 0.22 ms per request, more than running it (0.12 ms), and doubled the
-- database's CPU per read.
--
-- Every tenant statement filters on org_id and reads through an index that
-- starts with it, so the generic plan has the shape a custom one would.
-- TestGrowth explains the generic plans of the list, a deep page and a
-- search, with a million notes in one organization, and fails on a
-- sequential scan of notes.
--
-- The setting is transaction-local, set where the tenant settings are, so
-- statements outside tenant transactions keep the default.
-- +goose StatementBegin
-- The checks themselves are those of 00012, in two statements instead of
-- four: each statement of a PL/pgSQL function is a round of the executor,
-- and app_enter runs on every read. The settings come first, in a statement
-- of their own: organizations is read under its policy, which needs them,
-- and SQL does not promise the order in which it evaluates an expression.
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_enter(p_org uuid, p_user uuid, p_session uuid, p_now timestamptz,
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
