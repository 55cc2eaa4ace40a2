-- The import history: one row per import with counts that add up, one
-- error row per problem, the views, notifications and purging.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture
INSERT INTO upflow.member (organization_id, member_id, email, notify_in_app, notify_email, notify_slack)
VALUES (1, 7, 'claire@acme-finance.fr', true, true, true),
	   (1, 8, 'paul@acme-finance.fr', false, true, false);

SELECT import_id, status, submitted_by, line_count, created_count, failed_count
  FROM upflow.upflow_import(1, E'Customer;Client ID;Email\nAlpha;C1;a@alpha.fr\nAlpha;C1;bad\n',
							file_name => 'january.csv', submitted_by => 7);
SELECT import_id, status, submitted_by
  FROM upflow.upflow_import(1, E'Customer;Client ID;Email\nAlpha;C1;b@alpha.fr\n',
							file_name => 'february.csv', submitted_by => 8);

-- An in-app notification for Claire only (Paul turned them off).
SELECT member_id, import_id, read_at, message FROM upflow.notification ORDER BY notification_id;

-- Counts always add up: line_count = created + updated + unchanged + failed + skipped.
SELECT import_id, file_name, status, line_count,
	   line_count = created_count + updated_count + unchanged_count + failed_count + skipped_count AS adds_up
  FROM upflow.import_history;

SELECT import_id, line_number, severity, code FROM upflow.import_errors;

-- Purging: finished imports older than the interval, with their errors
-- and notifications.
UPDATE upflow.import SET finished_at = now() - interval '100 days' WHERE import_id = 1;
SELECT upflow.purge_import_history(interval '90 days') AS purged;
SELECT import_id FROM upflow.import;
SELECT count(*) AS errors_left FROM upflow.import_error;
SELECT count(*) AS notifications_left FROM upflow.notification;
SELECT upflow.purge_import_history(interval '-1 day');
