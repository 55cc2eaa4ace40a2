-- A hostile schema early in the caller's search_path: functions and
-- operators named like those the extension uses are never called (every
-- function pins search_path to pg_catalog, pg_temp, or is resolved when
-- it is created).
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/test/fixtures/new_extension.sql'
\i :fixture

INSERT INTO upflow.organization (organization_id, name) VALUES (1, 'Acme');
SELECT upflow.enable_csv_import(1);
INSERT INTO upflow.member (organization_id, member_id, email) VALUES (1, 1, 'claire@acme.fr');

CREATE SCHEMA evil;
CREATE TABLE evil.calls (name text);
-- Each trap records its call and then behaves like the real thing, so a
-- capture would show in evil.calls without breaking the import.
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('lower'); SELECT pg_catalog.lower($1) $$;
CREATE FUNCTION evil.upper(text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('upper'); SELECT pg_catalog.upper($1) $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('now'); SELECT pg_catalog.now() $$;
CREATE FUNCTION evil.replace(text, text, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('replace'); SELECT pg_catalog.replace($1, $2, $3) $$;
CREATE FUNCTION evil.encode(bytea, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('encode'); SELECT pg_catalog.encode($1, $2) $$;
CREATE FUNCTION evil.sha256(bytea) RETURNS bytea LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('sha256'); SELECT pg_catalog.sha256($1) $$;
CREATE FUNCTION evil.convert_to(text, name) RETURNS bytea LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('convert_to'); SELECT pg_catalog.convert_to($1, $2) $$;
CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('current_setting'); SELECT '1' $$;
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('set_config'); SELECT pg_catalog.set_config($1, $2, $3) $$;
CREATE FUNCTION evil.pg_notify(text, text) RETURNS void LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('pg_notify') $$;
CREATE FUNCTION evil.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('jsonb_array_elements'); SELECT * FROM pg_catalog.jsonb_array_elements($1) $$;
CREATE FUNCTION evil.array_remove(anyarray, anyelement) RETURNS anyarray LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('array_remove'); SELECT pg_catalog.array_remove($1, $2) $$;
CREATE FUNCTION evil.to_regclass(text) RETURNS regclass LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('to_regclass'); SELECT pg_catalog.to_regclass($1) $$;
CREATE FUNCTION evil.octet_length(text) RETURNS integer LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('octet_length'); SELECT pg_catalog.octet_length($1) $$;
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('= on text'); SELECT pg_catalog.texteq($1, $2) $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
CREATE FUNCTION evil.int8eq(bigint, bigint) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('= on bigint'); SELECT pg_catalog.int8eq($1, $2) $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8eq);
CREATE FUNCTION evil.textcat(text, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('|| on text'); SELECT pg_catalog.textcat($1, $2) $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.textcat);

-- The traps work when the caller's own SQL uses these names: with
-- pg_catalog placed after evil, evil's functions and operators win.
SET search_path = evil, pg_catalog, public;
SELECT lower('X') = 'x' AS trap_armed, 1::bigint = 1::bigint AS operator_armed;
SELECT count(*) > 0 AS trap_recorded FROM evil.calls;
TRUNCATE evil.calls;

-- Every entry point of the extension, with the hostile search_path.
SELECT status, created_count, failed_count FROM upflow.upflow_import(1,
	E'Customer;Client ID;Email;Main contact\nAcme;A1;A@acme.fr;1\nAcme;A1;bad;x\n', submitted_by => 1);
SELECT status FROM upflow.upflow_import(1, pg_catalog.convert_to(E'Customer;Client ID;Email\nAcme;A1;b@acme.fr\n', 'WIN1252'));
SELECT count(*) FROM upflow.preview_import(1, E'Customer;Client ID;Email\nAcme;A1;c@acme.fr\n');
SELECT count(*) FROM upflow.prepare_contacts(1, E'Customer;Client ID;Email\nAcme;A1;c@acme.fr\n');
SELECT count(*) FROM upflow.parse_csv(E'a;b\n1;2\n');
SELECT upflow.detect_delimiter(E'a;b\n1;2\n');
SELECT upflow.detect_mapping(E'Customer;Client ID;Email\n') IS NOT NULL AS mapped;
SELECT pg_catalog.length(upflow.error_lines_csv(1)) > 0 AS error_lines;
SELECT pg_catalog.length(upflow.export_contacts_csv(1)) > 0 AS exported;
SELECT pg_catalog.length(upflow.template_csv()) > 0 AS template;
SELECT upflow.submit_import(1, E'Customer;Client ID;Email\nAcme;A2;d@acme.fr\n') IS NOT NULL AS submitted;
SELECT upflow.run_pending_imports() AS ran;
SELECT upflow.cancel_import(1) AS cancelled;
SELECT upflow.purge_import_history(interval '1 day') AS purged;
SELECT upflow.enable_csv_import(1);
SELECT count(*) FROM upflow.import_history;
SELECT count(*) FROM upflow.import_errors;

-- Not one trap was sprung.
SELECT name, count(*) FROM evil.calls GROUP BY name ORDER BY name;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
RESET client_min_messages;
