-- The notification outbox: a finished import writes, in its transaction,
-- one delivery per channel its submitter asked for; what the relay claims
-- (the message), how it records outcomes (backoff, attempt limit,
-- permanent failures); Slack webhooks are the administrators'; row-level
-- security, the backlog view, purging.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture
INSERT INTO upflow.organization (organization_id, name) VALUES (2, 'Globex');
SELECT upflow.enable_csv_import(2) \gset
INSERT INTO upflow.member (organization_id, member_id, email, full_name, notify_in_app, notify_email, notify_slack)
VALUES (1, 10, 'claire@acme-finance.fr', 'Claire Dupré', true, true, false),
	   (1, 11, 'paul@acme-finance.fr', NULL, false, false, true),
	   (1, 12, 'zoe@acme-finance.fr', 'Zoé', false, false, false),
	   (2, 20, 'homer@globex.com', 'Homer', true, true, true);

CREATE VIEW deliveries AS
SELECT delivery_id, import_id, member_id, channel, status, attempts, last_error,
	   notification_id IS NOT NULL AS has_notification, sent_at IS NOT NULL AS has_sent_at
  FROM upflow.notification_delivery
 ORDER BY organization_id, delivery_id;

-- Claire wants in-app and email: the in-app row is the notification itself
-- (sent), the email is pending.  Paul wants Slack only, Zoé nothing.
SELECT import_id, status FROM upflow.upflow_import(1,
	E'Customer;Client ID;Email\nAlpha;C1;a@alpha.fr\nAlpha;C1;bad\n', file_name => 'janvier.csv', submitted_by => 10);
SELECT import_id, status FROM upflow.upflow_import(1,
	E'Customer;Client ID;Email\nAlpha;C1;b@alpha.fr\n', file_name => 'février.csv', submitted_by => 11);
SELECT import_id, status FROM upflow.upflow_import(1,
	E'Customer;Client ID;Email\nAlpha;C1;c@alpha.fr\n', submitted_by => 12);
-- No submitter, a dry run, a rolled-back import: nothing.
SELECT import_id, status FROM upflow.upflow_import(1, E'Customer;Client ID;Email\nAlpha;C1;d@alpha.fr\n');
SELECT status FROM upflow.upflow_import(1, E'Customer;Client ID;Email\nAlpha;C1;e@alpha.fr\n',
	submitted_by => 10, options => '{"dry_run": true}');
BEGIN;
SELECT status FROM upflow.upflow_import(1, E'Customer;Client ID;Email\nAlpha;C1;f@alpha.fr\n', submitted_by => 10);
ROLLBACK;
SELECT * FROM deliveries;
SELECT d.delivery_id, n.message FROM upflow.notification_delivery d
  JOIN upflow.notification n USING (organization_id, notification_id);

-- A queued import and a revert notify the same way.
SELECT upflow.submit_import(1, E'Customer;Client ID;Email\nBeta;C2;g@beta.fr\n', file_name => 'queued.csv',
							submitted_by => 10) AS queued \gset
SELECT upflow.run_pending_imports();
SELECT status FROM upflow.revert_import(2, '{"submitted_by": 11}');
SELECT delivery_id, import_id, member_id, channel, status FROM deliveries WHERE delivery_id > 3;
SELECT delivery_id AS queued_email FROM upflow.notification_delivery
 WHERE import_id = :queued AND channel = 'email' \gset
-- The revert's message.
BEGIN;
UPDATE upflow.notification_delivery SET next_attempt_at = now() - interval '1 hour'
 WHERE import_id = :queued + 1;
SELECT import_id, channel, subject, slack_payload FROM upflow.claim_delivery(1, 'https://x/{import_id}');
ROLLBACK;

-- The relay's view of the outbox: the organizations with due rows.
SELECT * FROM upflow.due_delivery_organizations();
-- Claimed in due order, the message: organization, file, status, counts,
-- the download link for an import with failed lines (the template's
-- placeholders replaced), none for an import without.
BEGIN;
SELECT delivery_id, import_id, channel, attempts, recipient, subject, body, slack_payload
  FROM upflow.claim_delivery(1, 'https://app.upflow.test/o/{organization_id}/imports/{import_id}/errors?x={import_id}');
ROLLBACK;
-- Slack, before the organization has a webhook: no recipient.
BEGIN;
UPDATE upflow.notification_delivery SET next_attempt_at = now() - interval '1 hour' WHERE delivery_id = 3;
SELECT delivery_id, channel, recipient, subject, slack_payload FROM upflow.claim_delivery(1, NULL);
ROLLBACK;
SELECT upflow.set_slack_webhook(1, 'https://hooks.slack.test/services/T000/B000/XXXX');
BEGIN;
UPDATE upflow.notification_delivery SET next_attempt_at = now() - interval '1 hour' WHERE delivery_id = 3;
SELECT delivery_id, channel, recipient FROM upflow.claim_delivery(1, NULL);
ROLLBACK;

-- Outcomes.  A temporary failure: pending again after the retry delay,
-- doubled at each attempt, at most six hours, or later when the server asks.
BEGIN;
SELECT status, next_attempt_at - now() AS retry_in
  FROM upflow.record_delivery(1, 2, 'temporary', 'SMTP 451 4.3.0 Try again later', 3, '1 minute');
SELECT status, next_attempt_at - now() AS retry_in
  FROM upflow.record_delivery(1, 2, 'temporary', 'SMTP 451 4.3.0 Try again later', 3, '1 minute');
SELECT status, next_attempt_at FROM upflow.record_delivery(1, 2, 'temporary', 'SMTP 451 4.3.0 Try again later', 3, '1 minute');
COMMIT;
-- The third attempt was the last (max_attempts 3): failed, with the reason.
SELECT delivery_id, status, attempts, last_error FROM deliveries WHERE delivery_id = 2;
BEGIN;
SELECT status, next_attempt_at - now() AS retry_in
  FROM upflow.record_delivery(1, 3, 'temporary', 'Slack: HTTP 500', 8, '4 hours');
SELECT status, next_attempt_at - now() AS capped_at
  FROM upflow.record_delivery(1, 3, 'temporary', 'Slack: HTTP 500', 8, '4 hours');
SELECT status, next_attempt_at - now() AS server_asked
  FROM upflow.record_delivery(1, 3, 'temporary', 'Slack: HTTP 429', 8, '1 minute', '7 hours');
-- The table says the same.
SELECT attempts, next_attempt_at - now() AS retry_in, last_error FROM upflow.notification_delivery WHERE delivery_id = 3;
ROLLBACK;
-- Permanent, and sent.
SELECT status FROM upflow.record_delivery(1, 3, 'permanent', 'Slack: HTTP 404: no_service');
SELECT status FROM upflow.record_delivery(1, :queued_email, 'sent');
SELECT delivery_id, status, attempts, last_error, has_sent_at FROM deliveries
 WHERE delivery_id IN (3, :queued_email);
-- Only a pending delivery takes an outcome, and only a known one.
SELECT upflow.record_delivery(1, :queued_email, 'sent');
SELECT upflow.record_delivery(1, 5, 'delivered');
SELECT upflow.record_delivery(1, 5, 'temporary', 'x', 0);

-- Webhook URLs: http(s) only, an existing organization, NULL removes.
SELECT upflow.set_slack_webhook(1, 'file:///etc/passwd');
SELECT upflow.set_slack_webhook(1, E'https://hooks.slack.test/a\nHost: evil');
SELECT upflow.set_slack_webhook(1, 'https://user@hooks.slack.test/x');
SELECT upflow.set_slack_webhook(99, 'https://hooks.slack.test/x');
SELECT upflow.set_slack_webhook(NULL, 'https://hooks.slack.test/x');
SELECT upflow.set_slack_webhook(2, 'https://hooks.slack.test/services/globex');
SELECT upflow.set_slack_webhook(2, NULL);
SELECT organization_id FROM upflow.slack_webhook;

-- What is not delivered, per organization.
SELECT organization_id, channel, status, deliveries, latest_error FROM upflow.notification_backlog
 ORDER BY 1, 2, 3;

-- The application role: its own organization's deliveries only, no
-- webhook, no relay function, no webhook setting.
SELECT import_id AS globex_import FROM upflow.upflow_import(2,
	E'Customer;Client ID;Email\nGlobex;G1;h@globex.com\n', submitted_by => 20) \gset
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_upflow_app;
RESET client_min_messages;
\set app_role regress_upflow_app
\set recipe :abs_srcdir '/examples/app_role.sql'
\i :recipe
SET ROLE regress_upflow_app;
SET upflow.organization_id = 2;
SELECT import_id, channel, status FROM upflow.notification_delivery ORDER BY delivery_id;
SELECT organization_id, channel, status, deliveries FROM upflow.notification_backlog ORDER BY 2;
SELECT url FROM upflow.slack_webhook;
SELECT upflow.set_slack_webhook(2, 'https://hooks.slack.test/x');
SELECT * FROM upflow.claim_delivery(1);
UPDATE upflow.notification_delivery SET status = 'sent', sent_at = now();
-- An import by the application role writes its deliveries (in-app, email, Slack).
SELECT status FROM upflow.upflow_import(2, E'Customer;Client ID;Email\nGlobex;G1;i@globex.com\n', submitted_by => 20);
SELECT import_id, channel, status FROM upflow.notification_delivery WHERE import_id > :globex_import ORDER BY delivery_id;
-- Writing another organization's delivery is refused.
INSERT INTO upflow.notification_delivery (organization_id, import_id, member_id, channel)
VALUES (1, 1, 10, 'email');
RESET upflow.organization_id;
RESET ROLE;

-- The deliveries go with their import when the history is purged.
UPDATE upflow.import SET finished_at = now() - interval '100 days' WHERE organization_id = 1 AND import_id = 1;
SELECT upflow.purge_import_history(interval '90 days') AS purged;
SELECT count(*) AS deliveries_of_import_1 FROM upflow.notification_delivery WHERE organization_id = 1 AND import_id = 1;
DROP OWNED BY regress_upflow_app;
DROP ROLE regress_upflow_app;
