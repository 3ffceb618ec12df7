/* The dashboard in Debian's headless Chromium, driven over the DevTools protocol
 * (tests/browser/cdp.h), against the real dunghand and the known dataset
 * (tests/browser/dashboard_data.h): logging in through the form (the cookie), the overview's
 * numbers in the rendered DOM, each bar's drawn width against its rate, no page wider than a
 * phone, no request to anything but the daemon (host names other than 127.0.0.1 do not even
 * resolve), and screenshots of every page at phone (390x844) and desktop (1366x768) widths in
 * <build>/dashboard-screenshots/ (docs/dashboard/ holds the committed ones).
 *
 * Skipped, saying so, only when no Chromium is installed (`make deps` installs it; CI does). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../browser/cdp.h"
#include "../browser/dashboard_data.h"

static struct api_t t;
static struct cdp browser;

static void teardown(void)
{
	cdp_close(&browser);
	api_t_teardown(&t);
}

TestSuite(dashboard_browser, .fini = teardown, .timeout = 180);

#define SHOTS DUNGHAN_BINARY_DIR "/dashboard-screenshots"

static char base[64];

static void go(const char *path)
{
	char url[300];
	struct err e = { 0 };

	snprintf(url, sizeof(url), "%s%s", base, path);
	cr_assert_eq(cdp_navigate(&browser, url, &e), 0, "%s: %s", url, e.msg);
}

static char *eval(const char *js)
{
	struct err e = { 0 };
	char *s = cdp_eval(&browser, js, &e);

	cr_assert(s, "%s", e.msg);
	return s;
}

static void shoot(const char *name, int width, int height, bool phone)
{
	char path[600];
	struct err e = { 0 };
	struct stat st;

	cr_assert_eq(cdp_viewport(&browser, width, height, phone, &e), 0, "%s", e.msg);
	/* What a phone shows must fit its width: nothing to scroll sideways. */
	char *w = eval("String(document.documentElement.scrollWidth)");
	cr_assert_leq(atoi(w), width, "%s is %s px wide in a %d px viewport", name, w, width);
	free(w);
	snprintf(path, sizeof(path), SHOTS "/%s-%s.png", name, phone ? "phone" : "desktop");
	cr_assert_eq(cdp_screenshot(&browser, width, path, &e), 0, "%s", e.msg);
	cr_assert(stat(path, &st) == 0 && st.st_size > 1000, "%s: no image", path);
}

/* The drawn bar of a unit: its fill's width over its track's, in percent. */
static double drawn(const char *unit)
{
	char js[600];
	char *v;
	double d;

	snprintf(js, sizeof(js),
		 "(() => { const li = document.getElementById('unit-%s');"
		 " const f = li.querySelector('svg.bar rect.fill'),"
		 " t = li.querySelector('svg.bar rect.track');"
		 " return f ? String(f.getBoundingClientRect().width * 100 /"
		 " t.getBoundingClientRect().width) : '-1'; })()",
		 unit);
	v = eval(js);
	d = atof(v);
	free(v);
	return d;
}

static void expect_in(const char *dom, const char *needle)
{
	cr_assert(strstr(dom, needle), "the DOM has no \"%s\":\n%.2000s", needle, dom);
}

Test(dashboard_browser, renders_the_known_dataset)
{
	const char *chromium = cdp_chromium();
	struct err e = { 0 };
	int64_t now;

	if (!chromium)
		cr_skip_test("no Chromium (/usr/bin/chromium): install it with `make deps` "
			     "(apt-get install chromium) to run the browser test");
	now = dash_now_or_skip();
	dash_start(&t, true);
	dash_seed(&t, now);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", t.f.port);
	mkdir(SHOTS, 0755);
	cr_assert_eq(cdp_start(&browser, chromium, t.f.h.dir, &e), 0, "%s", e.msg);
	cr_assert_eq(cdp_open_page(&browser, &e), 0, "%s", e.msg);
	cr_assert_eq(cdp_viewport(&browser, 1366, 768, false, &e), 0, "%s", e.msg);

	/* The login page, then the form sent as a person would: the cookie carries the rest. */
	go("/");
	char *where = eval("location.pathname + location.search");
	cr_assert_str_eq(where, "/login?next=/");
	free(where);
	shoot("login", 390, 844, true);
	int loads = browser.loads + 1;
	free(eval("document.getElementById('token').value = '" API_BAOCAO "';"
		  " document.querySelector('form.login').submit(); 'sent'"));
	cr_assert_eq(cdp_wait_load(&browser, loads, &e), 0, "after the login: %s", e.msg);
	where = eval("location.pathname");
	cr_assert_str_eq(where, "/");
	free(where);
	char *cookie = eval("document.cookie");
	cr_assert_str_eq(cookie, "", "the cookie is HttpOnly: script sees \"%s\"", cookie);
	free(cookie);

	/* The overview as rendered: the numbers, and bars drawn at their rates. */
	cr_assert_eq(cdp_viewport(&browser, 1366, 768, false, &e), 0, "%s", e.msg);
	char *dom = eval("document.documentElement.outerHTML");
	expect_in(dom, "<span class=\"value\">62,5%</span>");
	expect_in(dom, "<span class=\"flag below\">Dưới chỉ tiêu</span>");
	cr_assert(!strstr(dom, "<script"), "a script element in the DOM");
	free(dom);
	/* The hostile name is text on the page, not markup. */
	char *name = eval("document.querySelector('#unit-xa-hostile a.name').textContent");
	cr_assert_str_eq(name, DASH_HOSTILE_UNIT);
	free(name);
	static const struct {
		const char *unit;
		double rate;
	} bars[] = { { "ubnd-tinh", 62.5 }, { "vp", 71.4 }, { "hctc", 60.0 },
		     { "kstt", 100.0 }, { "xa-hostile", 0.0 } };
	for (size_t i = 0; i < sizeof(bars) / sizeof(bars[0]); i++) {
		double got = drawn(bars[i].unit);
		cr_assert(fabs(got - bars[i].rate) < 0.5,
			  "%s: the bar is drawn at %.2f%%, not %.1f%%", bars[i].unit, got,
			  bars[i].rate);
	}
	cr_assert_lt(drawn("xa-tan-phu"), 0, "a unit without data has no bar");
	char *row = eval("document.getElementById('unit-hctc').innerText");
	cr_assert(strstr(row, "60%") && strstr(row, "Dưới chỉ tiêu") && strstr(row, "chỉ tiêu 97%"),
		  "hctc reads: %s", row);
	free(row);
	shoot("overview", 1366, 768, false);
	shoot("overview", 390, 844, true);

	/* Every other page at both widths. */
	static const struct {
		const char *path, *name, *must;
	} pages[] = {
		{ "/units/hctc", "unit", "Quá hạn (1)" },
		{ "/cases/A5", "case", "không gửi được" },
		{ "/documents", "documents", "Chỉ thị <b>số 1</b> về cải cách hành chính" },
		{ "/?lang=en", "overview-en", "Below target" },
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		go(pages[i].path);
		char *text = eval("document.body.innerText");
		cr_assert(strstr(text, pages[i].must), "%s reads:\n%.2000s", pages[i].path, text);
		free(text);
		shoot(pages[i].name, 1366, 768, false);
		shoot(pages[i].name, 390, 844, true);
	}
	/* The unit's chart, drawn: one month with data, its point under the target line. */
	go("/units/hctc");
	char *chart = eval("(() => { const c = document.querySelector('svg.chart');"
			   " const p = c.querySelector('circle.point').getBoundingClientRect(),"
			   " l = c.querySelector('g.target line').getBoundingClientRect();"
			   " return c.querySelectorAll('circle').length + ' ' +"
			   " (p.top > l.top ? 'below' : 'above') + ' ' +"
			   " c.querySelector('title').textContent; })()");
	cr_assert_str_eq(chart, "1 below Tỷ lệ giải quyết đúng hạn theo tháng, 12 tháng gần nhất");
	free(chart);

	/* Nothing but the daemon was asked for anything. */
	size_t i, prefix = strlen(base) + 1;
	json_t *url;
	char own[80];
	snprintf(own, sizeof(own), "%s/", base);
	cr_assert_gt(json_array_size(browser.requests), 10, "the pages asked for little");
	json_array_foreach(browser.requests, i, url) {
		const char *u = json_string_value(url);
		cr_assert(!strncmp(u, own, prefix) || !strcmp(u, "about:blank"),
			  "a request outside the daemon: %s", u);
	}
	api_t_stop(&t);
}
