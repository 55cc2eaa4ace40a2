/*
 * src/sql/history.sql -- history, errors and export: the views a user
 * reads, the error-lines download, the template and the contacts export,
 * purging.
 */

CREATE OR REPLACE VIEW upflow.import_history WITH (security_invoker = true) AS
	SELECT organization_id, import_id, status, file_name, encoding, delimiter,
		   file_sha256, mapping, options, submitted_by, submitted_at,
		   started_at, finished_at, line_count, created_count, updated_count,
		   unchanged_count, failed_count, warning_count, skipped_count, error,
		   saved_mapping, reverts_import_id, deleted_count
	  FROM upflow.import
	 ORDER BY submitted_at DESC, import_id DESC;

CREATE OR REPLACE VIEW upflow.import_errors WITH (security_invoker = true) AS
	SELECT organization_id, import_id, line_number, severity, code, field,
		   message, hint, raw_line
	  FROM upflow.import_error
	 ORDER BY organization_id, import_id, line_number NULLS FIRST, import_error_id;

COMMENT ON VIEW upflow.import_history IS 'Imports, newest first, without the file content';
COMMENT ON VIEW upflow.import_errors IS 'Problems of imports, in file order (import-level warnings first)';

-- The header line of a stored file, without byte order mark or "sep=" line.
CREATE OR REPLACE FUNCTION upflow.file_header_line(content text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN substring(regexp_replace(ltrim(content, U&'\FEFF'), '^sep=[^\r\n](\r\n|\r|\n)', '')
				 FROM '^[^\r\n]*');

COMMENT ON FUNCTION upflow.file_header_line(text) IS
'The first line of a CSV text, without byte order mark or Excel "sep=" line';

-- The header line of a stored file: its first line but a "sep=" line,
-- blank lines and title rows (at most 10 lines of several cells holding
-- only their first), as the reader finds it.
CREATE OR REPLACE FUNCTION upflow.file_header_line(content text, delimiter text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	head constant text := regexp_replace(ltrim(left(content, 65536), U&'\FEFF'),
										 '^sep=[^\r\n](\r\n|\r|\n)', '');
	line text;
	titles integer := 0;
	first_line text;
BEGIN
	FOR line IN SELECT l FROM regexp_split_to_table(head, '\r\n|\r|\n') l LOOP
		first_line := coalesce(first_line, line);
		CONTINUE WHEN line = '';
		EXIT WHEN titles = 10
			OR NOT EXISTS (SELECT FROM upflow.parse_csv(line, delimiter) p
							WHERE cardinality(p.fields) >= 2)
			OR EXISTS (SELECT FROM upflow.parse_csv(line, delimiter) p,
								   unnest(p.fields[2:]) f
						WHERE btrim(f, E' \t\u00a0') <> '');
		titles := titles + 1;
		line := NULL;
	END LOOP;
	RETURN coalesce(nullif(line, ''), first_line);
END
$function$;

COMMENT ON FUNCTION upflow.file_header_line(text, text) IS
'The header line of a CSV text: the first line but a "sep=" line, blank lines and title rows above the header';

CREATE OR REPLACE FUNCTION upflow.error_lines_csv(import_id bigint)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	org constant bigint := upflow.import_organization(error_lines_csv.import_id);
	imp record;
	delim text;
	header text;
	width integer;
	lines text;
BEGIN
	SELECT i.organization_id, i.file_content, i.delimiter, i.options
	  INTO imp
	  FROM upflow.import i
	 WHERE i.organization_id = org AND i.import_id = error_lines_csv.import_id;

	delim := coalesce(imp.delimiter, upflow.detect_delimiter(coalesce(imp.file_content, '')));

	IF coalesce((imp.options->>'header')::boolean, true) THEN
		header := upflow.file_header_line(coalesce(imp.file_content, ''), delim);
		SELECT least(cardinality(p.fields), 100000) INTO width FROM upflow.parse_csv(header, delim) p;
		header := upflow.csv_safe_line(header, delim) || delim || 'Error' || E'\r\n';
	END IF;

	SELECT string_agg(upflow.csv_safe_line(e.raw_line, delim, width) || delim
					  || upflow.csv_cell(e.messages, delim) || E'\r\n', '' ORDER BY e.line_number)
	  INTO lines
	  FROM (SELECT ie.line_number, min(ie.raw_line) AS raw_line,
				   string_agg(ie.message, ' ' ORDER BY ie.import_error_id) AS messages
			  FROM upflow.import_error ie
			 WHERE ie.organization_id = imp.organization_id
			   AND ie.import_id = error_lines_csv.import_id
			   AND ie.severity = 'error'
			 GROUP BY ie.line_number) e;

	-- A byte order mark, so that Excel reads the accents right.
	RETURN U&'\FEFF' || coalesce(header, '') || coalesce(lines, '');
END
$function$;

COMMENT ON FUNCTION upflow.error_lines_csv(bigint) IS
'"Download lines with errors": the header and every failed line as uploaded, with an Error column, safe to open in a spreadsheet';

-- The delimiter character for a delimiter argument (a character or a name).
CREATE OR REPLACE FUNCTION upflow.delimiter_char(delimiter text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	CASE lower(coalesce(delimiter, ';'))
		WHEN ';', 'semicolon' THEN RETURN ';';
		WHEN ',', 'comma' THEN RETURN ',';
		WHEN '|', 'pipe' THEN RETURN '|';
		WHEN E'\t', 'tab', '\t' THEN RETURN E'\t';
		ELSE
			RAISE EXCEPTION 'invalid delimiter "%"', delimiter
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A CSV separator is one of ; , | or a tab.',
					  HINT = 'Pass '';'', '','', ''|'' or ''tab''.';
	END CASE;
END
$function$;

COMMENT ON FUNCTION upflow.delimiter_char(text) IS
'The separator character for ; , | tab or their names semicolon, comma, pipe, tab';

CREATE OR REPLACE FUNCTION upflow.template_csv(delimiter text DEFAULT ';')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT U&'\FEFF' || array_to_string(ARRAY['Customer name', 'Client ID (External Id)',
											   'Contact email address', 'First name', 'Family name',
											   'Phone number', 'Position', 'Main contact',
											   'Account manager email'],
										upflow.delimiter_char(delimiter)) || E'\r\n';
END;

COMMENT ON FUNCTION upflow.template_csv(text) IS
'An empty contacts file with the column headers an import recognizes';

CREATE OR REPLACE FUNCTION upflow.export_contacts_csv(organization_id bigint, delimiter text DEFAULT ';')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	p_org constant bigint := export_contacts_csv.organization_id;
	d constant text := upflow.delimiter_char(export_contacts_csv.delimiter);
	body text;
BEGIN
	PERFORM upflow.organization_for_import(p_org, false);

	SELECT string_agg(concat_ws(d,
								upflow.csv_cell(c.name, d), upflow.csv_cell(c.external_id, d),
								upflow.csv_cell(ct.email, d), upflow.csv_cell(ct.first_name, d),
								upflow.csv_cell(ct.family_name, d), upflow.csv_cell(ct.phone, d),
								upflow.csv_cell(ct.position, d),
								CASE WHEN ct.is_main THEN '1' ELSE '0' END,
								upflow.csv_cell(m.email, d)) || E'\r\n', ''
					  ORDER BY c.external_id, lower(ct.email))
	  INTO body
	  FROM upflow.contact ct
	  JOIN upflow.customer c
		ON c.organization_id = ct.organization_id AND c.customer_id = ct.customer_id
	  LEFT JOIN upflow.member m
		ON m.organization_id = c.organization_id AND m.member_id = c.account_manager_id
	 WHERE ct.organization_id = p_org;

	RETURN upflow.template_csv(d) || coalesce(body, '');
END
$function$;

COMMENT ON FUNCTION upflow.export_contacts_csv(bigint, text) IS
'The organization''s contacts in the import format; importing the result changes nothing';

CREATE OR REPLACE FUNCTION upflow.purge_import_history(older_than interval)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	tenant constant bigint := upflow.current_organization_id();
	purged bigint;
BEGIN
	IF older_than IS NULL OR older_than < interval '0' THEN
		RAISE EXCEPTION 'older_than must be a positive interval'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example: SELECT upflow.purge_import_history(interval ''90 days'');';
	END IF;
	-- Finished imports only; their errors and notifications go with them.
	-- With the tenant set, one organization (one shard on Citus); without
	-- it (an administrator), every organization.
	IF tenant IS NOT NULL THEN
		DELETE FROM upflow.import i
		 WHERE i.organization_id = tenant
		   AND i.status IN ('succeeded', 'partially_succeeded', 'failed', 'cancelled')
		   AND coalesce(i.finished_at, i.submitted_at) < now() - older_than;
	ELSE
		DELETE FROM upflow.import i
		 WHERE i.status IN ('succeeded', 'partially_succeeded', 'failed', 'cancelled')
		   AND coalesce(i.finished_at, i.submitted_at) < now() - older_than;
	END IF;
	GET DIAGNOSTICS purged = ROW_COUNT;
	RETURN purged;
END
$function$;

COMMENT ON FUNCTION upflow.purge_import_history(interval) IS
'Delete finished imports (with their errors and notifications) older than the interval; returns how many';
