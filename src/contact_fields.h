/*-------------------------------------------------------------------------
 *
 * contact_fields.h
 *		The contact fields of an import: header matching (explicit mapping
 *		and automatic recognition of English and French header names) and
 *		per-value validation.
 *
 * This file is part of the pure-C core: it must not include any
 * PostgreSQL header, so that it can be unit tested and fuzzed on its own.
 * All strings are UTF-8 and carry an explicit length; nothing here
 * allocates memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UPFLOW_CONTACT_FIELDS_H
#define UPFLOW_CONTACT_FIELDS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* The fields a contact line can carry, in output column order. */
typedef enum upf_field
{
	UPF_CUSTOMER_NAME = 0,
	UPF_EXTERNAL_ID,
	UPF_EMAIL,
	UPF_FIRST_NAME,
	UPF_FAMILY_NAME,
	UPF_PHONE,
	UPF_POSITION,
	UPF_IS_MAIN,
	UPF_ACCOUNT_MANAGER_EMAIL,
	UPF_NFIELDS
} upf_field;

/* SQL name of a field ("customer_name", ...); NULL if out of range. */
extern const char *upf_field_name(upf_field field);

/* Field whose SQL name is exactly name (case-sensitive), or -1. */
extern int	upf_field_by_name(const char *name, size_t len);

/* Required fields (🚩 in the help page): customer_name, external_id, email. */
extern bool upf_field_required(upf_field field);

/* Maximum length in characters of a stored value of the field. */
extern size_t upf_field_max_chars(upf_field field);

/* The header a template file uses for the field ("Customer name", ...). */
extern const char *upf_field_template_header(upf_field field);

/* The language a file's headers are written in, for its messages. */
typedef enum upf_language
{
	UPF_LANGUAGE_ENGLISH = 0,
	UPF_LANGUAGE_FRENCH
} upf_language;

/*
 * How messages name a field for a reader ("Main contact", "Contact
 * principal"), never its SQL name; NULL if out of range.
 */
extern const char *upf_field_label(upf_field field, upf_language language);

/* ----------
 * Header names
 * ----------
 */

/*
 * Normalize a header name for comparison: skip a UTF-8 BOM, turn
 * no-break spaces (U+00A0, U+202F, U+2007) and every run of characters
 * that are neither letters nor digits into one space, trim, fold ASCII
 * and Latin-1/Latin Extended-A letters to lower case without accents
 * ("Prénom" -> "prenom", "Téléphone" -> "telephone", "Œ" -> "oe",
 * "ß" -> "ss"), keep other non-ASCII characters as they are.
 * Separators are: ASCII characters other than letters and digits, the
 * non-letters of Latin-1 (U+0080-U+00BF but ª º µ ¹ ² ³, and × ÷), the
 * General Punctuation block (U+2000-U+206F: spaces, dashes, typographic
 * quotes), U+3000, U+FEFF (anywhere), and any byte that does not start a
 * well-formed UTF-8 sequence.  The result is always valid UTF-8.
 * Writes at most outsize-1 bytes plus a terminating NUL (out may be NULL
 * when outsize is 0); a truncated result is cut before the character
 * that did not fit.  Returns the length the full result needs (like
 * snprintf).
 */
extern size_t upf_normalize_header(const char *in, size_t len,
								   char *out, size_t outsize);

/*
 * Field recognized automatically from a header name (English or French,
 * see the synonym table in contact_fields.c and the README), or -1.
 * Matching is on the normalized name, exact.
 */
extern int	upf_match_header(const char *header, size_t len);

/* The synonyms (normalized) of a field, NULL-terminated, for docs/errors. */
extern const char *const *upf_field_synonyms(upf_field field);

/*
 * The language of a header record: French when more of its recognized
 * headers are French-only synonyms ("Prénom", "Société", "Courriel") than
 * English-only ones; headers both languages write ("Client", "Email",
 * "Mobile") and headers that are no synonym do not count.  English when
 * headers is NULL (no header line).  NULL entries are skipped.
 */
extern upf_language upf_headers_language(const char *const *headers,
										 const size_t *lengths, int nheaders);

/*
 * For the tests: whether upf_field_synonyms(field)[index] is a French-only
 * synonym; the synonyms both languages use (English ones, NULL-terminated).
 */
extern bool upf_synonym_is_french(upf_field field, int index);
extern const char *const *upf_neutral_synonyms(void);

/* How a caller asked for one field to be mapped. */
typedef enum upf_mapping_kind
{
	UPF_MAP_AUTO = 0,			/* not in the explicit mapping: recognize */
	UPF_MAP_HEADER,				/* by header name */
	UPF_MAP_COLUMN,				/* by 1-based column number */
	UPF_MAP_IGNORE				/* explicitly not imported (JSON null) */
} upf_mapping_kind;

typedef struct upf_mapping_request
{
	upf_mapping_kind kind;
	const char *header;			/* UPF_MAP_HEADER */
	size_t		header_len;
	long		column;			/* UPF_MAP_COLUMN, 1-based */
} upf_mapping_request;

typedef enum upf_mapping_problem_kind
{
	UPF_MP_REQUIRED_UNMAPPED,	/* field: required, nothing maps it */
	UPF_MP_HEADER_NOT_FOUND,	/* field: its header is not in the file */
	UPF_MP_HEADER_AMBIGUOUS,	/* field: its header names 2+ columns (column,
								 * column2) */
	UPF_MP_COLUMN_OUT_OF_RANGE, /* field: column < 1 or > number of columns
								 * (column = -1: the number asked for is in
								 * the request) */
	UPF_MP_NO_HEADER_LINE,		/* field: mapped by name but header = false */
	UPF_MP_COLUMN_CLAIMED_TWICE,	/* field and field2 both map column */
	UPF_MP_AUTO_AMBIGUOUS		/* field: recognized in column and column2 */
} upf_mapping_problem_kind;

typedef struct upf_mapping_problem
{
	upf_mapping_problem_kind kind;
	int			field;
	int			field2;
	int			column;			/* 0-based, or -1 */
	int			column2;		/* 0-based, or -1 */
} upf_mapping_problem;

/*
 * Resolve the mapping of every field to a 0-based column (or -1 when the
 * field is not imported).  headers/lengths describe the header record
 * (nheaders columns); pass headers = NULL when the file has no header
 * line (then only column numbers can be used and nothing is recognized
 * automatically; nheaders is then the field count of the first record).
 * Fields with UPF_MAP_AUTO are recognized from the headers, but never take
 * a column that an explicit request claims.
 * A field has at most one problem of its own (REQUIRED_UNMAPPED only when
 * it has no other); COLUMN_CLAIMED_TWICE is reported once per later field
 * against the first field of that column.  Problems come in field order
 * (the field's own problem first, then the claims its column suffered).
 * Writes up to max_problems problems (problems may be NULL when
 * max_problems is 0) and returns how many there were in all (0 = the
 * mapping is usable; otherwise columns is only indicative).
 */
extern int	upf_resolve_mapping(const char *const *headers,
								const size_t *lengths, int nheaders,
								const upf_mapping_request requests[UPF_NFIELDS],
								int columns[UPF_NFIELDS],
								upf_mapping_problem *problems, int max_problems);

/* ----------
 * Values
 * ----------
 */

/*
 * Clean a cell: trim spaces, tabs, CR, LF, no-break spaces (U+00A0,
 * U+202F) and BOMs (U+FEFF) at both ends, then drop one leading ' placed
 * before = + - @ (ASCII or full-width), tab or CR (the mark
 * spreadsheet-safe exports add), then
 * trim again.  Returns the start of the cleaned value inside value and
 * sets *out_len.
 */
extern const char *upf_clean_value(const char *value, size_t len,
								   size_t *out_len);

/*
 * Whether a spreadsheet would run a cell as a formula: it starts with
 * = + - @ (ASCII or full-width: U+FF1D U+FF0B U+FF0D U+FF20), a tab or a
 * CR.  Cells written for spreadsheets (error download, export) get a
 * leading ' then, which upf_clean_value drops again on import.
 */
extern bool upf_starts_like_formula(const char *s, size_t len);

/* Number of UTF-8 characters in a valid UTF-8 string. */
extern size_t upf_utf8_chars(const char *s, size_t len);

/*
 * The byte offset of the first invisible format character (zero-width
 * spaces and joiners, direction marks and overrides, soft hyphen, word
 * joiner, BOM, tags: Unicode category Cf) in a UTF-8 string, or -1.  Sets
 * *codepoint and *character (1-based position) when not NULL.
 */
extern long upf_find_invisible(const char *s, size_t len, uint32_t *codepoint,
							   size_t *character);

/*
 * Records that are not contacts, around the contacts of a report export.
 * A "title row" holds at most its first cell (every other cell is blank
 * after cleaning): "Export des contacts - 01/12/2026;;;;" or ";;;;".  A
 * report footer is such a row whose first cell is a report tool's closing
 * line: "Grand Totals (3 records)", "Copyright (c) 2000-2026
 * salesforce.com, inc.", "Confidential Information - Do Not Distribute",
 * "Generated By: ..." (compared without case, after cleaning).
 */
extern bool upf_is_title_row(const char *const *fields, const size_t *lengths, int nfields);
extern bool upf_is_report_footer(const char *cell, size_t len);

/*
 * A client ID that holds several ("9002;9003", as HubSpot exports a
 * contact's companies in a comma-separated file): true when the cleaned
 * value contains a ';'.
 */
extern bool upf_is_multiple_id(const char *s, size_t len);

typedef enum upf_email_problem
{
	UPF_EMAIL_OK = 0,
	UPF_EMAIL_NO_AT,			/* no @ */
	UPF_EMAIL_SEVERAL_AT,		/* more than one @ */
	UPF_EMAIL_EMPTY_LOCAL,		/* nothing before @ */
	UPF_EMAIL_BAD_LOCAL,		/* forbidden character or misplaced dot before @ */
	UPF_EMAIL_BAD_DOMAIN,		/* domain not like name.tld */
	UPF_EMAIL_SPACE,			/* contains a space */
	UPF_EMAIL_TOO_LONG			/* longer than 254 bytes or local part > 64 */
} upf_email_problem;

/*
 * Validate a cleaned, non-empty email address (practical RFC 5321 subset,
 * byte based; bytes >= 0x80 are accepted as internationalized text, the
 * caller checks the encoding).  Checks in this order: space (any Unicode
 * space), @ count, empty local part, lengths, local part, domain.
 */
extern upf_email_problem upf_check_email(const char *s, size_t len);

/* Sentence fragment describing an email problem, e.g. "it has no @". */
extern const char *upf_email_problem_text(upf_email_problem problem);

typedef enum upf_phone_problem
{
	UPF_PHONE_OK = 0,
	UPF_PHONE_BAD_CHARACTER,	/* a letter or symbol other than + ( ) . - / space */
	UPF_PHONE_MISPLACED_PLUS,	/* + not at the start */
	UPF_PHONE_TOO_FEW_DIGITS,	/* fewer than 6 digits */
	UPF_PHONE_TOO_MANY_DIGITS	/* more than 20 digits */
} upf_phone_problem;

/*
 * Validate a cleaned, non-empty phone number: digits with optional
 * leading + (before any digit, once: "(+33) 1..." is fine), and spaces,
 * no-break spaces (U+00A0, U+202F), . - / ( ) as separators; 6 to 20
 * digits.  An extension at the end, "ext", "ext.", "x", "poste" or "#"
 * (any case, optionally followed by spaces) then 1 to 6 digits, is
 * allowed and its digits are not counted.  The first problem from the
 * left is reported, then the digit count.
 */
extern upf_phone_problem upf_check_phone(const char *s, size_t len);
extern const char *upf_phone_problem_text(upf_phone_problem problem);

typedef enum upf_flag
{
	UPF_FLAG_UNSET = 0,			/* empty cell: change nothing */
	UPF_FLAG_TRUE,				/* 1 true yes oui x vrai y o */
	UPF_FLAG_FALSE,				/* 0 false no non faux n */
	UPF_FLAG_INVALID
} upf_flag;

/* Parse a cleaned main-contact cell, case-insensitively. */
extern upf_flag upf_parse_flag(const char *s, size_t len);

#endif							/* UPFLOW_CONTACT_FIELDS_H */
