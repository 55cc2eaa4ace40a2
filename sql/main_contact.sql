-- The main contact: one per customer; 1 (yes, oui, true, x) designates,
-- 0 (no, non, false) removes the flag, empty changes nothing; the last
-- designation wins, in a file and across imports.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture

CREATE VIEW mains AS
SELECT cu.external_id, c.email, c.is_main
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 ORDER BY cu.external_id, c.email;

-- Three lines designate a main contact of C1: the last one wins, the
-- earlier ones are warned.  C2 gets its main with "x".
SELECT status, created_count, warning_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact
Alpha;C1;a@alpha.fr;1
Alpha;C1;b@alpha.fr;yes
Alpha;C1;c@alpha.fr;OUI
Alpha;C1;d@alpha.fr;
Beta;C2;a@beta.fr;x
Beta;C2;b@beta.fr;non
');
SELECT * FROM mains;
SELECT line_number, code, message FROM upflow.import_errors WHERE import_id = 1;

-- A later import designates another main contact of C1: it replaces the
-- previous one ("the latest update overwrites").
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;a@alpha.fr;true\n');
SELECT * FROM mains;

-- A main contact that is new to the customer replaces the current one.
SELECT status, created_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nBeta;C2;new@beta.fr;1\n');
SELECT * FROM mains;

-- Empty changes nothing; 0 removes the flag, leaving the customer with no
-- main contact.
SELECT status, updated_count, unchanged_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;a@alpha.fr;\nBeta;C2;new@beta.fr;0\n');
SELECT * FROM mains;

-- Within one file, 0 for the current main and 1 for another contact.
SELECT status, updated_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;a@alpha.fr;0\nAlpha;C1;d@alpha.fr;1\n');
SELECT * FROM mains;

-- The designation on a failed line does not count: the valid one wins.
SELECT status, failed_count, warning_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;b@alpha.fr;1\nAlpha;C1;broken-email;1\n');
SELECT * FROM mains;

-- An invalid flag fails the line.
SELECT status, failed_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;c@alpha.fr;2\n');
SELECT code, field, message FROM upflow.import_errors WHERE code = 'invalid_main_flag';

-- When the integration decides the main contact, the column is ignored,
-- with one import-level warning.
UPDATE upflow.organization SET main_contact_from_integration = true WHERE organization_id = 1;
SELECT status, updated_count, unchanged_count, warning_count FROM upflow.upflow_import(1,
E'Customer;Client ID;Email;Main contact\nAlpha;C1;a@alpha.fr;1\nAlpha;C1;c@alpha.fr;not a flag\n');
SELECT * FROM mains;
SELECT line_number, severity, code, field, message FROM upflow.import_errors
 WHERE import_id = (SELECT max(import_id) FROM upflow.import);

-- At most one main contact per customer, always.
SELECT customer_id, count(*) FROM upflow.contact WHERE is_main GROUP BY customer_id HAVING count(*) > 1;
