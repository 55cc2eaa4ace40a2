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
					  HINT = 'Run SET LOCAL upflow.organization_id = <your organization id> in the transaction first (SET for the whole session works on a single server; Citus needs SET LOCAL).';
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

REVOKE ALL ON FUNCTION upflow.organization_for_import(bigint, boolean) FROM PUBLIC;

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
	-- Its import lock, so that no import has to create it.
	INSERT INTO upflow.import_lock (organization_id)
	VALUES (enable_csv_import.organization_id)
	ON CONFLICT ON CONSTRAINT import_lock_pkey DO NOTHING;
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

REVOKE ALL ON FUNCTION upflow.import_organization(bigint) FROM PUBLIC;

COMMENT ON FUNCTION upflow.import_organization(bigint) IS
'The organization of an import the caller may see; ERROR when there is none';

-- The organization's import lock, held to the end of the transaction: an
-- organization's imports run one at a time, other organizations' in
-- parallel.  A row lock on upflow.import_lock (created by the first
-- import), not an advisory lock: a row lock holds on every node of a
-- Citus cluster.  With wait false, returns false at once when another
-- transaction holds it (the worker skips that organization).
CREATE OR REPLACE FUNCTION upflow.take_import_lock(org bigint, wait boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	previous_lock_timeout constant text := current_setting('lock_timeout');
BEGIN
	IF wait THEN
		INSERT INTO upflow.import_lock AS l (organization_id, locked_at)
		VALUES (take_import_lock.org, clock_timestamp())
		ON CONFLICT (organization_id) DO UPDATE SET locked_at = excluded.locked_at;
		RETURN true;
	END IF;
	-- The row, if this is the organization's first import.  A conflict with
	-- a committed row does not wait (even when another transaction holds
	-- its lock); one with a row another transaction is inserting would:
	-- that transaction holds the lock, so give up at once.
	IF NOT EXISTS (SELECT FROM upflow.import_lock l WHERE l.organization_id = take_import_lock.org) THEN
		BEGIN
			PERFORM set_config('lock_timeout', '1ms', true);
			INSERT INTO upflow.import_lock (organization_id)
			VALUES (take_import_lock.org)
			ON CONFLICT (organization_id) DO NOTHING;
			PERFORM set_config('lock_timeout', previous_lock_timeout, true);
		EXCEPTION WHEN lock_not_available THEN
			RETURN false;
		END;
	END IF;
	PERFORM FROM upflow.import_lock l
	  WHERE l.organization_id = take_import_lock.org
	    FOR NO KEY UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	-- (now(): Citus refuses volatile functions in an UPDATE of a
	-- distributed table.)
	UPDATE upflow.import_lock l SET locked_at = now()
	 WHERE l.organization_id = take_import_lock.org;
	RETURN true;
END
$function$;

REVOKE ALL ON FUNCTION upflow.take_import_lock(bigint, boolean) FROM PUBLIC;

COMMENT ON FUNCTION upflow.take_import_lock(bigint, boolean) IS
'Take the organization''s import lock until the end of the transaction (without wait: false when another transaction holds it)';

-- Whether the extension's tables are distributed by Citus: some writes
-- then take another form (see upflow.insert_rows).
CREATE OR REPLACE FUNCTION upflow.tables_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	distributed boolean := false;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1)'
		   INTO distributed USING 'upflow.contact'::regclass;
	END IF;
	RETURN distributed;
END
$function$;

REVOKE ALL ON FUNCTION upflow.tables_distributed() FROM PUBLIC;

COMMENT ON FUNCTION upflow.tables_distributed() IS
'Whether upflow.contact is a Citus distributed table';

-- A member named to be notified (submitted_by) must be one of the
-- organization's: a clear refusal rather than the foreign key's.  Dynamic,
-- the values written in: Citus routes by them.  detail and hint say what
-- named it.
CREATE OR REPLACE FUNCTION upflow.check_member(organization_id bigint, member_id bigint,
											   detail text, hint text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	known_member boolean;
BEGIN
	IF check_member.member_id IS NULL THEN
		RETURN;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT FROM upflow.member m WHERE m.organization_id = %L::bigint AND m.member_id = %L::bigint)',
				   check_member.organization_id, check_member.member_id)
	   INTO known_member;
	IF NOT known_member THEN
		RAISE EXCEPTION 'member % of organization % does not exist', check_member.member_id,
			check_member.organization_id
			USING ERRCODE = 'invalid_parameter_value', DETAIL = detail, HINT = hint;
	END IF;
END
$function$;

REVOKE ALL ON FUNCTION upflow.check_member(bigint, bigint, text, text) FROM PUBLIC;

COMMENT ON FUNCTION upflow.check_member(bigint, bigint, text, text) IS
'ERROR unless the member is one of the organization''s (nothing to check for NULL)';

-- On Citus, INSERT INTO target (columns) rows, where rows is a SELECT over
-- the import's temporary tables (its constants written in) and every row
-- is of the organization organization_id, as statements Citus runs on the
-- one worker holding the organization's shard.  From a temporary table,
-- Citus would pull the rows and COPY them into the shard, which row-level
-- security refuses; as multi-row INSERT ... VALUES it parses, deparses and
-- has the worker parse every value again (2.9 s for 50,000 contacts).
-- Here the rows are a materialized CTE, which Citus computes on the
-- coordinator and sends, as an intermediate result (binary COPY into a
-- file of the transaction: no table, no row-level security), to the node
-- that needs it only; the INSERT reads it beside the organization's row of
-- upflow.organization, a colocated table filtered on its distribution
-- column: a router statement the worker runs alone.  (The rows in a
-- temporary table first, then broadcast_intermediate_result to every
-- worker, took 0.15 s more for 50,000 contacts.)
--
-- The target's identity column, when columns leaves it out, is drawn in
-- the CTE with nextval, in the rows' order, as an INSERT on one server
-- draws it (on a worker the sequence has another range).  With
-- undo_import_id, the ids drawn are also written, in the same statement,
-- as undo rows of kind undo_kind for that import, in chunks of 100,000 as
-- on one server (insert_created_rows).  Returns the number of rows.
CREATE OR REPLACE FUNCTION upflow.insert_routed(organization_id bigint, target regclass,
												columns text, rows text,
												undo_import_id bigint DEFAULT NULL,
												undo_kind text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	names text[] := ARRAY(SELECT btrim(c) FROM unnest(string_to_array(columns, ',')) c);
	id_column text;
	value_columns text[];
	row_count bigint;
	other_organizations bigint;
BEGIN
	IF NOT 'organization_id' = ANY (names) THEN
		RAISE EXCEPTION 'insert_routed: columns must name organization_id';
	END IF;
	SELECT a.attname INTO id_column
	  FROM pg_attribute a
	 WHERE a.attrelid = target AND a.attidentity <> '' AND NOT a.attisdropped
	   AND a.attname <> ALL (names);
	IF undo_import_id IS NOT NULL AND id_column IS NULL THEN
		RAISE EXCEPTION 'insert_routed: % has no identity column to record', target;
	END IF;
	value_columns := array_remove(names, 'organization_id');
	IF id_column IS NOT NULL THEN
		value_columns := ARRAY[id_column] || value_columns;
	END IF;

	-- The organization_id of rows is checked, not written: every row takes
	-- the organization's own (the statement fails, and with it the
	-- transaction, when a row names another).
	EXECUTE format($stmt$
	WITH "upflow rows" AS MATERIALIZED (
		SELECT %1$s s.* FROM (%2$s) s
	), "upflow insert" AS (
		INSERT INTO %3$s AS t (organization_id, %4$s)
		SELECT o.organization_id, %5$s
		  FROM upflow.organization o, "upflow rows" r
		 WHERE o.organization_id = %6$L::bigint
	)%7$s$stmt$,
		CASE WHEN id_column IS NULL THEN ''
			 ELSE format('nextval(%L::regclass) AS %I,',
						 pg_get_serial_sequence(target::text, id_column), id_column) END,
		rows, target,
		(SELECT string_agg(quote_ident(c), ', ' ORDER BY i)
		   FROM unnest(value_columns) WITH ORDINALITY AS u(c, i)),
		(SELECT string_agg('r.' || quote_ident(c), ', ' ORDER BY i)
		   FROM unnest(value_columns) WITH ORDINALITY AS u(c, i)),
		organization_id,
		-- (The rows counted and checked in the pass that makes the undo
		-- rows: each pass reads the whole intermediate result.)
		CASE WHEN undo_import_id IS NULL THEN format($count$
	SELECT count(*), count(*) FILTER (WHERE r.organization_id IS DISTINCT FROM %L::bigint)
	  FROM "upflow rows" r$count$, organization_id)
		ELSE format($undo$, "upflow undo rows" AS MATERIALIZED (
		SELECT a.ids[1 + s.chunk * 100000] AS row_id,
			   a.ids[1 + s.chunk * 100000 : (s.chunk + 1) * 100000] AS row_ids, a.others
		  FROM (SELECT array_agg(r.%1$I ORDER BY r.%1$I) AS ids,
					   count(*) FILTER (WHERE r.organization_id IS DISTINCT FROM %4$L::bigint) AS others
				  FROM "upflow rows" r) a,
			   generate_series(0, (cardinality(a.ids) - 1) / 100000) AS s(chunk)
	), "upflow undo" AS (
		INSERT INTO upflow.import_undo AS u (organization_id, import_id, kind, row_id, row_ids)
		SELECT o.organization_id, %2$L::bigint, %3$L, d.row_id, d.row_ids
		  FROM upflow.organization o, "upflow undo rows" d
		 WHERE o.organization_id = %4$L::bigint
	)
	SELECT coalesce(sum(cardinality(d.row_ids)), 0), coalesce(max(d.others), 0)
	  FROM "upflow undo rows" d$undo$, id_column, undo_import_id, undo_kind, organization_id) END)
	INTO row_count, other_organizations;
	IF other_organizations > 0 THEN
		RAISE EXCEPTION 'insert_routed: rows of another organization than %', organization_id;
	END IF;
	RETURN row_count;
END
$function$;

REVOKE ALL ON FUNCTION upflow.insert_routed(bigint, regclass, text, text, bigint, text) FROM PUBLIC;

COMMENT ON FUNCTION upflow.insert_routed(bigint, regclass, text, text, bigint, text) IS
'On Citus, insert an organization''s rows of a query over temporary tables with statements run on its shard''s worker (the rows sent there as an intermediate result), and optionally the undo rows of the ids drawn';

-- INSERT INTO target (columns) rows, where rows is a SELECT over the
-- import's temporary tables (its constants written in) whose rows are all
-- of the organization organization_id: on one server, one INSERT ...
-- SELECT; on Citus, insert_routed.
CREATE OR REPLACE FUNCTION upflow.insert_rows(organization_id bigint, target regclass,
											  columns text, rows text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	inserted bigint := 0;
BEGIN
	IF NOT upflow.tables_distributed() THEN
		EXECUTE format('INSERT INTO %s (%s) %s', target, columns, rows);
		GET DIAGNOSTICS inserted = ROW_COUNT;
		RETURN inserted;
	END IF;
	RETURN upflow.insert_routed(organization_id, target, columns, rows);
END
$function$;

REVOKE ALL ON FUNCTION upflow.insert_rows(bigint, regclass, text, text) FROM PUBLIC;

COMMENT ON FUNCTION upflow.insert_rows(bigint, regclass, text, text) IS
'Insert an organization''s rows of a query into a table: one INSERT ... SELECT, or on Citus statements run on its shard (insert_routed)';
