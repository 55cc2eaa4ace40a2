-- upflow.parse_csv: records, physical line numbers, quoting, line ends,
-- malformed records, limits.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

-- Every record, header included, with the line it starts on.
SELECT * FROM upflow.parse_csv(E'a;b;c\n1;2;3\n');

-- Separators and doubled quotes inside quotes; a quoted field over two
-- lines; blank lines; last line without a line break.
SELECT line_number, fields
  FROM upflow.parse_csv(E'name;note\n"Dupont; Fils";"He said ""hi"""\n"multi\nline";x\n\n  \nlast;row', ';');

-- Unquoted fields are trimmed, quoted ones kept; empty fields, a
-- trailing separator, and an empty quoted field.
SELECT line_number, fields
  FROM upflow.parse_csv(E'  a  ; " b " ;;\n"";x;\n', ';');

-- The same file saved with LF, CRLF and CR gives the same records (the
-- line break inside the quoted field is kept as it is in the file).
WITH lf(content) AS (VALUES (E'h1,h2\n"a\nb",c\n\nd,e\nf,g\n')),
	 variants(ending, content) AS (
		SELECT 'LF', content FROM lf
		UNION ALL SELECT 'CRLF', replace(content, E'\n', E'\r\n') FROM lf
		UNION ALL SELECT 'CR', replace(content, E'\n', E'\r') FROM lf)
SELECT ending, line_number,
	   translate(array_to_string(fields, '|'), E'\r\n', '^$') AS fields
  FROM variants, upflow.parse_csv(content, ',')
 ORDER BY ending, line_number;

-- A UTF-8 byte order mark is not part of the first header.
SELECT fields[1], length(fields[1])
  FROM upflow.parse_csv(convert_from('\xefbbbf'::bytea, 'UTF8') || E'Nom du client;Prénom\nA;B', ';')
 WHERE line_number = 1;

-- Excel's "sep=" first line sets the separator; the header is then line 2.
SELECT * FROM upflow.parse_csv(E'sep=|\nx|y\n1|2\n');

-- Tab-separated, with spaces inside values.
SELECT * FROM upflow.parse_csv(E'first name\tlast name\nJean Paul\tLe Gall\n', 'tab');

-- Malformed records come back with NULL fields and a warning naming the
-- line; reading goes on at the next line.
SELECT * FROM upflow.parse_csv(E'a,b\n"abc"def,1\nok,2\nx"y,3\nlast,4\n', ',');
SELECT * FROM upflow.parse_csv(E'a,b\n1,2\nopen,"never closed\n');

-- Line 3 opens a quote that never closes, followed by 100,000 good lines:
-- line 3 is reported and every following line is read.
SELECT count(*) AS records,
	   count(*) FILTER (WHERE fields IS NULL) AS malformed,
	   min(line_number) FILTER (WHERE fields IS NULL) AS malformed_line,
	   max(line_number) AS last_line,
	   count(*) FILTER (WHERE fields[1] = 'row' || (line_number - 3)::text) AS good_rows_intact
  FROM upflow.parse_csv(E'h1;h2\nfirst;1\nbroken;"this quote never closes\n'
						|| (SELECT string_agg('row' || g || ';' || g, E'\n')
							  FROM generate_series(1, 100000) g) || E'\n', ';');

-- More than ten malformed records: ten warnings, then a summary.
SELECT count(*) FILTER (WHERE fields IS NULL) AS malformed, count(*) AS records
  FROM upflow.parse_csv(E'h,i\n' || repeat(E'a"b,c\n', 12) || E'good,row\n', ',');

-- The field-size cap: a field over upflow_import.max_field_size is a
-- malformed record, the next line is read.
SET upflow_import.max_field_size = '1kB';
SELECT line_number, fields IS NULL AS malformed, length(fields[1])
  FROM upflow.parse_csv(E'h,i\n' || repeat('x', 1024) || E',ok\n' || repeat('y', 1025) || E',too long\nz,next\n', ',');
RESET upflow_import.max_field_size;

-- The file-size cap.
SET upflow_import.max_file_size = '1kB';
SELECT count(*) FROM upflow.parse_csv(repeat(E'a;b\n', 300));
RESET upflow_import.max_file_size;

-- Separator argument: names and characters are accepted, others refused.
SELECT fields FROM upflow.parse_csv('a|b', 'pipe');
SELECT fields FROM upflow.parse_csv('a,b', 'comma');
SELECT fields FROM upflow.parse_csv('a;b', 'semicolon');
SELECT fields FROM upflow.parse_csv('a:b', ':');

-- NULL and empty input give no records.
SELECT count(*) FROM upflow.parse_csv(NULL);
SELECT count(*) FROM upflow.parse_csv('');
SELECT count(*) FROM upflow.parse_csv(E'\n\n  \n');

-- The example file of the README: CRLF line ends, accents, quoted
-- separators, a multi-line position and one broken quote (line 8).
\set contacts `cat examples/contacts.csv`
SELECT line_number, array_length(fields, 1) AS nfields, fields[1] AS customer, fields[3] AS email
  FROM upflow.parse_csv(:'contacts');
