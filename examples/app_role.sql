-- The least-privilege application role (README, "Security and roles"):
-- what an application needs to import and read its organizations'
-- contacts, and nothing more.  Run it as the extension's owner:
--   psql -v app_role=upflow_app -f examples/app_role.sql
-- (app_role defaults to upflow_app).  The tests run this very file.
\if :{?app_role}
\else
\set app_role upflow_app
\endif
CREATE ROLE :"app_role" NOLOGIN;
GRANT USAGE ON SCHEMA upflow TO :"app_role";
GRANT SELECT ON upflow.organization, upflow.member TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON upflow.import_lock TO :"app_role";   -- the per-organization import lock
-- DELETE: a revert deletes the contacts and customers its import created.
GRANT SELECT, INSERT, UPDATE, DELETE ON upflow.customer, upflow.contact TO :"app_role";
GRANT SELECT, INSERT ON upflow.import_undo TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON upflow.import TO :"app_role";
GRANT SELECT, INSERT ON upflow.import_error TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON upflow.saved_mapping TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON upflow.notification TO :"app_role";
-- The outbox: an import writes its deliveries; the webhooks table is not granted.
GRANT SELECT, INSERT ON upflow.notification_delivery TO :"app_role";
GRANT SELECT ON upflow.import_history, upflow.import_errors, upflow.notification_backlog TO :"app_role";
-- Identifiers of new rows (Citus draws them with the caller's rights).
GRANT USAGE ON SEQUENCE upflow.customer_customer_id_seq, upflow.contact_contact_id_seq,
	upflow.import_import_id_seq, upflow.import_error_import_error_id_seq,
	upflow.notification_notification_id_seq, upflow.notification_delivery_delivery_id_seq TO :"app_role";
-- The internal functions the public ones call (not executable by PUBLIC).
GRANT EXECUTE ON FUNCTION upflow.organization_for_import(bigint, boolean),
	upflow.import_organization(bigint), upflow.take_import_lock(bigint, boolean),
	upflow.tables_distributed(), upflow.insert_rows(bigint, regclass, text, text),
	upflow.decode_upload(bigint, bytea, jsonb),
	upflow.store_import(bigint, text, text, jsonb, text, bigint, jsonb, text),
	upflow.import_text(bigint, text, text, jsonb, text, bigint, jsonb),
	upflow.submit_text(bigint, text, text, jsonb, text, bigint, jsonb),
	upflow.apply_import(bigint, bigint, text, boolean),
	upflow.stage_import_lines(bigint, text, jsonb, jsonb, boolean),
	upflow.prepare_import_lines(bigint, text, jsonb, jsonb),
	upflow.prepare_changed_lines(bigint, text, jsonb, jsonb), upflow.unchanged_line_count(),
	upflow.start_import_progress(bigint), upflow.end_import_progress(),
	upflow.notify_import_finished(upflow.import), upflow.import_summary(upflow.import),
	upflow.mapping_for_file(bigint, text, jsonb, jsonb),
	upflow.save_mapping(bigint, text, text, jsonb, jsonb),
	upflow.insert_created_rows(bigint, bigint, regclass, text, text, text, text),
	upflow.record_changed_rows(bigint, bigint, bigint[], bigint[]),
	upflow.plan_revert(bigint, bigint, boolean, boolean), upflow.revert_options(jsonb),
	upflow.import_to_revert(bigint, bigint), upflow.apply_revert(bigint, bigint, boolean, bigint),
	upflow.revert_problem_message(text, text, text, text, text, text, jsonb, jsonb, bigint),
	upflow.copy_contacts(text, bigint, bigint[], bigint[]), upflow.copy_customers(text, bigint, bigint[]),
	upflow.insert_routed(bigint, regclass, text, text, bigint, text), upflow.check_member(bigint, bigint, text, text) TO :"app_role";
