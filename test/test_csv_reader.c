/*-------------------------------------------------------------------------
 *
 * test_csv_reader.c
 *		cmocka unit tests of the pure-C CSV reader (src/csv_reader.c).
 *
 * Most inputs go through check_splits(): the input is read whole, then
 * split in two at every possible point, then fed byte by byte, and all the
 * readings must give identical records (line numbers, fields, raw text,
 * offset, status, error position).  Each chunk is fed from its own exactly
 * sized allocation so that ASan/valgrind catch any read past a chunk.  Every
 * reading is also checked against the input: raw is the input bytes at the
 * record's offset, and is the whole first line (malformed) or the whole
 * record unless raw_truncated (check_raw).
 *
 * Build and run from the repository root:
 *	 cc -Wall -Wextra -Werror -g -Isrc -o test/test_csv_reader \
 *		 test/test_csv_reader.c src/csv_reader.c -lcsv -lcmocka
 *	 ./test/test_csv_reader
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "csv_reader.h"

/* One record as seen by the callback, deep-copied */
typedef struct rec
{
	long		line;
	long		count;
	int			status;
	int			nfields;
	char	  **fields;
	size_t	   *lengths;
	char	   *raw;
	size_t		raw_len;
	size_t		offset;
	bool		raw_truncated;
	int			error_field;
	size_t		error_offset;
} rec;

/* Everything one reading produced */
typedef struct result
{
	rec		   *recs;
	int			n;
	int			cap;
	int			rc;				/* first non-OK result of feed, else finish's */
	char		delimiter;
	long		lines;
	size_t		consumed;
	size_t		peak;
	size_t		reread;
	int			stop_at;		/* callback returns 1 on this record (1-based) */
	int			ncalls;
	/* for big inputs: count only */
	int			count_only;
	long		n_ok;
	long		n_bad;
	long		last_line;
	int			lines_increasing;
} result;

static int
collect(const csv_record *r, void *arg)
{
	result	   *res = arg;
	rec		   *c;
	int			i;

	res->ncalls++;
	if (r->line_number <= res->last_line)
		res->lines_increasing = 0;
	res->last_line = r->line_number;
	if (r->status == CSVR_OK)
		res->n_ok++;
	else
		res->n_bad++;

	if (!res->count_only)
	{
		if (res->n == res->cap)
		{
			res->cap = res->cap ? res->cap * 2 : 16;
			res->recs = realloc(res->recs, res->cap * sizeof(rec));
			assert_non_null(res->recs);
		}
		c = &res->recs[res->n++];
		c->line = r->line_number;
		c->count = r->line_count;
		c->status = r->status;
		c->nfields = r->nfields;
		c->error_field = r->error_field;
		c->error_offset = r->error_offset;
		c->raw_len = r->raw_len;
		c->offset = r->offset;
		c->raw_truncated = r->raw_truncated;
		c->raw = malloc(r->raw_len + 1);
		assert_non_null(c->raw);
		if (r->raw_len)
			memcpy(c->raw, r->raw, r->raw_len);
		c->raw[r->raw_len] = '\0';
		c->fields = calloc(r->nfields + 1, sizeof(char *));
		c->lengths = calloc(r->nfields + 1, sizeof(size_t));
		assert_non_null(c->fields);
		assert_non_null(c->lengths);
		if (r->status != CSVR_OK)
			assert_int_equal(r->nfields, 0);
		for (i = 0; i < r->nfields; i++)
		{
			/* each field is NUL-terminated at its length */
			assert_int_equal(r->fields[i][r->lengths[i]], '\0');
			c->lengths[i] = r->lengths[i];
			c->fields[i] = malloc(r->lengths[i] + 1);
			assert_non_null(c->fields[i]);
			memcpy(c->fields[i], r->fields[i], r->lengths[i] + 1);
		}
	}
	return res->stop_at && res->ncalls == res->stop_at;
}

static void
free_result(result *res)
{
	int			i,
				j;

	for (i = 0; i < res->n; i++)
	{
		for (j = 0; j < res->recs[i].nfields; j++)
			free(res->recs[i].fields[j]);
		free(res->recs[i].fields);
		free(res->recs[i].lengths);
		free(res->recs[i].raw);
	}
	free(res->recs);
	memset(res, 0, sizeof(*res));
}

static void print_rec(const char *label, int i, const rec *c);

static csv_reader_options
opts_delim(char delim)
{
	csv_reader_options o;

	memset(&o, 0, sizeof(o));
	o.delimiter = delim;
	return o;
}

static bool
is_eol(char c)
{
	return c == '\r' || c == '\n';
}

/* Line ends in a record's text: LF, CRLF or lone CR each count once */
static long
count_line_ends(const char *s, size_t len)
{
	long		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (s[i] == '\r' || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
			n++;
	return n;
}

/*
 * Check every record of a reading against the input: raw is exactly the
 * input bytes at offset; unless raw_truncated, it is the whole first line
 * (malformed record) or the whole record (followed by a line end or the end
 * of the input); records do not overlap and are in input order.
 */
static void
check_raw(const char *data, size_t len, const result *res)
{
	size_t		next = 0;		/* no record may start before this */
	int			i;

	for (i = 0; i < res->n; i++)
	{
		const rec  *c = &res->recs[i];
		size_t		end = c->offset + c->raw_len;
		bool		at_eol;

		if (c->offset < next || end > len ||
			memcmp(data + c->offset, c->raw, c->raw_len) != 0)
		{
			print_rec("actual", i, c);
			fail_msg("record %d: raw is not the input at offset %zu", i,
					 c->offset);
		}
		at_eol = end == len || is_eol(data[end]);
		if (c->status == CSVR_OK || c->status == CSVR_NUL_BYTE)
		{
			/* the whole record, without its final line end */
			if (c->raw_truncated || !at_eol ||
				count_line_ends(c->raw, c->raw_len) != c->count - 1)
			{
				print_rec("actual", i, c);
				fail_msg("record %d: raw is not the whole record", i);
			}
		}
		else if (memchr(c->raw, '\n', c->raw_len) != NULL ||
				 memchr(c->raw, '\r', c->raw_len) != NULL ||
				 c->count != 1 || at_eol == c->raw_truncated)
		{
			/* the first line: whole, or cut before its end if truncated */
			print_rec("actual", i, c);
			fail_msg("record %d: raw is not the first line (truncated %d)", i,
					 (int) c->raw_truncated);
		}
		next = end + 1;
	}
}

/*
 * Read data cut at the given positions (ascending).  Each chunk is fed from
 * its own allocation.
 */
static void
read_cuts(const char *data, size_t len, const csv_reader_options *o,
		  const size_t *cuts, int ncuts, result *res, int stop_at)
{
	csv_reader *r;
	size_t		start = 0;
	int			i;

	memset(res, 0, sizeof(*res));
	res->stop_at = stop_at;
	res->last_line = 0;
	res->lines_increasing = 1;
	r = csv_reader_create(o, collect, res);
	assert_non_null(r);
	res->rc = CSV_READER_OK;
	for (i = 0; i <= ncuts; i++)
	{
		size_t		end = i < ncuts ? cuts[i] : len;
		char	   *chunk = malloc(end - start + 1);
		int			rc;

		assert_non_null(chunk);
		memcpy(chunk, data + start, end - start);
		rc = csv_reader_feed(r, chunk, end - start);
		free(chunk);
		start = end;
		if (rc != CSV_READER_OK)
		{
			res->rc = rc;
			break;
		}
	}
	if (res->rc == CSV_READER_OK)
		res->rc = csv_reader_finish(r);
	res->delimiter = csv_reader_delimiter(r);
	res->lines = csv_reader_lines_seen(r);
	res->consumed = csv_reader_bytes_consumed(r);
	res->peak = csv_reader_peak_memory(r);
	res->reread = csv_reader_reread_bytes(r);
	csv_reader_free(r);
	check_raw(data, len, res);
}

static void
read_whole(const char *data, size_t len, const csv_reader_options *o,
		   result *res)
{
	read_cuts(data, len, o, NULL, 0, res, 0);
}

static void
print_rec(const char *label, int i, const rec *c)
{
	int			j;

	print_message("%s[%d]: line %ld count %ld status %d nfields %d err %d@%zu offset %zu raw(%zu%s)=\"",
				  label, i, c->line, c->count, c->status, c->nfields,
				  c->error_field, c->error_offset, c->offset, c->raw_len,
				  c->raw_truncated ? ", truncated" : "");
	for (j = 0; j < (int) c->raw_len; j++)
	{
		unsigned char ch = c->raw[j];

		if (ch < 32 || ch == '"' || ch == '\\' || ch >= 127)
			print_message("\\x%02x", ch);
		else
			print_message("%c", ch);
	}
	print_message("\"");
	for (j = 0; j < c->nfields; j++)
		print_message(" [%s]", c->fields[j]);
	print_message("\n");
}

static void
print_result(const char *label, const result *res)
{
	int			i;

	print_message("%s: rc %d, %d records, delim '%c', lines %ld, consumed %zu\n",
				  label, res->rc, res->n, res->delimiter, res->lines,
				  res->consumed);
	for (i = 0; i < res->n; i++)
		print_rec(label, i, &res->recs[i]);
}

static int
rec_equal(const rec *a, const rec *b)
{
	int			j;

	if (a->line != b->line || a->count != b->count || a->status != b->status ||
		a->nfields != b->nfields || a->raw_len != b->raw_len ||
		memcmp(a->raw, b->raw, a->raw_len) != 0 ||
		a->offset != b->offset || a->raw_truncated != b->raw_truncated ||
		a->error_field != b->error_field || a->error_offset != b->error_offset)
		return 0;
	for (j = 0; j < a->nfields; j++)
		if (a->lengths[j] != b->lengths[j] ||
			memcmp(a->fields[j], b->fields[j], a->lengths[j]) != 0)
			return 0;
	return 1;
}

static void
assert_same(const result *a, const result *b, const char *what,
			const char *data, size_t len)
{
	int			i;
	int			same = a->n == b->n && a->rc == b->rc &&
		a->delimiter == b->delimiter && a->lines == b->lines &&
		a->consumed == b->consumed;

	for (i = 0; same && i < a->n; i++)
		same = rec_equal(&a->recs[i], &b->recs[i]);
	if (!same)
	{
		print_message("readings differ (%s) for input of %zu bytes:\n", what, len);
		(void) data;
		print_result("whole", a);
		print_result(what, b);
		fail();
	}
}

/*
 * Read data whole, at every single split point, and byte by byte; all
 * readings must agree.  The whole reading is left in *out (caller frees).
 */
static void
check_splits_o(const char *data, size_t len, const csv_reader_options *o,
			   result *out)
{
	result		other;
	size_t		k;
	size_t	   *cuts;

	read_whole(data, len, o, out);
	for (k = 0; k <= len; k++)
	{
		char		what[64];

		read_cuts(data, len, o, &k, 1, &other, 0);
		snprintf(what, sizeof(what), "split at %zu", k);
		assert_same(out, &other, what, data, len);
		free_result(&other);
	}
	cuts = malloc((len + 1) * sizeof(size_t));
	assert_non_null(cuts);
	for (k = 1; k < len; k++)
		cuts[k - 1] = k;
	read_cuts(data, len, o, cuts, len > 0 ? (int) len - 1 : 0, &other, 0);
	assert_same(out, &other, "byte by byte", data, len);
	free_result(&other);
	free(cuts);
}

static void
check_splits(const char *data, size_t len, char delim, result *out)
{
	csv_reader_options o = opts_delim(delim);

	check_splits_o(data, len, &o, out);
}

#define S(lit) lit, sizeof(lit) - 1

static void
expect_fields(const result *res, int i, long line, const char *const *fields)
{
	const rec  *c;
	int			n = 0;

	if (i >= res->n)
	{
		print_result("actual", res);
		fail_msg("record %d missing", i);
	}
	c = &res->recs[i];
	while (fields[n])
		n++;
	if (c->line != line || c->status != CSVR_OK || c->nfields != n)
	{
		print_rec("actual", i, c);
		fail_msg("record %d: expected line %ld, OK, %d fields", i, line, n);
	}
	for (n = 0; fields[n]; n++)
	{
		if (c->lengths[n] != strlen(fields[n]) ||
			memcmp(c->fields[n], fields[n], c->lengths[n]) != 0)
		{
			print_rec("actual", i, c);
			fail_msg("record %d field %d: expected [%s]", i, n, fields[n]);
		}
	}
}

#define EXPECT(res, i, line, ...) \
	expect_fields((res), (i), (line), (const char *const[]) {__VA_ARGS__, NULL})

static void
expect_bad(const result *res, int i, long line, csv_record_status status,
		   const char *raw, size_t raw_len)
{
	const rec  *c;

	if (i >= res->n)
	{
		print_result("actual", res);
		fail_msg("record %d missing", i);
	}
	c = &res->recs[i];
	if (c->line != line || c->status != (int) status || c->nfields != 0 ||
		c->raw_len != raw_len || memcmp(c->raw, raw, raw_len) != 0)
	{
		print_rec("actual", i, c);
		fail_msg("record %d: expected line %ld status %d raw \"%.*s\"", i,
				 line, status, (int) raw_len, raw);
	}
}

#define EXPECT_BAD(res, i, line, status, raw) \
	expect_bad((res), (i), (line), (status), S(raw))

static void
expect_raw(const result *res, int i, const char *raw, size_t raw_len)
{
	assert_true(i < res->n);
	assert_int_equal(res->recs[i].raw_len, raw_len);
	assert_memory_equal(res->recs[i].raw, raw, raw_len);
}

#define EXPECT_RAW(res, i, raw) expect_raw((res), (i), S(raw))

static void
expect_offset(const result *res, int i, size_t offset, bool truncated)
{
	if (i >= res->n)
	{
		print_result("actual", res);
		fail_msg("record %d missing", i);
	}
	if (res->recs[i].offset != offset ||
		res->recs[i].raw_truncated != truncated)
	{
		print_rec("actual", i, &res->recs[i]);
		fail_msg("record %d: expected offset %zu, truncated %d", i, offset,
				 (int) truncated);
	}
}

/* Offsets of all records, none truncated */
static void
expect_offsets(const result *res, const size_t *offsets, int n)
{
	int			i;

	if (res->n != n)
	{
		print_result("actual", res);
		fail_msg("expected %d records", n);
	}
	for (i = 0; i < n; i++)
		expect_offset(res, i, offsets[i], false);
}

#define EXPECT_OFFSETS(res, ...) \
	expect_offsets((res), (const size_t[]) {__VA_ARGS__}, \
				   (int) (sizeof((const size_t[]) {__VA_ARGS__}) / sizeof(size_t)))

/* ----------------------------------------------------------------------
 * Basic reading
 * ---------------------------------------------------------------------- */

static void
test_basic(void **state)
{
	result		res;

	(void) state;
	check_splits(S("a;b;c\n1;2;3\n"), ';', &res);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "a", "b", "c");
	EXPECT(&res, 1, 2, "1", "2", "3");
	EXPECT_RAW(&res, 0, "a;b;c");
	EXPECT_RAW(&res, 1, "1;2;3");
	assert_int_equal(res.recs[0].count, 1);
	assert_int_equal(res.recs[0].error_field, -1);
	assert_int_equal(res.lines, 2);
	assert_int_equal(res.consumed, 12);
	assert_int_equal(res.delimiter, ';');
	free_result(&res);
}

static void
test_empty_input(void **state)
{
	result		res;

	(void) state;
	check_splits(S(""), ',', &res);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.lines, 0);
	free_result(&res);
}

static void
test_default_delimiter(void **state)
{
	csv_reader_options o;
	result		res;

	(void) state;
	memset(&o, 0, sizeof(o));	/* delimiter 0 means ',' */
	check_splits_o(S("a,b\n"), &o, &res);
	assert_int_equal(res.delimiter, ',');
	EXPECT(&res, 0, 1, "a", "b");
	free_result(&res);
}

static void
test_last_line_without_newline(void **state)
{
	result		res;

	(void) state;
	check_splits(S("h1,h2\nx,y"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 1, 2, "x", "y");
	EXPECT_RAW(&res, 1, "x,y");
	assert_int_equal(res.recs[1].count, 1);
	assert_int_equal(res.lines, 2);
	free_result(&res);

	/* quoted last field, closing quote is the last byte */
	check_splits(S("a,\"b\nc\""), ',', &res);
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 1, "a", "b\nc");
	EXPECT_RAW(&res, 0, "a,\"b\nc\"");
	assert_int_equal(res.recs[0].count, 2);
	assert_int_equal(res.lines, 2);
	free_result(&res);

	/* closing quote then blanks at end of input */
	check_splits(S("a,\"b\"  "), ',', &res);
	EXPECT(&res, 0, 1, "a", "b");
	free_result(&res);
}

static void
test_crlf_ending(void **state)
{
	result		res;

	(void) state;
	check_splits(S("h1,h2\r\nx,y\r\n"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "h1", "h2");
	EXPECT(&res, 1, 2, "x", "y");
	EXPECT_RAW(&res, 0, "h1,h2");
	EXPECT_RAW(&res, 1, "x,y");
	assert_int_equal(res.lines, 2);
	free_result(&res);
}

static void
test_header_only(void **state)
{
	result		res;

	(void) state;
	check_splits(S("id;name;amount\n"), ';', &res);
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 1, "id", "name", "amount");
	free_result(&res);

	check_splits(S("id;name;amount"), ';', &res);
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 1, "id", "name", "amount");
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Line ends
 * ---------------------------------------------------------------------- */

static char *
with_eol(const char *tmpl, const char *eol, size_t *len)
{
	size_t		n = 0;
	const char *p;
	char	   *out = malloc(strlen(tmpl) * 2 + 1);

	assert_non_null(out);
	for (p = tmpl; *p; p++)
	{
		if (*p == '\n')
		{
			memcpy(out + n, eol, strlen(eol));
			n += strlen(eol);
		}
		else
			out[n++] = *p;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* Compare modulo line-end style in fields and raw text */
static void
normalize(char *s, size_t *len)
{
	size_t		i,
				n = 0;

	for (i = 0; i < *len; i++)
	{
		if (s[i] == '\r')
		{
			s[n++] = '\n';
			if (i + 1 < *len && s[i + 1] == '\n')
				i++;
		}
		else
			s[n++] = s[i];
	}
	*len = n;
}

static void
assert_same_modulo_eol(result *a, result *b)
{
	int			i,
				j;

	assert_int_equal(a->n, b->n);
	assert_int_equal(a->lines, b->lines);
	for (i = 0; i < a->n; i++)
	{
		rec		   *x = &a->recs[i],
				   *y = &b->recs[i];

		assert_int_equal(x->line, y->line);
		assert_int_equal(x->count, y->count);
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->nfields, y->nfields);
		normalize(x->raw, &x->raw_len);
		normalize(y->raw, &y->raw_len);
		assert_int_equal(x->raw_len, y->raw_len);
		assert_memory_equal(x->raw, y->raw, x->raw_len);
		for (j = 0; j < x->nfields; j++)
		{
			normalize(x->fields[j], &x->lengths[j]);
			normalize(y->fields[j], &y->lengths[j]);
			assert_int_equal(x->lengths[j], y->lengths[j]);
			assert_memory_equal(x->fields[j], y->fields[j], x->lengths[j]);
		}
	}
}

static const char *eol_template =
"id,text,n\n"
"\n"
"1,\"two\nlines\",x\n"
"   \n"
"2,\"three\n\nlines\",y\n"
"3,plain,z\n"
"4,\"bad\"x,z\n"
"5,\"\",\"\"\"\"\n"
"\n"
"6,last,w\n";

static void
test_lf_crlf_cr_equivalent(void **state)
{
	const char *eols[] = {"\n", "\r\n", "\r"};
	result		res[3];
	int			i;

	(void) state;
	for (i = 0; i < 3; i++)
	{
		size_t		len;
		char	   *data = with_eol(eol_template, eols[i], &len);

		check_splits(data, len, ',', &res[i]);
		free(data);
	}
	/* check the LF reading itself */
	assert_int_equal(res[0].n, 7);
	EXPECT(&res[0], 0, 1, "id", "text", "n");
	EXPECT(&res[0], 1, 3, "1", "two\nlines", "x");
	assert_int_equal(res[0].recs[1].count, 2);
	EXPECT(&res[0], 2, 6, "2", "three\n\nlines", "y");
	assert_int_equal(res[0].recs[2].count, 3);
	EXPECT(&res[0], 3, 9, "3", "plain", "z");
	EXPECT_BAD(&res[0], 4, 10, CSVR_STRAY_QUOTE, "4,\"bad\"x,z");
	EXPECT(&res[0], 5, 11, "5", "", "\"");
	EXPECT(&res[0], 6, 13, "6", "last", "w");
	assert_int_equal(res[0].lines, 13);
	/* CRLF inside a quoted field is kept as is */
	EXPECT(&res[1], 1, 3, "1", "two\r\nlines", "x");
	EXPECT(&res[2], 1, 3, "1", "two\rlines", "x");

	assert_same_modulo_eol(&res[0], &res[1]);
	assert_same_modulo_eol(&res[0], &res[2]);
	for (i = 0; i < 3; i++)
		free_result(&res[i]);
}

static void
test_mixed_line_ends(void **state)
{
	result		res;

	(void) state;
	/* LF CR pair is two line ends (an empty line between) */
	check_splits(S("a\n\rb\r\rc\r\n\nd"), ',', &res);
	assert_int_equal(res.n, 4);
	EXPECT(&res, 0, 1, "a");
	EXPECT(&res, 1, 3, "b");
	EXPECT(&res, 2, 5, "c");
	EXPECT(&res, 3, 7, "d");
	assert_int_equal(res.lines, 7);
	free_result(&res);

	/* quoted field: LF CR and CR CR each count twice */
	check_splits(S("\"a\n\rb\r\rc\",x\ny"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "a\n\rb\r\rc", "x");
	assert_int_equal(res.recs[0].count, 5);
	EXPECT(&res, 1, 6, "y");
	free_result(&res);
}

static void
test_blank_lines(void **state)
{
	result		res;

	(void) state;
	check_splits(S("\n\na,b\n   \n\t\n c , d \n\n \t \r\n\re,f\n\n"), ',', &res);
	assert_int_equal(res.n, 3);
	EXPECT(&res, 0, 3, "a", "b");
	EXPECT(&res, 1, 6, "c", "d");
	EXPECT_RAW(&res, 1, " c , d ");
	EXPECT(&res, 2, 10, "e", "f");
	assert_int_equal(res.lines, 11);
	free_result(&res);

	/* only blank lines; a blank last line without newline */
	check_splits(S("\n  \n\t"), ',', &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.lines, 3);
	free_result(&res);

	/* a line of delimiters is a record of empty fields */
	check_splits(S(";;;\n"), ';', &res);
	EXPECT(&res, 0, 1, "", "", "", "");
	free_result(&res);

	/* with a tab delimiter, a tab-only line is a record */
	check_splits(S("a\tb\n\t\n  \n"), '\t', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "a", "b");
	EXPECT(&res, 1, 2, "", "");
	assert_int_equal(res.lines, 3);
	free_result(&res);
}

static void
test_multiline_quoted(void **state)
{
	result		res;

	(void) state;
	check_splits(S("h1,h2\n\"a\nb\",x\n\"c\r\nd\",y\n\"\n\n\",z\nlast,w\n"),
				 ',', &res);
	assert_int_equal(res.n, 5);
	EXPECT(&res, 0, 1, "h1", "h2");
	EXPECT(&res, 1, 2, "a\nb", "x");
	EXPECT_RAW(&res, 1, "\"a\nb\",x");
	assert_int_equal(res.recs[1].count, 2);
	EXPECT(&res, 2, 4, "c\r\nd", "y");
	EXPECT_RAW(&res, 2, "\"c\r\nd\",y");
	EXPECT(&res, 3, 6, "\n\n", "z");
	assert_int_equal(res.recs[3].count, 3);
	EXPECT(&res, 4, 9, "last", "w");
	assert_int_equal(res.lines, 9);
	free_result(&res);

	/* quoted field ending with CRLF at end of input (CR last in record) */
	check_splits(S("\"a\r\n\",b\r\nc\r"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "a\r\n", "b");
	EXPECT(&res, 1, 3, "c");
	assert_int_equal(res.lines, 3);
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Quoting
 * ---------------------------------------------------------------------- */

static void
test_quoting(void **state)
{
	result		res;

	(void) state;
	check_splits(S("\"a\"\"b\",\"x,y;z\",\"\",plain\n"
				   ",,\"\"\"\",,\n"
				   "a,b,\n"
				   "  \"  spaced  \"  ,  trimmed  \n"
				   "\"\"\n"),
				 ',', &res);
	assert_int_equal(res.n, 5);
	EXPECT(&res, 0, 1, "a\"b", "x,y;z", "", "plain");
	EXPECT(&res, 1, 2, "", "", "\"", "", "");
	EXPECT(&res, 2, 3, "a", "b", "");
	EXPECT(&res, 3, 4, "  spaced  ", "trimmed");
	EXPECT_RAW(&res, 3, "  \"  spaced  \"  ,  trimmed  ");
	EXPECT(&res, 4, 5, "");
	free_result(&res);

	/* separators inside quotes with other delimiters */
	check_splits(S("\"a;b\";\"c\td\";\"e|f\"\n"), ';', &res);
	EXPECT(&res, 0, 1, "a;b", "c\td", "e|f");
	free_result(&res);
	check_splits(S("\"a|b\"|\"c\nd\"|e\n"), '|', &res);
	EXPECT(&res, 0, 1, "a|b", "c\nd", "e");
	free_result(&res);
}

static void
test_tab_delimiter(void **state)
{
	result		res;

	(void) state;
	check_splits(S("first name\tlast name\tcity\n  Ann Lee \t Smith\t \"New  York\" \n"),
				 '\t', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "first name", "last name", "city");
	EXPECT(&res, 1, 2, "Ann Lee", "Smith", "New  York");
	free_result(&res);

	/* empty tab fields */
	check_splits(S("a\t\t\tb\n"), '\t', &res);
	EXPECT(&res, 0, 1, "a", "", "", "b");
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Malformed records and recovery
 * ---------------------------------------------------------------------- */

static void
test_stray_quotes(void **state)
{
	result		res;

	(void) state;
	check_splits(S("a,b\nab\"c,d\n\"abc\"def,g\nx,\"abc\"def\nok,1\n\"a\" \"b\",c\n"),
				 ',', &res);
	assert_int_equal(res.n, 6);
	EXPECT(&res, 0, 1, "a", "b");
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "ab\"c,d");
	assert_int_equal(res.recs[1].error_field, 0);
	assert_int_equal(res.recs[1].error_offset, 2);
	EXPECT_BAD(&res, 2, 3, CSVR_STRAY_QUOTE, "\"abc\"def,g");
	assert_int_equal(res.recs[2].error_field, 0);
	assert_int_equal(res.recs[2].error_offset, 5);
	EXPECT_BAD(&res, 3, 4, CSVR_STRAY_QUOTE, "x,\"abc\"def");
	assert_int_equal(res.recs[3].error_field, 1);
	assert_int_equal(res.recs[3].error_offset, 7);
	assert_int_equal(res.recs[3].count, 1);
	EXPECT(&res, 4, 5, "ok", "1");
	EXPECT_BAD(&res, 5, 6, CSVR_STRAY_QUOTE, "\"a\" \"b\",c");
	assert_int_equal(res.rc, CSV_READER_OK);
	free_result(&res);

	/* stray quote on the last line, no newline */
	check_splits(S("a\nb\"c"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "b\"c");
	assert_int_equal(res.lines, 2);
	free_result(&res);

	/* stray quote on a CR-terminated line followed by CRLF lines */
	check_splits(S("b\"c\rd\r\ne\r\n"), ',', &res);
	assert_int_equal(res.n, 3);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "b\"c");
	EXPECT(&res, 1, 2, "d");
	EXPECT(&res, 2, 3, "e");
	free_result(&res);
}

static void
test_unterminated_quote_then_good_lines(void **state)
{
	result		res;

	(void) state;
	check_splits(S("a,b\nc,d\n\"e,f\ng,h\r\n\r\ni,j\nk,l"), ',', &res);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_int_equal(res.n, 6);
	EXPECT(&res, 0, 1, "a", "b");
	EXPECT(&res, 1, 2, "c", "d");
	EXPECT_BAD(&res, 2, 3, CSVR_UNTERMINATED_QUOTE, "\"e,f");
	assert_int_equal(res.recs[2].count, 1);
	assert_int_equal(res.recs[2].error_field, 0);
	assert_int_equal(res.recs[2].error_offset, 19);
	EXPECT(&res, 3, 4, "g", "h");
	EXPECT(&res, 4, 6, "i", "j");
	EXPECT(&res, 5, 7, "k", "l");
	assert_int_equal(res.lines, 7);
	assert_true(res.reread > 0);
	free_result(&res);

	/* a quote opened on line 3 closed badly on line 5: later lines fine */
	check_splits(S("a\nb\n\"c\nd\ne\"x\nf\ng\n"), ',', &res);
	assert_int_equal(res.n, 7);
	EXPECT(&res, 0, 1, "a");
	EXPECT(&res, 1, 2, "b");
	EXPECT_BAD(&res, 2, 3, CSVR_STRAY_QUOTE, "\"c");
	assert_int_equal(res.recs[2].error_offset, 7);
	EXPECT(&res, 3, 4, "d");
	EXPECT_BAD(&res, 4, 5, CSVR_STRAY_QUOTE, "e\"x");
	EXPECT(&res, 5, 6, "f");
	EXPECT(&res, 6, 7, "g");
	free_result(&res);
}

static void
test_unterminated_quote_at_eof(void **state)
{
	result		res;

	(void) state;
	check_splits(S("a,b\n\"c,d"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 1, 2, CSVR_UNTERMINATED_QUOTE, "\"c,d");
	assert_int_equal(res.recs[1].error_offset, 4);
	assert_int_equal(res.lines, 2);
	free_result(&res);

	/* a quote open to the end, with line ends inside: last line re-read */
	check_splits(S("x,\"c\r\nd\r\n"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 0, 1, CSVR_UNTERMINATED_QUOTE, "x,\"c");
	assert_int_equal(res.recs[0].error_field, 1);
	EXPECT(&res, 1, 2, "d");
	assert_int_equal(res.lines, 2);
	free_result(&res);

	/* the re-read part itself opens a quote that never closes */
	check_splits(S("\"a\n\"b\n"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "\"a");
	EXPECT_BAD(&res, 1, 2, CSVR_UNTERMINATED_QUOTE, "\"b");
	free_result(&res);
	check_splits(S("\"a\nb\n\"c\nd"), ',', &res);
	assert_int_equal(res.n, 4);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "\"a");
	EXPECT(&res, 1, 2, "b");
	EXPECT_BAD(&res, 2, 3, CSVR_UNTERMINATED_QUOTE, "\"c");
	EXPECT(&res, 3, 4, "d");
	free_result(&res);
	check_splits(S("\"a\nb\nc,\"d\ne"), ',', &res);
	assert_int_equal(res.n, 4);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "\"a");
	EXPECT(&res, 1, 2, "b");
	EXPECT_BAD(&res, 2, 3, CSVR_UNTERMINATED_QUOTE, "c,\"d");
	EXPECT(&res, 3, 4, "e");
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * BOM and sep= line
 * ---------------------------------------------------------------------- */

static void
test_bom(void **state)
{
	result		res;

	(void) state;
	check_splits(S("\xEF\xBB\xBFid;name\n1;x\n"), ';', &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "id", "name");
	EXPECT_RAW(&res, 0, "id;name");
	EXPECT(&res, 1, 2, "1", "x");
	assert_int_equal(res.consumed, 15);
	free_result(&res);

	/* only a BOM */
	check_splits(S("\xEF\xBB\xBF"), ';', &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.lines, 0);
	free_result(&res);

	/* BOM then newline */
	check_splits(S("\xEF\xBB\xBF\na\n"), ';', &res);
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 2, "a");
	free_result(&res);

	/* a BOM later in the input is data */
	check_splits(S("a\n\xEF\xBB\xBF" "b\n"), ';', &res);
	EXPECT(&res, 1, 2, "\xEF\xBB\xBF" "b");
	free_result(&res);

	/* partial BOM: kept as data, at end of input and before other bytes */
	check_splits(S("\xEF\xBB"), ';', &res);
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 1, "\xEF\xBB");
	assert_int_equal(res.lines, 1);
	free_result(&res);
	check_splits(S("\xEF" "a;b\n"), ';', &res);
	EXPECT(&res, 0, 1, "\xEF" "a", "b");
	free_result(&res);
	check_splits(S("\xEF\xBB" "a\n"), ';', &res);
	EXPECT(&res, 0, 1, "\xEF\xBB" "a");
	free_result(&res);
	/* two BOMs: the second is data */
	check_splits(S("\xEF\xBB\xBF\xEF\xBB\xBF" "a\n"), ';', &res);
	EXPECT(&res, 0, 1, "\xEF\xBB\xBF" "a");
	free_result(&res);
}

static void
test_sep_line(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;

	(void) state;
	o.honor_sep_line = true;

	check_splits_o(S("sep=;\na;b\n1;2\n"), &o, &res);
	assert_int_equal(res.delimiter, ';');
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 2, "a", "b");
	EXPECT(&res, 1, 3, "1", "2");
	assert_int_equal(res.lines, 3);
	free_result(&res);

	/* with BOM and CRLF */
	check_splits_o(S("\xEF\xBB\xBFsep=|\r\na|b\r\n"), &o, &res);
	assert_int_equal(res.delimiter, '|');
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 2, "a", "b");
	EXPECT_RAW(&res, 0, "a|b");
	free_result(&res);

	/* CR only */
	check_splits_o(S("sep=\t\ra\tb\r"), &o, &res);
	assert_int_equal(res.delimiter, '\t');
	EXPECT(&res, 0, 2, "a", "b");
	free_result(&res);

	/* sep= line alone, no newline */
	check_splits_o(S("sep=;"), &o, &res);
	assert_int_equal(res.delimiter, ';');
	assert_int_equal(res.n, 0);
	assert_int_equal(res.lines, 1);
	free_result(&res);

	/* sep= line equal to the delimiter in force */
	check_splits_o(S("sep=,\na,b\n"), &o, &res);
	assert_int_equal(res.n, 1);
	EXPECT(&res, 0, 2, "a", "b");
	free_result(&res);

	/* not sep lines: extra text, trailing space, quote, too short */
	check_splits_o(S("sep=;x\na,b\n"), &o, &res);
	assert_int_equal(res.delimiter, ',');
	EXPECT(&res, 0, 1, "sep=;x");
	EXPECT(&res, 1, 2, "a", "b");
	free_result(&res);
	check_splits_o(S("sep=; \n"), &o, &res);
	EXPECT(&res, 0, 1, "sep=;");
	free_result(&res);
	check_splits_o(S("sep=\"\na\n"), &o, &res);
	assert_int_equal(res.delimiter, ',');
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "sep=\"");
	EXPECT(&res, 1, 2, "a");
	free_result(&res);
	check_splits_o(S("sep=\na\n"), &o, &res);
	EXPECT(&res, 0, 1, "sep=");
	free_result(&res);
	check_splits_o(S("sep=\r\na\n"), &o, &res);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "sep=");
	EXPECT(&res, 1, 2, "a");
	free_result(&res);
	check_splits_o(S("sep="), &o, &res);
	EXPECT(&res, 0, 1, "sep=");
	free_result(&res);
	check_splits_o(S("se"), &o, &res);
	EXPECT(&res, 0, 1, "se");
	free_result(&res);
	check_splits_o(S("sex,y\n"), &o, &res);
	EXPECT(&res, 0, 1, "sex", "y");
	free_result(&res);
	/* sep= on line 2 is data */
	check_splits_o(S("a\nsep=;\n"), &o, &res);
	assert_int_equal(res.delimiter, ',');
	EXPECT(&res, 1, 2, "sep=;");
	free_result(&res);

	/* not honored */
	check_splits(S("sep=;\na;b\n"), ',', &res);
	assert_int_equal(res.delimiter, ',');
	assert_int_equal(res.n, 2);
	EXPECT(&res, 0, 1, "sep=;");
	EXPECT(&res, 1, 2, "a;b");
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Size caps
 * ---------------------------------------------------------------------- */

static void
test_field_cap(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;

	(void) state;
	o.max_field_size = 10;
	o.max_record_size = 1000;

	/* exactly at the cap: OK, unquoted, quoted, with doubled quotes */
	check_splits_o(S("0123456789,\"0123456789\",\"012345678\"\"\"\n"
					 "0123456789 ,\"0123456789\" ,x\n"
					 "\"012345678\n\",y\n"),
				   &o, &res);
	assert_int_equal(res.n, 3);
	EXPECT(&res, 0, 1, "0123456789", "0123456789", "012345678\"");
	EXPECT(&res, 1, 2, "0123456789", "0123456789", "x");
	EXPECT(&res, 2, 3, "012345678\n", "y");
	free_result(&res);

	/* one over: unquoted */
	check_splits_o(S("a,01234567890,b\nc\n"), &o, &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 0, 1, CSVR_FIELD_TOO_LARGE, "a,01234567890,b");
	assert_int_equal(res.recs[0].error_field, 1);
	EXPECT(&res, 1, 2, "c");
	free_result(&res);

	/* one over: quoted, and quoted with a line end inside */
	check_splits_o(S("\"01234567890\"\n\"0123456789\n\",x\nc\n"), &o, &res);
	assert_int_equal(res.n, 4);
	EXPECT_BAD(&res, 0, 1, CSVR_FIELD_TOO_LARGE, "\"01234567890\"");
	assert_int_equal(res.recs[0].error_field, 0);
	EXPECT_BAD(&res, 1, 2, CSVR_FIELD_TOO_LARGE, "\"0123456789");
	assert_int_equal(res.recs[1].error_offset, 15);	/* end of line 2 */
	/* re-read from line 3: a quote that stays open */
	EXPECT_BAD(&res, 2, 3, CSVR_UNTERMINATED_QUOTE, "\",x");
	EXPECT(&res, 3, 4, "c");
	free_result(&res);

	/* far over (libcsv's buffer limit), on the first line */
	check_splits_o(S("\"0123456789012345678901234567890123456789"
					 "0123456789012345678901234567890123456789"
					 "0123456789\",x\nnext,1\n"),
				   &o, &res);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.recs[0].status, CSVR_FIELD_TOO_LARGE);
	assert_int_equal(res.recs[0].raw_len, 94);
	EXPECT(&res, 1, 2, "next", "1");
	free_result(&res);

	/* unquoted, over the cap with the last field at end of input */
	check_splits_o(S("a\n01234567890"), &o, &res);
	EXPECT_BAD(&res, 1, 2, CSVR_FIELD_TOO_LARGE, "01234567890");
	free_result(&res);

	/* oversized field on line 2 of a record: re-read from line 2 */
	check_splits_o(S("\"a\nb\",01234567890\nc\n"), &o, &res);
	assert_int_equal(res.n, 3);
	EXPECT_BAD(&res, 0, 1, CSVR_FIELD_TOO_LARGE, "\"a");
	assert_int_equal(res.recs[0].error_field, 1);
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "b\",01234567890");
	EXPECT(&res, 2, 3, "c");
	free_result(&res);

	/* oversized field, then a stray quote later on the same line */
	check_splits_o(S("01234567890,a\"b\nc\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_FIELD_TOO_LARGE, "01234567890,a\"b");
	assert_int_equal(res.recs[0].error_field, 0);
	EXPECT(&res, 1, 2, "c");
	free_result(&res);

	/* oversized field then the record cap */
	o.max_record_size = 20;
	check_splits_o(S("01234567890,0123456789012345\nc\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_FIELD_TOO_LARGE, "01234567890,01234567");
	EXPECT(&res, 1, 2, "c");
	free_result(&res);

	/* oversized field in a record left open at the end */
	o.max_record_size = 1000;
	check_splits_o(S("01234567890,\"x\ny"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_FIELD_TOO_LARGE, "01234567890,\"x");
	EXPECT(&res, 1, 2, "y");
	free_result(&res);
}

static void
test_field_cap_small_values(void **state)
{
	csv_reader_options o = opts_delim(';');
	result		res;
	int			cap;

	(void) state;
	/* caps below libcsv's block size, around powers of two */
	for (cap = 1; cap <= 70; cap++)
	{
		char		buf[400];
		size_t		len;

		o.max_field_size = cap;
		len = 0;
		memset(buf + len, 'a', cap);
		len += cap;
		buf[len++] = ';';
		buf[len++] = '"';
		memset(buf + len, 'b', cap);
		len += cap;
		buf[len++] = '"';
		buf[len++] = '\n';
		memset(buf + len, 'c', cap + 1);
		len += cap + 1;
		buf[len++] = '\n';
		buf[len++] = '"';
		memset(buf + len, 'd', cap + 1);
		len += cap + 1;
		buf[len++] = '"';
		buf[len++] = '\n';
		read_whole(buf, len, &o, &res);
		assert_int_equal(res.n, 3);
		assert_int_equal(res.recs[0].status, CSVR_OK);
		assert_int_equal(res.recs[0].lengths[0], cap);
		assert_int_equal(res.recs[0].lengths[1], cap);
		assert_int_equal(res.recs[1].status, CSVR_FIELD_TOO_LARGE);
		assert_int_equal(res.recs[2].status, CSVR_FIELD_TOO_LARGE);
		assert_int_equal(res.recs[2].line, 3);
		free_result(&res);
	}
}

static void
test_record_cap(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;

	(void) state;
	o.max_field_size = 100;
	o.max_record_size = 20;

	/* exactly 20 bytes: OK; 21 bytes: too large; next line fine */
	check_splits_o(S("0123456789,012345678\n0123456789,0123456789\nok\n"),
				   &o, &res);
	assert_int_equal(res.n, 3);
	EXPECT(&res, 0, 1, "0123456789", "012345678");
	EXPECT_BAD(&res, 1, 2, CSVR_RECORD_TOO_LARGE, "0123456789,012345678");
	assert_int_equal(res.recs[1].error_offset, 20);
	assert_int_equal(res.recs[1].error_field, 1);
	EXPECT(&res, 2, 3, "ok");
	free_result(&res);

	/* a multi-line record growing past the cap */
	check_splits_o(S("\"0123\n45678\n90123\n4567\n\nx\ny\n"), &o, &res);
	assert_int_equal(res.n, 6);
	EXPECT_BAD(&res, 0, 1, CSVR_RECORD_TOO_LARGE, "\"0123");
	EXPECT(&res, 1, 2, "45678");
	EXPECT(&res, 2, 3, "90123");
	EXPECT(&res, 3, 4, "4567");
	EXPECT(&res, 4, 6, "x");
	EXPECT(&res, 5, 7, "y");
	free_result(&res);

	/* exactly at the cap with CRLF inside: the LF goes over */
	check_splits_o(S("\"012345678901234567\r\n\"\nz\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_RECORD_TOO_LARGE, "\"012345678901234567");
	free_result(&res);
	check_splits_o(S("\"0123456789012345678\r\n\"\nz\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_RECORD_TOO_LARGE, "\"0123456789012345678");
	free_result(&res);
	check_splits_o(S("\"012345678901234\r\n\",\nz\n"), &o, &res);
	EXPECT(&res, 0, 1, "012345678901234\r\n", "");
	free_result(&res);

	/* the first line alone is over the cap: raw is cut at the cap */
	check_splits_o(S("0123456789012345678901234567890\nok\n"), &o, &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 0, 1, CSVR_RECORD_TOO_LARGE, "01234567890123456789");
	EXPECT(&res, 1, 2, "ok");
	free_result(&res);

	/* a stray quote before the cap wins over the cap */
	check_splits_o(S("01\"3456789012345678901234567890\nok\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "01\"34567890123456789");
	free_result(&res);
}

/* Length of the physical line starting at offset (without its line end) */
static size_t
line_length(const char *data, size_t len, size_t offset)
{
	size_t		n = 0;

	while (offset + n < len && !is_eol(data[offset + n]))
		n++;
	return n;
}

/*
 * A malformed first line over max_record_size: raw is cut at the cap and
 * flagged, and the whole line can be taken from the input at the offset.
 */
static void
test_raw_truncated(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;
	const char *data;
	size_t		len;

	(void) state;
	o.max_field_size = 100;
	o.max_record_size = 20;

	data = "0123456789012345678901234567890\nok\n";
	len = strlen(data);
	check_splits_o(data, len, &o, &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 0, 1, CSVR_RECORD_TOO_LARGE, "01234567890123456789");
	expect_offset(&res, 0, 0, true);
	assert_int_equal(line_length(data, len, res.recs[0].offset), 31);
	EXPECT(&res, 1, 2, "ok");
	expect_offset(&res, 1, 32, false);
	free_result(&res);

	/* after a BOM, with CRLF, not on the first line, and at end of input */
	data = "\xEF\xBB\xBFh\r\n0123456789012345678901234567890\r\nok\r\n"
		"01234567890123456789x";
	len = strlen(data);
	check_splits_o(data, len, &o, &res);
	assert_int_equal(res.n, 4);
	EXPECT(&res, 0, 1, "h");
	expect_offset(&res, 0, 3, false);
	EXPECT_BAD(&res, 1, 2, CSVR_RECORD_TOO_LARGE, "01234567890123456789");
	expect_offset(&res, 1, 6, true);
	assert_int_equal(line_length(data, len, res.recs[1].offset), 31);
	EXPECT(&res, 2, 3, "ok");
	expect_offset(&res, 2, 39, false);
	EXPECT_BAD(&res, 3, 4, CSVR_RECORD_TOO_LARGE, "01234567890123456789");
	expect_offset(&res, 3, 43, true);
	assert_int_equal(line_length(data, len, res.recs[3].offset), 21);
	free_result(&res);

	/* a stray quote: the line exactly at the cap is whole, one more is cut */
	check_splits_o(S("01234567890123456\"89\nok\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "01234567890123456\"89");
	expect_offset(&res, 0, 0, false);
	expect_offset(&res, 1, 21, false);
	free_result(&res);
	check_splits_o(S("01234567890123456\"890\nok\n"), &o, &res);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "01234567890123456\"89");
	expect_offset(&res, 0, 0, true);
	EXPECT(&res, 1, 2, "ok");
	expect_offset(&res, 1, 22, false);
	free_result(&res);

	/* quoted: the first line of a multi-line record is over the cap */
	check_splits_o(S("\"0123456789012345678901234567890\nx\"\ny\n"), &o, &res);
	assert_int_equal(res.n, 3);
	EXPECT_BAD(&res, 0, 1, CSVR_RECORD_TOO_LARGE, "\"0123456789012345678");
	expect_offset(&res, 0, 0, true);
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "x\"");
	expect_offset(&res, 1, 33, false);
	EXPECT(&res, 2, 3, "y");
	expect_offset(&res, 2, 36, false);
	free_result(&res);

	/* a record over the cap whose first line fits: that line is whole */
	check_splits_o(S("a\n\"0123\n45678\n90123\n4567\n\nx\n"), &o, &res);
	EXPECT_BAD(&res, 1, 2, CSVR_RECORD_TOO_LARGE, "\"0123");
	expect_offset(&res, 1, 2, false);
	EXPECT(&res, 2, 3, "45678");
	expect_offset(&res, 2, 8, false);
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Record offsets
 * ---------------------------------------------------------------------- */

static void
test_offsets(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;

	(void) state;
	/* blank lines, CRLF, last line without a line end */
	check_splits(S("a;b\n\n  \nc;d\r\ne;f"), ';', &res);
	EXPECT_OFFSETS(&res, 0, 8, 13);
	free_result(&res);

	/* blank lines first; records over several lines, CR and CRLF inside */
	check_splits(S("\n\r\n \t\nh\n\"a\nb\",c\r\n\"\r\n\"\rd\n"), ',', &res);
	EXPECT(&res, 2, 7, "\r\n");
	EXPECT_OFFSETS(&res, 6, 8, 17, 22);
	free_result(&res);

	/* after a BOM; a BOM then a line end; a partial BOM is data */
	check_splits(S("\xEF\xBB\xBF" "a;b\nc;d\n"), ';', &res);
	EXPECT_OFFSETS(&res, 3, 7);
	free_result(&res);
	check_splits(S("\xEF\xBB\xBF\r\na\n"), ';', &res);
	EXPECT_OFFSETS(&res, 5);
	free_result(&res);
	check_splits(S("\xEF\xBB" "a\nb\n"), ';', &res);
	EXPECT_OFFSETS(&res, 0, 4);
	free_result(&res);

	/* after a sep= line: LF, CRLF after a BOM, CR */
	o.honor_sep_line = true;
	check_splits_o(S("sep=;\na;b\n"), &o, &res);
	EXPECT_OFFSETS(&res, 6);
	free_result(&res);
	check_splits_o(S("\xEF\xBB\xBFsep=|\r\na|b\r\nc|d"), &o, &res);
	EXPECT_OFFSETS(&res, 10, 15);
	free_result(&res);
	check_splits_o(S("sep=\t\ra\tb\r"), &o, &res);
	EXPECT_OFFSETS(&res, 6);
	free_result(&res);
	/* not sep lines: they are records */
	check_splits_o(S("\xEF\xBB\xBFsep=;x\na\n"), &o, &res);
	EXPECT_OFFSETS(&res, 3, 10);
	free_result(&res);
	check_splits_o(S("sep=\r\na\n"), &o, &res);
	EXPECT_OFFSETS(&res, 0, 6);
	free_result(&res);
	o.honor_sep_line = false;

	/*
	 * After malformed records: the rest of the record is read again, from
	 * the chunk being read or (when the record began in an earlier chunk)
	 * from the pending buffer.
	 */
	check_splits(S("a\n\"b\nc\nd\"x\ne\n"), ',', &res);
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "\"b");
	EXPECT_BAD(&res, 3, 4, CSVR_STRAY_QUOTE, "d\"x");
	EXPECT_OFFSETS(&res, 0, 2, 5, 7, 11);
	free_result(&res);
	/* the re-read part is malformed in turn, and so on */
	check_splits(S("\"1\n\"2\n3\"x\n4\n"), ',', &res);
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "\"2");
	EXPECT_OFFSETS(&res, 0, 3, 6, 10);
	free_result(&res);
	check_splits(S("\"1\r\n\"2\r\n3\"x\r\n4\r\n"), ',', &res);
	EXPECT_OFFSETS(&res, 0, 4, 8, 13);
	free_result(&res);
	/* quote open at the end of the input: finish reads the tail again */
	check_splits(S("x\n\"c\r\nd\r\n"), ',', &res);
	EXPECT_BAD(&res, 1, 2, CSVR_UNTERMINATED_QUOTE, "\"c");
	EXPECT_OFFSETS(&res, 0, 2, 6);
	free_result(&res);
	/* oversized field on line 2 of a record, after a sep= line */
	o.honor_sep_line = true;
	o.max_field_size = 10;
	check_splits_o(S("sep=,\r\n\"a\nb\",01234567890\nc\n"), &o, &res);
	EXPECT_BAD(&res, 0, 2, CSVR_FIELD_TOO_LARGE, "\"a");
	EXPECT_BAD(&res, 1, 3, CSVR_STRAY_QUOTE, "b\",01234567890");
	EXPECT_OFFSETS(&res, 7, 10, 25);
	free_result(&res);

	/* NUL byte records */
	check_splits(S("a\nb\0c\nd"), ',', &res);
	EXPECT_OFFSETS(&res, 0, 2, 6);
	free_result(&res);
}

/* A long input: quote opened on line 3 never closes, lots of data after */
static void
test_unterminated_quote_bounded_memory(void **state)
{
	csv_reader_options o = opts_delim(',');
	const size_t nlines = 200000;
	const char *line = "some value,another one,12345.678\n";	/* 33 bytes */
	size_t		linelen = strlen(line);
	size_t		len,
				i;
	char	   *data;
	result		res;
	size_t		cuts[512];
	int			ncuts = 0;

	(void) state;
	len = strlen("h1,h2,h3\nx,y,z\n\"open,b,c\n") + nlines * linelen;
	data = malloc(len);
	assert_non_null(data);
	strcpy(data, "h1,h2,h3\nx,y,z\n\"open,b,c\n");
	for (i = 0; i < nlines; i++)
		memcpy(data + 25 + i * linelen, line, linelen);

	o.max_field_size = 1000;	/* max_record_size = 64000 */
	for (i = 65536; i < len && ncuts < 512; i += 65536)
		cuts[ncuts++] = i;
	read_cuts(data, len, &o, cuts, ncuts, &res, 0);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_int_equal(res.n, 3 + nlines);
	EXPECT(&res, 0, 1, "h1", "h2", "h3");
	EXPECT(&res, 1, 2, "x", "y", "z");
	EXPECT_BAD(&res, 2, 3, CSVR_FIELD_TOO_LARGE, "\"open,b,c");
	EXPECT(&res, 3, 4, "some value", "another one", "12345.678");
	EXPECT(&res, 3 + nlines - 1, 3 + nlines, "some value", "another one", "12345.678");
	expect_offset(&res, 2, 15, false);
	expect_offset(&res, 3, 25, false);
	expect_offset(&res, 3 + nlines - 1, 25 + (nlines - 1) * linelen, false);
	assert_int_equal(res.lines, 3 + nlines);
	/* bounded by the caps, not by the 6.6 MB of input */
	assert_true(res.peak < 16 * 1024);
	assert_true(res.reread < 2000);
	free_result(&res);

	/* defaults (64 kB fields, 4 MB records), counting only */
	memset(&res, 0, sizeof(res));
	{
		csv_reader_options d = opts_delim(',');
		csv_reader *r;

		res.count_only = 1;
		res.lines_increasing = 1;
		r = csv_reader_create(&d, collect, &res);
		assert_non_null(r);
		for (i = 0; i < len; i += 100000)
			assert_int_equal(csv_reader_feed(r, data + i,
											 len - i < 100000 ? len - i : 100000),
							 CSV_READER_OK);
		assert_int_equal(csv_reader_finish(r), CSV_READER_OK);
		assert_int_equal(res.n_bad, 1);
		assert_int_equal(res.n_ok, 2 + nlines);
		assert_true(res.lines_increasing);
		assert_int_equal(csv_reader_lines_seen(r), 3 + nlines);
		assert_true(csv_reader_peak_memory(r) < 600 * 1024);
		csv_reader_free(r);
	}
	free(data);
}

/* A quoted field that is never closed and has no line ends at all */
static void
test_huge_single_line(void **state)
{
	csv_reader_options o = opts_delim(',');
	size_t		len = 3 * 1024 * 1024;
	char	   *data = malloc(len);
	result		res;
	size_t		cuts[64];
	int			ncuts = 0;
	size_t		i;

	(void) state;
	assert_non_null(data);
	memset(data, 'x', len);
	data[0] = '"';
	data[len - 2] = '\n';
	data[len - 1] = 'y';
	o.max_field_size = 1000;
	for (i = 100000; i < len && ncuts < 64; i += 100000)
		cuts[ncuts++] = i;
	read_cuts(data, len, &o, cuts, ncuts, &res, 0);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.recs[0].status, CSVR_FIELD_TOO_LARGE);
	/* raw of the malformed first line is cut at max_record_size */
	assert_int_equal(res.recs[0].raw_len, 64000);
	expect_offset(&res, 0, 0, true);
	EXPECT(&res, 1, 2, "y");
	expect_offset(&res, 1, len - 1, false);
	assert_true(res.peak < 300 * 1024);
	free_result(&res);

	/* same without a quote: record too large */
	data[0] = 'x';
	read_cuts(data, len, &o, cuts, ncuts, &res, 0);
	assert_int_equal(res.recs[0].status, CSVR_FIELD_TOO_LARGE);
	free_result(&res);
	o.max_field_size = 10 * 1024 * 1024;
	o.max_record_size = 100000;
	read_cuts(data, len, &o, cuts, ncuts, &res, 0);
	assert_int_equal(res.recs[0].status, CSVR_RECORD_TOO_LARGE);
	assert_int_equal(res.recs[0].raw_len, 100000);
	expect_offset(&res, 0, 0, true);
	expect_offset(&res, 1, len - 1, false);
	assert_true(res.peak < 600 * 1024);
	free_result(&res);
	free(data);
}

/* ----------------------------------------------------------------------
 * NUL bytes
 * ---------------------------------------------------------------------- */

static void
test_nul_bytes(void **state)
{
	result		res;

	(void) state;
	check_splits(S("a,b\nc\0d,e\n\"x,\"\"\0\",y\nf,\"g\n\0h\"\n\0\nok,1\n"), ',', &res);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_int_equal(res.n, 6);
	EXPECT(&res, 0, 1, "a", "b");
	EXPECT_BAD(&res, 1, 2, CSVR_NUL_BYTE, "c\0d,e");
	assert_int_equal(res.recs[1].error_field, 0);
	assert_int_equal(res.recs[1].error_offset, 1);
	EXPECT_BAD(&res, 2, 3, CSVR_NUL_BYTE, "\"x,\"\"\0\",y");
	assert_int_equal(res.recs[2].error_field, 0);
	assert_int_equal(res.recs[2].error_offset, 5);
	EXPECT_BAD(&res, 3, 4, CSVR_NUL_BYTE, "f,\"g\n\0h\"");
	assert_int_equal(res.recs[3].error_field, 1);
	assert_int_equal(res.recs[3].error_offset, 5);
	assert_int_equal(res.recs[3].count, 2);
	EXPECT_BAD(&res, 4, 6, CSVR_NUL_BYTE, "\0");
	EXPECT(&res, 5, 7, "ok", "1");
	free_result(&res);

	/* NUL in the last record, no newline; two NULs; NUL after a field */
	check_splits(S("a\nb,\0,\0"), ',', &res);
	assert_int_equal(res.n, 2);
	EXPECT_BAD(&res, 1, 2, CSVR_NUL_BYTE, "b,\0,\0");
	assert_int_equal(res.recs[1].error_field, 1);
	assert_int_equal(res.recs[1].error_offset, 2);
	free_result(&res);

	/* NUL in a malformed record: malformed wins, first line only */
	check_splits(S("\"a\0\nb\"c\nd\n"), ',', &res);
	EXPECT_BAD(&res, 0, 1, CSVR_STRAY_QUOTE, "\"a\0");
	EXPECT_BAD(&res, 1, 2, CSVR_STRAY_QUOTE, "b\"c");
	EXPECT(&res, 2, 3, "d");
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Re-reading budget
 * ---------------------------------------------------------------------- */

static void
run_big(const char *unit, size_t total, result *res, clock_t *elapsed)
{
	size_t		ulen = strlen(unit);
	size_t		len = total / ulen * ulen;
	char	   *data = malloc(len);
	csv_reader_options o = opts_delim(',');
	csv_reader *r;
	size_t		i;
	clock_t		t0;
	int			rc = CSV_READER_OK;

	assert_non_null(data);
	for (i = 0; i < len; i += ulen)
		memcpy(data + i, unit, ulen);
	memset(res, 0, sizeof(*res));
	res->count_only = 1;
	res->lines_increasing = 1;
	t0 = clock();
	r = csv_reader_create(&o, collect, res);
	assert_non_null(r);
	for (i = 0; i < len && rc == CSV_READER_OK; i += 65536)
		rc = csv_reader_feed(r, data + i, len - i < 65536 ? len - i : 65536);
	if (rc == CSV_READER_OK)
		rc = csv_reader_finish(r);
	res->rc = rc;
	res->reread = csv_reader_reread_bytes(r);
	res->peak = csv_reader_peak_memory(r);
	*elapsed = clock() - t0;
	csv_reader_free(r);
	free(data);
}

static void
test_reread_budget_lone_quotes(void **state)
{
	result		res;
	clock_t		elapsed;

	(void) state;
	/* 20 MB of lines that are a lone quote: they pair up into records */
	run_big("\"\n", 20 * 1024 * 1024, &res, &elapsed);
	assert_true(res.rc == CSV_READER_OK || res.rc == CSV_READER_TOO_MANY_ERRORS);
	assert_int_equal(res.n_ok, 5 * 1024 * 1024);
	assert_int_equal(res.n_bad, 0);
	assert_true(res.lines_increasing);
	print_message("  lone quotes, 20 MB: %.2f s\n", (double) elapsed / CLOCKS_PER_SEC);
	/* every line opens a quote that the next line closes badly */
	run_big("\"a\n", 8 * 1024 * 1024, &res, &elapsed);
	assert_int_equal(res.rc, CSV_READER_OK);
	/* all STRAY_QUOTE but the last, UNTERMINATED_QUOTE */
	assert_int_equal(res.n_bad, 8 * 1024 * 1024 / 3);
	assert_int_equal(res.n_ok, 0);
	assert_true(res.lines_increasing);
	assert_true(res.reread <= 8 * 1024 * 1024);
	print_message("  \"a lines, 8 MB: %.2f s\n", (double) elapsed / CLOCKS_PER_SEC);
	/* a quote opening a long field after every few lines */
	run_big("\"x\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\nzzz\"zzzz\n", 4 * 1024 * 1024,
			&res, &elapsed);
	assert_int_equal(res.rc, CSV_READER_OK);
	assert_true(res.lines_increasing);
}

static void
test_reread_budget_exceeded(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;
	csv_reader *r;

	(void) state;
	/* in feed: tail "b\nc\n" (4 bytes) > 0 x consumed + 3 */
	memset(&res, 0, sizeof(res));
	res.lines_increasing = 1;
	r = csv_reader_create(&o, collect, &res);
	assert_non_null(r);
	csv_reader_set_reread_budget(r, 0, 3);
	assert_int_equal(csv_reader_feed(r, S("\"a\nb\nc\nd\"x\n")),
					 CSV_READER_TOO_MANY_ERRORS);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.recs[0].status, CSVR_STRAY_QUOTE);
	/* sticky */
	assert_int_equal(csv_reader_feed(r, S("e\n")), CSV_READER_TOO_MANY_ERRORS);
	assert_int_equal(csv_reader_finish(r), CSV_READER_TOO_MANY_ERRORS);
	csv_reader_free(r);
	free_result(&res);

	/* while re-reading the pending bytes */
	memset(&res, 0, sizeof(res));
	r = csv_reader_create(&o, collect, &res);
	assert_non_null(r);
	csv_reader_set_reread_budget(r, 0, 6);
	assert_int_equal(csv_reader_feed(r, S("\"a\nb\n\"c\nd\ne\"x\n")),
					 CSV_READER_TOO_MANY_ERRORS);
	csv_reader_free(r);
	free_result(&res);

	/* in finish: quote open at the end */
	memset(&res, 0, sizeof(res));
	r = csv_reader_create(&o, collect, &res);
	assert_non_null(r);
	csv_reader_set_reread_budget(r, 0, 3);
	assert_int_equal(csv_reader_feed(r, S("\"a\nb\nc\n")), CSV_READER_OK);
	assert_int_equal(csv_reader_finish(r), CSV_READER_TOO_MANY_ERRORS);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.recs[0].status, CSVR_UNTERMINATED_QUOTE);
	csv_reader_free(r);
	free_result(&res);

	/* under the budget */
	memset(&res, 0, sizeof(res));
	r = csv_reader_create(&o, collect, &res);
	assert_non_null(r);
	csv_reader_set_reread_budget(r, 0, 4);
	assert_int_equal(csv_reader_feed(r, S("\"a\nb\nc\n")), CSV_READER_OK);
	assert_int_equal(csv_reader_finish(r), CSV_READER_OK);
	assert_int_equal(csv_reader_reread_bytes(r), 4);
	assert_int_equal(res.n, 3);
	csv_reader_free(r);
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Callback stop, API details
 * ---------------------------------------------------------------------- */

static void
test_callback_stop(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;
	size_t		k;

	(void) state;
	read_cuts(S("a\nb\nc\nd\n"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 1, 2, "b");
	assert_int_equal(res.consumed, 4);
	free_result(&res);

	/* stop on a malformed record (with re-read pending), and at finish */
	read_cuts(S("a\n\"b\nc\"x\nd\n"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	assert_int_equal(res.n, 2);
	free_result(&res);
	read_cuts(S("a\nbc\"d\ne"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	free_result(&res);
	read_cuts(S("a\nb"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	free_result(&res);
	read_cuts(S("a\n\"b"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	free_result(&res);
	read_cuts(S("a\n\"b\nc"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	assert_int_equal(res.n, 2);
	free_result(&res);

	/* stop on a malformed first line reported when its end arrives */
	k = 4;
	read_cuts(S("ab\"c\nd\n"), &o, &k, 1, &res, 1);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.recs[0].status, CSVR_STRAY_QUOTE);
	free_result(&res);

	/* stop while finish re-reads the tail of an unterminated record */
	read_cuts(S("\"a\nb\nc"), &o, NULL, 0, &res, 2);
	assert_int_equal(res.rc, CSV_READER_STOPPED);
	assert_int_equal(res.n, 2);
	EXPECT(&res, 1, 2, "b");
	free_result(&res);

	/* the stop point does not depend on how the input is split */
	for (k = 0; k <= 9; k++)
	{
		result		other;

		read_cuts(S("a\r\nb\r\nc\r\n"), &o, NULL, 0, &res, 2);
		read_cuts(S("a\r\nb\r\nc\r\n"), &o, &k, 1, &other, 2);
		assert_int_equal(other.rc, CSV_READER_STOPPED);
		assert_int_equal(other.n, 2);
		free_result(&res);
		free_result(&other);
	}
}

static void
test_feed_after_finish(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;
	csv_reader *r;

	(void) state;
	memset(&res, 0, sizeof(res));
	r = csv_reader_create(&o, collect, &res);
	assert_non_null(r);
	assert_int_equal(csv_reader_feed(r, S("a,b")), CSV_READER_OK);
	assert_int_equal(csv_reader_feed(r, NULL, 0), CSV_READER_OK);
	assert_int_equal(csv_reader_lines_seen(r), 0);
	assert_int_equal(csv_reader_finish(r), CSV_READER_OK);
	assert_int_equal(csv_reader_lines_seen(r), 1);
	assert_int_equal(csv_reader_finish(r), CSV_READER_OK);
	assert_int_equal(csv_reader_feed(r, S("c\n")), CSV_READER_OK);
	assert_int_equal(res.n, 1);
	csv_reader_free(r);
	csv_reader_free(NULL);
	free_result(&res);
}

static void
test_status_text(void **state)
{
	(void) state;
	assert_string_equal(csv_record_status_text(CSVR_OK), "ok");
	assert_string_equal(csv_record_status_text(CSVR_UNTERMINATED_QUOTE),
						"unterminated quoted field");
	assert_string_equal(csv_record_status_text(CSVR_STRAY_QUOTE), "misplaced quote");
	assert_string_equal(csv_record_status_text(CSVR_FIELD_TOO_LARGE), "field too large");
	assert_string_equal(csv_record_status_text(CSVR_RECORD_TOO_LARGE), "record too large");
	assert_string_equal(csv_record_status_text(CSVR_NUL_BYTE), "NUL byte in record");
	assert_string_equal(csv_record_status_text((csv_record_status) 99), "unknown status");
}

static void
test_huge_caps_clamped(void **state)
{
	csv_reader_options o = opts_delim(',');
	result		res;

	(void) state;
	o.max_field_size = SIZE_MAX / 2;
	check_splits_o(S("a,\"b\"\n"), &o, &res);
	EXPECT(&res, 0, 1, "a", "b");
	free_result(&res);
}

/* ----------------------------------------------------------------------
 * Randomized split-invariance
 * ---------------------------------------------------------------------- */

static unsigned int rng_state = 12345;

static unsigned int
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) & 0x7fff;
}

static void
test_random_split_invariance(void **state)
{
	static const char alphabet[] = "ab,;\"\"\"\n\n\r  \t\0";
	int			iter;

	(void) state;
	for (iter = 0; iter < 400; iter++)
	{
		char		data[48];
		size_t		len = rng() % sizeof(data);
		size_t		i;
		csv_reader_options o = opts_delim(iter % 3 == 0 ? ';' : ',');
		result		res;
		int			j;

		for (i = 0; i < len; i++)
			data[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
		if (iter % 5 == 0 && len >= 3)
			memcpy(data, "\xEF\xBB\xBF", 3);
		o.max_field_size = 1 + rng() % 6;
		o.max_record_size = 4 + rng() % 12;
		o.honor_sep_line = iter % 7 == 0;
		check_splits_o(data, len, &o, &res);
		assert_true(res.rc == CSV_READER_OK);
		/* line numbers increase; raw of a record has no final line end */
		for (j = 0; j < res.n; j++)
		{
			rec		   *c = &res.recs[j];

			if (j > 0)
				assert_true(c->line > res.recs[j - 1].line);
			assert_true(c->line + c->count - 1 <= res.lines);
			assert_true(c->raw_len <= o.max_record_size);
			/* raw is only ever cut at the cap */
			assert_true(!c->raw_truncated || c->raw_len == o.max_record_size);
			if (c->status == CSVR_OK)
			{
				int			k;

				for (k = 0; k < c->nfields; k++)
					assert_true(c->lengths[k] <= o.max_field_size);
			}
		}
		free_result(&res);
	}
}

/* ----------------------------------------------------------------------
 * Delimiter detection
 * ---------------------------------------------------------------------- */

static void
test_detect_delimiter(void **state)
{
	(void) state;
	assert_int_equal(csv_detect_delimiter(S("a;b;c\n1;2;3\n4;5;6\n")), ';');
	assert_int_equal(csv_detect_delimiter(S("a,b,c\n1,2,3\n4,5,6\n")), ',');
	assert_int_equal(csv_detect_delimiter(S("a|b|c\n1|2|3\n")), '|');
	assert_int_equal(csv_detect_delimiter(S("a b\tc d\n1 2\t3 4\n")), '\t');

	/* other separators inside quotes */
	assert_int_equal(csv_detect_delimiter(S("name;text;n\n"
											"x;\"a, b, c, d\";1\n"
											"y;\"e, f, g, h\";2\n"
											"z;\"i, j, k, l\";3\n")), ';');
	assert_int_equal(csv_detect_delimiter(S("name,text\n"
											"x,\"a;b;c\"\n"
											"y,\"d;e;f\"\n"
											"z,\"g;h;i\"\n")), ',');
	assert_int_equal(csv_detect_delimiter(S("a\tb\n\"x,y,z\"\t\"1;2;3\"\n"
											"\"x,y,z\"\t\"1;2;3\"\n")), '\t');
	assert_int_equal(csv_detect_delimiter(S("a|b\n\"x,y\"|\"p;q\"\n\"x,y\"|\"p;q\"\n")), '|');

	/* "; " with decimal commas */
	assert_int_equal(csv_detect_delimiter(S("item; price; qty\n"
											"apple; 1,50; 3\n"
											"pear; 2,25; 10\n"
											"plum; 0,99; 7\n")), ';');
	/* decimal commas in some rows only */
	assert_int_equal(csv_detect_delimiter(S("1,5; 2; 3\n4; 5,5; 6\n7; 8; 9\n")), ';');
	/*
	 * Ambiguous by the documented rule: no header and the same number of
	 * decimal commas in every row, so ',' also gives a constant count, and
	 * the larger one (3 > 2).
	 */
	assert_int_equal(csv_detect_delimiter(S("1,5; 2,5\n3,5; 4,5\n")), ',');
	/* ties between field counts go to the larger count */
	assert_int_equal(csv_detect_delimiter(S("a,b;c;d\n")), ';');
	assert_int_equal(csv_detect_delimiter(S("a;b,c,d\n")), ',');

	/* rows with other field counts do not spoil the most frequent one */
	assert_int_equal(csv_detect_delimiter(S("a;b;c\n1;2;3\n4;5\n6,7\n")), ';');

	/* no candidate splits anything */
	assert_int_equal(csv_detect_delimiter(S("one\ntwo\nthree\n")), ',');
	assert_int_equal(csv_detect_delimiter(S("")), ',');
	assert_int_equal(csv_detect_delimiter(S("\xEF\xBB\xBF")), ',');

	/* BOM; sep= line decides; CRLF */
	assert_int_equal(csv_detect_delimiter(S("\xEF\xBB\xBF" "a;b\r\n1;2\r\n")), ';');
	assert_int_equal(csv_detect_delimiter(S("sep=|\na,b,c\n1,2,3\n")), '|');
	assert_int_equal(csv_detect_delimiter(S("\xEF\xBB\xBFsep=;\r\na,b\n")), ';');
	assert_int_equal(csv_detect_delimiter(S("sep=;")), ';');
	assert_int_equal(csv_detect_delimiter(S("sep=;x\na,b\nc,d\n")), ',');
	assert_int_equal(csv_detect_delimiter(S("sep=\"\na|b\n")), '|');

	/* malformed records do not count */
	assert_int_equal(csv_detect_delimiter(S("a\"b,c;d\n\"x\"y,z;w\nk;l\n")), ';');
}

static void
test_detect_delimiter_large(void **state)
{
	/* more than 100 records and more than 1 MB: only the start counts */
	size_t		len = 2 * 1024 * 1024 + 100;
	char	   *data = malloc(len);
	size_t		i;

	(void) state;
	assert_non_null(data);
	for (i = 0; i + 6 <= len; i += 6)
		memcpy(data + i, "a;b;c\n", 6);
	memset(data + i, 'x', len - i);
	assert_int_equal(csv_detect_delimiter(data, len), ';');

	/* cut at the last line end inside the first MB */
	for (i = 0; i + 6 <= 1024 * 1024; i += 6)
		memcpy(data + i, "a|b|c\n", 6);
	memset(data + i, ',', len - i);
	assert_int_equal(csv_detect_delimiter(data, len), '|');

	/* same with CR line ends */
	for (i = 0; i + 6 <= 1024 * 1024; i += 6)
		memcpy(data + i, "a|b|c\r", 6);
	assert_int_equal(csv_detect_delimiter(data, len), '|');

	/* no line end at all in the first MB */
	memset(data, 'x', len);
	data[1] = ',';
	assert_int_equal(csv_detect_delimiter(data, len), ',');
	data[1] = '\t';
	assert_int_equal(csv_detect_delimiter(data, len), ',');
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_default_delimiter),
		cmocka_unit_test(test_last_line_without_newline),
		cmocka_unit_test(test_crlf_ending),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_lf_crlf_cr_equivalent),
		cmocka_unit_test(test_mixed_line_ends),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_multiline_quoted),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_tab_delimiter),
		cmocka_unit_test(test_stray_quotes),
		cmocka_unit_test(test_unterminated_quote_then_good_lines),
		cmocka_unit_test(test_unterminated_quote_at_eof),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_sep_line),
		cmocka_unit_test(test_field_cap),
		cmocka_unit_test(test_field_cap_small_values),
		cmocka_unit_test(test_record_cap),
		cmocka_unit_test(test_raw_truncated),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_unterminated_quote_bounded_memory),
		cmocka_unit_test(test_huge_single_line),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_reread_budget_lone_quotes),
		cmocka_unit_test(test_reread_budget_exceeded),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_feed_after_finish),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_huge_caps_clamped),
		cmocka_unit_test(test_random_split_invariance),
		cmocka_unit_test(test_detect_delimiter),
		cmocka_unit_test(test_detect_delimiter_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
