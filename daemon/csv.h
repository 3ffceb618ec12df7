/* csv: a strict reader of comma-separated values (RFC 4180), for procedure catalogues and bulk
 * imports from the one-stop system. Reads a memory buffer, a whole file, or a stream (constant
 * memory: a window of at most max_record bytes) record by record; every defect (bad UTF-8, a
 * stray or unclosed quote, a NUL byte, a ragged record, a limit passed) is an error naming the
 * line, never something repaired. With csv_options.resync the caller may go on with the next
 * record after a bad one (the record ends at the first line end outside quotes).
 *
 * Accepted: a UTF-8 BOM at the start (skipped); CRLF or LF line ends; a last line without a
 * line end; blank lines at the very end (ignored). Fields are kept byte for byte unless
 * csv_options.trim is set. Every record must have as many fields as the first one (the header
 * when there is one). A blank line before the end is a record of one empty field. */
#ifndef DUNGHAN_CSV_H
#define DUNGHAN_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define CSV_MAX_FIELD_DEFAULT ((size_t)64 * 1024)       /* bytes in one field, after unquoting */
#define CSV_MAX_FIELDS_DEFAULT ((size_t)256)            /* fields in one record */
#define CSV_MAX_FILE_DEFAULT ((size_t)64 * 1024 * 1024) /* bytes read by csv_reader_open */
#define CSV_MAX_RECORD_DEFAULT ((size_t)1024 * 1024)    /* bytes of one record, streams only */

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
	bool detect_sep;    /* sep is ';' when the first record has more ';' than ',' outside
	                     * quotes, else ','; the sep given is ignored */
	bool resync;        /* after a bad record, csv_next goes on with the next one (see there) */
	size_t max_record;  /* 0 = CSV_MAX_RECORD_DEFAULT; csv_reader_stream only: bytes of one
	                     * record with its line end (also a run of blank lines) */
};

/* Reads up to cap bytes into buf: returns the count, 0 at the end of the input, or -1 with
 * errno set (EINTR is retried). */
typedef ssize_t (*csv_read_fn)(void *ctx, char *buf, size_t cap);

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

/* Reads the input given by read(ctx) (borrowed until csv_reader_free) through a window of at
 * most max_record bytes, then as csv_reader_new. Returns NULL and fills err when the options
 * or the header are bad, the input cannot be read, or no memory. */
struct csv_reader *csv_reader_stream(csv_read_fn read, void *ctx, const struct csv_options *opt,
				     struct err *err);

/* Frees the reader, its rows and, for csv_reader_open, the file contents. NULL is a no-op. */
void csv_reader_free(struct csv_reader *r);

/* Reads the next record into *row (cleared first). Returns 1 (a record), 0 (end of input; again
 * on further calls) or -1 with err filled ("name:line: field N (column): why", err->field = the
 * column name when known) and row->line set to where the bad record starts; after -1 every call
 * returns -1 with the same error. With resync, a bad record gives -1 and the next call reads
 * the record after it; -2 is then an error that stops the reader (the input cannot be read, no
 * memory, a record longer than max_record), returned again by every later call. */
int csv_next(struct csv_reader *r, struct csv_row *row, struct err *err);

/* The bytes of the record csv_next last returned or failed on (the header after
 * expect_header), as they are in the input without the line end; valid until the next csv_next
 * or csv_reader_free. NULL with *len 0 when there is none. */
const char *csv_raw(const struct csv_reader *r, size_t *len);

/* The field separator in use (after detect_sep: the one detected). */
char csv_separator(const struct csv_reader *r);

/* Index of the header column called name (exact bytes), or -1 when absent or no header. */
int csv_column(const struct csv_reader *r, const char *name);

/* Name of header column i (owned by the reader), or NULL when out of range or no header. */
const char *csv_column_name(const struct csv_reader *r, size_t i);

/* Checks that every name of the NULL-terminated list is a header column. Returns 0, or -1 with
 * err naming the first missing one (err->field = that name). */
int csv_require(const struct csv_reader *r, const char *const *names, struct err *err);

#endif
