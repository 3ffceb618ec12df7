/* ctl_table: tables, records, CSV and JSON lists for dunghanctl (see ctl_table.h).
 *
 * DESIGN: widths are display columns, not bytes nor code points: Vietnamese text may come
 * decomposed (a base letter and combining marks, as macOS writes it) and names may hold wide
 * characters, so a small table of zero-width and wide ranges decides. When a table is wider
 * than the terminal, the free-text columns give up columns first (the widest first), then the
 * others but the keys (codes, ids, due times, the time left: CTL_COL_KEEP, set by each
 * command's columns), and a cut cell ends with "…". A key cut is a wrong key, so when the keys
 * alone are wider than the terminal the lines are wider than it (the terminal wraps them).
 * Nothing is cut when the output is not a terminal. */
#include "ctl_table.h"
#include "item_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SHRINK_MIN 6 /* a free-text column keeps at least this many columns */
#define ANY_MIN 3    /* any other column */
#define GAP 2        /* spaces between columns */

void ctl_out_init(struct ctl_out *o, FILE *fp)
{
	const char *no_color = getenv("NO_COLOR"), *columns = getenv("COLUMNS");
	struct winsize ws;
	int fd = fileno(fp);

	o->fp = fp;
	o->color = false;
	o->width = 0;
	if (fd < 0 || !isatty(fd))
		return;
	o->color = !no_color || !*no_color;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o->width = ws.ws_col;
	else if (columns && atoi(columns) > 0)
		o->width = atoi(columns);
	else
		o->width = 80;
}

int ctl_format_parse(const char *s)
{
	static const char *const names[] = { "table", "csv", "json" };

	for (int k = 0; k < 3; k++)
		if (strcmp(s, names[k]) == 0)
			return k;
	return -1;
}

/* The next code point of s (advancing *len bytes); a byte that is not UTF-8 is itself. */
static uint32_t next_cp(const unsigned char *s, int *len)
{
	int n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		: (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1fu : n == 3 ? s[0] & 0x0fu : s[0] & 0x07u;

	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			n = 0;
			break;
		}
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (n == 0) {
		*len = 1;
		return s[0];
	}
	*len = n;
	return cp;
}

struct range {
	uint32_t lo, hi;
};

static bool in(const struct range *r, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	return false;
}

/* Columns of one code point. The ranges cover the combining marks Vietnamese text uses
 * (decomposed tones and vowel marks) and the common wide blocks; rarer scripts count one. */
static int cp_width(uint32_t cp)
{
	static const struct range zero[] = {
		{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
		{ 0x064b, 0x065f }, { 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e },
		{ 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x202a, 0x202e },
		{ 0x2060, 0x2064 }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
		{ 0xfeff, 0xfeff }, { 0xe0100, 0xe01ef },
	};
	static const struct range wide[] = {
		{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a }, { 0x2e80, 0x303e },
		{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe30, 0xfe4f }, { 0xff00, 0xff60 },
		{ 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f }, { 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd },
		{ 0x30000, 0x3fffd },
	};

	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if (cp < 0x300)
		return 1;
	if (in(zero, sizeof(zero) / sizeof(zero[0]), cp))
		return 0;
	return in(wide, sizeof(wide) / sizeof(wide[0]), cp) ? 2 : 1;
}

int ctl_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0, len;

	while (*p) {
		w += cp_width(next_cp(p, &len));
		p += len;
	}
	return w;
}

/* Prints s in exactly w columns: cut with "…" when wider, padded with spaces (on the left when
 * right) unless pad is false. */
static void print_cell(FILE *fp, const char *s, int w, bool right, bool pad)
{
	const unsigned char *p = (const unsigned char *)s;
	int sw = ctl_text_width(s), used = 0, len;

	if (sw <= w) {
		if (right && pad)
			fprintf(fp, "%*s", w - sw, "");
		fputs(s, fp);
		if (!right && pad)
			fprintf(fp, "%*s", w - sw, "");
		return;
	}
	if (w <= 0)
		return;
	/* Keep what fits in w - 1 columns, with the marks that combine with the last letter. */
	while (*p) {
		int cw = cp_width(next_cp(p, &len));
		if (used + cw > w - 1)
			break;
		fwrite(p, 1, (size_t)len, fp);
		used += cw;
		p += len;
	}
	fputs("…", fp);
	if (pad)
		fprintf(fp, "%*s", w - 1 - used, "");
}

void ctl_csv_bom(FILE *fp)
{
	fputs("\xef\xbb\xbf", fp);
}

void ctl_csv_field(FILE *fp, const char *s, bool last)
{
	if (!s)
		s = "";
	if (strpbrk(s, ",\"\r\n")) {
		putc('"', fp);
		for (; *s; s++) {
			if (*s == '"')
				putc('"', fp);
			putc(*s, fp);
		}
		putc('"', fp);
	} else {
		fputs(s, fp);
	}
	fputs(last ? "\r\n" : ",", fp);
}

struct ctl_table {
	const struct ctl_out *o;
	enum ctl_format format;
	const struct ctl_column *cols;
	size_t n;
	char **cells; /* nrows * n, table format only */
	unsigned char *styles;
	size_t nrows, cap;
};

/* The last column of the CSV (its field ends the record). */
static size_t last_csv(const struct ctl_table *t)
{
	size_t last = 0;

	for (size_t k = 0; k < t->n; k++)
		if (t->cols[k].csv)
			last = k;
	return last;
}

struct ctl_table *ctl_table_new(const struct ctl_out *o, enum ctl_format format,
				const struct ctl_column *cols, size_t n)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct ctl_table){ .o = o, .format = format, .cols = cols, .n = n };
	if (format == CTL_CSV) {
		size_t last = last_csv(t);
		ctl_csv_bom(o->fp);
		for (size_t k = 0; k < n; k++)
			if (cols[k].csv)
				ctl_csv_field(o->fp, cols[k].csv, k == last);
	}
	return t;
}

/* A copy of s for a table cell: control characters (line breaks, tabs) become spaces. */
static char *cell_copy(const char *s)
{
	char *c = strdup(s ? s : "");

	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

int ctl_table_add(struct ctl_table *t, const char *const *cells, enum ctl_style style)
{
	if (t->format == CTL_CSV) {
		size_t last = last_csv(t);
		for (size_t k = 0; k < t->n; k++)
			if (t->cols[k].csv)
				ctl_csv_field(t->o->fp, cells[k], k == last);
		return 0;
	}
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->n * sizeof(*c));
		if (!c)
			return -1;
		t->cells = c;
		unsigned char *st = realloc(t->styles, cap);
		if (!st)
			return -1;
		t->styles = st;
		t->cap = cap;
	}
	for (size_t k = 0; k < t->n; k++) {
		char *c = cell_copy(cells[k]);
		if (!c) {
			while (k-- > 0)
				free(t->cells[t->nrows * t->n + k]);
			return -1;
		}
		t->cells[t->nrows * t->n + k] = c;
	}
	t->styles[t->nrows++] = (unsigned char)style;
	return 0;
}

/* Whether column k is in the table. */
static bool shown(const struct ctl_table *t, size_t k)
{
	return t->cols[k].title && !(t->cols[k].flags & CTL_COL_DETAIL);
}

/* Narrows columns until the table fits the terminal: free text first, then any column. */
static void fit(const struct ctl_table *t, int *w, int width)
{
	int total = -GAP;

	for (size_t k = 0; k < t->n; k++)
		if (shown(t, k))
			total += w[k] + GAP;
	for (int phase = 0; phase < 2 && total > width; phase++) {
		while (total > width) {
			size_t best = t->n;
			for (size_t k = 0; k < t->n; k++) {
				bool may = phase == 1 ? !(t->cols[k].flags & CTL_COL_KEEP)
						      : (t->cols[k].flags & CTL_COL_SHRINK);
				int min = phase == 0 ? SHRINK_MIN : ANY_MIN;
				if (shown(t, k) && may && w[k] > min &&
				    (best == t->n || w[k] > w[best]))
					best = k;
			}
			if (best == t->n)
				break;
			w[best]--;
			total--;
		}
	}
}

static void print_line(const struct ctl_table *t, const int *w, const char *const *cells,
		       const char *color)
{
	FILE *fp = t->o->fp;
	size_t last = 0;
	bool first = true;

	/* No trailing blanks: the line ends with its last non-empty cell. */
	for (size_t k = 0; k < t->n; k++)
		if (shown(t, k) && cells[k] && *cells[k])
			last = k;
	if (color)
		fputs(color, fp);
	for (size_t k = 0; k <= last; k++) {
		if (!shown(t, k))
			continue;
		if (!first)
			fprintf(fp, "%*s", GAP, "");
		first = false;
		print_cell(fp, cells[k], w[k], t->cols[k].flags & CTL_COL_RIGHT, k != last ||
			   (t->cols[k].flags & CTL_COL_RIGHT));
	}
	if (color)
		fputs("\033[0m", fp);
	putc('\n', fp);
}

int ctl_table_end(struct ctl_table *t, bool header_when_empty)
{
	static const char *const colors[] = { NULL, "\033[33m", "\033[31m" };
	const char **titles = NULL;
	int *w = NULL;
	int rc = -1;

	if (t->format == CTL_CSV)
		return fflush(t->o->fp) == 0 ? 0 : -1;
	if (t->nrows == 0 && !header_when_empty)
		return 0;
	w = calloc(t->n, sizeof(*w));
	titles = calloc(t->n, sizeof(*titles));
	if (!w || !titles)
		goto out;
	for (size_t k = 0; k < t->n; k++) {
		titles[k] = t->cols[k].title;
		if (!shown(t, k))
			continue;
		w[k] = ctl_text_width(titles[k]);
		for (size_t r = 0; r < t->nrows; r++) {
			int cw = ctl_text_width(t->cells[r * t->n + k]);
			if (cw > w[k])
				w[k] = cw;
		}
	}
	if (t->o->width > 0)
		fit(t, w, t->o->width);
	print_line(t, w, titles, t->o->color ? "\033[1m" : NULL);
	for (size_t r = 0; r < t->nrows; r++)
		print_line(t, w, (const char *const *)&t->cells[r * t->n],
			   t->o->color ? colors[t->styles[r]] : NULL);
	rc = fflush(t->o->fp) == 0 ? 0 : -1;
out:
	free(w);
	free(titles);
	return rc;
}

void ctl_table_free(struct ctl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->styles);
	free(t);
}

void ctl_record_print(const struct ctl_out *o, const struct ctl_column *cols,
		      const char *const *cells, size_t n, bool skip_empty)
{
	int lw = 0;

	for (size_t k = 0; k < n; k++) {
		if (!cols[k].title || (skip_empty && (!cells[k] || !*cells[k])))
			continue;
		if (ctl_text_width(cols[k].title) > lw)
			lw = ctl_text_width(cols[k].title);
	}
	for (size_t k = 0; k < n; k++) {
		if (!cols[k].title || (skip_empty && (!cells[k] || !*cells[k])))
			continue;
		char *v = cell_copy(cells[k]);
		fprintf(o->fp, "%s:%*s%s\n", cols[k].title, lw - ctl_text_width(cols[k].title) + GAP,
			"", v ? v : "");
		free(v);
	}
}

void ctl_json_begin(struct ctl_json_list *l, FILE *fp)
{
	l->fp = fp;
	l->n = 0;
	fputs("[", fp);
}

void ctl_json_add(struct ctl_json_list *l, const json_t *item)
{
	char *text = json_dumps(item, JSON_INDENT(2) | ITEM_JSON_REALS);

	if (!text)
		return;
	/* Indented one level more, as json_dumps(JSON_INDENT(2)) prints a whole array. */
	fputs(l->n++ ? ",\n  " : "\n  ", l->fp);
	for (const char *p = text; *p; p++) {
		putc(*p, l->fp);
		if (*p == '\n')
			fputs("  ", l->fp);
	}
	free(text);
}

void ctl_json_end(struct ctl_json_list *l)
{
	fputs(l->n ? "\n]\n" : "]\n", l->fp);
}

int ctl_json_print(FILE *fp, const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | ITEM_JSON_REALS);

	if (!text)
		return -1;
	fputs(text, fp);
	putc('\n', fp);
	free(text);
	return 0;
}
