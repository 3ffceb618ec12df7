/* csv: a strict RFC 4180 reader (see csv.h).
 * DESIGN: the input is one contiguous buffer: borrowed, the file read whole, or for a stream a
 * window that is refilled between records. Before a record is parsed, csv_fill makes sure the
 * window holds all of it: a light scan finds its end (the first line end outside quotes, with
 * the parser's rule that a quote opens a quoted field only at the start of a field). That end
 * is also where a bad record is left behind (resync) and what csv_raw gives back. The fields of
 * the current record are unquoted into one scratch buffer, NUL after each, and the row's
 * pointers are set only when the record is complete, since the buffer may move as it grows.
 * UTF-8 is checked sequence by sequence while copying, so an error knows its line. */
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct csv_reader {
	const char *data;     /* the input, borrowed or == owned */
	size_t len;
	size_t pos;           /* next byte to read */
	size_t line;          /* physical line of data[pos], 1-based */
	char *owned;          /* file contents from csv_reader_open */
	char *name;           /* message prefix; NULL = "line N" */
	char sep;
	bool trim;
	size_t max_field;
	size_t max_fields;

	char *buf;            /* unquoted fields of the current record, each NUL-terminated */
	size_t buf_len;
	size_t buf_cap;
	size_t field_start;   /* offset in buf of the field being read */
	size_t *offs;         /* max_fields entries: where each field starts in buf */
	const char **fields;  /* max_fields entries, set when a record is complete */
	size_t *lens;         /* max_fields entries */

	size_t expect;        /* fields per record, from the first record; 0 = none read yet */
	size_t expect_line;   /* where that first record started */
	char *column_text;    /* the header's fields, copied */
	char **columns;       /* ncolumns pointers into column_text */
	size_t ncolumns;

	bool done;            /* end of input returned */
	bool failed;          /* a parse error stopped the reader; err holds it */
	bool fatal;           /* ... and resync cannot go past it */
	bool resync;
	struct err err;

	csv_read_fn read;     /* a stream: data == win, refilled by csv_fill; NULL: all in data */
	void *read_ctx;
	char *win;
	size_t win_cap;
	size_t max_record;
	bool eof;             /* read returned 0: the window holds the rest of the input */
	size_t rec_start;     /* the current record: data[rec_start..rec_end) without line end */
	size_t rec_end;
	size_t next_start;    /* where the record after it starts, on line next_line */
	size_t next_line;
	bool have_rec;        /* rec_* describe a record (for csv_raw) */
};

/* Records a parse error at physical line `line`, in 1-based field `field` of the record (0 =
 * the record as a whole), and stops the reader. Returns -1. */
__attribute__((format(printf, 4, 5)))
static int csv_fail(struct csv_reader *r, size_t line, size_t field, const char *fmt, ...)
{
	char msg[sizeof(r->err.msg)];
	const char *column = NULL;
	size_t n = 0;
	va_list ap;
	int w;

	if (field > 0 && field <= r->ncolumns)
		column = r->columns[field - 1];
	if (r->name)
		w = snprintf(msg, sizeof(msg), "%s:%zu: ", r->name, line);
	else
		w = snprintf(msg, sizeof(msg), "line %zu: ", line);
	n = w < 0 ? 0 : (size_t)w < sizeof(msg) ? (size_t)w : sizeof(msg) - 1;
	if (field > 0 && column)
		w = snprintf(msg + n, sizeof(msg) - n, "field %zu (%s): ", field, column);
	else if (field > 0)
		w = snprintf(msg + n, sizeof(msg) - n, "field %zu: ", field);
	else
		w = 0;
	n += w < 0 ? 0 : (size_t)w < sizeof(msg) - n ? (size_t)w : sizeof(msg) - n - 1;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	r->failed = true;
	return err_set(&r->err, column, "%s", msg);
}

/* Length of the valid UTF-8 sequence at s (n bytes available, s[0] >= 0x80), or 0 when it is
 * not one: stray continuation byte, overlong form, surrogate, above U+10FFFF, or cut short. */
static size_t csv_utf8_len(const unsigned char *s, size_t n)
{
	size_t need;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	}
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return need;
}

/* Makes room for `more` bytes in the scratch buffer. Returns 0 or -1 (out of memory). */
static int csv_reserve(struct csv_reader *r, size_t more)
{
	size_t cap = r->buf_cap ? r->buf_cap : 256;
	char *p;

	if (r->buf_len + more <= r->buf_cap)
		return 0;
	while (cap < r->buf_len + more) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	p = realloc(r->buf, cap);
	if (!p)
		return -1;
	r->buf = p;
	r->buf_cap = cap;
	return 0;
}

/* Copies the input character at pos (one byte, or a whole UTF-8 sequence) to the current field
 * of record field number `field`, checking it. Returns 0 or -1 (reader failed). */
static int csv_take(struct csv_reader *r, size_t field)
{
	const unsigned char *s = (const unsigned char *)r->data + r->pos;
	size_t n = 1;

	if (s[0] == '\0')
		return csv_fail(r, r->line, field, "NUL byte");
	if (s[0] >= 0x80) {
		n = csv_utf8_len(s, r->len - r->pos);
		if (n == 0)
			return csv_fail(r, r->line, field, "invalid UTF-8 (byte 0x%02X)", s[0]);
	}
	if (r->buf_len - r->field_start + n > r->max_field)
		return csv_fail(r, r->line, field, "longer than %zu bytes", r->max_field);
	if (csv_reserve(r, n) != 0) {
		r->fatal = true;
		return csv_fail(r, r->line, field, "out of memory");
	}
	memcpy(r->buf + r->buf_len, s, n);
	r->buf_len += n;
	r->pos += n;
	return 0;
}

static void csv_skip_spaces(struct csv_reader *r)
{
	while (r->pos < r->len && r->data[r->pos] == ' ')
		r->pos++;
}

/* Whether pos is at the end of the input, the separator or a line end. */
static bool csv_at_field_end(const struct csv_reader *r)
{
	char c;

	if (r->pos == r->len)
		return true;
	c = r->data[r->pos];
	return c == r->sep || c == '\n' ||
	       (c == '\r' && r->pos + 1 < r->len && r->data[r->pos + 1] == '\n');
}

/* Whether only line ends (LF or CRLF) remain: a file's trailing blank lines are no record. */
static bool csv_only_blank_lines_left(const struct csv_reader *r)
{
	for (size_t p = r->pos; p < r->len; p++) {
		if (r->data[p] == '\r' && p + 1 < r->len && r->data[p + 1] == '\n')
			p++;
		else if (r->data[p] != '\n')
			return false;
	}
	return true;
}

/* Reads a quoted field of record field number `field`, pos on its opening quote. */
static int csv_quoted(struct csv_reader *r, size_t field)
{
	size_t start_line = r->line;

	r->pos++;
	for (;;) {
		if (r->pos == r->len)
			return csv_fail(r, start_line, field,
					"quoted field not closed before the end of the input");
		if (r->data[r->pos] == '"') {
			if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
				/* "" is one quote: take the second. */
				r->pos++;
			} else {
				r->pos++;
				break;
			}
		} else if (r->data[r->pos] == '\n') {
			r->line++;
		}
		if (csv_take(r, field) != 0)
			return -1;
	}
	if (r->trim)
		csv_skip_spaces(r);
	if (!csv_at_field_end(r)) {
		unsigned char c = (unsigned char)r->data[r->pos];

		if (c >= 0x20 && c < 0x7F)
			return csv_fail(r, r->line, field, "'%c' after the closing quote", c);
		return csv_fail(r, r->line, field, "byte 0x%02X after the closing quote", c);
	}
	return 0;
}

/* Reads an unquoted field of record field number `field`, up to the separator or line end. */
static int csv_unquoted(struct csv_reader *r, size_t field)
{
	while (!csv_at_field_end(r)) {
		char c = r->data[r->pos];

		if (c == '"')
			return csv_fail(r, r->line, field,
					"quote inside an unquoted field (quote the whole field "
					"and double the quote)");
		if (c == '\r')
			return csv_fail(r, r->line, field, "carriage return without a line feed");
		if (csv_take(r, field) != 0)
			return -1;
	}
	if (r->trim) {
		while (r->buf_len > r->field_start && r->buf[r->buf_len - 1] == ' ')
			r->buf_len--;
	}
	return 0;
}

/* Reads one record (pos not at the end) into buf/offs; sets *nfields. Returns 0 or -1. */
static int csv_record(struct csv_reader *r, size_t *nfields)
{
	size_t n = 0;

	r->buf_len = 0;
	for (;;) {
		if (n == r->max_fields)
			return csv_fail(r, r->line, 0, "more than %zu fields", r->max_fields);
		r->field_start = r->buf_len;
		if (r->trim)
			csv_skip_spaces(r);
		if (r->pos < r->len && r->data[r->pos] == '"') {
			if (csv_quoted(r, n + 1) != 0)
				return -1;
		} else if (csv_unquoted(r, n + 1) != 0) {
			return -1;
		}
		if (csv_reserve(r, 1) != 0) {
			r->fatal = true;
			return csv_fail(r, r->line, n + 1, "out of memory");
		}
		r->buf[r->buf_len++] = '\0';
		r->offs[n++] = r->field_start;
		if (r->pos == r->len)
			break;
		if (r->data[r->pos] == r->sep) {
			r->pos++;
			continue;
		}
		/* A line end: csv_at_field_end() let only LF and CRLF through. */
		r->pos += r->data[r->pos] == '\r' ? 2 : 1;
		r->line++;
		break;
	}
	*nfields = n;
	return 0;
}

/* States of csv_scan, the quick pass that finds where a record ends. */
enum csv_scan_state { SCAN_FIELD_START, SCAN_UNQUOTED, SCAN_QUOTED, SCAN_QUOTE_SEEN };

/* Scans data[*at..len) of the record that starts at pos, from *state. Returns true when its line
 * end was found (rec_end, next_start and next_line set); false when the window ran out first
 * (*at, *state and *lines say where to go on). */
static bool csv_scan(struct csv_reader *r, size_t *at, enum csv_scan_state *state, size_t *lines)
{
	enum csv_scan_state st = *state;
	size_t i = *at;

	for (; i < r->len; i++) {
		char c = r->data[i];

		switch (st) {
		case SCAN_FIELD_START:
			if (c == ' ' && r->trim)
				continue;
			if (c == '"') {
				st = SCAN_QUOTED;
				continue;
			}
			break;
		case SCAN_QUOTED:
			if (c == '"')
				st = SCAN_QUOTE_SEEN;
			else if (c == '\n')
				(*lines)++;
			continue;
		case SCAN_QUOTE_SEEN:
			if (c == '"') {
				st = SCAN_QUOTED;
				continue;
			}
			break;
		case SCAN_UNQUOTED:
			break;
		}
		/* Outside quotes (text after a closing quote is an error for the parser, not here). */
		st = c == r->sep ? SCAN_FIELD_START : SCAN_UNQUOTED;
		if (c == '\n') {
			r->rec_end = i > r->pos && r->data[i - 1] == '\r' ? i - 1 : i;
			r->next_start = i + 1;
			r->next_line = r->line + *lines + 1;
			return true;
		}
	}
	*at = i;
	*state = st;
	return false;
}

/* Whether data[pos..len) is only line ends with the input going on after it: then the window
 * must grow before anyone can tell blank records from a blank end of the file. */
static bool csv_blank_window(const struct csv_reader *r)
{
	if (r->eof)
		return false;
	for (size_t p = r->pos; p < r->len; p++) {
		if (r->data[p] == '\r' && p + 1 < r->len && r->data[p + 1] == '\n')
			p++;
		else if (r->data[p] != '\n')
			return false;
	}
	return true;
}

/* Reads more of a stream into the window, moving the unread part to its start. Returns 0 (eof
 * may now be set) or -1 (reader failed, fatally). */
static int csv_read_more(struct csv_reader *r, size_t *at)
{
	size_t keep = r->len - r->pos;
	ssize_t got;

	if (keep >= r->max_record) {
		r->fatal = true;
		return csv_fail(r, r->line, 0, "record longer than %zu bytes", r->max_record);
	}
	if (r->pos > 0) {
		memmove(r->win, r->win + r->pos, keep);
		*at -= r->pos;
		r->pos = 0;
		r->len = keep;
	}
	if (r->len == r->win_cap) {
		size_t cap = r->win_cap * 2 > r->max_record ? r->max_record : r->win_cap * 2;
		char *p = realloc(r->win, cap);

		if (!p) {
			r->fatal = true;
			return csv_fail(r, r->line, 0, "out of memory");
		}
		r->win = p;
		r->win_cap = cap;
	}
	r->data = r->win;
	do {
		got = r->read(r->read_ctx, r->win + r->len, r->win_cap - r->len);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		r->fatal = true;
		return csv_fail(r, r->line, 0, "cannot read the input: %s", strerror(errno));
	}
	if (got == 0)
		r->eof = true;
	r->len += (size_t)got;
	return 0;
}

/* Makes sure the window holds the whole record at pos with its line end, or the rest of the
 * input; sets rec_* and next_*. Returns 0 or -1 (reader failed, fatally). */
static int csv_fill(struct csv_reader *r)
{
	enum csv_scan_state state = SCAN_FIELD_START;
	size_t at = r->pos, lines = 0;

	for (;;) {
		if (!csv_blank_window(r) && csv_scan(r, &at, &state, &lines))
			break;
		if (r->eof || !r->read) {
			r->rec_end = r->next_start = r->len;
			r->next_line = r->line + lines;
			break;
		}
		if (csv_read_more(r, &at) != 0)
			return -1;
	}
	r->rec_start = r->pos;
	return 0;
}

int csv_next(struct csv_reader *r, struct csv_row *row, struct err *err)
{
	size_t line, n = 0;

	memset(row, 0, sizeof(*row));
	if (r->failed && (!r->resync || r->fatal))
		goto fail;
	if (r->failed) {
		/* Leave the bad record behind: go on where the scan said it ends. */
		r->failed = false;
		r->pos = r->next_start;
		r->line = r->next_line;
	}
	r->have_rec = false;
	if (r->done)
		return 0;
	if (csv_fill(r) != 0)
		goto fail;
	if (r->pos == r->len || csv_only_blank_lines_left(r)) {
		r->done = true;
		return 0;
	}
	line = r->line;
	r->have_rec = true;
	if (csv_record(r, &n) != 0) {
		row->line = line;
		goto fail;
	}
	if (r->expect == 0) {
		r->expect = n;
		r->expect_line = line;
	} else if (n != r->expect) {
		if (r->ncolumns > 0)
			csv_fail(r, line, 0, "%zu field%s, the header has %zu", n,
				 n == 1 ? "" : "s", r->expect);
		else
			csv_fail(r, line, 0, "%zu field%s, line %zu has %zu", n, n == 1 ? "" : "s",
				 r->expect_line, r->expect);
		row->line = line;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		r->fields[i] = r->buf + r->offs[i];
		r->lens[i] = (i + 1 < n ? r->offs[i + 1] : r->buf_len) - r->offs[i] - 1;
	}
	row->fields = r->fields;
	row->lens = r->lens;
	row->nfields = n;
	row->line = line;
	return 1;

fail:
	if (err)
		*err = r->err;
	return r->resync && r->fatal ? -2 : -1;
}

const char *csv_raw(const struct csv_reader *r, size_t *len)
{
	if (!r->have_rec) {
		*len = 0;
		return NULL;
	}
	*len = r->rec_end - r->rec_start;
	return r->data + r->rec_start;
}

char csv_separator(const struct csv_reader *r)
{
	return r->sep;
}

/* detect_sep: ';' when the first record has more of them than ',' outside quotes. */
static int csv_detect_sep(struct csv_reader *r)
{
	size_t commas = 0, semicolons = 0;
	bool quoted = false;

	if (csv_fill(r) != 0)
		return -1;
	for (size_t p = r->pos; p < r->rec_end; p++) {
		char c = r->data[p];

		if (c == '"')
			quoted = !quoted;
		else if (!quoted && c == ',')
			commas++;
		else if (!quoted && c == ';')
			semicolons++;
	}
	r->sep = semicolons > commas ? ';' : ',';
	return 0;
}

/* Reads the first record as the header: copies the names, rejects an empty input and duplicate
 * names. Returns 0 or -1 with err filled. */
static int csv_read_header(struct csv_reader *r, struct err *err)
{
	struct csv_row row;
	int rc = csv_next(r, &row, err);

	if (rc == 0) {
		csv_fail(r, r->line, 0, "empty input, a header line was expected");
		goto fail;
	}
	if (rc < 0)
		return -1;
	r->column_text = malloc(r->buf_len);
	r->columns = calloc(row.nfields, sizeof(*r->columns));
	if (!r->column_text || !r->columns) {
		csv_fail(r, row.line, 0, "out of memory");
		goto fail;
	}
	memcpy(r->column_text, r->buf, r->buf_len);
	for (size_t i = 0; i < row.nfields; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(row.fields[i], row.fields[j]) == 0) {
				csv_fail(r, row.line, i + 1,
					 "column name \"%s\" repeated (field %zu)", row.fields[i],
					 j + 1);
				goto fail;
			}
		}
		r->columns[i] = r->column_text + r->offs[i];
	}
	r->ncolumns = row.nfields;
	return 0;

fail:
	if (err)
		*err = r->err;
	return -1;
}

/* The reader without its input: options checked, buffers allocated. */
static struct csv_reader *csv_alloc(const struct csv_options *o, struct err *err)
{
	struct csv_reader *r = NULL;
	unsigned char sep = (unsigned char)(o->sep && !o->detect_sep ? o->sep : ',');

	if (sep == '"' || sep == '\r' || sep == '\n' || sep >= 0x80 || (o->trim && sep == ' ')) {
		err_set(err, "sep", "invalid CSV separator (byte 0x%02X)", sep);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->line = 1;
	r->sep = (char)sep;
	r->trim = o->trim;
	r->resync = o->resync;
	r->max_field = o->max_field ? o->max_field : CSV_MAX_FIELD_DEFAULT;
	r->max_fields = o->max_fields ? o->max_fields : CSV_MAX_FIELDS_DEFAULT;
	r->max_record = o->max_record ? o->max_record : CSV_MAX_RECORD_DEFAULT;
	if (r->max_record < 16)
		r->max_record = 16;
	if (o->name && !(r->name = strdup(o->name)))
		goto nomem;
	r->offs = calloc(r->max_fields, sizeof(*r->offs));
	r->fields = calloc(r->max_fields, sizeof(*r->fields));
	r->lens = calloc(r->max_fields, sizeof(*r->lens));
	if (!r->offs || !r->fields || !r->lens)
		goto nomem;
	return r;

nomem:
	err_set(err, NULL, "out of memory");
	csv_reader_free(r);
	return NULL;
}

/* Once the input is in place: skips a BOM, detects the separator, reads the header. */
static struct csv_reader *csv_start(struct csv_reader *r, const struct csv_options *o,
				    struct err *err)
{
	size_t at = 0;

	while (r->read && !r->eof && r->len < 3) {
		if (csv_read_more(r, &at) != 0)
			goto fail;
	}
	if (r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	if (o->detect_sep && csv_detect_sep(r) != 0)
		goto fail;
	if (o->expect_header && csv_read_header(r, err) != 0) {
		csv_reader_free(r);
		return NULL;
	}
	return r;

fail:
	if (err)
		*err = r->err;
	csv_reader_free(r);
	return NULL;
}

struct csv_reader *csv_reader_new(const char *data, size_t len, const struct csv_options *opt,
				  struct err *err)
{
	static const struct csv_options defaults;
	const struct csv_options *o = opt ? opt : &defaults;
	struct csv_reader *r = csv_alloc(o, err);

	if (!r)
		return NULL;
	r->data = data;
	r->len = data ? len : 0;
	r->eof = true;
	return csv_start(r, o, err);
}

struct csv_reader *csv_reader_stream(csv_read_fn read, void *ctx, const struct csv_options *opt,
				     struct err *err)
{
	static const struct csv_options defaults;
	const struct csv_options *o = opt ? opt : &defaults;
	struct csv_reader *r = csv_alloc(o, err);

	if (!r)
		return NULL;
	r->read = read;
	r->read_ctx = ctx;
	r->win_cap = r->max_record < 64 * 1024 ? r->max_record : 64 * 1024;
	if (!(r->win = malloc(r->win_cap))) {
		err_set(err, NULL, "out of memory");
		csv_reader_free(r);
		return NULL;
	}
	r->data = r->win;
	return csv_start(r, o, err);
}

struct csv_reader *csv_reader_open(const char *path, const struct csv_options *opt,
				   struct err *err)
{
	struct csv_options o = opt ? *opt : (struct csv_options){ 0 };
	/* At most SIZE_MAX - 1, so that max + 1 exists. */
	size_t max = o.max_file && o.max_file < SIZE_MAX ? o.max_file : CSV_MAX_FILE_DEFAULT;
	struct csv_reader *r = NULL;
	char *data = NULL, *p;
	size_t len = 0, cap = 64 * 1024;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, NULL, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		err_set(err, NULL, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		if ((uintmax_t)st.st_size > max)
			goto too_big;
		/* One byte more than the size, so that the read that sees the end fits. */
		cap = (size_t)st.st_size + 1;
	}
	data = malloc(cap);
	if (!data)
		goto nomem;
	for (;;) {
		ssize_t got;

		if (len == cap) {
			/* len <= max here, so the buffer grows by at least one byte. */
			cap = cap > max - cap ? max + 1 : cap * 2;
			p = realloc(data, cap);
			if (!p)
				goto nomem;
			data = p;
		}
		got = read(fd, data + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err_set(err, NULL, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > max)
			goto too_big;
	}
	if (!o.name)
		o.name = path;
	r = csv_reader_new(data, len, &o, err);
	if (r) {
		r->owned = data;
		data = NULL;
	}
	goto fail;

nomem:
	err_set(err, NULL, "cannot read %s: out of memory", path);
	goto fail;
too_big:
	err_set(err, NULL, "cannot read %s: larger than the limit of %zu bytes", path, max);
fail:
	if (fd >= 0)
		close(fd);
	free(data);
	return r;
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->owned);
	free(r->win);
	free(r->name);
	free(r->buf);
	free(r->offs);
	free(r->fields);
	free(r->lens);
	free(r->column_text);
	free(r->columns);
	free(r);
}

int csv_column(const struct csv_reader *r, const char *name)
{
	for (size_t i = 0; i < r->ncolumns; i++) {
		if (strcmp(r->columns[i], name) == 0)
			return i <= INT_MAX ? (int)i : -1;
	}
	return -1;
}

const char *csv_column_name(const struct csv_reader *r, size_t i)
{
	return i < r->ncolumns ? r->columns[i] : NULL;
}

int csv_require(const struct csv_reader *r, const char *const *names, struct err *err)
{
	for (; *names; names++) {
		if (csv_column(r, *names) >= 0)
			continue;
		if (r->ncolumns == 0)
			return err_set(err, *names, "column \"%s\" required but no header was read",
				       *names);
		if (r->name)
			return err_set(err, *names, "%s:%zu: missing column \"%s\"", r->name,
				       r->expect_line, *names);
		return err_set(err, *names, "line %zu: missing column \"%s\"", r->expect_line,
			       *names);
	}
	return 0;
}
