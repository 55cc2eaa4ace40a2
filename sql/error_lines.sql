-- "Download lines with errors": the header and each failed line as
-- uploaded, in the file's separator, with an Error column; formula cells
-- neutralized; the fixed file imports cleanly.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture

-- Line 3: bad email; line 4: a formula in the position and a bad phone;
-- line 5 is fine (a warning is not an error); line 6: a stray quote and a
-- formula; lines 7-8: a quoted value over two lines and a bad flag; line
-- 9: a short line (the spreadsheet dropped its empty last cells), padded
-- in the download so that the Error column lines up.
\set file 'Customer name;Client ID;Email;Phone;Position;Main contact\r\nAlpha;C1;a@alpha.fr;;DAF;1\r\nAlpha;C1;b@alpha;;;\r\nAlpha;C1;c@alpha.fr;abc;"=HYPERLINK(""http://evil"")";\r\nAlpha;C1;d@alpha.fr;;;1\r\nAlpha;C1;"e@alpha.fr"x;;@SUM(1);\r\nAlpha;C1;f@alpha.fr;;"Line one\r\nline two";maybe\r\nAlpha;C1\r\n'

SELECT status, line_count, created_count, failed_count, warning_count
  FROM upflow.upflow_import(1, :'file');

-- The whole file, shown with visible line ends.
SELECT replace(upflow.error_lines_csv(1), E'\r\n', E'⏎\n') AS error_lines_csv;

-- Byte for byte: a byte order mark, CRLF line ends, the failed lines.
SELECT encode(convert_to(upflow.error_lines_csv(1), 'UTF8'), 'escape') AS bytes;

-- The user fixes the file (the Error column is recognized by nobody and
-- simply not imported) and imports it again.
SELECT status, line_count, created_count, updated_count, failed_count
  FROM upflow.upflow_import(1, replace(replace(replace(replace(replace(
	upflow.error_lines_csv(1), 'b@alpha', 'b@alpha.fr'), ';abc;', ';;'),
	'"""e@alpha.fr""x"', 'e@alpha.fr'), ';maybe;', ';0;'), E'Alpha;C1;;;;;', E'Alpha;C1;g@alpha.fr;;;;'));
SELECT email, phone, position, is_main FROM upflow.contact ORDER BY email;

-- Broken quotes and formulas smuggled through them: the download is still
-- valid CSV, exactly the header and one record per failed line, and no
-- cell starts like a formula.
SELECT status, line_count, failed_count
  FROM upflow.upflow_import(1, E'Customer;Client ID;Email\n"=cmd|'' /C calc''!A0";C9;bad1\n""=1+1;C9;bad2\nx";"=3+3";bad3\nAcme;C9;"open quote\nAcme;C9;bad5\n');
SELECT max(import_id) AS hostile FROM upflow.import \gset
SELECT replace(upflow.error_lines_csv(:hostile), E'\r\n', E'⏎\n') AS error_lines_csv;
SELECT count(*) - 1 AS failed_line_records,
	   count(*) FILTER (WHERE p.fields IS NULL) AS malformed_records,
	   count(*) FILTER (WHERE EXISTS (SELECT FROM unnest(p.fields) f WHERE f ~ '^[-=+@\t\r]')) AS formula_cells
  FROM upflow.parse_csv(upflow.error_lines_csv(:hostile), ';') p;

-- No failed line: the header alone.
SELECT replace(upflow.error_lines_csv(2), E'\r\n', E'⏎\n') AS nothing_failed;

-- An import that does not exist (or another organization's) is not found.
SELECT upflow.error_lines_csv(999);
