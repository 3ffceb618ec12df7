/* config: loading and validating dunghan.conf against the settings table (see config.h).
 *
 * DESIGN: every setting is one row of a table (name, type, bounds, default, where it goes);
 * sections are groups of rows, and the list sections (units, people, procedures, tokens) apply
 * their rows to each element. The loader walks the file, not the table, to find unknown
 * settings, then the table to fill in values and defaults. It keeps going after an error so
 * that an operator sees every problem of a file in one run. Strings point into the libconfig
 * documents, which the config keeps alive. */
#include "config.h"
#include "utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "import.h"
#include "webhook.h"

#define CONFIG_MAX_ERRORS 50
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CONFIG_MAX_INCLUDES 64
#define CONFIG_MAX_LIST 100000

struct config_regex {
	regex_t re;
};

struct config_owned {
	config_t main;
	config_t includes[CONFIG_MAX_INCLUDES];
	size_t nincludes;
	struct calendar_exception *exceptions;
	int official_years[CONFIG_MAX_INCLUDES];
	size_t nofficial_years;
	char **strings; /* copies of values read from CSV catalogues */
	size_t nstrings, cap_strings;
	void **allocs;  /* arrays built while loading (rules, their lists) */
	size_t nallocs, cap_allocs;
	int refs;       /* config_ref; the loader's own reference is the first */
};

/* Where an exception came from, to name it when it conflicts with another. */
struct exception_source {
	const char *file;
	int line;
	char setting[64];
};

/* The text of a file libconfig read, and where its lines start; text is NULL when it cannot
 * be read again. */
struct source_text {
	char *file;
	char *text;
	size_t *lines; /* lines[k]: offset of line k + 1 */
	size_t nlines;
};

/* A number read from the file, and how a message names it: an integer exactly, as written. */
struct number {
	double value;
	char text[48];
};

/* The calendar section is staged here, then handed to calendar_new. */
struct calendar_section {
	const char *timezone;
	unsigned week_mask;
	struct calendar_period periods[CALENDAR_MAX_PERIODS];
	size_t nperiods;
	bool statutory_holidays;
};

struct loader {
	struct config *cfg;
	const char *procedures_file; /* procedures_file, resolved after the sections */
	const config_setting_t *procedures_file_setting;
	const char *dir; /* the main file's directory, for relative includes */
	char *errors;
	size_t errors_len;
	size_t nerrors;
	struct calendar_section cal;
	struct exception_source *sources;
	size_t nexceptions;
	size_t cap_exceptions;
	struct source_text *texts; /* the files read, to read back integers (integer_as_written) */
	size_t ntexts;
};

enum field_kind { FIELD_STRING, FIELD_INT, FIELD_FLOAT, FIELD_BOOL, FIELD_SECONDS, FIELD_WALLTIME,
		  FIELD_CUSTOM };

struct field;
typedef void (*field_parser)(struct loader *l, const config_setting_t *s, const char *path,
			     void *dst);

struct field {
	const char *name;
	enum field_kind kind;
	size_t offset;
	bool required;
	bool ident;                 /* STRING: letters, digits, '.', '_', '-' only */
	double min, max;            /* INT, FLOAT, SECONDS bounds; STRING maximum bytes */
	const char *def;            /* STRING default (NULL = none) */
	double def_num;             /* INT, FLOAT, SECONDS (seconds), BOOL defaults */
	/* WALLTIME: a duration string of clock time ("30s", "1h", "2d"), stored in ms; def holds
	 * the default string, min and max are seconds */
	const char *const *choices; /* STRING: allowed values, NULL-terminated */
	field_parser parse;         /* CUSTOM: s is NULL when the setting is absent */
};

struct section {
	const char *name;
	const struct field *fields; /* for a top-level scalar: its one field */
	size_t nfields;
	bool scalar;                /* a top-level setting, not a group or list */
	/* group sections: where the fields go */
	void *(*base)(struct loader *l);
	/* list sections: element size, and where the array and its count go in struct config */
	size_t elem_size;
	size_t array_offset;
	size_t count_offset;
	bool absent_means_off; /* a group whose absence turns a feature off: no defaults, and its
	                        * required settings are required only when it is there */
};

static const char *const resume_modes[] = { "restart", "continue", NULL };

/* --- error reporting --------------------------------------------------------------------- */

static void loader_vreport(struct loader *l, const char *file, int lineno, const char *path,
			   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void loader_vreport(struct loader *l, const char *file, int lineno, const char *path,
			   const char *fmt, va_list ap)
{
	char msg[600], line[1200];
	int n;

	if (++l->nerrors > CONFIG_MAX_ERRORS)
		return;
	if (l->nerrors == CONFIG_MAX_ERRORS)
		snprintf(msg, sizeof(msg), "too many errors; the report stops here");
	else
		vsnprintf(msg, sizeof(msg), fmt, ap);
	n = snprintf(line, sizeof(line), "%s:%d: %s: %s\n", file ? file : "?", lineno,
		     path && *path ? path : "(file)", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	char *grown = realloc(l->errors, l->errors_len + (size_t)n + 1);
	if (!grown)
		return;
	l->errors = grown;
	memcpy(l->errors + l->errors_len, line, (size_t)n + 1);
	l->errors_len += (size_t)n;
}

static void loader_report(struct loader *l, const char *file, int lineno, const char *path,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Appends "file:line: path: message" to the report. */
static void loader_report(struct loader *l, const char *file, int lineno, const char *path,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loader_vreport(l, file, lineno, path, fmt, ap);
	va_end(ap);
}

static void loader_error(struct loader *l, const config_setting_t *s, const char *file,
			 const char *path, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* As loader_report, with file and line taken from the setting s when there is one. */
static void loader_error(struct loader *l, const config_setting_t *s, const char *file,
			 const char *path, const char *fmt, ...)
{
	int lineno = 0;
	va_list ap;

	if (s) {
		if (config_setting_source_file(s))
			file = config_setting_source_file(s);
		lineno = (int)config_setting_source_line(s);
	}
	va_start(ap, fmt);
	loader_vreport(l, file, lineno, path, fmt, ap);
	va_end(ap);
}

static const char *main_file(const struct loader *l)
{
	return l->cfg->path;
}

/* name as a path: a relative one is relative to the config file's directory. */
static void config_relative(const struct loader *l, const char *name, char *file, size_t n)
{
	if (name[0] == '/' || !l->dir)
		snprintf(file, n, "%s", name);
	else
		snprintf(file, n, "%s/%s", l->dir, name);
}

/* --- scalar parsers ---------------------------------------------------------------------- */

static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Strings end up in JSON, e-mail and chat messages: refuse invalid UTF-8 here, once. */
static bool is_utf8(const char *s)
{
	return utf8_valid(s, strlen(s));
}

static const char *setting_string(struct loader *l, const config_setting_t *s, const char *path)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		loader_error(l, s, main_file(l), path, "expected a string in double quotes");
		return NULL;
	}
	v = config_setting_get_string(s);
	if (!is_utf8(v)) {
		loader_error(l, s, main_file(l), path, "not valid UTF-8");
		return NULL;
	}
	return v;
}

/* --- integers as written ------------------------------------------------------------------
 * libconfig 1.5 reads an integer literal without the L suffix with atoi() (strtoul() for hex),
 * so 4294967297 loads as 1 and 3000000000 as -1294967296, with no error; with the suffix it
 * saturates at 64 bits. Nothing in the parsed setting tells, so the literal is read back from
 * the file: a number that was not read as written is named as written, and its range check
 * fails instead of a wrapped value passing. */

/* Reads f whole into t->text and indexes its lines; -1 when out of memory or on a read error. */
static int source_read(struct source_text *t, FILE *f)
{
	size_t len = 0, cap = 0, n, k = 0;

	do {
		if (len + 4096 + 1 > cap) {
			char *g = realloc(t->text, cap = cap ? cap * 2 : 65536);
			if (!g)
				return -1;
			t->text = g;
		}
		len += n = fread(t->text + len, 1, cap - len - 1, f);
	} while (n > 0);
	if (ferror(f))
		return -1;
	t->text[len] = '\0';
	t->nlines = 1;
	for (size_t i = 0; i < len; i++)
		t->nlines += t->text[i] == '\n';
	if (!(t->lines = malloc(t->nlines * sizeof(*t->lines))))
		return -1;
	t->lines[k++] = 0;
	for (size_t i = 0; i < len; i++)
		if (t->text[i] == '\n')
			t->lines[k++] = i + 1;
	return 0;
}

/* Line `line` (1-based) of file and its length, the file read once per load; NULL when there
 * is no such line or the file cannot be read. */
static const char *source_line(struct loader *l, const char *file, int line, size_t *len)
{
	struct source_text *t = NULL, *grown;
	FILE *f;

	for (size_t i = 0; i < l->ntexts && !t; i++)
		if (strcmp(l->texts[i].file, file) == 0)
			t = &l->texts[i];
	if (!t) {
		if (!(grown = realloc(l->texts, (l->ntexts + 1) * sizeof(*grown))))
			return NULL;
		l->texts = grown;
		t = &grown[l->ntexts];
		*t = (struct source_text){ .file = strdup(file) };
		if (!t->file)
			return NULL;
		l->ntexts++;
		if ((f = fopen(file, "r"))) {
			if (source_read(t, f) != 0) {
				free(t->text);
				free(t->lines);
				*t = (struct source_text){ .file = t->file };
			}
			fclose(f);
		}
	}
	if (!t->text || line < 1 || (size_t)line > t->nlines)
		return NULL;
	*len = strcspn(t->text + t->lines[line - 1], "\n");
	return t->text + t->lines[line - 1];
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '*';
}

/* An integer literal of libconfig at p (up to end): [+-]digits or 0xhex, then L or LL. Returns
 * its length without the suffix (0: none); *suffixed when it has one. */
static size_t integer_literal(const char *p, const char *end, bool *suffixed)
{
	const char *q = p + (p < end && (*p == '-' || *p == '+'));
	bool hex = end - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
	const char *digits = q + (hex ? 2 : 0), *e = digits;
	size_t len;

	while (e < end && (hex ? strchr("0123456789abcdefABCDEF", *e) : strchr("0123456789", *e)) &&
	       *e)
		e++;
	if (e == digits || (hex && p != q))
		return 0;
	len = (size_t)(e - p);
	*suffixed = e < end && *e == 'L';
	e += *suffixed + (*suffixed && e + 1 < end && e[1] == 'L');
	if (e < end && (is_name_char(*e) || *e == '.'))
		return 0;
	return len;
}

/* What libconfig 1.5 makes of a literal (see above), and whether that is its true value. */
static long long integer_loaded(const char *lit, bool suffixed, bool *exact)
{
	bool hex = strchr(lit, 'x') || strchr(lit, 'X');
	long long v;

	errno = 0;
	if (hex) {
		unsigned long long u = strtoull(lit, NULL, 16);
		*exact = errno != ERANGE && u <= (unsigned long long)LLONG_MAX;
		v = (long long)u;
	} else {
		v = strtoll(lit, NULL, 10);
		*exact = errno != ERANGE;
	}
	if (!suffixed) {
		*exact = *exact && v >= INT32_MIN && v <= INT32_MAX;
		v = (int32_t)(uint32_t)(unsigned long long)v;
	}
	return v;
}

/* When the integer setting s was not read as written, its literal into out (the number as
 * written, for the message) and true. A name written twice on a line is told apart by its
 * value: a literal read exactly as s holds means s was read right. */
static bool integer_as_written(struct loader *l, const config_setting_t *s, struct number *out)
{
	const char *name = config_setting_name(s), *file = config_setting_source_file(s);
	long long loaded = config_setting_get_int64(s);
	const char *line, *end, *p, *found = NULL;
	size_t len, nlen, found_len = 0;

	if (!name || !(line = source_line(l, file ? file : main_file(l),
					  (int)config_setting_source_line(s), &len)))
		return false;
	nlen = strlen(name);
	end = line + len;
	for (p = line; (p = memmem(p, (size_t)(end - p), name, nlen)); p += nlen) {
		const char *v = p + nlen;
		bool suffixed, exact;
		size_t n;

		if (p > line && is_name_char(p[-1]))
			continue;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v == end || (*v != '=' && *v != ':'))
			continue;
		for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		if (!(n = integer_literal(v, end, &suffixed)))
			continue;
		char lit[sizeof(out->text)];
		snprintf(lit, sizeof(lit), "%.*s", (int)n, v);
		if (integer_loaded(lit, suffixed, &exact) != loaded)
			continue;
		if (exact)
			return false;
		if (!found) {
			found = v;
			found_len = n;
		}
	}
	if (!found)
		return false;
	snprintf(out->text, sizeof(out->text), "%.*s", (int)found_len, found);
	out->value = strchr(out->text, 'x') || strchr(out->text, 'X')
			     ? (double)strtoull(out->text, NULL, 16) : strtod(out->text, NULL);
	return true;
}

/* A number setting into out; false (reported) when s is not one. */
static bool setting_number(struct loader *l, const config_setting_t *s, const char *path,
			   bool integral, struct number *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (integer_as_written(l, s, out))
			return true;
		out->value = (double)config_setting_get_int64(s);
		snprintf(out->text, sizeof(out->text), "%lld", config_setting_get_int64(s));
		return true;
	case CONFIG_TYPE_FLOAT:
		if (!integral) {
			out->value = config_setting_get_float(s);
			snprintf(out->text, sizeof(out->text), "%.15g", out->value);
			return true;
		}
		loader_error(l, s, main_file(l), path, "expected a whole number");
		return false;
	default:
		loader_error(l, s, main_file(l), path, integral ? "expected a whole number"
							       : "expected a number");
		return false;
	}
}

static void parse_field(struct loader *l, const struct field *f, const config_setting_t *parent,
			const config_setting_t *s, const char *path, void *base)
{
	void *dst = (char *)base + f->offset;
	double num = f->def_num;
	const char *str = f->def;

	if (!s && f->required) {
		loader_error(l, parent, main_file(l), path, "required setting is missing");
		return;
	}
	switch (f->kind) {
	case FIELD_CUSTOM:
		f->parse(l, s, path, dst);
		return;
	case FIELD_BOOL:
		if (s && config_setting_type(s) != CONFIG_TYPE_BOOL) {
			loader_error(l, s, main_file(l), path, "expected true or false");
			return;
		}
		*(bool *)dst = s ? config_setting_get_bool(s) : num != 0;
		return;
	case FIELD_STRING:
		if (s && !(str = setting_string(l, s, path)))
			return;
		if (str && f->max > 0 && strlen(str) > (size_t)f->max) {
			loader_error(l, s, main_file(l), path, "longer than %.0f bytes", f->max);
			return;
		}
		if (str && f->required && !*str) {
			loader_error(l, s, main_file(l), path, "must not be empty");
			return;
		}
		if (str && f->ident && !is_ident(str)) {
			loader_error(l, s, main_file(l), path,
				     "\"%s\" may only hold letters, digits, '.', '_' and '-'", str);
			return;
		}
		if (str && f->choices) {
			const char *const *c = f->choices;
			char allowed[200] = "";
			for (; *c && strcmp(*c, str) != 0; c++)
				;
			if (!*c) {
				for (c = f->choices; *c; c++)
					snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed),
						 "%s\"%s\"", c == f->choices ? "" : ", ", *c);
				loader_error(l, s, main_file(l), path, "\"%s\" is not one of %s", str, allowed);
				return;
			}
		}
		*(const char **)dst = str && *str ? str : NULL;
		return;
	case FIELD_WALLTIME: {
		int64_t secs;
		struct err err;
		if (s && !(str = setting_string(l, s, path)))
			return;
		if (calendar_parse_duration(str, 86400, &secs, &err) != 0 || secs < f->min ||
		    secs > f->max) {
			loader_error(l, s, main_file(l), path,
				     "\"%s\" is not a duration like \"30s\", \"1h\" or \"2d\" from %.15gs to %.15gs",
				     str, f->min, f->max);
			return;
		}
		*(int64_t *)dst = secs * 1000;
		return;
	}
	case FIELD_INT:
	case FIELD_FLOAT:
	case FIELD_SECONDS: {
		struct number v = { .value = num };
		/* %.15g: integers in full, fractions without a needless exponent */
		if (s && !setting_number(l, s, path, f->kind == FIELD_INT, &v))
			return;
		if (v.value < f->min || v.value > f->max) {
			loader_error(l, s, main_file(l), path, "%s is out of range [%.15g, %.15g]",
				     v.text, f->min, f->max);
			return;
		}
		if (f->kind == FIELD_INT)
			*(int64_t *)dst = (int64_t)v.value;
		else if (f->kind == FIELD_SECONDS)
			*(int64_t *)dst = (int64_t)(v.value * 1000.0 + 0.5);
		else
			*(double *)dst = v.value;
		return;
	}
	}
}

/* Applies the field table to the group s (NULL: the whole group is absent, defaults apply). */
static void parse_group(struct loader *l, const struct field *fields, size_t nfields,
			const config_setting_t *s, const char *path, void *base)
{
	char sub[256];

	if (s) {
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
			const char *name = config_setting_name(m);
			size_t k = 0;

			while (k < nfields && strcmp(fields[k].name, name) != 0)
				k++;
			if (k == nfields) {
				snprintf(sub, sizeof(sub), "%s.%s", path, name);
				loader_error(l, m, main_file(l), sub, "unknown setting");
			}
		}
	}
	for (size_t k = 0; k < nfields; k++) {
		snprintf(sub, sizeof(sub), "%s.%s", path, fields[k].name);
		parse_field(l, &fields[k], s, s ? config_setting_get_member(s, fields[k].name) : NULL,
			    sub, base);
	}
}

/* --- custom settings --------------------------------------------------------------------- */

static void parse_listen(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	const char *v = "127.0.0.1:8686";
	const char *colon;
	char host[64];
	unsigned char addr[16];
	char *end;
	long port;

	if (s && !(v = setting_string(l, s, path)))
		return;
	colon = strrchr(v, ':');
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(host))
		goto bad;
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		goto bad;
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, addr) != 1)
			goto bad;
	} else if (inet_pton(AF_INET, host, addr) != 1) {
		goto bad;
	}
	*(const char **)dst = v;
	return;
bad:
	loader_error(l, s, main_file(l), path,
		     "\"%s\" is not an address like \"127.0.0.1:8686\" or \"[::1]:8686\"", v);
}

static const char *const weekday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static void parse_week(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	unsigned mask = 0;

	if (!s) {
		*(unsigned *)dst = 0x3e; /* Monday to Friday */
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY || config_setting_length(s) == 0) {
		loader_error(l, s, main_file(l), path,
			     "expected a non-empty array of weekdays like [\"mon\", \"tue\"]");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = setting_string(l, e, path);
		int w = 0;

		if (!v)
			return;
		while (w < 7 && strcmp(weekday_names[w], v) != 0)
			w++;
		if (w == 7) {
			loader_error(l, e, main_file(l), path,
				     "unknown weekday \"%s\" (use mon, tue, wed, thu, fri, sat, sun)", v);
			return;
		}
		if (mask & (1u << w)) {
			loader_error(l, e, main_file(l), path, "weekday \"%s\" is listed twice", v);
			return;
		}
		mask |= 1u << w;
	}
	*(unsigned *)dst = mask;
}

/* "HH:MM" with 00:00 <= t <= 24:00. Returns minutes or -1. */
static int parse_clock(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static void parse_office_hours(struct loader *l, const config_setting_t *s, const char *path,
			       void *dst)
{
	struct calendar_section *cal = &l->cal;
	(void)dst;

	if (!s) {
		cal->periods[0] = (struct calendar_period){ 7 * 60 + 30, 11 * 60 + 30 };
		cal->periods[1] = (struct calendar_period){ 13 * 60, 17 * 60 };
		cal->nperiods = 2;
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY || config_setting_length(s) == 0 ||
	    config_setting_length(s) > CALENDAR_MAX_PERIODS) {
		loader_error(l, s, main_file(l), path,
			     "expected an array of 1 to %d periods like [\"07:30-11:30\", \"13:00-17:00\"]",
			     CALENDAR_MAX_PERIODS);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = setting_string(l, e, path);
		char a[6], b[6];
		int start, end;

		if (!v)
			return;
		if (strlen(v) != 11 || v[5] != '-') {
			loader_error(l, e, main_file(l), path,
				     "\"%s\" is not a period like \"07:30-11:30\"", v);
			return;
		}
		memcpy(a, v, 5);
		a[5] = '\0';
		memcpy(b, v + 6, 5);
		b[5] = '\0';
		start = parse_clock(a);
		end = parse_clock(b);
		if (start < 0 || end < 0 || start == 24 * 60) {
			loader_error(l, e, main_file(l), path,
				     "\"%s\" is not a period like \"07:30-11:30\" (times 00:00 to 24:00)",
				     v);
			return;
		}
		if (end <= start) {
			loader_error(l, e, main_file(l), path, "period \"%s\" ends before it starts", v);
			return;
		}
		if (i > 0 && start < cal->periods[i - 1].end_min) {
			loader_error(l, e, main_file(l), path,
				     "period \"%s\" overlaps or precedes the one before it; "
				     "list periods in order without overlap", v);
			return;
		}
		cal->periods[i] = (struct calendar_period){ start, end };
		cal->nperiods = (size_t)i + 1;
	}
}

static void add_exception(struct loader *l, int32_t day, enum calendar_day_kind kind,
			  const char *reason, const config_setting_t *s, const char *file,
			  const char *setting)
{
	struct config_owned *o = l->cfg->owned;

	if (l->nexceptions == l->cap_exceptions) {
		size_t cap = l->cap_exceptions ? l->cap_exceptions * 2 : 64;
		struct calendar_exception *e = realloc(o->exceptions, cap * sizeof(*e));
		if (!e)
			goto oom;
		o->exceptions = e;
		struct exception_source *src = realloc(l->sources, cap * sizeof(*src));
		if (!src)
			goto oom;
		l->sources = src;
		l->cap_exceptions = cap;
	}
	o->exceptions[l->nexceptions] = (struct calendar_exception){ day, kind, reason };
	l->sources[l->nexceptions] = (struct exception_source){
		.file = config_setting_source_file(s) ? config_setting_source_file(s) : file,
		.line = (int)config_setting_source_line(s) };
	snprintf(l->sources[l->nexceptions].setting, sizeof(l->sources[0].setting), "%s", setting);
	l->nexceptions++;
	return;
oom:
	loader_error(l, s, file, setting, "out of memory");
}

/* days_off / make_up_days: entries are "YYYY-MM-DD" or { date = "YYYY-MM-DD"; reason = "…"; }.
 * year is that of the official schedule the list is in, 0 for the office's own lists: a
 * schedule's date of another year would land in that year, whose official schedule (or
 * statutory rule) it is not part of. */
static void parse_days(struct loader *l, const config_setting_t *s, const char *path,
		       enum calendar_day_kind kind, const char *file, int year)
{
	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
		loader_error(l, s, file, path,
			     "expected a list of dates like [\"2024-04-29\"] or "
			     "( { date = \"2024-04-29\"; reason = \"...\"; } )");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const config_setting_t *date = e, *reason = NULL;
		const char *dv, *rv = NULL;
		struct err err;
		int32_t day;

		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			for (int k = 0; k < config_setting_length(e); k++) {
				const config_setting_t *m = config_setting_get_elem(e, (unsigned)k);
				const char *n = config_setting_name(m);
				if (strcmp(n, "date") != 0 && strcmp(n, "reason") != 0) {
					loader_error(l, m, file, path,
						     "unknown setting \"%s\" (an entry has date and reason)", n);
					return;
				}
			}
			date = config_setting_get_member(e, "date");
			reason = config_setting_get_member(e, "reason");
			if (!date) {
				loader_error(l, e, file, path, "entry without a date");
				return;
			}
		}
		if (!(dv = setting_string(l, date, path)))
			return;
		if (reason && !(rv = setting_string(l, reason, path)))
			return;
		if (civil_parse_date(dv, &day, &err) != 0) {
			loader_error(l, date, file, path, "\"%s\" is not a date: %s", dv, err.msg);
			return;
		}
		int y, m, d;
		civil_from_days(day, &y, &m, &d);
		if (year && y != year) {
			loader_error(l, date, file, path,
				     "\"%s\" is not in %d, the year of this schedule", dv, year);
			return;
		}
		add_exception(l, day, kind, rv, date, file, path);
	}
}

static void parse_days_off(struct loader *l, const config_setting_t *s, const char *path,
			   void *dst)
{
	(void)dst;
	parse_days(l, s, path, CALENDAR_OFF, main_file(l), 0);
}

static void parse_make_up_days(struct loader *l, const config_setting_t *s, const char *path,
			       void *dst)
{
	(void)dst;
	parse_days(l, s, path, CALENDAR_WORK, main_file(l), 0);
}

/* One official yearly schedule: year = 2024; days_off = (…); make_up_days = (…); */
static void parse_schedule_file(struct loader *l, const config_setting_t *entry, const char *name)
{
	struct config_owned *o = l->cfg->owned;
	config_t *c = &o->includes[o->nincludes];
	char path[4096];
	const config_setting_t *root, *year;
	FILE *f;

	config_relative(l, name, path, sizeof(path));
	if (!(f = fopen(path, "r"))) {
		loader_error(l, entry, main_file(l), "calendar.include", "cannot read \"%s\": %s", path,
			     strerror(errno));
		return;
	}
	fclose(f);
	config_init(c);
	o->nincludes++;
	if (config_read_file(c, path) != CONFIG_TRUE) {
		loader_report(l, config_error_file(c) ? config_error_file(c) : path,
			      config_error_line(c), "(syntax)", "%s", config_error_text(c));
		return;
	}
	root = config_root_setting(c);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
		const char *n = config_setting_name(m);
		if (strcmp(n, "year") && strcmp(n, "days_off") && strcmp(n, "make_up_days"))
			loader_error(l, m, path, n, "unknown setting (a schedule has year, days_off, "
						    "make_up_days)");
	}
	year = config_setting_get_member(root, "year");
	if (!year || (config_setting_type(year) != CONFIG_TYPE_INT &&
		      config_setting_type(year) != CONFIG_TYPE_INT64)) {
		loader_error(l, year ? year : NULL, path, "year",
			     "a schedule needs year = YYYY; (the year it is the official schedule of)");
		return;
	}
	struct number yn;
	if (!setting_number(l, year, "year", true, &yn))
		return;
	if (yn.value < 1900 || yn.value > 2199) {
		loader_error(l, year, path, "year", "%s is out of range [1900, 2199]", yn.text);
		return;
	}
	int y = (int)yn.value;
	for (size_t k = 0; k < o->nofficial_years; k++) {
		if (o->official_years[k] == y) {
			loader_error(l, year, path, "year",
				     "a schedule for %d is already included", y);
			return;
		}
	}
	o->official_years[o->nofficial_years++] = y;
	parse_days(l, config_setting_get_member(root, "days_off"), "days_off", CALENDAR_OFF, path, y);
	parse_days(l, config_setting_get_member(root, "make_up_days"), "make_up_days", CALENDAR_WORK,
		   path, y);
}

static void parse_include(struct loader *l, const config_setting_t *s, const char *path,
			  void *dst)
{
	(void)dst;
	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		loader_error(l, s, main_file(l), path,
			     "expected an array of file names like [\"holidays/vn-2025.conf\"]");
		return;
	}
	if (config_setting_length(s) > CONFIG_MAX_INCLUDES) {
		loader_error(l, s, main_file(l), path, "more than %d files", CONFIG_MAX_INCLUDES);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = setting_string(l, e, path);
		if (v)
			parse_schedule_file(l, e, v);
	}
}

static void parse_sha256(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	unsigned char *out = dst;
	const char *v;

	if (!s || !(v = setting_string(l, s, path)))
		return;
	if (strlen(v) != 64)
		goto bad;
	for (int i = 0; i < 32; i++) {
		unsigned int byte;
		char hex[3] = { v[2 * i], v[2 * i + 1], '\0' };
		if (!strchr("0123456789abcdefABCDEF", hex[0]) || !strchr("0123456789abcdefABCDEF", hex[1]))
			goto bad;
		sscanf(hex, "%x", &byte);
		out[i] = (unsigned char)byte;
	}
	return;
bad:
	loader_error(l, s, main_file(l), path,
		     "expected 64 hexadecimal digits (the SHA-256 of the token, e.g. from "
		     "`printf %%s TOKEN | sha256sum`)");
}

static void parse_scopes(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	static const char *const names[] = { "read", "write", "admin" };
	unsigned mask = 0;

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY || config_setting_length(s) == 0) {
		loader_error(l, s, main_file(l), path,
			     "expected a non-empty array of scopes from \"read\", \"write\", \"admin\"");
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = setting_string(l, e, path);
		int k = 0;
		if (!v)
			return;
		while (k < 3 && strcmp(v, names[k]) != 0)
			k++;
		if (k == 3) {
			loader_error(l, e, main_file(l), path,
				     "unknown scope \"%s\" (use read, write, admin)", v);
			return;
		}
		mask |= 1u << k;
	}
	*(unsigned *)dst = mask;
}

/* --- lists of names and escalation rules ----------------------------------------------- */

/* calloc'd memory freed with the config. */
static void *own_alloc(struct loader *l, size_t n, size_t size)
{
	struct config_owned *o = l->cfg->owned;
	void *p;

	if (o->nallocs == o->cap_allocs) {
		size_t cap = o->cap_allocs ? o->cap_allocs * 2 : 64;
		void **g = realloc(o->allocs, cap * sizeof(*g));
		if (!g)
			return NULL;
		o->allocs = g;
		o->cap_allocs = cap;
	}
	if (!(p = calloc(n ? n : 1, size)))
		return NULL;
	o->allocs[o->nallocs++] = p;
	return p;
}

/* An array of strings; each checked by `ok` (may be NULL) whose message names what is wrong. */
static bool parse_names(struct loader *l, const config_setting_t *s, const char *path,
			const char *what, bool (*ok)(const char *), const char ***out, size_t *n)
{
	int len;

	*out = NULL;
	*n = 0;
	if (!s)
		return true;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		loader_error(l, s, main_file(l), path, "expected an array of %s like [\"a\", \"b\"]",
			     what);
		return false;
	}
	len = config_setting_length(s);
	if (!(*out = own_alloc(l, (size_t)len, sizeof(char *)))) {
		loader_error(l, s, main_file(l), path, "out of memory");
		return false;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = setting_string(l, e, path);
		if (!v)
			return false;
		if (ok && !ok(v)) {
			loader_error(l, e, main_file(l), path, "\"%s\" is not %s", v, what);
			return false;
		}
		(*out)[i] = v;
	}
	*n = (size_t)len;
	return true;
}

static void parse_unit_channels(struct loader *l, const config_setting_t *s, const char *path,
				void *dst)
{
	struct config_unit *u = (struct config_unit *)((char *)dst - offsetof(struct config_unit, channels));

	parse_names(l, s, path, "a chat channel id", is_ident, (const char ***)&u->channels,
		    &u->nchannels);
}

static void parse_person_notify(struct loader *l, const config_setting_t *s, const char *path,
				void *dst)
{
	const char *v = "immediate";

	if (s && !(v = setting_string(l, s, path)))
		return;
	if (strcmp(v, "immediate") && strcmp(v, "digest")) {
		loader_error(l, s, main_file(l), path, "\"%s\" is not \"immediate\" or \"digest\"", v);
		return;
	}
	*(bool *)dst = strcmp(v, "digest") == 0;
}

static bool is_tier(const char *v)
{
	return !strcmp(v, "handler") || !strcmp(v, "head") || !strcmp(v, "leader") ||
	       (!strncmp(v, "person:", 7) && is_ident(v + 7)) ||
	       (!strncmp(v, "channel:", 8) && is_ident(v + 8));
}

static bool is_channel_kind(const char *v)
{
	return !strcmp(v, "email") || !strcmp(v, "chat");
}

/* The length of an office day, what "1d" means in working time. When office_hours were refused
 * (their error is reported) there is none: a day then counts the default 8 hours, so that the
 * durations written in days are still checked without failing for want of a day length. */
static int64_t loader_day_seconds(const struct loader *l)
{
	int64_t day = 0;

	for (size_t i = 0; i < l->cal.nperiods; i++)
		day += (int64_t)(l->cal.periods[i].end_min - l->cal.periods[i].start_min) * 60;
	return day > 0 ? day : 8 * 3600;
}

/* escalation.cases / documents / assignments: a list of rules. */
static void parse_rules(struct loader *l, const config_setting_t *s, const char *path,
			enum escalation_kind kind)
{
	static const char *const known[] = { "id", "when", "notify", "channels", "repeat",
					     "urgent", "units", "procedures" };
	struct escalation_rule *rules;
	char sub[160];
	int n;

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		loader_error(l, s, main_file(l), path,
			     "expected a list of rules: ( { id = \"...\"; when = \"-1d\"; "
			     "notify = [\"handler\"]; }, ... )");
		return;
	}
	n = config_setting_length(s);
	if (!(rules = own_alloc(l, (size_t)n, sizeof(*rules)))) {
		loader_error(l, s, main_file(l), path, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct escalation_rule *r = &rules[i];
		const config_setting_t *m;
		const char **channels = NULL;
		size_t nchannels = 0;
		struct err err;
		const char *v;

		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			loader_error(l, e, main_file(l), sub, "expected a group { ... }");
			return;
		}
		for (int k = 0; k < config_setting_length(e); k++) {
			const config_setting_t *mm = config_setting_get_elem(e, (unsigned)k);
			size_t j = 0;
			while (j < N(known) && strcmp(known[j], config_setting_name(mm)) != 0)
				j++;
			if (j == N(known) || (j == 7 && kind != ESCALATION_CASES)) {
				snprintf(sub, sizeof(sub), "%s[%d].%s", path, i, config_setting_name(mm));
				loader_error(l, mm, main_file(l), sub, "unknown setting");
				return;
			}
		}
		snprintf(sub, sizeof(sub), "%s[%d].id", path, i);
		if (!(m = config_setting_get_member(e, "id")) || !(v = setting_string(l, m, sub)) ||
		    !is_ident(v)) {
			loader_error(l, m ? m : e, main_file(l), sub, "a rule needs an id (letters, digits, "
				     "'.', '_', '-')");
			return;
		}
		r->id = v;
		for (int k = 0; k < i; k++) {
			if (strcmp(rules[k].id, v) == 0) {
				loader_error(l, m, main_file(l), sub, "duplicate id \"%s\" (also %s[%d])", v,
					     path, k);
				return;
			}
		}
		snprintf(sub, sizeof(sub), "%s[%d].when", path, i);
		if (!(m = config_setting_get_member(e, "when")) || !(v = setting_string(l, m, sub))) {
			loader_error(l, m ? m : e, main_file(l), sub, "required setting is missing");
			return;
		}
		if (escalation_parse_when(v, loader_day_seconds(l), r, &err) != 0) {
			loader_error(l, m, main_file(l), sub, "%s", err.msg);
			return;
		}
		snprintf(sub, sizeof(sub), "%s[%d].notify", path, i);
		if (!(m = config_setting_get_member(e, "notify"))) {
			loader_error(l, e, main_file(l), sub, "required setting is missing");
			return;
		}
		if (!parse_names(l, m, sub, "a tier (handler, head, leader, person:ID, channel:ID)",
				 is_tier, (const char ***)&r->notify, &r->nnotify))
			return;
		if (r->nnotify == 0) {
			loader_error(l, m, main_file(l), sub, "name at least one tier");
			return;
		}
		snprintf(sub, sizeof(sub), "%s[%d].channels", path, i);
		if (!parse_names(l, config_setting_get_member(e, "channels"), sub,
				 "a channel (email, chat)", is_channel_kind, &channels, &nchannels))
			return;
		r->channels = nchannels ? 0 : ESCALATION_EMAIL;
		for (size_t k = 0; k < nchannels; k++)
			r->channels |= strcmp(channels[k], "email") == 0 ? ESCALATION_EMAIL
									  : ESCALATION_CHAT;
		snprintf(sub, sizeof(sub), "%s[%d].repeat", path, i);
		if ((m = config_setting_get_member(e, "repeat"))) {
			if (!(v = setting_string(l, m, sub)))
				return;
			if (calendar_parse_duration(v, loader_day_seconds(l), &r->repeat, &err) != 0 ||
			    r->repeat < 1) {
				loader_error(l, m, main_file(l), sub,
					     "\"%s\" is not a positive working time like \"1d\"", v);
				return;
			}
		}
		snprintf(sub, sizeof(sub), "%s[%d].urgent", path, i);
		if ((m = config_setting_get_member(e, "urgent"))) {
			if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
				loader_error(l, m, main_file(l), sub, "expected true or false");
				return;
			}
			r->urgent = config_setting_get_bool(m);
		}
		snprintf(sub, sizeof(sub), "%s[%d].units", path, i);
		if (!parse_names(l, config_setting_get_member(e, "units"), sub, "a unit id", is_ident,
				 (const char ***)&r->units, &r->nunits))
			return;
		snprintf(sub, sizeof(sub), "%s[%d].procedures", path, i);
		if (!parse_names(l, config_setting_get_member(e, "procedures"), sub, "a procedure code",
				 is_ident, (const char ***)&r->procedures, &r->nprocedures))
			return;
	}
	l->cfg->escalation.rules[kind] = rules;
	l->cfg->escalation.nrules[kind] = (size_t)n;
}

static void parse_case_rules(struct loader *l, const config_setting_t *s, const char *path,
			     void *dst)
{
	(void)dst;
	parse_rules(l, s, path, ESCALATION_CASES);
}

static void parse_document_rules(struct loader *l, const config_setting_t *s, const char *path,
				 void *dst)
{
	(void)dst;
	parse_rules(l, s, path, ESCALATION_DOCUMENTS);
}

static void parse_assignment_rules(struct loader *l, const config_setting_t *s,
				   const char *path, void *dst)
{
	(void)dst;
	parse_rules(l, s, path, ESCALATION_ASSIGNMENTS);
}

static void parse_digest_at(struct loader *l, const config_setting_t *s, const char *path,
			    void *dst)
{
	const char *v = "07:30";
	int minutes;

	if (s && !(v = setting_string(l, s, path)))
		return;
	if ((minutes = parse_clock(v)) < 0 || minutes >= 24 * 60) {
		loader_error(l, s, main_file(l), path, "\"%s\" is not a time of day like \"07:30\"", v);
		return;
	}
	*(int *)dst = minutes;
}

static const char *const languages[] = { "vi", "en", NULL };

static const char *own_string(struct loader *l, const char *v)
{
	struct config_owned *o = l->cfg->owned;
	char *copy;

	if (o->nstrings == o->cap_strings) {
		size_t cap = o->cap_strings ? o->cap_strings * 2 : 256;
		char **g = realloc(o->strings, cap * sizeof(*g));
		if (!g)
			return NULL;
		o->strings = g;
		o->cap_strings = cap;
	}
	if (!(copy = strdup(v)))
		return NULL;
	o->strings[o->nstrings++] = copy;
	return copy;
}

/* The setting of list element i, for naming it in an error. */
static const config_setting_t *list_elem(struct loader *l, const char *list, size_t i,
					 const char *member)
{
	const config_setting_t *s = config_lookup(&l->cfg->owned->main, list);
	const config_setting_t *e = s ? config_setting_get_elem(s, (unsigned)i) : NULL;
	const config_setting_t *m = e && member ? config_setting_get_member(e, member) : NULL;
	return m ? m : e;
}

static const char *const rule_kinds[] = { "cases", "documents", "assignments" };

/* The setting of escalation.<kind>[i].<member>, element j of it when j >= 0, to name it in an
 * error: the closest of those that exist (down to the escalation section itself). */
static const config_setting_t *rule_setting(struct loader *l, int kind, size_t i,
					    const char *member, int j)
{
	const config_setting_t *esc = config_lookup(&l->cfg->owned->main, "escalation");
	const config_setting_t *list = esc ? config_setting_get_member(esc, rule_kinds[kind]) : NULL;
	const config_setting_t *rule = list ? config_setting_get_elem(list, (unsigned)i) : NULL;
	const config_setting_t *m = rule ? config_setting_get_member(rule, member) : NULL;
	const config_setting_t *e = m && j >= 0 ? config_setting_get_elem(m, (unsigned)j) : NULL;

	return e ? e : m ? m : rule ? rule : esc;
}

/* --- delivery: e-mail, chat channels --------------------------------------------------- */

/* Reads a secret from a file (relative to the config file): its first line. Never logged. */
static const char *read_secret(struct loader *l, const config_setting_t *s, const char *path,
			       const char *name)
{
	char file[4096], buf[4096];
	FILE *f;
	size_t n;

	config_relative(l, name, file, sizeof(file));
	if (!(f = fopen(file, "r"))) {
		loader_error(l, s, main_file(l), path, "cannot read \"%s\": %s", file, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		loader_error(l, s, main_file(l), path, "\"%s\" is empty", file);
		return NULL;
	}
	return own_string(l, buf);
}

static void parse_secret_file(struct loader *l, const config_setting_t *s, const char *path,
			      void *dst)
{
	const char *v;

	if (s && (v = setting_string(l, s, path)))
		*(const char **)dst = read_secret(l, s, path, v);
}

/* email.ca_file is read by curl at every send: it is checked now, as password_file is, so that
 * a typo fails the config check rather than every message. Relative to the config file, like
 * password_file; kept resolved. "" means the system's CAs. */
static void parse_ca_file(struct loader *l, const config_setting_t *s, const char *path,
			  void *dst)
{
	char file[4096];
	const char *v;
	FILE *f;

	if (!s || !(v = setting_string(l, s, path)) || !*v)
		return;
	config_relative(l, v, file, sizeof(file));
	if (!(f = fopen(file, "r"))) {
		loader_error(l, s, main_file(l), path, "cannot read \"%s\": %s", file, strerror(errno));
		return;
	}
	fclose(f);
	if (!(*(const char **)dst = own_string(l, file)))
		loader_error(l, s, main_file(l), path, "out of memory");
}

/* smtp://host[:port] or smtps://host[:port] */
static void parse_smtp_url(struct loader *l, const config_setting_t *s, const char *path,
			   void *dst)
{
	const char *v;

	if (!s || !(v = setting_string(l, s, path)))
		return;
	if ((strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8)) || strchr(v, ' ') ||
	    strlen(v) < 9) {
		loader_error(l, s, main_file(l), path,
			     "\"%s\" is not smtp://host:port (STARTTLS) or smtps://host:port", v);
		return;
	}
	*(const char **)dst = v;
}

static void parse_tls(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	const char *v = "required";

	if (s && !(v = setting_string(l, s, path)))
		return;
	if (strcmp(v, "required") && strcmp(v, "none")) {
		loader_error(l, s, main_file(l), path, "\"%s\" is not \"required\" or \"none\"", v);
		return;
	}
	*(bool *)dst = strcmp(v, "required") == 0;
}

static const char *const transports[] = { "smtp", "file", NULL };
static const char *const channel_types[] = { "telegram", "slack", "teams", "google_chat", "json",
					     NULL };

#define EMAIL(m) offsetof(struct config, email.m)
static const struct field email_fields[] = {
	{ .name = "transport", .kind = FIELD_STRING, .offset = EMAIL(transport), .required = true,
	  .choices = transports },
	{ .name = "url", .kind = FIELD_CUSTOM, .offset = EMAIL(url), .parse = parse_smtp_url },
	{ .name = "tls", .kind = FIELD_CUSTOM, .offset = EMAIL(tls_required), .parse = parse_tls },
	{ .name = "ca_file", .kind = FIELD_CUSTOM, .offset = EMAIL(ca_file), .parse = parse_ca_file },
	{ .name = "from", .kind = FIELD_STRING, .offset = EMAIL(from), .required = true, .max = 300 },
	{ .name = "username", .kind = FIELD_STRING, .offset = EMAIL(username), .max = 300 },
	{ .name = "password_file", .kind = FIELD_CUSTOM, .offset = EMAIL(password),
	  .parse = parse_secret_file },
	{ .name = "dir", .kind = FIELD_STRING, .offset = EMAIL(dir), .max = 4000, .def = "var/mail" },
	{ .name = "max_connections", .kind = FIELD_INT, .offset = EMAIL(max_connections), .min = 1,
	  .max = 100, .def_num = 4 },
};

#define DELIVERY(m) offsetof(struct config, delivery.m)
static const struct field delivery_fields[] = {
	{ .name = "enabled", .kind = FIELD_BOOL, .offset = DELIVERY(enabled), .def_num = 1 },
	{ .name = "max_attempts", .kind = FIELD_INT, .offset = DELIVERY(max_attempts), .min = 1,
	  .max = 1000, .def_num = 12 },
	{ .name = "backoff_base", .kind = FIELD_WALLTIME, .offset = DELIVERY(backoff_base_ms),
	  .min = 1, .max = 86400, .def = "30s" },
	{ .name = "backoff_cap", .kind = FIELD_WALLTIME, .offset = DELIVERY(backoff_cap_ms), .min = 1,
	  .max = 7 * 86400, .def = "1h" },
	{ .name = "max_age", .kind = FIELD_WALLTIME, .offset = DELIVERY(max_age_ms), .min = 1,
	  .max = 90 * 86400, .def = "2d" },
	{ .name = "timeout", .kind = FIELD_WALLTIME, .offset = DELIVERY(timeout_ms), .min = 1,
	  .max = 3600, .def = "30s" },
	{ .name = "connect_timeout", .kind = FIELD_WALLTIME, .offset = DELIVERY(connect_timeout_ms),
	  .min = 1, .max = 3600, .def = "10s" },
};

#define CHANNEL(m) offsetof(struct config_channel, m)
static const struct field channel_fields[] = {
	{ .name = "id", .kind = FIELD_STRING, .offset = CHANNEL(id), .required = true, .ident = true,
	  .max = 64 },
	{ .name = "type", .kind = FIELD_STRING, .offset = CHANNEL(type), .required = true,
	  .choices = channel_types },
	{ .name = "url", .kind = FIELD_STRING, .offset = CHANNEL(url), .max = 2000 },
	{ .name = "chat_id", .kind = FIELD_STRING, .offset = CHANNEL(chat_id), .max = 100 },
	{ .name = "api_base", .kind = FIELD_STRING, .offset = CHANNEL(api_base), .max = 500,
	  .def = "https://api.telegram.org" },
	{ .name = "token_file", .kind = FIELD_CUSTOM, .offset = CHANNEL(token),
	  .parse = parse_secret_file },
	{ .name = "secret_file", .kind = FIELD_CUSTOM, .offset = CHANNEL(secret),
	  .parse = parse_secret_file },
	{ .name = "max_connections", .kind = FIELD_INT, .offset = CHANNEL(max_connections),
	  .min = 1, .max = 100, .def_num = 4 },
};

static bool smtp_host_is_loopback(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	return strncmp(host, "127.0.0.1", 9) == 0 || strncmp(host, "[::1]", 5) == 0 ||
	       strncmp(host, "localhost", 9) == 0;
}

/* What each part of delivery needs, and every channel named by a unit or a rule exists. */
static void check_delivery(struct loader *l)
{
	const struct config *c = l->cfg;
	char path[160];

	if (c->email.transport && strcmp(c->email.transport, "smtp") == 0) {
		const config_setting_t *s = config_lookup(&c->owned->main, "email");
		const char *creds = getenv("CREDENTIALS_DIRECTORY");
		/* systemd's LoadCredential=smtp-password:… when no password_file is given */
		if (c->email.username && !c->email.password && creds && *creds) {
			char file[4096];
			snprintf(file, sizeof(file), "%s/smtp-password", creds);
			l->cfg->email.password = read_secret(l, s, "email.password_file", file);
		}
		if (!c->email.url)
			loader_error(l, s, main_file(l), "email.url", "the smtp transport needs a url");
		else if (!c->email.tls_required && !smtp_host_is_loopback(c->email.url))
			loader_error(l, s, main_file(l), "email.tls",
				     "tls = \"none\" is allowed only for a loopback host");
		if (c->email.username && !c->email.password)
			loader_error(l, s, main_file(l), "email.password_file",
				     "a username needs a password_file (or the systemd credential "
				     "smtp-password)");
	}
	for (size_t i = 0; i < c->nchannels; i++) {
		const struct config_channel *ch = &c->channels[i];
		const config_setting_t *s = list_elem(l, "channels", i, NULL);
		snprintf(path, sizeof(path), "channels[%zu]", i);
		if (!ch->type)
			continue;
		struct err err;
		if (strcmp(ch->type, "telegram") == 0) {
			if (!ch->chat_id || !ch->token)
				loader_error(l, s, main_file(l), path,
					     "a telegram channel needs chat_id and token_file");
			if (webhook_url_check(ch->api_base, "api_base", &err) != 0)
				loader_error(l, s, main_file(l), path, "api_base: %s", err.msg);
		} else if (!ch->url) {
			loader_error(l, s, main_file(l), path, "a %s channel needs a url", ch->type);
		} else if (webhook_url_check(ch->url, "url", &err) != 0) {
			loader_error(l, s, main_file(l), path, "url: %s", err.msg);
		}
		if (strcmp(ch->type, "json") == 0 && !ch->secret)
			loader_error(l, s, main_file(l), path, "a json channel needs secret_file (it signs)");
		for (size_t j = 0; j < i; j++)
			if (ch->id && c->channels[j].id && strcmp(ch->id, c->channels[j].id) == 0)
				loader_error(l, s, main_file(l), path, "duplicate id \"%s\"", ch->id);
	}
	for (size_t i = 0; i < c->nunits; i++) {
		for (size_t k = 0; k < c->units[i].nchannels; k++) {
			if (!config_channel(c, c->units[i].channels[k])) {
				snprintf(path, sizeof(path), "units[%zu].channels", i);
				loader_error(l, list_elem(l, "units", i, "channels"), main_file(l), path,
					     "no channel has id \"%s\"", c->units[i].channels[k]);
			}
		}
	}
	for (int k = 0; k < ESCALATION_KINDS; k++)
		for (size_t i = 0; i < c->escalation.nrules[k]; i++)
			for (size_t j = 0; j < c->escalation.rules[k][i].nnotify; j++) {
				const char *t = c->escalation.rules[k][i].notify[j];
				if (strncmp(t, "channel:", 8) == 0 && !config_channel(c, t + 8)) {
					snprintf(path, sizeof(path), "escalation.%s[%zu].notify",
						 rule_kinds[k], i);
					loader_error(l, rule_setting(l, k, i, "notify", (int)j),
						     main_file(l), path, "no channel has id \"%s\"", t + 8);
				}
			}
}

/* --- the settings table ------------------------------------------------------------------ */

#define CFG(m) offsetof(struct config, m)

static const struct field server_fields[] = {
	{ .name = "listen", .kind = FIELD_CUSTOM, .offset = CFG(server.listen), .parse = parse_listen },
	{ .name = "header_bytes", .kind = FIELD_INT, .offset = CFG(server.header_bytes),
	  .min = 1024, .max = 1 << 20, .def_num = 16 * 1024 },
	{ .name = "body_bytes", .kind = FIELD_INT, .offset = CFG(server.body_bytes),
	  .min = 1024, .max = 64 << 20, .def_num = 1 << 20 },
	{ .name = "batch_body_bytes", .kind = FIELD_INT, .offset = CFG(server.batch_body_bytes),
	  .min = 1024, .max = 1 << 30, .def_num = 32 << 20 },
	{ .name = "header_timeout", .kind = FIELD_SECONDS, .offset = CFG(server.header_timeout_ms),
	  .min = 0.01, .max = 3600, .def_num = 10 },
	{ .name = "body_timeout", .kind = FIELD_SECONDS, .offset = CFG(server.body_timeout_ms),
	  .min = 0.01, .max = 3600, .def_num = 30 },
	{ .name = "idle_timeout", .kind = FIELD_SECONDS, .offset = CFG(server.idle_timeout_ms),
	  .min = 0.01, .max = 86400, .def_num = 60 },
	{ .name = "max_connections", .kind = FIELD_INT, .offset = CFG(server.max_connections),
	  .min = 1, .max = 100000, .def_num = 1024 },
	{ .name = "strict_fields", .kind = FIELD_BOOL, .offset = CFG(server.strict_fields),
	  .def_num = 1 },
	{ .name = "metrics_token", .kind = FIELD_STRING, .offset = CFG(server.metrics_token),
	  .ident = true, .max = 64 },
};

static const struct field database_fields[] = {
	{ .name = "path", .kind = FIELD_STRING, .offset = CFG(database.path), .max = 4000,
	  .def = "/var/lib/dunghan/dunghan.db" },
	{ .name = "busy_timeout", .kind = FIELD_SECONDS, .offset = CFG(database.busy_timeout_ms),
	  .min = 0, .max = 600, .def_num = 5 },
	{ .name = "max_size_mb", .kind = FIELD_INT, .offset = CFG(database.max_size_mb),
	  .min = 0, .max = 16 * 1024 * 1024 },
};

static void parse_log_level(struct loader *l, const config_setting_t *s, const char *path,
			    void *dst)
{
	const char *v = "info";
	enum log_level level;

	if (s && !(v = setting_string(l, s, path)))
		return;
	if (log_level_parse(v, &level) != 0) {
		loader_error(l, s, main_file(l), path,
			     "\"%s\" is not one of \"error\", \"warn\", \"info\", \"debug\"", v);
		return;
	}
	*(enum log_level *)dst = level;
}

static const struct field log_fields[] = {
	{ .name = "level", .kind = FIELD_CUSTOM, .offset = CFG(log.level), .parse = parse_log_level },
};

#define CAL(m) offsetof(struct calendar_section, m)

static const struct field calendar_fields[] = {
	{ .name = "timezone", .kind = FIELD_STRING, .offset = CAL(timezone), .max = 100,
	  .def = "Asia/Ho_Chi_Minh" },
	{ .name = "week", .kind = FIELD_CUSTOM, .offset = CAL(week_mask), .parse = parse_week },
	{ .name = "office_hours", .kind = FIELD_CUSTOM, .offset = CAL(periods),
	  .parse = parse_office_hours },
	{ .name = "statutory_holidays", .kind = FIELD_BOOL, .offset = CAL(statutory_holidays),
	  .def_num = 1 },
	{ .name = "days_off", .kind = FIELD_CUSTOM, .parse = parse_days_off },
	{ .name = "make_up_days", .kind = FIELD_CUSTOM, .parse = parse_make_up_days },
	{ .name = "include", .kind = FIELD_CUSTOM, .parse = parse_include },
};

/* urgency_due = { normal = "10d"; urgent = "3d"; very_urgent = "1d"; flash = "0d"; }; days
 * are full office days of the calendar section parsed before it. */
static void parse_urgency_due(struct loader *l, const config_setting_t *s, const char *path,
			      void *dst)
{
	static const char *const names[] = { "normal", "urgent", "very_urgent", "flash" };
	static const char *const defaults[] = { "10d", "3d", "1d", "0d" };
	int64_t *due = dst, day = loader_day_seconds(l);
	const char *given[4];
	bool parsed = true;
	char sub[128];

	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		loader_error(l, s, main_file(l), path,
			     "expected a group like { normal = \"10d\"; flash = \"0d\"; }");
		return;
	}
	for (int i = 0; s && i < config_setting_length(s); i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		size_t k = 0;
		while (k < 4 && strcmp(names[k], config_setting_name(m)) != 0)
			k++;
		if (k == 4) {
			snprintf(sub, sizeof(sub), "%s.%s", path, config_setting_name(m));
			loader_error(l, m, main_file(l), sub,
				     "unknown urgency (use normal, urgent, very_urgent, flash)");
		}
	}
	for (size_t k = 0; k < 4; k++) {
		const config_setting_t *m = s ? config_setting_get_member(s, names[k]) : NULL;
		const char *v = defaults[k];
		struct err err;

		snprintf(sub, sizeof(sub), "%s.%s", path, names[k]);
		given[k] = v;
		if (m && !(v = setting_string(l, m, sub))) {
			parsed = false;
			continue;
		}
		given[k] = v;
		if (calendar_parse_duration(v, day, &due[k], &err) != 0 || due[k] < 0) {
			loader_error(l, m, main_file(l), sub,
				     "\"%s\" is not a working time like \"10d\", \"4h\" or \"0d\"", v);
			parsed = false;
			continue;
		}
	}
	/* A more urgent document never has more time than a less urgent one ("0d", the end of
	 * the day of receipt, counts as none). */
	for (size_t k = 1; parsed && k < 4; k++) {
		const config_setting_t *at = s ? config_setting_get_member(s, names[k]) : NULL;

		if (due[k] <= due[k - 1])
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, names[k]);
		loader_error(l, at ? at : s, main_file(l), sub,
			     "\"%s\" is more time than %s's \"%s\": a more urgent document may not "
			     "have longer", given[k], names[k - 1], given[k - 1]);
	}
}

static void parse_weekday(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	const char *v = "mon";
	int w = 0;

	if (s && !(v = setting_string(l, s, path)))
		return;
	while (w < 7 && strcmp(weekday_names[w], v) != 0)
		w++;
	if (w == 7) {
		loader_error(l, s, main_file(l), path,
			     "unknown weekday \"%s\" (use mon, tue, wed, thu, fri, sat, sun)", v);
		return;
	}
	*(int *)dst = w;
}

static void parse_report_at(struct loader *l, const config_setting_t *s, const char *path,
			    void *dst)
{
	const char *v = "08:00";
	int minutes;

	if (s && !(v = setting_string(l, s, path)))
		return;
	if ((minutes = parse_clock(v)) < 0 || minutes >= 24 * 60) {
		loader_error(l, s, main_file(l), path, "\"%s\" is not a time of day like \"08:00\"", v);
		return;
	}
	*(int *)dst = minutes;
}

static const struct field budget_fields[] = {
	{ .name = "burn_rate", .kind = FIELD_FLOAT, .offset = CFG(escalation.budget.burn_rate),
	  .min = 0.1, .max = 100, .def_num = 2.0 },
	{ .name = "remaining_below", .kind = FIELD_FLOAT,
	  .offset = CFG(escalation.budget.remaining_below), .min = 0, .max = 100, .def_num = 20.0 },
	{ .name = "chat", .kind = FIELD_BOOL, .offset = CFG(escalation.budget.chat) },
};

static const struct field kpi_report_fields[] = {
	{ .name = "day", .kind = FIELD_CUSTOM, .offset = CFG(escalation.kpi_report.weekday),
	  .parse = parse_weekday },
	{ .name = "at", .kind = FIELD_CUSTOM, .offset = CFG(escalation.kpi_report.at_min),
	  .parse = parse_report_at },
};

/* escalation.budget and escalation.kpi_report: present = on. */
static void parse_optional_group(struct loader *l, const config_setting_t *s, const char *path,
				 const struct field *fields, size_t n, bool *enabled)
{
	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		loader_error(l, s, main_file(l), path, "expected a group { ... }");
		return;
	}
	*enabled = s != NULL;
	parse_group(l, fields, n, s, path, l->cfg);
}

static void parse_budget(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	parse_optional_group(l, s, path, budget_fields, N(budget_fields), dst);
}

static void parse_kpi_report(struct loader *l, const config_setting_t *s, const char *path,
			     void *dst)
{
	parse_optional_group(l, s, path, kpi_report_fields, N(kpi_report_fields), dst);
}

static const struct field escalation_fields[] = {
	{ .name = "hold_outside_office_hours", .kind = FIELD_BOOL,
	  .offset = CFG(escalation.hold_outside_office_hours), .def_num = 1 },
	{ .name = "digest_at", .kind = FIELD_CUSTOM, .offset = CFG(escalation.digest_at_min),
	  .parse = parse_digest_at },
	{ .name = "language", .kind = FIELD_STRING, .offset = CFG(escalation.language), .def = "vi",
	  .choices = languages },
	{ .name = "templates", .kind = FIELD_STRING, .offset = CFG(escalation.templates),
	  .max = 4000, .def = "templates" },
	{ .name = "link_base", .kind = FIELD_STRING, .offset = CFG(escalation.link_base), .max = 500 },
	{ .name = "cases", .kind = FIELD_CUSTOM, .parse = parse_case_rules },
	{ .name = "documents", .kind = FIELD_CUSTOM, .parse = parse_document_rules },
	{ .name = "assignments", .kind = FIELD_CUSTOM, .parse = parse_assignment_rules },
	{ .name = "budget", .kind = FIELD_CUSTOM, .offset = CFG(escalation.budget.enabled),
	  .parse = parse_budget },
	{ .name = "kpi_report", .kind = FIELD_CUSTOM, .offset = CFG(escalation.kpi_report.enabled),
	  .parse = parse_kpi_report },
};

static const struct field import_fields[] = {
	{ .name = "spool_dir", .kind = FIELD_STRING, .offset = CFG(import.spool_dir), .max = 4000 },
	{ .name = "map_file", .kind = FIELD_STRING, .offset = CFG(import.map_file), .max = 4000 },
	{ .name = "settle", .kind = FIELD_WALLTIME, .offset = CFG(import.settle_ms), .def = "5s",
	  .min = 0, .max = 3600 },
	{ .name = "scan_interval", .kind = FIELD_WALLTIME, .offset = CFG(import.scan_interval_ms),
	  .def = "30s", .min = 1, .max = 86400 },
};

static const struct field kpi_fields[] = {
	{ .name = "satisfied_rating", .kind = FIELD_INT, .offset = CFG(kpi.satisfied_rating),
	  .min = 1, .max = 5, .def_num = 4 },
};

static const struct field dashboard_fields[] = {
	{ .name = "enabled", .kind = FIELD_BOOL, .offset = CFG(dashboard.enabled) },
	{ .name = "refresh", .kind = FIELD_WALLTIME, .offset = CFG(dashboard.refresh_ms),
	  .def = "5m", .min = 0, .max = 86400 },
};

/* A target in percent, or -1 when the setting is absent (no target). */
static void parse_target_percent(struct loader *l, const config_setting_t *s, const char *path,
				 void *dst)
{
	struct number v = { .value = -1 };

	if (s && !setting_number(l, s, path, false, &v))
		return;
	if (s && (v.value < 0 || v.value > 100)) {
		loader_error(l, s, main_file(l), path, "%s is not a percentage from 0 to 100", v.text);
		return;
	}
	*(double *)dst = v.value;
}

#define TARGET(m) offsetof(struct config_target, m)
#define TARGET_PERCENT(n) { .name = #n, .kind = FIELD_CUSTOM, .offset = TARGET(n), \
			    .parse = parse_target_percent }
static const struct field target_fields[] = {
	{ .name = "level", .kind = FIELD_STRING, .offset = TARGET(level), .required = true,
	  .ident = true, .max = 64 },
	TARGET_PERCENT(on_time),
	TARGET_PERCENT(online),
	TARGET_PERCENT(online_payment),
	TARGET_PERCENT(satisfaction),
	TARGET_PERCENT(digitized),
	TARGET_PERCENT(inspection),
};

static const struct field documents_fields[] = {
	{ .name = "default_book", .kind = FIELD_STRING, .offset = CFG(documents.default_book),
	  .ident = true, .max = 64, .def = "den" },
	{ .name = "urgency_due", .kind = FIELD_CUSTOM, .offset = CFG(documents.urgency_due),
	  .parse = parse_urgency_due },
};

#define UNIT(m) offsetof(struct config_unit, m)
static const struct field unit_fields[] = {
	{ .name = "id", .kind = FIELD_STRING, .offset = UNIT(id), .required = true, .ident = true,
	  .max = 64 },
	{ .name = "name", .kind = FIELD_STRING, .offset = UNIT(name), .required = true, .max = 300 },
	{ .name = "level", .kind = FIELD_STRING, .offset = UNIT(level), .required = true,
	  .ident = true, .max = 64 },
	{ .name = "parent", .kind = FIELD_STRING, .offset = UNIT(parent), .ident = true, .max = 64 },
	{ .name = "head", .kind = FIELD_STRING, .offset = UNIT(head), .ident = true, .max = 64 },
	{ .name = "email", .kind = FIELD_STRING, .offset = UNIT(email), .max = 254 },
	{ .name = "channels", .kind = FIELD_CUSTOM, .offset = UNIT(channels),
	  .parse = parse_unit_channels },
};

#define PERSON(m) offsetof(struct config_person, m)
static const struct field person_fields[] = {
	{ .name = "id", .kind = FIELD_STRING, .offset = PERSON(id), .required = true, .ident = true,
	  .max = 64 },
	{ .name = "name", .kind = FIELD_STRING, .offset = PERSON(name), .required = true, .max = 200 },
	{ .name = "title", .kind = FIELD_STRING, .offset = PERSON(title), .max = 40 },
	{ .name = "email", .kind = FIELD_STRING, .offset = PERSON(email), .max = 254 },
	{ .name = "unit", .kind = FIELD_STRING, .offset = PERSON(unit), .required = true,
	  .ident = true, .max = 64 },
	{ .name = "notify", .kind = FIELD_CUSTOM, .offset = PERSON(digest),
	  .parse = parse_person_notify },
};

/* "HH:MM", stored as minutes after midnight; absent = 0 (a cut-off at midnight means none). */
static void parse_cutoff(struct loader *l, const config_setting_t *s, const char *path, void *dst)
{
	const char *v;
	int minutes;

	*(int *)dst = 0;
	if (!s || !(v = setting_string(l, s, path)))
		return;
	if ((minutes = parse_clock(v)) <= 0 || minutes >= 24 * 60) {
		loader_error(l, s, main_file(l), path,
			     "\"%s\" is not a time of day from \"00:01\" to \"23:59\"", v);
		return;
	}
	*(int *)dst = minutes;
}

static void parse_code_pattern(struct loader *l, const config_setting_t *s, const char *path,
			       void *dst)
{
	struct config_regex *rx;
	const char *v;
	int rc;

	if (!s || !(v = setting_string(l, s, path)))
		return;
	if (!(rx = calloc(1, sizeof(*rx)))) {
		loader_error(l, s, main_file(l), path, "out of memory");
		return;
	}
	if ((rc = regcomp(&rx->re, v, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[200];
		regerror(rc, &rx->re, msg, sizeof(msg));
		free(rx);
		loader_error(l, s, main_file(l), path,
			     "not a valid POSIX extended regular expression: %s", msg);
		return;
	}
	l->cfg->cases.code_regex = rx;
	*(const char **)dst = v;
}

static const struct field cases_fields[] = {
	{ .name = "code_pattern", .kind = FIELD_CUSTOM, .offset = CFG(cases.code_pattern),
	  .parse = parse_code_pattern },
};

#define PROC(m) offsetof(struct config_procedure, m)
static const struct field procedure_fields[] = {
	{ .name = "code", .kind = FIELD_STRING, .offset = PROC(code), .required = true,
	  .ident = true, .max = 64 },
	{ .name = "name", .kind = FIELD_STRING, .offset = PROC(name), .required = true, .max = 500 },
	{ .name = "days", .kind = FIELD_FLOAT, .offset = PROC(days), .required = true, .min = 0,
	  .max = 3650 },
	{ .name = "extended_days", .kind = FIELD_FLOAT, .offset = PROC(extended_days), .min = 0,
	  .max = 3650 },
	{ .name = "cutoff", .kind = FIELD_CUSTOM, .offset = PROC(cutoff_min), .parse = parse_cutoff },
	{ .name = "level", .kind = FIELD_STRING, .offset = PROC(level), .ident = true, .max = 64 },
	{ .name = "agency", .kind = FIELD_STRING, .offset = PROC(agency), .max = 300 },
	{ .name = "on_resume", .kind = FIELD_STRING, .offset = PROC(on_resume), .def = "restart",
	  .choices = resume_modes },
};

#define TOKEN(m) offsetof(struct config_token, m)
static const struct field token_fields[] = {
	{ .name = "name", .kind = FIELD_STRING, .offset = TOKEN(name), .required = true,
	  .ident = true, .max = 64 },
	{ .name = "sha256", .kind = FIELD_CUSTOM, .offset = TOKEN(sha256), .required = true,
	  .parse = parse_sha256 },
	{ .name = "scopes", .kind = FIELD_CUSTOM, .offset = TOKEN(scopes), .required = true,
	  .parse = parse_scopes },
};

static void *config_base(struct loader *l)
{
	return l->cfg;
}

static void *calendar_base(struct loader *l)
{
	return &l->cal;
}

#define LIST(n, f, type, array, count)                                                       \
	{ .name = n, .fields = f, .nfields = N(f), .elem_size = sizeof(type),                    \
	  .array_offset = CFG(array), .count_offset = CFG(count) }

static void parse_procedures_file(struct loader *l, const config_setting_t *s, const char *path,
				  void *dst)
{
	(void)dst;
	if (!s)
		return;
	l->procedures_file = setting_string(l, s, path);
	l->procedures_file_setting = s;
}

static const struct field procedures_file_field[] = {
	{ .name = "procedures_file", .kind = FIELD_CUSTOM, .parse = parse_procedures_file },
};

#define GROUP(n, f, b) { .name = n, .fields = f, .nfields = N(f), .base = b }

static const struct section sections[] = {
	GROUP("server", server_fields, config_base),
	GROUP("database", database_fields, config_base),
	GROUP("log", log_fields, config_base),
	GROUP("calendar", calendar_fields, calendar_base),
	GROUP("documents", documents_fields, config_base),
	GROUP("cases", cases_fields, config_base),
	GROUP("escalation", escalation_fields, config_base),
	{ .name = "email", .fields = email_fields, .nfields = N(email_fields), .base = config_base,
	  .absent_means_off = true },
	GROUP("delivery", delivery_fields, config_base),
	GROUP("kpi", kpi_fields, config_base),
	GROUP("dashboard", dashboard_fields, config_base),
	GROUP("import", import_fields, config_base),
	{ .name = "procedures_file", .fields = procedures_file_field, .nfields = 1, .scalar = true,
	  .base = config_base },
	LIST("units", unit_fields, struct config_unit, units, nunits),
	LIST("people", person_fields, struct config_person, people, npeople),
	LIST("procedures", procedure_fields, struct config_procedure, procedures, nprocedures),
	LIST("tokens", token_fields, struct config_token, tokens, ntokens),
	LIST("channels", channel_fields, struct config_channel, channels, nchannels),
	LIST("targets", target_fields, struct config_target, targets, ntargets),
};

static void parse_list(struct loader *l, const struct section *sec, const config_setting_t *s)
{
	char path[128];
	void *array;
	int n;

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		loader_error(l, s, main_file(l), sec->name,
			     "expected a list of groups: %s = ( { ... }, { ... } );", sec->name);
		return;
	}
	n = config_setting_length(s);
	if (n > CONFIG_MAX_LIST) {
		loader_error(l, s, main_file(l), sec->name, "more than %d entries", CONFIG_MAX_LIST);
		return;
	}
	if (n == 0)
		return;
	if (!(array = calloc((size_t)n, sec->elem_size))) {
		loader_error(l, s, main_file(l), sec->name, "out of memory");
		return;
	}
	*(void **)((char *)l->cfg + sec->array_offset) = array;
	*(size_t *)((char *)l->cfg + sec->count_offset) = (size_t)n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		snprintf(path, sizeof(path), "%s[%d]", sec->name, i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			loader_error(l, e, main_file(l), path, "expected a group { ... }");
			continue;
		}
		parse_group(l, sec->fields, sec->nfields, e, path, (char *)array + (size_t)i * sec->elem_size);
	}
}

/* --- cross-checks ------------------------------------------------------------------------ */

static void check_unique(struct loader *l, const char *list, const char *member, size_t n,
			 const char *(*key)(const struct config *, size_t))
{
	char path[128];

	for (size_t i = 1; i < n; i++) {
		const char *ki = key(l->cfg, i);
		if (!ki)
			continue;
		for (size_t j = 0; j < i; j++) {
			const char *kj = key(l->cfg, j);
			if (kj && strcmp(ki, kj) == 0) {
				snprintf(path, sizeof(path), "%s[%zu].%s", list, i, member);
				loader_error(l, list_elem(l, list, i, member), main_file(l), path,
					     "duplicate %s \"%s\" (also %s[%zu])", member, ki, list, j);
				break;
			}
		}
	}
}

static const char *unit_key(const struct config *c, size_t i) { return c->units[i].id; }
static const char *person_key(const struct config *c, size_t i) { return c->people[i].id; }
static const char *procedure_key(const struct config *c, size_t i) { return c->procedures[i].code; }
static const char *token_key(const struct config *c, size_t i) { return c->tokens[i].name; }
static const char *target_key(const struct config *c, size_t i) { return c->targets[i].level; }

static const struct config_unit *unit_parent(const struct config *c, const struct config_unit *u)
{
	return u->parent ? config_unit(c, u->parent) : NULL;
}

/* A unit is on a cycle when its parents lead back to it; a unit that merely hangs below a cycle
 * never comes back to itself, and is not to blame. Each cycle is reported once, at the unit of
 * it listed first, with its units in parent order. */
static void check_unit_cycles(struct loader *l)
{
	const struct config *c = l->cfg;
	char path[64], chain[400];

	for (size_t i = 0; i < c->nunits; i++) {
		const struct config_unit *u = &c->units[i], *p = unit_parent(c, u);
		bool first = true;
		size_t len, steps = 0;

		while (p && p != u && ++steps <= c->nunits)
			p = unit_parent(c, p);
		if (p != u)
			continue;
		len = (size_t)snprintf(chain, sizeof(chain), "%s", u->id);
		p = u;
		do {
			p = unit_parent(c, p);
			first = first && p >= u;
			if (len < sizeof(chain))
				len += (size_t)snprintf(chain + len, sizeof(chain) - len, " → %s", p->id);
		} while (p != u);
		if (!first)
			continue;
		snprintf(path, sizeof(path), "units[%zu].parent", i);
		loader_error(l, list_elem(l, "units", i, "parent"), main_file(l), path,
			     "unit \"%s\" is its own ancestor (the parents form a cycle: %s)", u->id,
			     chain);
	}
}

static void check_references(struct loader *l)
{
	struct config *c = l->cfg;
	char path[128];

	check_unique(l, "units", "id", c->nunits, unit_key);
	check_unique(l, "people", "id", c->npeople, person_key);
	check_unique(l, "procedures", "code", c->nprocedures, procedure_key);
	check_unique(l, "tokens", "name", c->ntokens, token_key);
	check_unique(l, "targets", "level", c->ntargets, target_key);
	for (size_t i = 1; i < c->ntokens; i++)
		for (size_t j = 0; j < i; j++)
			if (memcmp(c->tokens[i].sha256, c->tokens[j].sha256, 32) == 0) {
				snprintf(path, sizeof(path), "tokens[%zu].sha256", i);
				loader_error(l, list_elem(l, "tokens", i, "sha256"), main_file(l), path,
					     "the same token as tokens[%zu]", j);
			}

	if (c->server.metrics_token) {
		size_t i = 0;
		while (i < c->ntokens && !(c->tokens[i].name &&
					   strcmp(c->tokens[i].name, c->server.metrics_token) == 0))
			i++;
		if (i == c->ntokens)
			loader_error(l, config_lookup(&c->owned->main, "server.metrics_token"),
				     main_file(l), "server.metrics_token",
				     "no token has name \"%s\"", c->server.metrics_token);
	}

	for (size_t i = 0; i < c->nunits; i++) {
		const struct config_unit *u = &c->units[i];
		if (u->parent && !config_unit(c, u->parent)) {
			snprintf(path, sizeof(path), "units[%zu].parent", i);
			loader_error(l, list_elem(l, "units", i, "parent"), main_file(l), path,
				     "no unit has id \"%s\"", u->parent);
		}
		if (u->head && !config_person(c, u->head)) {
			snprintf(path, sizeof(path), "units[%zu].head", i);
			loader_error(l, list_elem(l, "units", i, "head"), main_file(l), path,
				     "no person has id \"%s\"", u->head);
		}
	}
	check_unit_cycles(l);
	for (size_t i = 0; i < c->nprocedures; i++) {
		const struct config_procedure *p = &c->procedures[i];
		if (p->extended_days > 0 && p->extended_days <= p->days) {
			snprintf(path, sizeof(path), "procedures[%zu].extended_days", i);
			loader_error(l, list_elem(l, "procedures", i, "extended_days"), main_file(l), path,
				     "%g is not longer than days (%g)", p->extended_days, p->days);
		}
		if (p->cutoff_min > 0 && p->days > 0) {
			snprintf(path, sizeof(path), "procedures[%zu].cutoff", i);
			loader_error(l, list_elem(l, "procedures", i, "cutoff"), main_file(l), path,
				     "a cut-off applies only to same-day procedures (days = 0)");
		}
	}
	for (size_t i = 0; i < c->npeople; i++) {
		if (c->people[i].unit && !config_unit(c, c->people[i].unit)) {
			snprintf(path, sizeof(path), "people[%zu].unit", i);
			loader_error(l, list_elem(l, "people", i, "unit"), main_file(l), path,
				     "no unit has id \"%s\"", c->people[i].unit);
		}
	}
}

/* A day both off and worked is a contradiction the operator must resolve. */
static void check_exceptions(struct loader *l)
{
	struct calendar_exception *e = l->cfg->owned->exceptions;

	for (size_t i = 0; i < l->nexceptions; i++) {
		for (size_t j = 0; j < i; j++) {
			if (e[i].day == e[j].day && e[i].kind != e[j].kind) {
				int y, m, d;
				civil_from_days(e[i].day, &y, &m, &d);
				loader_report(l, l->sources[i].file, l->sources[i].line,
					      l->sources[i].setting,
					      "%04d-%02d-%02d is both a day off and a make-up working day "
					      "(see %s:%d)", y, m, d, l->sources[j].file,
					      l->sources[j].line);
				break;
			}
		}
	}
}

static void build_calendar(struct loader *l, void (*on_statutory_year)(void *, int), void *ctx)
{
	struct config_owned *o = l->cfg->owned;
	struct calendar_config cc = {
		.timezone = l->cal.timezone,
		.week_mask = l->cal.week_mask,
		.nperiods = l->cal.nperiods,
		.statutory_holidays = l->cal.statutory_holidays,
		.exceptions = o->exceptions,
		.nexceptions = l->nexceptions,
		.official_years = o->official_years,
		.nofficial_years = o->nofficial_years,
		.on_statutory_year = on_statutory_year,
		.ctx = ctx,
	};
	struct err err;

	memcpy(cc.periods, l->cal.periods, sizeof(cc.periods));
	l->cfg->calendar = calendar_new(&cc, &err);
	if (!l->cfg->calendar) {
		const char *field = err.field[0] ? err.field : "calendar";
		const config_setting_t *s = config_lookup(&o->main, field);
		if (!s)
			s = config_lookup(&o->main, "calendar");
		loader_error(l, s, main_file(l), field, "%s", err.msg);
	}
}

/* --- the procedure catalogue ------------------------------------------------------------ */

/* A strict decimal number in [0, 3650]. */
static int parse_days_text(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (!*v || *end || errno || !(*out >= 0 && *out <= 3650))
		return -1;
	return 0;
}

/* Reads one catalogue row into p; reports "file:line: column: message" and returns -1 when a
 * value is wrong. */
static int catalogue_row(struct loader *l, const char *file, struct csv_reader *r,
			 const struct csv_row *row, struct config_procedure *p)
{
	static const char *const names[] = { "code", "name", "days", "extended_days", "cutoff",
					     "level", "agency", "on_resume" };
	const char *v[8];
	int line = (int)row->line;

	for (size_t k = 0; k < 8; k++) {
		int col = csv_column(r, names[k]);
		v[k] = col >= 0 && (size_t)col < row->nfields ? row->fields[col] : "";
	}
	memset(p, 0, sizeof(*p));
	if (!is_ident(v[0]) || strlen(v[0]) > 64) {
		loader_report(l, file, line, "code", "\"%s\" is not a procedure code like 1.004873", v[0]);
		return -1;
	}
	if (!*v[1] || strlen(v[1]) > 500) {
		loader_report(l, file, line, "name", "a name of 1 to 500 bytes is required");
		return -1;
	}
	if (parse_days_text(v[2], &p->days) != 0) {
		loader_report(l, file, line, "days", "\"%s\" is not a number of days from 0 to 3650", v[2]);
		return -1;
	}
	if (*v[3] && (parse_days_text(v[3], &p->extended_days) != 0 ||
		      p->extended_days <= p->days)) {
		loader_report(l, file, line, "extended_days",
			      "\"%s\" is not a number of days longer than days", v[3]);
		return -1;
	}
	if (*v[4] && ((p->cutoff_min = parse_clock(v[4])) <= 0 || p->cutoff_min >= 24 * 60 ||
		      p->days > 0)) {
		loader_report(l, file, line, "cutoff",
			      "\"%s\": a cut-off is a time like 15:00, for same-day procedures (days 0)",
			      v[4]);
		return -1;
	}
	if (*v[5] && !is_ident(v[5])) {
		loader_report(l, file, line, "level", "\"%s\" may only hold letters, digits, '.', '_', '-'",
			      v[5]);
		return -1;
	}
	if (*v[7] && strcmp(v[7], "restart") && strcmp(v[7], "continue")) {
		loader_report(l, file, line, "on_resume", "\"%s\" is not restart or continue", v[7]);
		return -1;
	}
	if (!(p->code = own_string(l, v[0])) || !(p->name = own_string(l, v[1])) ||
	    (*v[5] && !(p->level = own_string(l, v[5]))) ||
	    (*v[6] && !(p->agency = own_string(l, v[6])))) {
		loader_report(l, file, line, "(row)", "out of memory");
		return -1;
	}
	p->on_resume = *v[7] && strcmp(v[7], "continue") == 0 ? "continue" : "restart";
	return 0;
}

/* Loads procedures_file and merges it under the inline procedures: an inline entry replaces
 * the catalogue's entry with the same code, so an office can adjust what the province lists. */
static void load_catalogue(struct loader *l)
{
	static const char *const required[] = { "code", "name", "days", NULL };
	struct config *c = l->cfg;
	struct csv_options opt = { .expect_header = true };
	struct config_procedure *list = NULL;
	size_t n = 0, cap = 0;
	char path[4096];
	struct csv_reader *r;
	struct csv_row row;
	struct err err;
	int rc;

	if (!l->procedures_file)
		return;
	if (l->procedures_file[0] == '/' || !l->dir)
		snprintf(path, sizeof(path), "%s", l->procedures_file);
	else
		snprintf(path, sizeof(path), "%s/%s", l->dir, l->procedures_file);
	opt.name = path;
	if (!(r = csv_reader_open(path, &opt, &err))) {
		loader_error(l, l->procedures_file_setting, main_file(l), "procedures_file", "%s", err.msg);
		return;
	}
	if (csv_require(r, required, &err) != 0) {
		loader_report(l, path, 1, err.field, "%s", err.msg);
		goto out;
	}
	while ((rc = csv_next(r, &row, &err)) == 1) {
		struct config_procedure p;

		if (catalogue_row(l, path, r, &row, &p) != 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(list[i].code, p.code) == 0) {
				loader_report(l, path, (int)row.line, "code",
					      "procedure %s is listed twice in the catalogue", p.code);
				goto next;
			}
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct config_procedure *g = realloc(list, cap * sizeof(*g));
			if (!g) {
				loader_report(l, path, (int)row.line, "(row)", "out of memory");
				goto out;
			}
			list = g;
		}
		list[n++] = p;
next:;
	}
	if (rc < 0) {
		/* The reader's message reads "path:line: field N (column): why": keep its line. */
		const char *m = err.msg;
		char *end;
		long line = 0;
		if (strncmp(m, path, strlen(path)) == 0 && m[strlen(path)] == ':') {
			line = strtol(m + strlen(path) + 1, &end, 10);
			m = *end == ':' ? end + 1 + (end[1] == ' ') : err.msg;
		}
		loader_report(l, path, (int)line, err.field[0] ? err.field : "(csv)", "%s", m);
	}
	/* Inline entries win; those the catalogue lacks are added after it. */
	for (size_t i = 0; i < c->nprocedures; i++) {
		size_t k = 0;
		while (k < n && strcmp(list[k].code, c->procedures[i].code) != 0)
			k++;
		if (k == n) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				struct config_procedure *g = realloc(list, cap * sizeof(*g));
				if (!g)
					goto out;
				list = g;
			}
			n++;
		}
		list[k] = c->procedures[i];
	}
	free(c->procedures);
	c->procedures = list;
	c->nprocedures = n;
	list = NULL;
out:
	free(list);
	csv_reader_free(r);
}

/* References of the escalation rules, once units, people and procedures are known; each error
 * names the line of the reference at fault. */
static void check_rules(struct loader *l)
{
	const struct config *c = l->cfg;
	char path[160];

	for (int k = 0; k < ESCALATION_KINDS; k++) {
		for (size_t i = 0; i < c->escalation.nrules[k]; i++) {
			const struct escalation_rule *r = &c->escalation.rules[k][i];
			for (size_t j = 0; j < r->nnotify; j++) {
				if (strncmp(r->notify[j], "person:", 7) == 0 &&
				    !config_person(c, r->notify[j] + 7)) {
					snprintf(path, sizeof(path), "escalation.%s[%zu].notify",
						 rule_kinds[k], i);
					loader_error(l, rule_setting(l, k, i, "notify", (int)j),
						     main_file(l), path, "no person has id \"%s\"",
						     r->notify[j] + 7);
				}
			}
			for (size_t j = 0; j < r->nunits; j++) {
				if (!config_unit(c, r->units[j])) {
					snprintf(path, sizeof(path), "escalation.%s[%zu].units",
						 rule_kinds[k], i);
					loader_error(l, rule_setting(l, k, i, "units", (int)j),
						     main_file(l), path, "no unit has id \"%s\"",
						     r->units[j]);
				}
			}
			for (size_t j = 0; j < r->nprocedures; j++) {
				if (!config_procedure(c, r->procedures[j])) {
					snprintf(path, sizeof(path), "escalation.%s[%zu].procedures",
						 rule_kinds[k], i);
					loader_error(l, rule_setting(l, k, i, "procedures", (int)j),
						     main_file(l), path, "no procedure has code \"%s\"",
						     r->procedures[j]);
				}
			}
		}
	}
}

/* Message templates are checked with the config, so that a typo in one fails here, not when a
 * message is due. They are needed only when there are rules. */
static void load_templates(struct loader *l)
{
	struct config *c = l->cfg;
	const char *dir = c->escalation.templates;
	char path[4096];
	struct err err;

	/* Rules, the budget warning and the weekly report all write messages. */
	if (!c->escalation.nrules[0] && !c->escalation.nrules[1] && !c->escalation.nrules[2] &&
	    !c->escalation.budget.enabled && !c->escalation.kpi_report.enabled)
		return;
	if (dir[0] == '/' || !l->dir)
		snprintf(path, sizeof(path), "%s", dir);
	else
		snprintf(path, sizeof(path), "%s/%s", l->dir, dir);
	c->escalation.template_set = template_set_load(path, c->escalation.language, &err);
	if (!c->escalation.template_set) {
		const config_setting_t *s = config_lookup(&c->owned->main, "escalation.templates");
		if (!s)
			s = config_lookup(&c->owned->main, "escalation");
		/* one line per broken template file (template_set_load lists them all) */
		for (const char *m = err.msg; *m; m += strcspn(m, "\n"), m += *m == '\n') {
			int n = (int)strcspn(m, "\n");
			loader_error(l, s, main_file(l), "escalation.templates", "%.*s", n, m);
		}
	}
}

/* import.map_file is read like procedures_file: relative to the config file, and checked now so
 * that a bad mapping stops the start, not the first import. */
static void check_import_map(struct loader *l)
{
	struct config *c = l->cfg;
	const config_setting_t *s = config_lookup(&c->owned->main, "import.map_file");
	const char *file = c->import.map_file;
	struct import_map *map;
	char path[4096];
	struct err err;

	if (!file)
		return;
	if (file[0] != '/' && l->dir) {
		snprintf(path, sizeof(path), "%s/%s", l->dir, file);
		c->import.map_file = file = own_string(l, path);
		if (!file)
			return;
	}
	if (!(map = import_map_load(file, &err)))
		loader_error(l, s, main_file(l), "import.map_file", "%s", err.msg);
	import_map_free(map);
}

/* --- entry points ------------------------------------------------------------------------ */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* What the loader holds only while it loads. */
static void loader_close(struct loader *l)
{
	for (size_t i = 0; i < l->ntexts; i++) {
		free(l->texts[i].file);
		free(l->texts[i].text);
		free(l->texts[i].lines);
	}
	free(l->texts);
	free(l->sources);
}

struct config *config_load(const char *path, void (*on_statutory_year)(void *, int), void *ctx,
			   char **errors)
{
	struct loader l = { 0 };
	struct config *cfg = NULL;
	const config_setting_t *root;
	char *dir = NULL;
	FILE *f;

	*errors = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) && (cfg->owned = calloc(1, sizeof(*cfg->owned))))
		cfg->owned->refs = 1;
	if (!cfg || !cfg->owned)
		goto oom;
	if (!(cfg->path = strdup(path)) || !(dir = dir_of(path)))
		goto oom;
	l.cfg = cfg;
	l.dir = dir;
	config_init(&cfg->owned->main);

	if (!(f = fopen(path, "r"))) {
		loader_error(&l, NULL, path, NULL, "cannot read the configuration file: %s",
			     strerror(errno));
		goto fail;
	}
	fclose(f);
	if (config_read_file(&cfg->owned->main, path) != CONFIG_TRUE) {
		config_t *c = &cfg->owned->main;
		loader_report(&l, config_error_file(c) ? config_error_file(c) : path,
			      config_error_line(c), "(syntax)", "%s", config_error_text(c));
		goto fail;
	}

	root = config_root_setting(&cfg->owned->main);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
		size_t k = 0;
		while (k < N(sections) && strcmp(sections[k].name, config_setting_name(m)) != 0)
			k++;
		if (k == N(sections))
			loader_error(&l, m, path, config_setting_name(m), "unknown setting");
	}
	for (size_t k = 0; k < N(sections); k++) {
		const struct section *sec = &sections[k];
		const config_setting_t *s = config_setting_get_member(root, sec->name);
		if (!s && sec->absent_means_off)
			continue;
		if (sec->scalar) {
			parse_field(&l, &sec->fields[0], root, s, sec->name, sec->base(&l));
		} else if (sec->base) {
			if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
				loader_error(&l, s, path, sec->name, "expected a group: %s = { ... };",
					     sec->name);
				continue;
			}
			parse_group(&l, sec->fields, sec->nfields, s, sec->name, sec->base(&l));
		} else {
			parse_list(&l, sec, s);
		}
	}
	if (l.nerrors)
		goto fail;
	check_references(&l);
	check_exceptions(&l);
	if (l.nerrors)
		goto fail;
	load_catalogue(&l);
	check_rules(&l);
	check_delivery(&l);
	if (l.nerrors)
		goto fail;
	load_templates(&l);
	check_import_map(&l);
	if (l.nerrors)
		goto fail;
	build_calendar(&l, on_statutory_year, ctx);
	if (l.nerrors)
		goto fail;
	free(l.errors); /* NULL: nothing was reported */
	loader_close(&l);
	free(dir);
	return cfg;

oom:
	free(l.errors);
	l.errors = strdup("out of memory while loading the configuration\n");
fail:
	*errors = l.errors ? l.errors : strdup("invalid configuration\n");
	loader_close(&l);
	free(dir);
	config_free(cfg);
	return NULL;
}

const struct config *config_ref(const struct config *cfg)
{
	cfg->owned->refs++;
	return cfg;
}

void config_unref(const struct config *cfg)
{
	config_free((struct config *)cfg);
}

void config_free(struct config *cfg)
{
	if (!cfg || (cfg->owned && --cfg->owned->refs > 0))
		return;
	calendar_free(cfg->calendar);
	template_set_free(cfg->escalation.template_set);
	if (cfg->cases.code_regex) {
		regfree(&cfg->cases.code_regex->re);
		free(cfg->cases.code_regex);
	}
	if (cfg->owned) {
		config_destroy(&cfg->owned->main);
		for (size_t i = 0; i < cfg->owned->nincludes; i++)
			config_destroy(&cfg->owned->includes[i]);
		free(cfg->owned->exceptions);
		for (size_t i = 0; i < cfg->owned->nstrings; i++)
			free(cfg->owned->strings[i]);
		free(cfg->owned->strings);
		for (size_t i = 0; i < cfg->owned->nallocs; i++)
			free(cfg->owned->allocs[i]);
		free(cfg->owned->allocs);
		free(cfg->owned);
	}
	free(cfg->units);
	free(cfg->people);
	free(cfg->procedures);
	free(cfg->tokens);
	free(cfg->channels);
	free(cfg->targets);
	free((char *)cfg->path);
	free(cfg);
}

bool config_case_code_ok(const struct config *cfg, const char *code)
{
	return !cfg->cases.code_regex || regexec(&cfg->cases.code_regex->re, code, 0, NULL, 0) == 0;
}

const struct config_unit *config_unit(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nunits; i++)
		if (cfg->units[i].id && strcmp(cfg->units[i].id, id) == 0)
			return &cfg->units[i];
	return NULL;
}

const struct config_person *config_person(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->npeople; i++)
		if (cfg->people[i].id && strcmp(cfg->people[i].id, id) == 0)
			return &cfg->people[i];
	return NULL;
}

const struct config_channel *config_channel(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (cfg->channels[i].id && strcmp(cfg->channels[i].id, id) == 0)
			return &cfg->channels[i];
	return NULL;
}

const struct config_unit *config_root_of(const struct config *cfg, const struct config_unit *u)
{
	/* Bounded by the number of units: the loader refuses cycles, but a bound costs nothing. */
	for (size_t depth = 0; u && u->parent && config_unit(cfg, u->parent) && depth < cfg->nunits;
	     depth++)
		u = config_unit(cfg, u->parent);
	return u;
}

const struct config_target *config_target(const struct config *cfg, const char *level)
{
	for (size_t i = 0; level && i < cfg->ntargets; i++)
		if (cfg->targets[i].level && strcmp(cfg->targets[i].level, level) == 0)
			return &cfg->targets[i];
	return NULL;
}

const struct config_procedure *config_procedure(const struct config *cfg, const char *code)
{
	for (size_t i = 0; i < cfg->nprocedures; i++)
		if (cfg->procedures[i].code && strcmp(cfg->procedures[i].code, code) == 0)
			return &cfg->procedures[i];
	return NULL;
}
