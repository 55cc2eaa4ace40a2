/*
 * src/sql/apply.sql -- applying an import, synchronously or as a dry run.
 */

/*
 * Applying an import
 *
 * Set-based: the prepared lines go to a temporary table, then a fixed
 * number of statements resolve customers, members and contacts with joins,
 * decide each line's action, and write only what changes.  No statement
 * runs per line, and there is no subtransaction per line.
 */
-- every_line: stage every line of the file, the unchanged ones included
-- (a preview gives each line its action); otherwise the C reader leaves
-- out the lines that would change nothing, and they are only counted.
CREATE OR REPLACE FUNCTION upflow.apply_import(organization_id bigint, import_id bigint,
									content text DEFAULT NULL, every_line boolean DEFAULT false)
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- The temporary tables have no statistics, so their statements look costly
-- enough to be JIT-compiled, which takes longer than running them.
SET jit = off
-- Hash joins and aggregates over a file's lines: 16MB is as fast as more
-- (measured at 1M lines) and keeps the backend's memory near 3x the file.
SET work_mem = '16MB'
-- No nested loops: the planner may believe a table of the organization
-- empty (autovacuum's ANALYZE during a long import counts its uncommitted
-- rows as none; the working tables have no statistics at all) and drive a
-- nested loop from it, rescanning the other side for each of its real
-- rows.  Hash and merge joins cost the same whatever the estimates say.
SET enable_nestloop = off
-- Custom plans: Citus routes a statement to the organization's shard by
-- its parameter values.  The one statement that reads the file is in
-- upflow.stage_import_lines, which forces generic plans: a custom plan
-- would copy the file into the plan.
AS $function$
DECLARE
	p_org constant bigint := apply_import.organization_id;
	p_import constant bigint := apply_import.import_id;
	org upflow.organization;
	imp upflow.import;
	imp_status text;
	imp_mapping jsonb;
	imp_options jsonb;
	resolved jsonb;
	mapped jsonb;
	clear_blanks boolean;
	-- What a CSV may change, by source system (SPEC section 5).
	main_info_allowed boolean;
	position_allowed boolean;
	main_allowed boolean;
	customers_allowed boolean;
	create_customers boolean;
	ignored text[];
	ignored_message text;
	-- What the match reads the stored rows from (see there)
	customer_table text := 'upflow.customer';
	contact_table text := 'upflow.contact';
	footer jsonb;				-- the report footer the file ends with, skipped
	n_lines integer;
	n_repeats integer;
	n_created integer;
	n_updated integer;
	n_unchanged integer;
	n_failed integer;
	any_problem boolean;
	n_skipped integer;
	n_warnings integer;
	violated text;
	started timestamptz;
	finished timestamptz;
	-- Rows this import locks before it writes (see below).
	lock_customers bigint[];
	main_customers bigint[];
	update_contacts bigint[];
	locked_contacts bigint[];
	wanted_contacts bigint[];
	held_contact bigint;
	contact_id_locked bigint;
	account_manager_emails text[];
	existing_customers text[];
	-- Whether the tables are distributed by Citus (some statements differ)
	distributed constant boolean := upflow.tables_distributed();
BEGIN
	org := upflow.organization_for_import(p_org, true);

	-- Serialize the organization's imports (until the end of the
	-- transaction).  The first lock the import takes.
	PERFORM upflow.take_import_lock(p_org, true);

	-- Not i.*: a row variable would hold a detoasted copy of the file.
	SELECT i.status, i.mapping, i.options, i.started_at
	  INTO imp_status, imp_mapping, imp_options, started
	  FROM upflow.import i
	 WHERE i.organization_id = p_org AND i.import_id = p_import
	   FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'import % does not exist', p_import
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Look up your imports in upflow.import_history.';
	END IF;
	-- A finished import is history: it is never applied again.
	IF imp_status NOT IN ('pending', 'running') THEN
		RAISE EXCEPTION 'import % is % and cannot be applied again', p_import, imp_status
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Submit the file again to import it once more.';
	END IF;

	-- The file, read once; the caller that stored it may pass it along
	-- (used through the parameter: a copy in a variable would cost its size).
	IF apply_import.content IS NULL THEN
		SELECT i.file_content INTO apply_import.content FROM upflow.import i
		 WHERE i.organization_id = p_org AND i.import_id = p_import;
	END IF;

	resolved := upflow.detect_mapping(apply_import.content, imp_mapping, imp_options);
	mapped := resolved->'mapping';
	IF imp_options ? 'save_mapping' THEN
		PERFORM upflow.save_mapping(p_org, imp_options->>'save_mapping', apply_import.content,
									imp_options, mapped);
	END IF;
	clear_blanks := coalesce(imp_options->>'blank_cells', 'keep') = 'clear';

	main_info_allowed := org.source_system = 'none'
		OR (org.source_system = 'api' AND NOT org.api_overrules_csv);
	position_allowed := org.source_system IN ('none', 'native', 'salesforce_native')
		OR (org.source_system IN ('api', 'salesforce_api') AND NOT org.api_overrules_csv);
	main_allowed := NOT org.main_contact_from_integration;
	customers_allowed := org.source_system IN ('none', 'api');
	create_customers := coalesce((imp_options->>'create_customers')::boolean, customers_allowed);
	IF create_customers AND NOT customers_allowed THEN
		RAISE EXCEPTION 'option create_customers is not available for this organization'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('Customers of an organization whose source system is %s come from its integration.',
								  org.source_system),
				  HINT = 'Remove the option: lines of unknown customers then fail with customer_not_found.';
	END IF;

	-- The clock, not the transaction's start: a worker runs many imports in
	-- one transaction.  (Not coalesce(i.started_at, now()) in the statement:
	-- Citus refuses volatile functions inside COALESCE.)
	started := coalesce(started, clock_timestamp());
	UPDATE upflow.import i
	   SET status = 'running', started_at = started,
		   delimiter = resolved->>'delimiter', mapping = mapped
	 WHERE i.organization_id = p_org AND i.import_id = p_import;

	-- Bytes and lines read show in pg_stat_progress_copy while it runs.
	PERFORM upflow.start_import_progress(octet_length(apply_import.content));

	-- The lines of the file.  Among valid lines naming the same contact
	-- (customer and email) only the last is applied: the others are
	-- skipped.  The reader flags a line that repeats an earlier one, so
	-- duplicates are looked for only when there are some.
	IF to_regclass('pg_temp.upflow_import_line') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_import_line;
	END IF;
	-- Lines that would change nothing are only counted (prepare_changed_lines
	-- compares them with the stored contacts): a re-import of the same file
	-- writes almost nothing here.  CREATE TABLE, then INSERT, rather than
	-- CREATE TABLE AS: the planner would copy the file into the plan of a
	-- CREATE TABLE AS (a constant), and the copy would last as long as it.
	CREATE TEMP TABLE upflow_import_line (
		line_number integer, customer_name text, external_id text, email text,
		first_name text, family_name text, phone text, "position" text,
		is_main boolean, account_manager_email text, errors jsonb, raw_line text,
		failed boolean, supersedes boolean, first_of_customer boolean,
		skipped boolean, last_line integer
	) ON COMMIT DROP;
	PERFORM upflow.stage_import_lines(p_org, apply_import.content, mapped, imp_options,
									  coalesce(apply_import.every_line, false));

	footer := upflow.report_footer();
	SELECT count(*) + CASE WHEN apply_import.every_line THEN 0 ELSE upflow.unchanged_line_count() END,
		   count(*) FILTER (WHERE l.supersedes)
	  INTO n_lines, n_repeats
	  FROM upflow_import_line l;
	IF n_repeats > 0 THEN
		UPDATE upflow_import_line l
		   SET skipped = true, last_line = d.last_line
		  FROM (SELECT x.line_number,
					   first_value(x.line_number) OVER w AS last_line,
					   row_number() OVER w AS rank_from_last
				  FROM upflow_import_line x
				 WHERE NOT x.failed
				   AND (x.external_id, lower(x.email)) IN
					   (SELECT y.external_id, lower(y.email)
						  FROM upflow_import_line y WHERE y.supersedes)
				WINDOW w AS (PARTITION BY x.external_id, lower(x.email)
							 ORDER BY x.line_number DESC)) d
		 WHERE l.line_number = d.line_number AND d.rank_from_last > 1;
	END IF;

	-- The members the file names as account managers, by email, looked up
	-- once (a single-shard query on Citus).
	IF mapped->>'account_manager_email' IS NOT NULL THEN
		SELECT array_agg(DISTINCT lower(l.account_manager_email)) INTO account_manager_emails
		  FROM upflow_import_line l
		 WHERE l.account_manager_email IS NOT NULL AND NOT l.failed;
	END IF;
	IF to_regclass('pg_temp.upflow_import_member') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_import_member;
	END IF;
	-- Keys are written into statements as literals here and below: a
	-- literal array is searched by hash, whatever the plan; a parameter
	-- array is searched element by element, row by row, when the planner
	-- filters with it (quadratic with a file's worth of keys).
	EXECUTE format($stmt$
	CREATE TEMP TABLE upflow_import_member ON COMMIT DROP AS
	SELECT m.member_id, lower(m.email) AS email
	  FROM upflow.member m
	 WHERE m.organization_id = %L::bigint AND lower(m.email) = ANY (%L::text[])
	   AND m.email IS NOT NULL	-- the condition of member_email_key
	$stmt$, p_org, coalesce(account_manager_emails, '{}'));

	-- Customers of the file that do not exist yet, when the source system
	-- lets CSV create them, and only for a customer one of whose lines
	-- will be applied (a failed line creates nothing): the first such
	-- line of each customer gives its name.
	IF create_customers AND main_info_allowed THEN
		IF to_regclass('pg_temp.upflow_import_new_customer') IS NOT NULL THEN
			DROP TABLE pg_temp.upflow_import_new_customer;
		END IF;
		IF n_repeats = 0 AND mapped->>'account_manager_email' IS NULL AND NOT apply_import.every_line THEN
			-- Without repeated contacts no line is skipped, and without
			-- account managers every valid line may create its customer:
			-- the first valid line of each, flagged by prepare_changed_lines.
			CREATE TEMP TABLE upflow_import_new_customer ON COMMIT DROP AS
			SELECT l.line_number, l.external_id, l.customer_name
			  FROM upflow_import_line l
			 WHERE l.first_of_customer;
		ELSE
			CREATE TEMP TABLE upflow_import_new_customer ON COMMIT DROP AS
			SELECT DISTINCT ON (l.external_id) l.line_number, l.external_id, l.customer_name
			  FROM upflow_import_line l
			 WHERE NOT l.failed AND NOT l.skipped
			   AND (l.account_manager_email IS NULL
					OR lower(l.account_manager_email) IN (SELECT m.email FROM upflow_import_member m))
			 ORDER BY l.external_id, l.line_number;
		END IF;
		-- Those that exist, looked up by key (on a re-import, all of them).
		-- (The keys in a variable first: Citus routes a statement that
		-- reads only distributed tables, not one that also reads a
		-- temporary table.)
		existing_customers := ARRAY(SELECT n.external_id FROM upflow_import_new_customer n);
		EXECUTE format($stmt$
		SELECT array_agg(c.external_id)
		  FROM upflow.customer c
		 WHERE c.organization_id = %L::bigint AND c.external_id = ANY (%L::text[])
		   AND c.external_id IS NOT NULL	-- the condition of customer_external_id_key
		$stmt$, p_org, existing_customers) INTO existing_customers;
		IF existing_customers IS NOT NULL THEN
			EXECUTE format('DELETE FROM pg_temp.upflow_import_new_customer n WHERE n.external_id = ANY (%L::text[])',
						   existing_customers);
		END IF;
		PERFORM upflow.insert_created_rows(p_org, p_import, 'upflow.customer', 'organization_id, external_id, name',
			format('SELECT %L::bigint AS organization_id, n.external_id, n.customer_name AS name FROM pg_temp.upflow_import_new_customer n ORDER BY n.line_number',
				   p_org),
			'customer_id', 'customers_created');
	END IF;

	-- Each line against the tables: what it would change, and its action.
	IF to_regclass('pg_temp.upflow_import_result') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_import_result;
	END IF;
	-- On Citus, the customers the lines name and their contacts first, each
	-- by one router query (keys as literal arrays), so that the match below
	-- joins temporary tables only: joined with the distributed tables,
	-- Citus copied all three, the lines and the organization's whole
	-- tables, into intermediate results and joined those (0.37 s against
	-- 0.13 s for a 50,000-line file; and the unchanged lines, which the C
	-- comparison left out, no longer cost a read of their contacts).
	IF distributed THEN
		IF to_regclass('pg_temp.upflow_import_org_customer') IS NOT NULL THEN
			DROP TABLE pg_temp.upflow_import_org_customer, pg_temp.upflow_import_org_contact;
		END IF;
		EXECUTE format('CREATE TEMP TABLE upflow_import_org_customer ON COMMIT DROP AS
						SELECT c.organization_id, c.customer_id, c.external_id, c.name, c.account_manager_id
						  FROM upflow.customer c
						 WHERE c.organization_id = %L::bigint AND c.external_id IS NOT NULL
						   AND c.external_id = ANY (%L::text[])',
					   p_org, ARRAY(SELECT DISTINCT l.external_id FROM upflow_import_line l
									 WHERE l.external_id IS NOT NULL));
		EXECUTE format('CREATE TEMP TABLE upflow_import_org_contact ON COMMIT DROP AS
						SELECT ct.organization_id, ct.contact_id, ct.customer_id, ct.email, ct.first_name,
							   ct.family_name, ct.phone, ct.position, ct.is_main
						  FROM upflow.contact ct
						 WHERE ct.organization_id = %L::bigint AND ct.customer_id = ANY (%L::bigint[])',
					   p_org, ARRAY(SELECT c.customer_id FROM pg_temp.upflow_import_org_customer c));
		customer_table := 'pg_temp.upflow_import_org_customer';
		contact_table := 'pg_temp.upflow_import_org_contact';
	END IF;
	-- Dynamic, its values written in: Citus plans a statement that joins a
	-- temporary table with the tenant's tables only without parameters.
	EXECUTE format($stmt$
	CREATE TEMP TABLE upflow_import_result ON COMMIT DROP AS
	WITH matched AS (
		-- Not the raw line: problems take it from upflow_import_line.
		SELECT l.line_number, l.customer_name, l.external_id, l.email, l.first_name,
			   l.family_name, l.phone, l.position, l.is_main, l.account_manager_email,
			   l.errors, l.failed, l.skipped, l.last_line,
			   c.customer_id, c.name AS stored_customer_name,
			   c.account_manager_id AS stored_account_manager_id,
			   %10$s AS account_manager_id,
			   ct.contact_id, ct.first_name AS old_first_name, ct.family_name AS old_family_name,
			   ct.phone AS old_phone, ct.position AS old_position, ct.is_main AS old_is_main,
			   %3$L::boolean AND (l.first_name IS NOT NULL OR %7$L::boolean) AS set_first_name,
			   %4$L::boolean AND (l.family_name IS NOT NULL OR %7$L::boolean) AS set_family_name,
			   %5$L::boolean AND (l.phone IS NOT NULL OR %7$L::boolean) AS set_phone,
			   %6$L::boolean AND (l.position IS NOT NULL OR %7$L::boolean) AS set_position,
			   -- (decided below, on this table alone)
			   false AS kept_first_name, false AS kept_family_name, false AS kept_phone,
			   false AS kept_position,
			   %8$L::boolean AND l.is_main IS NOT NULL AS set_main
		  FROM upflow_import_line l
		  LEFT JOIN %12$s c
			ON c.organization_id = %1$L::bigint AND c.external_id = l.external_id
		  %11$s
		  LEFT JOIN %13$s ct
			ON ct.organization_id = %1$L::bigint AND ct.customer_id = c.customer_id
		   AND lower(ct.email) = lower(l.email)
	), decided AS (
		SELECT x.*,
			   CASE
				   WHEN x.failed OR x.skipped THEN NULL
				   WHEN x.account_manager_email IS NOT NULL AND x.account_manager_id IS NULL
					   THEN 'account_manager_not_found'
				   WHEN x.customer_id IS NULL AND NOT %9$L::boolean THEN 'customer_not_found'
				   -- a customer CSV may create, but not its contacts
				   WHEN x.contact_id IS NULL AND NOT %2$L::boolean THEN 'contact_not_found'
				   -- (not reached: a line of a customer to create created it)
				   WHEN x.customer_id IS NULL THEN 'customer_not_found'
			   END AS fail_code,
			   x.contact_id IS NOT NULL AND (
				   (x.set_first_name AND x.first_name IS DISTINCT FROM x.old_first_name)
				   OR (x.set_family_name AND x.family_name IS DISTINCT FROM x.old_family_name)
				   OR (x.set_phone AND x.phone IS DISTINCT FROM x.old_phone)
				   OR (x.set_position AND x.position IS DISTINCT FROM x.old_position)
				   OR (x.set_main AND x.is_main IS DISTINCT FROM x.old_is_main)) AS contact_changes,
			   x.account_manager_id IS NOT NULL
				   AND x.account_manager_id IS DISTINCT FROM x.stored_account_manager_id AS manager_changes
		  FROM matched x
	)
	SELECT *
	  FROM (SELECT d.*,
				   CASE
					   WHEN d.failed OR d.fail_code IS NOT NULL THEN 'failed'
					   WHEN d.skipped THEN 'skipped'
					   WHEN d.contact_id IS NULL THEN 'created'
					   WHEN d.contact_changes OR d.manager_changes THEN 'updated'
					   ELSE 'unchanged'
				   END AS action,
				   d.failed OR d.skipped OR d.fail_code IS NOT NULL OR d.errors <> '[]'
				   OR (d.customer_id IS NOT NULL AND
					   d.customer_name IS DISTINCT FROM d.stored_customer_name) AS has_problem
			  FROM decided d) a
	 -- An unchanged line without a problem needs nothing more: it is only
	 -- counted.  Unless it names an account manager: the last line of a
	 -- customer that names one decides, changed or not.
	 WHERE a.action <> 'unchanged' OR a.has_problem OR a.account_manager_id IS NOT NULL$stmt$,
		p_org, main_info_allowed,
		main_info_allowed AND mapped->>'first_name' IS NOT NULL,
		main_info_allowed AND mapped->>'family_name' IS NOT NULL,
		main_info_allowed AND mapped->>'phone' IS NOT NULL,
		position_allowed AND mapped->>'position' IS NOT NULL,
		clear_blanks, main_allowed, create_customers,
		-- The members only when the file names account managers: a join,
		-- even with no row, costs a pass over every line.
		CASE WHEN mapped->>'account_manager_email' IS NULL THEN 'NULL::bigint' ELSE 'm.member_id' END,
		CASE WHEN mapped->>'account_manager_email' IS NULL THEN ''
			 ELSE 'LEFT JOIN pg_temp.upflow_import_member m ON m.email = lower(l.account_manager_email)' END,
		customer_table, contact_table);

	-- What the lines do, in one pass over them: the keys of the row locks
	-- below, the counts of the actions, whether any line has a problem.
	--
	-- A value that differs from the stored one only as an export and a
	-- re-import clean it (blanks, a spreadsheet mark, decomposed accents)
	-- is not written: the stored value is kept, with the warning
	-- stored_value_kept.  Only an updated line can hold one (the value
	-- looked changed): the UPDATE in the loop runs only when there are
	-- updated lines, and the pass again when it changed one.  Decided on
	-- the working table alone: computed in the statement above, which
	-- joins a temporary table with distributed tables, it crashed the
	-- Citus 12.1 coordinator (signal 11, the Citus suite's first import).
	FOR pass IN 1..2 LOOP
		SELECT coalesce(array_agg(DISTINCT r.customer_id) FILTER (WHERE r.customer_id IS NOT NULL
																   AND r.set_main AND r.is_main
																   AND r.action IN ('created', 'updated')), '{}'),
			   coalesce(array_agg(DISTINCT r.customer_id) FILTER (WHERE r.customer_id IS NOT NULL
																   AND ((r.set_main AND r.is_main
																		 AND r.action IN ('created', 'updated'))
																		OR r.manager_changes)), '{}'),
			   coalesce(array_agg(r.contact_id) FILTER (WHERE r.customer_id IS NOT NULL
														 AND r.action = 'updated' AND r.contact_changes), '{}'),
			   count(*) FILTER (WHERE r.action = 'created'),
			   count(*) FILTER (WHERE r.action = 'updated'),
			   count(*) FILTER (WHERE r.action = 'failed'),
			   count(*) FILTER (WHERE r.action = 'skipped'),
			   coalesce(bool_or(r.has_problem), false)
		  INTO main_customers, lock_customers, update_contacts,
			   n_created, n_updated, n_failed, n_skipped, any_problem
		  FROM upflow_import_result r;
		EXIT WHEN pass = 2 OR n_updated = 0;
		UPDATE upflow_import_result r
		   SET kept_first_name = k.kept_first_name, kept_family_name = k.kept_family_name,
			   kept_phone = k.kept_phone, kept_position = k.kept_position,
			   set_first_name = k.set_first_name, set_family_name = k.set_family_name,
			   set_phone = k.set_phone, set_position = k.set_position,
			   contact_changes = k.contact_changes,
			   action = CASE WHEN k.contact_changes OR r.manager_changes THEN r.action ELSE 'unchanged' END,
			   has_problem = true
		  FROM (SELECT y.*,
					   (y.set_first_name AND y.first_name IS DISTINCT FROM y.old_first_name)
					   OR (y.set_family_name AND y.family_name IS DISTINCT FROM y.old_family_name)
					   OR (y.set_phone AND y.phone IS DISTINCT FROM y.old_phone)
					   OR (y.set_position AND y.position IS DISTINCT FROM y.old_position)
					   OR (y.set_main AND y.is_main IS DISTINCT FROM y.old_is_main) AS contact_changes
				  FROM (SELECT x.line_number, x.first_name, x.old_first_name, x.family_name, x.old_family_name,
							   x.phone, x.old_phone, x.position, x.old_position,
							   x.set_main, x.is_main, x.old_is_main,
							   x.kept_first_name, x.kept_family_name, x.kept_phone, x.kept_position,
							   x.set_first_name AND NOT x.kept_first_name AS set_first_name,
							   x.set_family_name AND NOT x.kept_family_name AS set_family_name,
							   x.set_phone AND NOT x.kept_phone AS set_phone,
							   x.set_position AND NOT x.kept_position AS set_position
						  FROM (SELECT w.*,
									   w.set_first_name AND upflow.same_once_cleaned(w.first_name, w.old_first_name) AS kept_first_name,
									   w.set_family_name AND upflow.same_once_cleaned(w.family_name, w.old_family_name) AS kept_family_name,
									   w.set_phone AND upflow.same_once_cleaned(w.phone, w.old_phone) AS kept_phone,
									   w.set_position AND upflow.same_once_cleaned(w.position, w.old_position) AS kept_position
								  FROM (SELECT v.line_number, v.first_name, v.old_first_name, v.family_name,
											   v.old_family_name, v.phone, v.old_phone, v.position, v.old_position,
											   v.set_first_name, v.set_family_name, v.set_phone, v.set_position,
											   v.set_main, v.is_main, v.old_is_main
										  FROM upflow_import_result v
										 WHERE v.action = 'updated' AND v.contact_changes) w) x
						 WHERE x.kept_first_name OR x.kept_family_name OR x.kept_phone OR x.kept_position) y) k
		 WHERE r.line_number = k.line_number;
		EXIT WHEN NOT FOUND;
	END LOOP;

	/*
	 * Row locks, all taken before the first write, in an order that cannot
	 * deadlock with the application's own edits (README, "Editing contacts
	 * while imports run"): first the customers whose main contact or
	 * account manager the import changes, in customer_id order, waiting for
	 * each (an application that switches a main contact locks the customer
	 * first, as upflow.set_main_contact does, and so waits here without
	 * holding a contact); then the contacts the import updates and the
	 * current main contacts of those customers, all at once or none: when
	 * another transaction holds one, the import lets go of the others,
	 * waits for that one alone, and tries again.  It never holds a contact
	 * while it waits for another, so an edit that locks contacts in any
	 * order may wait for the import, but never deadlocks with it.
	 */
	IF cardinality(lock_customers) > 0 THEN
		EXECUTE format($stmt$
		SELECT count(*) FROM (SELECT FROM upflow.customer c
		  WHERE c.organization_id = %L::bigint AND c.customer_id = ANY (%L::bigint[])
		  ORDER BY c.customer_id
		    FOR NO KEY UPDATE) locked
		$stmt$, p_org, lock_customers);
	END IF;
	-- Their account managers before the import, for its undo (locked: they
	-- cannot change before the import writes them).
	IF mapped->>'account_manager_email' IS NOT NULL THEN
		PERFORM upflow.copy_customers('upflow_import_customer_before', p_org, lock_customers);
	END IF;

	FOR attempt IN 1..1000 LOOP
		BEGIN
			locked_contacts := '{}';
			FOR contact_id_locked IN EXECUTE format($stmt$
				SELECT ct.contact_id FROM upflow.contact ct
				 WHERE ct.organization_id = %L::bigint
				   AND (ct.contact_id = ANY (%L::bigint[])
						OR (ct.customer_id = ANY (%L::bigint[]) AND ct.is_main))
				   FOR NO KEY UPDATE SKIP LOCKED
				$stmt$, p_org, update_contacts, main_customers)
			LOOP
				locked_contacts := locked_contacts || contact_id_locked;
			END LOOP;
			-- The rows wanted, as they are now, less those locked (in two
			-- statements: Citus routes the first to the shard).  As they
			-- are now: once all are locked, what the import changes in
			-- them, for its undo.
			PERFORM upflow.copy_contacts('upflow_import_before', p_org, update_contacts, main_customers);
			wanted_contacts := ARRAY(SELECT b.contact_id FROM upflow_import_before b);
			SELECT w.id INTO held_contact
			  FROM (SELECT unnest(wanted_contacts) AS id EXCEPT SELECT unnest(locked_contacts)) w
			 LIMIT 1;
			IF held_contact IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'UFLCK', MESSAGE = 'a contact is locked';
			END IF;

			-- The main contacts being replaced lose the flag first (the
			-- partial unique index cannot be deferred: demote, then promote):
			-- those locked and read above.  A designation committed since,
			-- for a customer that had none, makes the promotion below fail
			-- on the unique index, and the next attempt replaces it too (the
			-- latest designation wins).
			-- (Each write only when it has rows to write: a statement that
			-- finds none still reads every line of the file.)
			IF cardinality(wanted_contacts) > 0 THEN
			EXECUTE format($stmt$
			UPDATE upflow.contact ct
			   SET is_main = false, updated_at = now(), last_import_id = %2$L::bigint
			  FROM pg_temp.upflow_import_result r
			 WHERE ct.organization_id = %1$L::bigint AND ct.customer_id = r.customer_id AND ct.is_main
			   AND r.action IN ('created', 'updated') AND r.set_main AND r.is_main
			   AND ct.contact_id IS DISTINCT FROM r.contact_id
			   AND ct.contact_id = ANY (%3$L::bigint[])$stmt$, p_org, p_import, wanted_contacts);
			END IF;

			-- Existing contacts: only the fields the line may and does set.
			IF cardinality(update_contacts) > 0 THEN
			EXECUTE format($stmt$
			UPDATE upflow.contact ct
			   SET first_name = CASE WHEN r.set_first_name THEN r.first_name ELSE ct.first_name END,
				   family_name = CASE WHEN r.set_family_name THEN r.family_name ELSE ct.family_name END,
				   phone = CASE WHEN r.set_phone THEN r.phone ELSE ct.phone END,
				   position = CASE WHEN r.set_position THEN r.position ELSE ct.position END,
				   is_main = CASE WHEN r.set_main THEN r.is_main ELSE ct.is_main END,
				   updated_at = now(),
				   last_import_id = %2$L::bigint
			  FROM pg_temp.upflow_import_result r
			 WHERE ct.organization_id = %1$L::bigint AND ct.contact_id = r.contact_id
			   AND r.action = 'updated' AND r.contact_changes$stmt$, p_org, p_import);
			END IF;

			-- New contacts (their ids kept for the undo).
			PERFORM upflow.insert_created_rows(p_org, p_import, 'upflow.contact',
				'organization_id, customer_id, email, first_name, family_name, phone, position, is_main, last_import_id',
				format($q$SELECT %1$L::bigint AS organization_id, r.customer_id, r.email, r.first_name,
								  r.family_name, r.phone, CASE WHEN %3$L::boolean THEN r.position END AS position,
								  %4$L::boolean AND coalesce(r.is_main, false) AS is_main,
								  %2$L::bigint AS last_import_id
							 FROM pg_temp.upflow_import_result r
							WHERE r.action = 'created'
							ORDER BY r.line_number$q$,
					   p_org, p_import, position_allowed, main_allowed),
				'contact_id', 'contacts_created');
			EXIT;
		EXCEPTION
			WHEN SQLSTATE 'UFLCK' THEN
				-- Every lock of this attempt is released: wait for the contact
				-- another transaction holds, alone, then let it go again.
				BEGIN
					PERFORM FROM upflow.contact ct
					  WHERE ct.organization_id = p_org AND ct.contact_id = held_contact
					    FOR NO KEY UPDATE;
					RAISE EXCEPTION USING ERRCODE = 'UFLCK', MESSAGE = 'waited';
				EXCEPTION WHEN SQLSTATE 'UFLCK' THEN
					NULL;
				END;
			WHEN unique_violation THEN
				-- A main contact promoted by a transaction that locked no
				-- contact of ours, for a customer that had none: try again,
				-- demoting it in turn.
				GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
				IF violated IS DISTINCT FROM 'contact_one_main_key' THEN
					RAISE;
				END IF;
		END;
		IF attempt = 1000 THEN
			RAISE EXCEPTION 'could not lock the contacts of import %', p_import
				USING ERRCODE = 'lock_not_available',
					  DETAIL = 'Other transactions kept changing them.',
					  HINT = 'Import the file again.';
		END IF;
	END LOOP;

	-- Account managers: the last applied line of a customer decides.  Of the
	-- customers locked above: one whose manager was already the file's when
	-- the import read it and has changed since keeps the newer one.
	IF mapped->>'account_manager_email' IS NOT NULL THEN
		EXECUTE format($stmt$
		UPDATE upflow.customer c
		   SET account_manager_id = x.account_manager_id, updated_at = now()
		  FROM (SELECT DISTINCT ON (r.customer_id) r.customer_id, r.account_manager_id
				  FROM pg_temp.upflow_import_result r
				 WHERE r.action IN ('created', 'updated', 'unchanged') AND r.account_manager_id IS NOT NULL
				 ORDER BY r.customer_id, r.line_number DESC) x
		 WHERE c.organization_id = %1$L::bigint AND c.customer_id = x.customer_id
		   AND c.customer_id = ANY (%2$L::bigint[])
		   AND c.account_manager_id IS DISTINCT FROM x.account_manager_id$stmt$, p_org, lock_customers);
	END IF;

	PERFORM upflow.record_changed_rows(p_org, p_import, wanted_contacts,
									   CASE WHEN mapped->>'account_manager_email' IS NOT NULL
											THEN lock_customers END);

	-- Columns the organization's integration owns are ignored, with one
	-- import-level warning naming them by their headers.
	ignored := array_remove(ARRAY[
		CASE WHEN NOT main_info_allowed THEN mapped->>'first_name' END,
		CASE WHEN NOT main_info_allowed THEN mapped->>'family_name' END,
		CASE WHEN NOT main_info_allowed THEN mapped->>'phone' END,
		CASE WHEN NOT position_allowed THEN mapped->>'position' END], NULL);
	ignored_message := concat_ws(' ',
		CASE WHEN cardinality(ignored) > 0 THEN
			format('The column%s %s %s managed by your organization''s integration (source system %s%s) and %s ignored%s.',
				   CASE WHEN cardinality(ignored) > 1 THEN 's' ELSE '' END,
				   (SELECT string_agg('"' || c || '"', ', ') FROM unnest(ignored) c),
				   CASE WHEN cardinality(ignored) > 1 THEN 'are' ELSE 'is' END,
				   org.source_system,
				   CASE WHEN org.api_overrules_csv THEN ', which overrules CSV' ELSE '' END,
				   CASE WHEN cardinality(ignored) > 1 THEN 'are' ELSE 'is' END,
				   CASE WHEN main_info_allowed THEN '' ELSE ' for existing contacts' END)
		END,
		CASE WHEN NOT main_allowed AND mapped->>'is_main' IS NOT NULL THEN
			format('The column "%s" is ignored: your organization''s integration decides the main contact.',
				   mapped->>'is_main')
		END);

	-- Every problem, in file order: import-level warnings, the problems
	-- prepare_contacts found, then those found against the tables.
	-- Most imports have few problems: look for them only if there are.
	IF ignored_message <> '' OR footer IS NOT NULL
	   OR any_problem THEN
	IF to_regclass('pg_temp.upflow_import_problem') IS NOT NULL THEN
		DROP TABLE pg_temp.upflow_import_problem;
	END IF;
	CREATE TEMP TABLE upflow_import_problem ON COMMIT DROP AS
	WITH problem AS MATERIALIZED (
		SELECT r.*, l.raw_line
		  FROM upflow_import_result r
		  JOIN upflow_import_line l ON l.line_number = r.line_number
		 WHERE r.has_problem
	)
	SELECT row_number() OVER (ORDER BY x.line_number NULLS FIRST, x.source, x.ordinal) AS ordinal,
		   x.line_number, x.severity, x.code, x.field, x.message, x.hint, x.raw_line
	  FROM (
	SELECT NULL::integer AS line_number, 0 AS source, 0::bigint AS ordinal,
		   'warning' AS severity, 'fields_managed_by_integration' AS code,
		   NULL::text AS field, ignored_message AS message,
		   'Change these values in your integration; the other columns of the file were imported.' AS hint,
		   NULL::text AS raw_line
	 WHERE ignored_message <> ''
	UNION ALL
	-- A report's footer: skipped, not lines of contacts.
	SELECT NULL::integer, 0, 1, 'warning', 'report_footer_skipped', NULL::text,
		   format('Line%s %s of the file %s the footer of a report (%s): skipped, not imported as contacts.',
				  CASE WHEN (footer->>'lines')::integer > 1 THEN 's' ELSE '' END,
				  CASE WHEN (footer->>'lines')::integer > 1
					   THEN (footer->>'first_line') || ' to ' || (footer->>'last_line')
					   ELSE footer->>'first_line' END,
				  CASE WHEN (footer->>'lines')::integer > 1 THEN 'are' ELSE 'is' END,
				  -- quoted as the C messages quote values: inner quotes doubled,
				  -- control characters blanked
				  '"' || replace(regexp_replace(footer->>'text', '[[:cntrl:]]', ' ', 'g'), '"', '""') || '"'),
		   'Nothing to do. To leave it out, export the report''s details only.',
		   NULL::text
	 WHERE footer IS NOT NULL
	UNION ALL
	SELECT r.line_number, 1, e.ordinal, e.problem->>'severity', e.problem->>'code',
		   e.problem->>'field', e.problem->>'message', e.problem->>'hint', r.raw_line
	  FROM problem r,
		   jsonb_array_elements(r.errors) WITH ORDINALITY AS e(problem, ordinal)
	 WHERE r.errors <> '[]'
	UNION ALL
	SELECT r.line_number, 2, 0, 'error', r.fail_code,
		   CASE r.fail_code
			   WHEN 'customer_not_found' THEN 'external_id'
			   WHEN 'account_manager_not_found' THEN 'account_manager_email'
			   ELSE 'email' END,
		   CASE r.fail_code
			   WHEN 'customer_not_found' THEN
				   format('Line %s: no customer has the client ID %s.', r.line_number,
						  '"' || r.external_id || '"')
			   WHEN 'account_manager_not_found' THEN
				   'Account manager not found; check the email.'
			   ELSE
				   format('Line %s: customer %s has no contact with the email %s, and your integration (source system %s) manages contacts.',
						  r.line_number, '"' || r.external_id || '"', '"' || r.email || '"', org.source_system)
		   END,
		   CASE r.fail_code
			   WHEN 'customer_not_found' THEN
				   CASE WHEN customers_allowed
						THEN 'Correct the client ID, or import without the option create_customers = false to create the customer.'
						ELSE 'Correct the client ID, or create the customer in your integration first: it brings customers to Upflow.' END
			   WHEN 'account_manager_not_found' THEN
				   'Create a member associated with the uploaded email address.'
			   ELSE
				   'Correct the email, or create the contact in your integration first; CSV import updates its position and main-contact flag.'
		   END,
		   r.raw_line
	  FROM problem r
	 WHERE r.fail_code IS NOT NULL
	UNION ALL
	SELECT r.line_number, 3, 0, 'warning', 'customer_name_mismatch', 'customer_name',
		   format('Line %s: the customer name %s differs from the name of customer %s in Upflow, %s; the name in Upflow is kept.',
				  r.line_number, '"' || r.customer_name || '"', '"' || r.external_id || '"',
				  '"' || r.stored_customer_name || '"'),
		   'Nothing to do if the client ID is right; otherwise correct the client ID.',
		   r.raw_line
	  FROM problem r
	 WHERE r.customer_id IS NOT NULL AND NOT r.failed
	   AND r.customer_name IS DISTINCT FROM r.stored_customer_name
	UNION ALL
	SELECT r.line_number, 5, k.ordinal, 'warning', 'stored_value_kept', k.field,
		   format('Line %s: %s of contact %s is %s in Upflow, which differs from the file''s %s only as an import cleans a cell (blanks at either end, the mark before a formula sign, decomposed accents); the value in Upflow is kept.',
				  r.line_number, upflow.field_label(k.field, mapped), '"' || r.email || '"',
				  to_jsonb(k.stored)::text, to_jsonb(k.line_value)::text),
		   'Nothing to do if the value in Upflow is right; to change it, change it in the file or in Upflow.',
		   r.raw_line
	  FROM problem r,
		   LATERAL (VALUES (1, 'first_name', r.kept_first_name, r.old_first_name, r.first_name),
						   (2, 'family_name', r.kept_family_name, r.old_family_name, r.family_name),
						   (3, 'phone', r.kept_phone, r.old_phone, r.phone),
						   (4, 'position', r.kept_position, r.old_position, r.position))
				   AS k(ordinal, field, kept, stored, line_value)
	 WHERE k.kept AND NOT r.failed AND r.action IN ('updated', 'unchanged')
	UNION ALL
	SELECT r.line_number, 4, 0, 'warning', 'duplicate_line', 'email',
		   format('Line %s names the same contact as line %s (customer %s, email %s); only line %s is applied.',
				  r.line_number, r.last_line, '"' || r.external_id || '"', '"' || r.email || '"', r.last_line),
		   'Keep one line per contact, or merge the lines.',
		   r.raw_line
	  FROM problem r
	 WHERE r.action = 'skipped'
	) x
	 ORDER BY x.line_number NULLS FIRST, x.source, x.ordinal;
	PERFORM upflow.insert_rows(p_org, 'upflow.import_error',
		'organization_id, import_id, line_number, severity, code, field, message, hint, raw_line',
		format($q$SELECT %L::bigint AS organization_id, %L::bigint AS import_id, p.line_number, p.severity, p.code, p.field, p.message, p.hint, p.raw_line
					FROM pg_temp.upflow_import_problem p ORDER BY p.ordinal$q$, p_org, p_import));
	END IF;

	n_unchanged := n_lines - n_created - n_updated - n_failed - n_skipped;

	SELECT count(*) INTO n_warnings FROM upflow.import_error e
	 WHERE e.organization_id = p_org AND e.import_id = p_import AND e.severity = 'warning';

	-- (Decided here, not in CASE expressions of the statement: Citus plans
	-- those poorly with parameters.)
	-- (The clock in a variable: Citus refuses volatile functions in an
	-- UPDATE of a distributed table.)
	finished := clock_timestamp();
	imp_status := CASE
					  WHEN n_failed = 0 THEN 'succeeded'
					  WHEN n_created + n_updated + n_unchanged + n_skipped = 0 THEN 'failed'
					  ELSE 'partially_succeeded'
				  END;
	-- The row is returned without its file (import_text adds it): the row
	-- held it whole, copied again by each function that returned the row
	-- (4.5 times the file at the peak of a 1M-line import), and read back
	-- with RETURNING i.* it came from the worker over the network on
	-- Citus (0.13 s for a 6 MB file).
	EXECUTE format($stmt$
	UPDATE upflow.import i
	   SET status = %3$L, finished_at = %4$L::timestamptz,
		   line_count = %5$L, created_count = %6$L, updated_count = %7$L,
		   unchanged_count = %8$L, failed_count = %9$L, skipped_count = %10$L,
		   warning_count = %11$L, undo_recorded = true, error = %12$L
	 WHERE i.organization_id = %1$L::bigint AND i.import_id = %2$L::bigint
	RETURNING %13$s$stmt$,
		p_org, p_import, imp_status, finished, n_lines, n_created, n_updated, n_unchanged,
		n_failed, n_skipped, n_warnings,
		CASE WHEN imp_status = 'failed' THEN 'Every line of the file failed; see the errors.' END,
		(SELECT string_agg(CASE WHEN a.attname = 'file_content' THEN 'NULL::text'
								ELSE 'i.' || quote_ident(a.attname) END, ', ' ORDER BY a.attnum)
		   FROM pg_catalog.pg_attribute a
		  WHERE a.attrelid = 'upflow.import'::regclass AND a.attnum > 0 AND NOT a.attisdropped))
	  INTO imp;

	PERFORM upflow.end_import_progress();
	RETURN imp;
END
$function$;

REVOKE ALL ON FUNCTION upflow.apply_import(bigint, bigint, text, boolean) FROM PUBLIC;

COMMENT ON FUNCTION upflow.apply_import(bigint, bigint, text, boolean) IS
'Apply a stored import (its file, mapping and options) to the contacts; returns its history row without the file; used by upflow_import and the worker';

-- Make a contact its customer's only main contact, the way an application
-- should (README, "Editing contacts while imports run"): the customer row
-- first, then demote, then promote.  An import changing the same customer
-- takes the same customer lock first, so the two never deadlock: the later
-- one waits, and its designation wins.
CREATE OR REPLACE FUNCTION upflow.set_main_contact(organization_id bigint, contact_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	p_org constant bigint := set_main_contact.organization_id;
	p_contact constant bigint := set_main_contact.contact_id;
	p_customer bigint;
BEGIN
	PERFORM upflow.organization_for_import(p_org, false);
	SELECT ct.customer_id INTO p_customer FROM upflow.contact ct
	 WHERE ct.organization_id = p_org AND ct.contact_id = p_contact;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'contact % does not exist', p_contact
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass the contact_id of a contact of your organization.';
	END IF;
	PERFORM FROM upflow.customer c
	  WHERE c.organization_id = p_org AND c.customer_id = p_customer
	    FOR NO KEY UPDATE;
	UPDATE upflow.contact ct SET is_main = false, updated_at = now()
	 WHERE ct.organization_id = p_org AND ct.customer_id = p_customer AND ct.is_main
	   AND ct.contact_id <> p_contact;
	UPDATE upflow.contact ct SET is_main = true, updated_at = now()
	 WHERE ct.organization_id = p_org AND ct.contact_id = p_contact AND NOT ct.is_main;
END
$function$;

COMMENT ON FUNCTION upflow.set_main_contact(bigint, bigint) IS
'Make a contact its customer''s only main contact, locking the customer first (never deadlocks with an import)';

-- The prepared lines of a file into the import's temporary table
-- upflow_import_line (apply_import creates it).
CREATE OR REPLACE FUNCTION upflow.stage_import_lines(organization_id bigint, content text,
													 mapping jsonb, options jsonb, every_line boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- A custom plan would copy the file into the plan; the statement reads
-- only the file and a temporary table, so it needs no custom plan.
SET plan_cache_mode = force_generic_plan
AS $function$
BEGIN
	IF every_line THEN
		-- (first_of_customer unknown: apply_import then groups the lines)
		INSERT INTO pg_temp.upflow_import_line
		SELECT p.*, NULL, false, NULL
		  FROM upflow.prepare_import_lines(stage_import_lines.organization_id, stage_import_lines.content,
										   stage_import_lines.mapping, stage_import_lines.options) p;
		RETURN;
	END IF;
	INSERT INTO pg_temp.upflow_import_line
	SELECT p.*, false, NULL
	  FROM upflow.prepare_changed_lines(stage_import_lines.organization_id, stage_import_lines.content,
										stage_import_lines.mapping, stage_import_lines.options) p;
END
$function$;

REVOKE ALL ON FUNCTION upflow.stage_import_lines(bigint, text, jsonb, jsonb, boolean) FROM PUBLIC;

COMMENT ON FUNCTION upflow.stage_import_lines(bigint, text, jsonb, jsonb, boolean) IS
'The lines of a file that an import applies, prepared, into its temporary table upflow_import_line';

-- Store an import: its file (decoded), the mapping asked for, the options.
CREATE OR REPLACE FUNCTION upflow.store_import(organization_id bigint, content text, encoding text,
									mapping jsonb, file_name text, submitted_by bigint,
									options jsonb, status text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- A custom plan would copy the file into every plan that mentions it.
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
	new_id bigint;
	asked jsonb;
BEGIN
	-- The encoding option means nothing to a text (it is decoded already),
	-- but a wrong one is still a mistake to report.
	IF store_import.options ? 'encoding' THEN
		PERFORM FROM upflow.decode_file('\x'::bytea, store_import.options->>'encoding');
	END IF;
	PERFORM upflow.check_member(store_import.organization_id, store_import.submitted_by,
		'submitted_by names the member who submits the file, to be notified when it is imported.',
		'Pass the member_id of one of the organization''s members, or NULL.');
	-- submitted_at: the clock (row-level security accepts a tenant's new
	-- import only with a submission time of now).
	-- The mapping asked for: explicit, or the saved one (by name, or found
	-- by the file's headers), recorded with its name.
	asked := upflow.mapping_for_file(store_import.organization_id, store_import.content,
									 store_import.mapping, store_import.options);
	INSERT INTO upflow.import (organization_id, status, submitted_at, file_name, file_content, encoding,
							   file_sha256, mapping, options, submitted_by, saved_mapping)
	VALUES (store_import.organization_id, store_import.status, clock_timestamp(), store_import.file_name,
			store_import.content, store_import.encoding,
			upflow.file_sha256(store_import.content),
			nullif(asked->'mapping', 'null'), coalesce(store_import.options, '{}') - 'dry_run',
			store_import.submitted_by, asked->>'saved_mapping')
	RETURNING import_id INTO new_id;
	RETURN new_id;
END
$function$;

REVOKE ALL ON FUNCTION upflow.store_import(bigint, text, text, jsonb, text, bigint, jsonb, text) FROM PUBLIC;

COMMENT ON FUNCTION upflow.store_import(bigint, text, text, jsonb, text, bigint, jsonb, text) IS
'Insert an import row with its file; used by upflow_import and submit_import';

-- The synchronous import of a text.  Refusals (unknown or disabled
-- organization, unknown option, file too large, unusable mapping) raise an
-- ERROR before anything is written.  With the option dry_run, everything
-- is computed and rolled back: the returned row shows what would happen.
CREATE OR REPLACE FUNCTION upflow.import_text(organization_id bigint, content text, encoding text,
								   mapping jsonb, file_name text, submitted_by bigint,
								   options jsonb)
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- A custom plan would copy the file into every plan that mentions it.
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
	p_org constant bigint := import_text.organization_id;
	opts constant jsonb := coalesce(import_text.options, '{}');
	distributed constant boolean := upflow.tables_distributed();
	imp upflow.import;
	new_id bigint;
	resolved jsonb;
BEGIN
	IF content IS NULL THEN
		RAISE EXCEPTION 'content must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass the file''s text, or its bytes as bytea.';
	END IF;
	PERFORM upflow.organization_for_import(p_org, true);
	-- Validates the options and the mapping (or the saved one it names or
	-- the file's headers find) against the file's headers.
	resolved := upflow.detect_mapping_for(p_org, content, mapping, opts);

	IF coalesce((opts->>'dry_run')::boolean, false) THEN
		BEGIN
			new_id := upflow.store_import(p_org, content, encoding, mapping, file_name,
										  submitted_by, opts, 'running');
			imp := upflow.apply_import(p_org, new_id, content);
			-- (read back here: the block rolls it back)
			IF distributed THEN
				imp.file_content := content;
			ELSE
				SELECT i.file_content INTO imp.file_content FROM upflow.import i
				 WHERE i.organization_id = p_org AND i.import_id = new_id;
			END IF;
			RAISE EXCEPTION USING ERRCODE = 'UFDRY', MESSAGE = 'dry run';
		EXCEPTION WHEN SQLSTATE 'UFDRY' THEN
			-- A dry run writes nothing but the mapping it was asked to save.
			IF opts ? 'save_mapping' THEN
				PERFORM upflow.save_mapping(p_org, opts->>'save_mapping', content, opts,
											resolved->'mapping');
			END IF;
			RETURN imp;
		END;
	END IF;

	new_id := upflow.store_import(p_org, content, encoding, mapping, file_name,
								  submitted_by, opts, 'running');
	imp := upflow.apply_import(p_org, new_id, content);
	PERFORM upflow.notify_import_finished(imp);
	-- The row with its file, as stored: on one server read back, so that
	-- the row holds it compressed (a third of the file for a CSV); on
	-- Citus the text this function holds (not from the worker again).
	IF distributed THEN
		imp.file_content := content;
	ELSE
		SELECT i.file_content INTO imp.file_content FROM upflow.import i
		 WHERE i.organization_id = p_org AND i.import_id = new_id;
	END IF;
	RETURN imp;
END
$function$;

REVOKE ALL ON FUNCTION upflow.import_text(bigint, text, text, jsonb, text, bigint, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.import_text(bigint, text, text, jsonb, text, bigint, jsonb) IS
'Synchronous import of a decoded file; upflow_import calls it';

CREATE OR REPLACE FUNCTION upflow.upflow_import(organization_id bigint, content text,
									 mapping jsonb DEFAULT NULL, file_name text DEFAULT NULL,
									 submitted_by bigint DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	RETURN upflow.import_text(upflow_import.organization_id, upflow_import.content, 'UTF8',
							  upflow_import.mapping, upflow_import.file_name,
							  upflow_import.submitted_by, upflow_import.options);
END
$function$;

COMMENT ON FUNCTION upflow.upflow_import(bigint, text, jsonb, text, bigint, jsonb) IS
'Import a contacts CSV file (text) synchronously; returns the import history row';

CREATE OR REPLACE FUNCTION upflow.upflow_import(organization_id bigint, content bytea,
									 mapping jsonb DEFAULT NULL, file_name text DEFAULT NULL,
									 submitted_by bigint DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS upflow.import
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	decoded record := upflow.decode_upload(upflow_import.organization_id, upflow_import.content, upflow_import.options);
BEGIN
	RETURN upflow.import_text(upflow_import.organization_id, decoded.content,
							  decoded.detected_encoding, upflow_import.mapping,
							  upflow_import.file_name, upflow_import.submitted_by,
							  upflow_import.options);
END
$function$;

COMMENT ON FUNCTION upflow.upflow_import(bigint, bytea, jsonb, text, bigint, jsonb) IS
'Import a contacts CSV file (bytes in any encoding; option encoding) synchronously; returns the import history row';

CREATE OR REPLACE FUNCTION upflow.preview_import(organization_id bigint, content text,
									  mapping jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS TABLE (line_number integer, action text, external_id text, email text, errors jsonb)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $function$
#variable_conflict use_column
DECLARE
	p_org constant bigint := preview_import.organization_id;
	opts constant jsonb := coalesce(preview_import.options, '{}');
	new_id bigint;
	lines jsonb;
	resolved jsonb;
BEGIN
	PERFORM upflow.organization_for_import(p_org, true);
	resolved := upflow.detect_mapping_for(p_org, preview_import.content, preview_import.mapping, opts);

	-- Run the real import and roll it back: the preview cannot differ from
	-- what an import would do.
	BEGIN
		new_id := upflow.store_import(p_org, preview_import.content, 'UTF8', preview_import.mapping,
									  NULL, NULL, opts, 'running');
		PERFORM upflow.apply_import(p_org, new_id, preview_import.content, true);
		-- The import's problems, read once by key (dynamic, the key written
		-- in: this function forces generic plans, which Citus cannot route).
		IF to_regclass('pg_temp.upflow_preview_problem') IS NOT NULL THEN
			DROP TABLE pg_temp.upflow_preview_problem;
		END IF;
		EXECUTE format($stmt$
			CREATE TEMP TABLE upflow_preview_problem ON COMMIT DROP AS
			SELECT ie.import_error_id, ie.line_number, ie.code, ie.field, ie.severity, ie.message, ie.hint
			  FROM upflow.import_error ie
			 WHERE ie.organization_id = %L::bigint AND ie.import_id = %L::bigint$stmt$, p_org, new_id);
		SELECT jsonb_agg(jsonb_build_object('line_number', r.line_number, 'action', r.action,
											'external_id', r.external_id, 'email', r.email,
											'errors', coalesce(e.errors, '[]'))
						 ORDER BY r.line_number NULLS FIRST)
		  INTO lines
		  FROM (SELECT l.line_number, coalesce(res.action, 'unchanged') AS action,
					   l.external_id, l.email
				  FROM pg_temp.upflow_import_line l
				  LEFT JOIN pg_temp.upflow_import_result res ON res.line_number = l.line_number
				UNION ALL
				SELECT DISTINCT NULL::integer, 'warning', NULL::text, NULL::text
				  FROM pg_temp.upflow_preview_problem ie
				 WHERE ie.line_number IS NULL) r
		  LEFT JOIN (SELECT ie.line_number,
							jsonb_agg(jsonb_build_object('code', ie.code, 'field', ie.field,
														 'severity', ie.severity, 'message', ie.message,
														 'hint', ie.hint)
									  ORDER BY ie.import_error_id) AS errors
					   FROM pg_temp.upflow_preview_problem ie
					  GROUP BY ie.line_number) e
			-- (Equality, hashable: IS NOT DISTINCT FROM would join in a nested loop.)
			ON coalesce(e.line_number, 0) = coalesce(r.line_number, 0);
		RAISE EXCEPTION USING ERRCODE = 'UFDRY', MESSAGE = 'preview';
	EXCEPTION WHEN SQLSTATE 'UFDRY' THEN
		NULL;
	END;
	-- A preview writes nothing but the mapping it was asked to save.
	IF opts ? 'save_mapping' THEN
		PERFORM upflow.save_mapping(p_org, opts->>'save_mapping', preview_import.content, opts,
									resolved->'mapping');
	END IF;

	RETURN QUERY
	SELECT x.line_number, x.action, x.external_id, x.email, x.errors
	  FROM jsonb_to_recordset(coalesce(lines, '[]')) AS x(line_number integer, action text,
														 external_id text, email text, errors jsonb)
	 ORDER BY x.line_number NULLS FIRST;
END
$function$;

COMMENT ON FUNCTION upflow.preview_import(bigint, text, jsonb, jsonb) IS
'Dry run: the action each line of the file would get (created, updated, unchanged, failed, skipped) and its problems; writes nothing';

CREATE OR REPLACE FUNCTION upflow.preview_error_lines_csv(organization_id bigint, content text,
											   mapping jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
	p_org constant bigint := preview_error_lines_csv.organization_id;
	opts constant jsonb := coalesce(preview_error_lines_csv.options, '{}');
	new_id bigint;
	result text;
BEGIN
	PERFORM upflow.organization_for_import(p_org, true);
	PERFORM upflow.detect_mapping_for(p_org, preview_error_lines_csv.content, preview_error_lines_csv.mapping, opts);

	-- The real import, rolled back: the file is the one its download would be.
	BEGIN
		new_id := upflow.store_import(p_org, preview_error_lines_csv.content, 'UTF8',
									  preview_error_lines_csv.mapping, NULL, NULL, opts, 'running');
		PERFORM upflow.apply_import(p_org, new_id, preview_error_lines_csv.content, true);
		result := upflow.error_lines_csv(new_id);
		RAISE EXCEPTION USING ERRCODE = 'UFDRY', MESSAGE = 'preview';
	EXCEPTION WHEN SQLSTATE 'UFDRY' THEN
		NULL;
	END;
	RETURN result;
END
$function$;

COMMENT ON FUNCTION upflow.preview_error_lines_csv(bigint, text, jsonb, jsonb) IS
'Dry run of "Download lines with errors": the file an import of this content would offer, before importing; writes nothing';
