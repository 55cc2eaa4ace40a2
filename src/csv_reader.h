/*-------------------------------------------------------------------------
 *
 * csv_reader.h
 *		Streaming CSV reader on top of libcsv: records with the physical
 *		line they start on, their exact original text, strict quoting with
 *		recovery, and bounded memory.
 *
 * This file is part of the pure-C core: it must not include any
 * PostgreSQL header, so that it can be unit tested and fuzzed on its own.
 *
 * Reading rules (the README's "How upflow_import reads CSV" table):
 *
 *	- The input is fed in chunks of any size (csv_reader_feed), then
 *	  csv_reader_finish is called once.  Splitting the same input at any
 *	  point gives identical records.
 *	- A UTF-8 byte order mark at the very start of the input is skipped.
 *	- Line ends are LF, CRLF or a lone CR.  Physical lines are counted by
 *	  this module (libcsv drops blank lines and CRs); the first line is 1.
 *	- A blank line (empty, or only spaces and tabs other than the
 *	  delimiter, outside any record) produces no record.
 *	- A record may span several physical lines inside a quoted field.
 *	- Unquoted fields lose leading and trailing spaces and tabs (libcsv's
 *	  behaviour); quoted fields are kept exactly.  Doubled quotes inside a
 *	  quoted field stand for one quote.
 *	- Strict quoting (CSV_STRICT | CSV_STRICT_FINI): a quote inside an
 *	  unquoted field, text after a closing quote, or a quote still open at
 *	  end of input makes the record malformed.  A malformed record is
 *	  reported with the line it starts on and, as its raw text, that line
 *	  only; reading resumes at the start of the next physical line, so one
 *	  bad quote cannot swallow the rest of the file.
 *	- A field longer than max_field_size bytes (enforced through libcsv's
 *	  realloc hook), or a record whose raw text is longer than
 *	  max_record_size bytes, makes the record malformed the same way, so
 *	  memory stays bounded whatever the input.  A malformed record's raw
 *	  text is cut at max_record_size bytes (raw_truncated); its offset in
 *	  the input lets a caller that keeps the input recover the whole line.
 *	- A NUL byte anywhere in a record is reported (CSVR_NUL_BYTE); such a
 *	  record's fields are not passed on.
 *	- Optionally (honor_sep_line), a first line of the form "sep=X" (as
 *	  written by Excel) sets the delimiter and produces no record.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UPFLOW_CSV_READER_H
#define UPFLOW_CSV_READER_H

#include <stddef.h>
#include <stdbool.h>

/* Outcome of one record. */
typedef enum csv_record_status
{
	CSVR_OK = 0,
	CSVR_UNTERMINATED_QUOTE,	/* quoted field still open at end of input */
	CSVR_STRAY_QUOTE,			/* quote inside an unquoted field, or text
								 * after a closing quote */
	CSVR_FIELD_TOO_LARGE,		/* a field exceeded max_field_size; also an
								 * unterminated quote that ran past it */
	CSVR_RECORD_TOO_LARGE,		/* the record exceeded max_record_size */
	CSVR_NUL_BYTE				/* the record contains a NUL byte */
} csv_record_status;

typedef struct csv_record
{
	long		line_number;	/* physical line the record starts on (1-based) */
	long		line_count;		/* physical lines it spans (>= 1) */
	csv_record_status status;

	/*
	 * Fields, valid only for CSVR_OK.  Each field is NUL-terminated at
	 * fields[i][lengths[i]].  Pointers are valid only during the callback.
	 */
	int			nfields;
	const char *const *fields;
	const size_t *lengths;

	/*
	 * The record exactly as in the input, without its final line break (for
	 * a malformed record: its first physical line only).  Not
	 * NUL-terminated; may contain NUL bytes for CSVR_NUL_BYTE.  raw is
	 * exactly the input bytes at offset, but it holds at most
	 * max_record_size bytes: a malformed record whose first line is longer
	 * has raw cut there, with raw_truncated set, so that memory stays
	 * bounded; the full line can then be taken from the input at offset.
	 */
	const char *raw;
	size_t		raw_len;
	size_t		offset;			/* byte offset of raw[0] in the input as fed
								 * (from its first byte, BOM and "sep="
								 * line included) */
	bool		raw_truncated;	/* raw is shorter than the first line (or
								 * record) it stands for */

	/*
	 * For malformed records: 0-based index of the field in which the problem
	 * was detected (-1 if unknown), and byte offset in the record's full
	 * text (from its first byte) where it was detected.
	 */
	int			error_field;
	size_t		error_offset;
} csv_record;

/*
 * Called once per record, in input order, never from inside libcsv.
 * Return 0 to go on, non-zero to stop reading (feed/finish then return
 * CSV_READER_STOPPED).
 */
typedef int (*csv_record_callback) (const csv_record *record, void *arg);

typedef struct csv_reader_options
{
	char		delimiter;		/* ';' ',' '|' or '\t' */
	size_t		max_field_size; /* bytes; 0 = 64 kB */
	size_t		max_record_size;	/* bytes of raw text; 0 = 64 x max_field_size */
	bool		honor_sep_line; /* accept an Excel "sep=X" first line */
} csv_reader_options;

/* Return codes of csv_reader_feed and csv_reader_finish. */
#define CSV_READER_OK			0
#define CSV_READER_STOPPED		1	/* the callback asked to stop */
#define CSV_READER_NOMEM		(-1)	/* malloc failed */
#define CSV_READER_TOO_MANY_ERRORS (-2) /* re-reading after malformed records
										 * exceeded its budget: the input is
										 * not CSV in this delimiter */

typedef struct csv_reader csv_reader;

/* NULL if out of memory.  All memory is malloc'ed and freed by csv_reader_free. */
extern csv_reader *csv_reader_create(const csv_reader_options *options,
									 csv_record_callback callback, void *arg);
extern int	csv_reader_feed(csv_reader *reader, const char *data, size_t len);
extern int	csv_reader_finish(csv_reader *reader);
extern void csv_reader_free(csv_reader *reader);

/* The delimiter in force (may have been set by a "sep=" line). */
extern char csv_reader_delimiter(const csv_reader *reader);

/* Progress: bytes consumed so far and physical lines seen so far. */
extern size_t csv_reader_bytes_consumed(const csv_reader *reader);
extern long csv_reader_lines_seen(const csv_reader *reader);

/*
 * Diagnostics and testing aids.  Peak bytes allocated by the reader
 * (including libcsv's buffer); bytes read again after malformed records so
 * far; and the re-reading budget (feed/finish return
 * CSV_READER_TOO_MANY_ERRORS once the bytes read again exceed
 * factor x bytes consumed + base; defaults 8 and 1 MB).
 */
extern size_t csv_reader_peak_memory(const csv_reader *reader);
extern size_t csv_reader_reread_bytes(const csv_reader *reader);
extern void csv_reader_set_reread_budget(csv_reader *reader, size_t factor,
										 size_t base);

/* Short English description of a status, e.g. "unterminated quoted field". */
extern const char *csv_record_status_text(csv_record_status status);

/*
 * Guess the delimiter of a CSV text among ';' ',' '|' and '\t' from its
 * first records (up to 100 records or the first 1 MB).  For each candidate
 * the sample is read with the rules above; the winner is the candidate
 * whose most frequent field count (at least 2) is shared by the most
 * well-formed records; ties go to the larger field count, then to the
 * order ';' ',' '\t' '|'.  A "sep=X" first line decides outright.
 * Returns ',' when no candidate splits any record into 2 fields or more.
 */
extern char csv_detect_delimiter(const char *data, size_t len);

#endif							/* UPFLOW_CSV_READER_H */
