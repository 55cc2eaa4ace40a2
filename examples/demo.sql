-- The demo of upflow_import (make demo): a finance team's contacts file
-- imported from SQL, as the README's Getting started shows it.
\pset footer off
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS upflow_import;
RESET client_min_messages;

\echo
\echo '== examples/contacts.csv, as parse_csv reads it (the broken quote of line 8 has NULL fields) =='
\set contacts `cat examples/contacts.csv`
SELECT line_number, fields FROM upflow.parse_csv(:'contacts');

\echo '== An organization, with CSV import enabled by an administrator =='
INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme Finance')
	ON CONFLICT DO NOTHING;
-- Claire is notified in-app, by email and on Slack (Profile > Notifications).
INSERT INTO upflow.member (organization_id, member_id, email, full_name, notify_slack)
VALUES (1, 1, 'claire@acme-finance.fr', 'Claire Martin', true) ON CONFLICT DO NOTHING;
SELECT upflow.enable_csv_import(1);

\echo '== The import (no mapping: the headers are recognized) =='
SELECT import_id, status, delimiter, line_count, created_count, updated_count,
	   unchanged_count, failed_count, warning_count, skipped_count
  FROM upflow.upflow_import(1, :'contacts', file_name => 'contacts.csv', submitted_by => 1);

\echo '== The import history =='
SELECT import_id, file_name, status, submitted_at::timestamp(0), line_count, failed_count
  FROM upflow.import_history;

\echo '== Why lines failed =='
SELECT line_number, severity, code, message, hint FROM upflow.import_errors;

\echo '== Download lines with errors =='
\pset format unaligned
\pset tuples_only on
SELECT upflow.error_lines_csv(1);
\pset format aligned
\pset tuples_only off

\echo
\echo '== The contacts =='
SELECT cu.external_id, cu.name AS customer, c.email, c.first_name, c.family_name,
	   c.phone, c.position, c.is_main
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 ORDER BY cu.external_id, c.email;


\echo
\echo '== A queued import, run by the pg_cron worker =='
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT upflow.schedule_import_worker('* * * * *') AS cron_job_id;
-- The lines of the error download, fixed as a user would in a
-- spreadsheet, submitted to the queue.
SELECT upflow.submit_import(1, replace(replace(replace(replace(upflow.error_lines_csv(1),
		'j.martin@sge-equipement;', 'j.martin@sge-equipement.fr;'), ';abc;', ';04 93 00 00 01;'),
		'"comptabilite@', 'comptabilite@'), ';peut-être;', ';1;'),
		file_name => 'contacts-fixed.csv', submitted_by => 1) AS queued_import_id \gset
SELECT import_id, file_name, status FROM upflow.import_history WHERE import_id = :queued_import_id;
\echo 'Waiting for the worker (pg_cron runs it at the start of the next minute)...'
DO $$
BEGIN
	FOR i IN 1..90 LOOP
		EXIT WHEN EXISTS (SELECT FROM upflow.import WHERE status NOT IN ('pending', 'running')
							 AND file_name = 'contacts-fixed.csv');
		PERFORM pg_sleep(1);
	END LOOP;
END
$$;
SELECT import_id, file_name, status, line_count, created_count, updated_count,
	   unchanged_count, failed_count
  FROM upflow.import_history WHERE import_id = :queued_import_id;
SELECT line_number, code, message FROM upflow.import_errors WHERE import_id = :queued_import_id;

\echo '== Claire''s notifications =='
SELECT import_id, message FROM upflow.notification ORDER BY notification_id;
SELECT cron.unschedule('upflow_import_worker') AS unscheduled;

\echo
\echo '== The outbox: a delivery per channel Claire asked for, written with each import =='
SELECT import_id, channel, status, attempts FROM upflow.notification_delivery ORDER BY delivery_id;
\echo '== The relay delivers it (a local SMTP sink and a local stand-in for Slack) =='
SELECT upflow.set_slack_webhook(1, format('http://127.0.0.1:%s/services/T0000/B0000/demo', :'http_port'));
\setenv DEMO_SMTP_PORT :smtp_port
\setenv DEMO_HTTP_PORT :http_port
\! tools/demo-notify
SELECT import_id, channel, status, attempts, sent_at IS NOT NULL AS sent
  FROM upflow.notification_delivery ORDER BY delivery_id;
