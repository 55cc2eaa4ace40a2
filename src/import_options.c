/*-------------------------------------------------------------------------
 *
 * import_options.c
 *		The options and mapping arguments of the import functions: jsonb
 *		parsing, validation, and the mapping-problem ERROR that lists the
 *		file's headers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "upflow_import.h"

static const char *const known_options[] = {
	"delimiter", "header", "encoding", "blank_cells", "create_customers", "dry_run",
	"save_mapping", "mapping_name", NULL
};

static void
option_type_error(const char *name, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\"", name),
			 errdetail("The option \"%s\" takes %s.", name, expected),
			 errhint("Correct \"%s\" in the options argument, or leave it out for its default.", name)));
}

static char *
jsonb_string(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

void
upflow_parse_options(Jsonb *options, upflow_import_options *result)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	memset(result, 0, sizeof(*result));
	result->header = true;
	result->create_customers = -1;

	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object"),
				 errhint("Pass for example '{\"delimiter\": \";\", \"blank_cells\": \"clear\"}'.")));

	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			bool		known = false;

			key = jsonb_string(&v);
			for (int i = 0; known_options[i] != NULL; i++)
				if (strcmp(key, known_options[i]) == 0)
					known = true;
			if (!known)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown option \"%s\"", key),
						 errdetail("The known options are delimiter, header, encoding, blank_cells, create_customers and dry_run."),
						 errhint("Remove \"%s\" from the options, or check its spelling.", key)));
			continue;
		}
		if (tok != WJB_VALUE)
			continue;

		/* A JSON null means "the default" for every option. */
		if (v.type == jbvNull)
			continue;

		if (strcmp(key, "delimiter") == 0)
		{
			if (v.type != jbvString)
				option_type_error(key, "a string: \";\", \",\", \"|\" or \"tab\"");
			result->delimiter = upflow_delimiter_from_text(jsonb_string(&v), "delimiter");
		}
		else if (strcmp(key, "encoding") == 0)
		{
			if (v.type != jbvString)
				option_type_error(key, "a string: \"auto\" or a PostgreSQL encoding name");
			result->encoding = jsonb_string(&v);
			if (pg_strcasecmp(result->encoding, "auto") == 0)
				result->encoding = NULL;
		}
		else if (strcmp(key, "save_mapping") == 0 || strcmp(key, "mapping_name") == 0)
		{
			/* Names of saved mappings: SQL uses them, the reader does not. */
			if (v.type != jbvString || v.val.string.len == 0)
				option_type_error(key, "the name of a saved mapping, a non-empty string");
		}
		else if (strcmp(key, "blank_cells") == 0)
		{
			char	   *s;

			if (v.type != jbvString)
				option_type_error(key, "\"keep\" or \"clear\"");
			s = jsonb_string(&v);
			if (strcmp(s, "clear") == 0)
				result->blank_cells_clear = true;
			else if (strcmp(s, "keep") != 0)
				option_type_error(key, "\"keep\" or \"clear\"");
		}
		else
		{
			if (v.type != jbvBool)
				option_type_error(key, "true or false");
			if (strcmp(key, "header") == 0)
				result->header = v.val.boolean;
			else if (strcmp(key, "create_customers") == 0)
				result->create_customers = v.val.boolean ? 1 : 0;
			else if (strcmp(key, "dry_run") == 0)
				result->dry_run = v.val.boolean;
		}
	}
}

void
upflow_parse_mapping(Jsonb *mapping, upf_mapping_request requests[UPF_NFIELDS])
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			field = -1;
	char	   *key = NULL;

	memset(requests, 0, sizeof(upf_mapping_request) * UPF_NFIELDS);
	if (mapping == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(mapping))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mapping must be a JSON object"),
				 errhint("Map fields to header names or column numbers, e.g. '{\"email\": \"Courriel\", \"external_id\": 2}'.")));

	it = JsonbIteratorInit(&mapping->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = jsonb_string(&v);
			field = upf_field_by_name(key, strlen(key));
			if (field < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown field \"%s\" in mapping", key),
						 errdetail("The fields are customer_name, external_id, email, first_name, family_name, phone, position, is_main and account_manager_email."),
						 errhint("Use the field names as keys and the file's header names or column numbers as values.")));
			continue;
		}
		if (tok != WJB_VALUE)
			continue;

		switch (v.type)
		{
			case jbvNull:
				requests[field].kind = UPF_MAP_IGNORE;
				break;
			case jbvString:
				requests[field].kind = UPF_MAP_HEADER;
				requests[field].header = v.val.string.val;
				requests[field].header_len = v.val.string.len;
				break;
			case jbvNumeric:
				{
					Numeric		n = v.val.numeric;
					char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out,
																		NumericGetDatum(n)));
					char	   *end;
					long		column = strtol(s, &end, 10);

					if (*end != '\0' || column < 1 || column > 100000)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("invalid column number %s for field \"%s\" in mapping", s, key),
								 errhint("Columns are numbered from 1, the leftmost column of the file.")));
					requests[field].kind = UPF_MAP_COLUMN;
					requests[field].column = column;
					break;
				}
			default:
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid mapping for field \"%s\"", key),
						 errdetail("A field maps to a header name (a string), a column number, or null to leave it out.")));
		}
	}
}

static void
append_quoted(StringInfo buf, const char *s, size_t len)
{
	appendStringInfoChar(buf, '"');
	appendBinaryStringInfo(buf, s, (int) len);
	appendStringInfoChar(buf, '"');
}

static void
append_column(StringInfo buf, const char *const *headers, const size_t *lengths, int column)
{
	appendStringInfo(buf, "column %d", column + 1);
	if (headers != NULL && lengths[column] > 0)
	{
		appendStringInfoString(buf, " (");
		append_quoted(buf, headers[column], lengths[column]);
		appendStringInfoChar(buf, ')');
	}
}

void
upflow_resolve_mapping(const char *const *headers, const size_t *lengths, int nheaders,
					   const upf_mapping_request requests[UPF_NFIELDS],
					   int columns[UPF_NFIELDS])
{
	upf_mapping_problem problems[4 * UPF_NFIELDS];
	int			nproblems;
	StringInfoData detail;
	StringInfoData header_list;
	upf_language language;

	/*
	 * Headers match after NFKC: decomposed accents (macOS), full-width
	 * letters.  The messages below show them as the file has them.
	 */
	{
		const char **nfkc_headers = NULL;
		size_t	   *nfkc_lengths = NULL;
		upf_mapping_request nfkc_requests[UPF_NFIELDS];

		if (headers != NULL)
		{
			nfkc_headers = palloc(sizeof(char *) * Max(nheaders, 1));
			nfkc_lengths = palloc(sizeof(size_t) * Max(nheaders, 1));
			for (int i = 0; i < nheaders; i++)
				nfkc_headers[i] = upflow_unicode_normalize(true, headers[i], lengths[i], &nfkc_lengths[i]);
		}
		memcpy(nfkc_requests, requests, sizeof(nfkc_requests));
		for (int f = 0; f < UPF_NFIELDS; f++)
			if (nfkc_requests[f].kind == UPF_MAP_HEADER)
				nfkc_requests[f].header = upflow_unicode_normalize(true, requests[f].header,
																   requests[f].header_len,
																   &nfkc_requests[f].header_len);
		nproblems = upf_resolve_mapping(nfkc_headers, nfkc_lengths, nheaders, nfkc_requests,
										columns, problems, lengthof(problems));
		language = upf_headers_language(nfkc_headers, nfkc_lengths, headers != NULL ? nheaders : 0);
	}
	if (nproblems == 0)
		return;

	initStringInfo(&detail);
	for (int i = 0; i < Min(nproblems, (int) lengthof(problems)); i++)
	{
		upf_mapping_problem *p = &problems[i];
		/* The label a reader knows, and the key a mapping names it by. */
		const char *field = psprintf("\"%s\" (%s)", upf_field_label(p->field, language),
									 upf_field_name(p->field));

		if (i > 0)
			appendStringInfoChar(&detail, ' ');
		switch (p->kind)
		{
			case UPF_MP_REQUIRED_UNMAPPED:
				appendStringInfo(&detail, "The required field %s is not mapped to any column.", field);
				break;
			case UPF_MP_HEADER_NOT_FOUND:
				appendStringInfo(&detail, "The header ");
				append_quoted(&detail, requests[p->field].header, requests[p->field].header_len);
				appendStringInfo(&detail, " mapped to %s is not in the file.", field);
				break;
			case UPF_MP_HEADER_AMBIGUOUS:
				appendStringInfo(&detail, "The header ");
				append_quoted(&detail, requests[p->field].header, requests[p->field].header_len);
				appendStringInfo(&detail, " mapped to %s names both column %d and column %d.",
								 field, p->column + 1, p->column2 + 1);
				break;
			case UPF_MP_COLUMN_OUT_OF_RANGE:
				appendStringInfo(&detail, "Column %ld mapped to %s does not exist: the file has %d columns.",
								 requests[p->field].column, field, nheaders);
				break;
			case UPF_MP_NO_HEADER_LINE:
				appendStringInfo(&detail, "The field %s is mapped to a header name, but the options say the file has no header line.",
								 field);
				break;
			case UPF_MP_COLUMN_CLAIMED_TWICE:
				appendStringInfo(&detail, "The fields %s and %s both claim ",
								 field, psprintf("\"%s\" (%s)", upf_field_label(p->field2, language),
												 upf_field_name(p->field2)));
				append_column(&detail, headers, lengths, p->column);
				appendStringInfoChar(&detail, '.');
				break;
			case UPF_MP_AUTO_AMBIGUOUS:
				appendStringInfo(&detail, "The field %s could be ", field);
				append_column(&detail, headers, lengths, p->column);
				appendStringInfoString(&detail, " or ");
				append_column(&detail, headers, lengths, p->column2);
				appendStringInfoChar(&detail, '.');
				break;
		}
	}

	initStringInfo(&header_list);
	if (headers != NULL)
	{
		appendStringInfoString(&header_list, " The file's headers are: ");
		for (int i = 0; i < nheaders; i++)
		{
			if (i > 0)
				appendStringInfoString(&header_list, ", ");
			append_quoted(&header_list, headers[i], lengths[i]);
		}
		appendStringInfoChar(&header_list, '.');
	}
	else
		appendStringInfo(&header_list, " The file has no header line and %d columns.", nheaders);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the file's columns cannot be mapped to contact fields"),
			 errdetail("%s%s", detail.data, header_list.data),
			 errhint("Name each required field (customer_name, external_id, email) in the mapping with a header of the file or a column number, "
					 "e.g. '{\"email\": \"Courriel\", \"external_id\": 2}', or rename the file's headers.")));
}

Jsonb *
upflow_mapping_jsonb(const char *const *headers, const size_t *lengths, int nheaders,
					 const int columns[UPF_NFIELDS])
{
	StringInfoData buf;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		int			column = columns[f];
		bool		unique_name = false;

		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		escape_json(&buf, upf_field_name(f));
		appendStringInfoString(&buf, ": ");

		/* null: not imported, and not to be recognized again either */
		if (column < 0)
		{
			appendStringInfoString(&buf, "null");
			continue;
		}

		/*
		 * A header name is what a user reads, but only a name that no other
		 * column has maps back to the same column.
		 */
		if (headers != NULL && lengths[column] > 0)
		{
			unique_name = true;
			for (int i = 0; i < nheaders; i++)
				if (i != column && lengths[i] == lengths[column] &&
					memcmp(headers[i], headers[column], lengths[i]) == 0)
					unique_name = false;
		}
		if (unique_name)
		{
			char	   *name = pnstrdup(headers[column], lengths[column]);

			escape_json(&buf, name);
		}
		else
			appendStringInfo(&buf, "%d", column + 1);
	}
	appendStringInfoChar(&buf, '}');

	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
