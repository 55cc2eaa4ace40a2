/*
 * src/sql/prepare.sql -- file reading and preparation: decoding, mapping,
 * validation, progress (C: src/decode.c, src/prepare.c).
 */

CREATE OR REPLACE FUNCTION upflow.decode_file(file bytea, encoding text DEFAULT 'auto',
								   OUT content text, OUT detected_encoding text)
AS 'MODULE_PATHNAME', 'upflow_decode_file'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION upflow.decode_file(bytea, text) IS
'An uploaded file''s bytes as text: UTF-8 (with or without BOM), UTF-16 by BOM, else Windows-1252, or the named encoding';

-- An upload's bytes as text, after checking that the caller may import
-- into the organization (so that nothing is decoded for a refused caller).
CREATE OR REPLACE FUNCTION upflow.decode_upload(organization_id bigint, file bytea, options jsonb,
												OUT content text, OUT detected_encoding text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	PERFORM upflow.organization_for_import(decode_upload.organization_id, true);
	SELECT d.content, d.detected_encoding INTO decode_upload.content, decode_upload.detected_encoding
	  FROM upflow.decode_file(decode_upload.file, coalesce(decode_upload.options->>'encoding', 'auto')) d;
END
$function$;

REVOKE ALL ON FUNCTION upflow.decode_upload(bigint, bytea, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.decode_upload(bigint, bytea, jsonb) IS
'An upload decoded to text (option encoding), for a caller that may import into the organization';

CREATE OR REPLACE FUNCTION upflow.field_label(field text, mapping jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'upflow_field_label'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION upflow.field_label(text, jsonb) IS
'How messages name a field ("Main contact", "Contact principal" when the mapping''s headers are French), with the column''s header when it differs; NULL for a name that is not a field';

CREATE OR REPLACE FUNCTION upflow.detect_mapping(content text, mapping jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'upflow_detect_mapping'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION upflow.detect_mapping(text, jsonb, jsonb) IS
'The separator, headers and field mapping an import of this file would use, or the mapping error it would raise';

CREATE OR REPLACE FUNCTION upflow.prepare_contacts(organization_id bigint, content text,
										mapping jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS TABLE (line_number integer, customer_name text, external_id text, email text,
			   first_name text, family_name text, phone text, "position" text,
			   is_main boolean, account_manager_email text, errors jsonb, raw_line text)
AS 'MODULE_PATHNAME', 'upflow_prepare_contacts'
LANGUAGE C STABLE;

COMMENT ON FUNCTION upflow.prepare_contacts(bigint, text, jsonb, jsonb) IS
'Every data line of a contacts file, mapped, cleaned and validated, with the in-file main-contact rule applied; writes nothing';

CREATE OR REPLACE FUNCTION upflow.start_import_progress(bytes_total bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'upflow_start_import_progress'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION upflow.start_import_progress(bigint) FROM PUBLIC;

COMMENT ON FUNCTION upflow.start_import_progress(bigint) IS
'Start reporting this backend''s import in pg_stat_progress_copy (bytes, then lines)';

CREATE OR REPLACE FUNCTION upflow.end_import_progress()
RETURNS void
AS 'MODULE_PATHNAME', 'upflow_end_import_progress'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION upflow.end_import_progress() FROM PUBLIC;

COMMENT ON FUNCTION upflow.end_import_progress() IS
'Stop reporting this backend''s import in pg_stat_progress_copy';

CREATE OR REPLACE FUNCTION upflow.prepare_import_lines(organization_id bigint, content text,
											mapping jsonb, options jsonb)
RETURNS TABLE (line_number integer, customer_name text, external_id text, email text,
			   first_name text, family_name text, phone text, "position" text,
			   is_main boolean, account_manager_email text, errors jsonb, raw_line text,
			   failed boolean, supersedes boolean)
AS 'MODULE_PATHNAME', 'upflow_prepare_contacts'
LANGUAGE C STABLE
ROWS 100000;

REVOKE ALL ON FUNCTION upflow.prepare_import_lines(bigint, text, jsonb, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.prepare_import_lines(bigint, text, jsonb, jsonb) IS
'prepare_contacts for the import itself: also whether each line failed validation and whether an earlier valid line names the same contact';

CREATE OR REPLACE FUNCTION upflow.prepare_changed_lines(organization_id bigint, content text,
											 mapping jsonb, options jsonb)
RETURNS TABLE (line_number integer, customer_name text, external_id text, email text,
			   first_name text, family_name text, phone text, "position" text,
			   is_main boolean, account_manager_email text, errors jsonb, raw_line text,
			   failed boolean, supersedes boolean, first_of_customer boolean)
AS 'MODULE_PATHNAME', 'upflow_prepare_changed_lines'
LANGUAGE C STABLE
ROWS 100000;

REVOKE ALL ON FUNCTION upflow.prepare_changed_lines(bigint, text, jsonb, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.prepare_changed_lines(bigint, text, jsonb, jsonb) IS
'prepare_import_lines without the lines that would change nothing (valid, without problems, contact stored with the same values, named by no other line), and whether each line is the first valid line of its customer; upflow.unchanged_line_count() counts the lines left out';

CREATE OR REPLACE FUNCTION upflow.unchanged_line_count()
RETURNS bigint
AS 'MODULE_PATHNAME', 'upflow_unchanged_line_count'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

REVOKE ALL ON FUNCTION upflow.unchanged_line_count() FROM PUBLIC;

COMMENT ON FUNCTION upflow.unchanged_line_count() IS
'How many lines the last upflow.prepare_changed_lines call of this session left out as unchanged';

-- (Executable by every role: it tells a session about its own last file.)
CREATE OR REPLACE FUNCTION upflow.report_footer()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'upflow_report_footer'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION upflow.report_footer() IS
'The report footer ("Grand Totals", "Confidential Information", ...) the last preparation of this session skipped: {first_line, last_line, lines, text}, or NULL';
