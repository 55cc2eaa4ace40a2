-- Hostile and broken files: each has an exact outcome (an error with its
-- code and line, or the stored value); nothing crashes, nothing is
-- truncated silently, every rejected line is kept byte-exact.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme');
SELECT upflow.enable_csv_import(1);
CREATE FUNCTION problems(p_import bigint)
RETURNS TABLE (line_number integer, code text, raw_bytes integer, raw_line text)
LANGUAGE sql AS $$
	SELECT line_number, code, octet_length(raw_line), left(raw_line, 60)
	  FROM upflow.import_errors WHERE import_id = p_import
$$;
\set h 'Customer name;Client ID;Email;First name'

-- An unterminated quote at the end of the file: that line fails.
SELECT status, line_count, created_count, failed_count
  FROM upflow.upflow_import(1, :'h' || E'\nAcme;C1;a@acme.fr;Anne\nAcme;C1;"b@acme.fr;Bob\n');
SELECT * FROM problems(1);

-- Text after a closing quote: "abc"def.
SELECT status, failed_count FROM upflow.upflow_import(1, :'h' || E'\n"abc"def;C1;c@acme.fr;Cy\n');
SELECT * FROM problems(2);

-- ,,"""",, is five fields, the third a lone quote.
SELECT fields, cardinality(fields) FROM upflow.parse_csv(',,"""",,', ',');

-- NUL bytes, unquoted and quoted, in an upload: refused with the line.
SELECT upflow.upflow_import(1, pg_read_binary_file(:'data' || 'nul-byte.csv'));
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, pg_read_binary_file(:'data' || 'nul-byte-quoted.csv'));
\echo :LAST_ERROR_SQLSTATE

-- Invalid UTF-8 declared as UTF-8: overlong, lone continuation byte,
-- surrogate, truncated at the end of the file.
SELECT upflow.upflow_import(1, convert_to(:'h' || E'\nAcme;C1;f@acme.fr;', 'UTF8') || '\xc0af0a'::bytea, options => '{"encoding": "UTF8"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, convert_to(:'h' || E'\n\nAcme;C1;f@acme.fr;', 'UTF8') || '\x800a'::bytea, options => '{"encoding": "UTF8"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, convert_to(:'h' || E'\nAcme;C1;f@acme.fr;', 'UTF8') || '\xeda0800a'::bytea, options => '{"encoding": "UTF8"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, convert_to(:'h' || E'\nAcme;C1;f@acme.fr;x\r\nAcme;C1;g@acme.fr;', 'UTF8') || '\xe282'::bytea, options => '{"encoding": "UTF8"}');
\echo :LAST_ERROR_SQLSTATE
-- Without a declared encoding, bytes that are not UTF-8 are read as
-- Windows-1252: the stored value shows exactly how.
SELECT status, encoding FROM upflow.upflow_import(1, convert_to(:'h' || E'\nAcme;C1;f@acme.fr;', 'UTF8') || '\xc0af0a'::bytea);
SELECT first_name FROM upflow.contact WHERE email = 'f@acme.fr';

-- A Latin-1 file declared UTF-8.
SELECT upflow.upflow_import(1, convert_to(:'h' || E'\nSociété;C2;h@acme.fr;Hélène\n', 'LATIN1'), options => '{"encoding": "UTF8"}');
\echo :LAST_ERROR_SQLSTATE

-- UTF-16 without byte order mark: the NUL bytes give it away; with the
-- encoding named it imports.
CREATE TEMP TABLE utf16 AS SELECT pg_read_binary_file(:'data' || 'utf16le-no-bom.csv') AS bytes;
SELECT upflow.upflow_import(1, (SELECT bytes FROM utf16));
\echo :LAST_ERROR_SQLSTATE
SELECT status, encoding, created_count FROM upflow.upflow_import(1, (SELECT bytes FROM utf16), options => '{"encoding": "UTF-16LE"}');

-- A 100 MB single field: the line fails (over max_field_size), kept whole.
SELECT status, line_count, created_count, failed_count FROM upflow.upflow_import(1,
	:'h' || E'\n' || repeat('x', 100 * 1024 * 1024) || E';C4;i@acme.fr;Ivy\nAcme;C4;j@acme.fr;Jo\n');
SELECT line_number, code, octet_length(raw_line) = 100 * 1024 * 1024 + 17 AS whole_line_kept,
	   raw_line = repeat('x', 100 * 1024 * 1024) || ';C4;i@acme.fr;Ivy' AS byte_exact
  FROM upflow.import_errors WHERE import_id = (SELECT max(import_id) FROM upflow.import);

-- Ten million empty lines, then one contact: skipped fast, line numbers right.
SELECT count(*) AS records, max(line_number) AS last_line
  FROM upflow.parse_csv(:'h' || repeat(E'\n', 10000000) || E'Acme;C5;k@acme.fr;Kim\n');
SELECT status, line_count, created_count FROM upflow.upflow_import(1,
	:'h' || repeat(E'\n', 10000000) || E'Acme;C5;k@acme.fr;Kim\n');

-- Headers with duplicate or empty names.
SELECT upflow.upflow_import(1, E'Customer name;Client ID;Email;Email\nAcme;C6;l@acme.fr;m@acme.fr\n');
SELECT upflow.upflow_import(1, E'Customer name;Client ID;Email;Email\nAcme;C6;l@acme.fr;m@acme.fr\n', '{"email": "Email"}');
SELECT status, created_count, mapping->>'email' AS email_column FROM upflow.upflow_import(1,
	E'Customer name;Client ID;Email;Email\nAcme;C6;l@acme.fr;m@acme.fr\n', '{"email": 4}');
SELECT status, created_count FROM upflow.upflow_import(1, E'Customer name;;Client ID;;Email;\nAcme;;C7;;n@acme.fr;\n');

-- A line with 10,000 fields.
SELECT status, failed_count FROM upflow.upflow_import(1, :'h' || E'\nAcme;C8;o@acme.fr;Olga' || repeat(';z', 9996) || E'\n');
SELECT line_number, code, raw_bytes, left(message, 60) AS message
  FROM problems((SELECT max(import_id) FROM upflow.import)) p
  JOIN upflow.import_errors e USING (line_number, code)
 WHERE e.import_id = (SELECT max(import_id) FROM upflow.import);

-- \. \N and \D are plain data (no COPY escapes here).
SELECT status, created_count FROM upflow.upflow_import(1, :'h' || E'\nAcme;C9;p@acme.fr;\\.\nAcme;C9;q@acme.fr;\\N\nAcme;C9;r@acme.fr;\\D\n');
SELECT email, first_name FROM upflow.contact WHERE email IN ('p@acme.fr', 'q@acme.fr', 'r@acme.fr') ORDER BY email;

-- An email of 10,000 characters.
SELECT status, failed_count FROM upflow.upflow_import(1, :'h' || E'\nAcme;C10;' || repeat('s', 9990) || E'@acme.fr;Sam\n');
SELECT line_number, code, raw_bytes FROM problems((SELECT max(import_id) FROM upflow.import));

-- Formula payloads in every column: neutralized in the error download and
-- in the export (and the export still imports unchanged).
CREATE TEMP TABLE hostile AS SELECT
	E'Customer name;Client ID;Email;First name;Family name;Phone;Position;Main contact\n"=HYPERLINK(""http://x"")";+C11;=t@acme.fr;-Anne;@Martin;+33 1 23 45 67 89;＝SUM(1);1\n"=HYPERLINK(""http://x"")";+C11;-u@acme.fr;+Bob;-Dylan;+33 1 23 45 67 89;@cmd;=maybe\n' AS content;
SELECT status, created_count, failed_count FROM upflow.upflow_import(1, (SELECT content FROM hostile));
SELECT replace(upflow.error_lines_csv((SELECT max(import_id) FROM upflow.import)), E'\r\n', E'⏎\n') AS error_lines;
SELECT line FROM regexp_split_to_table(upflow.export_contacts_csv(1), E'\r\n') AS line WHERE line LIKE '%C11%';
SELECT status, unchanged_count, updated_count, failed_count FROM upflow.upflow_import(1, upflow.export_contacts_csv(1));
-- Values an import cannot store (a leading tab or CR) but another writer
-- did are neutralized too; re-importing them trims the blanks.
UPDATE upflow.contact SET position = E'\tTab', family_name = E'\rCR' WHERE email = '=t@acme.fr';
SELECT replace(line, E'\t', '<TAB>') AS line
  FROM regexp_split_to_table(upflow.export_contacts_csv(1), E'\r\n') AS line WHERE line LIKE '%C11%';

-- A file over upflow_import.max_file_size.
SET upflow_import.max_file_size = '1MB';
SELECT upflow.upflow_import(1, :'h' || repeat(E'\nAcme;C12;v@acme.fr;Val', 60000));
\echo :LAST_ERROR_SQLSTATE
RESET upflow_import.max_file_size;
