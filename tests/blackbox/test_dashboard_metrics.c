/* The dashboard's answers in GET /metrics of the real dunghand: counted under each page's
 * template (/units/{id}, /cases/{code}…), never under the raw path, and any other path of the
 * dashboard under one label, so that a client cannot make series without end. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_fixture.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(dashboard_metrics, .fini = teardown, .timeout = 60);

/* The count of the series with these labels in the text of /metrics, or 0 when absent. */
static long series(const char *text, const char *labels)
{
	char needle[300];
	const char *at;

	snprintf(needle, sizeof(needle), "dunghan_http_requests_total{%s} ", labels);
	at = strstr(text, needle);
	return at ? atol(at + strlen(needle)) : 0;
}

/* GET path with the read token: the answer's status. */
static int get(const char *path)
{
	struct err e = { 0 };

	cr_assert_eq(api_call(&t.f, "GET", path, API_BAOCAO, NULL, NULL, 0, NULL, &t.r, &e), 0,
		     "GET %s: no answer: %s", path, e.msg);
	return t.r.status;
}

Test(dashboard_metrics, pages_counted_by_template)
{
	static const struct {
		const char *path;
		int status;
	} pages[] = { { "/", 200 },
		      { "/units/hctc", 200 },
		      { "/units/xa-tan-phu", 200 },
		      { "/cases/NOPE-1", 404 },
		      { "/cases/NOPE-2", 404 },
		      { "/documents", 200 },
		      { "/static/dashboard.css", 200 },
		      { "/no/such/page-1", 404 },
		      { "/no/such/page-2", 404 } };
	struct api_options o = { .extra = "dashboard: { enabled = true; };\n" };
	const char *text;

	api_t_start(&t, &o);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		cr_assert_eq(get(pages[i].path), pages[i].status, "GET %s: %d", pages[i].path,
			     t.r.status);
	cr_assert_eq(get("/metrics"), 200);
	text = t.r.resp.body;
	cr_assert_eq(series(text, "route=\"/\",status=\"200\""), 1, "%s", text);
	cr_assert_eq(series(text, "route=\"/units/{id}\",status=\"200\""), 2, "%s", text);
	cr_assert_eq(series(text, "route=\"/cases/{code}\",status=\"404\""), 2, "%s", text);
	cr_assert_eq(series(text, "route=\"/documents\",status=\"200\""), 1, "%s", text);
	cr_assert_eq(series(text, "route=\"/static/dashboard.css\",status=\"200\""), 1, "%s",
		     text);
	cr_assert_eq(series(text, "route=\"dashboard\",status=\"404\""), 2, "%s", text);
	cr_assert(!strstr(text, "route=\"other\""), "%s", text);
	cr_assert(!strstr(text, "hctc"), "a raw path in the labels: %s", text);
	api_t_stop(&t);
}
