/* dashboard_html: the text of one dashboard page as it is written — markup the code writes
 * (trusted) and values from the database and the config (untrusted, always escaped) kept
 * apart by the function called, so that no value can become markup. */
#ifndef DUNGHAN_DASHBOARD_HTML_H
#define DUNGHAN_DASHBOARD_HTML_H

#include <stdbool.h>
#include <stddef.h>

#define DASHBOARD_HTML_MAX (16u * 1024 * 1024) /* bytes of one page */

struct dashboard_html;

/* An empty page; NULL when out of memory. */
struct dashboard_html *dashboard_html_new(void);
/* NULL is a no-op. */
void dashboard_html_free(struct dashboard_html *h);

/* Markup written by the code itself: never a value from outside. */
void dashboard_html_raw(struct dashboard_html *h, const char *markup);
void dashboard_html_rawf(struct dashboard_html *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A value, escaped for element content and quoted attribute values alike (& < > " '). */
void dashboard_html_text(struct dashboard_html *h, const char *value);
/* The formatted text, escaped as a whole. */
void dashboard_html_textf(struct dashboard_html *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Whether a write failed (out of memory, or the page grew past DASHBOARD_HTML_MAX): every
 * later write is then ignored. */
bool dashboard_html_failed(const struct dashboard_html *h);

/* The page so far (NUL-terminated, *len bytes), taken over by the caller (free()); h is left
 * empty. NULL when a write failed. */
char *dashboard_html_take(struct dashboard_html *h, size_t *len);

#endif
