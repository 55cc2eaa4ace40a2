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
