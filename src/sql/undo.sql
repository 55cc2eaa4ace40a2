/*
 * src/sql/undo.sql -- undoing an import: the before-images an import
 * writes (upflow.import_undo), and upflow.revert_import, which puts them
 * back.
 */

/*
 * Before-images, written by the import
 *
 * Created rows: their ids, an undo row per 100,000 (on Citus, per 25,000
 * of a statement).  Changed rows: the fields that differ between the row
 * as the import locked and read it and the row as it wrote it, an undo row
 * per 10,000.  Nothing for what the import left unchanged.
 */

/*
 * Copies of rows as they are at one moment, in temporary tables: the
 * contacts an import locked before and after it writes them, those a
 * revert finds.
 */
-- pg_temp.<copy_name>: the organization's contacts of contact_ids and the
-- main contacts of main_of_customers.
CREATE OR REPLACE FUNCTION upflow.copy_contacts(copy_name text, organization_id bigint,
												contact_ids bigint[], main_of_customers bigint[] DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	IF to_regclass(format('pg_temp.%I', copy_name)) IS NOT NULL THEN
		EXECUTE format('DROP TABLE pg_temp.%I', copy_name);
	END IF;
	-- Literals: Citus routes the statement by them, and a literal array is
	-- searched by hash.
	EXECUTE format($stmt$
	CREATE TEMP TABLE %I ON COMMIT DROP AS
	SELECT ct.contact_id, ct.customer_id, ct.email, ct.first_name, ct.family_name, ct.phone,
		   ct.position, ct.is_main, ct.last_import_id, ct.updated_at
	  FROM upflow.contact ct
	 WHERE ct.organization_id = %L::bigint
	   AND (ct.contact_id = ANY (%L::bigint[])
			OR (ct.customer_id = ANY (%L::bigint[]) AND ct.is_main))
	$stmt$, copy_name, copy_contacts.organization_id, contact_ids, coalesce(main_of_customers, '{}'));
END
$function$;

REVOKE ALL ON FUNCTION upflow.copy_contacts(text, bigint, bigint[], bigint[]) FROM PUBLIC;

COMMENT ON FUNCTION upflow.copy_contacts(text, bigint, bigint[], bigint[]) IS
'Copy contacts (by id, and the main contacts of customers) into a temporary table as they are now';

-- pg_temp.<copy_name>: the organization's customers of customer_ids.
CREATE OR REPLACE FUNCTION upflow.copy_customers(copy_name text, organization_id bigint,
												 customer_ids bigint[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	IF to_regclass(format('pg_temp.%I', copy_name)) IS NOT NULL THEN
		EXECUTE format('DROP TABLE pg_temp.%I', copy_name);
	END IF;
	EXECUTE format($stmt$
	CREATE TEMP TABLE %I ON COMMIT DROP AS
	SELECT c.customer_id, c.external_id, c.account_manager_id, c.updated_at
	  FROM upflow.customer c
	 WHERE c.organization_id = %L::bigint AND c.customer_id = ANY (%L::bigint[])
	$stmt$, copy_name, copy_customers.organization_id, customer_ids);
END
$function$;

REVOKE ALL ON FUNCTION upflow.copy_customers(text, bigint, bigint[]) FROM PUBLIC;

COMMENT ON FUNCTION upflow.copy_customers(text, bigint, bigint[]) IS
'Copy customers (by id) into a temporary table as they are now';

-- insert_rows, keeping the ids of the rows inserted as an undo row of kind
-- `kind` for the import.
CREATE OR REPLACE FUNCTION upflow.insert_created_rows(organization_id bigint, import_id bigint,
													  target regclass, columns text, rows text,
													  id_column text, kind text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	p_org constant bigint := insert_created_rows.organization_id;
	p_import constant bigint := insert_created_rows.import_id;
	inserted bigint := 0;
BEGIN
	IF NOT upflow.tables_distributed() THEN
		-- One statement: the rows, then their ids as undo rows of 100,000
		-- (one sorted array, sliced: no sort per chunk).
		-- (insert_routed writes the same rows on Citus.)
		EXECUTE format($stmt$
		WITH inserted AS (INSERT INTO %1$s (%2$s) %3$s RETURNING %4$I AS id),
		undo AS (
			INSERT INTO upflow.import_undo (organization_id, import_id, kind, row_id, row_ids)
			SELECT %5$L::bigint, %6$L::bigint, %7$L, a.ids[1 + s.chunk * 100000],
				   a.ids[1 + s.chunk * 100000 : (s.chunk + 1) * 100000]
			  FROM (SELECT array_agg(i.id ORDER BY i.id) AS ids FROM inserted i) a,
				   generate_series(0, (cardinality(a.ids) - 1) / 100000) AS s(chunk)
			RETURNING cardinality(row_ids) AS n)
		SELECT coalesce(sum(u.n), 0) FROM undo u$stmt$,
			target, columns, rows, id_column, p_org, p_import, kind) INTO inserted;
		RETURN inserted;
	END IF;

	-- Citus: the rows and their undo rows written on the shard's worker.
	RETURN upflow.insert_routed(p_org, target, columns, rows, p_import, kind);
END
$function$;

REVOKE ALL ON FUNCTION upflow.insert_created_rows(bigint, bigint, regclass, text, text, text, text) FROM PUBLIC;

COMMENT ON FUNCTION upflow.insert_created_rows(bigint, bigint, regclass, text, text, text, text) IS
'insert_rows, keeping the ids of the rows created in upflow.import_undo for the import''s undo';

-- The changed rows' before-images.  contacts: the contacts the import
-- locked (pg_temp.upflow_import_before holds them as they were then);
-- customers: the customers whose account manager it may have changed
-- (pg_temp.upflow_import_customer_before), NULL when the file names none.
-- Each is read again as written; the fields that differ are recorded, in
-- chunks of 10,000 rows.
CREATE OR REPLACE FUNCTION upflow.record_changed_rows(organization_id bigint, import_id bigint,
													  contacts bigint[], customers bigint[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
AS $function$
DECLARE
	p_org constant bigint := record_changed_rows.organization_id;
	p_import constant bigint := record_changed_rows.import_id;
	chunk record;
BEGIN
	IF to_regclass('pg_temp.upflow_import_changed') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_import_changed;
	END IF;
	CREATE TEMP TABLE upflow_import_changed (
		kind text, row_id bigint, line_number integer, before jsonb, after jsonb
	) ON COMMIT DROP;

	IF cardinality(contacts) > 0 THEN
		PERFORM upflow.copy_contacts('upflow_import_after', p_org, contacts);
		INSERT INTO upflow_import_changed
		-- The fields that differ, as two objects: all five, less those
		-- equal (one pass, no row per field to aggregate).
		SELECT 'contacts_changed', d.contact_id, l.line_number,
			   d.before - d.equal, d.after - d.equal
		  FROM (SELECT b.contact_id,
					   jsonb_build_object('first_name', b.first_name, 'family_name', b.family_name,
										  'phone', b.phone, 'position', b.position,
										  'is_main', b.is_main) AS before,
					   jsonb_build_object('first_name', a.first_name, 'family_name', a.family_name,
										  'phone', a.phone, 'position', a.position,
										  'is_main', a.is_main) AS after,
					   array_remove(ARRAY[
						   CASE WHEN b.first_name IS NOT DISTINCT FROM a.first_name THEN 'first_name' END,
						   CASE WHEN b.family_name IS NOT DISTINCT FROM a.family_name THEN 'family_name' END,
						   CASE WHEN b.phone IS NOT DISTINCT FROM a.phone THEN 'phone' END,
						   CASE WHEN b.position IS NOT DISTINCT FROM a.position THEN 'position' END,
						   CASE WHEN b.is_main IS NOT DISTINCT FROM a.is_main THEN 'is_main' END], NULL) AS equal
				  FROM upflow_import_before b
				  JOIN upflow_import_after a ON a.contact_id = b.contact_id
				 WHERE (b.first_name, b.family_name, b.phone, b.position, b.is_main)
					   IS DISTINCT FROM (a.first_name, a.family_name, a.phone, a.position, a.is_main)) d
		  LEFT JOIN (SELECT r.contact_id, max(r.line_number) AS line_number
					   FROM upflow_import_result r
					  WHERE r.action = 'updated'
					  GROUP BY r.contact_id) l ON l.contact_id = d.contact_id;
	END IF;

	IF cardinality(customers) > 0 THEN
		PERFORM upflow.copy_customers('upflow_import_customer_after', p_org, customers);
		INSERT INTO upflow_import_changed
		SELECT 'customers_changed', b.customer_id, l.line_number,
			   jsonb_build_object('account_manager_id', b.account_manager_id),
			   jsonb_build_object('account_manager_id', a.account_manager_id)
		  FROM upflow_import_customer_before b
		  JOIN upflow_import_customer_after a ON a.customer_id = b.customer_id
		  LEFT JOIN (SELECT r.customer_id, max(r.line_number) AS line_number
					   FROM upflow_import_result r
					  WHERE r.account_manager_id IS NOT NULL
						AND r.action IN ('created', 'updated', 'unchanged')
					  GROUP BY r.customer_id) l ON l.customer_id = b.customer_id
		 WHERE a.account_manager_id IS DISTINCT FROM b.account_manager_id;
	END IF;

	-- The chunks: one INSERT ... SELECT, or on Citus one INSERT per chunk,
	-- its values written in (a few chunks of 10,000 rows each).
	IF to_regclass('pg_temp.upflow_import_undo_chunk') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_import_undo_chunk;
	END IF;
	CREATE TEMP TABLE upflow_import_undo_chunk ON COMMIT DROP AS
	SELECT c.kind, min(c.row_id) AS row_id,
		   array_agg(c.row_id ORDER BY c.row_id) AS row_ids,
		   array_agg(c.line_number ORDER BY c.row_id) AS line_numbers,
		   jsonb_agg(c.before ORDER BY c.row_id) AS before,
		   jsonb_agg(c.after ORDER BY c.row_id) AS after
	  FROM (SELECT x.*, (row_number() OVER (PARTITION BY x.kind ORDER BY x.row_id) - 1) / 10000 AS chunk
			  FROM upflow_import_changed x) c
	 GROUP BY c.kind, c.chunk;
	IF NOT upflow.tables_distributed() THEN
		INSERT INTO upflow.import_undo (organization_id, import_id, kind, row_id, row_ids, line_numbers, before, after)
		SELECT p_org, p_import, c.kind, c.row_id, c.row_ids, c.line_numbers, c.before, c.after
		  FROM upflow_import_undo_chunk c;
		RETURN;
	END IF;
	FOR chunk IN SELECT c.* FROM upflow_import_undo_chunk c ORDER BY c.kind, c.row_id
	LOOP
		EXECUTE format($stmt$
		INSERT INTO upflow.import_undo (organization_id, import_id, kind, row_id, row_ids, line_numbers, before, after)
		VALUES (%L::bigint, %L::bigint, %L, %L::bigint, %L::bigint[], %L::integer[], %L::jsonb, %L::jsonb)$stmt$,
			p_org, p_import, chunk.kind, chunk.row_id, chunk.row_ids, chunk.line_numbers,
			chunk.before, chunk.after);
	END LOOP;
END
$function$;

REVOKE ALL ON FUNCTION upflow.record_changed_rows(bigint, bigint, bigint[], bigint[]) FROM PUBLIC;

COMMENT ON FUNCTION upflow.record_changed_rows(bigint, bigint, bigint[], bigint[]) IS
'Write the before-images of the contacts and customers an import changed';

/*
 * Reverting an import
 *
 * plan_revert decides, for every row the import created and every field it
 * changed, what a revert does (pg_temp.upflow_revert_plan, one row per
 * field of a changed row, one per created row):
 *
 *	restore		the field holds what the import wrote: put back the value
 *				from before
 *	delete		a row the import created, not changed since: delete it
 *	unchanged	the field already holds the value from before
 *	kept		changed since the import (by a later import or the
 *				application): kept, reported as changed_since_import;
 *				with force, restored (or deleted) instead
 *	gone		the row was deleted since: nothing to put back
 *	demote		(force) the main contact a customer has now, replaced by
 *				the one the import had replaced
 *
 * Reverts compare field by field, so imports can be reverted in any order:
 * reverting an older import while a newer one that touched the same
 * contacts stands restores what the newer one left alone and keeps (and
 * reports) what it changed again.
 */
CREATE OR REPLACE FUNCTION upflow.plan_revert(organization_id bigint, import_id bigint,
											  force boolean, lock_rows boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET enable_nestloop = off
AS $function$
DECLARE
	p_org constant bigint := plan_revert.organization_id;
	p_import constant bigint := plan_revert.import_id;
	imported_at timestamptz;
	contact_ids bigint[];
	customer_ids bigint[];
	main_customers bigint[];
	member_ids bigint[];
BEGIN
	SELECT i.finished_at INTO imported_at FROM upflow.import i
	 WHERE i.organization_id = p_org AND i.import_id = p_import;

	IF to_regclass('pg_temp.upflow_revert_row') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_revert_row;
	END IF;
	-- The rows the import created or changed.
	EXECUTE format($stmt$
	CREATE TEMP TABLE upflow_revert_row ON COMMIT DROP AS
	SELECT CASE WHEN u.kind IN ('contacts_changed', 'contacts_created') THEN 'contact' ELSE 'customer' END AS row_kind,
		   r.id AS row_id, u.kind IN ('contacts_created', 'customers_created') AS created,
		   r.line_number, u.before->(r.ordinal::integer - 1) AS before, u.after->(r.ordinal::integer - 1) AS after
	  FROM upflow.import_undo u,
		   LATERAL unnest(u.row_ids, u.line_numbers) WITH ORDINALITY AS r(id, line_number, ordinal)
	 WHERE u.organization_id = %L::bigint AND u.import_id = %L::bigint
	$stmt$, p_org, p_import);

	contact_ids := ARRAY(SELECT r.row_id FROM upflow_revert_row r WHERE r.row_kind = 'contact');
	customer_ids := ARRAY(SELECT r.row_id FROM upflow_revert_row r WHERE r.row_kind = 'customer');
	-- The customers of the contacts that were main before the import (their
	-- main contacts now are looked at too).
	EXECUTE format($stmt$
	SELECT coalesce(array_agg(DISTINCT ct.customer_id), '{}')
	  FROM upflow.contact ct
	 WHERE ct.organization_id = %L::bigint AND ct.contact_id = ANY (%L::bigint[])
	$stmt$, p_org,
		ARRAY(SELECT r.row_id FROM upflow_revert_row r
			   WHERE r.row_kind = 'contact' AND (r.before->'is_main') = 'true'))
	  INTO main_customers;

	-- Locks: customers, then contacts, each in id order (a revert, like an
	-- import, runs under the organization's import lock).  FOR UPDATE:
	-- the revert may delete them, and a contact added meanwhile to a
	-- customer it deletes would be lost.
	IF lock_rows THEN
		EXECUTE format($stmt$
		SELECT count(*) FROM (SELECT FROM upflow.customer c
		  WHERE c.organization_id = %L::bigint AND c.customer_id = ANY (%L::bigint[])
		  ORDER BY c.customer_id
		    FOR UPDATE) locked
		$stmt$, p_org, customer_ids || main_customers);
		EXECUTE format($stmt$
		SELECT count(*) FROM (SELECT FROM upflow.contact ct
		  WHERE ct.organization_id = %L::bigint
			AND (ct.contact_id = ANY (%L::bigint[]) OR (ct.customer_id = ANY (%L::bigint[]) AND ct.is_main))
		  ORDER BY ct.contact_id
		    FOR UPDATE) locked
		$stmt$, p_org, contact_ids, main_customers);
	END IF;

	-- The rows as they are now (locked: as the revert finds them).
	PERFORM upflow.copy_contacts('upflow_revert_contact', p_org, contact_ids, main_customers);
	PERFORM upflow.copy_customers('upflow_revert_customer', p_org,
		customer_ids || ARRAY(SELECT DISTINCT c.customer_id FROM upflow_revert_contact c));
	-- Created customers that have contacts the revert does not delete are
	-- kept (decided below, once the contacts' actions are known): their
	-- contacts now.
	IF to_regclass('pg_temp.upflow_revert_customer_contact') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_revert_customer_contact;
	END IF;
	EXECUTE format($stmt$
	CREATE TEMP TABLE upflow_revert_customer_contact ON COMMIT DROP AS
	SELECT ct.customer_id, ct.contact_id
	  FROM upflow.contact ct
	 WHERE ct.organization_id = %L::bigint AND ct.customer_id = ANY (%L::bigint[])
	$stmt$, p_org,
		ARRAY(SELECT r.row_id FROM upflow_revert_row r WHERE r.row_kind = 'customer' AND r.created));
	-- The account managers to put back, if they still exist.
	EXECUTE format($stmt$
	SELECT coalesce(array_agg(m.member_id), '{}')
	  FROM upflow.member m
	 WHERE m.organization_id = %L::bigint AND m.member_id = ANY (%L::bigint[])
	$stmt$, p_org,
		ARRAY(SELECT (r.before->>'account_manager_id')::bigint FROM upflow_revert_row r
			   WHERE r.row_kind = 'customer' AND r.before->>'account_manager_id' IS NOT NULL))
	  INTO member_ids;

	IF to_regclass('pg_temp.upflow_revert_plan') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_revert_plan;
	END IF;
	CREATE TEMP TABLE upflow_revert_plan ON COMMIT DROP AS
	SELECT x.row_kind, x.row_id, x.customer_id, x.external_id, x.email, x.line_number, x.field,
		   x.before, x.imported, x.now,
		   CASE
			   WHEN x.gone THEN 'gone'
			   WHEN x.created AND NOT x.changed_since THEN 'delete'
			   WHEN x.created THEN CASE WHEN force THEN 'delete' ELSE 'kept' END
			   WHEN x.now IS NOT DISTINCT FROM x.before THEN 'unchanged'
			   WHEN x.missing_member THEN 'kept'
			   WHEN x.now IS NOT DISTINCT FROM x.imported OR force THEN 'restore'
			   ELSE 'kept'
		   END AS action,
		   CASE
			   WHEN x.missing_member AND x.now IS DISTINCT FROM x.before THEN 'account_manager_not_found'
			   ELSE 'changed_since_import'
		   END AS reason
	  FROM (
		-- contacts
		SELECT 'contact'::text AS row_kind, r.row_id, c.customer_id, cu.external_id, c.email,
			   r.line_number, f.field, r.before->f.field AS before, r.after->f.field AS imported,
			   to_jsonb(c)->f.field AS now, r.created, c.contact_id IS NULL AS gone,
			   r.created AND (c.last_import_id IS DISTINCT FROM p_import OR c.updated_at > imported_at)
				   AS changed_since,
			   false AS missing_member
		  FROM upflow_revert_row r
		  LEFT JOIN upflow_revert_contact c ON c.contact_id = r.row_id
		  LEFT JOIN upflow_revert_customer cu ON cu.customer_id = c.customer_id,
			   LATERAL (SELECT k.key AS field FROM jsonb_object_keys(r.before) AS k(key)
						 WHERE NOT r.created
						UNION ALL
						SELECT NULL WHERE r.created) f
		 WHERE r.row_kind = 'contact'
		UNION ALL
		-- customers
		SELECT 'customer', r.row_id, r.row_id, cu.external_id, NULL, r.line_number, f.field,
			   r.before->f.field, r.after->f.field, to_jsonb(cu)->f.field, r.created,
			   cu.customer_id IS NULL,
			   false,
			   f.field = 'account_manager_id' AND r.before->>'account_manager_id' IS NOT NULL
				   AND NOT (r.before->>'account_manager_id')::bigint = ANY (member_ids)
		  FROM upflow_revert_row r
		  LEFT JOIN upflow_revert_customer cu ON cu.customer_id = r.row_id,
			   LATERAL (SELECT k.key AS field FROM jsonb_object_keys(r.before) AS k(key)
						 WHERE NOT r.created
						UNION ALL
						SELECT NULL WHERE r.created) f
		 WHERE r.row_kind = 'customer') x;

	-- A customer the import created is deleted only with its last contact:
	-- one with a contact the revert does not delete is kept.
	UPDATE upflow_revert_plan p
	   SET action = 'kept', reason = 'customer_has_contacts'
	 WHERE p.row_kind = 'customer' AND p.action = 'delete'
	   AND p.row_id IN (SELECT cc.customer_id
						  FROM upflow_revert_customer_contact cc
						 WHERE NOT EXISTS (SELECT FROM upflow_revert_plan d
											WHERE d.row_id = cc.contact_id
											  AND d.row_kind = 'contact' AND d.action = 'delete'));

	-- A contact that was main before the import becomes main again only if
	-- its customer's main contact now is one the revert demotes or deletes;
	-- otherwise the customer's main contact was changed since: kept (with
	-- force, that contact is demoted).
	UPDATE upflow_revert_plan p
	   SET action = CASE WHEN force THEN 'restore' ELSE 'kept' END, reason = 'main_contact_changed'
	  FROM upflow_revert_contact m
	 WHERE p.row_kind = 'contact' AND p.field = 'is_main' AND p.action = 'restore'
	   AND p.before = 'true'
	   AND m.customer_id = p.customer_id AND m.is_main AND m.contact_id <> p.row_id
	   AND NOT EXISTS (SELECT FROM upflow_revert_plan d
						WHERE d.row_id = m.contact_id AND d.row_kind = 'contact'
						  AND (d.action = 'delete' OR (d.field = 'is_main' AND d.action = 'restore'
													   AND d.before = 'false')));
	IF force THEN
		INSERT INTO upflow_revert_plan (row_kind, row_id, customer_id, external_id, email, line_number,
										field, before, imported, now, action, reason)
		SELECT 'contact', m.contact_id, m.customer_id, cu.external_id, m.email, NULL, 'is_main',
			   'false'::jsonb, NULL, 'true'::jsonb, 'demote', 'main_contact_changed'
		  FROM upflow_revert_contact m
		  JOIN upflow_revert_customer cu ON cu.customer_id = m.customer_id
		 WHERE m.is_main
		   AND m.customer_id IN (SELECT p.customer_id FROM upflow_revert_plan p
								  WHERE p.row_kind = 'contact' AND p.field = 'is_main'
									AND p.action = 'restore' AND p.reason = 'main_contact_changed')
		   AND NOT EXISTS (SELECT FROM upflow_revert_plan d
							WHERE d.row_id = m.contact_id AND d.row_kind = 'contact'
							  AND (d.action = 'delete' OR (d.field = 'is_main' AND d.action = 'restore')));
	END IF;
END
$function$;

REVOKE ALL ON FUNCTION upflow.plan_revert(bigint, bigint, boolean, boolean) FROM PUBLIC;

COMMENT ON FUNCTION upflow.plan_revert(bigint, bigint, boolean, boolean) IS
'Decide what reverting an import does, field by field, into pg_temp.upflow_revert_plan';

-- The options of a revert, checked.
CREATE OR REPLACE FUNCTION upflow.revert_options(options jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	opts constant jsonb := coalesce(revert_options.options, '{}');
	k text;
BEGIN
	IF jsonb_typeof(opts) <> 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example: {"dry_run": true} or {"force": true}.';
	END IF;
	FOR k IN SELECT jsonb_object_keys(opts) LOOP
		IF k NOT IN ('dry_run', 'force', 'submitted_by') THEN
			RAISE EXCEPTION 'unknown option "%" for revert_import', k
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'A revert takes the options dry_run, force and submitted_by.';
		END IF;
		IF k = 'submitted_by' THEN
			IF jsonb_typeof(opts->k) <> 'number' OR (opts->>k) !~ '^[0-9]{1,18}$' THEN
				RAISE EXCEPTION 'option submitted_by must be a member id'
					USING ERRCODE = 'invalid_parameter_value',
						  DETAIL = format('It is %s.', opts->k);
			END IF;
		ELSIF jsonb_typeof(opts->k) <> 'boolean' THEN
			RAISE EXCEPTION 'option % must be true or false', k
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('It is %s.', opts->k);
		END IF;
	END LOOP;
	RETURN opts;
END
$function$;

REVOKE ALL ON FUNCTION upflow.revert_options(jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.revert_options(jsonb) IS
'Check the options of revert_import (dry_run, force)';

-- The import to revert, after the checks: the caller's organization, a
-- finished import that changed something, with before-images, not a revert
-- itself, not reverted yet.
CREATE OR REPLACE FUNCTION upflow.import_to_revert(organization_id bigint, import_id bigint)
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	p_org constant bigint := import_to_revert.organization_id;
	p_import constant bigint := import_to_revert.import_id;
	target upflow.import;
	reverted_by bigint;
BEGIN
	SELECT i.* INTO target FROM upflow.import i
	 WHERE i.organization_id = p_org AND i.import_id = p_import;
	IF target.reverts_import_id IS NOT NULL THEN
		RAISE EXCEPTION 'import % is a revert and cannot be reverted', p_import
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('It reverted import %s.', target.reverts_import_id),
				  HINT = format('To apply the file of import %s again, import it again.', target.reverts_import_id);
	END IF;
	IF target.status IN ('pending', 'running') THEN
		RAISE EXCEPTION 'import % is % and cannot be reverted', p_import, target.status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Wait until it finishes, or cancel it while it is pending (upflow.cancel_import).';
	END IF;
	IF target.status IN ('failed', 'cancelled') THEN
		RAISE EXCEPTION 'import % is % and changed nothing to revert', p_import, target.status
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF NOT target.undo_recorded THEN
		RAISE EXCEPTION 'import % cannot be reverted', p_import
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'It was applied by upflow_import 1.0, which wrote no before-images.';
	END IF;
	SELECT i.import_id INTO reverted_by FROM upflow.import i
	 WHERE i.organization_id = p_org AND i.reverts_import_id = p_import;
	IF reverted_by IS NOT NULL THEN
		RAISE EXCEPTION 'import % was already reverted', p_import
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Import %s reverted it.', reverted_by),
				  HINT = 'An import is reverted once. To apply its file again, import it again.';
	END IF;
	RETURN target;
END
$function$;

REVOKE ALL ON FUNCTION upflow.import_to_revert(bigint, bigint) FROM PUBLIC;

COMMENT ON FUNCTION upflow.import_to_revert(bigint, bigint) IS
'The import row to revert, after checking that it can be reverted';

-- A revert: its history row, the plan, the writes, its problems and counts.
CREATE OR REPLACE FUNCTION upflow.apply_revert(organization_id bigint, import_id bigint, force boolean,
											   submitted_by bigint)
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET jit = off
SET enable_nestloop = off
AS $function$
DECLARE
	p_org constant bigint := apply_revert.organization_id;
	p_import constant bigint := apply_revert.import_id;
	target upflow.import;
	revert_id bigint;
	imp upflow.import;
	ids bigint[];
	n_rows integer;
	n_restored integer;
	n_deleted integer;
	n_kept integer;
	n_unchanged integer;
	n_errors integer;
	n_warnings integer;
	revert_status text;
	finished timestamptz;
	revert_error text;
BEGIN
	PERFORM upflow.take_import_lock(p_org, true);
	target := upflow.import_to_revert(p_org, p_import);
	-- Notified when it finishes: the member who reverts, or else the one
	-- who submitted the import.
	PERFORM upflow.check_member(p_org, apply_revert.submitted_by,
		'Option submitted_by names the member who reverts the import, to be notified when it is done.',
		'Pass the member_id of one of the organization''s members, or leave the option out.');

	INSERT INTO upflow.import AS i (organization_id, status, submitted_at, file_name, options,
									submitted_by, reverts_import_id)
	VALUES (p_org, 'running', clock_timestamp(), target.file_name,
			jsonb_build_object('force', force),
			coalesce(apply_revert.submitted_by, target.submitted_by), p_import)
	RETURNING i.import_id INTO revert_id;
	finished := clock_timestamp();
	UPDATE upflow.import i SET started_at = finished
	 WHERE i.organization_id = p_org AND i.import_id = revert_id;

	PERFORM upflow.plan_revert(p_org, p_import, force, true);

	-- Contacts the import created: deleted.
	ids := ARRAY(SELECT p.row_id FROM upflow_revert_plan p WHERE p.row_kind = 'contact' AND p.action = 'delete');
	IF cardinality(ids) > 0 THEN
		EXECUTE format('DELETE FROM upflow.contact ct WHERE ct.organization_id = %L::bigint AND ct.contact_id = ANY (%L::bigint[])',
					   p_org, ids);
	END IF;

	-- Changed contacts: every field back, but a main-contact flag put back
	-- to true, which waits for the demotions (the partial unique index).
	ids := ARRAY(SELECT DISTINCT p.row_id FROM upflow_revert_plan p
				  WHERE p.row_kind = 'contact' AND p.action IN ('restore', 'demote'));
	IF cardinality(ids) > 0 THEN
		EXECUTE format($stmt$
		UPDATE upflow.contact ct
		   SET first_name = CASE WHEN v.set_first_name THEN v.first_name ELSE ct.first_name END,
			   family_name = CASE WHEN v.set_family_name THEN v.family_name ELSE ct.family_name END,
			   phone = CASE WHEN v.set_phone THEN v.phone ELSE ct.phone END,
			   position = CASE WHEN v.set_position THEN v.position ELSE ct.position END,
			   is_main = CASE WHEN v.demote THEN false ELSE ct.is_main END,
			   updated_at = now(), last_import_id = %2$L::bigint
		  FROM (SELECT p.row_id,
					   bool_or(p.field = 'first_name') AS set_first_name,
					   max(p.before #>> '{}') FILTER (WHERE p.field = 'first_name') AS first_name,
					   bool_or(p.field = 'family_name') AS set_family_name,
					   max(p.before #>> '{}') FILTER (WHERE p.field = 'family_name') AS family_name,
					   bool_or(p.field = 'phone') AS set_phone,
					   max(p.before #>> '{}') FILTER (WHERE p.field = 'phone') AS phone,
					   bool_or(p.field = 'position') AS set_position,
					   max(p.before #>> '{}') FILTER (WHERE p.field = 'position') AS position,
					   bool_or(p.field = 'is_main' AND p.before = 'false') AS demote
				  FROM pg_temp.upflow_revert_plan p
				 WHERE p.row_kind = 'contact' AND p.action IN ('restore', 'demote')
				 GROUP BY p.row_id) v
		 WHERE ct.organization_id = %1$L::bigint AND ct.contact_id = ANY (%3$L::bigint[])
		   AND ct.contact_id = v.row_id$stmt$, p_org, revert_id, ids);
	END IF;
	ids := ARRAY(SELECT p.row_id FROM upflow_revert_plan p
				  WHERE p.row_kind = 'contact' AND p.field = 'is_main' AND p.action = 'restore'
					AND p.before = 'true');
	IF cardinality(ids) > 0 THEN
		EXECUTE format($stmt$
		UPDATE upflow.contact ct SET is_main = true, updated_at = now(), last_import_id = %2$L::bigint
		 WHERE ct.organization_id = %1$L::bigint AND ct.contact_id = ANY (%3$L::bigint[])$stmt$,
			p_org, revert_id, ids);
	END IF;

	-- Customers: account managers back, then those created deleted.
	IF EXISTS (SELECT FROM upflow_revert_plan p WHERE p.row_kind = 'customer' AND p.action = 'restore') THEN
		EXECUTE format($stmt$
		UPDATE upflow.customer c
		   SET account_manager_id = v.account_manager_id, updated_at = now()
		  FROM (SELECT p.row_id, (p.before #>> '{}')::bigint AS account_manager_id
				  FROM pg_temp.upflow_revert_plan p
				 WHERE p.row_kind = 'customer' AND p.field = 'account_manager_id' AND p.action = 'restore') v
		 WHERE c.organization_id = %1$L::bigint AND c.customer_id = ANY (%2$L::bigint[])
		   AND c.customer_id = v.row_id$stmt$, p_org,
			ARRAY(SELECT p.row_id FROM upflow_revert_plan p WHERE p.row_kind = 'customer' AND p.action = 'restore'));
	END IF;
	ids := ARRAY(SELECT p.row_id FROM upflow_revert_plan p WHERE p.row_kind = 'customer' AND p.action = 'delete');
	IF cardinality(ids) > 0 THEN
		EXECUTE format('DELETE FROM upflow.customer c WHERE c.organization_id = %L::bigint AND c.customer_id = ANY (%L::bigint[])',
					   p_org, ids);
	END IF;

	-- Problems: what was kept, what was gone.
	PERFORM upflow.insert_rows(p_org, 'upflow.import_error',
		'organization_id, import_id, line_number, severity, code, field, message, hint',
		format($q$SELECT %L::bigint AS organization_id, %L::bigint AS import_id, p.line_number,
						 CASE WHEN p.action = 'gone' OR p.reason = 'customer_has_contacts' THEN 'warning' ELSE 'error' END AS severity,
						 CASE WHEN p.action = 'gone' THEN 'deleted_since_import'
							  WHEN p.reason = 'customer_has_contacts' THEN 'customer_kept'
							  ELSE p.reason END AS code,
						 p.field,
						 upflow.revert_problem_message(p.row_kind, p.action, p.reason, p.external_id, p.email,
													   p.field, p.imported, p.now, %L::bigint) AS message,
						 CASE WHEN p.action = 'gone' THEN 'Nothing to do.'
							  WHEN p.reason = 'customer_has_contacts' THEN 'Delete the customer yourself if it should go.'
							  WHEN p.reason = 'account_manager_not_found' THEN 'Set the account manager in Upflow.'
							  ELSE 'Nothing to do if the value now is right; to put back the value from before the import anyway, revert with {"force": true}.' END AS hint
				  FROM pg_temp.upflow_revert_plan p
				 WHERE p.action IN ('kept', 'gone')
				 ORDER BY p.line_number NULLS LAST, p.row_kind, p.row_id, p.field$q$,
			   p_org, revert_id, p_import));

	-- Counts, per row (a contact or a customer).
	-- A row with a value kept counts as kept (failed_count), whatever else
	-- was put back in it: it needs a look.
	SELECT count(*),
		   count(*) FILTER (WHERE r.restored AND NOT r.kept AND NOT r.deleted),
		   count(*) FILTER (WHERE r.deleted),
		   count(*) FILTER (WHERE r.kept AND NOT r.deleted)
	  INTO n_rows, n_restored, n_deleted, n_kept
	  FROM (SELECT bool_or(p.action IN ('restore', 'demote')) AS restored,
				   bool_or(p.action = 'delete') AS deleted,
				   bool_or(p.action = 'kept' AND p.reason <> 'customer_has_contacts') AS kept
			  FROM upflow_revert_plan p
			 GROUP BY p.row_kind, p.row_id) r;
	n_unchanged := n_rows - n_restored - n_deleted - n_kept;
	SELECT count(*) FILTER (WHERE p.action = 'kept' AND p.reason <> 'customer_has_contacts'),
		   count(*) FILTER (WHERE p.action = 'gone' OR p.reason = 'customer_has_contacts')
	  INTO n_errors, n_warnings
	  FROM upflow_revert_plan p
	 WHERE p.action IN ('kept', 'gone');

	finished := clock_timestamp();
	revert_status := CASE
						 WHEN n_errors = 0 THEN 'succeeded'
						 WHEN n_restored + n_deleted = 0 AND n_kept > 0 THEN 'failed'
						 ELSE 'partially_succeeded'
					 END;
	-- (In variables: Citus refuses functions that are not immutable in a
	-- CASE of a statement on a distributed table.)
	IF revert_status = 'failed' THEN
		revert_error := format('Everything import %s changed was changed since; see the errors.', p_import);
	END IF;
	UPDATE upflow.import i
	   SET status = revert_status, finished_at = finished,
		   line_count = n_rows, updated_count = n_restored, deleted_count = n_deleted,
		   failed_count = n_kept, unchanged_count = n_unchanged, warning_count = n_warnings,
		   error = revert_error
	 WHERE i.organization_id = p_org AND i.import_id = revert_id
	RETURNING i.* INTO imp;
	RETURN imp;
END
$function$;

REVOKE ALL ON FUNCTION upflow.apply_revert(bigint, bigint, boolean, bigint) FROM PUBLIC;

COMMENT ON FUNCTION upflow.apply_revert(bigint, bigint, boolean, bigint) IS
'Revert an import (checked by import_to_revert); returns the revert''s history row';

CREATE OR REPLACE FUNCTION upflow.revert_problem_message(row_kind text, action text, reason text,
														 external_id text, email text, field text,
														 imported jsonb, now jsonb, import_id bigint)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
RETURN CASE
	WHEN action = 'gone' AND row_kind = 'contact' THEN
		format('The contact import %s changed was deleted since: nothing to put back.', import_id)
	WHEN action = 'gone' THEN
		format('The customer import %s changed was deleted since: nothing to put back.', import_id)
	WHEN reason = 'customer_has_contacts' THEN
		format('Customer %s, created by import %s, has contacts the import did not create: kept.',
			   '"' || external_id || '"', import_id)
	WHEN reason = 'account_manager_not_found' THEN
		format('The account manager customer %s had before import %s no longer exists: the account manager now is kept.',
			   '"' || external_id || '"', import_id)
	WHEN reason = 'main_contact_changed' THEN
		format('Contact %s was the main contact of customer %s before import %s; the customer''s main contact was changed since: kept.',
			   '"' || email || '"', '"' || external_id || '"', import_id)
	WHEN field IS NULL THEN
		format('Contact %s of customer %s, created by import %s, was changed since: kept.',
			   '"' || email || '"', '"' || external_id || '"', import_id)
	WHEN row_kind = 'contact' THEN
		format('The %s of contact %s of customer %s was changed since import %s: it is %s, the import wrote %s; kept.',
			   coalesce(lower(upflow.field_label(field)), field), '"' || email || '"', '"' || external_id || '"', import_id,
			   coalesce(now::text, 'empty'), coalesce(imported::text, 'empty'))
	ELSE
		format('The %s of customer %s was changed since import %s: kept.',
			   CASE field WHEN 'account_manager_id' THEN 'account manager' ELSE field END,
			   '"' || external_id || '"', import_id)
END;

REVOKE ALL ON FUNCTION upflow.revert_problem_message(text, text, text, text, text, text, jsonb, jsonb, bigint) FROM PUBLIC;

COMMENT ON FUNCTION upflow.revert_problem_message(text, text, text, text, text, text, jsonb, jsonb, bigint) IS
'The message of a problem of a revert';

CREATE OR REPLACE FUNCTION upflow.revert_import(import_id bigint, options jsonb DEFAULT '{}')
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	opts constant jsonb := upflow.revert_options(revert_import.options);
	p_org constant bigint := upflow.import_organization(revert_import.import_id);
	force constant boolean := coalesce((opts->>'force')::boolean, false);
	imp upflow.import;
BEGIN
	PERFORM upflow.organization_for_import(p_org, true);
	IF coalesce((opts->>'dry_run')::boolean, false) THEN
		-- The real revert, rolled back.
		BEGIN
			imp := upflow.apply_revert(p_org, revert_import.import_id, force, (opts->>'submitted_by')::bigint);
			RAISE EXCEPTION USING ERRCODE = 'UFDRY', MESSAGE = 'dry run';
		EXCEPTION WHEN SQLSTATE 'UFDRY' THEN
			RETURN imp;
		END;
	END IF;
	imp := upflow.apply_revert(p_org, revert_import.import_id, force, (opts->>'submitted_by')::bigint);
	PERFORM upflow.notify_import_finished(imp);
	RETURN imp;
END
$function$;

COMMENT ON FUNCTION upflow.revert_import(bigint, jsonb) IS
'Undo an import: put back what it changed, delete what it created, keep (and report) what changed since unless {"force": true}; {"dry_run": true} writes nothing; returns the revert''s history row';

-- What a revert would do, row by row and field by field, writing nothing.
CREATE OR REPLACE FUNCTION upflow.preview_revert(import_id bigint, options jsonb DEFAULT '{}')
RETURNS TABLE (row_kind text, row_id bigint, external_id text, email text, line_number integer,
			   field text, action text, value_before jsonb, value_imported jsonb, value_now jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
#variable_conflict use_column
DECLARE
	opts constant jsonb := upflow.revert_options(preview_revert.options);
	p_org constant bigint := upflow.import_organization(preview_revert.import_id);
BEGIN
	PERFORM upflow.organization_for_import(p_org, true);
	PERFORM upflow.import_to_revert(p_org, preview_revert.import_id);
	PERFORM upflow.plan_revert(p_org, preview_revert.import_id,
							   coalesce((opts->>'force')::boolean, false), false);
	RETURN QUERY
	SELECT p.row_kind, p.row_id, p.external_id, p.email, p.line_number, p.field, p.action,
		   p.before, p.imported, p.now
	  FROM pg_temp.upflow_revert_plan p
	 ORDER BY p.line_number NULLS LAST, p.row_kind, p.row_id, p.field NULLS FIRST;
END
$function$;

COMMENT ON FUNCTION upflow.preview_revert(bigint, jsonb) IS
'What revert_import would do, field by field (restore, delete, unchanged, kept, gone, demote), writing nothing';
