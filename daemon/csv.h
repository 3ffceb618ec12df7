/* csv: a strict reader of comma-separated values (RFC 4180), for procedure catalogues and bulk
 * imports from the one-stop system. Reads a memory buffer or a whole file record by record;
 * every defect (bad UTF-8, a stray or unclosed quote, a NUL byte, a ragged record, a limit
 * passed) is an error naming the line, never something skipped or repaired.
 *
 * Accepted: a UTF-8 BOM at the start (skipped); CRLF or LF line ends; a last line without a
 * line end; blank lines at the very end (ignored). Fields are kept byte for byte unless
 * csv_options.trim is set. Every record must have as many fields as the first one (the header
 * when there is one). A blank line before the end is a record of one empty field. */
#ifndef DUNGHAN_CSV_H
#define DUNGHAN_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CSV_MAX_FIELD_DEFAULT ((size_t)64 * 1024)       /* bytes in one field, after unquoting */
#define CSV_MAX_FIELDS_DEFAULT ((size_t)256)            /* fields in one record */
#define CSV_MAX_FILE_DEFAULT ((size_t)64 * 1024 * 1024) /* bytes read by csv_reader_open */

/* All zero (or a NULL pointer) means: comma, no header, no trimming, default limits. */
struct csv_options {
	char sep;           /* field separator; 0 = ','. Not '"', CR, LF, NUL, non-ASCII, nor ' '
	                     * with trim */
	bool expect_header; /* the first record names the columns (csv_column, csv_require) */
	bool trim;          /* drop ASCII spaces around unquoted fields and around the quotes of
	                     * quoted ones; text inside quotes is always kept */
	size_t max_field;   /* 0 = CSV_MAX_FIELD_DEFAULT */
	size_t max_fields;  /* 0 = CSV_MAX_FIELDS_DEFAULT */
	size_t max_file;    /* 0 = CSV_MAX_FILE_DEFAULT; csv_reader_open only */
	const char *name;   /* messages read "name:12: ..."; NULL: "line 12: ..." (csv_reader_open:
	                     * the path). Copied. */
};

/* One record. Everything points into the reader, valid until the next csv_next or
 * csv_reader_free. */
struct csv_row {
	const char *const *fields; /* nfields NUL-terminated UTF-8 strings (no NUL inside) */
	const size_t *lens;        /* their lengths in bytes */
	size_t nfields;            /* >= 1 */
	size_t line;               /* physical line (1-based) where the record starts */
};

struct csv_reader;

/* Reads data[0..len) (NUL not needed), which is borrowed: it must stay unchanged until
 * csv_reader_free. With expect_header, reads the header now. Returns NULL and fills err on bad
 * options, a bad or missing header, or no memory. */
struct csv_reader *csv_reader_new(const char *data, size_t len, const struct csv_options *opt,
				  struct err *err);

/* Reads the whole file at path (at most max_file bytes) into the reader, then as
 * csv_reader_new. Returns NULL and fills err naming the file when it cannot be read or is too
 * big. */
struct csv_reader *csv_reader_open(const char *path, const struct csv_options *opt,
				   struct err *err);

/* Frees the reader, its rows and, for csv_reader_open, the file contents. NULL is a no-op. */
void csv_reader_free(struct csv_reader *r);

/* Reads the next record into *row (cleared first). Returns 1 (a record), 0 (end of input; again
 * on further calls) or -1 with err filled ("name:line: field N (column): why", err->field = the
 * column name when known); after -1 every call returns -1 with the same error. */
int csv_next(struct csv_reader *r, struct csv_row *row, struct err *err);

/* Index of the header column called name (exact bytes), or -1 when absent or no header. */
int csv_column(const struct csv_reader *r, const char *name);

/* Name of header column i (owned by the reader), or NULL when out of range or no header. */
const char *csv_column_name(const struct csv_reader *r, size_t i);

/* Checks that every name of the NULL-terminated list is a header column. Returns 0, or -1 with
 * err naming the first missing one (err->field = that name). */
int csv_require(const struct csv_reader *r, const char *const *names, struct err *err);

#endif
