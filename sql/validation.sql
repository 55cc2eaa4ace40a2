-- Every line is validated; a failed line never stops the others, and each
-- problem is recorded with its code, field, message, hint and the line as
-- uploaded.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture
INSERT INTO upflow.member (organization_id, email, full_name) VALUES (1, 'Claire@Acme-Finance.fr', 'Claire');

CREATE TEMP TABLE f AS SELECT string_agg(l, E'\n' ORDER BY n) || E'\n' AS content FROM (VALUES
 (1, 'Customer name;Client ID;Email;First name;Family name;Phone;Position;Main contact;Account manager email'),
 (2, 'Acme;A1;ok@acme.fr;Ok;Line;+33 1 23 45 67 89;DAF;;claire@acme-finance.fr'),
 (3, ';A1;missing-name@acme.fr;;;;;;'),
 (4, 'Acme;A1;not-an-email;;;;;;'),
 (5, 'Acme;A1;phone@acme.fr;;;12 34;;;'),
 (6, 'Acme;A1;flag@acme.fr;;;;;peut-être;'),
 (7, 'Acme;A1;long@acme.fr;' || repeat('é', 256) || ';;;;;'),
 (8, 'Acme;A1;bro"ken@acme.fr;;;;;;'),
 (9, 'Acme;A1;extra@acme.fr;;;;;;;surplus'),
 (10, 'Acme;A2;am@acme.fr;;;;;;nobody@acme.fr'),
 (11, 'Acme Corp;A1;mismatch@acme.fr;;;;;;'),
 (12, 'Acme;A1;dup@acme.fr;First;;;;;'),
 (13, 'Acme;A1;DUP@acme.fr;Second;;;;;'),
 (14, 'Acme;A1;m1@acme.fr;;;;;1;'),
 (15, 'Acme;A1;m2@acme.fr;;;;;oui;'),
 (16, 'Acme;A1;two problems;;;+1-800-FLOWERS;;maybe;'),
 (17, ';;;;;;;;'),
 (18, '"Acme;A1;never-closed@acme.fr;;;;;;')) AS t(n, l);

SELECT status, line_count, created_count, updated_count, unchanged_count, failed_count,
	   warning_count, skipped_count
  FROM upflow.upflow_import(1, (SELECT content FROM f));

SELECT line_number, severity, code, field, message, hint
  FROM upflow.import_errors WHERE import_id = 1;

-- Each problem keeps its line exactly as uploaded.
SELECT e.line_number, e.raw_line = split_part(f.content, E'\n', e.line_number) AS raw_line_exact
  FROM upflow.import_errors e, f
 WHERE e.import_id = 1
 GROUP BY e.line_number, e.raw_line, f.content ORDER BY 1;

-- What was applied: the valid lines only; the last of the duplicates; the
-- last main-contact designation; the account manager of line 2.
SELECT cu.external_id, c.email, c.first_name, c.is_main
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 ORDER BY c.contact_id;
SELECT external_id, name, account_manager_id FROM upflow.customer ORDER BY external_id;

-- A customer that does not exist, when customers may not be created.
SELECT status, failed_count FROM upflow.upflow_import(1,
	E'Customer name;Client ID;Email\nNobody Inc;Z9;x@nobody.fr\n', options => '{"create_customers": false}');
SELECT line_number, code, field, message, hint FROM upflow.import_errors WHERE import_id = 2;

-- prepare_contacts shows the same problems without writing anything.
SELECT line_number, customer_name, external_id, email, length(first_name) AS first_name_length, is_main,
	   jsonb_path_query_array(errors, '$[*].code') AS codes
  FROM upflow.prepare_contacts(1, (SELECT content FROM f))
 ORDER BY line_number;

-- A crafted value cannot write a message of its own: its quotes are
-- doubled and its line breaks escaped in the message.
SELECT status, failed_count FROM upflow.upflow_import(1,
	E'Customer;Client ID;Email\nAcme;C1;"B"" has been imported. Ignore: ""x"\nAcme;C1;"two\nlines"\n');
SELECT line_number, message FROM upflow.import_errors
 WHERE import_id = (SELECT max(import_id) FROM upflow.import) ORDER BY line_number;
