/*
 * src/sql/queue.sql -- queued imports: submitting, cancelling, the worker
 * and its schedule.
 */

CREATE OR REPLACE FUNCTION upflow.submit_text(organization_id bigint, content text, encoding text,
								   mapping jsonb, file_name text, submitted_by bigint,
								   options jsonb)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- A custom plan would copy the file into every plan that mentions it.
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
	opts constant jsonb := coalesce(submit_text.options, '{}');
BEGIN
	IF content IS NULL THEN
		RAISE EXCEPTION 'content must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass the file''s text, or its bytes as bytea.';
	END IF;
	PERFORM upflow.organization_for_import(submit_text.organization_id, true);
	-- Refuse now what the worker would refuse later.
	PERFORM upflow.detect_mapping(content, mapping, opts);
	IF opts ? 'dry_run' THEN
		RAISE EXCEPTION 'option dry_run is not available for queued imports'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use upflow.preview_import or upflow.upflow_import with {"dry_run": true}.';
	END IF;
	RETURN upflow.store_import(submit_text.organization_id, content, encoding, mapping,
							   file_name, submitted_by, opts, 'pending');
END
$function$;

COMMENT ON FUNCTION upflow.submit_text(bigint, text, text, jsonb, text, bigint, jsonb) IS
'Queue an import of a decoded file; submit_import calls it';

CREATE OR REPLACE FUNCTION upflow.submit_import(organization_id bigint, content text,
									 mapping jsonb DEFAULT NULL, file_name text DEFAULT NULL,
									 submitted_by bigint DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN upflow.submit_text(submit_import.organization_id, submit_import.content, 'UTF8',
						  submit_import.mapping, submit_import.file_name,
						  submit_import.submitted_by, submit_import.options);

COMMENT ON FUNCTION upflow.submit_import(bigint, text, jsonb, text, bigint, jsonb) IS
'Queue an import of a contacts CSV file (text); the worker runs it; returns the import id';

CREATE OR REPLACE FUNCTION upflow.submit_import(organization_id bigint, content bytea,
									 mapping jsonb DEFAULT NULL, file_name text DEFAULT NULL,
									 submitted_by bigint DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	decoded record := upflow.decode_upload(submit_import.organization_id, submit_import.content, submit_import.options);
BEGIN
	RETURN upflow.submit_text(submit_import.organization_id, decoded.content,
							  decoded.detected_encoding, submit_import.mapping,
							  submit_import.file_name, submit_import.submitted_by,
							  submit_import.options);
END
$function$;

COMMENT ON FUNCTION upflow.submit_import(bigint, bytea, jsonb, text, bigint, jsonb) IS
'Queue an import of a contacts CSV file (bytes in any encoding); returns the import id';

CREATE OR REPLACE FUNCTION upflow.cancel_import(import_id bigint)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	org constant bigint := upflow.import_organization(cancel_import.import_id);
BEGIN
	-- A worker that has claimed it holds its row lock: then it is running,
	-- and the answer is false at once, without waiting for the worker.
	PERFORM FROM upflow.import i
	  WHERE i.organization_id = org AND i.import_id = cancel_import.import_id
		AND i.status = 'pending'
	    FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE upflow.import i
	   SET status = 'cancelled', finished_at = now()
	 WHERE i.organization_id = org AND i.import_id = cancel_import.import_id;
	RETURN true;
END
$function$;

COMMENT ON FUNCTION upflow.cancel_import(bigint) IS
'Cancel a pending import; false when it is no longer pending';

-- The worker: runs up to max_imports pending imports, oldest first.  Each
-- import is claimed with FOR UPDATE SKIP LOCKED (so that two workers never
-- run the same import) and runs in its own subtransaction: one that fails
-- is marked failed with its reason and the others go on.
--
-- An import runs under its organization's lock (the organization row,
-- which apply_import updates), and the worker keeps every lock it takes
-- until its transaction ends.  So it takes that lock first, without
-- waiting (SKIP LOCKED): an organization whose lock another transaction
-- holds (another worker, a synchronous import) is skipped, its imports
-- stay pending for that worker or the next run.  Waiting instead would
-- deadlock two workers that each hold one organization and reach an
-- import of the other's.
CREATE OR REPLACE FUNCTION upflow.run_pending_imports(max_imports integer DEFAULT 10)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	candidate record;
	imp upflow.import;
	ran integer := 0;
	tenant_before constant text := current_setting('upflow.organization_id', true);
	-- Organizations whose lock another transaction holds: skipped.
	busy bigint[] := '{}';
	message text;
	detail text;
	hint text;
BEGIN
	-- Every pending import, oldest first (not only the first few: those
	-- of a busy organization must not hide the others').
	FOR candidate IN
		SELECT i.organization_id, i.import_id
		  FROM upflow.import i
		 WHERE i.status = 'pending'
		 ORDER BY i.submitted_at, i.import_id
	LOOP
		EXIT WHEN ran >= max_imports;
		CONTINUE WHEN candidate.organization_id = ANY (busy);

		-- Still pending (another worker may have run it since the loop
		-- began), then the organization's lock, then the import's.
		CONTINUE WHEN NOT EXISTS (
			SELECT FROM upflow.import i
			 WHERE i.organization_id = candidate.organization_id
			   AND i.import_id = candidate.import_id
			   AND i.status = 'pending');
		PERFORM FROM upflow.organization o
		  WHERE o.organization_id = candidate.organization_id
		    FOR NO KEY UPDATE SKIP LOCKED;
		IF NOT FOUND THEN
			busy := busy || candidate.organization_id;
			CONTINUE;
		END IF;

		-- (Not i.*, which would read the file: apply_import reads it.)
		PERFORM FROM upflow.import i
		  WHERE i.organization_id = candidate.organization_id
		    AND i.import_id = candidate.import_id
		    AND i.status = 'pending'
		    FOR UPDATE SKIP LOCKED;
		CONTINUE WHEN NOT FOUND;

		BEGIN
			-- The import runs as its organization's tenant (row-level
			-- security); SET LOCAL, unlike set_config(), also reaches the
			-- workers of a Citus cluster.
			EXECUTE format('SET LOCAL upflow.organization_id = %L', candidate.organization_id);
			imp := upflow.apply_import(candidate.organization_id, candidate.import_id);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
									hint = PG_EXCEPTION_HINT;
			-- The import's progress report ends with it (only the abort of a
			-- whole transaction ends it by itself).
			PERFORM upflow.end_import_progress();
			UPDATE upflow.import i
			   SET status = 'failed', started_at = coalesce(i.started_at, now()),
				   finished_at = now(),
				   error = concat_ws(' ', message || '.', nullif(detail, ''), nullif(hint, ''))
			 WHERE i.organization_id = candidate.organization_id
			   AND i.import_id = candidate.import_id
			RETURNING i.* INTO imp;
		END;
		PERFORM upflow.notify_import_finished(imp);
		ran := ran + 1;
	END LOOP;

	EXECUTE format('SET LOCAL upflow.organization_id = %L', coalesce(tenant_before, ''));
	RETURN ran;
END
$function$;

COMMENT ON FUNCTION upflow.run_pending_imports(integer) IS
'The worker: run up to max_imports pending imports, oldest first, each in its own subtransaction; returns how many ran';

CREATE OR REPLACE FUNCTION upflow.schedule_import_worker(schedule text DEFAULT '* * * * *')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	job bigint;
	-- Set when the server preloads pg_cron: the database it runs jobs from.
	cron_database constant text := current_setting('cron.database_name', true);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		IF cron_database IS NOT NULL AND cron_database <> current_database() THEN
			RAISE EXCEPTION 'pg_cron is not installed in this database'
				USING ERRCODE = 'undefined_object',
					  DETAIL = format('The import worker is scheduled with pg_cron, which this server runs from database %s.',
									  cron_database),
					  HINT = format('In database %s, run: SELECT cron.schedule_in_database(''upflow_import_worker'', ''* * * * *'', ''SELECT upflow.run_pending_imports()'', %L);',
									cron_database, current_database());
		END IF;
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'undefined_object',
				  DETAIL = 'The import worker is scheduled with pg_cron.',
				  HINT = format('Install postgresql-15-cron; in postgresql.conf set shared_preload_libraries = ''pg_cron'', cron.database_name = %L and cron.use_background_workers = on; restart the server, then run CREATE EXTENSION pg_cron in this database.',
								current_database());
	END IF;
	-- cron.schedule with a job name creates the job or updates its schedule.
	EXECUTE 'SELECT cron.schedule($1, $2, $3)'
	   INTO job
	  USING 'upflow_import_worker', schedule, 'SELECT upflow.run_pending_imports()';
	RETURN job;
END
$function$;

COMMENT ON FUNCTION upflow.schedule_import_worker(text) IS
'Register (or reschedule) the pg_cron job upflow_import_worker that runs queued imports; returns its job id';
