-- A synchronous import with no mapping: the seed column names are
-- recognized, customers and contacts are created, the history row counts
-- every line, and importing the same file again writes nothing.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture

\set file 'Customer name;Client ID (External Id);Contact email address;First name;Family name;Phone number;Position;Main contact\nBoulangerie Dupré;C-001;marie@dupre.fr;Marie;Dupré;+33 1 42 68 53 00;Gérante;1\nBoulangerie Dupré;C-001;compta@dupre.fr;Jérôme;Lefèvre;01 42 68 53 01;Comptable;0\nCafé du Port;C-002;"h.benali@port.fr";Hélène;Benali;;"Directrice; finance";\n'

SELECT import_id, status, file_name, encoding, delimiter, line_count, created_count,
	   updated_count, unchanged_count, failed_count, warning_count, skipped_count, error,
	   length(file_sha256) AS sha256_hex_length, started_at IS NOT NULL AS started,
	   finished_at >= started_at AS finished
  FROM upflow.upflow_import(1, :'file', file_name => 'contacts.csv');

-- The mapping as resolved, re-usable as a mapping argument.
SELECT jsonb_pretty(mapping) FROM upflow.import WHERE import_id = 1;

SELECT external_id, name, account_manager_id FROM upflow.customer ORDER BY external_id;
SELECT c.external_id, ct.email, ct.first_name, ct.family_name, ct.phone, ct.position,
	   ct.is_main, ct.last_import_id
  FROM upflow.contact ct JOIN upflow.customer c USING (organization_id, customer_id)
 ORDER BY ct.contact_id;

-- The stored file is the uploaded text, with its sha256.
SELECT file_content = :'file' AS same_content,
	   file_sha256 = encode(sha256(convert_to(:'file', 'UTF8')), 'hex') AS same_sha256
  FROM upflow.import WHERE import_id = 1;

-- The same file again: every line unchanged, no contact row written.
CREATE TEMP TABLE before AS SELECT contact_id, xmin::text AS old_xmin FROM upflow.contact;
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count
  FROM upflow.upflow_import(1, :'file');
SELECT count(*) AS rewritten_contacts
  FROM upflow.contact c JOIN before b USING (contact_id) WHERE c.xmin::text <> b.old_xmin;

-- A change of one phone number updates that contact only.
SELECT status, created_count, updated_count, unchanged_count
  FROM upflow.upflow_import(1, replace(:'file', '01 42 68 53 01', '01 42 68 53 99'));
SELECT email, phone FROM upflow.contact c JOIN before b USING (contact_id)
 WHERE c.xmin::text <> b.old_xmin;

-- The history, newest first.
SELECT import_id, status, line_count, created_count, updated_count, unchanged_count
  FROM upflow.import_history;

-- The import is atomic with the caller's transaction.
BEGIN;
SELECT status FROM upflow.upflow_import(1, E'Customer name;Client ID;Email\nNew;C-009;new@x.fr\n');
ROLLBACK;
SELECT count(*) AS rolled_back FROM upflow.customer WHERE external_id = 'C-009';

-- The row an import returns is its stored history row, file included
-- (apply_import returns it without its file, which import_text reads
-- back), a dry run's too.
BEGIN;
CREATE TEMP TABLE returned AS SELECT * FROM upflow.upflow_import(1, :'file');
SELECT r.file_content = :'file' AS returned_file,
	   r = i AS returned_as_stored, r.status, r.unchanged_count
  FROM returned r JOIN upflow.import i USING (organization_id, import_id);
SELECT i.file_content = :'file' AS dry_run_file, i.status
  FROM upflow.upflow_import(1, :'file', options => '{"dry_run": true}') i;
ROLLBACK;
