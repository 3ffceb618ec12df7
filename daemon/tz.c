/* tz: reading compiled time zone files (see tz.h). Implements RFC 8536 (TZif versions 1 to 4)
 * and the POSIX TZ string of its footer, with the RFC's extensions (rule times from -167 to
 * 167 hours).
 *
 * DESIGN: a zone is its transition table (instant, offset in force from it) plus an optional
 * rule for what follows the last transition. Local-to-UTC conversion lists the offsets in
 * force in a window of 27 h either side of the wanted time and takes the first that fits,
 * which handles gaps and overlaps from the table and from the rule alike. Day arithmetic is
 * done here on purpose rather than borrowed from calendar.c, which is built on this module. */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1 << 20)      /* real files are < 4 KiB; refuse to slurp a big one */
#define TZ_MAX_NAME 255
#define TZ_MAX_OFFSET (26 * 3600)  /* RFC 8536 bounds utoff to [-89999, 93599] */
#define TZ_WINDOW (27 * 3600)      /* wider than any offset: holds every candidate instant */
#define TZ_SAT ((int64_t)1 << 47)  /* +-4 million years: instants are clamped to this */
#define TZ_MAX_PIECES 32
#define TZ_HEADER 44

struct tz_when {
	char kind;    /* 'J': day 1..365 without 29 Feb; 'N': day 0..365; 'M': month.week.day */
	int a, b, c;  /* J/N: a = day; M: a = month 1..12, b = week 1..5, c = weekday 0..6 */
	int32_t time; /* local time of the change, seconds after midnight (may be < 0 or > 24 h) */
};

struct tz_rule {
	int32_t std_off; /* seconds east of UTC */
	int32_t dst_off;
	bool has_dst;
	struct tz_when start, end;
};

struct tz {
	size_t n;
	int64_t *times; /* ascending */
	int32_t *offs;  /* offs[i] is in force from times[i] */
	int32_t first_off;
	bool has_rule;
	struct tz_rule rule;
};

struct tz_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int64_t tz_clamp(int64_t t)
{
	if (t < -TZ_SAT)
		return -TZ_SAT;
	if (t > TZ_SAT)
		return TZ_SAT;
	return t;
}

static int64_t tz_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool tz_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = tz_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t tz_year_of_day(int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = tz_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

/* The day (days since the epoch) on which rule date w falls in year y. */
static int64_t tz_rule_day(const struct tz_when *w, int64_t y)
{
	int64_t first, next, d;
	int wd;

	if (w->kind == 'J')
		return tz_days_from_civil(y, 1, 1) + w->a - 1 + (tz_leap(y) && w->a >= 60);
	if (w->kind == 'N')
		return tz_days_from_civil(y, 1, 1) + w->a;
	first = tz_days_from_civil(y, w->a, 1);
	next = w->a == 12 ? tz_days_from_civil(y + 1, 1, 1) : tz_days_from_civil(y, w->a + 1, 1);
	wd = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
	d = first + (w->c - wd + 7) % 7 + 7 * (w->b - 1);
	while (d >= next) /* week 5 means the last such weekday */
		d -= 7;
	return d;
}

/* The UTC instants at which daylight time starts and ends in year y. */
static void tz_rule_year(const struct tz_rule *r, int64_t y, int64_t *start, int64_t *end)
{
	*start = tz_rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
	*end = tz_rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
}

static int32_t tz_rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t s, e;

	if (!r->has_dst)
		return r->std_off;
	tz_rule_year(r, tz_year_of_day(tz_floor_div(t + r->std_off, 86400)), &s, &e);
	if (s < e)
		return t >= s && t < e ? r->dst_off : r->std_off;
	/* Southern hemisphere: daylight time spans the new year. */
	return t >= e && t < s ? r->std_off : r->dst_off;
}

int tz_offset_at(const struct tz *tz, int64_t utc)
{
	size_t lo, hi;

	utc = tz_clamp(utc);
	if (tz->n == 0 || utc < tz->times[0])
		return tz->n == 0 && tz->has_rule ? tz_rule_offset(&tz->rule, utc) : tz->first_off;
	if (utc > tz->times[tz->n - 1] && tz->has_rule)
		return tz_rule_offset(&tz->rule, utc);
	/* The last transition at or before utc. */
	lo = 0;
	hi = tz->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return tz->offs[lo];
}

static void tz_sort(int64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int64_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* The offsets in force over [a, b): piece k starts at at[k] (at[0] = a) and runs to at[k + 1]
 * or b. Returns the number of pieces. */
static size_t tz_pieces(const struct tz *tz, int64_t a, int64_t b, int64_t *at, int32_t *off)
{
	int64_t cand[TZ_MAX_PIECES];
	size_t nc = 0, np = 1;
	int64_t last = tz->n ? tz->times[tz->n - 1] : INT64_MIN;

	at[0] = a;
	off[0] = (int32_t)tz_offset_at(tz, a);
	if (tz->n) {
		size_t lo = 0, hi = tz->n;

		/* The first transition after a. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (tz->times[mid] <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < tz->n && tz->times[lo] < b && nc < TZ_MAX_PIECES / 2; lo++)
			cand[nc++] = tz->times[lo];
		if (tz->has_rule && last + 1 > a && last + 1 < b)
			cand[nc++] = last + 1; /* where the footer takes over from the table */
	}
	if (tz->has_rule && tz->rule.has_dst && b > last) {
		int64_t from = a > last ? a : last;
		int64_t y0 = tz_year_of_day(tz_floor_div(from + tz->rule.std_off, 86400)) - 1;
		int64_t y1 = tz_year_of_day(tz_floor_div(b + tz->rule.std_off, 86400)) + 1;
		size_t first = nc;

		for (int64_t y = y0; y <= y1 && nc + 2 <= TZ_MAX_PIECES; y++) {
			int64_t s, e;

			tz_rule_year(&tz->rule, y, &s, &e);
			if (s > from && s < b)
				cand[nc++] = s;
			if (e > from && e < b)
				cand[nc++] = e;
		}
		tz_sort(cand + first, nc - first);
	}
	/* Asking tz_offset_at at each candidate keeps the pieces consistent with it. */
	for (size_t i = 0; i < nc && np < TZ_MAX_PIECES; i++) {
		int32_t o = (int32_t)tz_offset_at(tz, cand[i]);

		if (cand[i] > at[np - 1] && o != off[np - 1]) {
			at[np] = cand[i];
			off[np] = o;
			np++;
		}
	}
	return np;
}

int64_t tz_to_utc(const struct tz *tz, int64_t local)
{
	int64_t at[TZ_MAX_PIECES];
	int32_t off[TZ_MAX_PIECES];
	size_t np, k;
	int64_t fallback;

	local = tz_clamp(local);
	np = tz_pieces(tz, local - TZ_WINDOW, local + TZ_WINDOW, at, off);
	/* Pieces are in time order, so the first that holds its own candidate is the earliest
	 * occurrence of this wall time. */
	for (k = 0; k < np; k++) {
		int64_t u = local - off[k];

		if ((k == 0 || u >= at[k]) && (k + 1 == np || u < at[k + 1]))
			return u;
	}
	/* A skipped time: keep the offset from before the jump, which lands after it. */
	fallback = local - off[0];
	for (k = 1; k < np; k++)
		if (local - off[k] >= at[k])
			fallback = local - off[k];
	return fallback;
}

/* --- TZ strings (POSIX.1-2017 8.3, with the RFC 8536 extensions) --- */

static bool tz_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool tz_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Up to maxd decimal digits into *out; NULL when there is none. */
static const char *tz_parse_num(const char *s, int maxd, int *out)
{
	int v = 0, nd = 0;

	while (tz_is_digit(*s) && nd < maxd) {
		v = v * 10 + (*s++ - '0');
		nd++;
	}
	if (nd == 0 || tz_is_digit(*s))
		return NULL;
	*out = v;
	return s;
}

static const char *tz_parse_name(const char *s)
{
	const char *b;

	if (*s == '<') {
		b = ++s;
		while (tz_is_alpha(*s) || tz_is_digit(*s) || *s == '+' || *s == '-')
			s++;
		return *s == '>' && s - b >= 3 ? s + 1 : NULL;
	}
	b = s;
	while (tz_is_alpha(*s))
		s++;
	return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h, into seconds. */
static const char *tz_parse_hms(const char *s, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!(s = tz_parse_num(s, 3, &h)) || h > max_h)
		return NULL;
	if (*s == ':') {
		if (!(s = tz_parse_num(s + 1, 2, &m)) || m > 59)
			return NULL;
		if (*s == ':' && (!(s = tz_parse_num(s + 1, 2, &sec)) || sec > 59))
			return NULL;
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *tz_parse_when(const char *s, struct tz_when *w)
{
	w->time = 7200; /* 02:00 unless given */
	if (*s == 'J') {
		w->kind = 'J';
		if (!(s = tz_parse_num(s + 1, 3, &w->a)) || w->a < 1 || w->a > 365)
			return NULL;
	} else if (*s == 'M') {
		w->kind = 'M';
		if (!(s = tz_parse_num(s + 1, 2, &w->a)) || w->a < 1 || w->a > 12 || *s != '.')
			return NULL;
		if (!(s = tz_parse_num(s + 1, 1, &w->b)) || w->b < 1 || w->b > 5 || *s != '.')
			return NULL;
		if (!(s = tz_parse_num(s + 1, 1, &w->c)) || w->c > 6)
			return NULL;
	} else {
		w->kind = 'N';
		if (!(s = tz_parse_num(s, 3, &w->a)) || w->a > 365)
			return NULL;
	}
	if (*s == '/')
		s = tz_parse_hms(s + 1, 167, &w->time);
	return s;
}

static int tz_rule_parse(const char *s, struct tz_rule *r)
{
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (!(s = tz_parse_name(s)) || !(s = tz_parse_hms(s, 24, &v)))
		return -1;
	r->std_off = -v; /* POSIX offsets count hours west of Greenwich */
	if (!*s)
		return 0;
	if (!(s = tz_parse_name(s)))
		return -1;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s && *s != ',') {
		if (!(s = tz_parse_hms(s, 24, &v)))
			return -1;
		r->dst_off = -v;
	}
	if (*s == ',') {
		if (!(s = tz_parse_when(s + 1, &r->start)) || *s != ',')
			return -1;
		if (!(s = tz_parse_when(s + 1, &r->end)))
			return -1;
	} else {
		/* No rule: the traditional US one, as glibc and the tz code assume. */
		r->start = (struct tz_when){ 'M', 3, 2, 0, 7200 };
		r->end = (struct tz_when){ 'M', 11, 1, 0, 7200 };
	}
	return *s ? -1 : 0;
}

/* --- TZif files --- */

static uint32_t tz_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

/* Reads the header at p (len bytes available) and the size of the data block after it.
 * Returns -1 when it is not TZif or the block does not fit. */
static int tz_header(const unsigned char *p, size_t len, int tsize, struct tz_counts *c,
		     size_t *size)
{
	uint64_t n;

	if (len < TZ_HEADER || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = tz_be32(p + 20);
	c->isstd = tz_be32(p + 24);
	c->leap = tz_be32(p + 28);
	c->time = tz_be32(p + 32);
	c->type = tz_be32(p + 36);
	c->chars = tz_be32(p + 40);
	n = (uint64_t)c->time * (uint64_t)(tsize + 1) + (uint64_t)c->type * 6 + c->chars +
	    (uint64_t)c->leap * (uint64_t)(tsize + 4) + c->isstd + c->isut;
	if (n > len - TZ_HEADER)
		return -1;
	*size = (size_t)n;
	return 0;
}

struct tz *tz_parse(const void *data, size_t len, struct err *err)
{
	const unsigned char *p = data, *d, *types;
	struct tz_counts c;
	struct tz *tz = NULL;
	int32_t utoff[256];
	size_t size, base;
	int tsize = 4;
	char version;

	if (!data || len < TZ_HEADER || memcmp(p, "TZif", 4) != 0) {
		err_set(err, NULL, "not a TZif file");
		goto fail;
	}
	version = (char)p[4];
	if (version != '\0' && version != '2' && version != '3' && version != '4') {
		err_set(err, NULL, "unsupported TZif version 0x%02x", (unsigned)p[4]);
		goto fail;
	}
	if (tz_header(p, len, 4, &c, &size) != 0) {
		err_set(err, NULL, "truncated TZif file");
		goto fail;
	}
	base = TZ_HEADER;
	if (version != '\0') {
		/* Version 2+ repeats everything with 64-bit times: use that part only. */
		size_t off = TZ_HEADER + size;

		tsize = 8;
		if (off > len || tz_header(p + off, len - off, 8, &c, &size) != 0) {
			err_set(err, NULL, "truncated TZif file (64-bit part)");
			goto fail;
		}
		base = off + TZ_HEADER;
	}
	if (c.type == 0 || c.type > 256 || (c.isstd && c.isstd != c.type) ||
	    (c.isut && c.isut != c.type)) {
		err_set(err, NULL, "malformed TZif file (%u local time types)", (unsigned)c.type);
		goto fail;
	}
	tz = calloc(1, sizeof(*tz));
	if (!tz) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	d = p + base;
	types = d + (size_t)c.time * (size_t)(tsize + 1);
	for (uint32_t i = 0; i < c.type; i++) {
		int64_t u = (int32_t)tz_be32(types + 6 * i);

		if (u < -TZ_MAX_OFFSET || u > TZ_MAX_OFFSET) {
			err_set(err, NULL, "malformed TZif file (UTC offset %lld s)", (long long)u);
			goto fail;
		}
		utoff[i] = (int32_t)u;
	}
	tz->first_off = utoff[0];
	if (c.time) {
		tz->times = malloc(c.time * sizeof(*tz->times));
		tz->offs = malloc(c.time * sizeof(*tz->offs));
		if (!tz->times || !tz->offs) {
			err_set(err, NULL, "out of memory");
			goto fail;
		}
	}
	for (uint32_t i = 0; i < c.time; i++) {
		int64_t t = tsize == 8 ? tz_be64(d + 8 * (size_t)i)
				       : (int32_t)tz_be32(d + 4 * (size_t)i);
		unsigned idx = d[(size_t)c.time * (size_t)tsize + i];

		if (idx >= c.type || (i > 0 && t <= tz->times[i - 1])) {
			err_set(err, NULL, "malformed TZif file (transition %u)", (unsigned)i);
			goto fail;
		}
		tz->times[i] = t;
		tz->offs[i] = utoff[idx];
	}
	tz->n = c.time;
	if (version != '\0') {
		/* The footer: "\n" TZ-string "\n"; an empty string means no rule. */
		const char *f = (const char *)p + base + size;
		size_t flen = len - base - size;
		const char *nl;
		char rule[128];

		if (flen < 2 || f[0] != '\n' || !(nl = memchr(f + 1, '\n', flen - 1))) {
			err_set(err, NULL, "malformed TZif footer");
			goto fail;
		}
		if (nl > f + 1) {
			size_t rlen = (size_t)(nl - f - 1);

			if (rlen >= sizeof(rule)) {
				err_set(err, NULL, "TZ string in TZif footer too long");
				goto fail;
			}
			memcpy(rule, f + 1, rlen);
			rule[rlen] = '\0';
			if (tz_rule_parse(rule, &tz->rule) != 0) {
				err_set(err, NULL, "unsupported TZ string \"%s\" in TZif footer",
					rule);
				goto fail;
			}
			tz->has_rule = true;
		}
	}
	return tz;

fail:
	tz_free(tz);
	return NULL;
}

void tz_free(struct tz *tz)
{
	if (!tz)
		return;
	free(tz->times);
	free(tz->offs);
	free(tz);
}

/* Letters, digits, "_-+" in non-empty components separated by single slashes. */
static bool tz_name_ok(const char *name)
{
	bool comp_start = true;
	size_t n = 0;

	if (!name)
		return false;
	for (const char *s = name; *s; s++, n++) {
		if (*s == '/') {
			if (comp_start)
				return false;
			comp_start = true;
			continue;
		}
		if (!tz_is_alpha(*s) && !tz_is_digit(*s) && *s != '_' && *s != '-' && *s != '+')
			return false;
		comp_start = false;
	}
	return n > 0 && n <= TZ_MAX_NAME && !comp_start;
}

struct tz *tz_load(const char *dir, const char *name, struct err *err)
{
	struct tz *tz = NULL;
	unsigned char *buf = NULL;
	char path[4096];
	struct stat st;
	struct err perr;
	size_t got = 0;
	int fd = -1;

	if (!tz_name_ok(name)) {
		err_set(err, NULL, "invalid time zone name \"%s\" (expected e.g. Asia/Ho_Chi_Minh)",
			name ? name : "");
		goto fail;
	}
	if (!dir || !*dir)
		dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = TZ_DEFAULT_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		err_set(err, NULL, "time zone path too long");
		goto fail;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, NULL, "unknown time zone \"%s\" (%s: %s)", name, path,
			strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_MAX_FILE) {
		err_set(err, NULL, "unknown time zone \"%s\" (%s is not a zone file)", name, path);
		goto fail;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf) {
		err_set(err, NULL, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_set(err, NULL, "cannot read %s: %s", path,
				r < 0 ? strerror(errno) : "short file");
			goto fail;
		}
		got += (size_t)r;
	}
	tz = tz_parse(buf, got, &perr);
	if (!tz)
		err_set(err, NULL, "time zone \"%s\" (%s): %s", name, path, perr.msg);

fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return tz;
}
