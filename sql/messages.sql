--
-- Messages a user reads: the refusal of an unknown submitter or encoding
-- before anything is stored, and the file name in a notification as the
-- user wrote it (the hint of a missing tenant is in security).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/acme.sql
INSERT INTO upflow.member (organization_id, member_id, email) VALUES (1, 7, 'claire@acme.fr');
-- A submitter who is not a member of the organization: refused with the
-- member's number, synchronously and queued, and nothing is stored.
SELECT status FROM upflow.upflow_import(1, E'Customer name;Client ID;Email\nAcme;C1;ann@acme.fr\n', submitted_by => 8);
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.submit_import(1, E'Customer name;Client ID;Email\nAcme;C1;ann@acme.fr\n', submitted_by => 8);
\echo :LAST_ERROR_SQLSTATE
-- An encoding option on a text: a name PostgreSQL does not know is refused
-- too (the text itself needs no decoding).
SELECT status FROM upflow.upflow_import(1, E'Customer name;Client ID;Email\nAcme;C1;ann@acme.fr\n', options => '{"encoding": "latin-42"}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS imports_stored FROM upflow.import;
-- A known encoding on a text is accepted and changes nothing.
SELECT status, created_count FROM upflow.upflow_import(1, E'Customer name;Client ID;Email\nAcme;C1;ann@acme.fr\n',
													  options => '{"encoding": "WIN1252"}');
-- The notification names the file as written: a Windows path keeps its
-- backslashes, a control character becomes a space, a quote is doubled.
SELECT status FROM upflow.upflow_import(1, E'Customer name;Client ID;Email\nAcme;C1;ann@acme.fr\n',
										file_name => E'C:\\Exports\\l''export\tde\nmars.csv', submitted_by => 7);
SELECT message FROM upflow.notification ORDER BY notification_id;
