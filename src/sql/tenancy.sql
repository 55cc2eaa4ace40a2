/*
 * src/sql/tenancy.sql -- tenancy and access: which organization a caller may work on.
 */

-- The organization a caller works on, after checking that it may: the
-- tenant setting must name it when set, and a role under row-level
-- security must set it.  Another organization is refused without telling
-- whether it exists.  With importing, CSV import must be enabled.
CREATE OR REPLACE FUNCTION upflow.organization_for_import(organization_id bigint, importing boolean DEFAULT true)
RETURNS upflow.organization
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	tenant bigint := upflow.current_organization_id();
	org upflow.organization;
BEGIN
	IF organization_for_import.organization_id IS NULL THEN
		RAISE EXCEPTION 'organization_id must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass the id of the organization the contacts belong to.';
	END IF;
	IF tenant IS NOT NULL AND tenant <> organization_for_import.organization_id THEN
		RAISE EXCEPTION 'permission denied for organization %', organization_for_import.organization_id
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('This session works for organization %s (setting upflow.organization_id).', tenant),
				  HINT = 'Work on your own organization only.';
	END IF;

	SELECT o.* INTO org FROM upflow.organization o
	 WHERE o.organization_id = organization_for_import.organization_id;
	IF NOT FOUND THEN
		IF tenant IS NULL AND row_security_active('upflow.organization'::regclass) THEN
			RAISE EXCEPTION 'permission denied for organization %', organization_for_import.organization_id
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'The setting upflow.organization_id is not set, so this role sees no organization.',
					  HINT = 'Run SET upflow.organization_id = <your organization id> first.';
		END IF;
		RAISE EXCEPTION 'organization % does not exist', organization_for_import.organization_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Check the organization_id argument.';
	END IF;

	IF importing AND NOT org.csv_import_enabled THEN
		RAISE EXCEPTION 'CSV import is not enabled for organization %', organization_for_import.organization_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'CSV import is off by default for every organization.',
				  HINT = format('An administrator enables it with: SELECT upflow.enable_csv_import(%s);',
								organization_for_import.organization_id);
	END IF;
	RETURN org;
END
$function$;

COMMENT ON FUNCTION upflow.organization_for_import(bigint, boolean) IS
'The organization row, after checking the caller may work on it (and, with importing, that CSV import is enabled)';

CREATE OR REPLACE FUNCTION upflow.enable_csv_import(organization_id bigint, enabled boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	UPDATE upflow.organization o
	   SET csv_import_enabled = coalesce(enable_csv_import.enabled, false)
	 WHERE o.organization_id = enable_csv_import.organization_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'organization % does not exist', enable_csv_import.organization_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Create the organization first: INSERT INTO upflow.organization (name) VALUES (...).';
	END IF;
END
$function$;

REVOKE ALL ON FUNCTION upflow.enable_csv_import(bigint, boolean) FROM PUBLIC;

COMMENT ON FUNCTION upflow.enable_csv_import(bigint, boolean) IS
'Turn CSV import on (or off) for an organization; for administrators only';

-- The organization of an import the caller may see, or an ERROR "does not
-- exist" (also for another organization's import: no existence leak).
-- With the tenant set, the lookup names one organization (one shard on
-- Citus); without it (an administrator), any organization's import.
CREATE OR REPLACE FUNCTION upflow.import_organization(import_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	tenant constant bigint := upflow.current_organization_id();
	org bigint;
BEGIN
	IF tenant IS NOT NULL THEN
		SELECT i.organization_id INTO org FROM upflow.import i
		 WHERE i.organization_id = tenant AND i.import_id = import_organization.import_id;
	ELSE
		SELECT i.organization_id INTO org FROM upflow.import i
		 WHERE i.import_id = import_organization.import_id;
	END IF;
	IF org IS NULL THEN
		RAISE EXCEPTION 'import % does not exist', import_organization.import_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Look up your imports in upflow.import_history.';
	END IF;
	RETURN org;
END
$function$;

COMMENT ON FUNCTION upflow.import_organization(bigint) IS
'The organization of an import the caller may see; ERROR when there is none';
