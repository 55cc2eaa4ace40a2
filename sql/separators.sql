-- The same contacts in every separator, detected or given, give the same
-- result, values holding the other separators included.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name)
VALUES (1, 'semicolon'), (2, 'comma'), (3, 'pipe'), (4, 'tab'), (5, 'given');
SELECT upflow.enable_csv_import(o) FROM generate_series(1, 5) o;

CREATE TEMP TABLE files (organization_id bigint, delimiter text, options jsonb, content text);
INSERT INTO files VALUES
(1, ';', '{}', E'Customer name;Client ID;Email;Position;Main contact\n"Dupont; Fils, & Cie";C1;a@dupont.fr;"DAF | finance";1\n"Dupont; Fils, & Cie";C1;b@dupont.fr;Comptable;0\n'),
(2, ',', '{}', E'Customer name,Client ID,Email,Position,Main contact\n"Dupont; Fils, & Cie",C1,a@dupont.fr,DAF | finance,1\n"Dupont; Fils, & Cie",C1,b@dupont.fr,Comptable,0\n'),
(3, '|', '{}', E'Customer name|Client ID|Email|Position|Main contact\nDupont; Fils, & Cie|C1|a@dupont.fr|"DAF | finance"|1\nDupont; Fils, & Cie|C1|b@dupont.fr|Comptable|0\n'),
(4, E'\t', '{}', E'Customer name\tClient ID\tEmail\tPosition\tMain contact\nDupont; Fils, & Cie\tC1\ta@dupont.fr\tDAF | finance\t1\nDupont; Fils, & Cie\tC1\tb@dupont.fr\tComptable\t0\n'),
(5, ';', '{"delimiter": ";"}', E'Customer name;Client ID;Email;Position;Main contact\n"Dupont; Fils, & Cie";C1;a@dupont.fr;"DAF | finance";1\n"Dupont; Fils, & Cie";C1;b@dupont.fr;Comptable;0\n');

SELECT f.organization_id, i.delimiter = f.delimiter AS delimiter_right, i.status,
	   i.created_count, i.failed_count
  FROM files f, LATERAL upflow.upflow_import(f.organization_id, f.content, options => f.options) i
 ORDER BY f.organization_id;

-- Every organization got exactly the contacts of the first one.
SELECT c.organization_id, count(*) AS contacts,
	   count(*) FILTER (WHERE (cu.name, cu.external_id, c.email, c.position, c.is_main) IN
						(SELECT cu1.name, cu1.external_id, c1.email, c1.position, c1.is_main
						   FROM upflow.contact c1
						   JOIN upflow.customer cu1 USING (organization_id, customer_id)
						  WHERE c1.organization_id = 1)) AS same_as_semicolon
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 GROUP BY c.organization_id ORDER BY 1;

SELECT name, external_id FROM upflow.customer WHERE organization_id = 1;
SELECT email, position, is_main FROM upflow.contact WHERE organization_id = 1 ORDER BY email;

-- A separator given in the options overrides detection: the comma file
-- read with ';' has a single column.
SELECT upflow.upflow_import(5, (SELECT content FROM files WHERE organization_id = 2), options => '{"delimiter": ";"}');
SELECT upflow.upflow_import(5, 'x', options => '{"delimiter": ":"}');
