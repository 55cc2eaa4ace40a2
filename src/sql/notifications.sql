/*
 * src/sql/notifications.sql -- notifications of finished imports.
 */

-- When an import finishes: an in-app notification for the submitter (if
-- they want them) and a pg_notify payload a relay can deliver by email or
-- Slack.
CREATE OR REPLACE FUNCTION upflow.notify_import_finished(imp upflow.import)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	m upflow.member;
	summary text;
	message text;
	payload text;
	name_text text := imp.file_name;
	error_text text := imp.error;
	email_text text;
BEGIN
	IF imp.submitted_by IS NOT NULL THEN
		SELECT mb.* INTO m FROM upflow.member mb
		 WHERE mb.organization_id = imp.organization_id AND mb.member_id = imp.submitted_by;
		email_text := m.email;
	END IF;

	-- pg_notify refuses a payload of 8000 bytes or more: the file name and
	-- the error are shortened, by halves, until it fits (then, should that
	-- not do, the member's email).  The in-app message keeps the full name.
	LOOP
		message := format('Import %s of %s %s: %s created, %s updated, %s unchanged, %s failed, %s skipped.',
						  imp.import_id, coalesce(quote_literal(name_text), 'a file'),
						  replace(imp.status, '_', ' '), imp.created_count, imp.updated_count,
						  imp.unchanged_count, imp.failed_count, imp.skipped_count);
		summary := coalesce(summary, message);
		payload := json_build_object(
			'organization_id', imp.organization_id,
			'import_id', imp.import_id,
			'file_name', name_text,
			'status', imp.status,
			'line_count', imp.line_count,
			'created_count', imp.created_count,
			'updated_count', imp.updated_count,
			'unchanged_count', imp.unchanged_count,
			'failed_count', imp.failed_count,
			'warning_count', imp.warning_count,
			'skipped_count', imp.skipped_count,
			'error', error_text,
			'member_id', imp.submitted_by,
			'member_email', email_text,
			'channels', to_json(array_remove(ARRAY[
				CASE WHEN m.notify_email THEN 'email' END,
				CASE WHEN m.notify_slack THEN 'slack' END], NULL)),
			'message', message)::text;
		EXIT WHEN octet_length(payload) < 8000;
		IF coalesce(name_text, '') <> '' OR coalesce(error_text, '') <> '' THEN
			name_text := left(name_text, length(name_text) / 2);
			error_text := left(error_text, length(error_text) / 2);
		ELSE
			email_text := left(email_text, length(email_text) / 2);
		END IF;
	END LOOP;

	IF m.notify_in_app THEN
		INSERT INTO upflow.notification (organization_id, member_id, import_id, message)
		VALUES (imp.organization_id, m.member_id, imp.import_id, summary);
	END IF;
	PERFORM pg_notify('upflow_import', payload);
END
$function$;

COMMENT ON FUNCTION upflow.notify_import_finished(upflow.import) IS
'Notify the submitter of a finished import: in-app notification and pg_notify on channel upflow_import';
