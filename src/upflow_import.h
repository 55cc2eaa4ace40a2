/*-------------------------------------------------------------------------
 *
 * upflow_import.h
 *		Declarations shared by the PostgreSQL glue of upflow_import.
 *
 *-------------------------------------------------------------------------
 */
#ifndef UPFLOW_IMPORT_H
#define UPFLOW_IMPORT_H

#include "csv_reader.h"
#include "contact_fields.h"
#include "utils/jsonb.h"

/* Most cells csv_safe_line pads a line to (a header wider than this is not a contacts file). */
#define UPFLOW_MAX_PAD_COLUMNS 100000

/* GUCs (sizes in bytes) */
extern int	upflow_max_file_size;
extern int	upflow_max_field_size;
extern int	upflow_worker_lock_timeout;	/* ms */
extern int	upflow_worker_max_attempts;

/*
 * The delimiter a user passed (";", ",", "|", a tab, or the words "tab",
 * "semicolon", "comma", "pipe"), or '\0' for NULL/auto.  ERRORs on
 * anything else.
 */
extern char upflow_delimiter_from_text(const char *value, const char *what);

/* A delimiter as text for messages and history: ";" "," "|" or "\t". */
extern const char *upflow_delimiter_name(char delimiter);

/* Reader options from the GUCs, for the given delimiter. */
extern void upflow_reader_options(csv_reader_options *options, char delimiter);

/* ERROR with errdetail/errhint when len exceeds upflow_import.max_file_size. */
extern void upflow_check_file_size(size_t len);

/*
 * A csv_reader whose malloc'ed memory is released when the given memory
 * context is reset or deleted -- including when an ERROR aborts the query
 * -- so no libcsv buffer survives an error.
 */
extern csv_reader *upflow_create_reader(const csv_reader_options *options,
										csv_record_callback callback,
										void *arg);

/* ERROR for reader return codes other than OK and STOPPED. */
extern void upflow_check_reader_result(int rc);

/*
 * A UTF-8 string in NFC (compatibility false) or NFKC; s itself when it is
 * ASCII or already normal, else a palloc'd copy (upflow_import.c).
 */
extern const char *upflow_unicode_normalize(bool compatibility, const char *s,
											size_t len, size_t *out_len);

/* Start reporting an import in pg_stat_progress_copy (prepare.c). */
extern void upflow_progress_start(size_t bytes_total);

/* ----------
 * Import options and mapping (import_options.c)
 * ----------
 */

typedef struct upflow_import_options
{
	char		delimiter;		/* '\0' = detect */
	bool		header;			/* the first record names the columns */
	char	   *encoding;		/* NULL = auto (bytea input only) */
	bool		blank_cells_clear;	/* empty cell clears the stored value */
	int			create_customers;	/* -1 = default, 0 = false, 1 = true */
	bool		dry_run;
} upflow_import_options;

/* Parse the options argument; ERROR naming an unknown or invalid option. */
extern void upflow_parse_options(Jsonb *options, upflow_import_options *result);

/* Parse the mapping argument (NULL = everything automatic). */
extern void upflow_parse_mapping(Jsonb *mapping,
								 upf_mapping_request requests[UPF_NFIELDS]);

/*
 * Resolve the mapping against the header record (headers = NULL when the
 * file has no header line; nheaders is then the field count of the first
 * record).  ERRORs, listing every problem and the file's headers, when
 * the mapping is not usable.
 */
extern void upflow_resolve_mapping(const char *const *headers,
								   const size_t *lengths, int nheaders,
								   const upf_mapping_request requests[UPF_NFIELDS],
								   int columns[UPF_NFIELDS]);

/*
 * The resolved mapping as jsonb, re-usable as a mapping argument: field
 * name -> header name (when the file has a unique header for it) or
 * 1-based column number, or null when the field is not imported.
 */
extern Jsonb *upflow_mapping_jsonb(const char *const *headers,
										  const size_t *lengths, int nheaders,
										  const int columns[UPF_NFIELDS]);

#endif							/* UPFLOW_IMPORT_H */
