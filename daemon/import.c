/* import: the one-stop system's exports read row by row into API case objects (see import.h,
 * docs/import.md).
 * DESIGN: CSV goes through csv.h's stream reader (resync on, separator detected), so memory is
 * one record's window whatever the file size; NDJSON has its own line window here, since a JSON
 * line has no CSV quoting. The first bytes are read once to tell the format and then served
 * again to whichever reader follows. Header names and cell words are compared by a key: spaces
 * trimmed and runs of them made one, letters folded to lower case (ASCII and the Vietnamese
 * letters, precomposed as NFC writes them). */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"

#define KEY_MAX 256             /* bytes of a folded header or cell word */
#define PEEK_MAX 4096           /* bytes read to tell the format */
#define MAP_FILE_MAX (64 * 1024) /* bytes of a mapping file */

enum field {
	F_IGNORE = -1,
	F_CODE,
	F_PROCEDURE,
	F_UNIT,
	F_HANDLER,
	F_APPLICANT,
	F_RECEIVED_AT,
	F_DUE_AT,
	F_ONLINE,
	F_PAID_ONLINE,
	F_DIGITIZED,
	F_FEE,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"code", "procedure", "unit", "handler", "applicant", "received_at", "due_at", "online",
	"paid_online", "digitized", "fee",
};

static const bool field_required[F_COUNT] = {
	[F_CODE] = true, [F_PROCEDURE] = true, [F_UNIT] = true, [F_RECEIVED_AT] = true,
};

/* The built-in mapping: the one-stop system's Vietnamese headers, and the API's own names. The
 * first entry of a field is the header named when its column is missing. */
static const struct {
	const char *header;
	enum field field;
} builtin_map[] = {
	{ "Mã hồ sơ", F_CODE },
	{ "Thủ tục", F_PROCEDURE },
	{ "Mã thủ tục", F_PROCEDURE },
	{ "Đơn vị", F_UNIT },
	{ "Cán bộ xử lý", F_HANDLER },
	{ "Người nộp", F_APPLICANT },
	{ "Ngày tiếp nhận", F_RECEIVED_AT },
	{ "Ngày hẹn trả", F_DUE_AT },
	{ "Hình thức nộp", F_ONLINE },
	{ "Thanh toán trực tuyến", F_PAID_ONLINE },
	{ "Số hóa", F_DIGITIZED },
	{ "Số hoá", F_DIGITIZED },
	{ "Lệ phí", F_FEE },
	{ "code", F_CODE },
	{ "procedure", F_PROCEDURE },
	{ "unit", F_UNIT },
	{ "handler", F_HANDLER },
	{ "applicant", F_APPLICANT },
	{ "received_at", F_RECEIVED_AT },
	{ "due_at", F_DUE_AT },
	{ "online", F_ONLINE },
	{ "paid_online", F_PAID_ONLINE },
	{ "digitized", F_DIGITIZED },
	{ "fee", F_FEE },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- keys: trimmed, spaces collapsed, case folded ---------------------------------------- */

/* Decodes the UTF-8 sequence at s (n bytes available) into *cp. Returns its length, or 0 when
 * it is not valid UTF-8 (stray byte, overlong form, surrogate, too large, cut short). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t need;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((need == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (need == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*cp = c;
	return need;
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3F));
	out[2] = (char)(0x80 | (c >> 6 & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Lower case of the letters Vietnamese is written with: ASCII, Latin-1 (À..Ý), Ă Đ Ĩ Ũ and
 * their Latin Extended-A neighbours, Ơ Ư, and the Latin Extended Additional block (Ạ..Ỹ). */
static uint32_t fold(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		return c + 32;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177) ||
	    (c >= 0x1E00 && c <= 0x1EFF))
		return c % 2 == 0 ? c + 1 : c;
	if (c >= 0x139 && c <= 0x148)
		return c % 2 == 1 ? c + 1 : c;
	if (c == 0x1A0 || c == 0x1AF)
		return c + 1;
	return c;
}

static bool is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0xA0;
}

/* Writes the key of s[0..n) into out (cap bytes with the NUL). Returns 0, or -1 when s is not
 * UTF-8 or its key does not fit. */
static int key_of(const char *s, size_t n, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	bool space = false;

	while (i < n) {
		uint32_t c;
		size_t len = utf8_decode(p + i, n - i, &c);

		if (len == 0)
			return -1;
		i += len;
		if (is_space(c)) {
			space = o > 0;
			continue;
		}
		if (o + 6 > cap)
			return -1;
		if (space)
			out[o++] = ' ';
		space = false;
		o += utf8_encode(fold(c), out + o);
	}
	out[o] = '\0';
	return 0;
}

/* --- the mapping file ---------------------------------------------------------------------- */

struct import_map {
	char (*keys)[KEY_MAX];
	enum field *fields;
	size_t n;
};

void import_map_free(struct import_map *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->fields);
	free(m);
}

static int field_parse(const char *s, size_t n)
{
	if (n == 1 && s[0] == '-')
		return F_IGNORE;
	for (int f = 0; f < F_COUNT; f++) {
		if (strlen(field_names[f]) == n && memcmp(field_names[f], s, n) == 0)
			return f;
	}
	return F_COUNT;
}

/* One line "Header = field" of the mapping file. Returns 0 or -1 with err. */
static int map_line(struct import_map *m, const char *path, size_t line, const char *s, size_t n,
		    struct err *err)
{
	const char *eq = NULL, *v;
	size_t vn;
	int f;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			eq = s + i;
	}
	if (!eq)
		return err_set(err, NULL, "%s:%zu: expected \"Header = field\"", path, line);
	v = eq + 1;
	vn = (size_t)(s + n - v);
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	f = field_parse(v, vn);
	if (f == F_COUNT)
		return err_set(err, NULL,
			       "%s:%zu: unknown field \"%.*s\" (one of code, procedure, unit, handler, "
			       "applicant, received_at, due_at, online, paid_online, digitized, fee, "
			       "or - to ignore the column)", path, line, (int)(vn > 60 ? 60 : vn), v);
	if (key_of(s, (size_t)(eq - s), m->keys[m->n], KEY_MAX) != 0)
		return err_set(err, NULL, "%s:%zu: the header is not UTF-8 or longer than %d bytes",
			       path, line, KEY_MAX / 2);
	if (!m->keys[m->n][0])
		return err_set(err, NULL, "%s:%zu: no header before '='", path, line);
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->keys[i], m->keys[m->n]) == 0)
			return err_set(err, NULL, "%s:%zu: header \"%.*s\" is mapped twice", path, line,
				       (int)(eq - s), s);
	}
	m->fields[m->n++] = (enum field)f;
	return 0;
}

struct import_map *import_map_load(const char *path, struct err *err)
{
	struct import_map *m = NULL;
	char *text = malloc(MAP_FILE_MAX + 1);
	size_t len = 0, lines = 1, line = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *p, *end;

	if (!text) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (fd < 0) {
		err_set(err, NULL, "cannot open the mapping file %s: %s", path, strerror(errno));
		goto fail;
	}
	for (;;) {
		ssize_t got = read(fd, text + len, MAP_FILE_MAX + 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err_set(err, NULL, "cannot read the mapping file %s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > MAP_FILE_MAX) {
			err_set(err, NULL, "%s: a mapping file holds at most %d bytes", path,
				MAP_FILE_MAX);
			goto fail;
		}
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	m = calloc(1, sizeof(*m));
	if (!m || !(m->keys = calloc(lines, sizeof(*m->keys))) ||
	    !(m->fields = calloc(lines, sizeof(*m->fields)))) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	p = text;
	end = text + len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p), skip = 0;

		if (n && p[n - 1] == '\r')
			n--;
		while (skip < n && (p[skip] == ' ' || p[skip] == '\t'))
			skip++;
		if (skip < n && p[skip] != '#' && map_line(m, path, line, p, n, err) != 0)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	free(text);
	close(fd);
	return m;

fail:
	free(text);
	if (fd >= 0)
		close(fd);
	import_map_free(m);
	return NULL;
}

/* --- the reader ---------------------------------------------------------------------------- */

struct import_reader {
	enum import_format format;
	char *name;
	struct calendar *cal;

	import_read_fn read;
	void *read_ctx;
	int fd;                 /* import_open's file, else -1 */
	char *peek;             /* the first bytes, read to tell the format, served again */
	size_t npeek, peek_pos;

	struct csv_reader *csv;
	enum field *columns;    /* the field of each CSV column */
	size_t ncolumns;
	char *header;           /* the header line as it was */
	size_t header_len;
	char **warnings;
	size_t nwarnings;

	char *win;              /* NDJSON: window over the input */
	size_t win_cap, pos, len;
	size_t line;            /* line of win[pos] */
	bool eof;
	const char *raw;        /* the NDJSON line last returned */
	size_t raw_len;

	enum import_status last;
	bool failed;            /* NDJSON: stopped by fail_err (csv.h keeps its own) */
	struct err fail_err;
};

/* The underlying read, retried on EINTR. */
static ssize_t read_input(struct import_reader *r, char *buf, size_t cap)
{
	ssize_t got;

	do {
		got = r->read(r->read_ctx, buf, cap);
	} while (got < 0 && errno == EINTR);
	return got;
}

/* What csv.h reads: the peeked bytes first, then the input. */
static ssize_t read_after_peek(void *ctx, char *buf, size_t cap)
{
	struct import_reader *r = ctx;
	size_t n = r->npeek - r->peek_pos;

	if (n == 0)
		return read_input(r, buf, cap);
	if (n > cap)
		n = cap;
	memcpy(buf, r->peek + r->peek_pos, n);
	r->peek_pos += n;
	return (ssize_t)n;
}

static ssize_t read_fd(void *ctx, char *buf, size_t cap)
{
	return read(*(int *)ctx, buf, cap);
}

/* "name:12: " or "line 12: " into buf. */
static void line_prefix(const struct import_reader *r, size_t line, char *buf, size_t n)
{
	if (r->name)
		snprintf(buf, n, "%s:%zu: ", r->name, line);
	else
		snprintf(buf, n, "line %zu: ", line);
}

static int add_warning(struct import_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_warning(struct import_reader *r, const char *fmt, ...)
{
	char **w = realloc(r->warnings, (r->nwarnings + 1) * sizeof(*w));
	va_list ap;
	int rc;

	if (!w)
		return -1;
	r->warnings = w;
	va_start(ap, fmt);
	rc = vasprintf(&w[r->nwarnings], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	r->nwarnings++;
	return 0;
}

/* The field a header maps to: the mapping file first, then the built-in one; F_COUNT: none. */
static int lookup(const struct import_map *map, const char *key)
{
	char k[KEY_MAX];

	for (size_t i = 0; map && i < map->n; i++) {
		if (strcmp(map->keys[i], key) == 0)
			return map->fields[i];
	}
	for (size_t i = 0; i < N(builtin_map); i++) {
		if (key_of(builtin_map[i].header, strlen(builtin_map[i].header), k, sizeof(k)) == 0 &&
		    strcmp(k, key) == 0)
			return builtin_map[i].field;
	}
	return F_COUNT;
}

static const char *builtin_header(enum field f)
{
	for (size_t i = 0; i < N(builtin_map); i++) {
		if (builtin_map[i].field == f)
			return builtin_map[i].header;
	}
	return field_names[f];
}

/* Maps the header's columns to fields. Returns 0 or -1 with err. */
static int map_columns(struct import_reader *r, const struct import_map *map, struct err *err)
{
	int column_of[F_COUNT];
	char prefix[300], key[KEY_MAX];
	const char *raw;

	line_prefix(r, 1, prefix, sizeof(prefix));
	raw = csv_raw(r->csv, &r->header_len);
	if (!(r->header = malloc(r->header_len + 1)))
		return err_set(err, NULL, "out of memory");
	memcpy(r->header, raw, r->header_len);
	r->header[r->header_len] = '\0';
	for (int f = 0; f < F_COUNT; f++)
		column_of[f] = -1;
	while (csv_column_name(r->csv, r->ncolumns))
		r->ncolumns++;
	if (!(r->columns = calloc(r->ncolumns, sizeof(*r->columns))))
		return err_set(err, NULL, "out of memory");
	for (size_t i = 0; i < r->ncolumns; i++) {
		const char *name = csv_column_name(r->csv, i);
		int f = key_of(name, strlen(name), key, sizeof(key)) == 0 ? lookup(map, key) : F_COUNT;

		r->columns[i] = f == F_COUNT ? F_IGNORE : (enum field)f;
		if (f == F_COUNT) {
			if (add_warning(r, "%scolumn \"%s\" is not imported (no mapping)", prefix, name))
				return err_set(err, NULL, "out of memory");
			continue;
		}
		if (f == F_IGNORE)
			continue;
		if (column_of[f] >= 0)
			return err_set(err, field_names[f],
				       "%scolumns \"%s\" and \"%s\" both map to %s (map one of them to "
				       "\"-\" in a mapping file)", prefix,
				       csv_column_name(r->csv, (size_t)column_of[f]), name,
				       field_names[f]);
		column_of[f] = (int)i;
	}
	for (int f = 0; f < F_COUNT; f++) {
		if (field_required[f] && column_of[f] < 0)
			return err_set(err, field_names[f],
				       "%sno column for %s (a column \"%s\", or a mapping file line "
				       "\"Header = %s\")", prefix, field_names[f], builtin_header(f),
				       field_names[f]);
	}
	return 0;
}

static int open_csv(struct import_reader *r, const struct import_map *map, struct err *err)
{
	struct csv_options o = { .expect_header = true, .detect_sep = true, .resync = true,
				 .max_record = IMPORT_MAX_RECORD, .name = r->name };

	if (!r->cal)
		return err_set(err, NULL, "a calendar is needed to read CSV dates");
	if (!(r->csv = csv_reader_stream(read_after_peek, r, &o, err)))
		return -1;
	return map_columns(r, map, err);
}

/* Where the text starts in peek: after a BOM. */
static size_t peek_start(const struct import_reader *r)
{
	return r->npeek >= 3 && memcmp(r->peek, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Reads the first bytes into peek: a possible BOM whole, and up to a byte that is not blank
 * space (or PEEK_MAX, or the end). With IMPORT_AUTO, '{' there means NDJSON. */
static int peek_input(struct import_reader *r, struct err *err)
{
	size_t i = 0;

	if (!(r->peek = malloc(PEEK_MAX)))
		return err_set(err, NULL, "out of memory");
	while (r->npeek < PEEK_MAX) {
		ssize_t got;

		if (r->npeek >= 3) {
			for (i = peek_start(r); i < r->npeek && memchr(" \t\r\n", r->peek[i], 4); i++)
				;
			if (i < r->npeek)
				break;
		}
		got = read_input(r, r->peek + r->npeek, PEEK_MAX - r->npeek);
		if (got < 0)
			return err_set(err, NULL, "%s%scannot read: %s", r->name ? r->name : "",
				       r->name ? ": " : "", strerror(errno));
		if (got == 0)
			break;
		r->npeek += (size_t)got;
	}
	if (r->format == IMPORT_AUTO) {
		for (i = peek_start(r); i < r->npeek && memchr(" \t\r\n", r->peek[i], 4); i++)
			;
		r->format = i < r->npeek && r->peek[i] == '{' ? IMPORT_NDJSON : IMPORT_CSV;
	}
	return 0;
}

/* The reader over read(ctx), or over fd (>= 0: read here, closed by import_free). */
static struct import_reader *reader_new(import_read_fn read, void *ctx, int fd,
					const struct import_options *opt, struct err *err)
{
	static const struct import_options defaults;
	const struct import_options *o = opt ? opt : &defaults;
	struct import_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		err_set(err, NULL, "out of memory");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	r->fd = fd;
	r->read = fd >= 0 ? read_fd : read;
	r->read_ctx = fd >= 0 ? &r->fd : ctx;
	r->format = o->format;
	r->cal = o->cal;
	r->line = 1;
	if (o->name && !(r->name = strdup(o->name))) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	if (peek_input(r, err) != 0)
		goto fail;
	if (r->format == IMPORT_CSV) {
		if (open_csv(r, o->map, err) != 0)
			goto fail;
	} else {
		/* The peeked bytes become the start of the window. */
		r->win = r->peek;
		r->win_cap = PEEK_MAX;
		r->len = r->npeek;
		r->pos = peek_start(r);
		r->peek = NULL;
	}
	return r;

fail:
	import_free(r);
	return NULL;
}

struct import_reader *import_new(import_read_fn read, void *ctx, const struct import_options *opt,
				 struct err *err)
{
	return reader_new(read, ctx, -1, opt, err);
}

struct import_reader *import_open(const char *path, const struct import_options *opt,
				  struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err_set(err, NULL, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	return reader_new(NULL, NULL, fd, opt, err);
}

void import_free(struct import_reader *r)
{
	if (!r)
		return;
	csv_reader_free(r->csv);
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r->columns);
	free(r->header);
	free(r->peek);
	free(r->win);
	free(r->name);
	free(r);
}

/* --- CSV cells ----------------------------------------------------------------------------- */

/* Reads min..max digits at s into *v. Returns the end, or NULL. */
static const char *digits(const char *s, int min, int max, int *v)
{
	int n = 0;

	*v = 0;
	while (n < max && s[n] >= '0' && s[n] <= '9')
		*v = *v * 10 + (s[n++] - '0');
	return n >= min ? s + n : NULL;
}

/* Whether the key of s is one of the NULL-terminated words. */
static bool key_is(const char *key, const char *const *words)
{
	char k[KEY_MAX];

	for (; *words; words++) {
		if (key_of(*words, strlen(*words), k, sizeof(k)) == 0 && strcmp(k, key) == 0)
			return true;
	}
	return false;
}

int import_parse_time(struct calendar *cal, const char *s, bool end_of_day, int64_t *out)
{
	static const char *const am[] = { "SA", "AM", NULL }, *const pm[] = { "CH", "PM", NULL };
	int d, m, y, hh = 0, mm = 0, ss = 0, y2, m2, d2;
	bool has_time = false;
	const char *p;
	int32_t day;
	int64_t t;

	if (calendar_parse_rfc3339(s, &t, NULL) == 0) {
		*out = t;
		return calendar_parse_given(s, &t, NULL) == 0 ? 0 : -2;
	}
	if ((p = digits(s, 1, 2, &d)) && *p == '/' && (p = digits(p + 1, 1, 2, &m)) && *p == '/' &&
	    (p = digits(p + 1, 4, 4, &y)))
		;
	else if ((p = digits(s, 4, 4, &y)) && *p == '-' && (p = digits(p + 1, 2, 2, &m)) &&
		 *p == '-' && (p = digits(p + 1, 2, 2, &d)))
		;
	else
		return -1;
	if (*p == ' ' || *p == 'T') {
		has_time = true;
		p = *p == 'T' ? p + 1 : p;
		while (*p == ' ')
			p++;
		if (!(p = digits(p, 1, 2, &hh)) || *p != ':' || !(p = digits(p + 1, 2, 2, &mm)))
			return -1;
		if (*p == ':' && !(p = digits(p + 1, 2, 2, &ss)))
			return -1;
		while (*p == ' ')
			p++;
		if (*p) {
			char key[KEY_MAX];
			bool is_pm;

			if (key_of(p, strlen(p), key, sizeof(key)) != 0)
				return -1;
			if (!key_is(key, am) && !key_is(key, pm))
				return -1;
			is_pm = key_is(key, pm);
			if (hh < 1 || hh > 12)
				return -1;
			hh = hh % 12 + (is_pm ? 12 : 0);
			p += strlen(p);
		}
	}
	if (*p || m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 59)
		return -1;
	day = civil_to_days(y, m, d);
	civil_from_days(day, &y2, &m2, &d2);
	if (y2 != y || m2 != m || d2 != d)
		return -1;
	if (y < CALENDAR_FIRST_YEAR || y > CALENDAR_LAST_YEAR)
		return -2;
	t = calendar_instant_of(cal, day, hh * 60 + mm) + ss;
	if (!has_time && end_of_day)
		t = calendar_end_of_day(cal, t);
	*out = t;
	return 0;
}

/* A fee in VND: digits, optionally in groups of three split by '.', ',' or a space (the same
 * one throughout), optionally followed by đ, VNĐ, VND or đồng. Returns 0 or -1. */
static int parse_fee(const char *s, json_int_t *out)
{
	static const char *const units[] = { "đ", "vnđ", "vnd", "đồng", NULL };
	char sep = 0;
	size_t n = strlen(s), group = 0, i;
	json_int_t v = 0;

	for (i = n; i > 0 && !(s[i - 1] >= '0' && s[i - 1] <= '9'); i--)
		;
	if (i < n) {
		char key[KEY_MAX];

		if (key_of(s + i, n - i, key, sizeof(key)) != 0 || !key_is(key, units))
			return -1;
		n = i;
	}
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (v > 100000000000000000LL)
				return -1;
			v = v * 10 + (c - '0');
			group++;
			continue;
		}
		if ((c != '.' && c != ',' && c != ' ') || (sep && c != sep) || group == 0 ||
		    (sep && group != 3) || (!sep && group > 3))
			return -1;
		sep = c;
		group = 0;
	}
	if (sep && group != 3)
		return -1;
	if (v > 1000000000000000LL)
		return -1;
	*out = v;
	return 0;
}

/* The case object of a CSV row, or NULL with err. */
static json_t *csv_case(struct import_reader *r, const struct csv_row *row, struct err *err)
{
	static const char *const yes[] = { "1", "x", "có", "true", "yes", "đã", NULL };
	static const char *const no[] = { "0", "không", "false", "no", "chưa", NULL };
	static const char *const none[] = { "Trực tiếp", "Nộp trực tiếp", "Bưu chính",
					    "Qua bưu chính", "none", NULL };
	static const char *const partial[] = { "Trực tuyến một phần", "Một phần", "Mức độ 3",
					       "Trực tuyến mức độ 3", "partial", NULL };
	static const char *const full[] = { "Trực tuyến toàn trình", "Toàn trình", "Mức độ 4",
					    "Trực tuyến mức độ 4", "full", NULL };
	json_t *obj = json_object();
	char prefix[300], key[KEY_MAX], when[64];
	bool seen[F_COUNT] = { false };
	json_int_t fee;

	line_prefix(r, row->line, prefix, sizeof(prefix));
	if (!obj)
		goto nomem;
	for (size_t i = 0; i < row->nfields && i < r->ncolumns; i++) {
		enum field f = r->columns[i];
		const char *col = csv_column_name(r->csv, i), *s = row->fields[i];
		size_t n = row->lens[i];
		json_t *v = NULL;
		const char *online;
		char *cell;

		if (f == F_IGNORE)
			continue;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		seen[f] = true;
		if (!(cell = strndup(s, n)))
			goto nomem;
		switch (f) {
		case F_RECEIVED_AT:
		case F_DUE_AT: {
			int64_t t;
			int rc = import_parse_time(r->cal, cell, f == F_DUE_AT, &t);

			if (rc == -2) {
				err_set(err, field_names[f], "%s%s: \"%.80s\": the year must be %d to %d",
					prefix, col, cell, CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR);
				goto bad;
			}
			if (rc != 0) {
				err_set(err, field_names[f],
					"%s%s: \"%.80s\" is not a date and time (dd/mm/yyyy HH:MM, or "
					"RFC 3339 like 2024-02-19T08:00:00+07:00)", prefix, col, cell);
				goto bad;
			}
			calendar_format(r->cal, t, when, sizeof(when));
			v = json_string(when);
			break;
		}
		case F_ONLINE:
			if (key_of(cell, n, key, sizeof(key)) != 0)
				key[0] = '\0';
			/* The name first: a json_string() without memory is not a bad value. */
			online = key_is(key, none) ? "none"
				 : key_is(key, partial) ? "partial"
				 : key_is(key, full) ? "full" : NULL;
			if (!online) {
				err_set(err, field_names[f],
					"%s%s: \"%.80s\" is not one of Trực tiếp, Trực tuyến một phần, "
					"Trực tuyến toàn trình (or none, partial, full)", prefix, col, cell);
				goto bad;
			}
			v = json_string(online);
			break;
		case F_PAID_ONLINE:
		case F_DIGITIZED:
			if (key_of(cell, n, key, sizeof(key)) != 0)
				key[0] = '\0';
			if (!key_is(key, yes) && !key_is(key, no)) {
				err_set(err, field_names[f],
					"%s%s: \"%.80s\" is neither yes nor no (Có or Không, x, 1 or 0, "
					"true or false)", prefix, col, cell);
				goto bad;
			}
			v = json_boolean(key_is(key, yes));
			break;
		case F_FEE:
			if (parse_fee(cell, &fee) != 0) {
				err_set(err, field_names[f],
					"%s%s: \"%.80s\" is not an amount in VND (digits, thousands "
					"split by . or , like 1.500.000)", prefix, col, cell);
				goto bad;
			}
			v = json_integer(fee);
			break;
		default:
			v = json_stringn(cell, n);
			break;
		}
		free(cell);
		if (!v || json_object_set_new(obj, field_names[f], v) != 0)
			goto nomem;
		continue;
bad:
		free(cell);
		json_decref(obj);
		return NULL;
	}
	for (int f = 0; f < F_COUNT; f++) {
		size_t col = 0;

		if (!field_required[f] || seen[f])
			continue;
		while (col < r->ncolumns && r->columns[col] != (enum field)f)
			col++;
		err_set(err, field_names[f], "%s%s is empty (%s is required)", prefix,
			csv_column_name(r->csv, col), field_names[f]);
		json_decref(obj);
		return NULL;
	}
	return obj;

nomem:
	/* Not the row's fault: the reader stops (IMPORT_FAILED), as import.h says. */
	r->failed = true;
	err_set(&r->fail_err, NULL, "%sout of memory", prefix);
	if (err)
		*err = r->fail_err;
	json_decref(obj);
	return NULL;
}

static enum import_status next_csv(struct import_reader *r, json_t **obj, size_t *line,
				   struct err *err)
{
	struct csv_row row;
	int rc = csv_next(r->csv, &row, err);

	if (line)
		*line = row.line;
	if (rc == 0)
		return IMPORT_END;
	if (rc == -1) {
		/* csv.h names the column at fault; the caller knows case fields. */
		int col = err && err->field[0] ? csv_column(r->csv, err->field) : -1;
		enum field f = col >= 0 ? r->columns[col] : F_IGNORE;

		if (err)
			snprintf(err->field, sizeof(err->field), "%s", f == F_IGNORE ? "" : field_names[f]);
		return IMPORT_BAD_ROW;
	}
	if (rc < 0)
		return IMPORT_FAILED;
	*obj = csv_case(r, &row, err);
	return *obj ? IMPORT_ROW : r->failed ? IMPORT_FAILED : IMPORT_BAD_ROW;
}

/* --- NDJSON -------------------------------------------------------------------------------- */

/* Makes the window hold a whole line from pos (or the rest of the input). Returns the length of
 * the line (without its '\n') in *n and whether a '\n' ends it, or -1 with fail_err set. */
static int ndjson_fill(struct import_reader *r, size_t *n, bool *nl)
{
	size_t scanned = 0;

	for (;;) {
		const char *e = memchr(r->win + r->pos + scanned, '\n', r->len - r->pos - scanned);
		ssize_t got;

		if (e) {
			*n = (size_t)(e - (r->win + r->pos));
			*nl = true;
			return 0;
		}
		scanned = r->len - r->pos;
		if (r->eof) {
			*n = scanned;
			*nl = false;
			return 0;
		}
		if (scanned > IMPORT_MAX_RECORD) {
			char prefix[300];

			line_prefix(r, r->line, prefix, sizeof(prefix));
			return err_set(&r->fail_err, NULL, "%sa line longer than %zu bytes", prefix,
				       IMPORT_MAX_RECORD);
		}
		if (r->pos > 0) {
			memmove(r->win, r->win + r->pos, scanned);
			r->len = scanned;
			r->pos = 0;
		}
		if (r->len == r->win_cap) {
			size_t cap = r->win_cap * 2;
			char *p = realloc(r->win, cap);

			if (!p)
				return err_set(&r->fail_err, NULL, "out of memory");
			r->win = p;
			r->win_cap = cap;
		}
		got = read_input(r, r->win + r->len, r->win_cap - r->len);
		if (got < 0)
			return err_set(&r->fail_err, NULL, "%s%scannot read: %s",
				       r->name ? r->name : "", r->name ? ": " : "", strerror(errno));
		if (got == 0)
			r->eof = true;
		r->len += (size_t)got;
	}
}

static enum import_status next_ndjson(struct import_reader *r, json_t **obj, size_t *line,
				      struct err *err)
{
	char prefix[300];
	json_error_t jerr;

	for (;;) {
		size_t n = 0, blank = 0;
		bool nl = false;
		const char *p;

		if (ndjson_fill(r, &n, &nl) != 0) {
			r->failed = true;
			if (err)
				*err = r->fail_err;
			return IMPORT_FAILED;
		}
		if (n == 0 && !nl)
			return IMPORT_END;
		p = r->win + r->pos;
		r->raw = p;
		r->raw_len = n && p[n - 1] == '\r' ? n - 1 : n;
		if (line)
			*line = r->line;
		line_prefix(r, r->line, prefix, sizeof(prefix));
		r->pos += n + nl;
		r->line++;
		while (blank < n && memchr(" \t\r", p[blank], 3))
			blank++;
		if (blank == n)
			continue;
		*obj = json_loadb(p, r->raw_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!*obj && (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0])) {
			/* Not the row's fault (jansson leaves no text when it cannot even start):
			 * the reader stops, as on any other failed allocation. */
			r->failed = true;
			err_set(&r->fail_err, NULL, "%sout of memory", prefix);
			if (err)
				*err = r->fail_err;
			return IMPORT_FAILED;
		}
		if (!*obj) {
			err_set(err, NULL, "%smalformed JSON at column %d: %s", prefix, jerr.column,
				jerr.text);
			return IMPORT_BAD_ROW;
		}
		if (!json_is_object(*obj)) {
			json_decref(*obj);
			*obj = NULL;
			err_set(err, NULL, "%seach line must be a JSON object", prefix);
			return IMPORT_BAD_ROW;
		}
		return IMPORT_ROW;
	}
}

enum import_status import_next(struct import_reader *r, json_t **obj, size_t *line,
			       struct err *err)
{
	*obj = NULL;
	if (line)
		*line = 0;
	r->raw = NULL;
	r->raw_len = 0;
	if (r->failed) {
		if (err)
			*err = r->fail_err;
		return r->last = IMPORT_FAILED;
	}
	if (r->format == IMPORT_CSV)
		r->last = next_csv(r, obj, line, err);
	else
		r->last = next_ndjson(r, obj, line, err);
	return r->last;
}

const char *import_raw(const struct import_reader *r, size_t *len)
{
	*len = 0;
	if (r->last != IMPORT_ROW && r->last != IMPORT_BAD_ROW)
		return NULL;
	if (r->format == IMPORT_CSV)
		return csv_raw(r->csv, len);
	*len = r->raw_len;
	return r->raw;
}

const char *import_header_raw(const struct import_reader *r, size_t *len)
{
	*len = r->header ? r->header_len : 0;
	return r->header;
}

enum import_format import_format(const struct import_reader *r)
{
	return r->format;
}

char import_separator(const struct import_reader *r)
{
	return r->csv ? csv_separator(r->csv) : 0;
}

const char *import_warning(const struct import_reader *r, size_t i)
{
	return i < r->nwarnings ? r->warnings[i] : NULL;
}
