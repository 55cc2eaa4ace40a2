/*
 * src/sql/csv.sql -- CSV reading and writing (C: src/csv_functions.c).
 */

CREATE OR REPLACE FUNCTION upflow.parse_csv(content text, delimiter text DEFAULT NULL)
RETURNS TABLE (line_number integer, fields text[])
AS 'MODULE_PATHNAME', 'upflow_parse_csv'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION upflow.parse_csv(text, text) IS
'Every record of a CSV text (header included) with the physical line it starts on; a malformed record has NULL fields and raises a warning';

CREATE OR REPLACE FUNCTION upflow.detect_delimiter(content text)
RETURNS text
AS 'MODULE_PATHNAME', 'upflow_detect_delimiter'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION upflow.detect_delimiter(text) IS
'The separator of a CSV text among ; , | and tab, guessed from its first records';

CREATE OR REPLACE FUNCTION upflow.csv_cell(value text, delimiter text DEFAULT ';')
RETURNS text
AS 'MODULE_PATHNAME', 'upflow_csv_cell'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION upflow.csv_cell(text, text) IS
'A value as one CSV cell: quoted when needed, prefixed with '' when a spreadsheet would run it as a formula';

CREATE OR REPLACE FUNCTION upflow.csv_safe_line(raw_line text, delimiter text, columns integer DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'upflow_csv_safe_line'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION upflow.csv_safe_line(text, text, integer) IS
'A CSV line as uploaded, with the cells a spreadsheet would run as formulas prefixed with '', padded to columns cells';

CREATE OR REPLACE FUNCTION upflow.file_sha256(content text)
RETURNS text
AS 'MODULE_PATHNAME', 'upflow_file_sha256'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION upflow.file_sha256(text) IS
'SHA-256 of a text''s UTF-8 bytes, in hex (the file_sha256 of an import)';

CREATE OR REPLACE FUNCTION upflow.clean_value(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'upflow_clean_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION upflow.clean_value(text) IS
'A cell as an import reads it: blanks trimmed, the leading '' of a spreadsheet-safe export dropped, NFC';

-- Whether a line's value differs from the stored one only as the stored one
-- would come back through an export and a re-import: the stored value is
-- kept then (with the warning stored_value_kept), not silently cleaned.
CREATE OR REPLACE FUNCTION upflow.same_once_cleaned(line_value text, stored_value text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN stored_value IS NULL OR line_value IS NULL OR line_value = stored_value THEN false
			ELSE line_value = upflow.clean_value(stored_value) END;

COMMENT ON FUNCTION upflow.same_once_cleaned(text, text) IS
'Whether a line''s value is the stored value as an export and a re-import would clean it (the stored value is kept)';
