-- +goose Up
-- Migrations run as the owner role; the server runs as quire_app, which must
-- exist first (README, "Production"). Failing here names the missing step
-- instead of failing later on a GRANT.
-- +goose StatementBegin
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'quire_app') THEN
    RAISE EXCEPTION 'role quire_app does not exist: create it before migrating (README, Production)';
  END IF;
END
$$;
-- +goose StatementEnd

-- The tenant walls read these. set_config(..., true) in store.InOrgTx is the
-- only writer; outside such a transaction both are NULL and match no row.
-- +goose StatementBegin
CREATE FUNCTION app_org_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION app_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA public TO quire_app;
GRANT EXECUTE ON FUNCTION app_org_id(), app_user_id() TO quire_app;

-- +goose Down
DROP FUNCTION app_user_id();
DROP FUNCTION app_org_id();
