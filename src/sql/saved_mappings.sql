/*
 * src/sql/saved_mappings.sql -- an organization's remembered column
 * mappings.  An import or a preview with the option save_mapping keeps its
 * resolved mapping under that name with the keys of the file's headers; a
 * later file without an explicit mapping whose header keys are the same
 * (in any order) uses it; the option mapping_name asks for one by name.
 */

CREATE OR REPLACE FUNCTION upflow.header_keys(content text, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'upflow_header_keys'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION upflow.header_keys(text, jsonb) IS
'The keys of a CSV text''s headers, as header matching compares them (null without a header line)';

-- The keys a saved mapping is found by: sorted, without repeats.
CREATE OR REPLACE FUNCTION upflow.header_key_set(keys jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(keys) = 'array' THEN
	ARRAY(SELECT DISTINCT k.key COLLATE "C" FROM pg_catalog.jsonb_array_elements_text(keys) AS k(key) ORDER BY 1)
END;

COMMENT ON FUNCTION upflow.header_key_set(jsonb) IS
'Header keys as a saved mapping holds them: sorted, without repeats (NULL for a file without header line)';

/*
 * The mapping an import of this file asks for, as jsonb {"mapping",
 * "saved_mapping"}: with the option mapping_name, that saved mapping (the
 * explicit mapping's fields over it); else an explicit mapping as given;
 * else the organization's saved mapping with the file's header keys, if
 * any.  Fields a saved mapping leaves out are recognized automatically.
 */
CREATE OR REPLACE FUNCTION upflow.mapping_for_file(organization_id bigint, content text,
											 mapping jsonb, options jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	opts constant jsonb := coalesce(mapping_for_file.options, '{}');
	keys text[];
	found_name text;
	found_mapping jsonb;
	names text;
BEGIN
	IF opts ? 'mapping_name' THEN
		-- Dynamic, the values written in: Citus routes by them.
		EXECUTE format('SELECT s.name, s.mapping FROM upflow.saved_mapping s WHERE s.organization_id = %L::bigint AND s.name = %L',
					   mapping_for_file.organization_id, opts->>'mapping_name')
		   INTO found_name, found_mapping;
		IF found_name IS NULL THEN
			EXECUTE format('SELECT string_agg(''"'' || s.name || ''"'', '', '' ORDER BY s.name) FROM upflow.saved_mapping s WHERE s.organization_id = %L::bigint',
						   mapping_for_file.organization_id)
			   INTO names;
			RAISE EXCEPTION 'saved mapping "%" does not exist', opts->>'mapping_name'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = CASE WHEN names IS NULL THEN 'The organization has no saved mapping.'
								   ELSE format('The organization''s saved mappings are: %s.', names) END,
					  HINT = 'Save a mapping with the option save_mapping on an import or a preview.';
		END IF;
		RETURN jsonb_build_object('mapping', found_mapping || coalesce(mapping_for_file.mapping, '{}'),
								  'saved_mapping', found_name);
	END IF;
	IF mapping_for_file.mapping IS NOT NULL THEN
		RETURN jsonb_build_object('mapping', mapping_for_file.mapping, 'saved_mapping', NULL);
	END IF;
	keys := upflow.header_key_set(upflow.header_keys(mapping_for_file.content, opts));
	IF keys IS NOT NULL THEN
		EXECUTE format('SELECT s.name, s.mapping FROM upflow.saved_mapping s WHERE s.organization_id = %L::bigint AND s.header_keys = %L::text[] ORDER BY s.saved_at DESC, s.name LIMIT 1',
					   mapping_for_file.organization_id, keys)
		   INTO found_name, found_mapping;
	END IF;
	RETURN jsonb_build_object('mapping', found_mapping, 'saved_mapping', found_name);
END
$function$;

REVOKE ALL ON FUNCTION upflow.mapping_for_file(bigint, text, jsonb, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.mapping_for_file(bigint, text, jsonb, jsonb) IS
'The mapping an import of the file asks for: by option mapping_name, explicit, or the saved mapping with the file''s header keys';

/*
 * Keep a resolved mapping of a file (upflow.detect_mapping's "mapping")
 * under a name: its mapped fields only (a field it leaves out is
 * recognized again), by the file's header keys.  A name saved again is
 * replaced.
 */
CREATE OR REPLACE FUNCTION upflow.save_mapping(organization_id bigint, name text, content text,
										 options jsonb, resolved_mapping jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	keys constant text[] := upflow.header_key_set(upflow.header_keys(save_mapping.content, save_mapping.options));
BEGIN
	IF keys IS NULL THEN
		RAISE EXCEPTION 'a file without a header line cannot save its mapping'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The option save_mapping ("%s") names a mapping found again by the file''s headers, and the option header is false.', save_mapping.name),
				  HINT = 'Pass the mapping by column numbers with each import instead.';
	END IF;
	-- Dynamic, the values written in: Citus routes by them.
	EXECUTE format($stmt$
	INSERT INTO upflow.saved_mapping AS s (organization_id, name, header_keys, mapping, saved_at)
	VALUES (%L::bigint, %L, %L::text[], %L::jsonb, %L::timestamptz)
	ON CONFLICT (organization_id, name) DO UPDATE
	   SET header_keys = excluded.header_keys, mapping = excluded.mapping, saved_at = excluded.saved_at$stmt$,
		save_mapping.organization_id, save_mapping.name, keys,
		jsonb_strip_nulls(save_mapping.resolved_mapping), clock_timestamp());
END
$function$;

REVOKE ALL ON FUNCTION upflow.save_mapping(bigint, text, text, jsonb, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION upflow.save_mapping(bigint, text, text, jsonb, jsonb) IS
'Save a resolved mapping under a name for the organization, found again by the file''s header keys';

/*
 * detect_mapping for an organization (a name of its own: an overload of
 * detect_mapping would make calls with untyped literals ambiguous): the mapping an import of the file
 * would use, its saved mappings considered ("saved_mapping": the name of
 * the one used, or null).
 */
CREATE OR REPLACE FUNCTION upflow.detect_mapping_for(organization_id bigint, content text,
										   mapping jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	asked jsonb;
BEGIN
	PERFORM upflow.organization_for_import(detect_mapping_for.organization_id, false);
	asked := upflow.mapping_for_file(detect_mapping_for.organization_id, detect_mapping_for.content,
									 detect_mapping_for.mapping, detect_mapping_for.options);
	RETURN upflow.detect_mapping(detect_mapping_for.content,
								 CASE WHEN jsonb_typeof(asked->'mapping') = 'object' THEN asked->'mapping' END,
								 detect_mapping_for.options)
		   || jsonb_build_object('saved_mapping', asked->'saved_mapping');
END
$function$;

COMMENT ON FUNCTION upflow.detect_mapping_for(bigint, text, jsonb, jsonb) IS
'The separator, headers and field mapping an import of this file into the organization would use, its saved mappings considered (saved_mapping: the one used)';
