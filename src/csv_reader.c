/*-------------------------------------------------------------------------
 *
 * csv_reader.c
 *		Streaming CSV reader on top of libcsv (reading rules: csv_reader.h).
 *
 * libcsv does the quoting; this module does everything libcsv cannot tell
 * us: which physical line a record starts on, its exact original text,
 * recovery after a malformed record, and memory bounds.
 *
 * The input is cut into physical lines here (memchr for CR and LF, with
 * per-source caches so that no byte is scanned twice) and libcsv is fed one
 * piece at a time, a piece being at most one line's content plus its
 * terminator.  A CR and a following LF are never fed in the same piece: the
 * LF is then either dropped (no record open: it completes a CRLF) or fed
 * alone as content (inside a quoted field).  So after each csv_parse call we
 * know whether the row ended, and libcsv's callbacks only collect fields into
 * our buffers: records are passed to the user callback after csv_parse has
 * returned, because the PostgreSQL glue may longjmp out of that callback and
 * must never unwind through libcsv.
 *
 * Every byte fed to libcsv for the current record is also appended to
 * "raw".  When a record turns out malformed (strict quoting error, field
 * over the cap, record over the cap, quote open at end of input) its first
 * line is reported, the parser is thrown away, and the bytes after that
 * first line are read again with a fresh parser.  If the record is still on
 * its first line we instead skip to the end of that line.  A record's raw
 * text is a contiguous run of the byte stream, so when the bytes to re-read
 * are all in the buffer being read (the caller's chunk, or the pending
 * buffer) re-reading is just a rewind; otherwise (the record began in an
 * earlier chunk) they are copied to the "pending" buffer, which is read
 * before the rest of the input.  The re-read bytes are budgeted.
 *
 * Each source knows the stream offset of its first byte, so a record's
 * offset is taken where it starts (base + position); the pending buffer's
 * base is that of the malformed record plus the start of its tail, or, for
 * the bytes held while deciding about the BOM and "sep=", the length of
 * what was skipped.  raw only ever holds max_record_size (+1) bytes: a
 * malformed first line longer than that is reported cut, and flagged.
 *
 * Field size cap: libcsv's entry buffer grows through entry_realloc(),
 * which refuses to go past entry_limit, so libcsv stops with CSV_ENOMEM.
 * libcsv keeps a closing quote, trailing blanks and the NUL of
 * CSV_APPEND_NULL in that buffer too, so the limit has some headroom and the
 * exact check (value length > max_field_size) is done when the field is
 * delivered.  libcsv's realloc hook has no user pointer, hence the
 * thread-local entry_owner, set around each libcsv call.
 *
 * This file must not include PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

#define CSVR_DEFAULT_FIELD_SIZE ((size_t) 64 * 1024)
#define CSVR_RECORD_FACTOR		64
/* Caps are clamped like PostgreSQL's MaxAllocSize; also keeps int counts safe */
#define CSVR_SIZE_LIMIT			((size_t) 0x3fffffff)
#define CSVR_BLOCK_SIZE			4096
/* Room for closing quote, APPEND_NULL's byte and a few blanks libcsv trims */
#define CSVR_ENTRY_HEADROOM		(3 + 64)
#define CSVR_REREAD_FACTOR		8
#define CSVR_REREAD_BASE		((size_t) 1024 * 1024)
#define CSVR_DETECT_MAX_BYTES	((size_t) 1024 * 1024)
#define CSVR_DETECT_MAX_RECORDS 100
#define CSVR_PARSER_OPTIONS		(CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)
/* libcsv's pstate value between rows (libcsv.c, not exported) */
#define LIBCSV_ROW_NOT_BEGUN	0

#define CSVR_MIN(a, b)			((a) < (b) ? (a) : (b))

/* Where we are in the "BOM, then maybe sep=X" prologue of the input */
#define PROLOGUE_BOM			0
#define PROLOGUE_SEP			1
#define PROLOGUE_DONE			2

static const char utf8_bom[3] = {'\xEF', '\xBB', '\xBF'};

/*
 * Position of the next occurrence of one byte value in a source, cached:
 * there is no such byte in [from, at), and at is either its position or the
 * source length.  Survives rewinds of the pending source.
 */
typedef struct scan_cache
{
	bool		valid;
	size_t		from;
	size_t		at;
} scan_cache;

/* A run of bytes being read: the caller's chunk, or the pending buffer */
typedef struct csvr_source
{
	const char *buf;
	size_t		len;
	bool		is_input;
	size_t		base;			/* stream offset of buf[0] */
	size_t		high_water;		/* furthest position reached (re-reads rewind) */
	scan_cache	lf;
	scan_cache	cr;
	scan_cache	nul;
} csvr_source;

/* Results of the internal steps */
#define ST_CONTINUE		0
#define ST_STOP			1		/* r->result is set */
#define ST_REREAD		2		/* r->tail_off/tail_len must be read again */

/* Results of feed_piece */
#define FP_OK			0
#define FP_EPARSE		1
#define FP_TOO_BIG		2
#define FP_NOMEM		3

struct csv_reader
{
	/* Options; the delimiter may be changed by a "sep=" line */
	char		delimiter;
	size_t		max_field_size;
	size_t		max_record_size;
	bool		honor_sep_line;
	csv_record_callback callback;
	void	   *callback_arg;

	/* libcsv parser; its entry buffer is allocated by entry_realloc */
	struct csv_parser parser;
	size_t		entry_alloc;	/* bytes really allocated for entry_buf */
	size_t		entry_limit;	/* entry_buf never grows past this */
	bool		entry_real_oom; /* last real realloc failed */
	void	   *entry_spare;	/* entry_buf of a discarded parser */
	size_t		entry_spare_size;

	/* Set by the libcsv callbacks */
	bool		row_ended;
	bool		cb_oom;

	/* The record being read */
	bool		rec_open;
	long		rec_line;
	size_t		rec_offset;		/* stream offset of the record's first byte */
	char	   *raw;
	size_t		raw_len;
	size_t		raw_cap;
	char	   *arena;			/* field values, each NUL-terminated */
	size_t		arena_len;
	size_t		arena_cap;
	size_t	   *lengths;
	size_t		lengths_cap;
	const char **fields;		/* built when the record is emitted */
	size_t		fields_cap;
	int			nfields;
	bool		has_nul;
	size_t		nul_offset;
	int			nul_field;
	int			big_field;		/* field found over the cap, or -1 */

	/* Malformed record whose first line is being skipped */
	bool		skipping;
	csv_record_status skip_status;
	int			skip_field;
	size_t		skip_offset;
	bool		skip_truncated; /* some of the line did not fit in raw */

	/* Part of raw to read again after a malformed record */
	size_t		tail_off;
	size_t		tail_len;

	/* Physical lines */
	long		line_ends;		/* line terminators read (rewinds on re-read) */
	long		max_line_ends;
	bool		skip_lf;		/* last byte was a CR: an LF next is its pair */
	bool		partial_line;	/* input ends with an unterminated line */

	/* BOM and "sep=" prologue */
	int			prologue;
	char		hold[16];
	size_t		hold_len;
	size_t		bom_len;

	/* Bytes to read before the rest of the input */
	char	   *pend;
	size_t		pend_cap;
	size_t		pend_pos;
	csvr_source pend_src;

	size_t		bytes_consumed;
	size_t		reread_bytes;
	size_t		reread_factor;
	size_t		reread_base;
	size_t		mem_current;
	size_t		mem_peak;
	int			result;			/* sticky non-OK result */
	bool		finished;
};

/* Owner of the parser libcsv is running, for entry_realloc */
static _Thread_local csv_reader *entry_owner;


/*
 * Grow an array to hold at least "need" elements, doubling but never past
 * "limit" elements (when need <= limit).  Returns the new array, or NULL
 * (old array intact) if out of memory.
 */
static void *
grow_array(csv_reader *r, void *ptr, size_t *cap, size_t need, size_t limit,
		   size_t elsize)
{
	size_t		newcap;
	void	   *p;

	if (need == 0)
		need = 1;				/* so that NULL always means failure */
	if (need <= *cap)
		return ptr;
	newcap = *cap ? *cap : 64;
	while (newcap < need)
		newcap *= 2;
	if (newcap > limit && need <= limit)
		newcap = limit;
	p = realloc(ptr, newcap * elsize);
	if (p == NULL)
		return NULL;
	r->mem_current += (newcap - *cap) * elsize;
	if (r->mem_current > r->mem_peak)
		r->mem_peak = r->mem_current;
	*cap = newcap;
	return p;
}

/*
 * libcsv's realloc hook.  libcsv asks for entry_size + blk_size, halving the
 * increment after each NULL, so refusing anything above entry_limit makes
 * it creep up to exactly entry_limit and then fail with CSV_ENOMEM.  Real
 * growth is geometric: libcsv's fixed 4 kB steps are mostly answered from
 * memory we already have.
 */
static void *
entry_realloc(void *ptr, size_t size)
{
	csv_reader *r = entry_owner;
	size_t		want;
	void	   *p;

	if (size > r->entry_limit)
		return NULL;
	if (ptr == NULL && r->entry_spare != NULL)
	{
		/* new parser after an error: take the old one's buffer */
		ptr = r->entry_spare;
		r->entry_alloc = r->entry_spare_size;
		r->entry_spare = NULL;
	}
	if (size <= r->entry_alloc)
		return ptr;
	want = r->entry_alloc * 2;
	if (want < size)
		want = size;
	if (want > r->entry_limit)
		want = r->entry_limit;
	p = realloc(ptr, want);
	if (p == NULL && want > size)
	{
		want = size;
		p = realloc(ptr, want);
	}
	if (p == NULL)
	{
		r->entry_real_oom = true;
		return NULL;
	}
	r->entry_real_oom = false;
	r->mem_current += want - r->entry_alloc;
	if (r->mem_current > r->mem_peak)
		r->mem_peak = r->mem_current;
	r->entry_alloc = want;
	return p;
}

/*
 * libcsv's free hook: keep the buffer of a parser discarded after an error
 * for the next one, so that many malformed records cost no allocations.
 */
static void
entry_free(void *ptr)
{
	csv_reader *r = entry_owner;

	if (r != NULL && r->entry_spare == NULL)
	{
		r->entry_spare = ptr;
		r->entry_spare_size = r->entry_alloc;
	}
	else
		free(ptr);
}

/* libcsv field callback: copy the field into the record's arena */
static void
cb_field(void *s, size_t n, void *data)
{
	csv_reader *r = (csv_reader *) data;
	void	   *p;
	size_t		limit;

	if (r->big_field >= 0 || r->cb_oom)
		return;					/* the record is lost anyway */
	if (n > r->max_field_size)
	{
		r->big_field = r->nfields;
		return;
	}
	/* this runs once per field: grow only when needed */
	if (r->arena_len + n + 1 > r->arena_cap)
	{
		/* values and their NULs never exceed twice the raw text */
		limit = 2 * r->max_record_size + 4;
		p = grow_array(r, r->arena, &r->arena_cap, r->arena_len + n + 1,
					   limit, 1);
		if (p == NULL)
			goto oom;
		r->arena = p;
	}
	if ((size_t) r->nfields >= r->lengths_cap)
	{
		limit = r->max_record_size + 2;
		p = grow_array(r, r->lengths, &r->lengths_cap,
					   (size_t) r->nfields + 1, limit, sizeof(size_t));
		if (p == NULL)
			goto oom;
		r->lengths = p;
	}

	if (n > 0)
		memcpy(r->arena + r->arena_len, s, n);
	r->arena[r->arena_len + n] = '\0';
	r->arena_len += n + 1;
	r->lengths[r->nfields++] = n;
	return;

oom:
	r->cb_oom = true;
}

/* libcsv row callback: the row ended (we emit it after csv_parse returns) */
static void
cb_row(int c, void *data)
{
	(void) c;
	((csv_reader *) data)->row_ended = true;
}

/* Throw away the parser (libcsv must not be reused after an error) */
static void
reset_parser(csv_reader *r)
{
	entry_owner = r;
	csv_free(&r->parser);		/* its buffer becomes entry_spare */
	entry_owner = NULL;
	r->entry_alloc = 0;
	csv_init(&r->parser, CSVR_PARSER_OPTIONS);
	csv_set_delim(&r->parser, (unsigned char) r->delimiter);
	csv_set_blk_size(&r->parser, CSVR_BLOCK_SIZE);
	csv_set_realloc_func(&r->parser, entry_realloc);
	csv_set_free_func(&r->parser, entry_free);
}

static void
start_record(csv_reader *r, size_t offset)
{
	r->rec_open = true;
	r->rec_line = r->line_ends + 1;
	r->rec_offset = offset;
	r->raw_len = 0;
	r->arena_len = 0;
	r->nfields = 0;
	r->has_nul = false;
	r->big_field = -1;
}

/* Forget the current record (raw bytes stay in the buffer for queue_tail) */
static void
close_record(csv_reader *r)
{
	r->rec_open = false;
	r->raw_len = 0;
	r->arena_len = 0;
	r->nfields = 0;
	r->has_nul = false;
	r->big_field = -1;
}

static int
call_back(csv_reader *r, csv_record *rec)
{
	if (r->callback(rec, r->callback_arg) != 0)
	{
		r->result = CSV_READER_STOPPED;
		return ST_STOP;
	}
	return ST_CONTINUE;
}

/* Pass on the complete record in raw[0..raw_len) */
static int
emit_record(csv_reader *r, size_t raw_len, long line_count)
{
	csv_record	rec;
	int			rc;

	rec.line_number = r->rec_line;
	rec.line_count = line_count;
	rec.raw = r->raw;
	rec.raw_len = raw_len;
	rec.offset = r->rec_offset;
	rec.raw_truncated = false;	/* an OK record is never over the cap */
	rec.fields = NULL;
	rec.lengths = NULL;
	rec.nfields = 0;
	rec.error_field = -1;
	rec.error_offset = 0;

	if (r->has_nul)
	{
		rec.status = CSVR_NUL_BYTE;
		rec.error_field = r->nul_field;
		rec.error_offset = r->nul_offset;
	}
	else
	{
		const char *p = r->arena;
		void	   *f;
		int			i;

		f = grow_array(r, (void *) r->fields, &r->fields_cap,
					   (size_t) r->nfields, r->max_record_size + 2,
					   sizeof(char *));
		if (f == NULL)
		{
			r->result = CSV_READER_NOMEM;
			return ST_STOP;
		}
		r->fields = f;
		for (i = 0; i < r->nfields; i++)
		{
			r->fields[i] = p;
			p += r->lengths[i] + 1;
		}
		rec.status = CSVR_OK;
		rec.nfields = r->nfields;
		rec.fields = r->fields;
		rec.lengths = r->lengths;
	}
	rc = call_back(r, &rec);
	close_record(r);
	return rc;
}

static int
emit_malformed(csv_reader *r, csv_record_status status, int field,
			   size_t offset, size_t first_len, bool truncated)
{
	csv_record	rec;

	rec.line_number = r->rec_line;
	rec.line_count = 1;
	rec.status = status;
	rec.nfields = 0;
	rec.fields = NULL;
	rec.lengths = NULL;
	rec.raw = r->raw;
	rec.raw_len = first_len;
	rec.offset = r->rec_offset;
	rec.raw_truncated = truncated;
	rec.error_field = field;
	rec.error_offset = offset;
	return call_back(r, &rec);
}

/*
 * The current record is malformed.  If its first line is complete, report
 * it and ask for the bytes after that line to be read again (ST_REREAD);
 * otherwise remember the error and skip the rest of the line (ST_CONTINUE,
 * reported when the line ends).
 */
static int
malformed(csv_reader *r, csv_record_status status, int field, size_t offset)
{
	const char *hit;
	size_t		first;
	size_t		next;
	int			rc;

	/* an oversized field came first in the text, whatever stopped us */
	if (r->big_field >= 0)
	{
		status = CSVR_FIELD_TOO_LARGE;
		field = r->big_field;
	}
	reset_parser(r);

	hit = memchr(r->raw, '\n', r->raw_len);
	first = hit ? (size_t) (hit - r->raw) : r->raw_len;
	hit = memchr(r->raw, '\r', first);
	if (hit)
		first = (size_t) (hit - r->raw);

	if (first == r->raw_len)
	{
		r->skipping = true;
		r->skip_status = status;
		r->skip_field = field;
		r->skip_offset = offset;
		r->skip_truncated = false;
		return ST_CONTINUE;
	}

	next = first + 1;
	if (r->raw[first] == '\r' && next < r->raw_len && r->raw[next] == '\n')
		next++;
	/* a CR ending raw may still get its LF from the input */
	r->skip_lf = (r->raw[first] == '\r' && next == r->raw_len);
	r->line_ends = r->rec_line;
	r->tail_off = next;
	r->tail_len = r->raw_len - next;

	rc = emit_malformed(r, status, field, offset, first, false);
	close_record(r);
	return rc == ST_STOP ? ST_STOP : ST_REREAD;
}

/*
 * Count re-read bytes against the budget: re-reading is what could make a
 * pathological input cost O(size x cap).
 */
static int
charge_reread(csv_reader *r, size_t consumed)
{
	r->reread_bytes += r->tail_len;
	if (r->reread_bytes > r->reread_factor * consumed + r->reread_base)
	{
		r->result = CSV_READER_TOO_MANY_ERRORS;
		return ST_STOP;
	}
	return ST_CONTINUE;
}

/*
 * Make the pending source cover pend[0..len) from its start; offset is the
 * stream offset of pend[0].
 */
static void
set_pending(csv_reader *r, size_t len, size_t offset)
{
	memset(&r->pend_src, 0, sizeof(r->pend_src));
	r->pend_src.buf = r->pend;
	r->pend_src.len = len;
	r->pend_src.base = offset;
	r->pend_pos = 0;
}

/* Copy bytes (stream offset "offset") into the (empty) pending buffer */
static bool
fill_pending(csv_reader *r, const char *data, size_t len, size_t offset)
{
	void	   *p;

	p = grow_array(r, r->pend, &r->pend_cap, len, r->max_record_size + 2, 1);
	if (p == NULL)
		return false;
	r->pend = p;
	if (len > 0)
		memcpy(r->pend, data, len);
	set_pending(r, len, offset);
	return true;
}

/* Queue the tail of a malformed record when it is not in the pending buffer */
static int
queue_tail(csv_reader *r)
{
	if (!fill_pending(r, r->raw + r->tail_off, r->tail_len,
					  r->rec_offset + r->tail_off))
	{
		r->result = CSV_READER_NOMEM;
		return ST_STOP;
	}
	return ST_CONTINUE;
}

static bool
append_raw(csv_reader *r, const char *data, size_t n)
{
	void	   *p;

	p = grow_array(r, r->raw, &r->raw_cap, r->raw_len + n,
				   r->max_record_size + 1, 1);
	if (p == NULL)
		return false;
	r->raw = p;
	memcpy(r->raw + r->raw_len, data, n);
	r->raw_len += n;
	return true;
}

/*
 * Feed n bytes (part of one line, possibly ending with its terminator) to
 * raw and libcsv.  On a libcsv error, *offset is where libcsv stopped, as an
 * offset in the record's text.
 */
static int
feed_piece(csv_reader *r, const char *data, size_t n, size_t *offset)
{
	size_t		base = r->raw_len;
	size_t		done;

	if (n == 0)
		return FP_OK;
	if (!append_raw(r, data, n))
		return FP_NOMEM;

	r->row_ended = false;
	r->entry_real_oom = false;
	entry_owner = r;
	done = csv_parse(&r->parser, data, n, cb_field, cb_row, r);
	entry_owner = NULL;

	if (r->cb_oom)
		return FP_NOMEM;
	if (done < n || r->parser.status != CSV_SUCCESS)
	{
		*offset = base + done;
		if (r->parser.status == CSV_EPARSE)
			return FP_EPARSE;
		if (r->parser.status == CSV_ENOMEM && r->entry_real_oom)
			return FP_NOMEM;
		return FP_TOO_BIG;
	}
	return FP_OK;
}

/* Next occurrence of ch at or after pos, or len */
static size_t
scan_next(const char *buf, size_t len, scan_cache *c, size_t pos, int ch)
{
	const char *hit;

	if (c->valid && pos >= c->from && pos <= c->at)
		return c->at;
	if (c->valid && pos < c->from)
	{
		/* rewound: only [pos, from) is unknown */
		hit = memchr(buf + pos, ch, c->from - pos);
		if (hit)
			c->at = (size_t) (hit - buf);
		c->from = pos;
		return c->at;
	}
	hit = memchr(buf + pos, ch, len - pos);
	c->valid = true;
	c->from = pos;
	c->at = hit ? (size_t) (hit - buf) : len;
	return c->at;
}

static size_t
find_line_end(csvr_source *src, size_t pos)
{
	size_t		lf = scan_next(src->buf, src->len, &src->lf, pos, '\n');
	size_t		cr = scan_next(src->buf, src->len, &src->cr, pos, '\r');

	return CSVR_MIN(lf, cr);
}

/*
 * Skipping the rest of a malformed record's first line.  Returns the status
 * and advances *posp.
 */
static int
skip_line(csv_reader *r, csvr_source *src, size_t *posp)
{
	size_t		pos = *posp;
	size_t		e = find_line_end(src, pos);
	size_t		room;
	size_t		n;
	int			rc;

	/* keep as much of the line as raw may hold */
	room = r->raw_len < r->max_record_size ? r->max_record_size - r->raw_len : 0;
	n = CSVR_MIN(e - pos, room);
	if (n > 0 && !append_raw(r, src->buf + pos, n))
	{
		r->result = CSV_READER_NOMEM;
		return ST_STOP;
	}
	if (n < e - pos)
		r->skip_truncated = true;
	if (e == src->len)
	{
		*posp = e;
		return ST_CONTINUE;
	}
	*posp = e + 1;
	r->line_ends++;
	if (r->line_ends > r->max_line_ends)
		r->max_line_ends = r->line_ends;
	r->skip_lf = (src->buf[e] == '\r');
	r->skipping = false;
	rc = emit_malformed(r, r->skip_status, r->skip_field, r->skip_offset,
						r->raw_len, r->skip_truncated);
	close_record(r);
	return rc;
}

/*
 * Read from a source until it is exhausted (ST_CONTINUE), a re-read of
 * input bytes was queued in the pending buffer (ST_REREAD), or reading must
 * stop (ST_STOP, r->result set).  *posp is the position in the source.
 */
static int
process(csv_reader *r, csvr_source *src, size_t *posp)
{
	const char *buf = src->buf;
	size_t		len = src->len;
	size_t		pos = *posp;
	size_t		fed = 0;		/* bytes of the current record from here */
	int			rc = ST_CONTINUE;

	while (pos < len)
	{
		size_t		n;
		size_t		room;
		size_t		offset = 0;
		bool		has_term;
		bool		nul_here = false;
		bool		overflow = false;
		bool		lf_content = false;
		int			fp;

		if (r->skip_lf)
		{
			r->skip_lf = false;
			if (buf[pos] == '\n')
			{
				if (!r->rec_open)
				{
					pos++;		/* second half of a CRLF */
					continue;
				}
				lf_content = true;	/* CRLF inside a quoted field */
			}
		}

		if (r->skipping)
		{
			rc = skip_line(r, src, &pos);
			if (rc != ST_CONTINUE)
				break;
			continue;
		}

		if (!r->rec_open)
		{
			start_record(r, src->base + pos);
			fed = 0;
		}

		if (lf_content)
		{
			n = 1;
			has_term = false;
		}
		else
		{
			size_t		e = find_line_end(src, pos);

			has_term = (e < len);
			n = e - pos;
			if (!r->has_nul)
			{
				/* stop before a first NUL, to learn its field index */
				size_t		z = scan_next(buf, len, &src->nul, pos, '\0');

				if (z < e)
				{
					n = z - pos;
					has_term = false;
					nul_here = true;
				}
			}
		}

		/* feed bytes up to the record cap, so errors are seen in text order */
		room = r->raw_len < r->max_record_size ? r->max_record_size - r->raw_len : 0;
		if (n > room)
		{
			n = room;
			has_term = false;
			nul_here = false;
			overflow = true;
		}

		fp = feed_piece(r, buf + pos, n + (has_term ? 1 : 0), &offset);
		fed += n + (has_term ? 1 : 0);
		pos += n;
		if (has_term)
		{
			r->skip_lf = (buf[pos] == '\r');
			pos++;
			r->line_ends++;
			if (r->line_ends > r->max_line_ends)
				r->max_line_ends = r->line_ends;
		}

		if (fp == FP_NOMEM)
		{
			r->result = CSV_READER_NOMEM;
			rc = ST_STOP;
		}
		else if (fp != FP_OK)
			rc = malformed(r, fp == FP_EPARSE ? CSVR_STRAY_QUOTE : CSVR_FIELD_TOO_LARGE,
						   r->nfields, offset);
		else if (nul_here)
		{
			r->has_nul = true;
			r->nul_offset = r->raw_len;
			r->nul_field = r->nfields;
		}
		else if (overflow)
			rc = malformed(r, CSVR_RECORD_TOO_LARGE, r->nfields,
						   r->max_record_size);
		else if (!has_term)
			;					/* line goes on in the next piece */
		else if (r->row_ended)
		{
			if (r->big_field >= 0)
				rc = malformed(r, CSVR_FIELD_TOO_LARGE, r->big_field,
							   r->raw_len - 1);
			else
				rc = emit_record(r, r->raw_len - 1,
								 r->line_ends - r->rec_line + 1);
		}
		else if (r->parser.pstate == LIBCSV_ROW_NOT_BEGUN)
			close_record(r);	/* blank line */
		else if (r->big_field >= 0)
			rc = malformed(r, CSVR_FIELD_TOO_LARGE, r->big_field,
						   r->raw_len - 1);
		else if (r->raw_len > r->max_record_size)
			rc = malformed(r, CSVR_RECORD_TOO_LARGE, r->nfields,
						   r->max_record_size);

		if (pos > src->high_water)
			src->high_water = pos;
		if (rc == ST_REREAD)
		{
			size_t		consumed = src->is_input ?
				src->base + src->high_water : r->bytes_consumed;

			if (charge_reread(r, consumed) == ST_STOP)
			{
				rc = ST_STOP;
				break;
			}
			if (r->tail_len > fed)
			{
				/*
				 * The record began in pending or an earlier chunk (never
				 * while reading pending, whose records start in it): copy
				 * the tail.
				 */
				rc = queue_tail(r);
				if (rc == ST_CONTINUE)
					rc = ST_REREAD;
				break;
			}
			/* the tail is exactly the bytes just read from this source */
			pos -= r->tail_len;
			rc = ST_CONTINUE;
		}
		else if (rc != ST_CONTINUE)
			break;
	}

	*posp = pos;
	if (pos > src->high_water)
		src->high_water = pos;
	if (src->is_input)
		r->bytes_consumed = src->base + src->high_water;
	return rc;
}

/* Read the pending bytes, then input[*posp..len) */
static int
run(csv_reader *r, const char *input, size_t len, size_t pos)
{
	csvr_source in;

	memset(&in, 0, sizeof(in));
	in.buf = input;
	in.len = len;
	in.is_input = true;
	in.base = r->bytes_consumed - pos;
	in.high_water = pos;

	for (;;)
	{
		int			rc;

		if (r->pend_pos < r->pend_src.len)
			rc = process(r, &r->pend_src, &r->pend_pos);
		else if (pos < len)
			rc = process(r, &in, &pos);
		else
			break;
		if (rc == ST_STOP)
			return r->result;
	}
	return CSV_READER_OK;
}

static bool
valid_sep_char(char c)
{
	return c != '"' && c != '\r' && c != '\n';
}

/*
 * Decide about the BOM and the "sep=" line from the bytes held so far.
 * When decided, the held bytes that are data go to the pending buffer.
 */
static bool
prologue_decide(csv_reader *r, bool at_eof)
{
	size_t		sep_len = 0;

	if (r->prologue == PROLOGUE_BOM)
	{
		size_t		k = CSVR_MIN(r->hold_len, sizeof(utf8_bom));

		if (memcmp(r->hold, utf8_bom, k) == 0 && r->hold_len < sizeof(utf8_bom)
			&& !at_eof)
			return true;		/* need more bytes */
		if (memcmp(r->hold, utf8_bom, k) == 0 && r->hold_len >= sizeof(utf8_bom))
		{
			r->hold_len -= sizeof(utf8_bom);
			memmove(r->hold, r->hold + sizeof(utf8_bom), r->hold_len);
			r->bom_len = sizeof(utf8_bom);
		}
		r->prologue = PROLOGUE_SEP;
	}

	if (r->honor_sep_line &&
		memcmp(r->hold, "sep=", CSVR_MIN(r->hold_len, 4)) == 0)
	{
		if (r->hold_len < 6 && !at_eof)
			return true;		/* need more bytes */
		if (r->hold_len >= 5 && valid_sep_char(r->hold[4]) &&
			(r->hold_len == 5 || r->hold[5] == '\r' || r->hold[5] == '\n'))
		{
			size_t		used = 5;

			r->delimiter = r->hold[4];
			csv_set_delim(&r->parser, (unsigned char) r->delimiter);
			if (r->hold_len > 5)
			{
				used = 6;
				r->line_ends = r->max_line_ends = 1;
				r->skip_lf = (r->hold[5] == '\r');
			}
			r->hold_len -= used;
			memmove(r->hold, r->hold + used, r->hold_len);
			sep_len = used;
		}
	}

	r->prologue = PROLOGUE_DONE;
	return fill_pending(r, r->hold, r->hold_len, r->bom_len + sep_len);
}

csv_reader *
csv_reader_create(const csv_reader_options *options,
				  csv_record_callback callback, void *arg)
{
	csv_reader *r = calloc(1, sizeof(csv_reader));

	if (r == NULL)
		return NULL;
	r->delimiter = options->delimiter ? options->delimiter : ',';
	r->max_field_size = options->max_field_size ? options->max_field_size :
		CSVR_DEFAULT_FIELD_SIZE;
	if (r->max_field_size > CSVR_SIZE_LIMIT)
		r->max_field_size = CSVR_SIZE_LIMIT;
	r->max_record_size = options->max_record_size ? options->max_record_size :
		CSVR_RECORD_FACTOR * r->max_field_size;
	if (r->max_record_size > CSVR_SIZE_LIMIT)
		r->max_record_size = CSVR_SIZE_LIMIT;
	r->honor_sep_line = options->honor_sep_line;
	r->callback = callback;
	r->callback_arg = arg;
	r->entry_limit = r->max_field_size + CSVR_ENTRY_HEADROOM;
	r->big_field = -1;
	r->reread_factor = CSVR_REREAD_FACTOR;
	r->reread_base = CSVR_REREAD_BASE;
	r->mem_current = r->mem_peak = sizeof(csv_reader);
	csv_init(&r->parser, CSVR_PARSER_OPTIONS);
	reset_parser(r);
	return r;
}

int
csv_reader_feed(csv_reader *r, const char *data, size_t len)
{
	size_t		i = 0;
	int			rc;

	if (r->result != CSV_READER_OK)
		return r->result;
	if (r->finished || len == 0)
		return CSV_READER_OK;

	while (r->prologue != PROLOGUE_DONE && i < len)
	{
		r->hold[r->hold_len++] = data[i++];
		if (!prologue_decide(r, false))
		{
			r->result = CSV_READER_NOMEM;
			return r->result;
		}
	}
	r->bytes_consumed += i;

	rc = run(r, data, len, i);
	if (rc == CSV_READER_OK)
		r->partial_line = r->bytes_consumed > r->bom_len &&
			data[len - 1] != '\n' && data[len - 1] != '\r';
	return rc;
}

int
csv_reader_finish(csv_reader *r)
{
	if (r->result != CSV_READER_OK)
		return r->result;
	if (r->finished)
		return CSV_READER_OK;

	if (r->prologue != PROLOGUE_DONE && !prologue_decide(r, true))
	{
		r->result = CSV_READER_NOMEM;
		return r->result;
	}

	for (;;)
	{
		int			rc;

		rc = run(r, NULL, 0, 0);
		if (rc != CSV_READER_OK)
			return rc;

		if (r->skipping)
		{
			/* malformed first line that ends with the input */
			r->skipping = false;
			rc = emit_malformed(r, r->skip_status, r->skip_field,
								r->skip_offset, r->raw_len, r->skip_truncated);
			close_record(r);
		}
		else if (!r->rec_open)
			break;
		else
		{
			int			fini;

			r->row_ended = false;
			entry_owner = r;
			fini = csv_fini(&r->parser, cb_field, cb_row, r);
			entry_owner = NULL;

			if (r->cb_oom)
			{
				r->result = CSV_READER_NOMEM;
				return r->result;
			}
			if (fini != 0)
				rc = malformed(r, CSVR_UNTERMINATED_QUOTE, r->nfields,
							   r->raw_len);
			else if (!r->row_ended)
				close_record(r);	/* only blanks after the last line end */
			else if (r->big_field >= 0)
				rc = malformed(r, CSVR_FIELD_TOO_LARGE, r->big_field,
							   r->raw_len);
			else
				rc = emit_record(r, r->raw_len,
								 r->line_ends - r->rec_line + 2);

			if (rc == ST_REREAD)
			{
				rc = charge_reread(r, r->bytes_consumed);
				if (rc == ST_CONTINUE)
					rc = queue_tail(r);
			}
		}
		if (rc == ST_STOP)
			return r->result;
	}

	r->finished = true;
	return CSV_READER_OK;
}

void
csv_reader_free(csv_reader *r)
{
	if (r == NULL)
		return;
	csv_free(&r->parser);		/* entry_owner is NULL: really frees */
	free(r->entry_spare);
	free(r->raw);
	free(r->arena);
	free(r->lengths);
	free((void *) r->fields);
	free(r->pend);
	free(r);
}

char
csv_reader_delimiter(const csv_reader *r)
{
	return r->delimiter;
}

size_t
csv_reader_bytes_consumed(const csv_reader *r)
{
	return r->bytes_consumed;
}

long
csv_reader_lines_seen(const csv_reader *r)
{
	return r->max_line_ends + (r->finished && r->partial_line ? 1 : 0);
}

size_t
csv_reader_peak_memory(const csv_reader *r)
{
	return r->mem_peak;
}

size_t
csv_reader_reread_bytes(const csv_reader *r)
{
	return r->reread_bytes;
}

void
csv_reader_set_reread_budget(csv_reader *r, size_t factor, size_t base)
{
	r->reread_factor = factor;
	r->reread_base = base;
}

const char *
csv_record_status_text(csv_record_status status)
{
	switch (status)
	{
		case CSVR_OK:
			return "ok";
		case CSVR_UNTERMINATED_QUOTE:
			return "unterminated quoted field";
		case CSVR_STRAY_QUOTE:
			return "misplaced quote";
		case CSVR_FIELD_TOO_LARGE:
			return "field too large";
		case CSVR_RECORD_TOO_LARGE:
			return "record too large";
		case CSVR_NUL_BYTE:
			return "NUL byte in record";
	}
	return "unknown status";
}

/* Delimiter detection: field counts of the first well-formed records */
typedef struct detect_state
{
	int			nrecords;
	int			nok;
	int			counts[CSVR_DETECT_MAX_RECORDS];
} detect_state;

static int
detect_callback(const csv_record *rec, void *arg)
{
	detect_state *st = (detect_state *) arg;

	if (rec->status == CSVR_OK && rec->nfields >= 2)
		st->counts[st->nok++] = rec->nfields;
	return ++st->nrecords >= CSVR_DETECT_MAX_RECORDS;
}

char
csv_detect_delimiter(const char *data, size_t len)
{
	static const char candidates[] = {';', ',', '\t', '|'};
	char		best = ',';
	int			best_count = 0;
	int			best_nfields = 0;
	size_t		c;

	if (len >= sizeof(utf8_bom) && memcmp(data, utf8_bom, sizeof(utf8_bom)) == 0)
	{
		data += sizeof(utf8_bom);
		len -= sizeof(utf8_bom);
	}
	if (len >= 5 && memcmp(data, "sep=", 4) == 0 && valid_sep_char(data[4]) &&
		(len == 5 || data[5] == '\r' || data[5] == '\n'))
		return data[4];

	if (len > CSVR_DETECT_MAX_BYTES)
	{
		/* cut after the last line end, so no record is seen truncated */
		size_t		cut = CSVR_DETECT_MAX_BYTES;

		while (cut > 0 && data[cut - 1] != '\n' && data[cut - 1] != '\r')
			cut--;
		len = cut > 0 ? cut : CSVR_DETECT_MAX_BYTES;
	}

	for (c = 0; c < sizeof(candidates); c++)
	{
		csv_reader_options opts;
		csv_reader *r;
		detect_state st;
		int			i;
		int			mode_count = 0;
		int			mode_nfields = 0;

		memset(&opts, 0, sizeof(opts));
		opts.delimiter = candidates[c];
		memset(&st, 0, sizeof(st));
		r = csv_reader_create(&opts, detect_callback, &st);
		if (r == NULL)
			break;
		if (csv_reader_feed(r, data, len) == CSV_READER_OK)
			(void) csv_reader_finish(r);
		csv_reader_free(r);

		for (i = 0; i < st.nok; i++)
		{
			int			j;
			int			n = 0;

			for (j = 0; j < st.nok; j++)
				n += (st.counts[j] == st.counts[i]);
			if (n > mode_count || (n == mode_count && st.counts[i] > mode_nfields))
			{
				mode_count = n;
				mode_nfields = st.counts[i];
			}
		}
		if (mode_count > best_count ||
			(mode_count == best_count && mode_count > 0 && mode_nfields > best_nfields))
		{
			best = candidates[c];
			best_count = mode_count;
			best_nfields = mode_nfields;
		}
	}
	return best;
}
