/*
 * src/sql/comments.sql -- comments on every table, every column a user
 * reads, and every policy.  Re-run by every update script, so that an
 * upgraded database documents itself as a new one does.
 */


COMMENT ON TABLE upflow.organization IS
'Tenants: one row per organization, with the settings that govern its CSV imports';
COMMENT ON COLUMN upflow.organization.organization_id IS
'Identifier of the organization; every row of every table names its organization';
COMMENT ON COLUMN upflow.organization.name IS
'Name of the organization, as its users know it';
COMMENT ON COLUMN upflow.organization.source_system IS
'Where contacts come from: none, native, api, salesforce_native or salesforce_api; decides what a CSV import may change';
COMMENT ON COLUMN upflow.organization.csv_import_enabled IS
'CSV import is off until an administrator runs upflow.enable_csv_import';
COMMENT ON COLUMN upflow.organization.main_contact_from_integration IS
'When true the integration decides the main contact and the CSV main-contact column is ignored';
COMMENT ON COLUMN upflow.organization.api_overrules_csv IS
'When true (api and salesforce_api source systems) the API owns what it sets and CSV cannot change it';
COMMENT ON COLUMN upflow.organization.created_at IS
'When the organization was created';

COMMENT ON TABLE upflow.member IS
'Users of an organization: submitters of imports and account managers of customers';
COMMENT ON COLUMN upflow.member.organization_id IS
'Organization of the member';
COMMENT ON COLUMN upflow.member.member_id IS
'Identifier of the member in its organization';
COMMENT ON COLUMN upflow.member.email IS
'Email address of the member, unique in its organization (case-insensitive); account managers are named by it in files';
COMMENT ON COLUMN upflow.member.full_name IS
'Name of the member, for messages';
COMMENT ON COLUMN upflow.member.notify_in_app IS
'Whether the member gets an in-app notification when an import they submitted finishes';
COMMENT ON COLUMN upflow.member.notify_email IS
'Whether the member wants an email when an import they submitted finishes';
COMMENT ON COLUMN upflow.member.notify_slack IS
'Whether the member wants a Slack message when an import they submitted finishes';

COMMENT ON TABLE upflow.customer IS
'Customers of an organization, identified by their external_id (the id in the accounting tool)';
COMMENT ON COLUMN upflow.customer.organization_id IS
'Organization of the customer';
COMMENT ON COLUMN upflow.customer.customer_id IS
'Identifier of the customer in its organization';
COMMENT ON COLUMN upflow.customer.external_id IS
'The customers id in the accounting tool (the files client ID), unique in the organization';
COMMENT ON COLUMN upflow.customer.name IS
'Name of the customer; an import never renames it (a different name is a customer_name_mismatch warning)';
COMMENT ON COLUMN upflow.customer.account_manager_id IS
'The member who manages the customer, set by the files account manager email';
COMMENT ON COLUMN upflow.customer.created_at IS
'When the customer was created';
COMMENT ON COLUMN upflow.customer.updated_at IS
'When the customer last changed';

COMMENT ON TABLE upflow.contact IS
'Contacts of customers; one per customer and email (case-insensitive), at most one main contact per customer';
COMMENT ON COLUMN upflow.contact.organization_id IS
'Organization of the contact';
COMMENT ON COLUMN upflow.contact.contact_id IS
'Identifier of the contact in its organization';
COMMENT ON COLUMN upflow.contact.customer_id IS
'The customer the contact belongs to';
COMMENT ON COLUMN upflow.contact.email IS
'Email address of the contact, unique per customer (case-insensitive)';
COMMENT ON COLUMN upflow.contact.first_name IS
'First name of the contact';
COMMENT ON COLUMN upflow.contact.family_name IS
'Family name of the contact';
COMMENT ON COLUMN upflow.contact.phone IS
'Phone number of the contact, as written in the file (trimmed)';
COMMENT ON COLUMN upflow.contact.position IS
'Position of the contact at the customer';
COMMENT ON COLUMN upflow.contact.is_main IS
'Whether this is the customers main contact (at most one per customer)';
COMMENT ON COLUMN upflow.contact.created_at IS
'When the contact was created';
COMMENT ON COLUMN upflow.contact.updated_at IS
'When the contact last changed';
COMMENT ON COLUMN upflow.contact.last_import_id IS
'The import that last created or changed the row (kept when that import is purged from the history)';

COMMENT ON TABLE upflow.import IS
'Import history: one row per CSV import, with the uploaded file, the resolved mapping and the counts';
COMMENT ON COLUMN upflow.import.organization_id IS
'Organization the import belongs to';
COMMENT ON COLUMN upflow.import.import_id IS
'Identifier of the import';
COMMENT ON COLUMN upflow.import.status IS
'pending, running, succeeded, partially_succeeded (some lines failed), failed or cancelled';
COMMENT ON COLUMN upflow.import.file_name IS
'Name of the uploaded file, as given by the uploader';
COMMENT ON COLUMN upflow.import.file_content IS
'The uploaded file, decoded to text';
COMMENT ON COLUMN upflow.import.encoding IS
'Encoding the uploaded bytes were decoded from';
COMMENT ON COLUMN upflow.import.file_sha256 IS
'SHA-256 of the decoded file (UTF-8), in hex: the same file uploaded twice has the same value';
COMMENT ON COLUMN upflow.import.delimiter IS
'The separator used: given, or detected among ; , | and tab';
COMMENT ON COLUMN upflow.import.mapping IS
'Mapping as resolved: field name to 1-based column number and header';
COMMENT ON COLUMN upflow.import.options IS
'The options the import was given (dry_run aside)';
COMMENT ON COLUMN upflow.import.submitted_by IS
'The member who submitted the import; notified when it finishes';
COMMENT ON COLUMN upflow.import.submitted_at IS
'When the import was submitted';
COMMENT ON COLUMN upflow.import.started_at IS
'When the import started being applied';
COMMENT ON COLUMN upflow.import.finished_at IS
'When the import finished (or was cancelled)';
COMMENT ON COLUMN upflow.import.line_count IS
'Data records read (header and blank lines excluded) = created + updated + unchanged + failed + skipped';
COMMENT ON COLUMN upflow.import.created_count IS
'Lines that created a contact';
COMMENT ON COLUMN upflow.import.updated_count IS
'Lines that changed a stored contact or its customers account manager';
COMMENT ON COLUMN upflow.import.unchanged_count IS
'Lines whose contact was already stored with the same values';
COMMENT ON COLUMN upflow.import.failed_count IS
'Lines that failed (each has an error in upflow.import_error)';
COMMENT ON COLUMN upflow.import.warning_count IS
'Warnings of the import (in upflow.import_error), line-level and import-level';
COMMENT ON COLUMN upflow.import.skipped_count IS
'Lines left out because a later line of the file names the same contact (duplicate_line)';
COMMENT ON COLUMN upflow.import.attempts IS
'How many times the worker started the import and met a transient failure (deadlock, serialization failure, lock timeout)';
COMMENT ON COLUMN upflow.import.last_error IS
'The transient failure of the latest attempt, while the import waits to be tried again';
COMMENT ON COLUMN upflow.import.next_attempt_at IS
'Earliest time the worker tries a pending import again after a transient failure';
COMMENT ON COLUMN upflow.import.error IS
'Why the whole import failed, when it did';

COMMENT ON TABLE upflow.import_error IS
'Every problem of an import: failed lines (severity error) and warnings, with the line as uploaded';
COMMENT ON COLUMN upflow.import_error.organization_id IS
'Organization the import belongs to';
COMMENT ON COLUMN upflow.import_error.import_id IS
'The import the problem belongs to';
COMMENT ON COLUMN upflow.import_error.import_error_id IS
'Identifier of the problem, in the order it was found';
COMMENT ON COLUMN upflow.import_error.line_number IS
'Physical line where the record starts (the header is line 1); NULL for an import-level warning';
COMMENT ON COLUMN upflow.import_error.severity IS
'error (the line failed) or warning (the line was applied)';
COMMENT ON COLUMN upflow.import_error.code IS
'Stable problem code, for example invalid_email or customer_not_found';
COMMENT ON COLUMN upflow.import_error.field IS
'The contact field the problem is about, when there is one';
COMMENT ON COLUMN upflow.import_error.message IS
'What is wrong, naming the line, the field and the value';
COMMENT ON COLUMN upflow.import_error.hint IS
'How to fix the file';
COMMENT ON COLUMN upflow.import_error.raw_line IS
'The record exactly as in the file, without its final line break';

COMMENT ON TABLE upflow.notification IS
'In-app notifications of finished imports';
COMMENT ON COLUMN upflow.notification.organization_id IS
'Organization of the member notified';
COMMENT ON COLUMN upflow.notification.notification_id IS
'Identifier of the notification';
COMMENT ON COLUMN upflow.notification.member_id IS
'The member notified';
COMMENT ON COLUMN upflow.notification.import_id IS
'The import the notification is about';
COMMENT ON COLUMN upflow.notification.created_at IS
'When the notification was created';
COMMENT ON COLUMN upflow.notification.read_at IS
'When the member read it (set by the application), NULL while unread';
COMMENT ON COLUMN upflow.notification.message IS
'The notification text: the import, its file, its status and counts';

COMMENT ON TABLE upflow.import_lock IS
'One row per organization that has imported: the row lock every import takes, so that an organization''s imports run one at a time';
COMMENT ON COLUMN upflow.import_lock.organization_id IS
'The organization the lock serializes';
COMMENT ON COLUMN upflow.import_lock.locked_at IS
'When the latest import of the organization took the lock (NULL before its first)';

COMMENT ON POLICY import_lock_tenant ON upflow.import_lock IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY import_queue_insert ON upflow.import IS
'A tenant queues an import as pending or running, submitted now, never started: only the worker schedules imports';
COMMENT ON POLICY import_queue_update ON upflow.import IS
'A tenant never puts an import (back) in the queue: only the worker does';
COMMENT ON POLICY organization_tenant ON upflow.organization IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY member_tenant ON upflow.member IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY customer_tenant ON upflow.customer IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY contact_tenant ON upflow.contact IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY import_tenant ON upflow.import IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY import_error_tenant ON upflow.import_error IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON POLICY notification_tenant ON upflow.notification IS
'Rows of the organization named by upflow.organization_id only';

COMMENT ON TABLE upflow.saved_mapping IS
'Column mappings an organization saved by name (option save_mapping), used again for a file with the same headers';
COMMENT ON COLUMN upflow.saved_mapping.organization_id IS
'The organization the mapping belongs to';
COMMENT ON COLUMN upflow.saved_mapping.name IS
'The name it was saved under, unique in the organization (option mapping_name asks for it)';
COMMENT ON COLUMN upflow.saved_mapping.header_keys IS
'The keys of the headers of the file it was saved from (as header matching compares them), sorted: a file with the same keys uses it';
COMMENT ON COLUMN upflow.saved_mapping.mapping IS
'The mapped fields, {"field": "header"}; fields left out are recognized automatically';
COMMENT ON COLUMN upflow.saved_mapping.saved_at IS
'When it was last saved';
COMMENT ON POLICY saved_mapping_tenant ON upflow.saved_mapping IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON COLUMN upflow.import.saved_mapping IS
'The saved mapping the import used, by name (NULL: none)';

COMMENT ON TABLE upflow.import_undo IS
'Before-images an import wrote for its undo (revert_import), in chunks: the ids of the rows it created, the fields it changed as they were and as it left them';
COMMENT ON COLUMN upflow.import_undo.organization_id IS
'The organization of the import';
COMMENT ON COLUMN upflow.import_undo.import_id IS
'The import that wrote it';
COMMENT ON COLUMN upflow.import_undo.kind IS
'contacts_changed, customers_changed (row_ids, line_numbers, before, after) or contacts_created, customers_created (row_ids)';
COMMENT ON COLUMN upflow.import_undo.row_id IS
'The smallest of row_ids (the key of the chunk)';
COMMENT ON COLUMN upflow.import_undo.row_ids IS
'The contacts or customers the import changed or created';
COMMENT ON COLUMN upflow.import_undo.line_numbers IS
'For each changed row, the line of the file that changed it (NULL for a main contact the import demoted)';
COMMENT ON COLUMN upflow.import_undo.before IS
'For each changed row, in the order of row_ids, the fields the import changed, {"field": value}, as they were before it';
COMMENT ON COLUMN upflow.import_undo.after IS
'For each changed row, the same fields as the import left them';
COMMENT ON POLICY import_undo_tenant ON upflow.import_undo IS
'Rows of the organization named by upflow.organization_id only';
COMMENT ON COLUMN upflow.import.reverts_import_id IS
'For a revert (revert_import): the import it reverted; an import is reverted at most once';
COMMENT ON COLUMN upflow.import.deleted_count IS
'Contacts and customers a revert deleted (the import had created them); 0 for an import';
COMMENT ON COLUMN upflow.import.undo_recorded IS
'Whether the import wrote its before-images (false for imports applied by 1.0, which cannot be reverted)';

COMMENT ON TABLE upflow.notification_delivery IS
'The notification outbox: one row per channel a finished import''s submitter asked for, delivered by bin/upflow-notify';
COMMENT ON COLUMN upflow.notification_delivery.organization_id IS
'The organization of the import';
COMMENT ON COLUMN upflow.notification_delivery.delivery_id IS
'Identifier of the delivery (the email''s Message-ID is derived from it)';
COMMENT ON COLUMN upflow.notification_delivery.notification_id IS
'The in-app notification of the same import, if the member gets them';
COMMENT ON COLUMN upflow.notification_delivery.import_id IS
'The finished import (or revert) the delivery is about';
COMMENT ON COLUMN upflow.notification_delivery.member_id IS
'The member notified: the submitter of the import';
COMMENT ON COLUMN upflow.notification_delivery.channel IS
'in_app (written sent: the notification row is the delivery), email or slack';
COMMENT ON COLUMN upflow.notification_delivery.status IS
'pending (to send at next_attempt_at), sent or failed (last_error says why)';
COMMENT ON COLUMN upflow.notification_delivery.attempts IS
'How many times a relay tried to send it';
COMMENT ON COLUMN upflow.notification_delivery.last_error IS
'Why the latest attempt failed (NULL once sent)';
COMMENT ON COLUMN upflow.notification_delivery.next_attempt_at IS
'When a pending delivery is due (later after each temporary failure)';
COMMENT ON COLUMN upflow.notification_delivery.created_at IS
'When the import finished and wrote it';
COMMENT ON COLUMN upflow.notification_delivery.sent_at IS
'When it was sent (NULL until then)';
COMMENT ON POLICY notification_delivery_tenant ON upflow.notification_delivery IS
'Rows of the organization named by upflow.organization_id only';

COMMENT ON TABLE upflow.slack_webhook IS
'Each organization''s Slack incoming-webhook URL, a secret: no tenant role is granted anything on it (set it with set_slack_webhook)';
COMMENT ON COLUMN upflow.slack_webhook.organization_id IS
'The organization';
COMMENT ON COLUMN upflow.slack_webhook.url IS
'The incoming-webhook URL the relay posts the organization''s Slack notifications to';
COMMENT ON COLUMN upflow.slack_webhook.updated_at IS
'When it was last set';
COMMENT ON POLICY slack_webhook_tenant ON upflow.slack_webhook IS
'Rows of the organization named by upflow.organization_id only';
