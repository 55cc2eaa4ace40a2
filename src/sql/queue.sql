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
	PERFORM upflow.detect_mapping_for(submit_text.organization_id, content, mapping, opts);
	IF opts ? 'dry_run' THEN
		RAISE EXCEPTION 'option dry_run is not available for queued imports'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use upflow.preview_import or upflow.upflow_import with {"dry_run": true}.';
	END IF;
	RETURN upflow.store_import(submit_text.organization_id, content, encoding, mapping,
							   file_name, submitted_by, opts, 'pending');
END
$function$;

REVOKE ALL ON FUNCTION upflow.submit_text(bigint, text, text, jsonb, text, bigint, jsonb) FROM PUBLIC;

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

CREATE OR REPLACE FUNCTION upflow.restart_statement_timeout()
RETURNS boolean
AS 'MODULE_PATHNAME', 'upflow_restart_statement_timeout'
LANGUAGE C VOLATILE STRICT;

REVOKE ALL ON FUNCTION upflow.restart_statement_timeout() FROM PUBLIC;

COMMENT ON FUNCTION upflow.restart_statement_timeout() IS
'statement_timeout counts again from now (the worker gives each import the whole budget); whether one is set';

/*
 * One queued import, run by the worker under its organization's lock and
 * with budgets of its own: the worker's statement_timeout, counted from
 * the start of this import, and a lock_timeout of at most
 * upflow_import.worker_lock_timeout.  Returns what happened:
 *   busy     another transaction holds the organization's lock: skipped
 *   gone     no longer pending (another worker ran or cancelled it)
 *   retry    a transient failure (deadlock, serialization failure, lock
 *            timeout): back to pending, with its attempt count, last error
 *            and the time of its next attempt (10 s, doubling)
 *   done     finished (succeeded, partially_succeeded or failed)
 * A cancel by a user (pg_cancel_backend) is not swallowed: it stops the run.
 */
CREATE OR REPLACE FUNCTION upflow.run_queued_import(organization_id bigint, import_id bigint)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	p_org constant bigint := run_queued_import.organization_id;
	p_import constant bigint := run_queued_import.import_id;
	imp upflow.import;
	budget_start timestamptz;
	has_timeout boolean;
	worker_lock_timeout interval;
	state text;
	message text;
	detail text;
	hint text;
	reason text;
	attempts_before integer;
	now_ timestamptz;
BEGIN
	IF NOT upflow.take_import_lock(p_org, false) THEN
		RETURN 'busy';
	END IF;
	-- (Not i.*, which would read the file: apply_import reads it.)
	SELECT i.attempts INTO attempts_before
	  FROM upflow.import i
	 WHERE i.organization_id = p_org AND i.import_id = p_import AND i.status = 'pending'
	   FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN 'gone';
	END IF;

	has_timeout := upflow.restart_statement_timeout();
	budget_start := clock_timestamp();
	BEGIN
		-- The import runs as its organization's tenant; SET LOCAL (unlike
		-- a session-level setting) also reaches the workers of a Citus
		-- cluster.  Both settings end with this subtransaction if it fails.
		EXECUTE format('SET LOCAL upflow.organization_id = %L', p_org);
		worker_lock_timeout := current_setting('upflow_import.worker_lock_timeout')::interval;
		IF worker_lock_timeout > interval '0'
		   AND (current_setting('lock_timeout')::interval = interval '0'
				OR worker_lock_timeout < current_setting('lock_timeout')::interval) THEN
			PERFORM set_config('lock_timeout',
							   (extract(epoch FROM worker_lock_timeout) * 1000)::bigint || 'ms', true);
		END IF;
		imp := upflow.apply_import(p_org, p_import);
	EXCEPTION WHEN OTHERS OR query_canceled THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
								detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
		-- The import's progress report ends with it (only the abort of a
		-- whole transaction ends it by itself).
		PERFORM upflow.end_import_progress();
		reason := concat_ws(' ', message || '.', nullif(detail, ''), nullif(hint, ''));
		-- (The clock in a variable: Citus refuses volatile functions in an
		-- UPDATE of a distributed table.)
		now_ := clock_timestamp();
		IF state = '57014' THEN
			-- A cancel: the import's own time budget, or a user stopping
			-- the worker (then the run stops, the import stays pending).
			IF NOT has_timeout OR clock_timestamp() - budget_start
				< current_setting('statement_timeout')::interval * 0.99 THEN
				RAISE;
			END IF;
			reason := format('The import took longer than the worker''s statement_timeout (%s) and was stopped; nothing of it was applied. Split the file, or give the worker a longer statement_timeout.',
							 current_setting('statement_timeout'));
		ELSIF state IN ('40P01', '40001', '55P03')
			  AND attempts_before + 1 < current_setting('upflow_import.worker_max_attempts')::integer THEN
			UPDATE upflow.import i
			   SET status = 'pending', attempts = i.attempts + 1, last_error = reason,
				   next_attempt_at = now_ + interval '10 seconds' * power(2, i.attempts),
				   started_at = NULL
			 WHERE i.organization_id = p_org AND i.import_id = p_import;
			RETURN 'retry';
		END IF;
		UPDATE upflow.import i
		   SET status = 'failed', started_at = coalesce(i.started_at, budget_start),
			   attempts = i.attempts + CASE WHEN state IN ('40P01', '40001', '55P03') THEN 1 ELSE 0 END,
			   finished_at = now_, error = reason
		 WHERE i.organization_id = p_org AND i.import_id = p_import
		RETURNING i.* INTO imp;
	END;
	PERFORM upflow.notify_import_finished(imp);
	RETURN 'done';
END
$function$;

REVOKE ALL ON FUNCTION upflow.run_queued_import(bigint, bigint) FROM PUBLIC;

COMMENT ON FUNCTION upflow.run_queued_import(bigint, bigint) IS
'The worker''s step: claim and run one pending import with its own time and lock budget; busy, gone, retry or done';

/*
 * The worker: runs up to max_imports pending imports in the caller's
 * transaction, each in its own subtransaction (upflow.run_queued_import);
 * upflow.run_import_queue, the procedure pg_cron calls, commits each one.
 * The order is the server's, fair between organizations: every
 * organization's oldest due import first, then every organization's
 * second, and so on; among organizations, the one whose latest import is
 * the oldest first (upflow.import_lock.locked_at), so that runs of one
 * import each go round the organizations too.  One organization's fifty
 * files wait behind another's one.  An organization whose lock another
 * transaction holds (a synchronous import, another worker) is skipped
 * without waiting: its imports stay pending for the next run.
 */
CREATE OR REPLACE FUNCTION upflow.run_pending_imports(max_imports integer DEFAULT 10)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	candidate record;
	ran integer := 0;
	tenant_before constant text := current_setting('upflow.organization_id', true);
	-- Organizations whose lock another transaction holds: skipped.
	busy bigint[] := '{}';
	outcome text;
BEGIN
	FOR candidate IN
		SELECT q.organization_id, q.import_id
		  FROM (SELECT i.organization_id, i.import_id, i.submitted_at,
					   row_number() OVER (PARTITION BY i.organization_id
										  ORDER BY i.submitted_at, i.import_id) AS turn
				  FROM upflow.import i
				 WHERE i.status = 'pending'
				   AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= statement_timestamp())) q
		  LEFT JOIN upflow.import_lock l ON l.organization_id = q.organization_id
		 ORDER BY q.turn, l.locked_at NULLS FIRST, q.submitted_at, q.import_id
	LOOP
		EXIT WHEN ran >= max_imports;
		CONTINUE WHEN candidate.organization_id = ANY (busy);
		outcome := upflow.run_queued_import(candidate.organization_id, candidate.import_id);
		IF outcome = 'busy' THEN
			busy := busy || candidate.organization_id;
		ELSIF outcome <> 'gone' THEN
			ran := ran + 1;
		END IF;
	END LOOP;

	EXECUTE format('SET LOCAL upflow.organization_id = %L', coalesce(tenant_before, ''));
	RETURN ran;
END
$function$;

REVOKE ALL ON FUNCTION upflow.run_pending_imports(integer) FROM PUBLIC;

COMMENT ON FUNCTION upflow.run_pending_imports(integer) IS
'The worker, in one transaction: run up to max_imports due pending imports, fairly between organizations, each in its own subtransaction; returns how many ran';

/*
 * The worker as pg_cron runs it: CALL upflow.run_import_queue().  Each
 * import commits on its own, so that one organization's import that waits
 * for a lock or runs out of time holds back no other organization's, and
 * each is visible (and its organization's lock free) as soon as it ends.
 * (No SET clause: a procedure that has one cannot commit.  So every name
 * and operator is qualified.)
 */
CREATE OR REPLACE PROCEDURE upflow.run_import_queue(max_imports integer DEFAULT 10)
LANGUAGE plpgsql
AS $procedure$
DECLARE
	ran integer := 0;
BEGIN
	WHILE ran OPERATOR(pg_catalog.<) max_imports LOOP
		EXIT WHEN upflow.run_pending_imports(1) OPERATOR(pg_catalog.=) 0;
		ran := ran OPERATOR(pg_catalog.+) 1;
		COMMIT;
	END LOOP;
END
$procedure$;

REVOKE ALL ON PROCEDURE upflow.run_import_queue(integer) FROM PUBLIC;

COMMENT ON PROCEDURE upflow.run_import_queue(integer) IS
'The worker as pg_cron calls it: run up to max_imports due pending imports, each committed on its own';

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
					  HINT = format('In database %s, run: SELECT cron.schedule_in_database(''upflow_import_worker'', ''* * * * *'', ''CALL upflow.run_import_queue()'', %L);',
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
	  USING 'upflow_import_worker', schedule, 'CALL upflow.run_import_queue()';
	RETURN job;
END
$function$;

COMMENT ON FUNCTION upflow.schedule_import_worker(text) IS
'Register (or reschedule) the pg_cron job upflow_import_worker that runs queued imports; returns its job id';
