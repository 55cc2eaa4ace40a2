/*
 * src/sql/tenant_setting.sql -- the tenant setting.  First in the full script: the policies of schema.sql call it.
 */

-- The tenant a session works for; NULL when the setting is absent or empty.
CREATE OR REPLACE FUNCTION upflow.current_organization_id()
RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
-- A standard-SQL body is resolved when the function is created, so no
-- search_path is needed, and without a SET clause the planner inlines it
-- into the policies below.
RETURN NULLIF(pg_catalog.current_setting('upflow.organization_id', true), '')::bigint;

COMMENT ON FUNCTION upflow.current_organization_id() IS
'Organization the session works for, from the setting upflow.organization_id (NULL when unset)';
