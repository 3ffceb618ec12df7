/* The dashboard over HTTP against the real dunghand (docs/dashboard.md): off unless configured;
 * access by bearer header or by the login form's cookie (401 for other clients, the login page
 * for browsers, 403 without scope read, tampered and expired cookies refused); the security
 * headers on every answer; every page of the known dataset (tests/browser/dashboard_data.h)
 * with its numbers, its escaping of hostile unit and applicant names, in Vietnamese and with
 * ?lang=en; and bad input answered with a page naming the problem, changing nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../browser/dashboard_data.h"

static struct api_t t;

static void teardown(void)
{
	api_t_teardown(&t);
}

TestSuite(dashboard, .fini = teardown, .timeout = 120);

#define FORM "application/x-www-form-urlencoded"
#define CSP "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* GET (or method) path with token (NULL: none) and extra headers; expects status. */
static struct http_client_response *call(const char *method, const char *path, const char *token,
					 const char *const *headers, const char *body,
					 const char *type, int status)
{
	struct err e = { 0 };
	int rc;

	snprintf(t.last, sizeof(t.last), "%s %s", method, path);
	rc = api_call(&t.f, method, path, token, type, body, body ? strlen(body) : 0, headers, &t.r,
		      &e);
	cr_assert_eq(rc, 0, "%s: no answer: %s", t.last, e.msg);
	cr_assert_eq(t.r.status, status, "%s → %d, expected %d: %.1500s", t.last, t.r.status,
		     status, t.r.resp.body);
	return &t.r.resp;
}

static const char *get_page(const char *path, const char *token, int status)
{
	return call("GET", path, token, NULL, NULL, NULL, status)->body;
}

static void expect_header(const struct http_client_response *r, const char *name,
			  const char *want)
{
	const char *got = http_client_header(r, name);

	cr_assert(got && !strcmp(got, want), "%s: %s is %s, expected %s", t.last, name,
		  got ? got : "(absent)", want);
}

/* The headers every answer of the dashboard carries. */
static void expect_security(const struct http_client_response *r)
{
	expect_header(r, "Content-Security-Policy", CSP);
	expect_header(r, "X-Content-Type-Options", "nosniff");
	expect_header(r, "X-Frame-Options", "DENY");
	expect_header(r, "Referrer-Policy", "no-referrer");
}

/* A page as served: HTML, the security headers, no script, no inline style, nothing fetched
 * from elsewhere, no hostile text left unescaped. */
static void expect_page(const struct http_client_response *r)
{
	const char *type = http_client_header(r, "Content-Type");

	cr_assert(type && !strcmp(type, "text/html; charset=utf-8"), "%s: Content-Type %s",
		  t.last, type ? type : "(none)");
	expect_security(r);
	expect_header(r, "Cache-Control", "no-store");
	cr_assert(!strstr(r->body, "<script"), "%s: a script element", t.last);
	cr_assert(!strstr(r->body, "<img"), "%s: an img element", t.last);
	cr_assert(!strstr(r->body, " style="), "%s: an inline style", t.last);
	cr_assert(!strstr(r->body, "src=\"http") && !strstr(r->body, "href=\"http"),
		  "%s: a link to another site", t.last);
}

static void expect_has(const char *text, const char *needle)
{
	cr_assert(strstr(text, needle), "%s: no \"%s\" in:\n%.3000s", t.last, needle, text);
}

static void expect_lacks(const char *text, const char *needle)
{
	cr_assert(!strstr(text, needle), "%s: \"%s\" should not be in:\n%.3000s", t.last, needle,
		  text);
}

/* The overview's row of a unit. */
static char *row(const char *html, const char *unit)
{
	char id[80];

	snprintf(id, sizeof(id), "unit-%s", unit);
	return dash_section(html, id);
}

static void expect_row(const char *html, const char *unit, const char *rate, const char *width,
		       const char *flag)
{
	char *r = row(html, unit), needle[200];

	snprintf(needle, sizeof(needle), "<span class=\"value\">%s</span>", rate);
	expect_has(r, needle);
	if (width) {
		snprintf(needle, sizeof(needle), "width=\"%s\"", width);
		expect_has(r, needle);
	} else {
		expect_lacks(r, "class=\"fill");
	}
	if (flag)
		expect_has(r, flag);
	else
		expect_lacks(r, "class=\"flag");
	free(r);
}

/* "label</dt><dd...>value</dd>" in a unit's row. */
static void expect_figure(const char *html, const char *unit, const char *label,
			  const char *value)
{
	char *r = row(html, unit), needle[200];
	const char *at;

	snprintf(needle, sizeof(needle), "<dt>%s</dt>", label);
	at = strstr(r, needle);
	cr_assert(at, "%s: unit %s has no figure %s", t.last, unit, label);
	at = strchr(strstr(at, "<dd"), '>') + 1;
	cr_assert(!strncmp(at, value, strlen(value)) && at[strlen(value)] == '<',
		  "%s: unit %s, %s is %.40s, expected %s", t.last, unit, label, at, value);
	free(r);
}

Test(dashboard, off_unless_configured)
{
	dash_start(&t, false);
	call("GET", "/", API_BAOCAO, NULL, NULL, NULL, 404);
	cr_assert(t.r.json, "%s: not the API's JSON 404", t.last);
	api_t_expect_error(&t, 404, "not_found", NULL);
	call("GET", "/units/hctc", API_BAOCAO, NULL, NULL, NULL, 404);
	api_t_stop(&t);
}

Test(dashboard, access)
{
	static const char *const html[] = { "Accept: text/html,application/xhtml+xml", NULL };
	static const char *const bad_bearer[] = { "Accept: text/html",
						  "Authorization: Bearer nope", NULL };
	static const char *const https[] = { "X-Forwarded-Proto: https", NULL };
	struct api_db_state before;
	struct http_client_response *r;
	char cookie[256], header[300];

	dash_start(&t, true);
	api_t_state(&t, &before);

	/* No credentials: a browser goes to the login page and back; a script gets 401. */
	r = call("GET", "/units/hctc?lang=en", NULL, html, NULL, NULL, 303);
	expect_security(r);
	expect_header(r, "Location", "/login?next=/units/hctc%3Flang%3Den");
	r = call("GET", "/", NULL, NULL, NULL, NULL, 401);
	expect_security(r);
	expect_header(r, "WWW-Authenticate", "Bearer realm=\"dunghan\"");
	cr_assert(t.r.json && !strcmp(api_str(t.r.json, "error.code"), "unauthorized"));
	r = call("GET", "/", NULL, bad_bearer, NULL, NULL, 401);
	r = call("GET", "/", DASH_WRITER, html, NULL, NULL, 403);
	expect_page(r);
	expect_has(r->body, "scope read");

	/* The login page, the only form. */
	r = call("GET", "/login?next=/units/hctc", NULL, html, NULL, NULL, 200);
	expect_page(r);
	expect_has(r->body, "<form class=\"login\" method=\"post\" action=\"/login\">");
	expect_has(r->body, "name=\"next\" value=\"/units/hctc\"");
	expect_lacks(r->body, "/logout");
	r = call("GET", "/login?next=//evil.example/x", NULL, html, NULL, NULL, 200);
	expect_has(r->body, "name=\"next\" value=\"/\"");

	/* Bad logins: each says why. */
	r = call("POST", "/login", NULL, NULL, "{\"token\":\"x\"}", "application/json", 415);
	expect_page(r);
	r = call("POST", "/login", NULL, NULL, "token=nope&next=%2F", FORM, 401);
	expect_page(r);
	expect_has(r->body, "Mã truy cập không đúng.");
	cr_assert_null(http_client_header(r, "Set-Cookie"));
	r = call("POST", "/login", NULL, NULL, "token=&next=%2F", FORM, 400);
	expect_has(r->body, "Chưa nhập mã truy cập.");
	r = call("POST", "/login", NULL, NULL, "token=" DASH_WRITER "&lang=en", FORM, 403);
	expect_has(r->body, "This token may not read (scope read needed).");
	r = call("POST", "/login", NULL, NULL, "token=x&user=admin", FORM, 400);
	expect_has(r->body, "unknown form field &quot;user&quot;");
	r = call("POST", "/login", NULL, NULL, "token=%zz", FORM, 400);
	expect_has(r->body, "token: bad percent-encoding");
	r = call("POST", "/login", NULL, NULL, "token=x&lang=fr", FORM, 400);

	/* A good one: the cookie, and back where the reader was going. */
	r = call("POST", "/login", NULL, NULL,
		 "token=" API_BAOCAO "&next=%2Funits%2Fhctc%3Flang%3Den&lang=en", FORM, 303);
	expect_security(r);
	expect_header(r, "Location", "/units/hctc?lang=en");
	const char *set = http_client_header(r, "Set-Cookie");
	cr_assert(set && !strncmp(set, "dunghan_dashboard=v1.", 21), "Set-Cookie %s", set);
	cr_assert(strstr(set, "; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict") &&
		  !strstr(set, "Secure"), "Set-Cookie %s", set);
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(set, ";"), set);
	r = call("POST", "/login", NULL, https, "token=" API_BAOCAO "&next=//evil.example", FORM,
		 303);
	expect_header(r, "Location", "/");
	cr_assert(strstr(http_client_header(r, "Set-Cookie"), "; Secure"),
		  "behind HTTPS the cookie is Secure: %s", http_client_header(r, "Set-Cookie"));

	/* The cookie lets the browser in; a tampered one does not. */
	snprintf(header, sizeof(header), "Cookie: theme=dark; %s", cookie);
	const char *const with_cookie[] = { header, "Accept: text/html", NULL };
	r = call("GET", "/", NULL, with_cookie, NULL, NULL, 200);
	expect_page(r);
	char *last = header + strlen(header) - 1;
	*last = *last == '0' ? '1' : '0';
	r = call("GET", "/", NULL, with_cookie, NULL, NULL, 303);
	expect_header(r, "Location", "/login?next=/");
	snprintf(header, sizeof(header), "Cookie: dunghan_dashboard=v1.99999999999.%064d", 0);
	r = call("GET", "/", NULL, with_cookie, NULL, NULL, 303);

	/* Logging out forgets the cookie. */
	r = call("GET", "/logout", NULL, html, NULL, NULL, 303);
	expect_header(r, "Location", "/login");
	expect_header(r, "Set-Cookie",
		      "dunghan_dashboard=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");

	/* The bearer header works on every page, and pages are read-only. */
	r = call("GET", "/", API_ADMIN, NULL, NULL, NULL, 200);
	expect_page(r);
	r = call("POST", "/", API_BAOCAO, NULL, "x=1", FORM, 405);
	expect_header(r, "Allow", "GET, HEAD");
	expect_security(r);
	r = call("DELETE", "/login", API_BAOCAO, NULL, NULL, NULL, 405);
	expect_header(r, "Allow", "GET, HEAD, POST");
	r = call("GET", "/static/dashboard.css", NULL, NULL, NULL, NULL, 200);
	expect_header(r, "Content-Type", "text/css; charset=utf-8");
	expect_security(r);
	expect_has(r->body, "svg.bar .fill.below{fill:var(--bad)}");
	/* The API keeps its own answers. */
	call("GET", "/api/v1/nothing", API_BAOCAO, NULL, NULL, NULL, 404);
	api_t_expect_error(&t, 404, "not_found", NULL);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}

Test(dashboard, overview)
{
	int64_t now = dash_now_or_skip();
	struct http_client_response *r;
	const char *p;

	dash_start(&t, true);
	dash_seed(&t, now);
	r = call("GET", "/", API_BAOCAO, NULL, NULL, NULL, 200);
	expect_page(r);
	p = r->body;
	expect_has(p, "<html lang=\"vi\">");
	expect_has(p, "<h1>Tổng quan — UBND tỉnh Đồng Nai</h1>");
	expect_has(p, "3/9 đơn vị dưới chỉ tiêu"); /* the province, hctc, xa-hostile */
	expect_row(p, "ubnd-tinh", "62,5%", "62.5%", "Dưới chỉ tiêu");
	expect_row(p, "vp", "71,4%", "71.4%", NULL); /* an office: no target */
	expect_row(p, "hctc", "60%", "60%", "Dưới chỉ tiêu");
	expect_row(p, "kstt", "100%", "100%", "Đạt chỉ tiêu");
	expect_row(p, "xa-hostile", "0%", "0%", "Dưới chỉ tiêu");
	expect_row(p, "xa-tan-phu", "—", NULL, NULL);
	/* The target line at 97% of the bar, where the level has a target. */
	char *h = row(p, "hctc");
	expect_has(h, "<line class=\"mark\" x1=\"97.0%\" x2=\"97.0%\"");
	expect_has(h, "<rect class=\"fill below\" width=\"60%\"");
	expect_has(h, "chỉ tiêu 97%");
	expect_has(h, "href=\"/units/hctc\"");
	free(h);
	expect_figure(p, "hctc", "Hồ sơ đang xử lý", "2");
	expect_figure(p, "hctc", "Có cảnh báo", "1");
	expect_figure(p, "hctc", "Hồ sơ quá hạn", "1");
	expect_figure(p, "hctc", "Dự báo cuối năm", "60%");
	expect_figure(p, "ubnd-tinh", "Hồ sơ đang xử lý", "3");
	expect_figure(p, "ubnd-tinh", "Hồ sơ quá hạn", "2");
	expect_figure(p, "ubnd-tinh", "Nhiệm vụ đang mở", "3");
	expect_figure(p, "ubnd-tinh", "Nhiệm vụ quá hạn", "1");
	expect_figure(p, "vp", "Nhiệm vụ đang mở", "1");
	expect_figure(p, "xa-tan-phu", "Nhiệm vụ quá hạn", "1");
	expect_figure(p, "kstt", "Dự báo cuối năm", "100%");
	/* The hostile commune's name, escaped. */
	expect_has(p, DASH_HOSTILE_UNIT_HTML);
	expect_lacks(p, "<script>alert(");
	api_t_stop(&t);
}

Test(dashboard, overview_in_english_and_of_a_subtree)
{
	int64_t now = dash_now_or_skip();
	const char *p;

	dash_start(&t, true);
	dash_seed(&t, now);
	p = get_page("/?lang=en", API_BAOCAO, 200);
	expect_has(p, "<html lang=\"en\">");
	expect_row(p, "hctc", "60%", "60%", "Below target");
	expect_row(p, "kstt", "100%", "100%", "Meets target");
	expect_has(p, "href=\"/units/hctc?lang=en\"");
	expect_has(p, "<a lang=\"vi\" href=\"/?unit=ubnd-tinh\">Tiếng Việt</a>");
	expect_figure(p, "hctc", "Open cases", "2");
	p = get_page("/?unit=vp&lang=en", API_BAOCAO, 200);
	expect_row(p, "vp", "71.4%", "71.4%", NULL);
	expect_lacks(p, "id=\"unit-ubnd-tinh\"");
	expect_lacks(p, "id=\"unit-xa-hostile\"");
	api_t_stop(&t);
}

Test(dashboard, unit_page)
{
	int64_t now = dash_now_or_skip();
	const char *p;
	char *chart, month[16];
	int y, m, d;

	dash_start(&t, true);
	dash_seed(&t, now);
	p = get_page("/units/hctc", API_BAOCAO, 200);
	expect_page(&t.r.resp);
	expect_has(p, "<h1>Phòng Hành chính - Tổ chức</h1>");
	expect_has(p, "<span class=\"value\">60%</span>");
	/* The chart: an accessible SVG with the target line and twelve months, this one last. */
	chart = strstr(p, "<svg class=\"chart\"");
	cr_assert(chart, "no chart");
	expect_has(chart, "role=\"img\" aria-labelledby=\"chart-title chart-desc\"");
	expect_has(chart, "<title id=\"chart-title\">Tỷ lệ giải quyết đúng hạn theo tháng");
	expect_has(chart, "<g class=\"target\">");
	expect_has(chart, ">Chỉ tiêu 97%</text>");
	civil_from_days((int32_t)((now + 7 * 3600) / DASH_DAY), &y, &m, &d);
	snprintf(month, sizeof(month), "%04d-%02d", y, m);
	char needle[200];
	snprintf(needle, sizeof(needle), "<td data-label=\"\">%s</td><td class=\"num\" "
		 "data-label=\"Đúng hạn\">60%%</td>", month);
	expect_has(p, needle);
	size_t circles = 0;
	for (const char *c = strstr(chart, "<circle"); c && c < strstr(chart, "</svg>");
	     c = strstr(c + 1, "<circle"))
		circles++;
	cr_assert_eq(circles, 1, "one month with data, %zu points", circles);
	/* The QĐ 194 figures against the department's targets. */
	expect_has(p, "Giải quyết đúng hạn (cổng DVC)</td><td class=\"num\" data-label=\"Kết quả\">"
		      "60%</td><td class=\"num\" data-label=\"Chỉ tiêu\">97%</td>");
	expect_has(p, "Giải quyết đúng hạn (đã xong)</td><td class=\"num\" data-label=\"Kết quả\">"
		      "66,6%</td>");
	expect_has(p, "Nộp trực tuyến</td><td class=\"num\" data-label=\"Kết quả\">0%</td>"
		      "<td class=\"num\" data-label=\"Chỉ tiêu\">80%</td>");
	/* What needs action: A5 overdue, A4 due within the hour. */
	expect_has(p, "<h2>Quá hạn (1)</h2>");
	expect_has(p, "<a href=\"/cases/A5\">A5</a>");
	expect_has(p, "Trần Văn Phong");
	expect_has(p, "<span class=\"bad\">quá ");
	expect_has(p, "<h2>Sắp đến hạn (trong 3 ngày làm việc) (1)</h2>");
	expect_has(p, "<a href=\"/cases/A4\">A4</a>");
	expect_has(p, "<span class=\"ok\">còn ");
	expect_has(p, "Đăng ký thường trú");
	p = get_page("/units/xa-hostile?lang=en", API_BAOCAO, 200);
	expect_has(p, "<h1>" DASH_HOSTILE_UNIT_HTML "</h1>");
	expect_lacks(p, "<script>alert(");
	expect_has(p, "<h2>Overdue (1)</h2>");
	expect_has(p, "No case is due soon.");
	api_t_stop(&t);
}

/* A case rescheduled after lateness stays overdue (docs/api.md): the unit page lists it with
 * the overdue cases — as the overview and /metrics count it — and not as due soon, though its
 * new date is an hour away. */
Test(dashboard, a_rescheduled_case_is_listed_overdue)
{
	int64_t now = dash_now_or_skip();
	char more[200], later[32];
	const char *p;

	dash_start(&t, true);
	dash_case(&t, now, "R1", "kstt", -20 * DASH_MIN, NULL);
	api_format_instant(later, sizeof(later), now + 60 * DASH_MIN);
	snprintf(more, sizeof(more), "\"due_at\":\"%s\",\"apology\":\"Mẫu 04\"", later);
	dash_event(&t, now, "R1", "reschedule", -10 * DASH_MIN, more);
	dash_case(&t, now, "S1", "kstt", 90 * DASH_MIN, NULL);
	dash_case(&t, now, "O1", "kstt", -30 * DASH_MIN, NULL);
	p = get_page("/units/kstt", API_BAOCAO, 200);
	expect_has(p, "<h2>Quá hạn (2)</h2>");
	expect_has(p, "<h2>Sắp đến hạn (trong 3 ngày làm việc) (1)</h2>");
	const char *overdue = strstr(p, "<h2>Quá hạn (2)</h2>");
	const char *soon = strstr(p, "<h2>Sắp đến hạn");
	const char *o1 = strstr(p, "<a href=\"/cases/O1\">");
	const char *r1 = strstr(p, "<a href=\"/cases/R1\">");
	const char *s1 = strstr(p, "<a href=\"/cases/S1\">");
	cr_assert(o1 && r1 && s1 && overdue < o1 && o1 < r1 && r1 < soon && soon < s1,
		  "O1, R1 overdue (in that order), S1 due soon: %s", p);
	p = get_page("/?unit=kstt", API_BAOCAO, 200);
	expect_figure(p, "kstt", "Hồ sơ quá hạn", "2");
	api_t_stop(&t);
}

Test(dashboard, case_page)
{
	int64_t now = dash_now_or_skip();
	const char *p;

	dash_start(&t, true);
	dash_seed(&t, now);
	p = get_page("/cases/A5", API_BAOCAO, 200);
	expect_page(&t.r.resp);
	expect_has(p, "<h1>Hồ sơ A5</h1>");
	expect_has(p, "<dt>Người nộp</dt><dd>" DASH_APPLICANT_HTML "</dd>");
	expect_lacks(p, "<img src=x");
	expect_has(p, "<dt>Người xử lý</dt><dd>Trần Văn Phong</dd>");
	expect_has(p, "<dt>Quá hạn</dt>");
	expect_has(p, "Tiếp nhận hồ sơ");
	expect_has(p, "Phân công xử lý");
	/* Found past both rules, it got the later one only, also to the chat group, whose
	 * message died. */
	expect_lacks(p, "Cảnh báo theo quy tắc soon");
	expect_has(p, "Cảnh báo theo quy tắc due <span class=\"flag below\">khẩn</span>");
	expect_has(p, "→ Trần Văn Phong (email): ");
	expect_has(p, "→ hctc-group (chat): không gửi được");
	p = get_page("/cases/A4?lang=en", API_BAOCAO, 200);
	expect_has(p, "Alert by rule soon");
	expect_has(p, "Paused for the applicant");
	expect_has(p, "reason: Thiếu giấy tờ");
	expect_has(p, "Resumed");
	expect_has(p, "<dt>Left</dt>");
	p = get_page("/cases/A1", API_BAOCAO, 200);
	expect_has(p, "<span class=\"ok\">trước hạn</span>");
	p = get_page("/cases/A3", API_BAOCAO, 200);
	expect_has(p, "<span class=\"flag below\">trễ hạn</span>");
	api_t_stop(&t);
}

Test(dashboard, documents_page)
{
	int64_t now = dash_now_or_skip();
	const char *p;

	dash_start(&t, true);
	dash_seed(&t, now);
	p = get_page("/documents", API_BAOCAO, 200);
	expect_page(&t.r.resp);
	expect_has(p, "<h1>Chỉ đạo, nhiệm vụ đang mở (1)</h1>");
	expect_has(p, "<h2>" DASH_DIRECTIVE_HTML "</h2>");
	expect_lacks(p, "<b>số 1</b>");
	expect_has(p, "<td data-label=\"Cấp\">office</td><td class=\"num\" data-label=\"Tổng\">1"
		      "</td><td class=\"num\" data-label=\"Đã xong\">0</td><td class=\"num\" "
		      "data-label=\"Đang làm\">1</td><td class=\"num\" "
		      "data-label=\"Quá hạn\">0</td>");
	expect_has(p, "<td data-label=\"Cấp\">department</td><td class=\"num\" data-label=\"Tổng\">"
		      "1</td><td class=\"num\" data-label=\"Đã xong\">1</td>");
	expect_has(p, "<td data-label=\"Cấp\">commune</td><td class=\"num\" data-label=\"Tổng\">1"
		      "</td><td class=\"num\" data-label=\"Đã xong\">0</td><td class=\"num\" "
		      "data-label=\"Đang làm\">1</td><td class=\"num bad\" data-label=\"Quá hạn\">1"
		      "</td>");
	expect_has(p, "Cộng</td><td class=\"num\" data-label=\"Tổng\">3</td>");
	/* Only what lies in a subtree. */
	p = get_page("/documents?unit=xa-tan-phu&lang=en", API_BAOCAO, 200);
	expect_has(p, "<h1>Open directives (0)</h1>");
	api_t_stop(&t);
}

Test(dashboard, bad_input)
{
	static const struct {
		const char *path;
		int status;
		const char *says;
	} cases[] = {
		{ "/?lang=fr", 400, "lang: &quot;fr&quot; is not vi or en" },
		{ "/?colour=red", 400, "unknown query parameter &quot;colour&quot;" },
		{ "/?unit=%zz", 400, "unit: bad percent-encoding" },
		{ "/?unit=nope", 404, "unit: no unit has id &quot;nope&quot;" },
		{ "/units/nope", 404, "Không có đơn vị &quot;nope&quot;" },
		{ "/units/a%2Fb", 404, "Không có trang này." },
		{ "/units/", 404, "Không có trang này." },
		{ "/cases/NOPE?lang=en", 404, "No case has code &quot;NOPE&quot;" },
		{ "/cases/A1?x=1", 400, "unknown query parameter &quot;x&quot;" },
		{ "/documents?unit=nope", 404, "unit: no unit has id &quot;nope&quot;" },
		{ "/nothing/here", 404, "Không có trang này." },
		{ "/favicon.ico", 404, "Không có trang này." },
	};
	struct api_db_state before;

	dash_start(&t, true);
	api_t_state(&t, &before);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_client_response *r =
			call("GET", cases[i].path, API_BAOCAO, NULL, NULL, NULL, cases[i].status);

		expect_page(r);
		expect_has(r->body, cases[i].says);
	}
	/* HEAD: the headers of the page only. */
	struct err e = { 0 };
	struct http_client *c = api_connect(&t.f, 0, &e);
	struct http_client_response resp = { 0 };
	const char *const auth[] = { "Authorization: Bearer " API_BAOCAO, NULL };
	cr_assert(c, "%s", e.msg);
	cr_assert_eq(http_client_request(c, "HEAD", "/", auth, NULL, 0, &resp, &e), 0, "%s", e.msg);
	cr_assert_eq(resp.status, 200);
	cr_assert_eq(resp.body_len, 0);
	expect_security(&resp);
	http_client_response_free(&resp);
	http_client_free(c);
	api_t_unchanged(&t, &before);
	api_t_stop(&t);
}
