/*-------------------------------------------------------------------------
 *
 * fuzz_csv_reader.c
 *		libFuzzer harness of the streaming CSV reader (src/csv_reader.c).
 *
 * The input is a CSV file as uploaded (no control bytes: corpus files are
 * plain CSV).  It is read with each delimiter ( , ; | tab ), with the
 * default caps and with tiny ones (max_field_size 16, max_record_size 64
 * or its default 1024) so that the caps are hit, "sep=" lines honoured or
 * not; and for each of those settings:
 *
 *	- whole, byte by byte, at a few split points derived from the input
 *	  (every split point when the input is short): all readings must give
 *	  identical records (line numbers, statuses, raw text, fields, error
 *	  positions), return code, delimiter, line count;
 *	- stopped by the callback at a record chosen from the input: the
 *	  records seen must be a prefix of the full reading;
 *	- with a tiny re-read budget: must stop cleanly;
 *	- with an allocation failing (once, or from then on): same reading,
 *	  or CSV_READER_NOMEM after a prefix of the records, nothing leaked.
 *
 * Each record is checked against the input (physical lines recomputed
 * here, independently of the reader):
 *
 *	- lines start at 1, records come in order and their line spans never
 *	  overlap; every non-blank line belongs to some record;
 *	- a complete record's raw text is exactly its lines, without the final
 *	  line break; a malformed record's raw text is its first line (cut at
 *	  max_record_size, raw_truncated set then only); the offset is where
 *	  the record starts in the input;
 *	- OK records: at least one field, NUL-terminated fields with no NUL
 *	  inside, none longer than max_field_size, no more bytes than the raw
 *	  text; on a single line without quotes, the fields are the raw text
 *	  split on the delimiter and trimmed (an independent reference);
 *	- malformed records carry no fields; NUL_BYTE records contain a NUL;
 *	- peak memory stays within a bound set by the caps.
 *
 * A failed check calls abort(), which libFuzzer reports as a crash.  The
 * same file is built without libFuzzer by test/fuzz/replay.c.
 *
 * test/fuzz/fuzz_csv_reader.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The reader is compiled into this file, with its allocations redirected
 * to fz_realloc and fz_calloc, which fail on demand: that is how the
 * out-of-memory paths are fuzzed too (CSV_READER_NOMEM, then a clean
 * free).  <stdlib.h> comes first so that its declarations keep the real
 * names.
 */
static long fz_alloc_count;		/* allocations counted so far */
static long fz_alloc_fail_at = -1;	/* fail the one with this index (-1: none) */
static bool fz_alloc_fail_after;	/* ... and every later one */

static bool
fz_alloc_fails(void)
{
	long		i;

	if (fz_alloc_fail_at < 0)
		return false;
	i = fz_alloc_count++;
	return i == fz_alloc_fail_at || (fz_alloc_fail_after && i > fz_alloc_fail_at);
}

static void *
fz_realloc(void *ptr, size_t size)
{
	return fz_alloc_fails() ? NULL : realloc(ptr, size);
}

static void *
fz_calloc(size_t n, size_t size)
{
	return fz_alloc_fails() ? NULL : calloc(n, size);
}

#define realloc fz_realloc
#define calloc fz_calloc
#include "csv_reader.c"
#undef realloc
#undef calloc

/* The reader's defaults (csv_reader.c), to know which caps are in force */
#define DEFAULT_FIELD_SIZE	((size_t) 64 * 1024)
#define RECORD_FACTOR		64
#define SIZE_LIMIT			((size_t) 0x3fffffff)
#define ENTRY_HEADROOM		(3 + 64)

/* Inputs up to this size are also read split at every single point */
#define EVERY_SPLIT_MAX		64

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			check_failed(#cond, __LINE__); \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reading under test, for diagnostics */
static const char *current_what = "";
static char current_delim;

static void
check_failed(const char *cond, int line)
{
	fprintf(stderr, "fuzz_csv_reader: check failed at line %d: %s (delimiter 0x%02x, %s)\n",
			line, cond, (unsigned char) current_delim, current_what);
	abort();
}

/* A growable byte buffer */
typedef struct bytes
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
} bytes;

static void
bytes_add(bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->data = realloc(b->data, cap);
		CHECK(b->data != NULL);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
bytes_add_long(bytes *b, long v)
{
	bytes_add(b, &v, sizeof(v));
}

/* The input cut into physical lines, as the reader must see them */
typedef struct lines
{
	const unsigned char *text;	/* input after the BOM */
	size_t		len;
	size_t		bom_len;		/* 3 if the input starts with a BOM, else 0 */
	size_t	   *start;			/* start[i]: offset of line i + 1 */
	size_t	   *end;			/* end[i]: offset of its line break or len */
	long		n;
} lines;

static void
lines_build(lines *ls, const unsigned char *data, size_t size)
{
	size_t		i = 0;

	ls->bom_len = 0;
	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
	{
		ls->bom_len = 3;
		data += 3;
		size -= 3;
	}
	ls->text = data;
	ls->len = size;
	ls->start = malloc((size + 1) * sizeof(size_t));
	ls->end = malloc((size + 1) * sizeof(size_t));
	CHECK(ls->start != NULL && ls->end != NULL);
	ls->n = 0;
	while (i < size)
	{
		ls->start[ls->n] = i;
		while (i < size && data[i] != '\n' && data[i] != '\r')
			i++;
		ls->end[ls->n] = i;
		ls->n++;
		if (i < size && data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
			i++;
		if (i < size)
			i++;
	}
}

static void
lines_free(lines *ls)
{
	free(ls->start);
	free(ls->end);
}

/* One setting of the reader, and what its full reading gave */
typedef struct setting
{
	csv_reader_options opts;
	size_t		field_cap;		/* caps in force */
	size_t		record_cap;
	bool		sep_line;		/* line 1 is a "sep=" line the reader eats */
	char		delim;			/* delimiter in force */
} setting;

/* State of one reading */
typedef struct reading
{
	const setting *set;
	const lines *ls;
	csv_reader *reader;
	bytes		out;			/* records, serialized */
	bytes		ends;			/* out.len after each record (size_t each) */
	long		nrecords;
	long		next_line;		/* first line a next record may start on */
	long		stop_at;		/* stop on this record (1-based), 0: never */
	bool	   *covered;		/* lines inside some record's span */
} reading;

static bool
is_blank_byte(unsigned char c, char delim)
{
	return (c == ' ' || c == '\t') && c != (unsigned char) delim;
}

/*
 * Independent reference for a single-line record without quotes: split on
 * the delimiter, trim spaces and tabs (other than the delimiter).
 */
static void
check_plain_fields(const csv_record *rec, char delim)
{
	const unsigned char *p = (const unsigned char *) rec->raw;
	size_t		len = rec->raw_len;
	size_t		i = 0;
	int			f = 0;

	for (;;)
	{
		size_t		s = i;
		size_t		e;

		while (i < len && p[i] != (unsigned char) delim)
			i++;
		e = i;
		while (s < e && is_blank_byte(p[s], delim))
			s++;
		while (e > s && is_blank_byte(p[e - 1], delim))
			e--;
		CHECK(f < rec->nfields);
		CHECK(rec->lengths[f] == e - s);
		CHECK(memcmp(rec->fields[f], p + s, e - s) == 0);
		f++;
		if (i == len)
			break;
		i++;					/* the delimiter */
	}
	CHECK(f == rec->nfields);
}

static int
record_callback(const csv_record *rec, void *arg)
{
	reading    *rd = arg;
	const setting *set = rd->set;
	const lines *ls = rd->ls;
	const unsigned char *line_text;
	size_t		span_len;
	long		last;
	long		i;
	size_t		end;

	/* status and line span */
	CHECK(rec->status >= CSVR_OK && rec->status <= CSVR_NUL_BYTE);
	CHECK(csv_record_status_text(rec->status) != NULL);
	CHECK(rec->line_number >= 1);
	CHECK(rec->line_number >= rd->next_line);
	CHECK(rec->line_count >= 1);
	last = rec->line_number + rec->line_count - 1;
	CHECK(last <= ls->n);
	CHECK(!(set->sep_line && rec->line_number == 1));
	rd->next_line = last + 1;
	for (i = rec->line_number; i <= last; i++)
		rd->covered[i - 1] = true;

	/* raw text against the physical lines */
	line_text = ls->text + ls->start[rec->line_number - 1];
	span_len = ls->end[last - 1] - ls->start[rec->line_number - 1];
	CHECK(rec->raw != NULL || rec->raw_len == 0);
	CHECK(rec->raw_len <= set->record_cap);
	CHECK(rec->offset == ls->bom_len + ls->start[rec->line_number - 1]);
	if (rec->status == CSVR_OK || rec->status == CSVR_NUL_BYTE)
	{
		CHECK(rec->raw_len == span_len);
		CHECK(memcmp(rec->raw, line_text, span_len) == 0);
		CHECK(!rec->raw_truncated);
	}
	else
	{
		CHECK(rec->line_count == 1);
		CHECK(rec->raw_len == (span_len < set->record_cap ? span_len : set->record_cap));
		CHECK(memcmp(rec->raw, line_text, rec->raw_len) == 0);
		CHECK(rec->raw_truncated == (rec->raw_len < span_len));
		CHECK(rec->error_field >= -1);
	}

	if (rec->status == CSVR_OK)
	{
		size_t		total = 0;
		bool		plain = true;
		bool		blank = true;
		int			f;

		CHECK(rec->nfields >= 1);
		CHECK(rec->fields != NULL && rec->lengths != NULL);
		CHECK(memchr(rec->raw, '\0', rec->raw_len) == NULL);
		for (f = 0; f < rec->nfields; f++)
		{
			CHECK(rec->fields[f] != NULL);
			CHECK(rec->lengths[f] <= set->field_cap);
			CHECK(rec->fields[f][rec->lengths[f]] == '\0');
			CHECK(memchr(rec->fields[f], '\0', rec->lengths[f]) == NULL);
			total += rec->lengths[f];
		}
		CHECK(total <= rec->raw_len);
		/* a blank line makes no record */
		for (end = 0; end < rec->raw_len && blank; end++)
			blank = is_blank_byte((unsigned char) rec->raw[end], set->delim);
		CHECK(!blank);
		for (end = 0; end < rec->raw_len && plain; end++)
			plain = rec->raw[end] != '"';
		if (plain && rec->line_count == 1)
			check_plain_fields(rec, set->delim);
	}
	else
	{
		CHECK(rec->nfields == 0);
		if (rec->status == CSVR_NUL_BYTE)
			CHECK(memchr(rec->raw, '\0', rec->raw_len) != NULL);
	}

	/* serialize everything the reader reported */
	bytes_add_long(&rd->out, rec->line_number);
	bytes_add_long(&rd->out, rec->line_count);
	bytes_add_long(&rd->out, rec->status);
	bytes_add_long(&rd->out, rec->nfields);
	bytes_add_long(&rd->out, rec->error_field);
	bytes_add_long(&rd->out, (long) rec->error_offset);
	bytes_add_long(&rd->out, (long) rec->raw_len);
	bytes_add_long(&rd->out, (long) rec->offset);
	bytes_add_long(&rd->out, rec->raw_truncated);
	bytes_add(&rd->out, rec->raw, rec->raw_len);
	for (i = 0; i < rec->nfields; i++)
	{
		bytes_add_long(&rd->out, (long) rec->lengths[i]);
		bytes_add(&rd->out, rec->fields[i], rec->lengths[i]);
	}
	end = rd->out.len;
	bytes_add(&rd->ends, &end, sizeof(end));
	rd->nrecords++;
	return rd->stop_at > 0 && rd->nrecords == rd->stop_at;
}

/* What a reading returned */
typedef struct outcome
{
	int			rc;
	char		delim;
	long		lines_seen;
	size_t		consumed;
	size_t		peak;
} outcome;

/*
 * Read the input cut before each of cuts[0..ncuts) (ascending).  Each
 * chunk is fed from its own exactly sized allocation, so that ASan sees any
 * read outside it; byte by byte (ncuts < 0) reuses one 1-byte allocation.
 */
static void
read_input(const uint8_t *data, size_t size, const setting *set,
		   const lines *ls, const size_t *cuts, long ncuts, long stop_at,
		   bool tiny_budget, reading *rd, outcome *oc)
{
	csv_reader *r;
	size_t		pos = 0;
	long		i;
	long		nchunks = ncuts < 0 ? (long) size : ncuts + 1;
	unsigned char *one = NULL;

	memset(rd, 0, sizeof(*rd));
	rd->set = set;
	rd->ls = ls;
	rd->stop_at = stop_at;
	rd->covered = calloc((size_t) ls->n + 1, sizeof(bool));
	CHECK(rd->covered != NULL);
	r = csv_reader_create(&set->opts, record_callback, rd);
	if (r == NULL)
	{
		/* only an injected allocation failure may do that */
		CHECK(fz_alloc_fail_at >= 0);
		memset(oc, 0, sizeof(*oc));
		oc->rc = CSV_READER_NOMEM;
		return;
	}
	rd->reader = r;
	if (tiny_budget)
		csv_reader_set_reread_budget(r, 0, 0);	/* any re-read stops */

	oc->rc = CSV_READER_OK;
	if (ncuts < 0)
	{
		one = malloc(1);
		CHECK(one != NULL);
	}
	for (i = 0; i < nchunks && oc->rc == CSV_READER_OK; i++)
	{
		size_t		end = ncuts < 0 ? pos + 1 :
			i < ncuts ? cuts[i] : size;
		unsigned char *chunk;

		if (ncuts < 0)
			chunk = one;
		else
			chunk = malloc(end - pos + 1);	/* +1: malloc(0) may be NULL */
		CHECK(chunk != NULL);
		if (end > pos)
			memcpy(chunk, data + pos, end - pos);
		oc->rc = csv_reader_feed(r, (const char *) chunk, end - pos);
		if (ncuts >= 0)
			free(chunk);
		pos = end;
	}
	free(one);
	if (oc->rc == CSV_READER_OK)
		oc->rc = csv_reader_finish(r);

	/* a second finish changes nothing */
	{
		long		n = rd->nrecords;

		CHECK(csv_reader_finish(r) == oc->rc);
		CHECK(csv_reader_feed(r, "x\n", 2) == oc->rc);
		CHECK(rd->nrecords == n);
	}
	oc->delim = csv_reader_delimiter(r);
	oc->lines_seen = csv_reader_lines_seen(r);
	oc->consumed = csv_reader_bytes_consumed(r);
	oc->peak = csv_reader_peak_memory(r);
	csv_reader_free(r);
	rd->reader = NULL;
}

static void
reading_free(reading *rd)
{
	free(rd->out.data);
	free(rd->ends.data);
	free(rd->covered);
}

/* Serialized length of the first n records of a reading */
static size_t
prefix_len(const reading *rd, long n)
{
	size_t		end;

	if (n <= 0)
		return 0;
	memcpy(&end, rd->ends.data + (size_t) (n - 1) * sizeof(size_t), sizeof(end));
	return end;
}

/*
 * Two readings gave the same records.  When stopped by the callback, how
 * far the reader had looked (lines seen, bytes consumed) may depend on the
 * chunks: compare those for complete readings only.
 */
static void
check_same(const reading *a, const outcome *oa, const reading *b,
		   const outcome *ob, bool complete)
{
	CHECK(oa->rc == ob->rc);
	CHECK(oa->delim == ob->delim);
	CHECK(!complete || oa->lines_seen == ob->lines_seen);
	CHECK(!complete || oa->consumed == ob->consumed);
	CHECK(a->nrecords == b->nrecords);
	CHECK(a->out.len == b->out.len);
	CHECK(a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

/* Checks of a complete reading (not stopped) */
static void
check_complete(const uint8_t *data, size_t size, const setting *set,
			   const lines *ls, const reading *rd, const outcome *oc)
{
	long		i;
	size_t		bound;

	(void) data;
	CHECK(oc->rc == CSV_READER_OK);
	CHECK(oc->consumed == size);
	CHECK(oc->delim == set->delim);
	CHECK(oc->lines_seen == ls->n);

	/* every non-blank line is part of a record (but a "sep=" line) */
	for (i = set->sep_line ? 1 : 0; i < ls->n; i++)
	{
		size_t		k;
		bool		blank = true;

		for (k = ls->start[i]; k < ls->end[i] && blank; k++)
			blank = is_blank_byte(ls->text[k], set->delim);
		CHECK(blank || rd->covered[i]);
	}

	/*
	 * Memory: raw (R + 1), field values (2R + 4), two arrays of R + 2
	 * pointers or sizes, pending bytes (R + 2), libcsv's entry buffer (F +
	 * headroom), and the reader itself.
	 */
	bound = 20 * set->record_cap + 64 + set->field_cap + ENTRY_HEADROOM + 4096;
	CHECK(oc->peak <= bound);
	/* and within the same factor of the input, whatever the caps */
	CHECK(oc->peak <= 20 * size + 32768);
}

/* Deterministic pseudo-random numbers from the input */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t		x = *(const size_t *) a;
	size_t		y = *(const size_t *) b;

	return x < y ? -1 : x > y;
}

static void
run_setting(const uint8_t *data, size_t size, setting *set, uint64_t seed)
{
	lines		ls;
	reading		whole;
	outcome		ow;
	reading		other;
	outcome		oo;
	size_t		cuts[8];
	long		k;
	int			round;

	set->field_cap = set->opts.max_field_size ? set->opts.max_field_size :
		DEFAULT_FIELD_SIZE;
	if (set->field_cap > SIZE_LIMIT)
		set->field_cap = SIZE_LIMIT;
	set->record_cap = set->opts.max_record_size ? set->opts.max_record_size :
		RECORD_FACTOR * set->field_cap;
	if (set->record_cap > SIZE_LIMIT)
		set->record_cap = SIZE_LIMIT;

	/* a "sep=X" first line, as the reader's prologue decides it */
	lines_build(&ls, data, size);
	set->delim = set->opts.delimiter ? set->opts.delimiter : ',';
	set->sep_line = false;
	if (set->opts.honor_sep_line && ls.len >= 5 &&
		memcmp(ls.text, "sep=", 4) == 0 && ls.text[4] != '"' &&
		ls.text[4] != '\r' && ls.text[4] != '\n' &&
		(ls.len == 5 || ls.text[5] == '\r' || ls.text[5] == '\n'))
	{
		set->sep_line = true;
		set->delim = (char) ls.text[4];
	}
	current_delim = set->delim;

	current_what = "whole";
	read_input(data, size, set, &ls, NULL, 0, 0, false, &whole, &ow);
	check_complete(data, size, set, &ls, &whole, &ow);

	current_what = "byte by byte";
	read_input(data, size, set, &ls, NULL, -1, 0, false, &other, &oo);
	check_same(&whole, &ow, &other, &oo, true);
	reading_free(&other);

	if (size <= EVERY_SPLIT_MAX)
	{
		current_what = "split in two";
		for (cuts[0] = 0; cuts[0] <= size; cuts[0]++)
		{
			read_input(data, size, set, &ls, cuts, 1, 0, false, &other, &oo);
			check_same(&whole, &ow, &other, &oo, true);
			reading_free(&other);
		}
	}
	else
	{
		current_what = "random splits";
		for (round = 0; round < 3; round++)
		{
			long		n = 1 + (long) ((seed = mix(seed + round)) % 7);

			for (k = 0; k < n; k++)
				cuts[k] = (size_t) ((seed = mix(seed)) % (size + 1));
			qsort(cuts, (size_t) n, sizeof(size_t), cmp_size);
			read_input(data, size, set, &ls, cuts, n, 0, false, &other, &oo);
			check_same(&whole, &ow, &other, &oo, true);
			reading_free(&other);
		}
	}

	/* stopped by the callback: a prefix, whatever the split */
	if (whole.nrecords > 0)
	{
		long		stop = 1 + (long) (mix(seed ^ 0x5707) % (uint64_t) whole.nrecords);
		reading		stopped;
		outcome		os;

		current_what = "stopped";
		read_input(data, size, set, &ls, NULL, 0, stop, false, &stopped, &os);
		CHECK(os.rc == CSV_READER_STOPPED);
		CHECK(stopped.nrecords == stop);
		CHECK(stopped.out.len == prefix_len(&whole, stop));
		CHECK(memcmp(stopped.out.data, whole.out.data, stopped.out.len) == 0);

		current_what = "stopped, byte by byte";
		read_input(data, size, set, &ls, NULL, -1, stop, false, &other, &oo);
		check_same(&stopped, &os, &other, &oo, false);
		reading_free(&other);
		reading_free(&stopped);
	}

	/*
	 * Out of memory at one allocation, or from one on: either the reader
	 * gets over it (same reading) or it returns CSV_READER_NOMEM after a
	 * prefix of the records, and frees everything (LeakSanitizer).
	 */
	current_what = "counting allocations";
	fz_alloc_count = 0;
	fz_alloc_fail_at = LONG_MAX;
	fz_alloc_fail_after = false;
	read_input(data, size, set, &ls, NULL, 0, 0, false, &other, &oo);
	reading_free(&other);
	if (fz_alloc_count > 0)
	{
		current_what = "allocation failure";
		fz_alloc_fail_at = (long) (mix(seed ^ 0xA110C) % (uint64_t) fz_alloc_count);
		fz_alloc_fail_after = (seed & 1) != 0;
		fz_alloc_count = 0;
		read_input(data, size, set, &ls, NULL, 0, 0, false, &other, &oo);
		fz_alloc_fail_at = -1;
		CHECK(oo.rc == CSV_READER_OK || oo.rc == CSV_READER_NOMEM);
		if (oo.rc == CSV_READER_OK)
			check_same(&whole, &ow, &other, &oo, true);
		else
		{
			CHECK(other.nrecords <= whole.nrecords);
			CHECK(other.out.len == prefix_len(&whole, other.nrecords));
			CHECK(other.out.len == 0 ||
				  memcmp(other.out.data, whole.out.data, other.out.len) == 0);
		}
		reading_free(&other);
	}
	fz_alloc_fail_at = -1;

	/* a tiny re-read budget: a clean stop after a prefix of the records */
	current_what = "tiny re-read budget";
	read_input(data, size, set, &ls, NULL, 0, 0, true, &other, &oo);
	CHECK(oo.rc == CSV_READER_OK || oo.rc == CSV_READER_TOO_MANY_ERRORS);
	CHECK(other.nrecords <= whole.nrecords);
	CHECK(other.out.len == prefix_len(&whole, other.nrecords));
	CHECK(other.out.len == 0 ||
		  memcmp(other.out.data, whole.out.data, other.out.len) == 0);
	reading_free(&other);

	reading_free(&whole);
	lines_free(&ls);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {',', ';', '|', '\t'};
	uint64_t	seed = size;
	size_t		i;
	int			d;

	for (i = 0; i < size; i++)
		seed = seed * 131 + data[i];
	seed = mix(seed);

	for (d = 0; d < 4; d++)
	{
		setting		set;

		/* default caps */
		memset(&set, 0, sizeof(set));
		set.opts.delimiter = delims[d];
		set.opts.honor_sep_line = (d % 2 == 0);
		run_setting(data, size, &set, seed + d);

		/* tiny caps, so that every cap is hit */
		memset(&set, 0, sizeof(set));
		set.opts.delimiter = delims[d];
		set.opts.max_field_size = 16;
		set.opts.max_record_size = (d < 2) ? 64 : 0;
		set.opts.honor_sep_line = (d % 2 == 1);
		run_setting(data, size, &set, seed + 4 + d);
	}
	return 0;
}
