/*-------------------------------------------------------------------------
 *
 * prepare.c
 *		upflow.prepare_contacts and upflow.detect_mapping: from a CSV text
 *		to one validated contact line per record, without writing anything.
 *
 * prepare_contacts reads the file once with the CSV reader of the core,
 * resolves the mapping on the header record, cleans and validates every
 * cell of every data record, and applies the in-file main-contact rule:
 * when several valid lines designate a main contact for one customer, the
 * last one wins and the earlier ones get the warning
 * main_contact_overridden.  Lines that designate a main contact are
 * returned when the file ends, read again from the input, so that each
 * gets its final flag; other lines are returned as soon as they are read.
 * Rows therefore come in file order except for those lines, which come
 * last (in file order): ORDER BY line_number for file order.
 *
 * Problems are reported in the errors column as a jsonb array of objects
 * {code, field, severity, message, hint}; a line with a problem of
 * severity "error" is not applied by an import.
 *
 * upflow.prepare_changed_lines, the variant an import uses from 1.1 on,
 * also leaves out the lines that would change nothing: a valid line
 * without problems whose contact exists with the very values the line
 * holds, and whose contact no other line of the file names.  The
 * organization's contacts are read once into a hash of 64-bit
 * fingerprints for that; a line that differs in any way, or that the
 * fingerprints cannot vouch for, is returned and the import compares it
 * in SQL as before.  upflow.unchanged_line_count() tells how many were
 * left out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/backend_progress.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "catalog/pg_collation_d.h"
#include "utils/lsyscache.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "upflow_import.h"

#define FEED_CHUNK_SIZE		(1024 * 1024)

/* Output columns of prepare_contacts after the nine fields. */
#define COL_LINE_NUMBER		0
#define COL_FIELDS			1	/* first of UPF_NFIELDS field columns */
#define COL_ERRORS			(COL_FIELDS + UPF_NFIELDS)
#define COL_RAW_LINE		(COL_ERRORS + 1)
#define NUM_COLUMNS			(COL_RAW_LINE + 1)

/*
 * upflow.prepare_import_lines, the import's own variant, has two more
 * columns: whether the line failed validation, and whether it names the
 * same contact (customer and email) as an earlier valid line -- so that
 * the import looks for duplicates only when there are some.
 */
#define COL_FAILED			NUM_COLUMNS
#define COL_SUPERSEDES		(NUM_COLUMNS + 1)
#define EXTENDED_COLUMNS	(NUM_COLUMNS + 2)

/*
 * prepare_changed_lines has one more: whether the line is the first valid
 * line of its customer (external id) among those it returns, so that
 * creating the file's new customers needs no grouping of its lines.
 */
#define COL_FIRST_OF_CUSTOMER	EXTENDED_COLUMNS
#define MAX_COLUMNS			(EXTENDED_COLUMNS + 1)

/* Longest excerpt of a value quoted in a message, in characters. */
#define MAX_QUOTED_CHARS	60

typedef struct line_problem
{
	const char *code;
	int			field;			/* -1: the whole line */
	bool		warning;
	char	   *message;
	char	   *hint;
} line_problem;

/*
 * A line designating a main contact is returned only when the file ends,
 * once it is known whether a later line overrides it.  What is kept until
 * then is where the line is in the input, not the line: at the end the
 * designating lines are read again from there, in file order.  (Keeping
 * the rows themselves would cost a third of the file's size in memory.)
 */
typedef struct designation
{
	size_t		offset;			/* the record in the input */
	char	   *winner_email;
	int32		line_number;
	uint32		raw_len;
	int32		winner_line;	/* 0, or the later line that overrides it */
	bool		supersedes;		/* as computed when first read */
	bool		first_of_customer;	/* likewise */
	bool		revived;		/* a left-out unchanged line needed after all */
} designation;					/* 32 bytes: one per main-contact line */

/* The latest designation of each customer (external id). */
typedef struct held_line
{
	char	   *external_id;	/* hash key, lives in held_context */
	uint32		hash;
	char		status;			/* used by simplehash */
	int			index;			/* in prepare_state.designations */
} held_line;

#define SH_PREFIX		held
#define SH_ELEMENT_TYPE held_line
#define SH_KEY_TYPE		char *
#define SH_KEY			external_id
#define SH_HASH_KEY(tb, key) hash_bytes((const unsigned char *) (key), strlen(key))
#define SH_EQUAL(tb, a, b) (strcmp(a, b) == 0)
#define SH_SCOPE		static inline
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

/* The contacts seen so far, by a 64-bit hash of external id and email. */
typedef struct seen_contact
{
	uint64		key;
	uint32		dropped;		/* 0, or 1 + its index in prepare_state.dropped */
	bool		repeated;		/* a later valid line names it again */
	char		status;			/* used by simplehash */
} seen_contact;

/* simplehash's fill factor, which sizing a table for n entries needs */
#define SH_FILLFACTOR_SEEN 0.9

#define SH_PREFIX		seen
#define SH_ELEMENT_TYPE seen_contact
#define SH_KEY_TYPE		uint64
#define SH_KEY			key
#define SH_HASH_KEY(tb, k) ((uint32) (k))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

/*
 * The organization's stored contacts, for prepare_changed_lines: by the
 * same key as seen_contact, a fingerprint of what a line could change
 * (see contact_fingerprint) and the main-contact flag.
 */
typedef struct known_contact
{
	uint64		key;
	uint64		fingerprint;
	bool		is_main;
	bool		ambiguous;		/* two contacts share the key's hash */
	char		status;			/* used by simplehash */
} known_contact;

#define SH_PREFIX		known
#define SH_ELEMENT_TYPE known_contact
#define SH_KEY_TYPE		uint64
#define SH_KEY			key
#define SH_HASH_KEY(tb, k) ((uint32) (k))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

/*
 * A line left out because it changes nothing: where it is in the input,
 * to read it again should a later line name the same contact (the import
 * then needs both, to skip the earlier one with a warning).
 */
typedef struct dropped_line
{
	size_t		offset;
	uint32		raw_len;
	int32		line_number;
} dropped_line;

/* How many lines the last prepare_changed_lines of this backend left out. */
static int64 last_unchanged_lines = 0;

/* The memory of the tuplestore of the rows returned (work_mem units) */
#define RESULT_MEMORY "4MB"

/* Title rows skipped above a header: at most this many. */
#define MAX_TITLE_RECORDS 10

/* The report footer the last preparation of this backend skipped. */
#define FOOTER_TEXT_SIZE 200
static int32 last_footer_first = 0;
static int32 last_footer_last = 0;
static int32 last_footer_lines = 0;
static char last_footer_text[FOOTER_TEXT_SIZE];

typedef struct prepare_state
{
	upflow_import_options options;
	upf_mapping_request requests[UPF_NFIELDS];
	bool		ignore_main;	/* the integration owns the main contact */
	bool		mapping_only;	/* detect_mapping: stop after the header */
	bool		headers_only;	/* header_keys: and resolve no mapping */

	/* The resolved mapping */
	bool		resolved;
	int			columns[UPF_NFIELDS];
	int			nheaders;
	char	  **headers;
	size_t	   *header_lengths;
	char		delimiter;
	int			title_records;	/* skipped above the header */
	upf_language language;		/* of the mapped headers: for the labels */

	/* A report footer: not contacts, skipped (first and last line) */
	int32		footer_first;
	int32		footer_last;
	int32		footer_lines;
	char		footer_text[FOOTER_TEXT_SIZE];

	/* Output */
	ReturnSetInfo *rsinfo;
	MemoryContext row_context;	/* reset after every record */
	MemoryContext held_context; /* held main-contact lines */
	held_hash  *held;
	bool		extended;		/* prepare_import_lines: two more columns */
	seen_hash  *seen;			/* extended: contacts of valid lines */
	bool		with_first;		/* prepare_changed_lines: first_of_customer */
	held_hash  *customers;		/* with_first: external ids of valid lines */
	Datum		no_problems;	/* '[]'::jsonb, built once */
	long		data_records;
	long		failed_records;
	bool		report_progress;	/* pg_stat_progress_copy is ours to update */

	/* The whole input, to recover lines the reader had to cut */
	const char *content;
	size_t		content_len;

	/* prepare_changed_lines: leave out the lines that change nothing */
	bool		skip_unchanged;
	int64		organization_id;
	known_hash *known;			/* loaded at the first candidate line */
	dropped_line *dropped;
	uint32		ndropped;
	uint32		dropped_size;
	int64		unchanged_lines;	/* left out and not revived */

	/* Main-contact designations, in file order (see struct designation) */
	designation *designations;
	int			ndesignations;
	int			designations_size;
	designation *replaying;		/* the one being read again, or NULL */
} prepare_state;

/*
 * The value quoted for a message: at most MAX_QUOTED_CHARS characters,
 * then an ellipsis.
 */
static char *
quote_value(const char *value, size_t len)
{
	StringInfoData buf;
	size_t		chars = 0;
	size_t		i = 0;

	while (i < len && chars < MAX_QUOTED_CHARS)
	{
		i += pg_utf_mblen((const unsigned char *) value + i);
		chars++;
	}
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	/*
	 * Quotes doubled and control characters written as escapes, so that a
	 * crafted value cannot close the quotes and write a message of its own
	 * ("x" has been imported. Ignore: "y"), nor break it into lines.
	 */
	for (size_t k = 0; k < Min(i, len); k++)
	{
		unsigned char c = (unsigned char) value[k];

		if (c == '"')
			appendStringInfoString(&buf, "\"\"");
		else if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (c == '\t')
			appendStringInfoString(&buf, "\\t");
		else if (c < 0x20 || c == 0x7F)
			appendStringInfo(&buf, "\\x%02x", c);
		else
			appendStringInfoChar(&buf, (char) c);
	}
	if (i < len)
		appendStringInfoString(&buf, "...");
	appendStringInfoChar(&buf, '"');
	return buf.data;
}

/*
 * How a message names a field: its label in the file's language, and the
 * column's header when the file calls it otherwise ("Prénom (column
 * \"Prénom du contact\")").  Never the SQL name, which a finance user
 * never wrote.
 */
static char *
compose_field_label(int field, upf_language language, const char *header, size_t header_len)
{
	const char *label = upf_field_label(field, language);
	size_t		label_key_len;
	size_t		header_key_len;
	char	   *label_key;
	char	   *header_key;
	const char *nfkc;
	size_t		nfkc_len;

	if (header == NULL || header_len == 0)
		return pstrdup(label);
	nfkc = upflow_unicode_normalize(true, header, header_len, &nfkc_len);
	label_key_len = upf_normalize_header(label, strlen(label), NULL, 0);
	header_key_len = upf_normalize_header(nfkc, nfkc_len, NULL, 0);
	label_key = palloc(label_key_len + 1);
	header_key = palloc(header_key_len + 1);
	upf_normalize_header(label, strlen(label), label_key, label_key_len + 1);
	upf_normalize_header(nfkc, nfkc_len, header_key, header_key_len + 1);
	if (strcmp(label_key, header_key) == 0)
		return pstrdup(label);
	return psprintf("%s (column %s)", label, quote_value(header, header_len));
}

/* The language of headers, compared as header matching compares them. */
static upf_language
headers_language(const char *const *headers, const size_t *lengths, int nheaders)
{
	const char **nfkc = palloc0(sizeof(char *) * Max(nheaders, 1));
	size_t	   *nfkc_lengths = palloc0(sizeof(size_t) * Max(nheaders, 1));

	for (int i = 0; i < nheaders; i++)
	{
		if (headers[i] != NULL)
			nfkc[i] = upflow_unicode_normalize(true, headers[i], lengths[i], &nfkc_lengths[i]);
	}
	return upf_headers_language(nfkc, nfkc_lengths, nheaders);
}

static const char *
field_label(prepare_state *state, int field)
{
	int			column = state->columns[field];

	if (state->headers != NULL && column >= 0)
		return compose_field_label(field, state->language, state->headers[column],
								   state->header_lengths[column]);
	return compose_field_label(field, state->language, NULL, 0);
}

static void
push_pair(JsonbParseState **state, const char *key, const char *value)
{
	JsonbValue	k;
	JsonbValue	v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &k);
	if (value == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) value;
		v.val.string.len = strlen(value);
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * The problems of a line as a jsonb array of {code, field, severity,
 * message, hint}, built directly (no JSON text to parse again: a file with
 * many failed lines builds many of these).
 */
static Datum
problems_jsonb(line_problem *problems, int nproblems)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < nproblems; i++)
	{
		line_problem *p = &problems[i];

		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		push_pair(&state, "code", p->code);
		push_pair(&state, "field", p->field >= 0 ? upf_field_name(p->field) : NULL);
		push_pair(&state, "severity", p->warning ? "warning" : "error");
		push_pair(&state, "message", p->message);
		push_pair(&state, "hint", p->hint);
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

static void
add_problem(line_problem *problems, int *nproblems, const char *code, int field,
			bool warning, char *message, char *hint)
{
	line_problem *p;

	/* Every field has at most two problems, the line a few more. */
	Assert(*nproblems < 2 * UPF_NFIELDS + 2);
	p = &problems[(*nproblems)++];
	p->code = code;
	p->field = field;
	p->warning = warning;
	p->message = message;
	p->hint = hint;
}

static const char *
malformed_text(const csv_record *record)
{
	switch (record->status)
	{
		case CSVR_UNTERMINATED_QUOTE:
			return "a quoted value is never closed";
		case CSVR_STRAY_QUOTE:
			return "a quote is not where a quote may be: it must open and close a whole value, and a quote inside a quoted value must be doubled";
		case CSVR_FIELD_TOO_LARGE:
			return psprintf("a value is longer than upflow_import.max_field_size (%d bytes), often because a quote is never closed",
							upflow_max_field_size);
		case CSVR_RECORD_TOO_LARGE:
			return "the record is too long, often because a quote is never closed";
		case CSVR_NUL_BYTE:
			return "it contains a NUL byte";
		case CSVR_OK:
			break;
	}
	return "it cannot be read";
}

/* Resolve the mapping on the first record; ERRORs if it is not usable. */
static void
resolve(prepare_state *state, const csv_record *record)
{
	if (state->options.header)
	{
		if (record->status != CSVR_OK)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("the header line of the file is malformed"),
					 errdetail("Line %ld: %s.", record->line_number, malformed_text(record)),
					 errhint("The first line must name the columns, separated by \"%s\".",
							 state->delimiter == '\t' ? "tab" : upflow_delimiter_name(state->delimiter))));

		state->nheaders = record->nfields;
		state->headers = palloc(sizeof(char *) * Max(record->nfields, 1));
		state->header_lengths = palloc(sizeof(size_t) * Max(record->nfields, 1));
		for (int i = 0; i < record->nfields; i++)
		{
			state->headers[i] = pnstrdup(record->fields[i], record->lengths[i]);
			state->header_lengths[i] = record->lengths[i];
		}
		if (!state->headers_only)
		{
			const char *mapped[UPF_NFIELDS];
			size_t		mapped_lengths[UPF_NFIELDS];

			upflow_resolve_mapping((const char *const *) state->headers, state->header_lengths,
								   state->nheaders, state->requests, state->columns);
			for (int f = 0; f < UPF_NFIELDS; f++)
			{
				int			column = state->columns[f];

				mapped[f] = column >= 0 ? state->headers[column] : NULL;
				mapped_lengths[f] = column >= 0 ? state->header_lengths[column] : 0;
			}
			state->language = headers_language(mapped, mapped_lengths, UPF_NFIELDS);
		}
	}
	else
	{
		state->nheaders = record->status == CSVR_OK ? record->nfields : 0;
		if (!state->headers_only)
			upflow_resolve_mapping(NULL, NULL, state->nheaders, state->requests, state->columns);
	}
	state->resolved = true;
}

/* Put a row in the result. */
static void
put_row(prepare_state *state, Datum *values, bool *nulls)
{
	tuplestore_putvalues(state->rsinfo->setResult, state->rsinfo->setDesc, values, nulls);
}

/*
 * A line to read again when the file ends, in state->designations: a
 * main-contact designation, or a left-out unchanged line needed after all.
 */
static designation *
add_line_to_read_again(prepare_state *state, long line_number, size_t offset, size_t raw_len)
{
	designation *d;

	if (state->ndesignations == state->designations_size)
	{
		state->designations_size = Max(1024, state->designations_size * 2);
		state->designations = state->designations == NULL
			? MemoryContextAlloc(state->held_context,
								 sizeof(designation) * state->designations_size)
			: repalloc(state->designations, sizeof(designation) * state->designations_size);
	}
	d = &state->designations[state->ndesignations++];
	memset(d, 0, sizeof(*d));
	d->line_number = (int32) line_number;
	d->offset = offset;
	d->raw_len = (uint32) raw_len;
	return d;
}

/*
 * Remember a line designating a main contact; an earlier designation of
 * the same customer is overridden by it.
 */
static void
hold_row(prepare_state *state, const csv_record *record, long line_number,
		 bool supersedes, bool first_of_customer, const char *external_id,
		 const char *email)
{
	held_line  *held;
	designation *d;
	bool		found;

	d = add_line_to_read_again(state, line_number, record->offset, record->raw_len);
	d->supersedes = supersedes;
	d->first_of_customer = first_of_customer;

	held = held_lookup(state->held, (char *) external_id);
	if (held != NULL)
	{
		designation *earlier = &state->designations[held->index];

		earlier->winner_line = (int32) line_number;
		earlier->winner_email = MemoryContextStrdup(state->held_context, email);
	}
	else
		held = held_insert(state->held,
						   MemoryContextStrdup(state->held_context, external_id),
						   &found);
	held->index = state->ndesignations - 1;
}

static void prepare_data_record(prepare_state *state, const csv_record *record);

static int
replay_record(const csv_record *record, void *arg)
{
	prepare_state *state = (prepare_state *) arg;
	MemoryContext oldcontext = MemoryContextSwitchTo(state->row_context);

	/* The records come in the order they were fed: one per designation. */
	prepare_data_record(state, record);
	state->replaying++;
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(state->row_context);
	return 0;
}

/*
 * Read the designating lines again, in file order, and return them: with
 * their flag when they won, without it and with a warning when a later
 * line overrode them.
 */
static void
return_designations(prepare_state *state)
{
	csv_reader_options options;
	csv_reader *reader;

	if (state->ndesignations == 0)
		return;
	upflow_reader_options(&options, state->delimiter);
	options.honor_sep_line = false;
	reader = upflow_create_reader(&options, replay_record, state);

	state->replaying = state->designations;
	for (int i = 0; i < state->ndesignations; i++)
	{
		designation *d = &state->designations[i];

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		upflow_check_reader_result(csv_reader_feed(reader, state->content + d->offset,
												   d->raw_len));
		upflow_check_reader_result(csv_reader_feed(reader, "\n", 1));
	}
	upflow_check_reader_result(csv_reader_finish(reader));
	if (state->replaying != state->designations + state->ndesignations)
		elog(ERROR, "read %d of %d main-contact lines again",
			 (int) (state->replaying - state->designations), state->ndesignations);
	state->replaying = NULL;
}

/*
 * An email as lower() folds it, which is what the contact's unique index
 * compares.
 */
static char *
fold_email(const char *email, size_t email_len)
{
	char	   *folded;

	for (size_t i = 0; i < email_len; i++)
		if ((unsigned char) email[i] >= 0x80)
			return str_tolower(email, email_len, DEFAULT_COLLATION_OID);
	folded = palloc(email_len + 1);
	for (size_t i = 0; i < email_len; i++)
		folded[i] = pg_ascii_tolower((unsigned char) email[i]);
	folded[email_len] = '\0';
	return folded;
}

/*
 * The 64-bit key of a contact: its customer's external id and its folded
 * email.  A collision only makes the import look for duplicates that are
 * not there, or compare a line in SQL that it could have left out.
 */
static uint64
contact_key(const char *external_id, size_t external_id_len, const char *folded_email)
{
	uint64		key;

	key = hash_bytes_extended((const unsigned char *) external_id, (int) external_id_len, 0);
	return hash_combine64(key, hash_bytes_extended((const unsigned char *) folded_email,
												   (int) strlen(folded_email), 0));
}

/* One component of a fingerprint, its length (or NULL) hashed with it. */
static inline uint64
add_component(uint64 hash, const char *value, size_t len)
{
	if (value == NULL)
		return hash_combine64(hash, PG_UINT64_MAX);
	return hash_bytes_extended((const unsigned char *) value, (int) len,
							   hash_combine64(hash, (uint64) len));
}

/*
 * A 64-bit fingerprint of a contact as a line could change it: its key
 * in full (so that two keys whose hashes collide still differ), the
 * customer's name (a line naming it otherwise gets a warning), and each
 * contact field the file maps, NULL included.  Equal fingerprints mean
 * equal values but for a 2^-64 chance per line; a blank cell kept as is
 * ("keep") but stored with a value differs, and is compared in SQL.
 */
static uint64
contact_fingerprint(prepare_state *state, const char *const values[UPF_NFIELDS],
					const size_t lengths[UPF_NFIELDS], const char *folded_email)
{
	static const int compared[] = {UPF_FIRST_NAME, UPF_FAMILY_NAME, UPF_PHONE, UPF_POSITION};
	uint64		fingerprint = 0x75706677;

	/* Hashed in place, component by component: no copy of the line. */
	fingerprint = add_component(fingerprint, values[UPF_EXTERNAL_ID], lengths[UPF_EXTERNAL_ID]);
	fingerprint = add_component(fingerprint, folded_email, strlen(folded_email));
	fingerprint = add_component(fingerprint, values[UPF_CUSTOMER_NAME], lengths[UPF_CUSTOMER_NAME]);
	for (int i = 0; i < lengthof(compared); i++)
		if (state->columns[compared[i]] >= 0)
			fingerprint = add_component(fingerprint, values[compared[i]], lengths[compared[i]]);
	return fingerprint;
}

/*
 * Read the organization's contacts once into state->known, by cursor so
 * that only their fingerprints are held.
 */
static void
load_known_contacts(prepare_state *state)
{
	/*
	 * The organization is written into the query, not passed as a
	 * parameter: on Citus a query is routed to its shard by the value, and
	 * a generic plan (which the calling function forces, so as not to copy
	 * the file into its plans) has none.
	 */
	char	   *query = psprintf(
		"SELECT c.external_id, ct.email, c.name, ct.first_name, ct.family_name,"
		" ct.phone, ct.\"position\", ct.is_main"
		"  FROM upflow.contact ct"
		"  JOIN upflow.customer c"
		"    ON c.organization_id OPERATOR(pg_catalog.=) ct.organization_id"
		"   AND c.customer_id OPERATOR(pg_catalog.=) ct.customer_id"
		" WHERE ct.organization_id OPERATOR(pg_catalog.=) " INT64_FORMAT "::pg_catalog.int8"
		"   AND c.organization_id OPERATOR(pg_catalog.=) " INT64_FORMAT "::pg_catalog.int8",
		state->organization_id, state->organization_id);
	/* result column of each field, 1-based; 0: not read */
	static const int field_column[UPF_NFIELDS] = {
		[UPF_CUSTOMER_NAME] = 3,[UPF_EXTERNAL_ID] = 1,[UPF_EMAIL] = 2,
		[UPF_FIRST_NAME] = 4,[UPF_FAMILY_NAME] = 5,[UPF_PHONE] = 6,[UPF_POSITION] = 7,
	};
	MemoryContext row_context;
	MemoryContext oldcontext;
	Portal		portal;

	state->known = known_create(state->held_context, 1024, NULL);
	row_context = AllocSetContextCreate(CurrentMemoryContext,
										"upflow known contact",
										ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_open_with_args(NULL, query, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 row = 0; row < SPI_processed; row++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[row];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			const char *values[UPF_NFIELDS] = {0};
			size_t		lengths[UPF_NFIELDS] = {0};
			char	   *folded;
			known_contact *entry;
			bool		isnull;
			bool		found;
			uint64		key;
			uint64		fingerprint;

			oldcontext = MemoryContextSwitchTo(row_context);
			for (int f = 0; f < UPF_NFIELDS; f++)
			{
				Datum		d;

				if (field_column[f] == 0)
					continue;
				d = SPI_getbinval(tuple, desc, field_column[f], &isnull);
				if (!isnull)
				{
					text	   *t = DatumGetTextPP(d);

					values[f] = VARDATA_ANY(t);
					lengths[f] = VARSIZE_ANY_EXHDR(t);
				}
			}
			folded = fold_email(values[UPF_EMAIL], lengths[UPF_EMAIL]);
			key = contact_key(values[UPF_EXTERNAL_ID], lengths[UPF_EXTERNAL_ID], folded);
			fingerprint = contact_fingerprint(state, values, lengths, folded);
			MemoryContextSwitchTo(oldcontext);

			entry = known_insert(state->known, key, &found);
			if (found)
				entry->ambiguous = true;
			else
			{
				entry->fingerprint = fingerprint;
				entry->is_main = DatumGetBool(SPI_getbinval(tuple, desc, 8, &isnull));
				entry->ambiguous = false;
			}
			MemoryContextReset(row_context);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextDelete(row_context);
}

/* How many lines a file has at most: its line breaks, one more. */
static uint64
file_lines(const char *content, size_t len)
{
	const char *p = content;
	const char *end = content + len;
	uint64		lines = 1;

	while (p < end && (p = memchr(p, '\n', end - p)) != NULL)
	{
		lines++;
		p++;
	}
	return lines;
}

/*
 * Whether a valid line without problems changes nothing: its contact is
 * stored with the same values (see contact_fingerprint) and the same
 * main-contact flag if the line sets one.  A line naming an account
 * manager is always compared in SQL: the last line of a customer that
 * names one decides its manager.
 */
static bool
line_unchanged(prepare_state *state, uint64 key, const char *folded_email,
			   const char *const cell[UPF_NFIELDS], const size_t cell_len[UPF_NFIELDS],
			   upf_flag main_flag)
{
	known_contact *known;

	if (cell[UPF_ACCOUNT_MANAGER_EMAIL] != NULL)
		return false;
	if (state->known == NULL)
	{
		uint64		expected;

		load_known_contacts(state);

		/*
		 * The contacts seen, sized at once for as many as the organization
		 * has (a re-import names about as many), at most the file's lines:
		 * grown as the lines come, the hash held its old and new buckets
		 * together near the end of the file, when all else the reader
		 * holds is there too.  (Sized for the file's lines whatever the
		 * organization holds, the first import of a 1M-line file ended
		 * with 22MB more private memory: the allocator kept the freed
		 * table's pages.)
		 */
		expected = state->known->members;
		if (expected / SH_FILLFACTOR_SEEN > state->seen->size)
		{
			expected = Min(expected, file_lines(state->content, state->content_len));
			if (expected / SH_FILLFACTOR_SEEN > state->seen->size)
				seen_grow(state->seen, (uint64) (expected / SH_FILLFACTOR_SEEN) + 1);
		}
	}
	known = known_lookup(state->known, key);
	if (known == NULL || known->ambiguous)
		return false;
	if (main_flag == UPF_FLAG_TRUE && !known->is_main)
		return false;
	if (main_flag == UPF_FLAG_FALSE && known->is_main)
		return false;
	return contact_fingerprint(state, cell, cell_len, folded_email) == known->fingerprint;
}

/* Leave a line out; where it is, is kept in case it is needed after all. */
static void
drop_line(prepare_state *state, const csv_record *record, long line, seen_contact *seen)
{
	dropped_line *d;

	if (state->ndropped == state->dropped_size)
	{
		state->dropped_size = Max(1024, state->dropped_size * 2);
		state->dropped = state->dropped == NULL
			? MemoryContextAllocHuge(state->held_context,
									 sizeof(dropped_line) * state->dropped_size)
			: repalloc_huge(state->dropped, sizeof(dropped_line) * state->dropped_size);
	}
	d = &state->dropped[state->ndropped++];
	d->offset = record->offset;
	d->raw_len = (uint32) record->raw_len;
	d->line_number = (int32) line;
	seen->dropped = state->ndropped;
	state->unchanged_lines++;
}

/*
 * A later line names the contact of a left-out line: the import needs the
 * earlier line too (it skips it, with a warning).  It is read again at
 * the end, with the main-contact designations.
 */
static void
revive_line(prepare_state *state, seen_contact *seen)
{
	dropped_line *d = &state->dropped[seen->dropped - 1];
	designation *r;

	r = add_line_to_read_again(state, d->line_number, d->offset, d->raw_len);
	r->revived = true;			/* its customer is stored: not first_of_customer */
	seen->dropped = 0;
	state->unchanged_lines--;
}

/*
 * Whether a valid line is the first of its customer (external id) among
 * the lines returned.  A customer whose first valid line was left out as
 * unchanged is stored already, so the import does not create it anyway.
 */
static bool
first_of_customer(prepare_state *state, const char *external_id, size_t len)
{
	char	   *key;
	bool		found;

	if (!state->with_first)
		return false;
	key = pnstrdup(external_id, len);
	if (held_lookup(state->customers, key) != NULL)
		return false;
	held_insert(state->customers, MemoryContextStrdup(state->held_context, key), &found);
	return true;
}

/*
 * The line as uploaded.  Text input cannot hold NUL bytes, so raw text is
 * always valid.  The reader keeps at most max_record_size bytes of a
 * malformed line; the whole line is still in the input, and a rejected
 * line is kept whole.
 */
static void
set_raw_line(prepare_state *state, const csv_record *record, Datum *values, bool *nulls)
{
	if (record->raw_truncated)
	{
		const char *start = state->content + record->offset;
		size_t		avail = state->content_len - record->offset;
		size_t		line_len = 0;

		while (line_len < avail && start[line_len] != '\n' && start[line_len] != '\r')
			line_len++;
		values[COL_RAW_LINE] = PointerGetDatum(cstring_to_text_with_len(start, line_len));
	}
	else
		values[COL_RAW_LINE] = PointerGetDatum(cstring_to_text_with_len(record->raw, record->raw_len));
	nulls[COL_RAW_LINE] = false;
}

/*
 * The text of a row returned: its raw line and its cleaned cells.  Built
 * only for a row that is returned, not for a line left out as unchanged.
 */
static void
set_row_text(prepare_state *state, const csv_record *record,
			 const char *const cell[UPF_NFIELDS], const size_t cell_len[UPF_NFIELDS],
			 upf_flag main_flag, Datum *values, bool *nulls)
{
	set_raw_line(state, record, values, nulls);
	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		if (f == UPF_IS_MAIN)
		{
			if (main_flag == UPF_FLAG_TRUE || main_flag == UPF_FLAG_FALSE)
			{
				values[COL_FIELDS + f] = BoolGetDatum(main_flag == UPF_FLAG_TRUE);
				nulls[COL_FIELDS + f] = false;
			}
			continue;
		}
		if (cell[f] != NULL)
		{
			values[COL_FIELDS + f] = PointerGetDatum(cstring_to_text_with_len(cell[f], cell_len[f]));
			nulls[COL_FIELDS + f] = false;
		}
	}
}

static void
prepare_data_record(prepare_state *state, const csv_record *record)
{
	Datum		values[MAX_COLUMNS];
	bool		nulls[MAX_COLUMNS];
	line_problem problems[2 * UPF_NFIELDS + 2];
	int			nproblems = 0;
	bool		failed = false;
	const char *cell[UPF_NFIELDS];
	size_t		cell_len[UPF_NFIELDS];
	upf_flag	main_flag = UPF_FLAG_UNSET;
	char	   *folded = NULL;
	uint64		key = 0;
	bool		supersedes = false;
	seen_contact *seen = NULL;
	designation *replaying = state->replaying;
	long		line = replaying ? replaying->line_number : record->line_number;

	memset(nulls, true, sizeof(nulls));
	values[COL_LINE_NUMBER] = Int32GetDatum((int32) line);
	nulls[COL_LINE_NUMBER] = false;

	if (record->status != CSVR_OK)
	{
		add_problem(problems, &nproblems, "malformed_csv", -1, false,
					psprintf("Line %ld cannot be read: %s.", line, malformed_text(record)),
					pstrdup("Check the quotes on this line: a value that contains the separator, a quote or a line break must be enclosed in quotes, and a quote inside it must be doubled (\"\")."));
		values[COL_ERRORS] = problems_jsonb(problems, nproblems);
		nulls[COL_ERRORS] = false;
		values[COL_FAILED] = BoolGetDatum(true);
		nulls[COL_FAILED] = false;
		values[COL_SUPERSEDES] = BoolGetDatum(false);
		nulls[COL_SUPERSEDES] = false;
		values[COL_FIRST_OF_CUSTOMER] = BoolGetDatum(false);
		nulls[COL_FIRST_OF_CUSTOMER] = false;
		state->data_records++;
		state->failed_records++;
		set_raw_line(state, record, values, nulls);
		put_row(state, values, nulls);
		return;
	}

	/* A record whose every cell is empty is a blank line: skipped. */
	{
		bool		blank = true;

		for (int i = 0; i < record->nfields && blank; i++)
		{
			size_t		len;

			upf_clean_value(record->fields[i], record->lengths[i], &len);
			if (len > 0)
				blank = false;
		}
		if (blank)
			return;
	}

	/*
	 * A report's footer ("Grand Totals (3 records)", "Confidential
	 * Information - Do Not Distribute", ...), and every row of at most one
	 * cell after it: not contacts.  Skipped, and told once (upflow.report_footer).
	 */
	if (!replaying && record->nfields >= 1 &&
		upf_is_title_row((const char *const *) record->fields, record->lengths, record->nfields) &&
		(state->footer_first > 0 || upf_is_report_footer(record->fields[0], record->lengths[0])))
	{
		if (state->footer_first == 0)
		{
			size_t		len;
			const char *v;
			size_t		n;

			v = upf_clean_value(record->fields[0], record->lengths[0], &len);
			n = Min(len, FOOTER_TEXT_SIZE - 1);
			/* Not cut inside a UTF-8 character. */
			if (n < len)
				while (n > 0 && ((unsigned char) v[n] & 0xC0) == 0x80)
					n--;
			memcpy(state->footer_text, v, n);
			state->footer_text[n] = '\0';
			state->footer_first = (int32) line;
		}
		state->footer_last = (int32) line;
		state->footer_lines++;
		return;
	}
	if (!replaying)
		state->data_records++;

	/* Cells beyond the header that hold something. */
	if (state->options.header && record->nfields > state->nheaders)
	{
		for (int i = state->nheaders; i < record->nfields; i++)
		{
			size_t		len;
			const char *v = upf_clean_value(record->fields[i], record->lengths[i], &len);

			if (len > 0)
			{
				add_problem(problems, &nproblems, "too_many_fields", -1, false,
							psprintf("Line %ld has %d cells but the header has %d; cell %d holds %s.",
									 line, record->nfields, state->nheaders, i + 1,
									 quote_value(v, len)),
							psprintf("Remove the extra cells, or enclose in quotes the values that contain the separator \"%s\".",
									 state->delimiter == '\t' ? "tab" : upflow_delimiter_name(state->delimiter)));
				failed = true;
				break;
			}
		}
	}

	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		int			column = state->columns[f];
		const char *v;
		size_t		len;

		cell[f] = NULL;
		cell_len[f] = 0;
		if (column < 0)
			continue;
		if (column >= record->nfields)
			v = "", len = 0;
		else
			v = upf_clean_value(record->fields[column], record->lengths[column], &len);

		if (len == 0)
		{
			if (upf_field_required(f))
			{
				add_problem(problems, &nproblems, "missing_required_field", f, false,
							psprintf("Line %ld: the required field %s is empty.", line, field_label(state, f)),
							psprintf("Fill in %s on this line; customer name, client ID and contact email are required on every line.",
									 upf_field_label(f, state->language)));
				failed = true;
			}
			continue;
		}

		/* One form for one text: "é" from a Mac (e + accent) is "é". */
		if (f != UPF_IS_MAIN)
			v = upflow_unicode_normalize(false, v, len, &len);
		cell[f] = v;
		cell_len[f] = len;

		/*
		 * An invisible character in a key or an email makes a look-alike:
		 * two customers, or two contacts, that read the same.  Refused.
		 */
		if (f == UPF_EXTERNAL_ID || f == UPF_EMAIL || f == UPF_ACCOUNT_MANAGER_EMAIL)
		{
			uint32_t	codepoint;
			size_t		position;
			long		at = upf_find_invisible(v, len, &codepoint, &position);

			if (at >= 0)
			{
				/* Shown as <U+XXXX>: a direction override would garble the message. */
				unsigned char lead = (unsigned char) v[at];
				size_t		width = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
				char	   *shown = psprintf("%.*s<U+%04X>%.*s", (int) at, v, (unsigned int) codepoint,
											 (int) (len - Min(len, at + width)), v + Min(len, at + width));

				add_problem(problems, &nproblems, "invisible_character", f, false,
							psprintf("Line %ld: %s %s contains an invisible character (U+%04X) at character %zu.",
									 line, field_label(state, f), quote_value(shown, strlen(shown)),
									 (unsigned int) codepoint, position),
							pstrdup("Type the value again: a zero-width space, a direction mark or another invisible character makes it look like another one."));
				failed = true;
				continue;
			}
		}

		/* Several client IDs in one cell (HubSpot's "9002;9003"). */
		if (f == UPF_EXTERNAL_ID && upf_is_multiple_id(v, len))
		{
			add_problem(problems, &nproblems, "multiple_client_ids", f, false,
						psprintf("Line %ld: %s %s holds several client IDs; a line names one customer.",
								 line, field_label(state, f), quote_value(v, len)),
						pstrdup("Keep one client ID in the cell: repeat the contact's line for each of its customers."));
			failed = true;
			continue;
		}

		if (f == UPF_IS_MAIN)
		{
			if (state->ignore_main)
			{
				cell[f] = NULL;
				continue;
			}
			main_flag = upf_parse_flag(v, len);
			if (main_flag == UPF_FLAG_INVALID)
			{
				add_problem(problems, &nproblems, "invalid_main_flag", f, false,
							psprintf("Line %ld: %s value %s is not understood.",
									 line, field_label(state, f), quote_value(v, len)),
							pstrdup("Write 1 (or yes, oui, true, x) to make this contact the customer's main contact, 0 (or no, non, false) to remove the flag, or leave the cell empty to change nothing."));
				failed = true;
			}
			continue;
		}

		if (upf_utf8_chars(v, len) > upf_field_max_chars(f))
		{
			add_problem(problems, &nproblems, "value_too_long", f, false,
						psprintf("Line %ld: %s %s is %zu characters long; at most %zu are allowed.",
								 line, field_label(state, f), quote_value(v, len),
								 upf_utf8_chars(v, len), upf_field_max_chars(f)),
						psprintf("Shorten the value to %zu characters.", upf_field_max_chars(f)));
			failed = true;
			continue;
		}

		if (f == UPF_EMAIL || f == UPF_ACCOUNT_MANAGER_EMAIL)
		{
			upf_email_problem ep = upf_check_email(v, len);

			if (ep != UPF_EMAIL_OK)
			{
				add_problem(problems, &nproblems, "invalid_email", f, false,
							psprintf("Line %ld: %s %s is not a valid email address: %s.",
									 line, field_label(state, f), quote_value(v, len),
									 upf_email_problem_text(ep)),
							pstrdup("Correct the address so that it reads like name@company.com, with no spaces."));
				failed = true;
			}
		}
		else if (f == UPF_PHONE)
		{
			upf_phone_problem pp = upf_check_phone(v, len);

			if (pp != UPF_PHONE_OK)
			{
				add_problem(problems, &nproblems, "invalid_phone", f, false,
							psprintf("Line %ld: %s %s is not a valid phone number: %s.",
									 line, field_label(state, f), quote_value(v, len),
									 upf_phone_problem_text(pp)),
							pstrdup("Write the number with digits, an optional leading +, and spaces, dots or dashes, e.g. +33 1 23 45 67 89."));
				failed = true;
			}
		}
	}

	values[COL_ERRORS] = nproblems > 0 ? problems_jsonb(problems, nproblems) : state->no_problems;
	nulls[COL_ERRORS] = false;
	if (failed)
		state->failed_records++;
	values[COL_FAILED] = BoolGetDatum(failed);
	nulls[COL_FAILED] = false;

	/*
	 * Whether an earlier valid line named the same contact (same external
	 * id, same folded email): the reader's share of duplicate detection.
	 */
	if (!failed && state->extended &&
		(!replaying || (state->skip_unchanged && !replaying->revived)))
	{
		/* (a designation read again needs it only to be left out) */
		folded = fold_email(cell[UPF_EMAIL], cell_len[UPF_EMAIL]);
		key = contact_key(cell[UPF_EXTERNAL_ID], cell_len[UPF_EXTERNAL_ID], folded);
	}
	if (replaying)
		supersedes = replaying->supersedes;
	else if (!failed && state->extended)
	{
		bool		found;

		seen = seen_insert(state->seen, key, &found);
		if (!found)
		{
			seen->dropped = 0;
			seen->repeated = false;
		}
		else
		{
			supersedes = true;
			seen->repeated = true;
			if (seen->dropped > 0)
				revive_line(state, seen);
		}
	}
	values[COL_SUPERSEDES] = BoolGetDatum(supersedes);
	nulls[COL_SUPERSEDES] = false;

	if (replaying)
		values[COL_FIRST_OF_CUSTOMER] = BoolGetDatum(replaying->first_of_customer);
	else
		values[COL_FIRST_OF_CUSTOMER] = BoolGetDatum(false);
	nulls[COL_FIRST_OF_CUSTOMER] = false;

	if (replaying)
	{
		/* A designation read again: it won, or a later line overrode it. */
		if (replaying->winner_line == 0 && state->skip_unchanged && !replaying->revived &&
			!failed && nproblems == 0 && !supersedes &&
			!seen_lookup(state->seen, key)->repeated &&
			line_unchanged(state, key, folded, cell, cell_len, main_flag))
		{
			state->unchanged_lines++;
			return;
		}
		set_row_text(state, record, cell, cell_len, main_flag, values, nulls);
		if (replaying->winner_line > 0)
		{
			line_problem problem;

			problem.code = "main_contact_overridden";
			problem.field = UPF_IS_MAIN;
			problem.warning = true;
			problem.message = psprintf("Line %ld: %s is designated main contact of customer %s, but line %ld designates %s later; the later line wins.",
									   line, quote_value(cell[UPF_EMAIL], cell_len[UPF_EMAIL]),
									   quote_value(cell[UPF_EXTERNAL_ID], cell_len[UPF_EXTERNAL_ID]),
									   (long) replaying->winner_line,
									   quote_value(replaying->winner_email,
												   strlen(replaying->winner_email)));
			problem.hint = pstrdup("Mark one main contact per customer in the file.");
			values[COL_FIELDS + UPF_IS_MAIN] = (Datum) 0;
			nulls[COL_FIELDS + UPF_IS_MAIN] = true;
			values[COL_ERRORS] = problems_jsonb(&problem, 1);
		}
		put_row(state, values, nulls);
	}
	else if (!failed && main_flag == UPF_FLAG_TRUE)
		hold_row(state, record, line, supersedes,
				 first_of_customer(state, cell[UPF_EXTERNAL_ID], cell_len[UPF_EXTERNAL_ID]),
				 pnstrdup(cell[UPF_EXTERNAL_ID], cell_len[UPF_EXTERNAL_ID]),
				 pnstrdup(cell[UPF_EMAIL], cell_len[UPF_EMAIL]));
	else if (state->skip_unchanged && !failed && nproblems == 0 && !supersedes &&
			 line_unchanged(state, key, folded, cell, cell_len, main_flag))
		drop_line(state, record, line, seen);
	else
	{
		if (!failed)
			values[COL_FIRST_OF_CUSTOMER] =
				BoolGetDatum(first_of_customer(state, cell[UPF_EXTERNAL_ID],
											   cell_len[UPF_EXTERNAL_ID]));
		set_row_text(state, record, cell, cell_len, main_flag, values, nulls);
		put_row(state, values, nulls);
	}
}

static int
prepare_record(const csv_record *record, void *arg)
{
	prepare_state *state = (prepare_state *) arg;
	MemoryContext oldcontext;

	if (!state->resolved)
	{
		/*
		 * Title rows above the header ("Export des contacts - 01/12/2026;;;"
		 * then ";;;", as a spreadsheet pads them): a header names at least
		 * the required columns, so a record of several cells holding at
		 * most the first is not one.  A record of one cell stays the header
		 * (a file read with the wrong separator must say so).
		 */
		if (state->options.header && record->status == CSVR_OK &&
			record->nfields >= 2 && state->title_records < MAX_TITLE_RECORDS &&
			upf_is_title_row((const char *const *) record->fields, record->lengths, record->nfields))
		{
			state->title_records++;
			return 0;
		}
		resolve(state, record);
		if (state->mapping_only)
			return 1;
		if (state->options.header)
			return 0;
	}

	if ((state->data_records & 1023) == 0)
	{
		CHECK_FOR_INTERRUPTS();
		if (state->report_progress)
		{
			const int	index[2] = {PROGRESS_COPY_TUPLES_PROCESSED, PROGRESS_COPY_TUPLES_EXCLUDED};
			const int64 value[2] = {state->data_records, state->failed_records};

			pgstat_progress_update_multi_param(2, index, value);
		}
	}

	oldcontext = MemoryContextSwitchTo(state->row_context);
	prepare_data_record(state, record);
	MemoryContextSwitchTo(oldcontext);
	MemoryContextReset(state->row_context);
	return 0;
}

/* Read the whole text, or only its first record when mapping_only. */
static void
read_content(prepare_state *state, text *content)
{
	const char *data = VARDATA_ANY(content);
	size_t		len = VARSIZE_ANY_EXHDR(content);
	csv_reader_options options;
	csv_reader *reader;
	int			rc = CSV_READER_OK;

	upflow_check_file_size(len);
	state->content = data;
	state->content_len = len;
	state->delimiter = state->options.delimiter ? state->options.delimiter
		: csv_detect_delimiter(data, len);

	upflow_reader_options(&options, state->delimiter);
	reader = upflow_create_reader(&options, prepare_record, state);

	/*
	 * Progress goes to pg_stat_progress_copy, where another session (the
	 * command-line importer's progress bar) reads it.  An import started the
	 * command already (upflow.start_import_progress); on its own,
	 * prepare_contacts reports for the time it runs.
	 */
	state->report_progress = !state->mapping_only;
	if (state->report_progress)
	{
		bool		ours = (MyBEEntry == NULL ||
							MyBEEntry->st_progress_command != PROGRESS_COMMAND_COPY);

		if (ours)
			upflow_progress_start(len);
		for (size_t offset = 0; offset < len && rc == CSV_READER_OK; offset += FEED_CHUNK_SIZE)
		{
			CHECK_FOR_INTERRUPTS();
			rc = csv_reader_feed(reader, data + offset, Min(FEED_CHUNK_SIZE, len - offset));
			upflow_check_reader_result(rc);
			pgstat_progress_update_param(PROGRESS_COPY_BYTES_PROCESSED,
										 (int64) Min(offset + FEED_CHUNK_SIZE, len));
		}
		if (rc == CSV_READER_OK)
			upflow_check_reader_result(csv_reader_finish(reader));
		{
			const int	index[2] = {PROGRESS_COPY_TUPLES_PROCESSED, PROGRESS_COPY_TUPLES_EXCLUDED};
			const int64 value[2] = {state->data_records, state->failed_records};

			pgstat_progress_update_multi_param(2, index, value);
		}
		if (ours)
			pgstat_progress_end_command();
	}
	else
	{
		for (size_t offset = 0; offset < len && rc == CSV_READER_OK; offset += FEED_CHUNK_SIZE)
		{
			rc = csv_reader_feed(reader, data + offset, Min(FEED_CHUNK_SIZE, len - offset));
			upflow_check_reader_result(rc);
		}
		if (rc == CSV_READER_OK)
			upflow_check_reader_result(csv_reader_finish(reader));
	}

	/* A "sep=" line may have changed the delimiter. */
	state->delimiter = csv_reader_delimiter(reader);

	if (!state->resolved)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("the file is empty"),
				 errhint("The first line of the file must name its columns, e.g. \"Customer name;Client ID (External Id);Contact email address\".")));
}

/*
 * Settings of the organization that shape preparation.  Also the tenant
 * check: ERRORs if the caller may not use this organization, without
 * telling whether another organization exists.
 */
static bool
organization_main_from_integration(int64 organization_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(organization_id)};
	bool		isnull;
	bool		result;

	SPI_connect();
	SPI_execute_with_args("SELECT o.main_contact_from_integration "
						  "FROM upflow.organization_for_import($1, false) o",
						  1, argtypes, args, NULL, true, 1);
	if (SPI_processed != 1)
		elog(ERROR, "organization_for_import returned " UINT64_FORMAT " rows", SPI_processed);
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return result;
}

static void
init_state(prepare_state *state, FunctionCallInfo fcinfo)
{
	memset(state, 0, sizeof(*state));
	upflow_parse_options(PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3), &state->options);
	upflow_parse_mapping(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), state->requests);
	state->ignore_main = organization_main_from_integration(PG_GETARG_INT64(0));
}

/*
 * The body of prepare_contacts, prepare_import_lines (two more columns)
 * and prepare_changed_lines (which leaves out unchanged lines).
 */
static Datum
prepare_lines(FunctionCallInfo fcinfo, bool skip_unchanged)
{
	prepare_state state;
	int			save_nestlevel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("organization_id must not be NULL")));

	last_unchanged_lines = 0;
	last_footer_first = last_footer_last = last_footer_lines = 0;
	last_footer_text[0] = '\0';

	/*
	 * The rows wait in a tuplestore of work_mem, then on disk, while the
	 * file and the hashes of the reader are in memory: the peak of an
	 * import.  Its memory is kept small (the same rows are written to disk
	 * when they are more, as they are whenever they are many).
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("work_mem", RESULT_MEMORY, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	SetSingleFuncCall(fcinfo, 0);
	AtEOXact_GUC(true, save_nestlevel);
	init_state(&state, fcinfo);
	if (PG_ARGISNULL(1))
		return (Datum) 0;

	state.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	state.row_context = AllocSetContextCreate(CurrentMemoryContext,
											  "upflow prepare_contacts row",
											  ALLOCSET_DEFAULT_SIZES);
	state.held_context = AllocSetContextCreate(CurrentMemoryContext,
											   "upflow prepare_contacts main contacts",
											   ALLOCSET_DEFAULT_SIZES);
	state.held = held_create(state.held_context, 256, NULL);
	state.extended = (state.rsinfo->setDesc->natts >= EXTENDED_COLUMNS);
	if (state.extended)
		state.seen = seen_create(state.held_context, 1024, NULL);
	state.with_first = (state.rsinfo->setDesc->natts == MAX_COLUMNS);
	if (state.with_first)
		state.customers = held_create(state.held_context, 1024, NULL);
	state.skip_unchanged = skip_unchanged && state.extended;
	state.organization_id = PG_GETARG_INT64(0);
	state.no_problems = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));

	read_content(&state, PG_GETARG_TEXT_PP(1));
	return_designations(&state);

	last_unchanged_lines = state.unchanged_lines;
	last_footer_first = state.footer_first;
	last_footer_last = state.footer_last;
	last_footer_lines = state.footer_lines;
	memcpy(last_footer_text, state.footer_text, FOOTER_TEXT_SIZE);
	MemoryContextDelete(state.held_context);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(upflow_prepare_contacts);

Datum
upflow_prepare_contacts(PG_FUNCTION_ARGS)
{
	return prepare_lines(fcinfo, false);
}

PG_FUNCTION_INFO_V1(upflow_prepare_changed_lines);

Datum
upflow_prepare_changed_lines(PG_FUNCTION_ARGS)
{
	return prepare_lines(fcinfo, true);
}

PG_FUNCTION_INFO_V1(upflow_unchanged_line_count);

/*
 * upflow.unchanged_line_count(): how many lines the last
 * prepare_changed_lines of this session left out as unchanged.
 */
Datum
upflow_unchanged_line_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(last_unchanged_lines);
}

PG_FUNCTION_INFO_V1(upflow_report_footer);

/*
 * upflow.report_footer(): the report footer the last preparation of this
 * session skipped, as {"first_line", "last_line", "lines", "text"}, or NULL.
 */
Datum
upflow_report_footer(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	if (last_footer_lines == 0)
		PG_RETURN_NULL();
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"first_line\": %d, \"last_line\": %d, \"lines\": %d, \"text\": ",
					 last_footer_first, last_footer_last, last_footer_lines);
	escape_json(&buf, last_footer_text);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * The headers as header matching compares them (NFKC, then normalized), as
 * a JSON array (null without a header line): a saved mapping is found
 * again for a file with the same keys.
 */
static void
append_header_keys(StringInfo buf, const prepare_state *state)
{
	if (state->headers == NULL)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < state->nheaders; i++)
	{
		size_t		nfkc_len;
		const char *nfkc = upflow_unicode_normalize(true, state->headers[i],
													 state->header_lengths[i], &nfkc_len);
		size_t		key_len = upf_normalize_header(nfkc, nfkc_len, NULL, 0);
		char	   *key = palloc(key_len + 1);

		upf_normalize_header(nfkc, nfkc_len, key, key_len + 1);
		if (i > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, key);
	}
	appendStringInfoChar(buf, ']');
}

PG_FUNCTION_INFO_V1(upflow_header_keys);

/*
 * upflow.header_keys(content, options): the keys of the file's headers
 * (see append_header_keys), without resolving any mapping.
 */
Datum
upflow_header_keys(PG_FUNCTION_ARGS)
{
	prepare_state state;
	StringInfoData buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	memset(&state, 0, sizeof(state));
	upflow_parse_options(PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), &state.options);
	state.mapping_only = true;
	state.headers_only = true;
	read_content(&state, PG_GETARG_TEXT_PP(0));
	initStringInfo(&buf);
	append_header_keys(&buf, &state);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

PG_FUNCTION_INFO_V1(upflow_detect_mapping);

/*
 * upflow.detect_mapping(content, mapping, options): the mapping an import
 * would use, as jsonb {"delimiter", "header", "headers", "mapping"}, or
 * the mapping ERROR an import would raise.
 */
Datum
upflow_detect_mapping(PG_FUNCTION_ARGS)
{
	prepare_state state;
	StringInfoData buf;
	Jsonb	   *mapping;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	memset(&state, 0, sizeof(state));
	upflow_parse_mapping(PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), state.requests);
	upflow_parse_options(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2), &state.options);
	state.mapping_only = true;

	read_content(&state, PG_GETARG_TEXT_PP(0));

	mapping = upflow_mapping_jsonb((const char *const *) state.headers, state.header_lengths,
								   state.nheaders, state.columns);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"delimiter\": ");
	escape_json(&buf, upflow_delimiter_name(state.delimiter));
	appendStringInfo(&buf, ", \"header\": %s, \"headers\": ", state.options.header ? "true" : "false");
	if (state.headers != NULL)
	{
		appendStringInfoChar(&buf, '[');
		for (int i = 0; i < state.nheaders; i++)
		{
			if (i > 0)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, pnstrdup(state.headers[i], state.header_lengths[i]));
		}
		appendStringInfoChar(&buf, ']');
	}
	else
		appendStringInfoString(&buf, "null");
	appendStringInfo(&buf, ", \"columns\": %d, \"mapping\": %s}", state.nheaders,
					 JsonbToCString(NULL, &mapping->root, VARSIZE(mapping)));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * Progress of a whole import in pg_stat_progress_copy: started by
 * apply_import before it prepares the lines, ended when it is done (or by
 * the abort of its transaction).
 */
void
upflow_progress_start(size_t bytes_total)
{
	const int	index[4] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE,
	PROGRESS_COPY_BYTES_TOTAL, PROGRESS_COPY_BYTES_PROCESSED};
	const int64 value[4] = {PROGRESS_COPY_COMMAND_FROM, PROGRESS_COPY_TYPE_CALLBACK,
	(int64) bytes_total, 0};
	Oid			contact = get_relname_relid("contact", get_namespace_oid("upflow", false));

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, contact);
	pgstat_progress_update_multi_param(4, index, value);
}

PG_FUNCTION_INFO_V1(upflow_start_import_progress);

Datum
upflow_start_import_progress(PG_FUNCTION_ARGS)
{
	upflow_progress_start(PG_ARGISNULL(0) ? 0 : (size_t) PG_GETARG_INT64(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(upflow_end_import_progress);

Datum
upflow_end_import_progress(PG_FUNCTION_ARGS)
{
	pgstat_progress_end_command();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(upflow_field_label);

/*
 * upflow.field_label(field, mapping): how a message names a field of an
 * import whose mapping (field -> header, as stored with the import) is
 * given, as the line messages of prepare_contacts name it.  NULL for a
 * name that is not a field.
 */
Datum
upflow_field_label(PG_FUNCTION_ARGS)
{
	text	   *field_text = PG_GETARG_TEXT_PP(0);
	Jsonb	   *mapping = PG_GETARG_JSONB_P(1);
	int			field = upf_field_by_name(VARDATA_ANY(field_text), VARSIZE_ANY_EXHDR(field_text));
	const char *headers[UPF_NFIELDS] = {0};
	size_t		lengths[UPF_NFIELDS] = {0};

	if (field < 0)
		PG_RETURN_NULL();
	if (JB_ROOT_IS_OBJECT(mapping))
	{
		JsonbIterator *it = JsonbIteratorInit(&mapping->root);
		JsonbValue	v;
		JsonbIteratorToken token;
		int			key_field = -1;

		while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (token == WJB_KEY)
				key_field = upf_field_by_name(v.val.string.val, v.val.string.len);
			else if (token == WJB_VALUE && key_field >= 0 && v.type == jbvString)
			{
				headers[key_field] = pnstrdup(v.val.string.val, v.val.string.len);
				lengths[key_field] = v.val.string.len;
			}
		}
	}
	PG_RETURN_TEXT_P(cstring_to_text(compose_field_label(field,
														 headers_language(headers, lengths, UPF_NFIELDS),
														 headers[field], lengths[field])));
}
