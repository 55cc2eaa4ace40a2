/*-------------------------------------------------------------------------
 *
 * fuzz_contact_fields.c
 *		libFuzzer harness of header matching, mapping resolution and value
 *		checks (src/contact_fields.c).
 *
 * Input layout: when it has at least 10 bytes, bytes 0-8 describe the
 * mapping request of each of the 9 fields and byte 9 holds flags; the
 * rest (or the whole input when shorter) is text, cut at LF into pieces
 * that serve both as the header record and as cell values.  A request
 * byte b asks for: b & 3 = 0 automatic, 1 a header name (bit 2 set: piece
 * number b >> 3; else a synonym chosen by b >> 3, so that real names
 * occur), 2 a column number ((b >> 2) - 4, sometimes out of range), 3
 * nothing (ignored).  Flags: bit 0, no header line; bit 1, extreme column
 * numbers; bit 2, also a negative header count.
 *
 * Checks (a failure calls abort(), which libFuzzer reports as a crash):
 *
 *	- normalization: valid UTF-8, lower case ASCII, no space at either end
 *	  nor two in a row, idempotent, truncation gives a prefix cut on a
 *	  character boundary and the same return value;
 *	- recognition: the field whose synonym is the normalized name, the
 *	  same for the name and its normalized form;
 *	- mapping: every column in range, explicit requests honoured, header
 *	  names found by normalized equality, each problem well-formed and
 *	  true, no problem means a usable mapping (required fields mapped, no
 *	  column claimed twice); the same answer with fewer problem slots;
 *	- cleaning: the result lies inside the value, has nothing left to
 *	  trim, and survives the export round trip (a spreadsheet-safe export
 *	  prefixes ' to a value that starts like a formula; importing it again
 *	  must give the value back);
 *	- email, phone, main flag: results in range, OK only for values that
 *	  have the basic shape, flag case-insensitive.
 *
 * test/fuzz/fuzz_contact_fields.c
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact_fields.h"

#define MAX_PIECES	64
#define CONTROL_LEN 10

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_contact_fields: check failed at line %d: %s\n", \
					__LINE__, #cond); \
			abort(); \
		} \
	} while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Normalized form in a fresh allocation of exactly the size it needs */
static char *
normalize(const char *s, size_t len, size_t *out_len)
{
	size_t		n = upf_normalize_header(s, len, NULL, 0);
	char	   *out = malloc(n + 1);

	CHECK(out != NULL);
	CHECK(upf_normalize_header(s, len, out, n + 1) == n);
	CHECK(out[n] == '\0');
	*out_len = n;
	return out;
}

/* Is s[0..len) well-formed UTF-8 (no overlong form, surrogate, > U+10FFFF)? */
static bool
valid_utf8(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		n;
		unsigned long cp;
		size_t		k;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 4, cp = c & 0x07;
		else
			return false;
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n;
	}
	return true;
}

static void
check_normalize(const char *s, size_t len)
{
	size_t		n;
	size_t		n2;
	char	   *norm = normalize(s, len, &n);
	char	   *again;
	size_t		outsize;
	size_t		i;

	CHECK(strlen(norm) == n);	/* no NUL inside */
	CHECK(valid_utf8((const unsigned char *) norm, n));
	CHECK(n == 0 || (norm[0] != ' ' && norm[n - 1] != ' '));
	for (i = 0; i < n; i++)
	{
		CHECK(!(norm[i] >= 'A' && norm[i] <= 'Z'));
		CHECK(!(norm[i] == ' ' && i + 1 < n && norm[i + 1] == ' '));
	}

	again = normalize(norm, n, &n2);
	CHECK(n2 == n && memcmp(again, norm, n) == 0);
	free(again);

	/* truncated output: a prefix, cut before a character that did not fit */
	for (outsize = 1; outsize <= n + 1 && outsize <= 8; outsize++)
	{
		char	   *small = malloc(outsize);
		size_t		w;

		CHECK(small != NULL);
		CHECK(upf_normalize_header(s, len, small, outsize) == n);
		w = strlen(small);
		CHECK(w <= outsize - 1);
		CHECK(memcmp(small, norm, w) == 0);
		CHECK(w == n || w + 3 >= outsize - 1);
		CHECK(w == n || ((unsigned char) norm[w] & 0xC0) != 0x80);
		free(small);
	}

	/* recognition */
	{
		int			f = upf_match_header(s, len);

		CHECK(f >= -1 && f < UPF_NFIELDS);
		CHECK(upf_match_header(norm, n) == f);
		if (f >= 0)
		{
			const char *const *syn = upf_field_synonyms((upf_field) f);
			bool		found = false;

			for (; *syn != NULL && !found; syn++)
				found = strcmp(*syn, norm) == 0;
			CHECK(found);
		}
	}
	free(norm);
}

static bool
trimmable_head(const unsigned char *p, size_t len)
{
	return len > 0 &&
		(p[0] == ' ' || p[0] == '\t' || p[0] == '\r' || p[0] == '\n' ||
		 (len >= 2 && p[0] == 0xC2 && p[1] == 0xA0) ||
		 (len >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xAF) ||
		 (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF));
}

static bool
trimmable_tail(const unsigned char *p, size_t len)
{
	return len > 0 &&
		(p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
		 p[len - 1] == '\n' ||
		 (len >= 2 && p[len - 2] == 0xC2 && p[len - 1] == 0xA0) ||
		 (len >= 3 && p[len - 3] == 0xE2 && p[len - 2] == 0x80 && p[len - 1] == 0xAF) ||
		 (len >= 3 && p[len - 3] == 0xEF && p[len - 2] == 0xBB && p[len - 1] == 0xBF));
}

static void
check_clean(const char *s, size_t len)
{
	size_t		n;
	const char *v = upf_clean_value(s, len, &n);
	const unsigned char *u = (const unsigned char *) v;
	unsigned char *exported;
	size_t		n2;
	const char *v2;

	CHECK(v >= s && v <= s + len && n <= len - (size_t) (v - s));
	CHECK(!trimmable_head(u, n));
	CHECK(!trimmable_tail(u, n));

	/*
	 * Export (prefix ' if it starts like a formula), import again.  Build
	 * with -DFUZZ_SKIP_ROUNDTRIP to fuzz on while a round-trip finding is
	 * open.
	 */
	exported = malloc(n + 2);
	CHECK(exported != NULL);
	n2 = 0;
	if (upf_starts_like_formula(v, n))
		exported[n2++] = '\'';
	if (n > 0)
		memcpy(exported + n2, v, n);
	n2 += n;
	v2 = upf_clean_value((const char *) exported, n2, &n2);
#ifndef FUZZ_SKIP_ROUNDTRIP
	CHECK(n2 == n && memcmp(v2, v, n) == 0);
#else
	(void) v2;
#endif
	free(exported);

	/* the value checks, on the cleaned value as the import does */
	if (n > 0)
	{
		upf_email_problem e = upf_check_email(v, n);
		upf_phone_problem p = upf_check_phone(v, n);
		size_t		i;
		size_t		at = 0;
		int			nat = 0;
		bool		space = false;

		CHECK(e >= UPF_EMAIL_OK && e <= UPF_EMAIL_TOO_LONG);
		CHECK(upf_email_problem_text(e) != NULL);
		for (i = 0; i < n; i++)
		{
			if (u[i] == '@' && nat++ == 0)
				at = i;
			if (u[i] == ' ' || u[i] == '\t' || u[i] == '\n' || u[i] == '\r' ||
				u[i] == '\v' || u[i] == '\f')
				space = true;
		}
		if (space)
			CHECK(e == UPF_EMAIL_SPACE);
		else if (nat == 0)
			CHECK(e == UPF_EMAIL_NO_AT || e == UPF_EMAIL_SPACE);
		if (e == UPF_EMAIL_OK)
		{
			CHECK(nat == 1 && at > 0 && at <= 64 && n <= 254);
			CHECK(u[0] != '.' && u[at - 1] != '.');
			CHECK(memchr(u + at, '.', n - at) != NULL);
			CHECK(u[n - 1] != '.' && u[n - 1] != '-');
		}

		CHECK(p >= UPF_PHONE_OK && p <= UPF_PHONE_TOO_MANY_DIGITS);
		CHECK(upf_phone_problem_text(p) != NULL);
		if (p == UPF_PHONE_OK)
		{
			size_t		digits = 0;
			int			plus = 0;

			for (i = 0; i < n; i++)
			{
				digits += u[i] >= '0' && u[i] <= '9';
				plus += u[i] == '+';
				/* no other symbol; letters only from "ext", "x", "poste" */
				CHECK(u[i] >= 0x80 || u[i] == ' ' || u[i] == '#' ||
					  u[i] == '.' || u[i] == '-' || u[i] == '/' ||
					  u[i] == '(' || u[i] == ')' || u[i] == '+' ||
					  (u[i] >= '0' && u[i] <= '9') ||
					  (u[i] != '\0' && strchr("extposEXTPOS", u[i]) != NULL));
			}
			CHECK(digits >= 6 && plus <= 1);
		}
	}

	/* main flag: UNSET only when empty, case does not matter */
	{
		upf_flag	f = upf_parse_flag(v, n);
		char		upper[8];
		size_t		i;

		CHECK(f >= UPF_FLAG_UNSET && f <= UPF_FLAG_INVALID);
		CHECK((f == UPF_FLAG_UNSET) == (n == 0));
		if (n >= 6)
			CHECK(f == UPF_FLAG_INVALID);
		else if (n > 0)
		{
			for (i = 0; i < n; i++)
				upper[i] = (v[i] >= 'a' && v[i] <= 'z') ? (char) (v[i] - 32) : v[i];
			CHECK(upf_parse_flag(upper, n) == f);
		}
	}

	/* character count */
	{
		size_t		chars = upf_utf8_chars(s, len);
		size_t		i;
		size_t		k = 0;

		for (i = 0; i < len; i++)
			k += ((unsigned char) s[i] & 0xC0) != 0x80;
		CHECK(chars == k && chars <= len);
	}
}

/* Do a and b normalize the same? */
static bool
same_normalized(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		na;
	size_t		nb;
	char	   *x = normalize(a, alen, &na);
	char	   *y = normalize(b, blen, &nb);
	bool		same = na == nb && memcmp(x, y, na) == 0;

	free(x);
	free(y);
	return same;
}

static void
check_mapping(const char *const *headers, const size_t *lengths, int nheaders,
			  const upf_mapping_request *rq, bool no_header)
{
	int			columns[UPF_NFIELDS];
	int			columns2[UPF_NFIELDS];
	upf_mapping_problem problems[64];
	upf_mapping_problem few[2];
	int			n;
	int			f;
	int			g;
	int			i;
	bool		claimed_twice = false;

	if (no_header)
		headers = NULL;
	n = upf_resolve_mapping(headers, lengths, nheaders, rq, columns,
							problems, 64);
	CHECK(n >= 0 && n <= 64);

	/* fewer slots: same count, same columns, same first problems */
	CHECK(upf_resolve_mapping(headers, lengths, nheaders, rq, columns2,
							  NULL, 0) == n);
	CHECK(memcmp(columns, columns2, sizeof(columns)) == 0);
	CHECK(upf_resolve_mapping(headers, lengths, nheaders, rq, columns2,
							  few, 2) == n);
	CHECK(memcmp(few, problems, (n < 2 ? n : 2) * sizeof(few[0])) == 0);

	for (f = 0; f < UPF_NFIELDS; f++)
	{
		CHECK(columns[f] >= -1 && columns[f] < nheaders);
		switch (rq[f].kind)
		{
			case UPF_MAP_IGNORE:
				CHECK(columns[f] == -1);
				break;
			case UPF_MAP_COLUMN:
				CHECK(columns[f] == -1 || columns[f] == rq[f].column - 1);
				if (rq[f].column >= 1 && rq[f].column <= nheaders)
					CHECK(columns[f] == rq[f].column - 1);
				break;
			case UPF_MAP_HEADER:
				CHECK(headers != NULL || columns[f] == -1);
				if (columns[f] >= 0)
					CHECK(same_normalized(headers[columns[f]], lengths[columns[f]],
										  rq[f].header, rq[f].header_len));
				break;
			case UPF_MAP_AUTO:
				CHECK(headers != NULL || columns[f] == -1);
				if (columns[f] >= 0)
					CHECK(upf_match_header(headers[columns[f]], lengths[columns[f]]) == f);
				break;
		}
		for (g = f + 1; g < UPF_NFIELDS; g++)
			if (columns[f] >= 0 && columns[f] == columns[g])
				claimed_twice = true;
	}

	/* each problem is well-formed and true, in field order */
	for (i = 0; i < n; i++)
	{
		const upf_mapping_problem *p = &problems[i];

		CHECK(p->field >= 0 && p->field < UPF_NFIELDS);
		CHECK(i == 0 || p->field >= problems[i - 1].field);
		CHECK(p->field2 >= -1 && p->field2 < UPF_NFIELDS);
		CHECK(p->column >= -1 && p->column < nheaders);
		CHECK(p->column2 >= -1 && p->column2 < nheaders);
		switch (p->kind)
		{
			case UPF_MP_REQUIRED_UNMAPPED:
				CHECK(upf_field_required((upf_field) p->field));
				CHECK(columns[p->field] == -1);
				break;
			case UPF_MP_HEADER_NOT_FOUND:
				CHECK(rq[p->field].kind == UPF_MAP_HEADER && headers != NULL);
				for (g = 0; g < nheaders; g++)
					CHECK(!same_normalized(headers[g], lengths[g],
										   rq[p->field].header,
										   rq[p->field].header_len));
				break;
			case UPF_MP_HEADER_AMBIGUOUS:
				CHECK(rq[p->field].kind == UPF_MAP_HEADER);
				CHECK(p->column >= 0 && p->column2 > p->column);
				CHECK(same_normalized(headers[p->column], lengths[p->column],
									  headers[p->column2], lengths[p->column2]));
				break;
			case UPF_MP_COLUMN_OUT_OF_RANGE:
				CHECK(rq[p->field].kind == UPF_MAP_COLUMN);
				CHECK(rq[p->field].column < 1 || rq[p->field].column > nheaders);
				break;
			case UPF_MP_NO_HEADER_LINE:
				CHECK(rq[p->field].kind == UPF_MAP_HEADER && headers == NULL);
				break;
			case UPF_MP_COLUMN_CLAIMED_TWICE:
				CHECK(p->field2 > p->field);
				CHECK(p->column >= 0);
				CHECK(columns[p->field] == p->column && columns[p->field2] == p->column);
				break;
			case UPF_MP_AUTO_AMBIGUOUS:
				CHECK(rq[p->field].kind == UPF_MAP_AUTO && headers != NULL);
				CHECK(p->column >= 0 && p->column2 > p->column);
				CHECK(upf_match_header(headers[p->column], lengths[p->column]) == p->field);
				CHECK(upf_match_header(headers[p->column2], lengths[p->column2]) == p->field);
				CHECK(columns[p->field] == -1);
				break;
			default:
				CHECK(!"unknown problem kind");
		}
	}

	/* no problem: a usable mapping */
	if (n == 0)
	{
		CHECK(!claimed_twice);
		for (f = 0; f < UPF_NFIELDS; f++)
			if (upf_field_required((upf_field) f))
				CHECK(columns[f] >= 0);
	}
	if (claimed_twice)
		CHECK(n > 0);
}

static void
check_field_table(uint8_t b)
{
	int			f;

	for (f = 0; f < UPF_NFIELDS; f++)
	{
		const char *name = upf_field_name((upf_field) f);

		CHECK(name != NULL);
		CHECK(upf_field_by_name(name, strlen(name)) == f);
		CHECK(upf_field_max_chars((upf_field) f) > 0);
		CHECK(upf_field_template_header((upf_field) f) != NULL);
		CHECK(upf_match_header(upf_field_template_header((upf_field) f),
							   strlen(upf_field_template_header((upf_field) f))) == f);
	}
	/* out of range: NULL, 0, false, never a crash */
	f = (int) (int8_t) b;
	if (f < 0 || f >= UPF_NFIELDS)
	{
		CHECK(upf_field_name((upf_field) f) == NULL);
		CHECK(upf_field_synonyms((upf_field) f) == NULL);
		CHECK(upf_field_template_header((upf_field) f) == NULL);
		CHECK(upf_field_max_chars((upf_field) f) == 0);
		CHECK(!upf_field_required((upf_field) f));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ctl = NULL;
	const char *text = (const char *) data;
	size_t		text_len = size;
	const char *pieces[MAX_PIECES];
	size_t		lengths[MAX_PIECES];
	char	   *copy;
	int			npieces = 0;
	size_t		start = 0;
	size_t		i;
	upf_mapping_request rq[UPF_NFIELDS];
	int			f;

	if (size >= CONTROL_LEN)
	{
		ctl = data;
		text += CONTROL_LEN;
		text_len -= CONTROL_LEN;
	}

	/* the whole text as one value and one header */
	copy = malloc(text_len ? text_len : 1);
	CHECK(copy != NULL);
	if (text_len > 0)
		memcpy(copy, text, text_len);
	check_normalize(copy, text_len);
	check_clean(copy, text_len);
	CHECK(upf_field_by_name(copy, text_len) < UPF_NFIELDS);
	CHECK(upf_field_by_name(NULL, text_len) == -1);

	/* pieces: header names and cells (pointers into the exact-size copy) */
	for (i = 0; i <= text_len && npieces < MAX_PIECES; i++)
	{
		if (i == text_len || copy[i] == '\n')
		{
			pieces[npieces] = copy + start;
			lengths[npieces] = i - start;
			npieces++;
			start = i + 1;
		}
	}
	for (f = 0; f < npieces; f++)
	{
		check_normalize(pieces[f], lengths[f]);
		check_clean(pieces[f], lengths[f]);
	}

	check_field_table(ctl ? ctl[9] : 0);

	/* mapping requests */
	memset(rq, 0, sizeof(rq));
	for (f = 0; f < UPF_NFIELDS; f++)
	{
		uint8_t		b = ctl ? ctl[f] : 0;

		switch (b & 3)
		{
			case 0:
				rq[f].kind = UPF_MAP_AUTO;
				break;
			case 1:
				rq[f].kind = UPF_MAP_HEADER;
				if (b & 4)
				{
					int			k = (b >> 3) % npieces;

					rq[f].header = pieces[k];
					rq[f].header_len = lengths[k];
				}
				else
				{
					const char *const *syn = upf_field_synonyms((upf_field) ((b >> 3) % UPF_NFIELDS));
					int			nsyn = 0;

					while (syn[nsyn] != NULL)
						nsyn++;
					rq[f].header = syn[(b >> 3) % nsyn];
					rq[f].header_len = strlen(rq[f].header);
				}
				break;
			case 2:
				rq[f].kind = UPF_MAP_COLUMN;
				rq[f].column = (long) (b >> 2) - 4;
				if (ctl && (ctl[9] & 2))
					rq[f].column = (b & 0x80) ? LONG_MIN + (b & 7) : LONG_MAX - (b & 7);
				break;
			default:
				rq[f].kind = UPF_MAP_IGNORE;
				break;
		}
	}
	check_mapping(pieces, lengths, npieces, rq, ctl && (ctl[9] & 1));

	/* a negative header count is taken as 0: nothing maps, no crash */
	if (ctl && (ctl[9] & 4))
	{
		int			columns[UPF_NFIELDS];
		int			n = upf_resolve_mapping(pieces, lengths, -npieces, rq,
											columns, NULL, 0);

		CHECK(n >= 0);
		for (f = 0; f < UPF_NFIELDS; f++)
			CHECK(columns[f] == -1);
	}

	free(copy);
	return 0;
}
