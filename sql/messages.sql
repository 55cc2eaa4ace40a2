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
-- Fields are named by their label, never their SQL name, in the file's
-- language: a French file reads French labels; the column's header is
-- added when the file calls the field otherwise.
SELECT status FROM upflow.upflow_import(1, E'Société;ID client;Courriel;Tél.;Contact principal;Prénom du contact\n'
	'Acme;C1;;01 02;;Ann\n'
	'Acme;C1;bob@acme;;;Bob\n'
	'Acme;C1;cy@acme.fr;abc;peut-être;Cy\n');
SELECT line_number, field, message, hint FROM upflow.import_error
 WHERE import_id = (SELECT max(import_id) FROM upflow.import) ORDER BY import_error_id;
-- The same faults in an English file.
SELECT status FROM upflow.upflow_import(1, E'Company;Client ID;Email address;Phone;Main contact\n'
	'Acme;C1;;;\n'
	'Acme;C1;cy@acme.fr;abc;maybe\n');
SELECT line_number, field, message FROM upflow.import_error
 WHERE import_id = (SELECT max(import_id) FROM upflow.import) ORDER BY import_error_id;
-- upflow.field_label, as the SQL messages use it (the mapping stored
-- with an import); a mapping error names the label and the mapping key.
SELECT f, upflow.field_label(f, '{"email": "Courriel", "first_name": "Prénom", "phone": "Téléphone"}') AS french,
	   upflow.field_label(f) AS english
  FROM unnest(ARRAY['email', 'first_name', 'phone', 'is_main', 'account_manager_email', 'no_such_field']) f;
SELECT status FROM upflow.upflow_import(1, E'Raison sociale;Courriel\nAcme;a@acme.fr\n');
