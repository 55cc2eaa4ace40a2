-- Unicode: headers match after NFKC (decomposed accents as macOS writes
-- them, full-width letters); values are stored in NFC, so the decomposed
-- and the composed form of one client ID are one customer; an invisible
-- format character (zero-width space, direction mark...) in a client ID
-- or an email is refused with invisible_character.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/acme.sql'
\i :fixture

-- (U& strings cannot hold \n: ~ stands for the line breaks.)
-- Decomposed accents (e + U+0301) and full-width letters in the headers.
SELECT upflow.detect_mapping(translate(U&'Socie\0301te\0301;Identifiant client;\FF25\FF4D\FF41\FF49\FF4C;Pre\0301nom;Te\0301le\0301phone~', '~', E'\n'))->'mapping' AS mapping;

-- One customer whose client ID comes decomposed on one line, composed on
-- the other; a first name decomposed.
SELECT status, created_count, failed_count
  FROM upflow.upflow_import(1, translate(U&'Customer;Client ID;Email;First name~Cafe\0301;CAFE\0301-1;a@cafe.fr;Ame\0301lie~Café;CAFÉ-1;b@cafe.fr;Zoé~', '~', E'\n'));
SELECT external_id, external_id = normalize(external_id, NFC) AS nfc, length(external_id) AS characters
  FROM upflow.customer ORDER BY 1;
SELECT email, first_name, first_name = normalize(first_name, NFC) AS nfc
  FROM upflow.contact ORDER BY 1;

-- Invisible characters in keys and emails.
SELECT status, created_count, failed_count
  FROM upflow.upflow_import(1, translate(U&'Customer;Client ID;Email~Café;CAFÉ-1;c\200B@cafe.fr~Café;CAFÉ\202E-1;d@cafe.fr~Café;CAFÉ-1;e@cafe.fr~', '~', E'\n'));
SELECT line_number, code, field, message
  FROM upflow.import_errors WHERE import_id = 2 ORDER BY line_number;
-- In other fields they are text like any other.
SELECT status, updated_count
  FROM upflow.upflow_import(1, translate(U&'Customer;Client ID;Email;Position~Café;CAFÉ-1;e@cafe.fr;Chef\200Bde rang~', '~', E'\n'));

-- Values are NFC, not NFKC: the digraph U+01C4 (below U+0300, NFC as it
-- comes) is kept; Latin Extended text followed by combining accents is
-- composed ("Łódź" typed decomposed).
SELECT status, created_count
  FROM upflow.upflow_import(1, translate(U&'Customer;Client ID;Email;First name;Last name~Café;CAFÉ-1;f@cafe.fr;\01C4ulia;\0141o\0301dz\0301~', '~', E'\n'));
SELECT first_name, first_name = U&'\01C4ulia' AS kept, length(first_name) AS characters,
	   family_name, family_name = U&'\0141\00F3d\017A' AS composed
  FROM upflow.contact WHERE email = 'f@cafe.fr';
