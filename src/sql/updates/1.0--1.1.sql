/*
 * src/sql/updates/1.0--1.1.sql -- the changes of 1.1 to the tables (run
 * after schema.sql by a new installation, alone by an update from 1.0).
 */

/*
 * The per-organization import lock.  Imports of one organization serialize
 * on a row lock of this table, which an application role may take with
 * plain table privileges (INSERT, UPDATE) that let it change nothing else:
 * its only other column is the time of the latest import, and row-level
 * security keeps it on its own organization's row.  1.0 locked the
 * organization row, which needed UPDATE (last_import_at) on organization:
 * a column grant, which Citus refuses, on a table the specification keeps
 * writable by the extension's owner only.  A row is created by
 * enable_csv_import, or else by the first import of the organization.
 */
CREATE TABLE upflow.import_lock (
	organization_id bigint PRIMARY KEY
		REFERENCES upflow.organization (organization_id) ON DELETE CASCADE,
	locked_at timestamptz
);

ALTER TABLE upflow.import_lock ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY import_lock_tenant ON upflow.import_lock
	USING (organization_id = upflow.current_organization_id());
SELECT pg_catalog.pg_extension_config_dump('upflow.import_lock', '');

-- The lock rows of organizations that imported under 1.0, with the time.
INSERT INTO upflow.import_lock (organization_id, locked_at)
SELECT o.organization_id, o.last_import_at FROM upflow.organization o
 WHERE o.last_import_at IS NOT NULL;
ALTER TABLE upflow.organization DROP COLUMN last_import_at;

/*
 * The queue: a queued import that hit a transient failure (deadlock,
 * serialization failure, lock timeout) goes back to pending with its
 * attempt count, its last error and the time of its next attempt.
 */
ALTER TABLE upflow.import
	ADD COLUMN attempts integer NOT NULL DEFAULT 0,
	ADD COLUMN last_error text,
	ADD COLUMN next_attempt_at timestamptz;

/*
 * What a tenant may write into the queue (restrictive policies, on top of
 * import_tenant).  A new import is pending or running, not yet started,
 * with no attempt, submitted now (by the clock, within five minutes: the
 * nodes of a Citus cluster check it with their own clocks); an update
 * never leaves an import pending.  So a tenant cannot queue an import
 * ahead of its time, nor put one back in the queue: only the worker
 * (BYPASSRLS) does.  submit_import's checks run again when the worker
 * applies an import, so a row inserted by hand gains nothing either.
 */
CREATE POLICY import_queue_insert ON upflow.import AS RESTRICTIVE FOR INSERT
	WITH CHECK (status IN ('pending', 'running') AND started_at IS NULL AND finished_at IS NULL
				AND attempts = 0 AND next_attempt_at IS NULL
				AND submitted_at BETWEEN pg_catalog.clock_timestamp() - interval '5 minutes'
									 AND pg_catalog.clock_timestamp() + interval '5 minutes');
CREATE POLICY import_queue_update ON upflow.import AS RESTRICTIVE FOR UPDATE
	USING (true)
	WITH CHECK (status <> 'pending');


-- apply_import has a new argument, every_line (a preview stages every line).
DO $$
BEGIN
	IF pg_catalog.to_regprocedure('upflow.apply_import(bigint,bigint,text)') IS NOT NULL THEN
		DROP FUNCTION upflow.apply_import(bigint, bigint, text);
	END IF;
END
$$;

/*
 * The foreign-key checks of an import's writes (each new contact looks up
 * its customer; a customer its account manager) are planned by PostgreSQL
 * from the statistics of the moment, and autovacuum's ANALYZE during a long
 * import counts its uncommitted rows as none.  With no rows to tell them
 * apart, every index that starts with organization_id costs the same, and
 * the check can pick the unique key on (organization_id, external_id) and
 * read the organization's whole index for each new contact.  As partial
 * indexes (on a NOT NULL column, so they hold every row and keep the same
 * uniqueness), they cannot serve a lookup that does not name the column,
 * and the primary key is the only index a check can use.
 */
ALTER TABLE upflow.customer DROP CONSTRAINT customer_external_id_key;
CREATE UNIQUE INDEX customer_external_id_key ON upflow.customer (organization_id, external_id)
	WHERE external_id IS NOT NULL;
DROP INDEX upflow.member_email_key;
CREATE UNIQUE INDEX member_email_key ON upflow.member (organization_id, pg_catalog.lower(email))
	WHERE email IS NOT NULL;

/*
 * Saved mappings: an organization names the mapping of an export it
 * imports every month (option save_mapping); a later file whose headers
 * have the same keys (compared as header matching compares them: NFKC,
 * case, accents and punctuation aside, in any order) uses it when no
 * mapping is given.  header_keys: those keys, sorted, without repeats.
 */
CREATE TABLE upflow.saved_mapping (
	organization_id bigint NOT NULL
		REFERENCES upflow.organization (organization_id) ON DELETE CASCADE,
	name text NOT NULL,
	header_keys text[] NOT NULL,
	mapping jsonb NOT NULL,
	saved_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (organization_id, name),
	CONSTRAINT saved_mapping_name_check CHECK (name <> '')
);

ALTER TABLE upflow.saved_mapping ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY saved_mapping_tenant ON upflow.saved_mapping
	USING (organization_id = upflow.current_organization_id());
SELECT pg_catalog.pg_extension_config_dump('upflow.saved_mapping', '');

-- The saved mapping an import used, by name (NULL: none).
ALTER TABLE upflow.import ADD COLUMN saved_mapping text;

/*
 * Undo (upflow.revert_import).  An import writes, where it writes, what a
 * revert needs: for the contacts and customers it changed, the fields it
 * changed as they were before and as it left them (the rows as it locked
 * and read them, compared with the rows once written); for the rows it
 * created, their ids only.  Nothing for the lines it left unchanged.  In
 * chunks of up to 10,000 rows (25,000 ids of created rows on Citus), one
 * row of this table each: a row per changed contact would cost an import
 * that changes many of them an index entry, and a tuple, per contact.
 * The rows go with their import when purge_import_history removes it.
 *
 * kind: contacts_changed, customers_changed (row_ids: the contacts or
 * customers; line_numbers: the line that changed each, NULL for a main
 * contact the import demoted; before, after: JSON arrays in the same
 * order, each {field: value} of the fields the import changed) or
 * contacts_created, customers_created (row_ids only).  row_id: the
 * smallest of row_ids.
 */
CREATE TABLE upflow.import_undo (
	organization_id bigint NOT NULL,
	import_id bigint NOT NULL,
	kind text NOT NULL
		CONSTRAINT import_undo_kind_check
		CHECK (kind IN ('contacts_changed', 'customers_changed', 'contacts_created', 'customers_created')),
	row_id bigint NOT NULL,
	row_ids bigint[] NOT NULL,
	line_numbers integer[],
	before jsonb,
	after jsonb,
	PRIMARY KEY (organization_id, import_id, kind, row_id),
	FOREIGN KEY (organization_id, import_id)
		REFERENCES upflow.import (organization_id, import_id) ON DELETE CASCADE
);

-- Compressed with lz4 where the server has it: pglz took 0.6 s of a
-- 1M-line import to compress its ten arrays of created ids.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_settings
				WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
		ALTER TABLE upflow.import_undo ALTER COLUMN row_ids SET COMPRESSION lz4,
			ALTER COLUMN line_numbers SET COMPRESSION lz4,
			ALTER COLUMN before SET COMPRESSION lz4, ALTER COLUMN after SET COMPRESSION lz4;
	END IF;
END
$$;

ALTER TABLE upflow.import_undo ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY import_undo_tenant ON upflow.import_undo
	USING (organization_id = upflow.current_organization_id());
SELECT pg_catalog.pg_extension_config_dump('upflow.import_undo', '');

/*
 * The history of reverts: a revert is a row of upflow.import (its counts,
 * its problems, its notification) naming the import it reverts; an import
 * is reverted at most once.  deleted_count: the contacts and customers a
 * revert deleted (0 for an import).  undo_recorded: the import wrote its
 * before-images (false for imports applied before 1.1, which cannot be
 * reverted).
 */
ALTER TABLE upflow.import
	ADD COLUMN reverts_import_id bigint,
	ADD COLUMN deleted_count integer NOT NULL DEFAULT 0,
	ADD COLUMN undo_recorded boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX import_reverts_key ON upflow.import (organization_id, reverts_import_id)
	WHERE reverts_import_id IS NOT NULL;
ALTER TABLE upflow.import DROP CONSTRAINT import_counts_check;
ALTER TABLE upflow.import ADD CONSTRAINT import_counts_check
	CHECK (line_count = created_count + updated_count + unchanged_count + failed_count
		   + skipped_count + deleted_count);

/*
 * The notification outbox: a finished import writes, in its own
 * transaction, one row per channel its submitter asked for (in_app, email,
 * slack); bin/upflow-notify claims the pending ones, sends them and records
 * the outcome.  An in_app delivery is the upflow.notification row itself
 * (notification_id), so it is written sent.  The rows go with their import
 * when purge_import_history removes it.
 *
 * status: pending (to send at next_attempt_at), sent (sent_at), failed
 * (permanently, or after the relay's attempt limit; last_error says why).
 */
CREATE TABLE upflow.notification_delivery (
	organization_id bigint NOT NULL,
	delivery_id bigint GENERATED BY DEFAULT AS IDENTITY,
	notification_id bigint,
	import_id bigint NOT NULL,
	member_id bigint NOT NULL,
	channel text NOT NULL
		CONSTRAINT notification_delivery_channel_check
		CHECK (channel IN ('in_app', 'email', 'slack')),
	status text NOT NULL DEFAULT 'pending'
		CONSTRAINT notification_delivery_status_check
		CHECK (status IN ('pending', 'sent', 'failed')),
	attempts integer NOT NULL DEFAULT 0
		CONSTRAINT notification_delivery_attempts_check CHECK (attempts >= 0),
	last_error text,
	next_attempt_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	sent_at timestamptz,
	PRIMARY KEY (organization_id, delivery_id),
	-- One delivery per channel of a finished import.
	CONSTRAINT notification_delivery_channel_key UNIQUE (organization_id, import_id, member_id, channel),
	CONSTRAINT notification_delivery_sent_check CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
	FOREIGN KEY (organization_id, import_id)
		REFERENCES upflow.import (organization_id, import_id) ON DELETE CASCADE,
	FOREIGN KEY (organization_id, member_id)
		REFERENCES upflow.member (organization_id, member_id) ON DELETE CASCADE
);
-- What the relay looks for: the pending rows, by due time.
CREATE INDEX notification_delivery_due ON upflow.notification_delivery
	(organization_id, next_attempt_at) WHERE status = 'pending';

ALTER TABLE upflow.notification_delivery ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_delivery_tenant ON upflow.notification_delivery
	USING (organization_id = upflow.current_organization_id());
SELECT pg_catalog.pg_extension_config_dump('upflow.notification_delivery', '');
SELECT pg_catalog.pg_extension_config_dump('upflow.notification_delivery_delivery_id_seq', '');

/*
 * Each organization's Slack incoming-webhook URL: a secret.  No tenant role
 * is granted anything on it (set_slack_webhook is the administrators');
 * the relay reads it with BYPASSRLS.  Row-level security too, so that a
 * grant made by mistake still shows a tenant its own row only.
 */
CREATE TABLE upflow.slack_webhook (
	organization_id bigint PRIMARY KEY
		REFERENCES upflow.organization (organization_id) ON DELETE CASCADE,
	url text NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER TABLE upflow.slack_webhook ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY slack_webhook_tenant ON upflow.slack_webhook
	USING (organization_id = upflow.current_organization_id());
SELECT pg_catalog.pg_extension_config_dump('upflow.slack_webhook', '');
