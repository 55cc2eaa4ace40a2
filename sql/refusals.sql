-- Import-level refusals raise an ERROR with errcode, message, detail and
-- hint, and write nothing.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme Finance'), (2, 'Other');
\set file 'Customer name;Client ID;Email\nAlpha;C1;a@alpha.fr\n'

-- CSV import is off until an administrator enables it.
SELECT upflow.upflow_import(1, :'file');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.enable_csv_import(1);
SELECT status FROM upflow.upflow_import(1, :'file');
SELECT upflow.enable_csv_import(1, false);
SELECT upflow.upflow_import(1, :'file');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.enable_csv_import(1);

-- Unknown organization.
SELECT upflow.upflow_import(42, :'file');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.enable_csv_import(42);
\echo :LAST_ERROR_SQLSTATE

-- Unknown option, and invalid option values.
SELECT upflow.upflow_import(1, :'file', options => '{"dryrun": true}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, :'file', options => '{"header": "yes"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, :'file', options => '[1]');
\echo :LAST_ERROR_SQLSTATE

-- A file over upflow_import.max_file_size.
SET upflow_import.max_file_size = '1kB';
SELECT upflow.upflow_import(1, :'file' || repeat(E'Alpha;C1;a@alpha.fr\n', 60));
\echo :LAST_ERROR_SQLSTATE
RESET upflow_import.max_file_size;

-- The limits are for administrators to raise.
CREATE ROLE regress_upflow_tenant;
SET ROLE regress_upflow_tenant;
SET upflow_import.max_file_size = '1GB';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_upflow_tenant;

-- NULL content.
SELECT upflow.upflow_import(1, NULL::text);
\echo :LAST_ERROR_SQLSTATE

-- A session working for organization 2 may not import into 1.
SET upflow.organization_id = 2;
SELECT upflow.upflow_import(1, :'file');
\echo :LAST_ERROR_SQLSTATE
RESET upflow.organization_id;

-- Only the one successful import was written.
SELECT import_id, status FROM upflow.import;
