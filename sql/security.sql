-- Multi-tenant security: the README's least-privilege role recipe, applied
-- exactly, can do everything for its own organization and nothing for
-- another, without learning whether another organization or import exists.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

-- Two organizations, as an administrator sets them up.
INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme'), (2, 'Globex');
SELECT upflow.enable_csv_import(1), upflow.enable_csv_import(2);
INSERT INTO upflow.member (organization_id, member_id, email) VALUES (1, 1, 'claire@acme.fr'), (2, 2, 'homer@globex.com');
SELECT import_id, organization_id, status FROM upflow.upflow_import(2,
	E'Customer;Client ID;Email\nGlobex;G1;hank@globex.com\nGlobex;G1;bad\n', submitted_by => 2);

-- The recipe (README, "Security and roles"): examples/app_role.sql.
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_upflow_app;
RESET client_min_messages;
\set app_role regress_upflow_app
\set recipe :abs_srcdir '/examples/app_role.sql'
\i :recipe

SET ROLE regress_upflow_app;

-- Without the tenant setting, nothing is visible and nothing can be done.
SELECT count(*) AS organizations_seen FROM upflow.organization;
SELECT upflow.upflow_import(1, E'Customer;Client ID;Email\nAcme;A1;a@acme.fr\n');
\echo :LAST_ERROR_SQLSTATE

SET upflow.organization_id = 1;

-- Everything the product offers, for its own organization.
SELECT status, created_count, failed_count FROM upflow.upflow_import(1,
	E'Customer;Client ID;Email;Main contact\nAcme;A1;a@acme.fr;1\nAcme;A1;bad;\n', submitted_by => 1);
SELECT line_number, action FROM upflow.preview_import(1, E'Customer;Client ID;Email\nAcme;A1;b@acme.fr\n');
SELECT replace(upflow.export_contacts_csv(1), E'\r\n', ' | ') AS export;
SELECT replace(upflow.error_lines_csv(2), E'\r\n', ' | ') AS error_lines;
SELECT upflow.submit_import(1, E'Customer;Client ID;Email\nAcme;A2;c@acme.fr\n') AS queued;
SELECT upflow.submit_import(1, E'Customer;Client ID;Email\nAcme;A3;d@acme.fr\n') AS queued;
SELECT upflow.cancel_import(4) AS cancelled;
-- The worker is the administrator's (not executable by PUBLIC).
SELECT upflow.run_pending_imports() AS ran;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT upflow.run_pending_imports() AS ran;
SET ROLE regress_upflow_app;
SELECT import_id, status, line_count FROM upflow.import_history;
SELECT import_id, line_number, code FROM upflow.import_errors;
SELECT member_id, import_id FROM upflow.notification;
UPDATE upflow.notification SET read_at = now() WHERE import_id = 2;
SELECT left(upflow.template_csv(), 14) AS template;
SELECT upflow.purge_import_history(interval '1 day') AS purged;

-- Nothing of organization 2 is visible...
SELECT organization_id, count(*) FROM upflow.contact GROUP BY 1;
SELECT organization_id, name FROM upflow.organization;
SELECT count(*) AS other_members FROM upflow.member WHERE organization_id = 2;

-- ...and nothing of it can be done: the same refusal whether the other
-- organization (2) or import (1) exists or not (3, 99).
SELECT upflow.upflow_import(2, E'Customer;Client ID;Email\nX;X1;x@x.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(3, E'Customer;Client ID;Email\nX;X1;x@x.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM upflow.preview_import(2, E'Customer;Client ID;Email\nX;X1;x@x.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.export_contacts_csv(2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM upflow.prepare_contacts(2, E'Customer;Client ID;Email\nX;X1;x@x.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.submit_import(2, E'Customer;Client ID;Email\nX;X1;x@x.fr\n');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.error_lines_csv(1);
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.error_lines_csv(99);
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.cancel_import(1);
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.apply_import(2, 1);
\echo :LAST_ERROR_SQLSTATE

-- Direct writes to another organization are refused or touch nothing.
UPDATE upflow.contact SET first_name = 'hacked' WHERE organization_id = 2;
INSERT INTO upflow.contact (organization_id, customer_id, email) VALUES (2, 1, 'spy@evil.com');
\echo :LAST_ERROR_SQLSTATE
-- The import lock needs no write on organization, and its row cannot be
-- moved to another organization.
UPDATE upflow.organization SET name = 'renamed' WHERE organization_id = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE upflow.import_lock SET organization_id = 2 WHERE organization_id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT organization_id FROM upflow.import_lock;

-- Administration is for the extension owner only.
SELECT upflow.enable_csv_import(1, false);
\echo :LAST_ERROR_SQLSTATE
UPDATE upflow.organization SET csv_import_enabled = true;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO upflow.member (organization_id, email) VALUES (1, 'intruder@acme.fr');
\echo :LAST_ERROR_SQLSTATE
UPDATE upflow.organization SET organization_id = 2 WHERE organization_id = 1;
\echo :LAST_ERROR_SQLSTATE

-- No path to a server file.
SELECT pg_read_file('/etc/passwd');
\echo :LAST_ERROR_SQLSTATE

RESET upflow.organization_id;
RESET ROLE;

-- Organization 2's data is intact.
SELECT organization_id, email, first_name FROM upflow.contact ORDER BY 1, 2;
SELECT organization_id, csv_import_enabled FROM upflow.organization ORDER BY 1;

DROP OWNED BY regress_upflow_app;
DROP ROLE regress_upflow_app;
