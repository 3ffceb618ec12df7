/* The dashboard's year figures kept ahead of reading (docs/dashboard.md, "Figures kept ahead")
 * against the real dunghand: the top unit's pages are warmed after start; a view renders the
 * kept figures and says when they are of, while the open counts stay live; a stale view
 * serves the old figures and queues one recomputation, after which the page shows the new
 * ones; concurrent stale views share one recomputation; a reload drops what is kept. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../browser/dashboard_data.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(dashboard_snapshot, .fini = teardown, .timeout = 60);

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define VIEWS "dunghan_dashboard_snapshot_views_total"
#define RECOMPUTED "dunghan_dashboard_snapshot_recomputations_total"
#define ENTRIES "dunghan_dashboard_snapshot_entries"

/* Starts dunghand on the dashboard's office with dashboard.refresh = refresh. */
static void start(const char *refresh)
{
	static char extra[4096];
	struct api_options o = {
		.extra = extra,
		.calendar = API_RTC_CALENDAR,
		.office_edits = dash_edits,
	};

	snprintf(extra, sizeof(extra), "%sdashboard: { enabled = true; refresh = \"%s\"; };\n",
		 DASH_EXTRA, refresh);
	api_t_start(&t, &o);
}

/* GET path with the read token: the page (200 expected). */
static const char *page(const char *path)
{
	struct err e = { 0 };

	snprintf(t.last, sizeof(t.last), "GET %s", path);
	cr_assert_eq(api_call(&t.f, "GET", path, API_BAOCAO, NULL, NULL, 0, NULL, &t.r, &e), 0,
		     "%s: no answer: %s", t.last, e.msg);
	cr_assert_eq(t.r.status, 200, "%s → %d: %.1500s", t.last, t.r.status, t.r.resp.body);
	return t.r.resp.body;
}

/* The sample "name " (name with its labels) of GET /metrics, or -1 when absent. */
static long metric(const char *name)
{
	const char *text = page("/metrics"), *at;
	char needle[200];

	snprintf(needle, sizeof(needle), "\n%s ", name);
	at = strstr(text, needle);
	return at ? atol(at + strlen(needle)) : -1;
}

/* The instant a page's year figures are of (its footer's data-at). */
static long long figures_at(const char *html)
{
	const char *at = strstr(html, "<span class=\"asof\" data-at=\"");

	cr_assert(at, "%s: no \"as of\" in the footer: %.2000s", t.last, html);
	return atoll(at + strlen("<span class=\"asof\" data-at=\""));
}

/* The on-time rate shown in the overview's row of unit. */
static void expect_rate(const char *html, const char *unit, const char *rate)
{
	char id[64], needle[120], *row;

	snprintf(id, sizeof(id), "unit-%s", unit);
	row = dash_section(html, id);
	snprintf(needle, sizeof(needle), "<span class=\"value\">%s</span>", rate);
	cr_assert(strstr(row, needle), "%s: %s's rate is not %s: %.1500s", t.last, unit, rate,
		  row);
	free(row);
}

/* "label</dt><dd>value<" in the overview's row of unit. */
static void expect_count(const char *html, const char *unit, const char *label, const char *n)
{
	char id[64], needle[200], *row;

	snprintf(id, sizeof(id), "unit-%s", unit);
	row = dash_section(html, id);
	snprintf(needle, sizeof(needle), "<dt>%s</dt><dd>%s<", label, n);
	cr_assert(strstr(row, needle), "%s: %s: no %s %s: %.1500s", t.last, unit, label, n, row);
	free(row);
}

/* Waits (bounded) until metric name reads want. */
static void wait_metric(const char *name, long want)
{
	for (int waited = 0; waited < API_BOUND_MS; waited += 20) {
		if (metric(name) == want)
			return;
		api_sleep_ms(20);
	}
	cr_assert_fail("%s never became %ld (is %ld)", name, want, metric(name));
}

/* Waits (bounded) until the daemon's log shows needle. */
static void wait_log(const char *needle)
{
	for (int waited = 0; waited < API_BOUND_MS; waited += 20) {
		char *log = api_fixture_log(&t.f);
		bool found = strstr(log, needle) != NULL;

		free(log);
		if (found)
			return;
		api_sleep_ms(20);
	}
	cr_assert_fail("the log never showed \"%s\"", needle);
}

/* A case of kstt, open and due in two days: on time so far, so kstt's rate becomes 100%. */
static void kstt_case(int64_t now)
{
	dash_case(&t, now, "K1", "kstt", 2 * DASH_DAY, NULL);
}

Test(dashboard_snapshot, kept_figures_until_a_reload)
{
	int64_t now = dash_now_or_skip();
	long long at;
	const char *p;

	start("1h");
	wait_metric(ENTRIES, 2); /* the top unit's overview and unit page, warmed after start */
	cr_assert_eq(metric(RECOMPUTED), 2);
	kstt_case(now);
	p = page("/");
	/* The figures computed before the case: kstt had none; the open count is live. */
	expect_rate(p, "kstt", "—");
	expect_count(p, "kstt", "Hồ sơ đang xử lý", "1");
	cr_assert(strstr(p, "Số liệu tính lúc "), "%s: %.2000s", t.last, p);
	at = figures_at(p);
	cr_assert_leq(at, (long long)now + 5);
	p = page("/?lang=en");
	expect_rate(p, "kstt", "—");
	cr_assert(strstr(p, "Figures as of "), "%s: %.2000s", t.last, p);
	cr_assert_eq(figures_at(p), at);
	cr_assert_eq(metric(VIEWS "{result=\"fresh\"}"), 2);
	cr_assert_eq(metric(RECOMPUTED), 2); /* fresh views queue nothing */

	/* A reload drops the kept figures and warms the top unit's again, with the case. */
	harness_signal(&t.f.proc, SIGHUP);
	wait_log("reload: configuration reloaded");
	wait_metric(RECOMPUTED, 4);
	wait_metric(ENTRIES, 2);
	p = page("/");
	expect_rate(p, "kstt", "100%");
	cr_assert_geq(figures_at(p), at);
	cr_assert_eq(metric(VIEWS "{result=\"fresh\"}"), 3);
	/* Another unit's page: computed by its first view, then kept. */
	p = page("/?unit=kstt");
	expect_rate(p, "kstt", "100%");
	cr_assert_eq(metric(VIEWS "{result=\"missing\"}"), 1);
	cr_assert_eq(metric(ENTRIES), 3);
	page("/?unit=kstt");
	cr_assert_eq(metric(VIEWS "{result=\"fresh\"}"), 4);
	api_t_stop(&t);
}

Test(dashboard_snapshot, stale_figures_recomputed_in_the_background)
{
	int64_t now = dash_now_or_skip();
	long long at;
	long before;
	const char *p;

	start("1s");
	wait_metric(ENTRIES, 2);
	before = metric(RECOMPUTED);
	kstt_case(now);
	p = page("/");
	at = figures_at(p);
	expect_rate(p, "kstt", "—");
	/* Views render the kept figures at once; the first stale one queues the recomputation,
	 * and a later view shows its result. */
	for (int waited = 0; waited < API_BOUND_MS && figures_at(p) == at; waited += 20) {
		expect_rate(p, "kstt", "—");
		api_sleep_ms(20);
		p = page("/");
	}
	cr_assert_gt(figures_at(p), at, "the figures were never recomputed");
	expect_rate(p, "kstt", "100%");
	cr_assert_eq(metric(RECOMPUTED), before + 1);
	cr_assert_geq(metric(VIEWS "{result=\"stale\"}"), 1);
	api_t_stop(&t);
}

Test(dashboard_snapshot, concurrent_stale_views_share_one_recomputation)
{
	static const char *const headers[] = { "Authorization: Bearer " API_BAOCAO, NULL };
	struct http_client *c[6];
	struct http_client_response resp = { 0 };
	struct err e = { 0 };
	long long at;
	long before, stale;

	dash_now_or_skip();
	start("2s");
	wait_metric(ENTRIES, 2);
	at = figures_at(page("/"));
	/* The entry grows stale with the clock: 2 s after it was computed. */
	while ((long long)time(NULL) < at + 2)
		api_sleep_ms(20);
	before = metric(RECOMPUTED);
	stale = metric(VIEWS "{result=\"stale\"}");
	for (size_t i = 0; i < N(c); i++) {
		c[i] = api_connect(&t.f, API_BOUND_MS, &e);
		cr_assert(c[i], "connecting: %s", e.msg);
	}
	for (size_t i = 0; i < N(c); i++)
		cr_assert_eq(http_client_send_request(c[i], "GET", "/", headers, NULL, 0, &e), 0,
			     "%s", e.msg);
	for (size_t i = 0; i < N(c); i++) {
		cr_assert_eq(http_client_read_response(c[i], &resp, &e), 0, "%s", e.msg);
		cr_assert_eq(resp.status, 200, "%d: %.500s", resp.status, resp.body);
		http_client_free(c[i]);
	}
	http_client_response_free(&resp);
	cr_assert_geq(metric(VIEWS "{result=\"stale\"}"), stale + 2,
		      "fewer than two views were stale");
	cr_assert_eq(metric(RECOMPUTED), before + 1);
	api_t_stop(&t);
}
