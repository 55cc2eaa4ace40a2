/*-------------------------------------------------------------------------
 *
 * csv_functions.c
 *		upflow.parse_csv and upflow.detect_delimiter: the CSV reader of the
 *		pure-C core exposed to SQL.
 *
 * parse_csv is a materialize-mode set-returning function.  A malformed
 * record does not stop it: the record comes back with NULL fields, and a
 * WARNING names its line and reason (the first ten individually, then one
 * summary), so that one bad quote never hides the rest of a file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "upflow_import.h"

/* Feed the reader this many bytes at a time, checking for interrupts. */
#define FEED_CHUNK_SIZE		(1024 * 1024)

/* Malformed records reported one WARNING each before a summary. */
#define MAX_MALFORMED_WARNINGS 10

typedef struct parse_csv_state
{
	ReturnSetInfo *rsinfo;
	MemoryContext row_context;	/* reset after every record */
	long		malformed;
} parse_csv_state;

/*
 * The record's fields as a text[] built in one allocation: this is the hot
 * path of parse_csv, and construct_array would allocate every element
 * first, then copy it.
 */
static ArrayType *
fields_array(const csv_record *record)
{
	int			n = record->nfields;
	size_t		nbytes = ARR_OVERHEAD_NONULLS(1);
	ArrayType  *array;
	char	   *p;

	if (n == 0)
		return construct_empty_array(TEXTOID);
	for (int i = 0; i < n; i++)
		nbytes += INTALIGN(VARHDRSZ + record->lengths[i]);
	if (!AllocSizeIsValid(nbytes))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("CSV record is too large"),
				 errdetail("The record's fields need %zu bytes.", nbytes)));

	array = (ArrayType *) palloc0(nbytes);
	SET_VARSIZE(array, nbytes);
	array->ndim = 1;
	array->dataoffset = 0;		/* no nulls */
	array->elemtype = TEXTOID;
	ARR_DIMS(array)[0] = n;
	ARR_LBOUND(array)[0] = 1;

	p = ARR_DATA_PTR(array);
	for (int i = 0; i < n; i++)
	{
		SET_VARSIZE(p, VARHDRSZ + record->lengths[i]);
		memcpy(VARDATA(p), record->fields[i], record->lengths[i]);
		p += INTALIGN(VARHDRSZ + record->lengths[i]);
	}
	return array;
}

static int
parse_csv_record(const csv_record *record, void *arg)
{
	parse_csv_state *state = (parse_csv_state *) arg;
	MemoryContext oldcontext;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	oldcontext = MemoryContextSwitchTo(state->row_context);

	values[0] = Int32GetDatum((int32) record->line_number);
	if (record->status == CSVR_OK)
		values[1] = PointerGetDatum(fields_array(record));
	else
	{
		nulls[1] = true;
		if (++state->malformed <= MAX_MALFORMED_WARNINGS)
			ereport(WARNING,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("malformed CSV record at line %ld: %s",
							record->line_number,
							csv_record_status_text(record->status)),
					 errdetail("The record is returned with NULL fields and reading goes on at line %ld.",
							   record->line_number + 1)));
	}

	tuplestore_putvalues(state->rsinfo->setResult, state->rsinfo->setDesc,
						 values, nulls);

	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(state->row_context);
	return 0;
}

PG_FUNCTION_INFO_V1(upflow_parse_csv);

Datum
upflow_parse_csv(PG_FUNCTION_ARGS)
{
	parse_csv_state state;
	csv_reader_options options;
	csv_reader *reader;
	text	   *content;
	const char *data;
	size_t		len;
	char		delimiter = '\0';

	SetSingleFuncCall(fcinfo, 0);

	if (PG_ARGISNULL(0))
		return (Datum) 0;

	content = PG_GETARG_TEXT_PP(0);
	data = VARDATA_ANY(content);
	len = VARSIZE_ANY_EXHDR(content);
	upflow_check_file_size(len);

	if (!PG_ARGISNULL(1))
		delimiter = upflow_delimiter_from_text(text_to_cstring(PG_GETARG_TEXT_PP(1)),
											   "delimiter");
	if (delimiter == '\0')
		delimiter = csv_detect_delimiter(data, len);

	state.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	state.row_context = AllocSetContextCreate(CurrentMemoryContext,
											  "upflow parse_csv row",
											  ALLOCSET_DEFAULT_SIZES);
	state.malformed = 0;

	upflow_reader_options(&options, delimiter);
	reader = upflow_create_reader(&options, parse_csv_record, &state);

	for (size_t offset = 0; offset < len; offset += FEED_CHUNK_SIZE)
	{
		CHECK_FOR_INTERRUPTS();
		upflow_check_reader_result(csv_reader_feed(reader, data + offset,
												   Min(FEED_CHUNK_SIZE, len - offset)));
	}
	upflow_check_reader_result(csv_reader_finish(reader));

	if (state.malformed > MAX_MALFORMED_WARNINGS)
		ereport(WARNING,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("%ld more malformed CSV records",
						state.malformed - MAX_MALFORMED_WARNINGS),
				 errdetail("The file has %ld malformed records in all; each is returned with NULL fields.",
						   state.malformed)));

	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(upflow_detect_delimiter);

Datum
upflow_detect_delimiter(PG_FUNCTION_ARGS)
{
	text	   *content = PG_GETARG_TEXT_PP(0);
	char		delimiter;

	delimiter = csv_detect_delimiter(VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content));
	PG_RETURN_TEXT_P(cstring_to_text(upflow_delimiter_name(delimiter)));
}

/*
 * Append one cell, neutralized and quoted as needed: a cell a spreadsheet
 * would run as a formula (upf_starts_like_formula) gets a leading ', which
 * the import drops again (upf_clean_value).
 */
static void
append_cell(StringInfo buf, const char *s, size_t len, char delimiter)
{
	bool		formula = upf_starts_like_formula(s, len);
	bool		quote = false;

	for (size_t i = 0; i < len && !quote; i++)
		if (s[i] == delimiter || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = true;
	/* libcsv trims unquoted cells: keep edge spaces by quoting them. */
	if (len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		quote = true;

	if (quote)
		appendStringInfoChar(buf, '"');
	if (formula)
		appendStringInfoChar(buf, '\'');
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '"')
			appendStringInfoChar(buf, '"');
		appendStringInfoChar(buf, s[i]);
	}
	if (quote)
		appendStringInfoChar(buf, '"');
}

PG_FUNCTION_INFO_V1(upflow_csv_cell);

/* upflow.csv_cell(value, delimiter): one CSV cell, safe for spreadsheets. */
Datum
upflow_csv_cell(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	text	   *value;
	char		delimiter;

	if (PG_ARGISNULL(0))
		PG_RETURN_TEXT_P(cstring_to_text(""));
	value = PG_GETARG_TEXT_PP(0);
	delimiter = PG_ARGISNULL(1) ? ';'
		: upflow_delimiter_from_text(text_to_cstring(PG_GETARG_TEXT_PP(1)), "delimiter");
	if (delimiter == '\0')
		delimiter = ';';

	initStringInfo(&buf);
	append_cell(&buf, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), delimiter);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

typedef struct safe_line_state
{
	char		delimiter;
	int			columns;		/* pad to this many cells; 0 = no padding */
	bool		ok;
	StringInfoData out;
} safe_line_state;

static int
safe_line_record(const csv_record *record, void *arg)
{
	safe_line_state *state = (safe_line_state *) arg;
	bool		any_formula = false;

	if (record->status != CSVR_OK)
		return 1;
	for (int i = 0; i < record->nfields; i++)
		if (upf_starts_like_formula(record->fields[i], record->lengths[i]))
			any_formula = true;
	state->ok = true;
	if (!any_formula)
	{
		/* Nothing to neutralize: the line exactly as uploaded. */
		appendBinaryStringInfo(&state->out, record->raw, (int) record->raw_len);
	}
	else
	{
		for (int i = 0; i < record->nfields; i++)
		{
			if (i > 0)
				appendStringInfoChar(&state->out, state->delimiter);
			append_cell(&state->out, record->fields[i], record->lengths[i], state->delimiter);
		}
	}
	/* Cells a spreadsheet left out at the end, so that columns line up. */
	for (int i = record->nfields; i < state->columns; i++)
		appendStringInfoChar(&state->out, state->delimiter);
	return 1;
}

PG_FUNCTION_INFO_V1(upflow_csv_safe_line);

/*
 * upflow.csv_safe_line(raw_line, delimiter): a line of an uploaded file as
 * it was, unless a cell would run as a formula in a spreadsheet: then the
 * line is written again with those cells prefixed by '.  A line that does
 * not parse (malformed quotes) is split on the delimiter for that purpose.
 */
Datum
upflow_csv_safe_line(PG_FUNCTION_ARGS)
{
	text	   *raw;
	const char *data;
	size_t		len;
	safe_line_state state;
	csv_reader_options options;
	csv_reader *reader;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	raw = PG_GETARG_TEXT_PP(0);
	data = VARDATA_ANY(raw);
	len = VARSIZE_ANY_EXHDR(raw);
	state.columns = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	/* Padding costs a byte a cell: a caller must not make it a gigabyte. */
	if (state.columns < 0 || state.columns > UPFLOW_MAX_PAD_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be between 0 and %d", UPFLOW_MAX_PAD_COLUMNS),
				 errdetail("The line would be padded to %d cells.", state.columns),
				 errhint("Pass the number of columns of the file's header, or NULL.")));
	state.delimiter = PG_ARGISNULL(1) ? '\0'
		: upflow_delimiter_from_text(text_to_cstring(PG_GETARG_TEXT_PP(1)), "delimiter");
	if (state.delimiter == '\0')
		state.delimiter = csv_detect_delimiter(data, len);
	state.ok = false;
	initStringInfo(&state.out);

	upflow_reader_options(&options, state.delimiter);
	options.honor_sep_line = false;
	reader = upflow_create_reader(&options, safe_line_record, &state);
	if (csv_reader_feed(reader, data, len) == CSV_READER_OK)
		(void) csv_reader_finish(reader);

	if (!state.ok)
	{
		/*
		 * A line that does not parse (broken quotes) is split on the
		 * delimiter, and each piece written again as a proper cell: without
		 * its enclosing quotes if it had both, then quoted where needed and
		 * with ' before a formula.  So the download stays valid CSV, one
		 * record per failed line, however broken the line was: a stray quote
		 * cannot swallow the lines after it, nor smuggle in a formula.
		 */
		size_t		start = 0;
		int			cells = 0;
		StringInfoData piece;

		initStringInfo(&piece);
		resetStringInfo(&state.out);
		for (size_t i = 0; i <= len; i++)
		{
			if (i == len || data[i] == state.delimiter)
			{
				const char *s = data + start;
				size_t		n = i - start;

				resetStringInfo(&piece);
				if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
				{
					for (size_t k = 1; k + 1 < n; k++)
					{
						appendStringInfoChar(&piece, s[k]);
						if (s[k] == '"' && k + 2 < n && s[k + 1] == '"')
							k++;
					}
				}
				else
					appendBinaryStringInfo(&piece, s, (int) n);
				if (cells++ > 0)
					appendStringInfoChar(&state.out, state.delimiter);
				append_cell(&state.out, piece.data, piece.len, state.delimiter);
				start = i + 1;
			}
		}
		for (int i = cells; i < state.columns; i++)
			appendStringInfoChar(&state.out, state.delimiter);
		pfree(piece.data);
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(state.out.data, state.out.len));
}

PG_FUNCTION_INFO_V1(upflow_file_sha256);

/*
 * upflow.file_sha256(content): the SHA-256 of a text's UTF-8 bytes, in hex.
 * The same as encode(sha256(convert_to(content, 'UTF8')), 'hex') in a UTF8
 * database, without copying a file of hundreds of megabytes into a bytea.
 */
Datum
upflow_file_sha256(PG_FUNCTION_ARGS)
{
	text	   *content = PG_GETARG_TEXT_PP(0);
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(content),
							 VARSIZE_ANY_EXHDR(content)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);

	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[sizeof(hex) - 1] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

PG_FUNCTION_INFO_V1(upflow_clean_value);

/*
 * upflow.clean_value(value): a cell as an import reads it (upf_clean_value:
 * blanks trimmed, the spreadsheet mark dropped; then NFC).  What a stored
 * value becomes through an export and a re-import.
 */
Datum
upflow_clean_value(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	size_t		len;
	const char *v = upf_clean_value(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), &len);

	v = upflow_unicode_normalize(false, v, len, &len);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(v, (int) len));
}
