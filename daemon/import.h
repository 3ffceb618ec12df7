/* import: reads the one-stop system's exports into the case objects POST /api/v1/cases takes,
 * one row at a time with constant memory, for the drop folder (spool.c, on the loop thread) and
 * `dunghanctl import`. Formats (docs/import.md): CSV (RFC 4180 through csv.h; UTF-8 with or
 * without BOM; ',' or ';' found from the header line; headers mapped to fields by a mapping file
 * or the built-in Vietnamese one; local dates "dd/mm/yyyy[ HH:MM[:SS]]" or RFC 3339) and NDJSON
 * (one API case object a line, passed through as it is).
 *
 * A bad row is reported with its line number and the reader goes on with the next one, so that
 * a caller can list every error (dry run) or skip the bad rows (--continue-on-error); the raw
 * text of every row stays available until the next row, for FILE.rejected.csv. */
#ifndef DUNGHAN_IMPORT_H
#define DUNGHAN_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "calendar.h"
#include "err.h"

#define IMPORT_MAX_RECORD ((size_t)1024 * 1024) /* bytes in one CSV record or NDJSON line */

enum import_format {
	IMPORT_AUTO,   /* NDJSON when the first byte after a BOM and blank space is '{', else CSV */
	IMPORT_CSV,
	IMPORT_NDJSON,
};

/* --- mapping of CSV headers to case fields --- */

struct import_map;

/* Loads a mapping file: UTF-8 lines "Header = field" ('#' starts a comment line; the header is
 * everything before the last '='), where field is one of code, procedure, unit, handler,
 * applicant, received_at, due_at, online, paid_online, digitized, fee, or "-" for a column to
 * ignore without a warning. Its lines add to the built-in mapping and win over it. Returns NULL
 * with err "path:line: why" (unknown field, a header given twice, bad UTF-8, cannot read). */
struct import_map *import_map_load(const char *path, struct err *err);

/* Frees m. NULL is a no-op. */
void import_map_free(struct import_map *m);

/* --- the reader --- */

struct import_options {
	enum import_format format;
	const struct import_map *map; /* NULL: the built-in Vietnamese mapping only; borrowed */
	struct calendar *cal;         /* the office's zone, to turn local dates into instants;
	                               * required for CSV; borrowed, used only inside import_next
	                               * on the caller's thread */
	const char *name;             /* messages read "name:12: ..."; NULL: "line 12: ...".
	                               * Copied. */
};

/* Reads up to cap bytes into buf: returns the count, 0 at the end of the input, or -1 with
 * errno set. */
typedef ssize_t (*import_read_fn)(void *ctx, char *buf, size_t cap);

struct import_reader;

/* Reads the input given by read(ctx) (borrowed until import_free). For CSV, reads the header
 * now: returns NULL with err when it is missing or bad, when two columns map to one field, or
 * when a required column (code, procedure, unit, received_at) is missing (err->field = that
 * field). Unknown headers are not errors: see import_warning. */
struct import_reader *import_new(import_read_fn read, void *ctx, const struct import_options *opt,
				 struct err *err);

/* The same over the file at path, opened here and closed by import_free; NULL with err naming
 * the file when it cannot be opened. */
struct import_reader *import_open(const char *path, const struct import_options *opt,
				  struct err *err);

/* Frees the reader (and closes the file of import_open). NULL is a no-op. */
void import_free(struct import_reader *r);

/* What import_next found. */
enum import_status {
	IMPORT_ROW = 1,      /* *obj is the case object of the next row */
	IMPORT_END = 0,      /* the input is finished (again on further calls) */
	IMPORT_BAD_ROW = -1, /* this row cannot be read; err says why with its line; call again
	                      * for the next row */
	IMPORT_FAILED = -2,  /* the input cannot be read further (I/O error, out of memory, a
	                      * record longer than IMPORT_MAX_RECORD); err says why; again on
	                      * further calls */
};

/* Reads the next row. *obj (cleared first) is a new reference on IMPORT_ROW: an object with
 * only the fields the row gives (an empty cell is an absent field, so an empty "Ngày hẹn trả"
 * lets the daemon compute due_at); CSV instants are RFC 3339 in the calendar's zone. *line
 * (may be NULL) is the physical line where the row starts, also for a bad row. Rows are only
 * read, not validated against the configuration (unknown procedure, duplicate code): the API
 * does that. Error messages read "line 12: Ngày tiếp nhận: \"31/02/2024\" is not a date ...";
 * err->field is the case field at fault when there is one (e.g. "received_at"), else "". */
enum import_status import_next(struct import_reader *r, json_t **obj, size_t *line,
			       struct err *err);

/* The bytes of the row import_next last returned (good or bad), as they are in the file without
 * the line end (a CSV record may span lines); valid until the next import_next. *len may not be
 * NULL. NULL with *len 0 before the first row or after IMPORT_END/IMPORT_FAILED. */
const char *import_raw(const struct import_reader *r, size_t *len);

/* The CSV header line as it is in the file (no BOM, no line end), for a rejected-rows file;
 * NULL with *len 0 for NDJSON. Valid until import_free. */
const char *import_header_raw(const struct import_reader *r, size_t *len);

/* The format being read (never IMPORT_AUTO) and, for CSV, its separator (',' or ';'; 0 for
 * NDJSON). */
/* A time as the one-stop system's exports and the clerks write it: a local
 * "d/m/yyyy[ H:MM[:SS][ SA|CH|AM|PM]]" or "yyyy-mm-dd[( |T)H:MM[:SS]]" in cal's zone, or RFC
 * 3339, into *out. A date alone is 00:00, or with end_of_day (a deadline) the end of that day's
 * office hours. Returns 0, -1 when s is none of these, -2 when its year is outside
 * CALENDAR_FIRST_YEAR..CALENDAR_LAST_YEAR. */
int import_parse_time(struct calendar *cal, const char *s, bool end_of_day, int64_t *out);

enum import_format import_format(const struct import_reader *r);
char import_separator(const struct import_reader *r);

/* Warning i (0-based) found while reading the header, e.g. "line 1: column \"Ghi chú\" is not
 * imported (no mapping)", or NULL past the last one. Owned by the reader. */
const char *import_warning(const struct import_reader *r, size_t i);

#endif
