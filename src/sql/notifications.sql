/*
 * src/sql/notifications.sql -- notifications of finished imports, and the
 * outbox that bin/upflow-notify delivers.
 */

-- The one-line summary of a finished import or revert: the in-app
-- notification's message, and the first line of an email or Slack message.
CREATE OR REPLACE FUNCTION upflow.import_summary(imp upflow.import)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
	SELECT CASE WHEN imp.reverts_import_id IS NOT NULL THEN
		format('Revert %s of import %s %s: %s restored, %s deleted, %s unchanged, %s with values kept (changed since).',
			   imp.import_id, imp.reverts_import_id, replace(imp.status, '_', ' '),
			   imp.updated_count, imp.deleted_count, imp.unchanged_count, imp.failed_count)
	ELSE
		format('Import %s of %s %s: %s created, %s updated, %s unchanged, %s failed, %s skipped.',
			   -- The name as written (not quote_literal's E'C:\\...'), a
			   -- control character as a space, its quotes doubled.
			   imp.import_id,
			   coalesce('''' || replace(regexp_replace(imp.file_name, '[[:cntrl:]]', ' ', 'g'),
										'''', '''''') || '''', 'a file'),
			   replace(imp.status, '_', ' '), imp.created_count, imp.updated_count,
			   imp.unchanged_count, imp.failed_count, imp.skipped_count)
	END
$function$;

REVOKE ALL ON FUNCTION upflow.import_summary(upflow.import) FROM PUBLIC;

-- When an import finishes: an in-app notification for the submitter (if
-- they want them) and, in the same transaction, a row of the outbox
-- upflow.notification_delivery per channel they asked for, then a wake-up
-- on channel upflow_import for the relay (bin/upflow-notify).  Any role
-- can LISTEN, so the wake-up carries no tenant data, only ids and the
-- status: the relay sends what the outbox holds, so a forged wake-up can
-- at worst make it look for due rows sooner.
CREATE OR REPLACE FUNCTION upflow.notify_import_finished(imp upflow.import)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	m upflow.member;
	in_app_id bigint;
BEGIN
	IF imp.submitted_by IS NOT NULL THEN
		SELECT mb.* INTO m FROM upflow.member mb
		 WHERE mb.organization_id = imp.organization_id AND mb.member_id = imp.submitted_by;
	END IF;

	IF m.notify_in_app THEN
		INSERT INTO upflow.notification (organization_id, member_id, import_id, message)
		VALUES (imp.organization_id, m.member_id, imp.import_id, upflow.import_summary(imp))
		RETURNING notification_id INTO in_app_id;
		-- Delivered by being written: the row is sent.
		INSERT INTO upflow.notification_delivery
			(organization_id, notification_id, import_id, member_id, channel, status, sent_at)
		VALUES (imp.organization_id, in_app_id, imp.import_id, m.member_id, 'in_app', 'sent', now());
	END IF;
	IF m.notify_email THEN
		INSERT INTO upflow.notification_delivery
			(organization_id, notification_id, import_id, member_id, channel)
		VALUES (imp.organization_id, in_app_id, imp.import_id, m.member_id, 'email');
	END IF;
	IF m.notify_slack THEN
		INSERT INTO upflow.notification_delivery
			(organization_id, notification_id, import_id, member_id, channel)
		VALUES (imp.organization_id, in_app_id, imp.import_id, m.member_id, 'slack');
	END IF;
	PERFORM pg_notify('upflow_import',
					  json_build_object('organization_id', imp.organization_id,
										'import_id', imp.import_id,
										'status', imp.status)::text);
END
$function$;

REVOKE ALL ON FUNCTION upflow.notify_import_finished(upflow.import) FROM PUBLIC;

-- Set (or, with NULL, remove) an organization's Slack incoming-webhook
-- URL.  Administrators only: the URL is a secret no tenant role reads.
CREATE OR REPLACE FUNCTION upflow.set_slack_webhook(organization_id bigint, url text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	IF set_slack_webhook.organization_id IS NULL THEN
		RAISE EXCEPTION 'organization_id must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass the id of the organization whose Slack webhook to set.';
	END IF;
	PERFORM FROM upflow.organization o WHERE o.organization_id = set_slack_webhook.organization_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'organization % does not exist', set_slack_webhook.organization_id
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Check the organization_id argument.';
	END IF;
	IF url IS NULL THEN
		DELETE FROM upflow.slack_webhook w WHERE w.organization_id = set_slack_webhook.organization_id;
		RETURN;
	END IF;
	-- The relay sends to http and https only (no file:, no redirects).
	IF url !~ '^https?://[^/?#@[:space:][:cntrl:]]+(/[^[:space:][:cntrl:]]*)?$' THEN
		RAISE EXCEPTION 'invalid Slack webhook URL'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A webhook URL is https:// (or http://), a host, and a path without spaces or control characters.',
				  HINT = 'Copy the incoming-webhook URL from the Slack app''s settings, e.g. https://hooks.slack.com/services/...';
	END IF;
	-- (excluded.updated_at, not now(): Citus wants DO UPDATE immutable.)
	INSERT INTO upflow.slack_webhook AS w (organization_id, url, updated_at)
	VALUES (set_slack_webhook.organization_id, url, now())
	ON CONFLICT ON CONSTRAINT slack_webhook_pkey
	DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at;
END
$function$;

REVOKE ALL ON FUNCTION upflow.set_slack_webhook(bigint, text) FROM PUBLIC;

-- The organizations that have deliveries due: the relay claims them one
-- organization at a time, so that on Citus each claim is a router query.
CREATE OR REPLACE FUNCTION upflow.due_delivery_organizations()
RETURNS SETOF bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
	SELECT DISTINCT d.organization_id FROM upflow.notification_delivery d
	 WHERE d.status = 'pending' AND d.next_attempt_at <= now()
	 ORDER BY 1
$function$;

REVOKE ALL ON FUNCTION upflow.due_delivery_organizations() FROM PUBLIC;

-- Claim the organization's next due delivery: lock it (FOR UPDATE SKIP
-- LOCKED, so that relays running at once take different rows) and return
-- what to send.  The lock lasts until the caller's transaction ends, in
-- which it records the outcome (record_delivery).  No row: nothing due.
--
-- download_url_template: where a member downloads the lines with errors,
-- {organization_id} and {import_id} replaced; NULL leaves the line out.
CREATE OR REPLACE FUNCTION upflow.claim_delivery(organization_id bigint, download_url_template text DEFAULT NULL)
RETURNS TABLE (delivery_id bigint, import_id bigint, channel text, attempts integer,
			   recipient text, subject text, body text, slack_payload text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	org bigint := claim_delivery.organization_id;
	due timestamptz := now();
	d upflow.notification_delivery;
	imp upflow.import;
	org_name text;
	m upflow.member;
	webhook text;
	summary text;
	download text;
BEGIN
	SELECT nd.* INTO d FROM upflow.notification_delivery nd
	 WHERE nd.organization_id = org AND nd.status = 'pending' AND nd.next_attempt_at <= due
	 ORDER BY nd.next_attempt_at, nd.delivery_id
	 LIMIT 1
	   FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT i.* INTO imp FROM upflow.import i
	 WHERE i.organization_id = org AND i.import_id = d.import_id;
	SELECT o.name INTO org_name FROM upflow.organization o WHERE o.organization_id = org;
	SELECT mb.* INTO m FROM upflow.member mb
	 WHERE mb.organization_id = org AND mb.member_id = d.member_id;
	IF d.channel = 'slack' THEN
		SELECT w.url INTO webhook FROM upflow.slack_webhook w WHERE w.organization_id = org;
	END IF;

	summary := upflow.import_summary(imp);
	IF imp.failed_count > 0 AND imp.reverts_import_id IS NULL AND download_url_template IS NOT NULL THEN
		download := replace(replace(download_url_template, '{organization_id}', org::text),
							'{import_id}', imp.import_id::text);
	END IF;

	delivery_id := d.delivery_id;
	import_id := d.import_id;
	channel := d.channel;
	attempts := d.attempts;
	recipient := CASE d.channel WHEN 'email' THEN m.email WHEN 'slack' THEN webhook END;
	subject := format('[%s] %s %s %s', org_name,
					  CASE WHEN imp.reverts_import_id IS NULL THEN 'Import' ELSE 'Revert' END,
					  imp.import_id, replace(imp.status, '_', ' '));
	body := concat_ws(E'\n',
					  format('Hello %s,', coalesce(m.full_name, m.email)),
					  '',
					  format('%s (%s).', rtrim(summary, '.'), org_name),
					  CASE WHEN download IS NOT NULL THEN
						  E'\n' || format('Download the lines with errors (%s), each with its reason: %s',
										  imp.failed_count, download) END,
					  '',
					  '-- ',
					  'You receive this email because of your notification settings (Profile > Notifications).');
	slack_payload := json_build_object(
		'text', concat_ws(E'\n', format('*%s*: %s', org_name, summary),
						  CASE WHEN download IS NOT NULL THEN
							  format('<%s|Download the lines with errors (%s)>', download, imp.failed_count) END))::text;
	RETURN NEXT;
END
$function$;

REVOKE ALL ON FUNCTION upflow.claim_delivery(bigint, text) FROM PUBLIC;

-- Record the outcome of a claimed delivery: sent; a temporary failure (the
-- next attempt after retry_delay doubled with each attempt, at most six
-- hours, or later if the server asked, retry_after; failed once
-- max_attempts are spent); or a permanent failure.  Returns the new status
-- and, when pending, the time of the next attempt.
CREATE OR REPLACE FUNCTION upflow.record_delivery(organization_id bigint, delivery_id bigint,
												  outcome text, error text DEFAULT NULL,
												  max_attempts integer DEFAULT 8,
												  retry_delay interval DEFAULT '1 minute',
												  retry_after interval DEFAULT NULL)
RETURNS TABLE (status text, next_attempt_at timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	org bigint := record_delivery.organization_id;
	id bigint := record_delivery.delivery_id;
	tried integer;
	new_status text;
	sent timestamptz;
	reason text;
	next_attempt timestamptz;
BEGIN
	IF outcome IS NULL OR outcome NOT IN ('sent', 'temporary', 'permanent') THEN
		RAISE EXCEPTION 'invalid delivery outcome "%"', outcome
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The outcome is sent, temporary or permanent.';
	END IF;
	IF max_attempts IS NULL OR max_attempts < 1 THEN
		RAISE EXCEPTION 'max_attempts must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT nd.attempts + 1 INTO tried FROM upflow.notification_delivery nd
	 WHERE nd.organization_id = org AND nd.delivery_id = id AND nd.status = 'pending'
	   FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'delivery % of organization % is not pending', id, org
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Record the outcome of a delivery claimed with upflow.claim_delivery, in the same transaction.';
	END IF;

	new_status := CASE WHEN outcome = 'sent' THEN 'sent'
					   WHEN outcome = 'permanent' OR tried >= max_attempts THEN 'failed'
					   ELSE 'pending' END;
	-- Computed here, not in the UPDATE: Citus refuses now() inside CASE.
	IF new_status = 'sent' THEN
		sent := now();
	ELSIF new_status = 'failed' AND outcome = 'temporary' THEN
		reason := format('%s (gave up after %s attempts)', coalesce(error, 'temporary failure'), tried);
	ELSE
		reason := coalesce(error, outcome || ' failure');
	END IF;
	IF new_status = 'pending' THEN
		next_attempt := now() + greatest(least(retry_delay * power(2, tried - 1), interval '6 hours'),
										coalesce(retry_after, interval '0'));
	END IF;
	UPDATE upflow.notification_delivery nd
	   SET attempts = tried, status = new_status, sent_at = sent, last_error = reason,
		   next_attempt_at = coalesce(next_attempt, nd.next_attempt_at)
	 WHERE nd.organization_id = org AND nd.delivery_id = id;
	status := new_status;
	next_attempt_at := next_attempt;
	RETURN NEXT;
END
$function$;

REVOKE ALL ON FUNCTION upflow.record_delivery(bigint, bigint, text, text, integer, interval, interval) FROM PUBLIC;

-- What is not delivered, per organization: pending deliveries and their
-- next attempt, failed ones and the latest reason.
CREATE OR REPLACE VIEW upflow.notification_backlog WITH (security_invoker = true) AS
SELECT d.organization_id, d.channel, d.status, count(*) AS deliveries,
	   min(d.created_at) AS oldest_created_at,
	   min(d.next_attempt_at) FILTER (WHERE d.status = 'pending') AS next_attempt_at,
	   (array_agg(d.last_error ORDER BY d.delivery_id DESC) FILTER (WHERE d.last_error IS NOT NULL))[1] AS latest_error
  FROM upflow.notification_delivery d
 WHERE d.status IN ('pending', 'failed')
 GROUP BY d.organization_id, d.channel, d.status;

COMMENT ON FUNCTION upflow.import_summary(upflow.import) IS
'One line on a finished import or revert: its file, status and counts (the in-app message, and the first line of an email or Slack message)';
COMMENT ON FUNCTION upflow.notify_import_finished(upflow.import) IS
'Notify the submitter of a finished import: the in-app notification and the outbox rows of the channels they asked for, and a wake-up on channel upflow_import carrying ids and the status only';
COMMENT ON FUNCTION upflow.set_slack_webhook(bigint, text) IS
'Set the organization''s Slack incoming-webhook URL (http or https); NULL removes it.  Administrators only';
COMMENT ON FUNCTION upflow.due_delivery_organizations() IS
'The organizations with pending deliveries that are due (for the relay)';
COMMENT ON FUNCTION upflow.claim_delivery(bigint, text) IS
'Lock the organization''s next due delivery (FOR UPDATE SKIP LOCKED) and return what to send: recipient, subject, body, Slack payload.  For the relay';
COMMENT ON FUNCTION upflow.record_delivery(bigint, bigint, text, text, integer, interval, interval) IS
'Record the outcome (sent, temporary, permanent) of a claimed delivery: exponential backoff, failed after max_attempts; returns the new status and the next attempt.  For the relay';
COMMENT ON VIEW upflow.notification_backlog IS
'Deliveries not sent, per organization, channel and status: how many, the next attempt, the latest error';
