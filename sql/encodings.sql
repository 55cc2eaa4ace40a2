-- A file uploaded as bytes: UTF-8 with or without byte order mark,
-- UTF-16 (by byte order mark) and Windows-1252 give the same contacts;
-- invalid bytes are refused with the line, never stored.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name)
SELECT g, 'org ' || g FROM generate_series(1, 8) g;
SELECT upflow.enable_csv_import(g) FROM generate_series(1, 8) g;

\set file 'Nom du client;Identifiant client;Courriel;Prénom;Poste\r\nSociété Générale d''Équipement;C1;anaïs@sge.fr;Anaïs;Responsable comptabilité – €\r\n'

-- The same file as each tool writes it (test/data/contacts-fr-*.csv).
CREATE TEMP TABLE uploads (organization_id bigint, label text, bytes bytea, options jsonb);
INSERT INTO uploads VALUES
 (1, 'UTF-8', pg_read_binary_file(:'data' || 'contacts-fr-utf8.csv'), '{}'),
 (2, 'UTF-8 with BOM', pg_read_binary_file(:'data' || 'contacts-fr-utf8-bom.csv'), '{}'),
 (3, 'UTF-16LE with BOM', pg_read_binary_file(:'data' || 'contacts-fr-utf16le-bom.csv'), '{}'),
 (4, 'UTF-16BE with BOM', pg_read_binary_file(:'data' || 'contacts-fr-utf16be-bom.csv'), '{}'),
 (5, 'Windows-1252 (auto)', pg_read_binary_file(:'data' || 'contacts-fr-win1252.csv'), '{}'),
 (6, 'Latin-9 (named)', pg_read_binary_file(:'data' || 'contacts-fr-latin9.csv'), '{"encoding": "LATIN9"}'),
 -- Excel for Mac's "CSV (Macintosh)": Mac OS Roman, CR line ends.
 (7, 'Mac Roman (auto)', pg_read_binary_file(:'data' || 'contacts-fr-macroman.csv'), '{}'),
 (8, 'Mac Roman (named)', pg_read_binary_file(:'data' || 'contacts-fr-macroman.csv'), '{"encoding": "MACROMAN"}');
-- The files hold this text.
SELECT label, convert_from(bytes, 'UTF8') = :'file' AS utf8_is_the_text
  FROM uploads WHERE organization_id = 1;

SELECT u.organization_id, u.label, i.encoding, i.status, i.created_count, i.failed_count
  FROM uploads u, LATERAL upflow.upflow_import(u.organization_id, u.bytes, options => u.options) i
 ORDER BY u.organization_id;

SELECT c.organization_id, cu.name, cu.external_id, c.email, c.first_name, c.position
  FROM upflow.contact c JOIN upflow.customer cu USING (organization_id, customer_id)
 ORDER BY c.organization_id;

-- The stored file is the decoded text, without byte order mark.
SELECT organization_id,
	   file_content = CASE WHEN organization_id = 6 THEN replace(:'file', '–', '-')
						   WHEN organization_id IN (7, 8) THEN replace(:'file', E'\r\n', E'\r')
						   ELSE :'file' END AS decoded_text
  FROM upflow.import ORDER BY 1;

-- decode_file on its own.
SELECT detected_encoding, content FROM upflow.decode_file(convert_to('Prénom', 'WIN1252'));
SELECT detected_encoding, content FROM upflow.decode_file('\xfffe50007200e9006e006f006d00'::bytea);

-- Invalid bytes are refused with their line; nothing is written.
\set SHOW_CONTEXT never
SELECT upflow.upflow_import(1, convert_to(E'a;b;c\nd;e;f\n', 'UTF8') || '\xe9'::bytea, options => '{"encoding": "UTF8"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, '\x613b623b630a64006566'::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, '\x613b620a810a'::bytea, options => '{"encoding": "WIN1252"}');
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, '\xfffe4100'::bytea || '\x00d8'::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT upflow.upflow_import(1, '\x61'::bytea, options => '{"encoding": "EBCDIC"}');
\echo :LAST_ERROR_SQLSTATE

SELECT count(*) AS imports FROM upflow.import;
