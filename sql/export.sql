-- export_contacts_csv writes the import format; importing it changes
-- nothing.  template_csv gives the headers.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture
INSERT INTO upflow.member (organization_id, email) VALUES (1, 'claire@acme-finance.fr');

SELECT replace(upflow.template_csv(), E'\r\n', E'⏎\n') AS template;
SELECT replace(upflow.template_csv('tab'), E'\r\n', E'⏎\n') = replace(replace(upflow.template_csv(), ';', E'\t'), E'\r\n', E'⏎\n') AS tab_template;

SELECT status, created_count, failed_count FROM upflow.upflow_import(1,
E'Customer name;Client ID (External Id);Contact email address;First name;Family name;Phone number;Position;Main contact;Account manager email
"Dupont; Fils";C1;a@dupont.fr;Anne;"O\'Neil ""the boss""";+33 1 23 45 67 89;\'=Directrice;1;claire@acme-finance.fr
"Dupont; Fils";C1;b@dupont.fr;;;;"- adjointe\nfinance";0;
Zeta;C2;z@zeta.fr;Zoé;;;\'@accounts;;
');
SELECT email, family_name, phone, position FROM upflow.contact ORDER BY email;

SELECT replace(upflow.export_contacts_csv(1), E'\r\n', E'⏎\n') AS export;

-- Round trip: nothing changes, nothing is written.
CREATE TEMP TABLE before AS SELECT contact_id, xmin::text AS old_xmin FROM upflow.contact;
SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count, warning_count
  FROM upflow.upflow_import(1, upflow.export_contacts_csv(1));
SELECT count(*) AS rewritten FROM upflow.contact c JOIN before b USING (contact_id) WHERE c.xmin::text <> b.old_xmin;

-- In every separator.
SELECT d, i.status, i.unchanged_count, i.failed_count
  FROM unnest(ARRAY[',', '|', 'tab']) d,
	   LATERAL upflow.upflow_import(1, upflow.export_contacts_csv(1, d)) i;

SELECT upflow.export_contacts_csv(1, 'x');

-- Values the application wrote that an import cannot write: blanks around
-- them, a leading tab, a mark before a formula sign, decomposed accents.
-- The export carries them, the re-import cleans its cells, and keeps the
-- stored values with one warning each instead of changing them.
INSERT INTO upflow.contact (organization_id, customer_id, email, first_name, family_name, phone, position)
SELECT 1, customer_id, 'app@zeta.fr', '  Zoé ', E'\tMartin', ' +33 1 00 00 00 00', ' =1+1'
  FROM upflow.customer WHERE external_id = 'C2';
UPDATE upflow.contact SET first_name = 'Ze' || U&'\0301' WHERE email = 'z@zeta.fr';
CREATE TEMP TABLE app_values AS
SELECT email, first_name, family_name, phone, position, xmin::text AS old_xmin FROM upflow.contact;
SELECT status, updated_count, unchanged_count, warning_count
  FROM upflow.upflow_import(1, upflow.export_contacts_csv(1));
SELECT line_number, code, field, message, hint
  FROM upflow.import_errors WHERE import_id = (SELECT max(import_id) FROM upflow.import);
SELECT count(*) AS changed
  FROM upflow.contact c JOIN app_values a USING (email)
 WHERE (c.first_name, c.family_name, c.phone, c.position, c.xmin::text)
	   IS DISTINCT FROM (a.first_name, a.family_name, a.phone, a.position, a.old_xmin);
-- A real change of such a contact is written as usual.
SELECT status, updated_count, warning_count
  FROM upflow.upflow_import(1, E'Customer name;Client ID;Email;First name;Position\nZeta;C2;app@zeta.fr;Zoé;CFO\n');
SELECT first_name, position FROM upflow.contact WHERE email = 'app@zeta.fr';
