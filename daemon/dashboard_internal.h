/* dashboard_internal: what the dashboard's files share (dashboard.c: access, routing and the
 * page frame; dashboard_units.c: the overview and a unit's page; dashboard_items.c: a case's
 * timeline and the directives) — the job a page is computed in, the words of both languages,
 * the frame every page is written in, and the answers with the security headers. */
#ifndef DUNGHAN_DASHBOARD_INTERNAL_H
#define DUNGHAN_DASHBOARD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api_internal.h"
#include "dashboard_html.h"
#include "template.h"

#define DASHBOARD_LIST_MAX 50 /* rows of a list of cases on a unit's page */

/* A page computed off the loop: the handler fills it on the loop thread, run() of job reads
 * the database in the thread pool, and reply() writes the page on the loop thread (which may
 * use the calendar). A failure to read is kept in status/message (run() returns 0), so that
 * the answer is still a page of the reader's language. */
struct dashboard_job {
	struct api_job job; /* first: the api hands this back */
	enum template_lang lang;
	int status;         /* 0: the page; else the error page's status */
	char message[600];
};

/* The word or phrase of lang: Vietnamese or English. */
static inline const char *dashboard_tr(enum template_lang lang, const char *vi, const char *en)
{
	return lang == TEMPLATE_EN ? en : vi;
}

/* Records a failure to read the database in j for its reply (503); returns 0 for run(). */
int dashboard_job_failed(struct dashboard_job *j, const struct err *err);

/* The start of a page: head, stylesheet, the top bar with its links (nav false: the login
 * page's bare bar), and <main>. self is the page's own path and query without lang (for the
 * language switch). */
void dashboard_page_begin(struct dashboard_html *h, enum template_lang lang, const char *title,
			  const char *self, bool nav);
/* The end of a page: the instant its figures were read, in the office's zone. */
void dashboard_page_end(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang);
/* The end of a page whose year figures were computed at computed_at (kept ahead, see
 * kpi_snapshot.h) while its lists are read now: says when the figures are of. */
void dashboard_page_end_kept(struct dashboard_html *h, struct api_ctx *x,
			     enum template_lang lang, int64_t computed_at);

/* href="path" with ?lang=en or &lang=en added for English; path is escaped. */
void dashboard_href(struct dashboard_html *h, enum template_lang lang, const char *path);

/* An instant as "10:00 thứ Hai, 19/02/2024"; "—" for TIME_NONE. Loop thread. */
void dashboard_instant(struct dashboard_html *h, struct api_ctx *x, enum template_lang lang,
		       int64_t t);
/* A rate as "96,2%" (truncated to a tenth), "—" for no data. */
void dashboard_percent(struct dashboard_html *h, enum template_lang lang, double v);

/* Answers with the page in h (freed here) and status; 503 when h failed. */
void dashboard_send(struct api_ctx *x, int status, struct dashboard_html *h);
/* Answers with an error page: status and the message (a value: escaped). */
void dashboard_error(struct api_ctx *x, enum template_lang lang, int status, const char *message);

/* Parses the query of x->req into values (names NULL-ended, "lang" among them); answers 400
 * with an error page and returns -1 on an unknown name, a bad escape or a lang that is not
 * vi or en. *lang gets the language (vi when absent). */
int dashboard_query(struct api_ctx *x, const char *const *names, const char **values,
		    char *buf, size_t bufsize, enum template_lang *lang);

/* The pages. */
void dashboard_overview(struct api_ctx *x);
void dashboard_unit(struct api_ctx *x, const char *unit);
void dashboard_case(struct api_ctx *x, const char *code);
void dashboard_documents(struct api_ctx *x);

/* The stylesheet served at /static/dashboard.css (static storage, *len bytes). */
const char *dashboard_css(size_t *len);

#endif
