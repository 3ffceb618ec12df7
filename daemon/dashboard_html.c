/* dashboard_html: a growing buffer for one page, with the escaping of values (see
 * dashboard_html.h). A failed write is sticky, so a page is built without checking each call
 * and checked once, when taken. */
#include "dashboard_html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dashboard_html {
	char *buf;
	size_t len, cap;
	bool failed;
};

struct dashboard_html *dashboard_html_new(void)
{
	return calloc(1, sizeof(struct dashboard_html));
}

void dashboard_html_free(struct dashboard_html *h)
{
	if (!h)
		return;
	free(h->buf);
	free(h);
}

/* Room for n more bytes and the NUL. */
static bool reserve(struct dashboard_html *h, size_t n)
{
	size_t cap;
	char *grown;

	if (h->failed)
		return false;
	if (n > DASHBOARD_HTML_MAX - h->len) {
		h->failed = true;
		return false;
	}
	if (h->len + n + 1 <= h->cap)
		return true;
	cap = h->cap ? h->cap : 16384;
	while (cap < h->len + n + 1)
		cap *= 2;
	if (!(grown = realloc(h->buf, cap))) {
		h->failed = true;
		return false;
	}
	h->buf = grown;
	h->cap = cap;
	return true;
}

static void append(struct dashboard_html *h, const char *s, size_t n)
{
	if (!reserve(h, n))
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void dashboard_html_raw(struct dashboard_html *h, const char *markup)
{
	append(h, markup, strlen(markup));
}

/* The formatted text into a malloc'd string, or NULL (the page then fails). */
static char *format(struct dashboard_html *h, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static char *format(struct dashboard_html *h, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (h->failed)
		return NULL;
	if (vasprintf(&s, fmt, ap) < 0) {
		h->failed = true;
		return NULL;
	}
	return s;
}

void dashboard_html_rawf(struct dashboard_html *h, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = format(h, fmt, ap);
	va_end(ap);
	if (s)
		dashboard_html_raw(h, s);
	free(s);
}

void dashboard_html_text(struct dashboard_html *h, const char *value)
{
	const char *run = value;

	if (!value)
		return;
	for (const char *p = value; *p; p++) {
		const char *entity;

		switch (*p) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default: continue;
		}
		append(h, run, (size_t)(p - run));
		dashboard_html_raw(h, entity);
		run = p + 1;
	}
	dashboard_html_raw(h, run);
}

void dashboard_html_textf(struct dashboard_html *h, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = format(h, fmt, ap);
	va_end(ap);
	if (s)
		dashboard_html_text(h, s);
	free(s);
}

bool dashboard_html_failed(const struct dashboard_html *h)
{
	return h->failed;
}

char *dashboard_html_take(struct dashboard_html *h, size_t *len)
{
	char *s = h->buf;
	size_t n = h->len;

	*len = 0;
	h->buf = NULL;
	h->len = h->cap = 0;
	if (h->failed) {
		free(s);
		return NULL;
	}
	if (!s && !(s = strdup(""))) /* an empty page has no buffer yet */
		return NULL;
	*len = n;
	return s;
}
