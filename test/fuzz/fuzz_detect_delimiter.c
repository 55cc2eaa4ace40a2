/*-------------------------------------------------------------------------
 *
 * fuzz_detect_delimiter.c
 *		libFuzzer harness of csv_detect_delimiter (src/csv_reader.c).
 *
 * The input is a CSV file as uploaded.  Checks:
 *
 *	- the result is one of ; , tab | (or the character of a "sep=X" first
 *	  line, which decides outright), and the same on a second call;
 *	- a UTF-8 BOM in front changes nothing;
 *	- the documented rule holds: recomputed here through the public reader
 *	  API (first 100 records read with each candidate; the most frequent
 *	  field count of at least 2 among well-formed records; most records
 *	  wins, then the larger field count, then the order ; , tab |; ','
 *	  when no candidate splits a record).
 *
 * test/fuzz/fuzz_detect_delimiter.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

#define MAX_RECORDS 100
#define MAX_BYTES	((size_t) 1024 * 1024)

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_detect_delimiter: check failed at line %d: %s\n", \
					__LINE__, #cond); \
			abort(); \
		} \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sample
{
	int			nrecords;
	int			nok;
	int			counts[MAX_RECORDS];
} sample;

static int
count_fields(const csv_record *rec, void *arg)
{
	sample	   *s = arg;

	if (rec->status == CSVR_OK && rec->nfields >= 2)
		s->counts[s->nok++] = rec->nfields;
	return ++s->nrecords >= MAX_RECORDS;
}

/* The rule of csv_reader.h, through the public API only */
static char
reference_delimiter(const uint8_t *data, size_t size)
{
	static const char candidates[] = {';', ',', '\t', '|'};
	char		best = ',';
	int			best_count = 0;
	int			best_nfields = 0;
	int			c;

	for (c = 0; c < 4; c++)
	{
		csv_reader_options o;
		csv_reader *r;
		sample		s;
		int			mode_count = 0;
		int			mode_nfields = 0;
		int			i;
		int			rc;

		memset(&o, 0, sizeof(o));
		o.delimiter = candidates[c];
		memset(&s, 0, sizeof(s));
		r = csv_reader_create(&o, count_fields, &s);
		CHECK(r != NULL);
		rc = csv_reader_feed(r, (const char *) data, size);
		if (rc == CSV_READER_OK)
			rc = csv_reader_finish(r);
		CHECK(rc == CSV_READER_OK || rc == CSV_READER_STOPPED);
		csv_reader_free(r);

		/* most frequent count; ties to the larger count */
		for (i = 0; i < s.nok; i++)
		{
			int			n = 0;
			int			j;

			for (j = 0; j < s.nok; j++)
				n += s.counts[j] == s.counts[i];
			if (n > mode_count || (n == mode_count && s.counts[i] > mode_nfields))
			{
				mode_count = n;
				mode_nfields = s.counts[i];
			}
		}
		/* strictly better only: earlier candidates win full ties */
		if (mode_count > best_count ||
			(mode_count > 0 && mode_count == best_count &&
			 mode_nfields > best_nfields))
		{
			best = candidates[c];
			best_count = mode_count;
			best_nfields = mode_nfields;
		}
	}
	return best;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body = data;
	size_t		body_len = size;
	bool		has_bom = false;
	bool		sep_line;
	char		d;

	d = csv_detect_delimiter((const char *) data, size);
	CHECK(csv_detect_delimiter((const char *) data, size) == d);

	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
	{
		has_bom = true;
		body += 3;
		body_len -= 3;
	}
	sep_line = body_len >= 5 && memcmp(body, "sep=", 4) == 0 &&
		body[4] != '"' && body[4] != '\r' && body[4] != '\n' &&
		(body_len == 5 || body[5] == '\r' || body[5] == '\n');

	if (sep_line)
		CHECK(d == (char) body[4]);
	else
	{
		CHECK(d == ';' || d == ',' || d == '\t' || d == '|');
		if (body_len <= MAX_BYTES)
			CHECK(d == reference_delimiter(body, body_len));
	}

	/* a BOM in front changes nothing */
	if (!has_bom)
	{
		uint8_t    *with_bom = malloc(size + 3);

		CHECK(with_bom != NULL);
		memcpy(with_bom, "\xEF\xBB\xBF", 3);
		if (size > 0)
			memcpy(with_bom + 3, data, size);
		CHECK(csv_detect_delimiter((const char *) with_bom, size + 3) == d);
		free(with_bom);
	}
	return 0;
}
