-- upflow.detect_delimiter: the separator that splits the first records
-- consistently into the most fields.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

SELECT upflow.detect_delimiter(E'a;b;c\n1;2;3\n') AS semicolon,
	   upflow.detect_delimiter(E'a,b,c\n1,2,3\n') AS comma,
	   upflow.detect_delimiter(E'a|b|c\n1|2|3\n') AS pipe,
	   upflow.detect_delimiter(E'a\tb\tc\n1\t2\t3\n') = E'\t' AS tab;

-- Values holding the other separators inside quotes do not mislead it.
SELECT upflow.detect_delimiter(E'name,note\n"Dupont; Fils","a;b;c"\n"x;y",z\n') AS comma_with_quoted_semicolons,
	   upflow.detect_delimiter(E'name;note\n"Dupont, Fils";"1,2,3"\n"x,y";z\n') AS semicolon_with_quoted_commas,
	   upflow.detect_delimiter(E'a|b\n"x;y,z"|"1;2"\n') AS pipe_with_quoted_others,
	   upflow.detect_delimiter(E'a\tb\n"x;y|z"\t"1,2"\n') = E'\t' AS tab_with_quoted_others;

-- French decimal commas in a semicolon file: ';' gives more fields.
SELECT upflow.detect_delimiter(E'Client;Montant;Taux\nA;12,5;0,2\nB;7,25;1,5\n') AS decimal_commas;

-- CRLF and CR line ends, a byte order mark, and Excel's "sep=" line.
SELECT upflow.detect_delimiter(E'a;b\r\n1;2\r\n') AS crlf,
	   upflow.detect_delimiter(E'a|b\r1|2\r') AS cr,
	   upflow.detect_delimiter(convert_from('\xefbbbf'::bytea, 'UTF8') || E'a,b\n1,2\n') AS bom,
	   upflow.detect_delimiter(E'sep=|\na;b;c\n1;2;3\n') AS sep_line;

-- Nothing splits a single column: the RFC 4180 default.
SELECT upflow.detect_delimiter(E'email\na@b.fr\n') AS single_column,
	   upflow.detect_delimiter('') AS empty;

-- The example file.
\set contacts `cat examples/contacts.csv`
SELECT upflow.detect_delimiter(:'contacts') AS example;
