-- preview_import and the dry_run option: what an import would do, against
-- the current tables, without writing anything.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name, source_system) VALUES (1, 'Acme Finance', 'native');
SELECT upflow.enable_csv_import(1);
INSERT INTO upflow.customer (organization_id, external_id, name) VALUES (1, 'C1', 'Alpha');
INSERT INTO upflow.contact (organization_id, customer_id, email, position)
SELECT 1, customer_id, e, p FROM upflow.customer, (VALUES ('a@alpha.fr', 'DAF'), ('b@alpha.fr', 'CFO')) v(e, p);

\set file 'Customer;Client ID;Email;First name;Position\nAlpha;C1;a@alpha.fr;Anne;DAF\nAlpha;C1;b@alpha.fr;;Controller\nAlpha;C1;new@alpha.fr;;Clerk\nBeta;C2;x@beta.fr;;\nAlpha;C1;bad;;\n'

SELECT line_number, action, external_id, email, jsonb_path_query_array(errors, '$[*].code') AS codes
  FROM upflow.preview_import(1, :'file');

-- Nothing was written, not even a history row.
SELECT count(*) AS imports FROM upflow.import;
SELECT email, position FROM upflow.contact ORDER BY email;

-- dry_run returns the row an import would produce, and writes nothing.
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count, warning_count
  FROM upflow.upflow_import(1, :'file', options => '{"dry_run": true}');
SELECT count(*) AS imports FROM upflow.import;

-- The real import does what the preview said.
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count, warning_count
  FROM upflow.upflow_import(1, :'file');
SELECT email, position FROM upflow.contact ORDER BY email;

-- A refresh file (imported before) in an organization that lets CSV create
-- contacts: the unchanged lines, which the import only counts, have their
-- row and action too, and the preview's counts are the import's.
INSERT INTO upflow.organization (organization_id, name) VALUES (2, 'Refresh');
SELECT upflow.enable_csv_import(2);
\set refresh 'Customer;Client ID;Email;Position\nGamma;G1;a@gamma.fr;DAF\nGamma;G1;b@gamma.fr;CFO\nGamma;G2;c@gamma.fr;\n'
SELECT status, created_count FROM upflow.upflow_import(2, :'refresh');
\set changed 'Customer;Client ID;Email;Position\nGamma;G1;a@gamma.fr;DAF\nGamma;G1;b@gamma.fr;Controller\nGamma;G2;c@gamma.fr;\nGamma;G2;bad;\n'
SELECT line_number, action, email, jsonb_path_query_array(errors, '$[*].code') AS codes
  FROM upflow.preview_import(2, :'changed');
SELECT action, count(*) FROM upflow.preview_import(2, :'changed') GROUP BY action ORDER BY action;
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count
  FROM upflow.upflow_import(2, :'changed');
