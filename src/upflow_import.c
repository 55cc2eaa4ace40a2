/*-------------------------------------------------------------------------
 *
 * upflow_import.c
 *		Module initialization, settings and helpers shared by the SQL
 *		entry points of upflow_import.
 *
 * The CSV reading itself lives in the pure-C core (csv_reader.c); this
 * file only adapts it to PostgreSQL: limits from GUCs, memory released on
 * error, errors reported with ereport.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "common/unicode_norm.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "upflow_import.h"

PG_MODULE_MAGIC;

int			upflow_max_file_size = 256 * 1024 * 1024;
int			upflow_max_field_size = 64 * 1024;
int			upflow_worker_lock_timeout = 10 * 1000;
int			upflow_worker_max_attempts = 5;

void		_PG_init(void);

void
_PG_init(void)
{
	/*
	 * Limits protect the server from hostile files, so only superusers (or
	 * roles granted SET on them) may raise them.
	 */
	DefineCustomIntVariable("upflow_import.max_file_size",
							"Largest CSV file an import accepts.",
							"Larger files are refused before anything is read.",
							&upflow_max_file_size,
							256 * 1024 * 1024,
							1024,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("upflow_import.max_field_size",
							"Largest CSV field (cell) an import accepts.",
							"A record with a larger field is reported as malformed; "
							"this bounds the memory an unterminated quote can take.",
							&upflow_max_field_size,
							64 * 1024,
							64,
							64 * 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	/*
	 * The worker's budgets: how long one queued import may wait for a lock
	 * (so that one organization's locks delay the others by a bounded
	 * time), and how often an import that met a transient failure is tried.
	 */
	DefineCustomIntVariable("upflow_import.worker_lock_timeout",
							"Longest a queued import waits for one lock.",
							"The worker runs each import with lock_timeout at most this "
							"(0: the worker's own lock_timeout, if any); an import that "
							"times out is tried again later.",
							&upflow_worker_lock_timeout,
							10 * 1000,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("upflow_import.worker_max_attempts",
							"How many times the worker starts a queued import.",
							"An import that meets a deadlock, a serialization failure or a "
							"lock timeout goes back to pending until it has been started "
							"this many times; then it is marked failed.",
							&upflow_worker_max_attempts,
							5,
							1,
							1000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("upflow_import");
}

char
upflow_delimiter_from_text(const char *value, const char *what)
{
	if (value == NULL)
		return '\0';
	if (strcmp(value, ";") == 0 || pg_strcasecmp(value, "semicolon") == 0)
		return ';';
	if (strcmp(value, ",") == 0 || pg_strcasecmp(value, "comma") == 0)
		return ',';
	if (strcmp(value, "|") == 0 || pg_strcasecmp(value, "pipe") == 0)
		return '|';
	if (strcmp(value, "\t") == 0 || pg_strcasecmp(value, "tab") == 0 ||
		strcmp(value, "\\t") == 0)
		return '\t';
	if (value[0] == '\0' || pg_strcasecmp(value, "auto") == 0)
		return '\0';

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s \"%s\"", what, value),
			 errdetail("A CSV separator is one of ; , | or a tab."),
			 errhint("Pass ';', ',', '|', 'tab', or NULL to detect it from the file.")));
	return '\0';				/* keep compiler quiet */
}

const char *
upflow_delimiter_name(char delimiter)
{
	switch (delimiter)
	{
		case ';':
			return ";";
		case ',':
			return ",";
		case '|':
			return "|";
		case '\t':
			return "\t";
	}
	elog(ERROR, "unexpected delimiter %d", (int) delimiter);
	return NULL;				/* keep compiler quiet */
}

void
upflow_reader_options(csv_reader_options *options, char delimiter)
{
	memset(options, 0, sizeof(*options));
	options->delimiter = delimiter;
	options->max_field_size = (size_t) upflow_max_field_size;
	options->max_record_size = 0;	/* the core's default, 64 x the field cap */
	options->honor_sep_line = true;
}

void
upflow_check_file_size(size_t len)
{
	if (len > (size_t) upflow_max_file_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("CSV file is too large"),
				 errdetail("The file has %zu bytes; upflow_import.max_file_size allows %d.",
						   len, upflow_max_file_size),
				 errhint("Split the file, or ask an administrator to raise upflow_import.max_file_size.")));
}

static void
free_reader_callback(void *arg)
{
	csv_reader_free((csv_reader *) arg);
}

csv_reader *
upflow_create_reader(const csv_reader_options *options,
					 csv_record_callback callback, void *arg)
{
	csv_reader *reader;
	MemoryContextCallback *cb;

	/* Allocate the callback first, so that registering cannot fail. */
	cb = MemoryContextAlloc(CurrentMemoryContext, sizeof(MemoryContextCallback));
	reader = csv_reader_create(options, callback, arg);
	if (reader == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed to allocate a CSV reader.")));
	cb->func = free_reader_callback;
	cb->arg = reader;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	return reader;
}

void
upflow_check_reader_result(int rc)
{
	switch (rc)
	{
		case CSV_READER_OK:
		case CSV_READER_STOPPED:
			return;
		case CSV_READER_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("The CSV reader failed to allocate memory.")));
			break;
		case CSV_READER_TOO_MANY_ERRORS:
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("the file is not readable as CSV"),
					 errdetail("Too many records are malformed: quotes open and never close."),
					 errhint("Check that the file is a CSV file and that its separator is right.")));
			break;
	}
	elog(ERROR, "unexpected CSV reader result %d", rc);
}

/*
 * A UTF-8 string in a Unicode normalization form (NFC for values, so that
 * "é" typed on a Mac and on Windows is one character, one key; NFKC for
 * header names, so that full-width letters and decomposed accents match).
 * Returns s itself, and its length, when it is ASCII or already normal;
 * otherwise a palloc'd copy.
 */
const char *
upflow_unicode_normalize(bool compatibility, const char *s, size_t len, size_t *out_len)
{
	UnicodeNormalizationForm form = compatibility ? UNICODE_NFKC : UNICODE_NFC;
	pg_wchar   *wide;
	pg_wchar   *normal;
	StringInfoData buf;
	size_t		i;

	*out_len = len;
	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] >= 0x80)
			break;
	if (i == len)
		return s;

	/*
	 * Below U+0300 every character is NFC and none combines (the first
	 * combining marks start there), so Latin-1 and Latin Extended text, most
	 * accented names, is NFC as it is.  In UTF-8 such a string holds only
	 * ASCII, lead bytes 0xC2 to 0xCB and continuation bytes.  Not for NFKC:
	 * U+00A0, U+00B2 and others have compatibility forms.
	 */
	if (!compatibility)
	{
		for (; i < len; i++)
		{
			unsigned char b = (unsigned char) s[i];

			if (b >= 0xCC || b == 0xC0 || b == 0xC1)
				break;
		}
		if (i == len)
			return s;
	}

	wide = palloc((len + 1) * sizeof(pg_wchar));
	(void) pg_encoding_mb2wchar_with_len(PG_UTF8, s, wide, (int) len);
	if (unicode_is_normalized_quickcheck(form, wide) == UNICODE_NORM_QC_YES)
	{
		pfree(wide);
		return s;
	}
	normal = unicode_normalize(form, wide);
	if (normal == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	initStringInfo(&buf);
	for (pg_wchar *c = normal; *c; c++)
	{
		unsigned char utf8[4];

		unicode_to_utf8(*c, utf8);
		appendBinaryStringInfo(&buf, (char *) utf8, pg_utf_mblen(utf8));
	}
	pfree(wide);
	pfree(normal);
	*out_len = buf.len;
	return buf.data;
}
