/*
 * src/sql/notifications.sql -- notifications of finished imports.
 */

-- When an import finishes: an in-app notification for the submitter (if
-- they want them), and a wake-up on channel upflow_import for whoever
-- delivers notifications.  Any role can LISTEN, so the wake-up carries no
-- tenant data, only ids and the status: a relay reads what to send from
-- the tables, and a forged wake-up can at worst make it read a real row.
CREATE OR REPLACE FUNCTION upflow.notify_import_finished(imp upflow.import)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	m upflow.member;
BEGIN
	IF imp.submitted_by IS NOT NULL THEN
		SELECT mb.* INTO m FROM upflow.member mb
		 WHERE mb.organization_id = imp.organization_id AND mb.member_id = imp.submitted_by;
	END IF;

	IF m.notify_in_app AND imp.reverts_import_id IS NOT NULL THEN
		INSERT INTO upflow.notification (organization_id, member_id, import_id, message)
		VALUES (imp.organization_id, m.member_id, imp.import_id,
				format('Revert %s of import %s %s: %s restored, %s deleted, %s unchanged, %s with values kept (changed since).',
					   imp.import_id, imp.reverts_import_id, replace(imp.status, '_', ' '),
					   imp.updated_count, imp.deleted_count, imp.unchanged_count, imp.failed_count));
	ELSIF m.notify_in_app THEN
		INSERT INTO upflow.notification (organization_id, member_id, import_id, message)
		VALUES (imp.organization_id, m.member_id, imp.import_id,
				format('Import %s of %s %s: %s created, %s updated, %s unchanged, %s failed, %s skipped.',
					   -- The name as written (not quote_literal's E'C:\\...'), a
					   -- control character as a space, its quotes doubled.
					   imp.import_id,
					   coalesce('''' || replace(regexp_replace(imp.file_name, '[[:cntrl:]]', ' ', 'g'),
												'''', '''''') || '''', 'a file'),
					   replace(imp.status, '_', ' '), imp.created_count, imp.updated_count,
					   imp.unchanged_count, imp.failed_count, imp.skipped_count));
	END IF;
	PERFORM pg_notify('upflow_import',
					  json_build_object('organization_id', imp.organization_id,
										'import_id', imp.import_id,
										'status', imp.status)::text);
END
$function$;

REVOKE ALL ON FUNCTION upflow.notify_import_finished(upflow.import) FROM PUBLIC;

COMMENT ON FUNCTION upflow.notify_import_finished(upflow.import) IS
'Notify the submitter of a finished import: in-app notification, and a wake-up on channel upflow_import carrying ids and the status only';
